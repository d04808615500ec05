"""The incident record starts itself: every incident ticket gets its postmortem draft at once,
and the draft's timeline keeps filling while CI, deploy, PagerDuty and Slack events arrive.

The draft is what `followthrough draft` writes (same loader, same renderer), for the PagerDuty
incident the failure led to when there is one, else for the failure itself. Only the text
between `followthrough:auto` markers is ever rewritten, so what people write elsewhere in the
file survives every run. One file per ticket key, and a row in `automation.drafts`: a rerun,
or a run after a crash between writing the file and recording it, finds the draft rather than
writing a second one.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from models.automation import outbox
from models.automation.config import AutomationConfig
from models.automation.tickets import TicketDraft
from models.postmortems.draft import (
    DraftInput,
    IncidentFacts,
    RelatedRepo,
    TicketFacts,
    render_draft,
)
from models.postmortems.draft.text import md, stamp
from warehouse.drafts import draft_input_for, find_incident, repo_matches_service

log = logging.getLogger("followthrough.automation")

BLOCKS = ("record", "timeline")
BEGIN = "<!-- followthrough:auto begin {name}: rewritten on every automation run; " \
        "edit outside these markers -->"
END = "<!-- followthrough:auto end {name} -->"
_BLOCK_RE = re.compile(r"<!-- followthrough:auto begin (\w+)[^>]*-->\n(.*?)\n"
                       r"<!-- followthrough:auto end \1 -->", re.S)
# A PagerDuty incident opened this long before or after the failure, on the failing service
# (or naming the deploy, its run or its job), is the incident the draft is about.
LINK_BEFORE = timedelta(minutes=30)
LINK_AFTER = timedelta(hours=6)


@dataclass
class DraftSummary:
    created: int = 0
    updated: int = 0  # an auto-filled block changed
    unchanged: int = 0
    detached: list[str] = field(default_factory=list)  # markers removed or file moved
    failed: list[tuple[str, str]] = field(default_factory=list)  # (ticket key, error)

    def line(self) -> str:
        out = (f"postmortem drafts: {self.created} started, {self.updated} updated, "
               f"{self.unchanged} unchanged")
        if self.detached:
            out += f", {len(self.detached)} left alone (markers removed or file moved)"
        if self.failed:
            out += f", {len(self.failed)} failed: " + "; ".join(
                f"{k}: {e}" for k, e in self.failed[:3])
        return out


def drafts_folder(conn: duckdb.DuckDBPyConnection, cfg: AutomationConfig) -> Path:
    """`[automation.drafts] folder` (relative to the config file), else `drafts` beside the
    warehouse file."""
    if cfg.drafts.folder:
        folder = Path(cfg.drafts.folder).expanduser()
        if not folder.is_absolute() and cfg.path is not None:
            folder = cfg.path.parent / folder
        return folder
    row = conn.execute("SELECT path FROM duckdb_databases() "
                       "WHERE database_name = current_database()").fetchone()
    base = Path(row[0]).parent if row and row[0] else Path.cwd()
    return base / "drafts"


def file_name(d: TicketDraft) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", d.idempotency_key).strip("-")
    return f"{d.failed_at.strftime('%Y-%m-%d')}-{slug}.md"


def blocks_of(text: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in _BLOCK_RE.finditer(text)}


def wrap(name: str, body: str) -> str:
    return f"{BEGIN.format(name=name)}\n{body.strip(chr(10))}\n{END.format(name=name)}"


def replace_blocks(text: str, new: dict[str, str]) -> tuple[str, list[str]]:
    """`text` with each named block's body replaced; the names not found in it."""
    seen: set[str] = set()

    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in new:
            return m.group(0)
        seen.add(name)
        return wrap(name, new[name])

    return _BLOCK_RE.sub(one, text), [n for n in new if n not in seen]


def linked_incident(conn: duckdb.DuckDBPyConnection, cfg: AutomationConfig,
                    d: TicketDraft) -> IncidentFacts | None:
    """The PagerDuty incident this failure led to: one whose details name the deploy, run or
    job, else the first on the failing service opened around the failure."""
    rows = conn.execute(
        "SELECT incident_id, service, coalesce(details, ''), created_at FROM core.incidents "
        "WHERE created_at BETWEEN ? AND ? ORDER BY created_at, incident_id",
        [d.failed_at - LINK_BEFORE, d.failed_at + LINK_AFTER]).fetchall()
    urls = [u for u in (d.deployment_url, d.run_url, d.job_url) if u.startswith("http")]
    named = [r for r in rows if any(u in r[2] for u in urls)]
    svc = cfg.service_of(d.repo)
    on_service = [r for r in rows if r[1] and (
        repo_matches_service(d.repo, r[1]) or (svc is not None and svc.name == r[1]))]
    pick = (named or on_service or [None])[0]
    return find_incident(conn, pick[0]) if pick else None


def _ticket_ref(row: outbox.OutboxRow | None, d: TicketDraft) -> str:
    if row is None:
        return f"not queued yet (key {d.idempotency_key})"
    if row.status == "sent":
        return f"{row.external_key} {row.external_url}".strip()
    if row.status == "dry_run":
        return f"dry run: the {row.target} ticket was not created (outbox key {d.idempotency_key})"
    error = f": {row.last_error}" if row.last_error else ""
    return f"{row.status} in the outbox for {row.target} (key {d.idempotency_key}){error}"


def _input(conn: duckdb.DuckDBPyConnection, cfg: AutomationConfig, d: TicketDraft,
           incident: IncidentFacts | None, ticket: outbox.OutboxRow | None,
           now: datetime) -> DraftInput:
    own = (RelatedRepo(d.repo, "the repository whose production deploy failed",
                       "service_name"),)
    if incident is not None:
        data = draft_input_for(conn, incident, cfg.drafts.window_hours, repos=own)
    else:
        svc = cfg.service_of(d.repo)
        inc = IncidentFacts(
            incident_id=d.idempotency_key, provider="followthrough", created_at=d.failed_at,
            title=d.title, service=svc.name if svc else d.repo.rsplit("/", 1)[-1],
            team=d.team or None, priority=d.severity, status="open",
            url=d.run_url if d.run_url.startswith("http") else None)
        end = max(d.failed_at, min(now, d.failed_at + timedelta(hours=cfg.drafts.follow_hours)))
        data = draft_input_for(conn, inc, cfg.drafts.window_hours, end=end, repos=own)
    if ticket is not None and ticket.status == "sent" and ticket.external_key:
        facts = TicketFacts(ticket_key=ticket.external_key, created_at=ticket.sent_at,
                            provider=ticket.target, url=ticket.external_url, title=d.title)
        data = replace(data, tickets=(facts, *data.tickets))
    return data


def _record(d: TicketDraft, ticket: outbox.OutboxRow | None, incident: IncidentFacts | None,
            rows: int, now: datetime) -> str:
    if incident is not None:
        pd = f"{incident.incident_id}" + (f" #{incident.number}" if incident.number else "")
        pd += f" ({md(incident.title, 120)})" if incident.title else ""
        pd += f" {incident.url}" if incident.url else ""
    else:
        pd = ("none linked yet (one opened on this service within "
              f"{LINK_AFTER.total_seconds() / 3600:g} h of the failure will be)")
    return "\n".join([
        "## Incident record",
        "",
        f"- Ticket: {md(_ticket_ref(ticket, d), 300)}",
        f"- Severity: {d.severity} (rule: {md(d.rule, 200)})",
        f"- Trigger: {d.trigger}",
        f"- Failed production deploy: {md(d.repo, 120)} at {stamp(d.failed_at)}; "
        f"run {d.run_url}",
        f"- Blast radius: {d.blast_radius} ({md(d.blast_detail, 200)})",
        f"- PagerDuty incident: {pd}",
        f"- Timeline: {rows} row(s), last filled {stamp(now)}",
        "",
    ])


def _timeline(markdown: str) -> str:
    """The Timeline part of a rendered draft: from its heading to the next part's."""
    m = re.search(r"^## Timeline\n.*?(?=^## )", markdown, re.S | re.M)
    return m.group(0).rstrip("\n") + "\n" if m else ""


def render(conn: duckdb.DuckDBPyConnection, cfg: AutomationConfig, d: TicketDraft,
           now: datetime) -> tuple[str, dict[str, str], IncidentFacts | None, int]:
    """The whole draft with its auto-filled blocks marked, the blocks, the linked incident and
    the timeline rows."""
    ticket = outbox.get(conn, d.idempotency_key)
    incident = linked_incident(conn, cfg, d)
    draft = render_draft(_input(conn, cfg, d, incident, ticket, now))
    timeline = _timeline(draft.markdown)
    blocks = {"record": _record(d, ticket, incident, draft.timeline_rows, now),
              "timeline": timeline}
    text = draft.markdown.replace(timeline, wrap("timeline", timeline) + "\n", 1)
    head, sep, rest = text.partition("\n## ")
    text = f"{head}\n{wrap('record', blocks['record'])}\n\n{sep.lstrip(chr(10))}{rest}"
    return text, blocks, incident, draft.timeline_rows


def _write(path: Path, text: str) -> None:
    """Whole or not at all: a crash mid-write leaves the previous file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _settled(cfg: AutomationConfig, d: TicketDraft, incident: IncidentFacts | None,
             now: datetime) -> bool:
    """Past following: `follow_hours` after the failure, or after the linked incident resolved."""
    anchor = d.failed_at
    if incident is not None:
        if incident.resolved_at is None:
            return False
        anchor = max(anchor, incident.resolved_at)
    return now > anchor + timedelta(hours=cfg.drafts.follow_hours)


def sync_one(conn: duckdb.DuckDBPyConnection, cfg: AutomationConfig, d: TicketDraft,
             folder: Path, now: datetime, summary: DraftSummary,
             row: tuple[str, str] | None) -> None:
    """Start or refill one draft; `row` is its (path, status) in automation.drafts, if any."""
    if row is not None and row[1] in ("settled", "detached", "missing"):
        summary.unchanged += 1
        return
    text, blocks, incident, rows = render(conn, cfg, d, now)
    status = "settled" if _settled(cfg, d, incident, now) else "following"
    path = Path(row[0]) if row is not None else folder / file_name(d)
    note = None
    wrote = False
    if row is None and not path.exists():
        _write(path, text)
        summary.created += 1
        wrote = True
    else:
        # an existing draft (or a file written before a crash kept its row from being
        # recorded): only the marked blocks change
        if not path.exists():
            status, note = "missing", f"{path} is gone; not written again"
            summary.detached.append(d.idempotency_key)
        else:
            current = path.read_text(encoding="utf-8")
            old = blocks_of(current)
            changed = {k: v for k, v in blocks.items()
                       if old.get(k, "").strip("\n") != v.strip("\n")}
            # the record block's "last filled" line alone is no news
            if set(changed) == {"record"} and _same_but_stamp(old["record"], blocks["record"]):
                changed = {}
            new_text, missing = replace_blocks(current, changed)
            if missing:
                status, note = "detached", f"markers of {', '.join(missing)} removed"
                summary.detached.append(d.idempotency_key)
            elif changed:
                _write(path, new_text)
                summary.updated += 1
                wrote = True
            else:
                summary.unchanged += 1
            if row is None:
                summary.created += 1
    conn.execute(
        "INSERT INTO automation.drafts (ticket_key, path, incident_id, created_at, updated_at, "
        "checked_at, timeline_rows, blocks, status, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (ticket_key) DO UPDATE SET incident_id = excluded.incident_id, "
        "updated_at = CASE WHEN ? THEN excluded.updated_at ELSE automation.drafts.updated_at "
        "END, "
        "checked_at = excluded.checked_at, timeline_rows = excluded.timeline_rows, "
        "blocks = excluded.blocks, status = excluded.status, note = excluded.note",
        [d.idempotency_key, str(path), incident.incident_id if incident else None, now, now,
         now, rows, json.dumps(blocks, sort_keys=True), status, note, wrote])


def _same_but_stamp(old: str, new: str) -> bool:
    def strip(text: str) -> str:
        return re.sub(r"last filled [0-9-]+ [0-9:]+ UTC", "", text).strip()

    return strip(old) == strip(new)


def sync_drafts(conn: duckdb.DuckDBPyConnection, cfg: AutomationConfig,
                drafts: list[TicketDraft], now: datetime) -> DraftSummary:
    """Start the draft of every ticket in the outbox that has none, and refill the timelines
    of the drafts still following their incident. A draft that fails is reported and retried
    on the next run; it never holds up a ticket."""
    summary = DraftSummary()
    if not cfg.drafts.enabled:
        return summary
    folder = drafts_folder(conn, cfg)
    queued = {k for (k,) in conn.execute(
        "SELECT idempotency_key FROM automation.outbox WHERE kind = 'ticket'").fetchall()}
    known = {k: (p, s) for k, p, s in conn.execute(
        "SELECT ticket_key, path, status FROM automation.drafts").fetchall()}
    for d in drafts:
        if d.idempotency_key not in queued:
            continue
        try:
            sync_one(conn, cfg, d, folder, now, summary, known.get(d.idempotency_key))
        except (OSError, UnicodeDecodeError, duckdb.Error, ValueError, LookupError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            summary.failed.append((d.idempotency_key, error))
            log.warning("postmortem draft for %s: %s", d.idempotency_key, error)
    return summary
