"""The cue stage's RE2 gate skips a Python regex only where that regex cannot match.

A gate that skipped a regex Python would have matched would change a verdict silently, so the
property pinned here is soundness: every regex that matches a text is among the gate's
`possible(text)`, on real messages and on the same messages with the characters where the two
engines disagree (non-ASCII, \\v, \\x1c-\\x1f) spliced in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from functions.analysis.classify import cues
from functions.analysis.classify.gate import Gate
from tests.test_corpus import CORPUS

ROOT = Path(__file__).resolve().parent.parent
# Python twins of the text gate's entries, in its order (the exception entry gates _EXCEPTION_RE).
TEXT_REGEXES = (
    cues._EXCEPTION_RE,
    cues._ANY_CODE_RE,
    cues._AUTH_PHRASE_RE,
    cues._APP_BUG_RE,
    re.compile(cues._FAILURE_WORD_RE.pattern),
)
SPLICED = ("\x0b", "\x1c", "\x1f", "é", "\u212a", "\u2028", "\xa0", "\r\n", "\n")
CRAFTED = (
    "connect ECONNREFUSED 10.0.0.7:5432",
    "rpc error: code = Unavailable desc = connection closed",
    "SQLSTATE[08006] could not connect",
    "403 Forbidden",
    "Permission denied (publickey)",
    "token is expired",
    "java.net.SocketTimeoutException: Read timed out",
    "panic: runtime error: invalid memory address or nil pointer dereference",
    "TypeError: Cannot read properties of undefined (reading 'id')",
    "I0721 10:00:00.000000       1 main.go:42] ready",
    "production.INFO: queue started",
    "[notice] 1#1: signal process started",
    "  Normal   Scheduled  pod/x  Successfully assigned",
    "2024-01-01 10:00:00 [1] [WARNING] Worker timeout",
    "info: Microsoft.Hosting.Lifetime[0]",
    "Warning: Ignoring extra certs",
    "all good, nothing to see",
)


def _messages() -> Iterator[str]:
    yield from CRAFTED
    if CORPUS.is_file():
        for line in CORPUS.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield json.loads(line)["message"]
    for path in sorted((ROOT / "examples").glob("*/logs.json")):
        for entry in json.loads(path.read_text(encoding="utf-8")):
            payload = entry.get("jsonPayload") or {}
            text = entry.get("textPayload") or payload.get("message")
            if isinstance(text, str):
                yield text


def _variants(text: str) -> Iterator[str]:
    yield text
    middle = len(text) // 2
    for char in SPLICED:
        yield text[:middle] + char + text[middle:]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [v for m in _messages() for v in _variants(m)]


def test_the_text_gate_never_skips_a_regex_that_matches(texts: list[str]) -> None:
    missed = [
        (i, t[:120])
        for t in texts
        for i, regex in enumerate(TEXT_REGEXES)
        if regex.search(t) and i not in cues._TEXT_GATE.possible(t)
    ]
    assert not missed
    assert len(texts) > 100


def test_the_level_gate_never_skips_a_prefix_that_matches(texts: list[str]) -> None:
    firsts = [t.lstrip("\n")[:200].split("\n", 1)[0] for t in texts]
    missed = [
        (i, f[:120])
        for f in firsts
        for i, regex in enumerate(cues._LEVEL_RES)
        if regex.search(f) and i not in cues._LEVEL_GATE.possible(f)
    ]
    assert not missed


def test_the_gate_skips_what_cannot_match_on_plain_ascii() -> None:
    gate = Gate((r"\bECONNREFUSED\b", r"(?i)permission denied", r"^panic: "))
    assert gate.possible("connect ECONNREFUSED 10.0.0.7:5432") == (0,)
    assert gate.possible("all good") == ()
    assert gate.possible("x\npanic: y") == ()  # ^ without (?m) is the text's start, in both engines


@pytest.mark.parametrize("char", ["\x0b", "\x1c", "\x1f", "é", "\u2028"])
def test_where_the_engines_may_disagree_every_regex_runs(char: str) -> None:
    gate = Gate((r"a\sb", r"zzz"))
    assert gate.possible(f"a{char}b") == (0, 1)


def test_a_gate_over_its_memory_budget_skips_nothing() -> None:
    gate = Gate((r"[a-z]{1,30}x[0-9]{1,20}y", r"(?i)\b(?:fail|error)\w{0,50}z"), max_mem_bytes=256)
    assert gate.possible("nothing here") == (0, 1)
