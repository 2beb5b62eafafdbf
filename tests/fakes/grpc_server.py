"""The loopback lifecycle the gRPC fakes share: serve a subclass's handlers on a free 127.0.0.1 port."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Self

import grpc


class LoopbackGrpcServer:
    """Started by ``start()`` or ``with``; ``stop()`` cancels in-flight calls and is safe to call twice."""

    workers = 4

    def __init__(self) -> None:
        self._server: grpc.Server | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._port = 0

    def _handlers(self) -> Sequence[grpc.GenericRpcHandler]:
        """The services this fake answers (generic handlers built with the library's own types)."""
        raise NotImplementedError

    def start(self) -> Self:
        """Serve on a free loopback port."""
        if self._server is not None:
            return self
        self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix=type(self).__name__)
        server = grpc.server(self._executor)
        server.add_generic_rpc_handlers(tuple(self._handlers()))
        self._port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        self._server = server
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.stop(grace=None).wait(5)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``, for ``grpc.insecure_channel`` and the libraries' endpoint settings."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"127.0.0.1:{self._port}"
