"""Routers on RouteLLM's recorded answers: the public API, label hygiene, metrics and validators."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest

from llmcost_magic.evaluation import ROUTERS, evaluate_routers, router_scores, shipped_path, split_shared
from llmcost_magic.evaluation import metrics
from llmcost_magic.policies.validators import (all_of, arithmetic, failed_checks, final_number, json_parses, matches,
                                               numeric_answer, passes, wrong_calculations)

LABELS = ["strong_correct", "weak_correct", "strong_response", "reference_answer"]


@pytest.fixture(scope="module")
def halves():
    return split_shared()


@pytest.fixture(scope="module")
def small_files(tmp_path_factory, halves):
    """A small test file (GSM8K and two MMLU domains) with and without labels, and a train file."""
    train, test = halves
    folder = tmp_path_factory.mktemp("recorded")
    mmlu = test[test.benchmark == "mmlu"]
    sample = pd.concat([test[test.benchmark == "gsm8k"].head(60), mmlu[mmlu.domain.isin(mmlu.domain.unique()[:2])].head(80)])
    paths = {}
    for name, frame in (("labelled", sample), ("unlabelled", sample.drop(columns=LABELS)), ("train", train)):
        paths[name] = folder / f"{name}.jsonl"
        frame.to_json(paths[name], orient="records", lines=True, force_ascii=False)
    lying = sample.copy()
    lying[["strong_correct", "weak_correct"]] = ~lying[["strong_correct", "weak_correct"]]
    lying["strong_response"] = "#### 0"
    paths["lying"] = folder / "lying.jsonl"
    lying.to_json(paths["lying"], orient="records", lines=True, force_ascii=False)
    return paths, sample


def test_routers_table_has_the_published_shape():
    assert isinstance(ROUTERS, dict) and ROUTERS
    assert set(ROUTERS.values()) <= {"prompt", "answer"}
    assert {"prompt", "answer"} <= set(ROUTERS.values())


@pytest.mark.parametrize("name", list(ROUTERS))
def test_router_scores_cover_every_item_and_never_read_test_labels(name, small_files):
    paths, sample = small_files
    with_labels = router_scores(name, test=str(paths["labelled"]), train=str(paths["train"]))
    without = router_scores(name, test=str(paths["unlabelled"]), train=str(paths["train"]))
    lying = router_scores(name, test=str(paths["lying"]), train=str(paths["train"]))
    assert isinstance(without, pd.Series)
    assert list(without.index) == list(sample["id"]) and without.index.name == "id"
    assert np.isfinite(without.to_numpy()).all()
    pd.testing.assert_series_equal(with_labels, without)
    pd.testing.assert_series_equal(lying, without)


def test_router_scores_read_a_gzipped_test_file_and_default_to_the_shipped_train_half(tmp_path, small_files):
    paths, sample = small_files
    gz = tmp_path / "test.jsonl.gz"
    gz.write_bytes(gzip.compress(paths["unlabelled"].read_bytes()))
    scores = router_scores("probe", test=gz)
    assert list(scores.index) == list(sample["id"])


def test_unknown_router_is_refused_with_the_names():
    with pytest.raises(ValueError, match="probe"):
        router_scores("gpt-judge", test=shipped_path())


def test_split_keeps_gsm8k_items_and_mmlu_domains_apart(halves):
    train, test = halves
    assert not set(train.id) & set(test.id)
    assert not set(train[train.benchmark == "mmlu"].domain) & set(test[test.benchmark == "mmlu"].domain)
    assert len(train) + len(test) == 7669


def test_metrics_match_hand_computed_values():
    weak, strong = np.array([1, 0, 1, 0.0]), np.array([1, 1, 1, 1.0])
    perfect = np.array([0, 1, 0, 1.0])
    assert metrics.apgr(perfect, weak, strong) == pytest.approx(0.75)
    assert metrics.cpt(perfect, weak, strong, 0.5) == 0.25
    assert metrics.apgr(np.zeros(4), weak, strong) == pytest.approx(0.5)  # all tied: the random line
    assert metrics.apgr(-perfect, weak, strong) == pytest.approx(0.25)
    assert metrics.share_for_accuracy(perfect, weak, strong, 0.95) == 0.5


def test_the_table_on_the_held_out_split_has_baselines_and_meets_the_answer_checking_target(halves):
    train, test = halves
    table = evaluate_routers(test=test[test.benchmark == "gsm8k"], train=train)
    assert {"random", "oracle", *ROUTERS} <= set(table.loc["gsm8k"].index)
    assert table.loc[("gsm8k", "random"), "apgr"] == pytest.approx(0.5)
    best = table.loc["gsm8k"].query("kind == 'answer'")
    assert best["apgr"].max() >= 0.70 and best["cpt50"].min() <= 0.20
    row = table.loc[("gsm8k", "answer-checks+probe")]
    assert row["apgr_low"] <= row["apgr"] <= row["apgr_high"]
    assert row["usd_95"] < row["usd_always_strong"]


def test_numeric_validator_reads_final_numbers_and_checks_the_arithmetic():
    assert final_number("So 9 eggs.\n#### 1,018") == 1018.0
    assert final_number("The answer is $2.50.") == 2.5
    assert final_number("no number here") is None
    assert wrong_calculations("3 x 60 = <<3*60=180>>180 and 180 x 3 = 540") == []
    assert wrong_calculations("<<9*2=19>>19") == ["9*2=19"]
    assert numeric_answer()("16 - 7 = 9\n#### 9")
    assert not numeric_answer()("16 - 7 = 8\n#### 8")
    assert not numeric_answer()("She makes 18 dollars.")  # no final answer line
    assert not numeric_answer(whole=True)("#### 2.5")


def test_arithmetic_never_runs_code():
    with pytest.raises(ValueError):
        arithmetic("__import__('os').system('echo pwned')")
    with pytest.raises(ValueError):
        arithmetic("9 ** 9 ** 9")
    assert not numeric_answer()("<<__import__('os')=1>>1\n#### 1")


def test_user_validators_combine_and_a_raising_check_fails():
    def unit_test(text: str) -> None:
        assert json.loads(text)["total"] == 3

    assert json_parses("```json\n{\"a\": 1}\n```") and not json_parses("{a: 1}")
    assert matches(r"^\d{4}-\d{2}-\d{2}$")("2026-11-30")
    assert passes(unit_test)('{"total": 3}') and not passes(unit_test)('{"total": 4}')
    assert all_of(json_parses, passes(unit_test))('{"total": 3}')

    def boom(text: str) -> bool:
        raise RuntimeError("bug in the validator")

    assert failed_checks("{}", [json_parses, boom]) == ["boom"]
