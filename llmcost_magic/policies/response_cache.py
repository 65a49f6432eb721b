"""Response caching: exact (same request, same answer) and semantic (same question, same context).

The key is a hash of everything in the request that can change the answer: provider, endpoint and
the whole JSON body (model, messages, system, tools, temperature, top_p, seed, response_format,
max_tokens, stream, ...), the call's scope (destination, account fingerprint, real or dry run: see
``cache_scope``) and the user's context key. By default only deterministic requests (temperature 0)
are cached. Only answers that stopped normally are stored: never errors, refusals, content-filtered,
truncated, paused or unfinished answers, cut streams, nor tool-call-only answers (unless opted in).
A stored row that fails validation is a miss with one warning.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.config_files import read_table
from ..intercept.call import Call, Parsed
from ..stores import CacheEntry, CacheStore
from ..stores.base import CorruptEntry
from .cache_scope import account_fingerprint, answer_headers, destination, seal, why_invalid
from ..core.messages import tr

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$", re.I)
_UNITS = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
_TRUNCATED = {"length", "max_tokens"}
_TOOL_ONLY = {"tool_calls", "tool_use"}
_STOPPED = {"stop", "end_turn", "stop_sequence", "completed"}  # what a normally finished answer says
_ANSWERS = ("chat.completions", "messages", "responses", "completions")  # endpoints that must say how they ended
_TEXT_PARTS = ("text", "input_text")  # the parts of a question that last_user_text reads
_warned: set[str] = set()  # keys of invalid rows already warned about (one warning each)


def parse_duration(text: str | float | None) -> float | None:
    """``"30m"`` -> 1800.0; ``"0"`` -> 0 (do not cache); ``None`` / ``"forever"`` -> None (no expiry)."""
    if text is None or (isinstance(text, str) and text.strip().lower() in ("forever", "none", "")):
        return None
    if isinstance(text, (int, float)):
        return float(text)
    m = _DURATION.match(text)
    if not m:
        raise ValueError(tr("Cannot read the duration {text!r}: use e.g. 90s, 30m, 24h, 7d, 0 (never cache) or forever.",
                            text=text))
    return float(m.group(1)) * _UNITS[m.group(2).lower() if m.group(2) else None]


def load_ttl_table(source: str | Path | Mapping[str, Any]) -> dict[str, float | None]:
    """A tag -> TTL table from YAML/TOML (``knowledge_lookup: 24h``, ``small_talk: 0``) or a dict."""
    if isinstance(source, Mapping):
        data: Any = source
    else:
        data = read_table(source, ValueError, "TTL table")
    if not isinstance(data, Mapping):
        raise ValueError(f"{source}: expected a table of tag: duration (e.g. knowledge_lookup: 24h)")
    from ..core.config_schemas import TtlFile, validated

    validated(TtlFile, {"ttls": dict(data)}, str(source), ValueError)
    table = {}
    for tag, value in data.items():
        try:
            table[str(tag)] = parse_duration(value if not isinstance(value, (int, float)) else float(value))
        except ValueError as exc:
            raise ValueError(f"{source}: tag {tag!r}: {exc}") from None
    return table


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def last_user_text(call: Call) -> str:
    """The question a call asks: its last user message as text."""
    body = call.body
    if call.endpoint == "responses":
        inp = body.get("input")
        if isinstance(inp, str):
            return inp
        messages = inp or []
    else:
        messages = body.get("messages") or []
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            return "\n".join(p.get("text", "") for p in content or () if isinstance(p, dict))
    return ""


@dataclass
class CacheSettings:
    """What a cell (or the session) asked of the cache."""

    mode: str = "exact"  # "exact" or "semantic" (semantic also tries exact first)
    ttl_s: float | None = None  # None: no expiry; 0: do not store
    ttl_by_tag: dict[str, float | None] = field(default_factory=dict)
    any_temperature: bool = False
    cache_tool_calls: bool = False
    threshold: float = 0.70  # semantic_cache.DEFAULT_THRESHOLD
    context_key: str = ""  # a user-declared context (segment, permissions) that a hit must share
    tag: str = ""
    share_accounts: bool = False  # a workshop whose instructor shares the cache: any participant's key
    owner: str = ""  # a workshop participant: the answers they store are the ones their `cache clear` removes
    verifier: Any = None  # a semantic_verifier.LLMVerifier for pairs just short of their threshold


@dataclass
class Hit:
    entry: CacheEntry
    kind: str  # "exact" or "semantic"
    similarity: float = 1.0
    parsed: Any = None  # the answer as read when this very row (same verified bytes) was served before, else None


class ResponseCache:
    """Looks calls up before they are sent and stores complete, safe answers after."""

    def __init__(self, store: CacheStore, settings: CacheSettings, *, clock: Callable[[], float] = time.time,
                 semantic: Any = None) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.semantic = semantic  # a SemanticIndex when mode == "semantic"
        self.last_key: str | None = None
        self.last_hit_kind = ""  # "exact", "semantic", or "" when the last key was stored, not served
        self._verified: dict[str, tuple[Any, ...]] = {}  # key -> the fields of the row whose seal was checked
        self._parsed: dict[str, Any] = {}  # key -> the verified row's answer as read when it was first served
        self._lock = threading.Lock()

    # -- keys ------------------------------------------------------------------------------

    def scope(self, request: Any, dry_run: bool) -> str:
        """Where, for whom and how a request is sent: a hit must share all of it."""
        account = "" if self.settings.share_accounts else account_fingerprint(request.headers, self.store.secret())
        shaped = answer_headers(request.headers)  # only when present: keys without such headers stay as they were
        return f"{'dry-run' if dry_run else 'real'}|{destination(request.url)}|{account}" + (f"|{shaped}" if shaped else "")

    def key(self, call: Call) -> str:
        """The exact key: the request's own bytes (the SDK serialises a request the same way each time;
        another key order is a miss, never a wrong answer), provider, endpoint, scope and context key."""
        body = call.body_digest or hashlib.sha256(canonical(call.body)).hexdigest()
        material = "\0".join((call.provider, call.endpoint, body, call.cache_scope, self.settings.context_key))
        return hashlib.sha256(material.encode()).hexdigest()

    def context(self, call: Call) -> str:
        """Everything but the question's text: a semantic hit must match all of it (the earlier turns,
        and the last user message's images, files, audio and tool results)."""
        rest = dict(call.body)
        turns = rest.pop("input" if call.endpoint == "responses" else "messages", None)
        messages = list(turns) if isinstance(turns, list) else []
        if messages and isinstance(messages[-1], dict) and messages[-1].get("role") == "user":
            content = messages[-1].get("content")
            if isinstance(content, list):  # the text is compared by meaning; every other part must be the same
                content = [p for p in content if not (isinstance(p, dict) and p.get("type") in _TEXT_PARTS)]
            messages[-1] = {**messages[-1], "content": content if isinstance(content, list) else ""}
        material = canonical({"p": call.provider, "e": call.endpoint, "b": rest, "history": messages,
                              "s": call.cache_scope, "ctx": self.settings.context_key})
        return hashlib.sha256(material).hexdigest()

    def cacheable(self, call: Call) -> bool:
        """Deterministic requests only, unless the cell opted in (``--cache-any-temperature``)."""
        if self.settings.any_temperature:
            return True
        return call.body.get("temperature") == 0

    # -- before sending --------------------------------------------------------------------

    def lookup(self, call: Call) -> Hit | None:
        if not self.cacheable(call):
            return None
        now = self.clock()
        key = self.key(call)
        entry = self.read(key, now)
        if entry is not None:
            self.store.hit(key)
            self.last_key, self.last_hit_kind = key, "exact"
            return Hit(entry, "exact", parsed=self._parsed.get(key))
        if self.semantic is not None and self.settings.mode == "semantic":
            found = self.semantic.search(self.context(call), last_user_text(call), now, self.settings.threshold,
                                         read=self.read, verifier=self._verifier(call))
            if found is not None:
                entry, similarity = found
                self.store.hit(entry.key)
                self.last_key, self.last_hit_kind = entry.key, "semantic"
                return Hit(entry, "semantic", similarity, self._parsed.get(entry.key))
        return None

    def _verifier(self, call: Call) -> Callable[[str, str, CacheEntry], bool | None] | None:
        """The settings' verifier, asked only when it costs less than the answer it would save."""
        verifier = self.settings.verifier
        if verifier is None:
            return None
        from .answer_cost import answer_cost

        def ask(question: str, cached_question: str, entry: CacheEntry) -> bool | None:
            saved = answer_cost(entry)
            if saved is None or verifier.cost_usd(question, cached_question) >= saved:
                return None
            return bool(verifier(question, cached_question, dry_run=call.cache_scope.startswith("dry-run")))

        return ask

    def read(self, key: str, now: float) -> CacheEntry | None:
        """The live entry under ``key`` when it is sound; a malformed or forged row is a miss (one warning)."""
        try:
            entry = self.store.get(key, now)
        except CorruptEntry as exc:
            _warn_once(key, f"malformed ({exc})")
            return None
        if entry is None:
            return None
        fields = (entry.key, entry.provider, entry.endpoint, entry.model, entry.content_type, entry.created,
                  entry.expires, entry.tag, entry.context, entry.question, entry.body, entry.embedding, entry.seal)
        if self._verified.get(key) == fields:  # this very row was verified before: equal bytes, no second HMAC
            return entry
        self._parsed.pop(key, None)  # another row than the one read before: read its answer afresh
        reason = why_invalid(entry, key, self.store.secret())
        if reason is not None:
            _warn_once(key, reason)
            return None
        if len(self._verified) > 4096:
            self._verified.clear()
            self._parsed.clear()
        self._verified[key] = fields
        return entry

    def keep_parsed(self, hit: Hit, parsed: Any) -> None:
        """Keep how a served row's answer read, for its next hits (only while that very row is the verified one)."""
        verified = self._verified.get(hit.entry.key)
        if verified is not None and verified[10] == hit.entry.body:  # fields[10]: the body read and verified
            self._parsed[hit.entry.key] = parsed

    # -- after a live answer ---------------------------------------------------------------

    def ttl_for(self, tag: str) -> float | None:
        return self.settings.ttl_by_tag.get(tag, self.settings.ttl_s)

    def why_not_store(self, call: Call, status: int, parsed: Parsed, body: bytes, outcome: str) -> str | None:
        """The reason this answer must not be cached, or None."""
        if status != 200:
            return "error"
        if outcome != "ok" or parsed.usage is None or parsed.estimated:
            return "incomplete"
        if parsed.finish in _TRUNCATED:
            return "truncated"
        if parsed.finish in _TOOL_ONLY:
            if not self.settings.cache_tool_calls:
                return "tool call"
        elif parsed.finish not in _STOPPED and (parsed.finish is not None or call.endpoint in _ANSWERS):
            return f"finished with {parsed.finish}"  # content_filter, refusal, pause_turn, incomplete, ...
        if re.search(rb'"refusal":\s*"', body):
            return "refusal"
        if self.ttl_for(self.settings.tag) == 0:
            return "ttl 0"
        return None

    def remember(self, call: Call, status: int, parsed: Parsed, body: bytes, content_type: str, outcome: str) -> str | None:
        """Store a complete, safe answer; returns its key (or None when it was not stored)."""
        if not call.cache_scope or not self.cacheable(call) or self.why_not_store(call, status, parsed, body, outcome):
            return None
        key = self.key(call)
        if self.store.is_blocked(key):
            return None
        now = self.clock()
        ttl = self.ttl_for(self.settings.tag)
        entry = CacheEntry(key=key, provider=call.provider, endpoint=call.endpoint, model=call.model,
                           content_type=content_type, body=body, created=now,
                           expires=None if ttl is None else now + ttl, tag=self.settings.tag,
                           context=self.context(call), question=last_user_text(call)[:2000])
        if self.semantic is not None and self.settings.mode == "semantic":
            self.semantic.add(entry)
        entry.seal = seal(entry, self.store.secret())
        self.store.put(entry)
        if self.settings.owner and hasattr(self.store, "own"):
            self.store.own(self.settings.owner, key)
        self.last_key, self.last_hit_kind = key, ""
        return key


def _warn_once(key: str, reason: str) -> None:
    if key not in _warned:
        _warned.add(key)
        warnings.warn(tr("llmcost: a cached answer was not served because {reason}; the call goes to the provider "
                         "and a sound answer replaces the row.", reason=reason), UserWarning, stacklevel=2)


def build_cache(mode: str, *, store: CacheStore, semantic_index: Any = None, ttl: str | float | None = None,
                ttl_by_tag: Mapping[str, float | None] | None = None, threshold: float | None = None,
                any_temperature: bool = False, cache_tool_calls: bool = False, context_key: str = "",
                tag: str = "", share_accounts: bool = False, verifier: Any = None, owner: str = "") -> ResponseCache:
    """A ResponseCache for ``mode`` "exact" or "semantic", validating every setting."""
    if mode not in ("exact", "semantic"):
        raise ValueError(f"Unknown cache mode {mode!r}: use exact or semantic.")
    from .semantic_cache import DEFAULT_THRESHOLD

    threshold = DEFAULT_THRESHOLD if threshold is None else threshold
    if not 0 < threshold <= 1:
        raise ValueError(f"The semantic threshold must be in (0, 1], got {threshold} (default {DEFAULT_THRESHOLD}).")
    settings = CacheSettings(mode=mode, ttl_s=parse_duration(ttl), ttl_by_tag=dict(ttl_by_tag or {}),
                             any_temperature=any_temperature, cache_tool_calls=cache_tool_calls, threshold=threshold,
                             context_key=context_key, tag=tag, share_accounts=share_accounts,
                             verifier=verifier, owner=owner)
    return ResponseCache(store, settings, semantic=semantic_index if mode == "semantic" else None)
