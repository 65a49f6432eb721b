"""The compression methods by name, and ``METHOD[:RATE]`` specs (``format+selective:0.5`` chains)."""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass

from .. import plugins
from ..core.messages import tr
from .base import Compressed, CompressionError, Compressor, check_rate
from .examples import FewShotCompressor
from .formats import FormatCompressor
from .lingua import LinguaCompressor
from .retrieval import RagCompressor
from .selective import SelectiveCompressor

TEXT_METHODS = ("format", "selective", "fewshot", "rag", "llmlingua2", "llmlingua")
HISTORY_METHODS = ("window", "budget")  # window:N turns, budget:N tokens


@dataclass(frozen=True, slots=True)
class Step:
    """One method of a spec: ``rate`` for text methods, ``amount`` (turns or tokens) for history ones."""

    method: str
    rate: float | None = None
    amount: int | None = None


def parse_spec(spec: str) -> tuple[Step, ...]:
    """``"format+selective:0.5"`` -> steps; unknown methods and bad rates raise CompressionError."""
    if not isinstance(spec, str) or not spec.strip():
        raise CompressionError(tr("compress: say which method, e.g. --compress selective:0.5 (methods: {methods})",
                                  methods=", ".join(TEXT_METHODS + HISTORY_METHODS)))
    steps = []
    for part in spec.split("+"):
        name, _, value = part.strip().partition(":")
        name = name.strip().lower()
        if name in HISTORY_METHODS:
            steps.append(Step(name, amount=_amount(name, value)))
            continue
        if name not in TEXT_METHODS and name not in plugins.compressors():
            known = TEXT_METHODS + HISTORY_METHODS + tuple(plugins.compressors())
            near = difflib.get_close_matches(name, known, n=1)
            hint = tr("did you mean {near!r}? ", near=near[0]) if near else ""
            raise CompressionError(tr("compress: unknown method {name!r}; {hint}methods: {methods}{left_out}", name=name,
                                      hint=hint, methods=", ".join(known), left_out=plugins.left_out_note()))
        rate = None
        if value:
            try:
                rate = float(value)
            except ValueError:
                raise CompressionError(tr("compress: {name}:{value} — the rate must be a number in (0, 1], the share of "
                                          "tokens to keep (e.g. {name}:0.5)", name=name, value=value)) from None
        steps.append(Step(name, rate=check_rate(rate, name)))
    return tuple(steps)


def _amount(name: str, value: str) -> int:
    unit = tr("turns") if name == "window" else tr("tokens")
    example = "window:6" if name == "window" else "budget:2000"
    try:
        amount = int(value)
    except ValueError:
        raise CompressionError(tr("compress: {name} needs the number of {unit} to keep, e.g. {example}", name=name,
                                  unit=unit, example=example)) from None
    if amount < 1:
        raise CompressionError(tr("compress: {name} must keep at least 1 of its {unit}, e.g. {example}", name=name,
                                  unit=unit, example=example))
    return amount


class _PluginCompressor:
    """A plugin's compressor, held to the :class:`Compressor` contract: a plain string it returns becomes a
    ``Compressed``; anything else, or an exception, is a CompressionError naming the plugin (the text is then
    sent as written, with a note, like any compressor that cannot compress)."""

    def __init__(self, name: str, engine: object, plugin: str) -> None:
        self.name, self.engine, self.plugin = name, engine, plugin

    def compress(self, text: str, *, rate: float | None = None, query: str = "", model: str = "gpt-4o") -> Compressed:
        try:
            result = self.engine.compress(text, rate=rate, query=query, model=model)  # type: ignore[attr-defined]
        except CompressionError:
            raise
        except Exception as exc:  # noqa: BLE001 - a third party's failure becomes ours, named
            raise CompressionError(f"compress: {self.name} (plugin {self.plugin}) failed: {type(exc).__name__}: {exc}") from exc
        if isinstance(result, str):
            return Compressed(text, result, self.name, rate, model)
        if not isinstance(result, Compressed):
            raise CompressionError(f"compress: {self.name} (plugin {self.plugin}) returned a {type(result).__name__}; "
                                   f"it must return the compressed text or a Compressed. Fix the plugin")
        return result


@functools.cache
def _plugin_compressor(name: str, factory: object, plugin: str) -> Compressor:
    engine = factory()  # type: ignore[operator]
    if not callable(getattr(engine, "compress", None)):
        raise plugins.PluginError(f"compressor {name!r} of plugin {plugin!r} made a {type(engine).__name__} without "
                                  f"compress(text, *, rate, query, model): fix or uninstall the plugin")
    return _PluginCompressor(name, engine, plugin)


def compressor(name: str) -> Compressor:
    """The shared compressor for a text method name (a built-in one or a plugin's)."""
    found = None if name in TEXT_METHODS else plugins.compressors().get(name)
    return _built_in(name) if found is None else _plugin_compressor(name, *found)


@functools.cache
def _built_in(name: str) -> Compressor:
    if name == "llmlingua2":
        return LinguaCompressor(version=2)
    if name == "llmlingua":
        return LinguaCompressor(version=1)
    classes = {"format": FormatCompressor, "selective": SelectiveCompressor, "fewshot": FewShotCompressor,
               "rag": RagCompressor}
    if name not in classes:
        parse_spec(name)  # raises the helpful error
        raise CompressionError(f"compress: {name!r} works on conversations, not text: use compress_messages()")
    return classes[name]()


def compress(text: str, method: str = "selective", *, rate: float | None = None, query: str = "",
             model: str = "gpt-4o") -> Compressed:
    """Compress ``text`` with ``method`` (a name, or a spec like ``"format+selective:0.5"``).

    >>> compress("Please make sure that you always answer politely.", "selective", rate=0.5).text  # doctest: +SKIP
    """
    steps = parse_spec(method)
    if rate is not None:
        steps = steps[:-1] + (Step(steps[-1].method, rate=check_rate(rate, steps[-1].method)),)
    current, notes = text, []
    for step in steps:
        result = compressor(step.method).compress(current, rate=step.rate, query=query, model=model)
        current = result.text
        notes += [result.note] if result.note else []
    label = "+".join(s.method for s in steps)
    return Compressed(text, current, label, steps[-1].rate, model, note="; ".join(notes) if current == text or len(steps) == 1 else "")
