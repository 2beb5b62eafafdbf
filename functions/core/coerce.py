"""Lenient coercions for JSON read at the boundary (notifications, LogEntries, metrics documents).

Payloads come from outside, so a field of the wrong type is treated as absent rather than
raised on: each helper returns an empty or None value for anything it cannot use. Every string
handed on is made encodable (`valid_text`), so a lone surrogate never reaches RE2, a URL or a
client that encodes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def valid_text(text: str) -> str:
    """`text` with any lone surrogate replaced by U+FFFD, so it can be encoded as UTF-8.

    JSON may escape a lone surrogate ("\\ud800") and Python decodes it as is; every consumer
    that encodes (RE2, URLs, the Slack and GitHub clients, the ledger file) would then raise.
    """
    if text.isascii():  # O(1) in CPython: the common case costs nothing
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return text


def as_mapping(value: object) -> Mapping[str, Any]:
    """`value` when it is a mapping, else an empty one (read-only use: never copied)."""
    if type(value) is dict:  # the common case, without the slower ABC check
        return value
    return value if isinstance(value, Mapping) else {}


def as_text(value: object) -> str:
    """A display string: str as is (made encodable), numbers as their text, anything else empty."""
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


def as_string_map(value: object) -> dict[str, str]:
    """A labels object as str -> str (keys and values made encodable); anything else is empty."""
    return {valid_text(str(key)): as_text(item) for key, item in as_mapping(value).items()}


def as_number(value: object) -> float | None:
    """A float from a number or a numeric string; None for booleans and anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def as_int(value: object) -> int | None:
    """An int from an int, an integral float, or a decimal string ("42", int64 JSON)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            number = as_number(value)
            return int(number) if number is not None and number.is_integer() else None
    return None
