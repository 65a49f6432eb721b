"""The dashboard renders from a real ledger and exports to HTML and PNG."""

from __future__ import annotations

import pytest

import llmcost_magic
from llmcost_magic import meter
from llmcost_magic.sandbox import Sandbox, client
from llmcost_magic.notebook.widgets.dashboard import cost_axes, savings_by_strategy


@pytest.fixture
def calls():
    sandbox = Sandbox()
    oc = client("openai", sandbox=sandbox)
    with meter(tag="faq", cache="exact"):
        for _ in range(3):
            oc.chat.completions.create(model="gpt-4o", temperature=0, messages=[{"role": "user", "content": "refund policy?"}])
    with meter(tag="search"):
        oc.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    return llmcost_magic.ledger()


def test_axes_and_waterfall_add_up(calls):
    axes = cost_axes(calls, {"external tools": 1.5})
    assert axes["input"] + axes["output"] + axes["embedding"] == pytest.approx(calls.cost_usd.sum())
    assert axes["embedding"] > 0 and axes["external tools"] == 1.5 and axes["storage / compute"] == 0
    steps = savings_by_strategy(calls)
    assert steps["without policies"] + steps.drop(["without policies", "actual"]).sum() == pytest.approx(steps["actual"])
    assert steps["cache"] < 0


def test_render_and_export(calls, tmp_path):
    board = llmcost_magic.dashboard(calls)
    assert board.png.startswith(b"\x89PNG") and "most expensive calls" in board._repr_html_()
    html_path = board.export(tmp_path / "spend.html")
    assert "data:image/png;base64," in html_path.read_text()
    assert board.export(tmp_path / "spend.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match=".html or .png"):
        board.export(tmp_path / "spend.pdf")


def test_magic(shell, tmp_path):
    shell.run_cell("from llmcost_magic.sandbox import client\noc = client('openai')")
    shell.run_cell("%%llmcost --tag x\noc.chat.completions.create(model='gpt-4o-mini', messages=[{'role':'user','content':'hi'}])")
    board = shell.run_line_magic("llmcost", f"dashboard --export {tmp_path / 'd.html'}")
    assert (tmp_path / "d.html").exists() and len(board.calls) == 1
