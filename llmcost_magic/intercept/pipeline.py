"""The flow of one intercepted call: parse the request, run the policies, meter the response.

Transport wrappers (sync and async, httpx and httpx2) only call these three functions, so the
logic exists once. Nothing here may break the user's call: failures are reported and passed over.
"""

from __future__ import annotations

import hashlib
import json
import time
from types import ModuleType
from typing import Any

from ..errors import LLMCostError, as_sdk_error
from ..metering import Meter
from ..pricing import price_usage
from ..records import CallRecord, Usage
from ..tokens import count_text_tokens
from ..policies.cascade import answer_text, why_escalate, with_confidence
from . import anthropic_protocol, openai_protocol
from .body import BodyCollector
from .call import Call, Parsed, json_body
from .rewrite import rewrite, with_body

MAX_FALLBACK_STEPS = 3
_ROUTES: list[tuple[str, str, ModuleType]] = [
    (suffix, endpoint, adapter)
    for adapter in (anthropic_protocol, openai_protocol)
    for suffix, endpoint in adapter.ENDPOINTS.items()
]
ADAPTERS = {anthropic_protocol.PROVIDER: anthropic_protocol, openai_protocol.PROVIDER: openai_protocol}


def route_for(path: str) -> tuple[str, ModuleType] | None:
    """(endpoint, adapter) for an LLM endpoint path, else None."""
    return next(((endpoint, adapter) for suffix, endpoint, adapter in _ROUTES if path.endswith(suffix)), None)


def prepare(request: Any, meter: Meter, route: tuple[str, ModuleType] | None) -> tuple[Call | None, Any]:
    """The call a request makes and the request to send, after the policies that act before
    sending; ``(None, request)`` to let it pass untouched."""
    if request.method != "POST":
        return None, request
    try:
        if route is None:
            return None, request
        body = json_body(request.content)
        if body is None or not isinstance(body.get("model"), str):
            return None, request
        endpoint, adapter = route
        call = Call(adapter.PROVIDER, endpoint, body["model"], body, bool(body.get("stream")))
        meter.saw(call)
    except Exception as exc:  # noqa: BLE001 - unreadable request: let it through unmetered
        meter.report_failure(exc)
        return None, request
    if meter.cache is not None:  # a hit costs nothing, so it is looked up before any budget check
        try:
            call.cache_scope = meter.cache.scope(request, meter.dry_run)
            call.body_digest = hashlib.sha256(request.content).hexdigest()
            call.cache_hit = meter.cache.lookup(call)
        except Exception as exc:  # noqa: BLE001 - a broken cache is a miss
            meter.report_failure(exc)
        if call.cache_hit is not None:
            call.strip_usage_chunk = call.needs_stream_usage  # the stored stream has the chunk it asked for
            return call, request
    request = rewrite(call, meter, request)
    if meter.batch_mode and not call.stream and call.endpoint in ("chat.completions", "messages"):
        call.deferred = f"{meter.batch_name}-{len(meter.deferred)}"
        meter.deferred.append((call.provider, call.model, call.deferred, call.sent_body or call.body))
        return call, request
    try:
        for step in range(MAX_FALLBACK_STEPS + 1):
            try:
                meter.before_send(call, adapter.estimate_input)
                break
            except LLMCostError as refusal:
                cheaper = getattr(refusal, "suggestion", None)
                if not (meter.budget_fallback and cheaper) or step == MAX_FALLBACK_STEPS:
                    raise
                # Cheap fallback: near a limit, send the call to a cheaper model that fits instead of refusing
                # (stepping down again if another limit still refuses it).
                body = {**(call.sent_body or call.body), "model": cheaper}
                call.model, call.sent_body = cheaper, body
                request = with_body(request, body)
        if call.model != call.requested_model and meter.budget_fallback:
            call.note = "; ".join(n for n in (call.note, f"budget fallback to {call.model}") if n)
    except LLMCostError as refusal:
        meter.record(_record(call, Usage(), 0.0, status="refused", note=str(refusal)[:500]))
        raise as_sdk_error(refusal, call.provider) from None
    return call, request


def collector_for(response: Any, meter: Meter | None = None) -> BodyCollector:
    content_type = content_encoding = b""
    for name, value in response.headers.raw:  # one pass over the raw list: cheaper than two lookups
        name = name.lower()
        if name == b"content-type":
            content_type = value
        elif name == b"content-encoding":
            content_encoding = value
    collector = BodyCollector(content_type.decode("latin-1"), content_encoding.decode("latin-1"))
    collector.keep_raw = meter is not None and meter.cache is not None
    return collector


def finish(meter: Meter, call: Call, status_code: int, collector: BodyCollector, outcome: str) -> None:
    """Meter a response whose body has been read (``outcome``: ok, cut or closed)."""
    try:
        collector.finish()
        adapter = ADAPTERS[call.provider]
        if status_code >= 400:
            record = _record(call, Usage(), 0.0, status=f"http_{status_code}")
        else:
            parsed = _parse(adapter, call, collector)
            # A stream whose final usage arrived is complete, however the reader stopped (the SDKs
            # close the response at [DONE] without reading on).
            complete = outcome == "ok" or (parsed.usage is not None and not parsed.estimated)
            record = _priced(adapter, call, parsed, "ok" if complete else outcome)
            if call.cache_hit is not None:
                _as_cache_hit(record, call.cache_hit)
            elif meter.cache is not None:
                meter.cache.remember(call, status_code, parsed, collector.body, collector.content_type,
                                     "ok" if complete else outcome)
        meter.record(record, call)
    except Exception as exc:  # noqa: BLE001
        meter.report_failure(exc)


def cascade_plan(meter: Meter, call: Call) -> list[tuple[str, str, dict[str, Any]]] | None:
    """(tier, model, body) to try in order, when the cascade applies to this call (not streamed)."""
    if meter.cascade is None or call.stream or call.cache_hit is not None or call.endpoint not in ("chat.completions", "messages"):
        return None
    body = with_confidence(call.provider, call.sent_body or call.body) if meter.cascade.ask_confidence else (call.sent_body or call.body)
    plan = [(tier, model, {**body, "model": model}) for tier in meter.tiers.names
            if (model := meter.tiers.model(tier, call.provider))]
    return plan or None


def cascade_step(meter: Meter, call: Call, tier: str, model: str, status: int, raw: bytes, last: bool) -> bool:
    """Meter one cascade attempt; True when its answer is accepted (or it is the last one)."""
    reason = None
    if status == 200:
        try:
            text, finish_reason = answer_text(call.provider, json.loads(raw))
            reason = why_escalate(text, finish_reason, meter.cascade)
        except ValueError:
            reason = "unreadable answer"
    accepted = status != 200 or reason is None or last
    attempt = Call(call.provider, call.endpoint, model, call.body, False, started=call.started, ts=call.ts,
                   requested_model=call.requested_model)
    attempt.note = f"cascade {tier}: " + ("accepted" if reason is None else f"escalated ({reason})" if not last else f"kept as last tier ({reason})")
    call.started = time.perf_counter()
    collector = BodyCollector("application/json", "")
    collector.feed(raw)
    finish(meter, attempt, status, collector, "ok")
    if accepted:
        meter.release(call)  # the attempts were recorded one by one; release the first call's reservations
    return accepted


def _as_cache_hit(record: CallRecord, hit: Any) -> None:
    """A cached answer costs nothing; what the live call would have cost is what it saved."""
    record.baseline_cost_usd, record.cost_usd = record.cost_usd, 0.0
    record.cache, record.saved_by = hit.kind, "cache"
    if hit.kind == "semantic":  # the questions themselves stay out of the ledger (see %llmcost cache audit)
        record.note = f"semantic similarity {hit.similarity:.3f}"


def failed(meter: Meter, call: Call, exc: BaseException) -> None:
    """Meter a call whose request raised before any response (connection error, interrupt)."""
    try:
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"error:{type(exc).__name__}"
        meter.record(_record(call, Usage(), 0.0, status=status), call)
    except Exception as inner:  # noqa: BLE001
        meter.report_failure(inner)


def _parse(adapter: ModuleType, call: Call, collector: BodyCollector) -> Parsed:
    if collector.undecodable:
        return Parsed()
    if collector.sse:
        return adapter.from_events(call.endpoint, collector.payloads)
    try:
        body = json.loads(collector.body)
    except ValueError:  # the body never arrived whole
        return Parsed()
    return adapter.from_body(call.endpoint, body)


def _priced(adapter: ModuleType, call: Call, parsed: Parsed, status: str) -> CallRecord:
    model = parsed.model or call.model
    usage, estimated = parsed.usage, parsed.estimated
    if usage is None:  # the response reported no usage: count what was sent and what came back
        usage = Usage(input_tokens=adapter.estimate_input(call), output_tokens=count_text_tokens(parsed.text, model))
        estimated = True
    cost = price_usage(model, usage, estimated=estimated)
    record = _record(call, usage, cost.usd, status=status, model=model, estimated=estimated, finish=parsed.finish)
    if cost.usd is not None and (usage.cached_input_tokens or usage.cache_write_tokens):
        # Provider prompt caching: the baseline is the same tokens at the plain input rate. The
        # saving is negative on a call whose cache-write premium cost more than it saved.
        plain = Usage(input_tokens=usage.input_tokens, output_tokens=usage.output_tokens)
        record.baseline_cost_usd = price_usage(model, plain, estimated=estimated).usd
        record.saved_by = "prompt_cache"
    if cost.usd is not None and call.tokens_removed > 0:
        # Compression: the baseline is the uncompressed prompt (the removed tokens at the plain input rate).
        record.input_tokens_before = usage.input_tokens + call.tokens_removed
        uncompressed = Usage(input_tokens=record.input_tokens_before, output_tokens=usage.output_tokens)
        record.baseline_cost_usd = price_usage(model, uncompressed, estimated=estimated).usd
        record.saved_by = "+".join(s for s in ("compression", record.saved_by) if s)
    return record


def _record(call: Call, usage: Usage, cost: float | None, *, status: str, model: str | None = None,
            estimated: bool = False, finish: str | None = None, note: str = "") -> CallRecord:
    return CallRecord(
        ts=call.ts,
        provider=call.provider,
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
        note="; ".join(n for n in (note or call.note,
                                    f"finish={finish}" if finish not in (None, "stop", "end_turn", "completed") else "") if n),
    )
