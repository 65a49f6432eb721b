"""The sandbox as a real HTTP service: a Starlette app over the same Sandbox, run by uvicorn."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from .engine import Sandbox, default_sandbox
from .wire import SandboxResponse


def make_app(sandbox: Sandbox) -> Starlette:
    """A Starlette app answering every path with ``sandbox``."""

    async def endpoint(request: Request) -> Response:
        answer = sandbox.handle(request.method, request.url.path, dict(request.headers), await request.body())
        if answer.delay_s:
            await asyncio.sleep(answer.delay_s)
        if answer.chunks is None:
            return Response(answer.body, status_code=answer.status, headers=answer.headers)
        return StreamingResponse(_stream(answer), status_code=answer.status, headers=answer.headers)

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "POST", "DELETE"])])


async def _stream(answer: SandboxResponse) -> AsyncIterator[bytes]:
    for i, chunk in enumerate(answer.iter_chunks()):
        if answer.cut_after is not None and i >= answer.cut_after:
            raise ConnectionAbortedError("sandbox fault: cut")  # uvicorn drops the connection mid-body
        if answer.chunk_delay_s:
            await asyncio.sleep(answer.chunk_delay_s)
        yield chunk


class SandboxServer:
    """A running sandbox service. ``stop()`` (or leaving a ``with`` block) shuts it down."""

    def __init__(self, sandbox: Sandbox, host: str, port: int) -> None:
        import uvicorn

        self.sandbox = sandbox
        config = uvicorn.Config(make_app(sandbox), host=host, port=port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="llmcost-sandbox", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"The sandbox could not start on {host}:{port} (is the port in use? use port=0)")
            time.sleep(0.01)
        bound = self._server.servers[0].sockets[0].getsockname()
        self.url = f"http://{host}:{bound[1]}"

    @property
    def openai_base_url(self) -> str:
        return self.url + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url  # the Anthropic SDK adds /v1 itself

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(port: int = 0, host: str = "127.0.0.1", sandbox: Sandbox | None = None) -> SandboxServer:
    """Start the sandbox over HTTP in a background thread; port 0 picks a free port."""
    return SandboxServer(sandbox or default_sandbox(), host, port)
