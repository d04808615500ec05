"""parse_postmortem / parse_file: any supported document into one `Postmortem`."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

from .action_items import extract_action_items
from .html import html_to_lines, looks_like_html
from .impact import build_impact
from .markdown import (
    BOLD_LABEL_RE,
    BR_SPLIT_RE,
    HTML_COMMENT_RE,
    PLACEHOLDER_RE,
    Document,
    Line,
    Span,
    parse_structure,
)
from .model import PARTS, Criterion, Postmortem, PostmortemReadError, Section
from .refs import ci_refs, incident_refs, ticket_refs
from .textutil import clean_inline, find_date, find_datetime, tz_declaration
from .timeline import extract_timeline
from .verification import parse_criterion

# Postmortems are a few pages; beyond these limits the rest is ignored and a finding says so.
MAX_BYTES = 2 * 1024 * 1024
MAX_LINES = 20_000
MAX_LINE_CHARS = 10_000

_META_KEYS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "meeting",
        re.compile(
            r"^(?:(?:post[- ]?mortem|pm|review|retro(?:spective)?|incident review)\s+)?"
            r"(?:review\s+)?(?:meeting|review(?: date| meeting)?|held|"
            r"meeting (?:scheduled )?(?:for|date|time|held))(?: date| time| at| on)?$|"
            r"^(?:post[- ]?mortem|retro(?:spective)?) (?:date|held|review)$"
        ),
    ),
    (
        "date",
        re.compile(
            r"^(?:incident |outage |event )?date(?: of (?:incident|outage|event))?$|"
            r"^date of incident$|^occurred(?: on)?$|^incident (?:day|on)$|^when$"
        ),
    ),
    ("title", re.compile(r"^(?:title|incident title|incident name|name|subject)$")),
    (
        "authors",
        re.compile(
            r"^(?:authors?|written by|prepared by|post[- ]?mortem (?:owner|author)s?|"
            r"document owners?|doc owners?|editors?|facilitators?|owners?|contact)$"
        ),
    ),
    ("status", re.compile(r"^(?:status|document status|post[- ]?mortem status|doc status|state)$")),
    (
        "severity",
        re.compile(
            r"^(?:severity|sev|incident severity|severity level|level|priority|"
            r"incident level|impact level)$"
        ),
    ),
    (
        "incident",
        re.compile(
            r"^(?:incident|incident (?:id|number|no|#|link|url|ticket)|"
            r"pagerduty(?: incident)?|pd incident|related incidents?)$"
        ),
    ),
    (
        "start",
        re.compile(
            r"^(?:impact |outage |incident |downtime )?(?:start(?:ed)?|began|begin)"
            r"(?: time| at)?$|^(?:start|begin) time$|^time (?:started|of impact)$"
        ),
    ),
    (
        "end",
        re.compile(
            r"^(?:impact |outage |incident |downtime )?(?:end(?:ed)?|resolved|recovered|"
            r"mitigated)(?: time| at)?$|^end time$|^time resolved$"
        ),
    ),
    (
        "duration",
        re.compile(
            r"^(?:outage |incident |impact |total |downtime )?(?:duration|length)$|"
            r"^downtime$|^time to (?:resolve|recover|mitigate)$|^total downtime$"
        ),
    ),
    (
        "users",
        re.compile(
            r"^(?:users|customers|accounts|merchants) (?:affected|impacted)$|"
            r"^(?:affected|impacted) (?:users|customers|accounts|merchants)$"
        ),
    ),
    (
        "responders",
        re.compile(
            r"^(?:responders?|incident commander|ic|scribe|on-?call|"
            r"participants|attendees|people involved|people|team)$"
        ),
    ),
)
_PLAIN_META_RE = re.compile(r"^(?P<key>[A-Za-z][A-Za-z0-9 #/()'’-]{0,40}?)\s*:\s+(?P<val>\S.*)$")
_NAME_SPLIT_RE = re.compile(r"\s*(?:,|;|&|\band\b|/|\|)\s*")
_EMAIL_RE = re.compile(r"^[\w.+-]+@[\w-]+\.[\w.]+$")
_BINARY_CHARS = frozenset(range(0, 9)) | frozenset(range(14, 32)) - {27}
_TITLE_SUFFIX_DATE_RE = re.compile(r"\s*[-—–:|(]\s*[^-—–:|()]*\d{4}[^-—–:|()]*\)?\s*$")


def _meta_key(key: str) -> str | None:
    k = clean_inline(key).lower().strip(" :*_#").replace("’", "'")
    k = re.sub(r"\s+", " ", k)
    if not k or len(k) > 40:
        return None
    for name, pat in _META_KEYS:
        if pat.match(k):
            return name
    return None


def _meta_pairs(doc: Document, canonical_lines: set[int]) -> list[tuple[str, str, int]]:
    """(meta key, value, line) from label lines and key/value table rows outside the five parts."""
    out: list[tuple[str, str, int]] = []
    for ln in doc.lines:
        if id(ln) in canonical_lines or ln.kind not in ("text", "list", "table"):
            continue
        content = ln.content
        if ln.kind == "table":
            cells = ln.cells()
            if len(cells) >= 2 and cells[0] and cells[1]:
                key = _meta_key(cells[0])
                if key:
                    out.append((key, BR_SPLIT_RE.sub(", ", cells[1]), ln.no))
            continue
        if content.startswith(("**", "__")):
            m = BOLD_LABEL_RE.match(content)
            if m:
                key = _meta_key(m.group("label"))
                if key and m.group("rest").strip():
                    out.append((key, m.group("rest").strip(), ln.no))
            continue
        if ":" in content[:45]:
            m = _PLAIN_META_RE.match(content)
            if m:
                key = _meta_key(m.group("key"))
                if key:
                    out.append((key, m.group("val").strip(), ln.no))
    return out


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        items = [str(v) for v in value]
    else:
        items = _NAME_SPLIT_RE.split(clean_inline(str(value)))
    out: list[str] = []
    for item in items:
        name = clean_inline(str(item)).strip().lstrip("@").strip(" .")
        name = re.sub(
            r"\s*\((?:ic|scribe|incident commander|author|owner|editor)\)$", "", name, flags=re.I
        )
        if name and not PLACEHOLDER_RE.match(name) and len(name) <= 60:
            out.append(name)
    return tuple(dict.fromkeys(out))


def _span_text(span: Span) -> str:
    parts: list[str] = []
    if span.value is not None:
        parts.append(_value_text(span.value))
    if span.inline:
        parts.append(span.inline)
    parts.extend(
        ln.content if ln.kind != "table" else ln.raw
        for ln in span.lines
        if ln.kind not in ("blank", "rule", "sep")
    )
    return "\n".join(p for p in parts if p)


def _value_text(value: Any) -> str:
    if isinstance(value, dict):
        return "\n".join(f"{k}: {_value_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "\n".join(_value_text(v) for v in value)
    return str(value)


def _best_spans(spans: list[Span], part: str) -> list[Span]:
    mine = [s for s in spans if s.part == part]
    if not mine:
        return []
    with_content = [s for s in mine if s.has_content()] or mine
    best = min(s.tier for s in with_content)
    return [s for s in with_content if s.tier == best]


def _conditions(spans: list[Span]) -> tuple[str, ...]:
    out: list[str] = []
    for span in spans:
        if span.kind == "frontmatter":
            vals = span.value if isinstance(span.value, list) else [span.value]
            out.extend(clean_inline(_value_text(v)) for v in vals if str(v).strip())
            continue
        lines = [ln for ln in span.lines if ln.kind not in ("rule", "sep", "code")]
        if span.kind == "table":
            out.extend(clean_inline(ln.content) for ln in lines if ln.kind in ("text", "list"))
            continue
        items = [ln for ln in lines if ln.kind == "list"]
        if items:
            top = min(ln.indent for ln in items)
            out.extend(
                clean_inline(ln.content)
                for ln in items
                if ln.indent == top and not PLACEHOLDER_RE.match(ln.content)
            )
            continue
        subheads = [ln for ln in lines if ln.kind == "heading"]
        if len(subheads) >= 2:
            out.extend(clean_inline(ln.content) for ln in subheads)
            continue
        rows = [ln for ln in lines if ln.kind == "table"]
        if rows:
            body = rows[1:] if len(rows) > 1 else rows
            out.extend(clean_inline(r.cells()[0]) for r in body if r.cells() and r.cells()[0])
            continue
        para: list[str] = []
        paras: list[str] = []
        if span.inline and not PLACEHOLDER_RE.match(span.inline):
            para.append(span.inline)
        for ln in lines:
            if ln.kind == "blank" or ln.kind == "heading":
                if para:
                    paras.append(" ".join(para))
                    para = []
                continue
            if not PLACEHOLDER_RE.match(ln.content):
                para.append(ln.content)
        if para:
            paras.append(" ".join(para))
        out.extend(
            clean_inline(p) for p in paras if not p.rstrip().endswith(":") or len(paras) == 1
        )
    return tuple(c for c in out if c)


def _criteria(spans: list[Span]) -> list[Criterion]:
    out: list[Criterion] = []
    for span in spans:
        if span.kind == "frontmatter":
            vals = span.value if isinstance(span.value, list) else [span.value]
            out.extend(parse_criterion(_value_text(v), span.line) for v in vals if str(v).strip())
            continue
        if span.inline and not PLACEHOLDER_RE.match(span.inline) and not span.inline.endswith(":"):
            out.append(parse_criterion(span.inline, span.line))
        lines = span.lines
        items = [ln for ln in lines if ln.kind == "list"]
        rows = [ln for ln in lines if ln.kind == "table"]
        if items:
            top = min(ln.indent for ln in items)
            out.extend(
                parse_criterion(ln.content, ln.no)
                for ln in items
                if ln.indent == top and not PLACEHOLDER_RE.match(ln.content)
            )
        if rows:
            for r in rows[1:]:
                cells = [c for c in r.cells() if c.strip()]
                if cells:
                    out.append(parse_criterion(" ".join(cells), r.no))
        if not items and not rows:
            for ln in lines:
                if (
                    ln.kind in ("text", "quote")
                    and not PLACEHOLDER_RE.match(ln.content)
                    and not (ln.content.rstrip().endswith(":"))
                ):
                    out.append(parse_criterion(ln.content, ln.no))
    return out


def _decode(data: bytes, path: str) -> str:
    if not data:
        return ""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise PostmortemReadError(path, f"invalid UTF-16 text ({exc.reason})") from exc
    sample = data[:8192]
    if b"\x00" in sample:
        raise PostmortemReadError(path, "binary content (NUL bytes), not a text document")
    bad = sum(1 for b in sample if b in _BINARY_CHARS)
    if bad > len(sample) * 0.05:
        raise PostmortemReadError(path, "binary content (control characters), not a text document")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text


def parse_file(path: str | os.PathLike[str]) -> Postmortem:
    """Read and parse one file; raises PostmortemReadError when it cannot be read as text."""
    p = Path(path)
    name = str(path)
    try:
        with p.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except IsADirectoryError as exc:
        raise PostmortemReadError(name, "is a directory") from exc
    except FileNotFoundError as exc:
        raise PostmortemReadError(name, "no such file") from exc
    except OSError as exc:
        raise PostmortemReadError(name, f"cannot read ({exc.strerror or exc})") from exc
    truncated = len(data) > MAX_BYTES
    if truncated:
        data = data[:MAX_BYTES]
        # Do not split a multi-byte UTF-8 character at the cut.
        while data and (data[-1] & 0xC0) == 0x80:
            data = data[:-1]
        if data and data[-1] >= 0xC0:
            data = data[:-1]
    text = _decode(data, name)
    suffix = p.suffix.lower()
    fmt = (
        "html"
        if suffix in (".html", ".htm", ".xhtml")
        else ("markdown" if suffix in (".md", ".markdown", ".mdown", ".txt") else None)
    )
    return parse_postmortem(text, path=name, fmt=fmt, _truncated=truncated)


def parse_postmortem(
    text: str, path: str = "x.md", fmt: str | None = None, _truncated: bool = False
) -> Postmortem:
    """Parse a document's text; ``fmt`` is "markdown" or "html" (detected when None)."""
    truncated = _truncated
    if len(text) > MAX_BYTES:
        text, truncated = text[:MAX_BYTES], True
    if fmt is None:
        low = path.lower()
        if low.endswith((".html", ".htm", ".xhtml")):
            fmt = "html"
        elif low.endswith((".md", ".markdown")):
            fmt = "markdown"
        else:
            fmt = "html" if looks_like_html(text) else "markdown"
    html_title: str | None = None
    if fmt == "html":
        raw_lines, html_title = html_to_lines(text)
    else:
        if "<!--" in text:
            text = HTML_COMMENT_RE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
        raw_lines = list(enumerate(text.split("\n"), start=1))
    line_count = text.count("\n") + 1 if text else 0
    if len(raw_lines) > MAX_LINES:
        raw_lines, truncated = raw_lines[:MAX_LINES], True
    if any(len(s) > MAX_LINE_CHARS for _, s in raw_lines):
        raw_lines = [(n, s[:MAX_LINE_CHARS]) for n, s in raw_lines]
        truncated = True
    doc = parse_structure(raw_lines)
    return _build(doc, path, fmt, html_title, line_count, truncated)


def _build(
    doc: Document, path: str, fmt: str, html_title: str | None, line_count: int, truncated: bool
) -> Postmortem:
    spans = doc.spans
    fm = doc.front_matter
    canonical_lines: set[int] = set()  # ids of Line objects inside the five parts
    for s in spans:
        if s.part is not None:
            canonical_lines.update(id(ln) for ln in s.lines)
    meta: dict[str, str] = {}
    meta_line: dict[str, int] = {}
    for key, value, no in _meta_pairs(doc, canonical_lines):
        if key not in meta and not PLACEHOLDER_RE.match(value.strip()):
            meta[key] = value
            meta_line[key] = no
    fml = {str(k).lower().replace("_", " ").replace("-", " "): v for k, v in fm.items()}

    def fm_get(*keys: str) -> Any:
        for k in keys:
            if fml.get(k) not in (None, ""):
                return fml[k]
        return None

    # Title
    title: str | None = None
    v = fm_get("title", "name")
    if v:
        title = clean_inline(str(v))
    if title is None:
        heads = [ln for ln in doc.lines if ln.kind == "heading"]
        h1 = next((ln for ln in heads if ln.level == 1), None)
        if h1 is None and heads and heads[0].level <= 2:
            h1 = heads[0] if not _is_section_heading(heads[0].content) else None
        if h1 is not None:
            title = clean_inline(h1.content) or None
    if title is None and meta.get("title"):
        title = clean_inline(meta["title"])
    if title is None and html_title:
        title = html_title
    if title is None:
        first = next((ln for ln in doc.lines if ln.kind == "text"), None)
        if (
            first is not None
            and len(first.content) <= 120
            and not first.content.endswith(".")
            and not (":" in first.content and _meta_key(first.content.split(":")[0].strip("*_ ")))
            and not _is_section_heading(first.content.split(":")[0])
        ):
            title = clean_inline(first.content) or None

    # Date and review meeting
    date: dt.date | None = None
    v = fm_get("date", "incident date", "occurred", "incident_date")
    if isinstance(v, dt.datetime):
        date = v.date()
    elif isinstance(v, dt.date):
        date = v
    elif v:
        date = find_date(str(v))
    if date is None and meta.get("date"):
        date = find_date(meta["date"])
    if date is None and title:
        date = find_date(title)
    if date is None and meta.get("start"):
        date = find_date(meta["start"])
    meeting_at: dt.datetime | None = None
    mv = fm_get(
        "review meeting",
        "postmortem meeting",
        "meeting",
        "review date",
        "review",
        "meeting at",
        "review at",
        "postmortem review",
    )
    meeting_src = None
    if isinstance(mv, dt.datetime):
        meeting_at = mv if mv.tzinfo else mv.replace(tzinfo=dt.UTC)
        meeting_at = meeting_at.astimezone(dt.UTC)
    elif isinstance(mv, dt.date):
        meeting_at = dt.datetime(mv.year, mv.month, mv.day, tzinfo=dt.UTC)
    elif mv:
        meeting_src = str(mv)
    elif meta.get("meeting"):
        meeting_src = meta["meeting"]
    if meeting_src and meeting_at is None:
        meeting_at = find_datetime(meeting_src)
        if meeting_at is None:
            d = find_date(meeting_src)
            if d is not None:
                meeting_at = dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)

    authors: tuple[str, ...] = ()
    av = fm_get("authors", "author", "owner", "owners", "written by")
    if av:
        authors = _names(av)
    elif meta.get("authors"):
        authors = _names(meta["authors"])
    status = fm_get("status")
    status_s = (
        clean_inline(str(status))
        if status
        else (clean_inline(meta["status"]) if meta.get("status") else None)
    )

    # Sections
    sections: dict[str, Section] = {}
    chosen: dict[str, list[Span]] = {}
    for part in PARTS:
        best = _best_spans(spans, part)
        chosen[part] = best
        if best:
            first = min(best, key=lambda s: s.line)
            sections[part] = Section(True, first.heading, first.line)
        else:
            sections[part] = Section(False, None, None)

    tz_offset = 0
    for ln in doc.lines[:200]:
        tz = tz_declaration(ln.content)
        if tz is not None:
            tz_offset = tz
            break
    timeline = extract_timeline(chosen["timeline"], date, tz_offset)
    action_items = extract_action_items(chosen["action_items"])
    conditions = _conditions(chosen["contributing_conditions"])
    criteria = _criteria(chosen["verification"])
    seen = {c.text for c in criteria}
    for item in action_items:
        if item.verification and item.verification not in seen:
            seen.add(item.verification)
            criteria.append(parse_criterion(item.verification, item.line, source="action_item"))

    impact_text = "\n".join(_span_text(s) for s in chosen["impact"])
    summary_text = "\n".join(
        _span_text(s)
        for s in spans
        if s.part is None
        and re.match(
            r"(?i)^(?:executive )?(?:summary|overview|tl;? ?dr|"
            r"what happened|incident summary|description)",
            s.heading,
        )
    )
    if not summary_text:
        summary_text = "\n".join(ln.content for ln in doc.lines[:40] if ln.kind == "text")
    sev_src = " ".join(
        [title or "", meta.get("severity", ""), str(fm_get("severity", "sev") or "")]
        + [ln.content for ln in doc.lines[:60] if ln.kind in ("text", "list", "table")]
    )
    meta_impact = dict(meta)
    fsev = fm_get("severity", "sev", "priority")
    if fsev is not None:
        meta_impact["severity"] = str(fsev)
    fdur = fm_get("duration", "outage duration", "downtime")
    if fdur is not None:
        meta_impact["duration"] = str(fdur)
    fusers = fm_get("affected users", "users affected", "customers affected")
    if fusers is not None:
        meta_impact["users"] = f"{fusers} users"
    start_end = (
        _meta_dt(
            fm_get("impact start", "start", "started at") or meta.get("start"), date, tz_offset
        ),
        _meta_dt(fm_get("impact end", "end", "resolved at") or meta.get("end"), date, tz_offset),
    )
    impact = build_impact(impact_text, meta_impact, timeline, summary_text, sev_src, start_end)

    # References anywhere in the document
    full = "\n".join(ln.raw for ln in doc.lines)
    fm_text = _value_text(fm) if fm else ""
    blob = f"{fm_text}\n{full}"
    incidents = incident_refs(blob)
    if meta.get("incident"):
        for tok in re.split(r"[\s,;]+", clean_inline(meta["incident"])):
            if (
                tok
                and (
                    tok.startswith("#")
                    or re.fullmatch(r"[A-Z0-9-]{4,}", tok)
                    or tok.startswith("http")
                )
                and tok not in incidents
            ):
                incidents.append(tok)
    fin = fm_get("incident", "incident id", "incidents", "pagerduty")
    if fin:
        for tok in fin if isinstance(fin, list) else [fin]:
            if str(tok) not in incidents:
                incidents.append(str(tok))
    tickets = list(ticket_refs(blob))
    tickets = [t for t in tickets if t not in incidents]

    names: list[str] = list(authors)
    names.extend(i.owner for i in action_items if i.owner)
    if meta.get("responders"):
        names.extend(_names(meta["responders"]))
    prose: list[tuple[int, str]] = []
    for ln in doc.lines:
        if ln.kind in ("text", "list", "quote", "heading"):
            prose.append((ln.no, ln.content))
        elif ln.kind == "table":
            prose.append((ln.no, " | ".join(ln.cells())))
    for s in spans:
        if s.kind == "frontmatter":
            prose.append((s.line, _value_text(s.value)))
        elif s.kind == "table":
            prose.extend((ln.no, ln.content) for ln in s.lines)
    prose.sort(key=lambda x: x[0])

    return Postmortem(
        path=path,
        format=fmt,
        title=title,
        date=date,
        meeting_at=meeting_at,
        authors=authors,
        status=status_s or None,
        incident_refs=tuple(incidents),
        ticket_refs=tuple(tickets),
        ci_refs=tuple(ci_refs(blob)),
        sections=sections,
        timeline=timeline,
        contributing_conditions=conditions,
        impact=impact,
        action_items=action_items,
        verification_criteria=tuple(criteria),
        line_count=line_count,
        truncated=truncated,
        prose=tuple(prose),
        names=tuple(dict.fromkeys(n for n in names if n)),
    )


def _is_section_heading(text: str) -> bool:
    from .sections import is_known_label

    return is_known_label(clean_inline(text))


def _meta_dt(value: Any, date: dt.date | None, offset: int) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    text = str(value)
    got = find_datetime(text, offset)
    if got is None and date is not None:
        got = find_datetime(f"{date.isoformat()} {text}", offset)
    return got


__all__ = ["MAX_BYTES", "MAX_LINES", "Line", "parse_file", "parse_postmortem"]
