"""Recorded mode: a recorded GSM8K prompt gets the real answer of the tier it was sent to, with real token counts."""

from __future__ import annotations

import pytest

import llmcost_magic
from llmcost_magic.evaluation import load_recorded
from llmcost_magic.policies.routing import load_tiers
from llmcost_magic.policies.validators import numeric_answer
from llmcost_magic.sandbox import Sandbox, client
from llmcost_magic.core.tokens import _encoding

CL100K = _encoding("cl100k_base")


@pytest.fixture(scope="module")
def items():
    data = load_recorded()
    return data[data.benchmark == "gsm8k"].head(40).to_dict("records")


@pytest.fixture(scope="module")
def recorded():
    return Sandbox(recorded=True)


def test_each_tier_gets_its_recorded_answer_with_cl100k_usage(items, recorded):
    oc, ac = client("openai", sandbox=recorded), client("anthropic", sandbox=recorded)
    item = items[0]
    strong = oc.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": item["prompt"]}])
    weak = oc.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": f"Question: {item['prompt']}\nAnswer:"}])
    claude = ac.messages.create(model="claude-opus-4-6", max_tokens=1024, messages=[{"role": "user", "content": item["prompt"]}])
    assert strong.choices[0].message.content == item["strong_response"].strip()
    assert weak.choices[0].message.content == item["weak_response"].strip()
    assert claude.content[0].text == item["strong_response"].strip()
    assert strong.usage.completion_tokens == len(CL100K.encode_ordinary(item["strong_response"].strip()))
    cut = oc.chat.completions.create(model="gpt-4o-mini", max_tokens=5, messages=[{"role": "user", "content": item["prompt"]}])
    assert cut.choices[0].finish_reason == "length" and cut.usage.completion_tokens == 5


def test_an_unrecorded_prompt_still_gets_a_simulated_answer(recorded):
    text = client("openai", sandbox=recorded).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "How do I reset my password?"}]).choices[0].message.content
    assert text.startswith("To reset your password")


def test_the_default_sandbox_does_not_replay(items):
    text = client("openai", sandbox=Sandbox()).chat.completions.create(
        model="gpt-4.1", messages=[{"role": "user", "content": items[0]["prompt"]}]).choices[0].message.content
    assert text != items[0]["strong_response"].strip()


def test_a_cascade_with_a_numeric_validator_replays_through_the_real_sdk(items, recorded):
    tiers = load_tiers({"tiers": {"small": {"openai": "gpt-4o-mini"}, "large": {"openai": "gpt-4.1"}}, "default": "small"})
    oc = client("openai", sandbox=recorded)
    llmcost_magic.use_ledger(":memory:")
    with llmcost_magic.meter(tag="replay", tiers=tiers, route="cascade", validator=numeric_answer(whole=True)) as m:
        answers = [oc.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": i["prompt"]}])
                   .choices[0].message.content for i in items]
    checks = [numeric_answer(whole=True)(i["weak_response"]) for i in items]
    for item, answer, weak_ok in zip(items, answers, checks):
        assert answer == (item["weak_response"] if weak_ok else item["strong_response"]).strip()
    assert m.totals.calls == len(items) + checks.count(False)
