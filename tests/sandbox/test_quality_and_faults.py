"""The quality model is reproducible; faults and bad input come back in each provider's shape."""

from __future__ import annotations

import json

import anthropic
import httpx2
import openai
import pytest

from llmcost_magic.sandbox import Sandbox, client, is_correct, load_eval_set
from llmcost_magic.sandbox.quality import p_correct


def _accuracy(model: str, seed: int = 0) -> tuple[float, list[str]]:
    oc = client("openai", sandbox=Sandbox(seed=seed))
    right = []
    for item in load_eval_set():
        text = oc.chat.completions.create(model=model, messages=[{"role": "user", "content": item["question"]}]).choices[0].message.content
        if is_correct(item, text):
            right.append(item["id"])
    return len(right) / len(load_eval_set()), right


def test_eval_set_is_labelled_and_bilingual():
    items = load_eval_set()
    assert len(items) >= 30 and sum(i["lang"] == "ko" for i in items) >= 8
    assert {"translation", "summarisation", "classification", "extraction", "analysis", "reasoning", "code"} <= {i["category"] for i in items}


def test_accuracy_is_reproducible_and_ordered_by_capability():
    large, right_large = _accuracy("gpt-4o")
    again, right_again = _accuracy("gpt-4o")
    small, _ = _accuracy("gpt-4.1-nano")
    assert right_large == right_again and large == again
    assert large > small + 0.1


def test_dropping_needed_context_lowers_the_chance():
    item = next(i for i in load_eval_set() if i["keywords"])
    full = p_correct("gpt-4o", item, item["question"])
    stripped = item["question"]
    for keyword in item["keywords"]:
        stripped = stripped.replace(keyword, "")
    assert p_correct("gpt-4o", item, stripped) < full


MSG = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(("fault", "error"), [("429", openai.RateLimitError), ("500", openai.InternalServerError)])
def test_openai_faults(sandbox_server, fault, error):
    oc = client("openai", base_url=sandbox_server.openai_base_url, max_retries=0)
    with pytest.raises(error) as err:
        oc.chat.completions.create(model="gpt-4o-mini", messages=MSG, extra_headers={"x-sandbox-fault": fault})
    if fault == "429":
        assert err.value.response.headers["retry-after"] == "1"


def test_anthropic_overloaded(sandbox_server):
    ac = client("anthropic", base_url=sandbox_server.anthropic_base_url, max_retries=0)
    with pytest.raises(anthropic.APIStatusError) as err:
        ac.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MSG, extra_headers={"x-sandbox-fault": "529"})
    assert err.value.status_code == 529 and err.value.body["error"]["type"] == "overloaded_error"


@pytest.mark.parametrize("over_http", [False, True])
def test_a_cut_stream_raises_mid_iteration(sandbox_server, over_http):
    oc = client("openai", base_url=sandbox_server.openai_base_url if over_http else None, max_retries=0)
    received = 0
    with pytest.raises(Exception):
        for _ in oc.chat.completions.create(model="gpt-4o-mini", messages=MSG, stream=True, extra_headers={"x-sandbox-fault": "cut"}):
            received += 1
    assert received > 0


def test_bad_input_gets_the_providers_error_shapes(sandbox_server):
    oc = client("openai", base_url=sandbox_server.openai_base_url, max_retries=0)
    ac = client("anthropic", base_url=sandbox_server.anthropic_base_url, max_retries=0)
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        oc.chat.completions.create(model="gpt-9-imaginary", messages=MSG)
    with pytest.raises(anthropic.NotFoundError):
        ac.messages.create(model="claude-imaginary", max_tokens=10, messages=MSG)
    missing = httpx2.post(sandbox_server.anthropic_base_url + "/v1/messages", json={"model": "claude-haiku-4-5", "messages": MSG},
                          headers={"anthropic-version": "2023-06-01"})  # the SDK itself refuses to send this
    assert missing.status_code == 400 and "max_tokens" in missing.json()["error"]["message"]
    with pytest.raises(openai.BadRequestError, match="maximum context length"):
        oc.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "word " * 130_000}])
    raw = httpx2.post(sandbox_server.openai_base_url + "/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert raw.status_code == 400 and json.loads(raw.content)["error"]["type"] == "invalid_request_error"
    raw = httpx2.post(sandbox_server.anthropic_base_url + "/v1/messages", content=b"[]", headers={"anthropic-version": "2023-06-01"})
    assert raw.status_code == 400 and raw.json()["type"] == "error"
    assert oc.chat.completions.create(model="gpt-4o-mini", messages=MSG).choices  # still serving


def test_stop_sequences_the_apis_reject_are_rejected_here_too():
    """So that a course run on the sandbox fails where the real API would: Anthropic refuses a stop sequence of
    whitespace only, OpenAI more than 4 stop sequences."""
    oc, ac = client("openai", max_retries=0), client("anthropic", max_retries=0)
    with pytest.raises(anthropic.BadRequestError, match="non-whitespace"):
        ac.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MSG, stop_sequences=["\n\n"])
    with pytest.raises(openai.BadRequestError, match="maximum length 4"):
        oc.chat.completions.create(model="gpt-4o-mini", messages=MSG, stop=["a", "b", "c", "d", "e"])
    assert ac.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=MSG, stop_sequences=["END"]).content
    assert oc.chat.completions.create(model="gpt-4o-mini", messages=MSG, stop=["a", "b", "c", "d"]).choices
