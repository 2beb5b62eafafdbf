"""Poison JSON (an integer past Python's 4,300-digit limit, nesting 10,000 deep) is an input error:
one line on stderr and exit 2 from the command line, whichever file holds it and whichever reader meets it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from functions.intake.jsonbounds import MAX_JSON_DEPTH, JsonBoundsError, loads_bounded, value_end

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "staging-outage"
NO_DELIVERY = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "SITREP_LEDGER": "/nonexistent/never-written.json"}
DEEP = "[" * 10_000 + "]" * 10_000
HUGE = "7" * 5_000
ENTRY_TEXT = '{"timestamp": "2025-09-16T01:00:00Z", "severity": "ERROR", "jsonPayload": {"message": "boom", "n": N}}'


def entry(value: object) -> str:
    """One LogEntry line whose jsonPayload holds `value` as JSON text, verbatim."""
    return ENTRY_TEXT.replace("N}", f"{value}}}")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True, text=True, cwd=ROOT, env=NO_DELIVERY, timeout=120,
    )  # fmt: skip


def replay_dir(tmp_path: Path, name: str, text: str) -> Path:
    """The staging outage with `name` replaced by `text`."""
    directory = tmp_path / "replay"
    shutil.copytree(EXAMPLE, directory)
    (directory / name).write_text(text, encoding="utf-8")
    return directory


def alert_with(poison: str) -> str:
    text = (EXAMPLE / "alert.json").read_text(encoding="utf-8")
    return re.sub(r'"started_at":\s*\d+', f'"started_at": {poison}', text, count=1)


CASES = {
    "deep jsonPayload in an indented export": ("logs.json", "[\n  " + entry(DEEP) + "\n]\n", "nested deeper than"),
    "huge integer in an indented export": ("logs.json", "[\n  " + entry(HUGE) + "\n]\n", "longer than 4,300 digits"),
    "huge integer on line 2 of JSON Lines": ("logs.json", entry(1) + "\n" + entry(HUGE) + "\n", "line 2"),
    "deep value in an unread field": ("logs.json", f'[\n  {{"x": {DEEP}}}\n]\n', "nested deeper than"),
    "deep metrics": ("metrics.json", f'{{"timeSeries": [], "x": {DEEP}}}', "nested deeper than"),
    "huge integer in metrics": ("metrics.json", f'{{"timeSeries": [], "x": {HUGE}}}', "longer than 4,300 digits"),
    "huge started_at in the alert": ("alert.json", None, "longer than 4,300 digits"),
    "deep alert": ("alert.json", f'{{"incident": {DEEP}}}', "nested deeper than"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_replay_of_a_poison_file_is_one_line_and_exit_2(tmp_path: Path, case: str) -> None:
    name, text, problem = CASES[case]
    directory = replay_dir(tmp_path, name, text if text is not None else alert_with(HUGE))
    done = run("replay", str(directory), "--format", "json")
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith(f"error: {directory / name}") and problem in line


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("plain text first\n" + entry(HUGE) + "\n", "line 2: a JSON integer longer than 4,300 digits"),
        ("[" + entry(DEEP) + "]", f"JSON nested deeper than {MAX_JSON_DEPTH} levels"),
        (entry(DEEP) + "\n", f"line 1: JSON nested deeper than {MAX_JSON_DEPTH} levels"),
    ],
)
def test_classify_of_poison_input_is_one_line_and_exit_2(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "input.json"
    path.write_text(text, encoding="utf-8")
    done = run("classify", str(path))
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(f"error: {path}") and where in line


def test_depth_is_refused_at_the_limit_not_at_the_stack() -> None:
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert value_end(at_limit, 0) == len(at_limit)
    with pytest.raises(JsonBoundsError):
        loads_bounded("[" + at_limit + "]")


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    text = '{"message": "%s"}' % ("[{" * 5_000)
    assert loads_bounded(text) == {"message": "[{" * 5_000}


def test_the_limit_is_found_before_the_value_ends() -> None:
    with pytest.raises(JsonBoundsError):
        value_end("[" * (MAX_JSON_DEPTH + 1), 0)  # no closing bracket read yet: refused all the same
    assert value_end("[" * MAX_JSON_DEPTH, 0) is None  # within the limit: simply incomplete
