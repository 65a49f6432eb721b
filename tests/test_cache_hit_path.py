"""The exact-hit path made cheap without losing anything: hit counts exact in stats, for another kernel, after an
exit and a SIGKILL; a served row's answer read once per verified row, and afresh for any other row."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time

import pytest

import llmcost_magic
from llmcost_magic import meter
from llmcost_magic.policies.cache_scope import seal
from llmcost_magic.sandbox import client
from llmcost_magic.session import current_cache_store
from llmcost_magic.stores.sqlite_cache import SQLiteCacheStore

Q = [{"role": "user", "content": "What is your refund policy?"}]

CHILD = """
import os, signal, sys, time
from llmcost_magic import meter, use_cache_store, use_ledger
from llmcost_magic.sandbox import client
use_ledger(sys.argv[1]); use_cache_store(sys.argv[2])
oc = client("openai")
with meter(cache="exact"):
    for _ in range(int(sys.argv[3])):
        oc.chat.completions.create(model="gpt-4o-mini", temperature=0, messages=[{"role": "user", "content": "Hi?"}])
if sys.argv[4] == "kill":
    time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _ask(oc, n: int) -> None:
    for _ in range(n):
        oc.chat.completions.create(model="gpt-4o-mini", messages=Q, temperature=0)


def test_stats_count_every_hit_at_once():
    oc = client("openai")
    with meter(cache="exact"):
        _ask(oc, 6)
        assert current_cache_store().stats(time.time())["hits"] == 5


def test_hits_are_committed_promptly_for_another_kernel():
    oc = client("openai")
    with meter(cache="exact"):
        _ask(oc, 4)
    other = SQLiteCacheStore(current_cache_store().path)  # another process's view of the same file
    deadline = time.monotonic() + 5
    while other._db.execute("SELECT SUM(hits) FROM entries").fetchone()[0] != 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert other._db.execute("SELECT SUM(hits) FROM entries").fetchone()[0] == 3


@pytest.mark.parametrize("end", ["exit", "kill"])
def test_hit_counts_survive_a_normal_exit_and_a_sigkill(tmp_path, end):
    ledger, cache = tmp_path / "l.sqlite3", tmp_path / "c.sqlite3"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", CHILD, str(ledger), str(cache), "8", end], env=env, timeout=120)
    assert done.returncode == (-9 if end == "kill" else 0)
    assert SQLiteCacheStore(cache).stats(time.time())["hits"] == 7


def test_a_row_replaced_after_it_was_served_is_read_afresh():
    """The reading of a served answer is kept for the very row that was verified: another sound row under the
    same key (a new answer with other usage) is priced from its own bytes, never from the first one's."""
    oc = client("openai")
    with meter(cache="exact"):
        _ask(oc, 3)  # a live call, then two hits: the second one reuses the first hit's reading
        store = current_cache_store()
        (key,) = [r[0] for r in store._db.execute("SELECT key FROM entries")]
        entry = store.get(key, time.time())
        body = json.loads(entry.body)
        body["usage"] = {**body["usage"], "completion_tokens": body["usage"]["completion_tokens"] * 10}
        body["usage"]["total_tokens"] = body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]
        replaced = dataclasses.replace(entry, body=json.dumps(body).encode())
        replaced.seal = seal(replaced, store.secret())
        store.put(replaced)
        answer = oc.chat.completions.create(model="gpt-4o-mini", messages=Q, temperature=0)
    df = llmcost_magic.ledger()
    assert list(df.cache) == ["", "exact", "exact", "exact"]
    assert answer.usage.completion_tokens == body["usage"]["completion_tokens"]
    assert df.iloc[1].baseline_cost_usd == pytest.approx(df.iloc[0].cost_usd)
    assert df.iloc[2].baseline_cost_usd == pytest.approx(df.iloc[0].cost_usd)
    assert df.iloc[3].baseline_cost_usd > df.iloc[2].baseline_cost_usd  # priced from the new row's usage
    assert df.iloc[3].output_tokens == body["usage"]["completion_tokens"]


def test_a_row_forged_after_it_was_served_is_a_miss():
    oc = client("openai")
    with meter(cache="exact"):
        _ask(oc, 2)
        store = current_cache_store()
        store._db.execute("UPDATE entries SET body = CAST(replace(CAST(body AS TEXT), 'refund', 'REFUND') AS BLOB)")
        with pytest.warns(UserWarning, match="seal does not match"):
            _ask(oc, 1)
    assert list(llmcost_magic.ledger().cache) == ["", "exact", ""]
