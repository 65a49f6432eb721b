"""The cookbook's two-line setup: real clients when API keys are set, the offline sandbox otherwise.

    %load_ext llmcost_magic
    from llmcost_magic.cookbook import openai_client, anthropic_client
"""

from __future__ import annotations

import os
from typing import Any

_KEYS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
_announced: set[str] = set()


def on_sandbox(provider: str = "openai") -> bool:
    """True when ``provider``'s API key is not set (or ``LLMCOST_SANDBOX=1`` forces the sandbox)."""
    return os.environ.get("LLMCOST_SANDBOX") == "1" or not os.environ.get(_KEYS[provider])


def _client(provider: str, async_: bool, **kwargs: Any) -> Any:
    if on_sandbox(provider):
        from .sandbox import client

        line = f"{provider}: running on the offline sandbox — every number below is SIMULATED (set {_KEYS[provider]} for the real API)."
        result = client(provider, async_=async_, **kwargs)
    else:
        if provider == "openai":
            import openai

            result = (openai.AsyncOpenAI if async_ else openai.OpenAI)(**kwargs)
        else:
            import anthropic

            result = (anthropic.AsyncAnthropic if async_ else anthropic.Anthropic)(**kwargs)
        line = f"{provider}: running on the REAL API with {_KEYS[provider]} — calls cost real money."
    if (provider, async_) not in _announced:
        _announced.add((provider, async_))  # type: ignore[arg-type]
        print(line)
    return result


def openai_client(*, async_: bool = False, **kwargs: Any) -> Any:
    """An ``openai.OpenAI`` (or ``AsyncOpenAI``) client: real with a key, the sandbox without."""
    return _client("openai", async_, **kwargs)


def anthropic_client(*, async_: bool = False, **kwargs: Any) -> Any:
    """An ``anthropic.Anthropic`` (or ``AsyncAnthropic``) client: real with a key, the sandbox without."""
    return _client("anthropic", async_, **kwargs)
