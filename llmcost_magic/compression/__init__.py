"""Prompt compression: compressors for text, conversation history helpers, and fidelity measures.

>>> from llmcost_magic.compression import compress, measure
>>> result = compress(long_prompt, "format+selective:0.5")      # doctest: +SKIP
>>> result.tokens_before, result.tokens_after, measure(result)   # doctest: +SKIP
"""

from .base import Compressed, CompressionError, Compressor, word_diff
from .examples import FewShotCompressor, prune_examples
from .fidelity import Fidelity, fidelity, measure
from .formats import FormatCompressor, compact_format
from .history import HistorySummary, keep_last_turns, keep_within_budget, split_turns, summarize_history
from .lingua import LinguaCompressor, ModelUnavailable
from .messages import BodyCompression, compress_messages
from .methods import HISTORY_METHODS, TEXT_METHODS, compress, compressor, parse_spec
from .retrieval import RagCompressor, trim_context
from .selective import SelectiveCompressor, self_information

__all__ = [
    "Compressed", "CompressionError", "Compressor", "word_diff", "FewShotCompressor", "prune_examples", "Fidelity",
    "fidelity", "measure", "FormatCompressor", "compact_format", "HistorySummary", "keep_last_turns",
    "keep_within_budget", "split_turns", "summarize_history", "LinguaCompressor", "ModelUnavailable",
    "BodyCompression", "compress_messages", "HISTORY_METHODS", "TEXT_METHODS", "compress", "compressor", "parse_spec",
    "RagCompressor", "trim_context", "SelectiveCompressor", "self_information",
]
