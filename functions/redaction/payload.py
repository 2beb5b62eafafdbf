"""Redact a decoded JSON payload by key name, at any depth, before it is flattened to text.

Text rules see a flattened payload only as characters; here the structure is still known, so a
value is hidden because of the key it sits under, whatever it looks like: ``{"password": "x"}``,
``{"name": "DB_PASSWORD", "value": "x"}`` (k8s env, HAR headers, AWS tags as ``Key``/``Value``),
``{"password": {"value": "x"}}``, ``{"Authorization": "Token x"}`` and
``{"set-cookie": ["sid=x; Path=/"]}``. Strings under other keys still go through the text rules
(`functions.redaction.redact.redact`), so a token inside a message is cut out too. A new value is returned;
the input is never changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Final

from functions.redaction.matching import MARKER_PREFIX, _is_placeholder, marker
from functions.redaction.redact import redact
from functions.redaction.rules import classify_key, value_is_secret
from functions.redaction.shapes import named_secret

_NAME_KEYS: Final = ("name", "Name", "key", "Key")
_VALUE_KEYS: Final = ("value", "Value")
_HEADER_KEYS: Final = frozenset({"cookie", "set-cookie", "authorization", "proxy-authorization"})
# Key families whose whole value is a credential whatever its shape (password, token, api_key...).
# "Weak" names (signature, auth, credentials) also hold ordinary settings: their strings go through
# the text rules instead.
_STRONG_FAMILIES: Final = ("pw", "tk")
MAX_DEPTH: Final = 256  # deeper than any real payload; a subtree beyond it is replaced, not walked
_TOO_DEEP: Final = marker("generic_secret")


class _NotSecret:
    """Says a key names no secret (None is a JSON value, so it cannot say that)."""


_NOT_SECRET: Final = _NotSecret()


def redact_json(value: object) -> object:
    """Return a copy of a decoded JSON value with every secret replaced by a ``[REDACTED:kind]`` marker."""
    return _walk(value, 0, redact)


def redact_json_keys(value: object) -> object:
    """Only what the structure shows: values under secret-naming keys (and name/value pairs) hidden,
    other strings kept as they are.

    For a payload about to be flattened into a log message (functions.intake.evidence): the key names
    are lost once it is text, and the message is classified first; the text rules run later, on every
    string a card shows (functions.card.incident).
    """
    return _walk(value, 0, _keep)


def _keep(text: str) -> str:
    return text


def _walk(value: object, depth: int, text: Callable[[str], str]) -> object:
    if depth > MAX_DEPTH:
        return _TOO_DEEP
    if isinstance(value, str):
        return text(value)
    if isinstance(value, Mapping):
        return _walk_mapping(value, depth, text)
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return [_walk(item, depth + 1, text) for item in value]
    return value


def _walk_mapping(mapping: Mapping[object, object], depth: int, text: Callable[[str], str]) -> dict[object, object]:
    name = next((mapping[k] for k in _NAME_KEYS if k in mapping), None)
    value_key = next((k for k in _VALUE_KEYS if k in mapping), None)
    result: dict[object, object] = {}
    for key, item in mapping.items():
        # {"name": "DB_PASSWORD", "value": v}: v is read as if it sat under the key DB_PASSWORD
        owner = name if key == value_key and isinstance(name, str) else key
        hidden = _under_key(str(owner), item, depth + 1)
        result[key] = _walk(item, depth + 1, text) if hidden is _NOT_SECRET else hidden
    return result


def _under_key(key: str, value: object, depth: int) -> object:
    """The redacted value held under a secret-naming key, or _NOT_SECRET when the key names none."""
    if key.lower() in _HEADER_KEYS:
        return _each_string(value, lambda text: named_secret(key, text) or text, depth, None)
    classified = classify_key(key)
    if classified is None or classified[0] not in _STRONG_FAMILIES:
        return _NOT_SECRET
    family, kind = classified

    def hide(text: str) -> str:
        # under the key's own name any real value goes, not only one that looks machine-made
        keep = not value_is_secret(key, family, text) if family == "pw" else _is_placeholder(text)
        return text if keep or MARKER_PREFIX in text else marker(kind)

    return _each_string(value, hide, depth, kind)


def _each_string(value: object, hide: Callable[[str], str], depth: int, kind: str | None) -> object:
    """Apply `hide` to every string inside `value` (with a kind, hide numbers too), keeping its shape."""
    if depth > MAX_DEPTH:
        return _TOO_DEEP
    if isinstance(value, str):
        return hide(value)
    if kind is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        return marker(kind)  # a numeric PIN or password
    if isinstance(value, Mapping):
        return {k: _each_string(v, hide, depth + 1, kind) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return [_each_string(item, hide, depth + 1, kind) for item in value]
    return value


__all__ = ["MAX_DEPTH", "redact_json", "redact_json_keys"]
