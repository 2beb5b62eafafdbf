"""Incident lifecycle (docs/ARCHITECTURE.md), pure: which incident an alert joins, and what each surface still needs.

The ledger entry is the whole memory of an incident: its member alerts and their states, and per
surface (Slack, GitHub) what was last delivered. Deliveries compare the card's material digest
with what a surface already shows, so a redelivered notification changes nothing and a surface
that failed last time is the only one retried.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final, TypeVar

from functions.card.changes import Change, Snapshot
from functions.core.model import Alert, AlertState, Card, ConditionKind, IncidentStatus, Severity

LEDGER_VERSION = 1


class Transition(StrEnum):
    """What an alert did to its incident."""

    OPENED = "opened"  # first alert of a new incident
    JOINED = "joined"  # another alert joined an open incident
    UPDATED = "updated"  # a known alert fired again, or changed nothing but the evidence
    ALERT_CLOSED = "alert_closed"  # one member closed, others still open
    RESOLVED = "resolved"  # the last open member closed
    REGRESSED = "regressed"  # a new alert within the regression window of a resolved incident
    DUPLICATE = "duplicate"  # same alert id and state already seen: nothing to do
    STALE = "stale"  # an OPEN arriving after that alert's CLOSED: out of order, ignored
    UNCHANGED = "unchanged"  # a tick found nothing material: nothing was written


@dataclass(frozen=True)
class Member:
    incident_id: str
    policy_name: str
    state: AlertState
    started_at: datetime | None = None
    ended_at: datetime | None = None
    url: str = ""
    services: tuple[str, ...] = ()
    policy_id: str = ""
    # Kept so that a refresh rebuilds each member as it fired: a WARNING member stays WARNING, and the
    # tick knows which members are log-match policies (which never send CLOSED) and what they match.
    severity: Severity = Severity.ERROR
    condition_kind: ConditionKind = ConditionKind.UNKNOWN
    log_filter: str = ""


MAX_LOG_FILTER_CHARS = 2_000  # a log-match filter kept in the ledger for the quiet check; longer ones are not


@dataclass(frozen=True)
class SurfaceState:
    """What one surface shows: where (Slack 'channel:ts' or issue number) and the digest delivered there."""

    ref: str = ""
    digest: str = ""
    generation: int = 0


@dataclass(frozen=True)
class LedgerEntry:
    key: str
    generation: int
    status: IncidentStatus
    opened_at: datetime | None
    resolved_at: datetime | None
    members: tuple[Member, ...]
    slack: SurfaceState = field(default_factory=SurfaceState)
    github: SurfaceState = field(default_factory=SurfaceState)
    snapshot: Snapshot = field(default_factory=Snapshot)
    digest: str = ""
    regressed: bool = False
    acknowledged_by: str = ""
    acknowledged_at: datetime | None = None
    silenced_until: datetime | None = None
    resolved_by: str = ""
    silenced_by: str = ""
    resolution: str = ""  # why it resolved, in words (the card, the thread and the postmortem say it)
    issue_url: str = ""  # the tracking issue's web address, for the Slack postmortem summary
    peaks: Mapping[str, float] = field(default_factory=dict)  # service -> highest 5xx ratio seen at an update
    notified: tuple[str, ...] = ()  # owners already mentioned for this incident (each exactly once)

    def member(self, incident_id: str) -> Member | None:
        return next((m for m in self.members if m.incident_id == incident_id), None)

    @property
    def open_members(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.state is AlertState.OPEN)


def _member(alert: Alert) -> Member:
    return Member(
        alert.incident_id,
        alert.policy_name,
        alert.state,
        alert.started_at,
        alert.ended_at,
        alert.url,
        alert.services,
        alert.policy_id,
        alert.severity,
        alert.condition_kind,
        alert.condition_filter
        if alert.condition_kind is ConditionKind.LOG_MATCH and len(alert.condition_filter) <= MAX_LOG_FILTER_CHARS
        else "",
    )


def apply_alert(
    entry: LedgerEntry | None,
    alert: Alert,
    key: str,
    now: datetime,
    regression_window: timedelta,
) -> tuple[Transition, LedgerEntry | None]:
    """Fold one notification into the incident's ledger entry; (transition, new entry or None)."""
    if entry is None or (
        entry.status is IncidentStatus.RESOLVED
        and entry.member(alert.incident_id) is None
        and not _within(entry.resolved_at, now, regression_window)
    ):
        if alert.state is AlertState.CLOSED:
            return Transition.STALE, entry  # a CLOSED for an incident we never opened: nothing to resolve
        generation = (entry.generation + 1) if entry else 1
        return Transition.OPENED, LedgerEntry(
            key=key,
            generation=generation,
            status=IncidentStatus.ACTIVE,
            opened_at=alert.started_at or now,
            resolved_at=None,
            members=(_member(alert),),
        )
    known = entry.member(alert.incident_id)
    if known is not None and known.state is alert.state:
        return Transition.DUPLICATE, entry
    if known is not None and known.state is AlertState.CLOSED and alert.state is AlertState.OPEN:
        return Transition.STALE, entry
    if known is None and alert.state is AlertState.CLOSED:
        if entry.status is IncidentStatus.RESOLVED:
            return Transition.STALE, entry
        # A CLOSED that overtook its own OPEN: record the alert as closed, so the late OPEN is ignored.
        members = (*entry.members, _member(alert))
        return Transition.UPDATED, replace(entry, members=members)
    members = (*tuple(m for m in entry.members if m.incident_id != alert.incident_id), _member(alert))
    if entry.status is IncidentStatus.RESOLVED:
        # A new alert soon after resolution: the same outage is back. Readers get a new Slack card
        # (a new generation); the tracking issue is reopened and says it regressed.
        return Transition.REGRESSED, replace(
            entry,
            generation=entry.generation + 1,
            status=IncidentStatus.ACTIVE,
            opened_at=alert.started_at or now,
            resolved_at=None,
            members=(_member(alert),),
            slack=SurfaceState(),
            snapshot=Snapshot(),
            regressed=True,
            resolved_by="",
            acknowledged_by="",
            acknowledged_at=None,
            resolution="",
            peaks={},
            notified=(),
        )
    if alert.state is AlertState.OPEN:
        transition = Transition.JOINED if known is None else Transition.UPDATED
        return transition, replace(entry, members=members)
    updated = replace(entry, members=members)
    if updated.open_members:
        return Transition.ALERT_CLOSED, updated
    return Transition.RESOLVED, replace(
        updated,
        status=IncidentStatus.RESOLVED,
        resolved_at=alert.ended_at or now,
        resolution=entry.resolution or RESOLVED_ALL_CLOSED,
    )


RESOLVED_ALL_CLOSED: Final = "every alert of the incident closed"


def resolve_manually(entry: LedgerEntry, who: str, now: datetime, why: str = "") -> LedgerEntry:
    """Resolved without a CLOSED notification (a person in Slack, or the tick): every member counts as closed,
    so a later CLOSED is a no-op; `why` is what the card and the postmortem say."""
    members = tuple(replace(m, state=AlertState.CLOSED, ended_at=m.ended_at or now) for m in entry.members)
    return replace(entry, status=IncidentStatus.RESOLVED, resolved_at=now, members=members, resolved_by=who,
                   resolution=why or (f"resolved by {who} in Slack" if who else RESOLVED_ALL_CLOSED))


def _within(moment: datetime | None, now: datetime, window: timedelta) -> bool:
    return moment is not None and now - moment <= window


def material_digest(card: Card, entry: LedgerEntry) -> str:
    """What makes an update worth posting: status, severity, health, roots, members, people's actions.

    Counts that merely grow are not material (they would re-post on every redelivery).
    """
    material = {
        "status": card.status.value,
        "severity": card.severity.value,
        "health": sorted((h.service, h.status.value) for h in card.health),
        "roots": [(r.signature, r.service, r.revision) for r in card.root_causes],
        "members": sorted((m.incident_id, m.state.value) for m in entry.members),
        "ack": entry.acknowledged_by,
        "silenced": entry.silenced_until.isoformat() if entry.silenced_until else "",
        "resolved_by": entry.resolved_by,
        "generation": entry.generation,
    }
    blob = json.dumps(material, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def transition_change(transition: Transition, alert: Alert | None) -> Change | None:
    """The line an update leads with when the notification itself changed the incident."""
    if transition is Transition.JOINED and alert is not None:
        return Change("Alert joined", alert.policy_name or alert.incident_id)
    if transition is Transition.ALERT_CLOSED and alert is not None:
        return Change("Alert closed", f"{alert.policy_name or alert.incident_id} (others still open)")
    if transition is Transition.RESOLVED:
        return Change("Resolved", "every alert of the incident has closed")
    if transition is Transition.REGRESSED:
        return Change("Regressed", "the incident fired again soon after it resolved")
    return None


# --- serialisation: the ledger lives in JSON (a file, or the tracking issue's hidden marker) ---


def _dt(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse_dt(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def entry_to_json(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "v": LEDGER_VERSION,
        "key": entry.key,
        "generation": entry.generation,
        "status": entry.status.value,
        "opened_at": _dt(entry.opened_at),
        "resolved_at": _dt(entry.resolved_at),
        "members": [
            {
                "id": m.incident_id,
                "policy": m.policy_name,
                "state": m.state.value,
                "started_at": _dt(m.started_at),
                "ended_at": _dt(m.ended_at),
                "url": m.url,
                "services": list(m.services),
                "policy_id": m.policy_id,
                "severity": m.severity.value,
                "kind": m.condition_kind.value,
                **({"log_filter": m.log_filter} if m.log_filter else {}),
            }
            for m in entry.members
        ],
        "slack": {"ref": entry.slack.ref, "digest": entry.slack.digest, "generation": entry.slack.generation},
        "github": {"ref": entry.github.ref, "digest": entry.github.digest, "generation": entry.github.generation},
        "snapshot": {
            "status": entry.snapshot.status,
            "severity": entry.snapshot.severity,
            "health": dict(entry.snapshot.health),
            "roots": list(entry.snapshot.roots),
            "templates": list(entry.snapshot.templates),
        },
        "digest": entry.digest,
        "regressed": entry.regressed,
        "acknowledged_by": entry.acknowledged_by,
        "acknowledged_at": _dt(entry.acknowledged_at),
        "silenced_until": _dt(entry.silenced_until),
        "resolved_by": entry.resolved_by,
        "silenced_by": entry.silenced_by,
        "resolution": entry.resolution,
        "issue_url": entry.issue_url,
        "peaks": {k: round(v, 4) for k, v in entry.peaks.items()},
        "notified": list(entry.notified),
    }


def _surface(raw: Any) -> SurfaceState:
    if not isinstance(raw, Mapping):
        return SurfaceState()
    generation = raw.get("generation", 0)
    return SurfaceState(
        ref=str(raw.get("ref", "")),
        digest=str(raw.get("digest", "")),
        generation=generation if isinstance(generation, int) else 0,
    )


_E = TypeVar("_E", Severity, ConditionKind)


def _enum(kind: type[_E], value: Any, default: _E) -> _E:
    """A stored enum value; entries written before the field existed get `default` (what was assumed then)."""
    try:
        return kind(value)
    except ValueError:
        return default


def entry_from_json(raw: Mapping[str, Any]) -> LedgerEntry | None:
    """Parse a stored entry; None when it is not one (a hand-edited or foreign marker)."""
    try:
        members = tuple(
            Member(
                incident_id=str(m["id"]),
                policy_name=str(m.get("policy", "")),
                state=AlertState(m["state"]),
                started_at=_parse_dt(m.get("started_at")),
                ended_at=_parse_dt(m.get("ended_at")),
                url=str(m.get("url", "")),
                services=tuple(str(x) for x in m.get("services", [])),
                policy_id=str(m.get("policy_id", "")),
                severity=_enum(Severity, m.get("severity"), Severity.ERROR),
                condition_kind=_enum(ConditionKind, m.get("kind"), ConditionKind.UNKNOWN),
                log_filter=str(m.get("log_filter", ""))[:MAX_LOG_FILTER_CHARS],
            )
            for m in raw.get("members", [])
        )
        snap = raw.get("snapshot") or {}
        return LedgerEntry(
            key=str(raw["key"]),
            generation=int(raw.get("generation", 1)),
            status=IncidentStatus(raw["status"]),
            opened_at=_parse_dt(raw.get("opened_at")),
            resolved_at=_parse_dt(raw.get("resolved_at")),
            members=members,
            slack=_surface(raw.get("slack")),
            github=_surface(raw.get("github")),
            snapshot=Snapshot(
                status=str(snap.get("status", "")),
                severity=str(snap.get("severity", "")),
                health={str(k): str(v) for k, v in dict(snap.get("health", {})).items()},
                roots=tuple(str(r) for r in snap.get("roots", [])),
                templates=tuple(str(t) for t in snap.get("templates", [])),
            ),
            digest=str(raw.get("digest", "")),
            regressed=bool(raw.get("regressed", False)),
            acknowledged_by=str(raw.get("acknowledged_by", "")),
            acknowledged_at=_parse_dt(raw.get("acknowledged_at")),
            silenced_until=_parse_dt(raw.get("silenced_until")),
            resolved_by=str(raw.get("resolved_by", "")),
            silenced_by=str(raw.get("silenced_by", "")),
            resolution=str(raw.get("resolution", "")),
            issue_url=str(raw.get("issue_url", "")),
            peaks={str(k): float(v) for k, v in dict(raw.get("peaks") or {}).items()},
            notified=tuple(str(x) for x in raw.get("notified") or ()),
        )
    except (KeyError, ValueError, TypeError, AttributeError):
        return None


def member_alert(entry: LedgerEntry, member: Member) -> Alert:
    """One member of the incident as the Alert its notification carried (as far as the ledger keeps it)."""
    project, _, environment = entry.key.partition("/")
    return Alert(
        incident_id=member.incident_id,
        state=member.state,
        policy_name=member.policy_name,
        condition_name="",
        condition_kind=member.condition_kind,
        project_id=project,
        started_at=member.started_at,
        ended_at=member.ended_at,
        severity=member.severity,
        url=member.url,
        environment=environment,
        services=member.services,
        policy_id=member.policy_id,
        condition_filter=member.log_filter,
    )


def members_as_alerts(entry: LedgerEntry, template: Alert) -> Sequence[Alert]:
    """The incident's member alerts as Alerts (for the card), the current one taking its fresh form."""
    out: list[Alert] = []
    for m in entry.members:
        if m.incident_id == template.incident_id:
            out.append(template)
        else:
            out.append(
                replace(
                    template,
                    incident_id=m.incident_id,
                    policy_name=m.policy_name,
                    state=m.state,
                    started_at=m.started_at,
                    ended_at=m.ended_at,
                    url=m.url,
                    services=m.services,
                    policy_id=m.policy_id,
                    severity=m.severity,
                    condition_kind=m.condition_kind,
                    condition_filter=m.log_filter,
                )
            )
    if entry.status is IncidentStatus.RESOLVED:
        out = [replace(a, state=AlertState.CLOSED) for a in out]
    return out
