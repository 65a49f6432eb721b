"""The policies that rewrite a request before it leaves: compression, routing, output controls,
prompt-cache breakpoints, and asking an OpenAI stream for its usage. Each works on the JSON body; the request is
rebuilt once, as a copy (the original stays intact for the SDK's retries)."""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING, Any

from ..policies.model_fit import rejected_params
from ..policies.prompt_cache import fit_to_model, place_breakpoints
from .call import Call, dumps
from .rows import join_notes

if TYPE_CHECKING:
    from ..metering import Meter

# Hosts that answered 400 to the stream_options the seam adds (Azure-style deployments).
stream_usage_refused: set[str] = set()
# The endpoints a router may send to a tier's chat model (never embeddings or legacy completions).
ROUTED_ENDPOINTS = ("chat.completions", "messages", "responses")
# Set while a router makes its own call (the classifier): that call is metered but not routed.
routing_in_progress: contextvars.ContextVar[bool] = contextvars.ContextVar("llmcost_routing", default=False)


def rewrite(call: Call, meter: Meter, request: Any) -> Any:
    """The request to send, with every active policy applied (``call.model`` becomes the model used)."""
    body, notes = call.body, []
    if meter.compression is not None and call.endpoint in ("chat.completions", "messages", "responses"):
        done = meter.compression.apply(call.endpoint, body, call.model)
        if done.tokens_removed > 0:
            body, call.tokens_removed = done.body, done.tokens_removed
        notes.append("compress " + ", ".join(done.notes))
    if routing_in_progress.get():  # the router's own call (the classifier's): metered, said so, never routed
        notes.append("router's own call")
    elif meter.router is not None and meter.cascade is None and call.endpoint in ROUTED_ENDPOINTS:
        token = routing_in_progress.set(True)
        try:
            decision = meter.router.decide(call, meter.tiers)
        finally:
            routing_in_progress.reset(token)
        model = meter.tiers.model(decision.tier, call.provider)
        rejected = rejected_params(model, call.endpoint, body) if model and model != call.model else []
        if not model:  # the tier names no model for this provider: the call keeps its model
            notes.append(f"route skipped: {decision.tier} ({decision.reason}) has no {call.provider} model")
        elif rejected:  # the routed model would answer 400: the call keeps its model
            notes.append(f"route skipped: {decision.tier} ({decision.reason}) is {model}, which does not take "
                         f"{', '.join(rejected)}")
        else:
            if model != call.model:
                body, call.model = {**fit_to_model(body, model, call.provider), "model": model}, model
            notes.append(f"route {decision.tier} ({decision.reason})")
    if meter.output is not None:
        body, changed = meter.output.apply(call.endpoint, body)
        notes += changed
    if meter.prompt_cache == "auto" and call.endpoint in ("messages", "chat.completions", "responses"):
        body, placed = place_breakpoints(body, call.model, call.provider)
        if placed:
            notes.append(placed)
    if call.needs_stream_usage and request.url.host not in stream_usage_refused:
        body = {**body, "stream_options": {**(body.get("stream_options") or {}), "include_usage": True}}
        call.strip_usage_chunk = True
    call.note = "; ".join(notes)
    if body is call.body:
        return request
    call.sent_body = body
    return with_body(request, body)


def without_stream_usage(call: Call, request: Any, error_body: bytes) -> Any:
    """The request again without the ``stream_options`` the seam added, when the host refused it
    (an Azure-style 400 naming the field), else None. The host is remembered: its later streams are
    sent as the user wrote them and their usage is counted from the text (estimated)."""
    if not call.strip_usage_chunk or b"stream_options" not in error_body:
        return None
    stream_usage_refused.add(request.url.host)
    call.strip_usage_chunk = False
    body = {k: v for k, v in (call.sent_body or call.body).items() if k != "stream_options"}
    if "stream_options" in call.body:  # the user's own stream_options (without include_usage)
        body["stream_options"] = call.body["stream_options"]
    call.sent_body = body
    call.note = join_notes(call.note, "host refused stream_options: usage counted")
    return with_body(request, body)


def with_body(request: Any, body: dict[str, Any]) -> Any:
    """A copy of ``request`` with another JSON body."""
    content = dumps(body)
    headers = request.headers.copy()
    headers["content-length"] = str(len(content))
    return type(request)(request.method, request.url, headers=headers, content=content, extensions=request.extensions)
