"""The ledger's journal (issue 13's speed target with durable rows): every row is on disk when ``record``
returns, SQLite gets them in batches, and the rows of a process that died are committed exactly once by
whoever opens the ledger next. Real processes killed with SIGKILL, real files, real SQLite.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from llmcost_magic.core.records import CallRecord, Usage
from llmcost_magic.bookkeeping.sqlite_ledger import Ledger

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="journals need fcntl")

# Records `n` rows, flushing (committing, with the journal's progress) after the first `flushed`, then waits
# to be killed: the rows after `flushed` are only in the journal.
_WRITER = textwrap.dedent("""
    import sys, time
    from llmcost_magic.core.records import CallRecord, Usage
    from llmcost_magic.bookkeeping.sqlite_ledger import Ledger
    path, n, flushed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    ledger = Ledger(path)
    ledger._wake.set()  # keep the writer thread from committing on its own (it only wakes on a clear event)
    for i in range(n):
        ledger.record(CallRecord(ts=time.time(), provider="openai", endpoint="chat.completions", model="gpt-4o-mini",
                                 usage=Usage(input_tokens=i + 1), cost_usd=0.001, baseline_cost_usd=0.001, latency_ms=1.0, tag="j"))
        if i + 1 == flushed:
            ledger.flush()
    print("done", flush=True)
    sys.stdin.read()
""")


def _killed_writer(path, n: int, flushed: int) -> None:
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path), str(n), str(flushed)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "done"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)


def _tokens(path) -> list[int]:
    return [r[0] for r in sqlite3.connect(path).execute("SELECT input_tokens FROM calls WHERE tag = 'j' ORDER BY input_tokens")]


def _rec(**kw) -> CallRecord:
    return CallRecord(ts=time.time(), provider="openai", endpoint="chat.completions", model="gpt-4o-mini",
                      usage=Usage(input_tokens=kw.pop("input_tokens", 1)), cost_usd=0.001, baseline_cost_usd=0.001,
                      latency_ms=1.0, tag="j", **kw)


def test_rows_only_in_the_journal_are_committed_once_by_the_next_opener(tmp_path):
    path = tmp_path / "l.sqlite3"
    _killed_writer(path, 8, flushed=3)
    assert _tokens(path) == [1, 2, 3]  # what the dead process had committed itself
    Ledger(path).close()
    assert _tokens(path) == list(range(1, 9))  # the other 5 from its journal, the first 3 not again
    Ledger(path).close()
    assert _tokens(path) == list(range(1, 9))
    assert not list((tmp_path / "l.sqlite3-rowlog").glob("*.jsonl"))
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM journal").fetchone()[0] == 0


def test_four_processes_opening_at_once_replay_a_dead_journal_exactly_once(tmp_path):
    path = tmp_path / "l.sqlite3"
    _killed_writer(path, 30, flushed=10)
    opener = "import sys; from llmcost_magic.bookkeeping.sqlite_ledger import Ledger; Ledger(sys.argv[1]).close()"
    procs = [subprocess.Popen([sys.executable, "-c", opener, str(path)]) for _ in range(4)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    assert _tokens(path) == list(range(1, 31))


def test_a_live_process_journal_is_left_alone(tmp_path):
    path = tmp_path / "l.sqlite3"
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path), "5", "0"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "done"
        Ledger(path).close()  # another kernel opens the ledger meanwhile: the writer is alive, its rows are its own
        assert _tokens(path) == []
        proc.stdin.close()  # the writer exits normally: it commits its own rows
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
    Ledger(path).close()
    assert _tokens(path) == [1, 2, 3, 4, 5]


def test_a_torn_last_line_is_skipped_and_the_rest_kept(tmp_path):
    path = tmp_path / "l.sqlite3"
    _killed_writer(path, 4, flushed=0)
    journal = next((tmp_path / "l.sqlite3-rowlog").glob("*.jsonl"))
    data = journal.read_bytes()
    journal.write_bytes(data + data.splitlines(keepends=True)[-1][:25])  # half a row, as a power cut could leave
    Ledger(path).close()
    assert _tokens(path) == [1, 2, 3, 4]


def test_an_older_versions_journal_replays_with_its_own_columns_and_a_hostile_one_injects_nothing(tmp_path):
    path = tmp_path / "l.sqlite3"
    Ledger(path).close()
    folder = tmp_path / "l.sqlite3-rowlog"
    folder.mkdir(exist_ok=True)
    old = ["ts", "tag", "provider", "model", "input_tokens", "cost_usd"]  # fewer columns than today
    (folder / "old-1.jsonl").write_text(json.dumps(old) + "\n" + json.dumps([1.0, "j", "openai", "gpt-4o", 7, 0.5]) + "\n")
    hostile = ["ts", "tag) VALUES (1, 'x'); DROP TABLE calls; --", "input_tokens"]
    (folder / "evil-2.jsonl").write_text(json.dumps(hostile) + "\n" + json.dumps([2.0, "j", 9]) + "\n")
    Ledger(path).close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT tag, model, input_tokens, cost_usd FROM calls ORDER BY ts").fetchall() == [
        ("j", "gpt-4o", 7, 0.5), (None, None, 9, None)]  # the unknown column is dropped, never spliced into SQL


def test_a_forked_child_does_not_write_or_commit_its_parents_rows(tmp_path):
    path = tmp_path / "l.sqlite3"
    ledger = Ledger(path)
    ledger._wake.set()  # no writer commits: the parent's row stays pending across the fork
    ledger.record(_rec(input_tokens=1))
    pid = os.fork()
    if pid == 0:  # the child records its own row and exits normally (its ledger flushes at exit)
        try:
            ledger.record(_rec(input_tokens=2))
            ledger.close()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    ledger.close()
    Ledger(path).close()
    assert _tokens(path) == [1, 2]


def test_a_journal_that_cannot_be_written_falls_back_to_a_commit_per_row(tmp_path):
    path = tmp_path / "l.sqlite3"
    (tmp_path / "l.sqlite3-rowlog").write_text("a file where the folder should be")
    ledger = Ledger(path)
    for i in range(3):
        ledger.record(_rec(input_tokens=i + 1))
    deadline = time.monotonic() + 5
    while len(_tokens(path)) < 3 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert _tokens(path) == [1, 2, 3]
    ledger.close()


def test_a_burst_is_committed_in_few_transactions(tmp_path):
    """The point of the journal: 200 rows in a burst cost a handful of commits, not 200."""
    path = tmp_path / "l.sqlite3"
    ledger = Ledger(path)
    commits = []
    ledger._db.set_trace_callback(lambda sql: commits.append(sql) if sql.startswith("COMMIT") else None)
    for i in range(200):
        ledger.record(_rec(input_tokens=i))
    time.sleep(0.2)
    ledger.close()
    assert len(_tokens(path)) == 200 and len(commits) < 40


def test_rows_keep_their_values_and_types_through_the_json_insert(tmp_path):
    """Rows reach SQLite as one JSON array (parsed in C, off the GIL): every value must arrive as it was."""
    ledger = Ledger(tmp_path / "l.sqlite3")
    rec = CallRecord(ts=1764500000.123456, provider="anthropic", endpoint="messages", model="claude-haiku-4-5",
                     usage=Usage(input_tokens=2**40, output_tokens=7, details={"tool_calls": {"web_search": 2}}),
                     cost_usd=1e-9, baseline_cost_usd=float("nan"), latency_ms=0.5, tag='따옴표 "q" \\ \n 줄',
                     estimated=True, max_tokens=None)
    ledger.record(rec)
    row = ledger.query("SELECT ts, input_tokens, output_tokens, cost_usd, baseline_cost_usd, tag, estimated, "
                       "max_tokens, tool_calls, typeof(ts), typeof(input_tokens), typeof(estimated) FROM calls")[0]
    assert row == (1764500000.123456, 2**40, 7, 1e-9, None, '따옴표 "q" \\ \n 줄', 1, None, '{"web_search": 2}',
                   "real", "integer", "integer")
    ledger.close()


@pytest.mark.parametrize("header", [b"not json\n", b'{"ts": 1}\n', b"[1, 2]\n"])
def test_a_journal_with_an_unreadable_header_does_not_stop_the_ledger_from_opening(tmp_path, header):
    path = tmp_path / "l.sqlite3"
    Ledger(path).close()
    journal = tmp_path / "l.sqlite3-rowlog" / "bad-1.jsonl"
    journal.parent.mkdir(exist_ok=True)
    journal.write_bytes(header + b'[1.0, "j", 5]\n')
    with pytest.warns(UserWarning, match="bad-1.jsonl"):
        Ledger(path).close()
    assert journal.exists()  # left for a person to read, never half-replayed
    assert _tokens(path) == []
