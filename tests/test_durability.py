"""Durable rows: a process killed with SIGKILL right after its calls keeps every row (issue 13; before the
writer thread: 0 of 50 kept; with a commit per row but no journal: all but the last one). The rows are
in the ledger's journal; the next process to open the ledger commits them, exactly once.

Real processes, the real SDK over loopback HTTP to the sandbox, the real SQLite file, a real kernel.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from llmcost_magic.bookkeeping.sqlite_ledger import Ledger

_CALLS = textwrap.dedent("""
    import asyncio, sys
    import llmcost_magic
    from llmcost_magic import meter
    from llmcost_magic.sandbox import client
    llmcost_magic.use_ledger(sys.argv[1])
    n, mode = int(sys.argv[3]), sys.argv[4]
    msgs = [{"role": "user", "content": "Say hello."}]
    m = meter(tag="kill")
    m.__enter__()  # a meter that never ends: the process dies inside it
    if mode == "gather":
        oc = client("openai", async_=True, base_url=sys.argv[2])
        async def main():
            await asyncio.gather(*(oc.chat.completions.create(model="gpt-4o-mini", messages=msgs) for _ in range(n)))
        asyncio.run(main())
    else:
        oc = client("openai", base_url=sys.argv[2])
        for i in range(n):
            answer = oc.chat.completions.create(model="gpt-4o-mini", messages=msgs, stream=mode == "stream")
            if mode == "stream":
                for chunk in answer:
                    pass
    print("done", flush=True)
    sys.stdin.read()  # wait to be killed
""")


def _rows(path) -> int:
    """Rows as the next user of the ledger sees them (opening it replays the dead process's journal)."""
    Ledger(path).close()
    assert not list(path.parent.glob(path.name + "-rowlog/*.jsonl"))  # replayed journals are removed
    return sqlite3.connect(path).execute("SELECT COUNT(*) FROM calls WHERE tag = 'kill'").fetchone()[0]


@pytest.mark.parametrize("mode", ["plain", "gather", "stream"])
def test_sigkill_right_after_the_calls_keeps_every_row(tmp_path, sandbox_server, mode):
    path, n = tmp_path / "ledger.sqlite3", 50 if mode != "gather" else 20
    proc = subprocess.Popen([sys.executable, "-c", _CALLS, str(path), sandbox_server.openai_base_url, str(n), mode],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "done"
        os.kill(proc.pid, signal.SIGKILL)  # no atexit, no flush: only what was committed survives
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert _rows(path) == n
    assert _rows(path) == n  # replayed once: a second open adds nothing


def test_a_kernel_killed_after_a_gather_of_20_calls_keeps_them(tmp_path, sandbox_server):
    from jupyter_client.manager import start_new_kernel

    path = tmp_path / "ledger.sqlite3"
    km, kc = start_new_kernel(kernel_name="python3", env={**os.environ, "LLMCOST_LEDGER": str(path)})
    try:
        code = textwrap.dedent(f"""
            import asyncio
            from llmcost_magic import meter
            from llmcost_magic.sandbox import client
            oc = client("openai", async_=True, base_url={sandbox_server.openai_base_url!r})
            msgs = [{{"role": "user", "content": "Say hello."}}]
            m = meter(tag="kill"); m.__enter__()
            await asyncio.gather(*(oc.chat.completions.create(model="gpt-4o-mini", messages=msgs) for _ in range(20)))
        """)
        reply = kc.execute_interactive(code, timeout=120)
        assert reply["content"]["status"] == "ok"
        os.kill(km.provisioner.process.pid, signal.SIGKILL)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert _rows(path) == 20
