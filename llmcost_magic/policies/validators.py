"""Answer checks a cascade runs on a cheap model's answer; each returns True (keep) or False (escalate).

Write your own: any ``callable(text) -> bool`` (raising counts as a failed check). Ready-made:

>>> numeric_answer()("3 * 4 = 12 apples.\\n#### 12")
True
>>> numeric_answer()("3 * 4 = 13 apples.\\n#### 13")  # the arithmetic is wrong
False
>>> json_parses('{"a": 1}'), matches(r"^\\d{4}-\\d{2}-\\d{2}$")("2026-11-30")
(True, True)
>>> all_of(json_parses, matches(r'"ok"'))('{"status": "ok"}')
True
"""

from __future__ import annotations

import ast
import json
import operator
import re
from collections.abc import Callable, Sequence
from typing import Any

Validator = Callable[[str], bool]

_NUMBER = r"-?\$?\d[\d,]*(?:\.\d+)?"
# A final answer line: GSM8K's "#### N", or "The answer is N" / "Answer: N" near the end.
_FINAL = re.compile(r"(?:####|\bthe (?:final )?answer is|\banswer:)\s*\**\s*(" + _NUMBER + ")", re.I)
# Calculator annotations "<<3*4=12>>" and written calculations "3 x 4 = 12" / "$18 / 2 = $9".
_ANNOTATION = re.compile(r"<<([^=<>]+)=([^<>]+)>>")
_WRITTEN = re.compile(r"((?:\$?\d[\d,]*(?:\.\d+)?\s*[-+*/x×÷]\s*)+\$?\d[\d,]*(?:\.\d+)?)\s*=\s*(" + _NUMBER + ")")
_OPS: dict[type, Callable[..., float]] = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
                                          ast.Div: operator.truediv, ast.USub: operator.neg}


def _evaluate(node: ast.AST) -> float:
    # A five-operator arithmetic evaluator: eval() would run code, and no small library is worth a dependency.
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_evaluate(node.left), _evaluate(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_evaluate(node.operand))
    raise ValueError("not arithmetic")


def _number(text: str) -> float:
    return float(text.replace(",", "").replace("$", ""))


def arithmetic(expression: str) -> float:
    """The value of a written calculation: ``arithmetic("3 x $4.50")`` -> 13.5 (raises ValueError)."""
    cleaned = re.sub(r"(?<=\d),(?=\d{3})", "", expression).replace("$", "")
    cleaned = cleaned.replace("×", "*").replace("x", "*").replace("÷", "/")
    try:
        return _evaluate(ast.parse(cleaned.strip(), mode="eval").body)
    except (SyntaxError, ZeroDivisionError, OverflowError) as exc:
        raise ValueError(str(exc)) from None


def final_number(text: str) -> float | None:
    """The answer's stated final number (the last "#### N" / "The answer is N"), or None."""
    found = _FINAL.findall(text or "")
    return _number(found[-1]) if found else None


def wrong_calculations(text: str) -> list[str]:
    """The calculations in ``text`` whose result is wrong (annotations and written "a op b = c")."""
    wrong = []
    text = text or ""
    for pattern, strict, source in ((_ANNOTATION, True, text), (_WRITTEN, False, _ANNOTATION.sub(" ", text))):
        for expression, result in pattern.findall(source):
            try:
                value, stated = arithmetic(expression), _number(result)
            except ValueError:
                if strict:  # an annotation that does not even parse is a mistake; loose prose is not
                    wrong.append(f"{expression}={result}")
                continue
            if abs(value - stated) > 1e-4 * max(1.0, abs(stated)):
                wrong.append(f"{expression}={result}")
    return wrong


def numeric_answer(*, whole: bool = False) -> Validator:
    """A check for worked numeric answers: a final number is stated and every calculation shown is right;
    ``whole=True`` also requires a whole number (GSM8K's answers all are)."""

    def check(text: str) -> bool:
        value = final_number(text)
        if value is None or wrong_calculations(text):
            return False
        return not whole or value == int(value)

    check.__name__ = "numeric_answer"
    return check


def json_parses(text: str) -> bool:
    """The answer is valid JSON (code fences around it are allowed)."""
    body = re.sub(r"^```(?:json)?\s*|\s*```$", "", text.strip())
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def matches(pattern: str, flags: int = 0) -> Validator:
    """The answer matches a regular expression (``re.search``)."""
    compiled = re.compile(pattern, flags)

    def check(text: str) -> bool:
        return compiled.search(text) is not None

    check.__name__ = f"matches({pattern!r})"
    return check


def passes(test: Callable[[str], Any]) -> Validator:
    """The answer passes a unit test: ``test(text)`` returns without raising (``assert`` inside is fine)
    and does not return False."""

    def check(text: str) -> bool:
        try:
            return test(text) is not False
        except Exception:  # noqa: BLE001 - a failing test is a failed check, whatever it raised
            return False

    check.__name__ = f"passes({getattr(test, '__name__', 'test')})"
    return check


def all_of(*validators: Validator) -> Validator:
    """All checks pass (the first failure stops)."""

    def check(text: str) -> bool:
        return all(v(text) for v in validators)

    check.__name__ = "all_of(" + ", ".join(getattr(v, "__name__", "check") for v in validators) + ")"
    return check


def failed_checks(text: str, validators: Sequence[Validator]) -> list[str]:
    """The names of the checks ``text`` fails (a check that raises fails)."""
    failed = []
    for v in validators:
        try:
            ok = v(text)
        except Exception:  # noqa: BLE001 - a validator that raises is a failed check
            ok = False
        if ok is False:
            failed.append(getattr(v, "__name__", "check"))
    return failed
