"""The cache entry and the interface every cache store implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass
class CacheEntry:
    """One cached answer: the response body exactly as the provider sent it (decoded), never pickled."""

    key: str
    provider: str
    endpoint: str
    model: str
    content_type: str
    body: bytes
    created: float
    expires: float | None = None  # None: no expiry
    tag: str = ""
    context: str = ""  # what must match for a semantic hit (model, system prompt, tools, user context)
    question: str = ""  # the last user message, for semantic search and audits
    embedding: bytes = b""  # float32 vector, for the semantic cache
    hits: int = 0
    seal: str = ""  # HMAC of the entry's fields with the store's secret (see policies.cache_scope)

    def alive(self, now: float) -> bool:
        return self.expires is None or self.expires > now


class CacheStore(Protocol):
    """A place to keep cached answers. Implementations: SQLite (default), Redis (shared)."""

    def get(self, key: str, now: float) -> CacheEntry | None: ...

    def put(self, entry: CacheEntry) -> None: ...

    def hit(self, key: str) -> None: ...

    def delete(self, key: str) -> bool: ...

    def block(self, key: str, reason: str) -> None: ...

    def is_blocked(self, key: str) -> bool: ...

    def clear(self, *, tag: str | None = None, model: str | None = None) -> int: ...

    def semantic_entries(self, context: str, now: float) -> list[CacheEntry]: ...

    def stats(self, now: float) -> dict[str, int]: ...

    def get_meta(self, name: str) -> bytes | None:
        """A small named value kept with the store (the semantic cache's feedback, as JSON)."""
        ...

    def put_meta(self, name: str, value: bytes) -> None: ...

    def secret(self) -> bytes:
        """The store's own random key (made on first use): it seals entries and keys account fingerprints."""
        ...


class CorruptEntry(ValueError):
    """A stored row that cannot be read back as a CacheEntry (malformed or tampered types)."""
