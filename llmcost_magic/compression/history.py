"""Conversation history: keep the last N turns, keep within a token budget, or summarize older turns
with a cheap model (a metered call whose cost is set against what it saves on the next turns).

A turn starts at a user message and holds the replies and tool results that follow it, so a tool
call is never separated from its result. System messages at the start are always kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..core.pricing import estimate_cost, price_usage
from ..core.records import Usage
from ..core.tokens import count_tokens
from .base import CompressionError

Message = dict[str, Any]
SUMMARY_INSTRUCTION = ("Summarize the conversation so far for the assistant that continues it. Keep every fact "
                       "the user gave (names, numbers, dates, orders, preferences) and every decision made; "
                       "drop greetings and small talk.")


def split_turns(messages: Sequence[Message]) -> tuple[list[Message], list[list[Message]]]:
    """(leading system messages, turns)."""
    head: list[Message] = []
    turns: list[list[Message]] = []
    for message in messages:
        role = message.get("role")
        if not turns and role in ("system", "developer"):
            head.append(message)
        elif role == "user" and not _is_tool_result(message) or not turns:
            turns.append([message])
        else:
            turns[-1].append(message)
    return head, turns


def keep_last_turns(messages: Sequence[Message], turns: int) -> list[Message]:
    """The system messages and the last ``turns`` turns."""
    if turns < 1:
        raise CompressionError(f"window: keep at least one turn (got {turns})")
    head, all_turns = split_turns(messages)
    return head + [m for turn in all_turns[-turns:] for m in turn]


def keep_within_budget(messages: Sequence[Message], budget_tokens: int, model: str = "gpt-4o") -> list[Message]:
    """The system messages and as many of the latest turns as fit ``budget_tokens`` (the last turn
    always stays, even when it alone is over the budget)."""
    if budget_tokens < 1:
        raise CompressionError(f"budget: the token budget must be at least 1 (got {budget_tokens})")
    head, all_turns = split_turns(messages)
    kept: list[list[Message]] = []
    for turn in reversed(all_turns):
        candidate = head + [m for t in [turn, *reversed(kept)] for m in t]
        if kept and count_tokens(candidate, model=model) > budget_tokens:
            break
        kept.append(turn)
    return head + [m for turn in reversed(kept) for m in turn]


@dataclass
class HistorySummary:
    """Older turns replaced by a summary. ``summary_cost_usd`` is what the summarizing call cost;
    ``saved_per_turn_usd`` what every later turn saves on input at ``chat_model``'s plain input rate:
    an upper bound where the provider would have served those turns from its prompt cache (a cached
    read costs 10-50% of the plain rate; notebook 03 measures the difference)."""

    messages: list[Message]
    summary: str
    summary_cost_usd: float
    tokens_before: int
    tokens_after: int
    chat_model: str

    @property
    def saved_per_turn_usd(self) -> float:
        return input_dollars_saved(self.chat_model, self.tokens_before, self.tokens_after)

    @property
    def break_even_turns(self) -> float:
        """Later turns needed before the summary has paid for itself."""
        saved = self.saved_per_turn_usd
        return self.summary_cost_usd / saved if saved > 0 else float("inf")


def summarize_history(messages: Sequence[Message], client: Any, *, summary_model: str, chat_model: str,
                      keep_last: int = 2, max_summary_tokens: int = 300) -> HistorySummary:
    """Replace all but the last ``keep_last`` turns by a summary written by ``summary_model`` through
    ``client`` (an OpenAI or Anthropic SDK client: the call is metered like any other)."""
    head, turns = split_turns(messages)
    tokens_before = count_tokens(list(messages), model=chat_model)
    if len(turns) <= keep_last:
        return HistorySummary(list(messages), "", 0.0, tokens_before, tokens_before, chat_model)
    older = [m for turn in turns[:-keep_last] for m in turn]
    transcript = "\n".join(f"{m.get('role')}: {_text(m.get('content'))}" for m in older)
    anthropic = type(client).__module__.startswith("anthropic")
    if anthropic:
        response = client.messages.create(model=summary_model, max_tokens=max_summary_tokens, system=SUMMARY_INSTRUCTION,
                                          messages=[{"role": "user", "content": transcript}])
        summary = "".join(b.text for b in response.content if getattr(b, "type", "") == "text")
        read = getattr(response.usage, "cache_read_input_tokens", 0) or 0
        written = getattr(response.usage, "cache_creation_input_tokens", 0) or 0
        usage = Usage(input_tokens=response.usage.input_tokens + read + written, cached_input_tokens=read,
                      cache_write_tokens=written, output_tokens=response.usage.output_tokens)
    else:
        response = client.chat.completions.create(
            model=summary_model, max_tokens=max_summary_tokens,
            messages=[{"role": "system", "content": SUMMARY_INSTRUCTION}, {"role": "user", "content": transcript}])
        summary = response.choices[0].message.content or ""
        details = getattr(response.usage, "prompt_tokens_details", None)
        usage = Usage(input_tokens=response.usage.prompt_tokens, cached_input_tokens=getattr(details, "cached_tokens", 0) or 0,
                      output_tokens=response.usage.completion_tokens)
    note = f"Summary of the earlier conversation: {summary}"
    if anthropic or not head:  # keep user/assistant alternation where the API needs it
        summary_messages = [{"role": "user", "content": note}, {"role": "assistant", "content": "Understood."}]
    else:
        summary_messages = [{"role": "system", "content": note}]
    new = head + summary_messages + [m for turn in turns[-keep_last:] for m in turn]
    cost = price_usage(summary_model, usage).usd or 0.0
    return HistorySummary(new, summary, cost, tokens_before, count_tokens(new, model=chat_model), chat_model)


def input_dollars_saved(model: str, tokens_before: int, tokens_after: int) -> float:
    """What sending ``tokens_after`` input tokens instead of ``tokens_before`` saves on ``model``, at its
    plain input rate (each side priced in its own long-context tier)."""
    return estimate_cost(model, tokens_before, 0) - estimate_cost(model, tokens_after, 0)


def _is_tool_result(message: Message) -> bool:
    content = message.get("content")
    return isinstance(content, list) and bool(content) and all(
        isinstance(b, dict) and b.get("type") == "tool_result" for b in content)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(b.get("text", "") for b in content if isinstance(b, dict))
    return ""
