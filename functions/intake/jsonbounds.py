"""Bounded JSON: nesting depth and number size are checked while a document is read, before it is built.

Log text and alert payloads come from outside. A jsonPayload nested 10,000 deep would make a
recursive decoder (json, msgspec) overflow the interpreter's stack, and an integer of more than
4,300 digits makes Python's int parser refuse (CVE-2020-10735). Both must end as one clear
input error, decided by our own limit rather than by how deep the stack happens to be.

Cloud Logging stores a jsonPayload as a protobuf Struct, and protobuf's parsers refuse nesting
beyond 100 by default, so a real LogEntry is never much deeper than that: MAX_JSON_DEPTH leaves room
for the LogEntry envelope and an `entries:list` page around it.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

MAX_JSON_DEPTH = 128
# Python's own limit on decimal digits in an int (sys.get_int_max_str_digits); json.loads and
# msgspec both refuse longer integers, so the limit is theirs, reported in our words.
MAX_INT_DIGITS = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 4300

# Everything up to the next bracket that is not inside a string (JSON strings hold no raw newline).
_TO_BRACKET = re.compile(r'(?:[^"\[\]{}]+|"(?:[^"\\\n]|\\.)*")*')
_OPEN_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*\\?')
_OPENERS = "[{"
MALFORMED = -1  # value_end: the value is not well-formed JSON; the decoder says where


class JsonBoundsError(ValueError):
    """A JSON document exceeds MAX_JSON_DEPTH or holds an integer longer than MAX_INT_DIGITS."""

    def __init__(self, problem: str, position: int = 0) -> None:
        super().__init__(problem)
        self.problem = problem
        self.position = position


def too_deep(position: int) -> JsonBoundsError:
    return JsonBoundsError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels", position)


def number_too_long() -> JsonBoundsError:
    return JsonBoundsError(f"a JSON integer longer than {MAX_INT_DIGITS:,} digits")


def value_end(text: str, start: int, limit: int = MAX_JSON_DEPTH) -> int | None:
    """End index of the array or object opening at `start`, scanning without recursion.

    Raises JsonBoundsError as soon as the nesting exceeds `limit` (even if the value is not
    complete yet); returns None when `text` ends first, MALFORMED for a string holding a raw
    newline, and `start` itself when no array or object opens there.
    """
    if start >= len(text) or text[start] not in _OPENERS:
        return start
    depth = 0
    pos = start
    end = len(text)
    while True:
        match = _TO_BRACKET.match(text, pos)
        pos = match.end() if match else pos
        if pos >= end:
            return None
        char = text[pos]
        if char in _OPENERS:
            depth += 1
            if depth > limit:
                raise too_deep(pos)
        elif char == '"':
            # A string the scan could not close: cut short by the end of `text`, or malformed (a raw
            # newline inside it), which the decoder reports with its position.
            unclosed = _OPEN_STRING.match(text, pos)
            return None if unclosed is None or unclosed.end() >= end else MALFORMED
        else:
            depth -= 1
            if depth == 0:
                return pos + 1
        pos += 1


def check_depth(text: str, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise JsonBoundsError when any value in `text` nests deeper than `limit`.

    Counting the openers is an upper bound on the depth and runs at C speed; only a text with
    more openers than the limit is scanned bracket by bracket.
    """
    if text.count("[") + text.count("{") <= limit:
        return
    pos = 0
    while (start := _next_opener(text, pos)) is not None:
        end = value_end(text, start, limit)
        if end is None or end == MALFORMED:
            return  # the decoder reports where
        pos = end


def _next_opener(text: str, pos: int) -> int | None:
    match = _TO_BRACKET.match(text, pos)
    pos = match.end() if match else pos
    return pos if pos < len(text) and text[pos] in _OPENERS else None


def loads_bounded(text: str) -> Any:
    """json.loads with MAX_JSON_DEPTH and MAX_INT_DIGITS enforced: JsonBoundsError, never RecursionError.

    Malformed JSON still raises json.JSONDecodeError, so callers keep their messages for it.
    """
    check_depth(text)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except ValueError:  # the int parser's digit limit: the only other ValueError json raises
        raise number_too_long() from None
