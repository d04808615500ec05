"""Email over SMTP (stdlib `smtplib`): the engineering manager's notice or a digest when no Slack
user id is known for them.

The outbox row holds the message as fields (from, to, subject, text); the Message-ID is derived
from the idempotency key, so a resent message is recognisably the same one. SMTP has no look-up
by key: a crash between the server accepting a message and the outbox recording it can repeat
that one email (as with Slack).
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from models.automation.config import SmtpConfig, TargetConfig
from models.automation.senders import Delivered, SendError

KEY_HEADER = "X-Followthrough-Key"


def message_id(key: str) -> str:
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@followthrough>"


def email_payload(sender: str, to: str, subject: str, text: str, key: str) -> dict[str, Any]:
    """The outbox payload of one email (what a dry run shows)."""
    return {"from": sender or "(automation.smtp.from not set)", "to": [to],
            "subject": subject[:200], "text": text, "message_id": message_id(key)}


def build_message(payload: dict[str, Any], key: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = payload["from"]
    msg["To"] = ", ".join(payload["to"])
    msg["Subject"] = payload["subject"]
    msg["Message-ID"] = payload.get("message_id") or message_id(key)
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg[KEY_HEADER] = key
    msg.set_content(payload["text"])
    return msg


class SmtpSender:
    """One SMTP connection per pass, opened on the first message."""

    def __init__(self, target: TargetConfig, env: Mapping[str, str],
                 sleep: Callable[[float], None]) -> None:
        if not isinstance(target, SmtpConfig):
            raise SendError("smtp: [automation.smtp] is not configured")
        self.cfg = target
        self.credentials = target.credentials(env)
        self._conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        if self._conn is not None:
            return self._conn
        cfg = self.cfg
        try:
            conn = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_s)
            conn.ehlo()
            if cfg.starttls:
                if not conn.has_extn("starttls"):
                    conn.close()
                    raise SendError(f"smtp: {cfg.host}:{cfg.port} does not offer STARTTLS "
                                    "(set starttls = false for a trusted relay)")
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if self.credentials:
                conn.login(*self.credentials)
        except smtplib.SMTPAuthenticationError as exc:
            raise SendError(f"smtp: login refused ({exc.smtp_code})") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise SendError(f"smtp: {cfg.host}:{cfg.port}: {type(exc).__name__}: {exc}") from None
        self._conn = conn
        return conn

    def deliver(self, key: str, payload: dict[str, Any]) -> Delivered:
        msg = build_message(payload, key)
        conn = self._connect()
        try:
            refused = conn.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendError(f"smtp: every recipient refused: {sorted(exc.recipients)}") from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise SendError(f"smtp: {type(exc).__name__}: {exc}") from None
        if refused:
            raise SendError(f"smtp: recipients refused: {sorted(refused)}")
        return Delivered(str(msg["Message-ID"]), f"mailto:{','.join(payload['to'])}")

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                self._conn.close()
            self._conn = None
