"""The package's user-facing words in English and Korean, and the one language setting.

    import llmcost_magic as lm
    lm.set_language("ko")        # or %config LLMCost.language = "ko", or LLMCOST_LANG=ko; "en" is the default

:func:`tr` formats a message: its English template is also its key, so English output is exactly the template
(tests pin it) and a template with no Korean entry stays English. :func:`label` names a column, index or
strategy for display only: the DataFrames the package returns keep their English column names for code, and
:func:`labelled` wraps one so that a notebook *shows* its headers translated.

A plain dict, not gettext: two languages and ~270 strings, no compile step and no ``.mo`` file to keep in step,
and a test checks that every Korean entry has the same ``{fields}`` as its English key and that every ``tr()``
template in the package has a Korean entry.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .messages_ko import KO, LABELS_KO
from .messages_ko_ledger import NOTES_KO, PLACEMENTS_KO, STEPS_KO

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LANGUAGES", "in_language", "label", "labelled", "language", "language_code", "plural", "set_language", "shown",
           "shown_note", "tr"]

LANGUAGES = ("en", "ko")
ENV = "LLMCOST_LANG"  # the one place the language lives: the cookbook's korean() and child processes read it too
_forced: contextvars.ContextVar[str | None] = contextvars.ContextVar("llmcost_language", default=None)


def language() -> str:
    """"ko" when ``LLMCOST_LANG`` starts with "ko" (set by :func:`set_language` or the Korean track), else "en"."""
    return _forced.get() or ("ko" if os.environ.get(ENV, "en").lower().startswith("ko") else "en")


@contextlib.contextmanager
def in_language(lang: str) -> Iterator[None]:
    """Words built inside the block are in ``lang``, whatever the setting (e.g. a docstring that must stay English);
    other threads and the setting itself are untouched."""
    token = _forced.set(language_code(lang))
    try:
        yield
    finally:
        _forced.reset(token)


def language_code(lang: str) -> str:
    """"en" or "ko" for ``lang`` ("ko", "ko_KR", "Korean", "한국어"...); a ValueError naming the choices otherwise."""
    code = str(lang).strip().lower().replace("_", "-")
    code = {"korean": "ko", "english": "en", "한국어": "ko"}.get(code, code.split("-")[0])
    if code not in LANGUAGES:
        raise ValueError(f"llmcost speaks {' and '.join(LANGUAGES)}, not {lang!r}: use set_language('ko') or "
                         "set_language('en').")
    return code


def set_language(lang: str) -> None:
    """Print the package's summaries, labels, table headers and refusals in ``lang`` ("en" or "ko").

    >>> set_language("ko"); set_language("en")
    """
    os.environ[ENV] = language_code(lang)


def plural(n: int) -> str:
    """The English plural ending for ``n`` things ("" or "s"); Korean templates ignore it."""
    return "s" * (n != 1)


def tr(template: str, /, **fields: Any) -> str:
    """``template`` (English, ``str.format`` fields) in the current language, filled with ``fields``.

    >>> tr("{n} call{s}", n=2, s="s")
    '2 calls'
    """
    if language() == "ko":
        template = KO.get(template, template)
    return template.format(**fields)


_NOTE_FIELD = re.compile(r"\{(\w+)\}")
_NESTED = {"steps": (STEPS_KO, ", "), "placements": (PLACEMENTS_KO, " + ")}  # fields that are notes themselves


@functools.cache
def _note_templates(catalog_id: int, separator: str) -> list[tuple[re.Pattern[str], str]]:
    catalog = {id(c): c for c in (NOTES_KO, STEPS_KO, PLACEMENTS_KO)}[catalog_id]
    part = f"(?:(?!{re.escape(separator)}).)+?"  # a field never spans the separator between parts
    compiled = []
    for english, korean in catalog.items():
        out, pos = [], 0
        for field in _NOTE_FIELD.finditer(english):
            name = field.group(1)
            out.append(re.escape(english[pos:field.start()]))
            out.append(f"(?P<{name}>" + (r"\S+" if name == "label" else ".*" if name == "rest" else part) + ")")
            pos = field.end()
        out.append(re.escape(english[pos:]))
        compiled.append((re.compile("".join(out) + f"(?={re.escape(separator)}|\\Z)", re.S), korean))
    compiled.sort(key=lambda t: -len(_NOTE_FIELD.sub("", t[0].pattern)))  # the most literal text first
    return compiled


def _translated_note(text: str, catalog: dict[str, str], separator: str) -> str:
    parts, rest = [], text
    while rest:
        for pattern, korean in _note_templates(id(catalog), separator):
            found = pattern.match(rest)
            if found is None:
                continue
            values = found.groupdict()
            for name, value in values.items():
                if name == "rest":
                    values[name] = _translated_note(value, NOTES_KO, "; ")
                elif name in _NESTED:
                    values[name] = _translated_note(value, *_NESTED[name])
            parts.append(_NOTE_FIELD.sub(lambda f: values[f.group(1)], korean))
            rest = rest[found.end():]
            break
        else:  # no template knows this part: as written
            head, _, rest = rest.partition(separator)
            parts.append(head)
            continue
        rest = rest[len(separator):] if rest.startswith(separator) else rest
    return separator.join(parts)


def shown_note(note: str | None) -> str | None:
    """A note the package wrote (on a ledger row, a compression) as a reader sees it: Korean under "ko" for the parts
    the package wrote, else as stored.

    Notes are data: the ledger keeps them in English, and code and older ledgers read them (``finish=length``, ``batch
    result ...``); displays (tables shown through :func:`shown`, the compression playground) call this. A note is
    parts joined by ``"; "``; each is matched against the templates of ``messages_ko_ledger.py``, and a part no
    template knows (a user's text, a provider's message) is shown as written. Hand-written matching: the notes are
    built with f-strings, so there is no message id to look up.
    """
    if language() != "ko" or not isinstance(note, str) or not note:
        return note
    return _korean_note(note)


@functools.lru_cache(maxsize=4096)
def _korean_note(note: str) -> str:  # a ledger repeats its notes: a table of 100,000 rows has a few dozen kinds
    return _translated_note(note, NOTES_KO, "; ")


def label(name: Any) -> Any:
    """A column, index or strategy name as shown to a reader (Korean under "ko"); other values unchanged.
    A ``+``-joined strategy ("compression+prompt_cache") is translated part by part."""
    if language() != "ko" or not isinstance(name, str):
        return name
    if name in LABELS_KO:
        return LABELS_KO[name]
    if "+" in name and all(part in LABELS_KO for part in name.split("+")):
        return "+".join(LABELS_KO[part] for part in name.split("+"))
    return name


def shown(df: pd.DataFrame, *, rows: bool = False) -> pd.DataFrame:
    """A copy of ``df`` with its column and index names as :func:`label` shows them, and the notes of a ``note`` or ``why_served`` column as
    :func:`shown_note` shows them; with ``rows``, its row labels too (for tables whose rows are
    the package's own words: scenarios, reasons; never users' names or tags)."""
    if language() != "ko":
        return df
    notes = [c for c in ("note", "why_served") if c in df.columns]  # the package's notes: kept English, shown Korean
    if notes:
        df = df.assign(**{c: df[c].map(shown_note) for c in notes})
    own = df.attrs.get("row_labels") or {}  # a table's own display names for its rows (whatif's scenarios)
    out = df.rename(columns=label, index=lambda v: own.get(v, label(v))) if rows else df.rename(columns=label)
    out.columns = out.columns.set_names([label(n) for n in out.columns.names])
    out.index = out.index.set_names([label(n) for n in out.index.names])
    return out


def labelled(df: Any, *, rows: bool = False) -> Any:
    """``df`` as a ``LabelledFrame`` under "ko" (same data, same English columns for code; a notebook shows
    the headers, and with ``rows`` the package's own row labels, in Korean); ``df`` itself otherwise, and anything
    that is not a DataFrame unchanged."""
    import pandas as pd

    if language() != "ko" or not isinstance(df, pd.DataFrame) or isinstance(df, _labelled_frame_class()):
        return df
    out = _labelled_frame_class()(df)
    out.attrs.update(df.attrs)
    out._llmcost_rows = rows
    return out


def _unpickled(frame: pd.DataFrame) -> pd.DataFrame:
    return frame


@functools.cache
def _labelled_frame_class() -> type:
    import pandas as pd

    class LabelledFrame(pd.DataFrame):
        """A DataFrame whose column names stay English for code (``df["cost_usd"]``) while its display (HTML in a
        notebook, text in a console) shows them translated. Frames derived from it are plain DataFrames."""

        _metadata = ["_llmcost_rows"]
        _llmcost_rows = False

        @property
        def _constructor(self) -> type:
            return pd.DataFrame

        def _shown(self) -> pd.DataFrame:
            plain = pd.DataFrame(self)
            plain.attrs = dict(self.attrs)
            return shown(plain, rows=self._llmcost_rows)

        def _repr_html_(self) -> str | None:
            return self._shown()._repr_html_()

        def __reduce_ex__(self, protocol: Any) -> Any:  # pickles (and unpickles) as the plain DataFrame it wraps
            plain = pd.DataFrame(self)
            plain.attrs = dict(self.attrs)
            return _unpickled, (plain,)

        def __repr__(self) -> str:
            return repr(self._shown())

    return LabelledFrame
