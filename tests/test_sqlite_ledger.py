import sqlite3
import time

import pytest

from llmcost_magic.core.records import CallRecord, Usage
from llmcost_magic.bookkeeping import sqlite_ledger
from llmcost_magic.bookkeeping.sqlite_ledger import COLUMNS, Ledger, LedgerError


def _rec(**kw):
    base = dict(ts=time.time(), provider="openai", endpoint="chat.completions", model="gpt-4o",
                usage=Usage(input_tokens=100, cached_input_tokens=10, output_tokens=5), cost_usd=0.001,
                baseline_cost_usd=0.002, latency_ms=1.0)
    base.update(kw)
    return CallRecord(**base)


def test_rows_are_committed_and_visible_to_another_connection(tmp_path):
    path = tmp_path / "l.sqlite3"
    ledger = Ledger(path)
    ledger.record(_rec(tag="a"))
    ledger.flush()
    other = sqlite3.connect(path)
    assert other.execute("SELECT tag, input_tokens, saved_usd FROM calls").fetchall() == [("a", 100, 0.001)]
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_dataframe_has_the_documented_columns(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    ledger.record(_rec())
    df = ledger.dataframe()
    for column in ("ts", "cell", "tag", "provider", "endpoint", "model", "input_tokens", "cached_input_tokens",
                   "cache_write_tokens", "output_tokens", "reasoning_tokens", "cost_usd", "baseline_cost_usd",
                   "saved_usd", "cache", "estimated", "latency_ms", "status"):
        assert column in df.columns
    assert list(df.columns) == list(COLUMNS)


def test_reopening_keeps_rows_and_does_not_rerun_migrations(tmp_path):
    path = tmp_path / "l.sqlite3"
    Ledger(path).record(_rec())
    again = Ledger(path)
    assert len(again) == 1
    assert again.query("SELECT COUNT(*) FROM _migrations")[0][0] == len(sqlite_ledger._MIGRATIONS)


def test_unknown_cost_is_null_not_zero(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    ledger.record(_rec(cost_usd=None, baseline_cost_usd=None))
    assert ledger.dataframe()["cost_usd"].isna().all()


def test_unwritable_path_names_the_fix(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(LedgerError, match="writable"):
        Ledger(blocker / "sub" / "ledger.sqlite3")


def test_filters_and_previous_run(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    ledger.record(_rec(cell_hash="h1", cell_run=1, cost_usd=0.5))
    ledger.record(_rec(cell_hash="h1", cell_run=2, cost_usd=0.25))
    ledger.record(_rec(cell_hash="h2", tag="x"))
    assert len(ledger.dataframe(cell="h1")) == 2 and len(ledger.dataframe(tag="x")) == 1
    assert ledger.last_cell_run("h1", (ledger.session, 2)) == (0.5, 1)


def test_a_row_is_committed_within_milliseconds_without_any_flush(tmp_path):
    path = tmp_path / "l.sqlite3"
    ledger = Ledger(path)
    other = sqlite3.connect(path)
    count = lambda: other.execute("SELECT COUNT(*) FROM calls").fetchone()[0]  # noqa: E731
    for expected in (1, 2, 3):
        ledger.record(_rec())
        deadline = time.monotonic() + 0.5
        while count() < expected and time.monotonic() < deadline:
            time.sleep(0.001)
        assert count() == expected
    ledger.close()
    assert count() == 3


def test_rows_reach_disk_when_a_meter_closes(tmp_path):
    from llmcost_magic import meter
    from llmcost_magic.sandbox import client

    path = tmp_path / "l.sqlite3"
    ledger = Ledger(path)
    with meter(ledger=ledger):
        client("openai").chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM calls").fetchone()[0] == 1


_OPEN_AT = """
import sys, time
from llmcost_magic.bookkeeping.sqlite_ledger import Ledger
start = float(sys.argv[2])
while time.time() < start:
    pass
ledger = Ledger(sys.argv[1])
ledger.close()
"""


def test_processes_opening_a_new_ledger_at_once_all_succeed(tmp_path):
    """A room of kernels starting on one shared ledger file: creating and migrating it is race-free."""
    import subprocess
    import sys

    for attempt in range(3):
        path = tmp_path / f"shared-{attempt}.sqlite3"
        start = time.time() + 1.5  # every process imports first, then they open the file together
        procs = [subprocess.Popen([sys.executable, "-c", _OPEN_AT, str(path), str(start)],
                                  stderr=subprocess.PIPE, text=True) for _ in range(4)]
        errors = [p.communicate(timeout=60)[1] for p in procs]
        assert [p.returncode for p in procs] == [0] * 4, "\n".join(errors)
        names = [row[0] for row in Ledger(path).query("SELECT name FROM _migrations ORDER BY step")]
        assert names == list(sqlite_ledger._MIGRATIONS)


def test_migrations_are_keyed_by_name(tmp_path):
    """A step registered between two shipped ones (two branches merged) still runs exactly once."""
    path = tmp_path / "l.sqlite3"
    Ledger(path).close()
    db = sqlite3.connect(path)
    db.execute("DELETE FROM _migrations WHERE name = '_m003_batches'")
    db.execute("DROP TABLE batches")
    db.commit()
    again = Ledger(path)
    assert again.query("SELECT COUNT(*) FROM batches")[0][0] == 0
    assert again.query("SELECT COUNT(*) FROM _migrations")[0][0] == len(sqlite_ledger._MIGRATIONS)
