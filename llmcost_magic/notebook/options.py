"""Parsing of ``%%llmcost`` options and ``%llmcost`` sub-commands, with errors that say the fix."""

from __future__ import annotations

import argparse
import importlib
import shlex
from dataclasses import dataclass

from IPython.core.error import UsageError

from ..core.messages import tr
from .option_parser import Parser

CELL_USAGE = ("%%llmcost [--tag T] [--budget USD] [--quiet] [--currency CUR --fx RATE] [--dry-run] "
              "[--cache exact|semantic [--ttl 1h] [--threshold 0.70] [--context KEY] [--cache-any-temperature] "
              "[--cache-tool-calls]] [--prompt-cache auto] [--route rules|embedding|classifier|probe|cascade|cascade+probe|PLUGIN] "
              "[--max-tokens N] [--stop TEXT ...] [--concise WORDS] [--compress METHOD[:RATE] [--compress-keep-system]] "
              "[--batch] [--budget-fallback]")
LINE_USAGE = (
    "%llmcost report [--by cell|model|vendor|tag|endpoint|max-tokens] [--all]  |  %llmcost prices MODEL [MODEL ...]|update|check  |  "
    "%llmcost on [--tag T] | off  |  %llmcost export PATH.csv|PATH.parquet [--all]  |  "
    "%llmcost dashboard [--all] [--export report.html|report.png]  |  "
    "%llmcost cache stats|audit|advise|clear [--tag T] [--model M]|reject [KEY]|confirm [ID]|doctor [--cell N|--all]  |  "
    "%llmcost whatif [--cell|--tag T|--all] [--models A,B] [--batch] [--prompt-cache-hit H] [--compress R] [--cache-hit C]"
)


def split_words(line: str) -> list[str]:
    """Shell words of a magic's line, without a trailing ``# comment`` (an unquoted ``#`` that starts a word).

    IPython hands a line magic its comment too: ``%llmcost report --by model  # by model`` must still parse.
    A ``#`` inside a word (``--tag a#b``), escaped or quoted stays. shlex's own ``comments=True`` would cut
    ``a#b``, so the comment is found here, with POSIX shell quoting rules.
    """
    quote, escaped, word_start = "", False, True
    for i, char in enumerate(line):
        literal = escaped or bool(quote)
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and word_start:
            line = line[:i]
            break
        word_start = not literal and char.isspace()
    return shlex.split(line)


@dataclass(kw_only=True)
class CellOptions:
    """A ``%%llmcost`` line's options, one field per option (named as its argparse dest), built by keyword only."""

    tag: str = ""
    budget: float | None = None
    quiet: bool = False
    currency: str | None = None
    fx: float | None = None
    dry_run: bool = False
    cache: str | None = None
    ttl: str | None = None
    threshold: float | None = None
    context: str = ""
    cache_any_temperature: bool = False
    cache_tool_calls: bool = False
    prompt_cache: str | None = None
    route: str | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    concise: int | None = None
    batch: bool = False
    budget_fallback: bool = False
    compress: str | None = None
    compress_keep_system: bool = False


def _positive_float(name: str):  # noqa: ANN202
    def parse(text: str) -> float:
        try:
            value = float(text.lstrip("$"))
        except ValueError:
            raise argparse.ArgumentTypeError(tr("{name} must be a number, got {text!r} (e.g. {name} 0.50)", name=name,
                                                text=text)) from None
        if not value > 0:
            raise argparse.ArgumentTypeError(tr("{name} must be greater than 0, got {text!r} (e.g. {name} 0.50)",
                                                name=name, text=text))
        return value

    return parse


def _cell_parser() -> Parser:
    p = Parser(prog="%%llmcost", usage_hint=CELL_USAGE)
    p.add_argument("--tag", default="", help=tr("label recorded on every call of the cell"))
    p.add_argument("--budget", type=_positive_float("--budget"), metavar="USD",
                   help=tr("hard cap: a call whose worst case does not fit is refused before it is sent"))
    p.add_argument("--quiet", action="store_true", help=tr("no live meter, no summary"))
    p.add_argument("--currency", type=str.upper, help=tr("show amounts in this currency (with --fx)"))
    p.add_argument("--fx", type=_positive_float("--fx"), metavar="RATE", help=tr("units of --currency per US dollar"))
    p.add_argument("--dry-run", action="store_true", help=tr("send the calls to the offline sandbox: what would it cost?"))
    p.add_argument("--cache", choices=["exact", "semantic"], help=tr("answer repeated (or same-meaning) requests for $0"))
    p.add_argument("--ttl", type=_duration, help=tr("how long cached answers live: 90s, 30m, 24h, 7d, 0, forever"))
    p.add_argument("--threshold", type=_threshold, help=tr("semantic cache similarity threshold (default 0.70, with a guard)"))
    p.add_argument("--context", default="", metavar="KEY", help=tr("a cache hit must share this key too"))
    p.add_argument("--cache-any-temperature", action="store_true", help=tr("also cache non-deterministic requests"))
    p.add_argument("--cache-tool-calls", action="store_true", help=tr("also cache answers that are only tool calls"))
    p.add_argument("--prompt-cache", choices=["auto"], help=tr("place provider prompt-cache breakpoints on the stable prefix"))
    p.add_argument("--route", type=_route, metavar="ROUTER",
                   help=tr("send each call to the cheapest model tier that fits: rules, embedding, classifier, probe, "
                           "cascade, cascade+probe or a plugin's router"))
    p.add_argument("--max-tokens", type=_positive_int("--max-tokens"), metavar="N", help=tr("max_tokens for calls that set none"))
    p.add_argument("--stop", action="append", default=[], type=_escapes, metavar="TEXT",
                   help=tr("stop sequence for calls that set none (repeatable)"))
    p.add_argument("--concise", type=_positive_int("--concise"), metavar="WORDS", help=tr("ask for answers of at most WORDS words"))
    p.add_argument("--batch", action="store_true", help=tr("defer the cell's chat calls to the Batch API (half price)"))
    p.add_argument("--budget-fallback", action="store_true", help=tr("near a limit, use a cheaper model that fits instead of refusing"))
    p.add_argument("--compress", type=_compress_spec, metavar="METHOD[:RATE]", help=tr("compress each prompt before sending"))
    p.add_argument("--compress-keep-system", action="store_true", help=tr("with --compress: leave system prompts as written"))
    return p


def _escapes(text: str) -> str:
    """A magic line cannot hold a newline: ``--stop "\\n\\n"`` means two newlines (also ``\\t``)."""
    return text.replace("\\n", "\n").replace("\\t", "\t")


def _positive_int(name: str):  # noqa: ANN202
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(tr("{name} must be a whole number, got {text!r}", name=name, text=text)) from None
        if value < 1:
            raise argparse.ArgumentTypeError(tr("{name} must be at least 1, got {text!r}", name=name, text=text))
        return value

    return parse


def _checked_by(module: str, function: str):  # noqa: ANN202
    """An argparse type that keeps the text once ``module.function(text)`` accepts it (its ValueError
    message becomes the usage error); the module is imported only when the option is used."""
    def parse(text: str) -> str:
        try:
            getattr(importlib.import_module(module), function)(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text

    return parse


_duration = _checked_by("llmcost_magic.policies.response_cache", "parse_duration")
_compress_spec = _checked_by("llmcost_magic.compression.methods", "parse_spec")
_route = _checked_by("llmcost_magic.policies.routing", "check_router_name")


def _threshold(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(tr("--threshold must be a number in (0, 1], got {text!r} (e.g. 0.70)",
                                            text=text)) from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(tr("--threshold must be in (0, 1], got {text!r} (e.g. 0.70)", text=text))
    return value


def parse_cell_options(line: str) -> CellOptions:
    """``--tag demo --budget 0.5`` -> CellOptions; malformed options raise UsageError with usage."""
    try:
        words = split_words(line)
    except ValueError as exc:
        raise UsageError(tr("llmcost: cannot parse options {line!r}: {error}. Usage: {usage}", line=line, error=exc,
                            usage=CELL_USAGE)) from None
    ns = _cell_parser().parse_args(words)
    if ns.currency and ns.currency != "USD" and ns.fx is None:
        raise UsageError(tr("llmcost: --currency {currency} needs an exchange rate: add --fx UNITS_PER_USD "
                            "(e.g. --currency KRW --fx 1350).", currency=ns.currency))
    cache_only = [name for name in ("ttl", "threshold", "context") if getattr(ns, name)]
    if cache_only and not ns.cache:
        raise UsageError(tr("llmcost: --{option} only applies with --cache exact|semantic. Usage: {usage}",
                            option=cache_only[0], usage=CELL_USAGE))
    if ns.threshold is not None and ns.cache != "semantic":
        raise UsageError(tr("llmcost: --threshold only applies with --cache semantic."))
    if ns.compress_keep_system and not ns.compress:
        raise UsageError(tr("llmcost: --compress-keep-system only applies with --compress METHOD[:RATE]."))
    return CellOptions(**{**vars(ns), "stop": tuple(ns.stop)})


def parse_line_command(line: str) -> argparse.Namespace:
    """``report --by model`` / ``prices gpt-4o`` / ``on`` / ``off`` / ``export x.csv``."""
    p = Parser(prog="%llmcost", usage_hint=LINE_USAGE)
    sub = p.add_subparsers(dest="command", parser_class=Parser)
    r = sub.add_parser("report", usage_hint=LINE_USAGE)
    r.add_argument("--by", default="cell", choices=["cell", "model", "vendor", "tag", "endpoint", "max-tokens"])
    r.add_argument("--all", action="store_true")
    pr = sub.add_parser("prices", usage_hint=LINE_USAGE)
    pr.add_argument("models", nargs="+")
    on = sub.add_parser("on", usage_hint=LINE_USAGE)
    on.add_argument("--tag", default="")
    sub.add_parser("off", usage_hint=LINE_USAGE)
    ex = sub.add_parser("export", usage_hint=LINE_USAGE)
    ex.add_argument("path")
    ex.add_argument("--all", action="store_true")
    da = sub.add_parser("dashboard", usage_hint=LINE_USAGE)
    da.add_argument("--all", action="store_true")
    da.add_argument("--export")
    wi = sub.add_parser("whatif", usage_hint=LINE_USAGE)
    wi.add_argument("--tag")
    wi.add_argument("--cell", action="store_true", help=tr("the last metered cell"))
    wi.add_argument("--all", action="store_true")
    wi.add_argument("--models", type=lambda t: [m for m in t.split(",") if m], default=[])
    wi.add_argument("--batch", action="store_true")
    wi.add_argument("--prompt-cache-hit", type=float)
    wi.add_argument("--compress", type=float, dest="compress_to")
    wi.add_argument("--cache-hit", type=float)
    ca = sub.add_parser("cache", usage_hint=LINE_USAGE)
    ca.add_argument("action", choices=["stats", "audit", "clear", "reject", "confirm", "advise", "doctor"])
    ca.add_argument("key", nargs="?")
    ca.add_argument("--cell", type=int, help=tr("doctor: that cell run (default: the last metered cell)"))
    ca.add_argument("--all", action="store_true", help=tr("doctor: every call of the session"))
    ca.add_argument("--tag")
    ca.add_argument("--model")
    try:
        words = split_words(line)
    except ValueError as exc:
        raise UsageError(tr("llmcost: cannot parse {line!r}: {error}. Usage: {usage}", line=line, error=exc,
                            usage=LINE_USAGE)) from None
    if not words:
        raise UsageError(tr("llmcost: say what to do. Usage: {usage}", usage=LINE_USAGE))
    return p.parse_args(words)


def full_help() -> str:
    """Every ``%%llmcost`` option with its meaning, and every ``%llmcost`` command (shown by ``%llmcost?``)."""
    commands = LINE_USAGE.replace("  |  ", "\n  ")
    return f"{_cell_parser().format_help()}\n{tr('commands:')}\n  {commands}\n"
