"""The compression playground widget: it renders, recomputes as the slider moves, shows what was removed."""

from __future__ import annotations

from llmcost_magic.widgets.compression_playground import CompressionPlayground

PROMPT = ("You are a helpful support assistant for Acme Cloud. Please always make sure that you answer every "
          "single question politely. Refunds take 5 to 7 business days after the billing team approves them. "
          "The Premium Plan costs $29 per month.")


def test_playground_renders_and_follows_the_slider():
    pg = CompressionPlayground(PROMPT, rate=0.7)
    first = pg.last
    assert "line-through" in pg.output.value and "saved per 1,000 calls" in pg.stats.value
    assert "$29" in pg.output.value and "numbers kept" in pg.stats.value
    pg.rate.value = 0.3
    assert pg.last.tokens_after < first.tokens_after  # recomputed on the move
    assert pg.rate.continuous_update
    pg.rate.value = 0.7
    assert pg.last is first and pg.last_seconds < 0.01  # memoised: moving back is instant


def test_playground_methods_errors_and_empty_prompt():
    pg = CompressionPlayground(PROMPT)
    pg.method.value = "format"
    assert pg.rate.disabled and "no-op" in pg.stats.value
    pg.method.value = "fewshot"
    assert "needs the question" in pg.stats.value and pg.output.value == ""
    pg.method.value = "llmlingua2"
    assert not pg.rate.continuous_update  # slow methods recompute on release
    assert "LLMCOST_LLMLINGUA2_MODEL" in pg.stats.value  # no model here: the fix is shown, nothing raised
    pg.prompt.value = "  "
    assert "Paste a prompt" in pg.stats.value
