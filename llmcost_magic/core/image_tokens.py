"""Input tokens of an image before it is sent: each provider's published formula by size, detail and model.

Sizes are read from the image header of a ``data:`` URL or base64 source (PNG, JPEG, GIF, WebP). Pillow
is not a dependency and only the header is needed, so the few bytes are parsed here. An image whose size
cannot be known before sending (an https URL, a file id) is counted at the worst case for the model and
marked not exact. The rules and their sources are in ``data/image_tokens.yaml``.

>>> image_tokens({"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}}, "gpt-4o")
ImageCount(tokens=85, exact=True)
"""

from __future__ import annotations

import base64
import binascii
import functools
import math
import struct
from collections.abc import Mapping
from importlib import resources
from typing import Any, NamedTuple

__all__ = ["ImageCount", "image_size", "image_tokens"]


class ImageCount(NamedTuple):
    tokens: int
    exact: bool  # False: the size or the detail the provider will use is not known, so the worst case


@functools.cache
def _rules() -> dict[str, Any]:
    import yaml

    return yaml.safe_load(resources.files("llmcost_magic").joinpath("data", "image_tokens.yaml").read_text(encoding="utf-8"))


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG, GIF, WebP or JPEG header; None for anything else."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8X":
            return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
        if chunk == b"VP8 ":
            w, h = struct.unpack("<HH", data[26:30])
            return w & 0x3FFF, h & 0x3FFF
        return None
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Walk the JPEG segments to the first start-of-frame marker, which holds the size."""
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            i += 2
            continue
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        i += 2 + length
    return None


def _decoded_size(url_or_data: str) -> tuple[int, int] | None:
    payload = url_or_data.split(",", 1)[1] if url_or_data.startswith("data:") else url_or_data
    if url_or_data.startswith(("http://", "https://")):
        return None
    try:
        head = base64.b64decode(payload[:(len(payload) // 4) * 4], validate=False)
    except (binascii.Error, ValueError):
        return None
    return image_size(head)


def _source(part: Mapping[str, Any]) -> tuple[str | None, str]:
    """(the URL or base64 data, the detail asked for) of a chat, Responses or Messages image part."""
    detail = str(part.get("detail") or "auto")
    url = part.get("image_url")
    if isinstance(url, Mapping):
        detail = str(url.get("detail") or detail)
        url = url.get("url")
    source = part.get("source")
    if isinstance(source, Mapping):
        url = source.get("data") if source.get("type") == "base64" else source.get("url")
    return (url if isinstance(url, str) else None), detail


def _tile_rule(model: str) -> tuple[Mapping[str, Any], bool]:
    """(rule, is_patch_rule) for an OpenAI model: longest matching prefix wins."""
    rules = _rules()["openai"]
    candidates = [(r, False) for r in rules["tiles"]] + [(r, True) for r in rules["patches"]]
    matching = [(r, p) for r, p in candidates if model.startswith(r["prefix"])]
    if not matching:
        return rules["default"], False
    return max(matching, key=lambda rp: len(rp[0]["prefix"]))


def _tiles(w: float, h: float) -> int:
    if max(w, h) > 2048:
        w, h = w * 2048 / max(w, h), h * 2048 / max(w, h)
    if min(w, h) > 768:
        w, h = w * 768 / min(w, h), h * 768 / min(w, h)
    return math.ceil(w / 512) * math.ceil(h / 512)


def _patches(w: float, h: float) -> int:
    if math.ceil(w / 32) * math.ceil(h / 32) > 1536:
        r = math.sqrt(32 * 32 * 1536 / (w * h))
        r *= min(math.floor(w * r / 32) / (w * r / 32), math.floor(h * r / 32) / (h * r / 32))
        w, h = w * r, h * r
    return min(math.ceil(w / 32) * math.ceil(h / 32), 1536)


def _claude(w: float, h: float) -> int:
    rule = _rules()["anthropic"]
    per, cap = rule["pixels_per_token"], rule["max_tokens"]
    scale = min(1.0, rule["max_long_edge"] / max(w, h), math.sqrt(cap * per / (w * h)))
    return min(math.ceil(math.floor(w * scale) * math.floor(h * scale) / per), cap)


def image_tokens(part: Mapping[str, Any], model: str) -> ImageCount:
    """Input tokens of one image part on ``model`` (OpenAI or Claude)."""
    url, detail = _source(part)
    size = _decoded_size(url) if url else None
    name = model.lower().removeprefix("openai/").removeprefix("anthropic/")
    if name.startswith("claude"):
        return ImageCount(_claude(*size), True) if size else ImageCount(_rules()["anthropic"]["max_tokens"], False)
    rule, patches = _tile_rule(name)
    if patches:
        count = _patches(*size) if size else 1536
        return ImageCount(math.ceil(count * rule["multiplier"]), size is not None)
    if detail == "low":
        return ImageCount(rule["base"], True)
    tiles = _tiles(*size) if size else 8  # the most 512 px tiles any image can take after scaling
    return ImageCount(rule["base"] + rule["tile"] * tiles, size is not None and detail == "high")
