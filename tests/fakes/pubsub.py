"""Pub/Sub's Publisher over a real gRPC server on loopback, built from the library's own types.

google-cloud-pubsub's PublisherClient connects to it when ``PUBSUB_EMULATOR_HOST`` is its
``address`` (the library's own emulator setting: insecure channel, anonymous credentials).
``google.pubsub.v1.Publisher/Publish`` is answered with ``pubsub_v1.PublishRequest.deserialize`` /
``PublishResponse.serialize`` in a generic handler; publishing to a topic the fake does not know
answers NOT_FOUND ("Resource not found (resource=T)") as Pub/Sub does.

``published(topic)`` returns what arrived; ``as_push_body(message)`` wraps one message in the
MessagePublishedData an Eventarc trigger would deliver, so a test can hand it to the alert function.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import grpc
from google.pubsub_v1 import types as pubsub_types

from tests.fakes.grpc_server import LoopbackGrpcServer

PROJECT = "test-project"
TOPIC = f"projects/{PROJECT}/topics/sitrep-alerts"
MAX_MESSAGE_BYTES = 10_000_000  # Pub/Sub: a message (data + attributes) is at most 10 MB


@dataclass(frozen=True)
class PublishedMessage:
    topic: str
    message_id: str
    data: bytes
    attributes: dict[str, str] = field(default_factory=dict)
    publish_time: datetime = field(default_factory=lambda: datetime.now(UTC))


class PubSubFake(LoopbackGrpcServer):
    """gRPC Publisher on 127.0.0.1 with a set of known topics; started by ``start()`` or ``with``.

    ``address`` is the value of ``PUBSUB_EMULATOR_HOST``.
    """

    def __init__(self, topics: Iterable[str] = (TOPIC,)) -> None:
        super().__init__()
        self.topics = set(topics)
        self._lock = threading.Lock()
        self._messages: list[PublishedMessage] = []
        self._failures: list[grpc.StatusCode] = []

    def _handlers(self) -> Sequence[grpc.GenericRpcHandler]:
        handler = grpc.unary_unary_rpc_method_handler(
            self._publish,
            request_deserializer=pubsub_types.PublishRequest.deserialize,
            response_serializer=pubsub_types.PublishResponse.serialize,
        )
        return (grpc.method_handlers_generic_handler("google.pubsub.v1.Publisher", {"Publish": handler}),)

    def fail_next(self, code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE, *, times: int = 1) -> None:
        """Abort the next ``times`` Publish calls with ``code``."""
        with self._lock:
            self._failures.extend([code] * times)

    def published(self, topic: str = TOPIC) -> list[PublishedMessage]:
        """Messages published to ``topic``, in order."""
        with self._lock:
            return [m for m in self._messages if m.topic == topic]

    def _publish(self, request: Any, context: grpc.ServicerContext) -> Any:
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            context.abort(failure, f"injected {failure.name}")
        if request.topic not in self.topics:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Resource not found (resource={request.topic.split('/')[-1]}).")
        if not request.messages:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "The request contains no messages.")
        ids = []
        with self._lock:
            for message in request.messages:
                size = len(message.data) + sum(len(k) + len(v) for k, v in message.attributes.items())
                if size > MAX_MESSAGE_BYTES:
                    context.abort(grpc.StatusCode.INVALID_ARGUMENT, "Message too large.")
                message_id = str(len(self._messages) + 1)
                self._messages.append(
                    PublishedMessage(request.topic, message_id, bytes(message.data), dict(message.attributes))
                )
                ids.append(message_id)
        return pubsub_types.PublishResponse(message_ids=ids)


def as_push_body(message: PublishedMessage, *, subscription: str = "eventarc-sitrep") -> dict[str, Any]:
    """The MessagePublishedData Eventarc delivers for ``message`` (the alert function's CloudEvent data)."""
    return {
        "subscription": f"projects/{PROJECT}/subscriptions/{subscription}",
        "message": {
            "data": base64.b64encode(message.data).decode(),
            "messageId": message.message_id,
            "publishTime": message.publish_time.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "attributes": dict(message.attributes),
        },
    }
