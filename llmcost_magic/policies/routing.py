"""Model routing: send each request to the cheapest tier that can answer it.

Tiers come from a YAML/TOML file (the default ships in ``data/tiers.yaml``; see tiers.py). Routers decide a tier
from the request: ``rules`` (keywords and length, English and Korean), ``embedding`` (the nearest
labelled examples, offline), ``classifier`` (a cheap model answers simple/moderate/complex, a
metered call), ``cascade`` (try small first, escalate when a check fails; see cascade.py).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .. import plugins
from ..core.messages import tr
from ..clients import client_for
from ..intercept.call import Call
from ..core.tokens import count_tokens
from .model_fit import is_reasoning
from .response_cache import last_user_text
from .tiers import TIER_ORDER, TierFileError, Tiers, load_tiers  # noqa: F401 - re-exported (they lived here)


@dataclass(frozen=True)
class Decision:
    tier: str
    reason: str


class Router(Protocol):
    name: str

    def decide(self, call: Call, tiers: Tiers) -> Decision: ...


class RulesRouter:
    """Keyword and length rules: simple tasks small, analysis/design/reasoning/code large."""

    name = "rules"

    def decide(self, call: Call, tiers: Tiers) -> Decision:
        text = last_user_text(call).lower()
        rules = tiers.rules
        for tier in ("large", "small"):
            hit = next((w for w in rules.get(tier, ()) if w.lower() in text), None)
            if hit is not None and tier in tiers.models:
                return Decision(tier, f"rules: '{hit}'")
        limit = rules.get("long_prompt_tokens")
        if limit and count_tokens(text, model="gpt-4o") > limit:
            return Decision("medium" if "medium" in tiers.models else tiers.default, f"rules: prompt over {limit} tokens")
        return Decision(tiers.default, "rules: no rule matched")


class EmbeddingRouter:
    """The tier most of the k nearest labelled examples have (offline embedder)."""

    name = "embedding"

    def __init__(self, examples: list[dict[str, str]] | None = None, k: int = 5) -> None:
        self.examples = examples or default_examples()
        self.k = k

    @functools.cached_property
    def _matrix(self) -> np.ndarray:
        from ..core.embedder import default_embedder

        return default_embedder().embed([e["text"] for e in self.examples])

    def decide(self, call: Call, tiers: Tiers) -> Decision:
        from ..core.embedder import default_embedder

        query = default_embedder().embed([last_user_text(call)])[0]
        sims = self._matrix @ query
        nearest = np.argsort(-sims)[: self.k]
        votes: dict[str, float] = {}
        for i in nearest:
            votes[self.examples[i]["tier"]] = votes.get(self.examples[i]["tier"], 0.0) + float(sims[i])
        tier = max(votes, key=lambda t: (votes[t], TIER_ORDER.index(t) if t in TIER_ORDER else 0))
        return Decision(tier if tier in tiers.models else tiers.default, f"embedding: {self.k} nearest vote {tier}")


def default_examples() -> list[dict[str, str]]:
    text = resources.files("llmcost_magic").joinpath("data", "router_examples.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def load_examples(path: str | Path) -> list[dict[str, str]]:
    """Labelled examples (JSONL lines of {"text": ..., "tier": ...}) for the embedding router."""
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            row = json.loads(line)
            if not isinstance(row, dict) or "text" not in row or "tier" not in row:
                raise ValueError(f"{path}:{n}: each line needs 'text' and 'tier'")
            rows.append(row)
    return rows


CLASSIFIER_PROMPT = ("Classify the complexity of the user's question for routing. Answer only JSON: "
                     '{"complexity": "simple" | "moderate" | "complex"}.')
_LEVEL_TO_TIER = {"simple": "small", "moderate": "medium", "complex": "large"}
_JSON_OBJECT = re.compile(r"\{.*\}", re.S)


class ClassifierRouter:
    """A cheap model classifies the question; its call is metered (its cost counts against the savings)."""

    name = "classifier"

    def __init__(self, client_factory: Any = None, model: str | None = None) -> None:
        self.client_factory = client_factory
        self.model = model

    def decide(self, call: Call, tiers: Tiers) -> Decision:
        model = self.model or tiers.model("small", call.provider) or "gpt-4o-mini"
        question = last_user_text(call)
        try:
            answer = self._ask(call.provider, model, question)
            level = json.loads(_JSON_OBJECT.search(answer).group(0))["complexity"]  # also inside ```json fences
            return Decision(_LEVEL_TO_TIER[level], f"classifier ({model}): {level}")
        except Exception as exc:  # noqa: BLE001 - garbage or a failed call: documented fallback
            return Decision(tiers.default, f"classifier failed ({type(exc).__name__}); default tier {tiers.default}")

    def _ask(self, provider: str, model: str, question: str) -> str:
        client = self.client_factory(provider) if self.client_factory else client_for(provider)
        if provider == "anthropic":
            r = client.messages.create(model=model, max_tokens=30, system=CLASSIFIER_PROMPT,
                                       messages=[{"role": "user", "content": question}])
            return r.content[0].text
        # max_completion_tokens: reasoning models reject max_tokens (and think before answering: a larger cap)
        cap = {"max_completion_tokens": 1000, "reasoning_effort": "low"} if is_reasoning(model) else {
            "max_completion_tokens": 30}
        r = client.chat.completions.create(model=model, **cap, response_format={"type": "json_object"},
                                           messages=[{"role": "system", "content": CLASSIFIER_PROMPT},
                                                     {"role": "user", "content": question}])
        return r.choices[0].message.content or ""


class ProbeRouter:
    """A probe learned from labelled examples (default: RouteLLM's recorded GPT-4 / Mixtral answers shipped
    in ``data/routellm``): the requests it scores in the top ``strong_share`` of its training prompts go
    to the largest tier, the bottom ``small_share`` to the smallest, the rest to the default tier.

    ``examples``: a JSONL path or DataFrame with ``prompt``, ``weak_correct``, ``strong_correct`` (and
    optionally ``domain``), e.g. your own traffic labelled by which model answered it well. ``counts=True``
    adds counted features (numbers, percentages, ...) to the embedding: better within one task, such as
    word problems; worse across many domains.
    """

    name = "probe"

    def __init__(self, examples: Any = None, *, strong_share: float = 0.3, small_share: float = 0.5,
                 counts: bool = False) -> None:
        if not (0 <= strong_share <= 1 and 0 <= small_share <= 1 and strong_share + small_share <= 1):
            raise ValueError("strong_share and small_share must be shares in [0, 1] that add up to at most 1")
        self.examples, self.strong_share, self.small_share, self.counts = examples, strong_share, small_share, counts

    @functools.cached_property
    def _fitted(self) -> tuple[Any, float, float]:
        from ..evaluation.recorded import load_recorded
        from .route_scores import ProbeScorer, weak_wrong_within

        rows = load_recorded(self.examples).dropna(subset=["weak_correct", "strong_correct"])
        domains = rows["domain"] if "domain" in rows else ["all"] * len(rows)
        prompts = rows["prompt"].astype(str).tolist()
        scorer = ProbeScorer(100.0, counts=self.counts).fit(prompts, weak_wrong_within(rows["weak_correct"], domains))
        scores = scorer.score(prompts)
        return scorer, float(np.quantile(scores, 1 - self.strong_share)), float(np.quantile(scores, self.small_share))

    def score(self, text: str) -> float:
        """How much this request needs the strong model (higher = more)."""
        return float(self._fitted[0].score([text])[0])

    def decide(self, call: Call, tiers: Tiers) -> Decision:
        _, strong_above, small_below = self._fitted
        score = self.score(last_user_text(call))
        names = tiers.names
        tier = names[-1] if score >= strong_above else names[0] if score < small_below else tiers.default
        return Decision(tier, f"probe: score {score:+.3f}")


ROUTERS = {"rules": RulesRouter, "embedding": EmbeddingRouter, "classifier": ClassifierRouter, "probe": ProbeRouter}
CASCADES = ("cascade", "cascade+probe")  # "+probe": requests the probe sends to the largest tier skip the cheap attempts


def check_router_name(name: str) -> str:
    """``name`` if ``--route`` knows it (built in, or a plugin's), else ValueError listing the names."""
    if name in (*ROUTERS, *CASCADES) or name.strip().lower() in plugins.routers():
        return name
    names = [*ROUTERS, *CASCADES, *plugins.routers()]
    raise ValueError(tr("Unknown router {name!r}: use one of {names}.{left_out}", name=name, names=", ".join(names),
                        left_out=plugins.left_out_note()))


def _plugin_router(name: str) -> Any:
    factory, plugin = plugins.routers()[name]
    try:
        router = factory()
    except Exception as exc:
        raise plugins.PluginError(f"router {name!r} of plugin {plugin!r} failed to start ({type(exc).__name__}: "
                                  f"{exc}): fix or uninstall the plugin") from exc
    if not callable(getattr(router, "decide", None)):
        raise plugins.PluginError(f"router {name!r} of plugin {plugin!r} made a {type(router).__name__} without "
                                  f"decide(call, tiers): fix or uninstall the plugin")
    return router


def routing_policy(name: Any, *, tiers: Tiers | str | Path | None = None, validator: Any = None,
                   min_confidence: float = 0.7) -> dict[str, Any]:
    """Meter keyword arguments for a router name ("rules", "embedding", "classifier", "probe", "cascade",
    "cascade+probe" or a plugin's, see :mod:`llmcost_magic.plugins`), a router object (anything with ``decide(call, tiers)``, e.g. ``ProbeRouter(my_examples)``),
    or a ``CascadeSettings`` (e.g. with your validator and router)."""
    if not name:
        return {}
    if not isinstance(name, str):
        from .cascade import CascadeSettings

        resolved = tiers if isinstance(tiers, Tiers) else load_tiers(tiers)
        if isinstance(name, CascadeSettings):
            return {"tiers": resolved, "cascade": name}
        if callable(getattr(name, "decide", None)):
            return {"tiers": resolved, "router": name}
        raise ValueError(f"route must be a router name, a router or CascadeSettings, got {type(name).__name__}")
    check_router_name(name)
    resolved = tiers if isinstance(tiers, Tiers) else load_tiers(tiers)
    if name not in (*ROUTERS, *CASCADES):
        return {"tiers": resolved, "router": _plugin_router(name.strip().lower())}
    if name in CASCADES:
        from .cascade import CascadeSettings

        router = ProbeRouter() if name == "cascade+probe" else None
        return {"tiers": resolved, "cascade": CascadeSettings(validator=validator, min_confidence=min_confidence, router=router)}
    return {"tiers": resolved, "router": ROUTERS[name]()}
