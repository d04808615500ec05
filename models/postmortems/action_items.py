"""Action items from tables (any column order and naming), checkbox/TODO lists, and front matter."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from .markdown import PLACEHOLDER_RE, Line, Span
from .model import ActionItem
from .refs import ISSUE_KEY_RE, ticket_refs
from .textutil import DATE_RE, clean_inline, find_date, match_date

_COLUMNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "verification",
        re.compile(
            r"verif|success|how (?:we'?ll|will we|we) know|acceptance|"
            r"definition of done|measure|criteri|validat",
            re.I,
        ),
    ),
    ("owner", re.compile(r"owner|assignee|assigned|\bdri\b|responsib|\bwho\b|\blead\b|team", re.I)),
    (
        "ticket",
        re.compile(
            r"ticket|issue|jira|\blink|\bbug|tracking|\bref|linear|github|\bkey\b|"
            r"^id$|^#$|\bpr\b|epic",
            re.I,
        ),
    ),
    ("priority", re.compile(r"priority|\bprio\b|^pri$|^p$|urgency|importance", re.I)),
    (
        "due",
        re.compile(
            r"due|sprint|target|deadline|\beta\b|by when|^when$|milestone|"
            r"\bdate\b|timeline|cycle|quarter|release",
            re.I,
        ),
    ),
    ("status", re.compile(r"status|state|done\??$|progress|complete", re.I)),
    ("type", re.compile(r"^type$|category|kind|class", re.I)),
    (
        "text",
        re.compile(
            r"action|item|task|description|what|remediation|follow|title|summary|"
            r"fix|work|change|step|name|improvement|mitigation",
            re.I,
        ),
    ),
)

_STATUS_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "in progress",
        re.compile(
            r"^(?:in[ _-]?progress|wip|doing|started|ongoing|in review|"
            r"in development|active|underway|partially done|partial)$",
            re.I,
        ),
    ),
    (
        "done",
        re.compile(
            r"^(?:done|closed|complete|completed|fixed|resolved|merged|shipped|"
            r"finished|deployed|released|yes|y|✅|✔|✔️|☑|☑️|\[x\])$",
            re.I,
        ),
    ),
    (
        "todo",
        re.compile(
            r"^(?:todo|to do|open|not started|new|backlog|planned|pending|blocked|"
            r"no|n|tbd|ready|triage|accepted|❌|⬜|\[ \])$",
            re.I,
        ),
    ),
    (
        "cancelled",
        re.compile(r"^(?:won'?t ?(?:do|fix)|cancell?ed|dropped|obsolete|wontfix)$", re.I),
    ),
)
_STATUS_MARK_RE = re.compile(
    r"^\s*(?:\[|\()?(TODO|DONE|WIP|IN[ _-]PROGRESS|DOING|OPEN|CLOSED|BLOCKED|FIXED|COMPLETED?|"
    r"WON'?T ?(?:DO|FIX))(?:\]|\))?\s*[:\-–—]?\s+"
    r"|\s*[\[(]?\b(TODO|DONE|WIP|IN[ _-]PROGRESS|FIXED|COMPLETED?|BLOCKED)\b[\])]?\s*\.?\s*$"
)
_EMOJI_STATUS_RE = re.compile(r"^\s*(✅|✔️?|☑️?|⬜|🔲|❌|🚧|⏳)\s*|\s*(✅|✔️?|☑️?|⬜|🔲|🚧|⏳)\s*$")
_FIELD_RE = re.compile(
    r"(?:^|[\s(\[,;|—–-])(?P<key>owner|assignee|assigned to|dri|responsible|who|"
    r"ticket|issue|jira|bug|tracking|link|"
    r"priority|prio|due(?: date)?|deadline|target(?: date)?|eta|by|sprint|cycle|milestone|"
    r"status|state|"
    r"verification|verify|verified (?:by|when)|success criteria|success criterion|success|"
    r"how we'?ll know|done when|acceptance criteria|measured by|check)"
    r"\s*(?::|=|\s-\s|—)\s*",
    re.I,
)
_OWNER_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9][\w.-]{0,38})")
_PRIORITY_RE = re.compile(r"(?<![\w-])[Pp]([0-4])(?![\w])")
_PRIORITY_WORD_RE = re.compile(
    r"\b(?:priority|prio)\s*[:=]?\s*(critical|urgent|highest|high|medium|med|normal|low|lowest)\b"
    r"|\b(critical|urgent|highest|high|medium|low|lowest)[ -]priority\b",
    re.I,
)
_SPRINT_RE = re.compile(
    r"\b(?:sprint|iteration|cycle)\s*[:#]?\s*(?P<s>\d{4}-?S\d{1,3}|[A-Za-z]*\d[\w.-]*|next|current|"
    r"this|following)\b|(?P<s2>\b\d{4}-S\d{1,3}\b)|(?P<q>\bQ[1-4][ -]?(?:FY)?\d{2,4}\b|"
    r"\b\d{4}[ -]?Q[1-4]\b)",
    re.I,
)
_DUE_KEY_RE = re.compile(
    r"\b(?:due|deadline|target(?: date)?|eta|by|before|until|no later than)"
    r"\s*(?:date|on|by)?\s*[:=]?\s*",
    re.I,
)
_VERIFY_RE = re.compile(
    r"(?:^|[\s(\[;,—–-])(?:verification|verify|verified (?:by|when)|success criteria|suc"
    r"cess criterion|"
    r"success|how we'?ll know|done when|acceptance criteria|measured by|check)\s*(?::|=|—|\s-\s)\s*"
    r"(?P<v>[^;)\]|]+)",
    re.I,
)
_PAREN_RE = re.compile(r"\s*[(\[]([^()\[\]]{2,300})[)\]]\s*")
_TRAIL_FIELDS_RE = re.compile(
    r"\s*(?:[—–|;]|\s-\s|,)\s*(?:owner|assignee|dri|ticket|priority|due|sprint|status|target|"
    r"verification|verify|success criteria)\b.*$"
    r"|\s+(?:owner|assignee|dri|ticket|priority|due|sprint|status|verification|verify)\s*:.*$",
    re.I,
)
_NAME_RE = re.compile(r"^@?[A-Za-z][\w.'-]*(?:\s+[A-Za-z][\w.'-]*){0,2}$")
_URL_KEY_RE = re.compile(r"/(?:browse|issue)/([A-Z][A-Z0-9]{1,9}-\d+)")
_CATEGORY_RE = re.compile(r"^(?:\*\*)?[^.:]{1,40}:(?:\*\*)?$")
_FIELD_LINE_RE = re.compile(
    r"^(?:\*\*)?(owner|assignee|dri|ticket|issue|jira|priority|due|due date|sprint|target|status|"
    r"verification|success criteria|how we'?ll know|link)(?:\*\*)?\s*:",
    re.I,
)
# An action item is a sentence or two; longer text is cut before field extraction.
MAX_ITEM_CHARS = 2000
_COMMA_RE = re.compile(r"[,;]")
_LEADING_KEY_RE = re.compile(r"^(?:\[?[A-Z][A-Z0-9]{1,9}-\d+\]?\s*[:—–-]?\s*)")
_OWNER_LABEL_RE = re.compile(r"\b(?:owner|assignee|dri)\s*:", re.I)
_OWNER_END_RE = re.compile(
    r"\s*(?:,|;|\(|\)|\bdue\b|\bby\b|\bsprint\b|\bticket\b|\bP[0-4]\b| - |—|–)\s*"
)
_NOT_OWNER = frozenset({"tbd", "n/a", "na", "none", "unassigned", "-", "?", "todo", "nobody", ""})


def normalize_status(value: str | None) -> str | None:
    if not value:
        return None
    v = clean_inline(value).strip().strip(".").strip()
    if not v:
        return None
    for status, pat in _STATUS_WORDS:
        if pat.match(v):
            return status
    low = v.lower()
    if low.startswith(("done", "closed", "complete", "fixed", "resolved", "merged")):
        return "done"
    if low.startswith(("in progress", "in-progress", "wip", "started")):
        return "in progress"
    if low.startswith(("todo", "open", "not started", "blocked", "to do")):
        return "todo"
    return None


def normalize_priority(value: str | None) -> str | None:
    if not value:
        return None
    v = clean_inline(value).strip()
    m = _PRIORITY_RE.search(v)
    if m:
        return f"P{m.group(1)}"
    if v.isdigit() and len(v) == 1 and v in "01234":
        return f"P{v}"
    low = v.lower()
    for word in ("critical", "urgent", "highest", "high", "medium", "normal", "lowest", "low"):
        if low.startswith(word):
            return word.capitalize()
    if low in ("med",):
        return "Medium"
    return None


def _owner_clean(value: str) -> str | None:
    v = clean_inline(value).strip().strip(",;.").strip()
    v = _OWNER_END_RE.split(v, maxsplit=1)[0]
    v = v.strip().lstrip("@").strip()
    if v.lower() in _NOT_OWNER or len(v) > 60:
        return None
    return v or None


def _ticket_of(text: str) -> str | None:
    refs = ticket_refs(text)
    if not refs:
        return None
    # Prefer a plain key over the URL of the same issue.
    for ref in refs:
        if ISSUE_KEY_RE.fullmatch(ref):
            return ref
    first = refs[0]
    m = _URL_KEY_RE.search(first)
    return m.group(1) if m else first


def _due_of(text: str) -> tuple[dt.date | None, str | None]:
    due: dt.date | None = None
    for m in _DUE_KEY_RE.finditer(text):
        rest = text[m.end() : m.end() + 40]
        dm = DATE_RE.match(rest)
        if dm:
            due = match_date(dm)
            if due:
                break
    sprint = None
    sm = _SPRINT_RE.search(text)
    if sm:
        if sm.group("s"):
            token = sm.group("s")
            word = sm.group(0).split()[0].rstrip(":#").capitalize()
            sprint = token if re.search(r"[A-Za-z]", token) and "-" in token else f"{word} {token}"
        else:
            sprint = sm.group("s2") or sm.group("q")
    return due, sprint


@dataclass(slots=True)
class _Draft:
    text: str
    line: int
    owner: str | None = None
    ticket: str | None = None
    status: str | None = None
    priority: str | None = None
    due: dt.date | None = None
    sprint: str | None = None
    verification: str | None = None
    detail: list[str] = field(default_factory=list)


def _apply_fields(d: _Draft, key: str, value: str) -> None:
    key = key.lower()
    value = value.strip()
    if not value or (PLACEHOLDER_RE.match(value) and key != "status"):
        return
    if key in ("owner", "assignee", "assigned to", "dri", "responsible", "who"):
        d.owner = d.owner or _owner_clean(value)
    elif key in ("ticket", "issue", "jira", "bug", "tracking", "link"):
        d.ticket = d.ticket or _ticket_of(value) or (clean_inline(value) or None)
    elif key in ("priority", "prio"):
        d.priority = d.priority or normalize_priority(value)
    elif key in ("status", "state"):
        d.status = d.status or normalize_status(value)
    elif key in ("sprint", "cycle", "milestone"):
        d.sprint = d.sprint or clean_inline(value).strip(" ,;.") or None
    elif key.startswith(("due", "deadline", "target", "eta", "by")):
        day = find_date(value)
        if day:
            d.due = d.due or day
        else:
            d.sprint = d.sprint or clean_inline(value).strip(" ,;.") or None
    else:
        d.verification = d.verification or clean_inline(value).strip(" .;") or None


def _is_meta_part(part: str) -> bool:
    """A parenthesised part that is metadata other than a name: field, ticket, date, status."""
    return bool(
        _FIELD_RE.match(" " + part)
        or (_ticket_of(part) and len(part.split()) <= 3)
        or find_date(part)
        or _SPRINT_RE.match(part)
        or (normalize_priority(part) and len(part.split()) <= 2)
        or normalize_status(part)
    )


def _from_text(text: str, line: int, check: str | None = None) -> _Draft:
    """Fields out of one list item or paragraph; the remaining words are the item's text."""
    d = _Draft(text="", line=line)
    raw = text[:MAX_ITEM_CHARS]
    if check is not None:
        d.status = {"x": "done", "X": "done", "✓": "done", "✔": "done", " ": "todo"}.get(
            check, "in progress"
        )
    em = _EMOJI_STATUS_RE.search(raw)
    if em:
        mark = em.group(1) or em.group(2)
        d.status = d.status or (
            "done"
            if mark in ("✅", "✔", "✔️", "☑", "☑️")
            else "in progress"
            if mark in ("🚧", "⏳")
            else "todo"
        )
        raw = raw[: em.start()] + " " + raw[em.end() :]
    sm = _STATUS_MARK_RE.search(raw)
    if sm:
        d.status = d.status or normalize_status(sm.group(1) or sm.group(2))
        raw = (raw[: sm.start()] + " " + raw[sm.end() :]).strip()
    if raw.startswith("~~") and raw.rstrip(". ").endswith("~~"):
        d.status = d.status or "done"
    # Parenthesised metadata: "(owner: @dana, PAY-412, sprint 2025-S07, due 2025-04-01)".
    body = raw
    for pm in list(_PAREN_RE.finditer(raw)):
        group = pm.group(1)
        parts = [p.strip() for p in _COMMA_RE.split(group) if p.strip()]
        meta = 0
        for part in parts:
            fm = _FIELD_RE.match(" " + part)
            if fm:
                _apply_fields(d, fm.group("key"), (" " + part)[fm.end() :])
                meta += 1
            elif _ticket_of(part) and len(part) <= 80 and len(part.split()) <= 3:
                d.ticket = d.ticket or _ticket_of(part)
                meta += 1
            elif find_date(part) or _SPRINT_RE.fullmatch(part.strip()) or _SPRINT_RE.match(part):
                due, sprint = _due_of(part)
                day = find_date(part)
                d.due = d.due or due or day
                d.sprint = d.sprint or (sprint if not day else None)
                meta += 1
            elif normalize_priority(part) and len(part.split()) <= 2:
                d.priority = d.priority or normalize_priority(part)
                meta += 1
            elif normalize_status(part):
                d.status = d.status or normalize_status(part)
                meta += 1
            elif _NAME_RE.match(part) and (part.startswith("@") or meta or (
                len(parts) > 1 and any(_is_meta_part(p) for p in parts if p != part)
            )):
                # A bare name counts as the owner only next to other metadata
                # ("(dana, PAY-412)"); "(prometheus, grafana, ingress)" is a list of things.
                d.owner = d.owner or _owner_clean(part)
                meta += 1
        if meta and meta >= len(parts) - 1:
            body = body.replace(pm.group(0), " ")
    # Trailing "— owner: x; due: y; verification: z" clauses.
    for fm in _FIELD_RE.finditer(body):
        key = fm.group("key")
        rest = body[fm.end() :]
        nxt = _FIELD_RE.search(rest)
        value = rest[: nxt.start()] if nxt else rest
        if key.lower() in (
            "verification",
            "verify",
            "success criteria",
            "success criterion",
            "success",
            "how we'll know",
            "how well know",
            "done when",
            "acceptance criteria",
            "measured by",
            "check",
            "verified by",
            "verified when",
        ):
            value = rest if not nxt or nxt.group("key").lower() in ("by", "check") else value
            vm = _VERIFY_RE.search(body[fm.start() :])
            if vm:
                value = vm.group("v")
        _apply_fields(d, key, value.strip(" ,;|—–-"))
    tm = _TRAIL_FIELDS_RE.search(body)
    if tm and tm.start() > 8:
        body = body[: tm.start()]
    if d.owner is None:
        om = _OWNER_RE.search(raw)
        if om:
            d.owner = om.group(1)
    if d.ticket is None:
        d.ticket = _ticket_of(raw)
    if d.priority is None:
        pm2 = _PRIORITY_RE.search(raw) or _PRIORITY_WORD_RE.search(raw)
        if pm2:
            d.priority = normalize_priority(pm2.group(0))
    if d.due is None and d.sprint is None:
        d.due, d.sprint = _due_of(raw)
    text_clean = clean_inline(body).strip(" -—–:;,.")
    text_clean = _LEADING_KEY_RE.sub("", text_clean) or text_clean
    d.text = text_clean or clean_inline(raw)
    return d


def _column_roles(header: list[str]) -> list[str | None]:
    roles: list[str | None] = []
    used: set[str] = set()
    for h in header:
        label = clean_inline(h).strip().lower()
        role = None
        for name, pat in _COLUMNS:
            if name not in used and label and pat.search(label):
                role = name
                break
        if role:
            used.add(role)
        roles.append(role)
    if "text" not in used:
        for i, r in enumerate(roles):
            if r is None:
                roles[i] = "text"
                break
        else:
            if roles:
                roles[0] = "text"
    return roles


def _from_table(rows: list[Line]) -> list[_Draft]:
    if len(rows) >= 2 and rows[1].kind == "sep":
        header = rows[0].cells()
        body = [r for r in rows[2:] if r.kind == "table"]
    else:
        header = []
        body = [r for r in rows if r.kind == "table"]
    roles = _column_roles(header) if header else []
    drafts: list[_Draft] = []
    for row in body:
        cells = row.cells()
        if not any(c.strip() for c in cells):
            continue
        if not roles:
            d = _from_text(" | ".join(cells[1:]), row.no)
            d.text = clean_inline(cells[0])
            if d.text:
                drafts.append(d)
            continue
        text_cells = [c for c, r in zip(cells, roles, strict=False) if r == "text"]
        text = " ".join(text_cells).strip()
        check = None
        cm = re.match(r"^\[( |x|X)\]\s*", text)
        if cm:
            check = cm.group(1)
            text = text[cm.end() :]
        d = _from_text(text, row.no, check)
        for cell, role in zip(cells, roles, strict=False):
            if role in (None, "text", "type"):
                if role is None and cell.strip():
                    # unnamed column: still look for fields in it
                    extra = _from_text(cell, row.no)
                    d.ticket = d.ticket or extra.ticket
                    d.status = d.status or extra.status
                continue
            if role == "ticket":
                plain = clean_inline(cell)
                sm = _STATUS_MARK_RE.search(plain)
                if sm:
                    d.status = d.status or normalize_status(sm.group(1) or sm.group(2))
                    plain = (plain[: sm.start()] + " " + plain[sm.end() :]).strip()
                d.ticket = (
                    _ticket_of(cell)
                    or d.ticket
                    or (
                        plain
                        if plain
                        and not PLACEHOLDER_RE.match(plain)
                        and plain.lower() not in _NOT_OWNER
                        else None
                    )
                )
            elif role == "owner":
                d.owner = _owner_clean(cell) or d.owner
            elif role == "priority":
                d.priority = normalize_priority(cell) or d.priority
            elif role == "status":
                d.status = normalize_status(cell) or d.status
            elif role == "due":
                _apply_fields(d, "due", cell)
            elif role == "verification":
                v = clean_inline(cell).strip()
                if v and not PLACEHOLDER_RE.match(v):
                    d.verification = v
        if d.text and not PLACEHOLDER_RE.match(d.text):
            drafts.append(d)
    return drafts


def _looks_like_item(text: str) -> bool:
    return bool(
        _STATUS_MARK_RE.match(text)
        or ticket_refs(text)
        or _OWNER_RE.search(text)
        or _OWNER_LABEL_RE.search(text)
    )


def _from_lines(lines: list[Line]) -> list[_Draft]:
    drafts: list[_Draft] = []
    table: list[Line] = []
    top: int | None = None
    category_indent: int | None = None
    last_item_indent = 0
    pending_heading: Line | None = None
    # Lazy continuation: a text line right after a list item (no blank line) belongs to it.
    after_item = False
    # A section written as plain paragraphs (meeting minutes) has one item per paragraph.
    paragraphs = not any(ln.kind in ("list", "table") for ln in lines)

    def flush_table() -> None:
        if table:
            drafts.extend(_from_table(table))
            table.clear()

    for ln in lines:
        if ln.kind in ("table", "sep"):
            pending_heading = None
            table.append(ln)
            continue
        flush_table()
        if ln.kind in ("blank", "rule", "code"):
            after_item = after_item and ln.kind == "code"
            continue
        if ln.kind == "heading":
            after_item = False
            pending_heading = ln
            top = None
            category_indent = None
            continue
        content = ln.content
        if ln.kind == "list":
            text = content
            if top is None or ln.indent < top:
                top = ln.indent
            field_line = _FIELD_LINE_RE.match(clean_inline(text) if "**" in text else text)
            if (
                drafts
                and ln.indent > last_item_indent
                and field_line
                and category_indent != last_item_indent
            ):
                fm = _FIELD_RE.match(" " + clean_inline(text))
                if fm:
                    _apply_fields(
                        drafts[-1], fm.group("key"), (" " + clean_inline(text))[fm.end() :]
                    )
                continue
            if ln.check is None and _CATEGORY_RE.match(text.strip()) and not _looks_like_item(text):
                category_indent = ln.indent
                continue
            if (
                drafts
                and ln.indent > last_item_indent
                and ln.check is None
                and category_indent != last_item_indent
                and not _STATUS_MARK_RE.match(text)
            ):
                if len(drafts[-1].detail) < 20:
                    drafts[-1].detail.append(text)
                continue
            d = _from_text(text, ln.no, ln.check)
            if d.text and not PLACEHOLDER_RE.match(d.text):
                drafts.append(d)
                last_item_indent = ln.indent
                after_item = True
            pending_heading = None
            continue
        if ln.kind in ("text", "quote"):
            text = content
            if PLACEHOLDER_RE.match(text):
                continue
            if after_item and drafts and not _FIELD_LINE_RE.match(clean_inline(text)):
                if len(drafts[-1].detail) < 20:
                    drafts[-1].detail.append(text)
                continue
            fl = _FIELD_LINE_RE.match(clean_inline(text) if "**" in text else text)
            if fl:
                if pending_heading is not None:
                    d = _from_text(pending_heading.content, pending_heading.no)
                    if d.text:
                        drafts.append(d)
                    pending_heading = None
                if drafts:
                    plain = " " + clean_inline(text)
                    fm = _FIELD_RE.match(plain)
                    if fm:
                        _apply_fields(drafts[-1], fm.group("key"), plain[fm.end() :])
                continue
            if _looks_like_item(text) or (paragraphs and not _CATEGORY_RE.match(text.strip())):
                d = _from_text(text, ln.no)
                if d.text:
                    drafts.append(d)
                    last_item_indent = ln.indent
    flush_table()
    for d in drafts:
        if d.detail:
            extra = _from_text(" ".join(d.detail), d.line)
            d.owner = d.owner or extra.owner
            d.ticket = d.ticket or extra.ticket
            d.due = d.due or extra.due
            d.sprint = d.sprint or extra.sprint
            d.verification = d.verification or extra.verification
            d.priority = d.priority or extra.priority
            d.status = d.status or extra.status
    return drafts


def _from_front_matter(value: Any, line: int) -> list[_Draft]:
    items = value if isinstance(value, list) else [value]
    drafts: list[_Draft] = []
    for item in items:
        if isinstance(item, dict):
            low = {str(k).lower().replace("_", " "): v for k, v in item.items()}
            text = next(
                (
                    str(low[k])
                    for k in ("action", "text", "title", "item", "task", "description", "summary")
                    if low.get(k)
                ),
                "",
            )
            d = _from_text(text, line)
            for key, val in low.items():
                if val is None or key in (
                    "action",
                    "text",
                    "title",
                    "item",
                    "task",
                    "description",
                    "summary",
                ):
                    continue
                sval = val.isoformat() if isinstance(val, dt.date) else str(val)
                k = "verification" if key.startswith(("verif", "success")) else key
                _apply_fields(d, k, sval)
            if d.text:
                drafts.append(d)
        elif item is not None and str(item).strip():
            drafts.append(_from_text(str(item), line))
    return drafts


def extract_action_items(spans: list[Span]) -> tuple[ActionItem, ...]:
    drafts: list[_Draft] = []
    for span in spans:
        if span.kind == "frontmatter":
            drafts.extend(_from_front_matter(span.value, span.line))
            continue
        lines = list(span.lines)
        if span.inline and not PLACEHOLDER_RE.match(span.inline):
            lines.insert(0, Line(span.line, span.inline, "list", content=span.inline))
        drafts.extend(_from_lines(lines))
    return tuple(
        ActionItem(
            ordinal=i,
            text=d.text[:1000],
            owner=d.owner,
            ticket=d.ticket,
            status=d.status,
            priority=d.priority,
            due=d.due,
            sprint=d.sprint,
            verification=d.verification,
            line=d.line,
        )
        for i, d in enumerate(drafts, start=1)
    )
