"""Per-surface delivery: the incident's card posted or updated in Slack, its tracking issue created or edited.

Fan-out: one surface failing never skips the other. `deliver` returns a `DeliveryReport`: the entry
recording what succeeded (so that a redelivery retries only what failed), each surface's result and
the errors. The incident service (functions.incidents.service) decides what to deliver; this module
only says it, with the texts the injected renderers make (they escape everything that came from logs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from functions.card.changes import Change
from functions.core.contracts import ResolveMode
from functions.core.errors import DeliveryError
from functions.core.model import Card, IncidentStatus
from functions.incidents.lifecycle import LedgerEntry, SurfaceState, entry_to_json
from functions.incidents.markers import compose_body, report_budget
from functions.incidents.ports import ChatSurface, IssueTracker
from functions.render.inert import Markdown, PlainTitle
from functions.render.slack import SlackMessage

ISSUE_LABELS = ("sitrep", "incident")
SLACK_LOOKBACK = timedelta(hours=6)  # how far before the incident opened Slack is searched for its card


@dataclass(frozen=True)
class Renderers:
    """The card's renderings per surface, injected so the service stays independent of their details."""

    slack: Callable[..., SlackMessage]  # (card, *, interactive, acknowledged_by, silenced_until) -> message
    markdown: Callable[..., Markdown]  # (card, *, max_chars) -> the issue's Markdown report
    thread: Callable[[Card, Sequence[Change]], SlackMessage]  # the Slack thread reply on an update
    comment: Callable[[Card, Sequence[Change]], Markdown]  # the tracking issue's comment on an update
    title: Callable[[Card], PlainTitle]  # the tracking issue's title


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery did: the entry recording what succeeded, each surface's result, the failures."""

    entry: LedgerEntry
    surfaces: Mapping[str, str] = field(default_factory=dict)
    errors: tuple[DeliveryError, ...] = ()


class SurfaceDelivery:
    """Brings Slack's card and GitHub's tracking issue in line with one card; either surface may be absent."""

    def __init__(
        self,
        *,
        chat: ChatSurface | None,
        tracker: IssueTracker | None,
        renderers: Renderers,
        resolve_mode: ResolveMode = ResolveMode.CLOSE,
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
        changes: Sequence[Change],
        issue_state: str,
        *,
        skip: frozenset[str] = frozenset(),
    ) -> DeliveryReport:
        """Deliver `card` to every configured surface not in `skip`; one failing never keeps the other from it."""
        surfaces: dict[str, str] = {}
        errors: list[DeliveryError] = []
        if self._chat is not None and "slack" not in skip:
            try:
                entry, surfaces["slack"] = self._deliver_slack(self._chat, entry, card, changes)
            except DeliveryError as exc:
                surfaces["slack"] = f"failed: {exc}"
                errors.append(exc)
        if self._tracker is not None and "github" not in skip:
            try:
                entry, surfaces["github"] = self._deliver_github(self._tracker, entry, card, changes, issue_state)
            except DeliveryError as exc:
                surfaces["github"] = f"failed: {exc}"
                errors.append(exc)
        return DeliveryReport(entry, surfaces, tuple(errors))

    def _slack_message(self, entry: LedgerEntry, card: Card) -> SlackMessage:
        return self._render.slack(
            card,
            interactive=self._interactive,
            acknowledged_by=entry.acknowledged_by,
            silenced_until=entry.silenced_until.strftime("%H:%M UTC") if entry.silenced_until else "",
        )

    def _deliver_slack(
        self, chat: ChatSurface, entry: LedgerEntry, card: Card, changes: Sequence[Change]
    ) -> tuple[LedgerEntry, str]:
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
            return replace(entry, slack=SurfaceState(ref, entry.digest, entry.generation)), "posted"
        if state.digest == entry.digest:
            return replace(entry, slack=state), "unchanged"
        chat.update(state.ref, self._slack_message(entry, card), meta)
        chat.reply(state.ref, self._render.thread(card, changes))
        return replace(entry, slack=SurfaceState(state.ref, entry.digest, entry.generation)), "updated"

    def _deliver_github(
        self,
        tracker: IssueTracker,
        entry: LedgerEntry,
        card: Card,
        changes: Sequence[Change],
        issue_state: str,
    ) -> tuple[LedgerEntry, str]:
        state = entry.github
        delivered = replace(entry, github=SurfaceState(state.ref or "pending", entry.digest, entry.generation))
        body = self._issue_body(card, entry.key, entry_to_json(delivered))
        title = self._render.title(card)
        if not state.ref:
            labels = [*ISSUE_LABELS, f"severity:{card.severity.value}", f"env:{_label(card)}"]
            # The ledger inside says "pending" for the issue number: loading takes it from the issue itself.
            issue = tracker.create(title, body, labels)
            entry = replace(entry, github=SurfaceState(str(issue.number), entry.digest, entry.generation))
            if card.status is IncidentStatus.RESOLVED:
                self._close(tracker, issue.number)
            return entry, "created"
        number = int(state.ref)
        if issue_state == "closed" and card.status is IncidentStatus.ACTIVE:
            tracker.reopen(number)
            tracker.comment(number, self._render.comment(card, changes))
            result = "reopened"
        elif state.digest != entry.digest:
            tracker.comment(number, self._render.comment(card, changes))
            result = "commented"
        else:
            result = "unchanged"
        entry = replace(entry, github=SurfaceState(str(number), entry.digest, entry.generation))
        tracker.edit(number, body=self._issue_body(card, entry.key, entry_to_json(entry)), title=title)
        if card.status is IncidentStatus.RESOLVED and issue_state != "closed" and state.digest != entry.digest:
            self._close(tracker, number)
        return entry, result

    def _issue_body(self, card: Card, key: str, ledger: dict[str, Any]) -> Markdown:
        """The report rendered to the room the ledger markers leave, so its own "… and N more" do the cutting."""
        report = self._render.markdown(card, max_chars=report_budget(key, ledger))
        return compose_body(report, key, ledger)

    def _close(self, tracker: IssueTracker, number: int) -> None:
        if self._resolve_mode is ResolveMode.LABEL:
            tracker.add_labels(number, ["resolved"])
        else:
            tracker.close(number)


def _label(card: Card) -> str:
    env = card.key.partition("/")[2] or "default"
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in env)[:40]


__all__ = ["ISSUE_LABELS", "SLACK_LOOKBACK", "DeliveryReport", "Renderers", "SurfaceDelivery"]
