"""Per-surface delivery: the incident's card posted or updated in Slack, its tracking issue created or edited.

Fan-out: one surface failing never skips the other; each surface's result and error land on the
`Outcome`, and the entry returned records what succeeded so that a redelivery retries only what failed.
The incident service (functions.incidents.service) decides what to deliver; this module only says it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from functions.core.errors import DeliveryError
from functions.core.model import Card, IncidentStatus
from functions.incidents.lifecycle import LedgerEntry, SurfaceState, entry_to_json
from functions.incidents.markers import compose_body, report_budget
from functions.incidents.ports import ChatSurface, IssueTracker

if TYPE_CHECKING:
    from functions.incidents.service import Outcome

ISSUE_LABELS = ("sitrep", "incident")
SLACK_LOOKBACK = timedelta(hours=6)  # how far before the incident opened Slack is searched for its card


@dataclass(frozen=True)
class Renderers:
    """The card's renderings per surface, injected so the service stays independent of their details."""

    slack: Callable[..., dict[str, Any]]
    markdown: Callable[..., str]  # (card, *, max_chars) -> the issue's Markdown report


class SurfaceDelivery:
    """Brings Slack's card and GitHub's tracking issue in line with one card; either surface may be absent."""

    def __init__(
        self,
        *,
        chat: ChatSurface | None,
        tracker: IssueTracker | None,
        renderers: Renderers,
        resolve_mode: str = "close",
        interactive: bool = False,
    ) -> None:
        self._chat = chat
        self._tracker = tracker
        self._render = renderers
        self._resolve_mode = resolve_mode
        self._interactive = interactive

    def deliver(
        self,
        entry: LedgerEntry,
        card: Card,
        changes: list[str],
        outcome: Outcome,
        issue_state: str,
    ) -> LedgerEntry:
        """The entry after delivering `card` to every surface not in `outcome.skipped`; failures go to `outcome`."""
        chat, tracker = self._chat, self._tracker
        if chat is not None:
            try:
                entry = self._deliver_slack(chat, entry, card, changes, outcome)
            except DeliveryError as exc:
                outcome.surfaces["slack"] = f"failed: {exc}"
                outcome.errors.append(exc)
        if tracker is not None and "github" not in outcome.skipped:
            try:
                entry = self._deliver_github(tracker, entry, card, changes, outcome, issue_state)
            except DeliveryError as exc:
                outcome.surfaces["github"] = f"failed: {exc}"
                outcome.errors.append(exc)
        return entry

    def _slack_message(self, entry: LedgerEntry, card: Card) -> dict[str, Any]:
        return self._render.slack(
            card,
            interactive=self._interactive,
            acknowledged_by=entry.acknowledged_by,
            silenced_until=entry.silenced_until.strftime("%H:%M UTC") if entry.silenced_until else "",
        )

    def _deliver_slack(
        self, chat: ChatSurface, entry: LedgerEntry, card: Card, changes: list[str], outcome: Outcome
    ) -> LedgerEntry:
        state = entry.slack if entry.slack.generation == entry.generation else SurfaceState()
        meta = {"key": entry.key, "generation": entry.generation, "digest": entry.digest}
        if not state.ref:
            found = None
            if entry.opened_at is not None:
                found = chat.find(entry.key, entry.generation, entry.opened_at - SLACK_LOOKBACK)
            if found is not None:
                ref, payload = found
                state = SurfaceState(ref=ref, digest=str(payload.get("digest", "")), generation=entry.generation)
        if not state.ref:
            ref = chat.post(self._slack_message(entry, card), meta)
            outcome.surfaces["slack"] = "posted"
            return replace(entry, slack=SurfaceState(ref, entry.digest, entry.generation))
        if state.digest == entry.digest:
            outcome.surfaces["slack"] = "unchanged"
            return replace(entry, slack=state)
        chat.update(state.ref, self._slack_message(entry, card), meta)
        chat.reply(state.ref, _thread_text(card, changes))
        outcome.surfaces["slack"] = "updated"
        return replace(entry, slack=SurfaceState(state.ref, entry.digest, entry.generation))

    def _deliver_github(
        self,
        tracker: IssueTracker,
        entry: LedgerEntry,
        card: Card,
        changes: list[str],
        outcome: Outcome,
        issue_state: str,
    ) -> LedgerEntry:
        state = entry.github
        delivered = replace(entry, github=SurfaceState(state.ref or "pending", entry.digest, entry.generation))
        body = self._issue_body(card, entry.key, entry_to_json(delivered))
        title = _issue_title(card)
        if not state.ref:
            labels = [*ISSUE_LABELS, f"severity:{card.severity.value}", f"env:{_label(card)}"]
            # The ledger inside says "pending" for the issue number: loading takes it from the issue itself.
            issue = tracker.create(title, body, labels)
            outcome.surfaces["github"] = "created"
            entry = replace(entry, github=SurfaceState(str(issue.number), entry.digest, entry.generation))
            if card.status is IncidentStatus.RESOLVED:
                self._close(tracker, issue.number, card)
            return entry
        number = int(state.ref)
        if issue_state == "closed" and card.status is IncidentStatus.ACTIVE:
            tracker.reopen(number)
            tracker.comment(number, f"**Regressed**: the incident fired again.\n\n{card.summary}")
            outcome.surfaces["github"] = "reopened"
        elif state.digest != entry.digest:
            tracker.comment(number, _comment_text(card, changes))
            outcome.surfaces["github"] = "commented"
        else:
            outcome.surfaces["github"] = "unchanged"
        entry = replace(entry, github=SurfaceState(str(number), entry.digest, entry.generation))
        tracker.edit(number, body=self._issue_body(card, entry.key, entry_to_json(entry)), title=title)
        if card.status is IncidentStatus.RESOLVED and issue_state != "closed" and state.digest != entry.digest:
            self._close(tracker, number, card)
        return entry

    def _issue_body(self, card: Card, key: str, ledger: dict[str, Any]) -> str:
        """The report rendered to the room the ledger markers leave, so its own "… and N more" do the cutting."""
        report = self._render.markdown(card, max_chars=report_budget(key, ledger))
        return compose_body(report, key, ledger)

    def _close(self, tracker: IssueTracker, number: int, card: Card) -> None:
        if self._resolve_mode == "label":
            tracker.add_labels(number, ["resolved"])
        else:
            tracker.close(number)


def _label(card: Card) -> str:
    env = card.key.partition("/")[2] or "default"
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in env)[:40]


def _issue_title(card: Card) -> str:
    prefix = "[RESOLVED] " if card.status is IncidentStatus.RESOLVED else ""
    return (prefix + card.headline.split("] ", 1)[-1])[:250]


def _thread_text(card: Card, changes: list[str]) -> str:
    lines = "\n".join(f"• {c}" for c in changes[:8])
    return f"*Update* ({card.status_line})\n{lines}"[:3000]


def _comment_text(card: Card, changes: list[str]) -> str:
    lines = "\n".join(f"- {c}" for c in changes[:20])
    heading = "Resolved" if card.status is IncidentStatus.RESOLVED else "Update"
    return f"### {heading} — {card.status_line}\n\n{lines}\n\n{card.summary}\n"


__all__ = ["ISSUE_LABELS", "SLACK_LOOKBACK", "Renderers", "SurfaceDelivery"]
