"""The GitHub webhook receiver: verify, spool, answer. Nothing else happens in the request.

GitHub waits 10 s for an answer and marks slower deliveries failed, so a request only checks
the signature (`X-Hub-Signature-256`, HMAC-SHA256 of the raw body with the shared secret),
keeps the records the loader needs and writes them to the spool; the sensor lands and loads them
and opens the ticket. The receiver holds no warehouse connection, so it can run next to the
Dagster daemon without a second DuckDB writer. Logs name the event, the delivery id and the
outcome only: never the secret, the signature or the body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from models.automation.spool import EVENTS, Ignored, Spool, SpoolError, extract

log = logging.getLogger("followthrough.webhook")
SIGNATURE_HEADER = "X-Hub-Signature-256"
READ_TIMEOUT_S = 10.0  # a client that stops sending mid-body loses its thread after this


def signature(secret: bytes, body: bytes) -> str:
    """The header value GitHub sends for `body`."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str | None) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(signature(secret, body).encode("ascii"),
                               header.strip().encode("ascii", "replace"))


@dataclass(frozen=True)
class Answer:
    status: int
    outcome: str  # spooled, duplicate, ignored, pong, or what was wrong
    reason: str = ""

    def body(self) -> bytes:
        doc: dict[str, Any] = {"outcome": self.outcome}
        if self.reason:
            doc["reason"] = self.reason
        return json.dumps(doc).encode("utf-8") + b"\n"


def handle(spool: Spool, secret: bytes, headers: dict[str, str], body: bytes) -> Answer:
    """One delivery, already read (`headers` with lower-case names)."""
    sig = headers.get(SIGNATURE_HEADER.lower())
    if not sig:
        return Answer(401, "unauthorized", f"missing {SIGNATURE_HEADER}")
    if not verify(secret, body, sig):
        return Answer(401, "unauthorized", f"{SIGNATURE_HEADER} does not match the body")
    event = headers.get("x-github-event", "")
    if not event:
        return Answer(400, "bad request", "missing X-GitHub-Event")
    if event == "ping":
        return Answer(200, "pong")
    if event not in EVENTS:
        return Answer(202, "ignored", f"event {event!r} is not used")
    delivery = headers.get("x-github-delivery", "")
    try:
        spool.path_of(delivery)
    except SpoolError as exc:
        return Answer(400, "bad request", str(exc))
    try:
        payload = json.loads(body)
    except UnicodeDecodeError:
        return Answer(400, "bad request", "body is not UTF-8 text")
    except ValueError as exc:
        return Answer(400, "bad request", f"body is not JSON ({exc})")
    try:
        item = extract(event, payload, delivery=delivery)
    except Ignored as exc:
        return Answer(202, "ignored", str(exc))
    except SpoolError as exc:
        return Answer(400, "bad request", str(exc))
    try:
        added = spool.put(item)
    except OSError as exc:
        # GitHub marks the delivery failed; it can be redelivered once the disk is back.
        return Answer(503, "not spooled", f"cannot write the spool: {exc.strerror or exc}")
    return Answer(202, "spooled" if added else "duplicate")


class Receiver:
    """A ThreadingHTTPServer on (host, port); `port=0` picks a free one (tests)."""

    def __init__(self, spool: Spool, secret: str, host: str = "127.0.0.1", port: int = 8787,
                 max_body_bytes: int = 5 * 1024 * 1024) -> None:
        if not secret:
            raise ValueError("a webhook secret is required")
        self.spool = spool
        key = secret.encode("utf-8")
        limit = max_body_bytes

        class Handler(BaseHTTPRequestHandler):
            timeout = READ_TIMEOUT_S
            server_version = "followthrough-webhook"
            sys_version = ""

            def log_message(self, format: str, *args: Any) -> None:
                return  # the default line would carry the request line; ours is below

            def _send(self, answer: Answer, event: str = "", delivery: str = "") -> None:
                data = answer.body()
                # logged before answering, so the line exists once the sender has its answer
                log.info("%s %s delivery=%s -> %d %s", self.client_address[0],
                         event or "-", delivery or "-", answer.status, answer.outcome)
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)
                self.close_connection = True

            def do_GET(self) -> None:
                if self.path.rstrip("/") in ("", "/healthz"):
                    self._send(Answer(200, "ok"))
                else:
                    self._send(Answer(404, "not found", "POST deliveries; GET /healthz"))

            def do_POST(self) -> None:
                event = self.headers.get("X-GitHub-Event", "")[:64]
                delivery = self.headers.get("X-GitHub-Delivery", "")[:128]
                length_text = self.headers.get("Content-Length")
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked" or \
                        length_text is None:
                    self._send(Answer(411, "length required", "send Content-Length"),
                               event, delivery)
                    return
                try:
                    length = int(length_text)
                    if length < 0:
                        raise ValueError
                except ValueError:
                    self._send(Answer(400, "bad request", "Content-Length is not a number"),
                               event, delivery)
                    return
                if length > limit:
                    self._send(Answer(413, "too large",
                                      f"body of {length} bytes is over the {limit}-byte limit"),
                               event, delivery)
                    return
                try:
                    body = self.rfile.read(length)
                except TimeoutError:
                    self.close_connection = True
                    log.info("%s %s delivery=%s: body not received in %.0f s",
                             self.client_address[0], event or "-", delivery or "-",
                             READ_TIMEOUT_S)
                    return
                if len(body) < length:
                    self._send(Answer(400, "bad request", "body shorter than Content-Length"),
                               event, delivery)
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    answer = handle(spool, key, headers, body)
                except Exception:  # a bug must not take the receiver down
                    log.exception("delivery %s: unexpected error", delivery or "-")
                    answer = Answer(500, "error", "internal error; see the receiver's log")
                self._send(answer, event, delivery)

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.httpd.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{host}:{port}"

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.5)

    def start(self) -> Receiver:
        """Serve on a background thread (tests, benchmarks)."""
        self._thread = threading.Thread(target=self.serve_forever, daemon=True,
                                        name="webhook-receiver")
        self._thread.start()
        return self

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
