"""Document metadata (title, date, review meeting, authors, status, ...) from wherever a template
puts it: YAML front matter first, then "**Label:** value" lines and key/value table rows."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from .markdown import BOLD_LABEL_RE, BR_SPLIT_RE, PLACEHOLDER_RE, Document
from .sections import is_known_label
from .textutil import clean_inline, find_date, find_datetime

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
            r"^downtime$|^time to (?:resolve|resolution|recover|recovery|restore|restoration|repair|"
            r"mitigate|mitigation)$|^total downtime$"
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
_MEETING_KEYS = (
    "review meeting",
    "postmortem meeting",
    "meeting",
    "review date",
    "review",
    "meeting at",
    "review at",
    "postmortem review",
)


def meta_key(key: str) -> str | None:
    """The metadata field a label names ("Incident date" -> "date"), or None."""
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
                key = meta_key(cells[0])
                if key:
                    out.append((key, BR_SPLIT_RE.sub(", ", cells[1]), ln.no))
            continue
        if content.startswith(("**", "__")):
            m = BOLD_LABEL_RE.match(content)
            if m:
                key = meta_key(m.group("label"))
                if key and m.group("rest").strip():
                    out.append((key, m.group("rest").strip(), ln.no))
            continue
        if ":" in content[:45]:
            m = _PLAIN_META_RE.match(content)
            if m:
                key = meta_key(m.group("key"))
                if key:
                    out.append((key, m.group("val").strip(), ln.no))
    return out


def names(value: Any) -> tuple[str, ...]:
    """People named in a metadata value (a list, or "a, b and c"), without roles or handles' @."""
    if isinstance(value, (list, tuple)):
        items = [str(v) for v in value]
    else:
        items = _NAME_SPLIT_RE.split(clean_inline(str(value)))
    out: list[str] = []
    for item in items:
        name = clean_inline(str(item)).strip().lstrip("@").strip(" .")
        name = re.sub(r"\s*\((?:ic|scribe|incident commander|author|owner|editor)\)$", "", name, flags=re.I)
        if name and not PLACEHOLDER_RE.match(name) and len(name) <= 60:
            out.append(name)
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True, slots=True)
class Meta:
    """Metadata from labels in the text (first non-placeholder value wins) and from front matter
    (keys lower-cased, "_" and "-" read as spaces)."""

    labels: dict[str, str]
    front_matter: dict[str, Any]

    def front(self, *keys: str) -> Any:
        """The first of `keys` the front matter sets to something other than None or ""."""
        for k in keys:
            if self.front_matter.get(k) not in (None, ""):
                return self.front_matter[k]
        return None


def read_meta(doc: Document) -> Meta:
    """The document's metadata; lines inside the five parts are content, never metadata."""
    canonical_lines: set[int] = set()  # ids of Line objects inside the five parts
    for s in doc.spans:
        if s.part is not None:
            canonical_lines.update(id(ln) for ln in s.lines)
    labels: dict[str, str] = {}
    for key, value, _no in _meta_pairs(doc, canonical_lines):
        if key not in labels and not PLACEHOLDER_RE.match(value.strip()):
            labels[key] = value
    fm = {str(k).lower().replace("_", " ").replace("-", " "): v for k, v in doc.front_matter.items()}
    return Meta(labels, fm)


def is_section_heading(text: str) -> bool:
    return is_known_label(clean_inline(text))


def _first_line_title(doc: Document) -> str | None:
    """A short first line that reads like a title: no full stop, no label, no section name."""
    first = next((ln for ln in doc.lines if ln.kind == "text"), None)
    if (
        first is not None
        and len(first.content) <= 120
        and not first.content.endswith(".")
        and not (":" in first.content and meta_key(first.content.split(":")[0].strip("*_ ")))
        and not is_section_heading(first.content.split(":")[0])
    ):
        return clean_inline(first.content) or None
    return None


def title_of(doc: Document, meta: Meta, html_title: str | None) -> str | None:
    """Front matter, then the top heading, a Title label, the HTML <title>, the first line."""
    v = meta.front("title", "name")
    if v:
        return clean_inline(str(v))
    heads = [ln for ln in doc.lines if ln.kind == "heading"]
    h1 = next((ln for ln in heads if ln.level == 1), None)
    if h1 is None and heads and heads[0].level <= 2:
        h1 = heads[0] if not is_section_heading(heads[0].content) else None
    if h1 is not None:
        title = clean_inline(h1.content) or None
        if title is not None:
            return title
    if meta.labels.get("title"):
        return clean_inline(meta.labels["title"])
    if html_title:
        return html_title
    return _first_line_title(doc)


def date_of(meta: Meta, title: str | None) -> dt.date | None:
    """The incident date: front matter, a Date label, the title, then the impact start."""
    v = meta.front("date", "incident date", "occurred", "incident_date")
    date: dt.date | None = None
    if isinstance(v, dt.datetime):
        date = v.date()
    elif isinstance(v, dt.date):
        date = v
    elif v:
        date = find_date(str(v))
    if date is None and meta.labels.get("date"):
        date = find_date(meta.labels["date"])
    if date is None and title:
        date = find_date(title)
    if date is None and meta.labels.get("start"):
        date = find_date(meta.labels["start"])
    return date


def meeting_of(meta: Meta) -> dt.datetime | None:
    """When the review meeting was held (UTC); a date alone counts as its midnight."""
    mv = meta.front(*_MEETING_KEYS)
    if isinstance(mv, dt.datetime):
        at = mv if mv.tzinfo else mv.replace(tzinfo=dt.UTC)
        return at.astimezone(dt.UTC)
    if isinstance(mv, dt.date):
        return dt.datetime(mv.year, mv.month, mv.day, tzinfo=dt.UTC)
    src = str(mv) if mv else meta.labels.get("meeting")
    if not src:
        return None
    at = find_datetime(src)
    if at is None:
        d = find_date(src)
        if d is not None:
            at = dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)
    return at


def authors_of(meta: Meta) -> tuple[str, ...]:
    av = meta.front("authors", "author", "owner", "owners", "written by")
    if av:
        return names(av)
    if meta.labels.get("authors"):
        return names(meta.labels["authors"])
    return ()


def status_of(meta: Meta) -> str | None:
    status = meta.front("status")
    if status:
        return clean_inline(str(status)) or None
    if meta.labels.get("status"):
        return clean_inline(meta.labels["status"]) or None
    return None


def meta_datetime(value: Any, date: dt.date | None, offset: int) -> dt.datetime | None:
    """A metadata time (a datetime, or text with or without a date) as UTC."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    text = str(value)
    got = find_datetime(text, offset)
    if got is None and date is not None:
        got = find_datetime(f"{date.isoformat()} {text}", offset)
    return got
