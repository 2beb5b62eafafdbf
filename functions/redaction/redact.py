"""Redact secrets from log excerpts before they leave the function (Slack, GitHub).

Every secret becomes a visible ``[REDACTED:kind]`` so a reader still sees that
something was there and what it was, while the text around it (user, host,
header name, ids, hashes) stays readable. The rules (what a secret looks like)
live in `functions.redaction.rules`; this module runs them.

Why our own patterns and not detect-secrets at run time: detect-secrets is built
to *flag* lines of source files, not to cut the exact span out of a log line.
Several of its patterns stop short of the secret's end (its JWT pattern never
takes the signature, its Slack pattern stops at the first capital letter, its
private-key pattern matches only the BEGIN line), it has no email, URL-password,
cookie or bearer handling, and importing it costs 70-100 ms of cold start.
``benchmarks/redaction.py`` measures both on the same corpora (recall, false
redactions, throughput); detect-secrets stays a benchmark baseline only.

Speed: each rule names literal triggers; one pass of substring checks decides
which rules' regexes run, so a line without secrets costs a ``str.lower`` and
those checks.

Idempotent: no rule matches inside a ``[REDACTED:kind]`` marker, and the rules
run to a fixed point, so ``redact(redact(x)) == redact(x)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from functions.redaction.matching import REDACTION_KINDS, Rule, marker
from functions.redaction.rules import classify_key, is_secret_key, value_is_secret
from functions.redaction.shapes import RULES

# The public API; REDACTION_KINDS, is_secret_key and marker are defined with the rules.
__all__ = ["REDACTION_KINDS", "is_secret_key", "marker", "redact", "redact_mapping", "redact_value"]

_MAX_PASSES = 4  # a second pass almost never changes anything; the bound keeps huge inputs linear


def _trigger_table(lower: bool) -> tuple[tuple[str, int], ...]:
    """Map each trigger literal to the bit set of rules it wakes."""
    table: dict[str, int] = {}
    for index, rule in enumerate(RULES):
        for trigger in rule.triggers if lower else rule.exact_triggers:
            table[trigger] = table.get(trigger, 0) | 1 << index
    return tuple(table.items())


_LOWER_TRIGGERS = _trigger_table(lower=True)
_EXACT_TRIGGERS = _trigger_table(lower=False)
_GATES = tuple((1 << index, rule.gate) for index, rule in enumerate(RULES) if rule.gate is not None)


def _apply(rule: Rule, text: str) -> str:
    """Run one rule over the text; a declined match moves on one character, not past its span.

    ``re.sub`` would skip the whole span of a match the replacer declined, and so
    hide a secret starting inside it (``'user': 'apikey', 'passwd': 'x'`` first
    reads as the tuple ``('apikey', 'passwd')``).
    """
    subject, pattern = text, rule.pattern
    if rule.fallback is not None:
        subject = text.lower()
        if len(subject) != len(text):
            subject, pattern = text, rule.fallback
    pieces: list[str] = []
    done = pos = 0  # text[:done] is already in pieces
    while (match := pattern.search(subject, pos)) is not None:
        replacement = rule.replace(match, text)
        if replacement is None:
            pos = match.start() + 1
            continue
        pieces += (text[done : match.start()], replacement)
        done = pos = match.end()
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def redact(text: str) -> str:
    """Return ``text`` with every secret replaced by ``[REDACTED:kind]``.

    The rules run again while a pass still changes something (a marker can move
    a boundary another pattern looks at), so the result is a fixed point and
    ``redact(redact(x)) == redact(x)``. Text without secrets takes one pass.
    """
    for _ in range(_MAX_PASSES):
        redacted = _redact_once(text)
        if redacted is text or redacted == text:
            break
        text = redacted
    return text


def _redact_once(text: str) -> str:
    """Run every rule whose trigger occurs, in order; return ``text`` itself when nothing changed."""
    wanted = 0
    for trigger, bits in _EXACT_TRIGGERS:
        if trigger in text:
            wanted |= bits
    lowered = text.lower()
    for trigger, bits in _LOWER_TRIGGERS:
        if trigger in lowered:
            wanted |= bits
    for bit, gate in _GATES:
        if gate(text):
            wanted |= bit
    if not wanted:
        return text
    for index, rule in enumerate(RULES):
        if wanted >> index & 1:
            text = _apply(rule, text)
    return text


def redact_value(value: object, key: str | None = None) -> object:
    """Return a redacted copy of a JSON-like value; under a secret-naming key a string is hidden whole."""
    if isinstance(value, str):
        classified = None if key is None else classify_key(key)
        if classified is not None and value_is_secret(key or "", classified[0], value):
            return marker(classified[1])
        return redact(value)
    if isinstance(value, Mapping):
        return {k: redact_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return [redact_value(item) for item in value]
    return value


def redact_mapping(data: Mapping[str, object]) -> dict[str, object]:
    """Return a redacted copy of a mapping (a jsonPayload, labels); the input is never mutated."""
    return {key: redact_value(item, str(key)) for key, item in data.items()}
