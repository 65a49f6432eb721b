"""Issue 4 targets: exact hit end to end through the SDK (p50 < 1 ms), semantic lookup with 10k /
100k / 1M entries including the query's embedding (p50 < 5 ms at 100k), memory per entry, and hit /
false-hit rates on the labelled pairs at the default threshold (false hits < 1%, paraphrase hits >= 60%)."""

from __future__ import annotations

import json
import statistics
import time
from importlib import resources

import httpx2
import numpy as np
import openai


from llmcost_magic import meter, use_cache_store, use_ledger
from llmcost_magic.embedder import default_embedder
from llmcost_magic.policies.semantic_cache import DEFAULT_THRESHOLD, INDEX_DIM, SemanticIndex, _Bucket, why_not_same
from llmcost_magic.sandbox import client
from llmcost_magic.session import current_cache_store
from llmcost_magic.stores.sqlite_cache import SQLiteCacheStore


def current_cache_store_key(request: dict) -> str:
    from llmcost_magic.intercept.call import Call
    from llmcost_magic.policies.response_cache import CacheSettings, ResponseCache

    return ResponseCache(current_cache_store(), CacheSettings()).key(Call("openai", "chat.completions", request["model"], request, False))


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


def exact_hits() -> None:
    use_ledger(":memory:")
    use_cache_store(":memory:")
    oc = client("openai")
    request = dict(model="gpt-4o-mini", temperature=0, messages=[{"role": "user", "content": "What is your refund policy?"}])
    live, hit = [], []
    with meter(cache="exact"):
        for i in range(300):
            fresh = {**request, "messages": [{"role": "user", "content": f"What is your refund policy? #{i}"}]}
            t0 = time.perf_counter()
            oc.chat.completions.create(**fresh)
            live.append((time.perf_counter() - t0) * 1e3)
        oc.chat.completions.create(**request)
        for _ in range(1000):
            t0 = time.perf_counter()
            oc.chat.completions.create(**request)
            hit.append((time.perf_counter() - t0) * 1e3)
    cached_body = current_cache_store().get(current_cache_store_key(request), time.time()).body

    class SameBody(httpx2.BaseTransport):  # the SDK's floor for parsing this very answer
        def handle_request(self, req: httpx2.Request) -> httpx2.Response:
            return httpx2.Response(200, headers={"content-type": "application/json"}, stream=httpx2.ByteStream(cached_body))

    canned = openai.OpenAI(api_key="x", base_url="http://bench.local/v1", http_client=httpx2.Client(transport=SameBody()))
    floor = []
    for _ in range(1000):
        t0 = time.perf_counter()
        canned.chat.completions.create(**request)
        floor.append((time.perf_counter() - t0) * 1e3)
    (lp50, lp99), (hp50, hp99), (fp50, _) = _percentiles(live), _percentiles(hit), _percentiles(floor)
    print(f"exact hit through the SDK: p50 {hp50:.3f} ms, p99 {hp99:.3f} ms; live call on the in-process sandbox: "
          f"p50 {lp50:.3f} ms, p99 {lp99:.3f} ms; hit/live {hp50 / lp50:.2f}; the SDK's own floor on a canned "
          f"zero-latency transport returning the same answer: p50 {fp50:.3f} ms, so the cache adds {1e3 * (hp50 - fp50):+.0f} µs (target p50 < 1 ms)")


def semantic_lookup() -> None:
    embedder = default_embedder()
    store = SQLiteCacheStore(":memory:")
    questions = ["How do I reset my password?", "What is your refund policy?", "Where is my order?"]
    rng = np.random.default_rng(0)
    for n in (10_000, 100_000, 1_000_000):
        index = SemanticIndex(store, embedder)
        bucket = _Bucket()
        vectors = rng.standard_normal((n, INDEX_DIM), dtype=np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        bucket.matrix, bucket.size = vectors, n
        bucket.keys = [f"k{i}" for i in range(n)]
        bucket.questions = [""] * n
        index._buckets["ctx"] = bucket
        samples = []
        for i in range(60):
            t0 = time.perf_counter()
            index.search("ctx", questions[i % 3] + f" {i}", 0.0, DEFAULT_THRESHOLD)
            samples.append((time.perf_counter() - t0) * 1e3)
        p50, p99 = _percentiles(samples)
        per_entry = bucket.matrix.nbytes / n + 60  # the vector, plus the key and question references
        print(f"semantic lookup incl. embedding, {n:>9,} entries: p50 {p50:6.2f} ms, p99 {p99:6.2f} ms; "
              f"~{per_entry:,.0f} bytes/entry in memory (target p50 < 5 ms at 100k)")


def labelled_pairs() -> None:
    text = resources.files("llmcost_magic").joinpath("data", "semantic_pairs.jsonl").read_text(encoding="utf-8")
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    embedder = default_embedder()
    index = SemanticIndex(SQLiteCacheStore(":memory:"), embedder)
    sims = np.array([index.vector(r["a"]) @ index.vector(r["b"]) for r in rows])
    served = np.array([s >= DEFAULT_THRESHOLD and why_not_same(r["a"], r["b"]) is None for s, r in zip(sims, rows)])
    same = np.array([r["label"] == "paraphrase" for r in rows])
    by_threshold_only = sims >= DEFAULT_THRESHOLD  # what a threshold-only cache would serve
    print(f"labelled pairs ({same.sum()} paraphrases, {(~same).sum()} negations / near misses / unrelated) at "
          f"threshold {DEFAULT_THRESHOLD}: hit rate {served[same].mean():.0%}, false hits {served[~same].mean():.1%} "
          f"(threshold alone: {by_threshold_only[~same].mean():.1%} false hits) (targets: >= 60%, < 1%)")


def main() -> None:
    exact_hits()
    labelled_pairs()
    semantic_lookup()


if __name__ == "__main__":
    main()
