"""Analysis throughput: the whole analysis (classify, template, health, root cause) against a naive pipeline.

Both analyse the same generated 200,000-entry Cloud Run incident export (benchmarks/_workload.py:
request logs, chatter, noise, failures of every signature category, structured lines and
multi-line tracebacks, with varying ids, IPs and durations) in the same run:

* ours:  `functions.analysis.pipeline.analyse` with the classifier and knowledge of `functions.entry.wiring.core()`
         (RE2 set pre-filter + verdict cache) and our `TemplateMiner`;
* naive: the same `analyse` (same aggregation, health and root cause), but the classifier tries
         every signature's Python regex in merged order (its exact fallback: no RE2 set, no
         verdict cache; the same verdicts) and every message worth a template goes through
         drain3's `TemplateMiner` (default config).

Entries are converted to LogRecords before timing (both get the same records). Timing is the
median of `--runs` runs, alternating ours and naive so machine noise hits both; a separate
run of each under tracemalloc gives the peak memory the analysis allocated (the input records
are excluded). Both must find the same failures (signature -> count).

Usage (from the repository root):
    python benchmarks/analysis_throughput.py            # 200,000 entries, median of 3 runs
    python benchmarks/analysis_throughput.py --quick    # 10,000 entries, 1 run (CI smoke)
    python benchmarks/analysis_throughput.py --json
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._baselines import straightforward_classifier
from benchmarks._workload import alert_notification, entries
from functions.analysis.classify.classifier import Classifier
from functions.analysis.pipeline import ClassifierPort, MinerPort, analyse
from functions.analysis.templates.miner import TemplateMiner
from functions.core.model import Alert, Incident, LogRecord
from functions.entry.wiring import core
from functions.intake.alert import parse_alert
from functions.intake.evidence import record_from_entry

TARGET_RATIO = 5.0


class Drain3Miner:
    """drain3's TemplateMiner (default config) behind the pipeline's miner port."""

    def __init__(self) -> None:
        from drain3 import TemplateMiner as Drain3TemplateMiner
        from drain3.template_miner_config import TemplateMinerConfig

        logging.getLogger("drain3").setLevel(logging.ERROR)
        self._miner = Drain3TemplateMiner(config=TemplateMinerConfig())  # explicit: no drain3.ini lookup

    def add(self, message: str) -> str:
        return str(self._miner.add_log_message(message)["cluster_id"])

    def template(self, template_id: str) -> str:
        return str(self._miner.drain.id_to_cluster[int(template_id)].get_template())

    def resolve(self, template_id: str) -> str:
        return template_id  # drain3 never merges clusters: an id stays its own


Setup = Callable[[], tuple[ClassifierPort, MinerPort]]


def _ours() -> tuple[ClassifierPort, MinerPort]:
    # A fresh classifier per run: its verdict cache must not carry over from the previous run.
    return Classifier(core().classifier.signatures), TemplateMiner()


def _naive() -> tuple[ClassifierPort, MinerPort]:
    return straightforward_classifier(core().classifier.signatures), Drain3Miner()


def _run(setup: Setup, alert: Alert, records: Sequence[LogRecord]) -> tuple[float, Incident]:
    classifier, miner = setup()
    gc.collect()
    start = time.perf_counter()
    incident = analyse([alert], records, classifier=classifier, miner=miner, knowledge=core().knowledge)
    return time.perf_counter() - start, incident


def _peak_traced(setup: Setup, alert: Alert, records: Sequence[LogRecord]) -> int:
    classifier, miner = setup()
    gc.collect()
    tracemalloc.start()
    try:
        analyse([alert], records, classifier=classifier, miner=miner, knowledge=core().knowledge)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _failures(incident: Incident) -> dict[str, int]:
    return {f.signature: f.count for f in incident.failures}


def run(n: int, runs: int, *, memory: bool = True) -> dict[str, Any]:
    alert = parse_alert(json.dumps(alert_notification()).encode())
    records = [record_from_entry(e) for e in entries(n)]
    ours_s: list[float] = []
    naive_s: list[float] = []
    ours_incident = naive_incident = None
    for _ in range(runs):
        seconds, ours_incident = _run(_ours, alert, records)
        ours_s.append(seconds)
        seconds, naive_incident = _run(_naive, alert, records)
        naive_s.append(seconds)
    assert ours_incident is not None and naive_incident is not None
    ours_med, naive_med = statistics.median(ours_s), statistics.median(naive_s)
    result: dict[str, Any] = {
        "entries": n,
        "runs": runs,
        "ours_entries_per_s": round(n / ours_med),
        "naive_entries_per_s": round(n / naive_med),
        "ours_seconds": [round(s, 3) for s in ours_s],
        "naive_seconds": [round(s, 3) for s in naive_s],
        "ratio": round(naive_med / ours_med, 2),
        "target_ratio": TARGET_RATIO,
        "same_failures": _failures(ours_incident) == _failures(naive_incident),
        "failure_signatures": len(ours_incident.failures),
        "ours_templates": len(ours_incident.recurring),
        "naive_templates": len(naive_incident.recurring),
        "root_causes": [f"{r.category.value}/{r.service}" for r in ours_incident.root_causes],
    }
    if memory:
        result["ours_peak_traced_mb"] = round(_peak_traced(_ours, alert, records) / 2**20, 1)
        result["naive_peak_traced_mb"] = round(_peak_traced(_naive, alert, records) / 2**20, 1)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--entries", type=int, default=200_000, help="entries in the generated export")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each (the median is reported)")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--quick", action="store_true", help="a small run that only checks the benchmark works (CI)")
    args = parser.parse_args(argv)
    n, runs = (10_000, 1) if args.quick else (args.entries, args.runs)
    result = run(n, runs, memory=not args.no_memory)
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
        return 0
    print(f"analysis of {result['entries']:,} generated entries, median of {result['runs']} run(s)")
    print(f"{'':<8} {'entries/s':>12} {'seconds':>22} {'peak traced MB':>15} {'recurring':>10}")
    for name in ("ours", "naive"):
        peak = result.get(f"{name}_peak_traced_mb", "-")
        seconds = " ".join(f"{s:.2f}" for s in result[f"{name}_seconds"])
        print(f"{name:<8} {result[f'{name}_entries_per_s']:>12,} {seconds:>22} {peak!s:>15} "
              f"{result[f'{name}_templates']:>10}")
    verdict = "met" if result["ratio"] >= TARGET_RATIO else "NOT met"
    print(f"ratio (naive time / ours): {result['ratio']:.2f}x  (target >= {TARGET_RATIO:.0f}x: {verdict})")
    roots = result["root_causes"]
    print(f"same failures (signature -> count): {result['same_failures']} ({result['failure_signatures']} "
          f"signatures); {len(roots)} root causes, first: {', '.join(roots[:3])}")
    print("recurring: templates on the card (capped at AnalysisSettings.max_recurring)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
