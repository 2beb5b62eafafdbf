"""The tracking issue's body: the report, then two hidden markers naming the incident and carrying its ledger.

Pure (no I/O), so the service can size the report to the room the markers leave without importing
the GitHub adapter. The markers are HTML comments at the END of the body (invisible when rendered):

    <!-- sitrep:key=<percent-encoded key> -->
    <!-- sitrep:ledger <base64url(JSON ledger entry)> -->

`compose_body` appends them (truncating the report visibly to fit GitHub's 65,536-character body
limit) and `parse_markers` reads them back.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import quote, unquote

from functions.render.inert import Markdown

# Body, comment: 422 "body is too long (maximum is 65536 characters)" (GitHub's REST API reference).
MAX_BODY_CHARS: Final = 65_536
TRUNCATION_BACKTRACK_CHARS: Final = 2_000  # cut at a line break when one is this close to the limit

_KEY_MARKER_RE: Final = re.compile(r"<!-- sitrep:key=(?P<key>[^\s>]+) -->")
_LEDGER_MARKER_RE: Final = re.compile(r"<!-- sitrep:ledger (?P<data>[A-Za-z0-9_\-]*=*) -->")
_FENCE_RE: Final = re.compile(r"^[ ]{0,3}(```|~~~)", re.MULTILINE)


def key_marker(key: str) -> str:
    """The hidden line naming the incident key ('>' and spaces are percent-encoded so it cannot end early)."""
    return f"<!-- sitrep:key={quote(key, safe='/:@')} -->"


def ledger_marker(ledger: Mapping[str, Any]) -> str:
    """The hidden line carrying the ledger entry as base64url(JSON), unpadded."""
    blob = json.dumps(ledger, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return f"<!-- sitrep:ledger {base64.urlsafe_b64encode(blob).decode().rstrip('=')} -->"


def truncate_markdown(markdown: str, limit: int) -> str:
    """`markdown` if it fits in `limit` characters, else its head plus a visible note of what was cut.

    Cuts at a line break when one is near, and closes a code fence left open by the cut.
    """
    if len(markdown) <= limit:
        return markdown
    notice = "\n\n> **Report truncated**: {n:,} characters left out to fit GitHub's {limit:,}-character limit.\n"
    reserve = len(notice.format(n=len(markdown), limit=MAX_BODY_CHARS)) + len("\n```")
    keep = limit - reserve
    if keep <= 0:
        raise ValueError(f"limit {limit} leaves no room for the report")
    cut = markdown.rfind("\n", max(keep - TRUNCATION_BACKTRACK_CHARS, 0), keep)
    if cut <= 0:
        cut = keep
    head = markdown[:cut]
    if len(_FENCE_RE.findall(head)) % 2:
        head += "\n```"
    return head + notice.format(n=len(markdown) - cut, limit=MAX_BODY_CHARS)


def report_budget(key: str, ledger: Mapping[str, Any], *, limit: int = MAX_BODY_CHARS) -> int:
    """Characters left for the report once the markers are in: render the report to this, and nothing is cut.

    The ledger of a large incident takes several KB, more than a fixed reserve would leave.
    """
    return limit - len(_markers(key, ledger))


def _markers(key: str, ledger: Mapping[str, Any]) -> str:
    return f"\n\n{key_marker(key)}\n{ledger_marker(ledger)}\n"


def compose_body(
    markdown: Markdown, key: str, ledger: Mapping[str, Any], *, limit: int = MAX_BODY_CHARS
) -> Markdown:
    """The issue body: the report (truncated visibly if need be), then the key and ledger markers, within `limit`.

    The markers are ours: HTML comments whose key is percent-encoded and whose ledger is base64url, so
    nothing in them can end the comment; the truncation notice is our own text. The body stays Markdown.
    """
    tail = _markers(key, ledger)
    if len(tail) >= limit:
        raise ValueError(f"the sitrep markers alone take {len(tail)} characters (limit {limit})")
    return Markdown(truncate_markdown(markdown, limit - len(tail)) + tail)


def parse_markers(body: str) -> tuple[str | None, dict[str, Any] | None]:
    """(key, ledger) from an issue body's markers; the last of each counts; None for a missing or unreadable one."""
    key: str | None = None
    ledger: dict[str, Any] | None = None
    keys = list(_KEY_MARKER_RE.finditer(body or ""))
    if keys:
        key = unquote(keys[-1].group("key"))
    blobs = list(_LEDGER_MARKER_RE.finditer(body or ""))
    if blobs:
        data = blobs[-1].group("data").rstrip("=")
        try:
            decoded = json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
        except (ValueError, binascii.Error):
            decoded = None
        ledger = decoded if isinstance(decoded, dict) else None
    return key, ledger


__all__ = [
    "MAX_BODY_CHARS",
    "TRUNCATION_BACKTRACK_CHARS",
    "compose_body",
    "key_marker",
    "ledger_marker",
    "parse_markers",
    "report_budget",
    "truncate_markdown",
]
