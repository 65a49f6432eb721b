"""The compression playground: a prompt box, a method, a rate slider; shows what was removed, tokens
before/after, dollars saved per 1,000 calls and the fidelity measures.

Built-in methods take milliseconds, so the slider recomputes as it moves; results are memoised, so
moving back is instant. LLMLingua methods recompute when the slider is released (seconds on CPU).
"""

from __future__ import annotations

import html
import time
from collections import OrderedDict
from typing import Any

import ipywidgets as widgets

from ..compression import TEXT_METHODS, CompressionError, compress, measure
from ..compression.base import Compressed
from ..compression.history import input_dollars_saved
from ..display import money
from ..errors import LLMCostError

MODELS = ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "claude-sonnet-4-5", "claude-haiku-4-5")
_REMOVED = "background:#fde2e2;color:#a33;text-decoration:line-through"
_MEMO_SIZE = 256


class CompressionPlayground(widgets.VBox):
    """``CompressionPlayground(prompt)``; display it in a notebook and move the slider."""

    def __init__(self, prompt: str = "", *, method: str = "selective", rate: float = 0.5, model: str = "gpt-4o",
                 query: str = "", calls: int = 1000) -> None:
        self.prompt = widgets.Textarea(value=prompt, placeholder="Paste a prompt…", layout=widgets.Layout(width="100%", height="120px"))
        self.query = widgets.Text(value=query, placeholder="the question (few-shot / RAG methods)", description="query")
        self.method = widgets.Dropdown(options=TEXT_METHODS, value=method, description="method")
        self.rate = widgets.FloatSlider(value=rate, min=0.1, max=1.0, step=0.05, description="keep", readout_format=".0%")
        self.model = widgets.Dropdown(options=sorted({model, *MODELS}), value=model, description="model")
        self.calls = calls
        self.output = widgets.HTML()
        self.stats = widgets.HTML()
        self.last: Compressed | None = None
        self.last_seconds = 0.0
        self._memo: OrderedDict[tuple[Any, ...], tuple[Compressed, Any]] = OrderedDict()
        for control in (self.prompt, self.query, self.method, self.rate, self.model):
            control.observe(self._changed, names="value")
        controls = widgets.HBox([self.method, self.rate, self.model])
        super().__init__([self.prompt, self.query, controls, self.stats, self.output])
        self.refresh()

    def _changed(self, _: Any) -> None:
        self.rate.continuous_update = not self.method.value.startswith("llmlingua")
        self.rate.disabled = self.method.value == "format"
        self.refresh()

    def refresh(self) -> None:
        """Recompute for the current controls (memoised) and redraw."""
        text = self.prompt.value
        if not text.strip():
            self.stats.value, self.output.value = "<i>Paste a prompt to compress.</i>", ""
            return
        rate = None if self.method.value == "format" else round(self.rate.value, 2)
        key = (text, self.method.value, rate, self.model.value, self.query.value)
        started = time.perf_counter()
        try:
            if key not in self._memo:
                result = compress(text, self.method.value, rate=rate, query=self.query.value, model=self.model.value)
                self._memo[key] = (result, measure(result))
                if len(self._memo) > _MEMO_SIZE:
                    self._memo.popitem(last=False)
            result, fidelity = self._memo[key]
        except (CompressionError, LLMCostError, ImportError) as exc:
            self.stats.value = f"<span style='color:#a33'>{html.escape(str(exc))}</span>"
            self.output.value = ""
            return
        self.last, self.last_seconds = result, time.perf_counter() - started
        self.stats.value = _stats_html(result, fidelity, self.calls)
        self.output.value = highlight(result)


def highlight(result: Compressed) -> str:
    """The original prompt with the removed words struck through."""
    runs = "".join(html.escape(text) if kept else f"<span style='{_REMOVED}'>{html.escape(text)}</span>"
                   for text, kept in result.segments)
    return f"<div style='white-space:pre-wrap;font-family:var(--jp-code-font-family,monospace);font-size:12px'>{runs}</div>"


def _stats_html(result: Compressed, fidelity: Any, calls: int) -> str:
    saved = input_dollars_saved(result.model, result.tokens_before, result.tokens_after) * calls
    similarity = "n/a" if fidelity.similarity is None else f"{fidelity.similarity:.3f}"
    cells = [("tokens", f"{result.tokens_before:,} → {result.tokens_after:,}"), ("reduction", f"{result.reduction:.0%}"),
             (f"saved per {calls:,} calls", money(saved)), ("similarity", similarity),
             ("numbers kept", f"{fidelity.numbers_kept:.0%}"), ("names kept", f"{fidelity.entities_kept:.0%}"),
             ("keywords kept", f"{fidelity.keywords_kept:.0%}")]
    row = " &nbsp;·&nbsp; ".join(f"<b>{html.escape(v)}</b> {html.escape(k)}" for k, v in cells)
    note = f"<br><i>{html.escape(result.note)}</i>" if result.note else ""
    return f"<div style='font-size:12px'>{row}{note}</div>"

