"""In-process transports: the SDKs talk to the sandbox with no socket and no server.

Built for ``httpx2`` (current SDKs) and ``httpx`` (older SDKs, other libraries), sync and async;
streamed answers arrive chunk by chunk, and a ``cut`` fault ends them with the same error a
dropped connection gives.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from .engine import Sandbox, default_sandbox
from .wire import SandboxResponse

_CUT_MESSAGE = "peer closed connection without sending complete message body (sandbox fault: cut)"


@functools.cache
def _classes(module_name: str) -> tuple[type, type]:
    module = importlib.import_module(module_name)

    class Stream(module.SyncByteStream):  # type: ignore[name-defined,misc]
        def __init__(self, answer: SandboxResponse) -> None:
            self.answer = answer

        def __iter__(self) -> Iterator[bytes]:
            for i, chunk in enumerate(self.answer.iter_chunks()):
                if self.answer.cut_after is not None and i >= self.answer.cut_after:
                    raise module.RemoteProtocolError(_CUT_MESSAGE)
                if self.answer.chunk_delay_s:
                    time.sleep(self.answer.chunk_delay_s)
                yield chunk

    class AsyncStream(module.AsyncByteStream):  # type: ignore[name-defined,misc]
        def __init__(self, answer: SandboxResponse) -> None:
            self.answer = answer

        async def __aiter__(self) -> AsyncIterator[bytes]:
            for i, chunk in enumerate(self.answer.iter_chunks()):
                if self.answer.cut_after is not None and i >= self.answer.cut_after:
                    raise module.RemoteProtocolError(_CUT_MESSAGE)
                if self.answer.chunk_delay_s:
                    await asyncio.sleep(self.answer.chunk_delay_s)
                yield chunk

    class Transport(module.BaseTransport):  # type: ignore[name-defined,misc]
        def __init__(self, sandbox: Sandbox) -> None:
            self.sandbox = sandbox

        def handle_request(self, request: Any) -> Any:
            answer = self.sandbox.handle(request.method, request.url.path, dict(request.headers), request.read())
            if answer.delay_s:
                time.sleep(answer.delay_s)
            return module.Response(answer.status, headers=answer.headers, stream=Stream(answer))

    class AsyncTransport(module.AsyncBaseTransport):  # type: ignore[name-defined,misc]
        def __init__(self, sandbox: Sandbox) -> None:
            self.sandbox = sandbox

        async def handle_async_request(self, request: Any) -> Any:
            answer = self.sandbox.handle(request.method, request.url.path, dict(request.headers), await request.aread())
            if answer.delay_s:
                await asyncio.sleep(answer.delay_s)
            return module.Response(answer.status, headers=answer.headers, stream=AsyncStream(answer))

    return Transport, AsyncTransport


def sandbox_transport(module: str = "httpx2", async_: bool = False, sandbox: Sandbox | None = None) -> Any:
    """An httpx2 / httpx transport (sync or async) answered by ``sandbox`` (default: the shared one)."""
    sync_cls, async_cls = _classes(module)
    return (async_cls if async_ else sync_cls)(sandbox or default_sandbox())
