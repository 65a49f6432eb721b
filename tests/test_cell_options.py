"""``CellOptions`` is built by keyword: adding an option cannot shift another into the wrong field."""

from __future__ import annotations

import dataclasses

import pytest

from llmcost_magic.notebook.options import CellOptions, _cell_parser, parse_cell_options

# One line per option, and the field it must land in with the value it must hold.
ONE_OPTION = {
    "--tag demo": ("tag", "demo"), "--budget 0.5": ("budget", 0.5), "--quiet": ("quiet", True),
    "--currency krw --fx 1350": ("fx", 1350.0), "--dry-run": ("dry_run", True), "--cache exact": ("cache", "exact"),
    "--cache exact --ttl 1h": ("ttl", "1h"), "--cache semantic --threshold 0.8": ("threshold", 0.8),
    "--cache exact --context user-7": ("context", "user-7"),
    "--cache exact --cache-any-temperature": ("cache_any_temperature", True),
    "--cache exact --cache-tool-calls": ("cache_tool_calls", True), "--prompt-cache auto": ("prompt_cache", "auto"),
    "--route rules": ("route", "rules"), "--max-tokens 7": ("max_tokens", 7), "--stop END --stop X": ("stop", ("END", "X")),
    "--concise 40": ("concise", 40), "--batch": ("batch", True), "--budget-fallback": ("budget_fallback", True),
    "--compress selective:0.5": ("compress", "selective:0.5"),
    "--compress window:4 --compress-keep-system": ("compress_keep_system", True),
}


def test_cell_options_take_keywords_only():
    with pytest.raises(TypeError):
        CellOptions("demo", 0.5)  # type: ignore[misc]


def test_every_option_has_its_own_field():
    dests = {a.dest for a in _cell_parser()._actions}
    assert dests == {f.name for f in dataclasses.fields(CellOptions)}


@pytest.mark.parametrize("line", sorted(ONE_OPTION))
def test_each_option_lands_in_the_field_named_after_it(line):
    field, value = ONE_OPTION[line]
    options = parse_cell_options(line)
    assert getattr(options, field) == value
    defaults = CellOptions()
    # every field the line does not name keeps its default
    named = {w.lstrip("-").replace("-", "_") for w in line.split() if w.startswith("--")}
    for f in dataclasses.fields(CellOptions):
        if f.name not in named:
            assert getattr(options, f.name) == getattr(defaults, f.name), f.name


def test_every_option_is_covered_here():
    assert {field for field, _ in ONE_OPTION.values()} | {"currency"} == {f.name for f in dataclasses.fields(CellOptions)}
