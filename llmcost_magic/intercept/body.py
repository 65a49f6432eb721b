"""Collects a response body as it streams past, without changing a byte the user receives."""

from __future__ import annotations

import zlib
from collections.abc import Callable


def _decoder(content_encoding: str) -> Callable[[bytes], bytes] | None:
    """An incremental decoder for the response's Content-Encoding (the user still gets raw bytes)."""
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return lambda chunk: chunk
    if encoding in ("gzip", "deflate", "x-gzip"):
        return zlib.decompressobj(zlib.MAX_WBITS | 32).decompress  # 32: detect gzip or zlib header
    if encoding == "br":
        try:
            import brotli  # type: ignore[import-not-found]
        except ImportError:
            return None
        return brotli.Decompressor().process
    return None


class BodyCollector:
    """Keeps a JSON body whole, or an SSE stream as its list of ``data:`` payloads."""

    __slots__ = ("sse", "parts", "payloads", "_pending", "_decode", "undecodable")

    def __init__(self, content_type: str, content_encoding: str) -> None:
        self.sse = content_type.startswith("text/event-stream")
        self.parts: list[bytes] = []
        self.payloads: list[bytes] = []
        self._pending = b""
        self._decode = _decoder(content_encoding)
        self.undecodable = self._decode is None

    def feed(self, chunk: bytes) -> None:
        if self._decode is None:
            return
        chunk = self._decode(chunk)
        if not self.sse:
            self.parts.append(chunk)
            return
        lines = (self._pending + chunk).split(b"\n")
        self._pending = lines.pop()
        for line in lines:
            if line.startswith(b"data:"):
                self.payloads.append(line[5:].strip())

    def finish(self) -> None:
        if self.sse and self._pending.startswith(b"data:"):
            self.payloads.append(self._pending[5:].strip())
        self._pending = b""

    @property
    def body(self) -> bytes:
        return b"".join(self.parts)
