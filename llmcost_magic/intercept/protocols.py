"""One adapter module per wire protocol, by provider name (``"openai"``, ``"anthropic"``)."""

from __future__ import annotations

from types import ModuleType

from . import anthropic_protocol, openai_protocol

__all__ = ["ADAPTERS"]

ADAPTERS: dict[str, ModuleType] = {anthropic_protocol.PROVIDER: anthropic_protocol, openai_protocol.PROVIDER: openai_protocol}
