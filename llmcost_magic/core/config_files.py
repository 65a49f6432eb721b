"""Reading the package's YAML/TOML settings files (prices, budgets, tiers, TTL tables) one way."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def read_table(path: str | Path, error: type[Exception], what: str) -> Any:
    """The parsed content of a ``.toml`` or YAML file; ``error`` names the file and the problem."""
    p = Path(path)
    if not p.exists():
        raise error(f"{what} {p} does not exist; check the path.")
    text = p.read_text(encoding="utf-8")
    try:
        if p.suffix == ".toml":
            import tomllib

            return tomllib.loads(text)
        import yaml

        return yaml.safe_load(text) or {}
    except Exception as exc:  # noqa: BLE001 - any parser error reads the same to the user
        raise error(f"{what} {p} is not valid {'TOML' if p.suffix == '.toml' else 'YAML'}: {exc}") from None
