"""Provider clients from the environment: real with an API key, the offline sandbox without.

The one client factory: the cookbook's ``openai_client``/``anthropic_client``, the classifier router and a
``--batch`` cell's deferred calls all take their clients here. It sits just above the sandbox, below the
policies and the notebook front, so nothing reaches up a layer for a client.
"""

from __future__ import annotations

import os
from typing import Any

from .core.course_language import T

KEYS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
_announced: set[tuple[str, bool]] = set()


def on_sandbox(provider: str = "openai") -> bool:
    """True when ``provider``'s API key is not set (or ``LLMCOST_SANDBOX=1`` forces the sandbox)."""
    return os.environ.get("LLMCOST_SANDBOX") == "1" or not os.environ.get(KEYS[provider])


def client_for(provider: str, *, async_: bool = False, **kwargs: Any) -> Any:
    """A client for ``provider`` ("openai" or "anthropic"), announced once per kind with where it runs."""
    if on_sandbox(provider):
        from .sandbox import client

        line = T(f"{provider}: running on the offline sandbox — every number below is SIMULATED (set {KEYS[provider]} for the real API).",
                 f"{provider}: 오프라인 샌드박스에서 실행 중 — 아래 숫자는 모두 시뮬레이션(SIMULATED)입니다 (실제 API는 {KEYS[provider]} 설정).")
        result = client(provider, async_=async_, **kwargs)
    else:
        if provider == "openai":
            import openai

            result = (openai.AsyncOpenAI if async_ else openai.OpenAI)(**kwargs)
        else:
            import anthropic

            result = (anthropic.AsyncAnthropic if async_ else anthropic.Anthropic)(**kwargs)
        line = T(f"{provider}: running on the REAL API with {KEYS[provider]} — calls cost real money.",
                 f"{provider}: {KEYS[provider]}로 실제 API(REAL API)에서 실행 중 — 호출마다 실제 비용이 듭니다.")
    if (provider, async_) not in _announced:
        _announced.add((provider, async_))
        print(line)
    return result


def openai_client(*, async_: bool = False, **kwargs: Any) -> Any:
    """An ``openai.OpenAI`` (or ``AsyncOpenAI``) client: real with a key, the sandbox without."""
    return client_for("openai", async_=async_, **kwargs)


def anthropic_client(*, async_: bool = False, **kwargs: Any) -> Any:
    """An ``anthropic.Anthropic`` (or ``AsyncAnthropic``) client: real with a key, the sandbox without."""
    return client_for("anthropic", async_=async_, **kwargs)
