"""An optional verifier for the semantic cache: a cheap model asked whether two questions ask the same thing.

It is asked only about pairs that pass every rule of the guard but fall a little short of the similarity
they need, and only when its worst-case cost is below what the cached answer would save. Its calls go
through the user's own SDK client inside a meter tagged ``semantic-cache-verifier``, so they are in the
ledger with their cost (and are simulated, like everything else, in a dry run).

>>> from llmcost_magic.metering import Meter                                        # doctest: +SKIP
>>> from llmcost_magic.session import response_cache
>>> verifier = LLMVerifier(OpenAI(), "gpt-4o-mini")
>>> with Meter(cache=response_cache("semantic", verifier=verifier)): ...
"""

from __future__ import annotations

import json
from typing import Any

from ..stores import CacheEntry

TAG = "semantic-cache-verifier"
_PROMPT = ("Do these two questions ask for the same information, so that one answer serves both? "
           "Reply with one word: yes or no.\n\nQuestion 1: {a}\nQuestion 2: {b}")


class LLMVerifier:
    """``verifier(a, b, dry_run=False) -> bool`` through an OpenAI or Anthropic client."""

    def __init__(self, client: Any, model: str = "gpt-4o-mini") -> None:
        self.client, self.model = client, model
        self.calls = 0

    def prompt(self, a: str, b: str) -> str:
        return _PROMPT.format(a=a, b=b)

    def cost_usd(self, a: str, b: str) -> float:
        """The worst case of one question: the prompt's tokens in, one token out (plus message overhead)."""
        from ..pricing import price_for
        from ..records import Usage
        from ..tokens import count_text_tokens

        tokens = count_text_tokens(self.prompt(a, b), self.model) + 12
        return price_for(self.model).cost(Usage(input_tokens=tokens, output_tokens=1)).usd or 0.0

    def __call__(self, a: str, b: str, *, dry_run: bool = False) -> bool:
        from ..metering import meter

        self.calls += 1
        messages = [{"role": "user", "content": self.prompt(a, b)}]
        with meter(tag=TAG, dry_run=dry_run):
            if hasattr(self.client, "chat"):
                reply = self.client.chat.completions.create(model=self.model, messages=messages, max_tokens=1, temperature=0)
                text = reply.choices[0].message.content or ""
            else:
                reply = self.client.messages.create(model=self.model, messages=messages, max_tokens=1)
                text = "".join(getattr(block, "text", "") for block in reply.content)
        return text.strip().lower().startswith("yes")


def answer_cost(entry: CacheEntry) -> float | None:
    """What serving ``entry`` saves: its stored answer's usage at the model's price (None when unknown)."""
    from ..intercept import anthropic_protocol, openai_protocol
    from ..pricing import price_usage

    adapter = anthropic_protocol if entry.provider == anthropic_protocol.PROVIDER else openai_protocol
    try:
        if entry.content_type.startswith("text/event-stream"):
            payloads = [line[5:].strip() for line in entry.body.splitlines() if line.startswith(b"data:")]
            parsed = adapter.from_events(entry.endpoint, [p for p in payloads if p])
        else:
            parsed = adapter.from_body(entry.endpoint, json.loads(entry.body))
        if parsed.usage is None:
            return None
        return price_usage(parsed.model or entry.model, parsed.usage).usd
    except Exception:  # noqa: BLE001 - an answer we cannot price is not worth a verifier call
        return None
