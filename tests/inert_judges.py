"""Judges of what Slack and GitHub would make live in a text, independent of the escaping code.

Slack: its control sequences all start with `<` (`<!channel>`, `<!here>`, `<@U…>`, `<#C…>`,
`<!subteam^…>`, `<https://…|label>`, `<mailto:…>`), so every `<` in a payload must begin one of
the links we wrote on purpose; every mrkdwn text object must be `verbatim` (else Slack auto-links
bare URLs and #channel names).

GitHub: the text is parsed by markdown-it-py as CommonMark plus GFM (tables, strikethrough, raw
HTML, and GFM's extended autolinks through linkify-it: URLs with a scheme, `mailto:`/`xmpp:` and
e-mail addresses; fuzzy links without a scheme are off, as in GFM, and `www.` hosts, which GFM does
link, are judged separately). Live are: a link or image token, any HTML token that is not ours, and
in the text GitHub's own post-processing reads (text tokens, not code) a mention `@name`, a
reference `#123` / `GH-123`, or a `www.` autolink. The patterns are stricter than GitHub's.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

_MENTION = re.compile(r"@[A-Za-z0-9]")
_REFERENCE = re.compile(r"#\d|\bGH-\d", re.IGNORECASE)
_WWW = re.compile(r"(?:^|[\s*_~(])www\.", re.IGNORECASE)
OUR_HTML = frozenset({"<sub>", "</sub>"})
OUR_HTML_BLOCK = re.compile(r"^<!-- sitrep:(?:key=\S+|ledger [A-Za-z0-9_\-]*) -->\n?$")


def strings_in(value: Any) -> Iterator[str]:
    """Every string anywhere inside a JSON-like value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)


def _text_objects(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if value.get("type") in ("mrkdwn", "plain_text") and isinstance(value.get("text"), str):
            yield value
        for item in value.values():
            yield from _text_objects(item)
    elif isinstance(value, list):
        for item in value:
            yield from _text_objects(item)


def slack_live(payload: Any, our_urls: Iterable[str] = (), *, our_prefixes: Iterable[str] = ()) -> list[str]:
    """What Slack would act on in `payload` (a message, reply or block list) besides links to `our_urls`
    (or to URLs starting with one of `our_prefixes`)."""
    allowed = tuple("<" + url.replace("&", "&amp;") + "|" for url in our_urls) + tuple(
        "<" + prefix for prefix in our_prefixes
    )
    found = []
    for text in strings_in(payload):
        # Stricter than `<!`, `<@`, `<#`, `<http`: any `<` that does not open one of our links.
        found += [text[m.start() : m.start() + 40] for m in re.finditer("<", text)
                  if not (allowed and text.startswith(allowed, m.start()))]  # fmt: skip
    found += [f"not verbatim: {o['text'][:40]}" for o in _text_objects(payload)
              if o["type"] == "mrkdwn" and o.get("verbatim") is not True]  # fmt: skip
    return found


def gfm() -> MarkdownIt:
    """CommonMark + GFM as GitHub renders issues: raw HTML on, tables, strikethrough, extended autolinks."""
    md = MarkdownIt("gfm-like", {"linkify": True, "html": True})
    md.linkify.set({"fuzzy_link": False, "fuzzy_email": True})
    md.linkify.add("//", None)  # GFM has no protocol-relative autolinks
    md.linkify.add("xmpp:", "mailto:")
    return md


_MD = gfm()


def _flat(tokens: Iterable[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        if token.children:
            yield from _flat(token.children)


def github_live(markdown: str, our_urls: Iterable[str] = (), *, our_prefixes: Iterable[str] = ()) -> list[str]:
    """Links, images, HTML, mentions and references GitHub would render from `markdown`, besides links to
    `our_urls` (or to URLs starting with one of `our_prefixes`)."""
    allowed, prefixes = set(our_urls), tuple(our_prefixes)
    found = []
    tokens = _MD.parse(markdown)
    for token in _flat(tokens):
        href = str(token.attrGet("href") or "")
        if token.type == "link_open" and href not in allowed and not (prefixes and href.startswith(prefixes)):
            found.append(f"link {token.attrGet('href')}")
        elif token.type == "image":
            found.append(f"image {token.attrGet('src')}")
        elif token.type == "html_inline" and token.content not in OUR_HTML:
            found.append(f"html {token.content}")
        elif token.type == "html_block" and not OUR_HTML_BLOCK.match(token.content):
            found.append(f"html block {token.content[:60]}")
    for token in tokens:
        if token.type != "inline":
            continue
        run = ""  # adjacent text tokens read as one string, as GitHub's filters read a text node
        for child in [*(token.children or []), None]:
            if child is not None and child.type == "text":
                run += child.content
                continue
            found += [f"mention {m.group(0)} in {run[:60]!r}" for m in _MENTION.finditer(run)]
            found += [f"reference {m.group(0)} in {run[:60]!r}" for m in _REFERENCE.finditer(run)]
            found += [f"www autolink in {run[:60]!r}" for _ in _WWW.finditer(run)]
            run = ""
    return found


def title_live(title: str) -> list[str]:
    """References and mentions GitHub may link in an issue title (plain text)."""
    return [m.group(0) for m in (*_MENTION.finditer(title), *_REFERENCE.finditer(title))]


def invisible(text: str, *, keep: str = "\n") -> list[str]:
    """Control and format characters (bidi, zero-width, ESC…) in `text`, other than those in `keep`."""
    return [f"U+{ord(c):04X}" for c in text if unicodedata.category(c) in ("Cc", "Cf", "Cs") and c not in keep]


def block_shape(markdown: str) -> list[str]:
    """The block structure of a document: headings, lists, quotes, tables, fences, rules (not their text)."""
    return [t.type for t in _MD.parse(markdown) if t.type.endswith("_open") or t.type in ("fence", "hr", "code_block")]


def payload_text(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False)
