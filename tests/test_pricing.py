
import pytest
from genai_prices import Usage as GUsage
from genai_prices import calc_price

from llmcost_magic import PriceFileError, UnknownModelError, estimate_cost, load_price_overrides
from llmcost_magic.core.pricing import clear_price_overrides, price_for, price_usage
from llmcost_magic.core.records import Usage

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


# Variants and units besides text tokens: our prepared table equals genai-prices' own calc_price.
VARIANTS = [
    ("gpt-4o", {"service_tier": "priority"}, dict(input_tokens=9_000, output_tokens=700), {"service_tier": "priority"}),
    ("o3", {"service_tier": "flex"}, dict(input_tokens=9_000, cache_read_tokens=1_000, output_tokens=700),
     {"service_tier": "flex"}),
    ("claude-opus-4-8", {"speed": "fast"}, dict(input_tokens=5_000, cache_write_tokens=1_000, output_tokens=300), {"speed": "fast"}),
    ("gpt-realtime", None, dict(input_tokens=1_000, input_audio_tokens=800, output_tokens=100, output_audio_tokens=90),
     {"audio_input_tokens": 800, "audio_output_tokens": 90}),
    ("gpt-image-1.5", None, dict(input_tokens=300, output_tokens=4_000, output_image_tokens=3_900),
     {"image_output_tokens": 3_900}),
    ("tts-1", None, dict(input_characters=2_345), {"characters": 2_345}),
    ("gpt-4o", None, dict(input_tokens=1_000, output_tokens=100, web_searches=3, storage_searches=2),
     {"tool_calls": {"web_search": 3, "file_search": 2}}),
    ("claude-sonnet-4-5", None, dict(input_tokens=250_000, output_tokens=100, web_searches=2),
     {"tool_calls": {"web_search": 2}}),
]


@pytest.mark.parametrize(("model", "context", "counts", "details"), VARIANTS)
def test_variants_and_units_equal_genai_prices(model, context, counts, details):
    expected = calc_price(GUsage(**counts), model, price_context=context).total_price
    usage = Usage(input_tokens=counts.get("input_tokens", 0), cached_input_tokens=counts.get("cache_read_tokens", 0),
                  cache_write_tokens=counts.get("cache_write_tokens", 0), output_tokens=counts.get("output_tokens", 0),
                  details=details)
    cost = price_usage(model, usage)
    assert cost.usd == pytest.approx(float(expected), rel=1e-9) and "unpriced" not in cost.note


def test_our_own_price_and_image_tables_are_sourced_and_dated():
    from importlib import resources

    import yaml

    data = resources.files("llmcost_magic").joinpath("data")
    extra = yaml.safe_load(data.joinpath("extra_prices.yaml").read_text(encoding="utf-8"))
    images = yaml.safe_load(data.joinpath("image_tokens.yaml").read_text(encoding="utf-8"))
    for entry in [*extra["models"], *extra["tools"], images["openai"], images["anthropic"]]:
        assert str(entry["source"]).startswith("https://") and len(str(entry["date"])) == 10, entry
