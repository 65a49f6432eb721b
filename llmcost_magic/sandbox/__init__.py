"""The sandbox: an offline, deterministic OpenAI- and Anthropic-compatible provider.

    from llmcost_magic.sandbox import client
    oc = client("openai")        # a real openai.OpenAI answered in-process
    ac = client("anthropic")     # a real anthropic.Anthropic

Everything measured on it is simulated. See docs/sandbox.md.
"""

from __future__ import annotations

import importlib
from typing import Any

from .engine import ManualClock, Sandbox, default_sandbox
from .quality import is_correct, load_eval_set
from .server import SandboxServer, serve
from .transport import sandbox_transport

__all__ = ["ManualClock", "Sandbox", "SandboxServer", "client", "default_sandbox", "is_correct", "load_eval_set",
           "sandbox_transport", "serve"]

IN_PROCESS_URLS = {"openai": "http://sandbox.local/v1", "anthropic": "http://sandbox.local"}


def _http_module(provider: str) -> str:
    """The httpx-style module the installed SDK sends through (httpx2 now, httpx before)."""
    base = importlib.import_module(f"{provider}._base_client")
    return "httpx2" if hasattr(base, "httpx2") else "httpx"


def client(provider: str, *, async_: bool = False, base_url: str | None = None, sandbox: Sandbox | None = None,
           **kwargs: Any) -> Any:
    """A real SDK client for ``provider`` ("openai" or "anthropic") answered by the sandbox.

    In-process by default; over real HTTP when ``base_url`` is given (see :func:`serve`).
    Extra keyword arguments go to the SDK client (e.g. ``max_retries=0``).
    """
    if provider not in IN_PROCESS_URLS:
        raise ValueError(f"provider must be 'openai' or 'anthropic', got {provider!r}")
    sdk = importlib.import_module(provider)
    cls = {("openai", False): "OpenAI", ("openai", True): "AsyncOpenAI",
           ("anthropic", False): "Anthropic", ("anthropic", True): "AsyncAnthropic"}[(provider, async_)]
    if base_url is None:
        module_name = _http_module(provider)
        http = importlib.import_module(module_name)
        transport = sandbox_transport(module_name, async_, sandbox)
        kwargs["http_client"] = (http.AsyncClient if async_ else http.Client)(transport=transport)
    return getattr(sdk, cls)(api_key="sandbox", base_url=base_url or IN_PROCESS_URLS[provider], **kwargs)
