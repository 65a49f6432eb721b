"""The package's own output in Korean under one language setting, and unchanged in English by default."""

from __future__ import annotations

import ast
import re
import string
import warnings
from pathlib import Path

import pandas as pd
import pytest

import llmcost_magic
from llmcost_magic.core import messages
from llmcost_magic.notebook.display import summary_line
from llmcost_magic.core.messages_ko import KO, LABELS_KO
from llmcost_magic.metering import Totals
from llmcost_magic.notebook.widgets.live_meter import render_html

PACKAGE = Path(llmcost_magic.__file__).parent
from tests.language_fixtures import CALL, HANGUL, english_by_default, ko  # noqa: F401 - fixtures



@pytest.fixture
def oc(shell):
    shell.run_cell("from llmcost_magic.sandbox import client\noc = client('openai')")
    yield shell
    shell.config.LLMCost.pop("language", None)  # a %config value would otherwise set the next tests' language


def _totals() -> Totals:
    t = Totals()
    t.calls, t.input_tokens, t.cached_input_tokens, t.output_tokens = 3, 1204, 512, 310
    t.cost_usd, t.cache_hits, t.saved_usd, t.saved_by, t.refused = 0.0042, 1, 0.0011, {"cache": 0.0011}, 1
    return t


# ---- the catalog -------------------------------------------------------------------------------------------

def _tr_templates() -> list[tuple[str, int, object]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "tr" and node.args:
                first = node.args[0]
                found.append((path.name, node.lineno, first.value if isinstance(first, ast.Constant) else None))
    return found


def _fields(template: str) -> set[str]:
    return {f"{name}!{conv or ''}" for _, name, _, conv in string.Formatter().parse(template) if name is not None}


def test_every_message_the_package_prints_has_a_korean_entry():
    templates = _tr_templates()
    assert len(templates) > 50
    missing = [(f, line, t) for f, line, t in templates if t is not None and t not in KO]
    assert not missing, f"tr() templates with no Korean entry: {missing}"
    assert sorted(f for f, _, t in templates if t is None) == ["budget_book.py", "realtime.py"], \
        "only the budget book's scope names vary (and realtime's WARNING, a constant other code reads)"
    from llmcost_magic.intercept.realtime import WARNING

    assert WARNING in KO
    scope_names = {"per-query limit", "daily limit per user", "monthly limit per user", "session limit", "daily limit of tag {tag!r}",
                   "monthly limit of tag {tag!r}"}
    assert set(KO) - {t for _, _, t in templates} == scope_names | {WARNING}, "every other Korean entry is printed somewhere"


@pytest.mark.parametrize("english", sorted(KO))
def test_each_korean_entry_keeps_the_fields_and_is_korean(english):
    assert _fields(KO[english]) == _fields(english) - {"s!"}, "same {fields} (the English plural ending aside)"
    assert HANGUL.search(KO[english]) or english == "<b>{value}</b> {name}"  # that one only reorders


def test_labels_are_korean_and_translate_only_under_ko(monkeypatch):
    assert all(HANGUL.search(v) or v == k for k, v in LABELS_KO.items())
    assert messages.label("cost_usd") == "cost_usd"
    monkeypatch.setenv(messages.ENV, "ko")
    assert messages.label("cost_usd") == "비용(USD)" and messages.label("compression+prompt_cache") == "압축+프롬프트 캐시"
    assert messages.label("my_own_column") == "my_own_column" and messages.label(3) == 3
    people = messages.labelled(pd.DataFrame({"calls": [1]}, index=pd.Index(["batch"], name="participant")))
    assert "참가자" in repr(people) and "호출 수" in repr(people) and "batch" in repr(people), "a user's name stays"
    scenarios = messages.labelled(pd.DataFrame({"calls": [1]}, index=["batch"]), rows=True)
    assert "배치" in repr(scenarios) and list(scenarios.index) == ["batch"]


def test_set_language_accepts_the_usual_spellings_and_names_the_fix_otherwise():
    for spelling in ("ko", "KO", "ko_KR", "ko-KR", "Korean", "한국어"):
        llmcost_magic.set_language(spelling)
        assert messages.language() == "ko"
    llmcost_magic.set_language("en")
    assert messages.language() == "en"
    with pytest.raises(ValueError, match=r"set_language\('ko'\)"):
        llmcost_magic.set_language("fr")


# ---- English stays as it was ------------------------------------------------------------------------------

def test_english_summary_line_and_widget_are_unchanged_by_default():
    assert summary_line(_totals()) == ("3 calls · 1,204 in (512 cached) / 310 out tokens · $0.0042 · 1 cache hit · "
                                       "saved $0.0011 (cache $0.0011) · 1 refused by budget")
    html = render_html(_totals(), label="[demo] budget $1")
    assert "<b>3</b> calls" in html and "<b>1,204</b> input" in html and "<b>1</b> refused" in html
    assert not HANGUL.search(html)


def test_english_report_keeps_its_type_and_display(oc):
    oc.run_cell(f"%%llmcost --tag demo\n{CALL}")
    report = oc.run_line_magic("llmcost", "report")
    assert type(report) is pd.DataFrame and "cost_usd" in report._repr_html_()


def _refusals() -> list[str]:
    from llmcost_magic.intercept.call import Call
    from llmcost_magic.policies.budget import Budget
    from llmcost_magic.policies.budgets.worst_case import WorstCase

    budget, out = Budget(0.01, name="cell budget"), []
    budget.spent_usd = 0.008
    for worst in (WorstCase("gpt-4o", 1200, 2000, 1, 0.0213), WorstCase("gpt-4o", 1200, 2000, 3, 0.0613, tool_calls=2)):
        with pytest.raises(llmcost_magic.BudgetExceeded) as refused:
            budget.reserve(Call("openai", "chat.completions", "gpt-4o", {}, False), worst)
        out.append(str(refused.value))
    return out


def test_english_refusals_and_summaries_are_byte_for_byte_what_they_were():
    """Pinned from the code before the catalog (commit e4b2459)."""
    assert _refusals() == [
        "Refused before sending: this call could cost up to $0.0213 (1,200 input + 2,000 max output tokens on gpt-4o), "
        "but the cell budget of $0.0100 has $0.002000 left ($0.008000 spent or reserved); it is over by $0.0193. "
        "gpt-4o-mini would fit; or lower max_tokens, or raise the budget.",
        "Refused before sending: this call could cost up to $0.0613 (1,200 input + 2,000 max output tokens x 3 choices "
        "+ 2 built-in tool calls on gpt-4o), but the cell budget of $0.0100 has $0.002000 left ($0.008000 spent or "
        "reserved); it is over by $0.0593. Lower max_tokens, shorten the prompt, or raise the budget."]
    t = Totals(calls=1, input_tokens=20000, output_tokens=5, unpriced=1, estimated=2, errors=1, saved_usd=0.5,
               saved_by={"compression+prompt_cache": 0.3, "batch": 0.2})
    assert summary_line(t, currency="EUR", fx=0.9) == (
        "1 call · 20.0k in (0 cached) / 5 out tokens · €0.00 + unpriced · saved €0.4500 (compression+prompt_cache "
        "€0.2700, batch €0.1800) · 2 estimated · 1 failed")
    assert "<b>1</b> call &nbsp;·&nbsp; <b>20.0k</b> input &nbsp;·&nbsp; <b>0</b> cached &nbsp;·&nbsp; <b>5</b> output " \
           "&nbsp;·&nbsp; <b>$0.00 +?</b> cost &nbsp;·&nbsp; <b>0</b> cache hits &nbsp;·&nbsp; <b>$0.5000</b> saved" \
        in render_html(t, label="[x] budget $1")


def test_korean_refusals_read_in_korean_with_the_same_amounts(ko):
    first, second = _refusals()
    assert first == ("보내기 전에 거절했습니다: 이 호출은 최대 $0.0213(gpt-4o에서 입력 1,200 + 최대 출력 2,000 토큰)까지 들 수 "
                     "있는데, $0.0100짜리 셀 예산에는 $0.002000만 남았습니다 (사용 또는 예약 $0.008000). $0.0193만큼 "
                     "초과합니다. 해결: gpt-4o-mini 모델이면 들어갑니다. 아니면 max_tokens를 낮추거나 예산을 올리세요.")
    assert "x 선택지 3개 + 내장 도구 호출 2회" in second and "해결: max_tokens를 낮추거나, 프롬프트를 줄이거나" in second


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_braces_in_names_are_printed_as_given(lang, monkeypatch, tmp_path):
    """A tag, user or model holding {fields} is a value, never a template: it cannot break or inject a message."""
    from llmcost_magic.intercept.call import Call
    from llmcost_magic.policies.budget_book import BudgetBook, load_budgets
    from llmcost_magic.policies.budgets.worst_case import WorstCase, unpriced
    from llmcost_magic.session import current_ledger

    monkeypatch.setenv(messages.ENV, lang)
    book = BudgetBook(load_budgets({"default": {}, "per_tag": {"{needed}": {"daily_max_usd": 0.001}}}), user="{user}!r", segment="",
                      ledger=current_ledger(), tag="{needed}")
    with pytest.raises(llmcost_magic.BudgetExceeded) as refused:
        book.reserve(Call("openai", "chat.completions", "gpt-4o", {}, False), WorstCase("gpt-4o", 10, 10, 1, 0.01))
    assert "'{needed}'" in str(refused.value) and "{user}!r" in str(refused.value)
    assert "{0}x" in str(unpriced("{0}x"))
    assert summary_line(Totals(calls=1, saved_usd=0.1, saved_by={"{by}": 0.1})).count("{by}") == 1


# ---- Korean under ko ---------------------------------------------------------------------------------------

def test_korean_summary_line_in_won(ko):
    assert summary_line(_totals(), currency="KRW", fx=1450) == (
        "호출 3회 · 입력 1,204 (캐시 512) / 출력 310 토큰 · ₩6.09 · 캐시 적중 1회 · 절감 ₩1.60 (응답 캐시 ₩1.60) · "
        "예산 초과로 거절 1건")


def test_korean_widget_labels_put_the_name_before_the_value(ko):
    html = render_html(_totals(), label="", currency="KRW", fx=1450)
    for shown in ("호출 <b>3</b>", "입력 <b>1,204</b>", "캐시 <b>512</b>", "출력 <b>310</b>", "비용 <b>₩6.09</b>",
                  "캐시 적중 <b>1</b>", "절감 <b>₩1.60</b>", "거절 <b>1</b>"):
        assert shown in html
    assert not re.search(r"</b> (calls?|input|cached|output|cost|saved)\b", html)


def test_a_korean_cell_prints_its_summary_in_korean(oc, ko, capsys):
    same = CALL.replace("])", "], temperature=0)")
    oc.run_cell(f"%%llmcost --budget 1 --cache exact\n{same}\n{same}\nNone")
    out = capsys.readouterr().out
    assert "llmcost: 호출 2회 · 입력" in out and "캐시 적중 1회" in out and "절감" in out
    assert "calls" not in out and "saved" not in out


def test_config_language_switches_the_output_and_rejects_unknown_languages(oc, capsys, caplog):
    oc.run_line_magic("config", 'LLMCost.language = "ko"')
    oc.run_cell(f"%%llmcost\n{CALL}")
    assert "호출 1회" in capsys.readouterr().out
    oc.run_line_magic("config", 'LLMCost.language = "fr"')  # %config logs a rejected value, keeps the old one
    assert "set_language('ko')" in caplog.text and messages.language() == "ko"
    oc.run_line_magic("config", 'LLMCost.language = "en"')
    oc.run_cell(f"%%llmcost\n{CALL}")
    assert "1 call ·" in capsys.readouterr().out


def test_korean_report_headers_are_shown_while_the_columns_stay_for_code(oc, ko):
    oc.run_cell(f"%%llmcost --tag demo\n{CALL}")
    report = oc.run_line_magic("llmcost", "report --by tag")
    assert report["cost_usd"].sum() > 0 and list(report.columns[:2]) == ["tag", "calls"]
    html, text = report._repr_html_(), repr(report)
    for header in ("태그", "호출 수", "입력 토큰", "비용(USD)", "절감(USD)"):
        assert header in html and header in text
    assert "cost_usd" not in html
    derived = report[["tag", "cost_usd"]]
    assert type(derived) is pd.DataFrame, "frames computed from a report are plain DataFrames"
    import copy
    import pickle

    for kept in (pickle.loads(pickle.dumps(report)), copy.deepcopy(report), report.copy()):
        assert type(kept) is pd.DataFrame and kept.equals(pd.DataFrame(report))


def test_korean_whatif_shows_korean_headers_and_scenarios(oc, ko):
    oc.run_cell(f"%%llmcost\n{CALL}")
    table = llmcost_magic.whatif(batch=True, models=["gpt-4o"], cache_hit=0.3)
    assert table.loc["actual (re-priced)", "cost_usd"] > 0 and "recorded_cost_usd" in table.attrs
    assert list(table.index) == ["actual (re-priced)", "on gpt-4o", "batch", "response cache at 30%"]
    html = table._repr_html_()
    for shown in ("실제 (재계산)", "gpt-4o로", "배치", "응답 캐시 30%", "실제 대비", "호출의 30%를 응답 캐시가 답함", "기록된 그대로"):
        assert shown in html


def test_a_korean_refusal_names_the_problem_and_the_fix(oc, ko):
    r = oc.run_cell("%%llmcost --budget 0.00001\n" + CALL.replace("'gpt-4o-mini'", "'gpt-4o'").replace(")", ", max_tokens=2000)", 1))
    assert isinstance(r.error_in_exec, llmcost_magic.BudgetExceeded)
    message = str(r.error_in_exec)
    assert message.startswith("보내기 전에 거절했습니다: 이 호출은 최대 $")
    assert "셀 예산" in message and "초과합니다" in message and "해결:" in message and "max_tokens" in message
    assert "gpt-4o에서 입력" in message and "최대 출력 2,000 토큰" in message


def test_an_unpriced_refusal_in_korean_keeps_the_one_line_fix():
    from llmcost_magic.policies.budgets.worst_case import unpriced

    english = str(unpriced("gpt-4x"))
    messages.set_language("ko")
    korean = str(unpriced("gpt-4x"))
    fix = "llmcost_magic.load_price_overrides({'models': {'gpt-4x': {'input_mtok': 0.5, 'output_mtok': 1.5}}})"
    assert fix in english and fix in korean and "해결:" in korean and "allow_unpriced = True" in korean


def test_korean_prompt_cache_doctor_summary(ko):
    from llmcost_magic.policies.prompt_cache_doctor import DoctorReport, Finding

    finding = Finding(call=1, cell_run=1, tag="", model="claude-sonnet-4-6", reason="no breakpoint", block="system",
                      detail="no cache_control in the request", provider_reason="", input_tokens=5000, cached_tokens=0,
                      could_read_tokens=4000, miss_usd=0.0108, fix="put a cache_control breakpoint on system",
                      fix_saves_usd=0.0097)
    report = DoctorReport([finding])
    assert report.summary().startswith("프롬프트 캐시 진단: 호출 1건이")
    html = report._repr_html_()
    assert "원인" in html and "breakpoint 없음" in html and "놓친 금액(USD)" in html
    assert list(report.table.columns)[4] == "reason" and report.table.loc[0, "reason"] == "no breakpoint"


def test_korean_doctor_explains_a_timestamp_miss_and_its_fix_in_korean(ko):
    from llmcost_magic.policies.prompt_trail import current_trail
    from llmcost_magic.sandbox import ManualClock, Sandbox, client

    clock, trail = ManualClock(), current_trail()
    trail.clear()
    previous, trail.clock = trail.clock, clock
    try:
        ac = client("anthropic", sandbox=Sandbox(clock=clock))
        contract = "\n".join(f"Clause {i}: package {i} is due within {i % 20 + 10} days." for i in range(200))
        with llmcost_magic.meter(prompt_cache="auto"):
            for minute in (0, 10, 20):
                ac.messages.create(model="claude-sonnet-4-6", max_tokens=50, messages=[{"role": "user", "content": [
                    {"type": "text", "text": f"Retrieved 2026-11-30 09:{minute:02d}.\n{contract}"},
                    {"type": "text", "text": "Who are the parties?"}]}])
        report = llmcost_magic.prompt_cache_doctor()
    finally:
        trail.clock = previous
        trail.clear()
    row = report.table[report.table.reason == "prefix changed"].iloc[0]
    assert row.detail.startswith("타임스탬프 (") and row.fix.startswith("타임스탬프를 고정 접두부 뒤로 옮기세요")
    assert report.summary().startswith("프롬프트 캐시 진단: 호출 2건이") and "접두부 변경" in report._repr_html_()


@pytest.mark.parametrize(("options", "says"), [
    ("--budget 0", "--budget은(는) 0보다 커야 합니다"),
    ("--currency KRW", "--fx 달러당_단위를 붙이세요"),
    ("--ttl 1h", "--cache exact|semantic과 함께만"),
    ("--colour red", "사용법: %%llmcost"),
])
def test_korean_option_errors_name_the_fix_and_the_cell_does_not_run(oc, ko, options, says):
    r = oc.run_cell(f"%%llmcost {options}\nran = True")
    assert r.error_in_exec is not None and says in str(r.error_in_exec)
    assert "ran" not in oc.user_ns


def test_korean_dashboard_titles_and_tables(ko):
    from llmcost_magic.sandbox import client

    oc = client("openai")
    with llmcost_magic.meter(tag="ko"):
        for _ in range(2):
            oc.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        board = llmcost_magic.dashboard()
    assert not [w for w in caught if "missing from font" in str(w.message)], "the Korean titles need a Hangul font"
    assert board.title.startswith("LLM 지출: 호출 2회, $") and repr(board).startswith("<llmcost dashboard: 호출 2회")
    html = board._repr_html_()
    assert "가장 비싼 호출 2건" in html and "비용(USD)" in html and "셀별 공급사 프롬프트 캐싱" in html


# ---- a real kernel on the Korean track ---------------------------------------------------------------------

@pytest.mark.notebook
def test_a_korean_track_cell_shows_its_summary_in_korean_in_a_real_kernel(tmp_path, monkeypatch):
    import sys

    import nbformat
    from nbclient import NotebookClient

    sys.path.insert(0, str(PACKAGE.parent / "tools"))
    import korean_track

    monkeypatch.setenv("LLMCOST_LEDGER", str(tmp_path / "ledger.sqlite3"))
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    cells = [korean_track.KOREAN_SETUP + "\nclient = openai_client()",
             "%%llmcost --tag ko --budget 1 --cache exact\nclient.chat.completions.create(model='gpt-4o-mini', "
             "messages=[{'role': 'user', 'content': '안녕하세요'}], max_tokens=20)\nNone"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    shown = [o for o in nb.cells[1].outputs if o.get("output_type") == "display_data"]
    assert shown, nb.cells[1].outputs
    html, text = shown[-1]["data"]["text/html"], shown[-1]["data"]["text/plain"]
    assert "호출 <b>1</b>" in html and "비용 <b>₩" in html and "입력 <b>" in html
    assert "[ko] 예산 $1 exact 캐시" in html
    assert "호출 1회 · 입력" in text and "₩" in text and " call" not in text
