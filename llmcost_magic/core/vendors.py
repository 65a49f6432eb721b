"""Who served a call (the vendor), apart from the wire protocol it spoke (the ledger's ``provider``).

DeepSeek, Gemini, Groq, OpenRouter or Azure called through the OpenAI SDK all speak the OpenAI protocol;
the vendor comes from the host, matched against genai-prices' provider URL patterns, and for a host it
does not know (a proxy, the sandbox, localhost) from the model name.

>>> vendor_for("api.deepseek.com", "deepseek-chat", "openai")
'deepseek'
"""

from __future__ import annotations

import functools

__all__ = ["vendor_for"]


@functools.lru_cache(maxsize=512)
def vendor_for(host: str, model: str, protocol: str) -> str:
    """The vendor of a request to ``host`` for ``model``; the protocol's own vendor when nothing says more.
    (By host alone: a hot-path lookup; vendors told apart only by the URL path fall back to the model.)"""
    from genai_prices import data_snapshot

    snapshot = data_snapshot.get_snapshot()
    for ref, api_url in ((None, f"https://{host}/"), (model.lower(), None)):
        try:
            provider = snapshot.find_provider(ref, None, api_url)
        except LookupError:
            continue
        return "openai" if provider.id == "openai-decisions" else provider.id
    return protocol
