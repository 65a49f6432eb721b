"""Attacks on the compressors that issue 16's tests did not try (2026-11-30): a fresh held-out set of rule
prompts (tests/data/rules_heldout_v2.jsonl, written before reading the compressors' rules), each rule
with the spans that must survive in order, through every built-in compressor at every rate, also when
the rules sit between retrieved documents or few-shot examples."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from llmcost_magic import compress

DATA = Path(__file__).parent / "data"
# v2 was written before reading the compressors' rules; v3 after the rag fix, before scoring (it found the
# selective breaks below). Spans that asked for an article or a determiner were loosened (noted in the data).
HELDOUT = [json.loads(line) for name in ("rules_heldout_v2", "rules_heldout_v3")
           for line in (DATA / f"{name}.jsonl").open(encoding="utf-8")]
RATES = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
QUERY = {"en": "What should I tell the customer about shipping times?", "ko": "고객에게 배송 기간을 어떻게 안내해야 하나요?"}


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def broken_rules(item: dict, text: str) -> list[str]:
    """The rules of ``item`` whose spans do not all appear, in order, in ``text``."""
    out, compressed = [], _norm(text)
    for rule in item["rules"]:
        at = 0
        for span in map(_norm, rule["spans"]):
            at = compressed.find(span, at)
            if at < 0:
                out.append(rule["sentence"])
                break
            at += len(span)
    return out


def _filler(item: dict) -> list[str]:
    text = item["prompt"]
    for rule in item["rules"]:
        text = text.replace(rule["sentence"], "\0")
    return [part.strip() for part in text.split("\0") if part.strip()]


def between_documents(item: dict) -> str:
    """The rules as their own pieces between labelled retrieved documents (the filler sentences)."""
    docs = [f"Document {i + 1}: {sentence}" for i, sentence in enumerate(_filler(item) * 2)]
    pieces = [piece for pair in zip(docs, [r["sentence"] for r in item["rules"]]) for piece in pair] + docs[len(item["rules"]):]
    return "\n---\n".join(pieces)


def between_examples(item: dict) -> str:
    """The rules as their own paragraphs between few-shot example blocks."""
    examples = [f"Example {i + 1}:\nQ: {sentence}\nA: Thank you for asking." for i, sentence in enumerate(_filler(item) * 2)]
    blocks = [block for pair in zip(examples, [r["sentence"] for r in item["rules"]]) for block in pair]
    return "\n\n".join(blocks + examples[len(item["rules"]):])


def test_the_sets_have_both_languages_and_every_kind_of_rule():
    assert sum(i["lang"] == "en" for i in HELDOUT) >= 10 and sum(i["lang"] == "ko" for i in HELDOUT) >= 10
    text = " ".join(i["prompt"] for i in HELDOUT)
    for cue in ("Never", "Do not", "must not", "Only if", "except", "unless", "at most 3", "-5°C", "2023-06-01", "https://",
                "```", "{\"", "절대", "마세요", "않", "없", "못", "금지", "제외", "이하", "미만"):
        assert cue in text, cue


@pytest.mark.parametrize("method", ["format", "selective", "format+selective", "fewshot", "rag"])
@pytest.mark.parametrize("item", HELDOUT, ids=[i["id"] for i in HELDOUT])
def test_every_rule_survives_every_builtin_compressor_at_every_rate(item, method):
    for rate in (None,) if method == "format" else RATES:
        text = compress(item["prompt"], method, rate=rate, query=QUERY[item["lang"]]).text
        assert not broken_rules(item, text), (rate, text)


@pytest.mark.parametrize("item", HELDOUT, ids=[i["id"] for i in HELDOUT])
def test_rules_between_retrieved_documents_are_never_dropped_by_rag(item):
    """Before: every piece between --- lines was a chunk ranked by relevance to the question, so the
    prompt's own instructions ("Never reveal...") were the first thing rag dropped."""
    prompt = between_documents(item)
    for rate in RATES:
        result = compress(prompt, "rag", rate=rate, query=QUERY[item["lang"]])
        assert not broken_rules(item, result.text), (rate, result.text)
        assert "Document" in result.text  # the most relevant document is still kept


@pytest.mark.parametrize("item", HELDOUT, ids=[i["id"] for i in HELDOUT])
def test_rules_between_few_shot_examples_are_never_dropped(item):
    prompt = between_examples(item)
    for rate in RATES:
        result = compress(prompt, "fewshot", rate=rate, query=QUERY[item["lang"]])
        assert not broken_rules(item, result.text), (rate, result.text)


@pytest.mark.parametrize(("prompt", "must_keep"), [
    ("You help pool visitors. Refrain from recommending lanes to swimmers; the staff assign them. The pool has a "
     "café, a sauna and a large terrace with deck chairs for sunny days.", "Refrain from recommending lanes"),
    ("You help drivers at the warehouse. Frozen goods must stay at or below -18 °C at all times. The warehouse has a "
     "canteen, three shifts and a large car park next to the loading docks.", "at or below -18 °C"),
    ("You help pool visitors. Children under 8 are not allowed in the deep end under any circumstances. The pool has "
     "a café, a sauna and a large terrace with deck chairs for sunny days.", "under any circumstances"),
    ("You answer questions about the club. Members must be 18 or older to enter the bar. The club has a gym, a pool, "
     "a sauna and a large terrace with deck chairs for sunny days.", "18 or older"),
])
def test_selective_keeps_refrain_comparatives_and_any_under_a_negation(prompt, must_keep):
    """v3's first scoring: 'Refrain from ...' was not read as a rule and thinned to 'swimmers;', 'at or below'
    lost 'at' (comparatives were read only two words back), 'not allowed ... under any circumstances' lost
    'any' (filler, even where a negation reaches it)."""
    for rate in RATES:
        assert must_keep in compress(prompt, "selective", rate=rate).text, rate
