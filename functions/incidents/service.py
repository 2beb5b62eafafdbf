"""The incident service: one notification in, the incident's Slack card and tracking issue brought up to date.

Steps: find the incident's ledger entry (the tracking issue's hidden marker, or the local JSON
ledger), fold the alert into it, read the window's evidence, analyse, then deliver to each
surface that does not already show this card (functions.incidents.delivery). Delivery fans out: one surface
failing never skips the other; what succeeded is recorded so that Pub/Sub's redelivery retries only
what failed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from functions.adapters.cloud_logging import LogSample
from functions.adapters.cloud_monitoring import MetricsResult
from functions.analysis.pipeline import AnalysisSettings, ClassifierPort, Knowledge, MinerPort, analyse
from functions.card.incident import build_card, incident_key
from functions.core.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from functions.core.model import (
    Alert,
    AlertState,
    Card,
    ConditionKind,
    Evidence,
    Incident,
    IncidentStatus,
    LogRecord,
    MetricCount,
    RequestStats,
    Severity,
)
from functions.incidents.delivery import ISSUE_LABELS, SLACK_LOOKBACK, Renderers, SurfaceDelivery
from functions.incidents.lifecycle import (
    LedgerEntry,
    Transition,
    apply_alert,
    describe_changes,
    entry_from_json,
    entry_to_json,
    material_digest,
    members_as_alerts,
    snapshot_of,
)
from functions.incidents.ports import ChatSurface, IssueTracker, Ledger

log = logging.getLogger("sitrep")

NOTHING_MATERIAL = "Evidence refreshed; nothing material changed"  # lifecycle.describe_changes' filler line


class LogSource(Protocol):
    """A bounded sample of the window's logs (functions.adapters.cloud_logging)."""

    def read(self, project: str, services: Sequence[str], start: datetime, end: datetime) -> LogSample: ...


class MetricSource(Protocol):
    """Request and signature counts of the window; never raises (functions.adapters.cloud_monitoring)."""

    def read(self, project: str, services: Sequence[str], start: datetime, end: datetime) -> MetricsResult: ...


@dataclass
class Outcome:
    """What one notification did: for logs, tests and the benchmark's call counts."""

    key: str
    transition: Transition
    surfaces: dict[str, str] = field(default_factory=dict)
    incident: Incident | None = None
    card: Card | None = None
    logging_calls: int = 0
    monitoring_calls: int = 0
    errors: list[DeliveryError] = field(default_factory=list)
    skipped: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class EntryChange:
    """A person's action on an incident: the entry it leads to, and the lines that say what they did."""

    entry: LedgerEntry
    notes: tuple[str, ...] = ()


@dataclass
class Services:
    """The adapters a service instance uses; any of them may be absent (no delivery there)."""

    chat: ChatSurface | None = None
    tracker: IssueTracker | None = None
    ledger: Ledger | None = None
    logs: LogSource | None = None
    metrics: MetricSource | None = None


class IncidentService:
    def __init__(
        self,
        *,
        classifier: ClassifierPort,
        miner_factory: Callable[[], MinerPort],
        knowledge: Knowledge,
        redact: Callable[[str], str],
        renderers: Renderers,
        adapters: Services,
        analysis: AnalysisSettings | None = None,
        lookback: timedelta = timedelta(minutes=30),
        regression_window: timedelta = timedelta(hours=24),
        resolve_mode: str = "close",
        interactive: bool = False,
        evidence_scope: str = "project",
    ) -> None:
        self._classifier = classifier
        self._miner_factory = miner_factory
        self._knowledge = knowledge
        self._redact = redact
        self._adapters = adapters
        self._delivery = SurfaceDelivery(
            chat=adapters.chat,
            tracker=adapters.tracker,
            renderers=renderers,
            resolve_mode=resolve_mode,
            interactive=interactive,
        )
        self._analysis = analysis or AnalysisSettings()
        self._lookback = lookback
        self._regression = regression_window
        self._evidence_scope = evidence_scope
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def _lock(self, key: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())

    # --- ledger -----------------------------------------------------------------------------

    def _load(self, key: str, now: datetime) -> tuple[LedgerEntry | None, str]:
        """The entry, and the state ("open"/"closed") of the tracking issue holding it, if any."""
        tracker, ledger = self._adapters.tracker, self._adapters.ledger
        if tracker is not None:
            issue = tracker.find(key, closed_since=now - self._regression)
            if issue is None:
                return None, ""
            entry = entry_from_json(issue.ledger) if issue.ledger else None
            if entry is not None and entry.github.ref != str(issue.number):
                entry = replace(entry, github=replace(entry.github, ref=str(issue.number)))
            return entry, issue.state
        if ledger is not None:
            raw = ledger.load(key)
            return (entry_from_json(raw) if raw else None), ""
        return None, ""

    # --- evidence ---------------------------------------------------------------------------

    def _evidence(
        self, entry: LedgerEntry, now: datetime, outcome: Outcome
    ) -> tuple[Iterable[LogRecord], Callable[[], Evidence]]:
        starts = [m.started_at for m in entry.members if m.started_at]
        start = (min(starts) if starts else now) - self._lookback
        end = entry.resolved_at or now
        project = entry.key.split("/", 1)[0]
        # An incident is a project's environment: by default read every service, so independent
        # failures elsewhere (a database behind another service) are found too.
        services = (
            list(dict.fromkeys(s for m in entry.members for s in m.services))
            if self._evidence_scope == "alert"
            else []
        )
        notes: list[str] = []
        stats: dict[str, RequestStats] = {}
        counts: tuple[MetricCount, ...] = ()
        if self._adapters.metrics is not None:
            metrics = self._adapters.metrics.read(project, services, start, end)
            outcome.monitoring_calls += metrics.calls
            if metrics.error:
                notes.append(metrics.error)
                log.warning("metrics unavailable: card delivered without them", extra={"error": metrics.error,
                                                                                      "incident_key": entry.key})
            stats, counts = metrics.request_stats, metrics.metric_counts
        sample = None
        records: Iterable[LogRecord] = ()
        if self._adapters.logs is not None:
            sample = self._adapters.logs.read(project, services, start, end)
            records = sample.records

        def finish() -> Evidence:
            sampled = False
            if sample is not None:
                outcome.logging_calls += sample.calls
                sampled = sample.truncated
                if sample.error:
                    notes.append(sample.error)
                    log.warning("log evidence incomplete", extra={"error": sample.error, "incident_key": entry.key})
            return Evidence(
                records_seen=sample.seen if sample else 0,
                sampled=sampled,
                request_stats=stats,
                metric_counts=counts,
                notes=tuple(notes),
            )

        return records, finish

    # --- the notification -------------------------------------------------------------------

    def handle(
        self,
        alert: Alert,
        now: datetime | None,
        *,
        records: Iterable[LogRecord] | None = None,
        evidence: Evidence | None = None,
        raise_transient: bool = True,
    ) -> Outcome:
        """Fold `alert` into its incident and bring every surface up to date.

        Raises TransientDeliveryError when a surface failed in a way worth retrying (after recording
        what succeeded), unless `raise_transient` is False (the CLI reports instead). With
        `records`/`evidence` given (the replay), the adapters' sources are not used.
        """
        key = incident_key(alert)
        with self._lock(key):
            outcome = self._handle_locked(alert, key, now, records, evidence)
        if raise_transient:
            _raise_if_transient(outcome)
        return outcome

    def _handle_locked(
        self,
        alert: Alert,
        key: str,
        now: datetime | None,
        records: Iterable[LogRecord] | None,
        evidence: Evidence | None,
    ) -> Outcome:
        clock = now or alert.ended_at or alert.started_at
        if clock is None:
            raise PermanentDeliveryError("the alert carries no time and none was given", surface="ledger")
        ledger_error: DeliveryError | None = None
        try:
            entry, issue_state = self._load(key, clock)
        except DeliveryError as exc:
            if self._adapters.chat is None:
                raise
            # Fan-out: GitHub (the ledger) failing must not keep the card from Slack, which finds its
            # own earlier card by message metadata; GitHub is retried on redelivery if worth it.
            ledger_error, entry, issue_state = exc, None, ""
        transition, updated = apply_alert(entry, alert, key, clock, self._regression)
        outcome = Outcome(key=key, transition=transition)
        if ledger_error is not None:
            outcome.skipped.add("github")
            outcome.surfaces["github"] = f"failed: {ledger_error}"
            outcome.errors.append(ledger_error)
        if updated is None or transition is Transition.STALE:
            return outcome
        if transition is Transition.DUPLICATE and self._all_delivered(updated):
            return outcome
        return self.refresh(updated, alert, clock if now else None, outcome, records, evidence,
                            issue_state=issue_state)

    def _enabled(self) -> dict[str, bool]:
        return {"slack": self._adapters.chat is not None, "github": self._adapters.tracker is not None}

    def _all_delivered(self, entry: LedgerEntry) -> bool:
        enabled = self._enabled()
        slack_ok = not enabled["slack"] or (
            entry.slack.ref != "" and entry.slack.digest == entry.digest and entry.slack.generation == entry.generation
        )
        github_ok = not enabled["github"] or (entry.github.ref != "" and entry.github.digest == entry.digest)
        return bool(entry.digest) and slack_ok and github_ok

    def load_entry(self, key: str, now: datetime) -> LedgerEntry | None:
        """The incident's ledger entry (the tracking issue's marker or the local ledger), None when there is none."""
        return self._load(key, now)[0]

    def apply(
        self,
        key: str,
        change: Callable[[LedgerEntry | None], EntryChange | None],
        now: datetime,
        *,
        raise_transient: bool = True,
    ) -> Outcome | None:
        """Load the incident's entry, let `change` decide what a person's action does, then refresh and save.

        `change` gets the entry (None: no such incident) and returns the new entry with the notes that
        explain it, or None for no change; it runs under the incident's lock, so it may do its own I/O
        (a snooze) without racing another update. With no change, surfaces a previous attempt failed to
        update are retried; None is returned when there was nothing to deliver.
        """
        with self._lock(key):
            entry, issue_state = self._load(key, now)
            decided = change(entry)
            if decided is None:
                if entry is None or self._all_delivered(entry):
                    return None
                decided = EntryChange(entry)
            outcome = Outcome(key=key, transition=Transition.UPDATED)
            outcome = self.refresh(decided.entry, None, now, outcome, issue_state=issue_state, notes=decided.notes)
        if raise_transient:
            _raise_if_transient(outcome)
        return outcome

    def refresh(
        self,
        entry: LedgerEntry,
        alert: Alert | None,
        now: datetime | None,
        outcome: Outcome,
        records: Iterable[LogRecord] | None = None,
        evidence: Evidence | None = None,
        *,
        issue_state: str = "",
        notes: Sequence[str] = (),
    ) -> Outcome:
        """Re-analyse the incident's window and deliver what changed (also used by Slack's Refresh).

        `notes` (what a person did from Slack) lead the thread reply and the issue comment.
        """
        if records is None:
            moment = now or entry.resolved_at or entry.opened_at
            if moment is None:
                raise PermanentDeliveryError("the incident has no time to read evidence for", surface="logging")
            records, finish = self._evidence(entry, moment, outcome)
        else:
            given = evidence

            def finish() -> Evidence:
                return given or Evidence(records_seen=0, sampled=False, request_stats={})

        template = alert or _alert_from_entry(entry)
        alerts = members_as_alerts(entry, template)
        incident = analyse(
            alerts,
            records,
            classifier=self._classifier,
            miner=self._miner_factory(),
            knowledge=self._knowledge,
            now=now,
            evidence=finish,
            settings=self._analysis,
            previous_templates=frozenset(entry.snapshot.templates),
        )
        card = build_card(incident, self._redact)
        digest = material_digest(card, entry)
        entry = replace(entry, digest=digest)
        outcome.incident, outcome.card = incident, card
        changes = describe_changes(entry.snapshot, snapshot_of(card), outcome.transition, alert)
        if notes:
            changes = [*notes, *(c for c in changes if c != NOTHING_MATERIAL)]
        # The snapshot is recorded before delivering: the tracking issue's body stores the entry as it is
        # delivered, and a lagging snapshot there made every later update re-announce the same changes.
        entry = replace(entry, snapshot=snapshot_of(card))
        entry = self._delivery.deliver(entry, card, changes, outcome, issue_state)
        self._save(entry, card, outcome)
        for error in outcome.errors:
            if error.retryable:
                continue  # the caller logs it once when it asks Pub/Sub to redeliver
            log.error(
                "delivery failed",
                extra={"sitrep_event": "sitrep_failure", "surface": error.surface, "retryable": error.retryable,
                       "error": str(error), "incident_key": entry.key},
            )
        return outcome

    # --- the file ledger ------------------------------------------------------------------

    def _save(self, entry: LedgerEntry, card: Card, outcome: Outcome) -> None:
        """The file ledger is written after every handled notification (the issue body already was)."""
        if self._adapters.tracker is None and self._adapters.ledger is not None:
            try:
                self._adapters.ledger.save(entry.key, entry_to_json(entry))
            except DeliveryError as exc:
                outcome.errors.append(exc)


def _raise_if_transient(outcome: Outcome) -> None:
    """Ask Pub/Sub to redeliver when a surface failed in a way worth retrying (what succeeded is recorded)."""
    transient = [e for e in outcome.errors if e.retryable]
    if transient:
        raise TransientDeliveryError(
            f"{len(transient)} surface(s) failed transiently ({'; '.join(str(e) for e in transient)}); "
            "the redelivery retries only those",
            surface=transient[0].surface,
            retry_after=transient[0].retry_after,
        )


def _alert_from_entry(entry: LedgerEntry) -> Alert:
    first = entry.members[0]
    project, _, env = entry.key.partition("/")
    return Alert(
        incident_id=first.incident_id,
        state=first.state if entry.status is IncidentStatus.ACTIVE else AlertState.CLOSED,
        policy_name=first.policy_name,
        condition_name="",
        condition_kind=ConditionKind.UNKNOWN,
        project_id=project,
        started_at=first.started_at,
        ended_at=first.ended_at,
        severity=Severity.ERROR,
        url=first.url,
        environment=env,
        services=first.services,
    )


__all__ = [
    "ISSUE_LABELS",
    "NOTHING_MATERIAL",
    "SLACK_LOOKBACK",
    "EntryChange",
    "IncidentService",
    "LogSource",
    "MetricSource",
    "Outcome",
    "Renderers",
    "Services",
]
