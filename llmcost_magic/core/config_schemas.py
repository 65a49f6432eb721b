"""The schemas of the settings files (budgets, prices, cache TTLs, tiers): unknown keys are errors, numbers
must be finite and in range, and an error names the file, the key and the form expected there."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = ["BudgetFile", "PriceFile", "TiersFile", "TtlFile", "validated"]

_STRICT = ConfigDict(extra="forbid", strict=True)
Dollars = Annotated[float, Field(gt=0, allow_inf_nan=False)]
_DOLLARS = "a positive number of dollars, e.g. 0.05"
PerMillion = Annotated[float, Field(ge=0, allow_inf_nan=False, description="a number >= 0 of dollars per million tokens, e.g. 0.15")]
_PER_MILLION = "a number >= 0 of dollars per million tokens, e.g. 0.15"


class Limits(BaseModel):
    model_config = _STRICT
    max_per_query_usd: Dollars | None = Field(None, description=_DOLLARS)
    daily_max_per_user_usd: Dollars | None = Field(None, description=_DOLLARS)
    monthly_max_per_user_usd: Dollars | None = Field(None, description=_DOLLARS)
    session_max_usd: Dollars | None = Field(None, description=_DOLLARS)


class TagLimits(BaseModel):
    model_config = _STRICT
    daily_max_usd: Dollars | None = Field(None, description=_DOLLARS)
    monthly_max_usd: Dollars | None = Field(None, description=_DOLLARS)


class Alerts(BaseModel):
    model_config = _STRICT
    daily_warn_at: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False,
                                          description="a fraction of the daily limit in (0, 1], e.g. 0.8 (not '80%')")] = 0.8
    avg_cost_per_query_usd: Dollars | None = Field(None, description=_DOLLARS)
    window_calls: Annotated[int, Field(ge=1, description="a whole number of calls >= 1, e.g. 50")] = 50


class BudgetFile(BaseModel):
    model_config = _STRICT
    default: Annotated[Limits, Field(description="a 'default' table of limits, e.g. default: {max_per_query_usd: 0.05}")]
    per_segment: dict[str, Limits] = {}
    per_tag: dict[str, TagLimits] = {}
    alerts: Alerts = Alerts()
    timezone: Annotated[str | None, Field(description="an IANA time zone name, e.g. Asia/Seoul")] = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown timezone {value!r} (use an IANA name like Asia/Seoul)") from None
        return value


class ModelPrice(BaseModel):
    model_config = _STRICT
    input_mtok: PerMillion
    output_mtok: PerMillion
    cache_read_mtok: PerMillion | None = Field(None, description=_PER_MILLION)
    cache_write_mtok: PerMillion | None = Field(None, description=_PER_MILLION)
    cache_write_1h_mtok: PerMillion | None = Field(None, description=_PER_MILLION)
    provider: str | None = None


class PriceFile(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)  # other top-level tables are the pricing module's
    models: Annotated[dict[str, ModelPrice], Field(
        description="a 'models' table, e.g. models: {my-model: {input_mtok: 0.5, output_mtok: 1.5}}")]


Duration = Annotated[float, Field(ge=0, allow_inf_nan=False)] | str


class TtlFile(BaseModel):
    model_config = _STRICT
    ttls: Annotated[dict[str, Duration], Field(description="a duration like 90s, 30m, 24h, 7d, 0 or forever")]


class Rules(BaseModel):
    model_config = _STRICT
    large: list[str] = []
    medium: list[str] = []
    small: list[str] = []
    long_prompt_tokens: Annotated[int, Field(ge=1)] | None = Field(None, description="a whole number of tokens, e.g. 2000")


class TiersFile(BaseModel):
    model_config = _STRICT
    tiers: Annotated[dict[str, dict[str, str]], Field(
        description="a 'tiers' table, e.g. tiers: {small: {openai: gpt-4o-mini}}")]
    default: str | None = None
    rules: Rules = Rules()


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    """The model inside ``annotation`` (``Limits | None``, ``dict[str, Limits]``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        if (found := _inner_model(arg)) is not None:
            return found
    return None


def _walk(schema: type[BaseModel], loc: tuple[Any, ...]) -> tuple[type[BaseModel] | None, Any]:
    """(the model a key path ends in, the field info of its last named key)."""
    current: type[BaseModel] | None = schema
    info = None
    for part in loc:
        if current is not None and isinstance(part, str) and part in current.model_fields:
            info = current.model_fields[part]
            current = _inner_model(info.annotation)
        # else: a key of a free table (a segment, a tag, a model name): its field's description still applies
    return current, info


def validated(schema: type[BaseModel], data: Any, source: str, error: type[Exception]) -> Any:
    """``data`` checked against ``schema``; raises ``error`` naming ``source``, each bad key and what it expects."""
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        problems, seen = [], set()
        for item in exc.errors():
            loc = tuple(p for p in item["loc"] if isinstance(p, str) and not p.startswith(("function-", "constrained-"))
                        and p not in ("float", "str", "int"))
            path = ".".join(loc) or "the file"
            if path in seen:  # one message per key (a union reports each of its branches)
                continue
            seen.add(path)
            if item["type"] == "extra_forbidden":
                owner, _ = _walk(schema, loc[:-1])
                problems.append(f"unknown key {path!r} (a typo?); allowed there: {list(owner.model_fields) if owner else []}")
                continue
            _, info = _walk(schema, loc)
            expected = info.description if info is not None and info.description else None
            if item["type"] == "value_error":
                problems.append(f"{path}: {item['msg'].removeprefix('Value error, ')}")
            elif item["type"] == "missing":
                problems.append(f"{path} is missing" + (f": expected {expected}" if expected else ""))
            else:
                got = item.get("input")
                problems.append(f"{path} must be {expected}, got {got!r} ({item['msg'].lower()})" if expected
                                else f"{path}: {item['msg'].lower()}, got {got!r}")
        raise error(f"{source}: " + "; ".join(problems)) from None
