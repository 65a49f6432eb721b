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
