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
