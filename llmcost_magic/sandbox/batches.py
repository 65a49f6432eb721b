"""Batch endpoints: OpenAI files + batches, Anthropic message batches.

A batch completes ``batch_delay_s`` of sandbox-clock time after it was created; its lines are then
answered by the same handlers as live calls. Broken lines and failed requests land in the error
file (OpenAI) or as ``errored`` results (Anthropic); the rest are processed.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from email.parser import BytesParser
from email.policy import default as email_policy
from typing import Any

from .wire import APIError, SandboxResponse, json_response, stable_id

OPENAI_ENDPOINTS = {"/v1/chat/completions", "/v1/responses", "/v1/embeddings"}
MAX_REQUESTS = {"openai": 50_000, "anthropic": 100_000}


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat().replace("+00:00", "Z")


class BatchStore:
    """Files and batches of one sandbox."""

    def __init__(self, sandbox: Any, delay_s: float) -> None:
        self.sandbox = sandbox
        self.delay_s = delay_s
        self.files: dict[str, dict[str, Any]] = {}
        self.contents: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()

    # -- routing ---------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> SandboxResponse | None:
        parts = path.strip("/").split("/")  # ["v1", "files", id, "content"] ...
        with self._lock:
            if parts[1:2] == ["files"]:
                if method == "POST" and len(parts) == 2:
                    return self._upload(headers, body)
                if method == "GET" and len(parts) == 3:
                    return json_response(self._file(parts[2]))
                if method == "GET" and len(parts) == 4 and parts[3] == "content":
                    self._file(parts[2])
                    return SandboxResponse(200, {"content-type": "application/octet-stream"}, self.contents[parts[2]])
            if parts[1:2] == ["batches"]:
                return self._openai_batches(method, parts[2:], body)
            if parts[1:3] == ["messages", "batches"]:
                host = next((v for k, v in headers.items() if k.lower() == "host"), "sandbox.local")
                return self._anthropic_batches(method, parts[3:], body, host)
        return None

    # -- OpenAI ----------------------------------------------------------------------------

    def _upload(self, headers: dict[str, str], body: bytes) -> SandboxResponse:
        ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        message = BytesParser(policy=email_policy).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
        fields: dict[str, tuple[str | None, bytes]] = {}
        for part in message.iter_parts() if message.is_multipart() else ():
            name = part.get_param("name", header="content-disposition")
            fields[str(name)] = (part.get_filename(), part.get_payload(decode=True) or b"")
        if "file" not in fields:
            raise APIError(400, "Missing required parameter: 'file'.", "invalid_request_error", "missing_required_parameter", "file")
        filename, data = fields["file"]
        purpose = fields.get("purpose", (None, b"batch"))[1].decode()
        return json_response(self._store_file(data, filename or "upload.jsonl", purpose))

    def _store_file(self, data: bytes, filename: str, purpose: str) -> dict[str, Any]:
        file_id = stable_id("file-", filename, len(self.files), data[:64].hex())
        self.files[file_id] = {"id": file_id, "object": "file", "bytes": len(data), "created_at": int(self.sandbox.clock()),
                               "filename": filename, "purpose": purpose, "status": "processed", "expires_at": None}
        self.contents[file_id] = data
        return self.files[file_id]

    def _file(self, file_id: str) -> dict[str, Any]:
        if file_id not in self.files:
            raise APIError(404, f"No such File object: {file_id}", "invalid_request_error", "file_not_found", "id")
        return self.files[file_id]

    def _openai_batches(self, method: str, rest: list[str], body: bytes) -> SandboxResponse:
        if method == "POST" and not rest:
            req = json.loads(body or b"{}")
            for name in ("input_file_id", "endpoint", "completion_window"):
                if name not in req:
                    raise APIError(400, f"Missing required parameter: '{name}'.", "invalid_request_error", "missing_required_parameter", name)
            self._file(req["input_file_id"])
            if req["endpoint"] not in OPENAI_ENDPOINTS:
                raise APIError(400, f"Invalid endpoint {req['endpoint']!r}.", "invalid_request_error", "invalid_value", "endpoint")
            lines = [line for line in self.contents[req["input_file_id"]].splitlines() if line.strip()]
            if len(lines) > MAX_REQUESTS["openai"]:
                raise APIError(400, f"A batch may hold at most {MAX_REQUESTS['openai']} requests.", "invalid_request_error")
            now = self.sandbox.clock()
            batch_id = stable_id("batch_", req, len(self.batches))
            self.batches[batch_id] = {
                "id": batch_id, "object": "batch", "endpoint": req["endpoint"], "errors": None,
                "input_file_id": req["input_file_id"], "completion_window": req["completion_window"], "status": "in_progress",
                "output_file_id": None, "error_file_id": None, "created_at": int(now), "in_progress_at": int(now),
                "expires_at": int(now + 86_400), "completed_at": None, "cancelled_at": None, "failed_at": None,
                "request_counts": {"total": len(lines), "completed": 0, "failed": 0}, "metadata": req.get("metadata"),
                "_provider": "openai", "_created": now,
            }
            return json_response(self._public(self._advance(batch_id)))
        if method == "GET" and not rest:
            data = [self._public(self._advance(b)) for b in self.batches if self.batches[b]["_provider"] == "openai"]
            return json_response({"object": "list", "data": data[::-1], "first_id": data[-1]["id"] if data else None,
                                  "last_id": data[0]["id"] if data else None, "has_more": False})
        batch_id = rest[0]
        if batch_id not in self.batches:
            raise APIError(404, f"No batch found with id '{batch_id}'.", "invalid_request_error", "batch_not_found")
        if method == "POST" and rest[1:] == ["cancel"]:
            batch = self._advance(batch_id)
            if batch["status"] == "in_progress":
                batch.update(status="cancelled", cancelled_at=int(self.sandbox.clock()))
            return json_response(self._public(batch))
        return json_response(self._public(self._advance(batch_id)))

    # -- Anthropic -------------------------------------------------------------------------

    def _anthropic_batches(self, method: str, rest: list[str], body: bytes, host: str) -> SandboxResponse:
        if method == "POST" and not rest:
            req = json.loads(body or b"{}")
            requests = req.get("requests")
            if not isinstance(requests, list) or not requests:
                raise APIError(400, "requests: Field required", "invalid_request_error")
            ids = [r.get("custom_id") for r in requests]
            if len(set(ids)) != len(ids):
                raise APIError(400, "requests: custom_id values must be unique within a batch", "invalid_request_error")
            now = self.sandbox.clock()
            batch_id = stable_id("msgbatch_", ids, len(self.batches))
            self.batches[batch_id] = {
                "id": batch_id, "type": "message_batch", "processing_status": "in_progress",
                "request_counts": {"processing": len(requests), "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0},
                "ended_at": None, "created_at": _iso(now), "expires_at": _iso(now + 86_400), "archived_at": None,
                "cancel_initiated_at": None, "results_url": None, "_provider": "anthropic", "_created": now, "_requests": requests,
                "_results_url": f"http://{host}/v1/messages/batches/{batch_id}/results",
            }
            return json_response(self._public(self._advance(batch_id)))
        if method == "GET" and not rest:
            data = [self._public(self._advance(b)) for b in self.batches if self.batches[b]["_provider"] == "anthropic"]
            return json_response({"data": data[::-1], "has_more": False, "first_id": data[-1]["id"] if data else None,
                                  "last_id": data[0]["id"] if data else None})
        batch_id = rest[0]
        if batch_id not in self.batches:
            raise APIError(404, f"message_batch: {batch_id} not found", "not_found_error")
        batch = self._advance(batch_id)
        if method == "POST" and rest[1:] == ["cancel"]:
            if batch["processing_status"] == "in_progress":
                counts = batch["request_counts"]
                counts["canceled"], counts["processing"] = counts["processing"], 0
                batch.update(processing_status="ended", cancel_initiated_at=_iso(self.sandbox.clock()), ended_at=_iso(self.sandbox.clock()))
                batch["_results"] = [{"custom_id": r.get("custom_id"), "result": {"type": "canceled"}} for r in batch["_requests"]]
            return json_response(self._public(batch))
        if method == "GET" and rest[1:] == ["results"]:
            if batch["processing_status"] != "ended":
                raise APIError(400, f"Batch {batch_id} is still processing; results are available when it has ended.", "invalid_request_error")
            lines = [json.dumps(r, ensure_ascii=False) for r in batch["_results"]]
            return SandboxResponse(200, {"content-type": "application/binary"}, ("\n".join(lines) + "\n").encode())
        return json_response(self._public(batch))

    # -- processing ------------------------------------------------------------------------

    def _advance(self, batch_id: str) -> dict[str, Any]:
        """Complete the batch if its time has come (runs every line through the live handlers)."""
        batch = self.batches[batch_id]
        due = self.sandbox.clock() - batch["_created"] >= self.delay_s
        if batch["_provider"] == "openai" and batch["status"] == "in_progress" and due:
            self._finish_openai(batch)
        if batch["_provider"] == "anthropic" and batch["processing_status"] == "in_progress" and due:
            self._finish_anthropic(batch)
        return batch

    def _finish_openai(self, batch: dict[str, Any]) -> None:
        outputs, errors = [], []
        for n, line in enumerate(l for l in self.contents[batch["input_file_id"]].splitlines() if l.strip()):
            try:
                item = json.loads(line)
                custom_id, body, url = item["custom_id"], item["body"], item["url"]
            except (ValueError, KeyError, TypeError) as exc:
                errors.append({"id": f"batch_req_{n}", "custom_id": None, "response": None,
                               "error": {"code": "invalid_request", "message": f"line {n + 1}: {type(exc).__name__}: {exc}"}})
                continue
            answer = self.sandbox.handle("POST", url, {}, json.dumps({**body, "stream": False}).encode())
            result = {"id": f"batch_req_{n}", "custom_id": custom_id,
                      "response": {"status_code": answer.status, "request_id": stable_id("req_", batch["id"], n), "body": json.loads(answer.body)},
                      "error": None}
            (outputs if answer.status == 200 else errors).append(result)
        now = int(self.sandbox.clock())
        if outputs:
            batch["output_file_id"] = self._store_file(_jsonl(outputs), f"{batch['id']}_output.jsonl", "batch_output")["id"]
        if errors:
            batch["error_file_id"] = self._store_file(_jsonl(errors), f"{batch['id']}_error.jsonl", "batch_output")["id"]
        batch["request_counts"].update(completed=len(outputs), failed=len(errors))
        batch.update(status="completed", completed_at=now, finalizing_at=now)

    def _finish_anthropic(self, batch: dict[str, Any]) -> None:
        results = []
        for req in batch["_requests"]:
            params = req.get("params")
            answer = self.sandbox.handle("POST", "/v1/messages", {"anthropic-version": "2023-06-01"},
                                         json.dumps({**(params or {}), "stream": False}).encode())
            body = json.loads(answer.body)
            if answer.status == 200:
                results.append({"custom_id": req.get("custom_id"), "result": {"type": "succeeded", "message": body}})
            else:
                results.append({"custom_id": req.get("custom_id"), "result": {"type": "errored", "error": body}})
        counts = batch["request_counts"]
        counts.update(processing=0, succeeded=sum(r["result"]["type"] == "succeeded" for r in results),
                      errored=sum(r["result"]["type"] == "errored" for r in results))
        batch["_results"] = results
        batch.update(processing_status="ended", ended_at=_iso(self.sandbox.clock()),
                     results_url=batch["_results_url"])

    @staticmethod
    def _public(batch: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in batch.items() if not k.startswith("_")}


def _jsonl(rows: list[dict[str, Any]]) -> bytes:
    return ("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n").encode()
