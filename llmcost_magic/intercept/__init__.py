"""The httpx-level seam and one adapter module per wire protocol.

Imported lazily: the meter needs :mod:`.call`, and the seam needs the meter.
"""

from __future__ import annotations


def install() -> None:
    """Meter httpx / httpx2 clients from now on (only while a meter is active). Idempotent."""
    from .seam import install as _install

    _install()


def uninstall() -> None:
    from .seam import uninstall as _uninstall

    _uninstall()
