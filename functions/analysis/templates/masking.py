"""Log-message masking: the shape of a message, with its variable parts written ``<*>``.

The template miner (`functions.analysis.templates.miner`) groups messages by these masked keys:

1. **Normalise.** A multi-line message is reduced to its first line; a Python traceback
   to its first line plus its final exception line, and a Java trace to its first line plus
   its last ``Caused by:`` line, so traces with different frames but the same exception
   group together. Messages are cut at ``MAX_MESSAGE_CHARS``.
2. **Mask.** Every digit run becomes ``0`` (one C-level regex pass, so variable tokens repeat
   and a bounded token cache answers most tokens), then each whitespace token is classified
   once: tokens holding digits (numbers, hex, UUIDs, IPs, host:port, durations such as
   ``15s``/``250ms``, timestamps), paths, URLs, emails, single quoted values, ``k=v`` values
   that are not plain words, booleans/null, long hex words, dotted names (``com.foo.Bar``,
   host names) and month/weekday names become ``<*>``. A ``key=``/``key:`` prefix and
   brackets are kept (``uid=<*>``, ``(<*>``); a quoted value is masked whole, its quotes
   included (``host='db.internal'`` is ``host=<*>``), while a quoted phrase running over
   several tokens keeps its quotes around its words. A unit word after a number is absorbed
   (``1.2 KB`` is one value) and consecutive wildcards collapse into one, so values of
   varying length do not change the token count. Every masked part is written ``<*>``.
3. **Keep what names the failure** (`functions.analysis.templates.failure_names`): exception class names
   (``requests.exceptions.ReadTimeout:``, ``PG::ConnectionBad``), gRPC statuses, errno and
   Node codes and SQLSTATE codes stay, quoted or not. Such a token kept whole is written with
   the message's own digits (``psycopg2``, ``SQLSTATE 08006``), not the shape's ``0``.
"""

from __future__ import annotations

import re
from itertools import islice
from typing import TypeVar

from functions.analysis.templates.failure_names import (
    SQLSTATE_INTRODUCERS,
    SQLSTATE_WORDS,
    is_sqlstate_code,
    names_failure,
)

WILDCARD = "<*>"
MAX_MESSAGE_CHARS = 4096  # longer messages are cut: the shape is in the head
TRACE_JOINER = " | "  # joins a trace's first line and its final exception line
EVICT_FRACTION = 0.125  # share of a full cache's entries (or of the miner's clusters) dropped at once

_TOKEN_CACHE_SIZE = 32_768
_TOKEN_CACHE_MAX_CHARS = 64

_T = TypeVar("_T")

_DIGITS = re.compile(r"[0-9]+")
_ANY_DIGIT = re.compile(r"[0-9]")
_DOTTED = re.compile(r"[A-Za-z_][\w-]*(?:\.[\w-]+){2,}")
_HEX_WORD = re.compile(r"[0-9a-fA-F]{8,}")
_PLAIN_WORD = re.compile(r"[A-Za-z_]+")
_WINDOWS_PATH = re.compile(r"[A-Za-z]:\\")
_CALL_OF_NUMBER = re.compile(r"([A-Za-z_]\w*)\(0\)")  # exit(3), signal(9): keep the name readable

_OPENERS = "([{<\"'"
_CLOSER_OF = {"(": ")", "[": "]", "{": "}", "<": ">", '"': '"', "'": "'"}
_TRAILING_PUNCT = ",;:."
_CLOSERS = ")]}>\"'"
_KEY_END_CHARS = "_.-]"
_CODE_PUNCT = _OPENERS + _CLOSERS + _TRAILING_PUNCT
_NAME_STARTS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_EMPTY_GROUPS = frozenset({"()", "[]", "{}", '""', "''", "(<*>)", "[<*>]", "{<*>}", "<<*>>", '"<*>"', "'<*>'"})
_VALUE_WORDS = frozenset({"true", "false", "True", "False", "TRUE", "FALSE", "null", "NULL", "None", "nil"})
_CALENDAR_WORDS = frozenset("Mon Tue Wed Thu Fri Sat Sun Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())  # noqa: SIM905
_UNIT_WORDS = frozenset(
    "ns us µs ms s sec secs second seconds min mins minute minutes h hr hrs hour hours "  # noqa: SIM905
    "B KB MB GB TB KiB MiB GiB TiB byte bytes".split()
)
# A unit token may carry the closing bracket or punctuation of "(1.16 KB)," forms.
_UNIT_TOKENS = frozenset(u + tail for u in _UNIT_WORDS for tail in ("", ")", "]", ",", ";", ")."))


def _split_punct(token: str) -> tuple[str, str, str]:
    """Split a token into (openers, core, closers): brackets and quotes around the value."""
    start, end = 0, len(token)
    while start < end and token[start] in _OPENERS:
        start += 1
    while end > start and token[end - 1] in _TRAILING_PUNCT:
        end -= 1
    opener = start - 1
    while opener >= 0 and end > start and token[end - 1] == _CLOSER_OF[token[opener]]:
        end -= 1
        opener -= 1
    return token[:start], token[start:end], token[end:]


def _is_variable(core: str) -> bool:
    """Whether a bare value (brackets stripped, digits already ``0``) is a variable part."""
    if "0" in core or core in _VALUE_WORDS or core in _CALENDAR_WORDS:
        return True
    if (core.startswith("/") and len(core) > 1) or core.count("/") >= 2:
        return True  # absolute or multi-segment path
    if "://" in core or _WINDOWS_PATH.match(core):
        return True
    at = core.find("@")
    if 0 < at < len(core) - 1:
        return True  # email, user@host, Object@hash
    if core.count(".") >= 2 and _DOTTED.fullmatch(core):
        return True  # host names, dotted identifiers
    return len(core) >= 8 and _HEX_WORD.fullmatch(core) is not None


def _mask_token(token: str) -> str:
    """Mask one whitespace token (digits already normalised to ``0``)."""
    if token.isalpha():  # the common case: a plain word
        if token in _VALUE_WORDS or token in _CALENDAR_WORDS or _HEX_WORD.fullmatch(token):
            return WILDCARD
        return token
    if token == WILDCARD:
        return token
    opening, core, closing = _split_punct(token)
    if not core:
        return WILDCARD if token in _EMPTY_GROUPS else token
    if opening and closing and opening[-1] in "\"'" and closing[0] == opening[-1]:
        if core[0] in _NAME_STARTS and not core.islower() and names_failure(core):
            return token  # a quoted class name or error code: code: 'ECONNREFUSED'
        return _wrap(opening[:-1], closing[1:])  # a quoted single value is masked with its quotes
    if (core[0] == "/" and len(core) > 1) or "://" in core:
        return _wrap(opening, closing)  # a path or URL, query string included
    equals = core.find("=")
    if equals > 0 and (core[equals - 1].isalnum() or core[equals - 1] in _KEY_END_CHARS):
        return _mask_assignment(token, opening, core, closing, equals)
    call = _CALL_OF_NUMBER.fullmatch(core)
    if call:
        return f"{opening}{call.group(1)}({WILDCARD}){closing}"
    key, colon, value = core.rpartition(":")
    if colon and _PLAIN_WORD.fullmatch(key) and ("0" in value or value in _VALUE_WORDS):
        return f"{opening}{key}:{WILDCARD}{closing}"
    if _is_variable(core) and not (core[0] in _NAME_STARTS and not core.islower() and names_failure(core, closing)):
        return _wrap(opening, closing)
    return token


def _mask_assignment(token: str, opening: str, core: str, closing: str, equals: int) -> str:
    """Mask the value of ``key=value``, keeping the key, what names a failure and the punctuation."""
    key = core[: equals + 1]
    value = core[equals + 1 :]
    if not value or key[:-1] in SQLSTATE_WORDS:
        return token  # nothing to mask, or a SQLSTATE code (sqlstate=08006)
    quote = value[0]
    if quote in "\"'":
        close = value.find(quote, 1)
        if close < 0:  # a quoted phrase that goes on in the next tokens: host='a b'
            word = value[1:].rstrip(_CLOSERS)
            if not word or _PLAIN_WORD.fullmatch(word) or not _is_variable(word):
                return token
            return f"{opening}{key}{quote}{WILDCARD}{value[1 + len(word) :]}{closing}"
        if names_failure(value[1:close]):
            return token
        return f"{opening}{key}{WILDCARD}{value[close + 1 :]}{closing}"  # masked whole, quotes included
    bare = value.rstrip(_CLOSERS)
    if not bare:
        return token
    if bare not in _VALUE_WORDS and (_PLAIN_WORD.fullmatch(bare) or names_failure(bare)):
        return token  # a plain word may be the event itself: the sibling rule decides
    return f"{opening}{key}{WILDCARD}{value[len(bare) :]}{closing}"


def _wrap(opening: str, closing: str) -> str:
    """A wildcard inside the token's own brackets; a bare wildcard for a bracketed value."""
    masked = f"{opening}{WILDCARD}{closing}"
    return WILDCARD if masked in _EMPTY_GROUPS else masked


def _absorb_units(tokens: list[str]) -> list[str]:
    """Fold a unit word into the number before it: ``<*> bytes`` and ``(<*> KB)`` are one value."""
    out: list[str] = []
    for token in tokens:
        if token in _UNIT_TOKENS and out and WILDCARD in out[-1]:
            out[-1] = WILDCARD
        else:
            out.append(token)
    return out


def _keep_sqlstate_codes(tokens: list[str], words: list[str]) -> None:
    """Keep the code after a SQLSTATE introducer: ``(SQLSTATE 08006)`` names the condition."""
    for index in range(len(tokens) - 1):
        if tokens[index] in SQLSTATE_INTRODUCERS and is_sqlstate_code(tokens[index + 1].strip(_CODE_PUNCT)):
            words[index + 1] = tokens[index + 1]


def _restore_digits(tokens: list[str], words: list[str], message: str) -> list[str]:
    """``words`` with the message's digits put back into the tokens kept whole.

    Folding units and wildcards drops only tokens holding a wildcard or a unit, so the tokens
    kept whole appear in ``words`` in the order they have in ``tokens``.
    """
    originals: list[str] | None = None
    restored = list(words)
    position = 0
    for index, word in enumerate(words):
        if "0" not in word or WILDCARD in word:
            continue
        found = tokens.index(word, position)
        if originals is None:
            originals = normalise_message(message).split()
        restored[index] = originals[found]
        position = found + 1
    return restored


def keeps_digits(key: str) -> bool:
    """Whether a masked key holds digits, as a token kept whole (or a key such as ``ipv0=``) does.

    Such a key may depend on the message's digits, not only on its digit-normalised shape, so
    the miner does not file it under the shape. Rare (39 of Loghub's 32,000 lines).
    """
    return _ANY_DIGIT.search(key) is not None


def normalise_message(message: str) -> str:
    """Reduce a message to the text that decides its shape (see the module docstring)."""
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[:MAX_MESSAGE_CHARS]
    if "\n" not in message:
        return message
    lines = [line for line in message.splitlines() if line.strip()]
    if not lines:
        return ""
    first = lines[0].strip()
    if any(line.startswith("Traceback (most recent call last)") for line in lines):
        final = next((line for line in reversed(lines) if not line[0].isspace()), "")
        return f"{first}{TRACE_JOINER}{final.strip()}" if final.strip() != first else first
    causes = [line.strip() for line in lines if line.lstrip().startswith("Caused by:")]
    return f"{first}{TRACE_JOINER}{causes[-1]}" if causes else first


def mask_message(message: str) -> str:
    """The masked key of a message: its tokens with variable parts as ``<*>``, space-joined."""
    return Masker().mask(message)


def trim_cache(cache: dict[str, _T], size: int) -> None:
    """Drop the oldest entries of an insertion-ordered cache that reached ``size``."""
    for key in list(islice(cache, max(1, int(size * EVICT_FRACTION)))):
        del cache[key]


class Masker:
    """Masks messages, remembering how each (digit-normalised) token was classified."""

    __slots__ = ("_known",)

    def __init__(self) -> None:
        self._known: dict[str, str] = {}

    def mask(self, message: str) -> str:
        """The masked key of a message (see `mask_message`)."""
        return self.mask_shape(self.shape(message), message)[0]

    @staticmethod
    def shape(message: str) -> str:
        """The normalised message with every digit run as ``0``: many lines share one shape."""
        if "\n" in message or len(message) > MAX_MESSAGE_CHARS:
            message = normalise_message(message)
        return _DIGITS.sub("0", message)

    def mask_shape(self, shape: str, message: str) -> tuple[str, list[str]]:
        """The masked key of ``message``, whose shape is ``shape``, and its tokens.

        A token kept whole (a class name such as ``psycopg2.OperationalError:``, a SQLSTATE
        code) is written with the message's own digits, so only such a key holds a digit: see
        `keeps_digits`.
        """
        tokens = shape.split()
        known = self._known
        masked = list(map(known.get, tokens))
        if None in masked:
            for index, value in enumerate(masked):
                if value is None:
                    masked[index] = self._classify(tokens[index])
        words: list[str] = masked  # type: ignore[assignment]  # no None left
        if not SQLSTATE_INTRODUCERS.isdisjoint(tokens):
            _keep_sqlstate_codes(tokens, words)
        if not _UNIT_TOKENS.isdisjoint(words):
            words = _absorb_units(words)
        key = " ".join(words)
        if "<*> <*>" in key:
            words = [w for i, w in enumerate(words) if w != WILDCARD or i == 0 or words[i - 1] != WILDCARD]
            key = " ".join(words)
        if "0" in key:  # a token kept whole held digits: write them as the message does
            words = _restore_digits(tokens, words, message)
            key = " ".join(words)
        return key, words

    def _classify(self, token: str) -> str:
        masked = _mask_token(token)
        if len(token) <= _TOKEN_CACHE_MAX_CHARS:
            if len(self._known) >= _TOKEN_CACHE_SIZE:
                trim_cache(self._known, _TOKEN_CACHE_SIZE)
            self._known[token] = masked
        return masked
