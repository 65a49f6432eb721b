"""Output controls: a default max_tokens, stop sequences, and a concise-answer instruction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.provider_rules import OPENAI_MAX_STOP
from .budgets.worst_case import model_output_limit
from .model_fit import is_reasoning

_MAX_KEY = {"chat.completions": "max_completion_tokens", "responses": "max_output_tokens", "completions": "max_tokens",
            "messages": "max_tokens"}
_OTHER_MAX_KEYS = ("max_tokens", "max_completion_tokens", "max_output_tokens")


@dataclass(frozen=True)
class OutputControls:
    """``max_tokens`` only for calls that set none; ``stop`` only for calls that set none;
    ``concise_words`` appends "Answer in at most N words." to the system prompt."""

    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    concise_words: int | None = None

    def __post_init__(self) -> None:
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError(f"--max-tokens must be >= 1, got {self.max_tokens}")
        if self.concise_words is not None and self.concise_words < 1:
            raise ValueError(f"--concise must be >= 1 words, got {self.concise_words}")

    def apply(self, endpoint: str, body: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """The body with the controls applied, and what was changed (for the ledger's note)."""
        if endpoint not in _MAX_KEY:
            return body, []
        out, notes = dict(body), []
        if self.max_tokens is not None and not any(k in body for k in _OTHER_MAX_KEYS):
            limit = model_output_limit(str(body.get("model")))
            out[_MAX_KEY[endpoint]] = min(self.max_tokens, limit)
            notes.append(f"max_tokens {self.max_tokens}" if self.max_tokens <= limit else
                         f"max_tokens {limit} (the model's limit; asked {self.max_tokens})")
        if self.stop:
            key = "stop_sequences" if endpoint == "messages" else "stop"
            if endpoint == "responses":
                notes.append("stop not sent (the Responses API takes none)")
            elif key not in body:
                notes.append(self._add_stop(endpoint, key, out))
        if self.concise_words is not None:
            instruction = f"Answer in at most {self.concise_words} words."
            if endpoint == "messages":
                system = body.get("system")
                out["system"] = (f"{system}\n\n{instruction}" if isinstance(system, str) else
                                 [*(system or []), {"type": "text", "text": instruction}])
            elif endpoint == "responses":
                out["instructions"] = f"{body.get('instructions') or ''}\n\n{instruction}".strip()
            elif endpoint == "chat.completions":
                out["messages"] = [*(body.get("messages") or []), {"role": "system", "content": instruction}]
            if endpoint == "completions":  # a bare prompt, no system prompt: an instruction would change the text
                notes.append("concise not applied (the legacy completions endpoint has no system prompt)")
            else:
                notes.append(f"concise ≤ {self.concise_words} words")
        return (out, notes) if notes else (body, [])

    def _add_stop(self, endpoint: str, key: str, out: dict[str, Any]) -> str:
        """Put the stop sequences into ``out`` as the model takes them; the note says what was left out."""
        model = str(out.get("model"))
        if endpoint == "chat.completions" and is_reasoning(model):
            return f"stop not sent ({model} does not take stop)"
        stop = list(self.stop)
        if endpoint == "messages" and any(not s.strip() for s in stop):  # Anthropic: 400 "must contain non-whitespace"
            kept = [s for s in stop if s.strip()]
            if kept:
                out[key] = kept
            why = "(Anthropic takes no whitespace-only stop sequence)"
            return f"stop {kept} {why}" if kept else f"stop not sent {why}"
        if endpoint != "messages" and len(stop) > OPENAI_MAX_STOP:
            out[key] = stop[:OPENAI_MAX_STOP]
            return (f"stop {stop[:OPENAI_MAX_STOP]} (OpenAI takes at most {OPENAI_MAX_STOP}; "
                    f"left out {stop[OPENAI_MAX_STOP:]})")
        out[key] = stop
        return f"stop {stop}"
