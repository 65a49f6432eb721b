"""The live meter: a thin ipywidgets view over a Meter's totals, updated from the kernel thread.

Built once per cell; afterwards only its value changes, at most every ``min_interval`` seconds
(like tqdm's ``mininterval``), so 1,000 calls a second do not flood the front end.
"""

from __future__ import annotations

import html
import threading
import time
from typing import Any

from ..display import money, summary_line, tokens
from ...metering import Meter, Totals
from ...core.messages import tr

_STYLE = (
    "font-family: var(--jp-code-font-family, monospace); font-size: 12px; padding: 4px 8px; "
    "border-left: 3px solid #4a90d9; background: var(--jp-layout-color2, #f5f7fa);"
)


def _cells(t: Totals, currency: str, fx: float) -> list[tuple[str, str]]:
    cells = [
        (tr("call") if t.calls == 1 else tr("calls"), f"{t.calls}"),
        (tr("input"), tokens(t.input_tokens)),
        (tr("cached"), tokens(t.cached_input_tokens)),
        (tr("output"), tokens(t.output_tokens)),
        (tr("cost"), money(t.cost_usd, currency, fx) + (" +?" if t.unpriced else "")),
        (tr("cache hits"), f"{t.cache_hits}"),
        (tr("saved"), money(t.saved_usd, currency, fx)),
    ]
    if t.refused:
        cells.append((tr("refused"), f"{t.refused}"))
    return cells


def render_html(t: Totals, *, label: str, currency: str = "USD", fx: float = 1.0, note: str = "", running: bool = True) -> str:
    """The meter as one small HTML block (also used for the final summary)."""
    row = " &nbsp;·&nbsp; ".join(tr("<b>{value}</b> {name}", value=html.escape(v), name=k) for k, v in _cells(t, currency, fx))
    state = "⏳" if running else "✔"
    extra = f"<br><span style='opacity:.7'>{html.escape(note)}</span>" if note else ""
    return f"<div style='{_STYLE}'>{state} <b>llmcost</b> {html.escape(label)} &nbsp; {row}{extra}</div>"


class MeterSummary:
    """The static end-of-cell summary: rich HTML in notebooks, one plain line everywhere else."""

    def __init__(self, html_text: str, text: str) -> None:
        self._html, self._text = html_text, text

    def _repr_html_(self) -> str:
        return self._html

    def __repr__(self) -> str:
        return self._text


class LiveMeterView:
    """Shows a Meter live in the notebook; ``close()`` leaves the compact summary."""

    def __init__(self, meter: Meter, *, label: str = "", currency: str = "USD", fx: float = 1.0,
                 note: str = "", min_interval: float = 0.1, show_now: bool = True) -> None:
        self.meter, self.label, self.currency, self.fx, self.note = meter, label, currency, fx, note
        self.min_interval = min_interval
        self._widget: Any = None
        self._handle: Any = None
        self._last = 0.0
        self._main = threading.main_thread()
        meter.subscribe(self._on_record)
        if show_now:
            self._show()

    def _show(self) -> None:
        import ipywidgets
        from IPython.display import display

        self._widget = ipywidgets.HTML(self._html(running=True))
        self._handle = display(self._widget, display_id=True)

    def _html(self, running: bool) -> str:
        return render_html(self.meter.totals, label=self.label, currency=self.currency, fx=self.fx,
                           note=self.note, running=running)

    def _on_record(self, meter: Meter) -> None:
        # Widget messages from other threads are fragile on recent ipykernel: those calls are
        # counted and shown by the next update from the kernel thread (or at the end).
        if threading.current_thread() is not self._main:
            return
        now = time.monotonic()
        if now - self._last < self.min_interval:
            return
        self._last = now
        if self._widget is None:
            self._show()
        else:
            self._widget.value = self._html(running=True)

    def close(self) -> None:
        """Replace the live widget by a static summary, which saved notebooks keep and any viewer shows."""
        if self._widget is None and not self.meter.totals.calls + self.meter.totals.refused:
            return
        summary = MeterSummary(self._html(running=False), f"llmcost {self.label}: {self.text()}".replace("  ", " "))
        if self._handle is not None:
            self._handle.update(summary)
            self._widget.close()
        else:
            from IPython.display import display

            display(summary)

    def text(self) -> str:
        return summary_line(self.meter.totals, currency=self.currency, fx=self.fx)
