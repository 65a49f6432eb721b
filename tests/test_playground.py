"""The compression playground widget: it renders, recomputes as the slider moves, shows what was removed,
the rules and negations, the risky removals, and leaves static HTML where widgets cannot render."""

from __future__ import annotations

from llmcost_magic.compression import compress
from llmcost_magic.notebook.widgets.compression_playground import CompressionPlayground, examples, highlight

PROMPT = ("You are a helpful support assistant for Acme Cloud. Please always make sure that you answer every "
          "single question politely. Refunds take 5 to 7 business days after the billing team approves them. "
          "The Premium Plan costs $29 per month.")


def test_playground_renders_and_follows_the_slider():
    pg = CompressionPlayground(PROMPT, rate=0.7)
    first = pg.last
    assert "line-through" in pg.output.value and "saved per 1,000 calls" in pg.stats.value
    assert "$29" in pg.output.value and "numbers kept" in pg.stats.value and "rules kept whole" in pg.stats.value
    pg.rate.value = 0.3
    assert pg.last.tokens_after < first.tokens_after  # recomputed on the move
    assert pg.rate.continuous_update
    pg.rate.value = 0.7
    assert pg.last is first and pg.last_seconds < 0.01  # memoised: moving back is instant


def test_playground_methods_errors_and_empty_prompt():
    pg = CompressionPlayground(PROMPT)
    pg.method.value = "format"
    assert pg.rate.disabled and "no-op" in pg.stats.value
    pg.method.value = "fewshot"
    assert "needs the question" in pg.stats.value and pg.output.value == ""
    pg.method.value = "llmlingua2"
    assert not pg.rate.continuous_update  # slow methods recompute on release
    assert "LLMCOST_LLMLINGUA2_MODEL" in pg.stats.value  # no model here: the fix is shown, nothing raised
    pg.prompt.value = "  "
    assert "Paste a prompt" in pg.stats.value


def test_rules_and_negations_are_highlighted_and_a_reversal_is_a_red_count():
    pg = CompressionPlayground()
    pg.example.value = "Korean rules"
    assert pg.prompt.value == examples()["Korean rules"]
    assert "0 risky removals" in pg.stats.value and "ko: " in pg.stats.value
    assert "background:#fff6d6" in pg.output.value and "text-decoration:underline" in pg.output.value
    pg.example.value = "English support prompt"
    assert "en: " in pg.stats.value and "rules whole" in pg.stats.value
    # A compressor that reverses a rule (as the old selective did) shows it in red.
    original = "Never share the password. Plans cost $6 per month."
    from llmcost_magic.compression import Compressed

    reversed_rule = Compressed(original, "share password. Plans cost $6 per month.", "selective", 0.5)
    html = highlight(reversed_rule)
    assert "color:#c00" in html  # the dropped "Never" is a risky removal
    from llmcost_magic.compression import measure
    from llmcost_magic.notebook.widgets.compression_playground import _stats_html

    stats = _stats_html(reversed_rule, measure(reversed_rule, similarity=False), 1000)
    assert "1 risky removal" in stats and "1 reversed" in stats and "color:#c00" in stats


def test_static_html_is_left_where_widgets_cannot_render():
    pg = CompressionPlayground(examples()["English rules"], rate=0.5)
    bundle = pg._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    static = bundle["text/html"]
    assert "rules kept whole" in static and "saved per 1,000 calls" in static and "Never" in static
    assert compress(examples()["English rules"], "selective", rate=0.5).text  # same computation as shown


def test_a_plugin_compressor_is_offered_and_runs_in_the_playground():
    from llmcost_magic import plugins

    class Upper:
        def compress(self, text, *, rate=None, query="", model="gpt-4o"):
            return text.upper()

    try:
        plugins.register_compressor("upper", Upper)
        pg = CompressionPlayground(PROMPT)
        assert "upper" in pg.method.options
        pg.method.value = "upper"
        assert pg.last.text == PROMPT.upper()
        assert CompressionPlayground(PROMPT, method="upper").last.text == PROMPT.upper()
        plugins.register_compressor("broken", lambda: type("Broken", (), {"compress": lambda self, text, **kw: 1 / 0})())
        pg = CompressionPlayground(PROMPT)  # plugins are listed when a playground opens
        pg.method.value = "broken"  # the plugin's failure is shown, named; nothing raises into the widget
        assert "broken (plugin" in pg.stats.value and "ZeroDivisionError" in pg.stats.value and pg.output.value == ""
    finally:
        plugins.reload_plugins(forget_session=True)
    assert "upper" not in CompressionPlayground(PROMPT).method.options
