"""A model's prices as plain floats, and the one function that turns usage into dollars.

Everything that prices (the meter, ``whatif``, the dashboard, reports, budgets) goes through
:meth:`ModelPrices.cost`, so a re-priced ledger row equals its recorded ``cost_usd``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from .records import Cost, Usage

__all__ = ["Rates", "ModelPrices", "MODALITY_UNITS"]

# Usage.details keys counted inside input/output tokens, priced at their own rate when the model has one.
MODALITY_UNITS = {
    "audio_input_tokens": "input",
    "image_input_tokens": "input",
    "audio_output_tokens": "output",
    "image_output_tokens": "output",
}
# Modality tokens billed at the text rate when no rate of their own is known: said so in the note, since
# audio is usually far dearer than text (images are tokens at the text rate on chat models: no note).
_FLAG_AT_TEXT_RATE = ("audio_input_tokens", "audio_output_tokens")
# Usage.details keys billed per unit on top of tokens (speech input characters, transcribed seconds).
EXTRA_UNITS = ("characters", "audio_seconds")


@dataclass(frozen=True, slots=True)
class Rates:
    """Dollars per token, one set for a range of prompt sizes."""

    input: float
    output: float
    cache_read: float
    cache_write: float
    cache_write_1h: float

    def scaled(self, factor: float) -> Rates:
        return Rates(*(x * factor for x in (self.input, self.output, self.cache_read, self.cache_write, self.cache_write_1h)))


@dataclass(frozen=True, slots=True)
class ModelPrices:
    """A model's resolved prices. ``tiers`` are (min input tokens, Rates), a cliff: the whole call is
    priced at the tier its total input reaches (long-context pricing). ``units`` are dollars per unit
    for modality tokens (``audio_input_tokens``...), ``characters``, ``audio_seconds`` and built-in
    tool calls by kind (``web_search``, ``file_search``...). ``missing`` names a requested variant
    (service tier, fast mode) the data has no price for: standard rates are used and the note says so.
    """

    model: str
    provider: str
    rates: Rates
    tiers: tuple[tuple[int, Rates], ...] = ()
    source: str = "genai-prices"
    batch: bool = False
    units: Mapping[str, float] = field(default_factory=dict)
    missing: str = ""

    def rates_for(self, input_tokens: int) -> Rates:
        chosen = self.rates
        for start, rates in self.tiers:
            if input_tokens > start:
                chosen = rates
        return chosen

    def as_batch(self) -> ModelPrices:
        """These prices at the 50% discount both providers publish for batch work (tokens only)."""
        units = {k: v * 0.5 if k in MODALITY_UNITS else v for k, v in self.units.items()}
        return replace(self, rates=self.rates.scaled(0.5), tiers=tuple((s, r.scaled(0.5)) for s, r in self.tiers),
                       batch=True, units=units)

    def cost(self, usage: Usage, *, estimated: bool = False) -> Cost:
        """Dollars for ``usage``: tokens at the tier its input reaches, cache reads and 5m/1h writes,
        modality tokens, characters, seconds and tool calls. What has no price is named in the note."""
        r = self.rates_for(usage.input_tokens) if self.tiers else self.rates
        uncached = usage.uncached_input_tokens
        write_1h = usage.cache_write_1h_tokens
        cache_read_usd = usage.cached_input_tokens * r.cache_read
        cache_write_usd = max(usage.cache_write_tokens - write_1h, 0) * r.cache_write + write_1h * r.cache_write_1h
        plain_in = uncached * r.input
        output_usd = usage.output_tokens * r.output
        fees, note = 0.0, self.missing
        details = usage.details
        if details:
            notes = [note] if note else []
            plain_in, output_usd, fees = self._details(details, r, uncached, usage.output_tokens, plain_in, output_usd, notes)
            note = "; ".join(notes)
        input_usd = plain_in + cache_read_usd + cache_write_usd
        return Cost(input_usd + output_usd + fees, input_usd, output_usd, estimated, cache_read_usd, cache_write_usd,
                    fees, note, self.source)

    def _details(self, details: Mapping[str, object], r: Rates, uncached: int, output: int, plain_in: float,
                 output_usd: float, notes: list[str]) -> tuple[float, float, float]:
        units = self.units
        for key, side in MODALITY_UNITS.items():
            n = _amount(details.get(key))
            if not n:
                continue
            rate = units.get(key)
            if rate is None:
                if key in _FLAG_AT_TEXT_RATE:
                    notes.append(f"unpriced: {key} at the text rate (no {key.split('_')[0]} rate known for {self.model})")
                continue
            if side == "input":
                plain_in += min(n, uncached) * (rate - r.input)
            else:
                output_usd += min(n, output) * (rate - r.output)
        for key in EXTRA_UNITS:
            n = _amount(details.get(key))
            if n:
                rate = units.get(key)
                if rate is None:
                    notes.append(f"unpriced: {n:g} {key.replace('_', ' ')} on {self.model}")
                else:
                    plain_in += n * rate
        fees = 0.0
        tools = details.get("tool_calls")
        for kind, count in (tools.items() if isinstance(tools, Mapping) else ()):
            n = _amount(count)
            if not n:
                continue
            rate = units.get(str(kind))
            if rate is None:
                notes.append(f"unpriced: {n:g} {str(kind)[:40]} call{'s' if n != 1 else ''}")
            else:
                fees += n * rate
        return plain_in, output_usd, fees


def _amount(value: object) -> float:
    """A count from a provider's response; anything but a finite positive number (a string, null,
    a negative or NaN) is no count at all."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        return 0.0
    return value
