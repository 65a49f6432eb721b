"""Provider prompt caching by the published rules, against a clock the test moves."""

from __future__ import annotations

import anthropic
import openai
import pytest

from llmcost_magic.sandbox import ManualClock, Sandbox, client
from llmcost_magic.core.tokens import count_tokens

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


# -- the 2026 rules: Anthropic automatic caching and cache_miss_reason; OpenAI GPT-5.6 breakpoints --------------


def test_anthropic_automatic_caching_moves_the_breakpoint_forward(clocked):
    _, _, ac = clocked
    messages = [{"role": "user", "content": "Can I return a phone?"}]
    first = ac.messages.create(model="claude-sonnet-4-6", max_tokens=50, system=LONG, cache_control={"type": "ephemeral"},
                               messages=messages)
    assert first.usage.cache_creation_input_tokens > 1024 and first.usage.cache_read_input_tokens == 0
    messages += [{"role": "assistant", "content": first.content[0].text}, {"role": "user", "content": "And a laptop?"}]
    second = ac.messages.create(model="claude-sonnet-4-6", max_tokens=50, system=LONG, cache_control={"type": "ephemeral"},
                                messages=messages)
    # the previous turn's breakpoint is a block boundary of this request (within 20 blocks): read, then write the rest
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert 0 < second.usage.cache_creation_input_tokens < 200
    # automatic + 4 explicit breakpoints = 5: the API refuses
    blocks = [{"type": "text", "text": f"part {i} " * 50, "cache_control": {"type": "ephemeral"}} for i in range(4)]
    with pytest.raises(anthropic.BadRequestError, match="maximum of 4"):
        ac.messages.create(model="claude-sonnet-4-6", max_tokens=50, system=blocks, cache_control={"type": "ephemeral"},
                           messages=[{"role": "user", "content": "hi"}])


def test_automatic_caching_alone_misses_a_stable_system_prompt_with_new_questions(clocked):
    _, _, ac = clocked
    for question in ("Can I return a phone?", "Can I return shoes?"):
        usage = ac.messages.create(model="claude-sonnet-4-6", max_tokens=50, system=LONG, cache_control={"type": "ephemeral"},
                                   messages=[{"role": "user", "content": question}]).usage
    assert usage.cache_read_input_tokens == 0 and usage.cache_creation_input_tokens > 1024  # writes every time


def test_anthropic_reports_cache_miss_reason_when_asked(clocked):
    _, _, ac = clocked
    tools = [{"name": "lookup", "description": "Find an order", "input_schema": {"type": "object"}},
             {"name": "refund", "description": "Refund an order", "input_schema": {"type": "object"}}]

    def ask(previous, **changes):
        kwargs = {"model": "claude-sonnet-4-6", "system": _system(), "tools": tools,
                  "messages": [{"role": "user", "content": "Can I return a phone?"}], **changes}
        return ac.messages.create(max_tokens=50, diagnostics={"previous_message_id": previous}, **kwargs)

    first = ask(None)
    assert first.diagnostics is None  # the first turn opts in: nothing to compare
    assert ask(first.id).diagnostics is None  # same prefix: no divergence
    assert ask(first.id, tools=tools[::-1]).diagnostics.cache_miss_reason.type == "tools_changed"
    changed = ask(first.id, system=[{**_system()[0], "text": "Today is Monday.\n" + LONG}]).diagnostics.cache_miss_reason
    assert changed.type == "system_changed" and changed.cache_missed_input_tokens > 1024
    assert ask(first.id, model="claude-opus-4-1").diagnostics.cache_miss_reason.type == "model_changed"
    edited = ask(first.id, messages=[{"role": "user", "content": "Can I return a laptop?"}])
    assert edited.diagnostics.cache_miss_reason.type == "messages_changed"
    assert ask("msg_unknown").diagnostics.cache_miss_reason.type == "previous_message_not_found"


def _gpt56(oc, system, question="Can I return a phone?", **kwargs):
    return oc.chat.completions.create(model="gpt-5.6", messages=[system, {"role": "user", "content": question}], **kwargs)


def test_gpt56_implicit_breakpoint_sits_after_the_question(clocked):
    _, oc, _ = clocked
    system = {"role": "system", "content": LONG}
    first = _gpt56(oc, system).usage.prompt_tokens_details
    assert first.cached_tokens == 0 and first.cache_write_tokens > 1024  # the implicit breakpoint writes it all
    again = _gpt56(oc, system, "Another question about refunds?").usage.prompt_tokens_details
    assert again.cached_tokens == 0 and again.cache_write_tokens > 1024  # new question: nothing to read, written again
    same = _gpt56(oc, system).usage.prompt_tokens_details
    assert same.cached_tokens > 1024 and same.cached_tokens % 128 != 0  # no 128-token rounding from GPT-5.6 on


def test_gpt56_explicit_breakpoint_on_the_stable_prefix_is_read(clocked):
    clock, oc, _ = clocked
    marked = {"role": "system", "content": [{"type": "text", "text": LONG, "prompt_cache_breakpoint": {"mode": "explicit"}}]}
    first = _gpt56(oc, marked).usage
    second = _gpt56(oc, marked, "Another question about refunds?").usage
    assert second.prompt_tokens_details.cached_tokens > 1024
    assert 0 < second.prompt_tokens_details.cache_write_tokens < 50  # only the new question (the implicit breakpoint)
    assert first.prompt_tokens_details.cache_write_tokens > first.prompt_tokens - 50  # everything, the first time
    clock.advance(1801)  # entries live 30 minutes
    assert _gpt56(oc, marked, "A third question?").usage.prompt_tokens_details.cached_tokens == 0
    explicit_only = _gpt56(oc, marked, "A fourth?", extra_body={"prompt_cache_options": {"mode": "explicit"}}).usage
    assert explicit_only.prompt_tokens_details.cached_tokens > 1024  # the breakpoint written just before
    with pytest.raises(openai.BadRequestError, match="24h"):
        _gpt56(oc, marked, extra_body={"prompt_cache_retention": "in_memory"})


def test_gpt56_responses_report_writes_by_ttl(clocked):
    _, oc, _ = clocked
    usage = oc.responses.create(model="gpt-5.6", instructions=LONG, input="Can I return a phone?",
                                extra_body={"prompt_cache_options": {"ttl": "12h"}}).usage
    details = usage.input_tokens_details
    assert details.cache_write_tokens > 1024 and details.cache_write_tokens_details.ttl_12h_tokens == details.cache_write_tokens


def test_older_openai_models_keep_in_memory_retention_unless_24h(clocked):
    clock, oc, _ = clocked
    system = {"role": "system", "content": LONG}
    ask = lambda **kw: oc.chat.completions.create(model="gpt-4.1-mini", messages=[system, {"role": "user", "content": "hi"}], **kw)  # noqa: E731
    ask(extra_body={"prompt_cache_retention": "24h"})
    clock.advance(3600)
    assert ask().usage.prompt_tokens_details.cached_tokens >= 1024  # the 24h entry outlives 10 minutes
    assert ask().usage.prompt_tokens_details.cache_write_tokens is None  # no writes reported before GPT-5.6
