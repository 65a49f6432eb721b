"""Fonts for Korean plot labels: one place for the Korean track (``cookbook.korean``) and the dashboard."""

from __future__ import annotations

__all__ = ["use_korean_font"]


def use_korean_font() -> bool:
    """Make matplotlib draw Hangul: NanumGothic (from ``koreanize_matplotlib``, the cookbook extra), with DejaVu
    Sans (shipped with matplotlib) for the glyphs NanumGothic lacks (the minus sign U+2212, ✓, µ), so tick labels
    keep the true minus. Set here each time rather than left to the import's side effect, which an earlier
    ``rc_context`` may have undone. False when the font package is missing (Hangul then shows as boxes)."""
    try:
        import koreanize_matplotlib  # noqa: F401 - registers NanumGothic with matplotlib on import
    except ImportError:
        return False
    import matplotlib

    matplotlib.rcParams["font.family"] = ["NanumGothic", "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = True
    return True
