"""``%llmcost cache ...`` and the Python API for the response cache: stats, audit, clear, reject.

Each command acts on the store that serves answers (see :func:`~llmcost_magic.session.serving_cache`):
the workshop's Redis in workshop mode, else the store of the cache last in use.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .core.messages import labelled, tr
from .session import current_ledger, last_cache, remember_cache, serving_cache  # noqa: F401 - remember_cache re-exported

if TYPE_CHECKING:
    import pandas as pd


def cache_stats(*, workshop: str | None = None) -> pd.DataFrame:
    """Entries in the serving store, and this session's hits, hit rate and dollars saved by cache."""
    import pandas as pd

    store, _ = serving_cache(workshop)
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
    return labelled(pd.DataFrame([row]))


def semantic_audit(limit: int = 50, *, workshop: str | None = None) -> pd.DataFrame:
    """Recent semantic hits: new question, cached question, similarity, the threshold the entry needed,
    why the guard let the pair pass, and the key (in memory only, never in the ledger)."""
    import pandas as pd

    columns = ["id", "question", "cached_question", "similarity", "threshold", "why_served", "key"]
    _, index = serving_cache(workshop)
    hits = index.audit[-limit:] if index is not None else []
    rows = [{"id": i, **{c: hit.get(c, "") for c in columns[1:]}} for i, hit in enumerate(hits)]
    return labelled(pd.DataFrame(rows, columns=columns))


def reject_answer(key: str | None = None, reason: str = "rejected by the user", *, workshop: str | None = None) -> str:
    """Say a served answer was wrong (default: the last one served or stored); returns its key.

    ``key`` is an entry key, or an id from :func:`semantic_audit`. A semantic hit is a wrong match,
    not a wrong answer: the entry stays, and its threshold rises above that hit's similarity (it will
    need a closer question). Any other answer is removed and blocked from being cached again.
    """
    store, index = serving_cache(workshop)
    hit = _audit_row(index, key)
    if hit is not None:
        index.reject_hit(hit["key"], hit["similarity"])
        _last["rejected"] = tr("raised the threshold of the semantic entry (rejected at similarity {similarity:.3f})",
                               similarity=hit["similarity"])
        return str(hit["key"])
    key = key or _last_key()
    if key is None:
        raise ValueError(tr("No cached answer to reject yet: pass the key shown by %llmcost cache audit."))
    store.block(key, reason)
    if index is not None:
        index.reject(key)
    _last["rejected"] = tr("removed and blocked cached answer (in {store})", store=type(store).__name__)
    return key


def confirm_answer(key: str | None = None, *, workshop: str | None = None) -> str:
    """Say a semantic hit was right (default: the last one): evidence that lets its entry's threshold
    come down, within the cache's error bound. Returns the entry's key."""
    _, index = serving_cache(workshop)
    hit = _audit_row(index, key)
    if hit is None:
        raise ValueError(tr("No semantic hit to confirm: pass an id from %llmcost cache audit."))
    index.confirm_hit(hit["key"], hit["similarity"])
    return str(hit["key"])


def _audit_row(index: Any, key: str | None) -> dict[str, Any] | None:
    """The audit row ``key`` names (an audit id, or an entry key), or the last hit when it was semantic."""
    if index is None or not index.audit:
        return None
    recent = index.audit[-50:]
    if key is None:
        cache = last_cache()
        last = recent[-1]
        return last if cache is not None and cache.last_hit_kind == "semantic" and cache.last_key == last["key"] else None
    if key.isdigit() and int(key) < len(recent):
        return recent[int(key)]
    return None


def clear_cache(*, tag: str | None = None, model: str | None = None, workshop: str | None = None,
                user: str | None = None) -> int:
    """Delete cached answers (all, or by tag and/or model) from the serving store; returns how many. In a
    workshop, ``user`` (a participant) clears only the answers they stored; without it, the whole room's."""
    store, index = serving_cache(workshop)
    if workshop and user:
        removed = store.clear(tag=tag, model=model, owner=user)
    else:
        removed = store.clear(tag=tag, model=model)
    if index is not None:
        index.forget()
    return removed


_last: dict[str, Any] = {"rejected": ""}


def last_rejection() -> str:
    """What the last :func:`reject_answer` did, in words."""
    return str(_last["rejected"])


def _last_key() -> str | None:
    cache = last_cache()
    return cache.last_key if cache is not None else None
