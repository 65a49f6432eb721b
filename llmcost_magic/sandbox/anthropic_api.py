"""The sandbox's Anthropic endpoints: messages (plain and streamed) and count_tokens."""

from __future__ import annotations

import json
from typing import Any

from ..core.tokens import count_text_tokens, count_tokens
from .answers import answer_for
from .prompt_cache import BreakpointError
from .wire import APIError, SandboxResponse, content_text, json_response, last_user_text, pieces, sse_response, stable_id

CONTEXT_WINDOW = 200_000
_STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "stop_sequence": "stop_sequence"}


def _validate(sandbox: Any, body: dict[str, Any], *, needs_max_tokens: bool = True) -> None:
    for name in ("model", "messages") + (("max_tokens",) if needs_max_tokens else ()):
        if name not in body:
            raise APIError(400, f"{name}: Field required", "invalid_request_error")
    if not isinstance(body["messages"], list) or not body["messages"]:
        raise APIError(400, "messages: at least one message is required", "invalid_request_error")
    if needs_max_tokens and (not isinstance(body["max_tokens"], int) or body["max_tokens"] < 1):
        raise APIError(400, "max_tokens: must be greater than or equal to 1", "invalid_request_error")
    stops = body.get("stop_sequences") or ()
    if any(isinstance(s, str) and not s.strip() for s in stops):
        raise APIError(400, "stop_sequences: each stop sequence must contain non-whitespace", "invalid_request_error")
    sandbox.check_model(body["model"], "anthropic")


def _input_tokens(body: dict[str, Any]) -> int:
    return count_tokens(body["messages"], model=body["model"], tools=body.get("tools"), system=body.get("system"))


def count_tokens_endpoint(sandbox: Any, body: dict[str, Any]) -> SandboxResponse:
    _validate(sandbox, body, needs_max_tokens=False)
    return json_response({"input_tokens": _input_tokens(body)})


def messages(sandbox: Any, body: dict[str, Any]) -> SandboxResponse:
    _validate(sandbox, body)
    model = body["model"]
    total = _input_tokens(body)
    if total > CONTEXT_WINDOW:
        raise APIError(400, f"prompt is too long: {total} tokens > {CONTEXT_WINDOW} maximum", "invalid_request_error")
    rid = stable_id("msg_", body, sandbox.requests)
    try:
        cache = sandbox.prompt_cache.anthropic(model, body, rid)
    except BreakpointError as exc:
        raise APIError(400, str(exc), "invalid_request_error") from None
    read = min(cache.read, total)
    write_5m = min(cache.write_5m, total - read)
    write_1h = min(cache.write_1h, total - read - write_5m)
    question = last_user_text(body["messages"])
    prompt = content_text(body.get("system")) + "\n" + "\n".join(content_text(m.get("content")) for m in body["messages"])
    tool = _tool_use(body, question)
    if tool is not None:
        content, out, stop_reason, stop_sequence = [tool], count_text_tokens(json.dumps(tool["input"]), model), "tool_use", None
    else:
        ans = answer_for(model, prompt, question, sandbox.seed, body["max_tokens"], body.get("stop_sequences"),
                         recorded=sandbox.recorded)
        content, out = [{"type": "text", "text": ans.text}], ans.output_tokens
        stop_reason = _STOP_REASONS[ans.finish]
        stop_sequence = next((s for s in body.get("stop_sequences") or () if ans.finish == "stop_sequence"), None)
    usage = {"input_tokens": total - read - write_5m - write_1h, "output_tokens": out,
             "cache_creation_input_tokens": write_5m + write_1h, "cache_read_input_tokens": read,
             "cache_creation": {"ephemeral_5m_input_tokens": write_5m, "ephemeral_1h_input_tokens": write_1h},
             "service_tier": "standard"}
    message = {"id": rid, "type": "message", "role": "assistant", "model": model,
               "content": content, "stop_reason": stop_reason, "stop_sequence": stop_sequence, "usage": usage,
               **({"diagnostics": cache.diagnostics} if "diagnostics" in body else {})}
    if not body.get("stream"):
        return sandbox.timed(json_response(message), out, streamed=False)
    start = {**message, "content": [], "stop_reason": None, "stop_sequence": None, "usage": {**usage, "output_tokens": 1}}
    events: list[tuple[str | None, Any]] = [("message_start", {"type": "message_start", "message": start})]
    for index, block in enumerate(content):
        if block["type"] == "text":
            events.append(("content_block_start", {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}))
            for piece in pieces(block["text"]):
                events.append(("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}}))
        else:
            events.append(("content_block_start", {"type": "content_block_start", "index": index, "content_block": {**block, "input": {}}}))
            events.append(("content_block_delta", {"type": "content_block_delta", "index": index,
                                                   "delta": {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}}))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    events.append(("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
                                     "usage": {"output_tokens": out}}))
    events.append(("message_stop", {"type": "message_stop"}))
    return sandbox.timed(sse_response(events), out, streamed=True)


def _tool_use(body: dict[str, Any], question: str) -> dict[str, Any] | None:
    tools = body.get("tools") or []
    last = body["messages"][-1]
    if not tools or (isinstance(last.get("content"), list) and any(b.get("type") == "tool_result" for b in last["content"] if isinstance(b, dict))):
        return None
    choice = body.get("tool_choice") or {}
    words = set(question.lower().replace("?", " ").split())
    if choice.get("type") == "tool":
        chosen = next((t for t in tools if t.get("name") == choice.get("name")), None)
    elif choice.get("type") == "any":
        chosen = tools[0]
    elif choice.get("type") == "none":
        chosen = None
    else:
        chosen = next((t for t in tools if words & set(t.get("name", "").lower().replace("_", " ").split())), None)
    if chosen is None:
        return None
    props = (chosen.get("input_schema") or {}).get("properties") or {}
    args = {k: (v["enum"][0] if v.get("enum") else question.split()[-1].strip("?.!")) for k, v in props.items()}
    return {"type": "tool_use", "id": stable_id("toolu_", question, chosen.get("name")), "name": chosen.get("name"), "input": args}
