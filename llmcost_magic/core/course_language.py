"""The course's language, English or Korean, and :func:`T`, which picks a string in it.

It sits at the bottom of the package so that the client factory (:mod:`llmcost_magic.clients`) and the
notebook front can both speak it; :mod:`llmcost_magic.cookbook` re-exports both names.
"""

from __future__ import annotations

import os


def language() -> str:
    """The course's language: "ko" after :func:`llmcost_magic.cookbook.korean` (or with ``LLMCOST_LANG=ko``),
    else "en"."""
    return "ko" if os.environ.get("LLMCOST_LANG", "en").lower().startswith("ko") else "en"


def T(en: str, ko: str) -> str:
    """``en`` or ``ko``, by the course's language: one code cell prints and labels in both tracks.

    >>> T("cumulative cost", "누적 비용")
    'cumulative cost'
    """
    return ko if language() == "ko" else en
