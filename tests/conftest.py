"""Shared fixtures: a throwaway ledger per test, and module state reset between tests."""

from __future__ import annotations

import pytest

import llmcost_magic
from llmcost_magic import metering, session


@pytest.fixture(autouse=True)
def fresh_ledger(tmp_path):
    """Every test records into its own real SQLite file."""
    ledger = session.use_ledger(tmp_path / "ledger.sqlite3")
    yield ledger
    metering.set_cell_meter(None)


@pytest.fixture
def ledger_df():
    return llmcost_magic.ledger


@pytest.fixture(scope="session")
def sandbox_server():
    """The sandbox as a real HTTP service on a free loopback port."""
    from llmcost_magic.sandbox import serve

    server = serve(port=0)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _ipython():
    from IPython.testing.globalipapp import start_ipython

    return start_ipython()


@pytest.fixture
def shell(_ipython):
    """A real InteractiveShell with the extension loaded; unloaded afterwards."""
    _ipython.run_line_magic("load_ext", "llmcost_magic")
    yield _ipython
    _ipython.run_line_magic("unload_ext", "llmcost_magic")


@pytest.fixture(autouse=True)
def fresh_cache_store(tmp_path):
    """Every test caches into its own SQLite file."""
    return session.use_cache_store(tmp_path / "cache.sqlite3")


@pytest.fixture(scope="session")
def redis_url():
    """A real redis-server: $REDIS_URL (CI starts one), else one started here on a free port."""
    import os
    import shutil
    import socket
    import subprocess
    import time

    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is missing: .ci/run installs it (apt-get install redis-server)")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)
