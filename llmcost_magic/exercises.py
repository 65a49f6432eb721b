"""Self-checks for the cookbook's "Try it yourself / 직접 해보기" exercises.

Each check prints whether the learner's answer is right (in the course's language, see
:func:`llmcost_magic.cookbook.T`) and returns True or False; it never raises on a wrong or missing answer, so an
executed notebook runs top to bottom with the exercise's default in place.

    >>> check_monthly_bill(None, model="gpt-4o-mini", requests_per_day=3000, input_tokens=800, output_tokens=200)
    False
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .cookbook import T
from .core.pricing import estimate_cost


def _verdict(right: bool, en: str, ko: str) -> bool:
    print(("✅ " + T("Correct! ", "정답입니다! ")) if right else ("⏳ " + T("Not yet: ", "아직 아닙니다: ")), T(en, ko), sep="")
    return right


def _missing(answer: Any) -> bool:
    if answer is None or answer == "" or answer is ...:
        _verdict(False, "fill in your answer and run the cell again.", "답을 채운 뒤 셀을 다시 실행하세요.")
        return True
    return False


def _largest(answer: int, fits: Callable[[int], bool], unit_en: str, unit_ko: str) -> bool:
    """Right when ``answer`` fits and ``answer + 1`` does not."""
    if not fits(answer):
        return _verdict(False, f"{answer:,} {unit_en} is too many: it does not fit.",
                        f"{unit_ko} {answer:,}개는 너무 많습니다: 들어가지 않습니다.")
    if fits(answer + 1):
        return _verdict(False, f"{answer:,} fits, but so does {answer + 1:,}: look for the largest.",
                        f"{answer:,}도 들어가지만 {answer + 1:,}도 들어갑니다: 가장 큰 값을 찾으세요.")
    return _verdict(True, f"{answer:,} {unit_en} is the largest that fits.", f"들어가는 최댓값은 {unit_ko} {answer:,}개입니다.")


def check_max_tokens_fits(max_tokens: int | None, *, model: str, messages: Sequence[dict], budget_usd: float) -> bool:
    """The largest ``max_tokens`` whose worst case (exact input + ``max_tokens`` of output) fits ``budget_usd``."""
    from .policies.budgets.worst_case import worst_case_usd
    from .core.tokens import count_tokens

    if _missing(max_tokens):
        return False
    prompt = count_tokens(list(messages), model=model)
    return _largest(int(max_tokens), lambda m: worst_case_usd(model, prompt, m) <= budget_usd,
                    "output tokens", "출력 토큰")


def check_monthly_bill(answer_usd: float | None, *, model: str, requests_per_day: int, input_tokens: int,
                       output_tokens: int, days: int = 30) -> bool:
    """A month of traffic in dollars, within 1%."""
    if _missing(answer_usd):
        return False
    expected = days * requests_per_day * estimate_cost(model, input_tokens, output_tokens)
    if abs(float(answer_usd) - expected) <= 0.01 * expected:
        return _verdict(True, f"${expected:,.2f} a month.", f"한 달 ${expected:,.2f}입니다.")
    return _verdict(False, f"${float(answer_usd):,.2f} is off by more than 1%: requests per day × days × the cost of one "
                           f"request (estimate_cost).",
                    f"${float(answer_usd):,.2f}는 1% 넘게 벗어났습니다: 하루 요청 수 × 일수 × 요청 1건의 비용(estimate_cost).")


def check_tool_tokens(answer: int | None, *, messages: Sequence[dict], tools: Sequence[dict], model: str) -> bool:
    """The input tokens a tool definition adds to every call."""
    from .core.tokens import count_tokens

    if _missing(answer):
        return False
    expected = count_tokens(list(messages), model=model, tools=list(tools)) - count_tokens(list(messages), model=model)
    if int(answer) == expected:
        return _verdict(True, f"{expected} tokens on every call that sends this tool.",
                        f"이 도구를 보내는 모든 호출마다 {expected}토큰입니다.")
    return _verdict(False, "count the chat with and without tools=..., and subtract.",
                    "tools=... 를 넣을 때와 뺄 때의 토큰을 세어 빼 보세요.")


def check_pinned_facts(pinned: str | None, *, facts: Sequence[str], model: str, max_tokens: int) -> bool:
    """A pinned "ticket facts" message that names every fact in at most ``max_tokens`` tokens."""
    from .core.tokens import count_tokens

    if _missing(pinned):
        return False
    lost = [fact for fact in facts if fact not in pinned]
    used = count_tokens(pinned, model=model)
    if lost:
        return _verdict(False, f"the pinned text lacks {', '.join(lost)}.", f"고정 메시지에 {', '.join(lost)}이(가) 없습니다.")
    if used > max_tokens:
        return _verdict(False, f"{used} tokens: shorten it to at most {max_tokens}.",
                        f"{used}토큰입니다: {max_tokens}토큰 이하로 줄이세요.")
    return _verdict(True, f"every fact in {used} tokens, sent with every call and never trimmed.",
                    f"모든 사실을 {used}토큰에 담았습니다. 매 호출에 함께 보내고 절대 자르지 않습니다.")


def check_window_under(turns: int | None, *, history: Sequence[dict], model: str, max_input_tokens: int) -> bool:
    """The largest ``window:N`` whose request (the last N turns of ``history``) stays under ``max_input_tokens``."""
    from .compression import keep_last_turns
    from .core.tokens import count_tokens

    if _missing(turns):
        return False
    return _largest(int(turns), lambda n: count_tokens(keep_last_turns(list(history), n), model=model) < max_input_tokens,
                    "turns", "턴")


def check_batch_cap(max_tokens: int | None, *, batch_usd: Callable[[int], float], budget_usd: float,
                    longest_answer: int) -> bool:
    """A batch ``max_tokens`` whose worst case fits ``budget_usd`` and that cuts none of the answers seen."""
    if _missing(max_tokens):
        return False
    cost = batch_usd(int(max_tokens))
    if int(max_tokens) < longest_answer:
        return _verdict(False, f"the longest answer took {longest_answer} tokens: {max_tokens} would cut it.",
                        f"가장 긴 답이 {longest_answer}토큰이었습니다: {max_tokens}이면 잘립니다.")
    if cost > budget_usd:
        return _verdict(False, f"the worst case is ${cost:.4f}, over ${budget_usd:.4f}.",
                        f"최악의 경우 ${cost:.4f}로, 한도 ${budget_usd:.4f}를 넘습니다.")
    return _verdict(True, f"worst case ${cost:.4f} and no answer cut.", f"최악의 경우 ${cost:.4f}, 잘리는 답은 없습니다.")


def check_output_cap(cap: int | None, *, output_tokens: Sequence[int]) -> bool:
    """A ``max_tokens`` safety net: cuts none of the real answers, at most twice the longest one."""
    if _missing(cap):
        return False
    longest = max(output_tokens)
    if int(cap) < longest:
        return _verdict(False, f"the longest answer used {longest} tokens: {cap} would truncate it.",
                        f"가장 긴 답이 {longest}토큰을 썼습니다: {cap}이면 잘립니다.")
    if int(cap) > 2 * longest:
        return _verdict(False, f"{cap} is over twice the longest answer ({longest}): a budget would reserve too much.",
                        f"{cap}은 가장 긴 답({longest})의 두 배가 넘습니다: 예산이 너무 많이 예약합니다.")
    return _verdict(True, f"{cap} cuts none of the {len(output_tokens)} answers and reserves at most 2x.",
                    f"{cap}이면 답 {len(output_tokens)}개 중 잘리는 것이 없고, 예약은 2배 이내입니다.")


def check_fallback_model(answer: str | None, *, model: str, messages: Sequence[dict], max_tokens: int,
                         left_usd: float) -> bool:
    """The model a refusal suggests (and ``--budget-fallback`` uses) when ``left_usd`` is all that is left."""
    from .policies.budget import cheaper_model_that_fits
    from .core.tokens import count_tokens, provider_for_model

    if _missing(answer):
        return False
    expected = cheaper_model_that_fits(provider_for_model(model), model, count_tokens(list(messages), model=model),
                                       max_tokens, left_usd)
    if answer == expected:
        return _verdict(True, f"{expected}: the most capable cheaper model whose worst case fits.",
                        f"{expected}: 최악의 경우가 들어가는 더 싼 모델 중 가장 성능이 좋은 모델입니다.")
    return _verdict(False, "price each cheaper model's worst case (input + max_tokens) and keep the first that fits.",
                    "더 싼 모델마다 최악의 경우(입력 + max_tokens)를 계산해 처음으로 들어가는 모델을 고르세요.")


def check_gentlest_rate(rate: float | None, *, text: str, lang: str, max_tokens: int, step: float = 0.05) -> bool:
    """The highest ``selective`` rate (in steps of ``step``) that fits ``text`` in ``max_tokens`` keeping every rule."""
    from .compression import compress, measure

    if _missing(rate):
        return False

    def fits(r: float) -> tuple[bool, int]:
        result = compress(text, "selective", rate=round(r, 4))
        m = measure(result, similarity=False).meaning[lang]
        whole = m.rules_whole == m.rules and m.negations_kept == m.negations and not m.rules_reversed
        return result.tokens_after <= max_tokens and whole, result.tokens_after

    ok, tokens = fits(float(rate))
    if not ok:
        return _verdict(False, f"rate {rate}: {tokens} tokens, over {max_tokens} (or a rule lost): compress harder (a lower rate).",
                        f"압축률 {rate}: {tokens}토큰, {max_tokens}토큰 초과(또는 규칙 손실): 더 세게(더 낮은 압축률로) 압축하세요.")
    gentler = round(float(rate) + step, 4)
    if gentler <= 1 and fits(gentler)[0]:
        return _verdict(False, f"rate {rate} fits, but so does {gentler}: keep more of the prompt.",
                        f"압축률 {rate}도 들어가지만 {gentler}도 들어갑니다: 프롬프트를 더 남기세요.")
    return _verdict(True, f"rate {rate}: {tokens} tokens, every rule whole; {gentler} would not fit.",
                    f"압축률 {rate}: {tokens}토큰, 모든 규칙 보존; {gentler}이면 들어가지 않습니다.")


def check_threshold_alone(threshold: float | None, *, similarities: Sequence[float], same: Sequence[bool],
                          max_false_hits: int = 0) -> bool:
    """The lowest similarity threshold (two decimals) at which a threshold alone serves at most ``max_false_hits``
    pairs that are not paraphrases."""
    if _missing(threshold):
        return False
    t = round(float(threshold), 2)

    def false_hits(at: float) -> int:
        return sum(s >= at for s, m in zip(similarities, same) if not m)

    def served(at: float) -> float:
        paraphrases = [s for s, m in zip(similarities, same) if m]
        return sum(s >= at for s in paraphrases) / len(paraphrases)

    if false_hits(t) > max_false_hits:
        return _verdict(False, f"at {t:.2f} the threshold alone serves {false_hits(t)} wrong answers, over {max_false_hits}.",
                        f"{t:.2f}에서는 임계값만으로 틀린 답 {false_hits(t)}개를 내줍니다({max_false_hits}개 초과).")
    lower = round(t - 0.01, 2)
    if false_hits(lower) <= max_false_hits:
        return _verdict(False, f"{t:.2f} fits, but so does {lower:.2f}: look for the lowest.",
                        f"{t:.2f}도 되지만 {lower:.2f}도 됩니다: 가장 낮은 값을 찾으세요.")
    return _verdict(True, f"{t:.2f}: {false_hits(t)} wrong answers, and only {served(t):.0%} of the paraphrases served "
                          f"(the guard at 0.70 serves more, with none wrong).",
                    f"{t:.2f}: 틀린 답 {false_hits(t)}개, 바꿔 말하기는 {served(t):.0%}만 캐시에서 답합니다"
                    f"(0.70의 가드는 틀린 답 없이 더 많이 답합니다).")


_attempts = iter(range(1, 1_000_000))


def check_stable_prefix(build: Callable[[str, str], dict] | None, *, client: Any, model: str, names: Sequence[str],
                        questions: Sequence[str]) -> bool:
    """``build(name, question)`` returns the request's ``system`` and ``messages``; right when every request still
    carries its name and question and the prompt-cache doctor finds no changed prefix after the first call."""
    import llmcost_magic

    if _missing(build):
        return False
    tag = f"exercise: stable prefix #{next(_attempts)}"
    with llmcost_magic.meter(tag=tag, prompt_cache="auto") as m:
        for name, question in zip(names, questions):
            body = build(name, question)
            if name not in repr(body) or question not in repr(body):
                return _verdict(False, f"the request for {name} must still carry the name and the question.",
                                f"{name}의 요청에는 이름과 질문이 그대로 들어 있어야 합니다.")
            client.messages.create(model=model, max_tokens=150, **body)
    table = llmcost_magic.prompt_cache_doctor().table
    later = table[table["tag"] == tag].iloc[1:]  # the first call has nothing to read yet
    misses = later[later["reason"] == "prefix changed"]
    if len(misses):
        return _verdict(False, f"the doctor finds {len(misses)} changed prefixes: {misses['detail'].iloc[0]}.",
                        f"닥터가 바뀐 앞부분 {len(misses)}개를 찾았습니다: {misses['detail'].iloc[0]}.")
    t = m.totals
    return _verdict(True, f"no changed prefix: {t.cached_input_tokens:,} tokens read from the cache, ${t.cost_usd:.4f}.",
                    f"바뀐 앞부분 없음: 캐시에서 {t.cached_input_tokens:,}토큰을 읽었고 ${t.cost_usd:.4f}입니다.")


def check_cascade_validator(validator: Callable[[str], Any] | None, *, replay: Callable[[Callable[[str], Any]], dict],
                            strong_cost_usd: float, min_accuracy: float, max_cost_share: float) -> bool:
    """A cascade validator with which ``replay(validator)`` (``accuracy``, ``cost_usd``) reaches ``min_accuracy`` at
    no more than ``max_cost_share`` of always asking the strong model."""
    if _missing(validator):
        return False
    run = replay(validator)
    share = run["cost_usd"] / strong_cost_usd
    said_en = f"accuracy {run['accuracy']:.0%} at {share:.0%} of the strong model's cost"
    said_ko = f"강한 모델 비용의 {share:.0%}로 정확도 {run['accuracy']:.0%}"
    if run["accuracy"] < min_accuracy:
        return _verdict(False, f"{said_en}: it accepts too many wrong cheap answers (aim for {min_accuracy:.0%}).",
                        f"{said_ko}: 틀린 싼 답을 너무 많이 받아들입니다(목표 {min_accuracy:.0%}).")
    if share > max_cost_share:
        return _verdict(False, f"{said_en}: it escalates too often (at most {max_cost_share:.0%}).",
                        f"{said_ko}: 너무 자주 상위로 올립니다(최대 {max_cost_share:.0%}).")
    return _verdict(True, f"{said_en}.", f"{said_ko}.")


def check_step_share(answer: float | None, *, baseline_usd: float, before_step_usd: float, after_step_usd: float,
                     optimised_usd: float) -> bool:
    """A step's share of the total saving (0.42 or 42 for 42%), right within half a percentage point."""
    if _missing(answer):
        return False
    expected = (before_step_usd - after_step_usd) / (baseline_usd - optimised_usd)
    value = float(answer) / 100 if float(answer) > 1 else float(answer)
    if abs(value - expected) <= 0.005:
        return _verdict(True, f"{expected:.1%} of the total saving.", f"전체 절감의 {expected:.1%}입니다.")
    return _verdict(False, f"{value:.1%}: divide what the step saves by what all the steps save, from this baseline.",
                    f"{value:.1%}: 이 기준선에서 그 단계가 아낀 금액을 모든 단계가 아낀 금액으로 나누세요.")


def _settings(step: Any) -> dict[str, Any]:
    """A replay step's settings: every field but its name and description."""
    return {k: v for k, v in vars(step).items() if k not in ("name", "change")}


def moved_step(step: Any, *, previous: Any, onto: Any) -> Any:
    """``step``'s change (what it set differently from ``previous``) applied to ``onto`` instead."""
    from dataclasses import replace

    changed = {k: v for k, v in _settings(step).items() if k != "policies" and v != getattr(previous, k)}
    policies = {k: v for k, v in step.policies.items() if previous.policies.get(k) != v}
    return replace(onto, **changed, policies={**onto.policies, **policies})


def check_moved_step(answer: Any, *, moved: Any, previous: Any, onto: Any, monthly_bill: Callable[[Any], float],
                     onto_usd: float, in_place_before_usd: float, in_place_after_usd: float) -> bool:
    """``answer`` is ``moved``'s change applied to ``onto`` (any name); right, it is replayed with ``monthly_bill`` and
    its monthly saving there is set beside the saving the same change made in its place."""
    from dataclasses import replace

    if _missing(answer):
        return False
    expected = _settings(moved_step(moved, previous=previous, onto=onto))
    differs = sorted(k for k in expected if expected[k] != _settings(answer).get(k))
    if differs:
        return _verdict(False, f"your step differs from {moved.name}'s change applied to {onto.name} in: {', '.join(differs)}.",
                        f"여러분의 단계는 {moved.name}의 변경을 {onto.name}에 적용한 것과 다음이 다릅니다: {', '.join(differs)}.")
    after = monthly_bill(replace(answer, name=f"{moved.name}, moved first", change=f"{moved.change}, on {onto.name}"))
    first, in_place = onto_usd - after, in_place_before_usd - in_place_after_usd
    return _verdict(True, f"moved first, {moved.name} saves ${first:,.0f} a month ({first / onto_usd:.0%} of the bill); in its "
                          f"place it saved ${in_place:,.0f} ({in_place / in_place_before_usd:.0%} of what was left): the same "
                          f"change, {first / in_place:.1f}x the dollars. Its credit depends on what runs before it.",
                    f"맨 앞으로 옮기면 {moved.name}은(는) 월 ${first:,.0f}를 아낍니다(청구액의 {first / onto_usd:.0%}). 제자리에서는 "
                    f"${in_place:,.0f}(남은 금액의 {in_place / in_place_before_usd:.0%})를 아꼈습니다: 같은 변경인데 금액은 "
                    f"{first / in_place:.1f}배. 한 단계의 공은 그 앞에 무엇이 있는지에 달려 있습니다.")
