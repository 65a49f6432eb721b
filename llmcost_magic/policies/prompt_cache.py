"""Provider prompt caching: place Anthropic cache_control breakpoints, and advise on prompt order.

``--prompt-cache auto`` puts breakpoints (at most 4, only where the prefix reaches the model's
minimum) on the stable parts of a Messages request, in prefix order: the last tool definition, the
last system block, and the conversation so far (the message before the newest user turn). Requests
that already carry ``cache_control`` are left as the user wrote them. OpenAI caches automatically;
there the advisor is what helps: stable content first, variable content last.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Sequence
from typing import Any

from ..pricing import UnknownModelError, price_for
from ..provider_rules import ANTHROPIC_MAX_BREAKPOINTS, OPENAI_MIN_CACHED_TOKENS, anthropic_min_cached_tokens
from ..tokens import count_text_tokens, provider_for_model

_EPHEMERAL = {"type": "ephemeral"}


def _has_cache_control(body: dict[str, Any]) -> bool:
    return "cache_control" in json.dumps(body)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)


def place_breakpoints(body: dict[str, Any], model: str) -> tuple[dict[str, Any], list[str]]:
    """A copy of an Anthropic Messages body with breakpoints on its stable prefix, and where they went."""
    if _has_cache_control(body):
        return body, []
    minimum = anthropic_min_cached_tokens(model)
    out = copy.deepcopy(body)
    placed: list[str] = []
    prefix = ""
    tools = out.get("tools") or []
    if tools:
        prefix += _text(tools)
        if count_text_tokens(prefix, model) >= minimum:
            tools[-1]["cache_control"] = dict(_EPHEMERAL)
            placed.append("tools")
    system = out.get("system")
    if system:
        if isinstance(system, str):
            system = out["system"] = [{"type": "text", "text": system}]
        prefix += "".join(_text(b.get("text", b)) for b in system)
        if count_text_tokens(prefix, model) >= minimum:
            system[-1]["cache_control"] = dict(_EPHEMERAL)
            placed.append("system")
    messages = out.get("messages") or []
    if len(messages) >= 3 and len(placed) < ANTHROPIC_MAX_BREAKPOINTS:
        history = messages[-2]  # the turn before the newest user message: the conversation so far
        prefix += "".join(_text(m.get("content")) for m in messages[:-1])
        if count_text_tokens(prefix, model) >= minimum:
            content = history.get("content")
            if isinstance(content, str):
                content = history["content"] = [{"type": "text", "text": content}]
            if content:
                content[-1]["cache_control"] = dict(_EPHEMERAL)
                placed.append("history")
    return (out, placed) if placed else (body, [])


def _segments(body: dict[str, Any]) -> list[str]:
    """A request as its ordered prompt parts: tools, system, then each message."""
    parts = []
    if body.get("tools"):
        parts.append("tools:" + _text(body["tools"]))
    if body.get("system"):
        parts.append("system:" + _text(body["system"]))
    if body.get("instructions"):
        parts.append("system:" + _text(body["instructions"]))
    messages = body.get("messages") or (body["input"] if isinstance(body.get("input"), list) else [])
    for message in messages:
        parts.append(f"{message.get('role')}:" + _text(message.get("content")))
    if isinstance(body.get("input"), str):
        parts.append("user:" + body["input"])
    return parts


def _common_prefix(texts: Sequence[str]) -> str:
    return os.path.commonprefix(list(texts))


def _common_suffix(texts: Sequence[str]) -> str:
    return os.path.commonprefix([t[::-1] for t in texts])[::-1]


def advise(bodies: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """How cache-friendly a set of requests to one model is, and what reordering would save.

    Finds the prompt prefix every request shares (what provider caching can reuse) and the stable
    content that comes *after* something that varies: the shared tail of the first part that varies
    (a date in front of a long policy) and any later part every request repeats. Moving that
    content to the front would make it cacheable; the saving is priced at input vs cached-read rates.
    """
    if not bodies:
        raise ValueError("No requests to advise on: run a metered cell first.")
    model = bodies[0].get("model", "gpt-4o")
    segments = [_segments(b) for b in bodies]
    prefix = _common_prefix(["".join(s) for s in segments]) if len(bodies) > 1 else ""
    late = ""
    if len(bodies) > 1:
        first_diff = 0
        while all(len(s) > first_diff for s in segments) and len({s[first_diff] for s in segments}) == 1:
            first_diff += 1
        if all(len(s) > first_diff for s in segments):
            late = _common_suffix([s[first_diff] for s in segments])
            common = set(segments[0]).intersection(*map(set, segments[1:]))
            late += "".join(p for p in segments[0][first_diff + 1:] if p in common)
    prefix_tokens = count_text_tokens(prefix, model)
    movable_tokens = count_text_tokens(late, model) if late.strip() else 0
    minimum = OPENAI_MIN_CACHED_TOKENS if provider_for_model(model) == "openai" else anthropic_min_cached_tokens(model)
    try:
        rates = price_for(model).rates
        per_token = rates.input - rates.cache_read
    except UnknownModelError:
        per_token = 0.0
    reuses = max(len(bodies) - 1, 0)
    advice = []
    if movable_tokens >= 50:
        advice.append(f"~{movable_tokens:,} tokens every request repeats come after something that varies: move the "
                      f"varying part (a date, a name, the question) after them to make them cacheable.")
    if prefix_tokens + movable_tokens < minimum:
        advice.append(f"The shared prefix (~{prefix_tokens + movable_tokens:,} tokens) is below the {minimum:,}-token "
                      f"minimum {model} caches: caching cannot help these requests.")
    if not advice:
        advice.append("The stable part already comes first: nothing to reorder.")
    return {
        "model": model,
        "requests": len(bodies),
        "shared_prefix_tokens": prefix_tokens,
        "stable_but_late_tokens": movable_tokens,
        "stable_first": movable_tokens < 50,
        "minimum_cacheable_tokens": minimum,
        "reorder_saves_usd": round(reuses * movable_tokens * per_token, 6) if prefix_tokens + movable_tokens >= minimum else 0.0,
        "advice": " ".join(advice),
    }


def advise_by_model(bodies: Sequence[dict[str, Any]]) -> Any:
    """:func:`advise` for each model in a set of requests, as a DataFrame."""
    import pandas as pd

    models: dict[str, list[dict[str, Any]]] = {}
    for body in bodies:
        models.setdefault(str(body.get("model")), []).append(body)
    return pd.DataFrame([advise(group) for group in models.values()]).set_index("model")
