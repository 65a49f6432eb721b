"""Binder: an environment built only from binder/ runs every notebook.

Does what mybinder.org (repo2docker) does with binder/, on this machine: a fresh venv of the Python
binder/runtime.txt names, ``pip install -r binder/requirements.txt`` from the repository root, then
``binder/postBuild`` with a fresh HOME; then every notebook runs in that venv's kernel with that HOME, so the
IPython profile postBuild wrote applies (the extension is already loaded when a notebook says ``%load_ext``).
Takes a few minutes (the install), hence ``slow``: ``pytest -m "not slow"`` leaves it out.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"

pytestmark = pytest.mark.slow

# Runs inside the Binder venv: executes the notebooks with that venv's nbclient and kernel.
RUNNER = r'''
import json, os, sys, tempfile
from pathlib import Path
import nbformat
from nbclient import NotebookClient

def run(nb, folder):
    scratch = tempfile.mkdtemp(dir=os.environ["SCRATCH"])   # a clean ledger and cache per notebook
    os.environ["LLMCOST_LEDGER"] = os.path.join(scratch, "ledger.sqlite3")
    os.environ["LLMCOST_CACHE"] = os.path.join(scratch, "cache.sqlite3")
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    return nb

def texts(nb):
    return [o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
            for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]

folder = Path(sys.argv[1])
probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    "import sys, json\n"
    "print(json.dumps({'prefix': sys.prefix, 'loaded': 'llmcost_magic' in get_ipython().extension_manager.loaded,"
    " 'magic': 'llmcost' in get_ipython().magics_manager.magics['cell']}))")])
report = {"probe": json.loads(texts(run(probe, folder))[0]), "notebooks": {}}
for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
    nb = run(nbformat.read(path, as_version=4), folder)
    report["notebooks"][path.name] = {
        "errors": [f"{o.ename}: {o.evalue}" for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []) if o.get("output_type") == "error"],
        "simulated": any("SIMULATED" in t for t in texts(nb)),
        "already_loaded": any("already loaded" in t for t in texts(nb)),
    }
print("REPORT " + json.dumps(report))
'''


def _python_for(runtime: str) -> str:
    """The interpreter binder/runtime.txt asks for (``python-3.11``), as repo2docker would pick it."""
    version = runtime.strip().removeprefix("python-")
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    found = shutil.which(f"python{version}")
    if found is None:
        pytest.skip(f"binder/runtime.txt asks for Python {version}, which this machine does not have")
    return found


def _run(cmd, **kwargs):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, cmd))} failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


def test_binder_files_are_what_repo2docker_reads():
    assert (BINDER / "requirements.txt").is_file() and (BINDER / "runtime.txt").is_file()
    assert os.access(BINDER / "postBuild", os.X_OK), "repo2docker runs binder/postBuild directly: it must be executable"
    requirements = (BINDER / "requirements.txt").read_text()
    assert any(line.split("#")[0].strip().startswith(("-e .", ".")) for line in requirements.splitlines()), \
        "binder/requirements.txt must install the package from the repository root"


def test_binder_environment_runs_every_notebook(tmp_path):
    python = _python_for((BINDER / "runtime.txt").read_text())
    venv, home, scratch = tmp_path / "venv", tmp_path / "home", tmp_path / "scratch"
    home.mkdir()
    scratch.mkdir()
    _run([python, "-m", "venv", venv])
    bin_dir = venv / "bin"

    # 1. What repo2docker does with binder/requirements.txt: pip, from the repository root. The machine's own
    #    environment (and so its pip configuration and package mirror) is kept for the install.
    _run([bin_dir / "python", "-m", "pip", "install", "--quiet", "-r", BINDER / "requirements.txt"], cwd=ROOT, timeout=1500)

    # 2. binder/postBuild, from the repository root, as the user whose HOME Binder starts JupyterLab with.
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("JUPYTER_", "IPYTHON", "OPENAI_", "ANTHROPIC_", "LLMCOST_", "VIRTUAL_ENV", "PYTHON",
                                  "REDIS_URL"))}  # Binder has no Redis (CI's is for the main suite)
    env = {**clean, "HOME": str(home), "PATH": f"{bin_dir}{os.pathsep}{clean.get('PATH', '')}", "VIRTUAL_ENV": str(venv)}
    _run([BINDER / "postBuild"], cwd=ROOT, env=env, timeout=300)
    assert (home / ".ipython" / "profile_default" / "ipython_config.py").is_file()
    assert "/lab/tree/notebooks" in (home / ".jupyter" / "jupyter_server_config.py").read_text()

    # 3. Every notebook, in a copy of notebooks/ (they write small files beside themselves), in that venv's kernel.
    folder = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "*.yaml"))
    (tmp_path / "run_notebooks.py").write_text(RUNNER)
    result = _run([bin_dir / "python", tmp_path / "run_notebooks.py", folder], cwd=folder,
                  env={**env, "SCRATCH": str(scratch)}, timeout=1800)
    report = json.loads(next(line for line in result.stdout.splitlines() if line.startswith("REPORT "))[len("REPORT "):])

    probe = report["probe"]
    assert Path(probe["prefix"]).resolve() == venv.resolve(), f"the kernel ran outside the Binder venv: {probe}"
    assert probe["loaded"] and probe["magic"], "postBuild's IPython profile did not load llmcost_magic at kernel start"
    notebooks = report["notebooks"]
    assert sorted(notebooks) == sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    failed = {name: r["errors"] for name, r in notebooks.items() if r["errors"]}
    assert not failed, f"notebooks raised in the Binder environment: {json.dumps(failed, indent=1, ensure_ascii=False)}"
    assert all(r["simulated"] for r in notebooks.values())
    assert all(r["already_loaded"] for r in notebooks.values()), "each notebook's %load_ext should find the extension loaded"
