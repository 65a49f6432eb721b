"""Batch API helpers: half-price bulk work from a notebook, resumable after a kernel restart.

    plan = llmcost_magic.batch.build(df["description"], model="gpt-4o-mini",
                                     template="Write a one-line product title for: {}")
    plan.estimate()                      # batch vs live, worst case and expected
    job = plan.submit(client)            # OpenAI: JSONL upload + batch; Anthropic: message batch
    job.wait(client)                     # progress bar: completed / failed / total, elapsed
    results = job.collect(client)        # a DataFrame aligned with the inputs; errors in their own column

Every submitted batch is recorded in the ledger database, so after a restart
``llmcost_magic.batches()`` lists them and ``llmcost_magic.batch.attach(id)`` picks one up again
without resubmitting. Collected results are written to the ledger at batch prices, once.
"""

from __future__ import annotations

import io
import json
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .clients import client_for
from .intercept import anthropic_protocol, openai_protocol
from .intercept.active import active_meter, default_user
from .intercept.batch_results import collecting
from .intercept.deferred import DRY_RUN_PREFIX, placeholder  # noqa: F401 - placeholder re-exported (it lived here)
from .core.pricing import UnknownModelError, price_for
from .core.records import CallRecord, Usage
from .core.messages import labelled, tr
from .session import current_ledger
from .core.tokens import count_tokens, provider_for_model

# Provider limits: requests per batch and bytes per input.
LIMITS = {"openai": (50_000, 200 * 1024 * 1024), "anthropic": (100_000, 256 * 1024 * 1024)}
DEFAULT_MAX_TOKENS = 1024
_DONE = {"completed", "failed", "expired", "cancelled", "ended"}


class BatchError(ValueError):
    """A batch that cannot be built or used; the message names the request and the fix."""


@dataclass
class BatchPlan:
    """Requests ready to submit: ``requests[i]`` is (custom_id, chat request body)."""

    provider: str
    model: str
    requests: list[tuple[str, dict[str, Any]]]

    def estimate(self) -> pd.DataFrame:
        """Dollars for this work at batch prices vs live, at the worst case (every call uses its
        max_tokens) and at an expected output (a quarter of max_tokens, editable by the caller)."""
        live, batch = price_for(self.model), price_for(self.model, batch=True)
        inputs = sum(count_tokens(body["messages"], model=self.model, system=body.get("system")) for _, body in self.requests)
        caps = sum(body.get("max_tokens") or body.get("max_completion_tokens") or DEFAULT_MAX_TOKENS for _, body in self.requests)
        rows = {}
        for label, output in (("worst case", caps), ("expected (¼ of max_tokens)", caps // 4)):
            usage = Usage(input_tokens=inputs, output_tokens=output)
            rows[label] = {"requests": len(self.requests), "input_tokens": inputs, "output_tokens": output,
                           "live_usd": live.cost(usage).usd, "batch_usd": batch.cost(usage).usd}
        table = pd.DataFrame(rows).T
        table["saving"] = 1 - table["batch_usd"] / table["live_usd"]
        return labelled(table, rows=True)

    def chunks(self) -> list[list[tuple[str, dict[str, Any]]]]:
        """The requests split to respect the provider's limits (requests and bytes per batch)."""
        max_requests, max_bytes = LIMITS[self.provider]
        out: list[list[tuple[str, dict[str, Any]]]] = [[]]
        size = 0
        for item in self.requests:
            line = len(json.dumps(item[1])) + 200
            if len(out[-1]) >= max_requests or size + line > max_bytes:
                out.append([])
                size = 0
            out[-1].append(item)
            size += line
        return out

    def submit(self, client: Any, *, name: str = "", meter: Any = None, holds: list[tuple[Any, Any]] | None = None) -> BatchJob:
        """Send the batch (split if needed) and record it in the ledger database.

        Inside a metered scope with budgets (or given ``meter``), the batch first holds its worst case at batch
        prices in each of them, as a whole; it is refused (nothing sent) when it does not fit. ``holds``: the
        holds already taken for it (a cell's batches are all held before any is sent)."""
        from .policies.budgets.batch_holds import hold_batch

        meter = meter or active_meter()
        name = name or f"batch-{uuid.uuid4().hex[:8]}"
        if holds is None:
            holds = hold_batch(meter, self.provider, self.model, self.requests, name)
        try:
            ids = self._send(client)
        except BaseException:
            for budget, hold in holds:
                budget.settle(hold, 0.0)
            raise
        job = BatchJob(name, self.provider, self.model, ids, [cid for cid, _ in self.requests], time.time(),
                       user=meter.user if meter is not None and meter.user else default_user())
        job.holds = holds
        _store().save(job)
        return job

    def _send(self, client: Any) -> list[str]:
        ids = []
        for chunk in self.chunks():
            if self.provider == "openai":
                lines = "\n".join(json.dumps({"custom_id": cid, "method": "POST", "url": "/v1/chat/completions", "body": body})
                                  for cid, body in chunk)
                uploaded = client.files.create(file=("batch.jsonl", io.BytesIO(lines.encode())), purpose="batch")
                ids.append(client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions",
                                                 completion_window="24h").id)
            else:
                ids.append(client.messages.batches.create(
                    requests=[{"custom_id": cid, "params": body} for cid, body in chunk]).id)
        return ids


def with_output_cap(provider: str, body: dict[str, Any], default: int) -> dict[str, Any]:
    """``body`` with an output cap in the field its provider takes, unless it has one: Anthropic requires
    ``max_tokens``; OpenAI's reasoning models reject it and take ``max_completion_tokens`` (as every current
    chat model does), and a request may not carry both."""
    if provider == "anthropic":
        return body if body.get("max_tokens") else {**body, "max_tokens": default}
    if body.get("max_completion_tokens") or body.get("max_tokens"):
        return body
    return {**body, "max_completion_tokens": default}


def build(items: Iterable[Any], *, model: str, template: str = "{}", system: str | None = None,
          max_tokens: int = DEFAULT_MAX_TOKENS, custom_ids: Sequence[str] | None = None) -> BatchPlan:
    """A plan from texts (a list or a DataFrame column; ``template`` formats each) or from ready
    request bodies (dicts with ``messages``). ``custom_ids`` default to the index or position."""
    try:
        price_for(model)
    except UnknownModelError as exc:
        raise BatchError(str(exc)) from None
    provider = provider_for_model(model)
    index = list(items.index) if isinstance(items, pd.Series) else None
    values = list(items)
    if custom_ids is None:
        custom_ids = [f"row-{i}" for i in (index if index is not None else range(len(values)))]
    custom_ids = [str(c) for c in custom_ids]
    if len(custom_ids) != len(values):
        raise BatchError(tr("{ids} custom_ids for {n} requests: give one per request.", ids=len(custom_ids), n=len(values)))
    duplicates = [c for c, n in Counter(custom_ids).items() if n > 1]
    if duplicates:
        raise BatchError(tr("Duplicate custom_ids {ids}: each request needs its own id.", ids=duplicates[:5]))
    requests = []
    for cid, value in zip(custom_ids, values):
        if isinstance(value, dict):
            body = with_output_cap(provider, {"model": model, **value}, max_tokens)
            if not body.get("messages"):
                raise BatchError(tr("Request {cid!r} has no messages: the provider would reject it.", cid=cid))
        else:
            if value is None or (isinstance(value, float) and value != value) or not str(value).strip():
                raise BatchError(tr("Request {cid!r} is empty: the provider would reject it; drop or fill it first.", cid=cid))
            body = with_output_cap(provider, {"model": model, "messages": [{"role": "user", "content": template.format(value)}]},
                                   max_tokens)
        if system:
            if provider == "anthropic":
                body["system"] = system
            else:
                body["messages"] = [{"role": "system", "content": system}, *body["messages"]]
        requests.append((cid, body))
    if not requests:
        raise BatchError(tr("Nothing to batch: the input is empty."))
    return BatchPlan(provider, model, requests)


@dataclass
class BatchJob:
    """A submitted batch (one or more provider batches), re-attachable after a restart."""

    name: str
    provider: str
    model: str
    provider_ids: list[str]
    custom_ids: list[str]
    created: float
    collected: bool = False
    user: str = ""  # who submitted it: its results count toward this user's limits
    last_status: dict[str, Any] = field(default_factory=dict)
    holds: list[tuple[Any, Any]] = field(default_factory=list, repr=False)  # (budget, hold) until collected

    def status(self, client: Any) -> dict[str, Any]:
        """Totals across the provider batches: state, completed, failed, total."""
        states, done, failed, total = [], 0, 0, 0
        for batch_id in self.provider_ids:
            if self.provider == "openai":
                b = client.batches.retrieve(batch_id)
                states.append(b.status)
                counts = b.request_counts
                done, failed, total = done + counts.completed, failed + counts.failed, total + counts.total
            else:
                b = client.messages.batches.retrieve(batch_id)
                states.append(b.processing_status)
                c = b.request_counts
                done += c.succeeded
                failed += c.errored + c.canceled + c.expired
                total += c.succeeded + c.errored + c.canceled + c.expired + c.processing
        state = "done" if all(s in _DONE for s in states) else "in_progress"
        self.last_status = {"state": state, "provider_states": states, "completed": done, "failed": failed, "total": total}
        return self.last_status

    def wait(self, client: Any, *, interval: float = 2.0, timeout: float | None = None, progress: bool = True,
             sleep: Any = time.sleep) -> dict[str, Any]:
        """Poll until every provider batch has ended, with a progress bar (tqdm; in notebooks a widget that
        leaves its final state as text and HTML)."""
        start = time.monotonic()
        bar = None
        if progress:
            from .notebook.widgets.progress import progress_bar  # leaves its last frame as text where widgets do not render

            bar = progress_bar(total=len(self.custom_ids), desc=self.name, unit=tr("req"))
        try:
            while True:
                status = self.status(client)
                if bar is not None:
                    bar.n = status["completed"] + status["failed"]
                    bar.set_postfix(**{tr("failed"): status["failed"], tr("elapsed"): f"{time.monotonic() - start:.0f}s"})
                    bar.refresh()
                if status["state"] == "done":
                    return status
                if timeout is not None and time.monotonic() - start > timeout:
                    raise TimeoutError(tr("{name} still running after {timeout:.0f}s; call wait() again later "
                                          "(or llmcost_magic.batch.attach({name!r}) after a restart).", name=self.name,
                                          timeout=timeout))
                sleep(interval)
        finally:
            if bar is not None:
                bar.close()

    def collect(self, client: Any) -> pd.DataFrame:
        """Results aligned with the inputs (custom_id order): text, tokens, cost at batch prices, error.
        The first collect writes every result to the ledger; later ones only read."""
        rows = {cid: {"custom_id": cid, "text": None, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0,
                      "error": "no result (batch cancelled, expired or still running)"} for cid in self.custom_ids}
        token = collecting.set(True)  # these results are recorded below, not by the seam
        try:
            for result in self._results(client):
                rows[result["custom_id"]] = result
        finally:
            collecting.reset(token)
        table = pd.DataFrame([rows[c] for c in self.custom_ids]).set_index("custom_id")
        if not self.collected:
            self._record(table)
            self.collected = True
            _store().save(self)
        return labelled(table)

    def _results(self, client: Any) -> Iterable[dict[str, Any]]:
        for batch_id in self.provider_ids:
            if self.provider == "openai":
                b = client.batches.retrieve(batch_id)
                for file_id in (b.output_file_id, b.error_file_id):
                    if file_id:
                        for line in client.files.content(file_id).text.splitlines():
                            if line.strip():
                                yield _openai_result(json.loads(line), self.model)
            else:
                if client.messages.batches.retrieve(batch_id).processing_status != "ended":
                    continue
                for entry in client.messages.batches.results(batch_id):
                    yield _anthropic_result(entry.model_dump(), self.model)

    def _record(self, table: pd.DataFrame) -> None:
        from .policies.budgets.reservations import settle_batch_holds

        ledger = current_ledger()
        for cid, row in table.iterrows():
            if row["error"] and not row["output_tokens"]:
                continue  # nothing was billed for a failed line
            usage = Usage(input_tokens=int(row["input_tokens"]), output_tokens=int(row["output_tokens"]))
            ledger.record(CallRecord(ts=time.time(), provider=self.provider, endpoint="batch", model=self.model,
                                     usage=usage, cost_usd=row["cost_usd"],
                                     baseline_cost_usd=price_for(self.model).cost(usage).usd, latency_ms=0.0,
                                     saved_by="batch", tag=self.name, note=("dry-run (simulated) " if self.name.startswith(
                                         DRY_RUN_PREFIX) else "") + f"batch {self.name} {cid}",
                                     user=self.user))
        settle_batch_holds(ledger, self.name)  # commits the rows above and drops the batch's ledger holds at once
        holds, self.holds = self.holds, []
        for budget, hold in holds:  # the other budgets it held in this process (a cell budget, the workshop)
            budget.settle(hold, float(table["cost_usd"].sum()))


def _priced(model: str, usage: Usage) -> float:
    return price_for(model, batch=True).cost(usage).usd or 0.0


def _openai_result(line: dict[str, Any], model: str) -> dict[str, Any]:
    response = line.get("response") or {}
    body = response.get("body") or {}
    if line.get("error") or response.get("status_code") != 200:
        message = (line.get("error") or {}).get("message") or (body.get("error") or {}).get("message") or "failed"
        return {"custom_id": line.get("custom_id"), "text": None, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0, "error": message}
    usage = openai_protocol.from_body("chat.completions", body).usage or Usage()  # the seam's own parser
    text = ((body.get("choices") or [{}])[0].get("message") or {}).get("content")
    return {"custom_id": line["custom_id"], "text": text, "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens, "cost_usd": _priced(model, usage), "error": None}


def _anthropic_result(entry: dict[str, Any], model: str) -> dict[str, Any]:
    result = entry.get("result") or {}
    if result.get("type") != "succeeded":
        error = (result.get("error") or {}).get("error") or {}
        return {"custom_id": entry.get("custom_id"), "text": None, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0,
                "error": error.get("message") or result.get("type", "failed")}
    message = result["message"]
    usage = anthropic_protocol.from_body("messages", message).usage or Usage()  # the seam's own parser
    text = "".join(b.get("text", "") for b in message.get("content") or () if b.get("type") == "text")
    return {"custom_id": entry["custom_id"], "text": text, "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens, "cost_usd": _priced(model, usage), "error": None}


class _BatchTable:
    """Submitted batches, kept in the ledger database (survives kernel restarts)."""

    def __init__(self, ledger: Any) -> None:
        self.ledger = ledger

    def save(self, job: BatchJob) -> None:
        self.ledger.execute(
            "INSERT OR REPLACE INTO batches (name, provider, model, provider_ids, custom_ids, created, collected, user) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (job.name, job.provider, job.model, json.dumps(job.provider_ids), json.dumps(job.custom_ids), job.created,
             int(job.collected), job.user))

    def load(self, name: str) -> BatchJob:
        rows = self.ledger.query("SELECT name, provider, model, provider_ids, custom_ids, created, collected, user "
                                 "FROM batches WHERE name = ? OR provider_ids LIKE ?", (name, f'%"{name}"%'))
        if not rows:
            raise BatchError(tr("No recorded batch {name!r}: llmcost_magic.batches() lists them.", name=name))
        n, provider, model, pids, cids, created, collected, user = rows[0]
        return BatchJob(n, provider, model, json.loads(pids), json.loads(cids), created, bool(collected), user or "")

    def frame(self) -> pd.DataFrame:
        rows = self.ledger.query("SELECT name, provider, model, provider_ids, custom_ids, created, collected FROM batches ORDER BY created")
        return pd.DataFrame(
            [{"name": n, "provider": p, "model": m, "provider_ids": json.loads(pids), "requests": len(json.loads(cids)),
              "created": pd.Timestamp(c, unit="s"), "collected": bool(col)} for n, p, m, pids, cids, c, col in rows],
            columns=["name", "provider", "model", "provider_ids", "requests", "created", "collected"])


def _store() -> _BatchTable:
    return _BatchTable(current_ledger())


def attach(name_or_id: str) -> BatchJob:
    """A recorded batch (by its name or any provider batch id), e.g. after a kernel restart."""
    return _store().load(name_or_id)


def batches() -> pd.DataFrame:
    """Every batch submitted from this ledger: name, provider, model, ids, requests, created, collected."""
    return _store().frame()


# -- %%llmcost --batch: calls deferred in a cell, sent as one batch when it ends -------------------

_last_jobs: list[BatchJob] = []


def _client_for(provider: str, batch_name: str) -> Any:
    if batch_name.startswith(DRY_RUN_PREFIX):
        from .sandbox import client

        return client(provider)
    return client_for(provider)


def submit_deferred(deferred: list[tuple[str, str, str, dict[str, Any]]], name: str, meter: Any = None) -> list[BatchJob]:
    """Send a cell's deferred calls, one batch per (provider, model), with clients from the environment.
    Every batch holds its worst case in ``meter``'s budgets before any is sent: when one does not fit, none
    is sent (the cell's calls are checked as a whole)."""
    from .policies.budgets.batch_holds import hold_batch

    groups: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = {}
    for provider, model, custom_id, body in deferred:
        groups.setdefault((provider, model), []).append((custom_id, with_output_cap(provider, body, DEFAULT_MAX_TOKENS)))
    plans = [(BatchPlan(provider, model, requests), f"{name}-{model}") for (provider, model), requests in groups.items()]
    held: list[list[tuple[Any, Any]]] = []
    try:
        for plan, plan_name in plans:
            held.append(hold_batch(meter, plan.provider, plan.model, plan.requests, plan_name))
    except BaseException:
        for holds in held:
            for budget, hold in holds:
                budget.settle(hold, 0.0)
        raise
    jobs = [plan.submit(_client_for(plan.provider, name), name=plan_name, meter=meter, holds=holds)
            for (plan, plan_name), holds in zip(plans, held)]
    _last_jobs[:] = jobs
    return jobs


def results(jobs: Sequence[BatchJob] | None = None, *, wait: bool = True, interval: float = 2.0) -> pd.DataFrame:
    """The results of the last ``--batch`` cell (or of ``jobs``), in call order; waits for them by default."""
    jobs = list(jobs or _last_jobs)
    if not jobs:
        raise BatchError(tr("No deferred batch yet: run a cell with %%llmcost --batch first, or attach one by name."))
    frames = []
    for job in jobs:
        client = _client_for(job.provider, job.name)
        if wait:
            job.wait(client, interval=interval)
        frames.append(job.collect(client).assign(model=job.model, batch=job.name))
    return pd.concat(frames)
