"""The hand-off of slow Slack actions to the alert topic, with google-cloud-pubsub's PublisherClient.

Cloud Run may throttle CPU once an HTTP response is sent (docs/ARCHITECTURE.md §7), so work that cannot finish
within Slack's 3 seconds is published to the alert topic before answering; the alert function
(Pub/Sub trigger with retries) does it. The client is built on first use and reused; with
`PUBSUB_EMULATOR_HOST` set, google-cloud-pubsub itself connects to that local server instead.

Each publish is sent at once (a batch of one) and waited for within `timeout_s`, with a short
explicit retry: a failure raises TransientDeliveryError(surface="pubsub") so the caller can tell
the person to try again instead of Slack showing a timeout.
"""

from __future__ import annotations

import threading
from typing import Any, Final

from functions.core.errors import PermanentDeliveryError, TransientDeliveryError, excerpt

SURFACE: Final = "pubsub"
RETRY_INITIAL_S: Final = 0.1
RETRY_MAX_S: Final = 0.5


class TopicPublisher:
    """Publishes action messages to one topic ("projects/P/topics/T")."""

    def __init__(self, topic: str, *, timeout_s: float = 2.0) -> None:
        self.topic = topic
        self.timeout_s = timeout_s
        self._client: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TopicPublisher(topic={self.topic!r})"

    def _publisher(self) -> Any:
        with self._lock:
            if self._client is None:
                from google.cloud import pubsub_v1  # type: ignore[attr-defined]

                self._client = pubsub_v1.PublisherClient(
                    batch_settings=pubsub_v1.types.BatchSettings(max_messages=1),
                )
            return self._client

    def publish(self, data: bytes, **attributes: str) -> str:
        """Publish one message and wait until Pub/Sub has it; returns its message id."""
        from google.api_core import exceptions, retry

        if not self.topic.startswith("projects/") or "/topics/" not in self.topic:
            raise PermanentDeliveryError(f"SITREP_TOPIC {self.topic!r} is not projects/P/topics/T", surface=SURFACE)
        transient = retry.if_exception_type(
            exceptions.ServiceUnavailable, exceptions.DeadlineExceeded, exceptions.InternalServerError,
            exceptions.Aborted, exceptions.ResourceExhausted,
        )  # fmt: skip
        policy = retry.Retry(
            initial=RETRY_INITIAL_S, maximum=RETRY_MAX_S, multiplier=2.0, predicate=transient, timeout=self.timeout_s
        )
        try:
            future = self._publisher().publish(
                self.topic, data, retry=policy, timeout=self.timeout_s, **attributes
            )
            return str(future.result(timeout=self.timeout_s))
        except exceptions.GoogleAPICallError as exc:
            code = getattr(exc, "code", None)
            message = f"pubsub publish to {self.topic}: {type(exc).__name__} ({excerpt(exc, 160)})"
            if code is not None and int(code) in (400, 403, 404):
                raise PermanentDeliveryError(message, surface=SURFACE) from exc
            raise TransientDeliveryError(message, surface=SURFACE) from exc
        except Exception as exc:  # TimeoutError, RetryError, a stopped client: worth another try
            raise TransientDeliveryError(
                f"pubsub publish to {self.topic}: {type(exc).__name__} ({excerpt(exc, 160)})", surface=SURFACE
            ) from exc
