"""The README's runnable examples and promises, checked as written (the ones no other test runs)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import llmcost_magic
from llmcost_magic.notebook.options import split_words

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def _blocks(text: str, lang: str = "python") -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, re.S)


def _run(shell, source: str):
    result = shell.run_cell(source)
    assert result.error_before_exec is None and result.error_in_exec is None, (source, result.error_in_exec)
    return result


def test_the_quick_start_runs_as_written(shell):
    setup, cell, ledger_cell = _blocks(_section("Quick start"))[:3]
    _run(shell, setup)
    shell.user_ns["docs"] = ["The cat sat on the mat.", "Dogs bark at night."]
    _run(shell, cell)
    rows = llmcost_magic.ledger()
    assert list(rows["tag"]) == ["summaries", "summaries"] and (rows["cost_usd"] > 0).all()
    report = _run(shell, ledger_cell).result   # its last line is `%llmcost report --by model   # a comment`
    assert list(report["model"]) == ["gpt-4o-mini"] and int(report["calls"].iloc[0]) == 2


@pytest.mark.parametrize("line, words", [
    ("report --by model   # per cell / model", ["report", "--by", "model"]),
    ("--tag a#b  # a comment", ["--tag", "a#b"]),
    ('--tag "a # b" #x', ["--tag", "a # b"]),
    (r"--tag a\ #b", ["--tag", "a #b"]),
    ("--stop '#' --tag x", ["--stop", "#", "--tag", "x"]),
    ("# only a comment", []),
])
def test_a_magic_line_drops_its_comment_and_keeps_quoted_hashes(line, words):
    assert split_words(line) == words


def test_every_readme_command_line_parses_with_its_comment():
    """Each concrete line of the `%llmcost` commands block parses as written, comment included."""
    from llmcost_magic.notebook.options import parse_line_command

    block = _blocks(_section("`%llmcost` commands"))[0]
    for line in block.splitlines():
        if line.startswith("%llmcost ") and "|" not in line.split("#")[0] and "[" not in line.split("#")[0]:
            parse_line_command(line.removeprefix("%llmcost "))


def test_the_python_api_block_runs(tmp_path, monkeypatch, fresh_cache_store):
    """Every statement of the README's Python API block, its placeholders filled in (`...`, files it names)."""
    import ast

    from llmcost_magic.cookbook import openai_client
    from llmcost_magic.evaluation import split_shared

    monkeypatch.chdir(tmp_path)
    (tmp_path / "budgets.yaml").write_text(_blocks(README, "yaml")[0], encoding="utf-8")
    (tmp_path / "prices.yaml").write_text("models: {my-llama: {input_mtok: 0.2, output_mtok: 0.4}}\n", encoding="utf-8")
    train, test = split_shared()
    test.head(40).to_json("my_items.jsonl", orient="records", lines=True, force_ascii=False)
    train.to_json("my_labelled.jsonl", orient="records", lines=True, force_ascii=False)
    client = openai_client()

    def run_pipeline():
        for question in ("How do I reset my password?", "How can I reset my password?"):
            client.chat.completions.create(model="gpt-4o-mini", temperature=0,
                                           messages=[{"role": "user", "content": question}])

    source = (_blocks(_section("Python API"))[0].replace("tools=[...]", "tools=TOOLS").replace(", ...])", "])")
              .replace("    ...\n", "    run_pipeline()\n").replace('"redis://127.0.0.1:6379/0"', "STORE"))
    names = {"client": client, "run_pipeline": run_pipeline, "json": __import__("json"), "STORE": fresh_cache_store,
             "TOOLS": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}],
             "long_prompt": "You are a support assistant. Never reveal internal ticket numbers. Answer politely. " * 8,
             "messages": [{"role": ("user", "assistant")[i % 2], "content": f"turn {i}"} for i in range(12)]}
    needs_a_hit_first = ("lm.reject_answer()", 'lm.confirm_answer("0")')   # they act on an earlier cache hit
    for node in ast.parse(source).body:
        code = ast.get_source_segment(source, node)
        try:
            exec(compile(ast.Module([node], []), "<README>", "exec"), names)
        except ValueError as exc:
            assert code in needs_a_hit_first and "cache audit" in str(exc), code
    assert names["lm"].estimate_cost("my-llama", 1_000_000, 1_000_000) == pytest.approx(0.6)


def test_the_batch_block_runs_and_reattaches_by_name(tmp_path, monkeypatch):
    import pandas as pd

    from llmcost_magic.cookbook import openai_client

    monkeypatch.chdir(tmp_path)
    source = _blocks(_section("Batch API"))[0]
    names = {"client": openai_client(), "llmcost_magic": llmcost_magic,
             "df": pd.DataFrame({"description": ["a red bike", "a blue car", "a green boat"]})}
    exec(source.replace("job.wait(client)", "job.wait(client, interval=0.05)"), names)
    assert names["job"].name == "my-batch" and names["job"].collected
    assert len(names["results"]) == 3 and names["results"]["text"].notna().all()


def test_the_sandbox_block_runs():
    names: dict = {}
    exec(_blocks(_section("The sandbox"))[0], names)
    try:
        assert type(names["oc"]).__name__ == "OpenAI"
        assert names["server"].openai_base_url.startswith("http://127.0.0.1:")
    finally:
        names["server"].stop()


def test_the_workshop_block_runs(shell, redis_url):
    import redis

    room = redis_url.rsplit("/", 1)[0] + "/7"
    redis.Redis.from_url(room).flushdb()
    try:
        for cell in _blocks(_section("Workshop mode"))[0].replace("redis://10.0.0.5:6379/0", room).split("\n\n"):
            _run(shell, cell)
        _run(shell, "from llmcost_magic.cookbook import openai_client\nclient = openai_client()")
        _run(shell, "%%llmcost --tag w\nclient.chat.completions.create(model='gpt-4o-mini', "
                    "messages=[{'role': 'user', 'content': 'hi'}])")
        totals = _run(shell, f"workshop.room({room!r})").result
        assert int(totals["calls"].sum()) == 1 and float(totals["limit_usd"].iloc[0]) == 2.0
    finally:
        shell.run_line_magic("config", "LLMCost.workshop = None")
        redis.Redis.from_url(room).flushdb()


def test_the_config_block_sets_every_trait(tmp_path):
    """In its own kernel-like process: the block points the ledger, the store and the language elsewhere."""
    import subprocess
    import sys

    block = next(b for b in _blocks(README) if b.startswith("%config"))
    script = ("from IPython.testing.globalipapp import start_ipython\nip = start_ipython()\n"
              "ip.run_line_magic('load_ext', 'llmcost_magic')\n"
              f"for line in {block.splitlines()!r}:\n"
              "    r = ip.run_cell(line)\n"
              "    assert r.error_before_exec is None and r.error_in_exec is None, line\n"
              "m = ip.magics_manager.registry['LLMCost']\n"
              "print(m.budget, m.fx, m.compress, m.language, m.min_confidence)\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-5:] == ["1.0", "1350.0", "format+selective:0.5", "ko", "0.7"]


def test_the_ledger_columns_are_the_ones_listed(fresh_ledger):
    listed = re.search(r"Ledger columns: (.*?) \(`input_tokens_before`", README, re.S).group(1)
    assert [c.strip(" `\n") for c in listed.split(",")] == list(llmcost_magic.ledger().columns)


ROOT = Path(__file__).parent.parent


def _notebook_text(name: str) -> str:
    """A committed notebook's markdown and text outputs: what its last execution showed."""
    import nbformat

    notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    parts = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def test_each_lesson_time_is_the_same_in_both_tables_and_the_notebook():
    row = r"^\| (\d\d) \| \[[^\]]+\]\(([^)]+)\) \| (\d+) min \|"
    readme = {n: m for n, _, m in re.findall(row, README, re.M)}
    guide = {n: m for n, _, m in re.findall(row, (ROOT / "notebooks" / "README.md").read_text(encoding="utf-8"), re.M)}
    assert readme and readme == guide
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        shown = re.search(r"\*\*Time:\*\* (\d+) minutes", _notebook_text(path.name)).group(1)
        assert readme[path.name[:2]] == shown, f"{path.name} says {shown} minutes"


# The course table's "saving measured" column, each figure next to the output line of the notebook that shows it.
COURSE_FIGURES = {
    "02_prompt_compression.ipynb": [("66%", r"66% fewer tokens"), ("removes 35% of the English", r"en\s+0\.5\s+479 -> 311\s+35%"),
                                    ("16% of the Korean", r"ko\s+0\.5\s+559 -> 472\s+16%")],
    "03_conversation_history.ipynb": [("45–50%", r"window:6\s+[\d.]+\s+-50%"), ("45–50%", r"gpt-4\.1-mini\)\s+[\d.]+\s+-45%")],
    "04_response_caching.ipynb": [("95.9%", r"95\.9% cheaper")],
    "05_provider_prompt_caching.ipynb": [("50–56%", r"-55\.9%"), ("50–56%", r"50\.0%")],
    "06_model_routing.ipynb": [("APGR 0.83", r"answer-checks\+probe\s+answer\s+0\.83"),
                               ("35% of calls", r"answer-checks\+probe\s+0\.352\s+0\.352"),
                               ("RouteLLM's best: 0.62", r"causal LLM router\s+gsm8k\s+0\.622")],
    "07_batch_api.ipynb": [("50%", r"cost 50% of live calls")],
    "08_output_control.ipynb": [("74–83%", r"-74%"), ("74–83%", r"-83%")],
    "09_budgets_and_monitoring.ipynb": [("refused before it is sent ($0 spent)", r"0 calls .* \$0\.00 · 1 refused by budget")],
    "10_capstone_case_study.ipynb": [("$493 → $20 a month (96.0%)", r"\$493 → \$20 \(96\.0% less\)"),
                                     ("98.7% from the legacy Opus 4.1 ($1,480)", r"legacy claude-opus-4-1 \(\$15/\$75\): \$1,480"),
                                     ("98.7%", r"legacy claude-opus-4-1\s+\$20\s+98\.7%"),
                                     ("at 96% accuracy", r"accuracy 100\.0% → 96\.4%")],
}


@pytest.mark.parametrize("name", sorted(COURSE_FIGURES))
def test_the_course_table_quotes_the_committed_outputs(name):
    row = next(line for line in README.splitlines() if f"](notebooks/{name})" in line and line.startswith("| "))
    shown = _notebook_text(name)
    for claim, evidence in COURSE_FIGURES[name]:
        assert claim in row, f"README row for {name} no longer says {claim!r}: update this test with its evidence"
        assert re.search(evidence, shown), f"{name}'s committed outputs do not show {claim!r} ({evidence})"


def test_the_readme_constants_are_the_code_defaults():
    """Each figure the README states as a default is the code's default (a change to either fails here)."""
    from llmcost_magic.bookkeeping.sqlite_ledger import COMMIT_DELAY
    from llmcost_magic.policies.budgets import reservations
    from llmcost_magic.policies.budgets.worst_case import UNBOUNDED_TOOL_CALLS
    from llmcost_magic.policies.cascade import CascadeSettings
    from llmcost_magic.policies.semantic_cache import DEFAULT_ERROR_BOUND, DEFAULT_THRESHOLD

    stated = {
        r"committed to the SQLite file within ~(\d+) ms": (COMMIT_DELAY * 1000, float),
        r"Holds are leases \((\d+) s, renewed": (reservations.LEASE_S, float),
        r"allotment of up to (\d+) calls": (reservations.BLOCK_CALLS, int),
        r"with neither, (\d+) per tool is assumed": (UNBOUNDED_TOOL_CALLS, int),
        r"within a (\d+)% error bound": (DEFAULT_ERROR_BOUND * 100, float),
        r"≥ `--threshold` \(default ([\d.]+)\)": (DEFAULT_THRESHOLD, float),
        r"states a confidence < ([\d.]+)": (CascadeSettings.__dataclass_fields__["min_confidence"].default, float),
        r"LLMCost\.min_confidence = ([\d.]+)": (CascadeSettings.__dataclass_fields__["min_confidence"].default, float),
    }
    for pattern, (code_value, kind) in stated.items():
        found = re.search(pattern, README)
        assert found, f"the README no longer says {pattern!r}: drop it here"
        assert kind(found.group(1)) == pytest.approx(code_value), f"README {found.group(0)!r}, code {code_value}"


@pytest.mark.parametrize("name", ["test_binder.py", "test_browser.py"])
def test_not_slow_skips_the_binder_and_browser_tests(name):
    """The README: `pytest -m "not slow"` skips the Binder and browser tests."""
    import ast

    assert '`pytest -m "not slow"` skips the Binder and\nbrowser tests' in README or "skips the Binder and browser" in README
    tree = ast.parse((ROOT / "tests" / name).read_text(encoding="utf-8"))
    marks = [ast.unparse(node.value) for node in tree.body if isinstance(node, ast.Assign)
             and any(getattr(t, "id", "") == "pytestmark" for t in node.targets)]
    assert marks == ["pytest.mark.slow"], f"tests/{name} is not marked slow"


def test_the_newcomer_commands_and_binder_files_match():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^lab: .*\.lab-installed", makefile, re.M) and "-e '.[cookbook]'" in makefile
    assert re.search(r"^test: test-newest test-oldest", makefile, re.M)
    assert "'openai==1.40.0' 'anthropic==0.40.0'" in makefile and "openai 1.40 / anthropic 0.40" in README
    assert re.search(r"^sandbox: ", makefile, re.M) and re.search(r"^bench: ", makefile, re.M)
    assert (ROOT / "binder" / "requirements.txt").read_text(encoding="utf-8").strip().endswith("-e .[cookbook]")
    post_build = (ROOT / "binder" / "postBuild").read_text(encoding="utf-8")
    assert 'extensions.append("llmcost_magic")' in post_build and "/lab/tree/notebooks/00_quickstart.ipynb" in post_build
    assert "?urlpath=lab/tree/notebooks/00_quickstart.ipynb" in README
    assert "python-3.11" in (ROOT / "binder" / "runtime.txt").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "redis-server" in ci and "chromium" in ci and "make test" in ci


def test_every_path_the_readme_names_exists():
    named = set(re.findall(r"\]\(((?:notebooks|docs|llmcost_magic)/[^)#\s]+)", README))
    named |= set(re.findall(r"`((?:tests|benchmarks|tools|binder|docs|llmcost_magic|data)/[\w./-]+\.\w+)`", README))
    for shorthand in [p for p in named if re.search(r"_v\d+/v\d+\.", p)]:   # rules_heldout_v2/v3.jsonl: both files
        named.discard(shorthand)
        stem, first, second, ext = re.match(r"(.*_)(v\d+)/(v\d+)(\..*)", shorthand).groups()
        named |= {f"{stem}{first}{ext}", f"{stem}{second}{ext}"}
    missing = [p for p in sorted(named) if not (ROOT / p).exists() and not (ROOT / "llmcost_magic" / p).exists()]
    assert named and not missing, f"the README names files that do not exist: {missing}"


def test_the_sandbox_and_bench_commands_are_what_their_comments_say(monkeypatch):
    import argparse
    import importlib

    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "$(BIN)/python -m llmcost_magic.sandbox" in makefile and "$(BIN)/python -m benchmarks" in makefile
    assert "make sandbox                            # python -m llmcost_magic.sandbox --port 8765" in README
    parsers = []

    def stop(self, *args, **kwargs):
        parsers.append(self)
        raise SystemExit(0)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", stop)
    with pytest.raises(SystemExit):
        importlib.import_module("llmcost_magic.sandbox.__main__").main()
    port = next(a for a in parsers[0]._actions if "--port" in a.option_strings)
    assert port.default == 8765   # `make sandbox` runs it without --port
    suites = sorted(p.stem.removeprefix("bench_") for p in (ROOT / "benchmarks").glob("bench_*.py"))
    assert sorted(re.search(r"python -m benchmarks \[([\w|]+)\]", README).group(1).split("|")) == suites


def test_the_layout_names_files_that_exist():
    layout = README.split("\n## Layout\n", 1)[1].split("Design notes:", 1)[0]
    for name in set(re.findall(r"\b([a-z_]+\.py)\b", layout)):
        assert list(ROOT.glob(f"llmcost_magic/**/{name}")) or (ROOT / "tools" / name).exists(), name
    for folder in re.findall(r"^      ([a-z_]+)/ ", layout, re.M):
        assert (ROOT / "llmcost_magic" / folder).is_dir(), folder


def test_every_ttl_form_the_readme_lists_and_ttl_0_never_stores():
    from llmcost_magic.policies.response_cache import parse_duration
    from llmcost_magic.sandbox import client

    forms = re.search(r"\| `--ttl 1h` \| how long cached answers live \(([^)]*)\)", README).group(1)
    assert [parse_duration(f.split("`")[1]) for f in forms.split(", ")] == [90, 1800, 86400, 604800, 0, None]
    oc = client("openai")
    question = [{"role": "user", "content": "What is the capital of France?"}]
    for ttl, hits in (("0", 0), ("1h", 1)):
        with llmcost_magic.meter(cache="exact", ttl=ttl, tag=f"ttl-{ttl}"):
            for _ in range(2):
                oc.chat.completions.create(model="gpt-4o-mini", temperature=0, messages=question)
        rows = llmcost_magic.ledger(tag=f"ttl-{ttl}")
        assert int(rows["cache"].fillna("").ne("").sum()) == hits, rows[["cache", "note"]]


def test_the_readme_budget_file_holds_its_monthly_and_per_tag_limits(tmp_path, fresh_ledger):
    """The README's budget file, as written: a month's spend refuses a call its day's limit would pass, and a tag's
    spend by other users refuses the next user's call with that tag (both before sending)."""
    import datetime as dt
    import time
    from zoneinfo import ZoneInfo

    from llmcost_magic.core.records import CallRecord, Usage
    from llmcost_magic.sandbox import client

    budgets = tmp_path / "budgets.yaml"
    text = _blocks(README, "yaml")[0]
    assert "timezone: Asia/Seoul" in text
    # The test needs a day of this month before today; on the 1st in Seoul, a zone where it is not the 1st yet.
    zone = next((z for z in ("Asia/Seoul", "UTC", "America/Los_Angeles", "Pacific/Auckland")
                 if dt.datetime.now(ZoneInfo(z)).day > 1 and dt.datetime.now(ZoneInfo(z)).hour > 0), None)
    if zone is None:
        pytest.skip("no zone with an earlier day this month right now")
    budgets.write_text(text.replace("Asia/Seoul", zone), encoding="utf-8")
    earlier_this_month = dt.datetime.now(ZoneInfo(zone)).replace(day=1, hour=12).timestamp()

    def spent(usd: float, ts: float, user: str, tag: str = "") -> None:
        fresh_ledger.record(CallRecord(ts=ts, provider="openai", endpoint="chat.completions", model="gpt-4o-mini",
                                       usage=Usage(), cost_usd=usd, baseline_cost_usd=usd, latency_ms=0.0, user=user,
                                       segment="sales_default", tag=tag))

    oc = client("openai")
    ask = {"model": "gpt-4o-mini", "max_tokens": 1000, "messages": [{"role": "user", "content": "hi"}]}  # worst ~$0.0006
    spent(14.9999, earlier_this_month, "kim")            # under sales_default's $15 a month, not today
    with llmcost_magic.meter(budgets=str(budgets), user="kim", segment="sales_default"):
        with pytest.raises(llmcost_magic.BudgetExceeded, match="monthly limit per user"):
            oc.chat.completions.create(**ask)
    spent(9.9999, time.time() - 60, "someone-else", tag="summaries")   # today, another user, the tag's $10 a day
    with llmcost_magic.meter(budgets=str(budgets), user="lee", segment="sales_default", tag="summaries"):
        with pytest.raises(llmcost_magic.BudgetExceeded, match="daily limit of tag 'summaries'"):
            oc.chat.completions.create(**ask)
    with llmcost_magic.meter(budgets=str(budgets), user="lee", segment="sales_default", tag="other"):
        oc.chat.completions.create(**ask)


def test_stop_newlines_work_as_the_options_table_says():
    """`--stop TEXT`: "(repeatable; `"\\n\\n"` works)": a magic line cannot hold a newline, the escape stands for it."""
    from llmcost_magic.notebook.options import parse_cell_options

    assert '(repeatable; `"\\n\\n"` works)' in README
    assert parse_cell_options(r'--stop "\n\n" --stop END  # a blank line or END').stop == ("\n\n", "END")
