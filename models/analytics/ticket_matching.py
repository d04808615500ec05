"""Fuzzy fallback linking action items to tickets nobody referenced explicitly.

An item written as "Add retry budget to the ledger client" often becomes a ticket titled
"Ledger client: add retry budget" that cites neither the postmortem nor carries a key in the
document. Without a fallback those items would count as never ticketed. Each candidate gets a
confidence so a reader can tell a guess from a reference:

    confidence = 0.70 * title_score + 0.15 * assignee_match + 0.15 * time_proximity

`title_score` is rapidfuzz's token_set_ratio / 100 on lower-cased, punctuation-free text;
`time_proximity` is 1 when the ticket was created at identification and falls linearly to 0
at the end of the window. A candidate needs title_score >= MIN_TITLE_SCORE (0.75) *and*
confidence >= the threshold (default 0.7): a ticket by the right person at the right time with
an unrelated title is never linked. Tickets that track the incident itself (label `incident`
or a title starting "[INC") are never candidates: they share the incident's words, not the
action's.
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np
import polars as pl
from rapidfuzz import fuzz, utils

TITLE_WEIGHT = 0.70
ASSIGNEE_WEIGHT = 0.15
TIME_WEIGHT = 0.15
MIN_TITLE_SCORE = 0.75
EARLY_TOLERANCE_DAYS = 1.0  # tickets filed during the meeting may predate its recorded start

CANDIDATE_SCHEMA = {
    "action_item_id": pl.String,
    "ticket_key": pl.String,
    "title_score": pl.Float64,
    "assignee_match": pl.Boolean,
    "days_after": pl.Float64,
    "confidence": pl.Float64,
    "evidence": pl.String,
}

_KEY = re.compile(r"\b([A-Za-z][A-Za-z0-9]+)-[0-9]+\b")
_SPLIT = re.compile(r"[\s._\-]+")


def person_tokens(value: str | None) -> tuple[str, ...]:
    """'@dana-kim', 'Dana Kim' and 'dana.kim@acme.dev' all become ('dana', 'kim')."""
    if not value:
        return ()
    v = value.strip().lower().lstrip("@")
    v = v.split("@", 1)[0]
    return tuple(t for t in _SPLIT.split(v) if t)


def same_person(owner: str | None, assignee: str | None) -> bool:
    """Whether a document's owner (handle, name or e-mail) names the ticket's assignee."""
    a, b = person_tokens(owner), person_tokens(assignee)
    if not a or not b:
        return False
    if set(a) == set(b) or "".join(a) == "".join(b):
        return True
    if len(a) == 1 and len(b) >= 2:
        handle = a[0]
        first, last = b[0], b[-1]
        if handle in (first[0] + last, first + last[0], last + first[0]):
            return True
        alpha = handle.rstrip("0123456789")
        return alpha != handle and alpha == first
    return False


def team_projects(items: pl.DataFrame) -> dict[str, set[str]]:
    """Ticket projects each team files into, learned from the keys its documents cite."""
    out: dict[str, set[str]] = defaultdict(set)
    for team, ref in items.select("team", "ticket_ref").iter_rows():
        if team is None or not ref:
            continue
        for m in _KEY.finditer(ref):
            out[team].add(m.group(1).upper())
    return dict(out)


def fuzzy_candidates(items: pl.DataFrame, tickets: pl.DataFrame, *, window_days: float = 60.0,
                     threshold: float = 0.7) -> pl.DataFrame:
    """Score item/ticket pairs of the same team's projects created within the window.

    `items`: action_item_id, team, text, owner, ticket_ref, identified_at.
    `tickets`: ticket_key, project, title, assignee, created_at.
    A team whose documents never cite a key has no known project: its candidates must then
    have the owner as assignee.
    """
    projects = team_projects(items)
    rows: list[dict[str, object]] = []
    t = tickets.filter(pl.col("created_at").is_not_null() & pl.col("title").is_not_null()
                       & ~pl.col("title").str.contains(r"^\s*\[INC\b"))
    if "labels" in t.columns:
        t = t.filter(~pl.col("labels").list.contains("incident").fill_null(False))
    if t.is_empty() or items.is_empty():
        return pl.DataFrame(schema=CANDIDATE_SCHEMA)
    t = t.with_columns(
        ts=pl.col("created_at").dt.epoch("s").cast(pl.Float64),
        project=pl.col("project").str.to_uppercase(),
    ).sort("ts")
    by_project: dict[str, tuple[np.ndarray, list[tuple[str, str, str | None]]]] = {}
    for (proj,), g in t.group_by(["project"], maintain_order=True):
        by_project[str(proj)] = (
            g["ts"].to_numpy(),
            [(k, utils.default_process(ti), a) for k, ti, a in
             g.select("ticket_key", "title", "assignee").iter_rows()],
        )
    all_ts = t["ts"].to_numpy()
    all_rows = [(k, utils.default_process(ti), a) for k, ti, a in
                t.select("ticket_key", "title", "assignee").iter_rows()]
    window_s = window_days * 86400.0
    early_s = EARLY_TOLERANCE_DAYS * 86400.0
    pool = items.filter(pl.col("identified_at").is_not_null() & pl.col("text").is_not_null())
    for item_id, team, text, owner, ident in pool.select(
        "action_item_id", "team", "text", "owner",
        pl.col("identified_at").dt.epoch("s").cast(pl.Float64),
    ).iter_rows():
        query = utils.default_process(text)
        if not query:
            continue
        known = projects.get(team) if team is not None else None
        blocks = ([by_project[p] for p in sorted(known) if p in by_project] if known
                  else [(all_ts, all_rows)])
        for ts, meta in blocks:
            lo = int(np.searchsorted(ts, ident - early_s, side="left"))
            hi = int(np.searchsorted(ts, ident + window_s, side="right"))
            for i in range(lo, hi):
                key, title, assignee = meta[i]
                assignee_ok = same_person(owner, assignee)
                if not known and not assignee_ok:
                    continue
                score = fuzz.token_set_ratio(query, title, score_cutoff=MIN_TITLE_SCORE * 100) / 100
                if score < MIN_TITLE_SCORE:
                    continue
                days = (ts[i] - ident) / 86400.0
                proximity = 1.0 - min(max(days, 0.0), window_days) / window_days
                conf = (TITLE_WEIGHT * score + ASSIGNEE_WEIGHT * assignee_ok
                        + TIME_WEIGHT * proximity)
                if conf + 1e-12 < threshold:
                    continue
                rows.append({
                    "action_item_id": item_id,
                    "ticket_key": key,
                    "title_score": round(score, 4),
                    "assignee_match": assignee_ok,
                    "days_after": round(days, 3),
                    "confidence": round(conf, 4),
                    "evidence": (f"title {score * 100:.0f}/100, "
                                 f"{'assignee = owner' if assignee_ok else 'other assignee'}, "
                                 f"{days:.1f} days after identification"),
                })
    if not rows:
        return pl.DataFrame(schema=CANDIDATE_SCHEMA)
    return pl.DataFrame(rows, schema=CANDIDATE_SCHEMA).sort(["action_item_id", "ticket_key"])
