"""From a parsed document structure to the `Postmortem` model, as a sequence of named steps:
metadata, the five parts, impact, references anywhere in the text, and what the blame rule reads."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace

from .action_items import extract_action_items
from .blame import FIRST_NAMES
from .impact import build_impact
from .markdown import Document, Span
from .metadata import (
    Meta,
    authors_of,
    date_of,
    meeting_of,
    meta_datetime,
    names,
    read_meta,
    status_of,
    title_of,
)
from .model import ActionItem, Impact, Postmortem, Section, TimelineEntry
from .parts import choose_parts, conditions, criteria, span_text, value_text
from .refs import ci_refs, incident_refs, ticket_refs
from .textutil import clean_inline, tz_declaration
from .timeline import extract_timeline, leading_stamp

_SUMMARY_HEADING_RE = re.compile(
    r"(?i)^(?:executive )?(?:summary|overview|tl;? ?dr|what happened|incident summary|description)"
)


def build_postmortem(
    doc: Document, path: str, fmt: str, html_title: str | None, line_count: int, truncated: bool
) -> Postmortem:
    meta = read_meta(doc)
    title = title_of(doc, meta, html_title)
    date = date_of(meta, title)
    sections, chosen = choose_parts(doc.spans)
    if not sections["timeline"].present:
        found = _timestamped_span(doc.spans)
        if found is not None:
            sections["timeline"] = Section(True, found.heading, found.line)
            chosen["timeline"] = [found]
    tz_offset = _declared_tz_offset(doc)
    timeline = extract_timeline(chosen["timeline"], date, tz_offset)
    authors = authors_of(meta)
    action_items = _named_owners(
        extract_action_items(chosen["action_items"]), _people(authors, (), meta)
    )
    blob = _reference_text(doc)
    incidents = _incident_refs(blob, meta)
    return Postmortem(
        path=path,
        format=fmt,
        title=title,
        date=date,
        meeting_at=meeting_of(meta),
        authors=authors,
        status=status_of(meta),
        incident_refs=tuple(incidents),
        ticket_refs=tuple(t for t in ticket_refs(blob) if t not in incidents),
        ci_refs=tuple(ci_refs(blob)),
        sections=sections,
        timeline=timeline,
        contributing_conditions=conditions(chosen["contributing_conditions"]),
        impact=_impact(doc, meta, chosen["impact"], title, date, tz_offset, timeline),
        action_items=action_items,
        verification_criteria=tuple(criteria(chosen["verification"], action_items)),
        line_count=line_count,
        truncated=truncated,
        prose=_prose(doc),
        names=_people(authors, action_items, meta),
    )


def _timestamped_span(spans: list[Span]) -> Span | None:
    """A section under another name ("Context", "Key events") that is a list of timestamped
    events: the document's timeline when no section is called one."""
    best: tuple[int, Span] | None = None
    for span in spans:
        if span.part is not None or span.kind == "frontmatter":
            continue
        items = [ln for ln in span.lines if ln.kind in ("list", "text", "table")]
        if len(items) < 3:
            continue
        stamped = sum(1 for ln in items if leading_stamp(clean_inline(ln.content)) is not None)
        if stamped >= 3 and stamped * 2 >= len(items) and (best is None or stamped > best[0]):
            best = (stamped, span)
    return best[1] if best is not None else None


def _declared_tz_offset(doc: Document) -> int:
    """The offset of a time zone the document declares near its top ("All times PDT"), else 0."""
    for ln in doc.lines[:200]:
        tz = tz_declaration(ln.content)
        if tz is not None:
            return tz
    return 0


def _summary_text(doc: Document) -> str:
    """The summary sections' text (or the first lines), where impact figures are often stated."""
    summary = "\n".join(
        span_text(s) for s in doc.spans if s.part is None and _SUMMARY_HEADING_RE.match(s.heading)
    )
    return summary or "\n".join(ln.content for ln in doc.lines[:40] if ln.kind == "text")


def _impact_meta(meta: Meta) -> dict[str, str]:
    """The metadata labels, with front-matter severity, duration and affected users on top."""
    out = dict(meta.labels)
    fsev = meta.front("severity", "sev", "priority")
    if fsev is not None:
        out["severity"] = str(fsev)
    fdur = meta.front("duration", "outage duration", "downtime")
    if fdur is not None:
        out["duration"] = str(fdur)
    fusers = meta.front("affected users", "users affected", "customers affected")
    if fusers is not None:
        out["users"] = f"{fusers} users"
    return out


def _impact(
    doc: Document,
    meta: Meta,
    spans: list[Span],
    title: str | None,
    date: dt.date | None,
    tz_offset: int,
    timeline: tuple[TimelineEntry, ...],
) -> Impact:
    impact_text = "\n".join(span_text(s) for s in spans)
    sev_src = " ".join(
        [title or "", meta.labels.get("severity", ""), str(meta.front("severity", "sev") or "")]
        + [ln.content for ln in doc.lines[:60] if ln.kind in ("text", "list", "table")]
    )
    start = meta.front("impact start", "start", "started at") or meta.labels.get("start")
    end = meta.front("impact end", "end", "resolved at") or meta.labels.get("end")
    start_end = (meta_datetime(start, date, tz_offset), meta_datetime(end, date, tz_offset))
    prose = "\n".join(clean_inline(ln.content) for ln in doc.lines if ln.kind in ("text", "list", "quote"))
    return build_impact(
        impact_text, _impact_meta(meta), timeline, _summary_text(doc), sev_src, start_end, prose
    )


def _reference_text(doc: Document) -> str:
    """Front matter and every raw line: references count wherever they are written."""
    full = "\n".join(ln.raw for ln in doc.lines)
    fm_text = value_text(doc.front_matter) if doc.front_matter else ""
    return f"{fm_text}\n{full}"


def _incident_refs(blob: str, meta: Meta) -> list[str]:
    """Incident references in the text, plus the Incident label's and front matter's values."""
    incidents = incident_refs(blob)
    if meta.labels.get("incident"):
        for tok in re.split(r"[\s,;]+", clean_inline(meta.labels["incident"])):
            if (
                tok
                and (tok.startswith("#") or re.fullmatch(r"[A-Z0-9-]{4,}", tok) or tok.startswith("http"))
                and tok not in incidents
            ):
                incidents.append(tok)
    fin = meta.front("incident", "incident id", "incidents", "pagerduty")
    if fin:
        for tok in fin if isinstance(fin, list) else [fin]:
            if str(tok) not in incidents:
                incidents.append(str(tok))
    return incidents


_NAME_PREFIX_RE = re.compile(
    r"^(?P<name>@?[A-Za-z][\w.'-]{0,30}(?: [A-Z][\w.'-]{0,30})?)\s*:\s+(?P<rest>\S.*)$"
)


def _named_owners(items: tuple[ActionItem, ...], people: tuple[str, ...]) -> tuple[ActionItem, ...]:
    """Owners written as a "Name: task" prefix, as in meeting minutes ("JR: follow up with ...").

    Only names the document lists (authors, responders, attendees), @handles and common given
    names count, so that "Monitoring: add an alert" stays a category, not an owner.
    """
    known = {p.lower().lstrip("@") for p in people}
    out: list[ActionItem] = []
    for item in items:
        m = _NAME_PREFIX_RE.match(item.text) if item.owner is None else None
        if m is not None:
            name = m.group("name")
            bare = name.lstrip("@").lower()
            if name.startswith("@") or bare in known or bare in FIRST_NAMES:
                item = replace(item, owner=name.lstrip("@"), text=m.group("rest"))
        out.append(item)
    return tuple(out)


def _people(authors: tuple[str, ...], action_items: tuple[ActionItem, ...], meta: Meta) -> tuple[str, ...]:
    """Names the blame rule watches for: authors, action item owners and responders."""
    found: list[str] = list(authors)
    found.extend(i.owner for i in action_items if i.owner)
    if meta.labels.get("responders"):
        found.extend(names(meta.labels["responders"]))
    return tuple(dict.fromkeys(n for n in found if n))


def _prose(doc: Document) -> tuple[tuple[int, str], ...]:
    """(line, text) of every line a reader reads as prose, front matter and table rows included."""
    prose: list[tuple[int, str]] = []
    for ln in doc.lines:
        if ln.kind in ("text", "list", "quote", "heading"):
            prose.append((ln.no, ln.content))
        elif ln.kind == "table":
            prose.append((ln.no, " | ".join(ln.cells())))
    for s in doc.spans:
        if s.kind == "frontmatter":
            prose.append((s.line, value_text(s.value)))
        elif s.kind == "table":
            prose.extend((ln.no, ln.content) for ln in s.lines)
    prose.sort(key=lambda x: x[0])
    return tuple(prose)
