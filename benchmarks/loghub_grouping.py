"""Loghub-2k grouping accuracy and throughput: our template miner against drain3, same lines, same run.

Grouping Accuracy (GA) is the standard Loghub metric: a message counts as correct when the
set of messages in its predicted cluster equals its ground-truth group. One miner
configuration (the defaults) serves all 16 datasets; no per-dataset regexes.

Two figures per dataset: "GA" is the miner's final grouping (ids resolved after every merge);
"classify GA" is what a user of `python main.py classify` gets, the `template_id` printed as
each line streams past (a cluster that merges later keeps its earlier id on earlier lines), read
from `functions.entry.classify_cli.classify_stream`, the function that command runs.

Usage (from the repository root):
    python benchmarks/loghub_grouping.py            # all 16 datasets, 5 timing rounds
    python benchmarks/loghub_grouping.py --quick    # 4 datasets, 1 round (CI smoke)
    python benchmarks/loghub_grouping.py --json     # machine-readable output

The data is read in place from ../shared/data/loghub or $SITREP_LOGHUB (research licence:
never copied into the repository).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._loghub import (
    DATASETS,
    QUICK_DATASETS,
    Dataset,
    classify_template_ids,
    grouping_accuracy,
    load_dataset,
    loghub_root,
)
from functions.analysis.templates.miner import TemplateMiner

REPLAYS = 10  # passes over the same lines for the stability check


@dataclass(frozen=True)
class Row:
    """Figures for one dataset."""

    dataset: str
    lines: int
    truth_groups: int
    ga: float
    clusters: int
    seconds: float
    replay_clusters_unchanged: bool
    replay_ids_stable: bool
    classify_ga: float
    drain3_ga: float | None
    drain3_clusters: int | None
    drain3_seconds: float | None


def _ours(contents: Sequence[str]) -> tuple[TemplateMiner, list[str]]:
    miner = TemplateMiner()
    add = miner.add
    return miner, [add(line) for line in contents]


def _drain3_factory() -> Callable[[Sequence[str]], list[int]] | None:
    """drain3's TemplateMiner with its default config, or None when drain3 is not installed."""
    try:
        from drain3 import TemplateMiner as Drain3Miner
        from drain3.template_miner_config import TemplateMinerConfig
    except ImportError:
        return None
    logging.getLogger("drain3").setLevel(logging.ERROR)

    def run(contents: Sequence[str]) -> list[int]:
        miner = Drain3Miner(config=TemplateMinerConfig())  # explicit config: no drain3.ini lookup
        add = miner.add_log_message
        return [add(line)["cluster_id"] for line in contents]

    return run


def _best_seconds(run: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def measure(dataset: Dataset, rounds: int, drain3: Callable[[Sequence[str]], list[int]] | None) -> Row:
    """GA, clusters, best-of-``rounds`` time and replay stability for one dataset."""
    contents = dataset.contents
    miner, ids = _ours(contents)
    resolved = [miner.resolve(template_id) for template_id in ids]
    clusters = len(miner)
    replay_ids: list[str] = []
    for _ in range(REPLAYS - 1):
        replay_ids = [miner.add(line) for line in contents]
    drain3_ga = drain3_clusters = drain3_seconds = None
    if drain3 is not None:
        drain3_ids = drain3(contents)
        drain3_ga = grouping_accuracy(dataset.event_ids, drain3_ids)
        drain3_clusters = len(set(drain3_ids))
    # Interleave the timing rounds so machine noise hits both miners alike.
    seconds = float("inf")
    for _ in range(rounds):
        seconds = min(seconds, _best_seconds(lambda: _ours(contents), 1))
        if drain3 is not None:
            elapsed = _best_seconds(lambda: drain3(contents), 1)
            drain3_seconds = elapsed if drain3_seconds is None else min(drain3_seconds, elapsed)
    return Row(
        dataset=dataset.name,
        lines=len(contents),
        truth_groups=len(set(dataset.event_ids)),
        ga=grouping_accuracy(dataset.event_ids, resolved),
        clusters=clusters,
        classify_ga=grouping_accuracy(dataset.event_ids, classify_template_ids(contents, dataset.name)),
        seconds=seconds,
        replay_clusters_unchanged=len(miner) == clusters,
        replay_ids_stable=replay_ids == resolved,
        drain3_ga=drain3_ga,
        drain3_clusters=drain3_clusters,
        drain3_seconds=drain3_seconds,
    )


def summarise(rows: Sequence[Row]) -> dict[str, Any]:
    """Averages, throughputs and ratios over the measured datasets."""
    lines = sum(r.lines for r in rows)
    seconds = sum(r.seconds for r in rows)
    summary: dict[str, Any] = {
        "datasets": len(rows),
        "average_ga": sum(r.ga for r in rows) / len(rows),
        "classify_average_ga": sum(r.classify_ga for r in rows) / len(rows),
        "lines_per_second": lines / seconds,
        "replay_clusters_unchanged": sum(r.replay_clusters_unchanged for r in rows),
        "replay_ids_stable": sum(r.replay_ids_stable for r in rows),
    }
    if all(r.drain3_ga is not None for r in rows):
        drain3_seconds = sum(r.drain3_seconds or 0.0 for r in rows)
        summary["drain3_average_ga"] = sum(r.drain3_ga or 0.0 for r in rows) / len(rows)
        summary["drain3_lines_per_second"] = lines / drain3_seconds
        summary["throughput_ratio"] = drain3_seconds / seconds
        summary["ga_ratio"] = summary["average_ga"] / summary["drain3_average_ga"]
    return summary


def render_table(rows: Sequence[Row], summary: dict[str, Any]) -> str:
    """A plain-text table for humans."""
    head = f"{'dataset':<12} {'lines':>5} {'truth':>5} {'GA':>6} {'clust':>5} {'classify GA':>11} {'drain3 GA':>9}"
    head += f" {'d3 clust':>8}"
    out = [f"{head}  replay x{REPLAYS}"]
    for r in rows:
        d3_ga = f"{r.drain3_ga:.3f}" if r.drain3_ga is not None else "-"
        d3_clusters = str(r.drain3_clusters) if r.drain3_clusters is not None else "-"
        replay = "ok" if r.replay_clusters_unchanged and r.replay_ids_stable else "CHANGED"
        ours = f"{r.dataset:<12} {r.lines:>5} {r.truth_groups:>5} {r.ga:>6.3f} {r.clusters:>5} {r.classify_ga:>11.3f}"
        out.append(f"{ours} {d3_ga:>9} {d3_clusters:>8}  {replay}")
    d3_avg = f"{summary['drain3_average_ga']:.3f}" if "drain3_average_ga" in summary else "-"
    averages = f"{summary['average_ga']:>6.3f} {'':>5} {summary['classify_average_ga']:>11.3f} {d3_avg:>9}"
    out.append(f"{'average':<12} {'':>5} {'':>5} {averages}")
    out.append(f"throughput: sitrep {summary['lines_per_second']:,.0f} lines/s")
    if "drain3_lines_per_second" in summary:
        out[-1] += (
            f", drain3 {summary['drain3_lines_per_second']:,.0f} lines/s, ratio {summary['throughput_ratio']:.2f}x"
            f" (GA ratio {summary['ga_ratio']:.2f}x)"
        )
    else:
        out.append("drain3 not installed: baseline skipped")
    out.append(
        f"replay x{REPLAYS}: cluster count unchanged in {summary['replay_clusters_unchanged']}/{len(rows)} datasets,"
        f" ids stable in {summary['replay_ids_stable']}/{len(rows)}"
    )
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK_DATASETS)}, one timing round")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--rounds", type=int, default=None, help="timing rounds per dataset (best is kept)")
    args = parser.parse_args(argv)
    root = loghub_root()
    if not root.is_dir():
        print(f"Loghub data not found at {root}; set SITREP_LOGHUB to the loghub folder", file=sys.stderr)
        return 1
    names = QUICK_DATASETS if args.quick else DATASETS
    rounds = args.rounds or (1 if args.quick else 5)
    drain3 = _drain3_factory()
    rows = [measure(load_dataset(name, root), rounds, drain3) for name in names]
    summary = summarise(rows)
    if args.json:
        print(json.dumps({"rows": [asdict(r) for r in rows], "summary": summary, "rounds": rounds}, indent=2))
    else:
        print(f"Loghub-2k grouping accuracy, one configuration (TemplateMiner defaults), data: {root}")
        print(render_table(rows, summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
