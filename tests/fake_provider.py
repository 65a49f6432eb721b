"""A local fake provider over loopback HTTP: answers each POST with the next crafted body (JSON or SSE)."""

from __future__ import annotations

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeProvider:
    """``with FakeProvider() as fake: fake.reply({...}); openai.OpenAI(base_url=fake.url + "/v1")``."""

    def __init__(self) -> None:
        self.replies: deque[tuple[str, bytes]] = deque()
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("content-length") or 0)
                outer.requests.append(json.loads(self.rfile.read(length) or b"{}"))
                content_type, body = outer.replies.popleft()
                self.send_response(200)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def reply(self, body: dict[str, Any]) -> None:
        self.replies.append(("application/json", json.dumps(body).encode()))

    def stream(self, events: list[dict[str, Any] | str], *, named: bool = False) -> None:
        """SSE: each event a JSON object (``named``: Anthropic style, with its ``type`` as event name)."""
        lines = []
        for event in events:
            data = event if isinstance(event, str) else json.dumps(event)
            lines.append((f"event: {event['type']}\n" if named and not isinstance(event, str) else "") + f"data: {data}\n\n")
        self.replies.append(("text/event-stream", "".join(lines).encode()))

    def __enter__(self) -> FakeProvider:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


class JsonServer:
    """A loopback HTTP server that keeps each POSTed JSON body (``bodies``) and answers with ``respond(path, body)``:
    (status, JSON object). Strict fakes subclass it to answer 400 to what a real API rejects."""

    def __init__(self, respond: Any) -> None:
        self.bodies: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                outer.bodies.append(body)
                status, answer = respond(self.path, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
