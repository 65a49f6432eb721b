"""A tqdm progress bar that leaves its final state behind as plain text and HTML.

tqdm's notebook bar is an ipywidget: a static render (GitHub, nbviewer, an HTML export) or a JupyterLab that
cannot load the widget JavaScript shows nothing, or the text fallback of the bar's first frame ("0/999").
Like the live meter, this bar is displayed under a display id and, when it closes, the widget is replaced by
the bar's last frame as text and HTML, which saved notebooks keep. Outside a notebook it is tqdm's own.
"""

from __future__ import annotations

import html
from typing import Any


class FinalBar:
    """A progress bar's last frame: ``text/plain`` and ``text/html`` (no script, no widget)."""

    def __init__(self, text: str, *, fraction: float, failed: bool) -> None:
        self.text, self.fraction, self.failed = text, fraction, failed

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        colour = "#d9534f" if self.failed else "#5cb85c"
        width = f"{max(0.0, min(1.0, self.fraction)):.1%}"
        return (f"<div style='font-family:monospace;white-space:pre'>"
                f"<span style='display:inline-block;width:12em;background:#eee;vertical-align:middle'>"
                f"<span style='display:inline-block;width:{width};background:{colour}'>&nbsp;</span></span> "
                f"{html.escape(self.text)}</div>")


def progress_bar(**kwargs: Any) -> Any:
    """``tqdm.auto.tqdm(**kwargs)``; in a notebook, its ``close()`` swaps the widget for a :class:`FinalBar`."""
    from tqdm.auto import tqdm

    try:
        from tqdm.notebook import tqdm_notebook
    except ImportError:  # pragma: no cover - tqdm always ships it
        return tqdm(**kwargs)
    if not issubclass(tqdm, tqdm_notebook):
        return tqdm(**kwargs)
    return _static_after_close(tqdm)(**kwargs)


def _static_after_close(base: type) -> type:
    from IPython.display import display

    class StaticAfterClose(base):  # type: ignore[misc, valid-type]
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(display=False, **kwargs)
            self._handle = display(self.container, display_id=True)
            self.displayed = True

        def close(self) -> None:
            if self.disable or getattr(self, "_handle", None) is None:
                return super().close()
            stopped = bool(self.total and self.n < self.total)
            super().close()
            final = FinalBar(self.format_meter(**self.format_dict), fraction=self.n / self.total if self.total else 1.0,
                             failed=stopped)
            handle, self._handle = self._handle, None
            handle.update(final)
            for widget in (*self.container.children, self.container):  # the bar's widgets are done: free them
                widget.close()

    return StaticAfterClose
