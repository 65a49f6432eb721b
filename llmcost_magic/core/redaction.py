"""Credentials never leave in a message: ``redis://user:secret@host`` becomes ``redis://***@host``."""

from __future__ import annotations

import re

__all__ = ["redact"]

# userinfo in any URL (scheme://[user[:password]]@host), and password-like query parameters.
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")
_QUERY_SECRET = re.compile(r"(?P<key>[?&;](?:password|passwd|pwd|pass|token|secret|api_key|apikey|key)=)[^&#\s]*", re.I)


def redact(text: str) -> str:
    """``text`` with the passwords of any URLs in it replaced by ``***``.

    >>> redact("Cannot reach redis://:hunter2@10.0.0.5:6379/0")
    'Cannot reach redis://***@10.0.0.5:6379/0'
    >>> redact("http://proxy.example?token=abc&x=1")
    'http://proxy.example?token=***&x=1'
    """
    if "://" not in text and "=" not in text:
        return text
    text = _USERINFO.sub(r"\g<scheme>***@", text)  # the user name too: it is often the token itself
    return _QUERY_SECRET.sub(lambda m: f"{m['key']}***", text)
