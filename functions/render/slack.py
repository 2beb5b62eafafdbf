"""Slack Block Kit renderer: the 10-second version of the card, and the thread reply for updates.

Limits are named constants with their source. Every block's text is built against its own
character budget, and the budgets add up to less than the undocumented aggregate cap, so the
message is within every limit by construction; whatever does not fit is cut visibly
("… and N more"). Lengths are measured in UTF-16 code units, which is never less than the
count of code points, so the output fits whichever of the two Slack counts.

Log-derived text is escaped by `functions.render.inert.mrkdwn` (&, <, > as entities, backticks
neutralised, invisible characters dropped), so it can neither mention (<!channel>, <@U…>), name a
channel (<#C…>) nor link (<https://…|…>). Every mrkdwn text object is `verbatim: true`, so Slack does
not auto-link bare URLs or #channel names either. The results are typed: `SlackMessage` holds `Mrkdwn`
text, and the blocks are assembled here only from `mrkdwn` pieces and our own literals (see inert.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TypedDict, TypeVar

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from functions.card.changes import Change
from functions.core.model import Card, Health, IncidentStatus, RootCause, Severity
from functions.render.inert import ELLIPSIS, Mrkdwn, SlackPlain, mrkdwn, one_line, slack_plain
from functions.render.text import (
    HARMLESS_MAX_LINES,
    HEALTH_EMOJI,
    and_more,
    by_priority,
    change_line,
    deploy_phrase,
    evidence_line,
    harmless_lines,
    health_numbers,
    root_title,
)

# Block Kit limits, Slack's Block Kit and Web API reference ([SLACK-BLOCKS], [SLACK-BLOCKS-PY]).
SLACK_MAX_BLOCKS = 50
SLACK_MAX_BLOCK_ID = 255
SLACK_MAX_HEADER_TEXT = 150
SLACK_MAX_SECTION_TEXT = 3_000
SLACK_MAX_FIELDS = 10
SLACK_MAX_FIELD_TEXT = 2_000
SLACK_MAX_CONTEXT_ELEMENTS = 10
SLACK_MAX_ACTIONS_ELEMENTS = 25
SLACK_MAX_BUTTON_TEXT = 75
SLACK_MAX_BUTTON_VALUE = 2_000
SLACK_MAX_URL = 3_000
# slack_sdk ConfirmObject limits (title 100, text 300, confirm/deny 30).
SLACK_MAX_CONFIRM_TITLE = 100
SLACK_MAX_CONFIRM_TEXT = 300
# Slack's Block Kit and Web API reference: msg_blocks_too_long was seen at ~13.2k characters of blocks in total
# although every block was within its own limit [BOLTJS-2509]; we stay under 12,000.
SLACK_MAX_BLOCKS_TEXT = 12_000
# Slack's Block Kit and Web API reference: top-level `text` is the notification / screen-reader fallback (truncated past
# 40,000); the headline and summary are all it needs.
SLACK_MAX_FALLBACK_TEXT = 3_000

# Budgets of our blocks (UTF-16 units of all their text, urls and button values). The sum stays
# under SLACK_MAX_BLOCKS_TEXT; tests/test_render.py checks that it does.
BUDGET_HEADER = SLACK_MAX_HEADER_TEXT
BUDGET_STATUS = 600
BUDGET_SUMMARY = 1_000
BUDGET_HEALTH = 1_800
BUDGET_ROOT = 1_000
SLACK_MAX_ROOTS = 3
BUDGET_ROOTS_MORE = 600
BUDGET_ACTIONS = 1_500
BUDGET_TIMELINE = 300
BUDGET_CHANGES = 600
SLACK_MAX_CHANGES = 5  # issue 13: at most five lines on Slack, newest first; the issue lists them all
BUDGET_LINKS = 1_200
BUDGET_BUTTONS = 1_200  # four labels, the confirm dialog and four values of at most SLACK_MAX_KEY_VALUE
SLACK_BUDGETS = (
    BUDGET_HEADER,
    BUDGET_STATUS,
    BUDGET_SUMMARY,
    BUDGET_HEALTH,
    BUDGET_ROOT * SLACK_MAX_ROOTS,
    BUDGET_ROOTS_MORE,
    BUDGET_ACTIONS,
    BUDGET_CHANGES,
    BUDGET_TIMELINE,
    BUDGET_LINKS,
    BUDGET_BUTTONS,
)

# An incident key is "project/environment": a project id is <= 30 characters and a label value <= 63,
# so 255 never cuts a real key; it bounds the four button values within BUDGET_BUTTONS.
SLACK_MAX_KEY_VALUE = 255
SLACK_MAX_HEALTH_LINES = 8
SLACK_MAX_ACTIONS = 5
SLACK_MAX_LINE = 300
SLACK_MAX_CHAIN_STEP = 240
SLACK_MAX_EVIDENCE = 200
SLACK_MAX_NAME = 100

ACTION_ACK = "sitrep_ack"
ACTION_SILENCE_1H = "sitrep_silence_1h"
ACTION_RESOLVE = "sitrep_resolve"
ACTION_REFRESH = "sitrep_refresh"
SEVERITY_EMOJI = {Severity.CRITICAL: "🔴", Severity.ERROR: "🟠", Severity.WARNING: "🟡", Severity.INFO: "🔵"}
RESOLVED_PREFIX = "✅ RESOLVED"
_NEUTRAL = "⚪"
_CODE_SPAN = re.compile(r"(`[^`]+`)")
_Text = TypeVar("_Text", bound=str)


class SlackMessage(TypedDict):
    """What chat.postMessage / chat.update / a response_url is sent: mrkdwn fallback text and Block Kit JSON."""

    text: Mrkdwn
    blocks: list[dict[str, Any]]


# ---------------------------------------------------------------- measuring, escaping, clipping


def slack_len(text: str) -> int:
    """Length in UTF-16 code units: an emoji outside the BMP counts 2, never less than len()."""
    return len(text.encode("utf-16-le")) // 2


def mrkdwn_inline(text: str) -> Mrkdwn:
    """Like `mrkdwn`, but the `code spans` the card wrote on purpose (commands in actions) stay code."""
    parts = _CODE_SPAN.split(one_line(text))
    return Mrkdwn("".join(f"`{mrkdwn(part[1:-1])}`" if i % 2 else _words(part) for i, part in enumerate(parts)))


def _words(text: str) -> str:
    """`mrkdwn`, keeping the space that separates the text from a code span before or after it."""
    lead = " " if text.startswith(" ") else ""
    trail = " " if text.endswith(" ") and text.strip() else ""
    return lead + mrkdwn(text) + trail


def _md(text: str) -> MarkdownTextObject:
    """A mrkdwn text object, verbatim: Slack links and mentions nothing that is not written as <…>.

    `text` is assembled in this module from `mrkdwn` pieces and our own literals only.
    """
    return MarkdownTextObject(text=text, verbatim=True)


def message_of(text: Mrkdwn) -> SlackMessage:
    """A text-only message (thread or ephemeral reply) as one verbatim section, `text` as notification fallback.

    Slack parses a message's bare `text` with its default rules (bare URLs become links); a verbatim
    section shows the same words without that. A reply is at most 3,000 units: one section's limit.
    """
    return {"text": text, "blocks": [{"type": "section", "text": _md(text).to_dict()}]}


def _cut(text: str, units: int) -> str:
    """The longest prefix of `text` within `units` UTF-16 units."""
    if slack_len(text) <= units:
        return text
    text = text[: max(0, units)]
    while slack_len(text) > units:
        text = text[:-1]
    return text


def fit(text: _Text, limit: int) -> _Text:
    """Escaped mrkdwn cut to `limit` with "…": never inside an &entity;, never leaving a code span open.

    Cutting keeps escaped text escaped, so a `Mrkdwn` stays one (the type is kept).
    """
    if slack_len(text) <= limit:
        return text
    cut = _cut(text, limit - 2)
    amp = cut.rfind("&", max(0, len(cut) - 5))  # &amp; is the longest entity we write
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    cut = cut.rstrip()
    return type(text)(cut + ELLIPSIS + ("`" if cut.count("`") % 2 else ""))


def code(text: str, limit: int) -> str:
    """A short code span of log text: escaped, backticks neutralised, cut to fit."""
    body = fit(mrkdwn(text), limit - 2)
    return f"`{body}`" if body else ""


def _bounded(head: str, lines: Sequence[str], budget: int, noun: str, max_lines: int) -> str:
    """`head` and as many of `lines` as fit in `budget`, then a visible "… and N more `noun`"."""
    out = head
    shown = 0
    for i, line in enumerate(lines[:max_lines]):
        candidate = f"{out}\n{line}" if out else line
        hidden_after = len(lines) - i - 1
        tail = f"\n_{and_more(hidden_after, noun)}_" if hidden_after else ""
        if slack_len(candidate + tail) > budget:
            break
        out, shown = candidate, i + 1
    if shown < len(lines):
        out += f"\n_{and_more(len(lines) - shown, noun)}_" if out else f"_{and_more(len(lines) - shown, noun)}_"
    return out


# ---------------------------------------------------------------- blocks


def _header_text(card: Card) -> SlackPlain:
    """Emoji and status word first (the card's own "[TAG]" prefix dropped), then the headline, cut to 150."""
    headline: str = slack_plain(card.headline)
    if headline.startswith("[") and "]" in headline:
        headline = headline.split("]", 1)[1].strip()
    if card.status is IncidentStatus.RESOLVED:
        text = f"{RESOLVED_PREFIX} · {headline}"
    else:
        text = f"{SEVERITY_EMOJI[card.severity]} {card.severity.value.upper()} · {headline}"
    return SlackPlain(text if slack_len(text) <= BUDGET_HEADER else _cut(text, BUDGET_HEADER - 1).rstrip() + ELLIPSIS)


def _status_block(card: Card, acknowledged_by: str, silenced_until: str) -> ContextBlock:
    """Status line and key (<= 405 units), then who acknowledged and until when it is silenced (<= 95 each)."""
    status = f"*{fit(mrkdwn(card.status_line), 298)}*  ·  {code(card.key, SLACK_MAX_NAME)}"
    elements = [_md(status)]
    if acknowledged_by:
        elements.append(_md(fit(f"✋ Acknowledged by {mrkdwn(acknowledged_by)}", 95)))
    if silenced_until:
        elements.append(_md(fit(f"🔕 Silenced until {mrkdwn(silenced_until)}", 95)))
    return ContextBlock(block_id="sitrep_status", elements=elements)


def _health_block(card: Card) -> SectionBlock:
    resolved = card.status is IncidentStatus.RESOLVED
    lines = []
    for h in card.health:
        emoji = _NEUTRAL if resolved else HEALTH_EMOJI[h.status]
        line = f"{emoji} *{fit(mrkdwn(h.service), SLACK_MAX_NAME)}* {h.status.value} — {mrkdwn(health_numbers(h))}"
        lines.append(fit(line, SLACK_MAX_LINE))
    head = "*Service health at last update*" if resolved else "*Service health*"
    counts = {s: sum(1 for h in card.health if h.status is s) for s in Health}
    noun = "services (" + ", ".join(f"{n} {s.value}" for s, n in counts.items() if n) + " in all)"
    return SectionBlock(
        block_id="sitrep_health",
        text=_md(_bounded(head, lines, BUDGET_HEALTH, noun, SLACK_MAX_HEALTH_LINES)),
    )


def _root_text(index: int, total: int, cause: RootCause) -> str:
    title = f"*{fit(f'{index}/{total} · {mrkdwn(root_title(cause))}', 198)}*"
    parts = [f"{title}  ·  `{cause.category.value}` ×{cause.count:,}"]
    deploy = deploy_phrase(cause)
    if deploy:
        parts.append(fit(f"_Deploy:_ {mrkdwn(deploy)}", 200))
    if cause.evidence:
        parts.append(f"_Evidence:_ {code(evidence_line(cause.evidence), SLACK_MAX_EVIDENCE)}")
    used = sum(slack_len(p) + 1 for p in parts)
    if cause.chain:
        why = " → ".join(fit(mrkdwn(step), SLACK_MAX_CHAIN_STEP) for step in cause.chain)
        parts.insert(1, fit(f"_Why:_ {why}", BUDGET_ROOT - used - 1))
    return "\n".join(parts)


def _roots_more(card: Card) -> ContextBlock | None:
    lines = []
    hidden = len(card.root_causes) - SLACK_MAX_ROOTS
    if hidden > 0:
        lines.append(f"_{and_more(hidden, 'root causes')} in the issue_")
    if card.contributing:
        items = [mrkdwn(f"{root_title(c)} (×{c.count:,})") for c in card.contributing]
        lines.append(fit("Contributing: " + "; ".join(items[:5]), BUDGET_ROOTS_MORE - 80))
    harmless = [mrkdwn(line) for line in harmless_lines(card)[:HARMLESS_MAX_LINES]]
    if harmless:
        lines.append(fit("Harmless (noise): " + "; ".join(harmless), SLACK_MAX_LINE))
    if not lines:
        return None
    return ContextBlock(
        block_id="sitrep_roots_more", elements=[_md(fit("\n".join(lines), BUDGET_ROOTS_MORE))]
    )


def _changes_block(card: Card) -> ContextBlock | None:
    """What changed in the project, newest first, at most SLACK_MAX_CHANGES lines; or that nothing did."""
    section = card.what_changed
    if section is None:
        return None
    if not section.changes:
        text = fit(f"*What changed:* {mrkdwn(section.note)}", BUDGET_CHANGES) if section.note else ""
    else:
        lines = [fit(f"• {mrkdwn(change_line(c))}", SLACK_MAX_LINE) for c in section.changes]
        text = _bounded("*What changed*", lines, BUDGET_CHANGES, "changes in the issue", SLACK_MAX_CHANGES)
    if not text:
        return None
    return ContextBlock(block_id="sitrep_changes", elements=[_md(text)])


def _actions_block(card: Card) -> SectionBlock | None:
    ranked = by_priority(card)
    if not ranked:
        return None
    # Fewer actions may each take more of the budget: a lone action is often a command or a filter
    # exclusion to copy whole (the no-failure card), and cutting it would make it useless.
    shown = min(len(ranked), SLACK_MAX_ACTIONS)
    cap = max(SLACK_MAX_LINE, (BUDGET_ACTIONS - 60) // shown)
    lines = [fit(f"*{priority.value}* {mrkdwn_inline(text)}", cap) for _, priority, text in ranked]
    head = "*Follow-ups*" if card.status is IncidentStatus.RESOLVED else "*Actions*"
    text = _bounded(head, lines, BUDGET_ACTIONS, "actions in the issue", SLACK_MAX_ACTIONS)
    return SectionBlock(block_id="sitrep_actions_list", text=_md(text))


def _timeline_block(card: Card) -> ContextBlock | None:
    if not card.sparkline:
        return None
    spark = _cut(one_line(card.sparkline), 60)
    caption = mrkdwn(card.sparkline_caption)
    text = fit(f"`{spark}`  {caption}" if caption else f"`{spark}`", BUDGET_TIMELINE)
    return ContextBlock(block_id="sitrep_timeline", elements=[_md(text)])


def _slack_link(label: str, url: str) -> str | None:
    url = url.strip()
    if not url.lower().startswith(("https://", "http://")) or slack_len(url) > SLACK_MAX_URL:
        return None
    safe_url = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    safe_label = fit(mrkdwn(label).replace("|", "/"), 60) or "link"
    return f"<{safe_url}|{safe_label}>"


def _links_block(card: Card) -> ContextBlock | None:
    links = [link for link in (_slack_link(x.label, x.url) for x in card.links) if link]
    if not links:
        return None
    out, shown = "", 0
    reserve = 40  # room for the "… and N more links" tail
    for link in links:
        candidate = f"{out}  ·  {link}" if out else link
        if slack_len(candidate) > BUDGET_LINKS - reserve:
            break
        out, shown = candidate, shown + 1
    hidden = len(card.links) - shown
    if hidden:
        out = f"{out}  ·  _{and_more(hidden, 'links')}_" if out else f"_{and_more(hidden, 'links')}_"
    return ContextBlock(block_id="sitrep_links", elements=[_md(out)])


def _buttons(card: Card) -> ActionsBlock:
    value = card.key[:SLACK_MAX_KEY_VALUE]
    refresh = ButtonElement(text=PlainTextObject(text="Refresh", emoji=True), action_id=ACTION_REFRESH, value=value)
    if card.status is IncidentStatus.RESOLVED:
        return ActionsBlock(block_id="sitrep_buttons", elements=[refresh])
    confirm = ConfirmObject(
        title=PlainTextObject(text="Resolve this incident?"),
        text=_md(
            "Marks the card resolved and closes the tracking issue. "
            "If an alert fires again, a new update reopens it."
        ),
        confirm=PlainTextObject(text="Resolve"),
        deny=PlainTextObject(text="Cancel"),
        style="danger",
    )
    return ActionsBlock(
        block_id="sitrep_buttons",
        elements=[
            ButtonElement(text=PlainTextObject(text="Acknowledge", emoji=True), action_id=ACTION_ACK, value=value),
            ButtonElement(
                text=PlainTextObject(text="Silence 1h", emoji=True), action_id=ACTION_SILENCE_1H, value=value
            ),
            ButtonElement(
                text=PlainTextObject(text="Resolve", emoji=True),
                action_id=ACTION_RESOLVE,
                value=value,
                style="danger",
                confirm=confirm,
            ),
            refresh,
        ],
    )


def slack_blocks(
    card: Card, *, interactive: bool = False, acknowledged_by: str = "", silenced_until: str = ""
) -> list[Block]:
    """The card as slack_sdk block objects, in reading order."""
    blocks: list[Block] = [
        HeaderBlock(block_id="sitrep_header", text=PlainTextObject(text=_header_text(card), emoji=True)),
        _status_block(card, acknowledged_by, silenced_until),
    ]
    summary = fit(mrkdwn(card.summary), BUDGET_SUMMARY)
    if summary:  # Slack rejects an empty section text
        blocks.append(SectionBlock(block_id="sitrep_summary", text=_md(summary)))
    if card.health:
        blocks.append(_health_block(card))
    if card.root_causes:
        blocks.append(DividerBlock(block_id="sitrep_divider_roots"))
        total = len(card.root_causes)
        for i, cause in enumerate(card.root_causes[:SLACK_MAX_ROOTS], start=1):
            blocks.append(
                SectionBlock(block_id=f"sitrep_root_{i}", text=_md(_root_text(i, total, cause)))
            )
    more = _roots_more(card)
    if more:
        blocks.append(more)
    changes = _changes_block(card)
    if changes:
        blocks.append(changes)
    actions = _actions_block(card)
    if actions:
        blocks.append(DividerBlock(block_id="sitrep_divider_actions"))
        blocks.append(actions)
    for optional in (_timeline_block(card), _links_block(card)):
        if optional:
            blocks.append(optional)
    if interactive:
        blocks.append(_buttons(card))
    return blocks


def render_slack(
    card: Card, *, interactive: bool = False, acknowledged_by: str = "", silenced_until: str = ""
) -> SlackMessage:
    """{"text": notification fallback, "blocks": Block Kit JSON} for chat.postMessage / chat.update."""
    blocks = slack_blocks(card, interactive=interactive, acknowledged_by=acknowledged_by, silenced_until=silenced_until)
    emoji = "✅" if card.status is IncidentStatus.RESOLVED else SEVERITY_EMOJI[card.severity]
    fallback = Mrkdwn("{} {} — {}").format(emoji, card.status_line, card.summary)
    return {"text": fit(fallback, SLACK_MAX_FALLBACK_TEXT), "blocks": [block.to_dict() for block in blocks]}


THREAD_MAX_CHARS = 3_000
THREAD_MAX_DETAIL = 300


def render_slack_thread_update(card: Card, changes: Sequence[Change]) -> SlackMessage:
    """A short mrkdwn thread reply under the card: what changed since the channel last saw it."""
    if card.status is IncidentStatus.RESOLVED:
        head = Mrkdwn("✅ *Resolved* · {}").format(card.status_line)
    else:
        head = Mrkdwn("🔄 *Update* · {}").format(card.status_line)
    lines = [fit(head, SLACK_MAX_LINE)]
    lines += [fit(Mrkdwn("• *{}:* {}").format(c.label, c.detail), THREAD_MAX_DETAIL) for c in changes]
    if not changes:
        lines.append(Mrkdwn("• No material change."))
    return message_of(fit(Mrkdwn("\n").join(lines), THREAD_MAX_CHARS))
