"""Secret redaction: recall, false redactions and throughput of functions.redaction.redact, against same-run baselines.

Baselines, on the same corpora (tests/corpus):
  detect-secrets  every default plugin of detect-secrets 1.5 (public-IP detector left out: IPs
                  are ordinary information here) scanning each line with ``analyze_string``, as
                  it scans a ``.log`` file; as a redactor, every string it reports is cut out.
  ungated loop    our own rules with no trigger gate and no lower-casing trick: every
                  case-insensitive regex over every line (what the gate saves).
Also: the share of real-world Loghub-2k lines (no secrets expected; emails are real hits)
that redaction changes, read in place from ../shared/data/loghub or $SITREP_LOGHUB.

Usage (from the repository root):
    python benchmarks/redaction.py            # 5 timing rounds, all 16 Loghub datasets
    python benchmarks/redaction.py --quick    # 1 round, 4 datasets (CI smoke)
    python benchmarks/redaction.py --json     # machine-readable output
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._loghub import DATASETS, QUICK_DATASETS, load_dataset, loghub_root
from functions.redaction import redact as redaction
from functions.redaction.shapes import RULES

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus"
MARKER_RE = re.compile(r"\[REDACTED:([a-z_]+)\]")

Redactor = Callable[[str], str]


def load_corpora() -> tuple[list[dict[str, Any]], list[str]]:
    """Read the annotated secret corpus and the ordinary corpus."""
    secrets = [json.loads(line) for line in (CORPUS / "secrets.jsonl").read_text(encoding="utf-8").splitlines() if line]
    ordinary = [line for line in (CORPUS / "ordinary.txt").read_text(encoding="utf-8").splitlines() if line]
    return secrets, ordinary


def lines_per_second(redactor: Redactor, lines: Sequence[str], rounds: int) -> float:
    """Best of ``rounds`` passes over the lines."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for line in lines:
            redactor(line)
        best = min(best, time.perf_counter() - start)
    return len(lines) / best


def accuracy(redactor: Redactor, secrets: Sequence[dict[str, Any]], ordinary: Sequence[str]) -> dict[str, float]:
    """Share of annotated secrets removed, of secret lines fully cleaned, of ordinary lines changed."""
    total = removed = clean_lines = 0
    for entry in secrets:
        out = redactor(entry["line"])
        gone = [secret not in out for secret in entry["secrets"]]
        total += len(gone)
        removed += sum(gone)
        clean_lines += all(gone)
    changed = sum(redactor(line) != line for line in ordinary)
    return {
        "secret_recall": removed / total,
        "secret_lines_clean": clean_lines / len(secrets),
        "false_redaction_rate": changed / len(ordinary),
    }


def detect_secrets_redactor() -> tuple[Redactor, float] | None:
    """Build a redactor from detect-secrets' default plugins; None when it is not installed."""
    start = time.perf_counter()
    try:
        from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    except ImportError:
        return None
    import_s = time.perf_counter() - start
    plugin_classes: list[Any] = list(get_mapping_from_secret_type_to_class().values())
    plugins = [cls() for cls in plugin_classes if cls.__name__ != "IPPublicDetector"]

    def redact_with_detect_secrets(line: str) -> str:
        found = {secret for plugin in plugins for secret in plugin.analyze_string(line) if secret}
        for secret in sorted(found, key=len, reverse=True):
            line = line.replace(secret, "[REDACTED]")
        return line

    return redact_with_detect_secrets, import_s


def ungated_redact(text: str) -> str:
    """Our rules without the trigger gate: every case-insensitive regex over the original text."""
    for rule in RULES:
        pattern = rule.fallback or rule.pattern
        pieces: list[str] = []
        done = pos = 0
        while (match := pattern.search(text, pos)) is not None:
            replacement = rule.replace(match, text)
            if replacement is None:
                pos = match.start() + 1
                continue
            pieces += (text[done : match.start()], replacement)
            done = pos = match.end()
        if pieces:
            text = "".join([*pieces, text[done:]])
    return text


def loghub_changes(datasets: Sequence[str]) -> dict[str, Any] | None:
    """Lines of real-world logs that redaction changes, with the kinds it used."""
    root = loghub_root()
    if not root.is_dir():
        return None
    lines = changed = 0
    kinds: Counter[str] = Counter()
    for name in datasets:
        for content in load_dataset(name, root).contents:
            lines += 1
            out = redaction.redact(content)
            if out != content:
                changed += 1
                kinds.update(MARKER_RE.findall(out))
    return {"lines": lines, "changed": changed, "rate": changed / lines, "kinds": dict(kinds.most_common())}


def run(rounds: int, datasets: Sequence[str]) -> dict[str, Any]:
    """Measure everything once; return the figures."""
    secrets, ordinary = load_corpora()
    secret_lines = [entry["line"] for entry in secrets]
    results: dict[str, Any] = {
        "corpus": {"secret_lines": len(secrets), "annotated_secrets": sum(len(e["secrets"]) for e in secrets),
                   "ordinary_lines": len(ordinary)},
    }  # fmt: skip
    redactors: dict[str, Redactor] = {"sitrep": redaction.redact, "ungated loop": ungated_redact}
    baseline = detect_secrets_redactor()
    if baseline is not None:
        redactors["detect-secrets"] = baseline[0]
        results["detect_secrets_import_s"] = baseline[1]
    for name, redactor in redactors.items():
        results[name] = {
            **accuracy(redactor, secrets, ordinary),
            "ordinary_lines_per_s": lines_per_second(redactor, ordinary, rounds),
            "secret_lines_per_s": lines_per_second(redactor, secret_lines, rounds),
        }
    results["loghub"] = loghub_changes(datasets)
    return results


def print_report(results: dict[str, Any]) -> None:
    corpus = results["corpus"]
    print(
        f"corpus: {corpus['secret_lines']} secret-bearing lines ({corpus['annotated_secrets']} annotated secrets), "
        f"{corpus['ordinary_lines']} ordinary lines"
    )
    print(f"{'redactor':16s} {'recall':>8s} {'clean':>8s} {'false':>8s} {'ordinary/s':>12s} {'secret/s':>10s}")
    ours = results["sitrep"]
    for name in ("sitrep", "ungated loop", "detect-secrets"):
        if name not in results:
            print(f"{name:16s} (not installed: baseline skipped)")
            continue
        row = results[name]
        print(
            f"{name:16s} {row['secret_recall']:8.1%} {row['secret_lines_clean']:8.1%} "
            f"{row['false_redaction_rate']:8.2%} {row['ordinary_lines_per_s']:12,.0f} "
            f"{row['secret_lines_per_s']:10,.0f}"
        )
    for name in ("ungated loop", "detect-secrets"):
        if name in results:
            row = results[name]
            print(
                f"speed-up vs {name}: ordinary x{ours['ordinary_lines_per_s'] / row['ordinary_lines_per_s']:.1f}, "
                f"secret x{ours['secret_lines_per_s'] / row['secret_lines_per_s']:.1f}"
            )
    if "detect_secrets_import_s" in results:
        print(f"detect-secrets import: {results['detect_secrets_import_s'] * 1000:.0f} ms (cold-start cost avoided)")
    loghub = results["loghub"]
    if loghub is None:
        print("loghub: not found (set SITREP_LOGHUB); skipped")
    else:
        print(f"loghub: {loghub['changed']} of {loghub['lines']} real-world lines changed ({loghub['rate']:.2%}), "
              f"markers {loghub['kinds']}")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one timing round, four Loghub datasets (CI smoke)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    results = run(rounds=1 if args.quick else 5, datasets=QUICK_DATASETS if args.quick else DATASETS)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_report(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
