"""The compression playground: a prompt box, a method, a rate slider; shows what was removed, tokens
before/after, dollars saved per 1,000 calls next to the rules kept, and the risk: rule sentences and
negations highlighted, removed words struck through, a red count of risky removals (a negation, number or
name gone, or a word gone from a rule). English and Korean examples are one click away. Where widgets
cannot render (a static notebook viewer), the display is the same report as plain HTML.

Built-in methods take milliseconds, so the slider recomputes as it moves; results are memoised, so
moving back is instant. LLMLingua methods recompute when the slider is released (seconds on CPU).
"""

from __future__ import annotations

import html
import time
from collections import OrderedDict
from typing import Any

import ipywidgets as widgets

from ... import plugins
from ...compression import TEXT_METHODS, CompressionError, compress, measure
from ...compression.base import Compressed
from ...compression.fidelity import Fidelity
from ...compression.guard import kept_words
from ...compression.meaning import analyse
from ...compression.history import input_dollars_saved
from ..display import money
from ...core.errors import LLMCostError
from ...core.messages import plural, shown_note, tr

MODELS = ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "claude-sonnet-4-6", "claude-haiku-4-5")
_REMOVED = "color:#999;text-decoration:line-through"
_RISKY = "background:#fde2e2;color:#c00;font-weight:bold;text-decoration:line-through"
_RULE = "background:#fff6d6"
_CUE = "color:#1a56b0;font-weight:bold;text-decoration:underline"
_MEMO_SIZE = 256


def examples() -> dict[str, str]:
    """Prompts to try: the English and Korean support prompts, and a short rule list in each language."""
    from ...evaluation import support_prompt

    return {
        "English support prompt": support_prompt("en"),
        "Korean support prompt": support_prompt("ko"),
        "English rules": ("Never ask the customer for their password. Do not promise a refund unless a human agent "
                          "has approved it. Refunds are only possible within 30 days. If you are not sure, say so."),
        "Korean rules": ("고객에게 비밀번호를 절대 묻지 마세요. 상담원이 승인하지 않으면 환불을 약속하지 마세요. "
                         "환불은 30일 이내에만 가능합니다. 삭제된 파일은 복구할 수 없습니다."),
    }


class CompressionPlayground(widgets.VBox):
    """``CompressionPlayground(prompt)``; display it in a notebook and move the slider."""

    def __init__(self, prompt: str = "", *, method: str = "selective", rate: float = 0.5, model: str = "gpt-4o",
                 query: str = "", calls: int = 1000) -> None:
        self.example = widgets.Dropdown(options=["(your prompt)", *examples()], value="(your prompt)", description="example")
        self.example.observe(self._example_chosen, names="value")
        self.prompt = widgets.Textarea(value=prompt, placeholder="Paste a prompt…", layout=widgets.Layout(width="100%", height="120px"))
        self.query = widgets.Text(value=query, placeholder="the question (few-shot / RAG methods)", description="query")
        # the built-in methods, then the compressors plugins registered (read when the playground opens)
        self.method = widgets.Dropdown(options=(*TEXT_METHODS, *plugins.compressors()), value=method, description="method")
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
        super().__init__([self.example, self.prompt, self.query, controls, self.stats, self.output])
        self.refresh()

    def _example_chosen(self, change: Any) -> None:
        if change["new"] in examples():
            self.prompt.value = examples()[change["new"]]

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """The live widget where widgets render; the same report as static HTML everywhere else."""
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/html"] = self.static_html()
        return bundle

    def static_html(self) -> str:
        """The current report (stats and highlighted prompt) as standalone HTML."""
        head = ("<div style='font-size:12px;color:#555'>" + tr("compression playground · {method} · keep {rate:.0%} · {model}",
                method=html.escape(self.method.value), rate=self.rate.value, model=html.escape(self.model.value)) + "</div>")
        return f"<div>{head}{self.stats.value}{self.output.value}</div>"

    def _changed(self, _: Any) -> None:
        # slow methods recompute when the slider is released: LLMLingua, and plugins (their speed is unknown)
        self.rate.continuous_update = self.method.value in TEXT_METHODS and not self.method.value.startswith("llmlingua")
        self.rate.disabled = self.method.value == "format"
        self.refresh()

    def refresh(self) -> None:
        """Recompute for the current controls (memoised) and redraw."""
        text = self.prompt.value
        if not text.strip():
            self.stats.value, self.output.value = tr("<i>Paste a prompt to compress.</i>"), ""
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
    """The original prompt: rule sentences shaded, negation cues underlined, removed words struck through,
    risky removals (a cue, number or name, or a word of a rule) in red."""
    text = result.original
    analysis = analyse(text)
    kept = kept_words(text, result.text, analysis)
    style = [0] * len(text)  # bit 1: in a rule, 2: a cue, 4: removed, 8: risky
    for sentence in analysis.sentences:
        if sentence.rule:
            style[sentence.start:sentence.end] = [1] * (sentence.end - sentence.start)
    for word, is_kept in zip(analysis.words, kept):
        rule = analysis.sentences[word.sentence].rule
        flag = (2 if word.role == "cue" else 0) | (0 if is_kept else 4)
        if not is_kept and (word.role in ("cue", "name") or (word.role == "keep" and any(c.isdigit() for c in word.text))
                            or (rule and word.role == "content")):
            flag |= 8
        for i in range(word.start, word.end):
            style[i] |= flag
    runs, start = [], 0
    for i in range(1, len(text) + 1):
        if i == len(text) or style[i] != style[start]:
            runs.append(_styled(text[start:i], style[start]))
            start = i
    legend = (f"<div style='font-size:11px;color:#555;margin:4px 0'><span style='{_RULE}'>{tr('rule sentence')}</span> · "
              f"<span style='{_CUE}'>{tr('negation / condition')}</span> · <span style='{_REMOVED}'>{tr('removed')}</span> · "
              f"<span style='{_RISKY}'>{tr('risky removal')}</span></div>")
    body = "".join(runs)
    return (f"{legend}<div style='white-space:pre-wrap;font-family:var(--jp-code-font-family,monospace);"
            f"font-size:12px'>{body}</div>")


def _styled(piece: str, flags: int) -> str:
    styles = [css for bit, css in ((1, _RULE), (2, _CUE), (4, _REMOVED), (8, _RISKY)) if flags & bit]
    return f"<span style='{';'.join(styles)}'>{html.escape(piece)}</span>" if styles else html.escape(piece)


def _stats_html(result: Compressed, fidelity: Fidelity, calls: int) -> str:
    saved = input_dollars_saved(result.model, result.tokens_before, result.tokens_after) * calls
    rules = sum(m.rules for m in fidelity.meaning.values())
    whole = sum(m.rules_whole for m in fidelity.meaning.values())
    negations = sum(m.negations for m in fidelity.meaning.values())
    negations_kept = sum(m.negations_kept for m in fidelity.meaning.values())
    risky = len(fidelity.risky_removals)
    risk_colour = "#c00" if risky else "#2a7a2a"
    cells = [(tr("tokens"), f"{result.tokens_before:,} → {result.tokens_after:,}"), (tr("reduction"), f"{result.reduction:.0%}"),
             (tr("saved per {calls:,} calls", calls=calls), money(saved)), (tr("rules kept whole"), f"{whole}/{rules}"),
             (tr("negations kept"), f"{negations_kept}/{negations}"), (tr("numbers kept"), f"{fidelity.numbers_kept:.0%}"),
             (tr("names kept"), f"{fidelity.entities_kept:.0%}")]
    row = " &nbsp;·&nbsp; ".join(tr("<b>{value}</b> {name}", value=html.escape(v), name=html.escape(k)) for k, v in cells)
    languages = " &nbsp;·&nbsp; ".join(
        tr("{lang}: {kept}/{negations} negations, {whole}/{rules} rules whole", lang=lang, kept=m.negations_kept,
           negations=m.negations, whole=m.rules_whole, rules=m.rules)
        + (tr(", <b style='color:#c00'>{n} reversed</b>", n=m.rules_reversed) if m.rules_reversed else "")
        for lang, m in sorted(fidelity.meaning.items()))
    risk = (f"<b style='color:{risk_colour}'>" + tr("{n} risky removal{s}", n=risky, s=plural(risky)) + "</b>"
            + (": " + html.escape(", ".join(fidelity.risky_removals[:8])) + ("…" if risky > 8 else "") if risky else ""))
    note = f"<br><i>{html.escape(shown_note(result.note))}</i>" if result.note else ""
    return f"<div style='font-size:12px'>{row}<br>{risk} &nbsp;·&nbsp; {languages}{note}</div>"

