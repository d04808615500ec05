"""Who owns a failing repository, who their engineering manager is, and how a person is reached.

A team comes from, in order: a `[[automation.routes]]` entry, a team's `repos` globs, the
repository's CODEOWNERS (its owners mapped to a team by `[automation.teams.NAME] codeowners`),
and a fallback the caller knows (the team that wrote the prior postmortem). A person is reached
by Slack DM when a Slack user id is known, else by email; a message is queued on the channel
that is live (Slack first), else as a dry run on the first known one.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from models.automation import outbox
from models.automation.codeowners import CodeOwnersCache
from models.automation.config import AutomationConfig, TeamConfig
from models.automation.senders import alert_text, slack_payload
from models.automation.smtp import email_payload
from models.automation.tickets import TicketDraft

_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{6,}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass(frozen=True)
class Recipient:
    who: str  # the person's name as shown ("Dana Kim", "EM of Payments")
    slack: str = ""  # Slack user id: a DM is chat.postMessage with it as the channel
    email: str = ""

    @property
    def ident(self) -> str:
        """Stable part of an idempotency key: the address when known, else the name."""
        return self.slack or self.email.lower() or _norm(self.who) or "unknown"


def exports_dir(env: Mapping[str, str] | None = None) -> Path | None:
    """The exports folder the build reads ($FOLLOWTHROUGH_EXPORTS), for CODEOWNERS files."""
    from models.settings import SettingError, Settings

    try:
        return Settings.load(env, only=("exports",)).exports
    except (SettingError, OSError, ValueError):
        return None


class Directory:
    """Teams, engineering managers and addresses for one pass (CODEOWNERS read once each)."""

    def __init__(self, cfg: AutomationConfig, exports: Path | None = None) -> None:
        self.cfg = cfg
        self.codeowners = CodeOwnersCache(exports, cfg.codeowners)
        self._handles: dict[str, str] = {}
        for name, team in cfg.teams.items():
            for handle in team.codeowners:
                self._handles.setdefault(handle.lower(), name)

    def team_config(self, team: str) -> TeamConfig | None:
        if not team:
            return None
        if team in self.cfg.teams:
            return self.cfg.teams[team]
        want = _norm(team)
        for name, t in self.cfg.teams.items():
            if _norm(name) == want:
                return t
        return None

    def team_for(self, repo: str, excerpt: Iterable[str] = (),
                 fallback: str = "") -> tuple[str, str]:
        """(team, how it was found); ("", "") when nothing names one."""
        _, routed = self.cfg.route(repo)
        if routed:
            return routed, "route"
        for name, t in self.cfg.teams.items():
            if any(fnmatch.fnmatchcase(repo, p) for p in t.repos):
                return name, "team repos"
        owners = self.codeowners.get(repo)
        if owners is not None:
            for handle in owners.owners_for_failure(list(excerpt)):
                team = self._handles.get(handle.lower())
                if team:
                    return team, f"CODEOWNERS {handle}"
        if fallback:
            return fallback, "prior postmortem"
        return "", ""

    def em(self, team: str) -> Recipient | None:
        """The team's engineering manager, if the config names one with an address."""
        t = self.team_config(team)
        slack = (t.em_slack if t else "") or self.cfg.team_ems.get(t.name if t else team, "")
        email = t.em_email if t else ""
        if not (slack or email):
            return None
        return Recipient((t.em if t else "") or f"EM of {team}", slack, email)

    def person(self, name: str) -> Recipient:
        """An action item's owner: `[automation.people]`, else the owner text itself when it is
        an email address or a Slack user id."""
        found = self.cfg.people.get(name)
        if found is None:
            want = _norm(name)
            found = next((p for n, p in self.cfg.people.items() if _norm(n) == want), None)
        if found is not None:
            return Recipient(name, found.slack, found.email)
        if _EMAIL.match(name):
            return Recipient(name, email=name)
        if _SLACK_ID.match(name):
            return Recipient(name, slack=name)
        return Recipient(name)


def enqueue_personal(conn: duckdb.DuckDBPyConnection, cfg: AutomationConfig,
                     env: Mapping[str, str], now: datetime, *, key: str, kind: str | None,
                     to: Recipient, subject: str, text: str, send: bool,
                     event_at: datetime | None = None,
                     severity: str | None = None) -> str | None:
    """Queue one message to a person; returns the kind added (None: already there).

    `kind` None means "dm" or "email" by channel; a digest passes its own kind. A person with
    no address is queued as a dry run that says so, to show what would have gone out.
    """
    slack, smtp = cfg.target("slack"), cfg.target("smtp")
    slack_live, smtp_live = slack.is_live(env), smtp.is_live(env)
    if to.slack and (slack_live or not (to.email and smtp_live)):
        target, live = "slack", slack_live
        payload = slack_payload(to.slack, text, key)
        chosen = "dm"
    elif to.email:
        target, live = "smtp", smtp_live
        payload = email_payload(getattr(smtp, "sender", ""), to.email, subject, text, key)
        chosen = "email"
    else:
        target, live, chosen = "slack", False, "dm"
        payload = slack_payload("", text, key)
        # Never sent (no address), so it may carry fields chat.postMessage does not take.
        payload["to"] = to.who
        payload["unaddressed"] = (f"no Slack user id or email for {to.who}: add it to "
                                  "[automation.people] or [automation.teams.NAME]")
    kind = kind or chosen
    added = outbox.enqueue(conn, key=key, kind=kind, target=target, payload=payload,
                           live=live and send and not payload.get("unaddressed"),
                           severity=severity, event_at=event_at, now=now)
    return kind if added else None


def enqueue_ticket_notices(conn: duckdb.DuckDBPyConnection, cfg: AutomationConfig,
                           drafts: list[TicketDraft], env: Mapping[str, str], now: datetime,
                           directory: Directory | None = None) -> dict[str, int]:
    """The engineering manager of each incident ticket's team gets the ticket link (not the CI
    link) by Slack DM or email, once the ticket exists (or, in a dry run, would). The key is the
    one `team_ems` notices use (`notify:<ticket key>`), so an EM configured both ways gets one
    message."""
    directory = directory or Directory(cfg, exports_dir(env))
    added: dict[str, int] = {}
    for d in drafts:
        ticket = outbox.get(conn, d.idempotency_key)
        if ticket is None or ticket.status not in ("sent", "dry_run"):
            continue
        team = d.team or directory.team_for(d.repo, d.excerpt)[0]
        em = directory.em(team) if team else None
        if em is None:
            continue
        ref = ticket.external_url or f"(dry run: {ticket.target} ticket not created)"
        if ticket.external_key:
            ref = f"{ticket.external_key} {ref}"
        kind = enqueue_personal(
            conn, cfg, env, now, key=f"notify:{d.idempotency_key}", kind=None, to=em,
            subject=d.title, text=alert_text(d, ref), send=ticket.status == "sent",
            event_at=d.failed_at, severity=d.severity)
        if kind:
            added[kind] = added.get(kind, 0) + 1
    return added
