"""Assemble the postmortem draft of a resolved incident from its ledger entry and its last card (pure)."""

from __future__ import annotations

from datetime import datetime

from functions.card.postmortem import Postmortem, ServiceImpact, TimelineEvent
from functions.core.model import Card
from functions.incidents.lifecycle import LedgerEntry


def _first_error(card: Card) -> datetime | None:
    seen = [t.first_seen for t in card.recurring if t.first_seen]
    seen += [r.first_seen for r in card.root_causes if r.first_seen]
    return min(seen, default=None)


def build_postmortem(entry: LedgerEntry, card: Card) -> Postmortem:
    """The draft: a timeline of alerts, people and changes; impact per service; causes; actions; follow-ups."""
    events: list[TimelineEvent] = []
    first_error = _first_error(card)
    if first_error is not None:
        first = card.root_causes[0].summary if card.root_causes else (card.recurring[0].text if card.recurring else "")
        events.append(TimelineEvent(first_error, "First error logged", first))
    members = sorted(entry.members, key=lambda m: (m.started_at is None, m.started_at or first_error or _never()))
    for i, member in enumerate(members):
        events.append(TimelineEvent(member.started_at, "Alert opened" if i == 0 else "Alert joined",
                                    member.policy_name or member.incident_id))
        if member.ended_at is not None and member.ended_at != entry.resolved_at:
            events.append(TimelineEvent(member.ended_at, "Alert closed", member.policy_name or member.incident_id))
    for root in card.root_causes:
        if root.revision:
            previous = f" (previous {root.previous_revision})" if root.previous_revision else ""
            events.append(TimelineEvent(root.first_seen, "Deploy", f"{root.service} revision {root.revision}"
                                                                   f"{previous}"))
    if entry.acknowledged_by:
        events.append(TimelineEvent(entry.acknowledged_at, "Acknowledged", f"by {entry.acknowledged_by}"))
    if entry.silenced_until is not None:
        by = f"by {entry.silenced_by}, " if entry.silenced_by else ""
        events.append(TimelineEvent(None, "Silenced", f"{by}until {entry.silenced_until:%H:%M} UTC"))
    events.append(TimelineEvent(entry.resolved_at, "Resolved", entry.resolution))
    timed = sorted((e for e in events if e.at is not None), key=lambda e: e.at or _never())
    untimed = [e for e in events if e.at is None]
    impact = tuple(
        ServiceImpact(
            service=h.service,
            status=h.status.value,
            peak_error_ratio=max(entry.peaks.get(h.service, 0.0), h.error_ratio),
            failed_requests=round(h.requests * h.error_ratio),
            requests=h.requests,
        )
        for h in card.health
    )
    taken = []
    if entry.acknowledged_by:
        taken.append(f"Acknowledged by {entry.acknowledged_by}")
    if entry.silenced_until is not None:
        taken.append(f"Alert policies snoozed until {entry.silenced_until:%H:%M} UTC"
                     + (f" by {entry.silenced_by}" if entry.silenced_by else ""))
    taken.append(f"Resolved: {entry.resolution}" if entry.resolution else "Resolved")
    return Postmortem(
        key=entry.key,
        environment=entry.key.partition("/")[2],
        severity=card.severity,
        started_at=entry.opened_at,
        resolved_at=entry.resolved_at,
        resolution=entry.resolution,
        timeline=(*timed, *untimed),
        impact=impact,
        root_causes=card.root_causes,
        actions_taken=tuple(taken),
        follow_ups=tuple(a.text for a in card.actions),
        issue_url=entry.issue_url,
    )


def _never() -> datetime:
    from datetime import UTC

    return datetime.max.replace(tzinfo=UTC)


__all__ = ["build_postmortem"]
