"""The ports the incident service reads and delivers through: log and metric sources, a chat surface,
an issue tracker, a ledger.

Adapters in `functions.adapters` implement them (`cloud_logging.CloudLoggingSource`, also the
AuditSource, `cloud_run.CloudRunRevisions`, `cloud_monitoring.CloudMonitoringSource`,
`slack_chat.SlackChat`, `github_issues.GitHubIssues`,
`file_ledger.FileLedger`); tests and benchmarks may swap in their own. Sources never raise: what they
could not read is an `error` on their result. Every delivery method either succeeds or raises a
`functions.core.errors.DeliveryError` (Transient or Permanent) whose message never carries a secret.

What the chat surface and the issue tracker are sent is typed (functions.render.inert): Slack messages
carry `Mrkdwn`, issue bodies and comments are `Markdown`, titles `PlainTitle`. Only the renderers make
those from log text, so no raw log string can reach Slack or GitHub through these ports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from functions.core.model import Alert, LogRecord, MetricCount, RequestStats
from functions.core.project_changes import AuditChange, RevisionSpec
from functions.render.inert import Markdown, PlainTitle
from functions.render.slack import SlackMessage


@dataclass(frozen=True)
class LogSample:
    """A bounded, newest-first sample of the window's logs, read whole before analysis starts."""

    records: tuple[LogRecord, ...] = ()
    calls: int = 0
    truncated: bool = False  # more entries remained than the sample holds: counts come from metrics
    error: str = ""  # what could not be read, for a note on the card
    skipped: int = 0  # entries beyond the JSON bounds (functions.intake.jsonbounds), left out of the sample


@dataclass(frozen=True)
class MetricsResult:
    """Request and signature counts of the window."""

    request_stats: Mapping[str, RequestStats] = field(default_factory=dict)
    metric_counts: tuple[MetricCount, ...] = ()
    calls: int = 0
    error: str = ""


@dataclass(frozen=True)
class AlertsRead:
    """Alerts read from Cloud Monitoring's Alerts API, with the calls made and what could not be read."""

    alerts: tuple[Alert, ...] = ()
    calls: int = 0
    error: str = ""


class AlertSource(Protocol):
    """Cloud Monitoring's own record of alerts (OPEN / CLOSED), to reconcile what notifications missed; never raises."""

    def open_alerts(self, project: str) -> AlertsRead:
        """Every alert of the project that is OPEN now."""
        ...

    def alerts(self, project: str, alert_ids: Sequence[str]) -> AlertsRead:
        """These alerts as they are now (an id Monitoring no longer knows is left out)."""
        ...


@runtime_checkable
class RecentLogs(Protocol):
    """Whether any entry matched a Logging filter recently: one call, one entry at most; never raises."""

    def newest(
        self, project: str, log_filter: str, services: Sequence[str], since: datetime, until: datetime
    ) -> tuple[datetime | None, int, str]:
        """(time of the newest entry matching `log_filter` (else the services' error logs) in [since, until]
        or None, calls made, error)."""
        ...


class LogSource(Protocol):
    """A bounded sample of the window's logs; never raises."""

    def read(self, project: str, services: Sequence[str], start: datetime, end: datetime) -> LogSample: ...


class MetricSource(Protocol):
    """Request and signature counts of the window; never raises."""

    def read(self, project: str, services: Sequence[str], start: datetime, end: datetime) -> MetricsResult: ...


@dataclass(frozen=True)
class ChangeSample:
    """The window's Admin Activity audit entries that record a change (one bounded read)."""

    audit: tuple[AuditChange, ...] = ()
    calls: int = 0
    error: str = ""


class AuditSource(Protocol):
    """What changed in the project during the window (Cloud Audit Logs); never raises."""

    def read_changes(self, project: str, start: datetime, end: datetime) -> ChangeSample: ...


@dataclass(frozen=True)
class RevisionSample:
    """Cloud Run revision specs read by full name (projects/P/locations/L/services/S/revisions/R)."""

    revisions: tuple[RevisionSpec, ...] = ()
    calls: int = 0
    error: str = ""


class RevisionSource(Protocol):
    """The configuration of named revisions (Cloud Run Admin API); at most a few calls, never raises."""

    def read_revisions(self, names: Sequence[str]) -> RevisionSample: ...


class ChatSurface(Protocol):
    """Where the incident card lives as one message that is edited in place (Slack)."""

    def post(self, message: SlackMessage, metadata: Mapping[str, Any]) -> str:
        """Post a new card (`message` holds `text` and `blocks`); returns its ref "CHANNEL:TS"."""
        ...

    def update(self, ref: str, message: SlackMessage, metadata: Mapping[str, Any]) -> None:
        """Replace the card at `ref` with `message`, keeping `metadata` attached."""
        ...

    def reply(self, ref: str, message: SlackMessage) -> None:
        """Post `message` as a thread reply under the card at `ref`."""
        ...

    def find(self, key: str, generation: int, oldest: datetime) -> tuple[str, dict[str, Any]] | None:
        """A card already posted for (key, generation) since `oldest`: (ref, its metadata payload), else None.

        Lets a retried delivery adopt the card a previous attempt posted before it failed to record it.
        """
        ...


@dataclass(frozen=True)
class TrackedIssue:
    """One tracking issue as the orchestrator needs it; `ledger` is the entry hidden in its body."""

    number: int
    state: str  # "open" | "closed"
    closed_at: datetime | None
    body: str
    ledger: dict[str, Any] | None
    url: str


class IssueTracker(Protocol):
    """Where the full report lives as an issue that is commented on and closed (GitHub)."""

    def find(self, key: str, *, closed_since: datetime | None) -> TrackedIssue | None:
        """The open issue for `key`, else the most recently closed one closed after `closed_since`."""
        ...

    def create(
        self, title: PlainTitle, body: Markdown, labels: Sequence[str], *, assignees: Sequence[str] = ()
    ) -> TrackedIssue:
        """Open a new issue (creating missing labels first), assigned to `assignees` (GitHub users)."""
        ...

    def list_open(self) -> Sequence[TrackedIssue]:
        """The open tracking issues that carry a sitrep ledger (the active incidents, for the tick)."""
        ...

    def edit(self, number: int, *, body: Markdown | None = None, title: PlainTitle | None = None) -> None:
        """Replace the body and/or title of an issue."""
        ...

    def comment(self, number: int, body: Markdown) -> None:
        """Add a comment to an issue."""
        ...

    def close(self, number: int) -> None:
        """Close an issue as completed."""
        ...

    def reopen(self, number: int) -> None:
        """Reopen a closed issue."""
        ...

    def add_labels(self, number: int, labels: Sequence[str]) -> None:
        """Add labels to an issue (existing labels are kept)."""
        ...


class Ledger(Protocol):
    """Incident entries by key, when no tracking issue carries them (local JSON file)."""

    def load(self, key: str) -> dict[str, Any] | None:
        """The stored entry for `key`, or None."""
        ...

    def save(self, key: str, entry: dict[str, Any]) -> None:
        """Store `entry` under `key`, replacing any previous one."""
        ...

    def keys(self) -> list[str]:
        """Every stored key (the tick visits the active ones)."""
        ...
