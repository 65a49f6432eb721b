"""Who and where a cached answer belongs to, and the seal that proves a stored row is one we wrote.

A cached answer is served only to a call with the same scope: the same destination (scheme, host,
port and path: another server or proxy is another answer), the same account (a keyed hash of the
API key and organisation/project headers, made with the store's own secret: never the key, never
a plain hash of it), and the same kind of run (a dry run's simulated answers never reach a real call).

Each entry is sealed with an HMAC of its fields under the store's secret. A row changed or written
by anything but this package without the secret (a corrupted file, an edited body, an answer moved
under another key) fails the seal and is a miss. It is not a defence against someone who can read
the store: the secret lives in the store itself, so everyone who shares the cache can use it.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import re
from typing import Any

from ..stores import CacheEntry

# Request headers that name the account a call is billed to (lower case, as httpx keeps them): the
# providers' own, and any header whose name says it carries a credential or an account, so that a
# gateway's own (Ocp-Apim-Subscription-Key, x-portkey-api-key, cf-aig-authorization, Helicone-Auth,
# X-Tenant-Id, Cookie) keeps its users apart too.
ACCOUNT_HEADERS = (b"authorization", b"x-api-key", b"api-key", b"openai-organization", b"openai-project",
                   b"anthropic-organization", b"x-goog-api-key")
_ACCOUNT_NAME = re.compile(rb"auth|key|token|secret|organi[sz]ation|project|account|tenant|subscription|cookie|session")
_PER_REQUEST = (b"idempotency-key", b"x-stainless-")  # change from one request (or retry) to the next
# Request headers that change what the model does or how its answer is shaped (a beta feature, an API version).
_ANSWER_HEADERS = frozenset((b"anthropic-version", b"anthropic-beta", b"openai-beta"))
_CONTENT_TYPES = ("application/json", "text/event-stream")


def destination(url: Any) -> str:
    """``scheme://host:port/path`` of a request URL (the query string too: Azure's api-version)."""
    return f"{url.scheme}://{url.host}:{url.port or ''}{url.raw_path.decode('latin-1')}"


def account_fingerprint(headers: Any, secret: bytes) -> str:
    """A keyed hash of the headers that say whose account pays, or "" when there are none."""
    # A list comprehension, each name lowered once: it scans every header of every cached call.
    pairs = tuple(sorted([(low, value) for name, value in headers.raw if _names_account(low := name.lower())]))
    return _fingerprint(pairs, secret) if pairs else ""


def answer_headers(headers: Any) -> str:
    """A digest of the headers that change the answer (anthropic-beta, anthropic-version, OpenAI-Beta), or ""."""
    pairs = sorted([(low, value) for name, value in headers.raw if (low := name.lower()) in _ANSWER_HEADERS])
    return hashlib.sha256(repr(pairs).encode()).hexdigest()[:16] if pairs else ""


@functools.lru_cache(maxsize=1024)
def _names_account(name: bytes) -> bool:
    return name in ACCOUNT_HEADERS or (bool(_ACCOUNT_NAME.search(name)) and not name.startswith(_PER_REQUEST))


@functools.lru_cache(maxsize=256)
def _fingerprint(pairs: tuple[tuple[bytes, bytes], ...], secret: bytes) -> str:
    material = b"\0".join(name + b"=" + value for name, value in pairs)
    return hmac.new(secret, material, hashlib.sha256).hexdigest()[:32]


def seal(entry: CacheEntry, secret: bytes) -> str:
    """The HMAC of everything a served answer depends on."""
    head = json.dumps([entry.key, entry.provider, entry.endpoint, entry.model, entry.content_type, repr(entry.created),
                       repr(entry.expires), entry.tag, entry.context, entry.question], ensure_ascii=False).encode()
    mac = hmac.new(secret, head, hashlib.sha256)
    mac.update(b"\0body\0" + entry.body)
    mac.update(b"\0embedding\0" + entry.embedding)
    return mac.hexdigest()


def why_invalid(entry: CacheEntry, key: str, secret: bytes) -> str | None:
    """Why a stored row must not be served under ``key``, or None when it is sound."""
    if entry.key != key:
        return "it is stored under another key"
    if not isinstance(entry.body, bytes) or not entry.body:
        return "its body is not bytes"
    if not entry.content_type.startswith(_CONTENT_TYPES):
        return f"its content type {entry.content_type!r} is not an API answer"
    if not entry.seal or not hmac.compare_digest(entry.seal, seal(entry, secret)):
        return "its seal does not match (changed outside llmcost_magic, or written by an older version)"
    return None
