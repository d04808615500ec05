"""Readers of automation.outbox for the Automation page: what was sent, what waits, what failed.

Time to ticket is measured only over tickets really created (`sent`): a dry-run row has no
creation time, and its enqueue time says nothing about how fast a tracker would have answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dashboards.reads.connection import query

OUTBOX_COLUMNS: tuple[str, ...] = (
    "idempotency_key", "kind", "target", "status", "severity", "rule", "event_at", "created_at",
    "sent_at", "external_key", "external_url", "attempts", "last_error", "next_attempt_at",
)
TIMES = ("event_at", "created_at", "sent_at", "next_attempt_at")


def load_outbox(path: Path) -> pd.DataFrame:
    """Every outbox row (payloads left out: they can be large), newest failure first."""
    df = query(path, f"SELECT {', '.join(OUTBOX_COLUMNS)} FROM automation.outbox "
               "ORDER BY event_at DESC NULLS LAST, idempotency_key",
               "automation.outbox", times=TIMES)
    df["attempts"] = pd.to_numeric(df["attempts"]).astype(int)
    return df


# Everything the outbox sends that is not a ticket: channel alerts, EM messages, digests and
# follow-ups on tickets whose fix did not hold.
MESSAGE_KINDS = ("alert", "notify", "dm", "email", "digest", "reopen", "comment")


@dataclass(frozen=True)
class Headline:
    tickets: int
    tickets_sent: int
    dry_run: int
    waiting: int  # pending, or failed and still to be retried
    failed: int
    alerts_sent: int
    median_minutes_to_ticket: float | None


def minutes_to_ticket(df: pd.DataFrame) -> pd.Series:
    """Per sent ticket: minutes from the failure becoming visible to the ticket existing."""
    sent = df[(df["kind"] == "ticket") & (df["status"] == "sent") & df["event_at"].notna()
              & df["sent_at"].notna()]
    return ((sent["sent_at"] - sent["event_at"]).dt.total_seconds() / 60).rename("minutes")


def headline(df: pd.DataFrame) -> Headline:
    tickets = df[df["kind"] == "ticket"]
    minutes = minutes_to_ticket(df)
    return Headline(
        tickets=len(tickets),
        tickets_sent=int((tickets["status"] == "sent").sum()),
        dry_run=int((df["status"] == "dry_run").sum()),
        waiting=int(df["status"].isin(["pending", "failed"]).sum()),
        failed=int((df["status"] == "failed").sum()),
        alerts_sent=int((df["kind"].isin(MESSAGE_KINDS) & (df["status"] == "sent")).sum()),
        median_minutes_to_ticket=None if minutes.empty else float(minutes.median()),
    )


def by_status(df: pd.DataFrame) -> pd.DataFrame:
    """Rows per kind × target × status, for the table at the top of the page."""
    if df.empty:
        return pd.DataFrame(columns=["kind", "target", "status", "rows"])
    return (df.groupby(["kind", "target", "status"]).size().rename("rows").reset_index()
            .sort_values(["kind", "target", "status"], ignore_index=True))


def waiting(df: pd.DataFrame) -> pd.DataFrame:
    """What has not gone out yet, with its error and when it is tried again."""
    cols = ["idempotency_key", "kind", "target", "status", "attempts", "last_error",
            "next_attempt_at", "event_at"]
    return df.loc[df["status"].isin(["pending", "failed"]), cols].reset_index(drop=True)
