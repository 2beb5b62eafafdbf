"""The development corpus of real messages (issue 10): accuracy of the public classify path.

454 real log messages quoted from public issue threads and docs, labelled by hand, are read
in place from ../shared/corpus/real-messages.jsonl (or $SITREP_CORPUS); they are never copied
into the repository. Each goes through exactly what `python main.py classify -` does with
`{"textPayload": message, "severity": severity}` lines. Per-label accuracy and the misses are
printed (run with -s, or read them in the failure output).

These are development figures: rules are written for classes of failure, never for one line of
this file, and the classifier is also judged on real messages that are not published.
"""

from __future__ import annotations

import io
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from functions.entry.classify_cli import classify_stream

CORPUS = Path(
    os.environ.get("SITREP_CORPUS") or Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real-messages.jsonl"
)
MIN_OVERALL = 0.97
MIN_PER_LABEL = 0.90
FAILURE_CATEGORIES = frozenset(
    {
        "dependency_missing",
        "container_startup",
        "database",
        "auth",
        "network",
        "tls",
        "configuration",
        "resource_exhaustion",
        "timeout",
        "websocket",
        "application",
    }
)

pytestmark = pytest.mark.skipif(not CORPUS.is_file(), reason=f"corpus not found at {CORPUS} (set SITREP_CORPUS)")


def _run() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    entries = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    stdin = "".join(json.dumps({"textPayload": e["message"], "severity": e["severity"]}) + "\n" for e in entries)
    verdicts = list(classify_stream(io.StringIO(stdin), name=str(CORPUS)))
    assert len(verdicts) == len(entries)
    return list(zip(entries, verdicts, strict=True))


@pytest.fixture(scope="module")
def results() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    pairs = _run()
    total: Counter[str] = Counter()
    right: Counter[str] = Counter()
    confusion: Counter[tuple[str, str]] = Counter()
    for entry, verdict in pairs:
        total[entry["label"]] += 1
        if verdict["category"] == entry["label"]:
            right[entry["label"]] += 1
        else:
            confusion[(entry["label"], verdict["category"])] += 1
    print(f"\ncorpus: {sum(right.values())}/{len(pairs)} = {sum(right.values()) / len(pairs):.3f} ({CORPUS})")
    for label in sorted(total):
        print(f"  {label:<20} {right[label]:>3}/{total[label]:<3} {right[label] / total[label]:.2f}")
    print("  misses (label -> verdict):")
    for (label, got), count in confusion.most_common():
        print(f"    {label} -> {got}: {count}")
    return pairs


def test_overall_accuracy(results: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    right = sum(1 for entry, verdict in results if verdict["category"] == entry["label"])
    assert right / len(results) >= MIN_OVERALL


def test_every_label_is_mostly_right(results: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    total: Counter[str] = Counter(entry["label"] for entry, _ in results)
    right: Counter[str] = Counter(entry["label"] for entry, verdict in results if verdict["category"] == entry["label"])
    low = {
        label: round(right[label] / total[label], 3) for label in total if right[label] / total[label] < MIN_PER_LABEL
    }
    assert low == {}


def test_no_noise_line_becomes_a_failure(results: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    wrong = [
        (entry["id"], verdict["category"], verdict["matched_by"])
        for entry, verdict in results
        if entry["label"] == "noise" and verdict["category"] in FAILURE_CATEGORIES
    ]
    assert wrong == []


def test_every_verdict_says_how_it_was_reached(results: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    assert all(verdict["matched_by"] for _, verdict in results)
