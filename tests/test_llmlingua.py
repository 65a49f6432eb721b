"""LLMLingua and LLMLingua-2 through the real ``llmlingua`` package, on tiny models built here.

The models are randomly initialised, so what they keep means nothing; the plumbing (loading from a
folder, compressing, counting, the policy, the errors) is real.
"""

from __future__ import annotations

import pytest

pytest.importorskip("llmlingua", reason="needs the llmlingua extra: pip install 'llmcost-magic[llmlingua]'")

from llmcost_magic import meter  # noqa: E402
from llmcost_magic.compression import LinguaCompressor, ModelUnavailable  # noqa: E402
from llmcost_magic.sandbox import client  # noqa: E402

CORPUS = ["The invoice 42 is due tomorrow, please pay it before noon.",
          "Refunds take 5 to 7 business days after the billing team approves them.",
          "사용자는 반드시 환불 정책을 읽어야 합니다. 고객 지원은 24시간 운영됩니다."] * 20
TEXT = " ".join(CORPUS[:3]) * 4


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    """A token classifier (LLMLingua-2) and a causal LM (LLMLingua), each with a tokenizer trained
    on a few sentences, saved to folders the way a downloaded model would be."""
    import torch
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import (BertConfig, BertForTokenClassification, BertTokenizerFast, GPT2Config, GPT2LMHeadModel,
                              PreTrainedTokenizerFast)

    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("models")
    # llmlingua picks its word splitter by the model's name, hence the folder name.
    bert_dir = root / "tiny-bert-base-multilingual-cased"
    wordpiece = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    wordpiece.normalizer = normalizers.BertNormalizer(lowercase=False)
    wordpiece.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    wordpiece.decoder = decoders.WordPiece()
    wordpiece.train_from_iterator(CORPUS, trainers.WordPieceTrainer(
        vocab_size=400, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    bert_tok = BertTokenizerFast(tokenizer_object=wordpiece, do_lower_case=False, unk_token="[UNK]", pad_token="[PAD]",
                                 cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")
    bert_tok.save_pretrained(bert_dir)
    BertForTokenClassification(BertConfig(vocab_size=len(bert_tok), hidden_size=16, num_hidden_layers=1,
                                          num_attention_heads=2, intermediate_size=32, num_labels=2)).save_pretrained(bert_dir)
    gpt_dir = root / "tiny-gpt2"
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(CORPUS, trainers.BpeTrainer(vocab_size=500, special_tokens=["<|endoftext|>"],
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    gpt_tok = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                                      unk_token="<|endoftext|>")
    gpt_tok.save_pretrained(gpt_dir)
    end = gpt_tok.convert_tokens_to_ids("<|endoftext|>")
    GPT2LMHeadModel(GPT2Config(vocab_size=len(gpt_tok), n_embd=16, n_layer=1, n_head=2, n_positions=1024,
                               bos_token_id=end, eos_token_id=end)).save_pretrained(gpt_dir)
    return {"v2": str(bert_dir), "v1": str(gpt_dir)}


def test_llmlingua2_compresses_to_about_the_rate(tiny_models):
    result = LinguaCompressor(version=2, model=tiny_models["v2"]).compress(TEXT, rate=0.5)
    assert result.method == "llmlingua2" and result.rate == 0.5
    assert 0.2 < result.tokens_after / result.tokens_before < 0.8
    assert result.dropped and all(word.strip(".,!?") in TEXT for word in result.text.split())  # words are kept or dropped, never made up


def test_llmlingua1_runs_through_the_package(tiny_models):
    result = LinguaCompressor(version=1, model=tiny_models["v1"]).compress(TEXT, rate=0.5, query="When is the invoice due?")
    assert result.method == "llmlingua" and result.tokens_after <= result.tokens_before
    assert "When is the invoice due?" not in result.text  # the question is not glued onto the context


def test_llmlingua2_as_a_policy_through_the_sdk(tiny_models, monkeypatch):
    monkeypatch.setenv("LLMCOST_LLMLINGUA2_MODEL", tiny_models["v2"])
    from llmcost_magic.compression import methods

    methods._built_in.cache_clear()
    try:
        with meter(compress="llmlingua2:0.5") as m:
            client("openai").chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": TEXT}, {"role": "user", "content": "Due when?"}])
    finally:
        methods._built_in.cache_clear()
    rec = m.records[0]
    assert rec.saved_by == "compression" and rec.input_tokens_before > rec.usage.input_tokens


def test_a_model_that_is_not_here_fails_with_the_fix_and_no_download(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # even where the hub is allowed, nothing is fetched
    from transformers.utils import hub

    real, asked = hub.hf_hub_download, []

    def local_only(*args, **kwargs):
        asked.append(kwargs.get("local_files_only"))
        assert kwargs.get("local_files_only"), f"tried to reach the model hub: {args}"
        return real(*args, **kwargs)

    monkeypatch.setattr(hub, "hf_hub_download", local_only)
    with pytest.raises(ModelUnavailable) as info:
        LinguaCompressor(version=2, model="nobody/no-such-model").compress(TEXT)
    message = str(info.value)
    assert "nobody/no-such-model" in message and "LLMCOST_LLMLINGUA2_MODEL" in message and "local-dir" in message
    assert "never downloads" in message and asked and all(asked)


def _heldout() -> list[dict]:
    import json
    from pathlib import Path

    return [json.loads(line) for line in (Path(__file__).parent / "data" / "negative_rules_heldout.jsonl").open(encoding="utf-8")]


@pytest.mark.parametrize("version", [2, 1])
def test_the_guard_puts_back_every_rule_the_model_reversed(tiny_models, version):
    """The tiny models keep random tokens, so they drop negations; none survives the guard."""
    from llmcost_magic.compression import guard

    engine = LinguaCompressor(version=version, model=tiny_models["v2" if version == 2 else "v1"])
    prompts = [item["prompt"] for item in _heldout()]
    restored = 0
    for prompt in prompts:
        result = engine.compress(prompt, rate=0.3)
        assert all(m.rules_reversed == 0 for m in guard.check(prompt, result.text).values()), result.text
        restored += "put back" in result.note
    assert restored >= len(prompts) // 4  # the guard had work to do


def test_without_a_repair_the_compression_is_refused_and_the_policy_sends_the_text_as_written(tiny_models, monkeypatch):
    from llmcost_magic.compression import CompressionError, guard, methods

    monkeypatch.setattr(guard, "restore", lambda original, compressed, analysis=None: (compressed, 0))
    prompt = _heldout()[0]["prompt"]
    with pytest.raises(CompressionError, match="refused: the model dropped a negation"):
        LinguaCompressor(version=2, model=tiny_models["v2"]).compress(prompt, rate=0.3)
    monkeypatch.setenv("LLMCOST_LLMLINGUA2_MODEL", tiny_models["v2"])
    methods._built_in.cache_clear()
    try:
        with meter(compress="llmlingua2:0.3") as m:
            client("openai").chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "system", "content": prompt}, {"role": "user", "content": "Hi?"}])
    finally:
        methods._built_in.cache_clear()
    assert m.records[0].saved_by != "compression"  # sent as written
