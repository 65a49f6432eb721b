"""Routing, cascades and output controls as cell policies, through the real SDKs on the sandbox."""

from __future__ import annotations

import json

import pytest

import llmcost_magic
from llmcost_magic import meter
from llmcost_magic.evaluation import batched_vs_separate, blended_price, evaluate_routers
from llmcost_magic.intercept.call import Call
from llmcost_magic.policies.routing import (ClassifierRouter, EmbeddingRouter, RulesRouter, TierFileError, load_tiers)
from llmcost_magic.sandbox import Sandbox, client, load_eval_set

TIERS = load_tiers()


def _call(text: str, provider: str = "openai") -> Call:
    return Call(provider, "chat.completions", "gpt-4.1", {"model": "gpt-4.1", "messages": [{"role": "user", "content": text}]}, False)


@pytest.mark.parametrize(("text", "tier"), [
    ("Translate to French: good morning", "small"),
    ("이 문장을 영어로 번역하세요: 안녕하세요", "small"),
    ("Summarize this review in one line.", "small"),
    ("Design an architecture for a payments service.", "large"),
    ("이 알고리즘의 복잡도를 분석해 주세요.", "large"),
    ("What time is it in Tokyo?", "medium"),
])
def test_rules_router_english_and_korean(text, tier):
    assert RulesRouter().decide(_call(text), TIERS).tier == tier


def test_embedding_router_uses_the_nearest_examples():
    router = EmbeddingRouter()
    assert router.decide(_call("Please translate into Spanish: where is the bank?"), TIERS).tier == "small"
    assert router.decide(_call("Design a sharded database for a global chat app, with trade-offs."), TIERS).tier == "large"


def test_classifier_router_and_its_fallback_on_garbage():
    good = ClassifierRouter(client_factory=lambda provider: client(provider))
    item = next(i for i in load_eval_set() if i["difficulty"] < 0.2)
    assert good.decide(_call(item["question"]), TIERS).tier in ("small", "medium")

    class Garbage:
        class chat:  # noqa: N801 - mimics the SDK's attribute path
            class completions:  # noqa: N801
                @staticmethod
                def create(**_):
                    raise ValueError("not json")

    decision = ClassifierRouter(client_factory=lambda provider: Garbage()).decide(_call("hi"), TIERS)
    assert decision.tier == TIERS.default and "classifier failed" in decision.reason


def test_routing_rewrites_the_model_and_the_ledger_says_why():
    oc = client("openai")
    with meter(route="rules"):
        r = oc.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "Translate to French: thank you"}])
    row = llmcost_magic.ledger().iloc[0]
    assert r.model == "gpt-4o-mini" and row.model == "gpt-4o-mini" and row.requested_model == "gpt-4.1"
    assert "route small" in row.note and "translate" in row.note


def test_the_classifiers_own_call_is_metered_and_not_routed():
    oc = client("openai")
    with meter(route="classifier") as m:
        oc.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "Translate to French: thank you"}])
    df = llmcost_magic.ledger()
    assert len(df) == 2 and m.totals.calls == 2
    assert df.iloc[0].model == "gpt-4o-mini" and df.iloc[0].note == "router's own call"  # the classifier's call, said so
    assert "classifier" in df.iloc[1].note


def test_cascade_escalates_on_a_failing_validator_and_counts_every_attempt():
    oc = client("openai")
    with meter(route="cascade", validator=json.loads) as m:  # the sandbox never answers JSON here
        r = oc.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "Describe caching."}])
    df = llmcost_magic.ledger()
    assert list(df.model) == ["gpt-4o-mini", "gpt-4.1-mini", "gpt-4.1"] and r.model == "gpt-4.1"
    assert "escalated (validator raised JSONDecodeError)" in df.iloc[0].note and "kept as last tier" in df.iloc[2].note
    assert m.totals.cost_usd == pytest.approx(df.cost_usd.sum()) and m.totals.calls == 3


def test_cascade_accepts_the_small_answer_when_checks_pass():
    oc = client("openai", sandbox=Sandbox())
    easy = next(i for i in load_eval_set() if i["difficulty"] <= 0.1)
    with meter(route="cascade"):
        oc.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": easy["question"]}])
    assert list(llmcost_magic.ledger().note) == ["cascade small: accepted"]


def test_cascade_skips_streams():
    oc = client("openai")
    with meter(route="cascade"):
        list(oc.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "hi"}], stream=True))
    assert list(llmcost_magic.ledger().model) == ["gpt-4.1"]


def test_output_controls_apply_only_where_unset_and_cut_output():
    oc = client("openai")
    ask = [{"role": "user", "content": "Explain prompt caching."}]
    with meter(tag="plain"):
        plain = oc.chat.completions.create(model="gpt-4o-mini", messages=ask)
    with meter(tag="controlled", max_tokens=64, concise=30):
        capped = oc.chat.completions.create(model="gpt-4o-mini", messages=ask)
        oc.chat.completions.create(model="gpt-4o-mini", messages=ask, max_tokens=500)  # its own cap
    assert capped.usage.completion_tokens <= 64 < plain.usage.completion_tokens
    assert len(capped.choices[0].message.content.split()) <= 30
    df = llmcost_magic.ledger()
    assert list(df.max_tokens.fillna(0).astype(int)) == [0, 64, 500] and "max_tokens 64" in df.iloc[1].note
    assert "max_tokens" not in df.iloc[2].note  # the call's own cap is kept


def test_max_tokens_report_right_sizes(shell):
    shell.run_cell("from llmcost_magic.sandbox import client\noc = client('openai')")
    shell.run_cell("%%llmcost\nfor i in range(20):\n    oc.chat.completions.create(model='gpt-4o-mini', max_tokens=4096, messages=[{'role':'user','content':f'Question {i}: be concise.'}])")
    report = shell.run_line_magic("llmcost", "report --by max-tokens").set_index("model")
    row = report.loc["gpt-4o-mini"]
    assert row.with_max_tokens == 20 and row.utilization < 0.05 and row.suggested_max_tokens < 200


def test_tier_files_are_validated(tmp_path):
    bad = tmp_path / "tiers.yaml"
    bad.write_text("tiers:\n  small: {openai: gpt-4o-mnii}\n")
    with pytest.raises(TierFileError, match="gpt-4o-mini"):
        load_tiers(bad)
    with pytest.raises(TierFileError, match="'tiers' table"):
        load_tiers({"models": {}})
    with pytest.raises(TierFileError, match="default tier"):
        load_tiers({"tiers": {"small": {"openai": "gpt-4o-mini"}}, "default": "huge"})


@pytest.mark.parametrize(("options", "message"), [("--route magic", "Unknown router 'magic'"), ("--max-tokens 0", "at least 1"),
                                                  ("--concise many", "whole number")])
def test_bad_routing_options(shell, options, message):
    r = shell.run_cell(f"%%llmcost {options}\nx = 1")
    assert message in str(r.error_in_exec)


def test_evaluation_harness_is_reproducible_and_routers_beat_always_large_on_cost():
    first = evaluate_routers(["always-small", "always-large", "rules", "cascade"])
    again = evaluate_routers(["always-small", "always-large", "rules", "cascade"])
    pd_testing = __import__("pandas").testing
    pd_testing.assert_frame_equal(first, again)
    assert first.loc["always-small", "accuracy"] < first.loc["always-large", "accuracy"]
    assert first.loc["cascade", "cost_vs_large"] < 0.5 and first.loc["cascade", "accuracy_vs_large"] >= 0.9


def test_blended_price_and_batching_questions():
    assert blended_price({"small": 0.8, "large": 0.2}, {"small": 0.25, "large": 2.5}) == pytest.approx(0.70)
    with pytest.raises(ValueError, match="add up to 1"):
        blended_price({"small": 0.5}, {"small": 1.0})
    table = batched_vs_separate(["Do you ship to Canada?", "Can I pay with PayPal?", "What is the return window?"])
    assert table.loc["all questions in one call", "cost_usd"] < table.loc["one call per question", "cost_usd"]


TWO_TIERS = load_tiers({"tiers": {"small": {"openai": "gpt-4o-mini"}, "large": {"openai": "gpt-4.1"}}, "default": "small"})


def _gsm8k(n: int) -> list[dict]:
    from llmcost_magic.evaluation import load_recorded

    data = load_recorded()
    return data[data.benchmark == "gsm8k"].head(n).to_dict("records")


def test_probe_router_sends_its_top_share_to_the_largest_tier_through_the_sdk():
    from llmcost_magic.policies.routing import ProbeRouter

    items = _gsm8k(60)
    router = ProbeRouter(strong_share=0.3)
    scores = [router.score(i["prompt"]) for i in items]
    oc = client("openai", sandbox=Sandbox(recorded=True))
    with meter(route="probe", tiers=TWO_TIERS) as m:
        for item in items:
            oc.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": item["prompt"]}])
    rows = llmcost_magic.ledger().tail(len(items))
    assert rows["note"].str.contains("probe: score").all()
    large = rows["model"].eq("gpt-4.1").to_numpy()
    assert 0 < large.sum() < len(items)
    assert min(s for s, big in zip(scores, large) if big) >= max(s for s, big in zip(scores, large) if not big)
    assert m.totals.calls == len(items)
    with pytest.raises(ValueError):
        ProbeRouter(strong_share=0.8, small_share=0.5)


def test_cascade_plus_probe_skips_the_cheap_attempt_for_what_the_probe_sends_large():
    from llmcost_magic.policies.routing import ProbeRouter
    from llmcost_magic.policies.validators import numeric_answer

    items = _gsm8k(30)
    router = ProbeRouter()
    straight = [router.decide(_call(i["prompt"]), TWO_TIERS).tier == "large" for i in items]
    check = numeric_answer(whole=True)
    oc = client("openai", sandbox=Sandbox(recorded=True))
    with meter(route="cascade+probe", tiers=TWO_TIERS, validator=check) as m:
        answers = [oc.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": i["prompt"]}])
                   .choices[0].message.content for i in items]
    expected_calls = sum(1 if big else (1 if check(i["weak_response"]) else 2) for i, big in zip(items, straight))
    assert any(straight) and not all(straight)
    assert m.totals.calls == expected_calls
    for item, answer, big in zip(items, answers, straight):
        if big:
            assert answer == item["strong_response"].strip()


def test_route_takes_your_own_probe_and_cascade_settings():
    from llmcost_magic.evaluation import split_shared
    from llmcost_magic.policies.cascade import CascadeSettings
    from llmcost_magic.policies.routing import ProbeRouter
    from llmcost_magic.policies.validators import numeric_answer

    train, test = split_shared()
    probe = ProbeRouter(train[train.benchmark == "gsm8k"], counts=True, strong_share=0.2)
    items = test[test.benchmark == "gsm8k"].head(20).to_dict("records")
    oc = client("openai", sandbox=Sandbox(recorded=True))
    with meter(route=CascadeSettings(validator=numeric_answer(whole=True), router=probe), tiers=TWO_TIERS) as m:
        for item in items:
            oc.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": item["prompt"]}])
    assert len(items) <= m.totals.calls <= 2 * len(items)
    with meter(route=probe, tiers=TWO_TIERS):
        r = oc.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": items[0]["prompt"]}])
    assert r.model in ("gpt-4o-mini", "gpt-4.1")
    with pytest.raises(ValueError, match="route must be"):
        with meter(route=42):
            pass


def test_the_cascade_keeps_the_response_cache_working():
    """Before: each cascade attempt lost the call's cache scope, so nothing was ever stored (0 hits in 3 asks)."""
    import llmcost_magic
    from llmcost_magic import meter
    from llmcost_magic.sandbox import client

    oc = client("openai")
    ask = [{"role": "user", "content": "What is a token?"}]
    with meter(route="cascade", cache="exact"):
        for _ in range(3):
            oc.chat.completions.create(model="gpt-4.1", messages=ask, temperature=0)
    rows = llmcost_magic.ledger()
    assert list(rows.cache).count("exact") == 2
    assert (rows[rows.cache == "exact"].cost_usd == 0).all()
