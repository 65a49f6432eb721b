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

from typing import Any

from .answer_cost import answer_cost  # noqa: F401 - re-exported (it lived here)

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
        from ..core.pricing import price_for
        from ..core.records import Usage
        from ..core.tokens import count_text_tokens

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
