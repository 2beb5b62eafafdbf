"""Hand-built Incidents and Cards for the renderer tests.

`staging_incident()` / `staging_card()` are the seed's staging outage
(seeds/000_66b7cf66d344ebc6.txt) as the pipeline would describe it: backend FAILING
(93% 5xx, 43 failed starts) after a deploy that lost the `auth_service` module, auth
FAILING on 15 s database timeouts, frontend DEGRADED on 405s, worker healthy. The card is
written out by hand (not through `build_card`) so that the golden files change only when
a renderer changes. The Incident carries an unredacted database password and Slack token;
the Card carries their redacted form, as `build_card(incident, redact)` would give it.

`huge_card()` is the worst case the renderers must survive within their platform limits:
3,000 templates, 40 services, 30 root causes, 100 KB messages, Markdown and mrkdwn
control characters everywhere.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from functions.core.model import (
    Action,
    AlertRef,
    AlertState,
    Card,
    Category,
    ComponentRow,
    Failure,
    Health,
    Incident,
    IncidentStatus,
    Link,
    Priority,
    RootCause,
    ServiceHealth,
    Severity,
    Template,
)

STARTED = datetime(2025, 9, 15, 22, 1, tzinfo=UTC)
GENERATED = datetime(2025, 9, 15, 22, 41, 42, tzinfo=UTC)
ENDED = datetime(2025, 9, 15, 22, 53, tzinfo=UTC)
KEY = "acme-staging/staging"
SECRET_PASSWORD = "hunter2-Xy9!"
SECRET_TOKEN = "xoxb-123456789012-123456789012-abcdefghijABCDEFGHIJklmn"
TIMELINE = (0, 0, 2, 7, 15, 24, 31, 29, 26, 22, 19, 17, 15, 14, 13, 12, 12, 11, 10, 10,
            9, 9, 8, 8, 8, 7, 7, 7, 6, 6, 6, 5, 5, 5, 4, 4, 4, 3, 3, 3)  # fmt: skip
SPARKLINE = "▁▁▁▃▄▆██▇▆▅▅▄▄▄▄▄▃▃▃▃▃▃▃▃▃▃▃▂▂▂▂▂▂▂▂▂▂▂▂"
REVISION = "backend-00042-x7k"
PREVIOUS_REVISION = "backend-00041-p2m"


def at(minute: int, second: int = 0) -> datetime:
    return STARTED + timedelta(minutes=minute, seconds=second)


def _traceback() -> str:
    return (
        "Traceback (most recent call last):\n"
        '  File "/app/netra_backend/app/main.py", line 12, in <module>\n'
        "    from auth_service.client import AuthClient\n"
        "ModuleNotFoundError: No module named 'auth_service'"
    )


def _db_timeout(secret: str) -> str:
    return (
        "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at "
        f'"10.20.0.3", port 5432 failed: timeout expired (15 s) url=postgresql://auth:{secret}@10.20.0.3/auth'
    )


def _service_id(token: str) -> str:
    return f"SERVICE_ID contained whitespace: 'netra-auth \\n' (slack_token={token})"


# ---------------------------------------------------------------- shared pieces

SERVICES = (
    ServiceHealth(
        "backend",
        Health.FAILING,
        ("93% 5xx (1116/1200 requests; 503 ×1032, 500 ×84)", "43 failed starts"),
        requests=1200,
        error_ratio=0.93,
        failed_starts=43,
    ),
    ServiceHealth(
        "auth", Health.FAILING, ("61% 5xx (245/402 requests; 503 ×201, 500 ×44)",), requests=402, error_ratio=245 / 402
    ),
    ServiceHealth("frontend", Health.DEGRADED, ("41% 4xx (212/517 requests; 405 ×198, 404 ×14)",), requests=517),
    ServiceHealth("worker", Health.HEALTHY, ("0% 5xx of 96 requests",), requests=96),
)

BACKEND_CHAIN = (
    "backend is FAILING: 93% 5xx (1116/1200 requests; 503 ×1032, 500 ×84), 43 failed starts",
    "backend: instance could not start (×43)",
    "backend: container exited with code 3 (×34)",
    "backend: missing Python module 'auth_service' (×25)",
    f"likely a bad deploy: 97% of backend's errors are on its newest revision {REVISION}; "
    f"the previous revision {PREVIOUS_REVISION} served 388 requests with 0% 5xx",
)
AUTH_CHAIN = (
    "auth is FAILING: 61% 5xx (245/402 requests; 503 ×201, 500 ×44)",
    "auth: auth database initialisation failed (×18)",
    "auth: database connection timed out after 15 s (×12)",
)

ACTIONS = (
    Action(
        Priority.P0,
        f"Roll back backend to {PREVIOUS_REVISION}: `gcloud run services update-traffic backend "
        f"--to-revisions={PREVIOUS_REVISION}=100 --region=us-central1`",
        Category.DEPENDENCY_MISSING,
        "python-module-not-found",
    ),
    Action(
        Priority.P0,
        "Add the missing module 'auth_service' to backend's image (requirements or COPY) and redeploy",
        Category.DEPENDENCY_MISSING,
        "python-module-not-found",
    ),
    Action(
        Priority.P0,
        "Check auth's database path: Cloud SQL instance up, VPC connector / private IP route, connection limit "
        "(connect timeout is 15 s)",
        Category.DATABASE,
        "db-connect-timeout",
    ),
    Action(
        Priority.P1,
        "Strip the whitespace from SERVICE_ID in auth and backend's environment",
        Category.CONFIGURATION,
        "env-whitespace",
    ),
    Action(
        Priority.P2,
        "Add a startup probe so a revision that cannot import its modules never takes traffic",
        Category.CONTAINER_STARTUP,
        "container-exit",
    ),
)

LINKS = (
    Link(
        "Logs Explorer",
        "https://console.cloud.google.com/logs/query;query=resource.type%3D%22cloud_run_revision%22%0A"
        "severity%3E%3DWARNING%0Aresource.labels.service_name%3D%28%22backend%22%20OR%20%22auth%22%20OR%20"
        "%22frontend%22%29;startTime=2025-09-15T22:01:00Z;endTime=2025-09-15T22:41:42Z?project=acme-staging",
    ),
    Link(
        "Incident: backend 5xx ratio > 50%",
        "https://console.cloud.google.com/monitoring/alerting/incidents/0.nxk3b7d1q2aa?project=acme-staging",
    ),
    Link(
        "Cloud Run: backend",
        "https://console.cloud.google.com/run/detail/us-central1/backend/metrics?project=acme-staging",
    ),
    Link(
        "Cloud Run: auth", "https://console.cloud.google.com/run/detail/us-central1/auth/metrics?project=acme-staging"
    ),
    Link("Tracking issue", "https://github.com/acme/ops/issues/1278"),
)

NOTES = ("Request counts from Cloud Monitoring; log counts from all 406 entries in the window.",)


def _alerts(state: AlertState) -> tuple[AlertRef, ...]:
    return (
        AlertRef(
            "0.nxk3b7d1q2aa",
            "backend 5xx ratio > 50%",
            state,
            "https://console.cloud.google.com/monitoring/alerting/incidents/0.nxk3b7d1q2aa?project=acme-staging",
        ),
        AlertRef(
            "0.nxk3b9f4r7bb",
            "sitrep: dependency_missing",
            state,
            "https://console.cloud.google.com/monitoring/alerting/incidents/0.nxk3b9f4r7bb?project=acme-staging",
        ),
    )


def _templates(password: str, token: str) -> tuple[Template, ...]:
    """Recurring messages, most frequent first; the secrets are given raw or redacted."""
    return (
        Template("t01", "The request failed because the instance could not start successfully.", 43,
                 Category.CONTAINER_STARTUP, "instance-start-failed", ("backend",), at(2), at(39),
                 "The request failed because the instance could not start successfully."),
        Template("t02", "Container called exit(<*>).", 34, Category.CONTAINER_STARTUP, "container-exit",
                 ("backend",), at(2, 5), at(39, 40), "Container called exit(3)."),
        Template("t03", "Sentry SDK not available - error tracking disabled", 33, Category.NOISE,
                 "sentry-sdk-missing", ("backend", "auth"), at(2, 1), at(40),
                 "Sentry SDK not available - error tracking disabled"),
        Template("t04", "SERVICE_ID contained whitespace: <*> (slack_token=<*>)", 32, Category.CONFIGURATION,
                 "env-whitespace", ("auth", "backend"), at(2, 2), at(40, 10), _service_id(token)),
        Template("t05", "WebSocket middleware setup failed: No module named <*>", 25, Category.WEBSOCKET,
                 "websocket-middleware", ("backend",), at(2, 3), at(39, 41),
                 "WebSocket middleware setup failed: No module named 'auth_service'"),
        Template("t06", "ModuleNotFoundError: No module named <*>", 25, Category.DEPENDENCY_MISSING,
                 "python-module-not-found", ("backend",), at(2, 3), at(39, 41),
                 "ModuleNotFoundError: No module named 'auth_service'"),
        Template("t07", "auth database initialisation failed: <*>", 18, Category.APPLICATION,
                 "auth-db-init", ("auth",), at(4), at(38), "auth database initialisation failed: OperationalError",
                 is_new=True),
        Template("t08", "(psycopg2.OperationalError) connection to server at <*>, port <*> failed: timeout expired",
                 12, Category.DATABASE, "db-connect-timeout", ("auth",), at(3, 30), at(37), _db_timeout(password),
                 is_new=True),
        Template("t09", "POST /api/<*> 405 Method Not Allowed", 12, Category.UNKNOWN, "", ("frontend",), at(5),
                 at(40, 30), "POST /api/threads 405 Method Not Allowed"),
    )  # fmt: skip


def _root_causes(password: str) -> tuple[RootCause, ...]:
    return (
        RootCause(
            category=Category.DEPENDENCY_MISSING,
            signature="python-module-not-found",
            service="backend",
            summary="missing Python module 'auth_service'",
            chain=BACKEND_CHAIN,
            count=25,
            severity=Severity.CRITICAL,
            first_seen=at(2, 3),
            evidence=_traceback(),
            revision=REVISION,
            previous_revision=PREVIOUS_REVISION,
            entities={"module": ("auth_service",), "revision": (REVISION,)},
        ),
        RootCause(
            category=Category.DATABASE,
            signature="db-connect-timeout",
            service="auth",
            summary="database connection timed out after 15 s",
            chain=AUTH_CHAIN,
            count=12,
            severity=Severity.ERROR,
            first_seen=at(3, 30),
            evidence=_db_timeout(password),
            entities={"timeout_s": ("15",), "host": ("10.20.0.3",), "port": ("5432",)},
        ),
    )


def _contributing(token: str) -> tuple[RootCause, ...]:
    return (
        RootCause(
            category=Category.CONFIGURATION,
            signature="env-whitespace",
            service="auth",
            summary="SERVICE_ID contains whitespace",
            chain=("auth: SERVICE_ID contains whitespace (×32)",),
            count=32,
            severity=Severity.WARNING,
            first_seen=at(2, 2),
            evidence=_service_id(token),
            entities={"env_var": ("SERVICE_ID",)},
        ),
    )


def _failures() -> tuple[Failure, ...]:
    def failure(
        category: Category, signature: str, severity: Severity, summary: str, by_service: dict[str, int],
        first: datetime, last: datetime, entities: dict[str, tuple[str, ...]] | None = None,
        revisions: tuple[str, ...] = (), example: str = "",
    ) -> Failure:  # fmt: skip
        return Failure(category, signature, severity, summary, sum(by_service.values()), tuple(by_service),
                       entities or {}, first, last, revisions, example, by_service)  # fmt: skip

    return (
        failure(Category.CONTAINER_STARTUP, "instance-start-failed", Severity.CRITICAL, "instance could not start",
                {"backend": 43}, at(2), at(39), revisions=(REVISION,)),
        failure(Category.CONTAINER_STARTUP, "container-exit", Severity.CRITICAL, "container exited with code 3",
                {"backend": 34}, at(2, 5), at(39, 40), {"exit_code": ("3",)}, (REVISION,)),
        failure(Category.NOISE, "sentry-sdk-missing", Severity.INFO, "optional Sentry SDK not available",
                {"backend": 20, "auth": 13}, at(2, 1), at(40)),
        failure(Category.CONFIGURATION, "env-whitespace", Severity.WARNING, "SERVICE_ID contains whitespace",
                {"auth": 20, "backend": 12}, at(2, 2), at(40, 10), {"env_var": ("SERVICE_ID",)},
                example=_service_id(SECRET_TOKEN)),
        failure(Category.DEPENDENCY_MISSING, "python-module-not-found", Severity.CRITICAL,
                "missing Python module 'auth_service'", {"backend": 25}, at(2, 3), at(39, 41),
                {"module": ("auth_service",)}, (REVISION,)),
        failure(Category.WEBSOCKET, "websocket-middleware", Severity.ERROR, "WebSocket middleware setup failed",
                {"backend": 25}, at(2, 3), at(39, 41), {"module": ("auth_service",)}, (REVISION,)),
        failure(Category.APPLICATION, "auth-db-init", Severity.ERROR, "auth database initialisation failed",
                {"auth": 18}, at(4), at(38), {"exception": ("OperationalError",)}),
        failure(Category.DATABASE, "db-connect-timeout", Severity.ERROR,
                "database connection timed out after 15 s",
                {"auth": 12}, at(3, 30), at(37),
                {"timeout_s": ("15",), "host": (f"auth:{SECRET_PASSWORD}@10.20.0.3",)},
                example=_db_timeout(SECRET_PASSWORD)),
    )  # fmt: skip


COMPONENTS = (
    ComponentRow("Container startup", 77, ("backend",), "instance could not start"),
    ComponentRow("Configuration", 32, ("auth", "backend"), "SERVICE_ID contains whitespace"),
    ComponentRow("Dependencies", 25, ("backend",), "missing Python module 'auth_service'"),
    ComponentRow("WebSocket", 25, ("backend",), "WebSocket middleware setup failed"),
    ComponentRow("Application", 18, ("auth",), "auth database initialisation failed"),
    ComponentRow("Database", 12, ("auth",), "database connection timed out after 15 s"),
    ComponentRow("Noise (not failures)", 33, ("backend", "auth"), "optional Sentry SDK not available"),
)

HEADLINE_TAIL = (
    "staging: backend and auth FAILING, frontend DEGRADED — missing Python module 'auth_service' in backend "
    f"(newest revision {REVISION}); database connection timed out after 15 s in auth"
)
SUMMARY = (
    "Backend and auth FAILING, frontend DEGRADED. 2 independent root causes: missing Python module 'auth_service' "
    f"in backend (newest revision {REVISION}); database connection timed out after 15 s in auth."
)


def fake_redact(text: str) -> str:
    """What `functions.redaction.redact.redact` does to the factory's two secrets (kept local so goldens stay put)."""
    return text.replace(SECRET_PASSWORD, "[REDACTED:url_password]").replace(SECRET_TOKEN, "[REDACTED:slack_token]")


# ---------------------------------------------------------------- the staging outage


def staging_incident(*, resolved: bool = False) -> Incident:
    """The seed's outage as the analysis describes it, secrets unredacted (as logs carry them)."""
    status = IncidentStatus.RESOLVED if resolved else IncidentStatus.ACTIVE
    summary = SUMMARY if not resolved else "Resolved. At last update: b" + SUMMARY[1:]
    return Incident(
        key=KEY,
        status=status,
        severity=Severity.CRITICAL,
        environment="staging",
        project_id="acme-staging",
        title="backend 5xx ratio > 50%, sitrep: dependency_missing",
        summary=summary,
        started_at=STARTED,
        ended_at=ENDED if resolved else None,
        generated_at=ENDED if resolved else GENERATED,
        alerts=_alerts(AlertState.CLOSED if resolved else AlertState.OPEN),
        services=SERVICES,
        failures=_failures(),
        recurring=_templates(SECRET_PASSWORD, SECRET_TOKEN),
        root_causes=_root_causes(SECRET_PASSWORD),
        contributing=_contributing(SECRET_TOKEN),
        actions=ACTIONS,
        timeline=TIMELINE,
        timeline_start=STARTED,
        timeline_step_s=60,
        records_analysed=406,
        sampled=False,
        links=LINKS,
        notes=NOTES,
        region="us-central1",
    )


def staging_card(*, resolved: bool = False) -> Card:
    """The card `build_card(staging_incident(), redact)` stands for, written out so goldens isolate the renderers."""
    status = IncidentStatus.RESOLVED if resolved else IncidentStatus.ACTIVE
    redacted_password = fake_redact(SECRET_PASSWORD)
    redacted_token = fake_redact(SECRET_TOKEN)
    return Card(
        key=KEY,
        status=status,
        severity=Severity.CRITICAL,
        headline=f"[{'RESOLVED' if resolved else 'CRITICAL'}] {HEADLINE_TAIL}",
        status_line="RESOLVED · CRITICAL · staging · lasted 52 min"
        if resolved
        else "ACTIVE · CRITICAL · staging · since 22:01 UTC",
        summary=SUMMARY if not resolved else "Resolved. At last update: b" + SUMMARY[1:],
        health=SERVICES,
        root_causes=_root_causes(redacted_password),
        contributing=_contributing(redacted_token),
        actions=ACTIONS,
        components=COMPONENTS,
        # build_card puts what failed first and the harmless notices after it
        recurring=tuple(
            sorted(_templates(redacted_password, redacted_token), key=lambda t: t.category is Category.NOISE)
        ),
        sparkline=SPARKLINE,
        sparkline_caption="errors per min, 22:01–22:41 UTC; peak 31 at 22:07",
        links=LINKS,
        notes=NOTES,
        alerts=_alerts(AlertState.CLOSED if resolved else AlertState.OPEN),
        evidence_total=406,
        sampled=False,
    )


def staging_card_later() -> Card:
    """The same incident one update later: auth recovered, a new template appeared, more logs read."""
    card = staging_card()
    health = (SERVICES[0], replace(SERVICES[1], status=Health.HEALTHY, reasons=("1% 5xx of 380 requests",)),
              *SERVICES[2:])  # fmt: skip
    new = Template("t10", "upstream connect error or disconnect/reset before headers <*>", 9, Category.NETWORK,
                   "upstream-reset", ("frontend",), at(44), at(50), is_new=True)  # fmt: skip
    return replace(
        card,
        status_line="ACTIVE · CRITICAL · staging · since 22:01 UTC",
        health=health,
        root_causes=card.root_causes[:1],
        recurring=(*card.recurring, new),
        evidence_total=512,
    )


# ---------------------------------------------------------------- the worst case

HUGE_MESSAGE_CHARS = 100_000
_NASTY = "a|b <@U123> & <!channel> `x` ``` *bold* _it_ [l](u) @here #12 \x1b[31mred\x1b[0m\nnext line\t| end"


def _huge_text(i: int, size: int) -> str:
    base = f"#{i} {_NASTY} "
    return (base * (size // len(base) + 1))[:size]


def huge_card() -> Card:
    """Everything at once, far past every platform limit: the renderers must truncate, visibly, by construction."""
    statuses = (Health.FAILING, Health.DEGRADED, Health.UNKNOWN, Health.HEALTHY)
    health = tuple(
        ServiceHealth(
            f"service-{i:02d}-{'x' * 30}",
            statuses[i % 4],
            (_huge_text(i, 3_000), f"{i} failed starts"),
            requests=1000 + i,
            error_ratio=0.5,
            failed_starts=i,
        )
        for i in range(40)
    )
    roots = tuple(
        RootCause(
            category=Category.APPLICATION,
            signature=f"sig-{i}",
            service=f"service-{i:02d}",
            summary=_huge_text(i, 5_000),
            chain=tuple(_huge_text(i * 100 + k, 2_000) for k in range(12)),
            count=1000 - i,
            severity=Severity.CRITICAL,
            first_seen=at(i),
            evidence=_huge_text(i, HUGE_MESSAGE_CHARS),
            revision=f"service-{i:02d}-00007-abc",
            previous_revision=f"service-{i:02d}-00006-def",
        )
        for i in range(30)
    )
    templates = tuple(
        Template(
            f"t{i:05d}",
            _huge_text(i, HUGE_MESSAGE_CHARS if i < 20 else 400),
            3000 - i,
            Category.UNKNOWN,
            "",
            tuple(f"service-{k:02d}" for k in range(i % 40)),
            at(i % 60),
            at(i % 60 + 5),
            _huge_text(i, HUGE_MESSAGE_CHARS if i < 20 else 300),
            is_new=i % 3 == 0,
        )
        for i in range(3000)
    )
    actions = tuple(
        Action((Priority.P0, Priority.P1, Priority.P2)[i % 3], _huge_text(i, 2_000), Category.APPLICATION)
        for i in range(150)
    )
    components = tuple(
        ComponentRow(_huge_text(i, 500), 100 - i, tuple(f"service-{k:02d}" for k in range(40)), _huge_text(i, 5_000))
        for i in range(13)
    )
    links = tuple(
        Link(_huge_text(i, 200), f"https://example.com/{i}?q=" + "x" * (5_000 if i == 0 else 300)) for i in range(40)
    )
    return Card(
        key="huge-project/" + "k" * 300,
        status=IncidentStatus.ACTIVE,
        severity=Severity.CRITICAL,
        headline=_huge_text(0, HUGE_MESSAGE_CHARS),
        status_line=_huge_text(1, 2_000),
        summary=_huge_text(2, HUGE_MESSAGE_CHARS),
        health=health,
        root_causes=roots,
        contributing=roots[:10],
        actions=actions,
        components=components,
        recurring=templates,
        sparkline="▁▂▃▄▅▆▇█" * 5,
        sparkline_caption=_huge_text(3, 2_000),
        links=links,
        notes=tuple(_huge_text(i, 5_000) for i in range(50)),
        alerts=tuple(
            AlertRef(f"0.{i:06d}", _huge_text(i, 1_000), AlertState.OPEN, "https://e.x/" + "y" * 400)
            for i in range(200)
        ),
        evidence_total=10_000_000,
        sampled=True,
    )
