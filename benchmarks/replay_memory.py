"""Replay memory: peak RSS of `python main.py replay` on a 1,000,000-entry export, against loading it whole.

Writes a `gcloud logging read --format=json` export (an indented JSON array of LogEntry, the
generated incident of benchmarks/_workload.py) to a temporary directory, streaming the writing,
with an alert.json beside it. Then, each in its own fresh interpreter:

* sitrep:   `python main.py replay DIR --format json` (streams the export: records are read,
            classified and folded into bounded aggregates one at a time);
* baseline: `json.load()` of the same file, then the list of LogRecords built from it (the
            naive way: the whole export in memory before any analysis starts).

Peak RSS is the child's own `ru_maxrss` (os.wait4), so each figure belongs to one process.
Each is run `--runs` times (median reported; RSS barely varies, time does).

Usage (from the repository root):
    python benchmarks/replay_memory.py              # 1,000,000 entries (~1 GB file, a few minutes)
    python benchmarks/replay_memory.py --quick      # 20,000 entries (CI smoke)
    python benchmarks/replay_memory.py --entries 200000 --runs 1 --json
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._replay import measure, run_from_command_line, write_replay_dir

TARGET_PEAK_RSS_MB = 150.0

# The naive way: the whole export parsed, then every record built, before analysis could start.
BASELINE = """
import json, sys
from functions.intake.evidence import record_from_entry
with open(sys.argv[1], encoding="utf-8") as handle:
    entries = json.load(handle)
records = [record_from_entry(e) for e in entries]
print(len(records))
"""


def run(n: int, runs: int, workdir: Path) -> dict[str, Any]:
    replay_dir = workdir / "replay"
    replay_dir.mkdir()
    start = time.perf_counter()
    size = write_replay_dir(replay_dir, n)
    write_s = time.perf_counter() - start
    python = sys.executable
    commands = {
        "sitrep": [python, "main.py", "replay", str(replay_dir), "--format", "json"],
        "baseline": [python, "-c", BASELINE, str(replay_dir / "logs.json")],
    }
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            rss, seconds, code = measure(argv, workdir / f"{name}.out")
            if code != 0:
                raise SystemExit(f"{name} exited with {code}")
            samples[name].append((rss, seconds))
    analysis = json.loads((workdir / "sitrep.out").read_text(encoding="utf-8"))
    baseline_records = int((workdir / "baseline.out").read_text().strip())
    result: dict[str, Any] = {
        "entries": n,
        "runs": runs,
        "export_mb": round(size / 2**20, 1),
        "write_seconds": round(write_s, 1),
        "records_analysed": analysis["evidence"]["records_analysed"],
        "baseline_records": baseline_records,
        "target_peak_rss_mb": TARGET_PEAK_RSS_MB,
    }
    for name, values in samples.items():
        result[f"{name}_peak_rss_mb"] = round(statistics.median(v[0] for v in values), 1)
        result[f"{name}_seconds"] = round(statistics.median(v[1] for v in values), 2)
    result["rss_ratio"] = round(result["baseline_peak_rss_mb"] / result["sitrep_peak_rss_mb"], 2)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    result, as_json = run_from_command_line(
        argv, doc=__doc__, entries=1_000_000, runs=1, quick_entries=20_000, prefix="sitrep-replay-bench-", run=run
    )
    if as_json:
        print(json.dumps(result, indent=2, sort_keys=True))
        return 0
    print(f"replay of a {result['entries']:,}-entry export ({result['export_mb']:,} MB, written in "
          f"{result['write_seconds']} s), median of {result['runs']} run(s)")
    print(f"{'':<10} {'peak RSS MB':>12} {'seconds':>9} {'records':>10}")
    print(f"{'sitrep':<10} {result['sitrep_peak_rss_mb']:>12,} {result['sitrep_seconds']:>9} "
          f"{result['records_analysed']:>10,}")
    print(f"{'baseline':<10} {result['baseline_peak_rss_mb']:>12,} {result['baseline_seconds']:>9} "
          f"{result['baseline_records']:>10,}")
    verdict = "met" if result["sitrep_peak_rss_mb"] <= TARGET_PEAK_RSS_MB else "NOT met"
    print(f"ratio (baseline RSS / sitrep): {result['rss_ratio']:.1f}x; sitrep peak RSS target <= "
          f"{TARGET_PEAK_RSS_MB:.0f} MB: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
