"""One pass of the deploy-failure automation: evaluate, enqueue, send what is due.

`automate --once` and the Dagster sensor both call `run_once`, so a cron line and the daemon do
exactly the same thing, and either can be rerun at any time: enqueueing is keyed, sending looks
the key up first.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb

from models.automation import outbox
from models.automation.config import AutomationConfig
from models.automation.digest import enqueue_digests
from models.automation.drafts import sync_drafts
from models.automation.notify import Directory, enqueue_ticket_notices, exports_dir
from models.automation.repeats import enqueue_repeats
from models.automation.senders import (
    SENDERS,
    ApiError,
    SendError,
    alert_text,
    payload_for,
    slack_payload,
)
from models.automation.tickets import TicketDraft, incident_tickets

log = logging.getLogger("followthrough.automation")


@dataclass
class RunSummary:
    drafts: int = 0
    enqueued: dict[str, int] = field(default_factory=dict)  # kind -> rows added
    sent: int = 0
    found: int = 0  # already in the tracker from an earlier attempt: recorded, not re-created
    failed: list[tuple[str, str]] = field(default_factory=list)  # (key, error)
    statuses: dict[str, int] = field(default_factory=dict)
    drafts_line: str = ""  # postmortem drafts started and refilled

    @property
    def added(self) -> int:
        return sum(self.enqueued.values())

    def lines(self) -> list[str]:
        added = ", ".join(f"{n} {k}(s)" for k, n in sorted(self.enqueued.items())) or "nothing"
        out = [f"failed production deployments: {self.drafts}; enqueued {added}",
               f"sent {self.sent} (of which {self.found} found already in the tracker), "
               f"failed {len(self.failed)}"]
        out += [f"  failed {key}: {err}" for key, err in self.failed]
        out.append("outbox: " + ", ".join(f"{s} {n}" for s, n in sorted(self.statuses.items())))
        if self.drafts_line:
            out.append(self.drafts_line)
        return out


def enqueue_tickets(conn: duckdb.DuckDBPyConnection, cfg: AutomationConfig,
                    drafts: list[TicketDraft], env: Mapping[str, str],
                    now: datetime) -> int:
    added = 0
    oldest = now - timedelta(hours=cfg.max_age_hours) if cfg.max_age_hours else None
    for d in drafts:
        target = cfg.target(d.tracker)
        fresh = oldest is None or d.failed_at >= oldest
        added += outbox.enqueue(
            conn, key=d.idempotency_key, kind="ticket", target=d.tracker,
            payload=payload_for(target, d), live=target.is_live(env) and fresh, rule=d.rule,
            severity=d.severity, event_at=d.failed_at, now=now)
    return added


def enqueue_notices(conn: duckdb.DuckDBPyConnection, cfg: AutomationConfig,
                    drafts: list[TicketDraft], env: Mapping[str, str],
                    now: datetime) -> dict[str, int]:
    """Slack alerts (above the severity threshold) and EM direct messages, once a ticket exists
    (or, in a dry run, would exist): they carry the ticket link, not the raw CI link."""
    slack = cfg.target("slack")
    live = slack.is_live(env)
    added = {"alert": 0, "notify": 0}
    for d in drafts:
        ticket = outbox.get(conn, d.idempotency_key)
        if ticket is None or ticket.status not in ("sent", "dry_run"):
            continue
        ref = ticket.external_url or f"(dry run: {ticket.target} ticket not created)"
        if ticket.external_key:
            ref = f"{ticket.external_key} {ref}"
        text = alert_text(d, ref)
        # A notice about a ticket that was only a dry run (no target, or too old) is one too.
        send = live and ticket.status == "sent"
        if d.severity in cfg.alert_severities:
            key = f"alert:{d.idempotency_key}"
            added["alert"] += outbox.enqueue(
                conn, key=key, kind="alert", target="slack", live=send,
                payload=slack_payload(slack.channel, text, key), rule=d.rule,
                severity=d.severity, event_at=d.failed_at, now=now)
        em = cfg.team_ems.get(d.team) if d.team else None
        if em:
            key = f"notify:{d.idempotency_key}"
            added["notify"] += outbox.enqueue(
                conn, key=key, kind="notify", target="slack", live=send,
                payload=slack_payload(em, text, key), rule=d.rule, severity=d.severity,
                event_at=d.failed_at, now=now)
    return {k: n for k, n in added.items() if n}


def send_due(conn: duckdb.DuckDBPyConnection, cfg: AutomationConfig, env: Mapping[str, str],
             now: datetime, summary: RunSummary,
             sleep: Callable[[float], None] = time.sleep) -> None:
    senders: dict[str, object] = {}
    try:
        for row in outbox.due(conn, now, cfg.max_sends):
            target = cfg.target(row.target)
            if not target.is_live(env):
                continue  # credentials gone since it was queued: leave it for a later run
            sender = senders.get(row.target)
            if sender is None:
                sender = senders[row.target] = SENDERS[row.target](target, env, sleep)
            try:
                result = sender.deliver(row.idempotency_key, row.payload)  # type: ignore[attr-defined]
            except (ApiError, SendError, KeyError, TypeError, ValueError) as exc:
                # A vendor answer of an unexpected shape fails this row only, not the run.
                error = str(exc) if isinstance(exc, ApiError | SendError) else \
                    f"{row.target}: unexpected answer ({type(exc).__name__}: {exc})"
                retry_at = outbox.mark_failed(conn, row.idempotency_key, error, now,
                                              base_s=cfg.retry_base_s, cap_s=cfg.retry_cap_s)
                summary.failed.append((row.idempotency_key, error))
                log.warning("%s: %s; retrying from %s", row.idempotency_key, error,
                            retry_at.isoformat())
                continue
            outbox.mark_sent(conn, row.idempotency_key, result.external_key,
                             result.external_url, outbox.now_utc())
            summary.sent += 1
            summary.found += result.found
    finally:
        for sender in senders.values():
            sender.close()  # type: ignore[attr-defined]


def run_once(conn: duckdb.DuckDBPyConnection, cfg: AutomationConfig | None = None, *,
             env: Mapping[str, str] | None = None, now: datetime | None = None,
             sleep: Callable[[float], None] = time.sleep) -> RunSummary:
    """Evaluate the deploy-failure rule, enqueue, send tickets, then the notices that carry
    their links, then send those."""
    cfg = cfg or AutomationConfig()
    env = os.environ if env is None else env
    now = now or outbox.now_utc()
    summary = RunSummary()
    drafts = incident_tickets(conn, cfg)
    summary.drafts = len(drafts)
    summary.enqueued["ticket"] = enqueue_tickets(conn, cfg, drafts, env, now)
    send_due(conn, cfg, env, now, summary, sleep)
    # the incident record starts with the ticket: its postmortem draft, refilled every run
    summary.drafts_line = sync_drafts(conn, cfg, drafts, now).line()
    for kind, n in enqueue_notices(conn, cfg, drafts, env, now).items():
        summary.enqueued[kind] = n
    # EM notices by Slack DM or email, repeat-failure alerts, fixes that did not hold, the
    # weekly digest (docs/automation.md).
    directory = Directory(cfg, exports_dir(env))
    for part in (enqueue_ticket_notices(conn, cfg, drafts, env, now, directory),
                 enqueue_repeats(conn, cfg, env, now, directory),
                 enqueue_digests(conn, cfg, env, now, directory)):
        for kind, n in part.items():
            summary.enqueued[kind] = summary.enqueued.get(kind, 0) + n
    send_due(conn, cfg, env, now, summary, sleep)
    summary.enqueued = {k: n for k, n in summary.enqueued.items() if n}
    summary.statuses = outbox.counts(conn)
    return summary
