"""The cookbook: every notebook runs top to bottom in a real kernel, offline, on the sandbox, and reproduces
the key numbers it was committed with (``make notebooks`` commits them).

Convention: a code cell tagged ``key-numbers`` (cell metadata ``"tags": ["key-numbers"]``) holds results the
notebook teaches from (cost tables, savings, accuracy). Its outputs' text (``text/plain`` and stream text),
after the normalisation below, must be the same when the notebook is run again.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))
KEY_TAG = "key-numbers"
SETUP = "%load_ext llmcost_magic\nfrom llmcost_magic.cookbook import openai_client, anthropic_client"

# What legitimately differs from run to run; nothing else in a key-numbers cell may.
_VARIES = [
    # timestamps: 2026-11-23 05:05:19.046322107, 2026-11-23T05:04:54.132884Z, ...+09:00
    (re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?"), "<timestamp>"),
    # a progress bar's elapsed time, remaining time and rate: [00:03<00:00, 281.55req/s]
    (re.compile(r"\[\d+:\d\d(?::\d\d)?<[^\]]*\]"), "[<elapsed>]"),
    # latencies and durations: 12 ms, 3.4ms, 870 µs, 1.25 s
    (re.compile(r"\b\d+(?:\.\d+)?\s?(?:ms|µs|us|ns)\b|\b\d+\.\d+\s?s\b"), "<duration>"),
    # temporary files and folders
    (re.compile(r"(?:/private)?(?:/tmp|/var/tmp|/var/folders)/[^\s'\"),\]]*"), "<tmp>"),
    # memory addresses: <object at 0x7f3a2c1d9e50>
    (re.compile(r"0x[0-9a-fA-F]{6,16}\b"), "0x<addr>"),
]


def normalise(text: str) -> str:
    for pattern, replacement in _VARIES:
        text = pattern.sub(replacement, text)
    return "\n".join(line.rstrip() for line in text.splitlines())


def _output_text(output) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    if output.get("output_type") in ("display_data", "execute_result"):
        return str(output.get("data", {}).get("text/plain", ""))
    return ""


def key_numbers(nb) -> list[str]:
    """The normalised text of every key-numbers cell, each headed by its index and first source line."""
    lines: list[str] = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and KEY_TAG in cell.get("metadata", {}).get("tags", []):
            first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
            lines.append(f"### cell {index}: {first}")
            lines.extend(normalise(_cell_text(cell)).splitlines())
    return lines


def _cell_text(cell) -> str:
    """A cell's printed text, then its displayed results. Printed text reaches the notebook on its own channel:
    on a loaded machine it can arrive before or after a display, and in differently cut chunks, so the two are
    compared apart, each in order."""
    outputs = cell.get("outputs", [])
    printed = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    shown = "\n".join(_output_text(o) for o in outputs if o.get("output_type") != "stream")
    return f"{printed}\n{shown}" if printed and shown else printed or shown


def _key_cells(nb) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and KEY_TAG in c.get("metadata", {}).get("tags", [])]


def test_normalise_keeps_numbers_masks_timings():
    assert normalise("$0.4145 · 200 calls · 95.6% cheaper · 4,769 tokens · 24h") == "$0.4145 · 200 calls · 95.6% cheaper · 4,769 tokens · 24h"
    assert normalise("took 12.5 ms, then 870 µs, then 1.25 s") == "took <duration>, then <duration>, then <duration>"
    assert normalise("created 2026-11-23 05:05:19.046322107  ") == "created <timestamp>"
    assert normalise("x:   0%|   | 0/999 [00:03<00:00, 281.55req/s]") == "x:   0%|   | 0/999 [<elapsed>]"
    assert normalise("saved to /tmp/tmpab12_cd/spend.html") == "saved to <tmp>"
    assert normalise("<Foo object at 0x7f3a2c1d9e50>") == "<Foo object at 0x<addr>>"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_shape(path):
    """Every notebook marks its key results and ends with what the reader learned."""
    nb = nbformat.read(path, as_version=4)
    tagged = _key_cells(nb)
    assert tagged, f"{path.name}: tag the cells holding its key results with {KEY_TAG!r} (cell metadata tags)"
    empty = [i for i in tagged if not any(_output_text(o).strip() for o in nb.cells[i].get("outputs", []))]
    assert not empty, f"{path.name}: key-numbers cells {empty} have no committed output: run `make notebooks`"
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert first_code.source.strip() == SETUP, f"{path.name}: the first code cell must be the cookbook's two-line setup"
    last = nb.cells[-1]
    assert last.cell_type == "markdown" and re.match(r"#+\s*What you learned", last.source.strip()), \
        f"{path.name} must end with a 'What you learned' markdown cell"


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_offline(path, tmp_path, monkeypatch):
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("LLMCOST_LEDGER", str(tmp_path / "ledger.sqlite3"))
    monkeypatch.setenv("LLMCOST_CACHE", str(tmp_path / "cache.sqlite3"))
    nb = nbformat.read(path, as_version=4)
    committed = key_numbers(nb)
    assert committed, f"{path.name} has no {KEY_TAG!r} cell"
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    text = "\n".join(
        out.get("text", "") + str(out.get("data", {}).get("text/plain", ""))
        for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
    )
    assert "SIMULATED" in text, "the notebook must say in one visible line that it runs on the sandbox"
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    now = key_numbers(nb)
    if now != committed:
        diff = "\n".join(difflib.unified_diff(committed, now, f"{path.name} (committed)", f"{path.name} (this run)", lineterm=""))
        pytest.fail(f"{path.name}: the key numbers differ from the committed run (if the change is intended, "
                    f"re-run `make notebooks` and commit):\n{diff}", pytrace=False)
