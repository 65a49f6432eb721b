"""The public API, pinned: every name below is promised to users (the README, outside checks, old import paths).

A name that disappears, or stops being importable from where users import it, fails here. Adding a name is
free; removing one means changing this list on purpose (and saying so in the README and the changelog).
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

import llmcost_magic

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
README_CODE = "\n".join(re.findall(r"```[a-z]*\n(.*?)```", README, re.S))

TOP_LEVEL = (
    "BudgetExceeded", "CallRecord", "Cost", "LLMCostError", "Meter", "MissingDependency", "PriceFileError",
    "UnknownModelError", "Usage", "batches", "cache_stats", "calibrate_threshold", "clear_cache", "compress",
    "compression_playground", "confirm_answer", "count_tokens", "dashboard", "estimate_cost", "ledger",
    "load_ipython_extension", "load_price_overrides", "meter", "on_alert", "prompt_cache_doctor", "reject_answer",
    "semantic_audit", "unload_ipython_extension", "use_cache_store", "use_ledger", "whatif",
)

# module -> names imported from it (the README's ``from llmcost_magic.X import Y``, outside checks, and the old
# homes of names that moved while the import circles were untangled: they are re-exported there)
FROM_MODULES = {
    "llmcost_magic": ("batch", "workshop"),
    "llmcost_magic.compression": ("measure", "keep_last_turns", "keep_within_budget", "summarize_history", "word_diff",
                                  "self_information", "Compressed", "fidelity", "compress_messages"),
    "llmcost_magic.cookbook": ("openai_client", "anthropic_client"),
    "llmcost_magic.evaluation": ("ROUTERS", "router_scores", "evaluate_routers", "evaluate_compression",
                                 "split_shared", "blended_price", "load_recorded"),
    "llmcost_magic.language": ("negations", "polarity"),
    "llmcost_magic.sandbox": ("client", "serve", "Sandbox", "default_sandbox", "sandbox_transport"),
    "llmcost_magic.batch": ("build", "attach", "results", "placeholder", "submit_deferred", "BatchError"),
    "llmcost_magic.metering": ("Meter", "Totals", "meter", "active_meter", "set_cell_meter", "default_user", "_scoped"),
    "llmcost_magic.session": ("current_ledger", "use_ledger", "use_cache_store", "response_cache", "serving_cache"),
    "llmcost_magic.cache_commands": ("cache_stats", "clear_cache", "reject_answer", "confirm_answer", "semantic_audit",
                                     "remember_cache", "last_cache"),
    "llmcost_magic.settings": ("Settings", "policies"),
    "llmcost_magic.policies.routing": ("Tiers", "TierFileError", "load_tiers", "routing_policy", "ROUTERS"),
    "llmcost_magic.policies.semantic_verifier": ("LLMVerifier", "TAG", "answer_cost"),
    "llmcost_magic.policies.semantic_calibration": ("calibrate_threshold",),
    "llmcost_magic.policies.semantic_cache": ("SemanticIndex", "DEFAULT_THRESHOLD", "calibrate_threshold"),
    "llmcost_magic.compression.base": ("Compressed", "CompressionError", "word_diff"),
    "llmcost_magic.compression.selective": ("SelectiveCompressor", "self_information"),
    "llmcost_magic.intercept.pipeline": ("ADAPTERS", "prepare"),
}

CELL_OPTIONS = (
    "--batch", "--budget", "--budget-fallback", "--cache", "--cache-any-temperature", "--cache-tool-calls",
    "--compress", "--compress-keep-system", "--concise", "--context", "--currency", "--dry-run", "--fx",
    "--max-tokens", "--prompt-cache", "--quiet", "--route", "--stop", "--tag", "--threshold", "--ttl",
)
LINE_COMMANDS = ("cache", "dashboard", "export", "off", "on", "prices", "report", "whatif")
CACHE_ACTIONS = ("stats", "audit", "clear", "reject", "confirm", "advise", "doctor")
METER_KEYWORDS = ("tag", "budget", "ledger", "dry_run", "cache", "ttl", "threshold", "prompt_cache", "route", "tiers",
                  "validator", "max_tokens", "stop", "concise", "batch", "budgets", "user", "segment",
                  "budget_fallback", "workshop", "workshop_fail_open", "compress", "compress_system", "allow_unpriced")


def test_top_level_names_are_exported():
    missing = [n for n in TOP_LEVEL if n not in llmcost_magic.__all__ or not hasattr(llmcost_magic, n)]
    assert not missing, f"public names gone from llmcost_magic: {missing}"


@pytest.mark.parametrize("module", sorted(FROM_MODULES))
def test_names_import_from_where_users_import_them(module):
    mod = importlib.import_module(module)
    missing = [n for n in FROM_MODULES[module] if not hasattr(mod, n)
               and importlib.util.find_spec(f"{module}.{n}") is None]
    assert not missing, f"from {module} import {missing} no longer works"


def test_every_name_the_readme_code_uses_exists():
    for name in set(re.findall(r"\blm\.(\w+)", README_CODE)) | set(re.findall(r"\bllmcost_magic\.(\w+)", README_CODE)):
        assert hasattr(llmcost_magic, name) or importlib.util.find_spec(f"llmcost_magic.{name}"), \
            f"the README uses llmcost_magic.{name}"
    for module, names in re.findall(r"from (llmcost_magic[\w.]*) import ([\w, ]+)", README_CODE):
        mod = importlib.import_module(module)
        for name in (n.strip() for n in names.split(",") if n.strip()):
            assert hasattr(mod, name) or importlib.util.find_spec(f"{module}.{name}"), \
                f"the README imports {name} from {module}"


def test_cell_options_and_line_commands():
    from llmcost_magic.notebook.line_commands import COMMANDS
    from llmcost_magic.notebook.options import _cell_parser, parse_line_command

    options = set(_cell_parser()._option_string_actions)
    assert set(CELL_OPTIONS) <= options, f"%%llmcost options gone: {set(CELL_OPTIONS) - options}"
    readme_options = set(re.findall(r"^\| `(--[\w-]+)", README, re.M))
    assert readme_options and readme_options <= options, f"README options the magic lacks: {readme_options - options}"
    assert set(LINE_COMMANDS) <= set(COMMANDS), f"%llmcost commands gone: {set(LINE_COMMANDS) - set(COMMANDS)}"
    readme_commands = set(re.findall(r"^%llmcost\s+(\w+)", README_CODE, re.M))
    assert readme_commands <= set(COMMANDS), f"README commands the magic lacks: {readme_commands - set(COMMANDS)}"
    for action in CACHE_ACTIONS:
        assert parse_line_command(f"cache {action}").action == action


def test_meter_keywords_and_config_traits():
    keywords = set(inspect.signature(llmcost_magic.meter).parameters)
    assert set(METER_KEYWORDS) <= keywords, f"meter() keywords gone: {set(METER_KEYWORDS) - keywords}"
    for call in re.findall(r"\bmeter\(([^)]*)\)", README_CODE):
        used = set(re.findall(r"(\w+)=", call))
        assert used <= keywords, f"the README calls meter() with {used - keywords}"
    from llmcost_magic.notebook.magics import LLMCost

    traits = set(LLMCost.class_traits(config=True))
    readme_traits = set(re.findall(r"LLMCost\.(\w+)", README))
    assert readme_traits and readme_traits <= traits, f"README %config traits the magic lacks: {readme_traits - traits}"


def test_evaluation_api_used_by_outside_checks():
    from llmcost_magic.evaluation import ROUTERS, router_scores

    assert {"length", "knn", "probe", "answer-checks", "answer-checks+probe"} <= set(ROUTERS)
    assert list(inspect.signature(router_scores).parameters)[:3] == ["name", "test", "train"]
