"""Collects a response body as it streams past, without changing a byte the user receives."""

from __future__ import annotations

import json
import re
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


class Newlines:
    """Rewrites an SSE stream's line endings (CRLF, CR or LF, all allowed by the SSE spec) to LF,
    chunk by chunk, without waiting for more bytes than a trailing CR."""

    __slots__ = ("held",)

    def __init__(self) -> None:
        self.held = False  # the last chunk ended with CR: it may be the first half of a CRLF

    def __call__(self, chunk: bytes) -> bytes:
        if self.held:
            chunk, self.held = b"\r" + chunk, False
        if b"\r" not in chunk:
            return chunk
        if chunk.endswith(b"\r"):
            chunk, self.held = chunk[:-1], True
        return chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")

    def flush(self) -> bytes:
        held, self.held = self.held, False
        return b"\n" if held else b""


_DATA_LINE = re.compile(rb"^data: ?(.*)$", re.M)


class BodyCollector:
    """Keeps a body whole; for an SSE stream, its ``data:`` payloads are cut out once, at the end
    (one regex pass in C instead of Python work on every chunk)."""

    __slots__ = ("sse", "parts", "payloads", "_decode", "_identity", "undecodable", "content_type", "newlines")

    def __init__(self, content_type: str, content_encoding: str) -> None:
        self.content_type = content_type
        self.sse = content_type.startswith("text/event-stream")
        self.parts: list[bytes] = []
        self.payloads: list[bytes] = []
        self._identity = not content_encoding or content_encoding.strip().lower() in ("", "identity")
        self._decode = _decoder(content_encoding) if not self._identity else None  # feed() skips it then
        self.undecodable = not self._identity and self._decode is None
        self.newlines = Newlines()

    def feed(self, chunk: bytes) -> bytes:
        """Collect a raw chunk; returns it decoded, with LF line endings when it is SSE (what a re-cut
        stream passes on). One call per chunk of every metered response: kept flat."""
        if not self._identity:
            if self._decode is None:
                return chunk
            chunk = self._decode(chunk)
        if self.sse and (self.newlines.held or b"\r" in chunk):
            chunk = self.newlines(chunk)
        self.parts.append(chunk)
        return chunk

    def finish(self) -> None:
        """Cut the stream's payloads out (also of a stream cut in the middle of its last line)."""
        if self.sse:
            self.parts.append(self.newlines.flush())
            self.payloads = list(map(bytes.strip, _DATA_LINE.findall(self.body)))  # map: the loop stays in C

    @property
    def body(self) -> bytes:
        if len(self.parts) > 1:
            self.parts = [b"".join(self.parts)]
        return self.parts[0] if self.parts else b""


def _may_be_usage_only(data: bytes) -> bool:
    """A cheap pre-check: the usage-only chunk has an empty ``choices`` (every chunk of a stream that asked
    for usage carries ``"usage":null``, so looking for ``"usage"`` alone would parse every chunk)."""
    return b'"choices":[]' in data or b'"choices": []' in data


def _is_usage_only(event: bytes) -> bool:
    if not _may_be_usage_only(event) or not event.startswith(b"data:"):
        return False
    try:
        data = json.loads(event[5:])
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("choices") == [] and data.get("usage") is not None


class UsageChunkFilter:
    """Drops the usage-only chunk the seam asked an OpenAI stream for, which the user did not.

    The stream is re-cut at event boundaries with LF line endings (a no-op for any SSE parser);
    every other event reaches the user as it arrives. ``__call__`` takes LF-normalized bytes.
    """

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = b""

    def __call__(self, normalized: bytes) -> bytes:
        if not self._buffer and normalized[-2:] == b"\n\n" and b'"choices":[]' not in normalized \
                and b'"choices": []' not in normalized:
            return normalized  # whole events, none of them the usage chunk: passed on as they are
        self._buffer += normalized
        *events, self._buffer = self._buffer.split(b"\n\n")
        return b"".join(e + b"\n\n" for e in events if not _is_usage_only(e))

    def flush(self) -> bytes:
        rest, self._buffer = self._buffer, b""
        return b"" if _is_usage_only(rest) else rest
