"""The weekly digest: each owner of stale action items, and each team's engineering manager, gets
one message a week listing those items with the reason each is stale.

Items and reasons come from `marts.stale_items` (built by the follow-through models). The digest
is due from `digest.weekday` at `digest.hour` in `digest.timezone`; its idempotency key names the
ISO week and the recipient, so a Dagster schedule, `automate --once` from cron and a rerun all
queue it once per recipient per week.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb

from models.automation.config import WEEKDAYS, AutomationConfig
from models.automation.notify import Directory, Recipient, enqueue_personal, exports_dir

_SQL = """
SELECT act_order, action_item_id, postmortem_id, team, owner, priority, action_text,
       ticket_key, ticket_url, reasons, details, days_stale
FROM marts.stale_items
ORDER BY act_order
"""


@dataclass(frozen=True)
class StaleItem:
    action_item_id: str
    postmortem_id: str
    team: str
    owner: str
    priority: str
    action_text: str
    ticket_key: str
    ticket_url: str
    reasons: tuple[str, ...]
    details: str
    days_stale: float | None

    def lines(self) -> list[str]:
        ticket = f"{self.ticket_key} {self.ticket_url}".strip() or "no ticket"
        prio = f"[{self.priority}] " if self.priority else ""
        days = f", stale {self.days_stale:.0f} days" if self.days_stale is not None else ""
        return [f"• {prio}{self.action_text} ({ticket}; postmortem {self.postmortem_id}{days})",
                f"    why: {self.details}"]


@dataclass
class Digest:
    to: Recipient
    own: list[StaleItem] = field(default_factory=list)  # items they own
    teams: dict[str, list[StaleItem]] = field(default_factory=dict)  # teams they manage

    def count(self) -> int:
        return len({i.action_item_id for i in self.own}
                   | {i.action_item_id for items in self.teams.values() for i in items})

    def text(self, week: str, max_items: int) -> str:
        out = [f"Follow-through digest, week {week}: {self.count()} stale action item(s)."]
        shown = 0

        def section(title: str, items: list[StaleItem]) -> None:
            nonlocal shown
            out.append("")
            out.append(title)
            for item in items:
                if shown >= max_items:
                    break
                out.extend(item.lines())
                shown += 1

        if self.own:
            section(f"Yours ({len(self.own)}):", self.own)
        for team, items in sorted(self.teams.items()):
            section(f"Team {team} ({len(items)}), as its engineering manager:", items)
        if self.count() > shown:
            out.append(f"... and {self.count() - shown} more on the dashboard's stale page.")
        return "\n".join(out)


def due(cfg: AutomationConfig, now: datetime) -> tuple[str, datetime]:
    """(ISO week label, send time) of the latest scheduled send at or before `now`: a pass
    after a missed slot (the daemon was down on Monday) still sends that week's digest, once."""
    tz = ZoneInfo(cfg.digest.timezone)
    local = now.astimezone(tz)
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0,
                                                              microsecond=0)
    # Wall-clock arithmetic in the zone: the slot stays at `hour` across DST changes.
    at = (monday + timedelta(days=WEEKDAYS.index(cfg.digest.weekday))).replace(
        hour=cfg.digest.hour)
    if local < at:
        at = (at - timedelta(days=7)).replace(hour=cfg.digest.hour)
    year, week, _ = at.isocalendar()
    return f"{year}-W{week:02d}", at


def stale_items(conn: duckdb.DuckDBPyConnection) -> list[StaleItem]:
    cur = conn.execute(_SQL)
    out = []
    for r in cur.fetchall():
        out.append(StaleItem(r[1], r[2] or "", r[3] or "", (r[4] or "").strip(), r[5] or "",
                             r[6] or "", r[7] or "", r[8] or "", tuple(r[9] or ()), r[10] or "",
                             r[11]))
    return out


def digests(cfg: AutomationConfig, items: list[StaleItem],
            directory: Directory) -> list[Digest]:
    """One digest per recipient: owners for their items, EMs for their teams' items (a person
    who is both gets one digest with both parts). A team without an EM in the config gets a
    digest addressed to 'EM of TEAM' that is only recorded, to show what would be sent."""
    by_ident: dict[str, Digest] = {}

    def digest_for(to: Recipient) -> Digest:
        return by_ident.setdefault(to.ident, Digest(to))

    for item in items:
        if item.owner:
            digest_for(directory.person(item.owner)).own.append(item)
        em = directory.em(item.team) or Recipient(f"EM of {item.team}")
        digest_for(em).teams.setdefault(item.team, []).append(item)
    return sorted(by_ident.values(), key=lambda d: d.to.ident)


def enqueue_digests(conn: duckdb.DuckDBPyConnection, cfg: AutomationConfig,
                    env: Mapping[str, str], now: datetime,
                    directory: Directory | None = None) -> dict[str, int]:
    """Queue this week's digests when due; returns {"digest": rows added}."""
    if not cfg.digest.enabled:
        return {}
    week, _at = due(cfg, now)
    directory = directory or Directory(cfg, exports_dir(env))
    # Every pass after the slot comes here (the sensor's, cron's): skip this week's recipients
    # with one query instead of one look-up each.
    done = {k for (k,) in conn.execute(
        "SELECT idempotency_key FROM automation.outbox WHERE kind = 'digest' "
        "AND starts_with(idempotency_key, ?)", [f"digest:{week}:"]).fetchall()}
    added = 0
    for d in digests(cfg, stale_items(conn), directory):
        if f"digest:{week}:{d.to.ident}" in done:
            continue
        text = d.text(week, cfg.digest.max_items)
        added += enqueue_personal(
            conn, cfg, env, now, key=f"digest:{week}:{d.to.ident}", kind="digest", to=d.to,
            subject=f"Follow-through digest {week}: {d.count()} stale action item(s)",
            text=text, send=True) is not None
    return {"digest": added} if added else {}

