"""Faults on demand: per request with the ``x-sandbox-fault`` header, or server-wide at seeded rates.

    x-sandbox-fault: 429 | 500 | 529 | cut | latency=0.25
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .wire import APIError

HEADER = "x-sandbox-fault"


@dataclass
class Fault:
    status: int | None = None  # answer with this error
    cut: bool = False  # end a streamed answer halfway
    latency_s: float = 0.0


def parse(value: str | None) -> Fault:
    fault = Fault()
    for part in (value or "").split(","):
        part = part.strip().lower()
        if not part:
            continue
        if part in ("429", "500", "503", "529"):
            fault.status = int(part)
        elif part == "cut":
            fault.cut = True
        elif part.startswith("latency="):
            fault.latency_s = float(part.split("=", 1)[1])
        else:
            raise APIError(400, f"Unknown {HEADER} value {part!r}: use 429, 500, 529, cut or latency=SECONDS.", "invalid_request_error")
    return fault


def draw(rates: dict[str, float], rng: random.Random) -> Fault:
    """A server-wide fault, drawn with the sandbox's seeded RNG (rates like {"429": 0.05, "cut": 0.01})."""
    fault = Fault()
    for name, rate in rates.items():
        if rng.random() < rate:
            if name == "cut":
                fault.cut = True
            else:
                fault.status = int(name)
    return fault


def error_for(status: int, provider: str) -> APIError:
    if status == 429:
        kind = "rate_limit_error" if provider == "anthropic" else "rate_limit_exceeded"
        return APIError(429, "Rate limit reached (simulated by the sandbox). Please retry after a short wait.", kind,
                        "rate_limit_exceeded", headers={"retry-after": "1", "retry-after-ms": "20"})
    if status == 529:
        return APIError(529, "Overloaded (simulated by the sandbox).", "overloaded_error", headers={"retry-after-ms": "20"})
    return APIError(status, "The server had an error while processing your request (simulated by the sandbox).",
                    "api_error" if provider == "anthropic" else "server_error", headers={"retry-after-ms": "20"})
