"""Credentials never leave in a message: ``redis://user:secret@host`` becomes ``redis://***@host``."""

from __future__ import annotations

import re

__all__ = ["mask_credentials", "redact"]

# userinfo in any URL (scheme://[user[:password]]@host), and password-like query parameters.
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")
# credential-shaped words: known key prefixes (OpenAI, Anthropic, AWS, GitHub, Slack, Google, Hugging Face,
# GitLab, Stripe), or any long run of letters and digits with both in it (a token of unknown kind)
_CREDENTIAL = re.compile(
    r"(?:sk-|sk_|rk_|pk_|ghp_|gho_|ghu_|ghs_|github_pat_|xox[abprs]-|AKIA|ASIA|AIza|hf_|glpat-)[A-Za-z0-9_\-]{8,}"
    r"|(?=[A-Za-z0-9_\-]*\d)(?=[A-Za-z0-9_\-]*[A-Za-z])[A-Za-z0-9_\-]{24,}")
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


def mask_credentials(text: str) -> str:
    """``text`` with credential-shaped words (API keys, access tokens) replaced by ``***``, for excerpts
    of prompts shown to the user.

    >>> mask_credentials("header X-Token: sk-proj-Ab3dE5fG7hJ9kL1m on every call")
    'header X-Token: *** on every call'
    """
    return _CREDENTIAL.sub("***", text)
