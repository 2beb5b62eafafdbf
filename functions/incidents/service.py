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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from functions.analysis.changes import revisions_to_read
from functions.analysis.pipeline import AnalysisSettings, ClassifierPort, Knowledge, MinerPort, analyse
from functions.card.changes import NOTHING_MATERIAL, Change, describe_changes, snapshot_of
from functions.card.incident import build_card, incident_key, with_resolution
from functions.core.contracts import EvidenceScope, ResolveMode, Surface, failure_fields
from functions.core.errors import DeliveryError, InputError, TransientDeliveryError
from functions.core.model import (
    Alert,
    AlertState,
    Card,
    Evidence,
    Incident,
    IncidentStatus,
    LogRecord,
)
from functions.core.project_changes import AuditChange, ChangeEvidence, RevisionSpec
from functions.incidents.delivery import Renderers, SurfaceDelivery
from functions.incidents.lifecycle import (
    RESOLVED_ALL_CLOSED,
    LedgerEntry,
    Transition,
    apply_alert,
    entry_from_json,
    entry_to_json,
    material_digest,
    member_alert,
    members_as_alerts,
    transition_change,
)
from functions.incidents.owners import OwnerMap
from functions.incidents.ports import (
    AuditSource,
    ChatSurface,
    IssueTracker,
    Ledger,
    LogSource,
    MetricSource,
    RevisionSource,
)

log = logging.getLogger("sitrep")

@dataclass(frozen=True)
class Outcome:
    """What one notification (or a person's action) did: for the caller's log line, tests and the benchmark."""

    key: str
    transition: Transition
    surfaces: Mapping[str, str] = field(default_factory=dict)
    incident: Incident | None = None
    card: Card | None = None
    logging_calls: int = 0
    monitoring_calls: int = 0
    errors: tuple[DeliveryError, ...] = ()
    run_calls: int = 0


@dataclass(frozen=True)
class _Window:
    """The evidence read for one update, whole, before analysis starts."""

    records: Iterable[LogRecord | AuditChange]  # a replay's export streams both; a live sample is read whole
    evidence: Evidence
    logging_calls: int = 0
    monitoring_calls: int = 0
    run_calls: int = 0


@dataclass(frozen=True)
class EntryChange:
    """A person's action on an incident: the entry it leads to, and the lines that say what they did."""

    entry: LedgerEntry
    notes: tuple[Change, ...] = ()
    transition: Transition = Transition.UPDATED


@dataclass
class Services:
    """The adapters a service instance uses; any of them may be absent (no delivery there)."""

    chat: ChatSurface | None = None
    tracker: IssueTracker | None = None
    ledger: Ledger | None = None
    logs: LogSource | None = None
    metrics: MetricSource | None = None
    audit: AuditSource | None = None
    revisions: RevisionSource | None = None


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
        resolve_mode: ResolveMode = ResolveMode.CLOSE,
        interactive: bool = False,
        evidence_scope: EvidenceScope = EvidenceScope.PROJECT,
        owners: OwnerMap | None = None,
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
            owners=owners,
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
            if entry is not None and issue.url and entry.issue_url != issue.url:
                entry = replace(entry, issue_url=issue.url)
            return entry, issue.state
        if ledger is not None:
            raw = ledger.load(key)
            return (entry_from_json(raw) if raw else None), ""
        return None, ""

    # --- evidence ---------------------------------------------------------------------------

    def _read_window(self, entry: LedgerEntry, now: datetime) -> _Window:
        """Metrics and the bounded log sample of the incident's window; what could not be read becomes a note."""
        starts = [m.started_at for m in entry.members if m.started_at]
        start = (min(starts) if starts else now) - self._lookback
        end = entry.resolved_at or now
        project = entry.key.split("/", 1)[0]
        # An incident is a project's environment: by default read every service, so independent
        # failures elsewhere (a database behind another service) are found too.
        services = (
            list(dict.fromkeys(s for m in entry.members for s in m.services))
            if self._evidence_scope is EvidenceScope.ALERT
            else []
        )
        notes: list[str] = []
        metrics = self._adapters.metrics.read(project, services, start, end) if self._adapters.metrics else None
        if metrics is not None and metrics.error:
            notes.append(metrics.error)
            log.warning("metrics unavailable: card delivered without them",
                        extra={"error": metrics.error, "incident_key": entry.key})
        sample = self._adapters.logs.read(project, services, start, end) if self._adapters.logs else None
        if sample is not None and sample.error:
            notes.append(sample.error)
            log.warning("log evidence incomplete", extra={"error": sample.error, "incident_key": entry.key})
        changes, audit_calls, run_calls = self._read_changes(project, start, end, sample.records if sample else ())
        evidence = Evidence(
            sampled=bool(sample and sample.truncated),
            request_stats=dict(metrics.request_stats) if metrics else {},
            metric_counts=metrics.metric_counts if metrics else (),
            notes=tuple(notes),
            changes=changes,
        )
        return _Window(
            records=sample.records if sample else (),
            evidence=evidence,
            logging_calls=(sample.calls if sample else 0) + audit_calls,
            monitoring_calls=metrics.calls if metrics else 0,
            run_calls=run_calls,
        )

    def _read_changes(
        self, project: str, start: datetime, end: datetime, records: Sequence[LogRecord]
    ) -> tuple[ChangeEvidence | None, int, int]:
        """The window's changes (one audit page) and the revisions of its newest deploy (at most two reads)."""
        if self._adapters.audit is None:
            return None, 0, 0
        found = self._adapters.audit.read_changes(project, start, end)
        revisions: tuple[RevisionSpec, ...] = ()
        run_calls, errors = 0, [found.error] if found.error else []
        names = revisions_to_read(found.audit, records)
        if names and self._adapters.revisions is not None:
            read = self._adapters.revisions.read_revisions(names)
            revisions, run_calls = read.revisions, read.calls
            if read.error:
                log.warning("revisions unavailable: the diff comes from the audit entries",
                            extra={"error": read.error})
        return ChangeEvidence(start, end, found.audit, revisions, error="; ".join(errors)), found.calls, run_calls

    # --- the notification -------------------------------------------------------------------

    def handle(
        self,
        alert: Alert,
        now: datetime | None,
        *,
        records: Iterable[LogRecord | AuditChange] | None = None,
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
        records: Iterable[LogRecord | AuditChange] | None,
        evidence: Evidence | None,
    ) -> Outcome:
        clock = now or alert.ended_at or alert.started_at
        if clock is None:
            raise InputError("the alert carries no time (no started_at or ended_at) and none was given")
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
        if updated is None or transition is Transition.STALE or (
            transition is Transition.DUPLICATE and self._all_delivered(updated)
        ):
            return Outcome(key, transition, _unread(ledger_error), errors=(ledger_error,) if ledger_error else ())
        return self.refresh(updated, transition, alert, clock if now else None, records, evidence,
                            issue_state=issue_state, unread=ledger_error)

    def _enabled(self) -> dict[str, bool]:
        return {Surface.SLACK: self._adapters.chat is not None, Surface.GITHUB: self._adapters.tracker is not None}

    def _all_delivered(self, entry: LedgerEntry) -> bool:
        enabled = self._enabled()
        slack_ok = not enabled[Surface.SLACK] or (
            entry.slack.ref != "" and entry.slack.digest == entry.digest and entry.slack.generation == entry.generation
        )
        github_ok = not enabled[Surface.GITHUB] or (entry.github.ref != "" and entry.github.digest == entry.digest)
        return bool(entry.digest) and slack_ok and github_ok

    def apply(
        self,
        key: str,
        change: Callable[[LedgerEntry | None], EntryChange | None],
        now: datetime,
        *,
        raise_transient: bool = True,
        material_only: bool = False,
    ) -> Outcome | None:
        """Load the incident's entry, let `change` decide what a person's action does, then refresh and save.

        `change` gets the entry (None: no such incident) and returns the new entry with the notes that
        explain it, or None for no change; it runs under the incident's lock, so it may do its own I/O
        (a snooze) without racing another update. With no change, surfaces a previous attempt failed to
        update are retried; None is returned when there was nothing to deliver. With `material_only` (the
        tick), a refresh whose card is materially what the surfaces show delivers and saves nothing.
        """
        with self._lock(key):
            entry, issue_state = self._load(key, now)
            decided = change(entry)
            if decided is None:
                if entry is None or self._all_delivered(entry):
                    return None
                decided = EntryChange(entry)
            outcome = self.refresh(decided.entry, decided.transition, None, now, issue_state=issue_state,
                                   notes=decided.notes, material_only=material_only)
        if raise_transient:
            _raise_if_transient(outcome)
        return outcome

    def refresh(
        self,
        entry: LedgerEntry,
        transition: Transition,
        alert: Alert | None,
        now: datetime | None,
        records: Iterable[LogRecord | AuditChange] | None = None,
        evidence: Evidence | None = None,
        *,
        issue_state: str = "",
        notes: Sequence[Change] = (),
        unread: DeliveryError | None = None,
        material_only: bool = False,
    ) -> Outcome:
        """Re-analyse the incident's window and deliver what changed (also used by Slack's Refresh).

        `notes` (what a person did from Slack) lead the thread reply and the issue comment. `unread`
        is the ledger read that failed: that surface is skipped and its error reported.
        """
        if records is None:
            moment = now or entry.resolved_at or entry.opened_at
            if moment is None:
                raise InputError("the incident has no time to read evidence for (no member alert carries one)")
            window = self._read_window(entry, moment)
        else:
            window = _Window(records, evidence or Evidence(sampled=False, request_stats={}))
        template = alert or _alert_from_entry(entry)
        alerts = members_as_alerts(entry, template)
        incident = analyse(
            alerts,
            window.records,
            classifier=self._classifier,
            miner=self._miner_factory(),
            knowledge=self._knowledge,
            now=now,
            evidence=window.evidence,
            settings=self._analysis,
            previous_templates=frozenset(entry.snapshot.templates),
        )
        card = build_card(incident, self._redact)
        if entry.status is IncidentStatus.RESOLVED and entry.resolution not in ("", RESOLVED_ALL_CLOSED):
            card = with_resolution(card, entry.resolution)
        entry = replace(entry, digest=material_digest(card, entry), peaks=_peaks(entry, card))
        lead = transition_change(transition, alert)
        if material_only and not notes and lead is None and self._all_delivered(entry):
            # The tick's promise: nothing material changed, so nothing is written anywhere.
            return Outcome(entry.key, Transition.UNCHANGED, {}, incident, card, window.logging_calls,
                           window.monitoring_calls)
        changes = [*notes, *([lead] if lead else []), *describe_changes(entry.snapshot, snapshot_of(card))]
        # The snapshot is recorded before delivering: the tracking issue's body stores the entry as it is
        # delivered, and a lagging snapshot there made every later update re-announce the same changes.
        entry = replace(entry, snapshot=snapshot_of(card))
        skip = frozenset({Surface.GITHUB}) if unread is not None else frozenset()
        report = self._delivery.deliver(entry, card, changes or [NOTHING_MATERIAL], issue_state, skip=skip)
        errors = [*([unread] if unread else []), *report.errors]
        saved = self._save(report.entry)
        if saved is not None:
            errors.append(saved)
        for error in errors:
            if error.retryable:
                continue  # the caller logs it once when it asks Pub/Sub to redeliver
            log.error(
                "delivery failed",
                extra=failure_fields(surface=error.surface, retryable=error.retryable,
                                     error=str(error), incident_key=entry.key),
            )
        surfaces = {**_unread(unread), **report.surfaces}
        return Outcome(entry.key, transition, surfaces, incident, card, window.logging_calls,
                       window.monitoring_calls, tuple(errors), window.run_calls)

    # --- the file ledger ------------------------------------------------------------------

    def _save(self, entry: LedgerEntry) -> DeliveryError | None:
        """The file ledger is written after every handled notification (a tracking issue's body already was)."""
        if self._adapters.tracker is None and self._adapters.ledger is not None:
            try:
                self._adapters.ledger.save(entry.key, entry_to_json(entry))
            except DeliveryError as exc:
                return exc
        return None


def _peaks(entry: LedgerEntry, card: Card) -> dict[str, float]:
    """The highest 5xx ratio each service showed at any update, for the postmortem's impact."""
    peaks = dict(entry.peaks)
    for h in card.health:
        if h.requests and h.error_ratio > peaks.get(h.service, 0.0):
            peaks[h.service] = h.error_ratio
    return peaks


def _unread(error: DeliveryError | None) -> dict[str, str]:
    """The surface result saying that the tracking issue (the ledger) could not be read, so GitHub was skipped."""
    return {Surface.GITHUB: f"failed: {error}"} if error is not None else {}


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
    """The incident's first member as an Alert, closed when the incident is (the template for the card)."""
    first = member_alert(entry, entry.members[0])
    return first if entry.status is IncidentStatus.ACTIVE else replace(first, state=AlertState.CLOSED)


__all__ = ["EntryChange", "IncidentService", "LogSource", "MetricSource", "Outcome", "Renderers", "Services"]
