"""Compression never reverses a rule: the held-out negative-rule set (tests/data/negative_rules_heldout.jsonl,
written before any tuning, never tuned on), the issue's own failures, and the check that catches a reversal."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from llmcost_magic.compression import compress, measure
from llmcost_magic.compression.guard import check, restore
from llmcost_magic.evaluation import support_prompt

HELDOUT = [json.loads(line) for line in (Path(__file__).parent / "data" / "negative_rules_heldout.jsonl").open(encoding="utf-8")]
RATES = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def lost_cues(item: dict, text: str) -> list[str]:
    """The hand-annotated cues of ``item`` that occur fewer times in ``text`` than in the prompt."""
    lost = []
    for cue in {c.lower() for c in item["cues"]}:
        if item["lang"] == "en":
            pattern = re.compile(r"(?<![\w'])" + re.escape(cue) + r"(?![\w'])", re.I)
        else:
            pattern = re.compile(re.escape(cue))
        if len(pattern.findall(text)) < len(pattern.findall(item["prompt"])):
            lost.append(cue)
    return lost


def test_the_heldout_set_has_ten_prompts_per_language():
    assert sum(i["lang"] == "en" for i in HELDOUT) >= 10 and sum(i["lang"] == "ko" for i in HELDOUT) >= 10


@pytest.mark.parametrize("method", ["selective", "format+selective"])
@pytest.mark.parametrize("item", HELDOUT, ids=[i["id"] for i in HELDOUT])
def test_heldout_no_negation_dropped_no_rule_reversed_at_any_rate(item, method):
    for rate in RATES:
        result = compress(item["prompt"], method, rate=rate)
        assert not lost_cues(item, result.text), (rate, result.text)
        report = check(item["prompt"], result.text)
        assert all(m.rules_reversed == 0 for m in report.values()), (rate, report)
        assert result.tokens_after < result.tokens_before  # it still compresses


@pytest.mark.parametrize("item", HELDOUT, ids=[i["id"] for i in HELDOUT])
def test_format_keeps_every_cue(item):
    assert not lost_cues(item, compress(item["prompt"], "format").text)


def test_the_issues_own_failures_are_gone():
    en = compress(support_prompt("en"), "selective", rate=0.5).text
    assert "never ask customer" in en and "never share" in en and "never rude" in en
    assert "do not make anything up" in compress(support_prompt("en"), "selective", rate=0.7).text
    ko = compress(support_prompt("ko"), "selective", rate=0.7).text
    assert "복구할 수 없습니다" in ko


def test_selective_half_still_removes_over_a_third_of_the_english_support_prompt():
    result = compress(support_prompt("en"), "selective:0.5")
    assert result.reduction >= 0.35
    assert measure(result, similarity=False).safe


def test_korean_rules_keep_the_rate_out_of_reach_and_the_note_says_so():
    result = compress(support_prompt("ko"), "selective:0.5")
    assert 0.1 < result.reduction < 0.35
    assert "could not be reached without touching rules" in result.note and not result.rate_reached
    assert compress(support_prompt("en"), "selective:0.7").rate_reached
    report = measure(result, similarity=False).meaning["ko"]
    assert report.negations_kept == report.negations and report.rules_reversed == 0
    assert report.rules_whole == report.rules


def test_check_fails_a_reversed_rule_and_restore_puts_it_back():
    original = ("Security: never ask the customer for their password. Plans cost $6 per month at Acme.\n"
                "데이터는 영구적으로 삭제되며, 복구할 수 없습니다.")
    broken = "Security: ask customer password. Plans $6 month.\n데이터는 영구적으로 삭제되며, 복구할."
    report = check(original, broken)
    assert report["en"].rules_reversed == 1 and report["ko"].rules_reversed == 1
    assert "never" in report["en"].risky and "Acme." in report["en"].risky and "$6 per" in report["en"].risky
    assert not measure_like(original, broken)
    fixed, restored = restore(original, broken)
    assert restored == 2
    assert "never ask the customer for their password" in fixed and "복구할 수 없습니다" in fixed
    assert "Plans $6 month." in fixed  # what was not a reversed rule stays compressed
    assert all(m.rules_reversed == 0 for m in check(original, fixed).values())


def measure_like(original: str, compressed: str) -> bool:
    from llmcost_magic.compression import fidelity

    return fidelity(original, compressed, similarity=False).safe


def test_fidelity_reports_per_language_counts_flat():
    result = compress(support_prompt("en") + "\n\n" + support_prompt("ko"), "selective:0.5")
    flat = measure(result, similarity=False).as_dict()
    assert flat["safe"] is True
    for lang in ("en", "ko"):
        assert flat[f"{lang}_negations"] == flat[f"{lang}_negations_kept"] > 5
        assert flat[f"{lang}_rules_reversed"] == 0 and flat[f"{lang}_rules"] > 5
        assert flat[f"{lang}_quantities"] == flat[f"{lang}_quantities_kept"] > 3


def test_the_policy_note_says_when_rules_kept_the_rate_out_of_reach():
    from llmcost_magic.compression import compress_messages

    done = compress_messages([{"role": "system", "content": support_prompt("ko")}, {"role": "user", "content": "환불?"}],
                             "selective:0.5")
    assert done.notes == ["selective:0.5 on 1 part (rate not reached on 1: rules are kept whole)"]
    assert "복구할 수 없습니다" in done.body["messages"][0]["content"]


def test_hostile_text_never_fails_the_check_and_never_crashes():
    """Random mixes of cues, quotes, URLs, code, punctuation and held-out prompts (this found words glued to a
    URL or a quote, which the check then misread as a reversed rule)."""
    import random

    from llmcost_magic.compression import fidelity

    pieces = list("abc 안않못없마세요.,;:!?\n\"'`-*•0123456789$@/()[]{}|") + [
        "never", "not", "지", "말고", "수", "없습니다", "http://x.y/z", "`code`", " the ", " 매우 ", " please "]
    prompts = [item["prompt"] for item in HELDOUT]
    for seed in range(3):
        rng = random.Random(seed)
        for _ in range(150):
            text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 80)))
            if rng.random() < 0.5:
                text = rng.choice(prompts)[:rng.randint(1, 300)] + text
            if not text.strip():
                continue
            for rate in (0.3, 0.9):
                result = compress(text, "selective", rate=rate)
                assert fidelity(text, result.text, similarity=False).safe, (text, result.text)
            restore(text, " ".join(w for w in text.split() if rng.random() < 0.5))


@pytest.mark.parametrize("text", [
    'Do not tell them to talk to the"93마!-17@]없4never9,/2않4세}533@없못/http://x.y/z``cnever$0마수ca* {없습니다`,c요"',
    "Do not issue a refund before the item is scanned at the wa}0never2?6|수@!않3 *c:`code`ahttp://x.y/z못,}$3•*-안수1",
])
def test_words_glued_to_a_quote_or_url_are_not_misread_as_a_reversed_rule(text):
    for rate in (0.3, 0.9):
        assert measure(compress(text, "selective", rate=rate), similarity=False).safe
