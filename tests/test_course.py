"""The course as a product: a Korean track that cannot drift from the English one, exercises that check
themselves, and a 3-hour workshop path that adds up.

The English notebook is the single source: each markdown cell carries its Korean text in ``metadata.ko`` and
``tools/korean_track.py`` writes ``notebooks/ko/``. These tests fail when a markdown cell has no Korean text,
when a Korean notebook differs from what the generator writes now, when code differs between the tracks, or
when a key number differs between them.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import korean_track  # noqa: E402
from test_notebooks import _output_text, key_numbers, normalise  # noqa: E402

ENGLISH = korean_track.english_notebooks()
IDS = [p.stem for p in ENGLISH]
HANGUL = re.compile(r"[\uac00-\ud7a3]")
EXECUTED_IN_TESTS = ("00", "01")  # the other Korean notebooks: identical code, key numbers compared below
OWN_LESSONS = ("00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10")  # the lessons with exercises so far


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def test_the_track_lists_existing_lessons():
    assert {p.name[:2] for p in ENGLISH} == set(korean_track.TRACK)


@pytest.mark.parametrize("path", ENGLISH, ids=IDS)
def test_every_markdown_cell_has_korean_text(path):
    nb = _read(path)
    assert not korean_track.untranslated(nb), f"{path.name}: markdown cells without metadata.ko"
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            assert HANGUL.search(cell.metadata["ko"]), f"{path.name} cell {index}: its Korean text has no Hangul"


LESSON_LINK = re.compile(r"\]\((\.\./)?(\d\d)_[^)]*\.ipynb\)")


@pytest.mark.parametrize("path", ENGLISH, ids=IDS)
def test_korean_links_stay_in_the_korean_track(path):
    """A Korean lesson links to its Korean neighbours, and to ../ (English) only for a lesson not translated yet."""
    for index, cell in enumerate(_read(path).cells):
        for up, lesson in LESSON_LINK.findall(cell.metadata.get("ko", "")):
            assert bool(up) == (lesson not in korean_track.TRACK), \
                f"{path.name} cell {index}: the Korean link to {lesson} should be " + \
                ("ko/ (drop ../)" if up else "../ (not translated)")


@pytest.mark.parametrize("path", ENGLISH, ids=IDS)
def test_the_korean_notebook_is_what_the_generator_writes_now(path):
    committed = korean_track.twin(path)
    assert committed.exists(), f"{committed.name} is missing: run python tools/korean_track.py"
    now = korean_track.generate(path)
    assert [korean_track.shape(c) for c in _read(committed).cells] == [korean_track.shape(c) for c in now.cells], \
        f"ko/{path.name} is stale: run python tools/korean_track.py (then tools/execute_notebooks.py)"


@pytest.mark.parametrize("path", ENGLISH, ids=IDS)
def test_code_is_identical_in_both_tracks(path):
    """Checked without the generator: the same code cells, in the same order, but for one setup line."""
    english, korean = _read(path), _read(korean_track.twin(path))
    en_code = [c.source for c in english.cells if c.cell_type == "code"]
    ko_code = [c.source for c in korean.cells if c.cell_type == "code"]
    assert en_code[0] == korean_track.SETUP and ko_code[0] == korean_track.KOREAN_SETUP
    assert ko_code[1:] == en_code[1:]
    assert [c.cell_type for c in english.cells] == [c.cell_type for c in korean.cells]
    assert HANGUL.search(korean.cells[-1].source) and korean.cells[-1].source.startswith("## 배운 것")


def _table_cells(output) -> str | None:
    """A returned table's data cells, from its HTML: its text form is cut to the console's width, and Korean
    headers are wider, so each track's text shows other columns."""
    html = str(output.get("data", {}).get("text/html", ""))
    if output.get("output_type") != "execute_result" or "<table" not in html:
        return None
    return "\n".join(re.findall(r"<td[^>]*>(.*?)</td>", html, re.S))


def _numbers(cell) -> list[str]:
    """The numbers a key-numbers cell printed or returned (the meter's own line is in won on the Korean track)."""
    text = "\n".join(t if (t := _table_cells(o)) is not None else _output_text(o)
                     for o in cell.get("outputs", []) if o.get("output_type") != "display_data")
    text += "\n".join(str(o.get("data", {}).get("text/plain", "")) for o in cell.get("outputs", [])
                      if o.get("output_type") == "display_data" and "text/html" not in o.get("data", {}))
    return sorted(re.findall(r"\d+(?:,\d{3})*(?:\.\d+)?", normalise(text)))  # a comma only as a thousands separator


@pytest.mark.parametrize("path", ENGLISH, ids=IDS)
def test_key_numbers_are_the_same_in_both_tracks(path):
    english, korean = _read(path), _read(korean_track.twin(path))
    compared = 0
    for index, (en, ko) in enumerate(zip(english.cells, korean.cells)):
        if en.cell_type == "code" and "key-numbers" in en.metadata.get("tags", []):
            assert _numbers(en) == _numbers(ko), f"{path.name} cell {index}: the tracks' numbers differ (re-execute both)"
            compared += 1
    assert compared


@pytest.mark.notebook
@pytest.mark.parametrize("lesson", EXECUTED_IN_TESTS)
def test_korean_lesson_runs_offline_in_korean(lesson, tmp_path, monkeypatch):
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "LLMCOST_LANG"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("LLMCOST_LEDGER", str(tmp_path / "ledger.sqlite3"))
    monkeypatch.setenv("LLMCOST_CACHE", str(tmp_path / "cache.sqlite3"))
    path = next(korean_track.KOREAN.glob(f"{lesson}_*.ipynb"))
    nb = _read(path)
    committed = key_numbers(nb)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    text = "\n".join(_output_text(o) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "시뮬레이션" in text and "₩" in text, "the Korean track says it is simulated, and shows won"
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("output_type") == "error"]
    assert key_numbers(nb) == committed, f"ko/{path.name}: key numbers differ from the committed run"


# ---- exercises ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lesson", OWN_LESSONS)
def test_each_lesson_has_exercises_with_a_check_and_a_hidden_solution(lesson):
    nb = _read(next((ROOT / "notebooks").glob(f"{lesson}_*.ipynb")))
    headings = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and "Try it yourself" in c.source]
    assert headings and "직접 해보기" in nb.cells[headings[0]].metadata["ko"]
    exercise, solution = nb.cells[headings[0] + 1], nb.cells[headings[0] + 2]
    assert "check_" in exercise.source and "None" in exercise.source
    assert solution.metadata.get("jupyter", {}).get("source_hidden") is True and "check_" in solution.source
    says = "".join(_output_text(o) for o in exercise.outputs)
    assert "Not yet" in says and "Correct" not in says, "the exercise's default must be reported as not yet"
    assert "Correct" in "".join(_output_text(o) for o in solution.outputs), "the hidden solution must pass its check"


def test_checks_say_not_yet_without_raising_and_accept_the_answer(capsys):
    from llmcost_magic import exercises

    ask = [{"role": "user", "content": "Write a long essay about tokens."}]
    assert exercises.check_max_tokens_fits(None, model="gpt-4o", messages=ask, budget_usd=0.002) is False
    assert exercises.check_max_tokens_fits(195, model="gpt-4o", messages=ask, budget_usd=0.002) is False
    assert exercises.check_max_tokens_fits(197, model="gpt-4o", messages=ask, budget_usd=0.002) is False
    assert exercises.check_max_tokens_fits(196, model="gpt-4o", messages=ask, budget_usd=0.002) is True
    assert exercises.check_output_cap(50, output_tokens=[40, 80]) is False
    assert exercises.check_output_cap(400, output_tokens=[40, 80]) is False
    assert exercises.check_output_cap(100, output_tokens=[40, 80]) is True
    assert exercises.check_pinned_facts("order NR-1", facts=["NR-1", "Busan"], model="gpt-4o", max_tokens=20) is False
    assert exercises.check_pinned_facts("order NR-1, Busan", facts=["NR-1", "Busan"], model="gpt-4o", max_tokens=20)
    assert exercises.check_fallback_model("gpt-4.1-mini", model="gpt-4o", messages=ask, max_tokens=4000, left_usd=0.004) is False
    assert exercises.check_fallback_model("gpt-4o-mini", model="gpt-4o", messages=ask, max_tokens=4000, left_usd=0.004)
    out = capsys.readouterr().out
    assert out.count("Not yet") == 7 and out.count("Correct") == 4


def test_the_threshold_check_wants_the_lowest_that_keeps_wrong_answers_down(capsys):
    from llmcost_magic.exercises import check_threshold_alone

    sims, same = [0.99, 0.93, 0.95, 0.91, 0.80], [True, True, False, False, False]
    assert check_threshold_alone(None, similarities=sims, same=same) is False
    assert check_threshold_alone(0.95, similarities=sims, same=same) is False      # serves the 0.95 near miss
    assert check_threshold_alone(0.97, similarities=sims, same=same) is False      # 0.96 serves none either
    assert check_threshold_alone(0.96, similarities=sims, same=same) is True
    assert check_threshold_alone(0.92, similarities=sims, same=same, max_false_hits=1) is True
    out = capsys.readouterr().out
    assert out.count("Not yet") == 3 and "50% of the paraphrases" in out


def test_the_rate_check_wants_the_gentlest_rate_that_keeps_every_rule(capsys):
    from llmcost_magic.evaluation.sandbox_runs import support_prompt
    from llmcost_magic.exercises import check_gentlest_rate

    text = support_prompt("en")
    assert check_gentlest_rate(0.75, text=text, lang="en", max_tokens=340) is False   # 361 tokens
    assert check_gentlest_rate(0.65, text=text, lang="en", max_tokens=340) is False   # 0.7 fits too
    assert check_gentlest_rate(0.7, text=text, lang="en", max_tokens=340) is True


def test_the_cascade_check_holds_the_validator_to_accuracy_and_cost(capsys):
    from llmcost_magic.exercises import check_cascade_validator

    runs = {"lax": {"accuracy": 0.68, "cost_usd": 0.007}, "strict": {"accuracy": 0.83, "cost_usd": 0.09},
            "good": {"accuracy": 0.80, "cost_usd": 0.04}}
    goal = {"replay": runs.get, "strong_cost_usd": 0.114, "min_accuracy": 0.78, "max_cost_share": 0.40}
    assert check_cascade_validator(None, **goal) is False
    assert check_cascade_validator("lax", **goal) is False
    assert check_cascade_validator("strict", **goal) is False
    assert check_cascade_validator("good", **goal) is True
    out = capsys.readouterr().out
    assert "too many wrong" in out and "escalates too often" in out


def test_the_step_share_check_divides_by_the_whole_saving(capsys):
    from llmcost_magic.exercises import check_step_share

    bills = {"baseline_usd": 1480.0, "before_step_usd": 1480.0, "after_step_usd": 296.0, "optimised_usd": 20.0}
    assert check_step_share(0.80, **bills) is False            # the step's saving over the baseline bill
    assert check_step_share(81.1, **bills) is True             # 1,184 / 1,460, given in percent
    assert check_step_share(0.811, **bills) is True
    assert capsys.readouterr().out.count("Correct") == 2


def test_the_stable_prefix_check_asks_the_doctor(capsys):
    from llmcost_magic.exercises import check_stable_prefix
    from llmcost_magic.sandbox import client as sandbox_client

    claude = sandbox_client("anthropic")
    policy = "Policy. " + " ".join(f"Clause {i}: returns within {i % 30 + 1} days." for i in range(400))
    names, questions = ["Kim", "Lee", "Park"], ["Refund?", "Receipt?", "Shipping?"]
    name_first = lambda n, q: {"system": f"Customer: {n}.\n{policy}", "messages": [{"role": "user", "content": q}]}
    name_dropped = lambda n, q: {"system": policy, "messages": [{"role": "user", "content": q}]}
    name_last = lambda n, q: {"system": policy, "messages": [{"role": "user", "content": f"({n}) {q}"}]}
    kwargs = {"client": claude, "model": "claude-sonnet-4-6", "names": names, "questions": questions}
    assert check_stable_prefix(name_first, **kwargs) is False
    assert check_stable_prefix(name_dropped, **kwargs) is False
    assert check_stable_prefix(name_last, **kwargs) is True
    assert "changed prefixes" in capsys.readouterr().out


# ---- token boundaries ---------------------------------------------------------------------------------------

def test_token_pieces_add_up_to_the_count_and_spell_the_text():
    from llmcost_magic import count_tokens
    from llmcost_magic.cookbook import show_tokens

    text = "내 계정에서 2단계 인증을 켜려면 어떻게 해야 하나요?"
    pieces = show_tokens(text)
    assert pieces.count("o200k_base") == count_tokens(text, model="gpt-4o")
    assert pieces.count("cl100k_base") == count_tokens(text, model="gpt-4")
    for name in ("o200k_base", "cl100k_base"):
        assert "".join(p for p, _ in pieces.pieces[name]) == text
    assert any(n > 1 for _, n in pieces.pieces["cl100k_base"]), "cl100k splits Korean syllables into bytes"
    html = pieces._repr_html_()
    assert "<script" not in html and html.count("<span") == sum(len(p) for p in pieces.pieces.values())


# ---- the workshop path --------------------------------------------------------------------------------------

def test_the_workshop_path_fits_in_three_hours():
    guide = (ROOT / "notebooks" / "README.md").read_text(encoding="utf-8")
    section = guide.split("## A 3-hour workshop", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if re.match(r"\|\s*\d+:\d\d", line)]
    minutes = [int(re.findall(r"\|\s*(\d+)\s*min\s*\|", row)[0]) for row in rows]
    assert rows and sum(minutes) <= 180, f"the path takes {sum(minutes)} minutes"
    starts = [int(h) * 60 + int(m) for h, m in (re.match(r"\|\s*(\d+):(\d\d)", r).groups() for r in rows)]
    assert starts == [sum(minutes[:i]) for i in range(len(minutes))], "each block starts when the previous one ends"
    assert "break" in section.lower() and "setup" in section.lower()


def test_the_projected_room_totals_everyone(redis_url, capsys):
    """The instructor's projected dashboard: the room's total first, equal to the sum of the participants."""
    import llmcost_magic
    from llmcost_magic import workshop
    from llmcost_magic.cookbook import project_room
    from llmcost_magic.sandbox import client

    url = redis_url.rsplit("/", 1)[0] + "/11"
    import redis

    redis.Redis.from_url(url).flushdb()
    workshop.configure(url, daily_limit_usd=1.0)
    oc = client("openai")
    for who in ("ana", "ben"):
        with llmcost_magic.meter(workshop=url, user=who):
            oc.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": f"hi from {who}"}])
    table = project_room(url, rounds=1)
    assert list(table.index) == ["(room total)", "ana", "ben"] or list(table.index) == ["(room total)", "ben", "ana"]
    assert table.loc["(room total)", "calls"] == 2
    assert table.loc["(room total)", "spent_usd"] == pytest.approx(table.drop("(room total)")["spent_usd"].sum())
    assert table.loc["(room total)", "spent_usd"] > 0


def test_the_moved_step_check_wants_the_same_change_on_the_new_base(capsys):
    """Exercise 10.2: a step's change moved onto the baseline; right answers are replayed, wrong ones are not."""
    from dataclasses import dataclass, field, replace

    from llmcost_magic.exercises import check_moved_step, moved_step

    @dataclass(frozen=True)
    class Step:
        name: str
        change: str
        model: str
        max_tokens: int = 4096
        policies: dict = field(default_factory=dict)
        summary_words: int | None = None

    base = Step("0 baseline", "premium", "opus")
    routed = replace(base, name="6 routing", change="cascade", model="sonnet", policies={"route": "cascade"})
    limits = replace(routed, name="7 limits", change="short answers", max_tokens=320,
                     policies={"route": "cascade", "concise": 80}, summary_words=60)
    assert moved_step(limits, previous=routed, onto=base) == replace(base, max_tokens=320, policies={"concise": 80},
                                                                     summary_words=60)
    replayed = []

    def bill(step):
        replayed.append(step.name)
        return 150.0

    goal = {"moved": limits, "previous": routed, "onto": base, "monthly_bill": bill, "onto_usd": 500.0,
            "in_place_before_usd": 75.0, "in_place_after_usd": 23.0}
    assert check_moved_step(None, **goal) is False
    assert check_moved_step(replace(base, max_tokens=320, policies={"concise": 80}), **goal) is False  # summaries forgotten
    assert check_moved_step(replace(limits, name="x"), **goal) is False                           # still routed, not moved
    assert replayed == [], "a wrong step is not replayed"
    assert check_moved_step(replace(base, name="mine", max_tokens=320, policies={"concise": 80}, summary_words=60), **goal)
    assert replayed == ["7 limits, moved first"]
    out = capsys.readouterr().out
    assert "summary_words" in out and "$350 a month (70% of the bill)" in out and "6.7x the dollars" in out


# ---- Korean plots -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("label", ["절감 − 비용", "검사 통과 ✓", "지연 870 µs"])
def test_korean_plots_fall_back_to_a_font_that_has_the_glyph(label, monkeypatch, recwarn, caplog):
    """NanumGothic has no minus sign (U+2212), check mark or micro sign: the Korean track's plots fall back to
    DejaVu Sans (shipped with matplotlib) for them instead of drawing a box, also on the tick labels' minus."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from llmcost_magic.cookbook import korean

    monkeypatch.setenv("LLMCOST_LANG", "en")  # korean() switches it: the teardown puts the original back
    monkeypatch.setattr("IPython.get_ipython", lambda: None)  # nor may it set won on the tests' shared shell
    with matplotlib.rc_context():
        korean()
        fig = Figure()
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.plot([-2, -1, 0], [-0.5, 0, 0.5])
        ax.set_title(label)
        ax.set_xlabel("월 청구액 (USD)")
        fig.canvas.draw()
        assert matplotlib.rcParams["font.family"][0] == "NanumGothic"
    missing = [str(w.message) for w in recwarn if "missing from" in str(w.message)]
    missing += [r.getMessage() for r in caplog.records if "missing from" in r.getMessage()]
    assert not missing, missing
