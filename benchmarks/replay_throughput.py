"""Replay throughput, end to end: file → JSON card, against a naive script and the parse floor, in one run.

Writes the generated incident of benchmarks/_workload.py as a `gcloud logging read --format=json`
export (an indented JSON array) with an alert.json beside it, then times three fresh processes on it:

* sitrep: `python main.py replay DIR --format json` (what a user waits for);
* naive:  the script a user would write: `json.load` of the whole file, each message tried in turn
          (Python `re`) against the first 50 signature regexes (pattern lines) of
          functions/analysis/classify/signatures.d/ in their merged order (specific signatures first, as
          the single signatures.yaml had them), every message fed to drain3's TemplateMiner, counts
          printed as JSON;
* floor:  `msgspec.json.decode` of the same file, untyped, nothing else (no tool reads the file faster
          in Python; sitrep's target is to stay within 1.5x of it).

Wall time of each process (interpreter start included for all three), median of `--runs`, the three
alternated so machine noise hits each. Ratios: naive / sitrep (target >= 5x), sitrep / floor (target
<= 1.5x).

Then one more process splits sitrep's time: its start-up, the reading of every record and the
classification of every distinct classifier input, each stage run alone over the whole export and
timed inside the process. Run alone, a stage keeps its tables in the processor's cache, so their sum
is a lower bound on what a replay doing this analysis costs on one core; it is printed beside the
1.5x-floor budget.

Usage (from the repository root):
    python benchmarks/replay_throughput.py            # 200,000 entries (~210 MB), median of 3
    python benchmarks/replay_throughput.py --quick    # 10,000 entries, 1 run (CI smoke)
    python benchmarks/replay_throughput.py --entries 50000 --runs 5 --json
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._replay import measure, run_from_command_line, write_replay_dir

TARGET_NAIVE_RATIO = 5.0
TARGET_FLOOR_RATIO = 1.5
NAIVE_REGEXES = 50

NAIVE = """
import json, re, sys
from drain3 import TemplateMiner
from functions.analysis.classify.signature_files import load_documents  # the signature files, merged

signatures = [s for s in load_documents() if s.get("pattern")]
lines = [(s["id"], line) for s in signatures for line in s["pattern"].splitlines() if line.strip()]
rules = [(name, re.compile(line)) for name, line in lines[:NAIVE_REGEXES]]
with open(sys.argv[1], encoding="utf-8") as handle:
    entries = json.load(handle)
miner = TemplateMiner()
counts = {}
for entry in entries:
    payload = entry.get("jsonPayload") or {}
    http = entry.get("httpRequest") or {}
    message = entry.get("textPayload") or payload.get("message") or (
        f"{http.get('requestMethod', '')} {http.get('requestUrl', '')} {http.get('status', '')}")
    found = "unknown"
    for name, rule in rules:
        if rule.search(message):
            found = name
            break
    counts[found] = counts.get(found, 0) + 1
    miner.add_log_message(message)
print(json.dumps({"entries": len(entries), "clusters": len(miner.drain.clusters), "counts": counts}))
""".replace("NAIVE_REGEXES", str(NAIVE_REGEXES))

STAGES = """
import gc, json, sys, time
gc.disable()  # the stage holds every record at once, which the replay never does: no collector passes over them
started = time.perf_counter()
from functions.analysis.findings import FindingMemo
from functions.analysis.pipeline import BATCH_RECORDS
from functions.core.project_changes import AuditChange
from functions.entry.wiring import core
from functions.intake.changes import iter_evidence
classifier = core().classifier
startup = time.perf_counter() - started
began = time.perf_counter()
records = [r for r in iter_evidence(sys.argv[1]) if not isinstance(r, AuditChange)]
reading = time.perf_counter() - began
memo = FindingMemo(classifier)
began = time.perf_counter()
for first in range(0, len(records), BATCH_RECORDS):
    memo.classify_batch(records[first:first + BATCH_RECORDS])
classification = time.perf_counter() - began
distinct = len({FindingMemo._key(r) for r in records})
print(json.dumps({"startup": startup, "reading": reading, "classification": classification,
                  "records": len(records), "distinct_inputs": distinct}))
"""

FLOOR = """
import sys, msgspec
with open(sys.argv[1], "rb") as handle:
    print(len(msgspec.json.decode(handle.read())))
"""


def timed(argv: Sequence[str], out_path: Path) -> float:
    """Wall seconds of one child process; stdout to `out_path`; exits on failure."""
    _, seconds, code = measure(argv, out_path)
    if code != 0:
        raise SystemExit(f"{argv[1:3]} exited with {code}")
    return seconds


def run(n: int, runs: int, workdir: Path) -> dict[str, Any]:
    replay_dir = workdir / "replay"
    replay_dir.mkdir()
    size = write_replay_dir(replay_dir, n)
    logs = str(replay_dir / "logs.json")
    python = sys.executable
    commands = {
        "sitrep": [python, "main.py", "replay", str(replay_dir), "--format", "json"],
        "naive": [python, "-c", NAIVE, logs],
        "floor": [python, "-c", FLOOR, logs],
    }
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            samples[name].append(timed(argv, workdir / f"{name}.out"))
    timed([python, "-c", STAGES, logs], workdir / "stages.out")
    stages = json.loads((workdir / "stages.out").read_text(encoding="utf-8"))
    card = json.loads((workdir / "sitrep.out").read_text(encoding="utf-8"))
    naive = json.loads((workdir / "naive.out").read_text(encoding="utf-8"))
    result: dict[str, Any] = {
        "entries": n,
        "runs": runs,
        "export_mb": round(size / 2**20, 1),
        "sitrep_records": card["evidence"]["records_analysed"],
        "naive_entries": naive["entries"],
        "floor_entries": int((workdir / "floor.out").read_text().strip()),
    }
    for name, values in samples.items():
        result[f"{name}_seconds"] = round(statistics.median(values), 2)
        result[f"{name}_all_seconds"] = [round(v, 2) for v in values]
    for stage in ("startup", "reading", "classification"):
        result[f"stage_{stage}_seconds"] = round(stages[stage], 2)
    result["distinct_inputs"] = stages["distinct_inputs"]
    result["stages_seconds"] = round(stages["startup"] + stages["reading"] + stages["classification"], 2)
    result["floor_budget_seconds"] = round(TARGET_FLOOR_RATIO * result["floor_seconds"], 2)
    result["naive_budget_seconds"] = round(result["naive_seconds"] / TARGET_NAIVE_RATIO, 2)
    result["naive_over_sitrep"] = round(result["naive_seconds"] / result["sitrep_seconds"], 2)
    result["sitrep_over_floor"] = round(result["sitrep_seconds"] / result["floor_seconds"], 2)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    result, as_json = run_from_command_line(
        argv, doc=__doc__, entries=200_000, runs=3, quick_entries=10_000, prefix="sitrep-throughput-bench-", run=run
    )
    if as_json:
        print(json.dumps(result, indent=2, sort_keys=True))
        return 0
    print(
        f"replay of a {result['entries']:,}-entry export ({result['export_mb']:,} MB), file -> JSON card, "
        f"median of {result['runs']} run(s), wall seconds per process"
    )
    for name in ("sitrep", "naive", "floor"):
        each = " ".join(f"{v:.2f}" for v in result[f"{name}_all_seconds"])
        print(f"{name:<8} {result[f'{name}_seconds']:>8.2f}   ({each})")
    naive_met = "met" if result["naive_over_sitrep"] >= TARGET_NAIVE_RATIO else "NOT met"
    floor_met = "met" if result["sitrep_over_floor"] <= TARGET_FLOOR_RATIO else "NOT met"
    print(f"naive / sitrep: {result['naive_over_sitrep']:.2f}x (target >= {TARGET_NAIVE_RATIO:.0f}x: {naive_met})")
    print(f"sitrep / floor: {result['sitrep_over_floor']:.2f}x (target <= {TARGET_FLOOR_RATIO}x: {floor_met})")
    rows = (
        ("start-up (imports, signatures, RE2 sets)", result["stage_startup_seconds"]),
        ("reading (every record of the export)", result["stage_reading_seconds"]),
        (f"classification ({result['distinct_inputs']:,} distinct inputs)", result["stage_classification_seconds"]),
        ("together: a lower bound on one core", result["stages_seconds"]),
    )
    print("sitrep's stages, each alone over the whole export, one process (seconds):")
    for label, seconds in rows:
        print(f"  {label:<46} {seconds:6.2f}")
    print(
        f"  budgets: 1.5x the floor {result['floor_budget_seconds']:.2f}, "
        f"naive / 5 {result['naive_budget_seconds']:.2f}; "
        f"the rest of the replay (templates, counting, health, root cause, card) is not in the bound"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
