"""The prompt-cache doctor on long prompts: N calls whose ~100k-token system prompt starts with a timestamp.
Prints the doctor's time with its chunked text comparison and, in the same run, with the per-character
``os.path.commonprefix`` it used before (the baseline)."""

from __future__ import annotations

import os
import time

import anthropic

import llmcost_magic
from llmcost_magic import meter, session
from llmcost_magic.policies import prompt_cache_doctor as doctor
from llmcost_magic.policies.prompt_trail import current_trail

CALLS, CHARS = 20, 400_000


def _record_calls() -> None:
    from tests.fake_provider import FakeProvider

    body = "Policy line. " * (CHARS // 13)
    with FakeProvider() as fake:
        client = anthropic.Anthropic(api_key="x", base_url=fake.url, max_retries=0)
        with meter():
            for i in range(CALLS):
                fake.reply({"id": "m", "type": "message", "role": "assistant", "model": "claude-sonnet-4-6",
                            "stop_reason": "end_turn", "stop_sequence": None, "content": [{"type": "text", "text": "ok"}],
                            "usage": {"input_tokens": CHARS // 4, "output_tokens": 1}})
                client.messages.create(model="claude-sonnet-4-6", max_tokens=5, system=f"Now: 10:{i:02d}. " + body,
                                       messages=[{"role": "user", "content": f"q{i}"}])
    current_trail().seal()


def _timed() -> float:
    t0 = time.perf_counter()
    llmcost_magic.prompt_cache_doctor()
    return time.perf_counter() - t0


def main() -> None:
    session.use_ledger(":memory:")
    current_trail().clear()
    _record_calls()
    chunked = _timed()
    fast = doctor._common_prefix_len
    doctor._common_prefix_len = lambda a, b: len(os.path.commonprefix([a, b]))
    try:
        baseline = _timed()
    finally:
        doctor._common_prefix_len = fast
    print(f"doctor on {CALLS} calls of ~{CHARS // 4:,}-token prompts: {chunked:.2f} s; "
          f"per-character comparison (before) {baseline:.2f} s; x{baseline / chunked:.0f}")


if __name__ == "__main__":
    main()
