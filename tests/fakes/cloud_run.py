"""The Cloud Run Admin API v2 (``Revisions/GetRevision``) over a real gRPC server on loopback.

Built from google-cloud-run's own types: requests are ``run_v2.GetRevisionRequest.deserialize``d and
answers ``run_v2.Revision.serialize``d, so the real ``RevisionsClient`` talks to it unchanged. Connect
with ``RevisionsClient(transport=RevisionsGrpcTransport(channel=grpc.insecure_channel(fake.address)))``;
``RUN_API_ENDPOINT`` takes ``fake.address``. Unknown names answer NOT_FOUND, malformed ones
INVALID_ARGUMENT, as the service does; ``fail_next`` scripts other faults.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from google.cloud import run_v2

from tests.fakes.grpc_server import LoopbackGrpcServer

_NAME = re.compile(r"^projects/[^/]+/locations/[^/]+/services/[^/]+/revisions/[^/]+$")


@dataclass(frozen=True)
class RunCall:
    """One RPC as received: the method, the proto-plus request and the call metadata."""

    method: str
    request: Any
    metadata: Mapping[str, str]


def revision(
    project: str,
    location: str,
    service: str,
    name: str,
    *,
    image: str,
    env: Mapping[str, str] = {},
    secret_env: Mapping[str, tuple[str, str]] = {},
    memory: str = "512Mi",
    cpu: str = "1",
    concurrency: int = 80,
    min_instances: int = 0,
    max_instances: int = 10,
    service_account: str = "",
    creator: str = "",
) -> run_v2.Revision:
    """A Revision as the Admin API returns it (env values included: the real API returns them too)."""
    env_vars = [run_v2.EnvVar(name=k, value=v) for k, v in env.items()]
    env_vars += [
        run_v2.EnvVar(name=k, value_source=run_v2.EnvVarSource(secret_key_ref=run_v2.SecretKeySelector(
            secret=f"projects/{project}/secrets/{secret}", version=version)))
        for k, (secret, version) in secret_env.items()
    ]  # fmt: skip
    return run_v2.Revision(
        name=f"projects/{project}/locations/{location}/services/{service}/revisions/{name}",
        service=f"projects/{project}/locations/{location}/services/{service}",
        containers=[run_v2.Container(
            image=image, env=env_vars, resources=run_v2.ResourceRequirements(limits={"memory": memory, "cpu": cpu}))],
        max_instance_request_concurrency=concurrency,
        scaling=run_v2.RevisionScaling(min_instance_count=min_instances, max_instance_count=max_instances),
        service_account=service_account,
        creator=creator,
    )  # fmt: skip


class CloudRunFake(LoopbackGrpcServer):
    """gRPC ``google.cloud.run.v2.Revisions`` on 127.0.0.1 serving the revisions it was given."""

    def __init__(self, revisions: Iterable[run_v2.Revision] = ()) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._revisions = {r.name: run_v2.Revision(r) for r in revisions}
        self._calls: list[RunCall] = []
        self._faults: list[grpc.StatusCode] = []

    def _handlers(self) -> Sequence[grpc.GenericRpcHandler]:
        handler = grpc.unary_unary_rpc_method_handler(
            self._get_revision,
            request_deserializer=run_v2.GetRevisionRequest.deserialize,
            response_serializer=run_v2.Revision.serialize,
        )
        return (grpc.method_handlers_generic_handler("google.cloud.run.v2.Revisions", {"GetRevision": handler}),)

    def add(self, *revisions: run_v2.Revision) -> None:
        with self._lock:
            self._revisions.update((r.name, run_v2.Revision(r)) for r in revisions)

    def fail_next(self, code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE, *, times: int = 1) -> None:
        """Abort the next ``times`` calls with ``code``."""
        with self._lock:
            self._faults.extend([code] * times)

    @property
    def requests(self) -> list[RunCall]:
        with self._lock:
            return list(self._calls)

    def _get_revision(self, request: run_v2.GetRevisionRequest, context: grpc.ServicerContext) -> run_v2.Revision:
        metadata = {str(k): str(v) for k, v in context.invocation_metadata()}
        with self._lock:
            self._calls.append(RunCall("GetRevision", request, metadata))
            fault = self._faults.pop(0) if self._faults else None
            found = self._revisions.get(request.name)
        if fault is not None:
            context.abort(fault, f"injected {fault.name}")
        if not _NAME.match(request.name):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid resource name: {request.name!r}")
        if found is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Resource '{request.name.rsplit('/', 1)[-1]}' was not found")
        assert found is not None
        return found
