"""Model tiers for routing: named tiers (cheapest first) and the model of each per provider.

Loaded from a YAML/TOML file or a dict (the default ships in ``data/tiers.yaml``) and validated against the
price database. The routers and the sandbox (which answers like the large tier) both read tiers from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ..core.config_files import read_table
from ..core.pricing import UnknownModelError, price_for
from ..core.tokens import provider_for_model

__all__ = ["TIER_ORDER", "TierFileError", "Tiers", "load_tiers"]

TIER_ORDER = ("small", "medium", "large")
KNOWN_PROVIDERS = ("openai", "anthropic")
# Model families that do not answer chat requests (priced, so the price check alone lets them through).
_NOT_CHAT = ("embedding", "tts", "whisper", "transcribe", "dall-e", "gpt-image", "moderation", "realtime")


class TierFileError(ValueError):
    """A tiers file that cannot be used; the message names the entry and the fix."""


@dataclass(frozen=True)
class Tiers:
    """Named tiers (cheapest first), the model of each per provider, and the rules router's words."""

    models: dict[str, dict[str, str]]
    default: str = "medium"
    rules: dict[str, Any] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [t for t in TIER_ORDER if t in self.models] + [t for t in self.models if t not in TIER_ORDER]

    def model(self, tier: str, provider: str) -> str | None:
        return self.models.get(tier, {}).get(provider)

    def next_tier(self, tier: str) -> str | None:
        names = self.names
        i = names.index(tier)
        return names[i + 1] if i + 1 < len(names) else None


def load_tiers(source: str | Path | dict[str, Any] | None = None) -> Tiers:
    """Tiers from a YAML/TOML file or dict (default: the shipped tiers), validated against the price database."""
    if source is None:
        text = resources.files("llmcost_magic").joinpath("data", "tiers.yaml").read_text(encoding="utf-8")
        return _validate(__import__("yaml").safe_load(text), "default tiers")
    if isinstance(source, dict):
        return _validate(source, "tiers")
    from ..core.config_schemas import TiersFile, validated

    data = read_table(source, TierFileError, "Tiers file")
    validated(TiersFile, data, str(source), TierFileError)  # unknown keys, wrong types
    return _validate(data, str(source))


def _validate(data: Any, source: str) -> Tiers:
    if not isinstance(data, dict) or not isinstance(data.get("tiers"), dict) or not data["tiers"]:
        raise TierFileError(f"{source}: expected a 'tiers' table, e.g. tiers: {{small: {{openai: gpt-4o-mini}}}}")
    models: dict[str, dict[str, str]] = {}
    for tier, by_provider in data["tiers"].items():
        if not isinstance(by_provider, dict):
            raise TierFileError(f"{source}: tier {tier!r} must map providers to models, got {by_provider!r}")
        for provider, model in by_provider.items():
            try:
                price_for(str(model))
            except UnknownModelError as exc:
                raise TierFileError(f"{source}: tier {tier!r} names an unknown model. {exc}") from None
            if any(part in str(model).lower() for part in _NOT_CHAT):
                raise TierFileError(f"{source}: tier {tier!r} names {model!r}, which does not answer chat "
                                    f"requests: name a chat model")
            if str(provider) in KNOWN_PROVIDERS and provider_for_model(str(model)) != str(provider):
                raise TierFileError(f"{source}: tier {tier!r} gives {provider} the model {model!r}, which is a "
                                    f"{provider_for_model(str(model))} model: routed {provider} calls would ask "
                                    f"{provider}'s API for a model it does not serve")
        models[str(tier)] = {str(p): str(m) for p, m in by_provider.items()}
    default = str(data.get("default", "medium" if "medium" in models else next(iter(models))))
    if default not in models:
        raise TierFileError(f"{source}: default tier {default!r} is not one of {list(models)}")
    return Tiers(models, default, dict(data.get("rules") or {}))
