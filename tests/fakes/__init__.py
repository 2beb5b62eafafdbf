"""Local servers that answer like Slack, GitHub, Cloud Logging and Cloud Monitoring.

The real client libraries talk to them over loopback HTTP (or gRPC), so adapter
tests exercise the same code paths as production without patching anything.
This module holds what the HTTP fakes share: a threaded loopback server, a
thread-safe request log and a deterministic queue of scripted faults.

Every fake is started by ``start()`` (or ``with``), never by its constructor.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Generic, Self, TypeVar
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "ANY_ENDPOINT",
    "FakeHTTPServer",
    "Fault",
    "FaultQueue",
    "RecordedRequest",
    "Response",
]

ANY_ENDPOINT = "*"
"""Endpoint name that matches every request in ``fail_next``."""

_POLL_INTERVAL_SECONDS = 0.02  # how often serve_forever checks for shutdown: keeps stop() fast
_IDLE_CONNECTION_TIMEOUT_SECONDS = 5.0  # a keep-alive handler thread gives up after this


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it; ``body`` is parsed JSON, a form dict or None."""

    endpoint: str
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # keys lower-cased
    body: Any
    raw_body: bytes

    def header(self, name: str) -> str | None:
        """Header value by case-insensitive name."""
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class Response:
    """What a fake answers; ``drop_connection`` closes the socket without a reply."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    drop_connection: bool = False

    @classmethod
    def json(cls, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
        """A JSON response with the content type the real services send."""
        merged = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        return cls(status=status, body=json.dumps(payload).encode(), headers=merged)


@dataclass(frozen=True)
class Fault:
    """A scripted answer; ``response`` None means answer normally (after ``delay_seconds``)."""

    response: Response | None
    delay_seconds: float = 0.0


F = TypeVar("F")


class FaultQueue(Generic[F]):
    """Per-endpoint FIFO of scripted faults; ``ANY_ENDPOINT`` faults apply to every endpoint."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, deque[F]] = {}

    def push(self, endpoint: str, fault: F, times: int = 1) -> None:
        """Queue ``fault`` for the next ``times`` calls of ``endpoint``."""
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._queues.setdefault(endpoint, deque()).extend([fault] * times)

    def pop(self, endpoint: str) -> F | None:
        """Take the next fault for ``endpoint`` (specific queue first), or None."""
        with self._lock:
            for key in (endpoint, ANY_ENDPOINT):
                queue = self._queues.get(key)
                if queue:
                    return queue.popleft()
        return None

    def pending(self, endpoint: str | None = None) -> int:
        """How many faults are still queued (for one endpoint or in total)."""
        with self._lock:
            if endpoint is not None:
                return len(self._queues.get(endpoint, ()))
            return sum(len(q) for q in self._queues.values())

    def clear(self) -> None:
        """Forget every queued fault."""
        with self._lock:
            self._queues.clear()


class _LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, fake: FakeHTTPServer) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes; avoid 40 ms ACK stalls
    timeout = _IDLE_CONNECTION_TIMEOUT_SECONDS
    server: _LoopbackServer

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: pytest output is for test results."""

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        raw = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        response = self.server.fake._dispatch(self.command, self.path, headers, raw)
        if response.drop_connection:
            self.close_connection = True
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


def parse_body(headers: Mapping[str, str], raw: bytes) -> Any:
    """JSON or form-encoded body as Python data; None when empty or unparseable."""
    if not raw:
        return None
    content_type = headers.get("content-type", "")
    text = raw.decode("utf-8", errors="replace")
    if "application/x-www-form-urlencoded" in content_type:
        return dict(parse_qsl(text, keep_blank_values=True))
    try:
        return json.loads(text)
    except ValueError:
        return None


class FakeHTTPServer:
    """Base for the HTTP fakes: loopback server thread, request log, fault queue.

    Subclasses implement ``_endpoint`` (name a request) and ``_handle`` (answer it)
    and may override ``_fault_response`` (default body for a scripted status).
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()  # guards subclass state too
        self._requests: list[RecordedRequest] = []
        self._handler_errors: list[str] = []
        self._faults: FaultQueue[Fault] = FaultQueue()
        self._server: _LoopbackServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # lifecycle ---------------------------------------------------------------
    def start(self) -> Self:
        """Bind 127.0.0.1 on a free port and serve in a daemon thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _LoopbackServer(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": _POLL_INTERVAL_SECONDS},
            name=f"{type(self).__name__}-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (the server must be started)."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:54321`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The URL a client library is configured with; the root unless overridden."""
        return self.url

    # recording ---------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        """Snapshot of every request received, in arrival order (faulted ones included)."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, endpoint: str) -> list[RecordedRequest]:
        """Requests whose endpoint name is ``endpoint``."""
        return [r for r in self.requests if r.endpoint == endpoint]

    @property
    def handler_errors(self) -> list[str]:
        """Exceptions raised by the fake itself (answered as 500); a test can assert it is empty."""
        with self._lock:
            return list(self._handler_errors)

    def clear_requests(self) -> None:
        """Forget recorded requests (state is kept)."""
        with self._lock:
            self._requests.clear()

    # faults ------------------------------------------------------------------
    def fail_next(
        self,
        endpoint: str,
        *,
        status: int = 500,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        times: int = 1,
        drop_connection: bool = False,
        delay_seconds: float = 0.0,
    ) -> None:
        """Answer the next ``times`` calls of ``endpoint`` with ``status`` (or drop them).

        ``body`` may be bytes (sent as is) or JSON data; when None the service's
        usual error body for ``status`` is sent.
        """
        if drop_connection:
            response = Response(drop_connection=True)
        elif isinstance(body, bytes):
            response = Response(status=status, body=body, headers=dict(headers or {}))
        elif body is not None:
            response = Response.json(status, body, headers)
        else:
            default = self._fault_response(status)
            given = dict(headers or {})
            kept = {k: v for k, v in default.headers.items() if k.lower() not in {g.lower() for g in given}}
            response = Response(status=status, body=default.body, headers={**kept, **given})
        self._faults.push(endpoint, Fault(response, delay_seconds), times)

    def delay_next(self, endpoint: str, seconds: float, *, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``endpoint`` normally but ``seconds`` late."""
        self._faults.push(endpoint, Fault(None, seconds), times)

    def pending_faults(self, endpoint: str | None = None) -> int:
        """Scripted faults not consumed yet."""
        return self._faults.pending(endpoint)

    def clear_faults(self) -> None:
        """Drop every scripted fault."""
        self._faults.clear()

    # subclass hooks ----------------------------------------------------------
    def _endpoint(self, method: str, path: str) -> str:
        """Logical name of the endpoint (used by ``fail_next`` and ``requests_to``)."""
        raise NotImplementedError

    def _handle(self, request: RecordedRequest) -> Response:
        """Answer a request like the real service."""
        raise NotImplementedError

    def _fault_response(self, status: int) -> Response:
        """The body the service sends with a scripted error status."""
        return Response.json(status, {"error": {"code": status, "message": "injected fault"}})

    def _decorate(self, request: RecordedRequest, response: Response) -> Response:
        """Add headers every response carries (rate-limit headers and such)."""
        return response

    # dispatch ----------------------------------------------------------------
    def _dispatch(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Response:
        split = urlsplit(target)
        request = RecordedRequest(
            endpoint=self._endpoint(method, split.path),
            method=method,
            path=split.path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers=headers,
            body=parse_body(headers, raw),
            raw_body=raw,
        )
        with self._lock:
            self._requests.append(request)
        fault = self._faults.pop(request.endpoint)
        if fault is not None and fault.delay_seconds > 0:
            self._stopping.wait(fault.delay_seconds)
        if fault is not None and fault.response is not None:
            if fault.response.drop_connection:
                return fault.response
            return self._decorate(request, fault.response)
        try:
            response = self._handle(request)
        except Exception as exc:  # a bug in the fake must show up as a 500, not a hang
            with self._lock:
                self._handler_errors.append(f"{request.method} {request.path}: {type(exc).__name__}: {exc}")
            response = Response.json(500, {"fake_error": f"{type(exc).__name__}: {exc}"})
        return self._decorate(request, response)
