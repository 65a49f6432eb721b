"""The sandbox's OpenAI endpoints: chat completions, Responses, embeddings."""

from __future__ import annotations

import base64
import json

from typing import Any

import numpy as np

from ..core.provider_rules import OPENAI_MAX_STOP, openai_has_breakpoints
from ..core.tokens import count_text_tokens, count_tokens, encoding_for_model
from .answers import answer_for
from .wire import APIError, SandboxResponse, json_response, last_user_text, pieces, sse_response, stable_id

CONTEXT_WINDOWS = (("gpt-4.1", 1_047_576), ("gpt-5", 400_000), ("gpt-4o", 128_000), ("gpt-4-turbo", 128_000),
                   ("gpt-4", 8_192), ("gpt-3.5", 16_385))
DEFAULT_CONTEXT = 128_000


def _context_window(model: str) -> int:
    return next((n for prefix, n in CONTEXT_WINDOWS if model.startswith(prefix)), DEFAULT_CONTEXT)


def _require(body: dict[str, Any], *fields: str) -> None:
    for name in fields:
        if name not in body:
            raise APIError(400, f"Missing required parameter: '{name}'.", "invalid_request_error", "missing_required_parameter", name)


def _prompt_token_ids(model: str, messages: list[dict[str, Any]], tools: Any) -> list[int]:
    """The prompt as one token sequence, for prefix caching (order: tools, then messages)."""
    text = (json.dumps(tools, sort_keys=True) if tools else "") + "".join(
        f"<|{m.get('role')}|>{m.get('content') if isinstance(m.get('content'), str) else json.dumps(m.get('content'), sort_keys=True)}"
        for m in messages
    )
    return encoding_for_model(model).encode_ordinary(text)


def _usage(prompt: int, cached: int, completion: int, written: int | None = None) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0,
                                  **({"cache_write_tokens": written} if written is not None else {})},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                      "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
    }


def _tool_call(tools: list[dict[str, Any]], tool_choice: Any, messages: list[dict[str, Any]], question: str) -> dict[str, Any] | None:
    """Call a tool when asked to, or when the question names what a tool is for (and no result is back yet)."""
    if not tools or tool_choice == "none" or (messages and messages[-1].get("role") == "tool"):
        return None
    functions = [t.get("function", t) for t in tools]
    chosen = None
    if isinstance(tool_choice, dict):
        name = (tool_choice.get("function") or {}).get("name")
        chosen = next((f for f in functions if f.get("name") == name), None)
    elif tool_choice == "required":
        chosen = functions[0]
    else:
        words = set(question.lower().replace("?", " ").split())
        chosen = next((f for f in functions if words & set(f.get("name", "").lower().replace("_", " ").split())), None)
    if chosen is None:
        return None
    args = {}
    for key, spec in ((chosen.get("parameters") or {}).get("properties") or {}).items():
        args[key] = spec["enum"][0] if spec.get("enum") else (1 if spec.get("type") in ("number", "integer") else question.split()[-1].strip("?.!"))
    return {"id": stable_id("call_", question, chosen.get("name")), "type": "function",
            "function": {"name": chosen.get("name", ""), "arguments": json.dumps(args, ensure_ascii=False)}}


def chat_completions(sandbox: Any, body: dict[str, Any]) -> SandboxResponse:
    _require(body, "model", "messages")
    model, messages, tools = body["model"], body["messages"], body.get("tools")
    if not isinstance(messages, list) or not messages:
        raise APIError(400, "'messages' must be a non-empty array.", "invalid_request_error", "invalid_value", "messages")
    sandbox.check_model(model, "openai")
    if isinstance(body.get("stop"), list) and len(body["stop"]) > OPENAI_MAX_STOP:  # checked before anything is cached
        raise APIError(400, f"'stop': array too long. Expected an array with maximum length {OPENAI_MAX_STOP}, but got an "
                            f"array with length {len(body['stop'])} instead.", "invalid_request_error", "array_above_max_length", "stop")
    prompt_tokens = count_tokens(messages, model=model, tools=tools)
    window = _context_window(model)
    if prompt_tokens > window:
        raise APIError(400, f"This model's maximum context length is {window} tokens. However, your messages resulted in "
                            f"{prompt_tokens} tokens. Please reduce the length of the messages.",
                       "invalid_request_error", "context_length_exceeded", "messages")
    cache = sandbox.prompt_cache.openai(model, body, _prompt_token_ids(model, messages, tools))
    cached = min(cache.read, prompt_tokens)
    written = min(cache.write, prompt_tokens - cached) if openai_has_breakpoints(model) else None  # GPT-5.6+ report writes
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    stop = body.get("stop")
    stop = [stop] if isinstance(stop, str) else stop
    question = last_user_text(messages)
    prompt = "\n".join(str(m.get("content")) for m in messages)
    choices, completion = [], 0
    for i in range(int(body.get("n") or 1)):
        call = _tool_call(tools or [], body.get("tool_choice"), messages, question) if i == 0 else None
        if call is not None:
            out = count_text_tokens(call["function"]["name"] + call["function"]["arguments"], model)
            choices.append({"index": i, "message": {"role": "assistant", "content": None, "tool_calls": [call],
                                                    "refusal": None, "annotations": []},
                            "logprobs": None, "finish_reason": "tool_calls"})
        else:
            ans = answer_for(model, prompt, question, sandbox.seed, max_tokens, stop, choice=i, recorded=sandbox.recorded)
            out = ans.output_tokens
            choices.append({"index": i, "message": {"role": "assistant", "content": ans.text, "refusal": None, "annotations": []},
                            "logprobs": None, "finish_reason": "length" if ans.finish == "length" else "stop"})
        completion += out
    rid = stable_id("chatcmpl-", body, sandbox.requests)
    created = int(sandbox.clock())
    usage = _usage(prompt_tokens, cached, completion, written)
    if not body.get("stream"):
        return sandbox.timed(json_response({"id": rid, "object": "chat.completion", "created": created, "model": model,
                                            "choices": choices, "usage": usage, "service_tier": "default",
                                            "system_fingerprint": "fp_sandbox"}), completion, streamed=False)
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    base = {"id": rid, "object": "chat.completion.chunk", "created": created, "model": model,
            "service_tier": "default", "system_fingerprint": "fp_sandbox"}
    extra = {"usage": None} if include_usage else {}
    events: list[tuple[str | None, Any]] = []
    for c in choices:
        message = c["message"]
        events.append((None, {**base, "choices": [{"index": c["index"], "delta": {"role": "assistant", "content": ""}, "logprobs": None, "finish_reason": None}], **extra}))
        if message.get("tool_calls"):
            call = message["tool_calls"][0]
            events.append((None, {**base, "choices": [{"index": c["index"], "delta": {"tool_calls": [{"index": 0, **call}]}, "logprobs": None, "finish_reason": None}], **extra}))
        else:
            for piece in pieces(message["content"]):
                events.append((None, {**base, "choices": [{"index": c["index"], "delta": {"content": piece}, "logprobs": None, "finish_reason": None}], **extra}))
        events.append((None, {**base, "choices": [{"index": c["index"], "delta": {}, "logprobs": None, "finish_reason": c["finish_reason"]}], **extra}))
    if include_usage:
        events.append((None, {**base, "choices": [], "usage": usage}))
    events.append((None, "[DONE]"))
    return sandbox.timed(sse_response(events), completion, streamed=True)


def responses(sandbox: Any, body: dict[str, Any]) -> SandboxResponse:
    _require(body, "model", "input")
    model, inp = body["model"], body["input"]
    sandbox.check_model(model, "openai")
    messages = [{"role": "user", "content": inp}] if isinstance(inp, str) else list(inp)
    if body.get("instructions"):
        messages = [{"role": "system", "content": body["instructions"]}, *messages]
    prompt_tokens = count_tokens(messages, model=model, tools=body.get("tools"))
    cache = sandbox.prompt_cache.openai(model, body, _prompt_token_ids(model, messages, body.get("tools")))
    cached = min(cache.read, prompt_tokens)
    written = min(cache.write, prompt_tokens - cached)
    question = last_user_text(messages)
    ans = answer_for(model, "\n".join(str(m.get("content")) for m in messages), question, sandbox.seed,
                     body.get("max_output_tokens"), None, recorded=sandbox.recorded)
    rid = stable_id("resp_", body, sandbox.requests)
    usage = {"input_tokens": prompt_tokens, "input_tokens_details": {
                 "cached_tokens": cached, "cache_write_tokens": written if openai_has_breakpoints(model) else 0,
                 "cache_write_tokens_details": {"ttl_30m_tokens": written - min(cache.write_12h, written),
                                                "ttl_12h_tokens": min(cache.write_12h, written)}},
             "output_tokens": ans.output_tokens, "output_tokens_details": {"reasoning_tokens": 0},
             "total_tokens": prompt_tokens + ans.output_tokens}
    incomplete = ans.finish == "length"
    msg = {"type": "message", "id": stable_id("msg_", rid), "status": "incomplete" if incomplete else "completed",
           "role": "assistant", "content": [{"type": "output_text", "text": ans.text, "annotations": [], "logprobs": []}]}
    response = {"id": rid, "object": "response", "created_at": int(sandbox.clock()), "model": model,
                "status": "incomplete" if incomplete else "completed",
                "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
                "error": None, "instructions": body.get("instructions"), "output": [msg], "parallel_tool_calls": True,
                "tool_choice": "auto", "tools": body.get("tools") or [], "usage": usage, "text": {"format": {"type": "text"}},
                "max_output_tokens": body.get("max_output_tokens"), "temperature": 1.0, "top_p": 1.0, "metadata": {}}
    if not body.get("stream"):
        return sandbox.timed(json_response(response), ans.output_tokens, streamed=False)
    seq = iter(range(10**9))
    start = {**response, "status": "in_progress", "output": [], "usage": None}
    events: list[tuple[str | None, Any]] = [("response.created", {"type": "response.created", "sequence_number": next(seq), "response": start})]
    for piece in pieces(ans.text):
        events.append(("response.output_text.delta", {"type": "response.output_text.delta", "sequence_number": next(seq),
                                                      "item_id": msg["id"], "output_index": 0, "content_index": 0, "delta": piece, "logprobs": []}))
    kind = "response.incomplete" if incomplete else "response.completed"
    events.append((kind, {"type": kind, "sequence_number": next(seq), "response": response}))
    return sandbox.timed(sse_response(events), ans.output_tokens, streamed=True)


def embeddings(sandbox: Any, body: dict[str, Any]) -> SandboxResponse:
    _require(body, "model", "input")
    model, inp = body["model"], body["input"]
    texts = [inp] if isinstance(inp, str) else list(inp)
    if not texts or not all(isinstance(t, str) and t for t in texts):
        raise APIError(400, "'input' must be a non-empty string or array of non-empty strings.", "invalid_request_error", "invalid_value", "input")
    sandbox.check_model(model, "openai")
    vectors = sandbox.embed(texts)
    dims = body.get("dimensions")
    if dims:
        vectors = np.pad(vectors, ((0, 0), (0, max(0, dims - vectors.shape[1]))))[:, :dims]
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    b64 = body.get("encoding_format") == "base64"
    data = [{"object": "embedding", "index": i,
             "embedding": base64.b64encode(v.astype("<f4").tobytes()).decode() if b64 else [float(x) for x in v]}
            for i, v in enumerate(vectors)]
    tokens = sum(count_text_tokens(t, model) for t in texts)
    return json_response({"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


