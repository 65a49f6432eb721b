"""The text fields of a ``multipart/form-data`` body, and the name and size of its files.

The SDKs send audio and image uploads as multipart bodies; the seam needs their ``model``,
``prompt``, ``n``, ``size``... and never keeps file bytes. Hand-written (a few lines over
``bytes.find``) because the stdlib's ``email`` parser copies every part, which a 25 MB upload
should not pay for on each call.
"""

from __future__ import annotations

import re
from typing import Any

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.I)
_DISPOSITION = re.compile(rb'(\w+)="([^"]*)"')


def boundary_of(content_type: str) -> str | None:
    found = _BOUNDARY.search(content_type) if content_type.lower().startswith("multipart/form-data") else None
    return found.group(1) if found else None


def form_fields(body: bytes, content_type: str) -> dict[str, Any] | None:
    """``{name: text}`` for text fields and ``{name: {"filename", "bytes"}}`` for files (a list when
    a name repeats, like ``image[]``); None when the body is not multipart/form-data."""
    boundary = boundary_of(content_type)
    if boundary is None:
        return None
    marker = b"--" + boundary.encode("latin-1")
    fields: dict[str, Any] = {}
    start = body.find(marker)
    while start >= 0:
        head_start = start + len(marker)
        if body[head_start:head_start + 2] == b"--":
            break  # the closing boundary
        head_end = body.find(b"\r\n\r\n", head_start)
        end = body.find(b"\r\n" + marker, head_end + 4) if head_end >= 0 else -1
        if end < 0:
            break
        params = dict(_DISPOSITION.findall(body[head_start:head_end]))
        name = params.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in params:
            value: Any = {"filename": params[b"filename"].decode("utf-8", "replace"), "bytes": end - head_end - 4}
        else:
            value = body[head_end + 4:end].decode("utf-8", "replace")
        name = name.removesuffix("[]")
        if name in fields:
            fields[name] = [*fields[name], value] if isinstance(fields[name], list) else [fields[name], value]
        else:
            fields[name] = value
        start = end + 2
    return fields


def stream_fields(fields: list[Any]) -> dict[str, Any]:
    """The same, from an httpx / httpx2 ``MultipartStream``'s fields (a request not read into memory):
    text fields as text, files as their name and size (None when the size cannot be known unread)."""
    out: dict[str, Any] = {}
    for field in fields:
        name = str(field.name).removesuffix("[]")
        if hasattr(field, "filename"):
            length = field.get_length()
            value: Any = {"filename": field.filename,
                          "bytes": None if length is None else length - len(field.render_headers())}
        else:
            value = field.value.decode("utf-8", "replace") if isinstance(field.value, bytes) else str(field.value)
        if name in out:
            out[name] = [*out[name], value] if isinstance(out[name], list) else [out[name], value]
        else:
            out[name] = value
    return out
