#!/usr/bin/env python3
"""Generate examples/staging-outage/: the seed report's staging outage, recorded as data.

The seed report (shared/seeds/000_*.txt) describes a 45-minute staging outage on
Cloud Run: a deploy of `backend` that cannot import `auth_service` (container exit(3),
failed starts, 503s) and, independently, `auth` timing out on its database. This
script writes what an engineer would have exported for that window:

  alert.json    the Monitoring notification (schema 1.2) that opened the incident
  logs.json     `gcloud logging read --format=json` output: LogEntry array, newest first
  metrics.json  a timeSeries.list response for run.googleapis.com/request_count

Everything is deterministic (fixed seed, fixed clock): running it again rewrites
byte-identical files. It imports nothing from sitrep, so it can be read on its own.

    python scripts/make_staging_example.py [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _exports import NS_PER_S, rfc3339

SEED = 20250916
PROJECT_ID = "netra-staging"
PROJECT_NUMBER = 701982941522
REGION = "us-central1"
WINDOW_START = datetime(2025, 9, 16, 1, 0, tzinfo=UTC)
WINDOW_MINUTES = 45
DEPLOY_MINUTE = 5  # backend-00742-b95 takes all traffic at 01:05
DB_TROUBLE_MINUTE = 10  # auth's database stops answering at 01:10
INCIDENT_STARTED_AT = datetime(2025, 9, 16, 1, 12, tzinfo=UTC)
INCIDENT_ID = "0.nq3k8w2x5r7m"
POLICY_ID = "14302765510935246813"
CONDITION_ID = "14302765510935248091"
DB_HOST, DB_PORT = "10.12.0.3", 5432

WINDOW_START_NS = int(WINDOW_START.timestamp()) * NS_PER_S
WINDOW_END_NS = WINDOW_START_NS + WINDOW_MINUTES * 60 * NS_PER_S

BACKEND_NEW = "backend-00742-b95"
BACKEND_PREV = "backend-00741-x2k"
AUTH_REV = "auth-00318-q7d"
FRONTEND_REV = "frontend-00129-zt4"

# What the generator promises to write: (service, category) -> number of log entries.
# These are the seed report's counts; "info" lines and healthy requests are context.
EXPECTED_LOG_COUNTS: dict[tuple[str, str], int] = {
    ("backend", "instance_start_failed"): 43,
    ("backend", "container_exit"): 34,
    ("backend", "websocket_import"): 25,
    ("backend", "sentry_noise"): 21,
    ("auth", "sentry_noise"): 12,
    ("backend", "service_id_whitespace"): 32,
    ("backend", "http_200"): 40,
    ("auth", "db_timeout"): 12,
    ("auth", "auth_db_failure"): 18,
    ("auth", "http_200"): 30,
    ("auth", "http_503"): 72,
    ("frontend", "http_405"): 60,
    ("frontend", "http_200"): 140,
}
BACKEND_503_OF_43 = 35  # the other 8 failed-start requests answered 500

SENTRY = "Sentry SDK not available - error tracking disabled"
START_FAILED = "The request failed because the instance could not start successfully."
WS_MESSAGE = "WebSocket middleware setup failed: No module named 'auth_service'"
UVICORN_RUNNING = "INFO:     Uvicorn running on http://0.0.0.0:8080 (Press CTRL+C to quit)"


@dataclass(frozen=True)
class Generated:
    """One log entry with what the generator knows about it (for the self-check)."""

    ns: int
    service: str
    category: str
    entry: dict[str, Any]


def _minute_ns(minute: int) -> int:
    return WINDOW_START_NS + minute * 60 * NS_PER_S


class Builder:
    """Accumulates LogEntries with unique timestamps drawn from one seeded RNG."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.items: list[Generated] = []
        self._used_ns: set[int] = set()
        self.instances: dict[str, list[str]] = {}

    def hex(self, n: int) -> str:
        return f"{self.rng.getrandbits(4 * n):0{n}x}"

    def instance_id(self) -> str:
        return "00" + self.hex(158)

    def unique_ns(self, ns: int, micro: bool) -> int:
        """Clamp into the window and make unique (request/system logs carry µs only)."""
        ns = min(max(ns, WINDOW_START_NS + 1000), WINDOW_END_NS - 1000)
        if micro:
            ns -= ns % 1000
        else:  # app logs carry nanoseconds; jitter below 1 µs keeps their order
            ns += self.rng.randint(1, 999)
        while ns in self._used_ns:
            ns += 1000
        self._used_ns.add(ns)
        return ns

    def _resource(self, service: str, revision: str) -> dict[str, Any]:
        return {
            "type": "cloud_run_revision",
            "labels": {
                "configuration_name": service,
                "location": REGION,
                "project_id": PROJECT_ID,
                "revision_name": revision,
                "service_name": service,
            },
        }

    def add(
        self,
        ns: int,
        service: str,
        revision: str,
        category: str,
        log: str,
        severity: str,
        instance: str,
        *,
        text: str | None = None,
        json_payload: dict[str, Any] | None = None,
        http: dict[str, Any] | None = None,
        trace: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> int:
        """Append one LogEntry; returns its (unique) timestamp in ns."""
        micro = log in ("requests", "varlog/system")
        ns = self.unique_ns(ns, micro)
        secs, frac = divmod(ns, NS_PER_S)
        if micro:  # Cloud Run request/system logs: hex seconds + hex micros + random
            insert_id = f"{secs:08x}{frac // 1000:08x}{self.hex(8)}"
        else:
            insert_id = "".join(self.rng.choice("0123456789abcdefghijklmnopqrstuvwxyz") for _ in range(14))
        receive_ns = ns + self.rng.randint(15_000_000, 420_000_000) + self.rng.randint(0, 999)
        entry: dict[str, Any] = {
            "insertId": insert_id,
            "labels": {"instanceId": instance},
            "logName": f"projects/{PROJECT_ID}/logs/run.googleapis.com%2F{log.replace('/', '%2F')}",
            "receiveTimestamp": rfc3339(receive_ns, 9),
            "resource": self._resource(service, revision),
            "severity": severity,
            "timestamp": rfc3339(ns, 6 if micro else 9),
        }
        if text is not None:
            entry["textPayload"] = text
        if json_payload is not None:
            entry["jsonPayload"] = json_payload
        if http is not None:
            entry["httpRequest"] = http
        if trace is not None:
            entry["trace"] = f"projects/{PROJECT_ID}/traces/{trace}"
        if extra:
            entry.update(extra)
        self.items.append(Generated(ns, service, category, entry))
        return ns

    def request(
        self,
        ns: int,
        service: str,
        revision: str,
        category: str,
        instance: str,
        method: str,
        path: str,
        status: int,
        latency: str,
        user_agent: str,
        remote_ip: str,
        text: str | None = None,
    ) -> tuple[int, str]:
        """Append one run.googleapis.com/requests entry; returns (ns, trace id)."""
        severity = "ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO"
        trace = self.hex(32)
        http = {
            "latency": latency,
            "protocol": "HTTP/1.1",
            "remoteIp": remote_ip,
            "requestMethod": method,
            "requestSize": str(self.rng.randint(280, 1900)),
            "requestUrl": f"https://{service}-{PROJECT_NUMBER}.{REGION}.run.app{path}",
            "responseSize": str(self.rng.randint(90, 320) if status >= 400 else self.rng.randint(180, 24000)),
            "serverIp": f"216.239.{self.rng.choice((32, 34, 36, 38))}.53",
            "status": status,
            "userAgent": user_agent,
        }
        extra: dict[str, Any] = {"spanId": self.hex(16)}
        if self.rng.random() < 0.5:
            extra["traceSampled"] = True
        got = self.add(
            ns,
            service,
            revision,
            category,
            "requests",
            severity,
            instance,
            text=text,
            http=http,
            trace=trace,
            extra=extra,
        )
        return got, trace


# ---------------------------------------------------------------- metrics (exact counts)

SeriesKey = tuple[str, str, str]  # (service, revision, response_code)


def build_request_counts(rng: random.Random) -> dict[SeriesKey, list[int]]:
    """Per-minute request counts by revision and response code (the exact numbers)."""
    m = WINDOW_MINUTES
    counts: dict[SeriesKey, list[int]] = {}
    counts[("backend", BACKEND_PREV, "200")] = [rng.randint(40, 50) if i < DEPLOY_MINUTE else 0 for i in range(m)]
    counts[("backend", BACKEND_NEW, "503")] = [
        0 if i < DEPLOY_MINUTE else 30 + 2 * (i - DEPLOY_MINUTE) + rng.randint(-4, 4) for i in range(m)
    ]
    counts[("backend", BACKEND_NEW, "500")] = [0 if i < DEPLOY_MINUTE else rng.randint(3, 10) for i in range(m)]
    counts[("auth", AUTH_REV, "200")] = [
        rng.randint(16, 22) if i < DB_TROUBLE_MINUTE else rng.randint(0, 3) for i in range(m)
    ]
    counts[("auth", AUTH_REV, "503")] = [0 if i < DB_TROUBLE_MINUTE else rng.randint(22, 30) for i in range(m)]
    counts[("frontend", FRONTEND_REV, "200")] = [rng.randint(25, 31) for _ in range(m)]
    counts[("frontend", FRONTEND_REV, "405")] = [rng.randint(10, 14) for _ in range(m)]
    return counts


def render_metrics(counts: dict[SeriesKey, list[int]]) -> dict[str, Any]:
    """A timeSeries.list REST response: int64Value as strings, points newest first."""
    series = []
    for (service, revision, code), per_minute in counts.items():
        points = [
            {
                "interval": {
                    "endTime": rfc3339(_minute_ns(i + 1), 0),
                    "startTime": rfc3339(_minute_ns(i), 0),
                },
                "value": {"int64Value": str(n)},
            }
            for i, n in reversed(list(enumerate(per_minute)))
            if n > 0  # Monitoring returns no point for a minute without requests
        ]
        series.append(
            {
                "metric": {
                    "labels": {"response_code": code, "response_code_class": f"{code[0]}xx"},
                    "type": "run.googleapis.com/request_count",
                },
                "resource": {
                    "type": "cloud_run_revision",
                    "labels": {
                        "configuration_name": service,
                        "location": REGION,
                        "project_id": PROJECT_ID,
                        "revision_name": revision,
                        "service_name": service,
                    },
                },
                "metricKind": "DELTA",
                "valueType": "INT64",
                "points": points,
            }
        )
    return {"timeSeries": series, "unit": "1"}


# ---------------------------------------------------------------- logs (a sample)


def sample_times(rng: random.Random, per_minute: list[int], n: int) -> list[int]:
    """n timestamps (ns) drawn minute by minute in proportion to the exact counts, never more."""
    remaining = list(per_minute)
    out = []
    for _ in range(n):
        minute = rng.choices(range(len(remaining)), weights=remaining)[0]
        remaining[minute] -= 1
        out.append(_minute_ns(minute) + rng.randint(0, 59_999_999) * 1000)
    return sorted(out)


def growing_times(rng: random.Random, start_ns: int, end_ns: int, n: int) -> list[int]:
    """n timestamps whose density grows linearly from start to end (an outage getting worse)."""
    return sorted(start_ns + int((end_ns - start_ns) * rng.random() ** 0.5) for _ in range(n))


def _s(seconds: float) -> int:
    return int(seconds * NS_PER_S)


def _latency(rng: random.Random, low: float, high: float) -> str:
    return f"{rng.uniform(low, high):.9f}s"


def _probe_ip(rng: random.Random) -> str:
    return f"169.254.{rng.randint(1, 254)}.{rng.randint(1, 254)}"


def _client_ip(rng: random.Random) -> str:
    return f"{rng.choice((34, 35, 104, 73, 98))}.{rng.randint(1, 254)}.{rng.randint(1, 254)}.{rng.randint(1, 254)}"


BROWSER_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/128.0.0.0 Safari/537.36"
)
UPTIME_UA = "GoogleStackdriverMonitoring-UptimeChecks(https://cloud.google.com/monitoring)"
BACKEND_PATHS = (
    ("GET", "/health"),
    ("GET", "/api/threads"),
    ("POST", "/api/agent/run"),
    ("GET", "/api/config"),
    ("GET", "/ws"),
)
AUTH_PATHS = (
    ("POST", "/auth/token"),
    ("GET", "/auth/verify"),
    ("POST", "/auth/refresh"),
    ("GET", "/.well-known/jwks.json"),
)
FRONTEND_PATHS = (
    ("GET", "/"),
    ("GET", "/chat"),
    ("GET", "/favicon.ico"),
    ("GET", "/api/health"),
    ("GET", "/_next/static/chunks/main-app-7f3c1a9e2b.js"),
    ("GET", "/login"),
)

WS_FRAMES = (
    '  File "/app/netra_backend/app/main.py", line 118, in lifespan\n    setup_websocket_middleware(app)\n',
    '  File "/app/netra_backend/app/core/app_factory.py", line 77, in create_app\n'
    "    await _configure_middleware(app)\n"
    '  File "/app/netra_backend/app/core/app_factory.py", line 131, in _configure_middleware\n'
    "    setup_websocket_middleware(app)\n",
    "",
)


def websocket_traceback(rng: random.Random) -> str:
    return (
        "Traceback (most recent call last):\n"
        + rng.choice(WS_FRAMES)
        + '  File "/app/netra_backend/app/websocket_core/middleware.py", line 42, in setup_websocket_middleware\n'
        "    from auth_service.auth_core.core.token_validator import TokenValidator\n"
        "ModuleNotFoundError: No module named 'auth_service'"
    )


def service_id_line(rng: random.Random) -> tuple[str | None, dict[str, Any] | None]:
    """The same configuration warning as apps really print it: text or JSON, value varies."""
    value = rng.choice(("'netra-backend '", "'netra-backend '", "' netra-backend'", "'netra-backend\\n'"))
    style = rng.randrange(3)
    if style == 0:
        return f"SERVICE_ID contained whitespace - stripped value {value}", None
    if style == 1:
        return (
            f"WARNING:netra_backend.app.core.configuration.base:SERVICE_ID contained whitespace "
            f"- stripped value {value}"
        ), None
    return None, {
        "message": f"SERVICE_ID contained whitespace - stripped value {value}",
        "logger": "netra_backend.app.core.configuration.base",
        "env": "staging",
    }


def backend_logs(b: Builder, counts: dict[SeriesKey, list[int]]) -> None:
    rng = b.rng
    deploy_ns = _minute_ns(DEPLOY_MINUTE)
    # Previous revision: two instances serving, one more scaling up, all stopping at the deploy.
    prev_instances = [b.instance_id() for _ in range(3)]
    for idx, ns in enumerate(sample_times(rng, counts[("backend", BACKEND_PREV, "200")], 40)):
        method, path = rng.choice(BACKEND_PATHS[:4])
        inst = prev_instances[idx % 3]
        b.request(
            ns,
            "backend",
            BACKEND_PREV,
            "http_200",
            inst,
            method,
            path,
            200,
            _latency(rng, 0.004, 0.9),
            rng.choice((BROWSER_UA, "python-httpx/0.27.2")),
            _client_ip(rng),
        )
    for start_ns, inst in ((_minute_ns(1) + _s(12.4), prev_instances[2]), (_minute_ns(3) + _s(5.1), prev_instances[1])):
        lines: list[tuple[float, str, str | None, dict[str, Any] | None, str]] = [
            (0.0, "INFO", "INFO:     Started server process [1]", None, "info"),
            (0.004, "INFO", "INFO:     Waiting for application startup.", None, "info"),
            (0.71, "WARNING", None, {"message": SENTRY, "logger": "netra_backend.app.core.monitoring"}, "sentry_noise"),
            (0.74, "WARNING", *service_id_line(rng), "service_id_whitespace"),
            (1.93, "INFO", "INFO:     Application startup complete.", None, "info"),
            (1.931, "INFO", UVICORN_RUNNING, None, "info"),
        ]
        for offset, sev, text, payload, cat in lines:
            b.add(
                start_ns + _s(offset),
                "backend",
                BACKEND_PREV,
                cat,
                "stderr",
                sev,
                inst,
                text=text,
                json_payload=payload,
            )
    for i in range(6):
        b.add(
            _minute_ns(i % 5) + _s(rng.uniform(1, 58)),
            "backend",
            BACKEND_PREV,
            "info",
            "stderr",
            "INFO",
            rng.choice(prev_instances),
            text=f'INFO:     {_probe_ip(rng)}:{rng.randint(30000, 60000)} - "GET /health HTTP/1.1" 200 OK',
        )
    for inst in prev_instances:  # traffic moved to the new revision: the old instances wind down
        stop = deploy_ns + _s(rng.uniform(20, 40))
        for offset, text in (
            (0.0, "INFO:     Shutting down"),
            (0.002, "INFO:     Waiting for application shutdown."),
            (0.01, "INFO:     Application shutdown complete."),
            (0.011, "INFO:     Finished server process [1]"),
        ):
            b.add(stop + _s(offset), "backend", BACKEND_PREV, "info", "stderr", "INFO", inst, text=text)

    # Newest revision: every instance crash-loops on the missing module.
    exits = [deploy_ns + _s(14.2), *growing_times(rng, deploy_ns + _s(40), WINDOW_END_NS - _s(5), 33)]
    sentry_cycles = set(rng.sample(range(34), 19))
    service_id_cycles = set(rng.sample(range(34), 30))
    ws_cycles = sorted(rng.sample(range(34), 25))
    ws_as_traceback = set(rng.sample(ws_cycles, 13))
    new_instances = []
    for cycle, exit_ns in enumerate(exits):
        inst = b.instance_id()
        new_instances.append(inst)
        start = exit_ns - _s(rng.uniform(2.5, 5.5))
        b.add(
            start, "backend", BACKEND_NEW, "info", "stderr", "INFO", inst, text="INFO:     Started server process [1]"
        )
        b.add(
            start + _s(0.004),
            "backend",
            BACKEND_NEW,
            "info",
            "stderr",
            "INFO",
            inst,
            text="INFO:     Waiting for application startup.",
        )
        if cycle in sentry_cycles:
            b.add(
                start + _s(0.7),
                "backend",
                BACKEND_NEW,
                "sentry_noise",
                "stderr",
                "WARNING",
                inst,
                json_payload={"message": SENTRY, "logger": "netra_backend.app.core.monitoring"},
            )
        if cycle in service_id_cycles:
            text, payload = service_id_line(rng)
            b.add(
                start + _s(0.73),
                "backend",
                BACKEND_NEW,
                "service_id_whitespace",
                "stderr",
                "WARNING",
                inst,
                text=text,
                json_payload=payload,
            )
        if cycle in ws_as_traceback:
            b.add(
                start + _s(1.6),
                "backend",
                BACKEND_NEW,
                "websocket_import",
                "stderr",
                "ERROR",
                inst,
                text=websocket_traceback(rng),
                extra={"errorGroups": [{"id": "CMb2x8WOjrS4ZQ"}]},
            )
        elif cycle in ws_cycles:
            b.add(
                start + _s(1.6),
                "backend",
                BACKEND_NEW,
                "websocket_import",
                "stderr",
                "ERROR",
                inst,
                json_payload={
                    "message": WS_MESSAGE,
                    "logger": "netra_backend.app.websocket_core.middleware",
                    "error_type": "ModuleNotFoundError",
                    "env": "staging",
                },
            )
        b.add(
            exit_ns,
            "backend",
            BACKEND_NEW,
            "container_exit",
            "varlog/system",
            "WARNING",
            inst,
            text="Container called exit(3).",
        )
    codes = ["503"] * BACKEND_503_OF_43 + ["500"] * (43 - BACKEND_503_OF_43)
    rng.shuffle(codes)
    t503 = sample_times(rng, counts[("backend", BACKEND_NEW, "503")], BACKEND_503_OF_43)
    t500 = sample_times(rng, counts[("backend", BACKEND_NEW, "500")], 43 - BACKEND_503_OF_43)
    for ns, status in [(t, 503) for t in t503] + [(t, 500) for t in t500]:
        method, path = rng.choice(BACKEND_PATHS)
        b.request(
            ns,
            "backend",
            BACKEND_NEW,
            "instance_start_failed",
            rng.choice(new_instances),
            method,
            path,
            status,
            "0s",
            rng.choice((BROWSER_UA, "python-httpx/0.27.2")),
            _client_ip(rng),
            text=START_FAILED,
        )


DB_TIMEOUT_TEXTS = (
    (5, f"Database connection timeout after 15s: could not connect to postgresql at {DB_HOST}:{DB_PORT}"),
    (
        3,
        "sqlalchemy.exc.TimeoutError: (sqlalchemy.dialects.postgresql.asyncpg.Error) <class "
        f"'asyncio.exceptions.TimeoutError'>: connecting to {DB_HOST}:{DB_PORT} timed out after 15.0 seconds",
    ),
    (2, f"asyncpg: timed out after 15.0 seconds connecting to {DB_HOST}:{DB_PORT} (database=netra_auth)"),
    (2, f"Database connection timeout after 15.0 seconds (host={DB_HOST} port={DB_PORT} db=netra_auth attempt=3/3)"),
)
AUTH_DB_TEXTS = (
    (9, "Token validation failed: could not load signing keys from database"),
    (5, "JWT verification failed: signing key cache empty and database unavailable"),
)


def auth_logs(b: Builder, counts: dict[SeriesKey, list[int]]) -> None:
    rng = b.rng
    instances = [b.instance_id() for _ in range(2)]
    for ns in sample_times(rng, counts[("auth", AUTH_REV, "200")], 30):
        method, path = rng.choice(AUTH_PATHS)
        b.request(
            ns,
            "auth",
            AUTH_REV,
            "http_200",
            rng.choice(instances),
            method,
            path,
            200,
            _latency(rng, 0.006, 0.25),
            rng.choice(("python-httpx/0.27.2", "node-fetch/1.0")),
            _client_ip(rng),
        )
    # Instance (re)starts: 3 before the database trouble, 9 during it; 4 of those fail to initialise.
    starts = sorted(
        [_minute_ns(m) + _s(rng.uniform(5, 55)) for m in (1, 4, 7)]
        + growing_times(rng, _minute_ns(DB_TROUBLE_MINUTE) + _s(20), WINDOW_END_NS - _s(30), 9)
    )
    init_failures = set(rng.sample(range(3, 12), 4))
    for idx, start in enumerate(starts):
        inst = b.instance_id()
        instances.append(inst)
        b.add(start, "auth", AUTH_REV, "info", "stderr", "INFO", inst, text="INFO:     Started server process [1]")
        b.add(
            start + _s(0.003),
            "auth",
            AUTH_REV,
            "info",
            "stderr",
            "INFO",
            inst,
            text="INFO:     Waiting for application startup.",
        )
        b.add(
            start + _s(0.4),
            "auth",
            AUTH_REV,
            "sentry_noise",
            "stderr",
            "WARNING",
            inst,
            text=f"WARNING:auth_service.core.monitoring:{SENTRY}",
        )
        if idx in init_failures:
            b.add(
                start + _s(15.6),
                "auth",
                AUTH_REV,
                "auth_db_failure",
                "stderr",
                "ERROR",
                inst,
                json_payload={
                    "message": "Auth service initialization failed: database unavailable",
                    "logger": "auth_service.main",
                    "env": "staging",
                },
            )
        else:
            b.add(
                start + _s(0.9),
                "auth",
                AUTH_REV,
                "info",
                "stderr",
                "INFO",
                inst,
                text="INFO:     Application startup complete.",
            )
            b.add(start + _s(0.901), "auth", AUTH_REV, "info", "stderr", "INFO", inst, text=UVICORN_RUNNING)
    for i in range(8):
        minute = i if i < 6 else rng.randint(DB_TROUBLE_MINUTE, WINDOW_MINUTES - 1)
        b.add(
            _minute_ns(minute) + _s(rng.uniform(1, 58)),
            "auth",
            AUTH_REV,
            "info",
            "stderr",
            "INFO",
            rng.choice(instances),
            text=f'INFO:     {_probe_ip(rng)}:{rng.randint(30000, 60000)} - "GET /health HTTP/1.1" 200 OK',
        )

    # Failing requests; 12 waited the full 15 s for the database, 14 failed fast on missing keys.
    times = sample_times(rng, counts[("auth", AUTH_REV, "503")], 72)
    eligible = [i for i, ns in enumerate(times) if ns < WINDOW_END_NS - _s(17)]
    slow = sorted(rng.sample(eligible, 12))
    fast = sorted(rng.sample([i for i in range(72) if i not in slow], 14))
    db_texts = [t for n, t in DB_TIMEOUT_TEXTS for _ in range(n)]
    auth_texts = [t for n, t in AUTH_DB_TEXTS for _ in range(n)]
    rng.shuffle(db_texts)
    rng.shuffle(auth_texts)
    for i, ns in enumerate(times):
        method, path = rng.choice(AUTH_PATHS)
        latency = _latency(rng, 15.0, 15.08) if i in slow else _latency(rng, 0.002, 0.06)
        inst = rng.choice(instances[2:])
        got, trace = b.request(
            ns,
            "auth",
            AUTH_REV,
            "http_503",
            inst,
            method,
            path,
            503,
            latency,
            rng.choice(("python-httpx/0.27.2", "node-fetch/1.0")),
            _client_ip(rng),
        )
        if i in slow:
            text = db_texts.pop()
            as_json = rng.random() < 0.5
            b.add(
                got + _s(15.0) + _s(rng.uniform(0.001, 0.02)),
                "auth",
                AUTH_REV,
                "db_timeout",
                "stderr",
                "ERROR",
                inst,
                text=None if as_json else text,
                json_payload={"message": text, "logger": "auth_service.auth_core.database"} if as_json else None,
                trace=trace,
            )
        elif i in fast:
            payload = {
                "message": auth_texts.pop(),
                "logger": "auth_service.auth_core.core.token_validator",
                "env": "staging",
            }
            b.add(
                got + _s(rng.uniform(0.001, 0.02)),
                "auth",
                AUTH_REV,
                "auth_db_failure",
                "stderr",
                "ERROR",
                inst,
                json_payload=payload,
                trace=trace,
            )


def frontend_logs(b: Builder, counts: dict[SeriesKey, list[int]]) -> None:
    rng = b.rng
    instances = [b.instance_id() for _ in range(3)]
    for ns in sample_times(rng, counts[("frontend", FRONTEND_REV, "200")], 140):
        method, path = rng.choice(FRONTEND_PATHS)
        b.request(
            ns,
            "frontend",
            FRONTEND_REV,
            "http_200",
            rng.choice(instances),
            method,
            path,
            200,
            _latency(rng, 0.003, 0.4),
            BROWSER_UA,
            _client_ip(rng),
        )
    for ns in sample_times(rng, counts[("frontend", FRONTEND_REV, "405")], 60):
        checker_ip = f"35.{rng.randint(186, 239)}.{rng.randint(0, 254)}.{rng.randint(1, 254)}"
        b.request(
            ns,
            "frontend",
            FRONTEND_REV,
            "http_405",
            rng.choice(instances),
            "POST",
            "/api/health",
            405,
            _latency(rng, 0.001, 0.01),
            UPTIME_UA,
            checker_ip,
        )
    start, new_instance = _minute_ns(22) + _s(31.2), b.instance_id()  # one scale-up mid-window
    for offset, text in (
        (0.0, "> netra-frontend@0.1.0 start"),
        (0.001, "> next start -p 8080"),
        (0.62, "ready - started server on 0.0.0.0:8080, url: http://localhost:8080"),
    ):
        b.add(start + _s(offset), "frontend", FRONTEND_REV, "info", "stdout", "INFO", new_instance, text=text)


# ---------------------------------------------------------------- alert


def build_alert(counts: dict[SeriesKey, list[int]]) -> dict[str, Any]:
    """The metric-threshold notification that opened the incident at 01:12."""
    minute = int((INCIDENT_STARTED_AT - WINDOW_START).total_seconds() // 60) - 1
    fivexx = sum(v[minute] for (s, _, c), v in counts.items() if s == "backend" and c.startswith("5"))
    total = sum(v[minute] for (s, _, _), v in counts.items() if s == "backend")
    observed = f"{fivexx / total:.3f}"
    labels = f"project_id={PROJECT_ID}, service_name=backend, location={REGION}"
    base_filter = (
        'resource.type = "cloud_run_revision" AND resource.labels.service_name = "backend" '
        'AND metric.type = "run.googleapis.com/request_count"'
    )
    aggregation = [
        {
            "alignmentPeriod": "60s",
            "crossSeriesReducer": "REDUCE_SUM",
            "groupByFields": ["resource.label.service_name", "resource.label.location"],
            "perSeriesAligner": "ALIGN_DELTA",
        }
    ]
    logs_url = (
        f"https://console.cloud.google.com/logs/query;query=resource.type%3D%22cloud_run_revision%22%0A"
        f"resource.labels.service_name%3D%22backend%22?project={PROJECT_ID}"
    )
    return {
        "incident": {
            "condition": {
                "conditionThreshold": {
                    "aggregations": aggregation,
                    "comparison": "COMPARISON_GT",
                    "denominatorAggregations": aggregation,
                    "denominatorFilter": base_filter,
                    "duration": "300s",
                    "filter": base_filter + ' AND metric.labels.response_code_class = "5xx"',
                    "thresholdValue": 0.05,
                    "trigger": {"count": 1},
                },
                "displayName": "backend 5xx ratio > 5% for 5 min",
                "name": f"projects/{PROJECT_ID}/alertPolicies/{POLICY_ID}/conditions/{CONDITION_ID}",
            },
            "condition_name": "backend 5xx ratio > 5% for 5 min",
            "documentation": {
                "content": (
                    "The share of `backend` requests answered with 5xx in `staging` is above 5%.\n\n"
                    "1. Check the newest revision: `gcloud run revisions list --service backend "
                    f"--region {REGION} --project {PROJECT_ID}`\n"
                    "2. If it started failing after a deploy, roll back: `gcloud run services "
                    "update-traffic backend --to-revisions=PREVIOUS=100`\n"
                    "3. Otherwise read the errors in Logs Explorer (link below)."
                ),
                "links": [
                    {
                        "displayName": "Runbook",
                        "url": "https://github.com/netra-systems/ops/blob/main/runbooks/5xx-ratio.md",
                    },
                    {"displayName": "Logs", "url": logs_url},
                ],
                "mime_type": "text/markdown",
                "subject": "[ALERT - Critical] staging 5xx ratio - backend",
            },
            "ended_at": None,
            "incident_id": INCIDENT_ID,
            "metadata": {"system_labels": {}, "user_labels": {}},
            "metric": {"displayName": "Request Count", "labels": {}, "type": "run.googleapis.com/request_count"},
            "observed_value": observed,
            "policy_name": "staging 5xx ratio - backend",
            "policy_user_labels": {"env": "staging"},
            "resource": {
                "labels": {"location": REGION, "project_id": PROJECT_ID, "service_name": "backend"},
                "type": "cloud_run_revision",
            },
            "resource_display_name": "backend",
            "resource_id": "",
            "resource_name": f"{PROJECT_ID} Cloud Run Revision labels {{{labels}}}",
            "resource_type_display_name": "Cloud Run Revision",
            "scoping_project_id": PROJECT_ID,
            "scoping_project_number": PROJECT_NUMBER,
            "severity": "Critical",
            "started_at": int(INCIDENT_STARTED_AT.timestamp()),
            "state": "open",
            "summary": (
                f"Request Count for {PROJECT_ID} Cloud Run Revision labels {{{labels}}} is above the "
                f"threshold of 0.050 with a value of {observed}."
            ),
            "threshold_value": "0.05",
            "url": f"https://console.cloud.google.com/monitoring/alerting/incidents/{INCIDENT_ID}?project={PROJECT_ID}",
        },
        "version": "1.2",
    }


# ---------------------------------------------------------------- write and check


def _dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def generate(out: Path) -> list[Generated]:
    """Write the three files into `out`, then verify them; returns the generated entries."""
    rng = random.Random(SEED)
    counts = build_request_counts(rng)
    builder = Builder(rng)
    backend_logs(builder, counts)
    auth_logs(builder, counts)
    frontend_logs(builder, counts)
    items = sorted(builder.items, key=lambda g: (g.ns, g.entry["insertId"]), reverse=True)
    out.mkdir(parents=True, exist_ok=True)
    _dump(out / "alert.json", build_alert(counts))
    _dump(out / "logs.json", [g.entry for g in items])
    _dump(out / "metrics.json", render_metrics(counts))
    check(out, items, counts)
    return items


def check(out: Path, items: list[Generated], counts: dict[SeriesKey, list[int]]) -> None:
    """Re-read what was written and assert it is what was promised."""
    logs = json.loads((out / "logs.json").read_text(encoding="utf-8"))
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    alert = json.loads((out / "alert.json").read_text(encoding="utf-8"))
    assert alert["version"] == "1.2" and alert["incident"]["state"] == "open"
    assert isinstance(logs, list) and len(logs) == len(items)
    by_id = {g.entry["insertId"]: g for g in items}
    assert len(by_id) == len(items), "insertIds must be unique"
    stamps = [by_id[e["insertId"]].ns for e in logs]
    assert stamps == sorted(stamps, reverse=True), "logs must be newest first"
    assert all(e["timestamp"] == rfc3339(ns, len(e["timestamp"]) - 21) for e, ns in zip(logs, stamps, strict=True))
    got = Counter((by_id[e["insertId"]].service, by_id[e["insertId"]].category) for e in logs)
    for key, want in EXPECTED_LOG_COUNTS.items():
        assert got[key] == want, f"{key}: wrote {got[key]}, expected {want}"
    start_failed = [e for e in logs if e.get("textPayload") == START_FAILED]
    assert len(start_failed) == 43
    assert all(e["resource"]["labels"]["revision_name"] == BACKEND_NEW for e in start_failed)
    assert Counter(e["httpRequest"]["status"] for e in start_failed) == {503: BACKEND_503_OF_43, 500: 8}
    assert not any(
        e["resource"]["labels"]["service_name"] == "frontend" and e.get("httpRequest", {}).get("status", 0) >= 500
        for e in logs
    )
    # Metrics are exact, logs a sample: no minute may hold more request logs than the metric counted.
    logged: Counter[tuple[str, str, str, int]] = Counter()
    for e in logs:
        if "httpRequest" in e:
            lab = e["resource"]["labels"]
            ns = by_id[e["insertId"]].ns
            logged[
                (
                    lab["service_name"],
                    lab["revision_name"],
                    str(e["httpRequest"]["status"]),
                    (ns - WINDOW_START_NS) // (60 * NS_PER_S),
                )
            ] += 1
    for (svc, rev, code, minute), n in logged.items():
        assert n <= counts[(svc, rev, code)][minute], (svc, rev, code, minute)
    for ts in metrics["timeSeries"]:
        times = [p["interval"]["endTime"] for p in ts["points"]]
        assert times == sorted(times, reverse=True), "points must be newest first"
        assert all(isinstance(p["value"]["int64Value"], str) for p in ts["points"])
    print_summary(out, got, counts)


def print_summary(out: Path, got: Counter[tuple[str, str]], counts: dict[SeriesKey, list[int]]) -> None:
    print(f"wrote {out}")
    for name in ("alert.json", "logs.json", "metrics.json"):
        print(f"  {name:13} {(out / name).stat().st_size:>9,} bytes")
    print("log entries by service/category:")
    for (service, category), n in sorted(got.items()):
        print(f"  {service:9} {category:22} {n:4}")
    print(f"  {'total':32} {sum(got.values()):4}")
    print("request_count (exact) by service:")
    for service in ("backend", "auth", "frontend"):
        by_class: Counter[str] = Counter()
        for (svc, _, code), per_minute in counts.items():
            if svc == service:
                by_class[f"{code[0]}xx"] += sum(per_minute)
        total = sum(by_class.values())
        shares = ", ".join(f"{c} {n} ({n / total:.1%})" for c, n in sorted(by_class.items()))
        print(f"  {service:9} total {total:5}: {shares}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    default_out = Path(__file__).resolve().parent.parent / "examples" / "staging-outage"
    parser.add_argument("--out", type=Path, default=default_out, help=f"output directory (default {default_out})")
    args = parser.parse_args(argv)
    generate(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
