"""The prompt-cache doctor: for every call that could have read a provider's prompt cache, why it did
not, what the miss cost, and the fix, priced with the same price tables as the ledger.

    import llmcost_magic as lm
    lm.prompt_cache_doctor()            # this session; .table is a DataFrame, the notebook shows a short HTML view

A call "could have read" when the stable part of its prompt (everything before the newest message, or
before the last block of a newest message that has several) was sent before. Reasons, in the order
they are checked: first call (nothing to read yet), model changed (caches are per model), prefix
changed at block K (by a timestamp, a reordered tool, a new system line, or another edit: compared
in memory, on this session's recent calls only), below the model's minimum cacheable length, an entry
beyond Anthropic's 20-block lookback, no breakpoint on the stable prefix, TTL expired after N minutes idle, and the provider's own
``cache_miss_reason`` when it gave one.
"""

from __future__ import annotations

import html
import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from ..core.pricing import UnknownModelError, price_for
from ..core.messages import label, plural, shown, tr
from ..core.provider_rules import (
    ANTHROPIC_CACHE_TTL_S,
    ANTHROPIC_LOOKBACK_BLOCKS,
    OPENAI_BREAKPOINT_TTL_S,
    OPENAI_CACHE_TTL_S,
    min_cached_tokens,
)
from ..core.prompt_blocks import stable_end
from ..core.records import Usage
from ..core.redaction import mask_credentials
from .prompt_trail import TrailEntry, current_trail

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DoctorReport", "Finding", "diagnose", "prompt_cache_doctor"]

_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2}|\d{1,2}/\d{1,2}/\d{2,4}|\b(?:mon|tue|wednes|thurs|fri|satur|sun)day\b"
                        r"|\b(?:today|now|date|time)\b", re.IGNORECASE)


@dataclass
class Finding:
    """One call that did not read (all of) what it could have, or a hit when asked for."""

    call: int  # position in this session's trail
    cell_run: int
    tag: str
    model: str
    reason: str
    block: str
    detail: str
    provider_reason: str
    input_tokens: int
    cached_tokens: int
    could_read_tokens: int
    miss_usd: float
    fix: str
    fix_saves_usd: float


def _cost(model: str, input_tokens: int, cached: int = 0, written: int = 0, written_1h: int = 0) -> float:
    """Input dollars at ``model``'s prices (the ledger's pricing), 0.0 for an unknown model."""
    try:
        usage = Usage(input_tokens=input_tokens, cached_input_tokens=cached, cache_write_tokens=written,
                      cache_write_1h_tokens=written_1h)
        return price_for(model).cost(usage).usd or 0.0
    except UnknownModelError:
        return 0.0


def _stable_end(e: TrailEntry) -> int:
    return stable_end(e.kinds)


_CHUNK = 4096


def _common_prefix_len(a: str, b: str) -> int:
    """Characters ``a`` and ``b`` share at the start, compared chunk by chunk (os.path.commonprefix loops
    in Python per character: seconds per pair on a prompt of a few MB, times every pair the doctor compares)."""
    n, i = min(len(a), len(b)), 0
    while i < n and a[i: i + _CHUNK] == b[i: i + _CHUNK]:
        i += _CHUNK
    i, end = min(i, n), min(i + _CHUNK, n)
    while i < end and a[i] == b[i]:
        i += 1
    return i


def _common_ends(old: str, new: str) -> tuple[int, int]:
    """(common prefix, common suffix after it) of two texts, in characters."""
    prefix = _common_prefix_len(old, new)
    return prefix, _common_prefix_len(old[prefix:][::-1], new[prefix:][::-1])


def _similarity(old: str, new: str) -> float:
    prefix, suffix = _common_ends(old, new)
    return (prefix + suffix) / max(len(old), len(new), 1)


def _what_changed(old: str, new: str) -> tuple[str, str]:
    """(what changed, the fix) for a block whose text went from ``old`` to ``new`` (in memory only)."""
    prefix, suffix = _common_ends(old, new)

    def mid_word(i: int) -> bool:  # new[i - 1] and new[i] are both inside one word
        return 0 < i < len(new) and not new[i - 1].isspace() and not new[i].isspace()

    while prefix > 0 and mid_word(prefix):  # widen to whole words: "09:15" -> "09:16", not "5" -> "6"
        prefix -= 1
    while suffix > 0 and mid_word(len(new) - suffix):
        suffix -= 1
    # excerpts only, with credential-shaped words masked before they are cut to size
    changed_old = mask_credentials(old[prefix: min(len(old) - suffix, prefix + 200)])
    changed_new = mask_credentials(new[prefix: min(len(new) - suffix, prefix + 200)])
    around = new[max(0, prefix - 12): len(new) - suffix + 12]
    if (_TIMESTAMP.search(around) or _TIMESTAMP.search(changed_old)) and max(len(changed_new), len(changed_old)) <= 40:
        return (tr("a timestamp ({old!r} → {new!r})", old=changed_old.strip(), new=changed_new.strip()),
                tr("move the timestamp after the stable prefix (e.g. into the user message)"))
    old_lines, new_lines = old.splitlines(), new.splitlines()
    if not changed_old.strip() and changed_new.strip() and len(new_lines) > len(old_lines):
        line = changed_new.strip().splitlines()[0][:60]
        return (tr("a new system line ({line!r})", line=line),
                tr("append new lines after the stable prefix, or send them with the user message"))
    return (tr("an edit ({old!r} → {new!r})", old=changed_old.strip()[:30], new=changed_new.strip()[:30]),
            tr("keep this block identical across calls; put what varies after the stable prefix"))


def _text(e: TrailEntry, k: int) -> str | None:
    return current_trail().text(e.own[k]) if k < len(e.own) else None


def _change(e: TrailEntry, ref: TrailEntry, k: int) -> tuple[str, str] | None:
    """(detail, fix) when block ``k`` of ``e`` is an edited version of ``ref``'s, else None (a new prompt)."""
    tools_e = [h for h, kind in zip(e.own, e.kinds) if kind == "tools"]
    tools_r = [h for h, kind in zip(ref.own, ref.kinds) if kind == "tools"]
    if tools_e and sorted(tools_e) == sorted(tools_r) and tools_e != tools_r:
        return tr("a reordered tool ({block})", block=e.labels[k]), tr("send the tools in a fixed order (e.g. sorted by name)")
    if k < len(e.kinds) and e.kinds[k] == "tools" and e.own[k] not in ref.own:
        return (tr("a tool added or changed ({block})", block=e.labels[k]),
                tr("keep the tool list identical across calls (tools come first in the prefix)"))
    old, new = (_text(ref, k), _text(e, k))
    if old is not None and new is not None:
        if _similarity(old, new) >= 0.5:
            return _what_changed(old, new)
    elif k < len(ref.kinds) and ref.kinds[k] == e.kinds[k] and abs(ref.tokens[-1] - e.tokens[-1]) <= 0.1 * e.tokens[-1]:
        return (tr("block {block} changed (its text is no longer in memory)", block=e.labels[k]),
                tr("keep this block identical across calls"))
    later = set(ref.own)
    if any(h in later for h in e.own[k + 1: _stable_end(e) + 1]):
        return tr("block {block} replaced, later blocks unchanged", block=e.labels[k]), tr("put what varies after the stable prefix")
    return None


RECENT = 50  # earlier calls of a model compared block by block when nothing longer is shared
SCANNED = 200  # earlier calls sharing a prefix searched for a breakpoint


class _History:
    """The calls before the one being diagnosed, indexed by (model, block position, prefix hash), so the
    doctor finds the calls sharing a prefix without comparing every pair."""

    def __init__(self) -> None:
        self.calls: list[TrailEntry] = []
        self._sharing: dict[tuple[str, str, int, str], list[TrailEntry]] = {}
        self._first_blocks: set[str] = set()
        self._by_model: dict[tuple[str, str], list[TrailEntry]] = {}

    def add(self, e: TrailEntry) -> None:
        self.calls.append(e)
        self._first_blocks.add(e.prefix[0])
        self._by_model.setdefault((e.provider, e.model), []).append(e)
        for i, h in enumerate(e.prefix):
            self._sharing.setdefault((e.provider, e.model, i, h), []).append(e)

    def sharing(self, e: TrailEntry, position: int) -> list[TrailEntry]:
        """Earlier calls to ``e``'s model whose prompt equals ``e``'s up to and including block ``position``."""
        return self._sharing.get((e.provider, e.model, position, e.prefix[position]), [])

    def same_model(self, e: TrailEntry) -> list[TrailEntry]:
        return self._by_model.get((e.provider, e.model), [])

    def first_block_seen(self, e: TrailEntry) -> bool:
        return e.prefix[0] in self._first_blocks


def _reference(e: TrailEntry, history: _History) -> tuple[TrailEntry, int]:
    """The earlier call ``e`` is best compared with: the longest shared prefix, then the most similar
    next block (while texts are in memory), then the latest."""
    shared = next((i + 1 for i in range(len(e.prefix) - 1, -1, -1) if history.sharing(e, i)), 0)
    tied = (history.sharing(e, shared - 1) if shared else history.same_model(e))[-RECENT:]
    if shared > _stable_end(e):  # the whole stable part is shared: only whether a call ended there (the last turn) matters
        return next((p for p in reversed(tied) if len(p.prefix) == shared), tied[-1]), shared

    def closeness(p: TrailEntry) -> float:  # minus the size of the edit between the two blocks
        old, new = _text(p, shared), _text(e, shared)
        if old is None or new is None:
            return 0.0
        return 2 * _similarity(old, new) * max(len(old), len(new)) - len(old) - len(new)

    return max(reversed(tied), key=closeness), shared


def _ttl_s(e: TrailEntry, index: int) -> tuple[float, str]:
    if e.provider == "anthropic":
        ttl = e.breakpoints.get(index, "5m")
        return ANTHROPIC_CACHE_TTL_S.get(ttl, 300.0), ttl
    if e.mode == "prefix":
        return OPENAI_CACHE_TTL_S, "in_memory"
    ttl = e.breakpoints.get(index, "30m")
    return OPENAI_BREAKPOINT_TTL_S.get(ttl, 1800.0), ttl


def _breakpoint_for(e: TrailEntry, history: _History, end: int, lookback: bool = True) -> tuple[TrailEntry, int] | None:
    """The latest earlier call (sharing ``e``'s prefix) that wrote an entry ``e`` could read, and its block
    (``lookback=False``: also entries Anthropic's 20-block lookback from ``e``'s breakpoints cannot reach)."""
    if e.mode == "prefix":
        sharing = history.sharing(e, end)
        return (sharing[-1], end) if sharing else None
    for b in range(end, -1, -1):
        if lookback and e.provider == "anthropic" and not any(0 <= i - b <= ANTHROPIC_LOOKBACK_BLOCKS for i in e.breakpoints):
            continue
        for p in reversed(history.sharing(e, b)[-SCANNED:]):
            if b in p.breakpoints:
                return p, b
    return None


def _finding(n: int, e: TrailEntry, history: _History, include_hits: bool) -> Finding | None:
    end = _stable_end(e)
    if end < 0 or e.tokens[end] <= 0:
        return None
    ref, shared = _reference(e, history) if history.same_model(e) else (None, 0)
    grown = ref is not None and shared == len(ref.prefix)  # e extends ref's whole prompt: a conversation's next turn
    # an edited block (what a fix would make shared again), or None: then only the shared prefix could be read
    change = _change(e, ref, shared) if ref is not None and shared <= end and not grown else None
    could_end = min(shared - 1, end) if ref is not None and shared > 0 and change is None else end
    could = e.tokens[could_end]
    missed = max(could - e.cached_tokens, 0)
    hit = e.cached_tokens > 0 and missed <= 0.05 * could
    if hit and not include_hits:
        return None
    actual = _cost(e.model, e.input_tokens, e.cached_tokens, e.written_tokens, e.written_1h_tokens)
    readable = _cost(e.model, e.input_tokens, e.cached_tokens + missed, max(e.written_tokens - missed, 0),
                     max(e.written_1h_tokens - missed, 0))
    miss = max(actual - readable, 0.0)
    row = dict(call=n, cell_run=e.cell_run, tag=e.tag, model=e.model, provider_reason=e.provider_reason,
               input_tokens=e.input_tokens, cached_tokens=e.cached_tokens, could_read_tokens=could)

    def found(reason: str, block: str, detail: str, fix: str, saves: float, cost: float = miss) -> Finding:
        return Finding(reason=reason, block=block, detail=detail, miss_usd=round(cost, 6), fix=fix,
                       fix_saves_usd=round(max(saves, 0.0), 6), **row)

    if hit:
        return found("hit", "", tr("read the stable prefix"), "", 0.0, 0.0)
    if ref is None:
        if history.first_block_seen(e):
            return found("model changed", e.labels[0], tr("the same prompt went to another model before"),
                         tr("caches are per model: keep a conversation (or a shared prefix) on one model"), 0.0)
        return found("first call", "", tr("nothing to read yet"), "", 0.0, 0.0)
    if change is not None:
        detail, fix = change
        return found("prefix changed", f"block {shared} ({e.labels[shared]})", detail, fix, miss)
    if shared == 0:
        return found("first call", "", tr("the first call with this prompt"), "", 0.0, 0.0)
    minimum = min_cached_tokens(e.provider, e.model)
    if could < minimum:
        padded = _cost(e.model, e.input_tokens + minimum - could, minimum)
        return found("below minimum", e.labels[could_end],
                     tr("the prefix sent before is ~{could:,} tokens; {model} caches from {minimum:,}", could=could,
                        model=e.model, minimum=minimum),
                     tr("lengthen or merge blocks to reach {minimum:,} tokens, or leave caching off", minimum=minimum),
                     actual - padded if actual > padded else 0.0)
    source = _breakpoint_for(e, history, could_end)
    where = "prompt_cache_breakpoint" if e.provider == "openai" else "cache_control"
    beyond = _breakpoint_for(e, history, could_end, lookback=False) if source is None and e.breakpoints else None
    if beyond is not None:
        gap = min(i for i in e.breakpoints if i > beyond[1]) - beyond[1]
        return found("beyond lookback", e.labels[beyond[1]],
                     tr("the entry ends at {block}, {gap} blocks before this call's nearest breakpoint (Anthropic looks "
                        "back {lookback})", block=e.labels[beyond[1]], gap=gap, lookback=ANTHROPIC_LOOKBACK_BLOCKS),
                     tr("add a {where} breakpoint at least every {lookback} blocks (e.g. on {block})", where=where,
                        lookback=ANTHROPIC_LOOKBACK_BLOCKS, block=e.labels[could_end]), miss)
    if source is None or (e.cached_tokens > 0 and e.cached_tokens >= 0.95 * e.tokens[source[1]]):
        now = (tr("the {mode} breakpoint sits on {block}, which changes every call", mode=e.mode,
                  block=e.labels[max(e.breakpoints)]) if e.breakpoints else tr("no {where} in the request", where=where))
        if source is not None:
            now = tr("read up to {block}; no breakpoint after it before the new part", block=e.labels[source[1]])
        return found("no breakpoint", e.labels[could_end], tr("no entry at the end of the prefix sent before: {now}", now=now),
                     tr("put a {where} breakpoint on {block} (--prompt-cache auto does)", where=where,
                        block=e.labels[could_end]), miss)
    writer, index = source
    last = max(history.sharing(e, index)[-SCANNED:], key=lambda p: p.ts)
    idle = e.ts - last.ts
    ttl_s, ttl = _ttl_s(writer, index)
    if idle >= ttl_s:  # an entry lives less than its TTL: the sandbox (and the provider) miss at exactly the TTL
        minutes = idle / 60
        if e.provider == "anthropic" and ttl == "5m" and idle < ANTHROPIC_CACHE_TTL_S["1h"]:
            size = e.tokens[index]
            premium = _cost(e.model, size, 0, size, size) - _cost(e.model, size, 0, size)
            fix = tr("a 1h TTL (\"ttl\": \"1h\"): calls ~{minutes:.0f} min apart; its write costs ${premium:.4f} more "
                     "than a 5-minute one", minutes=minutes, premium=premium)
            saves = miss - premium
        elif e.provider == "anthropic":
            fix = tr("calls {minutes:.0f} min apart outlive every TTL: drop the breakpoint (its write premium buys "
                     "nothing)", minutes=minutes)
            saves = 0.0
        elif e.mode == "prefix":
            fix, saves = tr("prompt_cache_retention=\"24h\" (extended retention, no extra charge)"), miss
        else:
            fix, saves = tr("prompt_cache_options.ttl=\"12h\" (Responses API)"), miss
        return found("TTL expired", e.labels[index], tr("{minutes:.0f} min idle: the {ttl} entry had expired",
                                                        minutes=minutes, ttl=ttl), fix, saves)
    if e.provider_reason:
        return found("provider reported", "", f"cache_miss_reason: {e.provider_reason}",
                     tr("see the provider's cache diagnostics guide"), 0.0)
    return found("not read", e.labels[index], tr("eligible and within the TTL, but the provider read nothing (routing or "
                                                 "eviction)"), "", 0.0)


def diagnose(entries: list[TrailEntry], *, include_hits: bool = False) -> list[Finding]:
    """A :class:`Finding` for every call in ``entries`` that missed (or every call, with ``include_hits``)."""
    out, history = [], _History()
    for n, entry in enumerate(entries):
        finding = _finding(n, entry, history, include_hits)
        if finding is not None:
            out.append(finding)
        history.add(entry)
    return out


class DoctorReport:
    """The doctor's findings: ``.table`` (one row per call), ``.by_reason()``, and a short HTML view."""

    def __init__(self, findings: list[Finding]) -> None:
        import pandas as pd

        columns = list(Finding.__dataclass_fields__)
        self.table: pd.DataFrame = pd.DataFrame([asdict(f) for f in findings], columns=columns)

    def by_reason(self) -> pd.DataFrame:
        """Calls, dollars missed and dollars the fixes would save, per reason."""
        misses = self.table[self.table["reason"] != "hit"]
        return misses.groupby("reason").agg(calls=("call", "size"), miss_usd=("miss_usd", "sum"),
                                            fix_saves_usd=("fix_saves_usd", "sum")).sort_values("miss_usd", ascending=False)

    def summary(self) -> str:
        misses = self.table[~self.table["reason"].isin(["hit", "first call"])]
        if misses.empty:
            return tr("prompt-cache doctor: no misses to explain.")
        return tr("prompt-cache doctor: {n} call{s} did not read what the provider's prompt cache could have served, "
                  "costing ${miss:.4f}; the fixes would save ${saves:.4f}.", n=len(misses), s=plural(len(misses)),
                  miss=misses["miss_usd"].sum(), saves=misses["fix_saves_usd"].sum())

    def __repr__(self) -> str:
        return self.summary() + "\n" + shown(self.table.assign(reason=self.table["reason"].map(label))).to_string()

    def _repr_html_(self) -> str:
        rows = self.table[self.table["reason"] != "hit"]
        listed = rows[["call", "cell_run", "model", "reason", "block", "detail", "miss_usd", "fix", "fix_saves_usd"]].head(20)
        listed = listed.assign(reason=listed["reason"].map(label))  # shown in the reader's language; .table keeps the codes
        more = tr("<p>… and {n} more in <code>.table</code></p>", n=len(rows) - 20) if len(rows) > 20 else ""
        return (f"<div><b>{html.escape(self.summary())}</b>{shown(self.by_reason(), rows=True).to_html() if not rows.empty else ''}"
                f"{shown(listed).to_html(index=False)}{more}</div>")


def prompt_cache_doctor(cell_run: int | None = None, *, include_hits: bool = False) -> DoctorReport:
    """Why this session's (this process's) calls missed the provider's prompt cache, what it cost, and the fix.

    ``cell_run``: only the calls of that cell run (the ledger's ``cell_run``); earlier calls still count
    as what a call could have read. ``include_hits``: list the hits too.

    >>> report = prompt_cache_doctor()   # doctest: +SKIP
    >>> report.table[["reason", "detail", "miss_usd", "fix"]]   # doctest: +SKIP
    """
    findings = diagnose(list(current_trail().entries), include_hits=include_hits)
    if cell_run is not None:
        findings = [f for f in findings if f.cell_run == cell_run]
    return DoctorReport(findings)


def prompt_cache_by_cell(calls: pd.DataFrame) -> pd.DataFrame:
    """Per cell, from the ledger: calls billed by a provider, the share of input tokens read from its
    prompt cache (hit rate), tokens written, and the net dollars prompt caching saved (read discounts
    minus write premiums, as each row's ``saved_usd`` records them)."""
    import pandas as pd

    billed = calls[(calls["cache"].fillna("") == "") & (calls["status"] == "ok") & (calls["endpoint"] != "embeddings")]
    if billed.empty:
        return pd.DataFrame(columns=["calls", "hit_rate", "cache_write_tokens", "net_saved_usd"])
    cached = billed["saved_by"].fillna("").str.contains("prompt_cache")
    rows = billed.assign(net=billed["saved_usd"].where(cached & (billed["saved_by"] == "prompt_cache"), 0.0),
                         cell=billed["cell"].replace("", "(no cell)"))
    table = rows.groupby("cell", sort=False).agg(calls=("input_tokens", "size"), input_tokens=("input_tokens", "sum"),
                                                 cached_input_tokens=("cached_input_tokens", "sum"),
                                                 cache_write_tokens=("cache_write_tokens", "sum"), net_saved_usd=("net", "sum"))
    table["hit_rate"] = (table["cached_input_tokens"] / table["input_tokens"].where(table["input_tokens"] > 0)).fillna(0.0).round(3)
    return table[["calls", "hit_rate", "cache_write_tokens", "net_saved_usd"]]
