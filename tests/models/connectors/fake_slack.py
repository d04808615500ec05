"""Slack's Web API (`conversations.list`, `.history`, `.replies`) on loopback, answering in the
shapes of Slack's documented examples (the project's copies in tests/fixtures/vendors): errors as
HTTP 200 `{"ok": false, "error": ...}`, cursor pagination in `response_metadata.next_cursor`,
history newest first within `oldest`/`latest`."""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.vendor_server import Request, VendorServer

VENDORS = Path(__file__).resolve().parents[2] / "fixtures" / "vendors"
TOKEN = "xoxb-1111111111-2222222222-FakeSlackBotToken0001"


def _load(name: str) -> Any:
    return json.loads((VENDORS / name).read_text(encoding="utf-8"))


def _cursor(offset: int) -> str:
    return base64.b64encode(f"next_offset:{offset}".encode()).decode()


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    return int(base64.b64decode(cursor).decode().split(":", 1)[1])


@dataclass
class Channel:
    id: str
    name: str
    messages: list[dict[str, Any]] = field(default_factory=list)  # top-level, any order
    replies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # thread_ts -> replies
    member: bool = True  # the app was invited (history answers `not_in_channel` otherwise)


class FakeSlack:
    def __init__(self, server: VendorServer, channels: list[Channel], prefix: str = "/api") -> None:
        self.server = server
        self.channels = {c.id: c for c in channels}
        self.prefix = prefix
        self._channel_t = _load("slack_conversations_list.json")["channels"][0]
        self._routes()

    # -- building data from the fixtures ---------------------------------------------------
    @staticmethod
    def fixture_channel(cid: str = "C07LDG0317", name: str = "inc-317-ledger-latency") -> Channel:
        """The documented history page and thread, as one channel."""
        history = _load("slack_conversations_history.json")["messages"]
        replies = _load("slack_conversations_replies.json")["messages"]
        ch = Channel(cid, name, copy.deepcopy(history))
        parent = replies[0]["thread_ts"]
        ch.replies[parent] = copy.deepcopy(replies[1:])
        return ch

    # -- the API ---------------------------------------------------------------------------
    def _page(self, req: Request, items: list[Any], default: int) -> tuple[list[Any], str]:
        limit = int(req.arg("limit", str(default)) or default)
        off = _offset(req.arg("cursor"))
        chunk = items[off: off + limit]
        nxt = _cursor(off + limit) if off + limit < len(items) else ""
        return chunk, nxt

    def _routes(self) -> None:
        s = self.server
        p = self.prefix

        def auth_error(req: Request) -> Any | None:
            header = req.headers.get("authorization", "")
            if not header:
                return 200, {}, {"ok": False, "error": "not_authed"}
            if header != f"Bearer {TOKEN}":
                return 200, {}, {"ok": False, "error": "invalid_auth"}
            return None

        @s.route("GET", rf"{p}/conversations\.list")
        def conversations_list(req: Request) -> Any:
            if (err := auth_error(req)) is not None:
                return err
            chans = []
            for c in sorted(self.channels.values(), key=lambda c: c.id):
                d = copy.deepcopy(self._channel_t)
                d.update(id=c.id, name=c.name, name_normalized=c.name, is_member=c.member)
                chans.append(d)
            chunk, nxt = self._page(req, chans, 100)
            return 200, {}, {"ok": True, "channels": chunk, "response_metadata": {"next_cursor": nxt}}

        @s.route("GET", rf"{p}/conversations\.history")
        def history(req: Request) -> Any:
            if (err := auth_error(req)) is not None:
                return err
            ch = self.channels.get(req.arg("channel") or "")
            if ch is None:
                return 200, {}, _load("slack_error_response.json")
            if not ch.member:
                return 200, {}, {"ok": False, "error": "not_in_channel"}
            oldest = Decimal(req.arg("oldest", "0") or "0")
            latest = Decimal(req.arg("latest", "9999999999") or "9999999999")
            inclusive = req.arg("inclusive") in ("true", "1")
            msgs = [m for m in ch.messages
                    if (oldest <= Decimal(m["ts"]) if inclusive else oldest < Decimal(m["ts"]))
                    and Decimal(m["ts"]) <= latest]
            msgs.sort(key=lambda m: Decimal(m["ts"]), reverse=True)
            chunk, nxt = self._page(req, msgs, 100)
            return 200, {}, {"ok": True, "messages": chunk, "has_more": bool(nxt), "pin_count": 0,
                             "response_metadata": {"next_cursor": nxt}}

        @s.route("GET", rf"{p}/conversations\.replies")
        def replies(req: Request) -> Any:
            if (err := auth_error(req)) is not None:
                return err
            ch = self.channels.get(req.arg("channel") or "")
            if ch is None:
                return 200, {}, _load("slack_error_response.json")
            ts = req.arg("ts") or ""
            parent = next((m for m in ch.messages if m["ts"] == ts), None)
            if parent is None:
                return 200, {}, {"ok": False, "error": "thread_not_found"}
            thread = [parent, *sorted(ch.replies.get(ts, []), key=lambda m: Decimal(m["ts"]))]
            chunk, nxt = self._page(req, thread, 100)
            return 200, {}, {"ok": True, "messages": chunk, "has_more": bool(nxt),
                             "response_metadata": {"next_cursor": nxt}}
