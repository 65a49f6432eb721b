"""Korean for the ledger as it is *shown*: its column headers, and the notes the package writes on its rows and on
compressions (the ledger stores both in English: other code and older ledgers read them). ``{fields}`` are copied as written; ``{steps}``,
``{placements}`` and ``{rest}`` are notes themselves, shown in Korean too (see ``core/notes.py``).

Written for this package (2026-11-30), in the terms of ``messages_ko.py``; each template mirrors an f-string of the
module named in its comment, and a test runs real calls and checks every note they leave is shown in Korean.
"""

from __future__ import annotations

# the ledger's columns that reports do not already name (messages_ko.LABELS_KO has the others), and a few tables'
LEDGER_LABELS_KO: dict[str, str] = {
    "session": "세션",
    "requested_model": "요청 모델",
    "reasoning_tokens": "추론 토큰",
    "baseline_cost_usd": "기준 비용(USD)",
    "saved_by": "절감 방법",
    "estimated": "추정",
    "stream": "스트리밍",
    "latency_ms": "지연(ms)",
    "note": "메모",
    "max_tokens": "최대 토큰(max_tokens)",
    "user": "사용자",
    "segment": "세그먼트",
    "input_tokens_before": "압축 전 입력 토큰",
    "cache_write_1h_tokens": "캐시 쓰기 토큰(1시간)",
    "service_tier": "서비스 등급",
    "tool_calls": "도구 호출",
    "usage_details": "사용량 세부",
    "price_source": "가격 출처",
    # %llmcost cache stats / advise, llmcost_magic.batches()
    "hits": "적중",
    "blocked": "차단",
    "shared_prefix_tokens": "공유 접두부 토큰",
    "stable_but_late_tokens": "뒤에 놓인 고정 토큰",
    "stable_first": "고정 부분이 앞에 있음",
    "minimum_cacheable_tokens": "최소 캐시 토큰",
    "reorder_saves_usd": "순서 변경 시 절감(USD)",
    "advice": "조언",
    "name": "이름",
    "provider_ids": "공급사 배치 id",
    "created": "만든 시각",
    "collected": "결과 받음",
}

# one part of a ledger note ("; "-joined) or of a compressor's note
NOTES_KO: dict[str, str] = {
    # metering.py
    "late: after its cell ended": "늦게 도착: 셀이 끝난 뒤",
    "dry-run (simulated)": "모의 실행 (시뮬레이션)",
    "dry-run (simulated) {rest}": "모의 실행 (시뮬레이션) {rest}",
    # intercept/rows.py, pipeline.py, rewrite.py, background.py, batch_results.py; batch.py; core/pricing.py
    "stopped after sending: the provider may bill it": "보낸 뒤 중단됨: 공급사가 청구할 수 있습니다",
    "budget fallback to {model}": "예산 대체 모델: {model}",
    "semantic similarity {value}": "의미 유사도 {value}",
    "cascade {tier}": "캐스케이드 {tier}",
    "cascade {tier}: accepted": "캐스케이드 {tier}: 수락",
    "cascade {tier}: escalated ({reason})": "캐스케이드 {tier}: 상위 단계로 ({reason})",
    "cascade {tier}: kept as last tier ({reason})": "캐스케이드 {tier}: 마지막 단계라 유지 ({reason})",
    "route {tier} ({reason})": "라우팅 {tier} ({reason})",
    "compress {steps}": "압축 {steps}",
    "prompt-cache: {placements}": "프롬프트 캐시: {placements}",
    "concise ≤ {n} words": "간결하게 ≤ {n}단어",
    "host refused stream_options: usage counted": "호스트가 stream_options를 거절함: 사용량은 직접 셈",
    "unpriced: no price for {model}": "가격 미상: {model}의 가격이 없음",
    "background {id}: billed when retrieved": "백그라운드 {id}: 결과를 받을 때 청구",
    "background {id} retrieved": "백그라운드 {id} 결과 받음",
    "batch result {source} {custom_id}": "배치 결과 {source} {custom_id}",
    "batch {name} {custom_id}": "배치 {name} {custom_id}",
    # compression/selective.py, formats.py, examples.py, lingua.py, retrieval.py
    "kept {kept} instead of {rate}: the rate could not be reached without touching rules ({n} rule sentence keep "
    "every word but filler; negations, numbers with units, names, code, quotes and query words are never dropped)":
        "{rate} 대신 {kept}를 남겼습니다: 규칙을 건드리지 않고는 목표 비율에 닿을 수 없습니다 (규칙 문장 {n}개는 군말 "
        "말고는 모든 단어를 유지하고, 부정 표현, 단위가 붙은 숫자, 이름, 코드, 인용, 질문의 단어는 지우지 않습니다)",
    "kept {kept} instead of {rate}: the rate could not be reached without touching rules ({n} rule sentences keep "
    "every word but filler; negations, numbers with units, names, code, quotes and query words are never dropped)":
        "{rate} 대신 {kept}를 남겼습니다: 규칙을 건드리지 않고는 목표 비율에 닿을 수 없습니다 (규칙 문장 {n}개는 군말 "
        "말고는 모든 단어를 유지하고, 부정 표현, 단위가 붙은 숫자, 이름, 코드, 인용, 질문의 단어는 지우지 않습니다)",
    "no-op: at rate {rate} there was nothing to drop": "변화 없음: 비율 {rate}에서는 지울 것이 없었습니다",
    "no-op: nothing to compact (no extra whitespace, JSON, key-value or Q/A blocks)":
        "변화 없음: 줄일 것이 없습니다 (남는 공백, JSON, 키-값, Q/A 블록이 없음)",
    "no-op: fewer than two example blocks found": "변화 없음: 예시 블록이 두 개보다 적습니다",
    "no-op: {n} examples at rate {rate} keeps them all": "변화 없음: 예시 {n}개에 비율 {rate}면 모두 남습니다",
    "no-op: the model kept every token": "변화 없음: 모델이 모든 토큰을 남겼습니다",
    "put back {n} rule whose negation, restriction or condition the model dropped":
        "모델이 지운 부정, 제한, 조건을 되살려 규칙 {n}개를 원래대로 두었습니다",
    "put back {n} rules whose negation, restriction or condition the model dropped":
        "모델이 지운 부정, 제한, 조건을 되살려 규칙 {n}개를 원래대로 두었습니다",
    "no-op: fewer than two context chunks found": "변화 없음: 문맥 조각이 두 개보다 적습니다",
    "no-op: every chunk fits the budget and none is a duplicate": "변화 없음: 모든 조각이 예산에 들고 중복도 없습니다",
    # why the semantic cache served a hit (%llmcost cache audit's why_served; policies/semantic_guard.py, semantic_cache.py)
    "same content words, numbers, names and polarity": "내용어, 숫자, 이름, 긍정·부정이 같음",
    "words added ({words})": "단어가 더해짐 ({words})",
    "similarity {value} >= {needed}": "유사도 {value} >= {needed}",
    "same content words, numbers, names and polarity: similarity {value} < {needed}":
        "내용어, 숫자, 이름, 긍정·부정이 같음: 유사도 {value} < {needed}",
    "words added ({words}): similarity {value} < {needed}": "단어가 더해짐 ({words}): 유사도 {value} < {needed}",
    "verbs {swapped}: only a verifier can tell a synonym": "동사가 바뀜 {swapped}: 동의어인지는 검증기만 가릴 수 있음",
    "a thing swapped for another {swapped}: only a verifier can tell a synonym":
        "다른 대상으로 바뀜 {swapped}: 동의어인지는 검증기만 가릴 수 있음",
    "the verifier said they ask the same thing": "검증기가 같은 것을 묻는다고 판단함",
}

# one step of "compress {steps}" (", "-joined; compression/messages.py)
STEPS_KO: dict[str, str] = {
    "{label} on {n} part": "{label} 부분 {n}개",
    "{label} on {n} parts": "{label} 부분 {n}개",
    "{label} on {n} part (rate not reached on {short}: rules are kept whole)":
        "{label} 부분 {n}개 ({short}개는 목표 비율 미달: 규칙은 통째로 유지)",
    "{label} on {n} parts (rate not reached on {short}: rules are kept whole)":
        "{label} 부분 {n}개 ({short}개는 목표 비율 미달: 규칙은 통째로 유지)",
    "{label} no-op": "{label} 변화 없음",
    "{label} no-op (history already within it)": "{label} 변화 없음 (기록이 이미 그 안에 있음)",
    "{label} dropped {n} messages": "{label} 메시지 {n}개 삭제",
}

# one placement of "prompt-cache: {placements}" (" + "-joined; policies/prompt_cache.py)
PLACEMENTS_KO: dict[str, str] = {
    "breakpoint on {block} (shared by every conversation)": "{block}에 breakpoint (모든 대화가 공유)",
    "automatic (top-level cache_control: the breakpoint follows the conversation)":
        "자동 (최상위 cache_control: breakpoint가 대화를 따라감)",
    "breakpoint on {block} (automatic mode would include the question, new every call)":
        "{block}에 breakpoint (자동 모드라면 매번 새로운 질문까지 포함했을 것)",
}
