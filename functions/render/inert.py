"""Inert text: one escaping boundary per surface, made a type (as MarkupSafe's `Markup` is to `str`).

Log and alert text is attacker-controlled: anyone can make a service log a request path or a header.
What each surface may be sent is its own type, a `str` subclass whose value is safe *for that surface*:

    Mrkdwn        Slack mrkdwn: card sections and contexts, thread replies, ephemeral and `/sitrep status` replies
    SlackPlain    Slack plain_text: the card's header
    Markdown      GitHub Flavored Markdown: the issue body and its comments
    PlainTitle    a GitHub issue title
    TerminalText  what the command line prints

The rule. A value of one of these types is made in one of three ways, and no other:

1. `T.escape(text)` (aliases: `mrkdwn`, `slack_plain`, `md_text`, `plain_title`, `terminal`) on any str;
2. `T("...").format(*values)` on a template of ours: every value that is not already a T is escaped by
   `T.escape`, numbers are formatted as numbers (MarkupSafe's `Markup.format`, same idea);
3. `T("...")` on a string literal: our own fixed text.

The renderers in functions/render/ (the escaping boundary itself) also assemble a T from pieces made by
1-3 and seal it; tests/test_inert_text.py judges what they produce with a CommonMark + GFM parser and
Slack's syntax, for any text. Everything downstream (the ports, delivery, the Slack and GitHub adapters,
the Slack action replies) accepts only these types, so mypy strict rejects a raw log string there, and a
test checks that outside functions/render/ a T is built from a literal only.

Every escaper first drops invisible and control characters (`strip_invisible`): C0/C1 controls (ESC
starts terminal sequences), bidi embeddings, overrides, isolates and marks (U+202A-202E, U+2066-2069,
U+200E/F, U+061C), zero-width space and joiners (U+200B-200D), the word joiner and invisible operators
(U+2060-2064), the BOM (U+FEFF), tag characters and the other Unicode format characters, and lone
surrogates (which cannot even be encoded as UTF-8). They make text read differently from what it is.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from typing import Any, Self

ELLIPSIS = "…"
# No renderer shows more of one item than this; a 100 KB message costs no more than a short one.
ONE_LINE_SCAN_CHARS = 16_000

# Unicode categories Cc (but \t, \n, \r, which callers turn into spaces or lines) and Cf, as of Unicode 15,
# plus surrogates. tests/test_inert_text.py checks it against this Python's unicodedata.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f\ud800-\udfff]"
)
_WHITESPACE_RUN = re.compile(r"\s+")
_LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029\x85]")


def strip_invisible(text: str) -> str:
    """`text` without control, bidi, zero-width and other format characters (newlines and tabs kept)."""
    return _INVISIBLE.sub("", text)


def one_line(text: str) -> str:
    """One line: invisible characters dropped, newlines and whitespace runs collapsed to single spaces.

    Only the first ONE_LINE_SCAN_CHARS are read (then "…").
    """
    more = len(text) > ONE_LINE_SCAN_CHARS
    line = _WHITESPACE_RUN.sub(" ", strip_invisible(text[:ONE_LINE_SCAN_CHARS])).strip()
    return f"{line} {ELLIPSIS}" if more else line


def printable(text: str) -> str:
    """Keep line breaks (as \\n), drop every other control or invisible character: multi-line, never active."""
    return strip_invisible(_LINE_BREAKS.sub("\n", text).replace("\t", "    ")).strip("\n")


class _Inert(str):
    """Text safe for one surface; subclasses say how to escape a plain str for it."""

    __slots__ = ()

    @classmethod
    def escape(cls, text: str) -> Self:
        """`text` made safe for the surface (an instance of the class is returned as it is)."""
        if isinstance(text, cls):
            return text
        return cls(cls._escape(str(text)))

    @classmethod
    def _escape(cls, text: str) -> str:
        raise NotImplementedError

    def format(self, *args: object, **kwargs: object) -> Self:
        """This template (ours) filled in: values of this type as they are, numbers formatted, the rest escaped."""
        return type(self)(_EscapingFormatter(type(self)).vformat(self, args, kwargs))

    def join(self, parts: Iterable[str], /) -> Self:
        """The parts, each escaped unless already of this type, joined by this separator."""
        return type(self)(str.join(self, (type(self).escape(p) for p in parts)))


class _EscapingFormatter(string.Formatter):
    def __init__(self, kind: type[_Inert]) -> None:
        self.kind = kind

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, self.kind):
            return format(value, format_spec)
        if isinstance(value, int | float):  # digits, signs, separators: inert on every surface
            return format(value, format_spec)
        return self.kind.escape(format(str(value), format_spec))


# ---------------------------------------------------------------- Slack


_CODE_SAFE_BACKTICK = "ˋ"  # U+02CB looks like a backtick but cannot open or end a code span


class Mrkdwn(_Inert):
    """Slack mrkdwn that shows log text as written.

    Slack's own rule is to escape &, < and > as entities; with them escaped no `<!channel>`, `<@U…>`,
    `<#C…>`, `<!subteam^…>` or `<https://…|label>` can be written, since every one of those starts with
    `<`. Backticks become a look-alike so log text can neither open nor close a code span. Bare URLs,
    `#channel` and `@here` in plain text are left to Slack's own rules: every mrkdwn text object we send
    is `verbatim: true` (nothing is auto-linked or parsed as a mention) and messages go out with
    `parse: none`.
    """

    __slots__ = ()

    @classmethod
    def _escape(cls, text: str) -> str:
        line = one_line(text)
        return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("`", _CODE_SAFE_BACKTICK)


class SlackPlain(_Inert):
    """Slack plain_text: one visible line in which no `<…>` control sequence can even be written.

    Slack documents no markup in plain_text (only `:emoji:` names), but whether it decodes entities
    there is not documented either; `<` and `>` become the look-alikes ‹ and ›, which need neither.
    """

    __slots__ = ()

    @classmethod
    def _escape(cls, text: str) -> str:
        return one_line(text).replace("<", "‹").replace(">", "›")


# ---------------------------------------------------------------- GitHub


# Words GitHub could turn into a link, a mention or a cross-reference: URLs of any scheme and `www.`
# hosts (GFM's extended autolinks), anything with an `@` (@user, @org/team, emails, owner/repo@sha),
# anything with a `#` (#123, owner/repo#1), GH-123, and `mailto:` / `xmpp:` (GFM protocol autolinks).
# Matched within one whitespace-separated word at a time, so the cost stays linear in the text's length.
_HAZARD = re.compile(r"://|@|#|(?<![^\W_])www\.|\bgh-\d|\b(?:mailto|xmpp):", re.IGNORECASE)
_SPACES = re.compile(r"(\s+)")
# Characters CommonMark or GFM give a meaning inside a line: code, emphasis, links and images, tables,
# strikethrough, hard breaks, backslash escapes. `<`, `>` and `&` become entities (HTML, autolinks,
# entity references).
_MD_PUNCT = re.compile(r"([\\`*_\[\]~|])")
_LINE_START = re.compile(r"^([#>+=-])")
_LIST_NUMBER = re.compile(r"^(\d+)([.)])")
_BACKTICKS = re.compile(r"`+")


def md_code_span(text: str) -> str:
    """An inline code span of one line whose fence is longer than any backtick run inside (CommonMark §6.1).

    Nothing is interpreted inside a code span: no HTML, entity, emphasis or link, and GitHub's mention
    and reference filters skip `<code>`. It is the one construct that shows any text as it is.
    """
    body = one_line(text)
    if not body:
        return ""
    longest = max((len(m) for m in _BACKTICKS.findall(body)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if longest or body.startswith(" ") or body.endswith(" ") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def _md_prose(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_PUNCT.sub(r"\\\1", text)


class Markdown(_Inert):
    """GitHub Flavored Markdown; `Markdown.escape` shows one line of log text as inert inline text.

    Two techniques, each chosen because it does not depend on knowing GitHub's every rule:
    - a word that GitHub could turn into a link, mention or reference (see `_HAZARD`) becomes a
      code span, where neither the Markdown parser nor GitHub's filters look (an HTML entity such as
      `&#64;` would not do: it is decoded before GitHub's mention filter runs on the text);
    - every other character with an inline meaning is backslash-escaped, <, > and & become entities
      (no HTML, no `<https://…>` autolink, no entity reference), and a block marker at the start of
      the line (#, >, -, +, =, "1.") is escaped, so the text cannot start a heading, quote or list.
    `|` is escaped and never inside a code span of ours, so the text can sit in a table cell too.
    """

    __slots__ = ()

    @classmethod
    def _escape(cls, text: str) -> str:
        out: list[str] = []
        for word in _SPACES.split(one_line(text)):
            if not _HAZARD.search(word):
                out.append(_md_prose(word))
                continue
            for i, piece in enumerate(word.split("|")):  # a `|` must stay escaped for tables
                out.append(("\\|" if i else "") + md_code_span(piece))
        joined = "".join(out)
        return _LIST_NUMBER.sub(r"\1\\\2", _LINE_START.sub(r"\\\1", joined))


class PlainTitle(_Inert):
    """A GitHub issue title: plain text, but GitHub still links `#123` / `GH-5` and `@name` in some views.

    `#`, `@` and the hyphen of GH-5 before a word character become their full-width or Unicode-hyphen
    look-alikes (＃, ＠, ‐), which no reference or mention pattern matches and every reader still reads.
    """

    __slots__ = ()

    @classmethod
    def _escape(cls, text: str) -> str:
        line = _TITLE_HASH.sub("＃", one_line(text))
        line = _TITLE_AT.sub("＠", line)
        return _TITLE_GH.sub("\\1\u2010", line)


_TITLE_HASH = re.compile(r"#(?=\w)")
_TITLE_AT = re.compile(r"@(?=\w)")
_TITLE_GH = re.compile(r"\b(gh)-(?=\d)", re.IGNORECASE)


class TerminalText(_Inert):
    """What the command line prints: no control character, so no escape sequence can reach the terminal."""

    __slots__ = ()

    @classmethod
    def _escape(cls, text: str) -> str:
        return one_line(text)


mrkdwn = Mrkdwn.escape
slack_plain = SlackPlain.escape
md_text = Markdown.escape
plain_title = PlainTitle.escape
terminal = TerminalText.escape

__all__ = [
    "ELLIPSIS",
    "Markdown",
    "Mrkdwn",
    "PlainTitle",
    "SlackPlain",
    "TerminalText",
    "md_code_span",
    "md_text",
    "mrkdwn",
    "one_line",
    "plain_title",
    "printable",
    "slack_plain",
    "strip_invisible",
    "terminal",
]
