"""Budgets from a config file: limits per query, per user per day and per month, by segment.

    default: {max_per_query_usd: 0.05, daily_max_per_user_usd: 5.0, session_max_usd: 2.0}
    per_segment:
      rnd_engineer: {max_per_query_usd: 0.20, daily_max_per_user_usd: 50.0}
    per_tag:
      summaries: {daily_max_usd: 10.0, monthly_max_usd: 100.0}   # all users together
    alerts: {daily_warn_at: 0.8, avg_cost_per_query_usd: 0.01, window_calls: 50}
    timezone: Asia/Seoul            # where a "day" starts; default: this machine's local time

Spend so far comes from the ledger (this user's rows since the start of the day / month), so limits hold
across cells and kernel restarts; holds of calls in flight are in the ledger too, so the limits hold across
processes and kernels that share one ledger file.
"""

from __future__ import annotations

import datetime as dt
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..core.config_files import read_table
from ..core.errors import BudgetExceeded
from ..intercept.call import Call
from ..core.messages import tr
from .budget import _fmt, suggestion_for
from .budgets.reservations import BATCH_LEASE_S, LEASE_S, LedgerHolds, Scope
from .budgets.worst_case import WorstCase



class BudgetFileError(ValueError):
    """A budget file that cannot be used; the message names the entry and the fix."""


@dataclass(frozen=True)
class Limits:
    max_per_query_usd: float | None = None
    daily_max_per_user_usd: float | None = None
    monthly_max_per_user_usd: float | None = None
    session_max_usd: float | None = None


@dataclass(frozen=True)
class TagLimits:
    daily_max_usd: float | None = None
    monthly_max_usd: float | None = None


@dataclass(frozen=True)
class BudgetConfig:
    default: Limits
    per_segment: dict[str, Limits] = field(default_factory=dict)
    per_tag: dict[str, TagLimits] = field(default_factory=dict)
    daily_warn_at: float = 0.8
    avg_cost_per_query_usd: float | None = None
    window_calls: int = 50
    timezone: str | None = None

    def limits(self, segment: str | None) -> Limits:
        if not segment:
            return self.default
        if segment not in self.per_segment:
            known = ", ".join(sorted(self.per_segment)) or tr("none defined")
            raise BudgetFileError(tr("Unknown segment {segment!r}: the budget file defines {known}.", segment=segment,
                                     known=known))
        return self.per_segment[segment]


def load_budgets(source: str | Path | Mapping[str, Any]) -> BudgetConfig:
    """A BudgetConfig from a YAML/TOML file or a dict, validated against
    :class:`~llmcost_magic.core.config_schemas.BudgetFile` (unknown keys, nan, inf, negative or non-numeric
    values are errors naming the file, the key and the form expected)."""
    from ..core.config_schemas import BudgetFile, validated

    if isinstance(source, Mapping):
        data, where = source, "budgets"
    else:
        data, where = read_table(source, BudgetFileError, "Budget file"), str(source)
    f = validated(BudgetFile, data, where, BudgetFileError)
    return BudgetConfig(Limits(**f.default.model_dump()),
                        {k: Limits(**v.model_dump()) for k, v in f.per_segment.items()},
                        {k: TagLimits(**v.model_dump()) for k, v in f.per_tag.items()},
                        f.alerts.daily_warn_at, f.alerts.avg_cost_per_query_usd, f.alerts.window_calls, f.timezone)


@dataclass(frozen=True)
class Alert:
    """A budget alert: shown as a banner in the notebook and passed to every registered callback."""

    kind: str
    message: str
    spent_usd: float
    limit_usd: float


_callbacks: list[Callable[[Alert], None]] = []


def on_alert(callback: Callable[[Alert], None]) -> Callable[[Alert], None]:
    """Call ``callback(alert)`` for every budget alert (send it to Slack, a log, a pager...)."""
    _callbacks.append(callback)
    return callback


def _announce(alert: Alert) -> None:
    for callback in list(_callbacks):
        try:
            callback(alert)
        except Exception as exc:  # noqa: BLE001 - the user's hook fails alone: the call's hold is settled regardless
            warnings.warn(f"llmcost_magic: the alert hook {getattr(callback, '__qualname__', callback)!r} failed "
                          f"({type(exc).__name__}: {exc})", stacklevel=2)
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display

        if getattr(get_ipython(), "kernel", None) is not None:
            display(HTML(f"<div style='padding:6px 10px;background:#fff3cd;border-left:4px solid #e0a800'>"
                         f"⚠ <b>llmcost budget</b>: {alert.message}</div>"))
    except ImportError:
        pass


class BudgetBook:
    """One user's limits (by segment), checked before every call against the ledger's real spend.

    Holds live in the ledger itself (:class:`~llmcost_magic.policies.budgets.reservations.LedgerHolds`), so
    the limits hold across threads, processes and kernels sharing one ledger file.
    """

    def __init__(self, config: BudgetConfig, *, user: str, segment: str | None, ledger: Any, tag: str = "",
                 clock: Callable[[], float] = time.time) -> None:
        self.config, self.user, self.segment, self.tag = config, user, segment, tag
        self.limits = config.limits(segment)
        self.tag_limits = config.per_tag.get(tag, TagLimits())
        self.ledger, self.clock = ledger, clock
        self.holds = LedgerHolds(ledger, user=user, tag=tag)
        self._warned: set[str] = set()
        self._day_spent = 0.0
        self._starts = (0.0, 0.0, -1.0)  # (day start, month start, next day start), epoch seconds
        self._scopes_for: tuple[tuple[float, float, float], list[Scope]] = ((), [])  # type: ignore[assignment]

    def _since(self, period: str) -> float:
        if period == "all":
            return 0.0
        now = self.clock()
        if not self._starts[0] <= now < self._starts[2]:  # once a day, not once a call
            tz = ZoneInfo(self.config.timezone) if self.config.timezone else None
            local = dt.datetime.fromtimestamp(now, tz=tz) if tz else dt.datetime.fromtimestamp(now).astimezone()
            day = local.replace(hour=0, minute=0, second=0, microsecond=0)
            next_day = dt.datetime.combine(day.date() + dt.timedelta(days=1), dt.time(), tzinfo=day.tzinfo)
            self._starts = (day.timestamp(), day.replace(day=1).timestamp(), next_day.timestamp())
        return self._starts[0] if period == "day" else self._starts[1]

    def _scope(self, name: str, limit: float, period: str, scope: str) -> Scope:
        value = {"user": self.user, "tag": self.tag, "session": self.holds.session}[scope]
        return Scope(name, limit, scope, value, self._since(period))

    def _scopes(self) -> list[Scope]:
        self._since("day")  # moves self._starts at midnight
        if self._scopes_for[0] != self._starts:
            self._scopes_for = (self._starts, self._build_scopes())
        return self._scopes_for[1]

    def _build_scopes(self) -> list[Scope]:
        lim, tag = self.limits, self.tag_limits
        wanted = (("daily limit per user", lim.daily_max_per_user_usd, "day", "user"),
                  ("monthly limit per user", lim.monthly_max_per_user_usd, "month", "user"),
                  ("session limit", lim.session_max_usd, "all", "session"),
                  ("daily limit of tag {tag!r}", tag.daily_max_usd, "day", "tag"),  # names are tr() templates
                  ("monthly limit of tag {tag!r}", tag.monthly_max_usd, "month", "tag"))
        return [self._scope(name, limit, period, scope) for name, limit, period, scope in wanted if limit is not None]

    def spent(self, period: str, scope: str = "user") -> float:
        """Recorded spend since the start of the ``period`` ("day", "month" in the configured timezone,
        or "all") by this ``scope``: "user" (this user), "tag" (everyone, this tag), "session" (this kernel).
        Read from the ledger now: every process's committed calls."""
        return self.holds.spent(self._scope("", 0.0, period, scope))

    @property
    def reserved_usd(self) -> float:
        """This user's live holds (calls in flight, in every process)."""
        return self.holds.held(self._scope("", 0.0, "day", "user"))

    def reserve(self, call: Call, worst: WorstCase, *, batch: str | None = None) -> Any:
        """Hold the call's worst case in the ledger (returned: the hold to settle) or raise BudgetExceeded."""
        needed = worst.usd or 0.0
        per_query = self.limits.max_per_query_usd
        if per_query is not None and needed > per_query and batch is None:
            raise self._refusal(call, worst, "per-query limit", per_query, 0.0, needed)
        scopes = self._scopes()
        if not scopes:
            return None
        hold, refused, committed, spends = self.holds.reserve(scopes, needed, batch=batch,
                                                              lease_s=BATCH_LEASE_S if batch else LEASE_S)
        if refused is not None:
            raise self._refusal(call, worst, refused.name, refused.limit_usd, committed, needed)
        if spends and self.limits.daily_max_per_user_usd is not None:  # the first scope: the burn alert's base
            self._day_spent = spends[0]
        return hold

    def release_unused(self) -> None:
        """Give back this process's unused allotment (the meter closed)."""
        self.holds.release()

    def settle(self, hold: Any, cost_usd: float | None) -> None:
        """Release a hold (dropped once the call's row is committed), then check the burn rate."""
        if hold is not None:
            self.holds.settle(hold, cost_usd)
        self._day_spent += cost_usd or 0.0
        self._check_burn()

    @property
    def limit_key(self) -> tuple[Any, ...]:
        """One user's limits from one budget configuration on one ledger (see ``Meter.budgets``)."""
        return ("book", id(self.ledger), self.user, self.segment, self.tag, self.config)

    def charge(self, cost_usd: float) -> None:
        """Spend that held nothing here: its ledger row already counts; only the burn alert needs it."""
        self.settle(None, cost_usd)

    def _check_burn(self) -> None:
        day = self._starts[0]  # the start of the current day: alerts fire once per day
        limit = self.limits.daily_max_per_user_usd
        if limit is not None:
            spent = self._day_spent  # the ledger's spend at this process's last check, plus its calls since
            if spent >= self.config.daily_warn_at * limit and f"burn:{day}" not in self._warned:
                self._warned.add(f"burn:{day}")
                _announce(Alert("daily_burn", tr("{user} has spent {spent} today, {share:.0%} of the daily limit of "
                                                 "{limit}.", user=self.user, spent=_fmt(spent), share=spent / limit,
                                                 limit=_fmt(limit)), spent, limit))
        target = self.config.avg_cost_per_query_usd
        if target is not None:
            window = self.config.window_calls
            rows = self.ledger.query("SELECT cost_usd FROM calls WHERE user = ? AND status = 'ok' ORDER BY id DESC LIMIT ?",
                                     (self.user, window))
            if len(rows) == window:
                average = sum(r[0] or 0.0 for r in rows) / window
                if average > target and f"slo:{day}" not in self._warned:
                    self._warned.add(f"slo:{day}")
                    _announce(Alert("avg_cost_per_query", tr("{user}'s last {n} calls averaged {average} per query, over "
                                                             "the target of {target}.", user=self.user, n=window,
                                                             average=_fmt(average), target=_fmt(target)), average, target))

    def _refusal(self, call: Call, worst: WorstCase, name: str, limit: float, committed: float,
                 needed: float) -> BudgetExceeded:
        # The suggestion must fit every limit, not only the one that refused: --budget-fallback sends the call to it.
        rooms = [s.limit_usd - self.holds.spent(s) - self.holds.held(s) for s in self._scopes()]
        per_query = self.limits.max_per_query_usd
        left = min([limit - committed, *rooms, *([per_query] if per_query is not None else [])])
        suggestion = suggestion_for(call, worst, max(left, 0.0))
        who = f"{self.user}" + (tr(" (segment {segment})", segment=self.segment) if self.segment else "")
        message = tr("Refused before sending: this call could cost up to {needed} ({worst}), over the {name} of {limit} "
                     "for {who}: {committed} spent or reserved, over by {over}.", needed=_fmt(needed),
                     worst=worst.described, name=tr(name, tag=self.tag), limit=_fmt(limit), who=who,
                     committed=_fmt(committed), over=_fmt(committed + needed - limit))
        message += (tr(" {model} would fit.", model=suggestion) if suggestion
                    else tr(" Lower max_tokens or wait for the next period."))
        return BudgetExceeded(message, limit_usd=limit, spent_usd=committed, needed_usd=needed, suggestion=suggestion)
