"""The sandbox's request handler: routes a request to a protocol module, never crashes on bad input."""

from __future__ import annotations

import functools
import json
import random
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..core.pricing import UnknownModelError, price_for
from . import anthropic_api, faults, openai_api, openai_media
from .batches import BatchStore
from .prompt_cache import PromptCache
from .recorded import RecordedAnswers
from .wire import APIError, SandboxResponse, json_response

_ROUTES: dict[str, tuple[str, Callable[[Any, dict[str, Any]], SandboxResponse]]] = {
    "/v1/chat/completions": ("openai", openai_api.chat_completions),
    "/v1/responses": ("openai", openai_api.responses),
    "/v1/embeddings": ("openai", openai_api.embeddings),
    "/v1/messages": ("anthropic", anthropic_api.messages),
    "/v1/messages/count_tokens": ("anthropic", anthropic_api.count_tokens_endpoint),
}
_EMBEDDING_MODELS = ("text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002")


class ManualClock:
    """A clock the tests move by hand: ``clock.advance(301)`` expires a 5-minute cache entry."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Sandbox:
    """An offline, deterministic OpenAI- and Anthropic-compatible provider.

    >>> sb = Sandbox(seed=0)
    >>> sb.handle("POST", "/v1/embeddings", {}, b'{"model": "text-embedding-3-small", "input": "hi"}').status
    200
    """

    def __init__(self, *, seed: int = 0, clock: Callable[[], float] = time.time, latency_per_token_s: float = 0.0,
                 fault_rates: Mapping[str, float] | None = None, batch_delay_s: float = 2.0,
                 recorded: bool | str | Path | RecordedAnswers | None = None) -> None:
        self.seed = seed
        # Recorded mode: real answers of real models for recorded prompts (see sandbox/recorded.py).
        self.recorded = (recorded if isinstance(recorded, RecordedAnswers) or not recorded
                         else RecordedAnswers(None if recorded is True else recorded)) or None
        self.clock = clock
        self.latency_per_token_s = latency_per_token_s
        self.fault_rates = dict(fault_rates or {})
        self.prompt_cache = PromptCache(clock)
        self.batches = BatchStore(self, batch_delay_s)
        self.requests = 0
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> SandboxResponse:
        """Answer one request; errors come back in the provider's JSON shape and status."""
        with self._lock:
            self.requests += 1
            server_fault = faults.draw(self.fault_rates, self._rng) if self.fault_rates else None
        route = _ROUTES.get(path.rstrip("/"))
        provider = route[0] if route else ("anthropic" if "anthropic-version" in {k.lower() for k in headers} else "openai")
        try:
            if method == "GET" and path.rstrip("/") == "/v1/models":
                return json_response({"object": "list", "data": [{"id": m, "object": "model", "owned_by": "sandbox"} for m in
                                                                 ("gpt-4o", "gpt-4o-mini", "claude-sonnet-4-6", "claude-haiku-4-5")]})
            if route is None and path.startswith(("/v1/files", "/v1/batches", "/v1/messages/batches")):
                answer = self.batches.handle(method, path, dict(headers), body)
                if answer is not None:
                    return answer
            media = openai_media.handle(self, method, path, headers, body)
            if media is not None:
                return media
            if route is None or method != "POST":
                raise APIError(404, f"Unknown endpoint {method} {path} (the sandbox serves {', '.join(_ROUTES)}).",
                               "not_found_error" if provider == "anthropic" else "invalid_request_error", "unknown_url")
            fault = faults.parse(next((v for k, v in headers.items() if k.lower() == faults.HEADER), None))
            if server_fault is not None:
                fault.status = fault.status or server_fault.status
                fault.cut = fault.cut or server_fault.cut
            if fault.status:
                raise faults.error_for(fault.status, provider)
            try:
                payload = json.loads(body or b"null")
            except ValueError:
                raise APIError(400, "We could not parse the JSON body of your request.", "invalid_request_error") from None
            if not isinstance(payload, dict):
                raise APIError(400, "The request body must be a JSON object.", "invalid_request_error")
            response = route[1](self, payload)
            response.delay_s += fault.latency_s
            if fault.cut and response.chunks:
                response.cut_after = max(1, len(response.chunks) // 2)
            return response
        except APIError as exc:
            return exc.response(provider)
        except Exception as exc:  # noqa: BLE001 - the sandbox answers 500, it never crashes
            return APIError(500, f"Sandbox internal error: {type(exc).__name__}: {exc}", "api_error").response(provider)

    def check_model(self, model: Any, provider: str) -> None:
        """404 in the provider's shape for a model the price database does not know."""
        if not isinstance(model, str) or not model:
            raise APIError(400, "model: a model name is required", "invalid_request_error", "invalid_value", "model")
        if model in _EMBEDDING_MODELS:
            return
        try:
            found = price_for(model).provider
        except UnknownModelError:
            found = None
        if found != provider:
            if provider == "anthropic":
                raise APIError(404, f"model: {model}", "not_found_error")
            raise APIError(404, f"The model `{model}` does not exist or you do not have access to it.",
                           "invalid_request_error", "model_not_found")

    def timed(self, response: SandboxResponse, output_tokens: int, *, streamed: bool) -> SandboxResponse:
        """Add the simulated generation time (``latency_per_token_s`` per output token)."""
        total = self.latency_per_token_s * output_tokens
        if streamed and response.chunks:
            response.chunk_delay_s = total / len(response.chunks)
        else:
            response.delay_s += total
        return response

    def embed(self, texts: list[str]) -> np.ndarray:
        from ..core.embedder import default_embedder

        return default_embedder().embed(texts)


@functools.cache
def default_sandbox() -> Sandbox:
    """The process-wide sandbox that ``client()`` and ``serve()`` use unless given another."""
    return Sandbox()
