"""Plugins: routers, compressors, cache stores and price sources by name, from a really installed entry point
(a dist-info folder on sys.path, as pip leaves it) and from the registry API; broken plugins are left out alone."""

from __future__ import annotations

import re
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

import llmcost_magic
from llmcost_magic import meter, plugins
from llmcost_magic.compression import compress
from llmcost_magic.policies.routing import load_tiers
from llmcost_magic.core.pricing import estimate_cost, price_for
from llmcost_magic.sandbox import client
from llmcost_magic.session import use_cache_store

GOOD = '''
from llmcost_magic.plugins import hookimpl
from llmcost_magic.policies.routing import Decision
from llmcost_magic.stores.sqlite_cache import SQLiteCacheStore


class Smallest:
    name = "smallest"

    def decide(self, call, tiers):
        return Decision(tiers.names[0], "plugin: smallest tier always")


class EveryOtherWord:
    name = "every-other-word"

    def compress(self, text, *, rate=None, query="", model="gpt-4o"):
        return " ".join(text.split()[::2])


@hookimpl
def register_routers(register):
    register("smallest", Smallest)


@hookimpl
def register_compressors(register):
    register("every-other-word", EveryOtherWord)


@hookimpl
def register_cache_stores(register):
    register("memo", lambda url: SQLiteCacheStore(":memory:"))


@hookimpl
def register_price_sources(register):
    register("house", lambda model: {"input_mtok": 1.0, "output_mtok": 2.0} if model == "house-model-1" else None)
'''

BROKEN = {
    "llmcost_broken_import": "import torch_that_is_not_installed\n",
    "llmcost_wrong_type": "from llmcost_magic.plugins import hookimpl\n\n@hookimpl\ndef register_routers(register):\n"
                          "    register('wrong', 'not a factory')\n",
    "llmcost_bad_signature": "from llmcost_magic.plugins import hookimpl\n\n@hookimpl\ndef register_routers(registry):\n"
                             "    pass\n",
    "llmcost_hook_raises": "from llmcost_magic.plugins import hookimpl\n\n@hookimpl\ndef register_compressors(register):\n"
                           "    register('half-done', object)\n    raise RuntimeError('model file missing')\n",
    "llmcost_unknown_hook": "from llmcost_magic.plugins import hookimpl\n\n@hookimpl\ndef register_models(register):\n"
                            "    pass\n",
    "llmcost_name_taken": "from llmcost_magic.plugins import hookimpl\n\n@hookimpl\ndef register_routers(register):\n"
                          "    register('rules', object)\n",
}


def _install(root, dist: str, modules: dict[str, str]) -> None:
    """What ``pip install`` leaves: the modules, and a dist-info folder with the entry points."""
    for name, source in modules.items():
        (root / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = root / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n", encoding="utf-8")
    points = "".join(f"{name.removeprefix('llmcost_')} = {name}\n" for name in modules)
    (info / "entry_points.txt").write_text(f"[llmcost_magic]\n{points}", encoding="utf-8")


@pytest.fixture
def installed(tmp_path):
    """The good plugin and every broken one installed on sys.path; all gone afterwards."""
    root = tmp_path / "site"
    root.mkdir()
    _install(root, "llmcost-demo-plugins", {"llmcost_demo": GOOD})
    _install(root, "llmcost-broken-plugins", BROKEN)
    sys.path.insert(0, str(root))
    plugins.reload_plugins(forget_session=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plugins.routers()  # loads them
    yield caught
    sys.path.remove(str(root))
    for name in ["llmcost_demo", *BROKEN]:
        sys.modules.pop(name, None)
    plugins.reload_plugins(forget_session=True)


def test_a_broken_plugin_is_left_out_with_its_name_and_the_fix_and_the_others_load(installed):
    errors = plugins.plugin_errors()
    assert set(errors) == {"broken_import", "wrong_type", "bad_signature", "hook_raises", "unknown_hook", "name_taken"}
    assert "torch_that_is_not_installed" in errors["broken_import"] and "llmcost-broken-plugins" in errors["broken_import"]
    assert "reinstall" in errors["broken_import"]
    assert "'wrong'" in errors["wrong_type"] and "str" in errors["wrong_type"] and "callable" in errors["wrong_type"]
    assert "registry" in errors["bad_signature"] and "Hookspecs" in errors["bad_signature"]
    assert "model file missing" in errors["hook_raises"] and "uninstall" in errors["hook_raises"]
    assert "register_models" in errors["unknown_hook"]
    assert "built-in name" in errors["name_taken"]
    assert "half-done" not in plugins.compressors()  # a hook that failed leaves nothing half registered
    warned = [str(w.message) for w in installed]
    assert all(any(repr(name) in w for w in warned) for name in errors), warned
    assert set(plugins.routers()) == {"smallest"} and set(plugins.compressors()) == {"every-other-word"}
    assert set(plugins.cache_stores()) == {"memo"} and set(plugins.price_sources()) == {"house"}


def test_a_plugin_router_from_the_cell_magic(installed, shell):
    r = shell.run_cell("%%llmcost --route smallest\n"
                       "from llmcost_magic.sandbox import client\n"
                       "client('openai').chat.completions.create(model='gpt-4.1', "
                       "messages=[{'role': 'user', 'content': 'Design a sharded database.'}])")
    assert r.error_in_exec is None
    row = llmcost_magic.ledger().iloc[-1]
    assert row.model == load_tiers().model("small", "openai") and row.requested_model == "gpt-4.1"
    assert "plugin: smallest tier always" in row.note


def test_a_plugin_compressor_from_the_cell_magic(installed, shell):
    context = " ".join(f"Paragraph sentence number {i} says something about the refund policy." for i in range(60))
    r = shell.run_cell("%%llmcost --compress every-other-word\n"
                       "from llmcost_magic.sandbox import client\n"
                       f"client('openai').chat.completions.create(model='gpt-4o-mini', messages=[{{'role': 'user', "
                       f"'content': {context!r} + '\\n\\nWhat is the refund policy?'}}])")
    assert r.error_in_exec is None
    row = llmcost_magic.ledger().iloc[-1]
    assert row.input_tokens < 0.7 * row.input_tokens_before


def test_unknown_names_list_the_plugins_and_say_which_were_left_out(installed, shell):
    r = shell.run_cell("%%llmcost --route fastest\nx = 1")
    assert "Unknown router 'fastest'" in str(r.error_in_exec) and "smallest" in str(r.error_in_exec)
    assert "broken_import" in str(r.error_in_exec)
    r = shell.run_cell("%%llmcost --compress every-other\nx = 1")
    assert "did you mean 'every-other-word'" in str(r.error_in_exec)


def test_a_plugin_cache_store_and_price_source(installed):
    store = use_cache_store("memo://team")
    assert store.stats(0.0) == {"entries": 0, "hits": 0, "blocked": 0}
    assert estimate_cost("house-model-1", input_tokens=1_000_000, output_tokens=1_000_000) == pytest.approx(3.0)
    assert "plugin" not in price_for("gpt-4o").source  # asked only for models nothing else prices
    assert price_for("house-model-1").source == "price source house (plugin demo)"  # and the ledger says so
    with pytest.raises(ValueError, match="No cache store for nosuch://"):
        use_cache_store("nosuch://x")


def test_the_registry_api_in_a_notebook(tmp_path):
    from llmcost_magic.policies.routing import Decision

    class Largest:
        def decide(self, call, tiers):
            return Decision(tiers.names[-1], "mine: largest")

    class Upper:
        def compress(self, text, *, rate=None, query="", model="gpt-4o"):
            return text.upper()

    try:
        plugins.register_router("largest", Largest)
        plugins.register_compressor("upper", Upper)
        oc = client("openai")
        with meter(route="largest"):
            oc.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        assert llmcost_magic.ledger().iloc[-1].model == load_tiers().model("large", "openai")
        assert compress("keep it down", "upper").text == "KEEP IT DOWN"
        with pytest.raises(plugins.PluginError, match="must be a callable"):
            plugins.register_router("bad", "not a factory")
        with pytest.raises(plugins.PluginError, match="built-in name"):
            plugins.register_compressor("selective", Upper)
        plugins.register_router("nodecide", object)
        with pytest.raises(plugins.PluginError, match="without decide"):
            with meter(route="nodecide"):
                pass
        plugins.register_cache_store("thin", lambda url: object())
        with pytest.raises(plugins.PluginError, match="'thin'.*without get, put"):
            use_cache_store("thin://x")
        plugins.register_price_source("flaky", lambda model: 1 / 0)
        with pytest.raises(llmcost_magic.PriceFileError, match="'flaky'.*ZeroDivisionError"):
            price_for("nobody-prices-this-model")
    finally:
        plugins.reload_plugins(forget_session=True)
    with pytest.raises(ValueError, match="Unknown router 'largest'"):
        with meter(route="largest"):
            pass


def test_the_readme_extending_example_runs(shell):
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Extending", 1)[1].split("\n## ", 1)[0]
    register, cell = re.findall(r"```python\n(.*?)```", section, re.S)[:2]
    try:
        for source in ("from llmcost_magic.cookbook import openai_client\nclient = openai_client()", register, cell):
            r = shell.run_cell(source)
            assert r.error_in_exec is None and r.error_before_exec is None, source
        row = llmcost_magic.ledger().iloc[-1]
        assert row.model == load_tiers().model("small", "openai") and "short-to-small: 3 words" in row.note
    finally:
        plugins.reload_plugins(forget_session=True)
