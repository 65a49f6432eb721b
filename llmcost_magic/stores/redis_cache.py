"""The shared cache store: Redis, so every kernel of a team or a workshop hits one cache.

Entries are hashes of bytes (never pickled) under ``{prefix}:e:{key}`` with Redis' own expiry;
tag and model index sets make ``clear(tag=...)`` cheap.
"""

from __future__ import annotations

import math
import secrets
from typing import Any

from ..core.errors import LLMCostError, MissingDependency
from ..core.redaction import redact
from .base import CacheEntry, CorruptEntry

_TEXT = ("key", "provider", "endpoint", "model", "content_type", "tag", "context", "question", "seal")


class RedisCacheStore:
    def __init__(self, url: str, prefix: str = "llmcost") -> None:
        try:
            import redis
        except ImportError:
            raise MissingDependency("The Redis cache store", "redis") from None
        self._redis = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self.prefix = prefix
        self._secret: bytes | None = None
        try:
            self._redis.ping()
        except redis.RedisError as exc:
            raise LLMCostError(redact(f"Cannot reach Redis at {url}: {exc}. Start it (redis-server) or use the default "
                                      f"SQLite store.")) from None

    def _k(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    def secret(self) -> bytes:
        if self._secret is None:
            name = self._k("secret")
            self._redis.setnx(name, secrets.token_bytes(32))  # the first kernel of a room makes it; all share it
            self._secret = bytes(self._redis.get(name))  # type: ignore[arg-type]
        return self._secret

    def get_meta(self, name: str) -> bytes | None:
        return self._redis.hget(self._k("meta"), name)  # type: ignore[return-value]

    def put_meta(self, name: str, value: bytes) -> None:
        self._redis.hset(self._k("meta"), name, value)

    def get(self, key: str, now: float) -> CacheEntry | None:
        import redis

        try:
            raw: dict[bytes, bytes] = self._redis.hgetall(self._k("e", key))  # type: ignore[assignment]
        except redis.ResponseError as exc:  # WRONGTYPE: another version's row (a string, a list) under this name
            raise CorruptEntry(str(exc)) from None
        if not raw:
            return None
        entry = _decode(raw)
        return entry if entry.alive(now) else None

    def put(self, entry: CacheEntry) -> None:
        name = self._k("e", entry.key)
        fields: dict[str, Any] = {c: getattr(entry, c) for c in _TEXT}
        fields.update(body=entry.body, embedding=entry.embedding, created=repr(entry.created),
                      expires="" if entry.expires is None else repr(entry.expires), hits=entry.hits)
        pipe = self._redis.pipeline()
        pipe.delete(name)
        pipe.hset(name, mapping=fields)
        if entry.expires is not None:
            pipe.expireat(name, math.ceil(entry.expires))
        pipe.sadd(self._k("tag", entry.tag), entry.key)
        pipe.sadd(self._k("model", entry.model), entry.key)
        if entry.embedding:
            pipe.sadd(self._k("ctx", entry.context), entry.key)
        pipe.execute()

    def hit(self, key: str) -> None:
        self._redis.hincrby(self._k("e", key), "hits", 1)

    def delete(self, key: str) -> bool:
        return bool(self._redis.delete(self._k("e", key)))

    def block(self, key: str, reason: str) -> None:
        self._redis.delete(self._k("e", key))
        self._redis.hset(self._k("blocked"), key, reason)

    def is_blocked(self, key: str) -> bool:
        return bool(self._redis.hexists(self._k("blocked"), key))

    def own(self, owner: str, key: str) -> None:
        """Note that ``owner`` (a workshop participant) stored ``key``: their ``clear`` removes it."""
        self._redis.sadd(self._k("owner", owner), key)

    def clear(self, *, tag: str | None = None, model: str | None = None, owner: str | None = None) -> int:
        """Delete entries (all, or by tag / model / the participant who stored them); returns how many."""
        if tag is None and model is None and owner is None:
            names = list(self._redis.scan_iter(self._k("e", "*")))
        else:
            sets = [self._k("tag", tag)] if tag is not None else []
            sets += [self._k("model", model)] if model is not None else []
            sets += [self._k("owner", owner)] if owner is not None else []
            names = [self._k("e", k.decode()) for k in self._redis.sinter(sets)]
        return int(self._redis.delete(*names)) if names else 0

    def semantic_entries(self, context: str, now: float) -> list[CacheEntry]:
        entries = []
        for key in self._redis.smembers(self._k("ctx", context)):
            try:
                entry = self.get(key.decode(), now)
            except CorruptEntry:  # left out of the index (a lookup of it warns)
                continue
            if entry is not None and entry.embedding:
                entries.append(entry)
        return entries

    def stats(self, now: float) -> dict[str, int]:
        names = list(self._redis.scan_iter(self._k("e", "*")))
        pipe = self._redis.pipeline(transaction=False)
        for name in names:
            pipe.hget(name, "hits")
        counts = pipe.execute(raise_on_error=False)  # a row of another version (not a hash) counts no hits
        hits = sum(int(h) for h in counts if isinstance(h, bytes) and h.isdigit())
        return {"entries": len(names), "hits": hits, "blocked": int(self._redis.hlen(self._k("blocked")))}


def _decode(raw: dict[bytes, bytes]) -> CacheEntry:
    """A Redis hash as a CacheEntry; CorruptEntry when a field cannot be read."""
    try:
        text = {c: raw.get(c.encode(), b"").decode() for c in _TEXT}
        expires = raw.get(b"expires", b"").decode()
        return CacheEntry(body=raw.get(b"body", b""), embedding=raw.get(b"embedding", b""),
                          created=float(raw.get(b"created", b"0")), expires=float(expires) if expires else None,
                          hits=int(raw.get(b"hits", b"0")), **text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CorruptEntry(str(exc)) from None
