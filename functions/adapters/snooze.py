"""Silence from Slack: a Cloud Monitoring snooze on the incident's alert policies.

google-cloud-monitoring's SnoozeServiceClient, built on first use, with the same endpoint override as
the metrics source (`MONITORING_API_ENDPOINT` = host:port of a local gRPC server: insecure channel,
anonymous credentials) and an explicit per-call timeout with no library retry: the library default
retries far longer than a function invocation (docs/ARCHITECTURE.md §7), and a person can press Silence again.

The API rejects a start time in the past (beyond ~15 s of clock skew), so the snooze starts when it
is created, not when the button was pressed.

    API answer                                  raised (surface "monitoring")
    ------------------------------------------  ------------------------------
    UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL,    TransientDeliveryError
      RESOURCE_EXHAUSTED, ABORTED, no connection
    PERMISSION_DENIED, INVALID_ARGUMENT,         PermanentDeliveryError
      NOT_FOUND, anything else
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from functions.core.errors import PermanentDeliveryError, TransientDeliveryError, excerpt

SURFACE: Final = "monitoring"
# Snooze.Criteria.policies: "There is a limit of 16 policies per snooze" (Cloud Monitoring API reference).
MAX_POLICIES_PER_SNOOZE: Final = 16
_TRANSIENT_CODES: Final = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED", "INTERNAL", "RESOURCE_EXHAUSTED", "ABORTED"})


class MonitoringSnoozes:
    """Creates snoozes in the project of the policies they name."""

    def __init__(self, *, endpoint: str = "", timeout_s: float = 10.0) -> None:
        self._endpoint = endpoint
        self._timeout_s = timeout_s
        self._client: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MonitoringSnoozes(endpoint={self._endpoint!r})"

    def _snooze_client(self) -> Any:
        with self._lock:
            if self._client is None:
                from google.cloud import monitoring_v3

                if self._endpoint:
                    import grpc
                    from google.auth.credentials import AnonymousCredentials
                    from google.cloud.monitoring_v3.services.snooze_service.transports import (
                        SnoozeServiceGrpcTransport,
                    )

                    channel = grpc.insecure_channel(self._endpoint)
                    transport = SnoozeServiceGrpcTransport(
                        channel=channel, credentials=AnonymousCredentials()
                    )
                    self._client = monitoring_v3.SnoozeServiceClient(transport=transport)
                else:
                    self._client = monitoring_v3.SnoozeServiceClient()
            return self._client

    def snooze(self, policies: Sequence[str], display_name: str, start: datetime, end: datetime) -> str:
        """Snooze `policies` (projects/P/alertPolicies/ID, one project) from `start` to `end`, in as many snoozes
        of at most 16 policies as it takes; their names, comma-separated.

        A failure part-way raises: the snoozes already made stay (they expire at `end`), and the person's
        next Silence makes the whole set again.
        """
        if not policies:
            raise PermanentDeliveryError("no alert policy to snooze", surface=SURFACE)
        chunks = [list(policies[i:i + MAX_POLICIES_PER_SNOOZE])
                  for i in range(0, len(policies), MAX_POLICIES_PER_SNOOZE)]
        names = []
        for n, chunk in enumerate(chunks, start=1):
            label = display_name if len(chunks) == 1 else f"{display_name} ({n}/{len(chunks)})"
            names.append(self._create(chunk, label[:512], start, end))
        return ", ".join(names)

    def _create(self, policies: Sequence[str], display_name: str, start: datetime, end: datetime) -> str:
        """One snooze of at most 16 policies; its resource name."""
        if not policies:
            raise PermanentDeliveryError("no alert policy to snooze", surface=SURFACE)
        if self._endpoint.startswith(("http://", "https://")):
            raise PermanentDeliveryError(
                "MONITORING_API_ENDPOINT is an HTTP URL; snoozes need a gRPC host:port", surface=SURFACE
            )
        from google.api_core import exceptions
        from google.cloud import monitoring_v3
        from google.protobuf import timestamp_pb2

        start_ts, end_ts = timestamp_pb2.Timestamp(), timestamp_pb2.Timestamp()
        start_ts.FromDatetime(start)
        end_ts.FromDatetime(end)
        project = policies[0].split("/")[1]
        request = monitoring_v3.CreateSnoozeRequest(
            parent=f"projects/{project}",
            snooze=monitoring_v3.Snooze(
                display_name=display_name,
                criteria=monitoring_v3.Snooze.Criteria(policies=list(policies)),
                interval=monitoring_v3.TimeInterval(start_time=start_ts, end_time=end_ts),
            ),
        )
        try:
            created = self._snooze_client().create_snooze(request=request, retry=None, timeout=self._timeout_s)
        except exceptions.GoogleAPICallError as exc:
            status = getattr(getattr(exc, "grpc_status_code", None), "name", "") or type(exc).__name__
            message = f"monitoring CreateSnooze: {status} ({excerpt(exc.message, 200)})"
            if status in _TRANSIENT_CODES:
                raise TransientDeliveryError(message, surface=SURFACE) from exc
            raise PermanentDeliveryError(message, surface=SURFACE) from exc
        except Exception as exc:  # a channel that cannot connect, a RetryError
            raise TransientDeliveryError(
                f"monitoring CreateSnooze: {type(exc).__name__} ({excerpt(exc, 200)})", surface=SURFACE
            ) from exc
        return str(created.name)
