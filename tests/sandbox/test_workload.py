"""The support-chatbot workload: deterministic, repetitive like real FAQ traffic, and the mix it promises."""

from __future__ import annotations

from collections import Counter

import pytest

from llmcost_magic.policies.semantic_cache import why_not_same
from llmcost_magic.sandbox import ManualClock, Sandbox, client, is_correct
from llmcost_magic.sandbox.quality import find_item
from llmcost_magic.sandbox.workload import (RULES, SYSTEM_PROMPT, Workload, faq_clusters, missing_rules,
                                            support_workload)
from llmcost_magic.core.tokens import count_tokens


@pytest.fixture(scope="module")
def day() -> Workload:
    return support_workload(1_000, seed=7)


def test_the_same_seed_gives_the_same_workload_and_another_seed_another():
    assert support_workload(200, seed=3) == support_workload(200, seed=3)
    assert support_workload(200, seed=3).conversations != support_workload(200, seed=4).conversations
    # A larger workload starts with the smaller one's conversations (a sample is a prefix of the day).
    assert support_workload(500, seed=3).conversations[:200] == support_workload(200, seed=3).conversations


def test_the_system_prompt_is_long_verbose_and_states_every_rule():
    assert 450 <= count_tokens(SYSTEM_PROMPT, model="gpt-4o") <= 560
    assert missing_rules(SYSTEM_PROMPT) == []
    assert len(RULES) >= 10
    # Dropping one fact of one rule is caught, and only that rule is reported.
    assert missing_rules(SYSTEM_PROMPT.replace("status.acme.example", "our status page")) == ["outages"]


def test_the_system_prompt_does_not_change_answer_length_on_the_sandbox():
    """Its rules must not read as a length instruction: output limits are their own step."""
    from llmcost_magic.sandbox.answers import CLASSIFY_MARKER, CONFIDENCE_MARKER
    from llmcost_magic.sandbox.prose import _AT_MOST, _BRIEF, _KO_AT_MOST, _SENTENCES

    for pattern in (_AT_MOST, _BRIEF, _KO_AT_MOST, _SENTENCES):
        assert not pattern.search(SYSTEM_PROMPT)
    assert CLASSIFY_MARKER not in SYSTEM_PROMPT.lower() and CONFIDENCE_MARKER not in SYSTEM_PROMPT.lower()


def test_the_mix_of_kinds_languages_turns_and_complexity(day):
    stats = day.stats()
    kinds = stats["kind_share"]
    assert set(kinds) == {"faq", "task", "account", "follow_up"}
    assert 0.40 <= kinds["faq"] <= 0.55 and 0.18 <= kinds["task"] <= 0.30
    assert 0.08 <= kinds["account"] <= 0.20 and 0.08 <= kinds["follow_up"] <= 0.22
    assert 0.22 <= stats["korean_share"] <= 0.38
    assert 1.7 <= stats["turns_per_conversation"] <= 2.1 and 0.45 <= stats["multi_turn_share"] <= 0.65
    assert {len(c.turns) for c in day.conversations} == {1, 2, 3, 4}
    assert all(c.turns[0].kind != "follow_up" for c in day.conversations)  # nobody opens with "thanks"
    complexity = stats["complexity_share"]
    assert complexity["simple"] > 0.5 and complexity["moderate"] > 0.1 and complexity["complex"] > 0.02
    # Korean conversations ask Korean FAQs and write Korean account requests.
    hangul = lambda text: any("\uac00" <= ch <= "\ud7a3" for ch in text)
    for c in day.conversations:
        for t in c.turns:
            if t.kind in ("faq", "account", "follow_up"):
                assert hangul(t.text) == (c.lang == "ko"), t.text


def test_faq_traffic_repeats_like_a_support_bot(day):
    stats = day.stats()
    # A real day: many first turns repeat an earlier one word for word, others only in other words...
    assert 0.25 <= stats["first_turn_exact_repeat"] <= 0.55
    assert 0.08 <= stats["first_turn_paraphrase_repeat"] <= 0.30
    # ... popularity is skewed (the top FAQ is asked far more often than the median one) ...
    asked = Counter(t.faq for t in day.turns if t.faq)
    counts = sorted(asked.values(), reverse=True)
    assert counts[0] >= 5 * counts[len(counts) // 2]
    # ... and a small sample sees less repetition than the whole day (why the notebook replays a day).
    assert support_workload(100, seed=7).stats()["first_turn_exact_repeat"] < stats["first_turn_exact_repeat"]


def test_faq_phrasings_belong_to_one_cluster_and_look_alikes_stay_apart():
    clusters = faq_clusters()
    owner: dict[str, str] = {}
    for lang in clusters.values():
        for canonical, variants in lang.items():
            assert variants[0] == canonical
            for text in variants:
                assert owner.setdefault(text, canonical) == canonical  # no phrasing in two clusters
    en = clusters["en"]
    assert "How can I reset my password?" in en["How do I reset my password?"]  # labelled paraphrase
    # Labelled negations and near misses are separate clusters: one must never answer the other.
    for a, b in (("How do I enable notifications?", "How do I disable notifications?"),
                 ("Can I get a refund after 30 days?", "Can I get a refund after 60 days?")):
        assert a in en and b in en and why_not_same(a, b) is not None
    assert not any("weather" in q.lower() or "capital of" in q.lower() for q in en)


def test_tasks_are_labelled_scored_and_never_repeat(day):
    tasks = [t for t in day.turns if t.kind == "task"]
    assert len({t.text for t in tasks}) == len(tasks)  # each carries its own ticket reference
    assert len({t.item_id for t in tasks}) >= 30  # most of the labelled set is asked
    for t in tasks:
        item = day.item(t)
        assert item is not None and find_item(t.text) is item  # the sandbox's quality model finds it
        assert is_correct(item, f"The answer is: {item['answer']}.") and not is_correct(item, f"The answer is: {item['wrong']}.")
    assert all(day.item(t) is None for t in day.turns if t.kind != "task")
    accounts = [t.text for t in day.turns if t.kind == "account"]
    assert len(set(accounts)) == len(accounts)


def test_a_multi_turn_conversation_reads_the_previous_turns_prompt_cache():
    """Replayed with a breakpoint on the conversation so far (as --prompt-cache auto places it), a later
    turn reads what the previous turn wrote: Anthropic checks earlier block boundaries, not only the
    breakpoint's own position."""
    sandbox = Sandbox(clock=ManualClock())
    ac = client("anthropic", sandbox=sandbox, max_retries=0)
    system = SYSTEM_PROMPT * 2  # long enough that the prefix reaches Sonnet's 1,024-token minimum
    messages: list[dict] = []
    usage = []
    for question in ("How do I reset my password?", "Can you explain that in more detail?", "Thanks, that worked."):
        messages.append({"role": "user", "content": question})
        body = [dict(m) for m in messages]
        if len(body) >= 3:
            body[-2] = {"role": "assistant", "content": [{"type": "text", "text": body[-2]["content"],
                                                            "cache_control": {"type": "ephemeral"}}]}
        reply = ac.messages.create(model="claude-sonnet-4-6", max_tokens=400, system=system, messages=body)
        usage.append(reply.usage)
        messages.append({"role": "assistant", "content": reply.content[0].text})
    second, third = usage[1], usage[2]
    assert second.cache_creation_input_tokens > 1024 and second.cache_read_input_tokens == 0
    assert third.cache_read_input_tokens == second.cache_creation_input_tokens  # the previous turn's prefix
    assert 0 < third.cache_creation_input_tokens < second.cache_creation_input_tokens  # only the new part
