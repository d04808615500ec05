"""Impact: duration (stated, from metadata start/end, or from timeline markers), users, "
"severity, cost."""

from __future__ import annotations

import datetime as dt
import re

from .model import Impact, TimelineEntry
from .textutil import NUMBER_WORDS, clean_inline, find_time

_NUM = (
    r"(?<![\w.])(?:\d+(?:\.\d+)?|(?:an?|one|two|three|four|five|six|seven|eight|nine|ten|"
    r"twelve|fifteen|twenty|thirty|forty|forty-five|ninety|half an?)\b)"
)
_WORDS = NUMBER_WORDS
DURATION_RE = re.compile(
    r"(?P<h>"
    + _NUM
    + r")\s*(?:(?-i:h)|hrs?|hours?)\b(?:,?\s*(?:and\s+)?(?P<hm>\d+)\s*(?:(?-i:m)|mins?|minutes?)\b)?"
    r"|(?P<m>"
    + _NUM
    + r")[\s-]*(?:(?-i:m)|mins?|minutes?)\b(?:\s*(?:and\s+)?(?P<ms>\d+)\s*(?:(?-i:s)|secs?|seconds?)\b)?"
    r"|(?P<d>" + _NUM + r")\s*(?:(?-i:d)|days?)\b"
    r"|(?P<w>" + _NUM + r")\s*weeks?\b"
    r"|(?P<s>\d+)\s*(?:(?-i:s)|secs?|seconds?)\b"
    r"|\b(?P<hh>\d{1,2}):(?P<mm>\d{2})\s*(?:hours|hrs|h)\b",
    re.I,
)
_DUR_CONTEXT_RE = re.compile(
    r"(?:\bfor\b|\blast(?:ed|ing)\b|\bduration\b|\bdown(?:time)?\b|\boutage\b|\btotal\b|\bperiod\b|"
    r"\bapprox(?:imately|\.)?\b|\babout\b|\baround\b|~|\broughly\b|\bspann?(?:ed|ing)?\b|\bof\b|"
    r"\bunavailable\b|\bdegraded\b|\bimpact(?:ed)?\b|\btime in sev|\bin\b|\btook\b|\bpersist\w*\b|"
    r"\bcaused\b|\brecover\w*\b|:|\|)\s*[\w\s-]{0,25}$",
    re.I,
)
_NOT_DUR_AFTER_RE = re.compile(
    r"^\s*(?:of (?:data|writes|logs|events)|ago|later|before|after|"
    r"window|timeout|delay|late|behind|interval|ttl|cache)",
    re.I,
)
_RANGE_RE = re.compile(
    r"\b(?:between|from)\s+(?P<a>\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?)\s*(?:utc|z|[a-z]{2,4}t)?\s*"
    r"(?:and|to|until|till|-|–|—)\s*(?P<b>\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?)",
    re.I,
)
_HHMM_RANGE_RE = re.compile(
    r"(?<![\w:/.-])(?P<a>[01]\d|2[0-3])(?P<a2>[0-5]\d)\s*(?:utc|z|[a-z]{2,4}t)?\s*(?:-|–|—|to|until)\s*"
    r"(?P<b>[01]\d|2[0-3])(?P<b2>[0-5]\d)(?![\w:/.-])",
    re.I,
)
# Durations a sentence states outright anywhere in the document ("It took 1 hour and 31
# minutes from the start of the incident", "47 minutes to recovery").
_STRONG_BEFORE_RE = re.compile(
    r"(?:\btook|\blasted|\bpersisted(?: for)?|\bdown for|\bunavailable for|\bdegraded for|"
    r"\boutage of|\bdowntime of|\btime to (?:recover(?:y)?|restore|repair|resol(?:ve|ution)|mitigat"
    r"(?:e|ion))\s*[:=]?)\s+(?:about |approximately |roughly |around |~|over |nearly |almost )?$",
    re.I,
)
_STRONG_AFTER_RE = re.compile(
    r"^\s+(?:to|until|before)\s+(?:full\s+|complete\s+)?(?:recovery|recover|resolution|restor\w+"
    r"|mitigation|repair)\b|^\s+of\s+(?:total\s+|complete\s+|partial\s+)?(?:downtime|outage|"
    r"disruption|degradation|unavailability)\b",
    re.I,
)
_MINUTE_ADJ_RE = re.compile(
    r"\b(?P<n>\d+(?:\.\d+)?)[- ](?P<u>minute|hour|day)[- ]"
    r"(?:long\s+)?(?:outage|incident|degradation|disruption|downtime|window)",
    re.I,
)
_SEV_ROW_RE = re.compile(r"time in sev[- ]?\d[^|\n]*\|\s*(?P<v>[^|\n]+)", re.I)
_USERS_RE = re.compile(
    r"(?P<n>\d[\d,.]*)\s*(?P<k>k|m|thousand|million|bn|billion)?\+?\s+"
    r"(?:(?:unique|active|paying|enterprise|free|end|individual|distinct)\s+)?"
    r"(?P<what>users|customers|accounts|merchants|people|developers|tenants|organi[sz]ations|orgs|"
    r"subscribers|members|shoppers|sellers|clients)\b",
    re.I,
)
_USERS_ROW_RE = re.compile(
    r"(?:users|customers|accounts|merchants)\s+(?:affected|impacted)\s*(?:\||:)\s*~?\s*"
    r"(?P<n>\d[\d,.]*)\s*(?P<k>k|m|thousand|million)?"
    r"|(?:affected|impacted)\s+(?:users|customers|accounts|merchants)\s*(?:\||:)\s*~?\s*"
    r"(?P<n2>\d[\d,.]*)\s*(?P<k2>k|m|thousand|million)?",
    re.I,
)
SEV_RE = re.compile(
    r"\bsev(?:erity)?[\s-]*(?P<n>[0-5])\b|\b(?P<p>P[0-4])\b(?=[^\n]{0,40}\b(?:incident|outage|severity|sev)\b)|"
    r"\b(?:severity|sev)\s*(?:level\s*)?[:|]?\s*(?P<w>critical|major|minor|high|medium|low)\b",
    re.I,
)
_ENG_HOURS_RE = re.compile(
    r"(?P<n>\d+(?:\.\d+)?)\s*(?:engineering|engineer|person|people|developer|on-?call|staff|team)"
    r"[- ](?:hours|hrs|days)\b",
    re.I,
)
_MONEY_RE = re.compile(
    r"(?P<amt>[$€£]\s?\d[\d,]*(?:\.\d+)?\s*(?:k|m|million|thousand|bn)?)[^.\n]{0,40}?"
    r"\b(?:revenue|lost|loss|credits?|refunds?|cost|sla)\b"
    r"|\b(?:revenue|lost|loss|credits?|refunds?|cost)\b[^.\n]{0,40}?(?P<amt2>[$€£]\s?\d[\d,]*(?:\.\d+)?\s*(?:k|m|million|thousand|bn)?)",
    re.I,
)
_BEGIN_RE = re.compile(
    r"\b(?:outage|impact|incident|downtime|degradation|disruption|problem|issue|errors?)\s+"
    r"(?:begins|began|starts|started|start|beginning)\b|\b(?:begin|start)\s+of\s+(?:outage|impact|incident)\b|"
    r"^\s*(?:start|begin|impact start|outage start)\b",
    re.I,
)
_END_RE = re.compile(
    r"\b(?:outage|impact|incident|downtime|degradation|disruption)\s+(?:ends|ended|end|over|"
    r"resolved|mitigated)\b|\bend\s+of\s+(?:outage|impact|incident)\b|^\s*(?:end|resolve"
    r"d|impact end|"
    r"outage end|all clear)\b",
    re.I,
)
# The span fallback needs an entry that marks the start of the impact itself, not any entry
# where something "starts" (an investigation, a deploy, sending alerts).
_START_WORD_RE = re.compile(
    r"\b(?:start|beginning|onset) of (?:the )?(?:incident|outage|impact|disruption|degradation)\b|"
    r"\b(?:incident|outage|impact|disruption|degradation|downtime) (?:start(?:s|ed)?|began|begins?)\b|"
    r"\bfirst (?:alert|error|page|report)s?\b",
    re.I,
)
_RESOLVED_WORD_RE = re.compile(
    r"\b(?:resolved|recovered|restored|mitigated|all clear|"
    r"(?:incident|outage|impact) (?:ends?|ended|over|closed)|"
    r"back to normal|fully operational|service restored)\b",
    re.I,
)


def _num(s: str | None) -> float:
    if not s:
        return 0.0
    s = s.lower().strip()
    if s in _WORDS:
        return float(_WORDS[s])
    try:
        return float(s)
    except ValueError:
        return 0.0


def duration_of(m: re.Match[str]) -> float:
    if m.group("h") is not None:
        return _num(m.group("h")) * 60 + _num(m.group("hm"))
    if m.group("m") is not None:
        return _num(m.group("m")) + _num(m.group("ms")) / 60
    if m.group("d") is not None:
        return _num(m.group("d")) * 1440
    if m.group("w") is not None:
        return _num(m.group("w")) * 10080
    if m.group("s") is not None:
        return _num(m.group("s")) / 60
    return int(m.group("hh")) * 60 + int(m.group("mm"))


def stated_duration(text: str, strict: bool = True) -> float | None:
    """A duration written in prose ("47 minutes", "1h 12m", "about 2 hours", "14:02 to 14:49")."""
    if not text:
        return None
    rows = [_first_duration(m.group("v")) for m in _SEV_ROW_RE.finditer(text)]
    rows_ok = [r for r in rows if r]
    if rows_ok:
        return float(sum(rows_ok))
    adj = _MINUTE_ADJ_RE.search(text)
    if adj:
        factor = {"minute": 1, "hour": 60, "day": 1440}[adj.group("u").lower()]
        return float(adj.group("n")) * factor
    for m in DURATION_RE.finditer(text):
        value = duration_of(m)
        if value <= 0:
            continue
        if _NOT_DUR_AFTER_RE.match(text[m.end() : m.end() + 20]):
            continue
        before = text[max(0, m.start() - 60) : m.start()]
        if "within" in before[-12:].lower() or "every" in before[-10:].lower():
            continue
        line_start = not before.strip() or before.rstrip(" *_").endswith("\n")
        if not strict or line_start or _DUR_CONTEXT_RE.search(before):
            return round(value, 2)
    hm = _HHMM_RANGE_RE.search(text)
    if hm and not (hm.group("a") in ("19", "20") and hm.group("b") in ("19", "20")):
        da = int(hm.group("a")) * 60 + int(hm.group("a2"))
        db = int(hm.group("b")) * 60 + int(hm.group("b2"))
        return float((db - da) % 1440)
    rm = _RANGE_RE.search(text)
    if rm:
        a = find_time(rm.group("a"))
        b = find_time(rm.group("b"))
        if a and b:
            da = a[0].hour * 60 + a[0].minute
            db = b[0].hour * 60 + b[0].minute
            return float((db - da) % 1440)
    return None


def strong_duration(text: str) -> float | None:
    """A duration stated outright anywhere ("the outage lasted 2 hours", "47 minutes to
    recovery"); weaker wordings are trusted only in the impact and summary sections."""
    for m in DURATION_RE.finditer(text):
        value = duration_of(m)
        if value <= 0:
            continue
        before = text[max(0, m.start() - 40) : m.start()]
        if _STRONG_BEFORE_RE.search(before) or _STRONG_AFTER_RE.match(text[m.end() : m.end() + 40]):
            return round(value, 2)
    return None


def _first_duration(text: str) -> float | None:
    m = DURATION_RE.search(text)
    return duration_of(m) if m else None


def _delta(a: TimelineEntry, b: TimelineEntry) -> float | None:
    if a.at is not None and b.at is not None:
        minutes = (b.at - a.at).total_seconds() / 60
        return minutes if minutes >= 0 else None
    if a.clock is not None and b.clock is not None:
        da = a.clock.hour * 60 + a.clock.minute + a.clock.second / 60
        db = b.clock.hour * 60 + b.clock.minute + b.clock.second / 60
        return (db - da) % 1440
    return None


def timeline_duration(entries: tuple[TimelineEntry, ...]) -> tuple[float | None, str | None]:
    """From explicit begin/end markers, else from a first entry labelled start to a last"
    " labelled resolved."""
    timed = [e for e in entries if e.at is not None or e.clock is not None]
    begin = next((e for e in timed if _BEGIN_RE.search(e.text)), None)
    if begin is not None:
        # Pair "OUTAGE BEGINS" with "OUTAGE ENDS" rather than a later "INCIDENT ENDS".
        bm = _BEGIN_RE.search(begin.text)
        noun = bm.group(0).split()[0].lower() if bm else ""
        ends = [e for e in timed if _END_RE.search(e.text) and e.line >= begin.line]
        same = [e for e in ends if noun and noun in _END_RE.search(e.text).group(0).lower()]
        strong = [
            e
            for e in (same or ends)
            if re.search(r"\b(?:ends?|ended|over|resolved)\b", e.text, re.I)
        ]
        end = (strong or same or ends or [None])[0]
        if end is not None and end is not begin:
            d = _delta(begin, end)
            if d is not None:
                return round(d, 2), "timeline-markers"
    if len(timed) >= 2:
        first = timed[0]
        last = next((e for e in reversed(timed) if _RESOLVED_WORD_RE.search(e.text)), None)
        start = next((e for e in timed if _START_WORD_RE.search(e.text)), None)
        if last is not None and start is not None and start.line < last.line:
            d = _delta(start, last)
            if d is not None:
                return round(d, 2), "timeline-span"
        if last is not None and last is not first and _START_WORD_RE.search(first.text):
            d = _delta(first, last)
            if d is not None:
                return round(d, 2), "timeline-span"
    return None, None


def _users(text: str) -> int | None:
    m = _USERS_ROW_RE.search(text)
    n = k = None
    if m:
        n, k = m.group("n") or m.group("n2"), m.group("k") or m.group("k2")
    else:
        m = _USERS_RE.search(text)
        if m and not text[m.end() : m.end() + 3].startswith("%"):
            before = text[max(0, m.start() - 3) : m.start()]
            if "%" not in before:
                n, k = m.group("n"), m.group("k")
    if not n:
        return None
    try:
        value = float(n.replace(",", "")) if n.count(".") <= 1 else float(n.replace(".", ""))
    except ValueError:
        return None
    mult = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9}
    value *= mult.get((k or "").lower(), 1)
    return int(value)


def severity_of(text: str) -> str | None:
    m = SEV_RE.search(text)
    if not m:
        return None
    if m.group("n"):
        return f"SEV{m.group('n')}"
    if m.group("p"):
        return m.group("p").upper()
    return m.group("w").capitalize()


def build_impact(
    impact_text: str,
    meta: dict[str, str],
    timeline: tuple[TimelineEntry, ...],
    summary_text: str,
    severity_text: str,
    start_end: tuple[dt.datetime | None, dt.datetime | None],
    document_text: str = "",
) -> Impact:
    text = "\n".join(clean_inline(t) for t in impact_text.strip().split("\n"))
    summary_text = clean_inline(summary_text)
    duration: float | None = None
    source: str | None = None
    if meta.get("duration"):
        duration = stated_duration(meta["duration"], strict=False)
        source = "metadata" if duration is not None else None
    if duration is None and text:
        duration = stated_duration(text)
        source = "stated" if duration is not None else None
    if duration is None and start_end[0] is not None and start_end[1] is not None:
        minutes = (start_end[1] - start_end[0]).total_seconds() / 60
        if minutes >= 0:
            duration, source = round(minutes, 2), "metadata"
    derived, derived_source = timeline_duration(timeline)
    if duration is None and derived_source == "timeline-markers":
        duration, source = derived, derived_source
    if duration is None and summary_text:
        duration = stated_duration(summary_text)
        source = "stated" if duration is not None else None
    if duration is None and document_text:
        duration = strong_duration(document_text)
        source = "stated" if duration is not None else None
    if duration is None and derived is not None:
        duration, source = derived, derived_source
    users = _users(meta.get("users", "")) if meta.get("users") else None
    if users is None and text:
        users = _users(text)
    if users is None and summary_text:
        users = _users(summary_text)
    severity = None
    if meta.get("severity"):
        sv = meta["severity"].strip()
        severity = (
            severity_of(sv)
            or severity_of(f"sev {sv}")
            or (clean_inline(sv).split()[0].upper() if clean_inline(sv) else None)
        )
        if severity and re.fullmatch(r"[0-5]", severity):
            severity = f"SEV{severity}"
    if severity is None:
        severity = severity_of(text) or severity_of(severity_text)
    costs: list[str] = []
    if duration is not None and users:
        costs.append(f"{duration * users:,.0f} user-minutes")
    blob = f"{text}\n{summary_text}"
    em = _ENG_HOURS_RE.search(blob)
    if em:
        costs.append(f"{em.group(0)}")
    mm = _MONEY_RE.search(blob)
    if mm:
        costs.append((mm.group("amt") or mm.group("amt2")).strip())
    return Impact(
        duration_minutes=duration,
        affected_users=users,
        severity=severity,
        cost="; ".join(costs) or None,
        text=clean_inline(text)[:4000] or None,
        duration_source=source,
    )
