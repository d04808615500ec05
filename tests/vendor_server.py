"""A vendor API on 127.0.0.1 for tests and benchmarks: routes answer with the vendors' payloads.

Routes are regular expressions over the path; a handler gets the `Request` and returns
`(status, headers, body)`. `fail_next` queues faults (429, 5xx, a truncated body, a stall) in
front of a route so retry behaviour is exercised over real sockets.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

Answer = tuple[int, dict[str, str], bytes | str | Any]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    match: re.Match[str] | None = None

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Fault:
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b'{"message": "injected fault"}'
    truncate: bool = False  # answer the real body cut in half
    stall_s: float = 0.0  # sleep before answering (client time-outs)


class VendorServer:
    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Callable[[Request], Answer]]] = []
        self.faults: list[tuple[str, re.Pattern[str], Fault]] = []
        self.log: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return None

            def setup(self) -> None:
                super().setup()
                # Headers and body go out as two writes: without this, Nagle's algorithm and
                # delayed ACKs add ~40 ms to every keep-alive request.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                req = Request(self.command, parts.path, parse_qs(parts.query),
                              {k.lower(): v for k, v in self.headers.items()}, body)
                status, headers, payload = server.answer(req)
                if isinstance(payload, str):
                    data = payload.encode("utf-8")
                elif isinstance(payload, bytes):
                    data = payload
                else:
                    data = json.dumps(payload).encode("utf-8")
                    headers = {"content-type": "application/json", **headers}
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> VendorServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def route(self, method: str, pattern: str,
              handler: Callable[[Request], Answer] | None = None) -> Any:
        def register(fn: Callable[[Request], Answer]) -> Callable[[Request], Answer]:
            self.routes.append((method, re.compile(pattern + "$"), fn))
            return fn

        return register(handler) if handler else register

    def fail_next(self, method: str, pattern: str, fault: Fault, times: int = 1) -> None:
        with self._lock:
            for _ in range(times):
                self.faults.append((method, re.compile(pattern + "$"), fault))

    def requests(self, method: str | None = None, pattern: str | None = None) -> list[Request]:
        rx = re.compile(pattern + "$") if pattern else None
        return [r for r in self.log
                if (method is None or r.method == method) and (rx is None or rx.match(r.path))]

    def answer(self, req: Request) -> Answer:
        with self._lock:
            self.log.append(req)
            fault = None
            for i, (method, rx, _fault) in enumerate(self.faults):
                if method == req.method and rx.match(req.path):
                    fault = self.faults.pop(i)[2]
                    break
        if fault is not None and not fault.truncate:
            if fault.stall_s:
                time.sleep(fault.stall_s)
            return fault.status, fault.headers, fault.body
        for method, rx, fn in self.routes:
            m = rx.match(req.path)
            if method == req.method and m:
                req.match = m
                status, headers, payload = fn(req)
                if fault is not None:  # truncated JSON: the real answer, cut short
                    data = payload if isinstance(payload, bytes | str) else json.dumps(payload)
                    data = data.encode() if isinstance(data, str) else data
                    return status, {"content-type": "application/json", **headers}, \
                        data[: len(data) // 2]
                return status, headers, payload
        return 404, {}, {"message": "Not Found", "path": req.path}


def page_of(server: VendorServer, req: Request, items: list[Any], default_per_page: int = 30,
            ) -> tuple[list[Any], dict[str, str]]:
    """`page`/`per_page` paging with a `Link: rel="next"` header, as GitHub and Buildkite do."""
    per_page = int(req.arg("per_page", str(default_per_page)) or default_per_page)
    page = int(req.arg("page", "1") or 1)
    chunk = items[(page - 1) * per_page: page * per_page]
    headers: dict[str, str] = {}
    if page * per_page < len(items):
        query = {k: v[0] for k, v in req.query.items()}
        query["page"] = str(page + 1)
        headers["link"] = f'<{server.url}{req.path}?{urlencode(query)}>; rel="next"'
    return chunk, headers
