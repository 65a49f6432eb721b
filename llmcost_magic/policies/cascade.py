"""The cascade: try the cheapest tier first and escalate while a check fails.

Checks, in order (``why_escalate``): the answer is empty, a refusal, truncated (max_tokens), fails the user's
validator (returns False or raises), or states a confidence below ``min_confidence``. An answer that calls a
tool is accepted: it has no text to check. A 400/404 from a tier that is not the last also escalates (the
pipeline's ``ESCALATE_ON_STATUS``). The cascade asks for a stated confidence (one added instruction, so
answers end with "Confidence: 0.NN"). Every attempt is metered and recorded; the cell's cost includes the
failed ones. Streamed calls are not cascaded.

The transports send the attempts (``intercept.pipeline.cascade_plan`` / ``cascade_step``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


CONFIDENCE_INSTRUCTION = "After your answer, state your confidence on its own line as 'Confidence: 0.NN'."
_CONFIDENCE = re.compile(r"Confidence:\s*([01](?:\.\d+)?)", re.I)
_TOOL_CALL_FINISHES = ("tool_calls", "function_call", "tool_use")
_REFUSAL = re.compile(r"^\s*(I can(?:no|')t|I'm sorry, but|I am unable|I won't)", re.I)


@dataclass(frozen=True)
class CascadeSettings:
    """``validator``: a check on the answer (see validators.py: numeric_answer, json_parses, matches,
    passes, all_of). ``router``: a prompt-only router (e.g. ``ProbeRouter``); the requests it sends to
    the largest tier go there directly, without the cheap attempts."""

    validator: Callable[[str], Any] | None = None
    min_confidence: float = 0.7
    ask_confidence: bool = True
    router: Any = None


def tiers_to_try(settings: CascadeSettings, call: Any, tiers: Any) -> list[str]:
    """The tiers the cascade tries, cheapest first: all of them, or only the largest when the
    prompt-only router already sends the request there."""
    names = tiers.names
    if settings.router is not None and settings.router.decide(call, tiers).tier == names[-1]:
        return names[-1:]
    return names


def answer_text(provider: str, body: dict[str, Any]) -> tuple[str, str | None]:
    """(text, finish reason) of a non-streamed answer."""
    if provider == "anthropic":
        text = "".join(b.get("text", "") for b in body.get("content") or () if b.get("type") == "text")
        return text, body.get("stop_reason")
    choice = (body.get("choices") or [{}])[0]
    return (choice.get("message") or {}).get("content") or "", choice.get("finish_reason")


def why_escalate(text: str, finish: str | None, settings: CascadeSettings) -> str | None:
    """The failed check, or None when the answer is accepted (a tool call has no text to check: accepted)."""
    if finish in _TOOL_CALL_FINISHES:
        return None
    if not text.strip():
        return "empty answer"
    if _REFUSAL.match(text):
        return "refusal"
    if finish in ("length", "max_tokens"):
        return "truncated"
    if settings.validator is not None:
        try:
            if settings.validator(text) is False:
                return "validator said no"
        except Exception as exc:  # noqa: BLE001 - a validator that raises is a failed check
            return f"validator raised {type(exc).__name__}"
    m = _CONFIDENCE.search(text)
    if m and float(m.group(1)) < settings.min_confidence:
        return f"stated confidence {float(m.group(1)):.2f} < {settings.min_confidence}"
    return None


def with_confidence(provider: str, body: dict[str, Any]) -> dict[str, Any]:
    """The body with the instruction to state a confidence."""
    if provider == "anthropic":
        system = body.get("system")
        return {**body, "system": f"{system}\n\n{CONFIDENCE_INSTRUCTION}" if isinstance(system, str) else
                [*(system or []), {"type": "text", "text": CONFIDENCE_INSTRUCTION}]}
    return {**body, "messages": [*(body.get("messages") or []), {"role": "system", "content": CONFIDENCE_INSTRUCTION}]}
