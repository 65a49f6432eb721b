"""Transport and byte-stream wrappers, built once for each httpx-style module (httpx, httpx2).

They subclass that module's own base classes, because its client checks the stream types. The
user's response object is the client's own; only its byte stream is wrapped, and every chunk is
passed on unchanged while a copy is collected for metering.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..core.errors import LLMCostError
from . import open_calls, pipeline
from .deferred import placeholder
from .body import BodyCollector, UsageChunkFilter
from .call import Call
from .rewrite import with_body, without_stream_usage

if TYPE_CHECKING:
    from ..metering import Meter


class _Finisher:
    """Collects what passes and meters the call exactly once, however the stream ends (done, cut, closed early)."""

    __slots__ = ("meter", "call", "status_code", "collector", "done", "strip", "registered")

    def __init__(self, meter: Meter, call: Call, status_code: int, collector: BodyCollector) -> None:
        self.meter, self.call, self.status_code, self.collector = meter, call, status_code, collector
        self.done = self.registered = False  # registered: in open_calls until recorded
        self.strip = UsageChunkFilter() if call.strip_usage_chunk else None

    def pass_on(self, chunk: bytes) -> bytes:
        """What of ``chunk`` reaches the user: all of it, unless the seam asked for a usage chunk (then
        decoded, re-cut at event boundaries, without that chunk). The stream loops inline this."""
        if self.strip is None:
            self.collector.feed(chunk)
            return chunk
        return self.strip(self.collector.feed(chunk))

    def tail(self) -> bytes:
        if self.strip is None:
            return b""
        held = self.collector.newlines.flush()
        self.collector.parts.append(held)
        return self.strip(held) + self.strip.flush()

    def __call__(self, outcome: str) -> None:
        if self.done or (self.registered and not open_calls.ended(self)):
            return
        self.done = True
        pipeline.finish(self.meter, self.call, self.status_code, self.collector, outcome)


@functools.cache
def wrappers_for(module: ModuleType) -> tuple[type, type]:
    """(sync transport wrapper, async transport wrapper) for ``module`` (httpx or httpx2)."""

    class MeteredStream(module.SyncByteStream):  # type: ignore[name-defined,misc]
        def __init__(self, inner: Any, finisher: _Finisher) -> None:
            self._inner, self._finisher = inner, finisher

        def __iter__(self) -> Iterator[bytes]:
            feed, strip = self._finisher.collector.feed, self._finisher.strip
            try:
                for chunk in self._inner:
                    if strip is None:
                        feed(chunk)
                        yield chunk
                    elif out := strip(feed(chunk)):
                        yield out
                if tail := self._finisher.tail():
                    yield tail
            except GeneratorExit:
                self._finisher("closed")
                raise
            except BaseException as exc:
                self._finisher(pipeline.outcome_of(exc))
                raise
            self._finisher("ok")

        def close(self) -> None:
            try:
                self._inner.close()
            finally:
                self._finisher("closed")

    class AsyncMeteredStream(module.AsyncByteStream):  # type: ignore[name-defined,misc]
        def __init__(self, inner: Any, finisher: _Finisher) -> None:
            self._inner, self._finisher = inner, finisher

        async def __aiter__(self) -> AsyncIterator[bytes]:
            feed, strip = self._finisher.collector.feed, self._finisher.strip
            try:
                async for chunk in self._inner:
                    if strip is None:
                        feed(chunk)
                        yield chunk
                    elif out := strip(feed(chunk)):
                        yield out
                if tail := self._finisher.tail():
                    yield tail
            except GeneratorExit:
                self._finisher("closed")
                raise
            except BaseException as exc:
                self._finisher(pipeline.outcome_of(exc))
                raise
            self._finisher("ok")

        async def aclose(self) -> None:
            try:
                await self._inner.aclose()
            finally:
                self._finisher("closed")

    def attach(meter: Meter, call: Call, response: Any, stream_cls: type, owner: int = 0) -> Any:
        finisher = _Finisher(meter, call, response.status_code, pipeline.collector_for(response))
        if call.strip_usage_chunk:  # the user gets decoded bytes, so the headers must say so
            for header in ("content-encoding", "content-length"):
                if header in response.headers:
                    del response.headers[header]
        preread = getattr(response, "_content", None)
        if preread is not None:  # a transport that built its response from bytes (mocks, some proxies)
            passed = finisher.pass_on(preread) + finisher.tail()
            if call.strip_usage_chunk:
                response._content = passed
            finisher("ok")
        else:
            response.stream = stream_cls(response.stream, finisher)
            finisher.registered = True
            open_calls.opened(finisher, meter, owner)
        return response

    def cached_response(hit: Any, request: Any) -> Any:
        """The stored answer, replayed byte for byte (a stream replays as a stream)."""
        headers = {"content-type": hit.entry.content_type, "x-llmcost-cache": hit.kind}
        return module.Response(200, headers=headers, stream=module.ByteStream(hit.entry.body), request=request)

    def deferred_response(call: Call, request: Any) -> Any:
        """A placeholder answer for a call deferred to a batch (nothing was sent)."""
        return module.Response(200, json=placeholder(call.provider, call.model, call.deferred), request=request)

    def plain_response(response: Any, raw: bytes, request: Any) -> Any:
        """An already-metered answer handed to the client as it is (decoded bytes)."""
        content_type = response.headers.get("content-type", "application/json")
        return module.Response(response.status_code, headers={"content-type": content_type}, content=raw, request=request)

    class MeteredTransport(module.BaseTransport):  # type: ignore[name-defined,misc]
        def __init__(self, inner: Any, meter: Meter, route: Any, owner: int = 0) -> None:
            self._inner, self._meter, self._route, self.owner = inner, meter, route, owner

        def handle_request(self, request: Any) -> Any:
            call, request = pipeline.prepare(request, self._meter, self._route)
            if call is None:
                return self._inner.handle_request(request)
            if call.cache_hit is not None:
                return attach(self._meter, call, cached_response(call.cache_hit, request), MeteredStream)
            if call.deferred:
                return deferred_response(call, request)
            if plan := pipeline.cascade_plan(self._meter, call):
                answered = None  # the last answer paid for: kept when the next tier does not fit a budget
                for i, (tier, model, body) in enumerate(plan):
                    try:
                        attempt = pipeline.cascade_attempt(self._meter, call, tier, model, body)  # holds its worst case
                    except LLMCostError:
                        if answered is None:
                            raise
                        return plain_response(*answered, request)
                    try:
                        response = self._inner.handle_request(with_body(request, body))
                        raw = response.read()
                    except BaseException as exc:
                        pipeline.failed(self._meter, attempt, exc)
                        raise
                    response.close()
                    if pipeline.cascade_step(self._meter, call, attempt, response.status_code, raw, i == len(plan) - 1):
                        return plain_response(response, raw, request)
                    answered = (response, raw)
            try:
                response = self._inner.handle_request(request)
                if call.strip_usage_chunk and response.status_code == 400:
                    retry = without_stream_usage(call, request, response.read())
                    if retry is not None:  # the host refused the stream_options the seam added
                        response.close()
                        request = retry
                        response = self._inner.handle_request(request)
            except BaseException as exc:
                pipeline.failed(self._meter, call, exc)
                raise
            return attach(self._meter, call, response, MeteredStream, self.owner)

        def close(self) -> None:
            self._inner.close()

    class AsyncMeteredTransport(module.AsyncBaseTransport):  # type: ignore[name-defined,misc]
        def __init__(self, inner: Any, meter: Meter, route: Any, owner: int = 0) -> None:
            self._inner, self._meter, self._route, self.owner = inner, meter, route, owner

        async def handle_async_request(self, request: Any) -> Any:
            call, request = pipeline.prepare(request, self._meter, self._route)
            if call is None:
                return await self._inner.handle_async_request(request)
            if call.cache_hit is not None:
                return attach(self._meter, call, cached_response(call.cache_hit, request), AsyncMeteredStream)
            if call.deferred:
                return deferred_response(call, request)
            if plan := pipeline.cascade_plan(self._meter, call):
                answered = None  # the last answer paid for: kept when the next tier does not fit a budget
                for i, (tier, model, body) in enumerate(plan):
                    try:
                        attempt = pipeline.cascade_attempt(self._meter, call, tier, model, body)  # holds its worst case
                    except LLMCostError:
                        if answered is None:
                            raise
                        return plain_response(*answered, request)
                    try:
                        response = await self._inner.handle_async_request(with_body(request, body))
                        raw = await response.aread()
                    except BaseException as exc:
                        pipeline.failed(self._meter, attempt, exc)
                        raise
                    await response.aclose()
                    if pipeline.cascade_step(self._meter, call, attempt, response.status_code, raw, i == len(plan) - 1):
                        return plain_response(response, raw, request)
                    answered = (response, raw)
            try:
                response = await self._inner.handle_async_request(request)
                if call.strip_usage_chunk and response.status_code == 400:
                    retry = without_stream_usage(call, request, await response.aread())
                    if retry is not None:  # the host refused the stream_options the seam added
                        await response.aclose()
                        request = retry
                        response = await self._inner.handle_async_request(request)
            except BaseException as exc:
                pipeline.failed(self._meter, call, exc)
                raise
            return attach(self._meter, call, response, AsyncMeteredStream, self.owner)

        async def aclose(self) -> None:
            await self._inner.aclose()

    return MeteredTransport, AsyncMeteredTransport
