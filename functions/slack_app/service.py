"""Carrying out what a person asked from Slack: card actions on the incident, and `/sitrep status`.

The decisions are `functions.slack_app.actions` (pure); this module wires them to the ports: the incident
service (ledger, analysis, Slack card, tracking issue), the snooze API and the metrics source.
Both the HTTP function (inline, when no topic is configured) and the alert function (an action
handed over Pub/Sub) call the same `perform_card_action` / `StatusReporter.report`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from functions.analysis.health import HealthThresholds, compute_health
from functions.core.contracts import failure_fields
from functions.core.errors import DeliveryError
from functions.incidents.lifecycle import LedgerEntry
from functions.incidents.service import EntryChange, IncidentService, MetricSource
from functions.render.inert import Mrkdwn
from functions.slack_app.actions import (
    SILENCE_DURATION,
    ActionKind,
    ActionRequest,
    Reply,
    acknowledged,
    change_note,
    refreshed,
    refusal,
    resolved,
    silenced,
    snooze_display_name,
    snooze_policies,
    status_reply,
    status_services,
)

log = logging.getLogger("sitrep")


class Snoozer(Protocol):
    def snooze(self, policies: Sequence[str], display_name: str, start: datetime, end: datetime) -> str:
        """Create a snooze of `policies` from `start` to `end`; returns its resource name."""
        ...


@dataclass
class _Decision:
    """What the change callback told the person, read back after `IncidentService.apply` returns."""

    reply: Reply | None = None


def perform_card_action(
    action: ActionRequest, incidents: IncidentService, snoozer: Snoozer | None, now: datetime
) -> Reply | None:
    """Apply a card button to its incident; the ephemeral Reply for the person, or None (the card shows it).

    Raises TransientDeliveryError when Slack or GitHub failed in a way worth retrying (after saving
    what succeeded), so a Pub/Sub-delivered action is redelivered.
    """
    if action.kind is ActionKind.STATUS:
        raise ValueError("status is not a card action")
    decision = _Decision()

    def change(entry: LedgerEntry | None) -> EntryChange | None:
        refused = refusal(action, entry, now)
        if refused is not None or entry is None:
            decision.reply = refused
            return None
        new: LedgerEntry | None
        if action.kind is ActionKind.ACK:
            new = acknowledged(entry, action)
            note = change_note(action)
        elif action.kind is ActionKind.RESOLVE:
            new, note = resolved(entry, action), change_note(action)
        elif action.kind is ActionKind.REFRESH:
            new, note = refreshed(entry), change_note(action)
        else:
            until = now + SILENCE_DURATION
            if snoozer is None:
                decision.reply = Reply(Mrkdwn("Silencing is not available: Cloud Monitoring is not configured."))
                return None
            try:
                name = snoozer.snooze(snooze_policies(entry), snooze_display_name(entry, action), now, until)
            except DeliveryError as exc:
                log.error("snooze failed", extra=failure_fields(incident_key=entry.key,
                                                  error=str(exc)))
                decision.reply = Reply(
                    Mrkdwn("Could not silence the incident: {}. Nothing was changed; try again.").format(exc)
                )
                return None
            new, note = silenced(entry, until, action.who), change_note(action, until=until, snooze=name)
            decision.reply = Reply(
                Mrkdwn("🔕 Silenced for 1 h, until {} (`{}`).").format(until.strftime("%H:%M UTC"), name)
            )
        return None if new is None else EntryChange(new, (note,))

    incidents.apply(action.key, change, now)
    return decision.reply


@dataclass(frozen=True)
class StatusReporter:
    """`/sitrep status`: request counts of the last `window` from Cloud Monitoring, judged by the health stage."""

    metrics: MetricSource | None
    project: str
    watched: tuple[str, ...]
    thresholds: HealthThresholds
    window: timedelta = timedelta(minutes=15)

    def report(self, action: ActionRequest, now: datetime) -> Reply:
        if self.metrics is None or not self.project:
            return Reply(
                Mrkdwn(
                    "Service status needs Cloud Monitoring and a project (GOOGLE_CLOUD_PROJECT); neither is configured."
                )
            )
        result = self.metrics.read(self.project, [], now - self.window, now)
        stats = dict(result.request_stats)
        chosen = status_services(action.service, self.watched, stats)
        if isinstance(chosen, Reply):
            return chosen
        health = compute_health(chosen, {s: stats[s] for s in chosen if s in stats}, (), self.thresholds)
        note = f"{result.error}." if result.error else ""
        return status_reply(health, project=self.project, window=self.window, service=action.service, note=note)


__all__ = ["Snoozer", "StatusReporter", "perform_card_action"]
