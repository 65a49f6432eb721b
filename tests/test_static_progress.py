"""A batch's progress bar is readable without widgets: once the wait ends, the saved notebook holds its final
state as plain text and HTML (what GitHub, nbviewer, an HTML export or a JupyterLab that cannot load the widget
JavaScript show), not a widget whose only fallback is the bar's first frame ("0/999")."""

from __future__ import annotations

import re

import nbformat
import pytest
from nbclient import NotebookClient

WIDGET = "application/vnd.jupyter.widget-view+json"

CELLS = [
    "from llmcost_magic import batch\nfrom llmcost_magic.sandbox import client\noai = client('openai')\n"
    "plan = batch.build([f'item {i}' for i in range(40)], model='gpt-4o-mini', max_tokens=20, template='Title: {}')\n"
    "plan.requests[3] = (plan.requests[3][0], {**plan.requests[3][1], 'model': 'gpt-imaginary'})\n"
    "job = plan.submit(oai, name='static-bar')",
    "print('before the wait')\nstatus = job.wait(oai, interval=0.05)\nprint('after the wait')",
]


def _run(tmp_path, monkeypatch, cells: list[str]):
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "LLMCOST_LANG"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("LLMCOST_LEDGER", str(tmp_path / "ledger.sqlite3"))
    monkeypatch.setenv("LLMCOST_CACHE", str(tmp_path / "cache.sqlite3"))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=True).execute()
    return nb


@pytest.mark.notebook
def test_the_saved_wait_cell_shows_the_final_bar_without_widgets(tmp_path, monkeypatch):
    nb = _run(tmp_path, monkeypatch, CELLS)
    outputs = nb.cells[1].outputs
    assert not [o for o in outputs if o.output_type == "error"]
    static = [o for o in outputs if o.output_type == "display_data" and WIDGET not in o.data]
    assert static, "the wait left only a widget: a static render shows nothing (or the first frame)"
    text, page = static[-1].data["text/plain"], static[-1].data["text/html"]
    for shown in (text, page):
        assert "static-bar" in shown and "40/40" in shown and "100%" in shown, shown
        assert "failed=1" in shown, "the final state says how many lines failed"
    assert "<script" not in page
    assert not [o for o in outputs if WIDGET in o.get("data", {})], "the widget is replaced, not left beside the text"
    printed = "".join(o.text for o in outputs if o.output_type == "stream")
    assert printed.index("before") < printed.index("after"), "the cell's own prints are kept"


@pytest.mark.notebook
def test_a_wait_that_times_out_leaves_its_last_state(tmp_path, monkeypatch):
    """Interrupted (here: a timeout), the static state is the bar where it stopped, not a full one."""
    cells = [CELLS[0], "try:\n    job.wait(oai, interval=0.01, timeout=0)\nexcept TimeoutError:\n    print('timed out')"]
    nb = _run(tmp_path, monkeypatch, cells)
    outputs = nb.cells[1].outputs
    static = [o for o in outputs if o.output_type == "display_data" and WIDGET not in o.data]
    assert static and re.search(r"\d+/40", static[-1].data["text/plain"])
    assert "timed out" in "".join(o.get("text", "") for o in outputs)


def test_outside_a_notebook_the_bar_is_tqdms_own(capsys):
    from tqdm.notebook import tqdm_notebook

    from llmcost_magic.notebook.widgets.progress import progress_bar

    bar = progress_bar(total=3, desc="terminal", unit="req")
    bar.update(3)
    bar.close()
    assert not isinstance(bar, tqdm_notebook)
    assert "terminal: 100%" in capsys.readouterr().err
