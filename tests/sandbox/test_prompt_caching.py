"""Provider prompt caching by the published rules, against a clock the test moves."""

from __future__ import annotations

import anthropic
import pytest

from llmcost_magic.sandbox import ManualClock, Sandbox, client
from llmcost_magic.tokens import count_tokens

LONG = "Our refund policy: " + " ".join(f"rule {i} says customers may return item class {i} within {i % 30 + 1} days." for i in range(200))


@pytest.fixture
def clocked():
    clock = ManualClock()
    sandbox = Sandbox(clock=clock)
    return clock, client("openai", sandbox=sandbox), client("anthropic", sandbox=sandbox, max_retries=0)


def _ask(oc, system: str, question: str = "Can I return a phone?"):
    return oc.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "system", "content": system}, {"role": "user", "content": question}])


def test_openai_caches_prompts_of_1024_tokens_in_128_token_steps(clocked):
    clock, oc, _ = clocked
    assert _ask(oc, "Short system prompt.").usage.prompt_tokens_details.cached_tokens == 0
    assert _ask(oc, "Short system prompt.").usage.prompt_tokens_details.cached_tokens == 0  # under 1,024: never
    first = _ask(oc, LONG)
    second = _ask(oc, LONG, "Another question about refunds?")
    assert first.usage.prompt_tokens > 1024 and first.usage.prompt_tokens_details.cached_tokens == 0
    cached = second.usage.prompt_tokens_details.cached_tokens
    assert cached >= 1024 and cached % 128 == 0 and cached <= second.usage.prompt_tokens
    clock.advance(601)
    assert _ask(oc, LONG).usage.prompt_tokens_details.cached_tokens == 0  # expired after 10 minutes unused


def _system(ttl: str | None = None):
    control = {"type": "ephemeral", **({"ttl": ttl} if ttl else {})}
    return [{"type": "text", "text": LONG, "cache_control": control}]


def _msg(ac, system, model="claude-sonnet-4-6"):
    return ac.messages.create(model=model, max_tokens=50, system=system, messages=[{"role": "user", "content": "Can I return a phone?"}])


def test_anthropic_writes_then_reads_and_input_tokens_exclude_both(clocked):
    _, _, ac = clocked
    total = count_tokens([{"role": "user", "content": "Can I return a phone?"}], model="claude-sonnet-4-6", system=_system())
    first, second = _msg(ac, _system()), _msg(ac, _system())
    assert first.usage.cache_creation_input_tokens > 1024 and first.usage.cache_read_input_tokens == 0
    assert first.usage.cache_creation.ephemeral_5m_input_tokens == first.usage.cache_creation_input_tokens
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert second.usage.input_tokens + second.usage.cache_read_input_tokens == total
    assert first.usage.input_tokens + first.usage.cache_creation_input_tokens == total


def test_anthropic_minimum_length_depends_on_the_model(clocked):
    _, _, ac = clocked
    short = [{"type": "text", "text": "Be brief. " * 300, "cache_control": {"type": "ephemeral"}}]  # ~1,000-1,500 tokens
    assert _msg(ac, short, "claude-haiku-4-5").usage.cache_creation_input_tokens == 0  # haiku 4.5 needs 4,096
    medium = [{"type": "text", "text": "Be brief. " * 600, "cache_control": {"type": "ephemeral"}}]
    assert _msg(ac, medium, "claude-sonnet-4-6").usage.cache_creation_input_tokens > 0  # sonnet needs 1,024


def test_anthropic_ttls_five_minutes_refreshed_by_reads_and_one_hour(clocked):
    clock, _, ac = clocked
    _msg(ac, _system())
    clock.advance(200)
    assert _msg(ac, _system()).usage.cache_read_input_tokens > 0  # a read refreshes the 5 minutes
    clock.advance(200)
    assert _msg(ac, _system()).usage.cache_read_input_tokens > 0
    clock.advance(301)
    assert _msg(ac, _system()).usage.cache_read_input_tokens == 0  # expired
    hour = _system("1h")
    hour[0]["text"] += " (hourly)"
    written = _msg(ac, hour).usage
    assert written.cache_creation.ephemeral_1h_input_tokens == written.cache_creation_input_tokens > 0
    clock.advance(3000)
    assert _msg(ac, hour).usage.cache_read_input_tokens > 0


def test_anthropic_rejects_a_fifth_breakpoint(clocked):
    _, _, ac = clocked
    blocks = [{"type": "text", "text": f"part {i} " * 50, "cache_control": {"type": "ephemeral"}} for i in range(5)]
    with pytest.raises(anthropic.BadRequestError, match="maximum of 4"):
        _msg(ac, blocks)
