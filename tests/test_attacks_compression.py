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
HELDOUT = [json.loads(line) for line in (DATA / "rules_heldout_v2.jsonl").open(encoding="utf-8")]
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


def test_the_set_has_both_languages_and_every_kind_of_rule():
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
