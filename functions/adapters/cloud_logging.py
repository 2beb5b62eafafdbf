"""Cloud Logging adapter: a bounded, newest-first sample of the incident window's warning and error logs.

Cost is bounded whatever the spike (DESIGN §4): at most `pages` `entries:list` calls of at most
`page_size` entries, each with an explicit timestamp bound (without one the client silently adds
"last 24 hours"). When more entries remain, the sample is marked as such and counts on the card
come from metrics.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from functions.core.logquery import quote
from functions.core.model import LogRecord
from functions.incidents.ports import LogSample
from functions.intake.evidence import record_from_entry

# Cloud Run services log as revisions (named by label service_name), Cloud Run jobs as jobs (job_name).
RESOURCE_TYPES = ("cloud_run_revision", "cloud_run_job")
NAME_LABELS = ("service_name", "job_name")
# Cloud Run gives plain-text stdout/stderr lines severity DEFAULT (a Spring "ERROR ... Application run failed"
# on stdout, V8's "FATAL ERROR" on stderr): those that read like a failure are evidence too.
FAILURE_WORDS_RE = (
    r"(?i)(error|exception|fatal|panic|traceback|fail|refused|timed? ?out|killed|denied|unavailable|"
    r"cannot|could not|unable|exceeded|exhausted)"
)
MAX_FILTER_CHARS = 20_000  # entries.list rejects longer filters (reference §2.3)


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
                    _use_grpc=False,
                    client_options={"api_endpoint": self._endpoint},
                )
            else:
                client = gcl.Client(project=project, _use_grpc=False)
            self._clients[project] = client
        return client

    def read(self, project: str, services: Sequence[str], start: datetime, end: datetime) -> LogSample:
        """Newest first, at most pages × page_size entries, read whole; a failure ends the sample with an error."""
        from google.api_core import exceptions as gexc

        # Raw entries:list pages through google-cloud-logging's own HTTP connection (its endpoint,
        # credentials and retries): the page token says exactly whether more remain, each call is
        # counted, and no per-entry Logger objects are built (each probes the GCE metadata server).
        connection = self._client(project)._connection
        body: dict[str, object] = {
            "resourceNames": [f"projects/{project}"],
            "filter": build_filter(services, start, end),
            "orderBy": "timestamp desc",
            "pageSize": self._page_size,
        }
        records: list[LogRecord] = []
        calls, token, error = 0, "", ""
        try:
            for _ in range(self._pages):
                if token:
                    body["pageToken"] = token
                response = connection.api_request(
                    method="POST", path="/entries:list", data=body, timeout=self._timeout_s
                )
                calls += 1
                records.extend(record_from_entry(raw) for raw in response.get("entries") or ())
                token = str(response.get("nextPageToken") or "")
                if not token:
                    break
        except (gexc.GoogleAPIError, OSError) as exc:
            # Logs are evidence, not the alert: the card still goes out, saying what is missing.
            error = f"Cloud Logging read failed after {len(records)} entries ({type(exc).__name__})"
        return LogSample(tuple(records), calls=calls, truncated=bool(token) and not error, error=error)
