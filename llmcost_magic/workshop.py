"""Workshop mode: one Redis for a room of participants.

The instructor:

    from llmcost_magic import workshop
    workshop.configure("redis://10.0.0.5:6379/0", daily_limit_usd=2.0, shareable_cache=False)
    workshop.room("redis://10.0.0.5:6379/0")        # everyone's spend today, live

Each participant (one setting; the user id defaults to $LLMCOST_USER or the login name):

    %config LLMCost.workshop = "redis://10.0.0.5:6379/0"

Then every metered cell of that participant checks the room's per-participant daily budget atomically
in Redis (one Lua script, one round trip, holds the worst case under a lease this kernel renews; another
settles the real cost), adds to the room's totals, and
caches exact answers in the room's Redis cache. A participant's cached answers are theirs alone unless
the instructor declares the cache shareable, in which case identical calls from different participants
hit one entry. If Redis cannot be reached (when the cell starts or later), budgets fail closed (calls are refused) by default,
or open (calls go on, unchecked, with one warning) with ``%config LLMCost.workshop_fail_open = True``.
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
import time
import uuid
from typing import Any

from .core.errors import BudgetExceeded, LLMCostError, MissingDependency
from .intercept.call import Call
from .core.messages import labelled, tr
from .policies.budget import _fmt, suggestion_for
from .policies.budgets.reservations import BATCH_LEASE_S, LEASE_S, renew_while_held
from .policies.budgets.worst_case import WorstCase
from .core.redaction import redact

PREFIX = "llmcost:workshop"
# One round trip: drop expired holds (their kernel stopped renewing), refuse if spent + live holds + needed
# > limit, else hold ``needed`` under a lease. Time comes from Redis, so kernels' clocks do not matter.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local expired = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now)
for i = 1, #expired do
  redis.call('ZREM', KEYS[4], expired[i])
  redis.call('HDEL', KEYS[3], expired[i])
end
local reserved = 0
for _, v in ipairs(redis.call('HVALS', KEYS[3])) do reserved = reserved + tonumber(v) end
local limit = tonumber(redis.call('HGET', KEYS[1], 'daily_limit_usd') or '-1')
local spent = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
local needed = tonumber(ARGV[2])
if limit >= 0 and spent + reserved + needed > limit then
  return {0, tostring(spent), tostring(reserved), tostring(limit)}
end
redis.call('HSET', KEYS[3], ARGV[4], ARGV[2])
redis.call('ZADD', KEYS[4], now + tonumber(ARGV[3]), ARGV[4])
redis.call('EXPIRE', KEYS[3], 172800)
redis.call('EXPIRE', KEYS[4], 172800)
return {1, tostring(spent), tostring(reserved + needed), tostring(limit)}
"""
# One round trip: drop a hold, add the real cost (the hold's amount when unknown) and the calls counted since.
_SETTLE = """
local held = redis.call('HGET', KEYS[2], ARGV[2])
if ARGV[2] ~= '' then
  redis.call('HDEL', KEYS[2], ARGV[2])
  redis.call('ZREM', KEYS[3], ARGV[2])
end
local cost = ARGV[3]
if cost == '' then cost = held or '0' end
if tonumber(cost) ~= 0 then
  redis.call('HINCRBYFLOAT', KEYS[1], ARGV[1], cost)
  redis.call('EXPIRE', KEYS[1], 3024000)
end
if tonumber(ARGV[4]) > 0 then
  redis.call('HINCRBY', KEYS[4], ARGV[1], ARGV[4])
  redis.call('EXPIRE', KEYS[4], 3024000)
end
return 1
"""
# Push the expiry of this kernel's live holds forward (the lease heartbeat).
_RENEW = """
local t = redis.call('TIME')
local until_ = tonumber(t[1]) + tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', until_, ARGV[i]) end
return 1
"""


def _redis(url: str) -> Any:
    try:
        import redis
    except ImportError:
        raise MissingDependency("Workshop mode", "redis") from None
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise LLMCostError(redact(tr("Cannot reach the workshop's Redis at {url}: {error}. Ask the instructor for the "
                                     "address, or unset it with %config LLMCost.workshop = None.", url=url, error=exc))) from None
    return client


def _day() -> str:
    return dt.date.today().isoformat()


def configure(url: str, *, daily_limit_usd: float | None = None, shareable_cache: bool | None = None) -> None:
    """Instructor settings for the room: each participant's daily budget, and whether cached answers are shared."""
    client = _redis(url)
    if daily_limit_usd is not None:
        if not daily_limit_usd > 0:
            raise ValueError(f"daily_limit_usd must be a positive number of dollars, got {daily_limit_usd!r}")
        client.hset(f"{PREFIX}:settings", "daily_limit_usd", repr(float(daily_limit_usd)))
    if shareable_cache is not None:
        client.hset(f"{PREFIX}:settings", "shareable_cache", "1" if shareable_cache else "0")


def settings(url: str) -> dict[str, Any]:
    raw = {k.decode(): v.decode() for k, v in _redis(url).hgetall(f"{PREFIX}:settings").items()}
    return {"daily_limit_usd": float(raw["daily_limit_usd"]) if "daily_limit_usd" in raw else None,
            "shareable_cache": raw.get("shareable_cache") == "1"}


def room(url: str) -> Any:
    """Everyone's spend and calls today, with the limit and the share of it used."""
    import pandas as pd

    client = _redis(url)
    day = _day()
    spent = {k.decode(): float(v) for k, v in client.hgetall(f"{PREFIX}:spent:{day}").items()}
    calls = {k.decode(): int(v) for k, v in client.hgetall(f"{PREFIX}:calls:{day}").items()}
    limit = settings(url)["daily_limit_usd"]
    rows = [{"participant": p, "calls": calls.get(p, 0), "spent_usd": spent.get(p, 0.0), "limit_usd": limit,
             "used": spent.get(p, 0.0) / limit if limit else None} for p in sorted(set(spent) | set(calls))]
    table = pd.DataFrame(rows, columns=["participant", "calls", "spent_usd", "limit_usd", "used"]).set_index("participant")
    return labelled(table)  # Korean headers when shown under "ko"; the columns stay as named here


class WorkshopBudget:
    """A participant's daily budget held in Redis: the same reserve/settle interface as the cell budget.

    Each hold is leased (``LEASE_S``, renewed while this kernel lives): a kernel killed mid-call frees its
    hold within ``LEASE_S``. With ``fail_open``, an unreachable Redis (at the start or later) lets calls go
    on unchecked, with one warning; otherwise they are refused.
    """

    def __init__(self, url: str, user: str, *, fail_open: bool = False) -> None:
        self.url, self.user, self.fail_open = url, user, fail_open
        self._warned = False
        self._held: dict[str, float] = {}  # hold id -> dollars, live in this process
        self._uncounted = 0
        self._renewed = time.monotonic()
        self._lock = threading.Lock()
        try:
            self._client = _redis(url)
        except LLMCostError as exc:
            if not fail_open:
                raise
            import redis

            self._client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
            self._unreachable(exc, 0.0)
        self._reserve = self._client.register_script(_RESERVE)
        self._settle = self._client.register_script(_SETTLE)
        self._renew = self._client.register_script(_RENEW)
        renew_while_held(self)

    def __repr__(self) -> str:
        return f"WorkshopBudget({redact(self.url)!r}, user={self.user!r}, fail_open={self.fail_open})"

    def _keys(self) -> tuple[str, str, str, str, str, str]:
        day, user = _day(), self.user
        return (f"{PREFIX}:settings", f"{PREFIX}:spent:{day}", f"{PREFIX}:holds:{day}:{user}",
                f"{PREFIX}:leases:{day}:{user}", f"{PREFIX}:calls:{day}", day)

    def reserve(self, call: Call, worst: WorstCase, *, batch: str | None = None) -> tuple[str, str, float] | None:
        """Hold the call's worst case in Redis (one round trip), or raise :class:`BudgetExceeded`."""
        needed = worst.usd or 0.0
        settings_key, spent_key, holds_key, leases_key, _, day = self._keys()
        hold = uuid.uuid4().hex[:16]
        try:
            ok, spent, reserved, limit = self._reserve(keys=[settings_key, spent_key, holds_key, leases_key],
                                                       args=[self.user, repr(needed), BATCH_LEASE_S if batch else LEASE_S, hold])
        except Exception as exc:  # noqa: BLE001 - Redis down: the documented fail-open / fail-closed choice
            self._unreachable(exc, needed)
            return None
        if not int(ok):
            committed, limit_usd = float(spent) + float(reserved), float(limit)
            left = max(limit_usd - committed, 0.0)
            suggestion = suggestion_for(call, worst, left)
            raise BudgetExceeded(
                tr("Refused before sending: this call could cost up to {needed} ({worst}), over the workshop's daily "
                   "budget of {limit} for {user} ({committed} spent or reserved; over by {over}). ", needed=_fmt(needed),
                   worst=worst.described, limit=_fmt(limit_usd), user=self.user, committed=_fmt(committed),
                   over=_fmt(committed + needed - limit_usd))
                + (tr("{model} would fit.", model=suggestion) if suggestion
                   else tr("Ask the instructor, or use a cheaper model.")),
                limit_usd=limit_usd, spent_usd=committed, needed_usd=needed, suggestion=suggestion)
        if not batch:
            with self._lock:
                self._held[hold] = needed
        return day, hold, needed

    def settle(self, hold: tuple[str, str, float] | None, cost_usd: float | None) -> None:
        """Drop the hold and add the real cost and the calls counted since (one round trip)."""
        day, hold_id = (hold[0], hold[1]) if hold else (_day(), "")
        if hold is not None:
            with self._lock:
                self._held.pop(hold_id, None)
        if hold is None and cost_usd is None and not self._uncounted:
            return
        self._send(day, hold_id, "" if cost_usd is None else repr(cost_usd))

    def _send(self, day: str, hold_id: str, cost: str) -> None:
        user = self.user
        with self._lock:
            counted, self._uncounted = self._uncounted, 0
        try:
            self._settle(keys=[f"{PREFIX}:spent:{day}", f"{PREFIX}:holds:{day}:{user}", f"{PREFIX}:leases:{day}:{user}",
                               f"{PREFIX}:calls:{day}"], args=[user, hold_id, cost, counted])
        except Exception as exc:  # noqa: BLE001
            self._unreachable(exc, 0.0, refusing=False)

    @property
    def limit_key(self) -> tuple[str, str, str]:
        """One participant's daily limit in one room (see ``Meter.budgets``)."""
        return ("workshop", self.url, self.user)

    def charge(self, cost_usd: float) -> None:
        """Add spend that held nothing here to the room (one round trip)."""
        self.settle(None, cost_usd)

    def count_call(self) -> None:
        """Count one recorded call for the room (cache hits included: they cost $0 but were served); sent with
        the call's settlement, or now when it held nothing."""
        with self._lock:
            self._uncounted += 1

    def flush_counts(self) -> None:
        """Send the calls counted but not yet sent (a cache hit, a refused... anything that held nothing)."""
        if self._uncounted:
            self._send(_day(), "", "0")

    def renew(self) -> None:
        """Push this kernel's holds' lease forward (called by the lease heartbeat; once per LEASE_S / 4)."""
        if time.monotonic() - self._renewed < LEASE_S / 4:
            return
        self._renewed = time.monotonic()
        with self._lock:
            holds = list(self._held)
        if holds:
            _, _, _, leases_key, _, _ = self._keys()
            self._renew(keys=[leases_key], args=[LEASE_S, *holds])

    def _unreachable(self, exc: Exception, needed: float, refusing: bool = True) -> None:
        if self.fail_open or not refusing:
            if not self._warned:
                self._warned = True
                print(redact(tr("llmcost: the workshop's Redis is unreachable ({error}); calls go on unchecked (fail open).",
                                error=exc)),
                      file=sys.stderr)
            return
        raise BudgetExceeded(redact(tr("Refused: the workshop's budget server at {url} is unreachable ({error}), and "
                                       "budgets fail closed. Set %config LLMCost.workshop_fail_open = True to go on "
                                       "unchecked.", url=self.url, error=exc)), limit_usd=0.0, spent_usd=0.0, needed_usd=needed)


def cache_context(url: str, user: str, context: str = "") -> tuple[str, bool]:
    """(cache context, shared) for a participant's calls: their own space, narrowed by ``context``
    (``--context``); only the instructor's ``shareable_cache`` makes it the room's (then identical
    calls from any participant, with any API key, share one entry)."""
    if settings(url)["shareable_cache"]:
        return f"room|{context}", True
    return f"participant:{user}|{context}", False
