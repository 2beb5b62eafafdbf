"""The tick: every few minutes (Cloud Scheduler publishes `{"sitrep_tick": {}}` to the alert topic) the
active incidents are revisited, so that they stay true between notifications.

For each visited incident, under its lock (IncidentService.apply):
- reconcile its members with Cloud Monitoring's Alerts API: a member the API no longer lists as OPEN is
  read back and, if CLOSED, closed here (its CLOSED notification was lost or is late); an OPEN alert of
  the same project and environment that is not a member joins (its OPEN notification was lost);
- quiet resolve: an incident made only of log-match members (such policies never send CLOSED) resolves
  once no matching entry was logged for the quiet period, and says so;
- refresh the evidence and deliver only what is material (IncidentService's digest rules): a tick that
  changed nothing writes nothing to Slack, GitHub or the ledger.

Bounded: at most `max_incidents` incidents per tick (rotating through more, one slice per tick), one
Alerts API list per project, at most `max_alert_reads` alert reads, one Logging call per quiet check.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Final

from functions.card.changes import Change
from functions.card.incident import incident_key
from functions.core.errors import DeliveryError
from functions.core.model import Alert, AlertState, ConditionKind, IncidentStatus
from functions.incidents.lifecycle import (
    LedgerEntry,
    Transition,
    apply_alert,
    entry_from_json,
    member_alert,
    resolve_manually,
)
from functions.incidents.ports import AlertSource, AlertsRead, IssueTracker, Ledger, RecentLogs
from functions.incidents.service import EntryChange, IncidentService, Outcome

MESSAGE_KEY: Final = "sitrep_tick"
JOIN_LOOKBACK: Final = timedelta(hours=1)  # an OPEN alert older than the incident by more than this is not its own

log = logging.getLogger("sitrep")


def is_tick_message(raw: bytes) -> bool:
    """Whether a Pub/Sub message is the scheduler's tick (`{"sitrep_tick": {}}`), not a notification."""
    if MESSAGE_KEY.encode() not in raw[:64]:
        return False
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    return isinstance(document, dict) and isinstance(document.get(MESSAGE_KEY), dict)


@dataclass(frozen=True)
class TickSettings:
    quiet: timedelta = timedelta(minutes=30)
    max_incidents: int = 5
    max_alert_reads: int = 20
    period: timedelta = timedelta(minutes=5)  # the scheduler's period: which slice of incidents a tick visits


@dataclass(frozen=True)
class TickReport:
    """What one tick did: the incidents visited, each outcome (None: nothing to deliver), the API calls."""

    active: int
    visited: tuple[str, ...] = ()
    outcomes: tuple[Outcome | None, ...] = ()
    alerts_calls: int = 0
    logging_calls: int = 0
    notes: tuple[str, ...] = field(default=())


@dataclass
class _Budget:
    alert_reads: int
    alerts_calls: int = 0
    logging_calls: int = 0


class Ticker:
    def __init__(
        self,
        incidents: IncidentService,
        *,
        tracker: IssueTracker | None,
        ledger: Ledger | None,
        alerts: AlertSource | None,
        recent: RecentLogs | None,
        group: Callable[[Alert], Alert],
        settings: TickSettings | None = None,
    ) -> None:
        self._incidents = incidents
        self._tracker = tracker
        self._ledger = ledger
        self._alerts = alerts
        self._recent = recent
        self._group = group
        self._settings = settings or TickSettings()

    def active_keys(self) -> list[str]:
        """Keys of the ACTIVE incidents: open tracking issues carrying a ledger, else the file ledger's entries."""
        entries: list[LedgerEntry] = []
        if self._tracker is not None:
            for issue in self._tracker.list_open():
                entry = entry_from_json(issue.ledger) if issue.ledger else None
                if entry is not None:
                    entries.append(entry)
        elif self._ledger is not None:
            for key in self._ledger.keys():  # noqa: SIM118 - a Ledger port, not a dict
                raw = self._ledger.load(key)
                entry = entry_from_json(raw) if raw else None
                if entry is not None:
                    entries.append(entry)
        return sorted({e.key for e in entries if e.status is IncidentStatus.ACTIVE})

    def run(self, now: datetime) -> TickReport:
        """Visit this tick's slice of the active incidents; raises only TransientDeliveryError (redelivery)."""
        keys = self.active_keys()
        if not keys:
            return TickReport(0)
        size = self._settings.max_incidents
        slices = math.ceil(len(keys) / size)
        index = int(now.timestamp() // max(1, self._settings.period.total_seconds())) % slices
        visit = keys[index * size:(index + 1) * size]
        budget = _Budget(self._settings.max_alert_reads)
        open_by_project: dict[str, AlertsRead] = {}
        notes: list[str] = []
        if self._alerts is not None:
            for project in dict.fromkeys(k.split("/", 1)[0] for k in visit):
                read = self._alerts.open_alerts(project)
                budget.alerts_calls += read.calls
                open_by_project[project] = read
                if read.error:
                    notes.append(read.error)
                    log.warning("alerts API read failed: no reconciliation this tick",
                                extra={"project": project, "error": read.error})
        outcomes: list[Outcome | None] = []
        transient: DeliveryError | None = None
        for key in visit:
            project = key.split("/", 1)[0]

            def change(entry: LedgerEntry | None, project: str = project) -> EntryChange | None:
                return self._decide(entry, open_by_project.get(project), budget, now)

            try:
                outcomes.append(self._incidents.apply(key, change, now, material_only=True))
            except DeliveryError as exc:  # one incident failing never keeps the others from their tick
                if not exc.retryable:
                    raise
                transient = transient or exc
                outcomes.append(None)
        if transient is not None:
            raise transient
        return TickReport(len(keys), tuple(visit), tuple(outcomes), budget.alerts_calls, budget.logging_calls,
                          tuple(notes))

    # --- the decision for one incident (under its lock) ------------------------------------------

    def _decide(
        self, entry: LedgerEntry | None, open_alerts: AlertsRead | None, budget: _Budget, now: datetime
    ) -> EntryChange | None:
        if entry is None or entry.status is not IncidentStatus.ACTIVE:
            return None
        notes: list[Change] = []
        transition = Transition.UPDATED
        if open_alerts is not None and not open_alerts.error:
            entry, transition = self._reconcile(entry, open_alerts, budget, now, notes)
        if entry.status is IncidentStatus.ACTIVE:
            quiet = self._quiet_resolution(entry, budget, now)
            if quiet:
                entry = resolve_manually(entry, "", now, why=quiet)
                notes.append(Change("Resolved", quiet))
                transition = Transition.UPDATED  # the note says why; no alert closed
        return EntryChange(entry, tuple(notes), transition)

    def _reconcile(
        self, entry: LedgerEntry, open_alerts: AlertsRead, budget: _Budget, now: datetime, notes: list[Change]
    ) -> tuple[LedgerEntry, Transition]:
        """Fold what the Alerts API knows and the notifications missed into the entry."""
        transition = Transition.UPDATED
        project = entry.key.split("/", 1)[0]
        open_ids = {a.incident_id for a in open_alerts.alerts}
        gone = [m.incident_id for m in entry.open_members if m.incident_id not in open_ids]
        gone = gone[: max(0, budget.alert_reads)]
        if gone and self._alerts is not None:
            read = self._alerts.alerts(project, gone)
            budget.alert_reads -= read.calls
            budget.alerts_calls += read.calls
            for api in read.alerts:
                member = entry.member(api.incident_id)
                if api.state is not AlertState.CLOSED or member is None:
                    continue
                closed = replace(member_alert(entry, member), state=AlertState.CLOSED,
                                 ended_at=api.ended_at or now)
                step, updated = apply_alert(entry, closed, entry.key, now, timedelta(0))
                if updated is not None and step in (Transition.ALERT_CLOSED, Transition.RESOLVED):
                    entry, transition = updated, step
                    at = f" at {closed.ended_at:%H:%M} UTC" if closed.ended_at else ""
                    notes.append(Change("Alert closed", f"{member.policy_name or member.incident_id}{at} "
                                                        "(from Cloud Monitoring; its notification did not arrive)"))
        if entry.status is not IncidentStatus.ACTIVE:
            return entry, transition
        earliest = (entry.opened_at or now) - JOIN_LOOKBACK
        for api in open_alerts.alerts:
            alert = self._group(api)
            if entry.member(alert.incident_id) is not None or incident_key(alert) != entry.key:
                continue
            if alert.started_at is not None and alert.started_at < earliest:
                continue
            step, updated = apply_alert(entry, alert, entry.key, now, timedelta(0))
            if updated is not None and step is Transition.JOINED:
                entry, transition = updated, Transition.JOINED if transition is Transition.UPDATED else transition
                notes.append(Change("Alert joined", f"{alert.policy_name or alert.incident_id} "
                                                    "(from Cloud Monitoring; its notification did not arrive)"))
        return entry, transition

    def _quiet_resolution(self, entry: LedgerEntry, budget: _Budget, now: datetime) -> str:
        """Why a log-match-only incident resolves now ("" while it may not): no matching entry for the quiet
        period. Log-match policies send OPEN only, so without this their incidents would never end."""
        quiet = self._settings.quiet
        if (self._recent is None or not entry.members
                or any(m.condition_kind is not ConditionKind.LOG_MATCH for m in entry.members)):
            return ""
        if entry.opened_at is not None and now - entry.opened_at < quiet:
            return ""
        filters = [m.log_filter for m in entry.members]
        log_filter = " OR ".join(f"({f})" for f in filters) if all(filters) else ""
        services = list(dict.fromkeys(s for m in entry.members for s in m.services))
        newest, calls, error = self._recent.newest(entry.key.split("/", 1)[0], log_filter, services, now - quiet, now)
        budget.logging_calls += calls
        if error or newest is not None:
            return ""
        minutes = int(quiet.total_seconds() // 60)
        return f"quiet: no matching log entries for {minutes} min (log-match alerts never send CLOSED)"






__all__ = ["MESSAGE_KEY", "TickReport", "TickSettings", "Ticker", "is_tick_message"]
