"""No import circles inside the package, counting imports inside functions too.

An import inside a function runs later, so it cannot break importing, but it still ties two modules together:
each would need the other to be understood, tested or moved. Only imports under ``if TYPE_CHECKING`` (never run)
are left out. ``from package import submodule`` ties a module to the submodule only; to the package's ``__init__``
only when it imports a name defined there."""

from __future__ import annotations

import ast
from pathlib import Path

import llmcost_magic

PACKAGE = Path(llmcost_magic.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p) for p in PACKAGE.rglob("*.py")}


def _imports(path: Path, name: str, *, function_level: bool) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        nested = function_level or isinstance(node, (ast.If, ast.Try))
        for sub in ast.walk(node) if nested else [node]:
            if isinstance(sub, ast.Import):
                found |= {a.name for a in sub.names}
            elif isinstance(sub, ast.ImportFrom):
                base = sub.module or ""
                if sub.level:
                    anchor = package.split(".")[: len(package.split(".")) - sub.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                named = {f"{base}.{a.name}" for a in sub.names}
                found |= named
                if named - MODULES:  # a name defined in ``base`` itself, not only its submodules
                    found.add(base)
    return {m for m in found if m.startswith("llmcost_magic")}


def import_graph(*, function_level: bool = True) -> dict[str, set[str]]:
    """Module -> the package modules it imports (at module level only, or anywhere in it)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in _imports(path, name, function_level=function_level) if m in modules and m != name}
            for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


# Circles we accept, each with the reason it cannot go (none today: keep it that way).
ALLOWED: list[list[str]] = []


def test_no_import_circles_at_import_time():
    assert _cycles(import_graph(function_level=False)) == []


def test_no_import_circles_counting_imports_inside_functions():
    found = _cycles(import_graph())
    assert [c for c in found if c not in ALLOWED] == [], "modules that import each other (maybe through others)"


def test_the_graph_sees_imports_inside_functions(tmp_path):
    """The check itself: an import inside a function counts, one under TYPE_CHECKING does not."""
    source = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .session import x\n"
              "def f():\n    from .metering import meter\n")
    path = tmp_path / "probe.py"
    path.write_text(source, encoding="utf-8")
    found = _imports(path, "llmcost_magic.probe", function_level=True)
    assert "llmcost_magic.metering" in found and "llmcost_magic.session" not in found
    assert "llmcost_magic.metering" not in _imports(path, "llmcost_magic.probe", function_level=False)


# The layers docs/design.md describes, bottom first (a package name covers its submodules), and the few
# imports that reach up a layer (none comes back: the circle test above checks that).
LAYERS = [
    ["core", "plugins", "intercept.call", "intercept.openai_protocol", "intercept.anthropic_protocol",
     "intercept.protocols"],
    ["bookkeeping", "language"],
    ["intercept.active"],
    ["policies.tiers"],
    ["sandbox"],
    ["clients"],
    ["policies", "compression", "stores"],
    ["session"],
    ["intercept.seam", "intercept.pipeline", "intercept.rows", "intercept.transports"],
    ["batch"],
    ["metering"],
    ["settings"],
    ["notebook", "cache_commands", "cookbook", "exercises"],
]
UPWARD = {
    ("metering", "settings"),  # meter() builds its policies through the one factory
    ("metering", "notebook.display"),  # Meter.summary()
    ("batch", "notebook.widgets.progress"),  # wait()'s progress bar, which leaves its last frame as text in notebooks
    ("policies.semantic_verifier", "metering"),  # the verifier's own calls are metered
}


def _layer_of(module: str) -> int | None:
    name = module.removeprefix("llmcost_magic.")
    for i, layer in enumerate(LAYERS):
        if any(name == m or name.startswith(m + ".") for m in layer):
            return i
    return None


def test_imports_follow_the_layers_in_design_md():
    upward = set()
    for module, deps in import_graph().items():
        for dep in deps:
            low, high = _layer_of(module), _layer_of(dep)
            if low is not None and high is not None and high > low:
                upward.add((module.removeprefix("llmcost_magic."), dep.removeprefix("llmcost_magic.")))
    assert upward == UPWARD, f"imports reaching up a layer: {sorted(upward - UPWARD)}; gone: {sorted(UPWARD - upward)}"
