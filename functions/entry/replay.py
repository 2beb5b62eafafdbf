"""File-backed sources for `python main.py replay DIR`: the same pipeline as the function, on recorded data."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from functions.core.errors import AlertError, InputError
from functions.core.model import Alert, Card, Evidence, Incident, JobStats, LogRecord, MetricCount, RequestStats
from functions.core.project_changes import AuditChange, ChangeEvidence, RevisionSpec
from functions.entry.settings import Settings
from functions.intake.alert import parse_alert
from functions.intake.changes import iter_evidence, load_revisions
from functions.intake.metrics import (
    job_stats_from_series,
    load_time_series,
    metric_counts_from_series,
    stats_from_series,
)

ALERT_FILE = "alert.json"
LOGS_FILE = "logs.json"
METRICS_FILE = "metrics.json"
REVISIONS_FILE = "revisions.json"


@dataclass(frozen=True)
class Replay:
    """A recorded incident: its alert, where its logs are, and its metrics if any."""

    directory: Path
    alert: Alert
    logs_path: Path | None
    evidence: Evidence
    revisions: tuple[RevisionSpec, ...] = ()

    def records(self) -> Iterator[LogRecord | AuditChange]:
        """The entries of logs.json, streamed once: log records, and the changes its audit entries record."""
        if self.logs_path is None:
            return iter(())
        return iter_evidence(self.logs_path)

    def evidence_for(self, lookback: timedelta) -> Evidence:
        """The evidence known before logs.json is read: metrics, notes, revisions.json and the change window."""
        start = self.alert.started_at - lookback if self.alert.started_at else None
        changes = ChangeEvidence(start=start, end=self.alert.ended_at, revisions=self.revisions)
        return replace(self.evidence, changes=changes)


def load_replay(directory: Path) -> Replay:
    """Read DIR/alert.json and DIR/metrics.json now; logs.json is streamed later, once."""
    if not directory.is_dir():
        raise InputError(f"{directory}: not a directory (expected one holding {ALERT_FILE} and {LOGS_FILE})")
    alert_path = directory / ALERT_FILE
    if not alert_path.is_file():
        raise InputError(f"{alert_path}: missing; a replay needs the Monitoring notification (or its CloudEvent)")
    try:
        alert = parse_alert(alert_path.read_bytes())
    except AlertError as exc:
        raise InputError(f"{alert_path}: {exc}") from None
    logs_path = directory / LOGS_FILE
    notes: list[str] = []
    if not logs_path.is_file():
        notes.append(f"No {LOGS_FILE} in the replay directory: the card has no log evidence.")
        logs_path_or_none: Path | None = None
    else:
        logs_path_or_none = logs_path
    metrics_path = directory / METRICS_FILE
    request_stats: dict[str, RequestStats] = {}
    metric_counts: tuple[MetricCount, ...] = ()
    job_stats: dict[str, JobStats] = {}
    if metrics_path.is_file():
        series = load_time_series(metrics_path)
        request_stats = stats_from_series(series)
        metric_counts = metric_counts_from_series(series)
        job_stats = job_stats_from_series(series)
    else:
        notes.append("No metrics.json: counts and health come from the log entries given.")
    revisions_path = directory / REVISIONS_FILE
    revisions = load_revisions(revisions_path) if revisions_path.is_file() else ()
    return Replay(
        directory=directory,
        alert=alert,
        logs_path=logs_path_or_none,
        evidence=Evidence(
            sampled=False,
            request_stats=request_stats,
            metric_counts=metric_counts,
            notes=tuple(notes),
            job_stats=job_stats,
        ),
        revisions=revisions,
    )


@dataclass(frozen=True)
class ReplayResult:
    incident: Incident
    card: Card
    delivery_log: tuple[str, ...]
    failed: bool


def run_replay(replay: Replay, settings: Settings) -> ReplayResult:
    """Analyse the recording; deliver exactly like the function when Slack / GitHub settings are present."""
    from functions.card.incident import with_group_environment
    from functions.entry.wiring import analyse_only, build_service, delivery_adapters

    replay = replace(replay, alert=with_group_environment(replay.alert, settings.group_labels, settings.environment))
    lookback = timedelta(minutes=settings.lookback_minutes)

    evidence = replay.evidence_for(lookback)
    if not (settings.slack_enabled or settings.github_enabled):
        incident, card = analyse_only(replay.alert, replay.records(), evidence, settings)
        return ReplayResult(incident, card, (), False)
    service = build_service(settings, delivery_adapters(settings))
    outcome = service.handle(replay.alert, None, records=replay.records(), evidence=evidence, raise_transient=False)
    log = [f"{surface}: {status}" for surface, status in outcome.surfaces.items()]
    log.insert(0, f"incident {outcome.key}: {outcome.transition.value}")
    if outcome.incident is None or outcome.card is None:
        incident, card = analyse_only(replay.alert, replay.records(), evidence, settings)
    else:
        incident, card = outcome.incident, outcome.card
    return ReplayResult(incident, card, tuple(log), bool(outcome.errors))
