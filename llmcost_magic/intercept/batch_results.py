"""Batch results read directly through the SDKs (OpenAI ``files.content`` of a batch's output file,
Anthropic ``messages.batches.results``): each succeeded request becomes one row at batch prices when its
results are read, once per (file or batch, custom_id), however often they are read and in whichever
process shares the ledger. Submissions are not billed rows. The package's own batch helper records its
results itself, so it reads them with :data:`collecting` set and the seam stays out.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from typing import Any

from .call import loads_or_none

collecting: contextvars.ContextVar[bool] = contextvars.ContextVar("llmcost_batch_collecting", default=False)
NOTE = "batch result {source} {custom_id}"
_lock = threading.Lock()
_recorded: set[tuple[int, str, str]] = set()  # (id of the ledger, source, custom_id) claimed in this process


def source_of(path: str) -> str:
    """The output file id (``/files/{id}/content``) or batch id (``/messages/batches/{id}/results``)."""
    return path.rstrip("/").split("/")[-2]


def succeeded(provider: str, raw: bytes) -> Iterator[tuple[str, dict[str, Any]]]:
    """(custom_id, response body) of each line that succeeded; other files (inputs, uploads) yield nothing."""
    for line in raw.splitlines():
        entry = loads_or_none(line) if line.strip() else None
        if not isinstance(entry, dict) or not isinstance(entry.get("custom_id"), str):
            continue
        if provider == "openai":
            response = entry.get("response") or {}
            if response.get("status_code") == 200 and isinstance(response.get("body"), dict):
                yield entry["custom_id"], response["body"]
        else:
            result = entry.get("result") or {}
            if result.get("type") == "succeeded" and isinstance(result.get("message"), dict):
                yield entry["custom_id"], result["message"]


def claim(ledger: Any, source: str, custom_ids: list[str]) -> set[str]:
    """The custom_ids of ``source`` not recorded yet (here or in the ledger), now marked recorded."""
    prefix = NOTE.format(source=source, custom_id="")
    seen = {note[len(prefix):] for (note,) in ledger.query("SELECT note FROM calls WHERE note LIKE ?", (f"{prefix}%",))}
    key = id(ledger)
    with _lock:
        fresh = {c for c in custom_ids if c not in seen and (key, source, c) not in _recorded}
        _recorded.update((key, source, c) for c in fresh)
    return fresh
