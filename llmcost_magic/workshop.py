"""Workshop mode: one Redis for a room of participants.

The instructor:

    from llmcost_magic import workshop
    workshop.configure("redis://10.0.0.5:6379/0", daily_limit_usd=2.0, shareable_cache=False)
    workshop.room("redis://10.0.0.5:6379/0")        # everyone's spend today, live

Each participant (one setting; the user id defaults to $LLMCOST_USER or the login name):

    %config LLMCost.workshop = "redis://10.0.0.5:6379/0"

Then every metered cell of that participant checks the room's per-participant daily budget atomically
in Redis (a Lua script reserves the worst case, settles the real cost), adds to the room's totals, and
caches exact answers in the room's Redis cache. A participant's cached answers are theirs alone unless
the instructor declares the cache shareable, in which case identical calls from different participants
hit one entry. If Redis cannot be reached, budgets fail closed (calls are refused) by default, or open
(calls go on, unchecked, with one warning) with ``%config LLMCost.workshop_fail_open = True``.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from .errors import BudgetExceeded, LLMCostError, MissingDependency
from .intercept.call import Call
from .pricing import UnknownModelError, price_for
from .records import Usage

PREFIX = "llmcost:workshop"
# Atomically: refuse if spent + reserved + needed > limit, else reserve. Returns {ok, spent, reserved}.
_RESERVE = """
local limit = tonumber(redis.call('HGET', KEYS[1], 'daily_limit_usd') or '-1')
local spent = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
local reserved = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
local needed = tonumber(ARGV[2])
if limit >= 0 and spent + reserved + needed > limit then
  return {0, tostring(spent), tostring(reserved), tostring(limit)}
end
redis.call('HINCRBYFLOAT', KEYS[3], ARGV[1], needed)
redis.call('EXPIRE', KEYS[3], 172800)
return {1, tostring(spent), tostring(reserved + needed), tostring(limit)}
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
        raise LLMCostError(f"Cannot reach the workshop's Redis at {url}: {exc}. Ask the instructor for the "
                           f"address, or unset it with %config LLMCost.workshop = None.") from None
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
    return pd.DataFrame(rows, columns=["participant", "calls", "spent_usd", "limit_usd", "used"]).set_index("participant")


class WorkshopBudget:
    """A participant's daily budget held in Redis: the same reserve/settle interface as the cell budget."""

    def __init__(self, url: str, user: str, *, fail_open: bool = False) -> None:
        self.url, self.user, self.fail_open = url, user, fail_open
        self._client = _redis(url)
        self._reserve = self._client.register_script(_RESERVE)
        self._warned = False

    def _keys(self) -> list[str]:
        day = _day()
        return [f"{PREFIX}:settings", f"{PREFIX}:spent:{day}", f"{PREFIX}:reserved:{day}"]

    def reserve(self, call: Call, input_tokens: int) -> float:
        output = call.max_output_tokens or 4096
        try:
            needed = price_for(call.model).cost(Usage(input_tokens=input_tokens, output_tokens=output)).usd or 0.0
        except UnknownModelError:
            needed = 0.0
        try:
            ok, spent, reserved, limit = self._reserve(keys=self._keys(), args=[self.user, repr(needed)])
        except Exception as exc:  # noqa: BLE001 - Redis down: the documented fail-open / fail-closed choice
            return self._unreachable(exc, needed)
        if not int(ok):
            committed, limit_usd = float(spent) + float(reserved), float(limit)
            raise BudgetExceeded(
                f"Refused before sending: this call could cost up to ${needed:.6f}, over the workshop's daily budget "
                f"of ${limit_usd:.4f} for {self.user} (${committed:.6f} spent or reserved; over by "
                f"${committed + needed - limit_usd:.6f}). Ask the instructor, or use a cheaper model.",
                limit_usd=limit_usd, spent_usd=committed, needed_usd=needed)
        return needed

    def settle(self, reserved: float, cost_usd: float | None) -> None:
        _, spent_key, reserved_key = self._keys()
        try:
            pipe = self._client.pipeline()
            pipe.hincrbyfloat(reserved_key, self.user, -reserved)
            pipe.hincrbyfloat(spent_key, self.user, cost_usd if cost_usd is not None else reserved)
            pipe.expire(spent_key, 86400 * 35)
            pipe.execute()
        except Exception as exc:  # noqa: BLE001
            self._unreachable(exc, 0.0, refusing=False)

    def count_call(self) -> None:
        """Count one recorded call for the room (cache hits included: they cost $0 but were served)."""
        try:
            self._client.hincrby(f"{PREFIX}:calls:{_day()}", self.user, 1)
        except Exception as exc:  # noqa: BLE001
            self._unreachable(exc, 0.0, refusing=False)

    def _unreachable(self, exc: Exception, needed: float, refusing: bool = True) -> float:
        if self.fail_open or not refusing:
            if not self._warned:
                self._warned = True
                print(f"llmcost: the workshop's Redis is unreachable ({exc}); calls go on unchecked (fail open).",
                      file=sys.stderr)
            return 0.0
        raise BudgetExceeded(f"Refused: the workshop's budget server at {self.url} is unreachable ({exc}), and "
                             f"budgets fail closed. Set %config LLMCost.workshop_fail_open = True to go on unchecked.",
                             limit_usd=0.0, spent_usd=0.0, needed_usd=needed)


def cache_context(url: str, user: str, context: str = "") -> tuple[str, bool]:
    """(cache context, shared) for a participant's calls: their own space, narrowed by ``context``
    (``--context``); only the instructor's ``shareable_cache`` makes it the room's (then identical
    calls from any participant, with any API key, share one entry)."""
    if settings(url)["shareable_cache"]:
        return f"room|{context}", True
    return f"participant:{user}|{context}", False
