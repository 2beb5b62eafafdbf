"""The exceptions sitrep raises, and what each one tells the caller to do.

    SitrepError
      ├── InputError                 bad input: log it, acknowledge, never retry
      │    ├── AlertError            not a Monitoring notification / malformed envelope (.reason)
      │    └── EvidenceError         a logs or metrics file that cannot be read (.path, .problem)
      ├── DeliveryError              a Slack / GitHub call failed (.surface, .retryable, .retry_after)
      │    ├── TransientDeliveryError    429, 5xx, connection errors: retry, then let Pub/Sub redeliver
      │    └── PermanentDeliveryError    other 4xx: log and acknowledge
      └── ConfigError                settings missing or invalid

Messages name what is wrong and where, never a secret or a whole payload:
anything quoted from input goes through `excerpt`, which caps it at
EXCERPT_CHARS characters.
"""

from __future__ import annotations

from os import PathLike
from typing import Any

EXCERPT_CHARS = 120


def excerpt(text: object, limit: int = EXCERPT_CHARS) -> str:
    """Return `text` on one line, cut to `limit` characters, so errors never echo whole payloads."""
    flat = " ".join(str(text).split())
    if len(flat) <= limit:
        return flat
    return flat[: max(limit - 1, 0)] + "…"


class SitrepError(Exception):
    """Base of every error sitrep raises on purpose."""


class InputError(SitrepError):
    """The input itself is wrong: retrying the same input cannot help."""


class AlertError(InputError):
    """The payload is not a usable Cloud Monitoring notification.

    `reason` is a short machine string (see `functions.intake.alert` for the list:
    "not_base64", "not_utf8", "not_json", "not_object", "no_data",
    "no_incident", "no_incident_id", "wrong_type", "bad_value", "too_large").
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_alert_error, (str(self), self.reason))


class EvidenceError(InputError):
    """A logs or metrics file cannot be read; the message names the file and the position."""

    def __init__(self, path: str | PathLike[str], problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.path, self.problem))


class DeliveryError(SitrepError):
    """Delivering to one surface ("slack", "github", "ledger") failed.

    `retryable` says whether the same request may succeed later; `retry_after`
    is the server's requested wait in seconds (HTTP Retry-After), when it gave one.
    """

    def __init__(
        self,
        message: str,
        *,
        surface: str,
        retryable: bool,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.surface = surface
        self.retryable = retryable
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_delivery_error,
            (type(self), str(self), self.surface, self.retryable, self.retry_after),
        )


class TransientDeliveryError(DeliveryError):
    """Worth retrying: rate limited, server error, connection failure."""

    def __init__(self, message: str, *, surface: str, retry_after: float | None = None) -> None:
        super().__init__(message, surface=surface, retryable=True, retry_after=retry_after)


class PermanentDeliveryError(DeliveryError):
    """Not worth retrying: the request itself was refused."""

    def __init__(self, message: str, *, surface: str) -> None:
        super().__init__(message, surface=surface, retryable=False)


class ConfigError(SitrepError):
    """A setting is missing or invalid (the message names the variable, never its value)."""


def _rebuild_alert_error(message: str, reason: str) -> AlertError:
    return AlertError(message, reason=reason)


def _rebuild_delivery_error(
    cls: type[DeliveryError],
    message: str,
    surface: str,
    retryable: bool,
    retry_after: float | None,
) -> DeliveryError:
    """Rebuild any DeliveryError subclass without knowing its constructor."""
    error = DeliveryError.__new__(cls)
    DeliveryError.__init__(error, message, surface=surface, retryable=retryable, retry_after=retry_after)
    return error
