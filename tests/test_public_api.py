"""The public surface: everything in __all__ exists, is documented, and the README's names are real."""

from __future__ import annotations

import re
from pathlib import Path

import llmcost_magic


def test_all_names_exist_and_have_docstrings():
    for name in llmcost_magic.__all__:
        obj = getattr(llmcost_magic, name)
        assert obj.__doc__, f"llmcost_magic.{name} has no docstring"


def test_public_functions_are_all_exported():
    public = {n for n, v in vars(llmcost_magic).items() if callable(v) and not n.startswith("_")
              and getattr(v, "__module__", "").startswith("llmcost_magic")}
    assert public <= set(llmcost_magic.__all__), f"exported but not in __all__: {public - set(llmcost_magic.__all__)}"


def test_every_lm_name_the_readme_uses_exists():
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for name in set(re.findall(r"\blm\.(\w+)\(", readme)) | set(re.findall(r"llmcost_magic\.(\w+)\(", readme)):
        assert hasattr(llmcost_magic, name), f"README calls llmcost_magic.{name}(), which does not exist"


def test_no_submodule_shadows_a_public_name():
    """Importing a submodule named like a public function would replace the function on the package."""
    import importlib
    import pkgutil
    import types

    for module in pkgutil.walk_packages(llmcost_magic.__path__, "llmcost_magic."):
        if ".sandbox.__main__" not in module.name:
            importlib.import_module(module.name)
    for name in llmcost_magic.__all__:
        assert not isinstance(getattr(llmcost_magic, name), types.ModuleType), f"llmcost_magic.{name} is shadowed by a submodule"


def test_both_course_tables_list_every_notebook():
    root = Path(__file__).parent.parent
    notebooks = sorted(p.name for p in (root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    notebooks += sorted(f"ko/{p.name}" for p in (root / "notebooks" / "ko").glob("[0-9][0-9]_*.ipynb"))
    for readme, prefix in ((root / "README.md", "notebooks/"), (root / "notebooks" / "README.md", "")):
        text = readme.read_text(encoding="utf-8")
        missing = [name for name in notebooks if f"]({prefix}{name})" not in text]
        assert not missing, f"{readme.relative_to(root)} does not link {missing}"
