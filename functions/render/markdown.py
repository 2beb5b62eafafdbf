"""GitHub Markdown renderer: the full report for the tracking issue, and the short update comment.

Log-derived text is escaped by `functions.render.inert.md_text` so it stays text: HTML and
Markdown punctuation are neutralised, words GitHub could make a link, mention or cross-reference
(`@user`, `@org/team`, `#123`, `owner/repo#1`, `GH-5`, URLs, `www.` hosts) are shown as code spans,
table cells cannot be split by a `|` or a newline, and fenced excerpts use a fence longer than any
backtick run inside them. The results are typed (`Markdown`, `PlainTitle`, see inert.py): the report
is assembled here only from escaped pieces and our own literals.

Size: GitHub rejects bodies over 65,536 characters. Every item has its own cap, then whole
sections give up items, lowest priority first, each with a visible "… and N more", until the
body fits `max_chars`, whatever the card's size.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from functions.card.changes import Change
from functions.core.model import Card, Category, IncidentStatus, Priority, RootCause, Severity
from functions.render.inert import (
    ELLIPSIS,
    Markdown,
    PlainTitle,
    md_code_span,
    md_text,
    one_line,
    plain_title,
    printable,
)
from functions.render.text import (
    HEALTH_EMOJI,
    and_more,
    by_priority,
    change_line,
    clip,
    health_numbers,
    hhmm,
    root_title,
)

# GitHub's REST API reference: issue and comment bodies over 65,536 characters get 422 "body is too long".
GITHUB_BODY_MAX_CHARS = 65_536
# GitHub's REST API reference advises capping at ~60k: room for the ledger marker the delivery adds.
DEFAULT_MAX_CHARS = 60_000
UPDATE_MAX_CHARS = 4_000

# Per-item caps (characters of source text) so that no single item can starve the others.
MD_MAX_HEADLINE = 300
MD_MAX_SUMMARY = 3_000
MD_MAX_CELL = 300
MD_MAX_TEMPLATE = 400
MD_MAX_CHAIN_STEP = 600
MD_MAX_CHAIN_STEPS = 10
MD_MAX_EVIDENCE = 2_000
MD_MAX_ACTION = 1_000
MD_MAX_NOTE = 1_000
MD_MAX_CHANGE = 1_000
MD_MAX_URL = 4_000
MD_MAX_CAPTION = 300
MD_MAX_UPDATE_DETAIL = 300
# Rows shown before the size budget is even considered.
MD_MAX_RECURRING_ROWS = 200
MD_MAX_EXCERPTS = 10
MD_MAX_ALERTS = 50
MD_MAX_LINKS = 30
MD_MAX_NOTES = 30

SEVERITY_EMOJI = {Severity.CRITICAL: "🔴", Severity.ERROR: "🟠", Severity.WARNING: "🟡", Severity.INFO: "🔵"}
PRIORITY_LABEL = {Priority.P0: "P0 — now", Priority.P1: "P1 — next", Priority.P2: "P2 — later"}
_TRUNCATED = f"\n\n_{ELLIPSIS} report truncated to fit GitHub's size limit_\n"

_CODE_SPAN = re.compile(r"(`[^`]+`)")
_BACKTICKS = re.compile(r"`+")


# ---------------------------------------------------------------- escaping


def md_inline(text: str, *, table: bool = False) -> Markdown:
    """Like `md_text`, but `code spans` the card wrote on purpose (commands in actions) stay code."""
    parts = _CODE_SPAN.split(one_line(text))
    out = [md_code(part[1:-1], table=table) if i % 2 else _md_words(part) for i, part in enumerate(parts)]
    return Markdown("".join(out))


def _md_words(text: str) -> str:
    """`md_text`, keeping the space that separates the text from a code span before or after it."""
    lead = " " if text.startswith(" ") else ""
    trail = " " if text.endswith(" ") and text.strip() else ""
    return lead + md_text(text) + trail


def md_code(text: str, *, table: bool = False) -> Markdown:
    """An inline code span whose fence is longer than any backtick run inside (CommonMark §6.1)."""
    body = one_line(text)
    if table:
        body = body.replace("|", "\\|")  # GFM unescapes \| inside code spans in table cells
    return Markdown(md_code_span(body))


def md_cell(text: str, limit: int = MD_MAX_CELL) -> Markdown:
    """Log-derived text for a table cell: one line, pipes escaped (md_text escapes `|`), capped."""
    return md_text(clip(one_line(text), limit))


def md_fence(text: str, limit: int = MD_MAX_EVIDENCE, lang: str = "text") -> Markdown:
    """A fenced block that nothing inside can close: the fence outgrows every backtick run."""
    body = printable(text[: limit + 1])
    if len(body) > limit:
        body = body[:limit].rstrip() + f"\n{ELLIPSIS} ({len(text) - limit:,} more characters)"
    longest = max((len(m) for m in _BACKTICKS.findall(body)), default=0)
    fence = "`" * max(3, longest + 1)
    return Markdown(f"{fence}{lang}\n{body}\n{fence}")


def md_link(label: str, url: str) -> str:
    """[label](url) for http(s) URLs; anything else, or an absurdly long URL, stays plain text."""
    text = md_text(clip(one_line(label), MD_MAX_CELL)) or "link"
    url = url.strip()
    if not url.lower().startswith(("https://", "http://")):
        return text
    if len(url) > MD_MAX_URL:
        return f"{text} (URL of {len(url):,} characters not shown)"
    safe = url.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")
    return f"[{text}]({safe})"


# ---------------------------------------------------------------- sections and the size budget


@dataclass
class _Section:
    """A titled run of items; it can give up items from the end, saying how many."""

    title: str
    items: list[str]
    noun: str
    cut_rank: int = -1  # lower is cut first; -1 never
    keep: int = 0
    header: str = ""  # a table header, shown only with at least one row
    intro: str = ""
    sep: str = "\n"
    total: int = -1  # items that exist (>= len(items) when a pre-cap already applied)

    def __post_init__(self) -> None:
        if self.total < 0:
            self.total = len(self.items)
        self.shown = len(self.items)

    def render(self, shown: int | None = None) -> str:
        k = self.shown if shown is None else shown
        parts = [self.title] if self.title else []
        if self.intro:
            parts.append(self.intro)
        body = self.sep.join(self.items[:k])
        if body:
            parts.append(f"{self.header}\n{body}" if self.header else body)
        if k < self.total:
            parts.append(f"_{and_more(self.total - k, self.noun)}_")
        return "\n\n".join(parts)


def _size(sections: Sequence[_Section]) -> int:
    rendered = [len(s.render()) for s in sections]
    return sum(rendered) + 2 * max(0, len(rendered) - 1)


def _fit(sections: list[_Section], budget: int) -> None:
    """Give up items, lowest-priority section first, until the document fits `budget`."""
    cuttable = sorted((s for s in sections if s.cut_rank >= 0), key=lambda s: s.cut_rank)
    for respect_keep in (True, False):
        for section in cuttable:
            total = _size(sections)
            if total <= budget:
                return
            others = total - len(section.render())
            floor = min(section.keep, section.shown) if respect_keep else 0
            low, high = floor, section.shown
            while low < high:  # the largest count that fits, by bisection
                mid = (low + high + 1) // 2
                if others + len(section.render(mid)) <= budget:
                    low = mid
                else:
                    high = mid - 1
            section.shown = low


def _assemble(sections: list[_Section], budget: int) -> str:
    _fit(sections, budget)
    kept = [s for s in sections if s.render()]
    for section in sorted((s for s in kept if s.cut_rank >= 0), key=lambda s: s.cut_rank):
        if _size(kept) <= budget:
            break
        kept.remove(section)  # only for absurdly small budgets: whole sections go
    body = "\n\n".join(s.render() for s in kept) + "\n"
    if len(body) > budget:
        body = body[: max(0, budget - len(_TRUNCATED))] + _TRUNCATED
        body = body[:budget]
    return body


# ---------------------------------------------------------------- the report


def _title(card: Card) -> str:
    emoji = "✅" if card.status is IncidentStatus.RESOLVED else SEVERITY_EMOJI[card.severity]
    summary = md_text(clip(one_line(card.summary), MD_MAX_SUMMARY))
    return (
        f"## {emoji} {md_text(clip(one_line(card.headline), MD_MAX_HEADLINE))}\n\n"
        f"**{md_text(clip(one_line(card.status_line), MD_MAX_CELL))}**" + (f"\n\n> {summary}" if summary else "")
    )


def _components(card: Card) -> _Section:
    rows = [
        f"| {md_cell(r.component)} | {r.count:,} | {md_cell(', '.join(r.services))} | {md_cell(r.primary_issue)} |"
        for r in card.components
    ]
    return _Section(
        "### Components",
        rows,
        "components",
        cut_rank=3,
        header="| component | errors | services | primary issue |\n|---|--:|---|---|",
    )


def _health(card: Card) -> _Section:
    resolved = card.status is IncidentStatus.RESOLVED
    rows = [
        f"| **{md_cell(h.service)}** | {HEALTH_EMOJI[h.status]} {h.status.value} | {md_cell(health_numbers(h))} "
        f"| {h.requests:,} | {h.error_ratio * 100:.0f}% | {h.failed_starts:,} |"
        for h in card.health
    ]
    title = "### Service health at last update" if resolved else "### Service health"
    header = "| service | status | deciding numbers | requests | 5xx | failed starts |\n|---|---|---|--:|--:|--:|"
    return _Section(title, rows, "services", cut_rank=7, keep=5, header=header)


def _chain(cause: RootCause) -> str:
    steps = cause.chain[:MD_MAX_CHAIN_STEPS]
    lines = [f"{i}. {md_text(clip(one_line(step), MD_MAX_CHAIN_STEP))}" for i, step in enumerate(steps, start=1)]
    if len(cause.chain) > len(steps):
        lines.append(f"{len(steps) + 1}. _{and_more(len(cause.chain) - len(steps), 'steps')}_")
    return "\n".join(lines)


def _root(index: int, cause: RootCause) -> str:
    meta = [md_code(cause.category.value), f"×{cause.count:,}", cause.severity.value]
    if cause.first_seen:
        meta.append(f"since {hhmm(cause.first_seen)} UTC")
    if cause.revision:
        previous = f" (previous {md_code(cause.previous_revision)})" if cause.previous_revision else ""
        meta.append(f"newest revision {md_code(cause.revision)}{previous}")
    parts = [f"#### {index}. {md_text(clip(one_line(root_title(cause)), MD_MAX_CELL))}", " · ".join(meta)]
    if cause.chain:
        parts.append("**Why** (symptom → cause):\n\n" + _chain(cause))
    if cause.evidence:
        parts.append("**Evidence** (redacted):\n\n" + md_fence(cause.evidence))
    return "\n\n".join(parts)


def _roots(card: Card) -> _Section:
    items = [_root(i, c) for i, c in enumerate(card.root_causes, start=1)]
    title = "### Root causes" if len(items) > 1 else "### Root cause"
    return _Section(title, items, "root causes", cut_rank=9, keep=1, sep="\n\n")


def _what_changed(card: Card) -> _Section:
    """Every change of the window, newest first; or the sentence saying none was found."""
    section = card.what_changed
    if section is None:
        return _Section("", [], "")
    items = [f"- {md_text(clip(change_line(c), MD_MAX_CHANGE))}" for c in section.changes]
    if not items:
        items = [f"- {md_text(clip(section.note, MD_MAX_NOTE))}"]
    return _Section("### What changed", items, "changes", cut_rank=5, keep=5)


def _contributing(card: Card) -> _Section:
    items = []
    for cause in card.contributing:
        line = f"- **{md_text(clip(one_line(root_title(cause)), MD_MAX_CELL))}** · {md_code(cause.category.value)}"
        line += f" · ×{cause.count:,}"
        if cause.chain:
            why = " → ".join(clip(one_line(step), MD_MAX_CHAIN_STEP) for step in cause.chain[:MD_MAX_CHAIN_STEPS])
            line += f" — why: {md_text(why)}"
        if cause.evidence:
            line += f" — evidence: {md_code(clip(one_line(cause.evidence), MD_MAX_CELL))}"
        items.append(line)
    return _Section("### Contributing factors", items, "contributing factors", cut_rank=5)


def _actions(card: Card) -> _Section:
    items = []
    current: Priority | None = None
    for _, priority, text in by_priority(card):
        line = f"- [ ] {md_inline(clip(one_line(text), MD_MAX_ACTION))}"
        if priority is not current:
            line = f"**{PRIORITY_LABEL[priority]}**\n\n{line}"
            if current is not None:
                line = "\n" + line
            current = priority
        items.append(line)
    return _Section("### Actions", items, "actions", cut_rank=8, keep=3)


def _kind(category: Category) -> str:
    return "noise (harmless)" if category is Category.NOISE else category.value


def _recurring(card: Card) -> _Section:
    shown = card.recurring[:MD_MAX_RECURRING_ROWS]
    rows = [
        f"| {t.count:,} | {md_code(clip(one_line(t.text), MD_MAX_TEMPLATE), table=True)} | {_kind(t.category)} "
        f"| {md_cell(', '.join(t.services))} | {hhmm(t.first_seen)} | {hhmm(t.last_seen)} "
        f"| {'🆕' if t.is_new else ''} |"
        for t in shown
    ]
    header = "| count | template | category | services | first seen | last seen | new |\n|--:|---|---|---|---|---|---|"
    intro = "Times are UTC; 🆕 marks issues new since the last update."
    return _Section(
        "### Top recurring issues",
        rows,
        "recurring issues",
        cut_rank=1,
        header=header,
        intro=intro,
        total=len(card.recurring),
    )


def _excerpts(card: Card) -> _Section:
    worth = [t for t in card.recurring if t.example and t.example.strip() != t.text.strip()]
    items = [
        f"**×{t.count:,} · {t.category.value} · {md_text(clip(', '.join(t.services), MD_MAX_CELL))}**\n\n"
        f"{md_fence(t.example)}"
        for t in worth[:MD_MAX_EXCERPTS]
    ]
    return _Section(
        "### Evidence excerpts",
        items,
        "excerpts",
        cut_rank=0,
        sep="\n\n",
        intro="Redacted examples of the most frequent messages.",
        total=len(worth),
    )


def _timeline(card: Card) -> _Section:
    if not card.sparkline:
        return _Section("", [], "")
    caption = md_text(clip(one_line(card.sparkline_caption), MD_MAX_CAPTION))
    return _Section("### Error timeline", [md_code(card.sparkline) + (f"  \n{caption}" if caption else "")], "")


def _alerts(card: Card) -> _Section:
    items = [
        f"- {a.state.value} · {md_code(clip(a.incident_id, MD_MAX_CELL))} · "
        + (md_link(a.policy_name or a.incident_id, a.url) if a.url else md_text(clip(a.policy_name, MD_MAX_CELL)))
        for a in card.alerts[:MD_MAX_ALERTS]
    ]
    return _Section("### Alerts", items, "alerts", cut_rank=2, total=len(card.alerts))


def _links(card: Card) -> _Section:
    items = [f"- {md_link(link.label, link.url)}" for link in card.links[:MD_MAX_LINKS]]
    return _Section("### Links", items, "links", cut_rank=6, total=len(card.links))


def _notes(card: Card) -> _Section:
    items = [f"- {md_text(clip(one_line(n), MD_MAX_NOTE))}" for n in card.notes[:MD_MAX_NOTES]]
    return _Section("### Notes", items, "notes", cut_rank=4, total=len(card.notes))


def _footer(card: Card) -> _Section:
    sampled = " (a sample)" if card.sampled else ""
    return _Section(
        "",
        [
            f"<sub>sitrep · incident {md_code(clip(card.key, MD_MAX_CELL))} · "
            f"{card.evidence_total:,} log entries analysed{sampled}</sub>"
        ],
        "",
    )


_BUILDERS: tuple[Callable[[Card], _Section], ...] = (
    _components,
    _health,
    _roots,
    _what_changed,
    _contributing,
    _actions,
    _recurring,
    _excerpts,
    _timeline,
    _alerts,
    _links,
    _notes,
    _footer,
)


def render_markdown(card: Card, *, max_chars: int = DEFAULT_MAX_CHARS) -> Markdown:
    """The full report for the tracking issue, never longer than `max_chars`."""
    budget = min(max_chars, GITHUB_BODY_MAX_CHARS)
    sections = [_Section("", [_title(card)], "")]
    sections += [s for s in (build(card) for build in _BUILDERS) if s.total]
    return Markdown(_assemble(sections, budget))


ISSUE_TITLE_MAX_CHARS = 250  # GitHub accepts 256; room for a "[RESOLVED] " prefix is inside the 250


def render_issue_title(card: Card) -> PlainTitle:
    """The tracking issue's title: the headline without its status tag, one plain line, no live reference."""
    prefix = "[RESOLVED] " if card.status is IncidentStatus.RESOLVED else ""
    return plain_title(clip(one_line(prefix + card.headline.split("] ", 1)[-1]), ISSUE_TITLE_MAX_CHARS))


def render_markdown_update(card: Card, changes: Sequence[Change]) -> Markdown:
    """The tracking issue's comment on an update: what changed (status, health, roots, new templates)."""
    if card.status is IncidentStatus.RESOLVED:
        head = f"### ✅ Resolved · {md_text(card.status_line)}"
    else:
        head = f"### 🔄 Update · {md_text(card.status_line)}"
    lines = [clip(head, MD_MAX_CELL), ""]
    for change in changes:
        detail = md_text(clip(one_line(change.detail), MD_MAX_UPDATE_DETAIL))
        lines.append(f"- **{md_text(clip(one_line(change.label), MD_MAX_CELL))}:** {detail}")
    if not changes:
        lines.append("- No material change.")
    lines += ["", f"> {md_text(clip(one_line(card.summary), MD_MAX_UPDATE_DETAIL * 2))}"]
    body = "\n".join(lines) + "\n"
    if len(body) > UPDATE_MAX_CHARS:  # cannot happen with the caps above; cut at a line if it ever does
        body = body[: body.rfind("\n", 0, UPDATE_MAX_CHARS - 2) + 1] + ELLIPSIS + "\n"
    return Markdown(body)
