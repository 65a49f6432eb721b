"""``%%llmcost`` and ``%llmcost``: option handling, cell events and display, nothing else.

A ``%%llmcost`` cell is rewritten by an input transformer: its first line becomes a single call that
opens the cell's meter, and the body stays top-level code, so ``await``, the display of the last
expression and traceback line numbers behave exactly as without the magic. ``post_run_cell``
closes the meter, also when the cell raises or is interrupted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from traitlets import Bool, Float, TraitError, Unicode, observe, validate

from .. import intercept
from ..core.errors import LLMCostError
from ..metering import Meter, default_user, set_cell_meter
from ..core.messages import in_language, language, language_code, plural, set_language, tr
from .options import full_help, parse_cell_options
from ..core.redaction import redact
from ..session import current_ledger, use_ledger
from ..settings import Settings, policies

_MARK = "%%llmcost"
_BEGIN = "__begin__"


def transform_cell(lines: list[str]) -> list[str]:
    """Input transformer: ``%%llmcost ARGS`` -> one line that opens the cell's meter."""
    if not lines or not lines[0].startswith(_MARK) or lines[0][len(_MARK):len(_MARK) + 1] not in ("", " ", "\n", "\t"):
        return lines
    args = lines[0][len(_MARK):].strip()
    return [f"get_ipython().run_line_magic('llmcost', {_BEGIN + ' ' + args!r})\n", *lines[1:]]


@dataclass
class _OpenCell:
    meter: Meter
    view: Any
    depth: int
    quiet: bool


@magics_class
class LLMCost(Magics):
    """Meter the OpenAI / Anthropic calls of a cell. Every option is also a ``%config LLMCost.*`` default."""

    tag = Unicode("", help="Tag recorded on every metered call unless a cell sets --tag.").tag(config=True)
    quiet = Bool(False, help="Hide the live meter and the summary.").tag(config=True)
    currency = Unicode("USD", help="Currency to show dollars in (the ledger stays in USD).").tag(config=True)
    fx = Float(1.0, help="Units of `currency` per US dollar.").tag(config=True)
    budget = Float(None, allow_none=True, help="Default hard cap in USD for every metered cell.").tag(config=True)
    ledger_path = Unicode(None, allow_none=True, help="SQLite ledger file (':memory:' for none).").tag(config=True)
    price_file = Unicode(None, allow_none=True, help="TOML/YAML file of model prices to add or override.").tag(config=True)
    min_interval = Float(0.1, help="Seconds between live meter updates.").tag(config=True)
    cache = Unicode(None, allow_none=True, help="Cache every metered cell: 'exact' or 'semantic'.").tag(config=True)
    cache_store = Unicode(None, allow_none=True, help="Cache store: a SQLite path, ':memory:', or redis://host:port/db.").tag(config=True)
    cache_ttl_file = Unicode(None, allow_none=True, help="YAML/TOML table of tag: TTL (e.g. small_talk: 0).").tag(config=True)
    budget_file = Unicode(None, allow_none=True, help="YAML/TOML budgets: default and per-segment limits.").tag(config=True)
    user = Unicode(None, allow_none=True, help="Who calls are attributed to (default: $LLMCOST_USER or the login).").tag(config=True)
    segment = Unicode(None, allow_none=True, help="The budget file's segment whose limits apply.").tag(config=True)
    workshop = Unicode(None, allow_none=True, help="The room's Redis (redis://...): shared budgets, totals and cache.").tag(config=True)
    workshop_fail_open = Bool(False, help="If the workshop's Redis is unreachable, let calls go on unchecked.").tag(config=True)
    budget_fallback = Bool(False, help="Near a limit, switch a call to a cheaper model that fits instead of refusing.").tag(config=True)
    allow_unpriced = Bool(False, help="Let calls to models with no known price pass hard caps, uncapped.").tag(config=True)
    route = Unicode(None, allow_none=True, help="Route every metered cell: rules, embedding, classifier, probe, cascade or cascade+probe.").tag(config=True)
    tiers_file = Unicode(None, allow_none=True, help="YAML/TOML file of model tiers (default: the shipped tiers).").tag(config=True)
    min_confidence = Float(0.7, help="The cascade escalates below this stated confidence.").tag(config=True)
    compress = Unicode(None, allow_none=True, help="Compress every metered cell's prompts: METHOD[:RATE], e.g. 'selective:0.5'.").tag(config=True)
    compress_system = Bool(True, help="Let compression rewrite system prompts too.").tag(config=True)
    language = Unicode(None, allow_none=True, help="Language of summaries, labels, table headers and refusals: 'en' "
                       "or 'ko' (default: $LLMCOST_LANG, else 'en').").tag(config=True)

    @classmethod
    def class_get_trait_help(cls, trait: Any, inst: Any = None, helptext: str | None = None) -> str:
        """``%config LLMCost`` lists each setting with its help, in the current language."""
        if helptext is None and language() == "ko":
            from ..core.messages_ko_help import CONFIG_HELP_KO

            helptext = CONFIG_HELP_KO.get(trait.help)
        return super().class_get_trait_help(trait, inst, helptext)

    def __init__(self, shell: Any, **kwargs: Any) -> None:
        super().__init__(shell, **kwargs)
        self._open: _OpenCell | None = None
        self._depth = 0
        self._cell_info: dict[int, tuple[str, int, str]] = {}
        self._auto_tag: str | None = None
        self._runs = 0  # cell runs seen this session: a run's identity even where In[n] repeats
        self.last: Meter | None = None

    @validate("fx")
    def _check_fx(self, proposal: Any) -> float:
        if not proposal["value"] > 0:
            raise TraitError(tr("LLMCost.fx must be > 0 (units of {currency} per USD), got {value}", currency=self.currency,
                                value=proposal["value"]))
        return proposal["value"]

    @validate("compress")
    def _check_compress(self, proposal: Any) -> str | None:
        if proposal["value"]:
            from ..compression import CompressionError, parse_spec

            try:
                parse_spec(proposal["value"])
            except CompressionError as exc:
                raise TraitError(f"LLMCost.compress: {exc}") from None
        return proposal["value"]

    @validate("budget")
    def _check_budget(self, proposal: Any) -> float | None:
        value = proposal["value"]
        if value is not None and not value > 0:
            raise TraitError(tr("LLMCost.budget must be > 0 dollars (or None for no cap), got {value}", value=value))
        return value

    @validate("language")
    def _check_language(self, proposal: Any) -> str | None:
        try:
            return None if proposal["value"] is None else language_code(proposal["value"])
        except ValueError as exc:
            raise TraitError(f"LLMCost.language: {exc}") from None

    @observe("language")
    def _language_changed(self, change: Any) -> None:
        if change["new"] is not None:
            set_language(change["new"])

    @observe("ledger_path")
    def _ledger_changed(self, change: Any) -> None:
        use_ledger(change["new"])

    @observe("cache_store")
    def _cache_store_changed(self, change: Any) -> None:
        from ..session import use_cache_store

        use_cache_store(change["new"])

    @observe("price_file")
    def _prices_changed(self, change: Any) -> None:
        if change["new"]:
            from ..core.pricing import load_price_overrides

            load_price_overrides(change["new"])

    # -- cell events -------------------------------------------------------------------------

    def pre_run_cell(self, info: Any) -> None:
        self._depth += 1
        raw = getattr(info, "raw_cell", "") or ""
        cell_id = getattr(info, "cell_id", None) or f"In[{getattr(self.shell, 'execution_count', 0)}]"
        self._runs += 1
        self._cell_info[self._depth] = (cell_id, self._runs, hashlib.sha1(raw.encode()).hexdigest()[:12])
        if self._auto_tag is not None and self._open is None and not raw.lstrip().startswith("%llmcost") \
                and not raw.startswith(_MARK):
            self._begin(parse_cell_options(""), tag=self._auto_tag, lazy_view=True)

    def post_run_cell(self, result: Any) -> None:
        if self._open is not None and self._open.depth == self._depth:
            self._end()
        self._cell_info.pop(self._depth, None)
        self._depth = max(self._depth - 1, 0)

    # -- opening and closing a cell's meter ----------------------------------------------------

    def _begin(self, options: Any, *, tag: str | None = None, lazy_view: bool = False) -> Meter:
        if self._open is not None:
            self._end()
        intercept.install()
        cell, run, cell_hash = self._cell_info.get(self._depth, ("", 0, ""))
        limit = options.budget if options.budget is not None else self.budget
        user = self.user or default_user()
        settings = Settings(
            tag=tag if tag is not None else (options.tag or self.tag), budget=limit, dry_run=options.dry_run,
            cache=options.cache or self.cache, ttl=options.ttl, ttl_file=self.cache_ttl_file,
            threshold=options.threshold, context=options.context or "",
            cache_any_temperature=options.cache_any_temperature, cache_tool_calls=options.cache_tool_calls,
            prompt_cache=options.prompt_cache, route=options.route or self.route, tiers=self.tiers_file,
            min_confidence=self.min_confidence, max_tokens=options.max_tokens, stop=tuple(options.stop or ()),
            concise=options.concise, batch=options.batch, budgets=self.budget_file or None, user=user,
            segment=self.segment or "", budget_fallback=options.budget_fallback or self.budget_fallback,
            allow_unpriced=self.allow_unpriced, workshop=self.workshop or None,
            workshop_fail_open=self.workshop_fail_open, compress=options.compress or self.compress,
            compress_system=self.compress_system and not options.compress_keep_system,
        )
        try:
            kwargs = policies(settings, ledger=current_ledger(), workshop_budget=self._workshop_budget())
        except (LLMCostError, ValueError) as exc:  # a bad setting or file: named, with its fix
            raise UsageError(f"llmcost: {redact(str(exc))}") from None
        m = Meter(**kwargs, cell=cell, cell_run=run, cell_hash=cell_hash)
        quiet = options.quiet or self.quiet
        view = None
        if not quiet and getattr(self.shell, "kernel", None) is not None:
            from .widgets.live_meter import LiveMeterView

            view = LiveMeterView(m, label=self._label(m, options), currency=options.currency or self.currency,
                                 fx=options.fx or self.fx, note=self._previous_run_note(m),
                                 min_interval=self.min_interval, show_now=not lazy_view)
        set_cell_meter(m)
        self._open = _OpenCell(m, view, self._depth, quiet)
        return m

    def _workshop_budget(self) -> Any:
        if not self.workshop:
            return None
        from ..workshop import WorkshopBudget

        key = (self.workshop, self.user or default_user(), self.workshop_fail_open)
        if getattr(self, "_workshop_key", None) != key:  # one connection per setting, not per cell
            try:
                self._workshop = WorkshopBudget(self.workshop, key[1], fail_open=self.workshop_fail_open)
            except LLMCostError as exc:
                raise UsageError(f"llmcost: {redact(str(exc))}") from None
            self._workshop_key = key
        return self._workshop

    def _end(self) -> None:
        opened, self._open = self._open, None
        if opened is None:
            return
        set_cell_meter(None)
        opened.meter.close()
        self.last = opened.meter
        for job in opened.meter.batch_jobs:
            print(tr("llmcost: {n} {model} calls deferred to batch {name!r} ({provider}, {ids}); collect with "
                     "llmcost_magic.batch.results()", n=len(job.custom_ids), model=job.model, name=job.name,
                     provider=job.provider, ids=", ".join(job.provider_ids)))
        if opened.view is not None:
            opened.view.close()
        elif not opened.quiet and (opened.meter.totals.calls or opened.meter.totals.refused):
            print("llmcost:", opened.meter.summary(self.currency, self.fx))

    def _label(self, m: Meter, options: Any) -> str:
        parts = [f"[{m.tag}]" if m.tag else ""]
        if m.budget is not None:
            parts.append(tr("budget ${limit:g}", limit=m.budget.limit_usd))
        if options.dry_run:
            parts.append(tr("dry run on the sandbox (simulated)"))
        if options.batch:
            parts.append(tr("calls deferred to a batch"))
        if m.cache is not None:
            parts.append(tr("{mode} cache", mode=m.cache.settings.mode))
        if m.prompt_cache:
            parts.append(tr("prompt caching: auto"))
        if m.router is not None or m.cascade is not None:
            parts.append(tr("route: {route}", route=options.route or self.route))
        return " ".join(p for p in parts if p)

    def _previous_run_note(self, m: Meter) -> str:
        if not m.cell_hash:
            return ""
        try:
            previous = current_ledger().last_cell_run(m.cell_hash, (current_ledger().session, m.cell_run))
        except Exception:  # noqa: BLE001 - a note is not worth failing a cell for
            return ""
        if previous is None:
            return ""
        cost, calls = previous
        from .display import money

        return tr("previous run of this cell: {cost} for {n} call{s}", cost=money(cost, self.currency, self.fx), n=calls,
                  s=plural(calls))

    # -- the magic -------------------------------------------------------------------------------

    @line_cell_magic
    def llmcost(self, line: str, cell: str | None = None) -> Any:
        """Meter a cell (``%%llmcost [--tag T] [--budget USD] [--quiet] [--currency CUR --fx RATE]``),
        or run a command: ``%llmcost report|prices|on|off|export`` (see the README)."""
        if cell is not None:  # reached only when the transformer did not run (run_cell_magic)
            self._begin(parse_cell_options(line))
            try:
                return self.shell.run_cell(cell).result
            finally:
                self._end()
        if line.startswith(_BEGIN):
            self._begin(parse_cell_options(line[len(_BEGIN):]))
            return None
        return self._command(line)

    def _command(self, line: str) -> Any:
        from .line_commands import run

        return run(self, line)


with in_language("en"):  # the docstring stays English whatever the language at import
    LLMCost.llmcost.__doc__ = f"{LLMCost.llmcost.__doc__}\n\n{full_help()}"  # %llmcost? lists every option


def _help() -> str:
    """What ``%llmcost?`` / ``%%llmcost?`` show, in the current language (IPython's inspector asks ``getdoc()``
    before the docstring)."""
    if language() == "en":
        return LLMCost.llmcost.__doc__ or ""
    return tr("Meter a cell (``%%llmcost [--tag T] [--budget USD] [--quiet] [--currency CUR --fx RATE]``),\nor run a "
              "command: ``%llmcost report|prices|on|off|export`` (see the README).") + f"\n\n{full_help()}"


LLMCost.llmcost.getdoc = _help  # type: ignore[attr-defined]


_loaded: dict[int, LLMCost] = {}


def load(ip: Any) -> LLMCost:
    """Register the magics, the transformer and the cell events (once per shell)."""
    if id(ip) in _loaded:
        return _loaded[id(ip)]
    magics = LLMCost(ip)
    ip.register_magics(magics)
    ip.configurables.append(magics)
    ip.input_transformers_cleanup.append(transform_cell)
    ip.events.register("pre_run_cell", magics.pre_run_cell)
    ip.events.register("post_run_cell", magics.post_run_cell)
    intercept.install()
    _loaded[id(ip)] = magics
    return magics


def unload(ip: Any) -> None:
    """Undo :func:`load`: events, transformer, magics, and the seam."""
    magics = _loaded.pop(id(ip), None)
    if magics is None:
        return
    magics._end()
    ip.events.unregister("pre_run_cell", magics.pre_run_cell)
    ip.events.unregister("post_run_cell", magics.post_run_cell)
    if transform_cell in ip.input_transformers_cleanup:
        ip.input_transformers_cleanup.remove(transform_cell)
    ip.magics_manager.magics["line"].pop("llmcost", None)
    ip.magics_manager.magics["cell"].pop("llmcost", None)
    if magics in ip.configurables:
        ip.configurables.remove(magics)
    intercept.uninstall()
