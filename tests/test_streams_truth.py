"""Streams stay the user's: never buffered, never changed, usage asked for only where accepted (issue 13)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx2
import openai
import pytest

import llmcost_magic
from llmcost_magic import meter
from llmcost_magic.intercept import rewrite
from tests.wire_fakes import sandbox_bytes

MSG = [{"role": "user", "content": "Explain what a token is in one paragraph."}]
CHAT = {"model": "gpt-4o-mini", "messages": MSG, "stream": True, "stream_options": {"include_usage": True}}


def rows():
    return llmcost_magic.ledger()


class _Slow(httpx2.SyncByteStream):
    def __init__(self, events: list[bytes], delay: float) -> None:
        self.events, self.delay = events, delay

    def __iter__(self) -> Iterator[bytes]:
        for event in self.events:
            yield event
            time.sleep(self.delay)


class _Provider(httpx2.BaseTransport):
    """A chat provider streaming the sandbox's events with ``newline`` line endings, one event every ``delay`` s.
    Azure-like with ``rejects_stream_options``: a 400 for any request naming stream_options."""

    def __init__(self, newline: bytes = b"\n", delay: float = 0.0, rejects_stream_options: bool = False) -> None:
        body, _ = sandbox_bytes("/v1/chat/completions", CHAT)
        self.events = [e.replace(b"\n", newline) + newline * 2 for e in body.split(b"\n\n") if e]
        self.delay, self.rejects = delay, rejects_stream_options
        self.requests: list[dict] = []

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        sent = json.loads(request.content)
        self.requests.append(sent)
        if self.rejects and "stream_options" in sent:
            return httpx2.Response(400, json={"error": {"message": "Unrecognized request argument supplied: stream_options",
                                                        "type": "invalid_request_error", "param": None, "code": None}})
        events = self.events if (sent.get("stream_options") or {}).get("include_usage") else \
            [e for e in self.events if b'"usage":{' not in e.replace(b" ", b"")]
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, stream=_Slow(events, self.delay))


def _client(transport: httpx2.BaseTransport, host: str = "fake.local") -> openai.OpenAI:
    return openai.OpenAI(api_key="x", base_url=f"http://{host}/v1", http_client=httpx2.Client(transport=transport),
                         max_retries=0)


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_a_stream_is_never_buffered_and_its_usage_chunk_never_reaches_the_user(newline):
    provider = _Provider(newline, delay=0.004)
    with meter():
        t0 = time.perf_counter()
        stream = _client(provider).chat.completions.create(model="gpt-4o-mini", messages=MSG, stream=True)
        first = None
        chunks = []
        for chunk in stream:
            first = first or time.perf_counter() - t0
            chunks.append(chunk)
        total = time.perf_counter() - t0
    assert first < 0.25 * total, f"first chunk after {first:.2f} s of {total:.2f} s: the stream was buffered"
    assert all(c.choices for c in chunks) and all(c.usage is None for c in chunks)
    row = rows().iloc[0]
    assert row.status == "ok" and not row.estimated and row.output_tokens > 0


def test_a_host_that_rejects_stream_options_gets_the_users_request_and_is_remembered():
    provider = _Provider(rejects_stream_options=True)
    oc = _client(provider, host="azure-like.local")
    with meter():
        for _ in range(2):
            text = "".join(c.choices[0].delta.content or "" for c in
                           oc.chat.completions.create(model="gpt-4o-mini", messages=MSG, stream=True))
            assert text
    df = rows()
    assert len(df) == 2 and (df.status == "ok").all() and df.estimated.all() and (df.output_tokens > 0).all()
    assert "stream_options" in provider.requests[0] and "stream_options" not in provider.requests[1]
    assert "stream_options" not in provider.requests[2], "the host that refused it is remembered"
    assert len(provider.requests) == 3
    rewrite.stream_usage_refused.discard("azure-like.local")


def test_a_user_who_asked_for_stream_options_gets_the_providers_400():
    provider = _Provider(rejects_stream_options=True)
    with meter():
        with pytest.raises(openai.BadRequestError):
            _client(provider, host="azure-like-2.local").chat.completions.create(
                model="gpt-4o-mini", messages=MSG, stream=True, stream_options={"include_usage": True})
    assert len(provider.requests) == 1 and list(rows().status) == ["http_400"]


def _legacy_stream(request: httpx2.Request) -> httpx2.Response:
    sent = json.loads(request.content)
    base = {"id": "cmpl-1", "object": "text_completion", "created": 1, "model": "gpt-3.5-turbo-instruct"}
    events = [dict(base, choices=[{"index": 0, "text": w, "logprobs": None, "finish_reason": None}])
              for w in ("Tokens ", "are ", "pieces ", "of ", "text.")]
    events.append(dict(base, choices=[{"index": 0, "text": "", "logprobs": None, "finish_reason": "stop"}]))
    if (sent.get("stream_options") or {}).get("include_usage"):
        events.append(dict(base, choices=[], usage={"prompt_tokens": 6, "completion_tokens": 5, "total_tokens": 11}))
    body = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + b"data: [DONE]\n\n"
    return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)


def test_streamed_legacy_completions_count_their_output_tokens():
    oc = _client(httpx2.MockTransport(_legacy_stream))
    with meter():
        chunks = list(oc.completions.create(model="gpt-3.5-turbo-instruct", prompt="What is a token?", stream=True))
    assert all(c.choices for c in chunks)
    row = rows().iloc[0]
    assert row.output_tokens == 5 and row.input_tokens == 6 and not row.estimated


def test_an_async_client_gets_the_same_retry_without_stream_options():
    import asyncio

    provider = _Provider(rejects_stream_options=True)

    def handler(request: httpx2.Request) -> httpx2.Response:
        answer = provider.handle_request(request)
        return httpx2.Response(answer.status_code, headers=answer.headers, content=b"".join(answer.stream))

    oc = openai.AsyncOpenAI(api_key="x", base_url="http://azure-like-async.local/v1",
                            http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handler)), max_retries=0)

    async def main() -> str:
        with meter():
            stream = await oc.chat.completions.create(model="gpt-4o-mini", messages=MSG, stream=True)
            return "".join([c.choices[0].delta.content or "" async for c in stream])

    assert asyncio.run(main())
    row = rows().iloc[0]
    assert len(rows()) == 1 and row.status == "ok" and row.estimated and row.output_tokens > 0
    rewrite.stream_usage_refused.discard("azure-like-async.local")
