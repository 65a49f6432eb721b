"""The shared language helpers: negation cues in English and Korean, polarity, Korean morphemes offline."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from llmcost_magic.language import korean, language_of, negations, polarity


@pytest.mark.parametrize("text, expected", [
    ("Never share it unless they ask.", [("Never", "negation"), ("unless", "restriction")]),
    ("You may not share data and must not be rude.", [("may not", "prohibition"), ("must not", "prohibition")]),
    ("Don't lie; I can't, won't, cannot do it without approval, nor this.",
     [("Don't", "negation"), ("can't", "negation"), ("won't", "negation"), ("cannot", "negation"),
      ("without", "negation"), ("nor", "negation")]),
    ("Only refunds within 30 days, at most 2, except Plus; you must always ask.",
     [("Only", "restriction"), ("at most", "restriction"), ("except", "restriction"), ("must", "obligation"),
      ("always", "obligation")]),
    ("No more than 2, no later than May; no refunds.", [("No more than", "restriction"), ("no later than", "restriction"),
                                                       ("no", "negation")]),
    ("If asked, say so when needed.", [("If", "condition"), ("when", "condition")]),
    ("Nothing here is notable or knowable.", [("Nothing", "negation")]),  # 'not' inside words is no cue
])
def test_english_cues(text, expected):
    assert [(c.text, c.kind) for c in negations(text, "en")] == expected


@pytest.mark.parametrize("text, expected", [
    ("영구적으로 삭제되며, 복구할 수 없습니다.", [("수 없", "negation")]),
    ("고객의 비밀번호를 절대 묻지 마세요.", [("절대", "obligation"), ("마", "prohibition")]),
    ("하지 말고 보고하세요.", [("말", "prohibition")]),
    ("내용을 지어내지 마시고, 대화를 시작할 때에는 인사하세요.", [("마시", "prohibition"), ("때", "condition")]),
    ("개인정보를 공유하면 안 됩니다.", [("면", "condition"), ("안 됩", "prohibition")]),  # 안 되다: one cue
    ("이 기능은 사용 불가합니다. 무단 복제 금지.", [("불가", "prohibition"), ("금지", "prohibition")]),
    ("완료하지 못했다. 그는 학생이 아니다. 답하지 않습니다.", [("못", "negation"), ("아니", "negation"), ("않", "negation")]),
    ("환불은 30일 이내에만 가능합니다.", [("이내", "restriction"), ("만", "restriction")]),
    ("안내해 드리고 말씀해 주세요. 마감은 내일입니다.", []),  # 안내, 말씀, 마감 are not 안/말다
])
def test_korean_cues_on_morphemes(text, expected):
    assert [(c.text, c.kind) for c in negations(text, "ko")] == expected
    assert all(text[c.start:c.end] == c.text for c in negations(text))


def test_polarity_and_language():
    assert polarity("Do not turn off two-factor authentication") == -1
    assert polarity("Turn off two-factor authentication") == 1
    assert polarity("2단계 인증을 끄지 마세요") == -1 and polarity("2단계 인증을 끄세요") == 1
    assert polarity("결제가 안 되나요?") == -1 and polarity("결제가 되나요?") == 1  # before: 안 + 되 counted twice
    # contracted forms of 아니다 (아닌, 아닙니다) and 맙시다: before, the surface pre-filter never sent them to Kiwi
    assert polarity("BERT가 무엇이 아닌가요?") == -1 and polarity("그건 제 것이 아닙니다") == -1
    assert polarity("오늘은 하지 맙시다") == -1
    assert language_of("고객의 비밀번호는 Acme Cloud 계정") == "ko" and language_of("Acme Cloud") == "en"


def test_morphemes_offsets_and_word_cache():
    text = "복구할 수 없습니다"
    found = korean.morphemes(text)
    assert ("없", "VA") in [(m.form, m.tag) for m in found]
    assert all(m.start + m.len <= len(text) for m in found)
    assert korean.word_morphemes("Acme") == ()
    assert korean.stem("사용자는") == "사용자"


def test_kiwi_loads_offline_without_network():
    """The model ships in the wheel: Kiwi loads with every network path blocked."""
    code = ("import socket\n"
            "def refuse(*a, **k): raise OSError('network blocked in test')\n"
            "socket.socket.connect = refuse; socket.create_connection = refuse\n"
            "from llmcost_magic.language import negations\n"
            "print([c.text for c in negations('복구할 수 없습니다', 'ko')])\n")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "수 없" in out.stdout
