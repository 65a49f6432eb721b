"""One-off: move the package's top-level modules into core/, bookkeeping/ and notebook/ (issue 20), with
``git mv`` so history follows, and rewrite every import that names them.

Run from the repository root on a clean tree: ``python tools/move_layout.py`` (then run the tests and commit).
Re-runnable after merging other branches: modules already moved are skipped, and imports are rewritten from
wherever they point. What it does:

1. ``git mv`` each module of MOVES (and the ``widgets`` package) to its new folder; new folders get an
   ``__init__.py`` with a docstring.
2. Rewrites the package's relative imports (resolved against each file's old place, re-relativised from its
   new one) and ``from llmcost_magic import <moved module>`` anywhere, with ``ast`` (only the ``from ...``
   part of a statement is replaced; a statement whose names now live in different folders is split).
3. Replaces ``llmcost_magic.<old>`` with ``llmcost_magic.<new>`` in every tracked text file (tests, tools,
   benchmarks, notebooks, docs).

What users import stays at the top level (``cookbook``, ``exercises``, ``plugins``, ``batch``, ``workshop``,
``cache_commands``, ``session``, ``metering``, ``settings``...): no module moves that a README line or a notebook
imports as a public name, so no old name needs a re-export.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "llmcost_magic"

FOLDERS = {
    "core": "The core: records, tokens, prices, errors, provider rules, config files. Imports nothing else of the "
            "package but ``plugins``.",
    "bookkeeping": "The ledger (SQLite, migrations by name) and what is read from it: reports, what-if repricing.",
    "notebook": "The notebook front: the ``%%llmcost`` magic, its options and ``%llmcost`` commands, display, "
                "widgets.",
}
MOVES = {
    **{m: f"core.{m}" for m in (
        "records", "tokens", "image_tokens", "pricing", "price_entries", "price_updates", "rates", "vendors",
        "provider_rules", "errors", "redaction", "prompt_blocks", "multipart_form", "config_files",
        "config_schemas", "course_language", "embedder", "sqlite_file", "sqlite_migrations", "messages", "messages_ko")},
    **{m: f"bookkeeping.{m}" for m in ("sqlite_ledger", "report", "repricing")},
    **{m: f"notebook.{m}" for m in ("magics", "options", "line_commands", "display", "widgets")},
}
TEXT_SUFFIXES = {".py", ".ipynb", ".md", ".toml", ".cfg", ".txt", ".yaml", ".yml", ".sh", ".json", ".html"}


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def new_name(old: str) -> str:
    """The module's full name after the move (unchanged when it does not move)."""
    rest = old.removeprefix("llmcost_magic.")
    for src in sorted(MOVES, key=len, reverse=True):
        if rest == src or rest.startswith(src + "."):
            return "llmcost_magic." + MOVES[src] + rest[len(src):]
    return old


def relative(from_package: str, target: str) -> str:
    """``target`` as a relative module spec from inside ``from_package``."""
    here, there = from_package.split("."), target.split(".")
    common = 0
    while common < min(len(here), len(there)) and here[common] == there[common]:
        common += 1
    return "." * (len(here) - common + 1) + ".".join(there[common:])


def legacy_name(name: str) -> str:
    """Where a module already moved lived before (a branch merged after the move may import from there)."""
    rest = name.removeprefix("llmcost_magic.")
    for src, dst in sorted(MOVES.items(), key=lambda kv: len(kv[1]), reverse=True):
        if rest == dst or rest.startswith(dst + "."):
            return "llmcost_magic." + src + rest[len(dst):]
    return name


def resolve(package: str, level: int, module: str | None) -> str:
    anchor = package.split(".")[: len(package.split(".")) - level + 1]
    return ".".join(anchor + ([module] if module else []))


def known(base: str, node: ast.ImportFrom, modules: set[str]) -> bool:
    """Does ``from base import <names>`` name a module that exists (now or before the move)?"""
    exists = modules | {new_name(m) for m in modules}
    return base in exists or any(f"{base}.{a.name}" in exists for a in node.names)


def rewrite_imports(source: str, old_module: str | None, is_package: bool, modules: set[str]) -> str:
    """Rewrite ``from`` imports of package modules for the new layout (``old_module``: the file's own name
    before the move, None outside the package)."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    edits: list[tuple[int, int, str]] = []
    own_new = new_name(old_module) if old_module else None
    new_package = (own_new if is_package else own_new.rpartition(".")[0]) if own_new else None
    old_package = (old_module if is_package else old_module.rpartition(".")[0]) if old_module else None
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            if old_package is None:
                continue
            base = resolve(old_package, node.level, node.module)
            if not known(base, node, modules):  # a file already moved, with an import written for its old place
                base = resolve(legacy_name(old_package), node.level, node.module)
        elif node.module and node.module.split(".")[0] == "llmcost_magic":
            base = node.module
        else:
            continue
        groups: dict[str, list[str]] = {}
        for alias in node.names:
            target = f"{base}.{alias.name}"
            is_module = target in modules or new_name(target) in modules  # (the latter: after a first run)
            parent = new_name(target).rpartition(".")[0] if is_module else new_name(base)
            groups.setdefault(parent, []).append(alias.name + (f" as {alias.asname}" if alias.asname else ""))
        start = offsets[node.lineno - 1] + node.col_offset
        end = offsets[node.end_lineno - 1] + node.end_col_offset
        segment = source[start:end]
        spec = (lambda p: relative(new_package, p)) if node.level else (lambda p: p)  # noqa: E731
        if len(groups) == 1:
            (parent,) = groups
            text = re.sub(r"^from\s+[.\w]+\s+import", f"from {spec(parent)} import", segment, count=1)
        else:
            indent = " " * node.col_offset
            text = f"\n{indent}".join(f"from {spec(p)} import {', '.join(n)}" for p, n in groups.items())
            comment = re.search(r"\s*#.*$", segment)
            text += comment.group(0) if comment and "\n" not in segment else ""
        if text != segment:
            edits.append((start, end, text))
    for start, end, text in sorted(edits, reverse=True):
        source = source[:start] + text + source[end:]
    return source


def rewrite_text(text: str) -> str:
    """``llmcost_magic.<old>`` -> ``llmcost_magic.<new>`` (and ``llmcost_magic/<old>`` paths) in any text."""
    for old in sorted(MOVES, key=len, reverse=True):
        new = MOVES[old]
        text = re.sub(rf"\bllmcost_magic\.{old}(?![\w])", f"llmcost_magic.{new}", text)
        text = re.sub(rf"\bllmcost_magic/{old}(?=\.py\b|/)", f"llmcost_magic/{new.replace('.', '/')}", text)
    return text


def layer_names(text: str) -> str:
    """tests/test_import_graph.py names modules without the package prefix in LAYERS and UPWARD."""
    head, sep, rest = text.partition("LAYERS = [")
    body, sep2, tail = rest.partition("def _layer_of")
    body = re.sub(r'"([\w.]+)"', lambda m: f'"{new_name("llmcost_magic." + m.group(1)).removeprefix("llmcost_magic.")}"',
                  body)
    return head + sep + body + sep2 + tail


def main() -> None:
    if git("status", "--porcelain", "--untracked-files=no").strip():
        sys.exit("commit or stash your changes first: this script rewrites many files")
    files = [ROOT / f for f in git("ls-files").splitlines()]
    py_in_pkg = [f for f in files if f.suffix == ".py" and PKG in f.parents]
    modules = {module_name(f) for f in py_in_pkg}
    # 1. new contents, computed from the files where they are now
    contents: dict[Path, str] = {}
    for f in files:
        if (f.suffix not in TEXT_SUFFIXES or not f.is_file() or "data" in f.relative_to(ROOT).parts[:2]
                or f == Path(__file__).resolve()):
            continue
        text = f.read_text(encoding="utf-8")
        if f.suffix == ".py":
            inside = PKG in f.parents
            text = rewrite_imports(text, module_name(f) if inside else None, f.name == "__init__.py", modules)
        text = rewrite_text(text)
        if f.name == "test_import_graph.py":
            text = layer_names(text)
        contents[f] = text
    # 2. git mv, keeping the computed contents with each file
    for folder, doc in FOLDERS.items():
        init = PKG / folder / "__init__.py"
        if not init.exists():
            init.parent.mkdir(exist_ok=True)
            init.write_text(f'"""{doc}"""\n', encoding="utf-8")
            git("add", str(init))
    for old, new in MOVES.items():
        src = PKG / (old + ".py") if (PKG / (old + ".py")).exists() else PKG / old
        dst = PKG / (new.replace(".", "/") + (".py" if src.suffix == ".py" else ""))
        if not src.exists():
            continue  # moved by an earlier run
        was_dir = src.is_dir()
        git("mv", str(src), str(dst))
        for f in list(contents):
            if f == src or src in f.parents:
                contents[dst / f.relative_to(src) if was_dir else dst] = contents.pop(f)
    for f, text in contents.items():
        if f.exists() and f.read_text(encoding="utf-8") != text:
            f.write_text(text, encoding="utf-8")
    git("add", "-u")


if __name__ == "__main__":
    main()
