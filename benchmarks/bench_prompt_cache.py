"""--prompt-cache auto's own work per call: placing breakpoints on a ~2,900-token system prompt, a conversation
with a new question each call. Prints the time with prefix counts remembered and, in the same run, counting
the prefix on every call (the baseline; the code before counted it up to three times per call)."""

from __future__ import annotations

import time

from llmcost_magic.policies import prompt_cache
from llmcost_magic.policies.prompt_cache import place_breakpoints

POLICY = "Support policy. " + " ".join(f"Rule {i}: items of class {i} can be returned within {i % 30 + 1} days." for i in range(220))
CALLS = 300


def _per_call_us(forget: bool) -> float:
    t0 = time.perf_counter()
    for k in range(CALLS):
        if forget:
            prompt_cache._REACHED.clear()
        body = {"model": "claude-sonnet-4-6", "max_tokens": 5, "system": POLICY,
                "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
                             {"role": "user", "content": f"question {k}"}]}
        place_breakpoints(body, "claude-sonnet-4-6")
    return (time.perf_counter() - t0) / CALLS * 1e6


def main() -> None:
    _per_call_us(False)  # warm-up: the tokenizer loads once
    remembered, counted = _per_call_us(False), _per_call_us(True)
    print(f"place_breakpoints per call: {remembered:.0f} µs remembered; {counted:.0f} µs counting every time "
          f"(before); x{counted / remembered:.0f}")


if __name__ == "__main__":
    main()
