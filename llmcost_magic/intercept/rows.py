"""From a call and its answer to its ledger row: parse the answer, price the usage, credit what a policy saved.

The pipeline decides when a row is written; this module only builds it, and never raises for a row that cannot
be priced (it keeps it with its cost unknown, marked estimated).
"""

from __future__ import annotations

import time
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..core.pricing import price_usage
from ..core.records import CallRecord, Cost, Usage
from ..core.tokens import count_text_tokens
from .body import BodyCollector
from .call import Call, Parsed, loads, loads_or_none
from .protocols import ADAPTERS

if TYPE_CHECKING:
    from ..metering import Meter

__all__ = ["STOPPED_NOTE", "as_cache_hit", "join_notes", "parse_answer", "priced", "row", "row_for", "stopped_row"]

STOPPED_NOTE = "stopped after sending: the provider may bill it"
# Finish reasons that say nothing worth a note (the normal end of an answer).
_PLAIN_FINISH = (None, "stop", "end_turn", "completed")  # a tuple: a finish reason may be any JSON value


def join_notes(first: str, second: str) -> str:
    """``first; second``, leaving out an empty one (on every row: a plain expression, not a generator)."""
    return f"{first}; {second}" if first and second else first or second


def row_for(meter: Meter, call: Call, status_code: int, parsed: Parsed | None, status: str) -> CallRecord:
    """The call's row; never raises (a row that cannot be priced is kept with its cost unknown)."""
    if parsed is None:
        return row(call, Usage(), 0.0, status=f"http_{status_code}")
    if parsed.error:  # an error body sent with HTTP 200: no answer, billed nothing, like an HTTP error
        return row(call, Usage(), 0.0, status=f"error:{parsed.error}")
    adapter = ADAPTERS[call.provider]
    try:
        record = priced(adapter, call, parsed, status)
        if status in ("cancelled", "interrupted"):
            record.note = join_notes(record.note, STOPPED_NOTE)
        if call.cache_hit is not None:
            as_cache_hit(record, call.cache_hit)
        return record
    except Exception as exc:  # noqa: BLE001
        meter.report_failure(exc)
        usage = parsed.usage if parsed.usage is not None and parsed.usage.counts_valid() else Usage()
        return row(call, usage, None, status=status, estimated=True)


def as_cache_hit(record: CallRecord, hit: Any) -> None:
    """A cached answer costs nothing; what the live call would have cost is what it saved."""
    record.baseline_cost_usd, record.cost_usd = record.cost_usd, 0.0
    record.cache, record.saved_by = hit.kind, "cache"
    if hit.kind == "semantic":  # the questions themselves stay out of the ledger (see %llmcost cache audit)
        record.note = f"semantic similarity {hit.similarity:.3f}"


def stopped_row(call: Call, status: str) -> CallRecord:
    try:
        record = priced(ADAPTERS[call.provider], call, Parsed(), status)
    except Exception:  # noqa: BLE001 - the request could not be counted: keep the row, cost unknown
        record = row(call, Usage(), None, status=status, estimated=True)
    record.note = join_notes(record.note, STOPPED_NOTE)
    return record


def parse_answer(adapter: ModuleType, call: Call, collector: BodyCollector) -> Parsed:
    if collector.undecodable:
        return Parsed()
    if collector.sse:
        first = collector.payloads[0] if collector.payloads else b""
        if b'"error"' in first[:64] and isinstance(event := loads_or_none(first), dict) and (
                error := _error_in(event)) is not None:  # the stream opened with an error event
            return Parsed(error=error)
        return adapter.from_events(call.endpoint, collector.payloads, call)
    raw = collector.body
    try:
        body = loads(raw)
    except ValueError:  # the body never arrived whole, or is not JSON (speech audio, a plain-text transcript)
        from_raw = getattr(adapter, "from_raw", None)
        return from_raw(call, raw) if from_raw is not None and not collector.content_type.startswith("application/json") else Parsed()
    if not isinstance(body, dict):
        return Parsed()
    if (error := _error_in(body)) is not None:
        return Parsed(error=error)
    return adapter.from_body(call.endpoint, body, call)


_ANSWER_KEYS = ("choices", "content", "output", "data", "usage")


def _error_in(body: dict[str, Any]) -> str | None:
    """The error type of an error envelope answered with HTTP 200 (OpenAI ``{"error": {...}}``, Anthropic
    ``{"type": "error", ...}``; a body, or a stream's first event), as a safe status word; None for an answer."""
    error = body.get("error")
    if not isinstance(error, dict) or any(body.get(key) is not None for key in _ANSWER_KEYS):
        return None
    kind = str(error.get("type") or error.get("code") or "error")
    return "".join(ch for ch in kind if ch.isascii() and (ch.isalnum() or ch in "_-."))[:40] or "error"


def priced(adapter: ModuleType, call: Call, parsed: Parsed, status: str) -> CallRecord:
    model = parsed.model or call.model
    usage, estimated, unreadable = parsed.usage, parsed.estimated, ""
    if usage is not None and not usage.counts_valid():  # negative, NaN or non-numeric counts: never priced as sent
        usage, unreadable = None, "usage unreadable (not counts >= 0): estimated"
    if usage is None:  # the response reported no usage: count what was sent and what came back
        usage = Usage(input_tokens=adapter.estimate_input(call), output_tokens=count_text_tokens(parsed.text, model))
        estimated = True
    cost = price_usage(model, usage, estimated=estimated, vendor=call.vendor, at=call.ts)
    if cost.usd == 0.0 and not (usage.input_tokens or usage.output_tokens) and (
            usage.details.get("characters") or usage.details.get("audio_seconds") or usage.details.get("images")):
        cost = Cost(None, estimated=estimated)  # billed per character, minute or image: unknown, never a silent $0
    record = row(call, usage, cost.usd, status=status, model=model, estimated=estimated, finish=parsed.finish)
    record.price_source = cost.source
    if unreadable:
        record.note = join_notes(record.note, unreadable)
    if cost.note:
        record.note = join_notes(record.note, cost.note)
    if cost.usd is not None and (usage.cached_input_tokens or usage.cache_write_tokens):
        # Provider prompt caching: the baseline is the same tokens at the plain input rate. The
        # saving is negative on a call whose cache-write premium cost more than it saved.
        plain = Usage(input_tokens=usage.input_tokens, output_tokens=usage.output_tokens, details=usage.details)
        record.baseline_cost_usd = price_usage(model, plain, estimated=estimated, vendor=call.vendor, at=call.ts).usd
        record.saved_by = "prompt_cache"
    if cost.usd is not None and call.tokens_removed > 0:
        # Compression: the baseline is the uncompressed prompt (the removed tokens at the plain input rate).
        record.input_tokens_before = usage.input_tokens + call.tokens_removed
        uncompressed = Usage(input_tokens=record.input_tokens_before, output_tokens=usage.output_tokens, details=usage.details)
        record.baseline_cost_usd = price_usage(model, uncompressed, estimated=estimated, vendor=call.vendor, at=call.ts).usd
        record.saved_by = "+".join(s for s in ("compression", record.saved_by) if s)
    return record


def row(call: Call, usage: Usage, cost: float | None, *, status: str, model: str | None = None,
            estimated: bool = False, finish: str | None = None, note: str = "") -> CallRecord:
    return CallRecord(
        ts=call.ts,
        provider=call.provider,
        vendor=call.vendor,
        endpoint=call.endpoint,
        model=model or call.model,
        requested_model=call.requested_model,
        usage=usage,
        cost_usd=cost,
        baseline_cost_usd=cost,
        latency_ms=(time.perf_counter() - call.started) * 1000.0,
        status=status,
        stream=call.stream,
        estimated=estimated,
        max_tokens=call.max_output_tokens,
        note=(note or call.note) if finish in _PLAIN_FINISH else join_notes(note or call.note, f"finish={finish}"),
    )
