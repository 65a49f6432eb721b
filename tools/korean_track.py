"""Write the Korean track (notebooks/ko/NN_*.ipynb) from the English notebooks, its single source.

    python tools/korean_track.py            # regenerate every notebook of the track
    python tools/korean_track.py --check    # exit 1 if a Korean notebook is missing or stale

Each English markdown cell carries its Korean text in ``metadata.ko``; a Korean notebook is the English one with
that text in place of the English, the same code cells (so the same numbers), and one more setup line that
switches the kernel to Korean prose and won (``korean()``). Outputs of unchanged cells are kept from the
previous Korean notebook until ``tools/execute_notebooks.py`` runs it again.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
KOREAN = NOTEBOOKS / "ko"
# The lessons translated so far; the others join when their Korean text is in place.
TRACK = ("00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10")
SETUP = "%load_ext llmcost_magic\nfrom llmcost_magic.cookbook import openai_client, anthropic_client"
KOREAN_SETUP = SETUP + "\nfrom llmcost_magic.cookbook import korean; korean()  # 한국어 트랙: 설명은 한국어, 금액은 원화"


def english_notebooks() -> list[Path]:
    """The English notebooks of the track."""
    return sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb") if p.name[:2] in TRACK)


def twin(english: Path) -> Path:
    return KOREAN / english.name


def untranslated(nb: nbformat.NotebookNode) -> list[int]:
    """Indexes of markdown cells with no Korean text."""
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and not str(c.metadata.get("ko", "")).strip()]


def shape(cell: nbformat.NotebookNode) -> tuple:
    """What the generator decides about a cell (outputs and run metadata are the executor's)."""
    return cell.cell_type, cell.source, tuple(cell.metadata.get("tags", [])), repr(cell.metadata.get("jupyter", {}))


def korean_notebook(english: nbformat.NotebookNode, previous: nbformat.NotebookNode | None = None) -> nbformat.NotebookNode:
    """The Korean twin of ``english`` (outputs kept from ``previous`` for cells whose source is unchanged)."""
    missing = untranslated(english)
    if missing:
        raise ValueError(f"markdown cells {missing} have no Korean text (metadata.ko)")
    nb = copy.deepcopy(english)
    nb.metadata["language_track"] = "ko"
    setup_done = False
    for index, cell in enumerate(nb.cells):
        cell.metadata.pop("execution", None)
        if cell.cell_type == "markdown":
            cell.source = cell.metadata.pop("ko").strip()
            continue
        if not setup_done and cell.cell_type == "code":
            if cell.source.strip() != SETUP:
                raise ValueError("the first code cell must be the cookbook's two-line setup")
            cell.source, setup_done = KOREAN_SETUP, True
        old = previous.cells[index] if previous is not None and index < len(previous.cells) else None
        if old is not None and (old.cell_type, old.source) == (cell.cell_type, cell.source):  # outputs follow the code
            cell.outputs, cell.execution_count = old.outputs, old.execution_count
            if "execution" in old.metadata:
                cell.metadata["execution"] = old.metadata["execution"]
        else:
            cell.outputs, cell.execution_count = [], None
    return nb


def generate(english_path: Path) -> nbformat.NotebookNode:
    """The Korean notebook the generator writes now for ``english_path``."""
    target = twin(english_path)
    previous = nbformat.read(target, as_version=4) if target.exists() else None
    return korean_notebook(nbformat.read(english_path, as_version=4), previous)


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    KOREAN.mkdir(exist_ok=True)
    for path in english_notebooks():
        nb = generate(path)
        target = twin(path)
        if check:
            current = nbformat.read(target, as_version=4) if target.exists() else None
            if current is None or [shape(c) for c in current.cells] != [shape(c) for c in nb.cells]:
                stale.append(target.relative_to(ROOT))
        else:
            nbformat.write(nb, target)
            print("wrote", target.relative_to(ROOT))
    if stale:
        print("stale Korean notebooks (run python tools/korean_track.py):", *stale, sep="\n  ")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
