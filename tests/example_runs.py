"""The recorded examples through the command line, as a new user runs them (shared by their tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
NO_DELIVERY = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "SITREP_LEDGER": "/nonexistent/never-written.json"}

_analyses: dict[str, dict[str, Any]] = {}


def run(*args: str) -> str:
    """`python main.py ARGS` with nothing configured to deliver to; its stdout (exit 0 asserted)."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True, text=True, cwd=ROOT, env=NO_DELIVERY, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def analyse(name: str) -> dict[str, Any]:
    """The example's `replay --format json`, run once per test session."""
    if name not in _analyses:
        _analyses[name] = json.loads(run("replay", str(EXAMPLES / name), "--format", "json"))
    return _analyses[name]


def health_of(analysis: dict[str, Any]) -> dict[str, str]:
    return {s["service"]: s["health"] for s in analysis["services"]}


def roots_of(analysis: dict[str, Any]) -> list[tuple[str, str]]:
    return [(r["category"], r["service"]) for r in analysis["root_causes"]]


def actions_text(analysis: dict[str, Any], priority: str | None = None) -> str:
    return "\n".join(a["text"] for a in analysis["actions"] if priority in (None, a["priority"]))
