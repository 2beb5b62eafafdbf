"""Cloud Run Admin API adapter: the configuration of at most two revisions per update (run_v2.GetRevision).

Revisions are enrichment, like metrics: a failure is an `error` on the result, never raised, and the
card goes out with what the audit entries say. google-cloud-run is imported on first use, so `import
main` (the cold start) does not pay for it. With `RUN_API_ENDPOINT` (host:port) the client talks to a
local gRPC server over an insecure channel with anonymous credentials, as the Monitoring adapter does.
Each call passes an explicit retry (none) and timeout: the library's default retry outlasts the function.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from functions.core.project_changes import RevisionSpec
from functions.incidents.ports import RevisionSample
from functions.intake.changes import revision_spec

MAX_REVISION_CALLS = 2  # issue 13: at most two GetRevision calls per update


class CloudRunRevisions:
    """Reads revisions by full name; the client is built once, lazily."""

    def __init__(self, *, endpoint: str = "", timeout_s: float = 10.0, max_calls: int = MAX_REVISION_CALLS) -> None:
        self._endpoint = endpoint
        self._timeout_s = timeout_s
        self._max_calls = max(0, max_calls)
        self._client: Any = None

    def _revisions_client(self) -> Any:
        if self._client is None:
            from google.cloud import run_v2  # heavy: imported on first use, not at cold start

            if self._endpoint:
                import grpc
                from google.auth.credentials import AnonymousCredentials
                from google.cloud.run_v2.services.revisions.transports import RevisionsGrpcTransport

                channel = grpc.insecure_channel(self._endpoint)
                transport = RevisionsGrpcTransport(channel=channel, credentials=AnonymousCredentials())
                self._client = run_v2.RevisionsClient(transport=transport)
            else:
                self._client = run_v2.RevisionsClient()
        return self._client

    def read_revisions(self, names: Sequence[str]) -> RevisionSample:
        """The specs of the first `max_calls` distinct names; what fails is the result's `error`."""
        wanted = list(dict.fromkeys(n for n in names if n))[: self._max_calls]
        if not wanted:
            return RevisionSample()
        if self._endpoint.startswith(("http://", "https://")):
            return RevisionSample(
                error="RUN_API_ENDPOINT is an HTTP URL; the Cloud Run client speaks gRPC here "
                "(host:port expected): revisions skipped"
            )
        from google.cloud import run_v2

        specs: list[RevisionSpec] = []
        calls = 0
        errors: list[str] = []
        for name in wanted:
            calls += 1
            try:
                revision = self._revisions_client().get_revision(
                    request=run_v2.GetRevisionRequest(name=name), retry=None, timeout=self._timeout_s
                )
            except Exception as exc:  # any failure of an enrichment is a note, not a lost card
                errors.append(f"{name.rsplit('/', 1)[-1]}: {type(exc).__name__}")
                continue
            # One parser for every shape: the proto's JSON is the v2 REST shape.
            specs.append(revision_spec(_as_json(revision)))
        error = f"Cloud Run revisions unavailable ({'; '.join(errors)})" if errors else ""
        return RevisionSample(tuple(specs), calls=calls, error=error)


def _as_json(revision: Any) -> dict[str, Any]:
    import json

    from google.cloud import run_v2

    value = json.loads(run_v2.Revision.to_json(revision))
    return value if isinstance(value, dict) else {}
