"""Format compaction: the same content in fewer tokens, nothing of substance removed.

Whitespace runs, pretty-printed JSON, verbose ``key: value`` blocks and labelled Q/A transcripts
are rewritten compactly; fenced code blocks are left exactly as they are. Hand-written: no library
rewrites prompt formats for token economy.
"""

from __future__ import annotations

import json
import re

from .base import Compressed, check_rate, check_text

_FENCE = re.compile(r"(```[^\n]*\n.*?```)", re.S)
_JSON_FENCE = re.compile(r"```json[^\n]*\n(.*?)```", re.S)
_KEY_VALUE = re.compile(r"^\s*(?:[-*•]\s+)?(?:\*\*)?([^:\n*]{1,40}?)(?:\*\*)?\s*[:：]\s+(\S.{0,200})$")
_QA_LABELS = (
    (re.compile(r"^[ \t]*(?:\*\*)?(?:Question|질문)(?:\*\*)?[ \t]*[:：][ \t]*", re.M), "Q: "),
    (re.compile(r"^[ \t]*(?:\*\*)?(?:Answer|답변|답)(?:\*\*)?[ \t]*[:：][ \t]*", re.M), "A: "),
    (re.compile(r"^[ \t]*(?:\*\*)?(?:User|Customer|고객|사용자)(?:\*\*)?[ \t]*[:：][ \t]*", re.M), "U: "),
    (re.compile(r"^[ \t]*(?:\*\*)?(?:Assistant|Agent|AI|상담원)(?:\*\*)?[ \t]*[:：][ \t]*", re.M), "A: "),
)
MIN_KEY_VALUE_LINES = 3


class FormatCompressor:
    """Whitespace, JSON, key-value and transcript compaction. It has no rate: it removes only form."""

    name = "format"

    def compress(self, text: str, *, rate: float | None = None, query: str = "", model: str = "gpt-4o") -> Compressed:
        check_text(text, self.name)
        if check_rate(rate, self.name) not in (None, 1.0):
            from .base import CompressionError

            raise CompressionError("format: format compaction removes only form and takes no rate; "
                                   "use `format` alone, or `selective:0.5` to cut to a share of tokens")
        compact = compact_format(text)
        return Compressed(text, compact, self.name, None, model,
                          note="" if compact != text else "no-op: nothing to compact (no extra whitespace, JSON, key-value or Q/A blocks)")


def compact_format(text: str) -> str:
    """``text`` with JSON minified, key-value blocks and Q/A labels compacted and whitespace trimmed;
    fenced code is untouched (except ```json blocks, which are minified)."""
    text = _JSON_FENCE.sub(lambda m: "```json\n" + _minified(m.group(1)) + "\n```", text)
    parts = _FENCE.split(text)
    for i in range(0, len(parts), 2):  # even parts are outside code fences
        parts[i] = _compact_prose(parts[i])
    return "".join(parts).strip()


def _minified(block: str) -> str:
    try:
        return json.dumps(json.loads(block), separators=(",", ":"), ensure_ascii=False)
    except ValueError:
        return block.strip()


def _compact_prose(text: str) -> str:
    text = _minify_json_spans(text)
    for pattern, label in _QA_LABELS:
        text = pattern.sub(label, text)
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    lines = _join_key_value_runs(lines)
    out: list[str] = []
    for line in lines:  # at most one blank line in a row; none between Q/A turns
        if not line and (not out or not out[-1] or out[-1][:3] in ("Q: ", "U: ")):
            continue
        out.append(line)
    return "\n".join(out)


def _minify_json_spans(text: str) -> str:
    """Pretty-printed JSON objects/arrays that start a line are re-dumped compactly."""
    decoder, out, i = json.JSONDecoder(), [], 0
    for match in re.finditer(r"(?m)^[ \t]*([\[{])", text):
        start = match.start(1)
        if start < i:
            continue
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            continue
        if not isinstance(value, (dict, list)) or "\n" not in text[start:end] and ": " not in text[start:end] and ", " not in text[start:end]:
            continue
        out += [text[i:start], json.dumps(value, separators=(",", ":"), ensure_ascii=False)]
        i = end
    return "".join(out) + text[i:]


def _join_key_value_runs(lines: list[str]) -> list[str]:
    """Three or more consecutive ``Key: value`` lines become one ``Key:value|Key:value`` line."""
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if len(run) >= MIN_KEY_VALUE_LINES:
            out.append("|".join(run))
        else:
            out.extend(run_lines)
        run.clear()
        run_lines.clear()

    run_lines: list[str] = []
    for line in lines:
        match = _KEY_VALUE.match(line)
        if match and not line.startswith(("Q: ", "A: ", "U: ")):
            run.append(f"{match.group(1).strip()}:{match.group(2).strip()}")
            run_lines.append(line)
        else:
            flush()
            out.append(line)
    flush()
    return out
