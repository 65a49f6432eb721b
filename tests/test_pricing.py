
import pytest
from genai_prices import Usage as GUsage
from genai_prices import calc_price

from llmcost_magic import PriceFileError, UnknownModelError, estimate_cost, load_price_overrides
from llmcost_magic.pricing import clear_price_overrides, price_for, price_usage
from llmcost_magic.records import Usage

CASES = [
    ("gpt-4o", dict(input_tokens=12_000, cache_read_tokens=4_096, output_tokens=800)),
    ("gpt-4o-mini", dict(input_tokens=1_500, output_tokens=300)),
    ("gpt-5", dict(input_tokens=3_000, cache_read_tokens=1_024, output_tokens=2_000)),
    ("claude-sonnet-4-5", dict(input_tokens=9_000, cache_read_tokens=5_000, cache_write_tokens=2_000, output_tokens=700)),
    ("claude-sonnet-4-5", dict(input_tokens=250_000, cache_read_tokens=10_000, output_tokens=1_000)),  # long-context tier
    ("claude-haiku-4-5", dict(input_tokens=4_000, cache_write_tokens=3_000, output_tokens=100)),
]


@pytest.mark.parametrize(("model", "counts"), CASES)
def test_fast_path_equals_genai_prices(model, counts):
    expected = calc_price(GUsage(**counts), model).total_price
    usage = Usage(input_tokens=counts["input_tokens"], cached_input_tokens=counts.get("cache_read_tokens", 0),
                  cache_write_tokens=counts.get("cache_write_tokens", 0), output_tokens=counts["output_tokens"])
    assert price_usage(model, usage).usd == pytest.approx(float(expected), rel=1e-9)


def test_batch_prices_are_half():
    live = estimate_cost("gpt-4o-mini", 10_000, 1_000)
    assert estimate_cost("gpt-4o-mini", 10_000, 1_000, batch=True) == pytest.approx(live / 2)
    expected = calc_price(GUsage(input_tokens=10_000, output_tokens=1_000), "gpt-4o-mini",
                          price_context={"processing": "batch"}).total_price
    assert estimate_cost("gpt-4o-mini", 10_000, 1_000, batch=True) == pytest.approx(float(expected))


def test_one_hour_cache_writes_cost_more_than_five_minute_ones():
    five = price_usage("claude-sonnet-4-5", Usage(input_tokens=10_000, cache_write_tokens=10_000)).usd
    hour = price_usage("claude-sonnet-4-5", Usage(input_tokens=10_000, cache_write_tokens=10_000, cache_write_1h_tokens=10_000)).usd
    assert five == pytest.approx(10_000 * 3.75e-6)
    assert hour == pytest.approx(10_000 * 6e-6)


def test_unknown_model_suggests_the_nearest_and_how_to_add_a_price():
    with pytest.raises(UnknownModelError) as err:
        price_for("gpt-4oo")
    assert "'gpt-4o'" in str(err.value) and "price file" in str(err.value)


def test_unknown_model_is_priced_as_unknown_never_zero():
    with pytest.warns(UserWarning, match="my-local-llama"):
        cost = price_usage("my-local-llama", Usage(input_tokens=10, output_tokens=10))
    assert cost.usd is None and not cost.known


def test_overrides_from_yaml_and_toml(tmp_path):
    y = tmp_path / "prices.yaml"
    y.write_text("models:\n  my-llama:\n    input_mtok: 0.2\n    output_mtok: 0.4\n")
    t = tmp_path / "prices.toml"
    t.write_text('[models.my-mistral]\ninput_mtok = 1.0\noutput_mtok = 3.0\ncache_read_mtok = 0.1\n')
    try:
        assert load_price_overrides(y) == ["my-llama"]
        assert load_price_overrides(t) == ["my-mistral"]
        assert estimate_cost("my-llama", 1_000_000, 1_000_000) == pytest.approx(0.6)
        assert estimate_cost("my-mistral", 1_000_000, 0, cached_input_tokens=1_000_000) == pytest.approx(0.1)
    finally:
        clear_price_overrides()


@pytest.mark.parametrize(("text", "message"), [
    ("models:\n  x:\n    input_mtok: cheap\n    output_mtok: 1\n", "must be a number"),
    ("models:\n  x:\n    output_mtok: 1\n", "needs input_mtok"),
    ("models:\n  x:\n    input_mtok: 1\n    output_mtok: 1\n    inptu_mtok: 2\n", "unknown keys"),
    ("prices: {}\n", "top-level 'models'"),
    ("models: [1, 2\n", "not valid YAML"),
    ("models:\n  x:\n    input_mtok: -1\n    output_mtok: 1\n", ">= 0"),
])
def test_bad_price_files_name_the_problem(tmp_path, text, message):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(PriceFileError, match=message):
        load_price_overrides(f)


def test_estimate_cost_rejects_impossible_counts():
    with pytest.raises(ValueError, match="must be >= 0"):
        estimate_cost("gpt-4o", -1, 0)
    with pytest.raises(ValueError, match="counts all input"):
        estimate_cost("gpt-4o", 10, 0, cached_input_tokens=20)
