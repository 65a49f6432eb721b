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
from .pricing import estimate_cost


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
    from .tokens import count_tokens

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
    from .tokens import count_tokens

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
    from .tokens import count_tokens

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
    from .tokens import count_tokens

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
    from .tokens import count_tokens, provider_for_model

    if _missing(answer):
        return False
    expected = cheaper_model_that_fits(provider_for_model(model), model, count_tokens(list(messages), model=model),
                                       max_tokens, left_usd)
    if answer == expected:
        return _verdict(True, f"{expected}: the most capable cheaper model whose worst case fits.",
                        f"{expected}: 최악의 경우가 들어가는 더 싼 모델 중 가장 성능이 좋은 모델입니다.")
    return _verdict(False, "price each cheaper model's worst case (input + max_tokens) and keep the first that fits.",
                    "더 싼 모델마다 최악의 경우(입력 + max_tokens)를 계산해 처음으로 들어가는 모델을 고르세요.")
