"""LLMLingua and LLMLingua-2 through the ``llmlingua`` package (extra ``llmlingua``: torch, transformers).

Their output goes through the meaning guard: a rule that lost its negation, restriction or condition
("never share" -> "share") is put back whole, and if that cannot be done the compression is refused
(``CompressionError``; inside a policy the part is then sent as written, and the note says why).

Models load only from a local folder or the Hugging Face cache (``local_files_only``): nothing is
downloaded at run time. When the model is not there the error names the extra, the model and how to
point at a local copy (``model=`` or ``LLMCOST_LLMLINGUA2_MODEL`` / ``LLMCOST_LLMLINGUA_MODEL``).
"""

from __future__ import annotations

import os
import threading
from typing import Any

from ..core.errors import LLMCostError, MissingDependency
from . import guard
from .base import Compressed, CompressionError, check_rate, check_text

DEFAULT_RATE = 0.5
DEFAULT_MODELS = {2: "microsoft/llmlingua-2-xlm-roberta-large-meetingbank", 1: "openai-community/gpt2"}
MODEL_ENV = {2: "LLMCOST_LLMLINGUA2_MODEL", 1: "LLMCOST_LLMLINGUA_MODEL"}
_loaded: dict[tuple[str, int], Any] = {}
_lock = threading.Lock()


class ModelUnavailable(LLMCostError):
    """The compressor's model is neither on disk nor downloadable from here."""


class LinguaCompressor:
    """LLMLingua-2 (``version=2``: a token classifier keeps or drops each word) or LLMLingua
    (``version=1``: a small causal LM drops low-perplexity tokens). ``model`` is a name or a folder."""

    def __init__(self, version: int = 2, model: str | None = None, device: str = "cpu") -> None:
        if version not in DEFAULT_MODELS:
            raise ValueError(f"LLMLingua version must be 1 or 2, got {version!r}")
        self.version = version
        self.name = "llmlingua2" if version == 2 else "llmlingua"
        self.model = model or os.environ.get(MODEL_ENV[version]) or DEFAULT_MODELS[version]
        self.device = device

    def compress(self, text: str, *, rate: float | None = None, query: str = "", model: str = "gpt-4o") -> Compressed:
        check_text(text, self.name)
        rate = check_rate(rate, self.name) or DEFAULT_RATE
        compressor = self._compressor()
        if self.version == 2:
            result = compressor.compress_prompt(text, rate=rate, force_tokens=["\n", "?", ".", "!"], drop_consecutive=True)
        else:
            # llmlingua 0.2.2 slices the KV cache as (key, value) pairs, which transformers 5 no longer returns:
            # a prompt longer than one window (iterative_size) crashes, so the window covers the whole prompt.
            window = max(200, min(compressor.get_token_length(text) + 8, compressor.max_position_embeddings // 2 - 8))
            try:
                result = compressor.compress_prompt([text], question=query, rate=rate, iterative_size=window)
            except ValueError as failure:
                raise CompressionError(f"{self.name}: this prompt is longer than the model's window ({window} tokens) and "
                                       f"llmlingua 0.2.2 cannot slide it with this transformers release ({failure}); "
                                       f"use llmlingua2 or selective") from failure
            result["compressed_prompt"] = result["compressed_prompt"].removesuffix("\n\n" + query) if query else result["compressed_prompt"]
        compressed, restored = guard.restore(text, result["compressed_prompt"].strip() or text)
        if guard.reversed_rules(text, compressed):
            raise CompressionError(f"{self.name}: refused: the model dropped a negation, restriction or condition from a "
                                   f"rule and it could not be put back; the text is left as written")
        note = "no-op: the model kept every token" if compressed == text else ""
        if restored:
            note = (f"put back {restored} rule{'s' * (restored != 1)} whose negation, restriction or condition "
                    f"the model dropped")
        return Compressed(text, compressed, self.name, rate, model, note=note)

    def _compressor(self) -> Any:
        key = (self.model, self.version)
        with _lock:
            if key not in _loaded:
                _loaded[key] = self._load()
            return _loaded[key]

    def _load(self) -> Any:
        try:
            from llmlingua import PromptCompressor
        except ImportError:
            raise MissingDependency(f"{self.name} (the llmlingua package, torch and transformers)", "llmlingua") from None
        from ..core.tokens import encoding_for_model

        encoding_for_model("gpt-3.5-turbo")  # llmlingua counts with cl100k: load it from the bundled ranks
        try:  # never a model hub at run time: a local folder or the Hugging Face cache only
            return PromptCompressor(model_name=self.model, device_map=self.device,
                                    model_config={"local_files_only": True}, use_llmlingua2=self.version == 2)
        except (OSError, ValueError) as failure:
            raise ModelUnavailable(
                f"{self.name}: model {self.model!r} is not on this machine ({type(failure).__name__}); llmcost_magic "
                f"never downloads models at run time. Download it where there is network (e.g. `hf download {self.model} "
                f"--local-dir ./models/{self.model.rsplit('/', 1)[-1]}`), then pass model='./models/…' or set "
                f"{MODEL_ENV[self.version]}=./models/…. LLMLingua-2 folder names must contain "
                f"'xlm-roberta-large' or 'bert-base-multilingual-cased' (llmlingua picks the word splitter by name)."
            ) from failure
