"""Provider prompt caching: ``--prompt-cache auto`` (mark the stable prefix by the provider's current
rules) and the advisor (what to reorder).

Anthropic: the native automatic mode (a top-level ``cache_control``) puts the breakpoint on the last
block and moves it forward turn by turn, which is what a conversation needs; but on a request whose
newest message is new every time, that breakpoint includes the question and its entry is never read.
So ``auto`` uses the automatic mode for conversations (an assistant turn before the newest message)
and adds an explicit breakpoint at the end of tools + system (shared by every conversation), or at the
end of the stable part of a single-turn request (a long document before the question). OpenAI caches
automatically; from GPT-5.6 its implicit breakpoint sits on the newest message too, so ``auto`` adds
one explicit ``prompt_cache_breakpoint`` at the end of the stable prefix. Only prefixes that reach the
model's minimum are marked; requests already carrying breakpoints are left as written. The ledger
``note`` says which mode and which blocks.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Sequence
from typing import Any

from ..core.messages import tr
from ..core.pricing import UnknownModelError, price_for
from ..core.prompt_blocks import prompt_blocks, stable_end
from ..core.provider_rules import min_cached_tokens, openai_has_breakpoints
from ..core.tokens import count_text_tokens, provider_for_model

_EPHEMERAL = {"type": "ephemeral"}
_EXPLICIT = {"mode": "explicit"}
_OPENAI_MARKABLE = ("text", "image_url", "input_audio", "file")  # the content parts with prompt_cache_breakpoint
_ANTHROPIC_UNMARKABLE = ("thinking", "redacted_thinking")  # cache_control on these is a 400


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)


def _mark(body: dict[str, Any], label: str, key: str, marker: dict[str, Any]) -> None:
    """Put ``marker`` under ``key`` on the block ``label`` names (a string content becomes one text block)."""
    head, _, part = label.partition("].")
    if label.startswith("tools["):
        body["tools"][int(label[6:-1])][key] = dict(marker)
        return
    if label.startswith("system"):
        if isinstance(body["system"], str):
            body["system"] = [{"type": "text", "text": body["system"]}]
        body["system"][int(label[7:-1]) if "[" in label else 0][key] = dict(marker)
        return
    message = body["messages"][int(head.split("[")[1])]
    if isinstance(message.get("content"), str):
        message["content"] = [{"type": "text", "text": message["content"]}]
    index = int(part.split("[")[1][:-1]) if "[" in part else 0
    message["content"][index][key] = dict(marker)


_REACHED: dict[tuple[bytes, str, int], bool] = {}  # prefix digest, model, minimum -> long enough to cache
_REACHED_MAX = 4096


def _reaches(text: str, model: str, minimum: int) -> bool:
    """Whether ``text`` has ``minimum`` tokens or more. Remembered by digest: a stable prefix is counted once,
    not on every call (counting a 3,000-token prompt took ~1 ms each time)."""
    if len(text) < minimum:  # every token is at least one character
        return False
    key = (hashlib.blake2b(text.encode(), digest_size=16).digest(), model, minimum)
    reached = _REACHED.get(key)
    if reached is None:
        if len(_REACHED) >= _REACHED_MAX:
            _REACHED.clear()
        reached = _REACHED[key] = count_text_tokens(text, model) >= minimum
    return reached


def _has_marker(value: Any) -> bool:
    """Whether the request carries a breakpoint of its own (a marker key at any depth; not the word in a text)."""
    if isinstance(value, dict):
        return "cache_control" in value or "prompt_cache_breakpoint" in value or any(map(_has_marker, value.values()))
    return isinstance(value, list) and any(map(_has_marker, value))


def _markable(body: dict[str, Any], label: str, provider: str) -> bool:
    """Whether the API accepts a marker on the block ``label`` names: not on an assistant turn without
    content (only tool calls), a refusal or thinking part, or an empty text."""
    if label.startswith("tools["):
        return provider == "anthropic"  # OpenAI tools have no prompt_cache_breakpoint
    if label == "instructions":  # a top-level string: no block to mark
        return False
    head, _, part = label.partition("].")
    if label.startswith("system"):
        content: Any = body["system"]
        index = int(label[7:-1]) if "[" in label else None
    else:
        content = body["messages"][int(head.split("[")[1])].get("content")
        index = int(part.split("[")[1][:-1]) if "[" in part else None
    if index is None:
        return isinstance(content, str) and bool(content)
    block = content[index]
    if not isinstance(block, dict) or (block.get("type") == "text" and not block.get("text")):
        return False
    return block.get("type") in _OPENAI_MARKABLE if provider == "openai" else block.get("type") not in _ANTHROPIC_UNMARKABLE


def place_breakpoints(body: dict[str, Any], model: str, provider: str = "anthropic") -> tuple[dict[str, Any], str]:
    """A copy of ``body`` marked for prompt caching, and a note saying how (``""``: left as it was)."""
    if _has_marker(body):
        return body, ""
    if provider == "openai" and not (openai_has_breakpoints(model) and isinstance(body.get("messages"), list)):
        return body, ""  # before GPT-5.6: cached in 128-token steps, nothing to mark (Responses: left as written)
    blocks = prompt_blocks(provider, body)
    kinds, labels = [b.kind for b in blocks], [b.label for b in blocks]
    minimum = min_cached_tokens(provider, model)

    reached: list[int] = []  # blocks whose prefix reached the minimum: a longer prefix does too

    def reaches(i: int) -> bool:
        if i < 0:
            return False
        if any(j <= i for j in reached) or _reaches("".join(b.text for b in blocks[: i + 1]), model, minimum):
            reached.append(i)
            return True
        return False

    end = stable_end(kinds)
    while end >= 0 and not _markable(body, labels[end], provider):
        end -= 1  # e.g. the assistant turn that only called a tool: the breakpoint goes on the block before it
    out = copy.deepcopy(body)
    if provider == "openai":
        if not reaches(end):
            return body, ""
        _mark(out, labels[end], "prompt_cache_breakpoint", _EXPLICIT)
        return out, f"prompt-cache: explicit breakpoint on {labels[end]} (GPT-5.6's implicit one sits on the newest message)"
    head = max((i for i, kind in enumerate(kinds) if kind in ("tools", "system") and _markable(body, labels[i], provider)),
               default=-1)
    conversation = "assistant" in kinds[head + 1: end + 1]
    notes = []
    if reaches(head):
        _mark(out, labels[head], "cache_control", _EPHEMERAL)
        notes.append(f"breakpoint on {labels[head]} (shared by every conversation)")
    if conversation and reaches(len(blocks) - 1):
        out["cache_control"] = dict(_EPHEMERAL)
        notes.insert(0, "automatic (top-level cache_control: the breakpoint follows the conversation)")
    elif end > head and reaches(end):
        _mark(out, labels[end], "cache_control", _EPHEMERAL)
        notes.append(f"breakpoint on {labels[end]} (automatic mode would include the question, new every call)")
    return (out, "prompt-cache: " + " + ".join(notes)) if notes else (body, "")


def _without_breakpoints(item: Any) -> Any:
    if not (isinstance(item, dict) and isinstance(item.get("content"), list)):
        return item
    parts = [{k: v for k, v in p.items() if k != "prompt_cache_breakpoint"} if isinstance(p, dict) else p for p in item["content"]]
    return {**item, "content": parts}


def fit_to_model(body: dict[str, Any], model: str, provider: str) -> dict[str, Any]:
    """``body`` for the ``model`` a router or cascade chose: without GPT-5.6's cache fields
    (``prompt_cache_breakpoint``, ``prompt_cache_options``) when that model is older and would reject them, and
    without ``prompt_cache_retention="in_memory"`` on GPT-5.6 and later, which accept only ``"24h"``."""
    if provider != "openai":
        return body
    if openai_has_breakpoints(model):
        in_memory = body.get("prompt_cache_retention") == "in_memory"
        return {k: v for k, v in body.items() if k != "prompt_cache_retention"} if in_memory else body
    if not (_has_marker(body) or "prompt_cache_options" in body):
        return body
    out = {k: v for k, v in body.items() if k != "prompt_cache_options"}
    for key in ("messages", "input"):
        if isinstance(out.get(key), list):
            out[key] = [_without_breakpoints(item) for item in out[key]]
    return out


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
        raise ValueError(tr("No requests to advise on: run a metered cell first."))
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
    minimum = min_cached_tokens(provider_for_model(model), model)
    try:
        rates = price_for(model).rates
        per_token = rates.input - rates.cache_read
    except UnknownModelError:
        per_token = 0.0
    reuses = max(len(bodies) - 1, 0)
    advice = []
    if movable_tokens >= 50:
        advice.append(tr("~{tokens:,} tokens every request repeats come after something that varies: move the varying "
                         "part (a date, a name, the question) after them to make them cacheable.", tokens=movable_tokens))
    if prefix_tokens + movable_tokens < minimum:
        advice.append(tr("The shared prefix (~{tokens:,} tokens) is below the {minimum:,}-token minimum {model} caches: "
                         "caching cannot help these requests.", tokens=prefix_tokens + movable_tokens, minimum=minimum,
                         model=model))
    if not advice:
        advice.append(tr("The stable part already comes first: nothing to reorder."))
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
