"""The Korean catalog: each English template of :func:`~llmcost_magic.core.messages.tr` with its Korean text (same
``{fields}``: a test checks), and the Korean display names of columns, index names and strategies.

Written for this package (2026-11-30); amounts stay in the fields, so won or dollars come from the meter's currency.
"""

from __future__ import annotations

from .messages_ko_help import HELP_KO
from .messages_ko_ledger import LEDGER_LABELS_KO

KO: dict[str, str] = {
    # the meter's summary line (display.summary_line)
    "{n} call{s}": "호출 {n}회",
    "{input} in ({cached} cached) / {output} out tokens": "입력 {input} (캐시 {cached}) / 출력 {output} 토큰",
    " + unpriced": " + 가격 미상",
    "{n} cache hit{s}": "캐시 적중 {n}회",
    "saved {amount} ({by})": "절감 {amount} ({by})",
    "{n} estimated": "추정 {n}건",
    "{n} failed": "실패 {n}건",
    "{n} refused by budget": "예산 초과로 거절 {n}건",
    # the live meter's labels (widgets/live_meter.py): Korean puts the name before the value
    "<b>{value}</b> {name}": "{name} <b>{value}</b>",
    "call": "호출",
    "calls": "호출",
    "input": "입력",
    "cached": "캐시",
    "output": "출력",
    "cost": "비용",
    "cache hits": "캐시 적중",
    "saved": "절감",
    "refused": "거절",
    # the meter's heading and notes (magics.py)
    "budget ${limit:g}": "예산 ${limit:g}",
    "dry run on the sandbox (simulated)": "샌드박스에서 모의 실행 (시뮬레이션)",
    "calls deferred to a batch": "호출을 배치로 미룸",
    "{mode} cache": "{mode} 캐시",
    "prompt caching: auto": "프롬프트 캐싱: 자동",
    "route: {route}": "라우팅: {route}",
    "previous run of this cell: {cost} for {n} call{s}": "이 셀의 이전 실행: 호출 {n}회에 {cost}",
    "llmcost: {n} {model} calls deferred to batch {name!r} ({provider}, {ids}); collect with "
    "llmcost_magic.batch.results()": "llmcost: {model} 호출 {n}건을 배치 {name!r}({provider}, {ids})로 미뤘습니다. "
                                     "결과는 llmcost_magic.batch.results()로 받으세요.",
    # option errors (options.py); argparse's own phrases stay English inside them
    "llmcost: {message}. Usage: {usage}": "llmcost: {message}. 사용법: {usage}",
    "{name} must be a number, got {text!r} (e.g. {name} 0.50)": "{name}에는 숫자를 주세요 (받은 값: {text!r}, 예: {name} 0.50)",
    "{name} must be greater than 0, got {text!r} (e.g. {name} 0.50)":
        "{name}은(는) 0보다 커야 합니다 (받은 값: {text!r}, 예: {name} 0.50)",
    "{name} must be a whole number, got {text!r}": "{name}에는 정수를 주세요 (받은 값: {text!r})",
    "{name} must be at least 1, got {text!r}": "{name}은(는) 1 이상이어야 합니다 (받은 값: {text!r})",
    "--threshold must be a number in (0, 1], got {text!r} (e.g. 0.70)":
        "--threshold에는 (0, 1] 범위의 숫자를 주세요 (받은 값: {text!r}, 예: 0.70)",
    "--threshold must be in (0, 1], got {text!r} (e.g. 0.70)":
        "--threshold는 (0, 1] 범위여야 합니다 (받은 값: {text!r}, 예: 0.70)",
    "llmcost: cannot parse options {line!r}: {error}. Usage: {usage}":
        "llmcost: 옵션 {line!r}을(를) 읽을 수 없습니다: {error}. 사용법: {usage}",
    "llmcost: --currency {currency} needs an exchange rate: add --fx UNITS_PER_USD (e.g. --currency KRW --fx 1350).":
        "llmcost: --currency {currency}에는 환율이 필요합니다: --fx 달러당_단위를 붙이세요 (예: --currency KRW --fx 1350).",
    "llmcost: --{option} only applies with --cache exact|semantic. Usage: {usage}":
        "llmcost: --{option}은(는) --cache exact|semantic과 함께만 쓸 수 있습니다. 사용법: {usage}",
    "llmcost: --threshold only applies with --cache semantic.":
        "llmcost: --threshold는 --cache semantic과 함께만 쓸 수 있습니다.",
    "llmcost: --compress-keep-system only applies with --compress METHOD[:RATE].":
        "llmcost: --compress-keep-system은 --compress METHOD[:RATE]와 함께만 쓸 수 있습니다.",
    "llmcost: cannot parse {line!r}: {error}. Usage: {usage}": "llmcost: {line!r}을(를) 읽을 수 없습니다: {error}. 사용법: {usage}",
    "llmcost: say what to do. Usage: {usage}": "llmcost: 무엇을 할지 적어 주세요. 사용법: {usage}",
    # %llmcost commands (line_commands.py, cache_commands.py)
    "llmcost: unknown command {line!r}": "llmcost: 알 수 없는 명령 {line!r}",
    "llmcost: metering every cell of this session (%llmcost off to stop).":
        "llmcost: 이 세션의 모든 셀을 측정합니다 (그만하려면 %llmcost off).",
    "llmcost: automatic metering is off.": "llmcost: 자동 측정을 껐습니다.",
    "llmcost: Parquet export needs pyarrow: pip install 'llmcost-magic[parquet]'":
        "llmcost: Parquet로 내보내려면 pyarrow가 필요합니다: pip install 'llmcost-magic[parquet]'",
    "llmcost: export to .csv or .parquet, got {name!r}": "llmcost: .csv나 .parquet로 내보내세요 (받은 이름: {name!r})",
    "llmcost: wrote {n} calls to {target}": "llmcost: 호출 {n}건을 {target}에 썼습니다",
    "llmcost: no metered cell yet for --cell.": "llmcost: --cell로 볼 측정된 셀이 아직 없습니다. 먼저 %%llmcost 셀을 실행하세요.",
    "llmcost: no recorded calls to re-price for that selection.":
        "llmcost: 그 조건으로 다시 계산할 기록된 호출이 없습니다. --tag나 --all로 범위를 넓혀 보세요.",
    "llmcost: no recorded calls yet to show (add --all for every session).":
        "llmcost: 보여 줄 기록된 호출이 아직 없습니다 (모든 세션을 보려면 --all을 붙이세요).",
    "llmcost: dashboard saved to {path}": "llmcost: 대시보드를 {path}에 저장했습니다",
    "llmcost: run a metered cell first; %llmcost cache advise looks at its calls.":
        "llmcost: 먼저 측정된 셀을 실행하세요. %llmcost cache advise는 그 셀의 호출을 살펴봅니다.",
    "llmcost: removed {n} cached answer{s}.": "llmcost: 캐시된 답변 {n}개를 지웠습니다.",
    "llmcost: confirmed the semantic hit on {key}… (its threshold may come down)":
        "llmcost: {key}…의 의미 캐시 적중을 맞다고 확인했습니다 (그 항목의 임계값이 내려갈 수 있습니다)",
    "raised the threshold of the semantic entry (rejected at similarity {similarity:.3f})":
        "의미 캐시 항목의 임계값을 올렸습니다 (유사도 {similarity:.3f}에서 거절됨)",
    "removed and blocked cached answer (in {store})": "캐시된 답변을 지우고 다시 저장되지 않게 막았습니다 ({store})",
    "No cached answer to reject yet: pass the key shown by %llmcost cache audit.":
        "거절할 캐시 답변이 아직 없습니다: %llmcost cache audit이 보여 주는 키를 넘기세요.",
    "No semantic hit to confirm: pass an id from %llmcost cache audit.":
        "확인할 의미 캐시 적중이 없습니다: %llmcost cache audit의 id를 넘기세요.",
    # the prompt-cache doctor (policies/prompt_cache_doctor.py)
    "prompt-cache doctor: no misses to explain.": "프롬프트 캐시 진단: 설명할 캐시 미스가 없습니다.",
    "prompt-cache doctor: {n} call{s} did not read what the provider's prompt cache could have served, "
    "costing ${miss:.4f}; the fixes would save ${saves:.4f}.":
        "프롬프트 캐시 진단: 호출 {n}건이 공급사의 프롬프트 캐시에서 읽을 수 있던 부분을 읽지 못해 ${miss:.4f}가 "
        "더 들었습니다. 아래 해결책을 적용하면 ${saves:.4f}를 아낍니다.",
    "<p>… and {n} more in <code>.table</code></p>": "<p>… 나머지 {n}건은 <code>.table</code>에 있습니다</p>",
    "a timestamp ({old!r} → {new!r})": "타임스탬프 ({old!r} → {new!r})",
    "move the timestamp after the stable prefix (e.g. into the user message)":
        "타임스탬프를 고정 접두부 뒤로 옮기세요 (예: user 메시지 안으로)",
    "a new system line ({line!r})": "새 system 줄 ({line!r})",
    "append new lines after the stable prefix, or send them with the user message":
        "새 줄은 고정 접두부 뒤에 붙이거나 user 메시지와 함께 보내세요",
    "an edit ({old!r} → {new!r})": "수정 ({old!r} → {new!r})",
    "keep this block identical across calls; put what varies after the stable prefix":
        "이 블록을 호출마다 똑같이 유지하고, 바뀌는 부분은 고정 접두부 뒤에 두세요",
    "a reordered tool ({block})": "순서가 바뀐 도구 ({block})",
    "send the tools in a fixed order (e.g. sorted by name)": "도구를 고정된 순서로 보내세요 (예: 이름순 정렬)",
    "a tool added or changed ({block})": "추가되거나 바뀐 도구 ({block})",
    "keep the tool list identical across calls (tools come first in the prefix)":
        "도구 목록을 호출마다 똑같이 유지하세요 (도구는 접두부의 맨 앞에 옵니다)",
    "block {block} changed (its text is no longer in memory)": "블록 {block}이(가) 바뀌었습니다 (그 텍스트는 더 이상 메모리에 없음)",
    "keep this block identical across calls": "이 블록을 호출마다 똑같이 유지하세요",
    "block {block} replaced, later blocks unchanged": "블록 {block}이(가) 교체되었고 뒤의 블록은 그대로입니다",
    "put what varies after the stable prefix": "바뀌는 부분은 고정 접두부 뒤에 두세요",
    "read the stable prefix": "고정 접두부를 읽었습니다",
    "the same prompt went to another model before": "같은 프롬프트가 전에는 다른 모델로 갔습니다",
    "caches are per model: keep a conversation (or a shared prefix) on one model":
        "캐시는 모델마다 따로입니다: 한 대화(또는 공유 접두부)는 한 모델에 두세요",
    "nothing to read yet": "아직 읽을 것이 없습니다",
    "the first call with this prompt": "이 프롬프트의 첫 호출",
    "the prefix sent before is ~{could:,} tokens; {model} caches from {minimum:,}":
        "전에 보낸 접두부는 약 {could:,} 토큰인데 {model}은(는) {minimum:,} 토큰부터 캐시합니다",
    "lengthen or merge blocks to reach {minimum:,} tokens, or leave caching off":
        "블록을 늘리거나 합쳐 {minimum:,} 토큰에 이르게 하거나, 캐싱을 끄세요",
    "the entry ends at {block}, {gap} blocks before this call's nearest breakpoint (Anthropic looks back {lookback})":
        "캐시 항목은 {block}에서 끝나는데, 이 호출의 가장 가까운 breakpoint보다 {gap}블록 앞입니다 "
        "(Anthropic은 {lookback}블록까지 거슬러 봅니다)",
    "add a {where} breakpoint at least every {lookback} blocks (e.g. on {block})":
        "{where} breakpoint를 적어도 {lookback}블록마다 두세요 (예: {block})",
    "the {mode} breakpoint sits on {block}, which changes every call": "{mode} breakpoint가 호출마다 바뀌는 {block}에 있습니다",
    "no {where} in the request": "요청에 {where}이(가) 없습니다",
    "read up to {block}; no breakpoint after it before the new part":
        "{block}까지 읽었고, 그 뒤로 새 부분 앞에 breakpoint가 없습니다",
    "no entry at the end of the prefix sent before: {now}": "전에 보낸 접두부의 끝에 캐시 항목이 없습니다: {now}",
    "put a {where} breakpoint on {block} (--prompt-cache auto does)":
        "{block}에 {where} breakpoint를 두세요 (--prompt-cache auto가 해 줍니다)",
    "a 1h TTL (\"ttl\": \"1h\"): calls ~{minutes:.0f} min apart; its write costs ${premium:.4f} more than a 5-minute one":
        "1시간 TTL (\"ttl\": \"1h\"): 호출 간격이 약 {minutes:.0f}분입니다. 쓰기 비용은 5분짜리보다 ${premium:.4f} 더 듭니다",
    "calls {minutes:.0f} min apart outlive every TTL: drop the breakpoint (its write premium buys nothing)":
        "호출 간격 {minutes:.0f}분은 어떤 TTL보다 깁니다: breakpoint를 빼세요 (쓰기 할증으로 얻는 것이 없습니다)",
    "prompt_cache_retention=\"24h\" (extended retention, no extra charge)":
        "prompt_cache_retention=\"24h\" (연장 보존, 추가 요금 없음)",
    "prompt_cache_options.ttl=\"12h\" (Responses API)": "prompt_cache_options.ttl=\"12h\" (Responses API 사용)",
    "{minutes:.0f} min idle: the {ttl} entry had expired": "{minutes:.0f}분 동안 호출이 없어 {ttl} 캐시 항목이 만료되었습니다",
    "see the provider's cache diagnostics guide": "공급사의 캐시 진단 안내를 보세요",
    "eligible and within the TTL, but the provider read nothing (routing or eviction)":
        "조건을 갖췄고 TTL 안이었지만 공급사가 아무것도 읽지 않았습니다 (라우팅 또는 캐시 축출)",
    # the compression playground (widgets/compression_playground.py)
    "compression playground · {method} · keep {rate:.0%} · {model}": "압축 놀이터 · {method} · {rate:.0%} 유지 · {model}",
    "<i>Paste a prompt to compress.</i>": "<i>압축할 프롬프트를 붙여 넣으세요.</i>",
    "rule sentence": "규칙 문장",
    "negation / condition": "부정 / 조건",
    "removed": "삭제됨",
    "risky removal": "위험한 삭제",
    "tokens": "토큰",
    "reduction": "감소율",
    "saved per {calls:,} calls": "호출 {calls:,}회당 절감",
    "rules kept whole": "온전히 남은 규칙",
    "negations kept": "남은 부정 표현",
    "numbers kept": "남은 숫자",
    "names kept": "남은 이름",
    "{lang}: {kept}/{negations} negations, {whole}/{rules} rules whole":
        "{lang}: 부정 표현 {kept}/{negations}, 온전한 규칙 {whole}/{rules}",
    ", <b style='color:#c00'>{n} reversed</b>": ", <b style='color:#c00'>뜻이 뒤집힌 규칙 {n}개</b>",
    "{n} risky removal{s}": "위험한 삭제 {n}개",
    # what-if scenarios (repricing.py): shown names and the assumes column
    "on {model}": "{model}로",
    "prompt caching at {share:.0%}": "프롬프트 캐싱 {share:.0%}",
    "compressed to {share:.0%}": "{share:.0%}로 압축",
    "response cache at {share:.0%}": "응답 캐시 {share:.0%}",
    "all calls on {model}, same token counts": "모든 호출을 {model}로, 토큰 수는 같게",
    "batch prices (50%)": "배치 가격 (50%)",
    "{share:.0%} of input read from the provider cache": "입력의 {share:.0%}를 공급사 캐시에서 읽음",
    "input compressed to {share:.0%}": "입력을 {share:.0%}로 압축",
    "{share:.0%} of calls answered by a response cache": "호출의 {share:.0%}를 응답 캐시가 답함",
    "as recorded": "기록된 그대로",
    # the dashboard (widgets/dashboard.py)
    "LLM spend: {n:,} calls, ${usd:,.4f}": "LLM 지출: 호출 {n:,}회, ${usd:,.4f}",
    " (calls ${calls:,.4f} + your other costs ${other:,.4f})": " (호출 ${calls:,.4f} + 그 밖의 비용 ${other:,.4f})",
    "cumulative spend (USD)": "누적 지출 (USD)",
    "calls in time order ({first:%Y-%m-%d %H:%M:%S} to {last:%H:%M:%S})":
        "시간순 호출 ({first:%Y-%m-%d %H:%M:%S} ~ {last:%H:%M:%S})",
    "by vendor: model (USD)": "공급사: 모델별 (USD)",
    "(no tag)": "(태그 없음)",
    "by tag (USD)": "태그별 (USD)",
    "the five cost axes (USD)": "다섯 가지 비용 축 (USD)",
    "tokens per call": "호출당 토큰",
    "savings by strategy (USD)": "전략별 절감 (USD)",
    "<h4>The {n} most expensive calls</h4>": "<h4>가장 비싼 호출 {n}건</h4>",
    "<h4>Provider prompt caching by cell (hit rate: share of input tokens read from the cache; "
    "net of write premiums)</h4>": "<h4>셀별 공급사 프롬프트 캐싱 (적중률: 캐시에서 읽은 입력 토큰의 비율, "
                                   "쓰기 할증을 뺀 순액)</h4>",
    # unknown models (pricing.py)
    " Did you mean {models}?": " 혹시 {models}인가요?",
    " Fine-tunes are priced at their base model's fine-tuned rate, which the price data lacks for {base!r}; add it "
    "under that name to a price file.": " 파인튜닝 모델은 기반 모델의 파인튜닝 요금으로 계산하는데, 가격 데이터에 "
                                         "{base!r}의 요금이 없습니다. 그 이름으로 가격 파일에 추가하세요.",
    "No price known for model {model!r}.{hint} To price a custom or self-hosted model, add it to a price file "
    "(models: {{{name}: {{input_mtok: 0.5, output_mtok: 1.5}}}}) and load it with "
    "llmcost_magic.load_price_overrides(PATH) or %config LLMCost.price_file = PATH.":
        "모델 {model!r}의 가격을 모릅니다.{hint} 직접 만들었거나 자체 호스팅한 모델이면 가격 파일에 추가하고 "
        "(models: {{{name}: {{input_mtok: 0.5, output_mtok: 1.5}}}}) llmcost_magic.load_price_overrides(PATH)나 "
        "%config LLMCost.price_file = PATH로 불러오세요.",
    # workshop and price updates (workshop.py, settings.py, price_updates.py)
    "llmcost: the workshop's Redis is unreachable ({error}); calls go on unchecked (fail open).":
        "llmcost: 워크숍의 Redis에 연결할 수 없습니다({error}). 호출은 확인 없이 계속됩니다 (fail open).",
    "llmcost: the workshop's cache is unreachable ({error}); answers are not cached (fail open).":
        "llmcost: 워크숍의 캐시에 연결할 수 없습니다({error}). 답변을 캐시하지 않습니다 (fail open).",
    "llmcost: every model in the ledger has a current price.": "llmcost: 원장의 모든 모델에 현재 가격이 있습니다.",
    "llmcost: {n} model(s) in the ledger need attention.": "llmcost: 원장의 모델 {n}개를 확인해야 합니다.",
    "llmcost: prices updated ({source}); {n} model(s) in the ledger changed price.":
        "llmcost: 가격을 갱신했습니다 ({source}). 원장의 모델 {n}개의 가격이 바뀌었습니다.",
    # refusals (BudgetExceeded) and what a call could cost at most (policies/budget*.py, workshop.py)
    "{input:,} input + {output:,} max output tokens{times}{tools} on {model}":
        "{model}에서 입력 {input:,} + 최대 출력 {output:,} 토큰{times}{tools}",
    " x {n} choices": " x 선택지 {n}개",
    " + {n} built-in tool calls": " + 내장 도구 호출 {n}회",
    "Refused before sending: this call could cost up to {needed} ({worst}), but the {budget} of {limit} has "
    "{left} left ({committed} spent or reserved); it is over by {over}.":
        "보내기 전에 거절했습니다: 이 호출은 최대 {needed}({worst})까지 들 수 있는데, {limit}짜리 {budget}에는 "
        "{left}만 남았습니다 (사용 또는 예약 {committed}). {over}만큼 초과합니다.",
    " {model} would fit; or lower max_tokens, or raise the budget.":
        " 해결: {model} 모델이면 들어갑니다. 아니면 max_tokens를 낮추거나 예산을 올리세요.",
    " Lower max_tokens, shorten the prompt, or raise the budget.":
        " 해결: max_tokens를 낮추거나, 프롬프트를 줄이거나, 예산을 올리세요.",
    "Refused before sending: this call could cost up to {needed} ({worst}), over the {name} of {limit} for {who}: "
    "{committed} spent or reserved, over by {over}.":
        "보내기 전에 거절했습니다: 이 호출은 최대 {needed}({worst})까지 들 수 있어 {who}의 {name} {limit}을(를) "
        "넘습니다: 사용 또는 예약 {committed}, {over} 초과.",
    " (segment {segment})": " (세그먼트 {segment})",
    " {model} would fit.": " 해결: {model} 모델이면 들어갑니다.",
    " Lower max_tokens or wait for the next period.": " 해결: max_tokens를 낮추거나 다음 기간까지 기다리세요.",
    "per-query limit": "질의당 한도",
    "daily limit per user": "사용자별 일일 한도",
    "monthly limit per user": "사용자별 월간 한도",
    "session limit": "세션 한도",
    "daily limit of tag {tag!r}": "태그 {tag!r}의 일일 한도",
    "monthly limit of tag {tag!r}": "태그 {tag!r}의 월간 한도",
    "{user} has spent {spent} today, {share:.0%} of the daily limit of {limit}.":
        "{user}님이 오늘 {spent}를 썼습니다: 일일 한도 {limit}의 {share:.0%}입니다.",
    "{user}'s last {n} calls averaged {average} per query, over the target of {target}.":
        "{user}님의 최근 호출 {n}건은 질의당 평균 {average}로, 목표 {target}를 넘었습니다.",
    "Refused before submitting batch {name!r}: its {n} requests could cost up to {needed} at batch prices "
    "({worst}), over the limit of {limit} ({committed} spent or reserved, {left} left; over by {over}). The "
    "first {fits} of them (up to {fitting}) would fit: submit fewer, lower max_tokens, or raise the limit. "
    "Nothing was sent.":
        "배치 {name!r}를 제출하기 전에 거절했습니다: 요청 {n}건이 배치 가격으로 최대 {needed}({worst})까지 들 수 있어 "
        "한도 {limit}를 넘습니다 (사용 또는 예약 {committed}, 남은 금액 {left}, {over} 초과). 앞의 {fits}건(최대 "
        "{fitting})은 들어갑니다: 요청 수를 줄이거나, max_tokens를 낮추거나, 한도를 올리세요. 아무것도 보내지 "
        "않았습니다.",
    " Nearest priced models: {models}.": " 가격이 알려진 가까운 모델: {models}.",
    "Refused before sending: no price is known for {model!r}, so a hard cap cannot bound what it costs.{nearest} "
    "Fix: give it a price in one line, llmcost_magic.load_price_overrides({{'models': {{{model!r}: "
    "{{'input_mtok': 0.5, 'output_mtok': 1.5}}}}}}) (or the same entry in a price file, "
    "%config LLMCost.price_file = PATH); or let unpriced calls through uncapped with "
    "%config LLMCost.allow_unpriced = True (meter(allow_unpriced=True)).":
        "보내기 전에 거절했습니다: {model!r}의 가격을 몰라서 상한(hard cap)이 비용을 묶을 수 없습니다.{nearest} "
        "해결: 한 줄로 가격을 주세요, llmcost_magic.load_price_overrides({{'models': {{{model!r}: "
        "{{'input_mtok': 0.5, 'output_mtok': 1.5}}}}}}) (가격 파일에 같은 항목을 넣고 "
        "%config LLMCost.price_file = PATH 해도 됩니다). 아니면 %config LLMCost.allow_unpriced = True "
        "(meter(allow_unpriced=True))로 가격 미상 호출을 상한 없이 통과시키세요.",
    "Refused before sending: this call could cost up to {needed} ({worst}), over the workshop's daily budget of "
    "{limit} for {user} ({committed} spent or reserved; over by {over}). ":
        "보내기 전에 거절했습니다: 이 호출은 최대 {needed}({worst})까지 들 수 있어 {user}님의 워크숍 일일 예산 "
        "{limit}를 넘습니다 (사용 또는 예약 {committed}, {over} 초과). ",
    "{model} would fit.": "해결: {model} 모델이면 들어갑니다.",
    "Ask the instructor, or use a cheaper model.": "해결: 강사에게 문의하거나 더 싼 모델을 쓰세요.",
    "Refused: the workshop's budget server at {url} is unreachable ({error}), and budgets fail closed. Set "
    "%config LLMCost.workshop_fail_open = True to go on unchecked.":
        "거절했습니다: 워크숍 예산 서버 {url}에 연결할 수 없고({error}), 예산은 연결이 끊기면 막히도록(fail closed) "
        "되어 있습니다. 해결: 확인 없이 계속하려면 %config LLMCost.workshop_fail_open = True 로 설정하세요.",
}

# Display names (messages.label): the DataFrames keep their English columns for code; a reader sees these.
LABELS_KO: dict[str, str] = {
    # budgets named in refusals
    "cell budget": "셀 예산",
    "meter budget": "meter 예산",
    # strategies (saved_by) in the summary line
    "cache": "응답 캐시",
    "prompt_cache": "프롬프트 캐시",
    "compression": "압축",
    "batch": "배치",
    "other": "기타",
    # %llmcost report and the ledger's columns
    "cell": "셀",
    "cell_hash": "셀 해시",
    "vendor": "공급사",
    "provider": "프로토콜",
    "model": "모델",
    "tag": "태그",
    "endpoint": "엔드포인트",
    "calls": "호출 수",
    "input_tokens": "입력 토큰",
    "cached_input_tokens": "캐시 입력 토큰",
    "output_tokens": "출력 토큰",
    "cost_usd": "비용(USD)",
    "saved_usd": "절감(USD)",
    "cache_hits": "캐시 적중",
    "runs": "실행 수",
    # report --by max-tokens
    "with_max_tokens": "max_tokens 지정",
    "median_max_tokens": "max_tokens 중앙값",
    "mean_output": "평균 출력",
    "p95_output": "출력 p95",
    "utilization": "사용률",
    "truncated": "잘림",
    "suggested_max_tokens": "권장 max_tokens",
    # prices
    "input": "입력",
    "cached_input": "캐시 입력",
    "cache_write_5m": "캐시 쓰기 5분",
    "cache_write_1h": "캐시 쓰기 1시간",
    "output": "출력",
    "batch_input": "배치 입력",
    "batch_output": "배치 출력",
    "long_context_from": "긴 컨텍스트 시작",
    "source": "출처",
    # whatif
    "scenario": "시나리오",
    "input_usd": "입력(USD)",
    "cached_read_usd": "캐시 읽기(USD)",
    "cache_write_usd": "캐시 쓰기(USD)",
    "output_usd": "출력(USD)",
    "tool_fees_usd": "도구 요금(USD)",
    "unpriced_calls": "가격 미상 호출",
    "assumes": "가정",
    "vs_actual": "실제 대비",
    "actual (re-priced)": "실제 (재계산)",
    # batches (batch.py)
    "worst case": "최악의 경우",
    "expected (¼ of max_tokens)": "예상 (max_tokens의 ¼)",
    "requests": "요청 수",
    "live_usd": "실시간(USD)",
    "batch_usd": "배치(USD)",
    "saving": "절감률",
    "custom_id": "custom_id",
    "text": "답변",
    "error": "오류",
    # budgets (workshop room) and the dashboard's saving steps
    "participant": "참가자",
    "spent_usd": "사용(USD)",
    "limit_usd": "한도(USD)",
    "used": "사용률",
    "without policies": "정책 없이",
    "embedding": "임베딩",
    "external tools": "외부 도구",
    "storage / compute": "저장 / 컴퓨팅",
    "ts": "시각",
    "status": "상태",
    "actual": "실제",
    # cache stats and audit
    "session_calls": "세션 호출",
    "session_hits": "세션 적중",
    "hit_rate": "적중률",
    "exact_hits": "정확 적중",
    "semantic_hits": "의미 적중",
    "store": "저장소",
    "entries": "항목 수",
    "id": "id",
    "question": "질문",
    "cached_question": "캐시된 질문",
    "similarity": "유사도",
    "threshold": "임계값",
    "why_served": "제공한 이유",
    "key": "키",
    # the prompt-cache doctor
    "call": "호출",
    "cell_run": "셀 실행",
    "reason": "원인",
    "block": "블록",
    "detail": "내용",
    "provider_reason": "공급사 사유",
    "cached_tokens": "캐시 토큰",
    "could_read_tokens": "읽을 수 있던 토큰",
    "miss_usd": "놓친 금액(USD)",
    "fix": "해결",
    "fix_saves_usd": "해결 시 절감(USD)",
    "cache_write_tokens": "캐시 쓰기 토큰",
    "net_saved_usd": "순 절감(USD)",
    "hit": "적중",
    "first call": "첫 호출",
    "model changed": "모델 변경",
    "prefix changed": "접두부 변경",
    "below minimum": "최소 길이 미만",
    "beyond lookback": "lookback 범위 밖",
    "no breakpoint": "breakpoint 없음",
    "TTL expired": "TTL 만료",
    "provider reported": "공급사 보고",
    "not read": "읽지 않음",
}

KO.update(HELP_KO)  # the options' help and %llmcost?, kept in their own file
LABELS_KO.update(LEDGER_LABELS_KO)  # the ledger's other columns, with its notes' Korean
