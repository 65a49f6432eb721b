"""The cookbook's two-line setup: real clients when API keys are set, the offline sandbox otherwise.

    %load_ext llmcost_magic
    from llmcost_magic.cookbook import openai_client, anthropic_client

The Korean track adds one line, ``from llmcost_magic.cookbook import korean; korean()``: the same code then
prints its prose and labels its plots in Korean (:func:`T`), and the meter shows won.
"""

from __future__ import annotations

from typing import Any

from .clients import anthropic_client, on_sandbox, openai_client
from .core import messages
from .notebook.fonts import use_korean_font
from .core.course_language import T, language

__all__ = ["KRW_PER_USD", "T", "TokenPieces", "anthropic_client", "korean", "language", "on_sandbox", "openai_client",
           "project_room", "show_tokens"]

# A round teaching rate, fixed so that the Korean track's amounts are reproducible (near the late-2025 market
# rate of ~1,450 won per dollar; not a live quote: pass your own to korean()).
KRW_PER_USD = 1450.0


def korean(fx: float = KRW_PER_USD) -> None:
    """Switch this kernel to the Korean track: prose and plot labels in Korean (with a Korean font for
    matplotlib), the meter's amounts in won at ``fx`` won per dollar. The ledger stays in dollars."""
    messages.set_language("ko")  # the meter's summary, labels, table headers and refusals too
    use_korean_font()  # plot labels in Hangul, with DejaVu Sans for the glyphs NanumGothic lacks
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        shell.run_line_magic("config", 'LLMCost.currency = "KRW"')
        shell.run_line_magic("config", f"LLMCost.fx = {fx}")


class TokenPieces:
    """A text's tokens per encoding: coloured pieces as static HTML, ``|``-separated pieces as plain text."""

    COLOURS = ("#fde2e4", "#cde7f0", "#e2f0cb", "#fff1c1", "#e4dcf5", "#ffd8be")

    def __init__(self, text: str, encodings: tuple[str, ...]) -> None:
        from .core.tokens import _encoding

        self.text, self.pieces = text, {}
        for name in encodings:
            enc = _encoding(name)
            pieces: list[tuple[str, int]] = []
            pending, count = b"", 0
            for raw in enc.decode_tokens_bytes(enc.encode_ordinary(text)):
                pending, count = pending + raw, count + 1
                try:
                    pieces.append((pending.decode("utf-8"), count))
                except UnicodeDecodeError:
                    continue  # part of a character: wait for the bytes that complete it
                pending, count = b"", 0
            self.pieces[name] = pieces

    def count(self, encoding: str) -> int:
        """Tokens of the text in ``encoding``."""
        return sum(n for _, n in self.pieces[encoding])

    def __repr__(self) -> str:
        return "\n".join(f"{name} ({self.count(name)} {T('tokens', '토큰')}): "
                         + "|".join(p + (f"({n})" if n > 1 else "") for p, n in pieces)
                         for name, pieces in self.pieces.items())

    def _repr_html_(self) -> str:
        import html

        rows = []
        for name, pieces in self.pieces.items():
            spans = "".join(
                f"<span title='{n} token{'s' * (n > 1)}' style='background:{self.COLOURS[i % len(self.COLOURS)]};"
                f"padding:1px 0;{'outline:1px dashed #c00;' if n > 1 else ''}white-space:pre'>{html.escape(piece)}"
                f"{f'<sub>{n}</sub>' if n > 1 else ''}</span>" for i, (piece, n) in enumerate(pieces))
            rows.append(f"<tr><td style='text-align:left'><code>{name}</code><br>{self.count(name)} "
                        f"{T('tokens', '토큰')}</td><td style='text-align:left;font-size:1.1em;line-height:1.9'>"
                        f"{spans}</td></tr>")
        return f"<table>{''.join(rows)}</table>"


def show_tokens(text: str, encodings: tuple[str, ...] = ("o200k_base", "cl100k_base")) -> TokenPieces:
    """``text`` split into its tokens, one coloured piece per token, for each OpenAI encoding (static HTML:
    it renders on GitHub and in exported pages). A piece that is only part of a character (a Korean syllable
    can take two or three byte-level tokens) is shown once, with how many tokens it took."""
    return TokenPieces(text, encodings)


def project_room(url: str, *, every_s: float = 10.0, rounds: int | None = None) -> Any:
    """The instructor's projected view of a workshop room: everyone's calls and spend today, the room's total
    first, refreshed every ``every_s`` seconds (``rounds`` times; forever by default, stop with the ■ button).
    Returns the last table shown."""
    import time

    import pandas as pd
    from IPython.display import clear_output, display

    from . import workshop

    shown = 0
    while True:
        room = workshop.room(url).sort_values("spent_usd", ascending=False)
        total = pd.DataFrame([{"calls": room["calls"].sum(), "spent_usd": room["spent_usd"].sum(),
                               "limit_usd": None, "used": None}], index=[T("(room total)", "(강의실 합계)")])
        table = pd.concat([total, room]) if len(room) else total
        clear_output(wait=True)
        display(table.style.format({"spent_usd": "${:,.4f}", "limit_usd": "${:,.2f}", "used": "{:.0%}"}, na_rep="")
                .bar(subset=["used"], vmin=0, vmax=1, color="#f4a261")
                .relabel_index([messages.label(c) for c in table.columns], axis="columns"))
        shown += 1
        if rounds is not None and shown >= rounds:
            return table
        time.sleep(every_s)
