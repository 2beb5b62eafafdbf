"""Typed data that flows through the pipeline: alert in, incident card out.

Every stage takes and returns these frozen values; plain dicts exist only at the
boundaries (payload parsing, file and API adapters, JSON rendering).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from functions.core.project_changes import ChangeEvidence, WhatChanged


class Category(StrEnum):
    """The fixed failure taxonomy (values appear in the JSON output)."""

    DEPENDENCY_MISSING = "dependency_missing"
    CONTAINER_STARTUP = "container_startup"
    DATABASE = "database"
    AUTH = "auth"
    NETWORK = "network"
    TLS = "tls"
    CONFIGURATION = "configuration"
    RESOURCE_EXHAUSTION = "resource_exhaustion"
    TIMEOUT = "timeout"
    WEBSOCKET = "websocket"
    APPLICATION = "application"
    NOISE = "noise"
    UNKNOWN = "unknown"


class Severity(StrEnum):
    """Signature and incident severity, most severe first."""

    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Smaller is more severe; used for sorting."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.ERROR: 1, Severity.WARNING: 2, Severity.INFO: 3}


class Health(StrEnum):
    FAILING = "FAILING"
    DEGRADED = "DEGRADED"
    HEALTHY = "HEALTHY"
    UNKNOWN = "UNKNOWN"


class AlertState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ConditionKind(StrEnum):
    THRESHOLD = "threshold"
    ABSENT = "absent"
    LOG_MATCH = "log_match"
    PROMQL = "promql"
    MQL = "mql"
    SQL = "sql"
    UNKNOWN = "unknown"


class Priority(StrEnum):
    P0 = "P0"
    P1 = "P1"
    P2 = "P2"


@dataclass(frozen=True)
class Alert:
    """One Cloud Monitoring notification, normalised (Cloud Monitoring's Pub/Sub notification format, schema 1.2)."""

    incident_id: str
    state: AlertState
    policy_name: str
    condition_name: str
    condition_kind: ConditionKind
    project_id: str
    started_at: datetime | None
    ended_at: datetime | None
    severity: Severity
    summary: str = ""
    url: str = ""
    environment: str = ""
    services: tuple[str, ...] = ()
    resource_type: str = ""
    condition_filter: str = ""
    documentation: str = ""
    policy_labels: Mapping[str, str] = field(default_factory=dict)
    is_test: bool = False
    message_id: str = ""
    published_at: datetime | None = None
    policy_id: str = ""  # projects/P/alertPolicies/ID, from the condition's resource name (for snoozes)


class LogRecord(NamedTuple):
    """One LogEntry reduced to what the analysis needs.

    A NamedTuple, not a frozen dataclass like the rest of the model: one is built per LogEntry, a
    million for a day's export, and a frozen dataclass sets each of its 17 fields through
    object.__setattr__ (~2.5 µs a record against ~0.5 µs; `benchmarks/replay_throughput.py`).
    Copy one with `record._replace(...)`.
    """

    timestamp: datetime | None
    severity: str
    message: str
    service: str = ""
    revision: str = ""
    log_name: str = ""
    resource_type: str = ""
    http_status: int | None = None
    http_method: str = ""
    http_url: str = ""
    latency_s: float | None = None
    insert_id: str = ""
    trace: str = ""
    # The message was built from httpRequest (method, path, status): a request log without text.
    # Its path is the caller's text, not the service's: it is classified by status alone.
    request_line: bool = False
    text_field: str = ""  # the LogEntry field the message came from ("textPayload", "jsonPayload.message")
    remote_ip: str = ""  # httpRequest.remoteIp: who sent the request (a client, not a failure)
    user_agent: str = ""  # httpRequest.userAgent


@dataclass(frozen=True, slots=True)
class Finding:
    """The classification of one log record."""

    category: Category
    signature: str
    severity: Severity
    summary: str
    entities: Mapping[str, str]
    service: str = ""
    revision: str = ""
    # How the verdict was reached: the signature id, or the cue ("cue:exception-suffix:Timeout").
    matched_by: str = ""
    # True when the verdict rests on a weak cue (a word or a status, no signature): enough to group
    # and count the line, never enough to name it a root cause on its own.
    weak: bool = False


@dataclass(frozen=True)
class Template:
    """A recurring message shape with its variable parts masked."""

    template_id: str
    text: str
    count: int
    category: Category
    signature: str
    services: tuple[str, ...]
    first_seen: datetime | None
    last_seen: datetime | None
    example: str = ""
    is_new: bool = False
    text_field: str = ""  # the LogEntry field its messages came from (for a Logging query naming it)
    loud: int = 0  # of its records, those logged at WARNING or above (what a log-count alert counts)


@dataclass(frozen=True)
class Failure:
    """All findings of one signature, aggregated across records."""

    category: Category
    signature: str
    severity: Severity
    summary: str
    count: int
    services: tuple[str, ...]
    entities: Mapping[str, tuple[str, ...]]
    first_seen: datetime | None
    last_seen: datetime | None
    revisions: tuple[str, ...] = ()
    example: str = ""
    counts_by_service: Mapping[str, int] = field(default_factory=dict)
    weak: bool = False  # every finding behind it was a weak cue (see Finding.weak)
    # Records that were requests answered with a client error (4xx but 429): the server answering a
    # client, not failing. A failure made only of them is no cause of an outage.
    client_errors: int = 0
    # Per service, when the failure shows in several: its onset there and the entity values it named
    # there, so one service's root names its own module or host, not another service's.
    first_seen_by_service: Mapping[str, datetime] = field(default_factory=dict)
    entities_by_service: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)


@dataclass(frozen=True)
class ClientErrors:
    """The 4xx one client (an IP or a user agent) got, from request logs."""

    count: int = 0
    auth: int = 0  # of which 401/403: its credentials refused
    paths: tuple[str, ...] = ()  # distinct paths it was refused on (capped), most frequent first


@dataclass(frozen=True)
class RequestStats:
    """Request counts of one service by response class ("2xx", "4xx", "5xx", ...)."""

    service: str
    by_class: Mapping[str, int]
    source: str  # "metrics" or "logs"
    by_revision_5xx: Mapping[str, int] = field(default_factory=dict)
    by_revision_total: Mapping[str, int] = field(default_factory=dict)
    by_status: Mapping[int, int] = field(default_factory=dict)
    # Per minute (epoch seconds // 60): all requests, and those that failed (5xx or 429), so health can
    # judge a failure that began mid-window on the minutes since it began.
    by_minute_total: Mapping[int, int] = field(default_factory=dict)
    by_minute_failed: Mapping[int, int] = field(default_factory=dict)
    # 4xx per client ("ip 203.0.113.7", "agent curl/8.4"), from request logs: who got the client errors.
    clients_4xx: Mapping[str, ClientErrors] = field(default_factory=dict)
    logged_4xx: int = 0  # 4xx request logs seen, the denominator of `clients_4xx` (logs may be a sample)

    @property
    def total(self) -> int:
        return sum(self.by_class.values())

    def ratio(self, response_class: str) -> float:
        total = self.total
        return self.by_class.get(response_class, 0) / total if total else 0.0


@dataclass(frozen=True)
class JobStats:
    """Completed executions and task attempts of one Cloud Run job, by result (a job has no requests)."""

    job: str
    executions_failed: int = 0
    executions_succeeded: int = 0
    attempts_failed: int = 0
    attempts_succeeded: int = 0


@dataclass(frozen=True)
class MetricCount:
    """An exact count from a log-based metric for one signature (docs/ARCHITECTURE.md)."""

    signature: str
    service: str
    count: int


@dataclass(frozen=True)
class Evidence:
    """What the sources returned for the incident window."""

    sampled: bool
    request_stats: Mapping[str, RequestStats]
    metric_counts: tuple[MetricCount, ...] = ()
    notes: tuple[str, ...] = ()
    changes: ChangeEvidence | None = None  # None: no change source (nothing to say about changes)
    job_stats: Mapping[str, JobStats] = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceHealth:
    service: str
    status: Health
    reasons: tuple[str, ...]
    requests: int = 0
    error_ratio: float = 0.0
    failed_starts: int = 0


@dataclass(frozen=True)
class RootCause:
    category: Category
    signature: str
    service: str
    summary: str
    chain: tuple[str, ...]
    count: int
    severity: Severity
    first_seen: datetime | None
    evidence: str = ""
    revision: str = ""
    previous_revision: str = ""
    entities: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Action:
    priority: Priority
    text: str
    category: Category | None = None
    signature: str = ""


class IncidentStatus(StrEnum):
    ACTIVE = "ACTIVE"
    RESOLVED = "RESOLVED"


@dataclass(frozen=True)
class AlertRef:
    """One member alert of an incident, as the ledger and the card list it."""

    incident_id: str
    policy_name: str
    state: AlertState
    url: str = ""


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Incident:
    """Alert(s) + analysis: everything the card and the JSON output say, nothing presentational."""

    key: str
    status: IncidentStatus
    severity: Severity
    environment: str
    project_id: str
    title: str
    summary: str
    started_at: datetime | None
    ended_at: datetime | None
    generated_at: datetime
    alerts: tuple[AlertRef, ...]
    services: tuple[ServiceHealth, ...]
    failures: tuple[Failure, ...]
    recurring: tuple[Template, ...]
    root_causes: tuple[RootCause, ...]
    contributing: tuple[RootCause, ...]
    actions: tuple[Action, ...]
    timeline: tuple[int, ...]
    timeline_start: datetime | None
    timeline_step_s: int
    records_analysed: int
    sampled: bool
    links: tuple[Link, ...] = ()
    notes: tuple[str, ...] = ()
    region: str = ""
    what_changed: WhatChanged | None = None  # None: changes were not looked for


@dataclass(frozen=True)
class ComponentRow:
    """One row of the component table: a failure category and what it amounts to."""

    component: str
    count: int
    services: tuple[str, ...]
    primary_issue: str


@dataclass(frozen=True)
class Card:
    """The neutral incident card: presentation-ready, redacted text that every renderer formats."""

    key: str
    status: IncidentStatus
    severity: Severity
    headline: str
    status_line: str
    summary: str
    health: tuple[ServiceHealth, ...]
    root_causes: tuple[RootCause, ...]
    contributing: tuple[RootCause, ...]
    actions: tuple[Action, ...]
    components: tuple[ComponentRow, ...]
    recurring: tuple[Template, ...]
    sparkline: str
    sparkline_caption: str
    links: tuple[Link, ...]
    notes: tuple[str, ...]
    alerts: tuple[AlertRef, ...]
    evidence_total: int
    sampled: bool
    what_changed: WhatChanged | None = None  # redacted; None: changes were not looked for
