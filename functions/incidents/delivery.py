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
from functions.card.postmortem import Postmortem
from functions.core.contracts import ResolveMode
from functions.core.errors import DeliveryError
from functions.core.model import Card, Health, IncidentStatus
from functions.incidents.lifecycle import LedgerEntry, SurfaceState, entry_to_json
from functions.incidents.markers import compose_body, report_budget
from functions.incidents.owners import OwnerMap, due_owners, notified_marks
from functions.incidents.ports import ChatSurface, IssueTracker
from functions.incidents.postmortem import build_postmortem
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
    # On resolve: the postmortem draft (the issue's final comment) and its Slack thread summary.
    postmortem: Callable[[Postmortem], Markdown] | None = None
    postmortem_summary: Callable[[Postmortem], SlackMessage] | None = None
    # The owners' mentions, (service, handles) pairs from configuration, per surface.
    owners_slack: Callable[[Sequence[tuple[str, Sequence[str]]]], SlackMessage] | None = None
    owners_markdown: Callable[[Sequence[tuple[str, Sequence[str]]]], Markdown] | None = None


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
        owners: OwnerMap | None = None,
    ) -> None:
        self._chat = chat
        self._tracker = tracker
        self._render = renderers
        self._resolve_mode = resolve_mode
        self._interactive = interactive
        self._owners = owners or {}

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
            entry = replace(entry, slack=SurfaceState(ref, entry.digest, entry.generation))
            return self._mention_slack(chat, entry, card, ref), "posted"
        if state.digest == entry.digest:
            return self._mention_slack(chat, replace(entry, slack=state), card, state.ref), "unchanged"
        chat.update(state.ref, self._slack_message(entry, card), meta)
        if card.status is IncidentStatus.RESOLVED and self._render.postmortem_summary is not None:
            chat.reply(state.ref, self._render.postmortem_summary(build_postmortem(entry, card)))
        else:
            chat.reply(state.ref, self._render.thread(card, changes))
        entry = replace(entry, slack=SurfaceState(state.ref, entry.digest, entry.generation))
        return self._mention_slack(chat, entry, card, state.ref), "updated"

    def _mention_slack(self, chat: ChatSurface, entry: LedgerEntry, card: Card, ref: str) -> LedgerEntry:
        """Mention, in the card's thread, owners of affected services not yet mentioned for this incident."""
        due = due_owners(self._owners, affected_services(entry, card), entry.notified, "slack")
        if not due or self._render.owners_slack is None or card.status is IncidentStatus.RESOLVED:
            return entry
        chat.reply(ref, self._render.owners_slack(due))
        return replace(entry, notified=(*entry.notified, *notified_marks(due, "slack")))

    def _deliver_github(
        self,
        tracker: IssueTracker,
        entry: LedgerEntry,
        card: Card,
        changes: Sequence[Change],
        issue_state: str,
    ) -> tuple[LedgerEntry, str]:
        state = entry.github
        due = due_owners(self._owners, affected_services(entry, card), entry.notified, "github")
        if self._render.owners_markdown is None or card.status is IncidentStatus.RESOLVED:
            due = ()
        # The issue body is the ledger: the mentions about to be made are recorded in it before they are
        # made, so that no later update makes them again (at most once, even if the comment then fails).
        entry = replace(entry, notified=(*entry.notified, *notified_marks(due, "github")))
        delivered = replace(entry, github=SurfaceState(state.ref or "pending", entry.digest, entry.generation))
        body = self._issue_body(card, entry.key, entry_to_json(delivered))
        title = self._render.title(card)
        if not state.ref:
            labels = [*ISSUE_LABELS, f"severity:{card.severity.value}", f"env:{_label(card)}"]
            assignees = [h for _, handles in due for h in handles if "/" not in h]
            # The ledger inside says "pending" for the issue number: loading takes it from the issue itself.
            issue = tracker.create(title, body, labels, assignees=assignees)
            entry = replace(entry, github=SurfaceState(str(issue.number), entry.digest, entry.generation),
                            issue_url=issue.url or entry.issue_url)
            entry = self._mention_github(tracker, entry, issue.number, due)
            if card.status is IncidentStatus.RESOLVED:
                self._postmortem(tracker, entry, card, issue.number)
                self._close(tracker, issue.number)
            return entry, "created"
        number = int(state.ref)
        if issue_state == "closed" and card.status is IncidentStatus.ACTIVE:
            tracker.reopen(number)
            tracker.comment(number, self._render.comment(card, changes))
            result = "reopened"
        elif state.digest != entry.digest:
            tracker.comment(number, self._render.comment(card, changes))
            if card.status is IncidentStatus.RESOLVED and issue_state != "closed":
                self._postmortem(tracker, entry, card, number)  # the final comment
            result = "commented"
        else:
            result = "unchanged"
        entry = self._mention_github(tracker, entry, number, due)
        entry = replace(entry, github=SurfaceState(str(number), entry.digest, entry.generation))
        tracker.edit(number, body=self._issue_body(card, entry.key, entry_to_json(entry)), title=title)
        if card.status is IncidentStatus.RESOLVED and issue_state != "closed" and state.digest != entry.digest:
            self._close(tracker, number)
        return entry, result

    def _postmortem(self, tracker: IssueTracker, entry: LedgerEntry, card: Card, number: int) -> None:
        """The final comment of a resolved incident: the postmortem draft."""
        if self._render.postmortem is not None:
            tracker.comment(number, self._render.postmortem(build_postmortem(entry, card)))

    def _mention_github(
        self, tracker: IssueTracker, entry: LedgerEntry, number: int, due: Sequence[tuple[str, tuple[str, ...]]]
    ) -> LedgerEntry:
        """Mention the owners due (already recorded in the entry; users are also assigned at creation)."""
        if due and self._render.owners_markdown is not None:
            tracker.comment(number, self._render.owners_markdown(due))
        return entry

    def _issue_body(self, card: Card, key: str, ledger: dict[str, Any]) -> Markdown:
        """The report rendered to the room the ledger markers leave, so its own "… and N more" do the cutting."""
        report = self._render.markdown(card, max_chars=report_budget(key, ledger))
        return compose_body(report, key, ledger)

    def _close(self, tracker: IssueTracker, number: int) -> None:
        if self._resolve_mode is ResolveMode.LABEL:
            tracker.add_labels(number, ["resolved"])
        else:
            tracker.close(number)


def affected_services(entry: LedgerEntry, card: Card) -> tuple[str, ...]:
    """Services an incident is "for": those its alerts name, then those the card finds failing or degraded."""
    named = [s for m in entry.members for s in m.services]
    bad = [h.service for h in card.health if h.status in (Health.FAILING, Health.DEGRADED)]
    return tuple(dict.fromkeys([*named, *bad]))


def _label(card: Card) -> str:
    env = card.key.partition("/")[2] or "default"
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in env)[:40]


__all__ = ["ISSUE_LABELS", "SLACK_LOOKBACK", "DeliveryReport", "Renderers", "SurfaceDelivery", "affected_services"]
