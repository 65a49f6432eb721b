"""Korean help for the ``%%llmcost`` options and ``%llmcost?``, and the rare warnings, keyed by their English (merged
into ``KO``).

Written for this package (2026-11-30), in the terms of ``messages_ko.py``; option names, values and metavars stay as
typed (``--budget USD``), like the README.
"""

from __future__ import annotations

HELP_KO: dict[str, str] = {
    # %%llmcost options (notebook/options.py)
    "label recorded on every call of the cell": "셀의 모든 호출에 기록할 태그",
    "hard cap: a call whose worst case does not fit is refused before it is sent":
        "상한선: 최악의 경우 비용이 예산에 들지 않는 호출은 보내기 전에 거절합니다",
    "no live meter, no summary": "실시간 미터와 요약을 보이지 않습니다",
    "show amounts in this currency (with --fx)": "금액을 이 통화로 보입니다 (--fx와 함께)",
    "units of --currency per US dollar": "1달러가 --currency로 얼마인지 (환율)",
    "send the calls to the offline sandbox: what would it cost?": "호출을 오프라인 샌드박스로 보냅니다: 비용이 얼마나 들까요?",
    "answer repeated (or same-meaning) requests for $0": "반복되는 (또는 뜻이 같은) 요청에 $0로 답합니다",
    "how long cached answers live: 90s, 30m, 24h, 7d, 0, forever": "캐시된 답을 보관할 기간: 90s, 30m, 24h, 7d, 0, forever",
    "semantic cache similarity threshold (default 0.70, with a guard)": "의미 캐시의 유사도 임계값 (기본 0.70, 가드 포함)",
    "a cache hit must share this key too": "캐시 적중이 되려면 이 키도 같아야 합니다",
    "also cache non-deterministic requests": "결정적이지 않은 요청도 캐시합니다",
    "also cache answers that are only tool calls": "도구 호출만 담은 답도 캐시합니다",
    "place provider prompt-cache breakpoints on the stable prefix": "공급사 프롬프트 캐시의 breakpoint를 고정 접두부에 둡니다",
    "send each call to the cheapest model tier that fits: rules, embedding, classifier, probe, cascade, cascade+probe or "
    "a plugin's router": "각 호출을 감당할 수 있는 가장 싼 모델 단계로 보냅니다: rules, embedding, classifier, probe, "
                         "cascade, cascade+probe 또는 플러그인의 라우터",
    "max_tokens for calls that set none": "max_tokens를 정하지 않은 호출에 쓸 max_tokens",
    "stop sequence for calls that set none (repeatable)": "중단 시퀀스를 정하지 않은 호출에 쓸 중단 시퀀스 (여러 번 쓸 수 있음)",
    "ask for answers of at most WORDS words": "답을 WORDS 단어 이내로 해 달라고 요청합니다",
    "defer the cell's chat calls to the Batch API (half price)": "셀의 채팅 호출을 Batch API로 미룹니다 (반값)",
    "near a limit, use a cheaper model that fits instead of refusing": "한도에 가까우면 거절하는 대신 예산에 드는 더 싼 모델을 씁니다",
    "compress each prompt before sending": "보내기 전에 각 프롬프트를 압축합니다",
    "with --compress: leave system prompts as written": "--compress와 함께: 시스템 프롬프트는 그대로 둡니다",
    # %llmcost commands' options
    "the last metered cell": "마지막으로 측정한 셀",
    "doctor: that cell run (default: the last metered cell)": "doctor: 그 셀 실행 (기본: 마지막으로 측정한 셀)",
    "doctor: every call of the session": "doctor: 이 세션의 모든 호출",
    # %llmcost? (notebook/magics.py)
    "commands:": "명령:",
    "Meter a cell (``%%llmcost [--tag T] [--budget USD] [--quiet] [--currency CUR --fx RATE]``),\nor run a command: "
    "``%llmcost report|prices|on|off|export`` (see the README).":
        "셀을 측정하거나 (``%%llmcost [--tag T] [--budget USD] [--quiet] [--currency CUR --fx RATE]``),\n명령을 "
        "실행합니다: ``%llmcost report|prices|on|off|export`` (README 참고).",
    # rare warnings (plugins.py, policies/response_cache.py, bookkeeping/ledger_journal.py, intercept/realtime.py)
    "llmcost_magic plugin {plugin!r} was left out: {message}":
        "llmcost_magic: 플러그인 {plugin!r}을(를) 빼고 불러왔습니다: {message}",
    "llmcost: a cached answer was not served because {reason}; the call goes to the provider and a sound answer "
    "replaces the row.": "llmcost: 캐시된 답을 쓰지 않았습니다 ({reason}). 호출은 공급사로 가고, 온전한 답이 그 항목을 "
                         "대신합니다.",
    "llmcost: the ledger journal {path} does not start with the ledger's column names; its rows were not added to the "
    "ledger. Read it, then delete it.": "llmcost: 원장 저널 {path}이(가) 원장의 열 이름으로 시작하지 않아 그 행들을 "
                                        "원장에 넣지 않았습니다. 내용을 확인한 뒤 지우세요.",
    "llmcost_magic: OpenAI Realtime (WebSocket) sessions are not metered (they bypass httpx); their cost is missing "
    "from this meter and the ledger.": "llmcost_magic: OpenAI Realtime (WebSocket) 세션은 측정되지 않습니다 (httpx를 "
                                       "거치지 않음). 그 비용은 이 미터와 원장에서 빠져 있습니다.",
    "llmcost_magic: metering failed ({error}); your calls go on unmetered.":
        "llmcost_magic: 측정에 실패했습니다 ({error}). 호출은 측정 없이 계속됩니다.",
    # the batch progress bar and wait() (batch.py)
    "req": "건",
    "failed": "실패",
    "elapsed": "경과",
    "{name} still running after {timeout:.0f}s; call wait() again later (or llmcost_magic.batch.attach({name!r}) after "
    "a restart).": "{name}이(가) {timeout:.0f}초가 지나도 아직 실행 중입니다. 나중에 wait()를 다시 부르세요 (재시작한 "
                   "뒤라면 llmcost_magic.batch.attach({name!r})).",
    # option values a cell names (policies/response_cache.py, compression/methods.py and base.py, routing.py) and
    # %config LLMCost values (notebook/magics.py)
    "Cannot read the duration {text!r}: use e.g. 90s, 30m, 24h, 7d, 0 (never cache) or forever.":
        "기간 {text!r}을(를) 읽을 수 없습니다: 90s, 30m, 24h, 7d, 0 (캐시하지 않음), forever처럼 적으세요.",
    "{method}: rate must be the share of tokens to keep, in (0, 1], got {rate!r} (e.g. {method}:0.5 keeps about half)":
        "{method}: 비율은 남길 토큰의 몫으로 (0, 1] 범위여야 합니다 (받은 값: {rate!r}, 예: {method}:0.5는 절반쯤 남깁니다)",
    "compress: say which method, e.g. --compress selective:0.5 (methods: {methods})":
        "compress: 방법을 적어 주세요. 예: --compress selective:0.5 (방법: {methods})",
    "did you mean {near!r}? ": "{near!r}을(를) 찾으셨나요? ",
    "compress: unknown method {name!r}; {hint}methods: {methods}{left_out}":
        "compress: 알 수 없는 방법 {name!r}입니다. {hint}방법: {methods}{left_out}",
    "compress: {name}:{value} — the rate must be a number in (0, 1], the share of tokens to keep (e.g. {name}:0.5)":
        "compress: {name}:{value} — 비율은 남길 토큰의 몫으로 (0, 1] 범위의 숫자여야 합니다 (예: {name}:0.5)",
    "turns": "턴",
    "compress: {name} needs the number of {unit} to keep, e.g. {example}":
        "compress: {name}에는 남길 {unit} 수를 주세요. 예: {example}",
    "compress: {name} must keep at least 1 of its {unit}, e.g. {example}":
        "compress: {name}은(는) {unit}을(를) 1개 이상 남겨야 합니다. 예: {example}",
    "Unknown router {name!r}: use one of {names}.{left_out}": "알 수 없는 라우터 {name!r}입니다: {names} 중 하나를 쓰세요.{left_out}",
    "LLMCost.fx must be > 0 (units of {currency} per USD), got {value}":
        "LLMCost.fx는 0보다 커야 합니다 (1달러당 {currency} 단위 수, 받은 값: {value})",
    "LLMCost.budget must be > 0 dollars (or None for no cap), got {value}":
        "LLMCost.budget은 0달러보다 커야 합니다 (상한이 없으면 None, 받은 값: {value})",
    # the answer a call deferred to a batch gets at once (intercept/deferred.py)
    "[deferred to a batch as {custom_id}: collect with llmcost_magic.batch.results()]":
        "[배치로 미뤘습니다 ({custom_id}): 결과는 llmcost_magic.batch.results()로 받으세요]",
    # batch errors (batch.py)
    "{ids} custom_ids for {n} requests: give one per request.": "요청 {n}건에 custom_id가 {ids}개입니다: 요청마다 하나씩 주세요.",
    "Duplicate custom_ids {ids}: each request needs its own id.": "custom_id {ids}가 겹칩니다: 요청마다 다른 id가 필요합니다.",
    "Request {cid!r} has no messages: the provider would reject it.": "요청 {cid!r}에 메시지가 없습니다: 공급사가 거절할 것입니다.",
    "Request {cid!r} is empty: the provider would reject it; drop or fill it first.":
        "요청 {cid!r}이(가) 비어 있습니다: 공급사가 거절할 것입니다. 먼저 빼거나 채우세요.",
    "Nothing to batch: the input is empty.": "배치로 보낼 것이 없습니다: 입력이 비어 있습니다.",
    "No recorded batch {name!r}: llmcost_magic.batches() lists them.":
        "기록된 배치 {name!r}이(가) 없습니다: llmcost_magic.batches()로 목록을 보세요.",
    "No deferred batch yet: run a cell with %%llmcost --batch first, or attach one by name.":
        "미뤄 둔 배치가 아직 없습니다: 먼저 %%llmcost --batch 셀을 실행하거나, 이름으로 배치를 붙이세요.",
    # %llmcost cache advise (policies/prompt_cache.py)
    "No requests to advise on: run a metered cell first.": "조언할 요청이 없습니다: 먼저 측정된 셀을 실행하세요.",
    "~{tokens:,} tokens every request repeats come after something that varies: move the varying part (a date, a name, "
    "the question) after them to make them cacheable.": "요청마다 반복되는 약 {tokens:,} 토큰이 바뀌는 부분 뒤에 있습니다: "
                                                        "바뀌는 부분(날짜, 이름, 질문)을 그 뒤로 옮기면 캐시할 수 있습니다.",
    "The shared prefix (~{tokens:,} tokens) is below the {minimum:,}-token minimum {model} caches: caching cannot help "
    "these requests.": "공유 접두부(약 {tokens:,} 토큰)가 {model}이(가) 캐시하는 최소 {minimum:,} 토큰보다 짧습니다: 이 "
                       "요청들에는 캐싱이 도움이 되지 않습니다.",
    "The stable part already comes first: nothing to reorder.": "고정 부분이 이미 앞에 있습니다: 순서를 바꿀 것이 없습니다.",
    # settings a participant or an instructor gives (workshop.py, repricing.py, dashboard.py, budget.py, budget_book.py)
    "Cannot reach the workshop's Redis at {url}: {error}. Ask the instructor for the address, or unset it with "
    "%config LLMCost.workshop = None.": "워크숍 Redis({url})에 연결할 수 없습니다: {error}. 강사에게 주소를 물어보거나, "
                                       "%config LLMCost.workshop = None으로 설정을 지우세요.",
    "{name} must be between 0 and 1, got {value}": "{name}은(는) 0과 1 사이여야 합니다 (받은 값: {value})",
    "Export to .html or .png, got {name!r}": ".html이나 .png로 내보내세요 (받은 이름: {name!r})",
    "A budget must be a positive number of dollars, got {limit!r} (e.g. --budget 0.50).":
        "예산은 0보다 큰 달러 금액이어야 합니다 (받은 값: {limit!r}, 예: --budget 0.50).",
    "none defined": "정의된 것 없음",
    "Unknown segment {segment!r}: the budget file defines {known}.":
        "알 수 없는 세그먼트 {segment!r}입니다: 예산 파일에 정의된 세그먼트는 {known}입니다.",
}

# `%config LLMCost`: each setting's help (notebook/magics.py's traits); looked up by LLMCost.class_get_trait_help
CONFIG_HELP_KO: dict[str, str] = {
    "Tag recorded on every metered call unless a cell sets --tag.": "셀이 --tag를 주지 않으면 모든 측정 호출에 기록할 태그.",
    "Hide the live meter and the summary.": "실시간 미터와 요약을 숨깁니다.",
    "Currency to show dollars in (the ledger stays in USD).": "달러 금액을 보일 통화 (원장은 USD 그대로).",
    "Units of `currency` per US dollar.": "1달러당 `currency` 단위 수 (환율).",
    "Default hard cap in USD for every metered cell.": "모든 측정 셀의 기본 상한 (USD).",
    "SQLite ledger file (':memory:' for none).": "SQLite 원장 파일 (남기지 않으려면 ':memory:').",
    "TOML/YAML file of model prices to add or override.": "더하거나 덮어쓸 모델 가격의 TOML/YAML 파일.",
    "Seconds between live meter updates.": "실시간 미터를 새로 그리는 간격 (초).",
    "Cache every metered cell: 'exact' or 'semantic'.": "모든 측정 셀을 캐시합니다: 'exact' 또는 'semantic'.",
    "Cache store: a SQLite path, ':memory:', or redis://host:port/db.": "캐시 저장소: SQLite 경로, ':memory:', 또는 redis://host:port/db.",
    "YAML/TOML table of tag: TTL (e.g. small_talk: 0).": "태그: TTL 표를 담은 YAML/TOML (예: small_talk: 0).",
    "YAML/TOML budgets: default and per-segment limits.": "YAML/TOML 예산: 기본 한도와 세그먼트별 한도.",
    "Who calls are attributed to (default: $LLMCOST_USER or the login).": "호출을 누구의 것으로 기록할지 (기본: $LLMCOST_USER 또는 로그인 이름).",
    "The budget file's segment whose limits apply.": "예산 파일에서 한도를 적용할 세그먼트.",
    "The room's Redis (redis://...): shared budgets, totals and cache.": "강의실의 Redis (redis://...): 함께 쓰는 예산, 합계, 캐시.",
    "If the workshop's Redis is unreachable, let calls go on unchecked.": "워크숍 Redis에 닿지 않으면 확인 없이 호출을 계속합니다.",
    "Near a limit, switch a call to a cheaper model that fits instead of refusing.":
        "한도에 가까우면 거절하는 대신 예산에 드는 더 싼 모델로 호출을 바꿉니다.",
    "Let calls to models with no known price pass hard caps, uncapped.": "가격을 모르는 모델의 호출은 상한을 두지 않고 통과시킵니다.",
    "Route every metered cell: rules, embedding, classifier, probe, cascade or cascade+probe.":
        "모든 측정 셀을 라우팅합니다: rules, embedding, classifier, probe, cascade 또는 cascade+probe.",
    "YAML/TOML file of model tiers (default: the shipped tiers).": "모델 단계의 YAML/TOML 파일 (기본: 함께 배포되는 단계).",
    "The cascade escalates below this stated confidence.": "답이 밝힌 확신도가 이보다 낮으면 캐스케이드가 상위 단계로 보냅니다.",
    "Compress every metered cell's prompts: METHOD[:RATE], e.g. 'selective:0.5'.":
        "모든 측정 셀의 프롬프트를 압축합니다: METHOD[:RATE], 예: 'selective:0.5'.",
    "Let compression rewrite system prompts too.": "압축이 시스템 프롬프트도 고쳐 쓰게 합니다.",
    "Language of summaries, labels, table headers and refusals: 'en' or 'ko' (default: $LLMCOST_LANG, else 'en').":
        "요약, 라벨, 표 머리글, 거절 메시지의 언어: 'en' 또는 'ko' (기본: $LLMCOST_LANG, 없으면 'en').",
}
