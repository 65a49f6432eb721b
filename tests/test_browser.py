"""What a person sees: JupyterLab in a real (headless) Chromium runs the quick start (English and Korean), and the
live meter renders.

JupyterLab from this venv serves a temporary copy of notebooks/ (00_quickstart's committed outputs cleared, so
everything on the page comes from this run) on a free loopback port with a token; Playwright drives Debian's
Chromium (/usr/bin/chromium: never a downloaded browser) to open the notebook and choose Run > Run All Cells.
The live meter is an ipywidget: the test watches the page while the cells run and checks that it rendered, with
a dollar figure, and that no "Error displaying widget" appeared. Screenshot: test-artifacts/browser/.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

# A JupyterLab server and a browser: minutes on a loaded machine; `pytest -m "not slow"` skips it (README).
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# The quick start in both tracks: the Korean one shows the meter in won.
QUICK_STARTS = {"00_quickstart.ipynb": "$", "ko/00_quickstart.ipynb": "₩"}


@pytest.fixture
def chromium():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs it (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium): the browser test drives Debian's Chromium")
    return str(CHROMIUM)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, method: str = "GET", timeout: float = 5) -> int:
    with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=timeout) as response:
        return response.status


@pytest.fixture(params=list(QUICK_STARTS))
def notebook(request) -> str:
    return request.param


@pytest.fixture
def lab(tmp_path, notebook):
    """JupyterLab on a temp copy of notebooks/, its ledger, cache and HOME in tmp_path; stopped afterwards."""
    root = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "*.yaml"))
    nb = nbformat.read(root / notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, root / notebook)

    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "ANTHROPIC_", "LLMCOST_", "JUPYTER_", "IPYTHON"))}
    env.update(HOME=str(home), LLMCOST_LEDGER=str(tmp_path / "ledger.sqlite3"), LLMCOST_CACHE=str(tmp_path / "cache.sqlite3"))
    port, token = _free_port(), secrets.token_hex(16)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--LabApp.extension_manager=readonly"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log_path = tmp_path / "jupyterlab.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(cmd, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if _get(f"{base}/api/status?token={token}") == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, f"JupyterLab exited ({server.returncode}):\n{log_path.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"JupyterLab did not answer in 90 s:\n{log_path.read_text()[-3000:]}"
            time.sleep(0.3)
        yield {"base": base, "token": token, "root": root, "log": log_path}
    finally:
        try:
            _get(f"{base}/api/shutdown?token={token}", method="POST")
            server.wait(timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            pass
        if server.poll() is None:  # the server and the kernels it started: its own process group
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)


# Installed in the page before running: remembers every rendering of a widget in an output area, and any
# "Error displaying widget", even if a later update (the end-of-cell summary) replaces them.
WATCH = """() => {
    window.__llmcost = {widgets: [], widgetErrors: []};
    const look = () => {
        for (const out of document.querySelectorAll('.jp-OutputArea-output')) {
            const text = out.textContent || '';
            if (text.includes('Error displaying widget') && !window.__llmcost.widgetErrors.includes(text))
                window.__llmcost.widgetErrors.push(text);
            for (const w of out.querySelectorAll('.widget-html, .jupyter-widgets')) {
                const t = (w.textContent || '').trim();
                if (t && !window.__llmcost.widgets.includes(t)) window.__llmcost.widgets.push(t);
            }
        }
    };
    new MutationObserver(look).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""

# Every code cell has an execution count, and the kernel is idle.
ALL_RAN = """() => {
    const prompts = [...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputArea-prompt')]
        .map(p => (p.textContent || '').trim());
    const indicator = document.querySelector('.jp-NotebookPanel .jp-Notebook-ExecutionIndicator');
    return prompts.length > 0 && prompts.every(p => /^\\[\\d+\\]:$/.test(p))
        && (!indicator || indicator.dataset.status === 'idle');
}"""


def _run_all(page) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator("li.lm-Menu-item[data-command='runmenu:run-all']").click()


def test_quickstart_in_jupyterlab_shows_the_live_meter(chromium, lab, notebook):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    money = QUICK_STARTS[notebook]
    screenshot = ARTIFACTS / notebook.replace("/", "_").replace(".ipynb", ".png")
    notes: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            console_errors: list[str] = []
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            try:
                page.goto(f"{lab['base']}/lab/tree/{notebook}?token={lab['token']}", timeout=90_000)
                page.wait_for_selector(".jp-NotebookPanel .jp-CodeCell", timeout=90_000)
                # The kernel has started and is connected (status bar: "Python 3 (ipykernel) | Idle").
                page.wait_for_function("() => /\\(ipykernel\\) \\| Idle/.test(document.querySelector('.jp-StatusBar-Widget')?.textContent || '')"
                                       " || [...document.querySelectorAll('.jp-StatusBar-TextItem')].some(e => /\\| Idle/.test(e.textContent))",
                                       timeout=90_000)
                page.evaluate(WATCH)
                _run_all(page)
                deadline = time.monotonic() + 240
                while not page.evaluate(ALL_RAN):
                    dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
                    if dialog.count():  # JupyterLab sometimes asks once; a person would accept Python 3 and run again
                        notes.append("JupyterLab asked to select a kernel: accepted its choice, ran all again")
                        dialog.locator(".jp-mod-accept").click()
                        page.wait_for_timeout(1000)
                        _run_all(page)
                    assert time.monotonic() < deadline, "the notebook did not finish running in 240 s"
                    page.wait_for_timeout(250)
                seen = page.evaluate("window.__llmcost")
                page.keyboard.press("Control+s")  # save, to check the outputs the kernel produced
                page.locator(".jp-OutputArea-output", has_text="llmcost [quickstart]").first.scroll_into_view_if_needed()
                page.wait_for_timeout(500)
                body = page.evaluate("document.body.textContent")
                outputs = page.locator(".jp-OutputArea-output").evaluate_all("els => els.map(e => e.textContent)")
            finally:
                page.screenshot(path=str(screenshot))
                print(f"\nscreenshot: {screenshot}")
        finally:
            browser.close()
    for note in notes:
        print(note)
    if console_errors:
        print("browser console errors:", *console_errors[:20], sep="\n  ")

    assert "Error displaying widget" not in body and not seen["widgetErrors"], seen["widgetErrors"]
    live = [t for t in seen["widgets"] if "llmcost" in t and money in t]
    assert live, f"the live meter widget never rendered an amount ({money}); widgets seen: {seen['widgets']}"
    summaries = [t for t in outputs if "llmcost" in t and money in t and re.search(r"\d+ calls?\b|호출 \d+", t)]
    assert len(summaries) >= 4, f"expected the 4 metered cells' summaries with dollars, got: {summaries}"
    assert "SIMULATED" in body

    deadline = time.monotonic() + 30
    while True:  # the saved file: every code cell ran, none raised
        nb = nbformat.read(lab["root"] / notebook, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        if all(c.execution_count for c in code) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert all(c.execution_count for c in code), "the saved notebook has cells that did not run"
    errors = [f"{o.ename}: {o.evalue}" for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
