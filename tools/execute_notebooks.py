"""Re-execute cookbook notebooks in place on the sandbox, so readers see results without running them.

    python tools/execute_notebooks.py                               (or: make notebooks) every notebook, both tracks
    python tools/execute_notebooks.py notebooks/00_quickstart.ipynb  one lesson: its Korean twin is regenerated
                                                                     from it and executed too
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
import korean_track  # noqa: E402 - the sibling tool


def execute(path: Path) -> None:
    scratch = tempfile.mkdtemp()  # a clean ledger and cache per notebook: outputs never depend on earlier runs
    os.environ["LLMCOST_LEDGER"] = os.path.join(scratch, "ledger.sqlite3")
    os.environ["LLMCOST_CACHE"] = os.path.join(scratch, "cache.sqlite3")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(nb, path)
    print("executed", path)


def main(paths: list[str]) -> None:
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "LLMCOST_LANG"):
        os.environ.pop(key, None)
    chosen = [Path(p) for p in paths] or sorted(korean_track.NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    for path in chosen:
        execute(path)
        english = path.resolve().parent == korean_track.NOTEBOOKS
        if english and path.name[:2] in korean_track.TRACK:  # the twin follows its source: same code, same run
            target = korean_track.twin(path.resolve())
            korean_track.KOREAN.mkdir(exist_ok=True)
            nbformat.write(korean_track.generate(path.resolve()), target)
            execute(target)


if __name__ == "__main__":
    main(sys.argv[1:])
