"""``%llmcost cache ...`` and the Python API for the response cache: stats, audit, clear, reject."""

from __future__ import annotations

import difflib
import time
from typing import TYPE_CHECKING, Any

from .session import current_cache_store, current_ledger, current_semantic_index

if TYPE_CHECKING:
    import pandas as pd


def cache_stats() -> pd.DataFrame:
    """Entries in the store, and this session's hits, hit rate and dollars saved by cache."""
    import pandas as pd

    store = current_cache_store()
    calls = current_ledger().dataframe(session=current_ledger().session)
    served = calls[calls["cache"].fillna("") != ""]
    cacheable = len(calls[calls["status"] == "ok"])
    row = {
        **store.stats(time.time()),
        "session_calls": cacheable,
        "session_hits": len(served),
        "hit_rate": round(len(served) / cacheable, 4) if cacheable else 0.0,
        "exact_hits": int((served["cache"] == "exact").sum()),
        "semantic_hits": int((served["cache"] == "semantic").sum()),
        "saved_usd": float(served["saved_usd"].sum()),
        "store": type(store).__name__,
    }
    return pd.DataFrame([row])


def semantic_audit(limit: int = 50) -> pd.DataFrame:
    """Recent semantic hits side by side: new question, cached question, similarity, word diff, key."""
    import pandas as pd

    rows = []
    for i, hit in enumerate(current_semantic_index().audit[-limit:]):
        diff = [w for w in difflib.ndiff(hit["cached_question"].split(), hit["question"].split()) if w[:1] in "+-"]
        rows.append({"id": i, "question": hit["question"], "cached_question": hit["cached_question"],
                     "similarity": hit["similarity"], "diff": " ".join(diff), "key": hit["key"]})
    return pd.DataFrame(rows, columns=["id", "question", "cached_question", "similarity", "diff", "key"])


def reject_answer(key: str | None = None, reason: str = "rejected by the user") -> str:
    """Remove a cached answer and block it from being cached again (default: the last one served or stored).

    ``key`` is an entry key, or an id from :func:`semantic_audit`.
    """
    index = current_semantic_index()
    if key is None:
        key = _last_key()
    elif key.isdigit() and index.audit:
        key = index.audit[-50:][int(key)]["key"]
    if key is None:
        raise ValueError("No cached answer to reject yet: pass the key shown by %llmcost cache audit.")
    current_cache_store().block(key, reason)
    return key


def clear_cache(*, tag: str | None = None, model: str | None = None) -> int:
    """Delete cached answers (all, or by tag and/or model); returns how many."""
    return current_cache_store().clear(tag=tag, model=model)


_last: dict[str, Any] = {"cache": None}


def remember_cache(cache: Any) -> None:
    """The most recent ResponseCache in use, so ``reject_answer()`` knows the last key."""
    _last["cache"] = cache


def _last_key() -> str | None:
    cache = _last["cache"]
    return cache.last_key if cache is not None else None
