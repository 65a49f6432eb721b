"""Prices stay current: overrides reach dated snapshots and fine-tunes, updates invalidate resolved prices."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import openai
import pytest
from genai_prices import data_snapshot

import llmcost_magic
from llmcost_magic import load_price_overrides, meter
from llmcost_magic.core.price_updates import PriceUpdateError, check_prices, update_prices
from llmcost_magic.core.pricing import UnknownModelError, clear_price_overrides, invalidate_prices, price_for, price_usage
from llmcost_magic.core.records import Usage

from fake_provider import FakeProvider

M = 1e-6


@pytest.fixture(autouse=True)
def _clean_prices():
    yield
    clear_price_overrides()
    data_snapshot.set_custom_snapshot(None)
    invalidate_prices()


def _chat(model):
    return {"id": "c1", "object": "chat.completion", "created": 1, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1_000, "completion_tokens": 100, "total_tokens": 1_100}}


def test_an_override_prices_the_dated_snapshot_the_api_answers_with():
    load_price_overrides({"models": {"gpt-5.7": {"input_mtok": 3, "output_mtok": 12}}})
    with FakeProvider() as fake:
        fake.reply(_chat("gpt-5.7-2026-11-20"))
        with meter():
            openai.OpenAI(api_key="sk-test", base_url=fake.url + "/v1").chat.completions.create(
                model="gpt-5.7", messages=[{"role": "user", "content": "hi"}])
    row = llmcost_magic.ledger().iloc[0]
    assert row.model == "gpt-5.7-2026-11-20" and row.cost_usd == pytest.approx(1_000 * 3 * M + 100 * 12 * M)


def test_an_override_replaces_a_resolved_price_at_once():
    assert price_for("gpt-4o").rates.input == pytest.approx(2.5 * M)
    load_price_overrides({"models": {"gpt-4o": {"input_mtok": 1, "output_mtok": 2}}})
    assert price_for("gpt-4o-2024-11-20").rates.input == pytest.approx(1 * M)


def test_fine_tunes_are_priced_at_their_base_models_fine_tuned_rate_or_flagged():
    mini = price_usage("ft:gpt-4o-mini-2024-07-18:acme::abc123", Usage(input_tokens=1_000, output_tokens=100))
    assert mini.usd == pytest.approx(1_000 * 0.3 * M + 100 * 1.2 * M)  # fine-tuned gpt-4o-mini, not the base $0.15
    with pytest.raises(UnknownModelError) as err:
        price_for("ft:gpt-4.1-2025-04-14:acme::x1")
    message = str(err.value)
    assert "'gpt-4.1'" in message and "gpt-4o-2024-05-13" not in message and "'ft:gpt-4.1'" in message
    load_price_overrides({"models": {"ft:gpt-4.1": {"input_mtok": 3, "output_mtok": 12}}})
    assert price_for("ft:gpt-4.1-2025-04-14:acme::x1").rates.output == pytest.approx(12 * M)


def test_suggestions_ignore_dates_and_prefixes():
    with pytest.raises(UnknownModelError, match="'claude-sonnet-4-6'"):
        price_for("anthropic/claude-sonet-4-6-20260101")


class _Serve:
    def __init__(self, payload: bytes) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/data.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


NEW_DATA = [{"id": "openai", "name": "OpenAI", "api_pattern": r"https://api\.openai\.com",
             "models": [{"id": "gpt-4o", "match": {"equals": "gpt-4o"}, "prices": {"input_mtok": 9, "output_mtok": 90}}]}]


def test_an_update_reprices_models_already_resolved():
    assert price_usage("gpt-4o", Usage(input_tokens=1_000_000)).usd == pytest.approx(2.5)  # resolved and kept
    server = _Serve(json.dumps(NEW_DATA).encode())
    try:
        changed = update_prices(["gpt-4o"], url=server.url, timeout=10)
    finally:
        server.close()
    assert price_usage("gpt-4o", Usage(input_tokens=1_000_000)).usd == pytest.approx(9.0)
    assert changed.iloc[0].to_dict() == {"model": "gpt-4o", "input_before": 2.5, "input_after": 9.0,
                                         "output_before": 10.0, "output_after": 90.0}
    assert "updated" in price_for("gpt-4o").source


def test_a_failed_update_keeps_the_prices_in_use():
    server = _Serve(b"not json")
    try:
        with pytest.raises(PriceUpdateError, match="prices in use stay"):
            update_prices(["gpt-4o"], url=server.url, timeout=10)
    finally:
        server.close()
    assert price_for("gpt-4o").rates.input == pytest.approx(2.5 * M)


def test_check_lists_models_without_a_price_and_rows_recorded_unpriced(shell, recwarn):
    with FakeProvider() as fake:
        oc = openai.OpenAI(api_key="sk-test", base_url=fake.url + "/v1")
        fake.reply(_chat("my-private-llm"))
        fake.reply(_chat("gpt-9-preview"))
        with meter():
            for model in ("my-private-llm", "gpt-9-preview"):
                oc.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    load_price_overrides({"models": {"my-private-llm": {"input_mtok": 1, "output_mtok": 1}}})
    table = shell.run_line_magic("llmcost", "prices check").set_index("model")
    assert table.loc["gpt-9-preview", "status"] == "no price"
    assert table.loc["my-private-llm", "status"] == "priced now"
    assert check_prices(llmcost_magic.ledger().iloc[0:0]).empty
