"""Timeline entries from tables, lists, prose lines and front matter, with dates carried forward."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from .markdown import SEP_RE, Line, Span, split_row
from .model import TimelineEntry
from .textutil import (
    DATE_RE,
    TIME_RE,
    clean_inline,
    find_date,
    find_iso_datetime,
    find_time,
    match_date,
    match_time,
    tz_declaration,
)

_LEAD_RE = re.compile(
    r"^(?:[~≈\[(]|\*\*|`|at\s+|around\s+|approx(?:imately|\.)?\s+|about\s+|on\s+|by\s+)*",
    re.IGNORECASE,
)
_SEP_RE = re.compile(r"^[\s\])*`]*(?:[-—–:|>]+|\bto\b[^\s]*)?[\s*`]*")
_TIME_COL_RE = re.compile(r"time|when|date|timestamp|hh:mm|utc|clock", re.IGNORECASE)
_DATE_COL_RE = re.compile(r"^\s*(?:date|day)\s*$", re.IGNORECASE)
_ROLLOVER = dt.timedelta(hours=6)
_RANGE_END_RE = re.compile(r"^\s*[-–—]\s*\d{1,2}:\d{2}(?:\s*(?:UTC|Z))?")  # "14:02–14:10"
_ZONE_PREFIX_RE = re.compile(r"^\s*(?:Z|UTC|GMT)\b")
_ISO_ZONE_RE = re.compile(r"(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})\s*$", re.IGNORECASE)
_DATE_TIME_GLUE_RE = re.compile(r"[\s,]*(?:at\s+|@\s*|T)?")


class _State:
    def __init__(self, date: dt.date | None, offset: int) -> None:
        self.date = date
        self.offset = offset
        self.last: dt.datetime | None = None
        self.entries: list[TimelineEntry] = []

    def add(
        self,
        clock: dt.time | None,
        offset: int | None,
        text: str,
        line: int,
        date: dt.date | None = None,
        explicit_date: bool = False,
    ) -> None:
        text = clean_inline(text)
        if not text and clock is None:
            return
        day = date or self.date
        at: dt.datetime | None = None
        if clock is not None and day is not None:
            local = dt.datetime.combine(day, clock)
            at = local - dt.timedelta(minutes=offset if offset is not None else self.offset)
            at = at.replace(tzinfo=dt.UTC)
            if not explicit_date and self.last is not None and at < self.last - _ROLLOVER:
                at += dt.timedelta(days=1)
                self.date = day + dt.timedelta(days=1)
            self.last = at
        self.entries.append(TimelineEntry(at=at, text=text, line=line, clock=clock))

    def extend_last(self, text: str) -> None:
        if self.entries:
            last = self.entries[-1]
            more = clean_inline(text)
            if more:
                self.entries[-1] = TimelineEntry(
                    last.at, f"{last.text} {more}"[:2000], last.line, last.clock
                )


def _leading_stamp(content: str) -> tuple[dt.date | None, dt.time, int | None, str, bool] | None:
    """A timestamp at the start of a line: (date, time, offset, rest of line, date written)."""
    s = content.strip()
    if s[:1].isdigit():
        fast = TIME_RE.match(s)
        if fast is not None and not s[fast.end() : fast.end() + 1].isdigit():
            got = match_time(fast)
            if got is not None:
                rest = s[fast.end() :]
                rest = _RANGE_END_RE.sub("", rest)
                return None, got[0], got[1], _SEP_RE.sub("", rest, 1), False
    head = _LEAD_RE.sub("", s[:80], count=1)
    cut = len(s[:80]) - len(head)
    iso = find_iso_datetime(head[:40])
    if iso is not None and iso[1] <= 2:
        rest = s[cut + iso[2] :]
        # Without a zone the time is local: the document's declared zone applies.
        zoned = _ISO_ZONE_RE.search(head[iso[1] : iso[2]]) or _ZONE_PREFIX_RE.match(rest)
        rest = _ZONE_PREFIX_RE.sub("", rest)
        offset = 0 if zoned else None
        return iso[0].date(), iso[0].time().replace(tzinfo=None), offset, _SEP_RE.sub("", rest, 1), True
    date: dt.date | None = None
    pos = 0
    m = DATE_RE.match(head)
    if m is not None:
        date = match_date(m)
        pos = m.end()
        nxt = _DATE_TIME_GLUE_RE.match(head, pos)
        pos = nxt.end() if nxt else pos
    t = find_time(head[pos : pos + 30])
    if t is None or t[2] > 2:
        # prose: "On January 31st at 17:20 UTC, ..." — a time within the first few words
        t2 = find_time(head[:60])
        if t2 is None or len(head[: t2[2]].split()) > 6:
            return None
        d2 = find_date(head[: t2[2]])
        if d2 is not None:
            date = d2
        rest = head[t2[3] :]
        return date, t2[0], t2[1], _SEP_RE.sub("", rest, 1), date is not None
    rest = head[pos + t[3] :]
    rest = _RANGE_END_RE.sub("", rest)  # "14:02–14:10"
    return date, t[0], t[1], _SEP_RE.sub("", rest, 1), date is not None


def leading_stamp(content: str) -> tuple[dt.date | None, dt.time, int | None, str, bool] | None:
    """Public form of the line-start timestamp reader (for finding unnamed timelines)."""
    return _leading_stamp(content)


def _date_only(content: str) -> dt.date | None:
    s = clean_inline(content)
    if len(s) > 90 or find_time(s) is not None or _leading_stamp(s) is not None:
        return None
    return find_date(s)


def _table_rows(state: _State, rows: list[Line]) -> None:
    header: list[str] | None = None
    if len(rows) >= 2 and rows[1].kind == "sep":
        header = [clean_inline(c).lower() for c in rows[0].cells()]
        body = [r for r in rows[2:] if r.kind == "table"]
    else:
        body = [r for r in rows if r.kind == "table"]
    time_col = 0
    date_col: int | None = None
    if header:
        for i, h in enumerate(header):
            if _DATE_COL_RE.match(h):
                date_col = i
            elif _TIME_COL_RE.search(h):
                time_col = i
                break
        if date_col is not None and time_col == 0 and date_col == 0:
            time_col = 0
        tz = tz_declaration(" ".join(header)) or (0 if "utc" in " ".join(header) else None)
        if tz is not None:
            state.offset = tz
    for row in body:
        cells = row.cells()
        if not any(cells):
            continue
        if time_col >= len(cells):
            continue
        stamp_text = cells[time_col]
        if date_col is not None and date_col < len(cells) and date_col != time_col:
            stamp_text = f"{cells[date_col]} {stamp_text}"
        others = [c for i, c in enumerate(cells) if i not in (time_col, date_col) and c.strip()]
        text = " — ".join(others)
        stamp = _leading_stamp(clean_inline(stamp_text))
        if stamp is None:
            d = _date_only(stamp_text)
            if d is not None and not text:
                state.date = d
                continue
            state.add(None, None, text or stamp_text, row.no)
            continue
        date, clock, off, rest, explicit = stamp
        if date is not None:
            state.date = date
        body_text = text if text else rest
        state.add(clock, off, body_text, row.no, date, explicit)


def _lines(state: _State, lines: Iterable[Line]) -> None:
    block: list[Line] = []
    top_indent: int | None = None
    prev_entry_line = False
    # After a timestamped sub-heading ("### 14:05"), the paragraphs and untimed bullets under
    # it describe that one event.
    heading_entry = False
    # A date-only sub-heading is an event of its own when prose, not timed lines, follows it.
    pending_date: tuple[Line, dt.date] | None = None

    def flush_table() -> None:
        if block:
            _table_rows(state, block)
            block.clear()

    for ln in lines:
        if ln.kind in ("table", "sep"):
            pending_date = None
            block.append(ln)
            continue
        flush_table()
        if ln.kind in ("blank", "rule"):
            prev_entry_line = False if ln.kind == "rule" else prev_entry_line
            continue
        content = ln.content
        tz = tz_declaration(content)
        if tz is not None:
            state.offset = tz
        if ln.kind == "heading" or ln.kind in ("text", "list", "quote"):
            d = _date_only(content)
            if d is not None and (ln.kind == "heading" or len(clean_inline(content)) <= 60):
                state.date = d
                prev_entry_line = False
                heading_entry = False
                pending_date = (ln, d) if ln.kind == "heading" else None
                continue
        if ln.kind == "heading":
            pending_date = None
            stamp = _leading_stamp(clean_inline(content))
            if stamp is not None:
                date, clock, off, rest, explicit = stamp
                if date is not None:
                    state.date = date
                state.add(clock, off, rest, ln.no, date, explicit)
                prev_entry_line = heading_entry = True
                continue
            prev_entry_line = heading_entry = False
            continue
        stamp = _leading_stamp(clean_inline(content) if ln.kind != "code" else content)
        if pending_date is not None:
            head, day = pending_date
            pending_date = None
            if stamp is None and tz is None and ln.kind in ("text", "list", "quote"):
                state.add(None, None, clean_inline(head.content), head.no, day)
                prev_entry_line = heading_entry = True
        if stamp is not None:
            date, clock, off, rest, explicit = stamp
            if date is not None:
                state.date = date
            state.add(clock, off, rest, ln.no, date, explicit)
            prev_entry_line = True
            heading_entry = False
            if ln.kind == "list" and (top_indent is None or ln.indent < top_indent):
                top_indent = ln.indent
            continue
        if ln.kind == "list":
            if heading_entry and state.entries:
                state.extend_last(content)
                continue
            if top_indent is None:
                top_indent = ln.indent
            if ln.indent > top_indent and prev_entry_line:
                state.extend_last(content)
                continue
            state.add(None, None, content, ln.no)
            prev_entry_line = True
            continue
        if ln.kind in ("text", "quote") and prev_entry_line and state.entries:
            state.extend_last(content)
    flush_table()


def _front_matter(state: _State, value: Any, line: int) -> None:
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, dict):
            when = next(
                (str(item[k]) for k in ("at", "time", "when", "timestamp", "date") if k in item), ""
            )
            what = next(
                (
                    str(item[k])
                    for k in ("event", "text", "what", "description", "summary")
                    if k in item
                ),
                "",
            )
            stamp = _leading_stamp(when)
            if stamp:
                state.add(stamp[1], stamp[2], what, line, stamp[0], stamp[4])
            else:
                state.add(None, None, what or when, line)
        elif isinstance(item, dt.datetime):
            state.add(item.time(), 0, "", line, item.date(), True)
        elif item is not None:
            text = str(item)
            stamp = _leading_stamp(text)
            if stamp:
                state.add(stamp[1], stamp[2], stamp[3], line, stamp[0], stamp[4])
            else:
                for sub in text.splitlines():
                    stamp = _leading_stamp(sub)
                    if stamp:
                        state.add(stamp[1], stamp[2], stamp[3], line, stamp[0], stamp[4])


def extract_timeline(
    spans: list[Span], default_date: dt.date | None, default_offset: int = 0
) -> tuple[TimelineEntry, ...]:
    state = _State(default_date, default_offset)
    for span in spans:
        if span.kind == "frontmatter":
            _front_matter(state, span.value, span.line)
            continue
        tz = tz_declaration(span.heading)
        if tz is not None:
            state.offset = tz
        d = find_date(span.heading)
        if d is not None:
            state.date = d
        lines = list(span.lines)
        if span.inline:
            lines.insert(0, Line(span.line, span.inline, "text", content=span.inline))
        _lines(state, lines)
    return tuple(state.entries)


__all__ = ["SEP_RE", "extract_timeline", "split_row"]
