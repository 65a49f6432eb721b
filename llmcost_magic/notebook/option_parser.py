"""The argparse parser of ``%%llmcost`` and ``%llmcost``, with argparse's own phrases in the reader's language.

argparse builds its phrases with ``gettext`` bound at its import; switching that hook (or argparse's module-level ``_``)
would change every parser in the process. So this subclass translates what reaches the user from its own parsers:
the help's usage prefix and group titles, and error messages, which arrive as argparse's English and are matched
against argparse's msgids (the keys of ``ARGPARSE_KO``) and written again in Korean. Hand-written: no library
translates one parser's argparse messages. Under "en" nothing is changed.
"""

from __future__ import annotations

import argparse
import functools
import re
import unicodedata
from typing import Any

from IPython.core.error import UsageError

from ..core.messages import language, tr
from ..core.messages_ko_argparse import ARGPARSE_KO

__all__ = ["Parser", "korean_error", "phrase"]

_FIELD = re.compile(r"%\((\w+)\)[sr]|%[sr]")


def phrase(msgid: str) -> str:
    """argparse's phrase ``msgid`` in the current language."""
    return ARGPARSE_KO.get(msgid, msgid) if language() == "ko" else msgid


def _pattern(msgid: str) -> re.Pattern[str]:
    """A regex matching ``msgid`` once argparse has filled it: each field a named group (``_0`` for ``%s``)."""
    out, pos, count = [], 0, 0
    for field in _FIELD.finditer(msgid):
        out.append(re.escape(msgid[pos:field.start()]))
        name = field.group(1)
        if name is None:
            name, count = f"_{count}", count + 1
        out.append(f"(?P<{name}>.+?)")
        pos = field.end()
    return re.compile("".join(out) + re.escape(msgid[pos:]) + r"\Z", re.S)


@functools.cache
def _patterns() -> list[tuple[re.Pattern[str], str]]:
    """The msgids with fields, most literal text first (so "expected %s argument" never shadows a longer phrase)."""
    with_fields = [m for m in ARGPARSE_KO if _FIELD.search(m)]
    with_fields.sort(key=lambda m: -len(_FIELD.sub("", m)))
    return [(_pattern(m), ARGPARSE_KO[m]) for m in with_fields]


def korean_error(message: str) -> str:
    """argparse's English error ``message`` in Korean (an argument's own message too); unknown text unchanged."""
    if message in ARGPARSE_KO:
        return ARGPARSE_KO[message]
    for pattern, korean in _patterns():
        found = pattern.match(message)
        if found is None:
            continue
        values = found.groupdict()
        if "message" in values:
            values["message"] = korean_error(values["message"])
        positional = iter(range(len(values)))
        return _FIELD.sub(lambda f: values[f.group(1) or f"_{next(positional)}"], korean)
    return message


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter with a translated "usage:" and, under "ko", lines wrapped by display width (a Hangul
    syllable takes two columns)."""

    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
        if prefix is None and language() == "ko":
            prefix = phrase("usage: ")
        super().add_usage(usage, actions, groups, prefix)

    def _format_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None) -> str:
        text = super()._format_usage(usage, actions, groups, prefix)
        wider = _display_width(prefix or "") - len(prefix or "")  # argparse indents continuation lines by len(prefix)
        if wider <= 0:
            return text
        return "\n".join(line if i == 0 or not line.startswith(" ") else " " * wider + line
                         for i, line in enumerate(text.split("\n")))

    def _split_lines(self, text: str, width: int) -> list[str]:
        if language() != "ko":
            return super()._split_lines(text, width)
        lines: list[str] = []
        line: list[str] = []
        used = 0
        for word in text.split():
            if line and used + 1 + _display_width(word) > width:
                lines.append(" ".join(line))
                line, used = [], 0
            used += _display_width(word) + (1 if line else 0)
            line.append(word)
        return [*lines, " ".join(line)] if line else lines


class Parser(argparse.ArgumentParser):
    """An option parser whose errors are ``UsageError``s ending in ``usage_hint``, in the current language."""

    def __init__(self, *args: Any, usage_hint: str, **kwargs: Any) -> None:
        super().__init__(*args, add_help=False, allow_abbrev=False, formatter_class=_HelpFormatter, **kwargs)
        self.usage_hint = usage_hint
        self._positionals.title = phrase("positional arguments")
        self._optionals.title = phrase("options")

    def error(self, message: str) -> None:  # type: ignore[override]
        if language() == "ko":
            message = korean_error(message)
        raise UsageError(tr("llmcost: {message}. Usage: {usage}", message=message, usage=self.usage_hint))
