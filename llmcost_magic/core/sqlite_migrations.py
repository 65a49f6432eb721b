"""Schema steps for the package's SQLite files (the ledger, the cache store), keyed by name.

Like simonw/llm's migrations: a decorator registers each step under its function's name, the names done are
recorded in the file's ``_migrations`` table, and each step runs in its own ``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator

Step = Callable[[sqlite3.Connection], None]


class Migrations:
    """The schema steps of one kind of file, in registration order.

    Steps are append-only: never edit or rename one that has shipped. Keyed by name, a step added between
    two others (two branches merged) still runs exactly once.
    """

    def __init__(self, what: str) -> None:
        self.what = what
        self._steps: dict[str, Step] = {}

    def register(self, fn: Step) -> Step:
        """Decorator: add ``fn`` as the next step, under its function's name."""
        if fn.__name__ in self._steps:
            raise ValueError(f"two {self.what} migrations are named {fn.__name__}")
        self._steps[fn.__name__] = fn
        return fn

    def __iter__(self) -> Iterator[str]:
        return iter(self._steps)

    def __len__(self) -> int:
        return len(self._steps)

    def items(self) -> Iterator[tuple[str, Step]]:
        return iter(self._steps.items())

    def apply(self, db: sqlite3.Connection) -> None:
        """Run the steps ``db`` has not seen, safely when several processes open it at once.

        Each step runs in its own ``BEGIN IMMEDIATE`` transaction (one writer at a time; the others wait
        on the busy timeout) and re-reads what is done inside it, so a step another process has just
        applied is skipped instead of failing with "table already exists" or "duplicate column".
        ``db`` must be in autocommit mode (``isolation_level=None``), as :func:`sqlite_file.connect` opens it.
        """
        with db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("CREATE TABLE IF NOT EXISTS _migrations (step INTEGER PRIMARY KEY, name TEXT)")
        if self._steps.keys() <= {row[0] for row in db.execute("SELECT name FROM _migrations")}:
            return  # the usual case: nothing to do, no write lock taken
        for name, fn in self._steps.items():
            with db:
                db.execute("BEGIN IMMEDIATE")
                if db.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone() is None:
                    fn(db)
                    db.execute("INSERT INTO _migrations (name) VALUES (?)", (name,))
