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
