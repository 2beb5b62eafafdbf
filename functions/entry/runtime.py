"""The Cloud Function's edge: CloudEvent in, acknowledge or retry out, structured logs on stdout.

Outcome mapping (functions-framework turns a raised exception into HTTP 500, which Pub/Sub redelivers):

    malformed / test / stale event      log, return        → acknowledged
    permanent delivery or config error  log ERROR, return  → acknowledged (retrying cannot help)
    transient failure (429, 5xx, net)   log WARNING, raise → redelivered, only failed surfaces retried
    unexpected bug                      log ERROR, raise while the event is young, then acknowledge

Every failure line carries `failure_fields()` (functions.core.contracts), the marker the Terraform module's
self-monitoring metric counts, so a broken sitrep pages someone too: malformed and stale events
(an alert dropped unprocessed is lost), and each failed surface, logged once by the service.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, TypeVar, cast

from functions.card.incident import with_group_environment
from functions.core.contracts import failure_fields
from functions.core.errors import AlertError, ConfigError, DeliveryError, InputError, SitrepError, excerpt
from functions.incidents.tick import is_tick_message
from functions.intake.alert import decode_cloudevent_data, parse_alert
from functions.redaction.redact import redact
from functions.render.inert import Mrkdwn
from functions.slack_app.actions import ActionError, ActionKind, ActionRequest, Reply, action_from_message

if TYPE_CHECKING:
    from functions.adapters.pubsub import TopicPublisher
    from functions.adapters.slack_response import ResponseUrl
    from functions.adapters.snooze import MonitoringSnoozes
    from functions.entry.settings import Settings
    from functions.incidents.service import IncidentService, Services
    from functions.incidents.tick import Ticker
    from functions.slack_app.service import StatusReporter

_Part = TypeVar("_Part")

RETRY_UNEXPECTED_FOR = timedelta(minutes=10)
# A response_url lives 30 minutes; an action older than that can no longer be answered, and whoever
# clicked has long moved on.
ACTION_MAX_AGE = timedelta(minutes=30)
_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys()) | {"message", "asctime"}

log = logging.getLogger("sitrep")


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line with `severity` and `message`, as Cloud Logging parses stdout."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "severity": record.levelname if record.levelname != "WARN" else "WARNING",
            "message": redact(record.getMessage()),
            "logger": record.name,
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                payload[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            payload["stack_trace"] = redact("".join(traceback.format_exception(*record.exc_info)))[-8000:]
        return json.dumps(payload, default=str, ensure_ascii=False)


_logging_ready = False


def setup_logging() -> None:
    """Structured logs on stdout for the 'sitrep' logger (idempotent)."""
    global _logging_ready
    if _logging_ready:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonLineFormatter())
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    _logging_ready = True


class Runtime:
    """Per-instance state: settings, the incident service and the action adapters, built on first use and reused.

    Each part is built only when first needed, so the Slack HTTP function that only verifies a request
    and hands it to Pub/Sub never loads the signatures or builds the Slack and GitHub clients. The
    heavy modules are imported inside the builders; the types below are for the type checker only.
    """

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self._lock = threading.Lock()
        self._settings: Settings | None = None
        self._service: tuple[IncidentService, Services] | None = None
        self._parts: dict[str, object] = {}

    def _settings_locked(self) -> Settings:
        if self._settings is None:
            from functions.entry.settings import Settings

            self._settings = Settings.from_env(self._env)
        return self._settings

    def settings(self) -> Settings:
        """The validated settings (raises ConfigError naming a bad variable)."""
        with self._lock:
            return self._settings_locked()

    def _service_locked(self) -> tuple[IncidentService, Services]:
        if self._service is None:
            from functions.entry.wiring import build_service, delivery_adapters, live_sources

            settings = self._settings_locked()
            adapters = live_sources(settings, delivery_adapters(settings))
            service = build_service(settings, adapters, interactive=bool(settings.slack_signing_secret))
            self._service = (service, adapters)
        return self._service

    def service(self) -> tuple[Settings, IncidentService]:
        """The settings and the incident service with the live evidence sources and delivery adapters."""
        with self._lock:
            return self._settings_locked(), self._service_locked()[0]

    def ticker(self) -> Ticker:
        """The tick over the incident service's own ledger and surfaces."""
        from functions.entry.wiring import build_ticker

        with self._lock:
            service, adapters = self._service_locked()
        return self._part("ticker", lambda s: build_ticker(s, service, adapters))

    def _part(self, name: str, build: Callable[[Settings], _Part]) -> _Part:
        with self._lock:
            if name not in self._parts:
                self._parts[name] = build(self._settings_locked())
            return cast(_Part, self._parts[name])  # each name is only ever built by one builder

    def snoozer(self) -> MonitoringSnoozes:
        """Creates Cloud Monitoring snoozes (Silence 1h)."""
        from functions.adapters.snooze import MonitoringSnoozes

        return self._part("snoozer", lambda s: MonitoringSnoozes(endpoint=s.monitoring_api_endpoint,
                                                                  timeout_s=s.http_timeout_s))

    def responder(self) -> ResponseUrl:
        """Posts ephemeral replies to Slack response_urls."""
        from functions.adapters.slack_response import ResponseUrl

        return self._part("responder", lambda s: ResponseUrl(timeout_s=s.http_timeout_s))

    def publisher(self) -> TopicPublisher | None:
        """Hands slow actions to the alert topic; None when SITREP_TOPIC is not set (local use: work inline)."""
        from functions.adapters.pubsub import TopicPublisher

        return self._part("publisher", lambda s: TopicPublisher(s.topic) if s.topic else None)

    def status_reporter(self) -> StatusReporter:
        """Answers `/sitrep status` from request counts (a metrics source of its own: no incident service needed)."""
        from functions.adapters.cloud_monitoring import CloudMonitoringSource
        from functions.slack_app.service import StatusReporter

        return self._part("status", lambda s: StatusReporter(
            metrics=CloudMonitoringSource(endpoint=s.monitoring_api_endpoint, timeout_s=s.http_timeout_s),
            project=s.project,
            watched=s.watched_services,
            thresholds=s.health,
            window=timedelta(minutes=s.status_minutes),
        ))


_runtime: Runtime | None = None
_runtime_lock = threading.Lock()


def runtime() -> Runtime:
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            _runtime = Runtime(os.environ)
        return _runtime


def reset_runtime() -> None:
    """Forget the instance state (tests that change the environment between functions)."""
    global _runtime
    with _runtime_lock:
        _runtime = None


def _event_field(event: object, name: str) -> str:
    """A CloudEvent attribute (cloudevents' CloudEvent reads them by key), or "" when it has none."""
    lookup = getattr(event, "__getitem__", None)
    try:
        value = lookup(name) if callable(lookup) else getattr(event, name, "")
    except (KeyError, TypeError, AttributeError):
        value = getattr(event, name, "")
    return str(value or "")


def _fail(message: str, **fields: Any) -> None:
    log.error(message, extra=failure_fields(**fields))


def handle_cloud_event(event: object, *, now: datetime | None = None) -> str:
    """Handle one Pub/Sub CloudEvent; returns a short outcome word, raises only to ask for redelivery."""
    setup_logging()
    now = now or datetime.now(timezone.utc)
    event_id = _event_field(event, "id")
    data = getattr(event, "data", None)
    try:
        if not isinstance(data, Mapping):
            raise AlertError(
                f"CloudEvent data is {type(data).__name__}, not a Pub/Sub MessagePublishedData object",
                reason="wrong_type",
            )
        raw, message_id, published = decode_cloudevent_data(data)
        if is_tick_message(raw):
            return handle_tick(event_id=event_id, published_at=published, now=now)
        action = action_from_message(raw)
        if action is not None:
            return handle_action_message(action, event_id=event_id, now=now)
        alert = parse_alert(raw, message_id=message_id, published_at=published)
    except AlertError as exc:
        _fail("malformed alert acknowledged", reason=exc.reason, error=str(exc), event_id=event_id)
        return "malformed"
    except ActionError as exc:
        _fail("malformed action message acknowledged", error=str(exc), event_id=event_id)
        return "malformed"
    fields = {"event_id": event_id, "incident_id": alert.incident_id, "state": alert.state.value}
    if alert.is_test:
        log.info("test notification acknowledged", extra=fields)
        return "test"
    try:
        settings, service = runtime().service()
    except ConfigError as exc:
        _fail("configuration error: event acknowledged", error=str(exc), **fields)
        return "config_error"
    published_at = alert.published_at or _parse_time(_event_field(event, "time"))
    age = (now - published_at) if published_at else timedelta(0)
    if age > timedelta(seconds=settings.max_event_age_s):
        # An alert dropped unprocessed is lost: it counts as a failure, so self-monitoring sees it.
        log.warning("stale event dropped", extra=failure_fields(**fields, age_seconds=int(age.total_seconds())))
        return "stale"
    alert = with_group_environment(alert, settings.group_labels, settings.environment)
    try:
        outcome = service.handle(alert, now)
    except DeliveryError as exc:
        if exc.retryable:
            log.warning(
                "transient failure: event will be redelivered",
                extra=failure_fields(**fields, surface=exc.surface, error=str(exc),
                       retry_after=exc.retry_after),
            )
            raise
        _fail("permanent delivery failure: event acknowledged", surface=exc.surface, error=str(exc), **fields)
        return "permanent_error"
    except InputError as exc:
        _fail("bad input: event acknowledged", error=str(exc), **fields)
        return "bad_input"
    except SitrepError as exc:
        _fail("failure: event acknowledged", error=excerpt(exc, 300), **fields)
        return "error"
    except Exception:
        failing = failure_fields(**fields)
        if age < RETRY_UNEXPECTED_FOR:
            log.exception("unexpected error: event will be redelivered", extra=failing)
            raise
        log.exception("unexpected error on an old event: acknowledged", extra=failing)
        return "error"
    # Each surface that failed was logged once, with the marker, by the service: not again here.
    log.info(
        "alert handled",
        extra={**fields, "incident_key": outcome.key, "transition": outcome.transition.value,
               "surfaces": outcome.surfaces, "logging_calls": outcome.logging_calls,
               "monitoring_calls": outcome.monitoring_calls},
    )
    return str(outcome.transition.value)


def handle_tick(*, event_id: str = "", published_at: datetime | None, now: datetime) -> str:
    """The scheduler's tick: revisit the active incidents; raise only to be redelivered."""
    try:
        settings = runtime().settings()
        age = now - published_at if published_at else timedelta(0)
        if age > timedelta(minutes=2 * settings.tick_minutes):
            # A backlog of ticks is one tick's work: the next one is minutes away.
            log.info("stale tick dropped", extra={"event_id": event_id, "age_seconds": int(age.total_seconds())})
            return "stale"
        report = runtime().ticker().run(now)
    except ConfigError as exc:
        _fail("configuration error: tick acknowledged", error=str(exc), event_id=event_id)
        return "config_error"
    except DeliveryError as exc:
        if exc.retryable:
            log.warning("transient failure during the tick: it will be redelivered",
                        extra=failure_fields(surface=exc.surface, error=str(exc), event_id=event_id))
            raise
        _fail("permanent failure during the tick: acknowledged", surface=exc.surface, error=str(exc),
              event_id=event_id)
        return "permanent_error"
    changed = [o.key for o in report.outcomes if o is not None and o.transition.value != "unchanged"]
    log.info("tick handled", extra={"event_id": event_id, "active": report.active, "visited": list(report.visited),
                                    "changed": changed, "alerts_calls": report.alerts_calls,
                                    "logging_calls": report.logging_calls})
    return "tick"


def run_action(action: ActionRequest, now: datetime) -> Reply | None:
    """Carry out a Slack action in this process: the Reply for the person (None: the card says it all)."""
    rt = runtime()
    if action.kind is ActionKind.STATUS:
        reply: Reply | None = rt.status_reporter().report(action, now)
        return reply
    from functions.slack_app.service import perform_card_action

    _settings, service = rt.service()
    return perform_card_action(action, service, rt.snoozer(), now)


def send_reply(action: ActionRequest, reply: Reply | None) -> None:
    """Post `reply` to the action's response_url; a failure is logged, never raised (the work is done)."""
    if reply is None or not action.response_url:
        return
    try:
        runtime().responder().respond(action.response_url, reply.to_slack())
    except DeliveryError as exc:
        log.warning("could not answer on the response_url", extra={"action": action.kind.value, "error": str(exc)})


def handle_action_message(action: ActionRequest, *, event_id: str = "", now: datetime) -> str:
    """An action the Slack function handed over Pub/Sub: do it, answer the person; raise only to be redelivered."""
    fields = {"event_id": event_id, "action": action.kind.value, "incident_key": action.key, "user": action.who}
    age = now - action.requested_at
    if age > ACTION_MAX_AGE:
        log.warning("stale action dropped", extra={**fields, "age_seconds": int(age.total_seconds())})
        return "stale"
    try:
        reply = run_action(action, now)
    except ConfigError as exc:
        _fail("configuration error: action acknowledged", error=str(exc), **fields)
        return "config_error"
    except DeliveryError as exc:
        if exc.retryable:
            log.warning("transient failure: action will be redelivered",
                        extra=failure_fields(**fields, surface=exc.surface, error=str(exc)))
            raise
        _fail("permanent failure: action acknowledged", surface=exc.surface, error=str(exc), **fields)
        send_reply(action, Reply(Mrkdwn("sitrep could not complete that: {}").format(exc)))
        return "permanent_error"
    except SitrepError as exc:
        _fail("failure: action acknowledged", error=excerpt(exc, 300), **fields)
        return "error"
    send_reply(action, reply)
    log.info("action handled", extra={**fields, "replied": reply is not None})
    return "action"


def _parse_time(value: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
