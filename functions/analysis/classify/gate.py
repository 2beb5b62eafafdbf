"""One RE2 scan that says which of several Python regexes cannot match a text.

The cue stage tries a dozen Python regexes on each line no signature names, and most lines match
none of them; each try scans the line again. RE2 scans it once for all of them, in linear time.
A regex RE2 does not find is skipped; one it finds still runs in Python, which keeps deciding
(groups, lookarounds, backtracking priorities), so a verdict never depends on RE2.

A skip is exact only where both engines read the text alike. They do on ASCII text without the
control characters Python's ``\\s`` matches and RE2's does not (``\\v``, ``\\x1c``-``\\x1f``); on any
other text every regex runs. RE2 can also give up: a set too big for its memory budget is not
built, and a scan whose DFA runs out of memory is told by an empty sentinel pattern (it matches
every text); either way every regex runs. Gated patterns must mean
the same in both engines: no ``$`` (Python's also matches before a final newline), no lookarounds
(RE2 rejects them when the gate is built), flags written inline (``(?m)``, ``(?i)``).
"""

from __future__ import annotations

from collections.abc import Sequence

import re2

_MAX_MEM_BYTES = 8 << 20
_DISAGREE = r"[\x0b\x1c-\x1f]"  # whitespace to Python's \s, not to RE2's


class Gate:
    """`possible(text)`: the indices of `patterns` that may match `text` (all of them when unsure)."""

    __slots__ = ("_all", "_disagree", "_last", "_sentinel", "_set")

    def __init__(self, patterns: Sequence[str], *, max_mem_bytes: int = _MAX_MEM_BYTES) -> None:
        options = re2.Options()
        options.max_mem = max_mem_bytes
        options.log_errors = False
        rset = re2.Set.SearchSet(options)
        for pattern in patterns:
            rset.Add(pattern)  # re2.error here: a pattern RE2 cannot read has no place in a gate
        self._disagree = rset.Add(_DISAGREE)
        self._sentinel = rset.Add("")
        self._set: re2.Set | None = rset
        try:
            rset.Compile()
        except re2.error:
            self._set = None  # over the memory budget: no gate, every regex runs
        self._all = tuple(range(len(patterns)))
        self._last: tuple[str | None, tuple[int, ...]] = (None, ())

    def possible(self, text: str) -> tuple[int, ...]:
        """Ascending indices of the patterns that may match; the last text's answer is remembered
        (the cue stage asks twice about the same line)."""
        last = self._last
        if last[0] is text:
            return last[1]
        if self._set is None or not text.isascii():
            found = self._all
        else:
            hits = self._set.Match(text)
            if self._sentinel not in hits or self._disagree in hits:
                found = self._all
            else:
                found = tuple(sorted(h for h in hits if h != self._sentinel))
        self._last = (text, found)
        return found
