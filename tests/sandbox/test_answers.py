"""Simulated answers read like a person wrote them, in the question's language, and follow the tier model."""

from __future__ import annotations

import re

import pytest

from llmcost_magic.sandbox import Sandbox, client
from llmcost_magic.sandbox.prose import find_curated
from llmcost_magic.sandbox.workload import support_workload

HANGUL = re.compile(r"[\uac00-\ud7a3]")


def ask(question: str, model: str = "gpt-4o-mini", seed: int = 0) -> str:
    oc = client("openai", sandbox=Sandbox(seed=seed))
    return oc.chat.completions.create(model=model, messages=[{"role": "user", "content": question}]).choices[0].message.content


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?다요])\s+", text.strip()) if s]


def looks_written(text: str) -> bool:
    """Sentences that start with a capital (or Hangul) and end with punctuation, no word repeated 3 times in a row."""
    parts = sentences(text)
    words = re.findall(r"\w+", text.lower())
    stutter = any(words[i] == words[i + 1] for i in range(len(words) - 1))
    return bool(parts) and not stutter and all(re.match(r"[A-Z\"가-힣0-9]", s) and re.search(r"[.!?\"…]$", s) for s in parts)


def test_the_quickstart_answer_reads_as_two_sentences_about_tokens():
    text = ask("What is a token, in two sentences?")
    assert looks_written(text) and len(sentences(text)) == 2
    assert text.startswith("A token is") and "tokens" in text


def test_a_korean_question_gets_a_korean_answer_in_one_sentence():
    ac = client("anthropic")
    text = ac.messages.create(model="claude-haiku-4-5", max_tokens=300,
                              messages=[{"role": "user", "content": "토큰이 무엇인지 한 문장으로 설명해 주세요."}]).content[0].text
    assert HANGUL.search(text) and not re.search(r"[A-Za-z]{4,}", text)
    assert text.endswith("다.") and len(sentences(text)) == 1


def test_lesson_07_titles_are_titles_in_the_descriptions_language():
    ko = ask("Write a short product title (at most 8 words) for: 가벼운 책상 조명, 4년 보증")
    en = ask("Write a short product title (at most 8 words) for: A warm steel water bottle with a 5-year warranty")
    assert ko == "4년 보증의 가벼운 책상 조명"
    assert en == "Warm Steel Water Bottle with 5-Year Warranty"


def test_look_alike_questions_get_different_answers():
    assert "turn off" in ask("How do I turn off two-factor authentication?")
    assert "turn on" in ask("How do I turn on two-factor authentication?")
    assert "still inside the window" in ask("Can I return headphones after 20 days?")
    assert "not possible" in ask("Can I get a refund after 60 days?")


def test_any_other_question_gets_an_honest_simulated_answer_that_restates_it():
    text = ask("What is the meaning of life?")
    assert text.startswith("Simulated answer") and '"What is the meaning of life?"' in text and looks_written(text)
    ko = ask("부산에서 맛집 추천해 주세요")
    assert ko.startswith("모의 답변") and "부산에서 맛집 추천해 주세요" in ko


def test_every_workload_turn_is_answered_in_sentences_in_its_language():
    day = support_workload(conversations=60, seed=3)
    oc = client("openai")
    for turn in day.turns:
        text = oc.chat.completions.create(model="gpt-4o-mini", messages=[
            {"role": "system", "content": day.system_prompt}, {"role": "user", "content": turn.text}]).choices[0].message.content
        assert not text.startswith(("Simulated", "모의")), turn.text  # the cookbook's own traffic is curated
        assert bool(HANGUL.search(text)) == (turn.lang == "ko") or turn.kind == "task", (turn.text, text)


def test_a_smaller_tier_says_less_and_misses_more_key_points():
    questions = ["Name three ways to make LLM calls cheaper.", "Explain prompt caching.", "How do I reset my password?",
                 "What is your refund policy?", "How do I turn on two-factor authentication?", "Design a rate limiter for a public API.",
                 "환불 정책이 어떻게 되나요?", "비밀번호를 어떻게 재설정하나요?", "Why are output tokens expensive?"]
    small = sum(len(ask(q, "gpt-4.1-nano", seed)) for q in questions for seed in range(4))
    large = sum(len(ask(q, "gpt-5", seed)) for q in questions for seed in range(4))
    assert small < 0.8 * large
    assert all(find_curated(q) is not None for q in questions)


@pytest.mark.parametrize("limit", [5, 12, 30])
def test_word_limits_hold_in_whole_sentences_where_possible(limit):
    text = ask(f"Name three ways to make LLM calls cheaper. Answer in at most {limit} words.")
    assert 0 < len(text.split()) <= limit


def test_answers_are_deterministic_and_differ_by_seed_only_in_what_is_kept():
    assert ask("What is your refund policy?", seed=1) == ask("What is your refund policy?", seed=1)
    first = {ask("Name three ways to make LLM calls cheaper.", seed=s).split(".")[0] for s in range(5)}
    assert len(first) == 1  # the direct answer is always there


def test_a_long_or_detailed_request_gets_a_longer_answer_than_how_long_questions():
    long = ask("Write a long report.", "gpt-4.1")
    assert long.startswith("Simulated answer") and len(long.split()) > 150
    short = [len(ask("How long does shipping take?", "gpt-4.1", seed).split()) for seed in range(5)]
    detailed = [len(ask("Can you explain that in more detail?", "gpt-4.1", seed).split()) for seed in range(5)]
    assert max(short) <= 300 and sum(detailed) > sum(short)
