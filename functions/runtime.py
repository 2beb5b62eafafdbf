"""The Cloud Function's edge: CloudEvent in, acknowledge or retry out, structured logs on stdout.

Outcome mapping (functions-framework turns a raised exception into HTTP 500, which Pub/Sub redelivers):

    malformed / test / stale event      log, return        → acknowledged
    permanent delivery or config error  log ERROR, return  → acknowledged (retrying cannot help)
    transient failure (429, 5xx, net)   log WARNING, raise → redelivered, only failed surfaces retried
    unexpected bug                      log ERROR, raise while the event is young, then acknowledge

Every failure line carries `sitrep_event: "sitrep_failure"`, the marker the Terraform module's
self-monitoring metric counts, so a broken sitrep pages someone too.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import traceback
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from functions.alert import decode_cloudevent_data, parse_alert
from functions.errors import AlertError, ConfigError, DeliveryError, InputError, SitrepError, excerpt
from functions.model import Alert
from functions.redact import redact

FAILURE_MARKER = "sitrep_failure"
RETRY_UNEXPECTED_FOR = timedelta(minutes=10)
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
    """Per-instance state: settings and the incident service, built on the first event and reused."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self._lock = threading.Lock()
        self._service: Any = None
        self._settings: Any = None

    def service(self) -> tuple[Any, Any]:
        with self._lock:
            if self._service is None:
                from functions.app import build_service, delivery_adapters, live_sources
                from functions.settings import Settings

                settings = Settings.from_env(self._env)
                adapters = live_sources(settings, delivery_adapters(settings))
                self._settings = settings
                self._service = build_service(settings, adapters, interactive=bool(settings.slack_signing_secret))
            return self._settings, self._service


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


def _event_field(event: Any, name: str) -> str:
    try:
        value = event[name]
    except (KeyError, TypeError, AttributeError):
        value = getattr(event, name, "")
    return str(value or "")


def _fail(message: str, **fields: Any) -> None:
    log.error(message, extra={"sitrep_event": FAILURE_MARKER, **fields})


def with_group_environment(alert: Alert, labels: tuple[str, ...]) -> Alert:
    """The environment an alert groups by: the first configured policy label present, else the project."""
    for label in labels:
        value = alert.policy_labels.get(label)
        if value:
            return replace(alert, environment=value)
    return alert


def handle_cloud_event(event: Any, *, now: datetime | None = None) -> str:
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
        alert = parse_alert(raw, message_id=message_id, published_at=published)
    except AlertError as exc:
        _fail("malformed alert acknowledged", reason=exc.reason, error=str(exc), event_id=event_id)
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
        log.warning("stale event dropped", extra={**fields, "age_seconds": int(age.total_seconds())})
        return "stale"
    alert = with_group_environment(alert, settings.group_labels)
    try:
        outcome = service.handle(alert, now)
    except DeliveryError as exc:
        if exc.retryable:
            log.warning(
                "transient failure: event will be redelivered",
                extra={**fields, "sitrep_event": FAILURE_MARKER, "surface": exc.surface, "error": str(exc),
                       "retry_after": exc.retry_after},
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
        failing = {**fields, "sitrep_event": FAILURE_MARKER}
        if age < RETRY_UNEXPECTED_FOR:
            log.exception("unexpected error: event will be redelivered", extra=failing)
            raise
        log.exception("unexpected error on an old event: acknowledged", extra=failing)
        return "error"
    permanent = [e for e in outcome.errors if not e.retryable]
    for error in permanent:
        _fail("permanent delivery failure", surface=error.surface, error=str(error), **fields)
    log.info(
        "alert handled",
        extra={**fields, "incident_key": outcome.key, "transition": outcome.transition.value,
               "surfaces": outcome.surfaces, "logging_calls": outcome.logging_calls,
               "monitoring_calls": outcome.monitoring_calls},
    )
    return str(outcome.transition.value)


def _parse_time(value: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
