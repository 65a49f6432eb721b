"""The cost dashboard: where the money went, as one page of plots and a table.

``%llmcost dashboard`` shows it in the notebook; ``export("report.html")`` or ``.png`` saves it to share.
The five cost axes are input, output, embedding and built-in tool dollars from the ledger, plus external
tools and storage / compute from figures the user supplies (the ledger cannot know them).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ...core.pricing import UnknownModelError
from ...bookkeeping.repricing import reprice_row
from ..fonts import use_korean_font
from ...core.messages import label, language, shown, tr


def cost_axes(calls: pd.DataFrame, extra_costs: Mapping[str, float] | None = None) -> pd.Series:
    """Dollars by axis: input, output, embedding and built-in tool fees re-priced from the ledger by the
    function that priced each call (so they add up to its ``cost_usd``), plus the user's own figures."""
    axes = dict.fromkeys(("input", "output", "embedding", "external tools", "storage / compute"), 0.0)
    for row in calls.itertuples():
        try:
            cost = reprice_row(row)
        except UnknownModelError:
            continue  # an unpriced call: its cost_usd is empty too
        if row.endpoint == "embeddings":
            axes["embedding"] += cost.usd or 0.0
            continue
        axes["input"] += cost.input_usd
        axes["output"] += cost.output_usd
        axes["external tools"] += cost.fees_usd
    for name, usd in (extra_costs or {}).items():
        axes[name] = axes.get(name, 0.0) + usd
    return pd.Series(axes, name="usd")


def savings_by_strategy(calls: pd.DataFrame) -> pd.Series:
    """What the calls would have cost with no policy, what each strategy saved, and what they cost."""
    saved = calls.groupby(calls["saved_by"].replace("", np.nan).fillna("none"))["saved_usd"].sum()
    saved = saved.drop(index="none", errors="ignore")
    baseline = float(calls["baseline_cost_usd"].sum())
    return pd.concat([pd.Series({"without policies": baseline}), -saved, pd.Series({"actual": float(calls["cost_usd"].sum())})])


class Dashboard:
    """A rendered dashboard: shows itself in a notebook, exports to HTML or PNG."""

    def __init__(self, calls: pd.DataFrame, *, extra_costs: Mapping[str, float] | None = None, top: int = 10) -> None:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        if language() == "ko":
            use_korean_font()  # without the cookbook extra the titles show boxes; numbers and tables are unaffected

        self.calls = calls
        fig, axes = plt.subplots(2, 3, figsize=(15, 8.5))
        self.axes_usd = cost_axes(calls, extra_costs)
        self.total_usd = float(self.axes_usd.sum())  # the title's total is the sum of the five axes
        ledger_usd = float(calls["cost_usd"].sum())
        self.title = tr("LLM spend: {n:,} calls, ${usd:,.4f}", n=len(calls), usd=self.total_usd)
        if extra_costs:
            self.title += tr(" (calls ${calls:,.4f} + your other costs ${other:,.4f})", calls=ledger_usd,
                             other=self.total_usd - ledger_usd)
        fig.suptitle(self.title, fontsize=13)
        # By call in time order: a notebook's calls often share one second, where a time axis shows one tick.
        ordered = calls.sort_values("ts")
        over_time = pd.Series(ordered["cost_usd"].fillna(0.0).cumsum().to_numpy(), index=range(1, len(ordered) + 1))
        over_time.plot(ax=axes[0, 0], title=tr("cumulative spend (USD)"))
        if len(ordered):
            first, last = pd.to_datetime(ordered["ts"].iloc[0]), pd.to_datetime(ordered["ts"].iloc[-1])
            axes[0, 0].set_xlabel(tr("calls in time order ({first:%Y-%m-%d %H:%M:%S} to {last:%H:%M:%S})", first=first, last=last))
        by_model = calls.groupby(calls["vendor"] + ": " + calls["model"])["cost_usd"].sum().sort_values()
        by_model.tail(12).plot.barh(ax=axes[0, 1], title=tr("by vendor: model (USD)"))
        by_tag = calls.assign(tag=calls["tag"].replace("", tr("(no tag)"))).groupby("tag")["cost_usd"].sum().sort_values()
        by_tag.tail(12).plot.barh(ax=axes[0, 2], title=tr("by tag (USD)"))
        self.axes_usd.rename(label).plot.bar(ax=axes[1, 0], title=tr("the five cost axes (USD)"), rot=20)
        self.waterfall = savings_by_strategy(calls)
        _waterfall(axes[1, 1], self.waterfall)
        tokens = calls["input_tokens"] + calls["output_tokens"]
        tokens.plot.hist(ax=axes[1, 2], bins=30, title=tr("tokens per call"))
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=90)
        plt.close(fig)
        self.png = buffer.getvalue()
        columns = ["ts", "cell", "tag", "model", "input_tokens", "output_tokens", "cost_usd", "status"]
        self.top_calls = calls.nlargest(top, "cost_usd")[columns]
        from ...policies.prompt_cache_doctor import prompt_cache_by_cell

        self.prompt_cache = prompt_cache_by_cell(calls)  # hit rate and net dollars per cell

    def __repr__(self) -> str:
        return f"<llmcost dashboard: {self.title.split(': ', 1)[-1]}>"

    def _repr_html_(self) -> str:
        image = base64.b64encode(self.png).decode()
        return (f"<div><img src='data:image/png;base64,{image}' style='max-width:100%'/>"
                + tr("<h4>The {n} most expensive calls</h4>", n=len(self.top_calls))
                + shown(self.top_calls).to_html(index=False)
                + tr("<h4>Provider prompt caching by cell (hit rate: share of input tokens read from the cache; "
                     "net of write premiums)</h4>") + f"{shown(self.prompt_cache).to_html()}</div>")

    def export(self, path: str | Path) -> Path:
        """Save as a self-contained ``.html`` page or as a ``.png`` image."""
        target = Path(path)
        if target.suffix == ".png":
            target.write_bytes(self.png)
        elif target.suffix in (".html", ".htm"):
            target.write_text(f"<!doctype html><meta charset='utf-8'><title>LLM spend</title>"
                              f"<h2>{html.escape('LLM spend')}</h2>{self._repr_html_()}", encoding="utf-8")
        else:
            raise ValueError(tr("Export to .html or .png, got {name!r}", name=target.name))
        return target


def _waterfall(ax, steps: pd.Series) -> None:  # noqa: ANN001 - a matplotlib Axes
    """Baseline, then each strategy's saving as a falling bar, then the actual cost."""
    running, bottoms, heights, colors = 0.0, [], [], []
    for name, value in steps.items():
        if name in ("without policies", "actual"):
            bottoms.append(0.0)
            heights.append(value)
            colors.append("#4a90d9")
            running = value
        else:
            bottoms.append(running + value)
            heights.append(-value)
            colors.append("#5cb85c" if value <= 0 else "#d9534f")
            running += value
    ax.bar(range(len(steps)), heights, bottom=bottoms, color=colors)
    ax.set_xticks(range(len(steps)), [str(label(n)) for n in steps.index], rotation=20)
    ax.set_title(tr("savings by strategy (USD)"))
