"""Re-execute cookbook notebooks in place on the sandbox, so readers see results without running them.

    python tools/execute_notebooks.py notebooks/00_quickstart.ipynb ...   (or: make notebooks)
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def main(paths: list[str]) -> None:
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        os.environ.pop(key, None)
    for path in paths or sorted(str(p) for p in Path("notebooks").glob("[0-9][0-9]_*.ipynb")):
        scratch = tempfile.mkdtemp()  # a clean ledger and cache per notebook: outputs never depend on earlier runs
        os.environ["LLMCOST_LEDGER"] = os.path.join(scratch, "ledger.sqlite3")
        os.environ["LLMCOST_CACHE"] = os.path.join(scratch, "cache.sqlite3")
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=600, kernel_name="python3", store_widget_state=True,
                       resources={"metadata": {"path": os.path.dirname(path) or "."}}).execute()
        nbformat.write(nb, path)
        print("executed", path)


if __name__ == "__main__":
    main(sys.argv[1:])
