"""An `entries:list` response body read entry by entry, so one poison entry costs itself, not the page.

A page is decoded whole when it is within the JSON bounds (functions.intake.jsonbounds), which is always
so in practice. When it is not, the page is walked without recursion: each entry is cut out of
the `entries` array and decoded on its own, and those beyond the bounds are skipped and counted,
so the incident's card still goes out, saying what was left out.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from typing import Any

from functions.intake.jsonbounds import MALFORMED, JsonBoundsError, loads_bounded, value_end

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_UNBOUNDED = sys.maxsize  # only to find where a value ends; its depth is judged when it is decoded
_scanstring: Any = json.decoder.scanstring  # type: ignore[attr-defined]


@dataclass
class EntriesPage:
    entries: list[Any] = field(default_factory=list)
    next_page_token: str = ""
    skipped: int = 0


def read_entries_page(body: bytes | str) -> EntriesPage:
    """The entries, the next page token and how many entries were skipped as beyond the JSON bounds.

    Raises ValueError (json.JSONDecodeError among them) for a body that is not a JSON object.
    """
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    try:
        document = loads_bounded(text)
    except JsonBoundsError:
        return _walk(text)
    if not isinstance(document, dict):
        raise ValueError(f"entries:list answered JSON {type(document).__name__}, not an object")
    entries = document.get("entries")
    return EntriesPage(list(entries) if isinstance(entries, list) else [], str(document.get("nextPageToken") or ""))


def _walk(text: str) -> EntriesPage:
    page = EntriesPage()
    pos = _skip(text, 0)
    _expect(text, pos, "{")
    pos = _skip(text, pos + 1)
    if text.startswith("}", pos):
        return page
    while True:
        _expect(text, pos, '"')
        key, pos = _scanstring(text, pos + 1)
        pos = _skip(text, pos)
        _expect(text, pos, ":")
        pos = _skip(text, pos + 1)
        if key == "entries" and text.startswith("[", pos):
            pos = _entries(text, pos + 1, page)
        else:
            value, pos, bad = _value(text, pos)
            if key == "nextPageToken" and not bad and value:
                page.next_page_token = str(value)
        pos = _skip(text, pos)
        if text.startswith("}", pos):
            return page
        _expect(text, pos, ",")
        pos = _skip(text, pos + 1)


def _entries(text: str, pos: int, page: EntriesPage) -> int:
    pos = _skip(text, pos)
    if text.startswith("]", pos):
        return pos + 1
    while True:
        value, pos, bad = _value(text, pos)
        if bad:
            page.skipped += 1
        else:
            page.entries.append(value)
        pos = _skip(text, pos)
        if text.startswith("]", pos):
            return pos + 1
        _expect(text, pos, ",")
        pos = _skip(text, pos + 1)


def _value(text: str, pos: int) -> tuple[Any, int, bool]:
    """(value, end, beyond the bounds) of the JSON value at `pos`."""
    if text.startswith(("[", "{"), pos):
        end = value_end(text, pos, _UNBOUNDED)
        if end is None or end == MALFORMED:
            raise json.JSONDecodeError("unterminated value", text, pos)
        try:
            return loads_bounded(text[pos:end]), end, False
        except JsonBoundsError:
            return None, end, True
    try:
        value, end = json.JSONDecoder().raw_decode(text, pos)
    except json.JSONDecodeError:
        raise
    except ValueError:  # an integer past Python's digit limit
        match = _NUMBER.match(text, pos)
        if match is None:
            raise
        return None, match.end(), True
    return value, end, False


def _skip(text: str, pos: int) -> int:
    match = _WS.match(text, pos)
    return match.end() if match else pos


def _expect(text: str, pos: int, char: str) -> None:
    if not text.startswith(char, pos):
        raise json.JSONDecodeError(f"expected {char!r}", text, pos)
