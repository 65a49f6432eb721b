"""What issue 18 left English on the Korean track: argparse's own phrases in option errors and help, ``%llmcost?``,
the notes the package writes (shown translated, stored English), and the rare warnings. English stays byte-identical."""

from __future__ import annotations

import argparse
import ast
import hashlib
import inspect
import re
import warnings

import pandas as pd
import pytest
from IPython.core.error import UsageError

import llmcost_magic
from llmcost_magic.core import messages

from tests.language_fixtures import CALL, HANGUL, english_by_default, ko  # noqa: F401 - fixtures

ARGPARSE_WORDS = re.compile(r"usage:|error:|unrecognized arguments|invalid (choice|float|int)|expected (one|at most|at least)"
                            r"|the following arguments are required|argument --|options:")


def _cell_error(shell, options: str) -> str:
    r = shell.run_cell(f"%%llmcost {options}\nran = True")
    assert isinstance(r.error_in_exec, UsageError) and "ran" not in shell.user_ns
    return str(r.error_in_exec)


def _line_error(shell, line: str) -> str:
    with pytest.raises(UsageError) as error:
        shell.run_line_magic("llmcost", line)
    return str(error.value)


# ---- argparse's own phrases --------------------------------------------------------------------------------

def _argparse_msgids() -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(inspect.getsource(argparse))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("_", "ngettext"):
            found |= {a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)}
    return found


def test_every_argparse_phrase_a_user_can_meet_has_korean_with_the_same_fields():
    from llmcost_magic.core.messages_ko_argparse import ARGPARSE_KO

    user_facing = {"usage: ", "options", "positional arguments", "argument %(argument_name)s: %(message)s",
                   "unrecognized arguments: %s", "invalid choice: %(value)r (choose from %(choices)s)",
                   "invalid %(type)s value: %(value)r", "expected one argument", "expected at most one argument",
                   "expected at least one argument", "the following arguments are required: %s",
                   "one of the arguments %s is required", "not allowed with argument %s", "ignored explicit argument %r"}
    assert user_facing <= set(ARGPARSE_KO), user_facing - set(ARGPARSE_KO)
    assert set(ARGPARSE_KO) <= _argparse_msgids(), "each key is argparse's own English text (this Python's)"
    for english, korean in ARGPARSE_KO.items():
        assert sorted(re.findall(r"%\(\w+\)[sr]|%[sr]", english)) == sorted(re.findall(r"%\(\w+\)[sr]|%[sr]", korean))
        assert HANGUL.search(korean), english


@pytest.mark.parametrize(("options", "says"), [
    ("--colour red", "인식할 수 없는 인수입니다: --colour red"),
    ("--fx", "인수 --fx: 값을 하나 주세요"),
    ("--cache nope", "인수 --cache: 고를 수 없는 값입니다: 'nope' (고를 수 있는 값: 'exact', 'semantic')"),
    ("--budget abc", "인수 --budget: --budget에는 숫자를 주세요"),
    ("--prompt-cache", "인수 --prompt-cache: 값을 하나 주세요"),
    ("--cache exact --ttl 5x", "인수 --ttl: 기간 '5x'을(를) 읽을 수 없습니다: 90s, 30m"),
    ("--compress selectiv", "인수 --compress: compress: 알 수 없는 방법 'selectiv'입니다. 'selective'을(를) 찾으셨나요?"),
    ("--compress window:x", "compress: window에는 남길 턴 수를 주세요. 예: window:6"),
    ("--compress selective:2", "selective: 비율은 남길 토큰의 몫으로 (0, 1] 범위여야 합니다 (받은 값: 2.0"),
    ("--route nope", "인수 --route: 알 수 없는 라우터 'nope'입니다: rules, embedding"),
])
def test_korean_cell_option_errors_have_no_english_argparse_phrase(shell, ko, options, says):
    message = _cell_error(shell, options)
    assert says in message and "사용법: %%llmcost" in message
    assert not ARGPARSE_WORDS.search(message.split("사용법:")[0]), message


@pytest.mark.parametrize(("line", "says"), [
    ("report --by nope", "인수 --by: 고를 수 없는 값입니다: 'nope'"),
    ("prices", "다음 인수가 필요합니다: models"),
    ("whatif --cache-hit abc", "인수 --cache-hit: float 값이 잘못되었습니다: 'abc'"),
    ("cache doctor --cell x", "인수 --cell: int 값이 잘못되었습니다: 'x'"),
    ("nope", "고를 수 없는 값입니다: 'nope'"),
    ("report extra words", "인식할 수 없는 인수입니다: extra words"),
])
def test_korean_line_command_errors_have_no_english_argparse_phrase(shell, ko, line, says):
    message = _line_error(shell, line)
    assert says in message, message
    assert not ARGPARSE_WORDS.search(message.split("사용법:")[0]), message


def test_english_option_errors_are_byte_for_byte_what_they_were(shell):
    """Pinned from the code before this change (commit 2ceda53; each also passes there)."""
    from llmcost_magic.notebook.options import CELL_USAGE, LINE_USAGE

    assert _cell_error(shell, "--colour red") == f"llmcost: unrecognized arguments: --colour red. Usage: {CELL_USAGE}"
    assert _cell_error(shell, "--cache nope") == ("llmcost: argument --cache: invalid choice: 'nope' (choose from 'exact', "
                                                  f"'semantic'). Usage: {CELL_USAGE}")
    assert _cell_error(shell, "--fx") == f"llmcost: argument --fx: expected one argument. Usage: {CELL_USAGE}"
    assert _line_error(shell, "prices") == f"llmcost: the following arguments are required: models. Usage: {LINE_USAGE}"
    assert _cell_error(shell, "--route nope").startswith("llmcost: argument --route: Unknown router 'nope': use one of rules, ")
    assert _cell_error(shell, "--cache exact --ttl 5x").startswith(
        "llmcost: argument --ttl: Cannot read the duration '5x': use e.g. 90s, 30m, 24h, 7d, 0 (never cache) or forever.. Usage")
    assert _cell_error(shell, "--compress window:x").startswith(
        "llmcost: argument --compress: compress: window needs the number of turns to keep, e.g. window:6. Usage")
    assert _cell_error(shell, "--compress selectiv").startswith(
        "llmcost: argument --compress: compress: unknown method 'selectiv'; did you mean 'selective'? methods: format, ")
    assert _line_error(shell, "whatif --cache-hit abc") == ("llmcost: argument --cache-hit: invalid float value: 'abc'. "
                                                            f"Usage: {LINE_USAGE}")


def test_a_value_that_looks_like_an_argparse_phrase_is_left_as_given(shell, ko):
    message = _cell_error(shell, "'--x=argument --y: expected one argument'")
    assert "인식할 수 없는 인수입니다: --x=argument --y: expected one argument" in message


# ---- %llmcost? and %llmcost --help ------------------------------------------------------------------------

def _shown_help(shell) -> str:
    """What `%llmcost?` shows: IPython's inspector reads the magic's getdoc() (or its docstring)."""
    from IPython.core.oinspect import getdoc

    return getdoc(shell.find_line_magic("llmcost"))


def test_english_help_is_byte_for_byte_what_it_was(shell):
    from llmcost_magic.notebook.magics import LLMCost
    from llmcost_magic.notebook.options import full_help

    assert hashlib.sha256(full_help().encode()).hexdigest()[:16] == "a0d1d798b20589f0"
    assert hashlib.sha256(LLMCost.llmcost.__doc__.encode()).hexdigest()[:16] == "9cb9a0660eea63a1"
    assert _shown_help(shell) == inspect.cleandoc(LLMCost.llmcost.__doc__)
    from IPython.core.oinspect import getdoc

    assert _shown_help(shell) == getdoc(shell.find_cell_magic("llmcost"))


def test_korean_help_explains_every_option_in_korean(shell, ko):
    from llmcost_magic.notebook.options import _cell_parser

    shown = _shown_help(shell)
    assert "사용법: %%llmcost" in shown and "옵션:" in shown and "명령:" in shown
    assert not re.search(r"\busage:|\boptions:|\bcommands:", shown)
    for action in _cell_parser()._actions:
        assert action.option_strings[0] in shown and HANGUL.search(action.help), action.option_strings
    for english in ("label recorded on every call of the cell", "hard cap", "send the calls to the offline sandbox"):
        assert english not in shown
    assert "셀의 모든 호출에 기록할 태그" in shown
    from llmcost_magic.core.messages_ko import KO
    from llmcost_magic.notebook.magics import LLMCost

    assert inspect.cleandoc(LLMCost.llmcost.__doc__.split("\n\n")[0]) in KO, "the Korean intro follows the docstring"


def test_the_help_follows_the_language_of_the_moment(shell, monkeypatch):
    assert "options:" in _shown_help(shell)
    llmcost_magic.set_language("ko")
    assert "옵션:" in _shown_help(shell)
    llmcost_magic.set_language("en")
    assert "options:" in _shown_help(shell)


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("line", ["--help", "-h", "help"])
def test_llmcost_help_prints_the_help_instead_of_an_error(shell, monkeypatch, capsys, lang, line):
    from llmcost_magic.notebook.options import full_help

    monkeypatch.setenv(messages.ENV, lang)
    assert shell.run_line_magic("llmcost", line) is None
    assert capsys.readouterr().out == full_help() + "\n"
    assert ("옵션:" in full_help()) == (lang == "ko")


# ---- notes: stored English, shown Korean --------------------------------------------------------------------

NOTES = {
    "late: after its cell ended": "늦게 도착: 셀이 끝난 뒤",
    "dry-run (simulated)": "모의 실행 (시뮬레이션)",
    "dry-run (simulated) max_tokens 300": "모의 실행 (시뮬레이션) max_tokens 300",
    "stopped after sending: the provider may bill it": "보낸 뒤 중단됨: 공급사가 청구할 수 있습니다",
    "budget fallback to gpt-4o-mini": "예산 대체 모델: gpt-4o-mini",
    "late: after its cell ended; budget fallback to gpt-4o-mini; stopped after sending: the provider may bill it":
        "늦게 도착: 셀이 끝난 뒤; 예산 대체 모델: gpt-4o-mini; 보낸 뒤 중단됨: 공급사가 청구할 수 있습니다",
    "semantic similarity 0.912": "의미 유사도 0.912",
    "finish=length": "finish=length",
    "cascade small: accepted": "캐스케이드 small: 수락",
    "cascade small: escalated (stated confidence 0.40 < 0.7)": "캐스케이드 small: 상위 단계로 (stated confidence 0.40 < 0.7)",
    "cascade large: kept as last tier (no validator)": "캐스케이드 large: 마지막 단계라 유지 (no validator)",
    "route small (rules: 'translate')": "라우팅 small (rules: 'translate')",
    "compress format on 1 part, selective:0.5 on 2 parts (rate not reached on 1: rules are kept whole)":
        "압축 format 부분 1개, selective:0.5 부분 2개 (1개는 목표 비율 미달: 규칙은 통째로 유지)",
    "compress window:6 no-op (history already within it)": "압축 window:6 변화 없음 (기록이 이미 그 안에 있음)",
    "compress window:6 dropped 4 messages": "압축 window:6 메시지 4개 삭제",
    "compress selective:0.5 no-op": "압축 selective:0.5 변화 없음",
    "prompt-cache: breakpoint on system (shared by every conversation)":
        "프롬프트 캐시: system에 breakpoint (모든 대화가 공유)",
    "prompt-cache: automatic (top-level cache_control: the breakpoint follows the conversation) + breakpoint on tools "
    "(shared by every conversation)": "프롬프트 캐시: 자동 (최상위 cache_control: breakpoint가 대화를 따라감) + tools에 "
                                     "breakpoint (모든 대화가 공유)",
    "max_tokens 300; stop ['\\n\\n']; concise ≤ 80 words": "max_tokens 300; stop ['\\n\\n']; 간결하게 ≤ 80단어",
    "host refused stream_options: usage counted": "호스트가 stream_options를 거절함: 사용량은 직접 셈",
    "unpriced: no price for gpt-9": "가격 미상: gpt-9의 가격이 없음",
    "background resp_1: billed when retrieved": "백그라운드 resp_1: 결과를 받을 때 청구",
    "background resp_1 retrieved": "백그라운드 resp_1 결과 받음",
    "batch result openai:batch_1 req-3": "배치 결과 openai:batch_1 req-3",
    "batch nightly req-3": "배치 nightly req-3",
    "kept 64% instead of 50%: the rate could not be reached without touching rules (13 rule sentences keep every "
    "word but filler; negations, numbers with units, names, code, quotes and query words are never dropped)":
        "50% 대신 64%를 남겼습니다: 규칙을 건드리지 않고는 목표 비율에 닿을 수 없습니다 (규칙 문장 13개는 군말 말고는 "
        "모든 단어를 유지하고, 부정 표현, 단위가 붙은 숫자, 이름, 코드, 인용, 질문의 단어는 지우지 않습니다)",
    "no-op: at rate 0.9 there was nothing to drop": "변화 없음: 비율 0.9에서는 지울 것이 없었습니다",
    "no-op: nothing to compact (no extra whitespace, JSON, key-value or Q/A blocks)":
        "변화 없음: 줄일 것이 없습니다 (남는 공백, JSON, 키-값, Q/A 블록이 없음)",
    "no-op: fewer than two example blocks found": "변화 없음: 예시 블록이 두 개보다 적습니다",
    "no-op: 3 examples at rate 0.9 keeps them all": "변화 없음: 예시 3개에 비율 0.9면 모두 남습니다",
    "no-op: the model kept every token": "변화 없음: 모델이 모든 토큰을 남겼습니다",
    "no-op: fewer than two context chunks found": "변화 없음: 문맥 조각이 두 개보다 적습니다",
    "no-op: every chunk fits the budget and none is a duplicate": "변화 없음: 모든 조각이 예산에 들고 중복도 없습니다",
    "same content words, numbers, names and polarity; similarity 0.982 >= 0.700":
        "내용어, 숫자, 이름, 긍정·부정이 같음; 유사도 0.982 >= 0.700",
    "words added (please); similarity 0.950 >= 0.780": "단어가 더해짐 (please); 유사도 0.950 >= 0.780",
    "verbs (format -> parse): only a verifier can tell a synonym; the verifier said they ask the same thing":
        "동사가 바뀜 (format -> parse): 동의어인지는 검증기만 가릴 수 있음; 검증기가 같은 것을 묻는다고 판단함",
    "words added (a, b): similarity 0.700 < 0.780; the verifier said they ask the same thing":
        "단어가 더해짐 (a, b): 유사도 0.700 < 0.780; 검증기가 같은 것을 묻는다고 판단함",
}


@pytest.mark.parametrize("stored", sorted(NOTES))
def test_each_note_is_shown_in_korean_and_stays_english_in_english(stored, monkeypatch):
    from llmcost_magic.core.messages import shown_note

    assert shown_note(stored) == stored
    monkeypatch.setenv(messages.ENV, "ko")
    assert shown_note(stored) == NOTES[stored]


def test_a_note_the_catalog_does_not_know_is_shown_as_written(ko):
    from llmcost_magic.core.messages import shown_note

    assert shown_note("my own note") == "my own note" and shown_note("") == "" and shown_note(None) is None
    assert shown_note("late: after its cell ended; my own note") == "늦게 도착: 셀이 끝난 뒤; my own note"
    assert shown_note("compress {x} on 1 part") == "압축 {x} 부분 1개", "braces in a value are printed as given"
    assert shown_note("route small (a; b)") == "route small (a; b)", "a part never spans the separator"


def test_the_package_writes_only_notes_the_catalog_knows(shell, ko, monkeypatch):
    """Real notes from real calls (dry run, budget fallback, output limits, cascade, compression, prompt caching)."""
    from llmcost_magic.core.messages import shown_note

    shell.run_cell("from llmcost_magic.sandbox import client\noc = client('openai')\nac = client('anthropic')")
    long = "Clause: " + " ".join(f"rule {i} applies to package {i}." for i in range(300))
    for options, body in [
        ("--dry-run --max-tokens 40 --stop '\\n\\n' --concise 30", CALL),
        ("--compress selective:0.5", CALL.replace("'hi'", repr(long))),
        ("--compress window:2", CALL.replace("[{'role': 'user', 'content': 'hi'}]", "[{'role': 'user', 'content': 'q'}]*6")),
        ("--route cascade", CALL),
        ("--route rules", CALL.replace("'hi'", "'translate this'")),
        ("--budget 0.0002 --budget-fallback", CALL.replace("gpt-4o-mini", "gpt-4o").replace(")", ", max_tokens=30)", 1)),
        ("--prompt-cache auto", "ac.messages.create(model='claude-sonnet-4-6', max_tokens=20, system=" + repr(long)
         + ", messages=[{'role': 'user', 'content': 'q'}])"),
    ]:
        r = shell.run_cell(f"%%llmcost --quiet {options}\n{body}\nNone")
        assert r.error_in_exec is None, (options, r.error_in_exec)
    notes = [n for n in llmcost_magic.ledger()["note"] if n]
    assert len(notes) >= 6, notes
    for note in notes:
        shown = shown_note(note)
        assert HANGUL.search(shown), note
        english_left = re.sub(r"\([^)]*\)|'[^']*'|\[[^\]]*\]|[\w.:-]*\d[\w.:-]*|max_tokens|stop|finish=\w+|gpt-[\w.-]+|claude-[\w.-]+"
                              r"|system|tools|small|medium|large|rules|selective|window|cache_control|breakpoint", "", shown)
        assert not re.search(r"[A-Za-z]{4,}", english_left), (note, shown)


def test_korean_ledger_shows_notes_and_headers_in_korean_while_its_data_stays_english(shell, ko):
    shell.run_cell("from llmcost_magic.sandbox import client\noc = client('openai')")
    shell.run_cell(f"%%llmcost --quiet --dry-run\n{CALL}")
    calls = llmcost_magic.ledger()
    assert calls["note"].iloc[-1] == "dry-run (simulated)" and "note" in calls.columns
    html, text = calls._repr_html_(), repr(calls)
    assert "모의 실행 (시뮬레이션)" in html and "dry-run" not in html and "메모" in html and "가격 출처" in text
    from llmcost_magic.bookkeeping.ledger_schema import COLUMNS

    assert [c for c in COLUMNS if messages.label(c) == c] == [], "every ledger column has a Korean header"
    assert type(calls[["note"]]) is pd.DataFrame and calls[["note"]].iloc[-1, 0] == "dry-run (simulated)"


def test_english_ledger_is_a_plain_dataframe(shell):
    shell.run_cell("from llmcost_magic.sandbox import client\noc = client('openai')")
    shell.run_cell(f"%%llmcost --quiet --dry-run\n{CALL}")
    calls = llmcost_magic.ledger()
    assert type(calls) is pd.DataFrame and "dry-run (simulated)" in calls._repr_html_()


def test_korean_playground_shows_the_compressors_note_in_korean(monkeypatch):
    from llmcost_magic.evaluation import support_prompt
    from llmcost_magic.notebook.widgets.compression_playground import CompressionPlayground

    english = CompressionPlayground(support_prompt("en"), model="gpt-4o").static_html()
    assert "kept 64% instead of 50%" in english
    monkeypatch.setenv(messages.ENV, "ko")
    korean = CompressionPlayground(support_prompt("en"), model="gpt-4o").static_html()
    assert "50% 대신 64%를 남겼습니다" in korean and "kept 64%" not in korean


# ---- the rare warnings ----------------------------------------------------------------------------------

def test_korean_warnings_for_a_left_out_plugin_and_an_unserved_cached_answer(ko):
    from llmcost_magic import plugins
    from llmcost_magic.policies import response_cache

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plugins._fail("broken-one", "ImportError: no module named x")
        response_cache._warn_once("test-key-ko", "its seal did not match")
    plugins._registry.errors.pop("broken-one", None)
    response_cache._warned.discard("test-key-ko")
    shown = [str(w.message) for w in caught]
    assert "플러그인 'broken-one'을(를) 빼고 불러왔습니다" in shown[0] and "ImportError" in shown[0]
    assert "캐시된 답을 쓰지 않았습니다" in shown[1] and "its seal did not match" in shown[1]


def test_korean_realtime_and_journal_warnings_have_korean_text():
    from llmcost_magic.core.messages_ko import KO
    from llmcost_magic.intercept import realtime

    assert realtime.WARNING in KO
    assert any(k.startswith("llmcost: the ledger journal {path}") for k in KO)


# ---- a real kernel on the Korean track ---------------------------------------------------------------------

@pytest.mark.notebook
def test_a_korean_track_kernel_shows_errors_help_notes_and_the_playground_in_korean(tmp_path, monkeypatch):
    """Through a real kernel and the messages a frontend gets (`%llmcost?` arrives as a pager payload)."""
    import sys
    from pathlib import Path

    from jupyter_client.manager import start_new_kernel

    sys.path.insert(0, str(Path(llmcost_magic.__file__).parent.parent / "tools"))
    import korean_track

    monkeypatch.setenv("LLMCOST_LEDGER", str(tmp_path / "ledger.sqlite3"))
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", messages.ENV):
        monkeypatch.delenv(key, raising=False)
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        def run(code: str) -> tuple[dict, list[dict]]:
            outputs: list[dict] = []
            reply = kc.execute_interactive(code, timeout=120, output_hook=lambda m: outputs.append(m))
            return reply["content"], [m for m in outputs if m["msg_type"] in ("stream", "display_data", "execute_result", "error")]

        assert run(korean_track.KOREAN_SETUP + "\nclient = openai_client()")[0]["status"] == "ok"
        reply, _ = run("%%llmcost --colour red\n1")
        assert reply["status"] == "error" and "인식할 수 없는 인수입니다: --colour red" in reply["evalue"]
        assert "unrecognized" not in reply["evalue"] and "사용법: %%llmcost" in reply["evalue"]

        reply, _ = run("%llmcost?")
        page = reply["payload"][0]["data"]["text/plain"]
        assert "사용법: %%llmcost" in page and "옵션:" in page and "셀의 모든 호출에 기록할 태그" in page
        assert "label recorded on every call" not in page

        run("%%llmcost --quiet --dry-run\nclient.chat.completions.create(model='gpt-4o-mini', "
            "messages=[{'role': 'user', 'content': '안녕하세요'}], max_tokens=20)\nNone")
        # pandas shows 20 of the ledger's 36 columns by default: the note column is among those it leaves out
        _, shown = run("import pandas as pd\npd.set_option('display.max_columns', None)\nimport llmcost_magic\n"
                       "llmcost_magic.ledger()")
        html = shown[-1]["content"]["data"]["text/html"]
        assert "모의 실행 (시뮬레이션)" in html and "dry-run" not in html and "비용(USD)" in html

        _, shown = run("from llmcost_magic.evaluation import support_prompt\n"
                       "llmcost_magic.compression_playground(support_prompt('en'), model='gpt-4o')")
        html = "".join(str(m["content"]["data"].get("text/html", "")) for m in shown if "data" in m["content"])
        assert "50% 대신 64%를 남겼습니다" in html and "kept 64%" not in html
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


@pytest.mark.parametrize(("lang", "says"), [("en", "elapsed="), ("ko", "경과=")])
def test_the_batch_progress_bar_speaks_the_language(monkeypatch, capsys, lang, says):
    from llmcost_magic import batch
    from llmcost_magic.sandbox import client

    monkeypatch.setenv(messages.ENV, lang)
    oai = client("openai")
    plan = batch.build([f"item {i}" for i in range(5)], model="gpt-4o-mini", max_tokens=20, template="Title: {}")
    plan.requests[3] = (plan.requests[3][0], {**plan.requests[3][1], "model": "gpt-imaginary"})
    plan.submit(oai, name=f"bar-{lang}").wait(oai, interval=0.05)
    bar = capsys.readouterr().err.split("\r")[-1]
    if lang == "en":
        assert re.search(r"5/5 \[.*req/s, elapsed=\d+s, failed=1\]", bar), bar
    else:
        assert re.search(r"5/5 \[.*건/s, 경과=\d+s, 실패=1\]", bar) and "failed" not in bar, bar


@pytest.mark.parametrize(("lang", "says"), [("en", "[deferred to a batch as cell"), ("ko", "[배치로 미뤘습니다 (cell")])
def test_a_deferred_calls_placeholder_answer_speaks_the_language(shell, monkeypatch, lang, says):
    monkeypatch.setenv(messages.ENV, lang)
    shell.run_cell("from llmcost_magic.sandbox import client\noc = client('openai')")
    r = shell.run_cell(f"%%llmcost --quiet --batch\n{CALL}.choices[0].message.content")
    assert r.error_in_exec is None and r.result.startswith(says), r.result


def test_korean_metering_failure_notice(fresh_ledger, capsys, ko):
    from llmcost_magic.sandbox import client

    oc = client("openai")
    fresh_ledger.close()  # every write now fails
    with llmcost_magic.meter():
        answer = oc.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    err = capsys.readouterr().err
    assert answer.choices and "측정에 실패했습니다" in err and "측정 없이 계속됩니다" in err and "unmetered" not in err


def test_config_llmcost_lists_every_setting_in_korean_and_english_unchanged(shell, capsys, monkeypatch):
    from llmcost_magic.core.messages_ko_help import CONFIG_HELP_KO
    from llmcost_magic.notebook.magics import LLMCost

    traits = LLMCost.class_traits(config=True)
    assert {t.help for t in traits.values()} <= set(CONFIG_HELP_KO), "every setting has Korean help"
    shell.run_line_magic("config", "LLMCost")
    english = capsys.readouterr().out
    assert "Hide the live meter and the summary." in english and "숨깁니다" not in english
    monkeypatch.setenv(messages.ENV, "ko")
    shell.run_line_magic("config", "LLMCost")
    korean = capsys.readouterr().out
    assert "실시간 미터와 요약을 숨깁니다." in korean and "Hide the live meter" not in korean
    assert english.count("\nLLMCost.") == korean.count("\nLLMCost.") == len(traits)


def test_korean_batch_errors_name_the_request_and_the_fix(ko):
    import pandas as pd

    from llmcost_magic import batch

    with pytest.raises(batch.BatchError) as empty:
        batch.build(pd.Series(["a", " "], index=["1", "2"]), model="gpt-4o-mini", template="Title: {}")
    assert str(empty.value).startswith("요청 'row-2'이(가) 비어 있습니다: 공급사가 거절할 것입니다. 먼저 빼거나 채우세요.")
    with pytest.raises(batch.BatchError, match="배치로 보낼 것이 없습니다"):
        batch.build([], model="gpt-4o-mini")


def test_korean_cache_advise_headers_and_advice(shell, ko):
    shell.run_cell("from llmcost_magic.sandbox import client\noc = client('openai')")
    policy = "Rules: " + " ".join(f"rule {i} says package {i} ships in {i % 9 + 1} days." for i in range(400))
    body = ("oc.chat.completions.create(model='gpt-4o-mini', temperature=0, messages=[{'role': 'system', 'content': "
            "f'Today is day {d}. ' + policy}, {'role': 'user', 'content': 'q'}])")
    shell.user_ns["policy"] = policy
    shell.run_cell(f"%%llmcost --quiet\nfor d in range(3):\n    {body}\nNone")
    advice = shell.run_line_magic("llmcost", "cache advise")
    html = advice._repr_html_()
    assert "뒤에 놓인 고정 토큰" in html and "조언" in html and "stable_but_late_tokens" not in html
    assert "stable_but_late_tokens" in advice.columns and "바뀌는 부분(날짜, 이름, 질문)을 그 뒤로 옮기면" in advice["advice"].iloc[0]


def test_korean_semantic_audit_says_why_a_hit_was_served_in_korean(shell, ko):
    shell.run_cell("from llmcost_magic.sandbox import client\noc = client('openai')")
    for question in ("How do I turn on two-factor authentication?", "How can I turn on two-factor authentication?"):
        shell.run_cell("%%llmcost --quiet --cache semantic\noc.chat.completions.create(model='gpt-4o-mini', temperature=0, "
                       f"messages=[{{'role': 'user', 'content': {question!r}}}])\nNone")
    audit = shell.run_line_magic("llmcost", "cache audit")
    assert audit["why_served"].iloc[-1].startswith("same content words"), "stored as the guard said it"
    shown = messages.shown(audit)["제공한 이유"].iloc[-1]
    assert shown.startswith("내용어, 숫자, 이름, 긍정·부정이 같음; 유사도 0.9") and ">=" in shown


def test_korean_errors_for_settings_a_participant_gives(shell, ko):
    from llmcost_magic.policies.budget import Budget

    with pytest.raises(ValueError, match=r"예산은 0보다 큰 달러 금액이어야 합니다 \(받은 값: 0,"):
        Budget(0)
    shell.run_cell("from llmcost_magic.sandbox import client\noc = client('openai')")
    shell.run_cell(f"%%llmcost --quiet\n{CALL}")
    assert "cache_hit은(는) 0과 1 사이여야 합니다 (받은 값: 2.0)" in _line_error(shell, "whatif --cache-hit 2")
    assert ".html이나 .png로 내보내세요 (받은 이름: 'board.txt')" in _line_error(shell, "dashboard --export board.txt")
    shell.run_line_magic("config", "LLMCost.workshop = 'redis://127.0.0.1:1/0'")
    try:
        message = _cell_error(shell, "")
    finally:
        shell.run_line_magic("config", "LLMCost.workshop = None")
    assert "워크숍 Redis(redis://127.0.0.1:1/0)에 연결할 수 없습니다" in message and "강사에게 주소를 물어보거나" in message
