"""Which request parameters a model rejects, so that a policy that changes the model (a router, the cascade,
the budget fallback) or adds a parameter (output controls) never turns a good request into a 400.

Hand-written (no library keeps this table): OpenAI's reasoning models (o1, o3, o4, gpt-5; not gpt-5-chat)
reject ``max_tokens``, ``stop``, sampling settings other than the default and logprobs on Chat Completions
(``temperature``/``top_p`` on Responses); the other chat models reject ``reasoning_effort`` (``reasoning`` on
Responses). Source: platform.openai.com/docs/guides/reasoning, checked 2026-11. Any model rejects an output cap
above its own limit (``data/model_limits.yaml``); Claude 3 models before 3.7 reject extended ``thinking``.
"""

from __future__ import annotations

from typing import Any

from ..core.tokens import provider_for_model
from .budgets.worst_case import model_output_limit

_REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")
_SAMPLING_DEFAULTS = {"temperature": 1, "top_p": 1, "presence_penalty": 0, "frequency_penalty": 0}


def is_reasoning(model: str) -> bool:
    """Whether ``model`` is an OpenAI reasoning model."""
    name = str(model).lower().removeprefix("openai/")
    return name.startswith(_REASONING_PREFIXES) and not name.startswith("gpt-5-chat")


def rejected_params(model: str, endpoint: str, body: dict[str, Any]) -> list[str]:
    """The parameters of ``body`` that ``model`` would answer 400 to on ``endpoint`` (empty: it takes them)."""
    rejected = _over_output_limit(model, body)
    if provider_for_model(model) == "anthropic":
        thinking = body.get("thinking") and str(model).lower().startswith("claude-3-") \
            and not str(model).lower().startswith("claude-3-7")
        return rejected + (["thinking"] if thinking else [])
    return rejected + _openai_rejected(model, endpoint, body)


def _over_output_limit(model: str, body: dict[str, Any]) -> list[str]:
    """The output cap of ``body`` when it is above the most ``model`` can produce (data/model_limits.yaml)."""
    for key in ("max_tokens", "max_completion_tokens", "max_output_tokens"):
        cap = body.get(key)
        if isinstance(cap, int) and cap > model_output_limit(model):
            return [f"{key}={cap} (its limit is {model_output_limit(model)})"]
    return []


def _openai_rejected(model: str, endpoint: str, body: dict[str, Any]) -> list[str]:
    if endpoint not in ("chat.completions", "responses"):
        return []
    if not is_reasoning(model):
        key = "reasoning_effort" if endpoint == "chat.completions" else "reasoning"
        return [key] if body.get(key) is not None else []
    rejected = [k for k, default in _SAMPLING_DEFAULTS.items() if body.get(k) is not None and body[k] != default]
    if endpoint == "chat.completions":
        rejected += [k for k in ("max_tokens", "stop", "logprobs", "top_logprobs") if body.get(k) not in (None, False)]
    return rejected
