"""The flow of one intercepted call: parse the request, run the policies, meter the response.

Transport wrappers (sync and async, httpx and httpx2) only call these three functions, so the
logic exists once. Nothing here may break the user's call: failures are reported and passed over.
The row each call leaves in the ledger is built by :mod:`.rows`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..core.errors import LLMCostError, as_sdk_error
from ..core.pricing import price_usage
from ..core.records import Usage
from ..core.vendors import vendor_for
from ..policies.model_fit import rejected_params
from ..policies.cascade import answer_text, tiers_to_try, why_escalate, with_confidence
from ..policies.prompt_cache import fit_to_model
from . import anthropic_protocol, openai_protocol
from .body import BodyCollector
from ..core.multipart_form import form_fields, stream_fields
from . import background, batch_results
from .call import Call, Parsed, json_body, loads, loads_or_none
from .openai_media import DEFAULT_MODELS, MULTIPART_ENDPOINTS
from .protocols import ADAPTERS
from .rows import STOPPED_NOTE, join_notes, parse_answer, priced, row, row_for, stopped_row  # noqa: F401 - STOPPED_NOTE re-exported
from .rewrite import rewrite, with_body

if TYPE_CHECKING:
    from ..metering import Meter

MAX_FALLBACK_STEPS = 3
BATCH_RESULTS = "batch.results"
GET_ENDPOINTS = (openai_protocol.RETRIEVE[1], BATCH_RESULTS)
# Endpoints whose requests carry text the policies (cache, routing, compression...) may act on.
TEXT_ENDPOINTS = ("chat.completions", "messages", "responses", "completions", "embeddings")
_ROUTES: list[tuple[str, str, ModuleType]] = [
    (suffix, endpoint, adapter)
    for adapter in (anthropic_protocol, openai_protocol)
    for suffix, endpoint in adapter.ENDPOINTS.items()
]


def route_for(path: str) -> tuple[str, ModuleType] | None:
    """(endpoint, adapter) for an LLM endpoint path, else None."""
    try:
        return _known_paths[path]
    except KeyError:
        found = _route_for(path)
    if len(_known_paths) < 1024 and openai_protocol.RETRIEVE[0] not in path:  # response ids are not kept
        _known_paths[path] = found
    return found


_known_paths: dict[str, tuple[str, ModuleType] | None] = {}


def _route_for(path: str) -> tuple[str, ModuleType] | None:
    found = next(((endpoint, adapter) for suffix, endpoint, adapter in _ROUTES if path.endswith(suffix)), None)
    if found is not None:
        return found
    if openai_protocol.RETRIEVE[0] in path and path.count("/", path.rfind("/responses/") + 11) == 0:
        return openai_protocol.RETRIEVE[1], openai_protocol
    if path.endswith("/content") and "/files/" in path:  # a batch's output file (GET)
        return BATCH_RESULTS, openai_protocol
    if path.endswith("/results") and "/messages/batches/" in path:
        return BATCH_RESULTS, anthropic_protocol
    return None


def _request_body(request: Any, endpoint: str) -> dict[str, Any] | None:
    """The request's JSON object, or the text fields of a multipart upload (audio, image edits)."""
    if endpoint in MULTIPART_ENDPOINTS and not hasattr(request, "_content"):  # an upload streamed, not read
        fields = getattr(request.stream, "fields", None)
        body = stream_fields(fields) if fields is not None else None
    else:
        body = json_body(request.content)
        if body is None and endpoint in MULTIPART_ENDPOINTS:
            body = form_fields(request.content, request.headers.get("content-type", ""))
    if body is not None and endpoint in DEFAULT_MODELS:
        body.setdefault("model", DEFAULT_MODELS[endpoint])
    return body


def prepare(request: Any, meter: Meter, route: tuple[str, ModuleType] | None) -> tuple[Call | None, Any]:
    """The call a request makes and the request to send, after the policies that act before
    sending; ``(None, request)`` to let it pass untouched."""
    if route is None:
        return None, request
    if request.method != "POST":  # a background Response's usage, or batch results, arrive on a GET
        if request.method == "GET" and route[0] in GET_ENDPOINTS and not batch_results.collecting.get():
            return Call(route[1].PROVIDER, route[0], "", {"path": request.url.path}, False), request
        return None, request
    if route[0] in GET_ENDPOINTS:
        return None, request
    try:
        endpoint, adapter = route
        body = _request_body(request, endpoint)
        if body is None or not isinstance(body.get("model"), str):
            return None, request
        call = Call(adapter.PROVIDER, endpoint, body["model"], body, body.get("stream") in (True, "true"))
        call.vendor = vendor_for(request.url.host, call.model, call.provider)
        meter.saw(call)
    except Exception as exc:  # noqa: BLE001 - unreadable request: let it through unmetered
        meter.report_failure(exc)
        return None, request
    if endpoint not in TEXT_ENDPOINTS:  # images, audio: metered and budgeted, no caching or rewriting
        return _reserve(call, request, meter, adapter)
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
    if _cascades(meter, call):
        return call, request  # each attempt holds its own worst case as it is sent (cascade_attempt)
    return _reserve(call, request, meter, adapter)


def _reserve(call: Call, request: Any, meter: Meter, adapter: ModuleType) -> tuple[Call, Any]:
    """The budget pre-checks (with the cheaper-model fallback); a refusal is recorded and raised."""
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
            call.note = join_notes(call.note, f"budget fallback to {call.model}")
    except LLMCostError as refusal:
        _refuse(meter, call, refusal)
    return call, request


def _refuse(meter: Meter, call: Call, refusal: LLMCostError) -> None:
    """Record a refused call (a ``refused`` row naming why) and raise the refusal as the SDK's own error."""
    meter.record(row(call, Usage(), 0.0, status="refused", note=str(refusal)[:500]))
    raise as_sdk_error(refusal, call.provider) from None


def collector_for(response: Any) -> BodyCollector:
    content_type = content_encoding = b""
    for name, value in response.headers.raw:  # one pass over the raw list: cheaper than two lookups
        name = name.lower()
        if name == b"content-type":
            content_type = value
        elif name == b"content-encoding":
            content_encoding = value
    return BodyCollector(content_type.decode("latin-1"), content_encoding.decode("latin-1"))


def finish(meter: Meter, call: Call, status_code: int, collector: BodyCollector, outcome: str) -> None:
    """Meter a response whose body has been read (``outcome``: ok, cut, closed, cancelled, interrupted).

    Record first: the row is written (and the call's reservations settled) before anything that
    may fail after it, and a parse or pricing failure still leaves an estimated row.
    """
    parsed, complete = None, False
    try:
        collector.finish()
        hit = call.cache_hit
        if hit is not None and hit.parsed is not None and outcome == "ok":
            parsed, complete = hit.parsed, True  # this very row was served and read before: same bytes, same reading
        elif status_code < 400 and call.endpoint != BATCH_RESULTS:
            parsed = parse_answer(ADAPTERS[call.provider], call, collector)
            if hit is not None and outcome == "ok" and meter.cache is not None:
                meter.cache.keep_parsed(hit, parsed)
            # A stream whose final usage arrived is complete, however the reader stopped (the SDKs
            # close the response at [DONE] without reading on).
            complete = outcome == "ok" or (parsed.usage is not None and not parsed.estimated) or _stream_ended(collector)
    except Exception as exc:  # noqa: BLE001 - an unreadable answer is still a sent call: estimate it
        meter.report_failure(exc)
        parsed = Parsed()
    if call.endpoint == openai_protocol.RETRIEVE[1]:
        _record_retrieval(meter, call, status_code, collector, parsed)
        return
    if call.endpoint == BATCH_RESULTS:
        if status_code < 400:  # every complete line that arrived, however the reading ended
            _record_batch_results(meter, call, collector.body)
        return
    record = row_for(meter, call, status_code, parsed, "ok" if complete else outcome)
    if parsed is not None and parsed.response_id:  # a background Response: billed when it is retrieved
        record.status, record.cost_usd, record.baseline_cost_usd, record.estimated = "queued", 0.0, 0.0, False
        record.usage = Usage()
        record.note = join_notes(call.note, background.queued(meter.ledger, parsed.response_id))
        background.keep_holds(parsed.response_id, meter, call.reservations)  # settled when its usage is retrieved
        call.reservations = []
    meter.record(record, call)
    if parsed is not None and call.cache_hit is None and meter.cache is not None:
        try:
            meter.cache.remember(call, status_code, parsed, collector.body, collector.content_type,
                                 "ok" if complete else outcome)
        except Exception as exc:  # noqa: BLE001 - a cache that cannot store is only a cache miss later
            meter.report_failure(exc)


def _record_retrieval(meter: Meter, call: Call, status_code: int, collector: BodyCollector, parsed: Parsed | None) -> None:
    """A retrieved background Response that finished: its one row, with the usage it was billed."""
    if status_code >= 400 or parsed is None or parsed.usage is None:
        return
    try:
        if collector.sse:  # a resumed background stream: its last event carries the whole response
            events = [e for raw in collector.payloads if isinstance(e := loads_or_none(raw), dict) and "response" in e]
            body = events[-1]["response"] if events else {}
        else:
            body = loads(collector.body)
        note = background.claim(meter.ledger, body)
        if note is None:
            return
        call.model = call.requested_model = parsed.model or ""
        call.endpoint, call.note = "responses", note
        record = priced(openai_protocol, call, parsed, "ok")
    except Exception as exc:  # noqa: BLE001
        meter.report_failure(exc)
        return
    meter.record(record, call)
    held = background.take_holds(str(body.get("id")))
    if held is not None:  # the worst case it held when queued becomes what it cost
        held[0].settle_holds(held[1], record.cost_usd)
    else:  # queued elsewhere (another process or an unbudgeted scope): still spend under this meter's limits
        meter.charge(record.cost_usd)


def _record_batch_results(meter: Meter, call: Call, raw: bytes) -> None:
    """One row at batch prices per succeeded request of a batch's results, the first time they are read."""
    try:
        adapter = ADAPTERS[call.provider]
        source = batch_results.source_of(call.body["path"])
        results = list(batch_results.succeeded(call.provider, raw))
        fresh = batch_results.claim(meter.ledger, source, [cid for cid, _ in results]) if results else set()
        records = []
        for custom_id, body in results:
            if custom_id not in fresh:
                continue
            parsed = adapter.from_body("batch", body)
            model, usage = parsed.model or "", parsed.usage or Usage()
            note, readable = batch_results.NOTE.format(source=source, custom_id=custom_id), usage.counts_valid()
            if not readable:  # never priced below $0: kept with its cost unknown
                usage, note = Usage(), join_notes(note, "usage unreadable (not counts >= 0): cost unknown")
            record = row(call, usage, price_usage(model, usage, batch=True).usd if readable else None,
                         status="ok", model=model, note=note, estimated=not readable)
            record.endpoint, record.requested_model, record.latency_ms = "batch", model, 0.0
            record.baseline_cost_usd, record.saved_by = price_usage(model, usage).usd, "batch"
            records.append(record)
    except Exception as exc:  # noqa: BLE001
        meter.report_failure(exc)
        return
    for record in records:
        meter.record(record)
        meter.charge(record.cost_usd)  # a batch sent straight through the SDK held nothing: its spend counts now


def _stream_ended(collector: BodyCollector) -> bool:
    """The stream's own end marker arrived (OpenAI ``[DONE]``, Anthropic ``message_stop``)."""
    last = collector.payloads[-1] if collector.sse and collector.payloads else b""
    return last == b"[DONE]" or b'"message_stop"' in last[:40]


# A cheaper tier's model may refuse what a larger one takes (a prompt over its context window, a model the
# account cannot use): the cascade tries the next tier. Other errors (auth, rate limits, 5xx) go to the SDK.
ESCALATE_ON_STATUS = (400, 404)


def _cascades(meter: Meter, call: Call) -> bool:
    """Whether the cascade sends this call: not streamed, cached or deferred, and some tier has a model for its
    provider that takes its parameters (else it goes as asked, holding its worst case like any call)."""
    if (meter.cascade is None or call.stream or call.cache_hit is not None or call.deferred
            or call.endpoint not in ("chat.completions", "messages")):
        return False
    body = call.sent_body or call.body
    return any(_tier_model(meter, tier, call, body) for tier in meter.tiers.names)


def _tier_model(meter: Meter, tier: str, call: Call, body: dict[str, Any]) -> str | None:
    """The tier's model for the call's provider, unless it rejects the call's parameters."""
    model = meter.tiers.model(tier, call.provider)
    return model if model and not rejected_params(model, call.endpoint, body) else None


def cascade_plan(meter: Meter, call: Call) -> list[tuple[str, str, dict[str, Any]]] | None:
    """(tier, model, body) to try in order, when the cascade applies to this call (not streamed)."""
    if not _cascades(meter, call):
        return None
    body = with_confidence(call.provider, call.sent_body or call.body) if meter.cascade.ask_confidence else (call.sent_body or call.body)
    plan = [(tier, model, {**fit_to_model(body, model, call.provider), "model": model})
            for tier in tiers_to_try(meter.cascade, call, meter.tiers) if (model := _tier_model(meter, tier, call, body))]
    return plan or None


def cascade_attempt(meter: Meter, call: Call, tier: str, model: str, body: dict[str, Any]) -> Call:
    """One cascade attempt about to be sent: it holds its worst case like any call, or is refused."""
    attempt = Call(call.provider, call.endpoint, model, call.body, False, requested_model=call.requested_model)
    attempt.sent_body = body  # held and priced as sent; cached under the user's request (a later ask hits)
    attempt.cache_scope, attempt.body_digest, attempt.vendor = call.cache_scope, call.body_digest, call.vendor
    attempt.note = f"cascade {tier}"
    try:
        meter.before_send(attempt, ADAPTERS[call.provider].estimate_input)
    except LLMCostError as refusal:
        _refuse(meter, attempt, refusal)
    return attempt


def cascade_step(meter: Meter, call: Call, attempt: Call, status: int, raw: bytes, last: bool) -> bool:
    """Meter one cascade attempt (settling its hold); True when its answer is accepted (or it is the last one)."""
    reason = None
    if status == 200:
        try:
            text, finish_reason = answer_text(call.provider, json.loads(raw))
            reason = why_escalate(text, finish_reason, meter.cascade)
        except ValueError:
            reason = "unreadable answer"
    elif status in ESCALATE_ON_STATUS:  # this tier's model refused the request (its context window, access)
        reason = f"HTTP {status}"
    accepted = (status != 200 and status not in ESCALATE_ON_STATUS) or reason is None or last
    attempt.note += ": " + ("accepted" if reason is None else f"escalated ({reason})" if not last else f"kept as last tier ({reason})")
    if not accepted:
        attempt.cache_scope = ""  # an escalated answer is never cached: only the one the user gets
    collector = BodyCollector("application/json", "")
    collector.feed(raw)
    finish(meter, attempt, status, collector, "ok")
    return accepted


def failed(meter: Meter, call: Call, exc: BaseException) -> None:
    """Meter a call whose request raised before any response: a connection error costs nothing; an
    interrupt or a cancelled task came after the request was sent, so its input is estimated and priced."""
    if call.endpoint in GET_ENDPOINTS:
        return  # a retrieval that failed bills nothing
    try:
        if isinstance(exc, (KeyboardInterrupt, asyncio.CancelledError)):
            meter.record(stopped_row(call, outcome_of(exc)), call)
        else:
            meter.record(row(call, Usage(), 0.0, status=f"error:{type(exc).__name__}"), call)
    except Exception as inner:  # noqa: BLE001
        meter.report_failure(inner)


def outcome_of(exc: BaseException) -> str:
    """How a response that raised ended: cancelled, interrupted, or cut (anything else)."""
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    return "interrupted" if isinstance(exc, KeyboardInterrupt) else "cut"
