"""Local fake providers for the meter's tests: real wire bytes (taken from the sandbox), cut or
re-framed on purpose, served through a real httpx2 transport."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx2

from llmcost_magic.sandbox import Sandbox


def sandbox_bytes(path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[bytes, str]:
    """The sandbox's whole answer to one request, as bytes, and its content type."""
    answer = Sandbox().handle("POST", path, headers or {}, json.dumps(body).encode())
    return b"".join(answer.iter_chunks()), answer.headers["content-type"]


class CutStream(httpx2.SyncByteStream):
    """``body`` up to ``cut_at`` in chunks of ``size`` bytes, then a dropped connection (None: no cut)."""

    def __init__(self, body: bytes, cut_at: int | None, size: int = 7) -> None:
        self.body, self.cut_at, self.size = body, cut_at, size

    def __iter__(self) -> Iterator[bytes]:
        end = len(self.body) if self.cut_at is None else self.cut_at
        for i in range(0, end, self.size):
            yield self.body[i:min(i + self.size, end)]
        if self.cut_at is not None:
            raise httpx2.RemoteProtocolError("peer closed connection without sending complete message body")


class FakeProvider(httpx2.BaseTransport):
    """Answers every request with ``body`` (cut at ``cut_at``), and keeps the requests it saw."""

    def __init__(self, body: bytes, content_type: str, cut_at: int | None = None, size: int = 7) -> None:
        self.body, self.content_type, self.cut_at, self.size = body, content_type, cut_at, size
        self.requests: list[httpx2.Request] = []

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return httpx2.Response(200, headers={"content-type": self.content_type},
                               stream=CutStream(self.body, self.cut_at, self.size))
