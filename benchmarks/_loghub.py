"""Loghub-2k loading and the Grouping Accuracy metric, shared by the benchmarks.

The data carries a research-only licence, so it is read in place from
``../shared/data/loghub`` (relative to the repository root) or ``$SITREP_LOGHUB``;
it is never copied into the repository.
"""

from __future__ import annotations

import csv
import io
import os
from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LOGHUB = REPO_ROOT.parent / "shared" / "data" / "loghub"

DATASETS: tuple[str, ...] = (
    "Android",
    "Apache",
    "BGL",
    "HDFS",
    "HPC",
    "Hadoop",
    "HealthApp",
    "Linux",
    "Mac",
    "OpenSSH",
    "OpenStack",
    "Proxifier",
    "Spark",
    "Thunderbird",
    "Windows",
    "Zookeeper",
)
QUICK_DATASETS: tuple[str, ...] = ("Apache", "HDFS", "OpenSSH", "Proxifier")


@dataclass(frozen=True)
class Dataset:
    """One Loghub-2k dataset: message contents and their ground-truth event ids."""

    name: str
    contents: tuple[str, ...]
    event_ids: tuple[str, ...]


def loghub_root() -> Path:
    """Where the Loghub-2k folders live: $SITREP_LOGHUB or ../shared/data/loghub."""
    override = os.environ.get("SITREP_LOGHUB")
    return Path(override) if override else DEFAULT_LOGHUB


def load_dataset(name: str, root: Path | None = None) -> Dataset:
    """Read ``<name>_2k.log_structured_corrected.csv`` (Content, EventId columns)."""
    path = (root or loghub_root()) / name / f"{name}_2k.log_structured_corrected.csv"
    contents: list[str] = []
    event_ids: list[str] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            contents.append(row["Content"])
            event_ids.append(row["EventId"])
    return Dataset(name, tuple(contents), tuple(event_ids))


def grouping_accuracy(truth: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    """Loghub Grouping Accuracy: a message counts when its predicted cluster equals its true group.

    A predicted cluster is correct iff all its messages share one true group and it
    holds every message of that group.
    """
    if len(truth) != len(predicted):
        raise ValueError("truth and predicted differ in length")
    if not truth:
        return 0.0
    truth_sizes = Counter(truth)
    members: dict[Hashable, list[Hashable]] = defaultdict(list)
    for true_id, predicted_id in zip(truth, predicted, strict=True):
        members[predicted_id].append(true_id)
    correct = 0
    for true_ids in members.values():
        first = true_ids[0]
        if truth_sizes[first] == len(true_ids) and all(t == first for t in true_ids):
            correct += len(true_ids)
    return correct / len(truth)


def classify_template_ids(contents: Sequence[str], name: str) -> list[str]:
    """The ``template_id`` that ``python main.py classify`` prints for each line of a plain-text file."""
    from functions.entry.classify_cli import classify_stream

    ids = [row["template_id"] for row in classify_stream(io.StringIO("\n".join(contents)), name=name)]
    if len(ids) != len(contents):
        raise ValueError(f"{name}: classify read {len(ids)} records from {len(contents)} lines")
    return ids
