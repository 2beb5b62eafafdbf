"""A deterministic, realistic Cloud Run incident export, shared by the benchmarks.

`entries(n)` yields LogEntry dicts in REST JSON (what `gcloud logging read --format=json`
prints), newest first, over a 30-minute window: request logs (mostly 200s, some 4xx/5xx),
application chatter, warnings that are noise, and the failures of `functions/analysis/classify/signatures.yaml`
(missing modules, container exits, database timeouts, out-of-memory, auth, TLS, DNS,
connection refused, worker timeouts ...), some as structured `jsonPayload` lines and some as
multi-line Python tracebacks. Ids, IPs, ports, durations, user ids and line numbers vary, so
few messages repeat exactly (caches cannot hide the cost). The same seed gives the same export.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

SEED = 20250916
PROJECT = "bench-project"
WINDOW_END = datetime(2025, 9, 16, 2, 0, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=30)
REGION = "us-central1"
HOME_SHARE = 0.97  # share of a failure line logged by the service (and newest revision) it belongs to

# service -> (previous revision, newest revision); backend's newest is the bad deploy.
SERVICES: dict[str, tuple[str, str]] = {
    "frontend": ("frontend-00128-k2p", "frontend-00129-zt4"),
    "backend": ("backend-00740-m9q", "backend-00741-x2k"),
    "auth": ("auth-00317-b8c", "auth-00318-q7d"),
    "worker": ("worker-00052-r4t", "worker-00053-h6j"),
    "payments": ("payments-00210-c3d", "payments-00211-f5g"),
}
_SERVICE_NAMES = tuple(SERVICES)
_PATHS = (
    "/api/orders/{id}", "/api/users/{uid}/profile", "/auth/refresh", "/chat", "/health", "/api/cart",
    "/api/payments/{id}/capture", "/ws", "/api/search", "/static/app.{hex}.js", "/api/threads/{id}/messages",
)  # fmt: skip
_METHODS = ("GET", "GET", "GET", "POST", "POST", "PUT", "DELETE")
_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 "
    "Safari/537.36",
    "python-httpx/0.27.2",
    "GoogleHC/1.0",
    "okhttp/4.12.0",
)  # fmt: skip

# Application chatter (INFO): not failures, mostly not worth a template.
_INFO = (
    'INFO:     {ip}:{port} - "GET /health HTTP/1.1" 200 OK',
    "Processed {n} records for tenant {tenant} in {ms}ms",
    "Cache hit for key user:{uid}",
    "Request {rid} completed in {ms}ms with status 200",
    "User {uid} logged in from {ip}",
    "Scheduled job sync_{n} finished in {sec}s",
    "INFO:     Started server process [{pid}]",
    "INFO:     Application startup complete.",
    "Connected to database at 10.12.0.3:5432 (pool size {small})",
    "Published {n} events to topic projects/{project}/topics/orders",
)
# Warnings that are noise (counted, never a root cause).
_NOISE = (
    "WARNING:netra_backend.app.core.monitoring:Sentry SDK not available - error tracking disabled",
    "SERVICE_ID contained whitespace - stripped value 'netra-backend '",
    "DeprecationWarning: datetime.datetime.utcnow() is deprecated and scheduled for removal",
    "REDIS_URL not set, defaulting to redis://localhost:6379/0",
    "opentelemetry exporter disabled: OTEL_EXPORTER_OTLP_ENDPOINT not configured",
)
# Failure lines (ERROR/CRITICAL) across the signature categories.
_FAILURES = (
    ("ModuleNotFoundError: No module named 'auth_service'", "backend"),
    ("Container called exit({exit}).", "backend"),
    ("Database connection timeout after {sec}s (host=10.12.0.3 port=5432 db=netra_auth attempt={small}/3)", "auth"),
    ("asyncpg: timed out after {sec}.0 seconds connecting to 10.12.0.3:5432 (database=netra_auth)", "auth"),
    ("sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached, connection timed out, "
     "timeout {sec}.00", "auth"),
    ("Memory limit of 512 MiB exceeded with {mem} MiB used. Consider increasing the memory limit.", "worker"),
    ("jwt.exceptions.ExpiredSignatureError: Signature has expired (user {uid}, request {rid})", "auth"),
    ("google.api_core.exceptions.PermissionDenied: 403 Permission 'secretmanager.versions.access' denied on "
     "resource 'projects/{project}/secrets/db-password/versions/latest'", "payments"),
    ("ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get "
     "local issuer certificate (_ssl.c:1006) while connecting to payments-{n}.internal:443", "payments"),
    ("Error: connect ECONNREFUSED 10.{b}.{c}.{d}:6379", "frontend"),
    ("requests.exceptions.ConnectionError: HTTPSConnectionPool(host='svc-{n}.internal', port=443): Max retries "
     "exceeded with url: /v1/{rid} (Caused by NameResolutionError(\"Failed to resolve 'svc-{n}.internal'\"))",
     "worker"),
    ("[{clock} +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:{pid})", "worker"),
    ('Default STARTUP TCP probe failed 1 time consecutively for container "{svc}-1" on port 8080. The instance '
     "was not started.", "backend"),
    ("The request has been terminated because it has reached the maximum request timeout.", "frontend"),
    ("websockets.exceptions.ConnectionClosedError: received 1011 (internal error) session {rid}", "backend"),
    ("KeyError: 'DATABASE_URL'", "payments"),
    ('psycopg2.OperationalError: FATAL:  password authentication failed for user "app_{n}"', "payments"),
    ("Uncaught exception in handler for request {rid}: division by zero", "frontend"),
)  # (line, the service it mostly comes from)
_JSON_FAILURES = (
    ("netra_backend.app.websocket_core.middleware", "WebSocket middleware setup failed: No module named 'auth_service'",
     "backend"),
    ("auth_service.auth_core.core.token_validator",
     "JWT verification failed for user {uid}: signing key cache empty and database unavailable", "auth"),
    ("auth_service.auth_core.database",
     "asyncpg: timed out after {sec}.0 seconds connecting to 10.12.0.3:5432 (database=netra_auth)", "auth"),
    ("payments.gateway", "Upstream returned 502 Bad Gateway for charge {rid} after {ms}ms", "payments"),
)  # fmt: skip
_TRACE_FRAMES = (
    ("/app/netra_backend/app/core/app_factory.py", "create_app", "await _configure_middleware(app)"),
    ("/app/netra_backend/app/routes/orders.py", "create_order", "total = order['amount'] * rate"),
    ("/usr/local/lib/python3.11/site-packages/sqlalchemy/engine/base.py", "_connection_for_bind",
     "conn = bind.connect()"),
    ("/usr/local/lib/python3.11/site-packages/starlette/routing.py", "handle", "await self.app(scope, receive, send)"),
    ("/app/auth_service/auth_core/core/token_validator.py", "validate", "claims = jwt.decode(token, key)"),
)  # fmt: skip
_TRACE_ENDINGS = (
    ("ModuleNotFoundError: No module named 'auth_service'", "backend"),
    ("asyncio.exceptions.TimeoutError: connecting to 10.12.0.3:5432 timed out after {sec}.0 seconds", "auth"),
    ("KeyError: 'amount_{n}'", "payments"),
    ("ValueError: invalid literal for int() with base 10: '{hex}'", "frontend"),
    ("jwt.exceptions.ExpiredSignatureError: Signature has expired", "auth"),
    ("MemoryError", "worker"),
)

# Share of each kind of entry (cumulative thresholds drawn against one random number).
_KINDS = (
    (0.46, "request_ok"),
    (0.49, "request_4xx"),
    (0.56, "request_5xx"),
    (0.74, "info"),
    (0.79, "noise"),
    (0.93, "failure"),
    (0.96, "json_failure"),
    (1.00, "traceback"),
)


class _Vary:
    """Fills {placeholders} with varied, realistic values from one seeded generator."""

    def __init__(self, rnd: random.Random) -> None:
        self.r = rnd

    def fill(self, template: str, service: str, moment: datetime) -> str:
        r = self.r
        if "{" not in template:
            return template
        values = {
            "ip": f"169.254.{r.randint(0, 255)}.{r.randint(1, 254)}",
            "port": r.randint(20000, 65000),
            "n": r.randint(1, 9999),
            "small": r.randint(1, 9),
            "tenant": f"t-{r.getrandbits(24):06x}",
            "uid": r.randint(10_000, 9_999_999),
            "rid": f"{r.getrandbits(64):016x}",
            "hex": f"{r.getrandbits(32):08x}",
            "ms": r.randint(2, 4000),
            "sec": r.choice((5, 10, 15, 30)),
            "pid": r.randint(2, 400),
            "exit": r.choice((1, 1, 1, 3, 137, 139)),
            "mem": r.randint(513, 900),
            "b": r.randint(0, 255),
            "c": r.randint(0, 255),
            "d": r.randint(1, 254),
            "clock": moment.strftime("%Y-%m-%d %H:%M:%S"),
            "svc": service,
            "project": PROJECT,
        }
        return template.format(**values)


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _resource(service: str, revision: str) -> dict[str, Any]:
    return {
        "labels": {
            "configuration_name": service,
            "location": REGION,
            "project_id": PROJECT,
            "revision_name": revision,
            "service_name": service,
        },
        "type": "cloud_run_revision",
    }


def _entry(
    r: random.Random, moment: datetime, service: str, revision: str, severity: str, log: str
) -> dict[str, Any]:
    stamp = _timestamp(moment)
    return {
        "insertId": f"{r.getrandbits(96):024x}",
        "labels": {"instanceId": f"00{r.getrandbits(320):080x}"},
        "logName": f"projects/{PROJECT}/logs/run.googleapis.com%2F{log}",
        "receiveTimestamp": _timestamp(moment + timedelta(microseconds=r.randint(1_000, 90_000))),
        "resource": _resource(service, revision),
        "severity": severity,
        "timestamp": stamp,
        "trace": f"projects/{PROJECT}/traces/{r.getrandbits(128):032x}",
    }


def _path(vary: _Vary) -> str:
    r = vary.r
    values = {"id": r.randint(1, 999_999), "uid": r.randint(10_000, 9_999_999), "hex": f"{r.getrandbits(32):08x}"}
    return r.choice(_PATHS).format(**values)


def _request(vary: _Vary, moment: datetime, service: str, revision: str, status: int) -> dict[str, Any]:
    r = vary.r
    severity = "ERROR" if status >= 500 else ("WARNING" if status >= 400 else "INFO")
    entry = _entry(r, moment, service, revision, severity, "requests")
    entry["httpRequest"] = {
        "latency": f"{r.expovariate(8.0):.9f}s",
        "protocol": "HTTP/1.1",
        "remoteIp": f"{r.randint(1, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}",
        "requestMethod": r.choice(_METHODS),
        "requestSize": str(r.randint(200, 4000)),
        "requestUrl": f"https://{service}-701982941522.{REGION}.run.app{_path(vary)}",
        "responseSize": str(r.randint(100, 40_000)),
        "serverIp": "216.239.38.53",
        "status": status,
        "userAgent": r.choice(_AGENTS),
    }
    entry["spanId"] = f"{r.getrandbits(64):016x}"
    if status == 503 and r.random() < 0.5:
        entry["textPayload"] = "The request failed because the instance could not start successfully."
    return entry


def _traceback(vary: _Vary, ending: str, service: str, moment: datetime) -> str:
    r = vary.r
    lines = ["Traceback (most recent call last):"]
    for path, func, code in r.sample(_TRACE_FRAMES, r.randint(2, 4)):
        lines.append(f'  File "{path}", line {r.randint(10, 900)}, in {func}')
        lines.append(f"    {code}")
    lines.append(vary.fill(ending, service, moment))
    return "\n".join(lines)


def _home(r: random.Random, home: str, service: str, revision: str) -> tuple[str, str]:
    """Most failure lines come from the service they belong to, on its newest revision."""
    return (home, SERVICES[home][1]) if r.random() < HOME_SHARE else (service, revision)


def entries(n: int, *, seed: int = SEED) -> Iterator[dict[str, Any]]:
    """`n` LogEntry dicts, newest first, spread over WINDOW ending at WINDOW_END."""
    r = random.Random(seed)
    vary = _Vary(r)
    step = WINDOW / max(n, 1)
    for i in range(n):
        moment = WINDOW_END - step * i - timedelta(microseconds=r.randint(0, 999))
        service = r.choice(_SERVICE_NAMES)
        previous, newest = SERVICES[service]
        revision = newest if r.random() < 0.8 else previous
        pick = r.random()
        kind = next(name for threshold, name in _KINDS if pick < threshold)
        if kind == "request_ok":
            yield _request(vary, moment, service, revision, r.choice((200, 200, 200, 201, 204, 302)))
        elif kind == "request_4xx":
            yield _request(vary, moment, service, revision, r.choice((400, 401, 403, 404, 404, 429)))
        elif kind == "request_5xx":
            service, revision = _home(r, r.choice(("backend", "backend", "auth")), service, revision)
            yield _request(vary, moment, service, revision, r.choice((500, 502, 503, 503, 504)))
        elif kind in ("info", "noise"):
            severity = "INFO" if kind == "info" else "WARNING"
            entry = _entry(r, moment, service, revision, severity, r.choice(("stdout", "stderr")))
            entry["textPayload"] = vary.fill(r.choice(_INFO if kind == "info" else _NOISE), service, moment)
            yield entry
        elif kind == "failure":
            template, home = r.choice(_FAILURES)
            service, revision = _home(r, home, service, revision)
            text = vary.fill(template, service, moment)
            platform = text.startswith(("Container called", "Memory limit", "Default STARTUP"))
            log = "varlog%2Fsystem" if platform else "stderr"
            entry = _entry(r, moment, service, revision, r.choice(("ERROR", "ERROR", "CRITICAL")), log)
            entry["textPayload"] = text
            yield entry
        elif kind == "json_failure":
            logger, message, home = r.choice(_JSON_FAILURES)
            service, revision = _home(r, home, service, revision)
            entry = _entry(r, moment, service, revision, "ERROR", "stderr")
            entry["jsonPayload"] = {"env": "staging", "logger": logger, "message": vary.fill(message, service, moment)}
            yield entry
        else:
            ending, home = r.choice(_TRACE_ENDINGS)
            service, revision = _home(r, home, service, revision)
            entry = _entry(r, moment, service, revision, "ERROR", "stderr")
            entry["textPayload"] = _traceback(vary, ending, service, moment)
            yield entry


def write_gcloud_export(stream: TextIO, n: int, *, seed: int = SEED) -> int:
    """Write `n` entries as `gcloud logging read --format=json` does (an indented JSON array); returns bytes written."""
    written = stream.write("[\n")
    for i, entry in enumerate(entries(n, seed=seed)):
        text = json.dumps(entry, indent=2, sort_keys=True, ensure_ascii=False)
        text = "  " + text.replace("\n", "\n  ")
        written += stream.write(text + (",\n" if i < n - 1 else "\n"))
    written += stream.write("]\n")
    return written


def alert_notification(*, started_at: datetime | None = None, incident_id: str = "0.bench") -> dict[str, Any]:
    """A Monitoring notification (schema 1.2) for backend's 5xx ratio, opened in the window."""
    started = started_at or (WINDOW_END - timedelta(minutes=20))
    return {
        "version": "1.2",
        "incident": {
            "incident_id": incident_id,
            "scoping_project_id": PROJECT,
            "scoping_project_number": 701982941522,
            "url": f"https://console.cloud.google.com/monitoring/alerting/incidents/{incident_id}?project={PROJECT}",
            "started_at": int(started.timestamp()),
            "ended_at": None,
            "state": "open",
            "summary": "backend 5xx ratio above 5% for 5 minutes",
            "apigee_proxy": None,
            "observed_value": "0.93",
            "resource": {"type": "cloud_run_revision", "labels": {"service_name": "backend", "project_id": PROJECT}},
            "resource_type_display_name": "Cloud Run Revision",
            "resource_id": "",
            "resource_display_name": "backend",
            "resource_name": f"{PROJECT} backend",
            "metric": {
                "type": "run.googleapis.com/request_count",
                "displayName": "Request Count",
                "labels": {"response_code_class": "5xx"},
            },
            "metadata": {"system_labels": {}, "user_labels": {}},
            "policy_name": "backend 5xx ratio",
            "policy_user_labels": {"env": "staging"},
            "documentation": {"content": "Check the newest revision.", "mime_type": "text/markdown"},
            "condition": {
                "name": f"projects/{PROJECT}/alertPolicies/1430/conditions/1431",
                "displayName": "backend 5xx ratio > 5% for 5 min",
                "conditionThreshold": {
                    "filter": 'resource.type = "cloud_run_revision" AND resource.labels.service_name = "backend" AND '
                    'metric.type = "run.googleapis.com/request_count" AND metric.labels.response_code_class = "5xx"',
                    "comparison": "COMPARISON_GT",
                    "thresholdValue": 0.05,
                    "duration": "300s",
                },
            },
            "condition_name": "backend 5xx ratio > 5% for 5 min",
            "threshold_value": "0.05",
        },
    }
