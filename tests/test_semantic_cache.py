"""The semantic cache in English and Korean: guard, learned thresholds, verifier, calibration, audit.

Rates are measured in benchmarks/bench_cache.py on tests/data/semantic_heldout.jsonl; these tests pin
the behaviours, through the real SDK on the sandbox where a call is involved.
"""

from __future__ import annotations

import pytest

import llmcost_magic
from llmcost_magic import meter
from llmcost_magic.policies.semantic_cache import DEFAULT_THRESHOLD, SemanticIndex
from llmcost_magic.policies.semantic_calibration import calibrate_threshold
from llmcost_magic.policies.semantic_feedback import EntryFeedback, learned_threshold, wilson_upper
from llmcost_magic.policies.semantic_guard import judge, why_not_same
from llmcost_magic.sandbox import Sandbox, client
from llmcost_magic.stores import CacheEntry
from llmcost_magic.stores.sqlite_cache import SQLiteCacheStore


def ask(oc, question: str):
    return oc.chat.completions.create(model="gpt-4o-mini", temperature=0, messages=[{"role": "user", "content": question}])


def caches():
    return list(llmcost_magic.ledger().cache)


# -- the guard -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("new", "cached"), [
    ("BERT란 무엇인가요?", "BERT가 무엇인가요?"),  # particles are not words
    ("비밀번호를 어떻게 재설정할 수 있나요?", "비밀번호를 어떻게 재설정하나요?"),  # endings neither
    ("How can I reset my password?", "How do I reset my password?"),
    ("What are closures in JavaScript?", "What is a closure in JavaScript?"),  # lemmas
])
def test_the_guard_lets_rephrasings_through(new, cached):
    assert why_not_same(new, cached) is None


@pytest.mark.parametrize(("new", "cached", "reason"), [
    ("2단계 인증을 어떻게 끄나요?", "2단계 인증을 어떻게 켜나요?", "reverses"),
    ("결제가 안 되나요?", "결제가 되나요?", "negated"),  # 안 되다 is one negation, not two
    ("앱이 왜 시작되지 않나요?", "앱이 왜 시작되나요?", "negated"),
    ("사용량 목록을 어떻게 보나요?", "사용자 목록을 어떻게 보나요?", "swapped"),  # not both "사용"
    ("How do I turn off notifications?", "How do I turn on notifications?", "reverses"),
    ("How do I sign out of my account?", "How do I sign up for an account?", "reverses"),
    ("Why doesn't the app start?", "Why does the app start?", "negated"),
    ("How do I find the length of a string in Python?", "How do I find the length of a list in Python?", "swapped"),
    ("How do I convert an integer to a string?", "How do I convert a string to an integer?", "direction"),
    ("Refund for order 43?", "Refund for order 42?", "numbers"),
    ("Where is the Busan office?", "Where is the Seoul office?", "names"),
])
def test_the_guard_keeps_negations_and_near_misses_apart(new, cached, reason):
    assert reason in (why_not_same(new, cached) or "")


def test_a_korean_word_containing_another_is_not_that_word():
    # 열람 ("viewing") contains 열 ("open"); the old substring guard read it as a polarity change.
    reason = why_not_same("주문 내역은 어디서 열람하나요?", "주문 내역은 어디서 보나요?") or ""
    assert "reverses" not in reason and "antonym" not in reason and "negated" not in reason
    assert why_not_same("주문 내역은 어디서 열람할 수 있나요?", "주문 내역은 어디서 열람하나요?") is None


def test_added_words_need_more_similarity_and_swapped_words_a_verifier():
    t = DEFAULT_THRESHOLD
    same = judge("How can I reset my password?", "How do I reset my password?", t + 0.05, t)
    added = judge("How can I delete my account permanently?", "How do I delete my account?", t + 0.05, t)
    swapped = judge("Where do I see my order number?", "Where can I find my order number?", 0.99, t)
    assert same.same and not added.same and same.needed < added.needed < 1
    assert judge("How can I delete my account permanently?", "How do I delete my account?", added.needed, t).same
    # find / see, book / reserve are synonyms; format / parse, sort / filter are not, at the same similarity
    assert not swapped.same and swapped.needed > 1 and swapped.verify_from < 1


# -- through the SDK -----------------------------------------------------------------------------


def test_a_korean_paraphrase_is_served_and_a_korean_negation_is_not():
    oc = client("openai", sandbox=Sandbox())
    with meter(cache="semantic"):
        ask(oc, "BERT가 무엇인가요?")
        ask(oc, "BERT란 무엇인가요?")
        ask(oc, "결제가 되나요?")
        ask(oc, "결제가 안 되나요?")
    assert caches() == ["", "semantic", "", ""]
    audit = llmcost_magic.semantic_audit()
    assert list(audit.cached_question) == ["BERT가 무엇인가요?"]
    assert audit.iloc[0].why_served.startswith("same content words") and audit.iloc[0].threshold == DEFAULT_THRESHOLD


def test_rejecting_a_semantic_hit_raises_that_entrys_threshold_and_keeps_its_answer(shell):
    shell.run_cell("from llmcost_magic.sandbox import client\noc = client('openai')")
    cell = ("%%llmcost --cache semantic\n"
            "oc.chat.completions.create(model='gpt-4o-mini', temperature=0, messages=[{{'role':'user','content':{q!r}}}])")
    shell.run_cell(cell.format(q="How do I reset my password?"))
    shell.run_cell(cell.format(q="How can I reset my password?"))
    shell.run_line_magic("llmcost", "cache reject")
    shell.run_cell(cell.format(q="How can I reset my password?"))  # now a miss: the entry needs a closer question
    shell.run_cell(cell.format(q="How do I reset my password?"))  # the answer itself still serves its own question
    assert caches() == ["", "semantic", "", "exact"]


def test_confirmed_hits_lower_an_entrys_threshold_only_within_the_error_bound():
    base = 0.75
    assert learned_threshold(EntryFeedback(confirmed=[0.72] * 15), base, 0.2) == base  # 15: not enough evidence
    assert learned_threshold(EntryFeedback(confirmed=[0.72] * 16), base, 0.2) == 0.72
    assert learned_threshold(EntryFeedback(confirmed=[0.72] * 16), base, 0.05) == base  # a stricter bound needs 73
    assert learned_threshold(EntryFeedback(confirmed=[0.5] * 500), base, 0.2) == base  # never below base - 0.08
    assert learned_threshold(EntryFeedback(confirmed=[0.9] * 50, rejected=[0.8]), base, 0.2) == pytest.approx(0.81)
    assert wilson_upper(0, 73) < 0.05 < wilson_upper(0, 72)


def test_feedback_is_kept_in_the_store(tmp_path):
    path = tmp_path / "c.sqlite3"
    index = SemanticIndex(SQLiteCacheStore(path))
    index.reject_hit("k1", 0.9)
    assert SemanticIndex(SQLiteCacheStore(path)).threshold_for("k1", 0.75) == pytest.approx(0.91)


class FakeVerifier:
    def __init__(self, answer: bool, cost: float = 1e-9) -> None:
        self.answer, self.cost, self.asked = answer, cost, []

    def cost_usd(self, a: str, b: str) -> float:
        return self.cost

    def __call__(self, a: str, b: str, *, dry_run: bool = False) -> bool:
        self.asked.append((a, b))
        return self.answer


def _verified_run(verifier):
    from llmcost_magic.metering import Meter
    from llmcost_magic.session import response_cache, use_cache_store

    use_cache_store(":memory:")
    oc = client("openai", sandbox=Sandbox())
    with Meter(cache=response_cache("semantic", verifier=verifier)) as m:
        ask(oc, "How do I change my profile picture?")
        ask(oc, "How can I update my profile photo?")  # swapped nouns: never served on similarity alone
    return [r.cache for r in m.records]


def test_a_verifier_decides_pairs_just_short_of_the_rules_and_its_no_tightens():
    yes = FakeVerifier(True)
    assert _verified_run(yes) == ["", "semantic"] and len(yes.asked) == 1
    assert "verifier" in llmcost_magic.semantic_audit().iloc[-1].why_served
    assert _verified_run(None) == ["", ""]
    no = FakeVerifier(False)
    assert _verified_run(no) == ["", ""] and len(no.asked) == 1
    from llmcost_magic.session import current_semantic_index

    (key,) = current_semantic_index().feedback._load()  # the "no" is kept as a rejected hit of that entry
    assert current_semantic_index().threshold_for(key, 0.75) > 0.8


def test_a_verifier_is_not_asked_when_it_costs_more_than_the_answer_saves():
    dear = FakeVerifier(True, cost=1.0)
    assert _verified_run(dear) == ["", ""] and dear.asked == []


def test_the_llm_verifier_is_metered_and_attributed():
    from llmcost_magic.policies.semantic_verifier import TAG, LLMVerifier

    verifier = LLMVerifier(client("openai", sandbox=Sandbox()), "gpt-4o-mini")
    _verified_run(verifier)
    rows = llmcost_magic.ledger()
    checks = rows[rows.tag == TAG]
    assert verifier.calls == 1 and len(checks) == 1 and checks.iloc[0].cost_usd > 0


# -- calibration and audit -----------------------------------------------------------------------


PAIRS = [
    ("How do I reset my password?", "How can I reset my password?", True),
    ("What is your refund policy?", "What's your refund policy?", True),
    ("BERT가 무엇인가요?", "BERT란 무엇인가요?", True),
    ("How do I turn on notifications?", "How do I turn off notifications?", False),
    ("How do I reset my password?", "How do I reset my username?", False),
    ("결제가 되나요?", "결제가 안 되나요?", False),
]


def test_calibration_measures_what_the_live_index_serves():
    store = SQLiteCacheStore(":memory:")
    index = SemanticIndex(store)
    advice = calibrate_threshold(PAIRS, index=index)
    assert advice["threshold"] == pytest.approx(advice["lowest_safe_threshold"] + advice["margin"])
    served = []
    for i, (a, b, _) in enumerate(PAIRS):
        entry = CacheEntry(key=f"k{i}", provider="openai", endpoint="chat.completions", model="m",
                           content_type="application/json", body=b"{}", created=0.0, context=f"c{i}", question=a)
        index.add(entry)
        store.put(entry)
        served.append(index.search(f"c{i}", b, 1.0, advice["threshold"]) is not None)
    assert sum(s and same for s, (_, _, same) in zip(served, PAIRS)) == round(advice["recall"] * 3)
    assert advice["false_hits"] == sum(s and not same for s, (_, _, same) in zip(served, PAIRS)) == 0
    low, high = advice["recall_ci95"]
    assert 0 <= low <= advice["recall"] <= high <= 1 and high - low > 0.3  # six pairs prove little, and it says so


@pytest.mark.parametrize("name", ["semantic_dev", "semantic_heldout", "semantic_heldout_v2", "semantic_heldout_v3",
                                  "semantic_heldout_v4", "semantic_heldout_v5",
                                  "semantic_heldout_v6"])
def test_no_labelled_negation_or_near_miss_is_served(name):
    """A regression floor on every labelled set (the rates are reported by benchmarks/bench_cache.py)."""
    import json
    from pathlib import Path

    rows = [json.loads(line) for line in (Path(__file__).parent / "data" / f"{name}.jsonl").read_text().splitlines()]
    index = SemanticIndex(SQLiteCacheStore(":memory:"))
    served = [judge(r["b"], r["a"], float(index.vector(r["a"]) @ index.vector(r["b"])), DEFAULT_THRESHOLD).same
              for r in rows]
    assert [r["b"] for r, s in zip(rows, served) if s and r["label"] != "paraphrase"] == []
    paraphrases = [s for r, s in zip(rows, served) if r["label"] == "paraphrase"]
    assert sum(paraphrases) / len(paraphrases) >= 0.5


def test_a_korean_question_negated_by_a_contracted_form_is_not_served():
    """Before: 아닌가요 never reached the morphological analyser, so 'BERT가 무엇이 아닌가요?' was served
    the answer to 'BERT가 무엇인가요?' (notebook 04, after threshold calibration)."""
    from llmcost_magic.policies.semantic_guard import judge

    assert not judge("BERT가 무엇이 아닌가요?", "BERT가 무엇인가요?", 0.95, 0.5).same


@pytest.mark.parametrize(("new", "cached"), [
    ("Does Beats own Apple?", "Does Apple own Beats?"),
    ("How many ounces are in 5 grams?", "How many grams are in 5 ounces?"),
    ("Can an employee read a manager's private messages?", "Can a manager read an employee's private messages?"),
    ("강아지가 고양이를 무서워하나요?", "고양이가 강아지를 무서워하나요?"),
    ("부산에서 서울까지 가는 첫차는 몇 시인가요?", "서울에서 부산까지 가는 첫차는 몇 시인가요?"),
    ("파일 압축을 푸는 방법을 알려주세요", "파일을 압축하는 방법을 알려주세요"),
    ("하루에 물을 2컵 마셔야 하나요?", "하루에 물을 2리터 마셔야 하나요?"),
    ("학생이 선생님을 평가하는 기준은?", "선생님이 학생을 평가하는 기준은?"),  # v6: a word with a suffix (님)
    # v6 at the threshold calibrate_threshold recommended (0.52): Kiwi read 몇 as MM here and NR there, and
    # 없이 (without) was not read as a negation
    ("1마일은 몇 킬로미터인가요?", "1킬로미터는 몇 마일인가요?"),
    ("예약하고 방문할 수 있나요?", "예약 없이 방문할 수 있나요?"),
])
def test_exchanged_roles_units_and_an_undoing_verb_are_not_served(new, cached):  # at any similarity and threshold
    """Held-out v5 (2026-11-30) found these false hits at the default threshold: the same words with two
    of them exchanged (who owns whom, from where to where), a unit after a number (리터 / 컵) that the
    reader dropped, and a verb added that undoes the other's action (압축하다 / 압축을 풀다)."""
    assert not judge(new, cached, 0.999, DEFAULT_THRESHOLD).same
    assert not judge(new, cached, 0.999, 0.5).same


@pytest.mark.parametrize(("new", "cached"), [
    ("What is the difference between Java and Python?", "What is the difference between Python and Java?"),
    ("강아지를 고양이가 무서워하나요?", "고양이가 강아지를 무서워하나요?"),
    ("세일 상품도 환불받을 수 있나요?", "세일 상품도 환불되나요?"),
    ("여권 갱신은 어떻게 하나요?", "여권은 어떻게 갱신하나요?"),
])
def test_symmetric_joins_korean_scrambling_and_glued_verbs_still_hit(new, cached):
    """What the exchange and added-verb rules must not block: X and Y is Y and X; a Korean word moved with
    its particle keeps its role; 환불받다 is the refund's own action, not another one."""
    assert judge(new, cached, 0.999, DEFAULT_THRESHOLD).same
