"""What a call deferred to a batch (``--batch``, ``meter(batch=True)``) answers at once, before the batch runs."""

from __future__ import annotations

import time
from typing import Any

from ..core.messages import tr

__all__ = ["DRY_RUN_PREFIX", "placeholder"]

# A dry run's batch (``--dry-run --batch``) is named with this: it is sent to, and collected from, the sandbox
# (never the provider, even with an API key set), and its ledger rows say they are simulated.
DRY_RUN_PREFIX = "dry-run-"


def placeholder(provider: str, model: str, custom_id: str) -> dict[str, Any]:
    """What a deferred call returns at once: a well-formed answer saying where the real one will be."""
    text = tr("[deferred to a batch as {custom_id}: collect with llmcost_magic.batch.results()]", custom_id=custom_id)
    if provider == "anthropic":
        return {"id": custom_id, "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
                "usage": {"input_tokens": 0, "output_tokens": 0}}
    return {"id": custom_id, "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}
