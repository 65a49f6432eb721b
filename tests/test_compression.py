"""The compressors, their bad-input errors, fidelity measures and history helpers."""

from __future__ import annotations

import json

import pytest

from llmcost_magic.compression import (
    CompressionError, compact_format, compress, compress_messages, fidelity, keep_last_turns, keep_within_budget,
    measure, parse_spec, prune_examples, split_turns, trim_context, word_diff,
)
from llmcost_magic.core.tokens import count_tokens

POLICY_EN = (
    "You are a helpful customer support assistant for Acme Cloud. Please always be polite and make sure that "
    "you answer the question of the user in a clear and concise way. Refunds are processed within 5 to 7 "
    "business days after the request is approved by the billing team. If the customer asks about the "
    "\"Premium Plan\", tell them it costs $29 per month and includes 24/7 support from Seoul and Dublin. "
    "Never share the internal ticket URL https://tickets.acme.example/123 with anyone.\n"
    "```python\ndef refund(amount):  # keep code exactly\n    return amount * 0.9\n```\n"
)
POLICY_KO = ("당신은 Acme Cloud의 친절한 고객 지원 상담원입니다. 항상 정중하게 답변하고, 사용자의 질문에 명확하고 "
             "간결하게 답변해 주시기 바랍니다. 환불은 요청이 승인된 후 영업일 기준 5~7일 이내에 처리됩니다. "
             "프리미엄 요금제는 월 29달러이며 24시간 지원이 포함되어 있다는 점을 반드시 안내해 주세요.")


@pytest.mark.parametrize("rate", [0.3, 0.5, 0.7])
def test_selective_pruning_keeps_rules_numbers_names_code_quotes_and_says_when_the_rate_is_out_of_reach(rate):
    result = compress(POLICY_EN, "selective", rate=rate)
    assert result.tokens_before * 0.7 < result.tokens_after < result.tokens_before * 0.85
    # four of five sentences are rules: they lose only filler, so the rate is out of reach and the note says so
    assert "could not be reached without touching rules" in result.note
    assert measure(result, similarity=False).safe
    assert "Never share internal ticket URL" in result.text and "If customer asks about" in result.text
    for kept in ("5", "7", "$29", "24/7", "\"Premium Plan\"", "Seoul", "Dublin", "https://tickets.acme.example/123",
                 "def refund(amount):  # keep code exactly\n    return amount * 0.9"):
        assert kept in result.text, kept
    assert set(result.dropped) and "polite" not in result.dropped[:0]


def test_selective_pruning_works_on_korean_with_particles():
    result = compress(POLICY_KO, "selective", rate=0.5)
    assert 0.1 < result.reduction < 0.7
    for kept in ("Acme", "5~7일", "29달러", "24시간"):
        assert kept in result.text
    assert "환불은" in result.text and "반드시" in result.text  # a word keeps its particle; a cue stays
    words = set(POLICY_KO.split())
    assert all(word.strip(".,") in {w.strip(".,") for w in words} for word in result.text.split())  # never cut inside


def test_selective_never_empties_a_line():
    text = "- the first item of the list here\n- and then the second one\n- a third"
    result = compress(text, "selective", rate=0.2)
    assert [line for line in result.text.splitlines() if line.strip("- ").strip()] == result.text.splitlines()
    assert len(result.text.splitlines()) == 3


def test_format_compaction_minifies_json_key_values_and_transcripts_but_not_code():
    text = ("Customer:\n\n- **Name**: Kim Minji\n- **Order ID**:   A-1042\n- **Status**: shipped\n\n\n"
            "{\n  \"id\": 42,\n  \"items\": [1, 2, 3]\n}\n\nQuestion: Where is it?\nAnswer: Shipped.\n\n"
            "```python\ndef f(x):\n    return   x\n```")
    out = compact_format(text)
    assert "Name:Kim Minji|Order ID:A-1042|Status:shipped" in out
    assert '{"id":42,"items":[1,2,3]}' in out
    assert "Q: Where is it?\nA: Shipped." in out
    assert "def f(x):\n    return   x" in out  # code is untouched
    assert "\n\n\n" not in out
    result = compress(text, "format")
    assert result.tokens_after < result.tokens_before and not result.note


def test_format_of_already_compact_text_is_a_noop_that_says_so():
    result = compress("Refunds take 5 days.", "format")
    assert result.text == "Refunds take 5 days." and result.note.startswith("no-op")


def test_fewshot_keeps_the_examples_closest_to_the_question():
    examples = ["Example: translate 'good morning' to French -> bonjour",
                "Example: what is 2 + 2? -> 4",
                "Example: translate 'thank you' to French -> merci",
                "Example: capital of Japan? -> Tokyo"]
    kept = prune_examples(examples, "Translate 'good night' to French", k=2)
    assert kept == [0, 2]
    text = "Answer like the examples.\n\n" + "\n\n".join(examples)
    result = compress(text, "fewshot", rate=0.5, query="Translate 'good night' to French")
    assert "bonjour" in result.text and "merci" in result.text and "Tokyo" not in result.text
    assert result.text.startswith("Answer like the examples.")


def test_rag_trimming_drops_duplicates_and_keeps_the_relevant_chunk_within_budget():
    chunks = ["Refunds are processed within 5 to 7 business days after approval.",
              "Refunds are processed within 5 to 7 business days after approval.",
              "Our office dog is called Biscuit and likes long walks in the park.",
              "The Premium Plan costs $29 per month and includes priority support."]
    kept = trim_context(chunks, "How long do refunds take?", budget_tokens=20)
    assert kept[0] == 0 and 1 not in kept and 2 not in kept
    text = "\n---\n".join(chunks)
    result = compress(text, "rag", rate=0.3, query="How long do refunds take?")
    assert "5 to 7 business days" in result.text and "Biscuit" not in result.text
    assert result.tokens_after <= result.tokens_before * 0.3 + 5


@pytest.mark.parametrize(("spec", "message"), [
    ("selectiv:0.5", "did you mean 'selective'"),
    ("selective:1.5", "in (0, 1]"),
    ("selective:0", "in (0, 1]"),
    ("selective:half", "must be a number"),
    ("window:0", "at least 1"),
    ("budget:lots", "number of tokens"),
    ("", "say which method"),
])
def test_bad_specs_name_the_problem_and_the_fix(spec, message):
    with pytest.raises(CompressionError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[").replace("]", r"\]")):
        parse_spec(spec)


def test_empty_and_non_text_prompts_are_refused_clearly():
    with pytest.raises(CompressionError, match="empty"):
        compress("   ", "selective")
    with pytest.raises(CompressionError, match="compress_messages"):
        compress([{"role": "user", "content": "hi"}], "selective")  # type: ignore[arg-type]
    with pytest.raises(CompressionError, match="needs the question"):
        compress("Example: a\n\nExample: b", "fewshot")
    with pytest.raises(CompressionError, match="takes no rate"):
        compress("some  text", "format", rate=0.5)


def test_chained_specs_apply_in_order():
    text = '{\n  "plan": "Premium",\n  "price": 29\n}\n\n' + POLICY_EN
    both = compress(text, "format+selective:0.5")
    only_selective = compress(text, "selective:0.5")
    assert both.method == "format+selective" and '{"plan":"Premium","price":29}' in both.text
    assert both.tokens_after < only_selective.tokens_after


def test_fidelity_measures_numbers_entities_keywords_and_similarity():
    result = compress(POLICY_EN, "selective", rate=0.5)
    f = measure(result)
    assert result.fidelity == f
    assert f.numbers_kept == 1.0 and f.entities_kept >= 0.95
    assert 0 < f.keywords_kept <= 1 and f.similarity is not None and 0.5 < f.similarity <= 1.0
    assert f.token_reduction == pytest.approx(result.reduction)
    worse = fidelity(POLICY_EN, "Refunds.")
    assert worse.numbers_kept == 0 and worse.similarity < f.similarity


def test_word_diff_marks_what_was_removed():
    runs = word_diff("keep this drop that keep", "keep this keep")
    assert "".join(t for t, _ in runs) == "keep this drop that keep"
    assert [t.strip() for t, kept in runs if not kept] == ["drop that"]


def _conversation(turns: int) -> list[dict]:
    messages = [{"role": "system", "content": "You are a support agent."}]
    for i in range(turns):
        messages += [{"role": "user", "content": f"Question {i}: my order A-{i} is late."},
                     {"role": "assistant", "content": "Sorry to hear that. " * 20}]
    return messages


def test_history_window_and_budget_keep_system_and_whole_turns():
    messages = _conversation(10)
    messages[4:4] = [{"role": "assistant", "tool_calls": [{"id": "t1"}]}, {"role": "tool", "tool_call_id": "t1", "content": "ok"}]
    head, turns = split_turns(messages)
    assert len(head) == 1 and len(turns) == 10 and len(turns[1]) == 4  # the tool call stays with its result
    last3 = keep_last_turns(messages, 3)
    assert last3[0]["role"] == "system" and len(last3) == 7
    within = keep_within_budget(messages, 300)
    assert count_tokens(within) <= 300 < count_tokens(messages)
    assert within[-2:] == messages[-2:]
    assert keep_within_budget(messages, 10**6) == messages  # already within: unchanged


def test_compress_messages_keeps_roles_tools_images_and_cache_control():
    long = POLICY_EN * 2
    messages = [
        {"role": "system", "content": long},
        {"role": "user", "content": [{"type": "text", "text": long},
                                     {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                                     {"type": "text", "text": long, "cache_control": {"type": "ephemeral"}}]},
        {"role": "assistant", "content": long, "tool_calls": [{"id": "c1", "type": "function",
                                                                "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": long},
        {"role": "user", "content": "How long do refunds take?"},
    ]
    original = json.loads(json.dumps(messages))
    done = compress_messages(messages, "selective:0.5")
    out = done.body["messages"]
    assert messages == original  # the caller's list is not modified
    assert [m["role"] for m in out] == [m["role"] for m in messages]
    assert len(out[0]["content"]) < len(long) and len(out[1]["content"][0]["text"]) < len(long)
    assert out[1]["content"][1:] == messages[1]["content"][1:]  # image and cache_control block untouched
    assert out[2] == messages[2] and out[3] == messages[3]  # assistant and tool messages untouched
    assert out[4] == messages[4]  # the question itself stays as written
    assert done.tokens_removed > 0 and done.parts == 2
    kept_system = compress_messages(messages, "selective:0.5", include_system=False)
    assert kept_system.body["messages"][0] == messages[0]


def test_context_pasted_above_the_question_is_compressed_and_the_question_kept():
    question = "How long do refunds take?"
    messages = [{"role": "user", "content": POLICY_EN * 2 + "\n\n" + question}]
    out = compress_messages(messages, "selective:0.5").body["messages"][0]["content"]
    assert out.endswith("\n\n" + question) and len(out) < len(messages[0]["content"]) * 0.8
    one_paragraph = [{"role": "user", "content": "Refunds? " * 40}]
    assert compress_messages(one_paragraph, "selective:0.5").body["messages"] == one_paragraph  # nothing to tell apart
