"""What the two replay benchmarks share: the replay directory, a measured child process, the command line.

replay_memory.py and replay_throughput.py both write the generated incident as a `gcloud logging read
--format=json` export beside an alert.json, run fresh interpreters on it, and clean up after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks._workload import alert_notification, write_gcloud_export

ROOT = Path(__file__).resolve().parent.parent
# A replay with delivery settings would post; these benchmarks only print.
_DELIVERY_SETTINGS = ("SLACK_BOT_TOKEN", "GITHUB_TOKEN", "SLACK_CHANNEL", "GITHUB_REPOSITORY")


def write_replay_dir(directory: Path, n: int) -> int:
    """alert.json and an `n`-entry logs.json in `directory`; returns the export's size in bytes."""
    (directory / "alert.json").write_text(json.dumps(alert_notification(), indent=2), encoding="utf-8")
    with open(directory / "logs.json", "w", encoding="utf-8") as stream:
        write_gcloud_export(stream, n)
    return (directory / "logs.json").stat().st_size


def measure(argv: Sequence[str], out_path: Path) -> tuple[float, float, int]:
    """(peak RSS MB, wall seconds, exit code) of one child process; stdout and stderr go to files."""
    env = {k: v for k, v in os.environ.items() if k not in _DELIVERY_SETTINGS} | {"PYTHONPATH": str(ROOT)}
    err_path = out_path.with_suffix(".err")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), cwd=ROOT, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage, not all children's
        seconds = time.perf_counter() - start
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.stderr.write(err_path.read_text(encoding="utf-8", errors="replace")[-2000:])
    return usage.ru_maxrss / 1024, seconds, code  # Linux reports ru_maxrss in KiB


def run_from_command_line(
    argv: Sequence[str] | None,
    *,
    doc: str | None,
    entries: int,
    runs: int,
    quick_entries: int,
    prefix: str,
    run: Callable[[int, int, Path], dict[str, Any]],
) -> tuple[dict[str, Any], bool]:
    """Parse the shared options, `run(n, runs, workdir)` in a temporary directory removed afterwards;
    returns its result and whether `--json` asked for machine-readable output."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--entries", type=int, default=entries, help="entries in the generated export")
    parser.add_argument("--runs", type=int, default=runs, help="runs of each process (medians reported)")
    parser.add_argument("--tmp", type=Path, default=None, help="directory for the export (default: system temp)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--quick", action="store_true", help="a small run that only checks the benchmark works (CI)")
    args = parser.parse_args(argv)
    n, count = (quick_entries, 1) if args.quick else (args.entries, args.runs)
    workdir = Path(tempfile.mkdtemp(prefix=prefix, dir=args.tmp))
    try:
        result = run(n, count, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return result, bool(args.json)
