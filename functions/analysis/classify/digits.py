"""When a message's digits cannot change its verdict: the proof behind the classifier's fold cache.

Error spikes repeat one line with other numbers (ids, ports, durations, line numbers), so the
classifier's exact-message cache misses on many of them. The **fold** of a message writes every
ASCII digit ``0`` (lengths kept, so a position means the same in every message of a fold). Two
messages of one fold get the same verdict whenever no regex the verdict consults can tell one digit
from another, and this module decides that from the regexes themselves:

* An atom (a character, a class, ``.``) that accepts all ten digits or none cannot tell two messages
  of a fold apart (``\\d``, ``\\w``, ``\\S``, ``.``, ``[0-9a-f]``, ``[a-z]``); the others are
  **sensitive** (``5``, ``[1-9]``, ``[45]``). A backreference compares text: no fold cache at all.
* A regex none of whose matches has a sensitive atom take a digit runs the same way on every message
  of the fold: same matches, spans and groups but for the digits in them. `DigitGuard` compiles, over
  every regex, one RE2 pattern for every match in which a sensitive atom takes a digit, searched in
  the *folded* message (where ``0`` stands for any digit): its atoms accept what the regex's do on
  ASCII text, sensitive ones ``0`` as well; lookaround contents are searched on their own and
  anchors other than word boundaries are dropped, so it covers every line, stripped line or name
  the verdict cuts out of the message (cut only between a word and a non-word character, so word
  boundaries hold). When it finds nothing, no regex can tell the messages of the fold apart.

So when the guard is silent on an ASCII message, every regex consulted (signature patterns, their
entity patterns, the cues' patterns) behaves the same on every message of its fold, and so does the
verdict's control flow, which reads match results, spans, the shape of the text (lines, lengths,
prefixes) and group values that are fixed words. What may differ are strings copied out of the
message: the classifier keeps a signature's verdict per fold only when it copied no entity from the
text (else it re-runs that signature on each message for its entities), and a cue's verdict only when
`other_member`, whose every digit differs, gets the same one (functions/analysis/classify/classifier.py).

Nothing here is needed for a correct verdict: a regex this module cannot read (an unknown construct,
a backreference, a pattern RE2 cannot hold) leaves the fold cache empty, and the classifier exact.
Digits only: hex ids fold too, but a guard over hex letters fires on nearly every line (letter
literals are everywhere in the signatures), so it would cost more than it saves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from re import _constants as sre  # the parser's node kinds: read-only use of the stdlib's own parse tree
from re import _parser as sre_parse

import re2

GUARD_MAX_MEM = 64 << 20
MAX_PATH_CHARS = 20_000  # a sequence's path alternatives beyond this size fall back to its wide form

_FOLD = str.maketrans("123456789", "000000000")
_DIGIT_CODES = frozenset(ord(d) for d in "0123456789")
_ZERO = ord("0")
_ASCII = range(128)
_FLAG_MASK = re.IGNORECASE | re.ASCII | re.LOCALE | re.UNICODE | re.DOTALL
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
_ATOMS = (sre.LITERAL, sre.NOT_LITERAL, sre.ANY, sre.IN)
_RE2_MAX_REPEAT = 1000
_BOUNDARIES = {sre.AT_BOUNDARY: "\\b", sre.AT_NON_BOUNDARY: "\\B"}
# Characters written as themselves in the guard's source, in and out of classes; the rest are escaped.
_PLAIN = frozenset(ord(c) for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _,;:'\"=<>/@%~`!&")


def fold(text: str) -> str:
    """`text` with every ASCII digit written ``0``: messages that differ only in digits share a fold."""
    return text.translate(_FOLD)


def other_member(message: str) -> str:
    """A message of the same fold whose every digit differs from `message`'s: a string that quotes a
    digit of one of them differs between the two."""
    return message.translate(_OTHER)


_OTHER = str.maketrans("0123456789", "1000000000")


class Unreadable(Exception):
    """A regex construct this module does not reason about: no fold cache."""


def _char(code: int) -> str:
    return chr(code) if code in _PLAIN else f"\\x{{{code:02x}}}"


def _char_class(codes: frozenset[int]) -> str:
    if not codes:
        return "[^\\x00-\\x{10FFFF}]"  # accepts nothing
    if len(codes) == 1:
        return _char(next(iter(codes)))
    ordered = sorted(codes)
    parts: list[str] = []
    start = prev = ordered[0]
    for code in [*ordered[1:], -1]:
        if code == prev + 1:
            prev = code
            continue
        parts.append(_char(start) if start == prev else f"{_char(start)}-{_char(prev)}")
        start = prev = code
    return "[" + "".join(parts) + "]"


class _Walk:
    """Builds the guard's RE2 source for one parsed regex (see the module docstring)."""

    def __init__(self, state: sre_parse.State, members: dict[tuple[object, ...], frozenset[int]]) -> None:
        self._state = state
        self.extras: list[str] = []  # sensitive lookaround contents: searched on their own
        self._members = members

    def members(self, op: object, av: object, flags: int) -> frozenset[int]:
        """The ASCII characters one atom accepts under `flags`, asked of Python's own engine."""
        if op is sre.LITERAL and isinstance(av, int) and av < 128 and not (flags & re.IGNORECASE):
            return frozenset((av,))
        key = (op, repr(av), flags & _FLAG_MASK)
        found = self._members.get(key)
        if found is None:
            sub = sre_parse.SubPattern(self._state, [(op, av)])  # type: ignore[arg-type]
            compiled = re._compiler.compile(sub, flags & _FLAG_MASK)  # type: ignore[attr-defined]
            found = frozenset(c for c in _ASCII if compiled.fullmatch(chr(c)))
            self._members[key] = found
        return found

    def node(self, op: object, av: object, flags: int) -> tuple[str, str | None]:
        """(wide, path): what the node may consume in a folded message, and what it may consume
        there when one of its sensitive atoms takes a digit (None: it has none)."""
        if op in _ATOMS:
            accepted = self.members(op, av, flags)
            digits = accepted & _DIGIT_CODES
            if digits and digits != _DIGIT_CODES:
                return _char_class(accepted | {_ZERO}), "0"  # in the folded text, 0 is any digit
            return _char_class(accepted), None
        if op is sre.AT:
            return _BOUNDARIES.get(av, ""), None  # type: ignore[call-overload]
        if op is sre.BRANCH:
            walked = [self.seq(branch, flags) for branch in av[1]]  # type: ignore[index]
            wide = "(?:" + "|".join(w for w, _ in walked) + ")"
            paths = [p for _, p in walked if p is not None]
            return wide, ("(?:" + "|".join(paths) + ")" if paths else None)
        if op is sre.SUBPATTERN:
            _group, add, remove, inner = av  # type: ignore[misc]
            wide, path = self.seq(inner, (flags | add) & ~remove)
            return f"(?:{wide})", (f"(?:{path})" if path is not None else None)
        if op is sre.ATOMIC_GROUP:
            wide, path = self.seq(av, flags)  # type: ignore[arg-type]
            return f"(?:{wide})", (f"(?:{path})" if path is not None else None)
        if op in _REPEATS:
            low, high, inner = av  # type: ignore[misc]
            wide, path = self.seq(inner, flags)
            if high == 0:
                return "", None
            if high == sre.MAXREPEAT or high > _RE2_MAX_REPEAT or low > _RE2_MAX_REPEAT:
                counted = f"(?:{wide})*" if low == 0 or low > _RE2_MAX_REPEAT else f"(?:{wide}){{{low},}}"
            else:
                counted = f"(?:{wide}){{{low},{high}}}"
            return counted, (f"(?:{wide})*(?:{path})(?:{wide})*" if path is not None else None)
        if op in (sre.ASSERT, sre.ASSERT_NOT):
            _direction, inner = av  # type: ignore[misc]
            _wide, path = self.seq(inner, flags)
            if path is not None:
                self.extras.append(path)
            return "", None
        if op is sre.GROUPREF_EXISTS:
            _group, yes, no = av  # type: ignore[misc]
            yes_wide, yes_path = self.seq(yes, flags)
            no_wide, no_path = self.seq(no, flags) if no is not None else ("", None)
            paths = [p for p in (yes_path, no_path) if p is not None]
            return f"(?:{yes_wide}|{no_wide})", ("(?:" + "|".join(paths) + ")" if paths else None)
        raise Unreadable(str(op))  # a backreference compares text; anything else is unknown here

    def seq(self, sub: sre_parse.SubPattern, flags: int) -> tuple[str, str | None]:
        """A sequence: its wide form, and the alternatives in which one of its parts takes a digit (the
        others as wide); past MAX_PATH_CHARS, its wide form (looser, still covering)."""
        walked = [self.node(op, av, flags) for op, av in sub.data]
        wides = [w for w, _ in walked]
        wide = "".join(wides)
        sensitive = [i for i, (_, p) in enumerate(walked) if p is not None]
        if not sensitive:
            return wide, None
        if len(sensitive) * len(wide) > MAX_PATH_CHARS:
            return wide, wide
        paths = ["".join(wides[:i]) + f"(?:{walked[i][1]})" + "".join(wides[i + 1 :]) for i in sensitive]
        return wide, "|".join(paths) if len(paths) == 1 else "(?:" + "|".join(paths) + ")"


def _pattern_and_flags(regex: object) -> tuple[str, int]:
    if isinstance(regex, re.Pattern):
        return regex.pattern, regex.flags
    pattern = getattr(regex, "pattern", None)  # an re2 regex: its syntax is Python's for what we use
    if not isinstance(pattern, str):
        raise Unreadable(type(regex).__name__)
    return pattern, 0


def sensitive_paths(regex: object, members: dict[tuple[object, ...], frozenset[int]] | None = None) -> list[str]:
    """RE2 sources covering every match of `regex` in which a sensitive atom takes a digit ([]: none can)."""
    pattern, flags = _pattern_and_flags(regex)
    try:
        parsed = sre_parse.parse(pattern, flags)
    except re.error as exc:
        raise Unreadable(str(exc)) from None
    walk = _Walk(parsed.state, {} if members is None else members)
    _wide, path = walk.seq(parsed, parsed.state.flags)
    return ([path] if path is not None else []) + walk.extras


def module_regexes(module: object) -> list[object]:
    """The compiled regexes a module keeps at its top level, in tuples and lists included (its tables)."""
    found: list[object] = []

    def visit(value: object) -> None:
        if isinstance(value, re.Pattern) or type(value).__module__ == "re2":
            found.append(value)
        elif isinstance(value, (tuple, list)):
            for item in value:
                visit(item)

    for value in vars(module).values():
        visit(value)
    return found


class DigitGuard:
    """`fold_key(message)`: the message's fold when every message of that fold gets the same verdict
    but for strings copied from its digits (see the module docstring), else None."""

    __slots__ = ("_guard",)

    def __init__(self, guard: re2._Regexp | None) -> None:
        self._guard = guard

    @classmethod
    def build(cls, regexes: Iterable[object]) -> DigitGuard | None:
        """The guard over every regex a verdict consults; None when one of them cannot be read."""
        members: dict[tuple[object, ...], frozenset[int]] = {}
        try:
            paths = [path for regex in regexes for path in sensitive_paths(regex, members)]
        except (Unreadable, RecursionError):
            return None
        if not paths:
            return cls(None)
        options = re2.Options()
        options.max_mem = GUARD_MAX_MEM
        options.log_errors = False
        try:
            guard = re2.compile("|".join(f"(?:{p})" for p in paths), options)
        except re2.error:
            return None
        return cls(guard)

    @classmethod
    def never(cls) -> DigitGuard:
        """A guard that is never silent: the fold cache stays empty."""
        return cls(re2.compile(""))

    def fold_key(self, message: str) -> str | None:
        """The fold of an ASCII `message` whose digits cannot matter; None when they may (or when it
        has no digit to fold, or is not ASCII)."""
        if not message.isascii():
            return None
        folded = fold(message)
        if folded == message:
            return None  # nothing to fold: the exact message is the key
        if self._guard is not None and self._guard.search(folded) is not None:
            return None
        return folded
