import gzip
import json

from llmcost_magic.intercept.body import BodyCollector, UsageChunkFilter


def test_gzip_bodies_are_decoded_for_metering_only():
    payload = json.dumps({"usage": {"prompt_tokens": 3}}).encode()
    packed = gzip.compress(payload)
    c = BodyCollector("application/json", "gzip")
    for i in range(0, len(packed), 7):
        c.feed(packed[i:i + 7])
    c.finish()
    assert c.body == payload


def test_sse_payloads_survive_arbitrary_chunk_boundaries():
    stream = b'data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n'
    c = BodyCollector("text/event-stream; charset=utf-8", "")
    for i in range(len(stream)):
        c.feed(stream[i:i + 1])
    c.finish()
    assert c.payloads == [b'{"a":1}', b'{"b":2}', b"[DONE]"]


def test_usage_filter_drops_only_the_usage_only_chunk():
    events = [b'data: {"choices":[{"delta":{"content":"hi"}}],"usage":null}', b'data: {"choices": [], "usage": {"prompt_tokens": 1}}', b"data: [DONE]"]
    raw = b"".join(e + b"\n\n" for e in events)
    f = UsageChunkFilter()
    out = b"".join(f(raw[i:i + 5]) for i in range(0, len(raw), 5)) + f.flush()
    assert out == events[0] + b"\n\n" + events[2] + b"\n\n"


def test_unknown_encodings_are_not_misparsed():
    c = BodyCollector("application/json", "zstd-unknown")
    c.feed(b"\x00\x01garbage")
    assert c.undecodable and c.body == b""


def test_sse_payloads_are_found_whatever_the_line_endings_and_chunk_boundaries():
    for newline in (b"\r\n", b"\r"):
        stream = (b'data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n').replace(b"\n", newline)
        c = BodyCollector("text/event-stream", "")
        for i in range(len(stream)):
            c.feed(stream[i:i + 1])  # a CR and its LF arrive in separate chunks
        c.finish()
        assert c.payloads == [b'{"a":1}', b'{"b":2}', b"[DONE]"]
