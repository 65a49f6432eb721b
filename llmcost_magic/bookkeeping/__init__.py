"""The ledger (SQLite, migrations by name) and what is read from it: reports, what-if repricing."""
