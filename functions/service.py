"""The incident service: one notification in, the incident's Slack card and tracking issue brought up to date.

Steps: find the incident's ledger entry (the tracking issue's hidden marker, or the local JSON
ledger), fold the alert into it, read the window's evidence, analyse, then deliver to each
surface that does not already show this card. Delivery fans out: one surface failing never
skips the other; what succeeded is recorded so that Pub/Sub's redelivery retries only what failed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from functions.deliver.ports import ChatSurface, IssueTracker, Ledger
from functions.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from functions.incident import build_card, incident_key
from functions.lifecycle import (
    LedgerEntry,
    SurfaceState,
    Transition,
    apply_alert,
    describe_changes,
    entry_from_json,
    entry_to_json,
    material_digest,
    members_as_alerts,
    snapshot_of,
)
from functions.model import Alert, Card, Evidence, Incident, IncidentStatus, LogRecord, MetricCount, RequestStats
from functions.pipeline import AnalysisSettings, ClassifierPort, Knowledge, MinerPort, analyse
from functions.sources.cloud_logging import LogSample
from functions.sources.cloud_monitoring import MetricsResult

log = logging.getLogger("sitrep")

ISSUE_LABELS = ("sitrep", "incident")
NOTHING_MATERIAL = "Evidence refreshed; nothing material changed"  # lifecycle.describe_changes' filler line
SLACK_LOOKBACK = timedelta(hours=6)


class LogSource(Protocol):
    """A bounded sample of the window's logs (functions.sources.cloud_logging)."""

    def read(self, project: str, services: Sequence[str], start: datetime, end: datetime) -> LogSample: ...


class MetricSource(Protocol):
    """Request and signature counts of the window; never raises (functions.sources.cloud_monitoring)."""

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


@dataclass(frozen=True)
class Renderers:
    """The card's renderings per surface, injected so the service stays independent of their details."""

    slack: Callable[..., dict[str, Any]]
    markdown: Callable[..., str]  # (card, *, max_chars) -> the issue's Markdown report


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
        self._render = renderers
        self._adapters = adapters
        self._analysis = analysis or AnalysisSettings()
        self._lookback = lookback
        self._regression = regression_window
        self._resolve_mode = resolve_mode
        self._interactive = interactive
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
        entry = self._deliver(entry, card, changes, outcome, issue_state)
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

    # --- delivery ---------------------------------------------------------------------------

    def _deliver(
        self,
        entry: LedgerEntry,
        card: Card,
        changes: list[str],
        outcome: Outcome,
        issue_state: str,
    ) -> LedgerEntry:
        chat, tracker = self._adapters.chat, self._adapters.tracker
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
        from functions.deliver.github import compose_body, report_budget

        report = self._render.markdown(card, max_chars=report_budget(key, ledger))
        return compose_body(report, key, ledger)

    def _close(self, tracker: IssueTracker, number: int, card: Card) -> None:
        if self._resolve_mode == "label":
            tracker.add_labels(number, ["resolved"])
        else:
            tracker.close(number)

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
    from functions.model import AlertState, ConditionKind, Severity

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


__all__ = ["EntryChange", "IncidentService", "Outcome", "Renderers", "Services"]
