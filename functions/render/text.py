"""Terminal text renderer, plus the plain-text helpers every renderer shares.

The card's strings are already redacted, but they are still log-derived: they may hold
newlines, tabs, terminal escape sequences, bidi overrides or zero-width characters. Everything
taken from the card passes through `one_line` (or `printable` for multi-line excerpts), both from
functions.render.inert, so a hostile log line can neither break the layout, colour or move the
reader's terminal, nor read differently from what it is.
"""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from functions.core.model import Card, Category, Health, IncidentStatus, Priority, RootCause, ServiceHealth, Template
from functions.core.project_changes import ProjectChange
from functions.render.inert import ELLIPSIS, TerminalText, one_line, printable

HEALTH_EMOJI = {Health.FAILING: "🔴", Health.DEGRADED: "🟡", Health.HEALTHY: "🟢", Health.UNKNOWN: "⚪"}
PRIORITY_ORDER = {Priority.P0: 0, Priority.P1: 1, Priority.P2: 2}

# ANSI SGR sequences (ECMA-48); only emitted when color=True.
_ANSI = {
    Health.FAILING: "\x1b[31m",
    Health.DEGRADED: "\x1b[33m",
    Health.HEALTHY: "\x1b[32m",
    Health.UNKNOWN: "\x1b[90m",
}
_BOLD = "\x1b[1m"
_RESET = "\x1b[0m"

# What the terminal view shows before "… and N more": a card is read at a glance, the issue has the rest.
TEXT_MAX_SERVICES = 20
TEXT_MAX_ROOTS = 5
TEXT_MAX_CHAIN_STEPS = 8
TEXT_MAX_CONTRIBUTING = 5
TEXT_MAX_ACTIONS = 10
TEXT_MAX_RECURRING = 10
TEXT_MAX_LINKS = 10
TEXT_MAX_NOTES = 10
TEXT_MAX_CHANGES = 10
TEXT_MAX_SUMMARY_LINES = 8
TEXT_MAX_ITEM_LINES = 3
# An action is what the reader copies (a command, a filter exclusion): it may take more lines than other items.
TEXT_MAX_ACTION_LINES = 8
TEXT_MIN_WIDTH = 60
EVIDENCE_SCAN_CHARS = 4_000

# ---------------------------------------------------------------- shared helpers


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending with "…" when cut."""
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    return text[: limit - 1].rstrip() + ELLIPSIS


def and_more(hidden: int, noun: str) -> str:
    """The visible truncation marker every renderer uses."""
    return f"{ELLIPSIS} and {hidden:,} more {noun}"


def utc(moment: datetime) -> datetime:
    """Aware UTC; a naive datetime is taken to be UTC already (the pipeline keeps UTC throughout)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def hhmm(moment: datetime | None) -> str:
    return utc(moment).strftime("%H:%M") if moment else ""


def by_priority(card: Card) -> list[tuple[int, Priority, str]]:
    """Actions in priority order (stable), as (index, priority, text)."""
    ranked = sorted(enumerate(card.actions), key=lambda item: (PRIORITY_ORDER[item[1].priority], item[0]))
    return [(i, a.priority, a.text) for i, a in ranked]


def root_title(cause: RootCause) -> str:
    where = f" in {cause.service}" if cause.service else ""
    return f"{cause.summary}{where}"


def deploy_phrase(cause: RootCause) -> str:
    if not cause.revision:
        return ""
    previous = f", previous {cause.previous_revision}" if cause.previous_revision else ""
    return f"newest revision {cause.revision}{previous}"


def evidence_line(evidence: str) -> str:
    """The one line of an excerpt that says the most: a Python traceback ends with it, other traces start with it."""
    head = evidence[:EVIDENCE_SCAN_CHARS]
    traceback = head.lstrip().startswith("Traceback")
    window = evidence[-EVIDENCE_SCAN_CHARS:] if traceback else head
    lines = [line.strip() for line in printable(window).split("\n") if line.strip()]
    if not lines:
        return ""
    return one_line(lines[-1] if traceback else lines[0])


def change_line(change: ProjectChange) -> str:
    """'01:04 backend-00742-b95 deployed by ci@… — image …ab12 → …cd34; env AUTH_URL removed' (plain text)."""
    when = f"{hhmm(change.at)} " if change.at else ""
    who = f" by {change.actor}" if change.actor else ""
    what = f" — {'; '.join(change.details)}" if change.details else ""
    linked = f" (linked to: {', '.join(change.linked)})" if change.linked else ""
    return f"{when}{change.subject} {change.verb}{who}{what}{linked}"


def health_numbers(health: ServiceHealth) -> str:
    return "; ".join(health.reasons) or "no data"


# ---------------------------------------------------------------- terminal widths


def cell_width(text: str) -> int:
    """Columns a string takes in a terminal: wide (CJK, emoji) count 2, combining marks 0."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def clip_cells(text: str, columns: int) -> str:
    head = text[: columns * 4]  # enough for any mix of wide and combining characters; keeps 100 KB lines cheap
    if len(head) == len(text) and cell_width(head) <= columns:
        return text
    out: list[str] = []
    used = 0
    for ch in head:
        w = 0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if used + w > columns - 1:
            break
        out.append(ch)
        used += w
    return "".join(out).rstrip() + ELLIPSIS


def pad_cells(text: str, columns: int) -> str:
    return text + " " * max(0, columns - cell_width(text))


# ---------------------------------------------------------------- the terminal renderer


@dataclass(frozen=True)
class _Style:
    color: bool

    def bold(self, text: str) -> str:
        return f"{_BOLD}{text}{_RESET}" if self.color else text

    def health(self, status: Health, text: str) -> str:
        return f"{_ANSI[status]}{text}{_RESET}" if self.color else text


def _wrap(text: str, width: int, indent: str = "  ", hanging: str | None = None, max_lines: int = 0) -> list[str]:
    """textwrap, but at most `max_lines` lines (0: no cap), the last ending with "…" when cut."""
    if max_lines:
        text = text[: width * max_lines + 1]  # a 100 KB message never goes through textwrap whole
    lines = textwrap.wrap(
        text,
        width=width,
        initial_indent=indent,
        subsequent_indent=hanging if hanging is not None else indent,
        break_long_words=True,
        break_on_hyphens=False,
    ) or [indent.rstrip()]
    if max_lines and len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        lines[-1] = clip_cells(last, width) if cell_width(last) >= width else last + ELLIPSIS
    return lines


def _heading(style: _Style, title: str) -> list[str]:
    return ["", style.bold(title)]


def _health_table(card: Card, style: _Style, width: int) -> list[str]:
    rows = card.health[:TEXT_MAX_SERVICES]
    name_w = min(max([cell_width(one_line(h.service)) for h in rows] + [7]), 28)
    status_w = max(len(h.value) for h in Health)
    numbers_w = max(10, width - 2 - name_w - 2 - status_w - 2)
    lines = [f"  {pad_cells('SERVICE', name_w)}  {'STATUS'.ljust(status_w)}  DECIDING NUMBERS"]
    for h in rows:
        name = pad_cells(clip_cells(one_line(h.service), name_w), name_w)
        status = style.health(h.status, h.status.value.ljust(status_w))
        lines.append(f"  {name}  {status}  {clip_cells(one_line(health_numbers(h)), numbers_w)}")
    if len(card.health) > len(rows):
        lines.append("  " + and_more(len(card.health) - len(rows), "services"))
    return lines


def _root_lines(index: int, cause: RootCause, width: int) -> list[str]:
    lines = [clip_cells(f"  {index}. {one_line(root_title(cause))}", width)]
    meta = [cause.category.value, f"×{cause.count:,}", cause.severity.value]
    if cause.first_seen:
        meta.append(f"since {hhmm(cause.first_seen)} UTC")
    lines.append(clip_cells("     " + " · ".join(meta), width))
    deploy = deploy_phrase(cause)
    if deploy:
        lines.append(clip_cells(f"     deploy: {one_line(deploy)}", width))
    if cause.chain:
        lines.append("     why (symptom → cause):")
        steps = cause.chain[:TEXT_MAX_CHAIN_STEPS]
        for depth, step in enumerate(steps):
            indent = "       " + "  " * depth
            arrow = "→ " if depth else ""
            lines += _wrap(one_line(step), width, indent + arrow, indent + " " * len(arrow), TEXT_MAX_ITEM_LINES)
        if len(cause.chain) > len(steps):
            lines.append(f"       {'  ' * len(steps)}{and_more(len(cause.chain) - len(steps), 'steps')}")
    if cause.evidence:
        lines.append(clip_cells(f"     evidence: {evidence_line(cause.evidence)}", width))
    return lines


HARMLESS_MAX_LINES = 3


def harmless_lines(card: Card) -> list[str]:
    """The known-harmless notices the reader sees most, named so nobody chases them ("609 × …")."""
    return [f"{t.count:,} × {one_line(t.text)}" for t in card.recurring if t.category is Category.NOISE]


def _note(template: Template) -> str:
    """NEW since the last update, and harmless for a known-harmless notice (noise)."""
    notes = (["new"] if template.is_new else []) + (["harmless"] if template.category is Category.NOISE else [])
    return ", ".join(notes)


def _recurring_table(card: Card, width: int) -> list[str]:
    rows = card.recurring[:TEXT_MAX_RECURRING]
    count_w = max([len(f"{t.count:,}") for t in rows] + [5])
    fixed = 2 + count_w + 2 + 2 + 2 + 5 + 2 + 5 + 2 + len("new, harmless")  # every column but template, services
    services_cap = max(8, min(24, width - fixed - 12))
    services = [clip_cells(one_line(", ".join(t.services)), services_cap) for t in rows]
    services_w = max([cell_width(s) for s in services] + [8])
    template_w = max(12, width - fixed - services_w)
    lines = [
        f"  {'COUNT'.rjust(count_w)}  {pad_cells('TEMPLATE', template_w)}  "
        f"{pad_cells('SERVICES', services_w)}  FIRST  LAST   NOTE"
    ]
    for t, svc in zip(rows, services, strict=True):
        template = pad_cells(clip_cells(one_line(t.text), template_w), template_w)
        lines.append(
            f"  {f'{t.count:,}'.rjust(count_w)}  {template}  {pad_cells(svc, services_w)}  "
            f"{hhmm(t.first_seen).ljust(5)}  {hhmm(t.last_seen).ljust(5)}  {_note(t)}".rstrip()
        )
    if len(card.recurring) > len(rows):
        lines.append("  " + and_more(len(card.recurring) - len(rows), "recurring issues"))
    return lines


def _section_list(items: Sequence[str], limit: int, noun: str, width: int) -> list[str]:
    lines: list[str] = []
    for item in items[:limit]:
        lines.extend(_wrap(one_line(item), width, "  - ", "    ", TEXT_MAX_ITEM_LINES))
    if len(items) > limit:
        lines.append("  " + and_more(len(items) - limit, noun))
    return lines


def render_text(card: Card, *, color: bool = False, width: int = 100) -> TerminalText:
    """The card as terminal text, readable at a glance; ANSI colour only when `color` is true."""
    width = max(width, TEXT_MIN_WIDTH)
    style = _Style(color)
    resolved = card.status is IncidentStatus.RESOLVED
    lines = [style.bold(line) for line in _wrap(one_line(card.headline), width, "", "  ", TEXT_MAX_ITEM_LINES)]
    lines.append(clip_cells(one_line(card.status_line), width))

    if card.summary.strip():
        lines += _heading(style, "Summary")
        lines += _wrap(one_line(card.summary), width, max_lines=TEXT_MAX_SUMMARY_LINES)

    if card.health:
        lines += _heading(style, "Service health at last update" if resolved else "Service health")
        lines += _health_table(card, style, width)

    if card.root_causes:
        lines += _heading(style, "Root causes" if len(card.root_causes) > 1 else "Root cause")
        for i, cause in enumerate(card.root_causes[:TEXT_MAX_ROOTS], start=1):
            lines += _root_lines(i, cause, width)
        if len(card.root_causes) > TEXT_MAX_ROOTS:
            lines.append("  " + and_more(len(card.root_causes) - TEXT_MAX_ROOTS, "root causes"))

    if card.what_changed is not None:
        lines += _heading(style, "What changed")
        items = [change_line(c) for c in card.what_changed.changes] or [card.what_changed.note]
        lines += _section_list(items, TEXT_MAX_CHANGES, "changes", width)

    if card.contributing:
        lines += _heading(style, "Contributing")
        items = [f"{root_title(c)} (×{c.count:,})" for c in card.contributing]
        lines += _section_list(items, TEXT_MAX_CONTRIBUTING, "contributing causes", width)

    harmless = harmless_lines(card)
    if harmless:
        lines += _heading(style, "Harmless (noise, not failures)")
        lines += _section_list(harmless, HARMLESS_MAX_LINES, "harmless notices", width)

    if card.actions:
        lines += _heading(style, "Actions")
        ranked = by_priority(card)
        for _, priority, text in ranked[:TEXT_MAX_ACTIONS]:
            lines += _wrap(one_line(text), width, f"  [{priority.value}] ", "       ", TEXT_MAX_ACTION_LINES)
        if len(ranked) > TEXT_MAX_ACTIONS:
            lines.append("  " + and_more(len(ranked) - TEXT_MAX_ACTIONS, "actions"))

    if card.recurring:
        lines += _heading(style, "Top recurring issues")
        lines += _recurring_table(card, width)

    if card.sparkline:
        lines += _heading(style, "Errors over time")
        lines.append(f"  {one_line(card.sparkline)}")
        if card.sparkline_caption:
            lines += _wrap(one_line(card.sparkline_caption), width, max_lines=TEXT_MAX_ITEM_LINES)

    if card.links:
        lines += _heading(style, "Links")
        for link in card.links[:TEXT_MAX_LINKS]:
            lines.append(f"  {clip_cells(one_line(link.label), 60)}: {one_line(link.url)}")
        if len(card.links) > TEXT_MAX_LINKS:
            lines.append("  " + and_more(len(card.links) - TEXT_MAX_LINKS, "links"))

    if card.notes:
        lines += _heading(style, "Notes")
        lines += _section_list(card.notes, TEXT_MAX_NOTES, "notes", width)

    return TerminalText("\n".join(lines) + "\n")  # every piece went through one_line or is our own
