"""A support chatbot's traffic, generated deterministically for replays on the sandbox.

    from llmcost_magic.sandbox.workload import support_workload, SYSTEM_PROMPT
    day = support_workload(conversations=1_000, seed=0)   # the same seed, the same traffic
    day.stats()                                           # mix, languages, repetition

The workload is a SaaS support chatbot ("Nimbus", the assistant of Acme Cloud) as its users talk to it:

- **FAQ questions** (about half of all user turns), drawn from a Zipf-like popularity so the popular
  ones come back often, and phrased several ways (the paraphrases of ``data/semantic_pairs.jsonl`` plus a
  few looser ones), next to look-alikes that must *not* share an answer (enable / disable notifications,
  a refund after 30 / 60 days). Every FAQ text belongs to one ``faq`` cluster, so a cache that serves one
  cluster's answer to another can be caught.
- **Tasks** (about a quarter): the sandbox's labelled evaluation questions (``load_eval_set()``: translate,
  classify, extract, calculate, reason, code, design; simple to complex), each pasted with the user's own
  ticket reference, so they are scored with ``is_correct`` and never repeat verbatim (real tasks carry
  real data).
- **Account-specific requests** (unique: invoice numbers, names, amounts) and **follow-ups** ("Thanks,
  that worked.") in later turns of a conversation.
- One conversation in three or four is in Korean; conversations have one to four user turns.

``SYSTEM_PROMPT`` is the bot's long, verbose system prompt (~500 tokens); ``RULES`` lists the facts each of
its rules hinges on, so ``missing_rules(prompt)`` can check that a tightened prompt kept every rule.
"""

from __future__ import annotations

import functools
import json
import random
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from typing import Any

from .quality import complexity_of, load_eval_set

SYSTEM_PROMPT = """\
You are Nimbus, the friendly and helpful virtual support assistant of Acme Cloud, an online project \
management service used by teams of every size. Your job is to help our valued customers with any \
questions they might have about their accounts, subscriptions, billing, and the features of the \
product. It is very important that you always remain polite, warm, patient and professional in every \
single interaction, even when the customer is frustrated or upset.

Please carefully follow each of the rules listed below at all times, without exception:

1. Refunds: please keep in mind that annual plans can be refunded in full if the customer asks within \
30 days of the purchase. Monthly plans are unfortunately not refundable, but the customer can always \
cancel at any time. An approved refund is always paid back to the original payment method, and it \
usually takes 5-10 business days to arrive.
2. Security: you must never, under any circumstances, ask a customer for their password or their full \
card number. If you need to identify a card, you may ask only for the last 4 digits.
3. Account changes: any change to the account email, any account deletion, and any transfer of \
workspace ownership always requires a verification link that we send to the email address on file.
4. Escalation: if a customer mentions a legal matter, reports a security incident, or disputes a bill \
of more than $500, please politely hand the conversation over to a human agent by sharing the ticket \
form at support.acme.example/ticket.
5. Language: always reply in the same language that the customer used to write to you.
6. Plans and prices: we offer three plans, which are Free, Pro $12 per user per month, and Team $20 per \
user per month. Paying yearly gives the customer 2 months free on either paid plan.
7. Roadmap: please do not promise any release dates for features on our roadmap.
8. Outages: if the service seems to be down, always point the customer to status.acme.example.
9. Formatting: whenever you explain how to do something, format the instructions as numbered steps.
10. Advice: you are not able to give legal or tax advice of any kind.
11. Data: customers can export their data as CSV or JSON from Settings > Data at any time. Deleted \
workspaces are kept for a 30-day retention period before they are permanently removed.

Thank you so much for helping our customers, and remember to always do your very best!"""

# Each rule of SYSTEM_PROMPT and the facts (exact phrases) a prompt must keep to keep the rule.
RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("identity", ("Nimbus", "Acme Cloud")),
    ("refund window", ("annual", "30 days", "Monthly", "not refundable")),
    ("refund payout", ("original payment method", "5-10 business days")),
    ("security", ("password", "card number", "last 4 digits")),
    ("account changes", ("email", "deletion", "ownership", "verification link")),
    ("escalation", ("legal", "security incident", "$500", "support.acme.example/ticket")),
    ("language", ("same language",)),
    ("plans", ("Free", "Pro $12", "Team $20", "2 months free")),
    ("roadmap", ("release dates", "roadmap")),
    ("outages", ("status.acme.example",)),
    ("formatting", ("numbered steps",)),
    ("advice", ("legal or tax advice",)),
    ("data", ("CSV", "JSON", "Settings > Data", "30-day retention")),
)


def missing_rules(prompt: str) -> list[str]:
    """The rules of ``RULES`` whose facts ``prompt`` no longer states (a mechanical check, not a proof)."""
    return [name for name, facts in RULES if not all(fact in prompt for fact in facts)]


# Looser paraphrases than the labelled pairs (some will not reach a semantic cache's threshold).
_EXTRA_VARIANTS = {
    "How do I reset my password?": ["I forgot my password, how do I reset it?", "Password reset steps?"],
    "What is your refund policy?": ["Do you give refunds?", "Can I get my money back?"],
    "How do I cancel my subscription?": ["I want to cancel my subscription.", "Cancel subscription how?"],
    "Where can I download my invoice?": ["Where are my invoices?"],
    "환불 정책이 어떻게 되나요?": ["환불 받을 수 있나요?"],
    "비밀번호를 어떻게 재설정하나요?": ["비밀번호를 잊어버렸어요. 어떻게 하나요?"],
}
# Labelled pairs that are not a SaaS support bot's questions (weather, capitals, ...): left out.
_NOT_SUPPORT = ("weather", "capital of", "날씨", "timeout", "hidden files", "hide files", "payment accepted",
                "my post")
_FOLLOW_UPS = {
    "en": ["Thanks, that worked.", "Can you explain that in more detail?", "Great, thank you!",
           "And how long does that take?", "Is there anything else I should do?"],
    "ko": ["감사합니다, 해결됐어요.", "좀 더 자세히 설명해 주세요.", "그건 얼마나 걸리나요?", "고마워요!"],
}
_NAMES = {"en": ["Jane", "Omar", "Priya", "Lucas", "Sofia", "Ken"], "ko": ["민지", "서준", "지우", "하은", "도윤"]}
_ACCOUNT_TEMPLATES = {
    "en": ["I was charged ${amount} twice on invoice INV-{n}. Can you check?",
           "My teammate {name} cannot log in since {month}/{day}; her account ID is {n}.",
           "Why did my bill go from ${amount} to ${amount2} this month? Workspace {n}.",
           "Can you move my workspace {n} to the EU region before {month}/{day}?",
           "Order {n} for a security key says delivered but {name} never got it."],
    "ko": ["청구서 INV-{n}에서 {amount}달러가 두 번 결제됐어요. 확인해 주세요.",
           "팀원 {name}님이 {month}월 {day}일부터 로그인을 못 해요. 계정 ID는 {n}입니다.",
           "이번 달 요금이 {amount}달러에서 {amount2}달러로 올랐어요. 워크스페이스 {n}입니다.",
           "워크스페이스 {n}을 {month}월 {day}일 전에 EU 리전으로 옮길 수 있나요?"],
}
# What a user turn is, by position: the first turn of a conversation, then later turns.
_FIRST_TURN = {"faq": 0.62, "task": 0.24, "account": 0.14}
_LATER_TURN = {"faq": 0.30, "task": 0.22, "account": 0.13, "follow_up": 0.35}
_TURNS = {1: 0.45, 2: 0.30, 3: 0.15, 4: 0.10}  # user turns per conversation
KOREAN_SHARE = 0.3
NOISE_SHARE = 0.3  # FAQ questions typed with a greeting, in lower case, without the question mark, ...
_NOISE = {
    "en": [lambda q: "Hi, " + q[0].lower() + q[1:], lambda q: "Hello! " + q, lambda q: q.lower().rstrip("?"),
           lambda q: q + " Thanks!", lambda q: q.rstrip("?") + "??"],
    "ko": [lambda q: "안녕하세요, " + q, lambda q: q.rstrip("?"), lambda q: q + " 감사합니다"],
}


@dataclass(frozen=True)
class Turn:
    """One user message. ``faq``: the cluster (canonical question) of an FAQ; ``item_id``: the
    evaluation item a task asks (score the answer with ``is_correct(item, text)``)."""

    text: str
    kind: str  # "faq", "task", "account" or "follow_up"
    lang: str  # "en" or "ko"
    complexity: str  # "simple", "moderate" or "complex"
    faq: str | None = None
    item_id: str | None = None


@dataclass(frozen=True)
class Conversation:
    id: str
    lang: str
    turns: tuple[Turn, ...]


@dataclass(frozen=True)
class Workload:
    """Conversations in arrival order, and the system prompt the bot sends with every request."""

    conversations: tuple[Conversation, ...]
    seed: int
    system_prompt: str = SYSTEM_PROMPT

    @property
    def turns(self) -> list[Turn]:
        return [t for c in self.conversations for t in c.turns]

    def item(self, turn: Turn) -> dict[str, Any] | None:
        """The evaluation item a task turn asks, or None."""
        return _items().get(turn.item_id) if turn.item_id else None

    def stats(self) -> dict[str, Any]:
        """The workload's shape: size, languages, mix of kinds and complexity, repetition.

        ``first_turn_exact_repeat``: share of first turns whose text an earlier first turn already asked
        (what an exact cache can serve: same system prompt, no history); ``first_turn_paraphrase_repeat``:
        share of first turns asking an earlier first turn's FAQ in other words (what only a semantic
        cache can serve)."""
        turns = self.turns
        seen_text: set[str] = set()
        seen_faq: set[str] = set()
        exact = paraphrase = 0
        for c in self.conversations:
            first = c.turns[0]
            if first.text in seen_text:
                exact += 1
            elif first.faq is not None and first.faq in seen_faq:
                paraphrase += 1
            seen_text.add(first.text)
            if first.faq is not None:
                seen_faq.add(first.faq)
        n, nc = len(turns), len(self.conversations)
        return {
            "conversations": nc,
            "user_turns": n,
            "turns_per_conversation": n / nc,
            "multi_turn_share": sum(len(c.turns) > 1 for c in self.conversations) / nc,
            "korean_share": sum(c.lang == "ko" for c in self.conversations) / nc,
            "kind_share": {k: v / n for k, v in sorted(Counter(t.kind for t in turns).items())},
            "complexity_share": {k: v / n for k, v in sorted(Counter(t.complexity for t in turns).items())},
            "first_turn_exact_repeat": exact / nc,
            "first_turn_paraphrase_repeat": paraphrase / nc,
            "distinct_first_turns": len({c.turns[0].text for c in self.conversations}),
        }


@functools.cache
def _items() -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in load_eval_set()}


@functools.cache
def faq_clusters() -> dict[str, dict[str, tuple[str, ...]]]:
    """FAQ clusters per language: canonical question -> every phrasing of it (canonical first).

    Built from the labelled pairs: a paraphrase joins its question's cluster; each side of a negation or
    near-miss pair is its own cluster (they look alike but need different answers)."""
    text = resources.files("llmcost_magic").joinpath("data", "semantic_pairs.jsonl").read_text(encoding="utf-8")
    pairs = [json.loads(line) for line in text.splitlines() if line.strip()]
    clusters: dict[str, dict[str, list[str]]] = {"en": {}, "ko": {}}
    for pair in pairs:
        if any(word in (pair["a"] + pair["b"]).lower() for word in _NOT_SUPPORT):
            continue
        lang = clusters[pair["lang"]]
        if pair["label"] == "paraphrase":
            variants = lang.setdefault(pair["a"], [pair["a"]])
            if pair["b"] not in variants:
                variants.append(pair["b"])
        elif pair["label"] in ("negation", "near_miss"):
            for question in (pair["a"], pair["b"]):
                lang.setdefault(question, [question])
    for canonical, extra in _EXTRA_VARIANTS.items():
        for lang in clusters.values():
            if canonical in lang:
                lang[canonical].extend(v for v in extra if v not in lang[canonical])
    return {lang: {q: tuple(v) for q, v in found.items()} for lang, found in clusters.items()}


def _weighted(rng: random.Random, shares: dict[Any, float]) -> Any:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.faqs = {}
        for lang, clusters in faq_clusters().items():
            order = sorted(clusters)  # a fixed order, then a seeded shuffle: which FAQs are popular
            random.Random(f"{seed}-{lang}").shuffle(order)
            # The clusters with paraphrases are the popular ones (that is why they have many phrasings).
            order.sort(key=lambda q: -min(len(clusters[q]), 2))
            self.faqs[lang] = (order, [1 / (rank + 1) for rank in range(len(order))])
        self.tasks = {lang: [item for item in load_eval_set() if item["lang"] == lang] for lang in ("en", "ko")}

    def faq_turn(self, lang: str) -> Turn:
        order, weights = self.faqs[lang]
        canonical = self.rng.choices(order, weights=weights)[0]
        variants = faq_clusters()[lang][canonical]
        # The canonical phrasing half the time, the others share the rest.
        text = canonical if len(variants) == 1 or self.rng.random() < 0.5 else self.rng.choice(variants[1:])
        if self.rng.random() < NOISE_SHARE:  # typed differently: a greeting, lower case, no question mark
            text = self.rng.choice(_NOISE[lang])(text)
        return Turn(text, "faq", lang, "simple", faq=canonical)

    def task_turn(self, lang: str) -> Turn:
        # A third of the Korean conversations' tasks are English ones (users paste what they have).
        pool = self.tasks[lang] if lang == "en" or self.rng.random() < 0.67 else self.tasks["en"]
        item = self.rng.choice(pool)
        ref = self.rng.randint(10_000, 99_999)
        prefix = f"(티켓 {ref}) " if lang == "ko" else f"(ticket {ref}) "
        return Turn(prefix + item["question"], "task", item["lang"], complexity_of(item), item_id=item["id"])

    def account_turn(self, lang: str) -> Turn:
        template = self.rng.choice(_ACCOUNT_TEMPLATES[lang])
        amount = self.rng.randint(12, 480)
        text = template.format(n=self.rng.randint(100_000, 999_999), name=self.rng.choice(_NAMES[lang]),
                               amount=amount, amount2=amount + self.rng.randint(12, 200),
                               month=self.rng.randint(1, 12), day=self.rng.randint(1, 28))
        return Turn(text, "account", lang, "moderate")

    def follow_up(self, lang: str) -> Turn:
        return Turn(self.rng.choice(_FOLLOW_UPS[lang]), "follow_up", lang, "simple")

    def conversation(self, index: int) -> Conversation:
        lang = "ko" if self.rng.random() < KOREAN_SHARE else "en"
        n = _weighted(self.rng, _TURNS)
        turns = []
        for position in range(n):
            kind = _weighted(self.rng, _FIRST_TURN if position == 0 else _LATER_TURN)
            turns.append({"faq": self.faq_turn, "task": self.task_turn, "account": self.account_turn,
                          "follow_up": self.follow_up}[kind](lang))
        return Conversation(f"conv-{index:05d}", lang, tuple(turns))


def support_workload(conversations: int = 300, *, seed: int = 0) -> Workload:
    """``conversations`` conversations of the support chatbot, in arrival order; the same seed gives the
    same workload, and a larger one starts with the smaller one's conversations."""
    if conversations < 1:
        raise ValueError(f"conversations must be >= 1, got {conversations}")
    generator = _Generator(seed)
    return Workload(tuple(generator.conversation(i) for i in range(conversations)), seed)
