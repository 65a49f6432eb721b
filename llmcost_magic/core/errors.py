"""Errors llmcost_magic raises on purpose, each naming the problem and the fix."""

from __future__ import annotations

import functools
import importlib

__all__ = ["LLMCostError", "BudgetExceeded", "MissingDependency", "as_sdk_error"]


class LLMCostError(Exception):
    """Base class of llmcost_magic's own errors."""


class BudgetExceeded(LLMCostError):
    """A call was refused before it was sent: its worst-case cost would pass a limit."""

    def __init__(self, message: str, *, limit_usd: float, spent_usd: float, needed_usd: float, suggestion: str | None = None):
        super().__init__(message)
        self.limit_usd = limit_usd
        self.spent_usd = spent_usd
        self.needed_usd = needed_usd
        self.shortfall_usd = spent_usd + needed_usd - limit_usd
        self.suggestion = suggestion


class MissingDependency(LLMCostError, ImportError):
    """An optional part needs an extra that is not installed."""

    def __init__(self, what: str, extra: str):
        super().__init__(f"{what} needs an optional dependency: pip install 'llmcost-magic[{extra}]'")


_SDK_BASE_ERRORS = {"openai": ("openai", "OpenAIError"), "anthropic": ("anthropic", "AnthropicError")}


@functools.cache
def _flavoured(cls: type[LLMCostError], provider: str) -> type[LLMCostError]:
    module_name, base_name = _SDK_BASE_ERRORS[provider]
    try:
        base = getattr(importlib.import_module(module_name), base_name)
    except (ImportError, AttributeError):
        return cls
    return type(cls.__name__, (cls, base), {"__module__": cls.__module__})


def as_sdk_error(exc: LLMCostError, provider: str) -> LLMCostError:
    """The same error, also an instance of the provider SDK's base error.

    Both SDKs re-raise their own errors from the transport untouched, while any other exception
    would be retried and wrapped as a connection error; this keeps a refusal a refusal.
    """
    if provider not in _SDK_BASE_ERRORS:
        return exc
    flavoured = _flavoured(type(exc), provider)
    if flavoured is type(exc):
        return exc
    clone = flavoured.__new__(flavoured)
    clone.__dict__.update(exc.__dict__)
    clone.args = exc.args
    return clone
