"""The meter: the scope (a cell, a ``with meter():`` block) that intercepted calls are counted in.

Which meter is active is kept by :mod:`llmcost_magic.intercept.active` (re-exported here).
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from dataclasses import dataclass, field

from .core.messages import tr
from .intercept.active import _scoped  # noqa: F401 - re-exported: benchmarks and tests scope a meter by hand
from .intercept.active import active_meter, default_user, enter_scope, leave_scope, set_cell_meter
from .intercept.call import Call
from .intercept.deferred import DRY_RUN_PREFIX
from .policies.budget import Budget
from .policies.budgets.worst_case import worst_case
from .policies.prompt_trail import observe as observe_prompt, seal as seal_prompts
from .core.records import CallRecord
from .core.redaction import redact

__all__ = ["Meter", "Totals", "active_meter", "default_user", "meter", "set_cell_meter"]

MAX_REQUESTS_KEPT = 200
# The meter keeps its last records in memory (the ledger keeps them all): a meter around a long pipeline
# must not grow without bound, and a growing heap makes every garbage collection slower (measured: +50 µs
# a call after 10,000 calls).
MAX_RECORDS_KEPT = 1_000


@dataclass
class Totals:
    """Running sums of a meter, as the live widget shows them."""

    calls: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    saved_usd: float = 0.0
    cache_hits: int = 0
    estimated: int = 0
    unpriced: int = 0
    errors: int = 0
    refused: int = 0
    saved_by: dict[str, float] = field(default_factory=dict)

    def add(self, rec: CallRecord) -> None:
        if rec.status == "refused":
            self.refused += 1
            return
        self.calls += 1
        if rec.saved_usd:
            self.saved_usd += rec.saved_usd
            key = rec.saved_by or "other"
            self.saved_by[key] = self.saved_by.get(key, 0.0) + rec.saved_usd
        if rec.cache:  # served from a cache: no tokens were billed
            self.cache_hits += 1
            return
        u = rec.usage
        self.input_tokens += u.input_tokens
        self.cached_input_tokens += u.cached_input_tokens
        self.cache_write_tokens += u.cache_write_tokens
        self.output_tokens += u.output_tokens
        if rec.cost_usd is None:  # (branches: cheaper than adding zeros, on every call)
            self.unpriced += 1
        else:
            self.cost_usd += rec.cost_usd
        if rec.estimated:
            self.estimated += 1
        if rec.status != "ok":
            self.errors += 1


class Meter:
    """Counts, prices and records the calls of one scope.

    >>> with meter(tag="demo") as m:   # doctest: +SKIP
    ...     client.chat.completions.create(model="gpt-4o-mini", messages=[...])
    >>> m.totals.cost_usd              # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        tag: str = "",
        budget: Budget | None = None,
        ledger: object | None = None,
        cell: str = "",
        cell_run: int = 0,
        cell_hash: str = "",
        dry_run: bool = False,
        cache: Any = None,
        prompt_cache: str | None = None,
        router: Any = None,
        tiers: Any = None,
        output: Any = None,
        compression: Any = None,
        cascade: Any = None,
        batch: bool = False,
        book: Any = None,
        user: str = "",
        segment: str = "",
        budget_fallback: bool = False,
        workshop: Any = None,
        allow_unpriced: bool = False,
    ) -> None:
        self.tag = tag
        self.book = book  # a policies.budget_book.BudgetBook (limits from a budget file), or None
        self.user, self.segment = user, segment
        self.budget_fallback = budget_fallback  # near a limit, switch to a cheaper model that fits
        self.workshop = workshop  # a workshop.WorkshopBudget (the room's Redis), or None
        self.allow_unpriced = allow_unpriced  # let calls to unpriced models pass hard caps (uncapped)
        self.cache = cache  # a policies.response_cache.ResponseCache, or None
        self.prompt_cache = prompt_cache  # "auto": place Anthropic cache_control breakpoints
        self.requests: list[dict[str, Any]] = []  # recent request bodies, in memory only (for the advisor)
        self.router = router  # a policies.routing Router (with ``tiers``), or None
        self.tiers = tiers
        self.output = output  # policies.output_controls.OutputControls, or None
        self.compression = compression  # policies.compression.CompressionPolicy, or None
        self.cascade = cascade  # policies.cascade.CascadeSettings (with ``tiers``), or None
        self.batch_mode = batch  # defer chat calls to one batch, sent when the meter closes
        self.batch_name = f"{DRY_RUN_PREFIX if dry_run else ''}cell{cell_run}-{int(time.time())}" if batch else ""
        self.deferred: list[tuple[str, str, str, dict[str, Any]]] = []
        self.batch_jobs: list[Any] = []
        self.batch_refusal: Exception | None = None  # the deferred batch did not fit the budgets
        self.budget = budget
        self.cell, self.cell_run, self.cell_hash = cell, cell_run, cell_hash
        self.dry_run = dry_run
        self.totals = Totals()
        self.records: collections.deque[CallRecord] = collections.deque(maxlen=MAX_RECORDS_KEPT)  # the last ones
        self._ledger = ledger
        self._lock = threading.Lock()
        self._listeners: list[Callable[[Meter], None]] = []
        self._reported_failure = False
        self._tokens: list[contextvars.Token[Meter | None]] = []
        self.ended = False  # closed: calls still arriving are stragglers (recorded as late)
        # The meter that was active when this one was entered (a cell, an outer block): its limits still hold
        # for the calls made in here, and its totals count them (a library's own ``with meter()`` inside a
        # capped cell must not escape the cell's cap).
        self.parent: Meter | None = None

    def __enter__(self) -> Meter:
        """Meter the calls made inside the ``with`` block (this thread and the tasks it starts)."""
        from .intercept import install

        install()
        outer = active_meter()
        if outer is not None and outer is not self and self.parent is None:
            if outer.dry_run and not self.dry_run:  # a dry run stays one all the way in: nothing reaches a provider
                self.dry_run = True
                self.batch_name = DRY_RUN_PREFIX + self.batch_name if self.batch_name else ""
            if outer.dry_run == self.dry_run:
                self.parent = outer
        self._tokens.append(enter_scope(self))
        return self

    def __exit__(self, *exc: object) -> None:
        leave_scope(self, self._tokens.pop())
        self.close()
        if self.batch_refusal is not None and exc[0] is None:
            raise self.batch_refusal

    @property
    def ledger(self):  # noqa: ANN201 - a Ledger; imported lazily to keep start-up light
        if self._ledger is None:
            from .session import current_ledger

            self._ledger = current_ledger()
        return self._ledger

    def subscribe(self, listener: Callable[[Meter], None]) -> None:
        """Call ``listener(meter)`` after each recorded call (on the recording thread)."""
        self._listeners.append(listener)

    def saw(self, call: Call) -> None:
        """Keep the last ``MAX_REQUESTS_KEPT`` request bodies in memory, for the prompt-cache advisor."""
        if len(self.requests) < MAX_REQUESTS_KEPT:
            self.requests.append(call.body)

    def before_send(self, call: Call, estimate_input: Callable[[Call], int]) -> None:
        """The budget pre-checks: each budget holds the call's worst case, or the call is refused (and
        whatever was already held for it is released). Every request a policy sends comes through here."""
        budgets = self.budgets
        if not budgets:
            return
        sent = call if call.sent_body is None else Call(call.provider, call.endpoint, call.model, call.sent_body, call.stream)
        worst = worst_case(call.model, sent.body, estimate_input(sent), allow_unpriced=self.allow_unpriced)
        try:
            for budget in budgets:
                call.reservations.append((budget, budget.reserve(call, worst)))
        except BaseException:  # a refusal, or Ctrl-C while a budget waits for its lock: give back what was held
            self.release(call)
            raise

    @property
    def budgets(self) -> list[Any]:
        """The limits this meter's calls are checked against: cell, budget file, workshop, then those of the
        meters it is nested in."""
        own = [b for b in (self.budget, self.book, self.workshop) if b is not None]
        if self.parent is None:
            return own
        mine = [_limit_key(b) for b in own]  # the same room or budget file for the same user holds once, not twice
        return own + [b for b in self.parent.budgets if _limit_key(b) not in mine]

    def release(self, call: Call, cost_usd: float | None = 0.0) -> None:
        """Settle every reservation held for ``call`` at ``cost_usd`` (each on its own: one budget that fails
        does not leave the others held; the first failure is raised after all were tried)."""
        held, call.reservations = call.reservations, []
        self.settle_holds(held, cost_usd)

    def settle_holds(self, held: list[tuple[Any, Any]], cost_usd: float | None) -> None:
        """Settle (budget, hold) pairs at ``cost_usd``, each on its own."""
        failure: Exception | None = None
        for budget, hold in held:
            try:
                budget.settle(hold, cost_usd)
            except Exception as exc:  # noqa: BLE001
                failure = failure or exc
        if failure is not None:
            raise failure

    def charge(self, cost_usd: float | None) -> None:
        """Count spend that no hold of this meter covered (a background Response or batch results queued elsewhere)
        in each of its budgets; never raises."""
        if not cost_usd:
            return
        for budget in self.budgets:
            try:
                budget.charge(cost_usd)
            except Exception as exc:  # noqa: BLE001
                self.report_failure(exc)

    def record(self, rec: CallRecord, call: Call | None = None) -> None:
        """Attribute, persist and count one call. Never raises into the user's code."""
        rec.cell, rec.cell_run, rec.cell_hash = self.cell, self.cell_run, self.cell_hash
        rec.tag = rec.tag or self.tag
        rec.user, rec.segment = rec.user or self.user, rec.segment or self.segment
        if self.dry_run:
            rec.note = ("dry-run (simulated) " + rec.note).strip()
        if self.ended:
            rec.note = ("late: after its cell ended; " + rec.note).strip("; ")
        if "://" in rec.note:
            rec.note = redact(rec.note)
        try:
            self.ledger.record(rec)
        except Exception as exc:  # noqa: BLE001 - a meter failure must not break the user's call
            self.report_failure(exc)
        if call is not None:
            try:
                observe_prompt(rec, call)  # prefix fingerprints for the prompt-cache doctor (in memory)
            except Exception as exc:  # noqa: BLE001
                self.report_failure(exc)
        # the workshop rooms this call counts in: this meter's, or that of a meter it is nested in
        nested = self.workshop is not None or self.parent is not None
        rooms = [b for b in self.budgets if hasattr(b, "count_call")] if nested else ()
        if rec.status != "refused":
            for room in rooms:
                room.count_call()  # sent to the room with the call's settlement: one round trip
        try:
            if call is not None and call.reservations:
                self.release(call, rec.cost_usd)
            for room in rooms:
                room.flush_counts()
        except Exception as exc:  # noqa: BLE001
            self.report_failure(exc)
        self._count(rec)

    def _count(self, rec: CallRecord) -> None:
        """Add a recorded call to this meter's totals and those of the meters it is nested in; tell listeners."""
        with self._lock:
            self.records.append(rec)
            self.totals.add(rec)
        for listener in self._listeners:
            try:
                listener(self)
            except Exception as exc:  # noqa: BLE001
                self.report_failure(exc)
        if self.parent is not None:
            self.parent._count(rec)

    def report_failure(self, exc: BaseException) -> None:
        """Say once that metering failed; the user's call goes on regardless."""
        if not self._reported_failure:
            self._reported_failure = True
            print(redact(tr("llmcost_magic: metering failed ({error}); your calls go on unmetered.",
                            error=f"{type(exc).__name__}: {exc}")), file=sys.stderr)

    def close(self) -> None:
        """Commit this meter's rows to the ledger now (the end of a cell or a ``with`` block), and
        send the calls deferred by ``batch=True`` as batches."""
        from .intercept.open_calls import close_where

        close_where(meter=self)  # responses handed out and never read to their end: recorded as closed
        if self.deferred and not self.batch_jobs and self.batch_refusal is None:
            from .batch import submit_deferred
            from .core.errors import BudgetExceeded

            try:
                self.batch_jobs = submit_deferred(self.deferred, self.batch_name, meter=self)
            except BudgetExceeded as refusal:  # recorded as a refused row; said here, raised by ``with meter()``
                self.batch_refusal = refusal
                print(f"llmcost: {refusal}", file=sys.stderr)
        self.ended = True
        for budget in self.budgets:
            release = getattr(budget, "release_unused", None)
            if release is not None:
                try:
                    release()
                except Exception as exc:  # noqa: BLE001
                    self.report_failure(exc)
        try:
            seal_prompts()  # fingerprint this scope's prompts for the doctor, after its calls are done
        except Exception as exc:  # noqa: BLE001
            self.report_failure(exc)
        try:
            flush = getattr(self.ledger, "flush", None)
            if flush is not None:
                flush()
        except Exception as exc:  # noqa: BLE001
            self.report_failure(exc)

    def summary(self, currency: str = "USD", fx: float = 1.0) -> str:
        """One line: calls, tokens, dollars, cache hits, savings."""
        from .notebook.display import summary_line

        return summary_line(self.totals, currency=currency, fx=fx)


def _limit_key(budget: Any) -> Any:
    """What a budget limits: two objects with the same key (one workshop room and user, one budget file's limits
    for one user) are one limit."""
    return getattr(budget, "limit_key", None) or id(budget)


@contextlib.contextmanager
def meter(*, tag: str = "", budget: float | None = None, ledger: object | None = None,
          dry_run: bool = False, cache: str | None = None, ttl: str | float | None = None,
          threshold: float | None = None, cache_any_temperature: bool = False,
          prompt_cache: str | None = None, route: str | None = None, tiers: Any = None,
          validator: Callable[[str], Any] | None = None, min_confidence: float = 0.7, max_tokens: int | None = None,
          stop: tuple[str, ...] = (), concise: int | None = None, batch: bool = False,
          budgets: Any = None, user: str | None = None, segment: str | None = None,
          budget_fallback: bool = False, workshop: str | None = None,
          workshop_fail_open: bool = False, compress: str | None = None,
          compress_system: bool = True, allow_unpriced: bool = False) -> Iterator[Meter]:
    """Meter every OpenAI / Anthropic call made inside the block (scripts, tests), including calls
    from threads it starts (when the block is on the main thread) and from asyncio tasks.

    ``dry_run=True`` answers the block's calls from the sandbox instead of the provider: what
    would this cost, sending nothing out. ``cache="exact"`` or ``"semantic"`` serves repeated
    (or same-meaning) deterministic requests from the session's cache store. ``route`` sends each
    call to a model tier ("rules", "embedding", "classifier", "probe", "cascade" or "cascade+probe" with an optional
    ``validator(text)``); ``max_tokens`` / ``stop`` / ``concise`` are output controls;
    ``compress="selective:0.5"`` compresses each prompt (``compress_system=False`` spares system prompts).
    Under any limit, a call to a model with no known price is refused unless ``allow_unpriced=True``.

    >>> with meter(tag="nightly", budget=1.0) as m:  # doctest: +SKIP
    ...     run_my_pipeline()
    >>> print(m.summary())                           # doctest: +SKIP
    """
    from .settings import Settings, policies

    settings = Settings(
        tag=tag, budget=budget, budget_name="meter budget", dry_run=dry_run, cache=cache, ttl=ttl,
        threshold=threshold, cache_any_temperature=cache_any_temperature, prompt_cache=prompt_cache, route=route,
        tiers=tiers, validator=validator, min_confidence=min_confidence, max_tokens=max_tokens, stop=tuple(stop),
        concise=concise, batch=batch, budgets=budgets, user=user or default_user(), segment=segment or "",
        budget_fallback=budget_fallback, allow_unpriced=allow_unpriced, workshop=workshop,
        workshop_fail_open=workshop_fail_open, compress=compress, compress_system=compress_system,
    )
    with Meter(**policies(settings, ledger=ledger)) as m:
        yield m
