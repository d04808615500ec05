"""Tickets: a neutral lifecycle model rendered as Jira (search+changelog) or Linear issues."""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sampleorg.org import (
    JIRA_BASE,
    LINEAR_BASE,
    NOW_TS,
    START_TS,
    Org,
    Person,
    Sprint,
    Team,
    rng_for,
    sprint_at,
    sprint_number,
)
from sampleorg.writer import day_str, iso_jira, iso_ms_z

JIRA_PRIORITY = {"P1": ("Highest", "1"), "P2": ("High", "2"), "P3": ("Medium", "3"),
                 "P4": ("Low", "4")}
LINEAR_PRIORITY = {"P1": 1, "P2": 2, "P3": 3, "P4": 4}
JIRA_STATUS = {"To Do": ("10000", "new", "To Do", "blue-gray"),
               "In Progress": ("3", "indeterminate", "In Progress", "yellow"),
               "In Review": ("10001", "indeterminate", "In Progress", "yellow"),
               "Done": ("10002", "done", "Done", "green"),
               "Won't Do": ("10003", "done", "Done", "green")}
LINEAR_STATE = {"To Do": ("Todo", "unstarted"), "In Progress": ("In Progress", "started"),
                "In Review": ("In Review", "started"), "Done": ("Done", "completed"),
                "Won't Do": ("Canceled", "canceled"), "Backlog": ("Backlog", "backlog")}


@dataclass
class Target:
    """A ticket's commitment: a sprint/cycle number or a due date (epoch of the day)."""

    sprint: int | None = None
    due: float | None = None

    def end(self) -> float | None:
        if self.sprint is not None:
            return sprint_number(self.sprint).end
        return self.due + 86400 if self.due is not None else None


@dataclass
class Ticket:
    team: Team
    kind: str  # action_item | incident | ci_pattern | work
    title: str
    description: str
    created: float
    reporter: Person
    assignee: Person | None
    priority: str
    labels: list[str]
    target: Target
    issuetype: str = "Task"
    started_at: float | None = None
    review_at: float | None = None
    completed_at: float | None = None
    wont_do: bool = False
    reschedules: list[tuple[float, Target, str | None]] = field(default_factory=list)
    reassigned: list[tuple[float, Person]] = field(default_factory=list)
    comments: list[tuple[float, Person, str]] = field(default_factory=list)
    key: str = ""
    number: int = 0
    uid: int = 0

    def current_target(self) -> Target:
        return self.reschedules[-1][1] if self.reschedules else self.target

    def current_assignee(self) -> Person | None:
        return self.reassigned[-1][1] if self.reassigned else self.assignee

    def last_activity(self) -> float:
        ts = [self.created, *(t for t, _, _ in self.reschedules), *(t for t, _ in self.reassigned),
              *(t for t, _, _ in self.comments)]
        for t in (self.started_at, self.review_at, self.completed_at):
            if t is not None:
                ts.append(t)
        return max(x for x in ts if x <= NOW_TS)

    def justified(self) -> bool:
        return any(j for _, _, j in self.reschedules)

    @property
    def url(self) -> str:
        if self.team.tracker == "jira":
            return f"{JIRA_BASE}/browse/{self.key}"
        slug = re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")[:60]
        return f"{LINEAR_BASE}/issue/{self.key}/{slug}"


def assign_keys(tickets: list[Ticket]) -> None:
    """Number tickets per project in creation order, as the trackers would."""
    tickets.sort(key=lambda t: (t.created, t.team.project_key, t.title))
    counters: dict[str, int] = {}
    for i, t in enumerate(tickets):
        k = t.team.project_key
        counters[k] = counters.get(k, 0) + 1
        t.number = counters[k]
        t.key = f"{k}-{t.number}"
        t.uid = 10000 + i


# ---------------------------------------------------------------- Jira rendering


def _jira_user(p: Person) -> dict[str, Any]:
    return {"self": f"{JIRA_BASE}/rest/api/3/user?accountId={p.account_id}",
            "accountId": p.account_id, "emailAddress": p.email, "displayName": p.name,
            "active": True, "timeZone": p.tz, "accountType": "atlassian"}


def _adf(text: str) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    for block in text.split("\n\n"):
        if block.startswith("```"):
            body = block.strip("`").strip("\n")
            content.append({"type": "codeBlock", "attrs": {}, "content": [
                {"type": "text", "text": body}]})
            continue
        parts: list[dict[str, Any]] = []
        for i, line in enumerate(block.split("\n")):
            if i:
                parts.append({"type": "hardBreak"})
            for tok in re.split(r"(https?://\S+)", line):
                if not tok:
                    continue
                if tok.startswith("http"):
                    parts.append({"type": "text", "text": tok,
                                  "marks": [{"type": "link", "attrs": {"href": tok}}]})
                else:
                    parts.append({"type": "text", "text": tok})
        content.append({"type": "paragraph", "content": parts})
    return {"type": "doc", "version": 1, "content": content}


def _jira_sprint(s: Sprint, team: Team, idx: int) -> dict[str, Any]:
    return {"id": s.jira_id(idx), "name": s.jira_name(team.project_key), "state": s.state(),
            "boardId": 10 + idx, "goal": "",
            "startDate": iso_ms_z(s.start), "endDate": iso_ms_z(s.end)}


def _item(field_name: str, fieldtype: str, field_id: str, frm: str | None, frm_s: str | None,
          to: str | None, to_s: str | None) -> dict[str, Any]:
    return {"field": field_name, "fieldtype": fieldtype, "fieldId": field_id, "from": frm,
            "fromString": frm_s, "to": to, "toString": to_s}


def _status_path(t: Ticket) -> list[tuple[float, str]]:
    out: list[tuple[float, str]] = []
    if t.started_at is not None and t.started_at <= NOW_TS:
        out.append((t.started_at, "In Progress"))
    if t.review_at is not None and t.review_at <= NOW_TS:
        out.append((t.review_at, "In Review"))
    if t.completed_at is not None and t.completed_at <= NOW_TS:
        out.append((t.completed_at, "Won't Do" if t.wont_do else "Done"))
    return out


def jira_issue(t: Ticket, team_index: dict[str, int], rng: random.Random) -> dict[str, Any]:
    idx = team_index[t.team.key]
    histories: list[tuple[float, Person, list[dict[str, Any]]]] = []
    actor = t.current_assignee() or t.reporter
    status = "To Do"
    for ts, new in _status_path(t):
        items = [_item("status", "jira", "status", JIRA_STATUS[status][0], status,
                       JIRA_STATUS[new][0], new)]
        if new in ("Done", "Won't Do"):
            items.append(_item("resolution", "jira", "resolution", None, None, "10000",
                               "Done" if new == "Done" else "Won't Do"))
        histories.append((ts, actor, items))
        status = new
    prev_assignee = t.assignee
    for ts, p in t.reassigned:
        histories.append((ts, t.reporter, [_item(
            "assignee", "jira", "assignee", prev_assignee.account_id if prev_assignee else None,
            prev_assignee.name if prev_assignee else None, p.account_id, p.name)]))
        prev_assignee = p
    prev = t.target
    sprints_seen: list[int] = [prev.sprint] if prev.sprint is not None else []
    for ts, new_t, _just in t.reschedules:
        items = []
        if new_t.sprint is not None and new_t.sprint != prev.sprint:
            frm = sprint_number(prev.sprint) if prev.sprint is not None else None
            to = sprint_number(new_t.sprint)
            items.append(_item("Sprint", "custom", "customfield_10020",
                               str(frm.jira_id(idx)) if frm else None,
                               frm.jira_name(t.team.project_key) if frm else None,
                               str(to.jira_id(idx)), to.jira_name(t.team.project_key)))
            sprints_seen.append(new_t.sprint)
        if new_t.due != prev.due:
            items.append(_item("duedate", "jira", "duedate",
                               day_str(prev.due) if prev.due else None,
                               f"{day_str(prev.due)} 00:00:00.0" if prev.due else None,
                               day_str(new_t.due) if new_t.due else None,
                               f"{day_str(new_t.due)} 00:00:00.0" if new_t.due else None))
        if items:
            histories.append((ts, actor, items))
        prev = new_t
    histories = [h for h in histories if h[0] <= NOW_TS]
    histories.sort(key=lambda h: h[0])
    cur = t.current_target()
    assignee = t.current_assignee()
    comments = [c for c in t.comments if c[0] <= NOW_TS]
    comments.sort(key=lambda c: c[0])
    final_status = status
    resolved = t.completed_at if t.completed_at is not None and t.completed_at <= NOW_TS else None
    fields: dict[str, Any] = {
        "summary": t.title,
        "description": _adf(t.description) if rng.random() < 0.85 else t.description,
        "issuetype": {"id": "10001" if t.issuetype == "Task" else "10004", "name": t.issuetype,
                      "subtask": False},
        "project": {"id": t.team.project_id, "key": t.team.project_key,
                    "name": t.team.project_name, "projectTypeKey": "software",
                    "self": f"{JIRA_BASE}/rest/api/3/project/{t.team.project_id}"},
        "status": {"self": f"{JIRA_BASE}/rest/api/3/status/{JIRA_STATUS[final_status][0]}",
                   "name": final_status, "id": JIRA_STATUS[final_status][0],
                   "statusCategory": {"self": f"{JIRA_BASE}/rest/api/3/statuscategory/"
                                      f"{JIRA_STATUS[final_status][1]}",
                                      "key": JIRA_STATUS[final_status][1],
                                      "colorName": JIRA_STATUS[final_status][3],
                                      "name": JIRA_STATUS[final_status][2]}},
        "resolution": ({"name": "Done" if not t.wont_do else "Won't Do",
                        "id": "10000" if not t.wont_do else "10001"} if resolved else None),
        "resolutiondate": iso_jira(resolved) if resolved else None,
        "priority": {"self": f"{JIRA_BASE}/rest/api/3/priority/{JIRA_PRIORITY[t.priority][1]}",
                     "name": JIRA_PRIORITY[t.priority][0], "id": JIRA_PRIORITY[t.priority][1]},
        "assignee": _jira_user(assignee) if assignee else None,
        "reporter": _jira_user(t.reporter),
        "creator": _jira_user(t.reporter),
        "created": iso_jira(t.created),
        "updated": iso_jira(t.last_activity()),
        "duedate": day_str(cur.due) if cur.due is not None else None,
        "labels": t.labels,
        "customfield_10020": ([_jira_sprint(sprint_number(n), t.team, idx)
                               for n in dict.fromkeys(sprints_seen + (
                                   [cur.sprint] if cur.sprint is not None else []))]
                              if cur.sprint is not None else None),
        "comment": {"comments": [{
            "self": f"{JIRA_BASE}/rest/api/3/issue/{t.uid}/comment/{t.uid * 10 + i}",
            "id": str(t.uid * 10 + i), "author": _jira_user(p), "body": _adf(text),
            "updateAuthor": _jira_user(p), "created": iso_jira(ts), "updated": iso_jira(ts),
            "jsdPublic": True} for i, (ts, p, text) in enumerate(comments)],
            "maxResults": len(comments), "total": len(comments), "startAt": 0},
    }
    return {
        "expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
        "id": str(t.uid),
        "self": f"{JIRA_BASE}/rest/api/3/issue/{t.uid}",
        "key": t.key,
        "fields": fields,
        "changelog": {"startAt": 0, "maxResults": len(histories), "total": len(histories),
                      "histories": [{"id": str(t.uid * 100 + i), "author": _jira_user(p),
                                     "created": iso_jira(ts), "items": items}
                                    for i, (ts, p, items) in enumerate(histories)]},
    }


# ---------------------------------------------------------------- Linear rendering


def _cycle(n: int | None) -> dict[str, Any] | None:
    if n is None:
        return None
    s = sprint_number(n)
    return {"number": n, "startsAt": iso_ms_z(s.start), "endsAt": iso_ms_z(s.end)}


def linear_issue(t: Ticket, rng: random.Random) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = []
    status = "To Do"
    for ts, new in _status_path(t):
        nodes.append({"createdAt": iso_ms_z(ts), "fromState": {"name": LINEAR_STATE[status][0]},
                      "toState": {"name": LINEAR_STATE[new][0]}})
        status = new
    prev = t.target
    for ts, new_t, _ in t.reschedules:
        if ts > NOW_TS:
            continue
        node: dict[str, Any] = {"createdAt": iso_ms_z(ts)}
        if new_t.sprint != prev.sprint:
            node["fromCycle"] = {"number": prev.sprint} if prev.sprint is not None else None
            node["toCycle"] = {"number": new_t.sprint} if new_t.sprint is not None else None
        if new_t.due != prev.due:
            node["fromDueDate"] = day_str(prev.due) if prev.due is not None else None
            node["toDueDate"] = day_str(new_t.due) if new_t.due is not None else None
        nodes.append(node)
        prev = new_t
    prev_a = t.assignee
    for ts, p in t.reassigned:
        if ts <= NOW_TS:
            nodes.append({"createdAt": iso_ms_z(ts),
                          "fromAssignee": {"name": prev_a.name} if prev_a else None,
                          "toAssignee": {"name": p.name}})
            prev_a = p
    nodes = [n for n in nodes if n["createdAt"] <= iso_ms_z(NOW_TS)]
    nodes.sort(key=lambda n: n["createdAt"], reverse=True)
    cur = t.current_target()
    assignee = t.current_assignee()
    done = t.completed_at if t.completed_at is not None and t.completed_at <= NOW_TS else None
    name, typ = LINEAR_STATE[status]
    comments = sorted((c for c in t.comments if c[0] <= NOW_TS), key=lambda c: c[0])
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "identifier": t.key,
        "number": t.number,
        "title": t.title,
        "description": t.description,
        "url": t.url,
        "createdAt": iso_ms_z(t.created),
        "updatedAt": iso_ms_z(t.last_activity()),
        "startedAt": iso_ms_z(t.started_at) if t.started_at and t.started_at <= NOW_TS else None,
        "completedAt": iso_ms_z(done) if done and not t.wont_do else None,
        "canceledAt": iso_ms_z(done) if done and t.wont_do else None,
        "dueDate": day_str(cur.due) if cur.due is not None else None,
        "priority": LINEAR_PRIORITY[t.priority],
        "priorityLabel": {1: "Urgent", 2: "High", 3: "Medium", 4: "Low"}[
            LINEAR_PRIORITY[t.priority]],
        "state": {"name": name, "type": typ},
        "assignee": {"name": assignee.name, "email": assignee.email} if assignee else None,
        "creator": {"name": t.reporter.name, "email": t.reporter.email},
        "team": {"key": t.team.project_key, "name": t.team.project_name},
        "cycle": _cycle(cur.sprint),
        "labels": {"nodes": [{"name": lb} for lb in t.labels]},
        "comments": {"nodes": [{"body": text, "createdAt": iso_ms_z(ts),
                                "user": {"name": p.name, "email": p.email}}
                               for ts, p, text in comments]},
        "history": {"nodes": nodes},
    }


def write_tickets(tickets: list[Ticket], org: Org, seed: int, write: Any) -> tuple[int, int]:
    team_index = {t.key: i for i, t in enumerate(org.teams)}
    jira: dict[str, list[dict[str, Any]]] = {}
    linear: dict[str, list[dict[str, Any]]] = {}
    for t in tickets:
        rng = rng_for(seed, "ticket", t.key)
        month = day_str(t.created)[:7]
        if t.team.tracker == "jira":
            jira.setdefault(month, []).append(jira_issue(t, team_index, rng))
        else:
            linear.setdefault(month, []).append(linear_issue(t, rng))
    for month in sorted(jira):
        write(f"jira/issues/{month}.json", {"issues": jira[month], "isLast": True})
    for month in sorted(linear):
        nodes = linear[month]
        write(f"linear/issues/{month}.json", {"data": {"issues": {"nodes": nodes, "pageInfo": {
            "hasNextPage": False, "hasPreviousPage": False,
            "startCursor": nodes[0]["id"], "endCursor": nodes[-1]["id"]}}}})
    return sum(map(len, jira.values())), sum(map(len, linear.values()))


# ---------------------------------------------------------------- lifecycle helpers


def work_time(rng: random.Random, day_ts: float) -> float:
    """A plausible office-hours moment on the UTC day starting at `day_ts`."""
    return day_ts + rng.uniform(8.5, 18.5) * 3600


def lifecycle(rng: random.Random, t: Ticket, *, p_complete: float, median_days: float,
              p_reschedule: float, p_justify: float) -> None:
    """Fill progress, reschedules and comments for a ticket created at `t.created`."""
    dur = rng.lognormvariate(0, 0.9) * median_days * 86400
    finish = t.created + dur
    if rng.random() < p_complete:
        t.started_at = t.created + dur * rng.uniform(0.05, 0.6)
        if rng.random() < 0.5:
            t.review_at = t.started_at + (finish - t.started_at) * rng.uniform(0.5, 0.95)
        t.completed_at = finish
    elif rng.random() < 0.45:
        t.started_at = t.created + rng.uniform(0.5, 20) * 86400
    if t.completed_at is not None and t.completed_at > NOW_TS:
        t.completed_at = None
        t.review_at = None if t.review_at and t.review_at > NOW_TS else t.review_at
    if rng.random() < p_reschedule:
        tgt = t.target
        moves = 1 if rng.random() < 0.7 else 2
        for _ in range(moves):
            end = tgt.end()
            when = (end - rng.uniform(0.5, 3) * 86400) if end else t.created + 7 * 86400
            when = max(when, t.created + 3600)
            if when >= NOW_TS or (t.completed_at is not None and when >= t.completed_at):
                break
            if tgt.sprint is not None:
                tgt = Target(sprint=tgt.sprint + rng.choice([1, 1, 2]))
            elif tgt.due is not None:
                tgt = Target(due=tgt.due + rng.choice([7, 14, 21, 30]) * 86400)
            else:
                tgt = Target(sprint=sprint_at(when).number + 1)
            just = None
            if rng.random() < p_justify:
                who = t.current_assignee() or t.reporter
                just = rng.choice([
                    "Moving to the next sprint: blocked on the {x} migration, agreed with EM.",
                    "Deprioritised behind the Q{q} launch work — rescheduled after discussion "
                    "in planning, risk accepted by {x} owner.",
                    "Pushing the date: vendor fix only lands next release. Mitigation (alert) "
                    "is in place meanwhile.",
                    "Rescheduled because the owner is on call this sprint; scope unchanged.",
                ]).format(x=rng.choice(["ledger", "gateway", "auth", "warehouse"]),
                          q=rng.randint(1, 4))
                t.comments.append((when + rng.uniform(10, 600), who, just))
            t.reschedules.append((when, tgt, just))
    if rng.random() < 0.15 and t.assignee is not None:
        members = t.team.members
        when = t.created + rng.uniform(1, 25) * 86400
        if when < NOW_TS:
            t.reassigned.append((when, rng.choice(members)))
    if rng.random() < 0.35:
        when = t.created + rng.uniform(0.1, 40) * 86400
        if when < NOW_TS and (t.completed_at is None or when < t.completed_at):
            who = rng.choice(t.team.members)
            t.comments.append((when, who, rng.choice([
                "Picked this up, PR incoming.", "Any update here?", "Discussed in standup; "
                "still needed.", "Linked the related PR.", "Repro'd locally, looking into it.",
                "Can we pair on this next week?"])))


def target_for(rng: random.Random, team: Team, ts: float) -> Target:
    """The commitment a ticket gets when it is created: next sprint, a due date, or none."""
    r = rng.random()
    if r < 0.55:
        return Target(sprint=sprint_at(ts).number + rng.choice([0, 1, 1, 2]))
    if r < 0.8:
        d = int((ts - START_TS) // 86400) + rng.randint(7, 45)
        return Target(due=START_TS + d * 86400)
    return Target()


def due_date(ts: float) -> date:
    from sampleorg.writer import from_epoch

    return from_epoch(ts).date()
