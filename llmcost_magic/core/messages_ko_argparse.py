"""Korean for argparse's own phrases, keyed by argparse's English text (its gettext msgids, ``%``-style fields).

The option parsers of ``%%llmcost`` / ``%llmcost`` show these under "ko" (``notebook/option_parser.py``); a test checks
that each key is one of this Python's argparse msgids and that each Korean text keeps its fields.
Written for this package (2026-11-30), in the terms of ``messages_ko.py``.
"""

from __future__ import annotations

ARGPARSE_KO: dict[str, str] = {
    # help
    "usage: ": "사용법: ",
    "options": "옵션",
    "positional arguments": "위치 인수",
    "show this help message and exit": "이 도움말을 보이고 끝냅니다",
    # errors
    "%(prog)s: error: %(message)s\n": "%(prog)s: 오류: %(message)s\n",
    "argument %(argument_name)s: %(message)s": "인수 %(argument_name)s: %(message)s",
    "unrecognized arguments: %s": "인식할 수 없는 인수입니다: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "고를 수 없는 값입니다: %(value)r (고를 수 있는 값: %(choices)s)",
    "invalid %(type)s value: %(value)r": "%(type)s 값이 잘못되었습니다: %(value)r",
    "expected one argument": "값을 하나 주세요",
    "expected at most one argument": "값은 하나까지만 줄 수 있습니다",
    "expected at least one argument": "값을 하나 이상 주세요",
    "expected %s argument": "값을 %s개 주세요",
    "expected %s arguments": "값을 %s개 주세요",
    "the following arguments are required: %s": "다음 인수가 필요합니다: %s",
    "one of the arguments %s is required": "다음 인수 중 하나가 필요합니다: %s",
    "not allowed with argument %s": "%s 인수와 함께 쓸 수 없습니다",
    "ignored explicit argument %r": "이 옵션은 값을 받지 않습니다 (받은 값: %r)",
    "unexpected option string: %s": "예상하지 못한 옵션입니다: %s",
    "ambiguous option: %(option)s could match %(matches)s":
        "모호한 옵션입니다: %(option)s은(는) %(matches)s 중 어느 것일 수도 있습니다",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "알 수 없는 명령입니다: %(parser_name)r (고를 수 있는 명령: %(choices)s)",
}
