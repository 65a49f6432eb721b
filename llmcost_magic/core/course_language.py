"""The course's language, English or Korean, and :func:`T`, which picks a string in it.

It sits at the bottom of the package so that the client factory (:mod:`llmcost_magic.clients`) and the
notebook front can both speak it; :mod:`llmcost_magic.cookbook` re-exports both names.
"""

from __future__ import annotations

from .messages import language  # one setting for the course's prose and the package's own output

__all__ = ["T", "language"]


def T(en: str, ko: str) -> str:
    """``en`` or ``ko``, by the course's language: one code cell prints and labels in both tracks.

    >>> T("cumulative cost", "누적 비용")
    'cumulative cost'
    """
    return ko if language() == "ko" else en
