"""Cloud Logging adapter: a bounded, newest-first sample of the incident window's warning and error logs.

Cost is bounded whatever the spike (docs/ARCHITECTURE.md): at most `pages` `entries:list` calls of at most
`page_size` entries, each with an explicit timestamp bound (without one the client silently adds
"last 24 hours"). When more entries remain, the sample is marked as such and counts on the card
come from metrics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from functions.core.logquery import quote
from functions.core.model import LogRecord
from functions.incidents.ports import ChangeSample, LogSample
from functions.intake.changes import audit_change, is_activity_audit, records_and_changes
from functions.intake.evidence import record_from_entry
from functions.intake.jsonbounds import MAX_INT_DIGITS, MAX_JSON_DEPTH
from functions.intake.logpage import EntriesPage, read_entries_page

# Cloud Run services log as revisions (named by label service_name), Cloud Run jobs as jobs (job_name).
RESOURCE_TYPES = ("cloud_run_revision", "cloud_run_job")
NAME_LABELS = ("service_name", "job_name")
# Cloud Run gives plain-text stdout/stderr lines severity DEFAULT (a Spring "ERROR ... Application run failed"
# on stdout, V8's "FATAL ERROR" on stderr): those that read like a failure are evidence too.
FAILURE_WORDS_RE = (
    r"(?i)(error|exception|fatal|panic|traceback|fail|refused|timed? ?out|killed|denied|unavailable|"
    r"cannot|could not|unable|exceeded|exhausted)"
)
MAX_FILTER_CHARS = 20_000  # entries.list rejects longer filters (Cloud Logging API reference, entries.list)
# The audit entries worth reading (functions.intake.changes recognises them): Cloud Run deploys, IAM
# policies, Secret Manager versions, Cloud SQL instance changes, VPC connectors and networks. RE2.
AUDIT_METHODS_RE = (
    r"(Services[.](Create|Replace|Update)Service|SetIamPolicy|SecretManagerService[.][A-Za-z]+SecretVersion|"
    r"cloudsql[.]instances[.](patch|update|restart|failover|restoreBackup)|VpcAccessService[.][A-Za-z]+Connector|"
    r"compute[.](networks|subnetworks|firewalls|routes|routers)[.])"
)  # no backslashes: inside a quoted string of the query language they would need escaping twice
AUDIT_PAGE_SIZE = 200  # one page per update: changes in a window are few; the newest come first


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_quote = quote  # the one quoting function of the Logging query language (functions.core.logquery)


def build_filter(services: Sequence[str], start: datetime, end: datetime, min_severity: str = "WARNING") -> str:
    """The Logging query for the window: resource types, the alert's services or jobs, severity, time bounds.

    A name is matched as a service or as a job: the alert's resource says which, but a job and a
    service are both what the card calls a service, and a name is one or the other in a project.
    """
    types = " OR ".join(f"resource.type={_quote(t)}" for t in RESOURCE_TYPES)
    parts = [f"({types})"]
    names = [s for s in dict.fromkeys(services) if s]
    if names:
        ors = " OR ".join(f"resource.labels.{label}={_quote(s)}" for s in names for label in NAME_LABELS)
        parts.append(f"({ors})")
    text_failure = f'textPayload=~"{FAILURE_WORDS_RE}" OR jsonPayload.message=~"{FAILURE_WORDS_RE}"'
    parts.append(f"(severity>={min_severity} OR (severity=DEFAULT AND ({text_failure})))")
    parts.append(f'timestamp>="{_rfc3339(start)}"')
    parts.append(f'timestamp<="{_rfc3339(end)}"')
    query = " AND ".join(parts)
    if len(query) > MAX_FILTER_CHARS:
        # Too many services to name: read the whole resource type instead of failing the query.
        return build_filter((), start, end, min_severity)
    return query


def build_audit_filter(project: str, start: datetime, end: datetime) -> str:
    """The Admin Activity audit log of the project, the methods that change things, explicit time bounds."""
    log_name = f"projects/{project}/logs/cloudaudit.googleapis.com%2Factivity"
    return " AND ".join((
        f"logName={_quote(log_name)}",
        f'protoPayload.methodName=~"{AUDIT_METHODS_RE}"',
        f'timestamp>="{_rfc3339(start)}"',
        f'timestamp<="{_rfc3339(end)}"',
    ))  # fmt: skip


class CloudLoggingSource:
    """Reads the window's logs through google-cloud-logging; the client is built once, lazily."""

    def __init__(
        self,
        *,
        endpoint: str = "",
        page_size: int = 1000,
        pages: int = 3,
        timeout_s: float = 10.0,
    ) -> None:
        self._endpoint = endpoint
        self._page_size = max(1, min(page_size, 1000))
        self._pages = max(1, pages)
        self._timeout_s = timeout_s
        self._clients: dict[str, Any] = {}

    def _client(self, project: str) -> Any:
        client = self._clients.get(project)
        if client is None:
            from google.cloud import logging as gcl  # heavy: imported on first use, not at cold start

            if self._endpoint:
                from google.auth.credentials import AnonymousCredentials

                client = gcl.Client(
                    project=project,
                    credentials=AnonymousCredentials(),
                    client_options={"api_endpoint": self._endpoint},
                )
            else:
                client = gcl.Client(project=project)
            self._clients[project] = client
        return client

    def read(self, project: str, services: Sequence[str], start: datetime, end: datetime) -> LogSample:
        """Newest first, at most pages × page_size entries, read whole; a failure ends the sample with an error."""
        from google.api_core import exceptions as gexc

        # Raw entries:list pages through google-cloud-logging's own HTTP connection (its endpoint,
        # credentials and retries): the page token says exactly whether more remain, each call is
        # counted, and no per-entry Logger objects are built (each probes the GCE metadata server).
        # The connection is not public API: this module alone uses it (in `_page`), and tests/test_client_contracts.py
        # fails when the library changes what is used here.
        body: dict[str, object] = {
            "resourceNames": [f"projects/{project}"],
            "filter": build_filter(services, start, end),
            "orderBy": "timestamp desc",
            "pageSize": self._page_size,
        }
        records: list[LogRecord] = []
        calls, skipped, token, error, failed = 0, 0, "", "", False
        try:
            for _ in range(self._pages):
                if token:
                    body["pageToken"] = token
                page = self._page(project, body)
                calls += 1
                skipped += page.skipped
                # A failed change (an audit entry at ERROR) is read by read_changes: never a log line here.
                records.extend(r for r in records_and_changes(page.entries) if isinstance(r, LogRecord))
                token = page.next_page_token
                if not token:
                    break
        except (gexc.GoogleAPIError, OSError) as exc:
            # Logs are evidence, not the alert: the card still goes out, saying what is missing.
            error = f"Cloud Logging read failed after {len(records)} entries ({type(exc).__name__})"
            failed = True
        if skipped:
            note = (
                f"{skipped} log entr{'y' if skipped == 1 else 'ies'} skipped: JSON nested deeper than "
                f"{MAX_JSON_DEPTH} levels or holding an integer longer than {MAX_INT_DIGITS:,} digits"
            )
            error = f"{error}; {note}" if error else note
        truncated = bool(token) and not failed
        return LogSample(tuple(records), calls=calls, truncated=truncated, error=error, skipped=skipped)

    def newest(
        self, project: str, log_filter: str, services: Sequence[str], since: datetime, until: datetime
    ) -> tuple[datetime | None, int, str]:
        """The time of the newest entry matching `log_filter` (else the services' warning and error logs) in
        [since, until]: one call, one entry; never raises. The tick's quiet check for log-match alerts.
        """
        from google.api_core import exceptions as gexc

        bounds = f'timestamp>="{_rfc3339(since)}" AND timestamp<="{_rfc3339(until)}"'
        query = f"({log_filter}) AND {bounds}" if log_filter else build_filter(services, since, until)
        if len(query) > MAX_FILTER_CHARS:
            return None, 0, "the log-match filter is too long to query"
        body = {"resourceNames": [f"projects/{project}"], "filter": query, "orderBy": "timestamp desc", "pageSize": 1}
        try:
            entries = self._page(project, body).entries
        except (gexc.GoogleAPIError, OSError) as exc:
            return None, 1, f"Cloud Logging read failed ({type(exc).__name__})"
        if not entries:
            return None, 1, ""
        return record_from_entry(entries[0]).timestamp or since, 1, ""

    def read_changes(self, project: str, start: datetime, end: datetime) -> ChangeSample:
        """One entries:list page of the window's Admin Activity audit entries that record a change."""
        from google.api_core import exceptions as gexc

        body = {
            "resourceNames": [f"projects/{project}"],
            "filter": build_audit_filter(project, start, end),
            "orderBy": "timestamp desc",
            "pageSize": AUDIT_PAGE_SIZE,
        }
        try:
            entries = self._page(project, body).entries
        except (gexc.GoogleAPIError, OSError) as exc:
            return ChangeSample(calls=1, error=f"Cloud Audit Logs read failed ({type(exc).__name__})")
        found = (audit_change(raw) for raw in entries if is_activity_audit(raw))
        return ChangeSample(tuple(c for c in found if c is not None), calls=1)

    def _page(self, project: str, body: Mapping[str, object]) -> EntriesPage:
        """One entries:list call, its body read with the JSON bounds: a poison entry is skipped, not fatal."""
        response = self._client(project)._connection.api_request(
            method="POST", path="/entries:list", data=dict(body), timeout=self._timeout_s, expect_json=False
        )
        return read_entries_page(response)
