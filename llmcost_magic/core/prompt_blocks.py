"""A request's prompt as the providers' caches see it: content blocks in prefix order, each with its
cache breakpoint (if any), and fingerprints of the prefix at every block boundary.

Anthropic orders the prefix tools -> system -> messages; OpenAI tools -> messages (chat) or
tools -> instructions -> input (Responses). The sandbox simulates caching on these blocks and the
prompt-cache doctor compares them, so "block K" means the same thing to both. Fingerprints are
hashes of the prefix, never its text: they may be kept; the text may not.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

__all__ = ["Block", "prompt_blocks", "prefix_hashes", "stable_end"]


@dataclass(frozen=True, slots=True)
class Block:
    """One content block: where it sits (``kind``: tools, system or a message role; ``label``: e.g.
    ``system[0]``, ``messages[2].user``), its text, and the TTL of its breakpoint (None: not one)."""

    kind: str
    label: str
    text: str
    breakpoint: str | None = None


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _marker(block: Any, provider: str, default_ttl: str) -> str | None:
    if not isinstance(block, dict):
        return None
    if provider == "anthropic":
        control = block.get("cache_control")
        return (control.get("ttl") or "5m") if isinstance(control, dict) else None
    marker = block.get("prompt_cache_breakpoint")
    return (marker.get("ttl") or default_ttl) if isinstance(marker, dict) else None


def _strip(block: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in block.items() if k not in ("cache_control", "prompt_cache_breakpoint")}


def _content_blocks(kind: str, label: str, content: Any, provider: str, default_ttl: str, out: list[Block]) -> None:
    if isinstance(content, str) or content is None:
        out.append(Block(kind, label, f"\n{kind}: {content or ''}"))
        return
    for i, part in enumerate(content if isinstance(content, list) else [content]):
        text = part.get("text") if isinstance(part, dict) else str(part)
        if text is None:
            text = _dump(_strip(part))
        out.append(Block(kind, f"{label}[{i}]", f"\n{kind}: {text}", _marker(part, provider, default_ttl)))


def prompt_blocks(provider: str, body: dict[str, Any]) -> list[Block]:
    """The request's content blocks in cache-prefix order.

    >>> [b.label for b in prompt_blocks("anthropic", {"system": "Be brief.", "messages": [{"role": "user", "content": "hi"}]})]
    ['system', 'messages[0].user']
    """
    out: list[Block] = []
    default_ttl = str((body.get("prompt_cache_options") or {}).get("ttl") or "30m")
    for i, tool in enumerate(body.get("tools") or ()):
        if isinstance(tool, dict):
            out.append(Block("tools", f"tools[{i}]", _dump(_strip(tool)), _marker(tool, provider, default_ttl)))
    system = body.get("system")
    if isinstance(system, str):
        out.append(Block("system", "system", system))
    elif isinstance(system, list):
        for i, block in enumerate(system):
            text = block.get("text", "") if isinstance(block, dict) else str(block)
            out.append(Block("system", f"system[{i}]", text, _marker(block, provider, default_ttl)))
    if isinstance(body.get("instructions"), str):
        out.append(Block("system", "instructions", body["instructions"]))
    messages = body.get("messages")
    if messages is None:
        inp = body.get("input")
        messages = [{"role": "user", "content": inp}] if isinstance(inp, str) else inp
    for i, message in enumerate(messages or ()):
        if not isinstance(message, dict):
            continue
        role = str(message.get("role") or message.get("type") or "item")
        kind = "system" if role in ("system", "developer") else role
        content = message.get("content") if "content" in message else _dump(_strip(message))
        _content_blocks(kind, f"messages[{i}].{role}", content, provider, default_ttl, out)
    return out


def prefix_hashes(model: str, blocks: list[Block]) -> list[str]:
    """For each block boundary, a hash of the model and the prompt up to and including that block."""
    digest = hashlib.sha256(model.encode())
    hashes = []
    for block in blocks:
        digest.update(b"\x1f" + block.text.encode())
        hashes.append(digest.copy().hexdigest()[:24])
    return hashes


def stable_end(kinds: list[str]) -> int:
    """Index of the last block of the part meant to repeat: the block before the newest user/tool block
    (the previous message, or a document before the question in the same message; a prefilled assistant
    turn after the question does not move it)."""
    if not kinds:
        return -1
    return max((i for i, kind in enumerate(kinds) if kind in ("user", "tool")), default=len(kinds) - 1) - 1
