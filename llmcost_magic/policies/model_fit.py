"""Which request parameters a model rejects, so that a policy that changes the model (a router, the cascade,
the budget fallback) or adds a parameter (output controls) never turns a good request into a 400.

Hand-written (no library keeps this table): OpenAI's reasoning models (o1, o3, o4, gpt-5; not gpt-5-chat)
reject ``max_tokens``, ``stop``, sampling settings other than the default and logprobs on Chat Completions
(``temperature``/``top_p`` on Responses); the other chat models reject ``reasoning_effort`` (``reasoning`` on
Responses). Source: platform.openai.com/docs/guides/reasoning, checked 2026-11.
"""

from __future__ import annotations

from typing import Any

from ..core.tokens import provider_for_model

_REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")
_SAMPLING_DEFAULTS = {"temperature": 1, "top_p": 1, "presence_penalty": 0, "frequency_penalty": 0}


def is_reasoning(model: str) -> bool:
    """Whether ``model`` is an OpenAI reasoning model."""
    name = str(model).lower().removeprefix("openai/")
    return name.startswith(_REASONING_PREFIXES) and not name.startswith("gpt-5-chat")


def rejected_params(model: str, endpoint: str, body: dict[str, Any]) -> list[str]:
    """The parameters of ``body`` that ``model`` would answer 400 to on ``endpoint`` (empty: it takes them)."""
    if provider_for_model(model) != "openai" or endpoint not in ("chat.completions", "responses"):
        return []
    if not is_reasoning(model):
        key = "reasoning_effort" if endpoint == "chat.completions" else "reasoning"
        return [key] if body.get(key) is not None else []
    rejected = [k for k, default in _SAMPLING_DEFAULTS.items() if body.get(k) is not None and body[k] != default]
    if endpoint == "chat.completions":
        rejected += [k for k in ("max_tokens", "stop", "logprobs", "top_logprobs") if body.get(k) not in (None, False)]
    return rejected
