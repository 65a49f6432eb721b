"""Fixtures for tests of the package's words in English and Korean (import them into a test module)."""

from __future__ import annotations

import re

import pytest

from llmcost_magic.core import messages

HANGUL = re.compile("[가-힣]")
CALL = "oc.chat.completions.create(model='gpt-4o-mini', messages=[{'role': 'user', 'content': 'hi'}])"


@pytest.fixture(autouse=True)
def english_by_default(monkeypatch):
    """Each test starts in English and leaves the language as it found it (set_language writes the env)."""
    monkeypatch.delenv(messages.ENV, raising=False)


@pytest.fixture
def ko(monkeypatch):
    monkeypatch.setenv(messages.ENV, "ko")
