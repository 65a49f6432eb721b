"""The ``%llmcost`` line commands (report, prices, on/off, export, cache, whatif, dashboard), one function each.

Each takes the :class:`~llmcost_magic.notebook.magics.LLMCost` instance (its settings and last cell) and the parsed
arguments; errors a user can fix are ``UsageError``s that name the fix.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError

from ..core.messages import labelled, plural, tr
from .options import full_help, parse_line_command
from ..session import current_ledger


def run(magic: Any, line: str) -> Any:
    """Parse and run one ``%llmcost`` command line (``--help``, ``-h`` or ``help``: print every option and command)."""
    if line.strip() in ("--help", "-h", "help"):
        print(full_help())
        return None
    ns = parse_line_command(line)
    command = COMMANDS.get(ns.command)
    if command is None:
        raise UsageError(tr("llmcost: unknown command {line!r}", line=line))
    return labelled(command(magic, ns))  # under "ko" a table shows Korean headers; its columns stay as they are


def _session_calls(ns: Any) -> Any:
    ledger = current_ledger()
    return ledger.dataframe(session=None if getattr(ns, "all", False) else ledger.session)


def report(magic: Any, ns: Any) -> Any:
    from ..bookkeeping.report import cost_report, max_tokens_report

    calls = _session_calls(ns)
    return max_tokens_report(calls) if ns.by == "max-tokens" else cost_report(calls, by=ns.by)


def prices(magic: Any, ns: Any) -> Any:
    if ns.models[:1] in (["update"], ["check"]):
        from ..core.price_updates import prices_command

        return prices_command(ns.models[0], current_ledger().dataframe())
    from ..core.pricing import UnknownModelError
    from ..bookkeeping.report import price_table

    try:
        return price_table(ns.models)
    except UnknownModelError as exc:
        raise UsageError(str(exc)) from None


def on(magic: Any, ns: Any) -> None:
    magic._auto_tag = ns.tag or magic.tag
    print(tr("llmcost: metering every cell of this session (%llmcost off to stop)."))


def off(magic: Any, ns: Any) -> None:
    magic._auto_tag = None
    if magic._open is not None and magic._open.depth == magic._depth:
        magic._end()
    print(tr("llmcost: automatic metering is off."))


def export(magic: Any, ns: Any) -> str:
    ledger = current_ledger()
    df = ledger.dataframe(session=None if ns.all else ledger.session)
    target = Path(ns.path).expanduser()
    if target.suffix == ".csv":
        df.to_csv(target, index=False)
    elif target.suffix == ".parquet":
        try:
            df.to_parquet(target, index=False)
        except ImportError:
            raise UsageError(tr("llmcost: Parquet export needs pyarrow: pip install 'llmcost-magic[parquet]'")) from None
    else:
        raise UsageError(tr("llmcost: export to .csv or .parquet, got {name!r}", name=target.name))
    print(tr("llmcost: wrote {n} calls to {target}", n=len(df), target=target))
    return str(target)


def whatif(magic: Any, ns: Any) -> Any:
    from ..core.pricing import UnknownModelError
    from ..bookkeeping.repricing import whatif as reprice

    ledger = current_ledger()
    if ns.cell:
        if magic.last is None:
            raise UsageError(tr("llmcost: no metered cell yet for --cell."))
        calls = ledger.dataframe(cell=magic.last.cell_hash, session=ledger.session)
    else:
        calls = ledger.dataframe(tag=ns.tag, session=None if ns.all else ledger.session)
    if calls.empty:
        raise UsageError(tr("llmcost: no recorded calls to re-price for that selection."))
    try:
        return labelled(reprice(calls, models=ns.models, batch=ns.batch, prompt_cache_hit=ns.prompt_cache_hit,
                                compress_to=ns.compress_to, cache_hit=ns.cache_hit), rows=True)
    except (UnknownModelError, ValueError) as exc:
        raise UsageError(f"llmcost: {exc}") from None


def dashboard(magic: Any, ns: Any) -> Any:
    from .widgets.dashboard import Dashboard

    calls = _session_calls(ns)
    if calls.empty:
        raise UsageError(tr("llmcost: no recorded calls yet to show (add --all for every session)."))
    board = Dashboard(calls)
    if ns.export:
        try:
            print(tr("llmcost: dashboard saved to {path}", path=board.export(ns.export)))
        except ValueError as exc:
            raise UsageError(f"llmcost: {exc}") from None
    return board


def cache(magic: Any, ns: Any) -> Any:
    from .. import cache_commands

    workshop = magic.workshop
    if ns.action == "stats":
        return cache_commands.cache_stats(workshop=workshop)
    if ns.action == "audit":
        return cache_commands.semantic_audit(workshop=workshop)
    if ns.action == "doctor":
        from ..policies.prompt_cache_doctor import prompt_cache_doctor

        last = magic.last.cell_run if magic.last is not None else None
        return prompt_cache_doctor(None if ns.all else (ns.cell if ns.cell is not None else last))
    if ns.action == "advise":
        from ..policies.prompt_cache import advise_by_model

        if magic.last is None or not magic.last.requests:
            raise UsageError(tr("llmcost: run a metered cell first; %llmcost cache advise looks at its calls."))
        return advise_by_model(magic.last.requests)
    if ns.action == "clear":
        from ..metering import default_user

        n = cache_commands.clear_cache(tag=ns.tag, model=ns.model, workshop=workshop,
                                       user=(magic.user or default_user()) if workshop else None)
        print(tr("llmcost: removed {n} cached answer{s}.", n=n, s=plural(n)))
        return None
    try:
        if ns.action == "confirm":
            key = cache_commands.confirm_answer(ns.key, workshop=workshop)
            print(tr("llmcost: confirmed the semantic hit on {key}… (its threshold may come down)", key=key[:12]))
            return None
        key = cache_commands.reject_answer(ns.key, workshop=workshop)
    except ValueError as exc:
        raise UsageError(f"llmcost: {exc}") from None
    print(f"llmcost: {cache_commands.last_rejection()} {key[:12]}…")
    return None


COMMANDS: dict[str, Callable[[Any, Any], Any]] = {
    "report": report, "prices": prices, "on": on, "off": off, "export": export, "cache": cache,
    "whatif": whatif, "dashboard": dashboard,
}
