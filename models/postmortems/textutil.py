"""Dates, times and inline-Markdown clean-up shared by every extractor (regexes compiled once)."""

from __future__ import annotations

import datetime as dt
import re

MONTHS: dict[str, int] = {}
for _i, _name in enumerate(
    (
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ),
    start=1,
):
    MONTHS[_name] = _i
    MONTHS[_name[:3]] = _i
MONTHS["sept"] = 9

_MON = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"

DATE_RE = re.compile(
    r"(?<![\d/.-])(?P<y>(?:19|20)\d{2})[-/.](?P<m>0?[1-9]|1[0-2])[-/.](?P<d>0?[1-9]|[12]\d|3[01])(?![\d])"
    r"|"
    + _WEEKDAY
    + r"\b(?P<mon1>"
    + _MON
    + r")\.?\s+(?P<d1>[0-3]?\d)(?:st|nd|rd|th)?,?\s+(?P<y1>(?:19|20)\d{2})\b"
    r"|"
    + _WEEKDAY
    + r"\b(?P<d2>[0-3]?\d)(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon2>"
    + _MON
    + r")\.?,?\s+(?P<y2>(?:19|20)\d{2})\b",
    re.IGNORECASE,
)

# Time zone abbreviations people write next to clock times, as UTC offsets in minutes.
TZ_OFFSETS: dict[str, int] = {
    "utc": 0,
    "gmt": 0,
    "z": 0,
    "wet": 0,
    "bst": 60,
    "cet": 60,
    "cest": 120,
    "eet": 120,
    "eest": 180,
    "ist": 330,
    "jst": 540,
    "kst": 540,
    "aest": 600,
    "aedt": 660,
    "sgt": 480,
    "hkt": 480,
    "est": -300,
    "edt": -240,
    "cst": -360,
    "cdt": -300,
    "mst": -420,
    "mdt": -360,
    "pst": -480,
    "pdt": -420,
    "et": -300,
    "pt": -480,
}
_TZ = (
    r"(?:\s*\(?\s*(?P<tz>z|utc|gmt|wet|bst|cest|cet|eest|eet|ist|jst|kst|aest|aedt|sgt|hkt|"
    r"est|edt|cst|cdt|mst|mdt|pst|pdt)\b\)?|\s*(?:utc|gmt)?\s*(?P<off>[+-]\d{2}:?\d{2})\b)?"
)
TIME_RE = re.compile(
    r"(?<![\d:.])(?P<h>[01]?\d|2[0-3]):(?P<mi>[0-5]\d)(?::(?P<s>[0-5]\d)(?:\.\d+)?)?"
    r"(?:\s*(?P<ampm>[ap]\.?m\.?)(?![a-z]))?" + _TZ + r"(?![\d:])"
    r"|(?<![\d:.])(?P<h2>1[0-2]|0?[1-9])\s*(?P<ampm2>[ap]\.?m\.?)(?![a-z])"
    + _TZ.replace("tz>", "tz2>").replace("off>", "off2>"),
    re.IGNORECASE,
)
ISO_DT_RE = re.compile(
    r"(?P<y>(?:19|20)\d{2})-(?P<m>\d{2})-(?P<d>\d{2})[T ](?P<h>\d{2}):(?P<mi>\d{2})"
    r"(?::(?P<s>\d{2})(?:\.\d+)?)?\s*(?P<tz>Z|UTC|GMT|[+-]\d{2}:?\d{2})?"
)
TZ_DECL_RE = re.compile(
    r"\ball\s+times?\s+(?:are\s+|in\s+|are\s+in\s+|shown\s+in\s+)?(?:in\s+)?\(?(?P<tz>utc|gmt|"
    r"[a-z]{2,4}t)\b|\btimes?\s*\((?P<tz2>utc|gmt|[a-z]{2,4}t)\)|\((?P<tz3>utc|gmt|[a-z]{2,4}t)\)",
    re.IGNORECASE,
)

_LINK_RE = re.compile(r"!?\[([^\]\[\n]{0,400})\]\(([^)\s]{0,2000})(?:\s+\"[^\"\n]{0,200}\")?\)")
_AUTOLINK_RE = re.compile(r"<(https?://[^>\s]+)>")
_EMPH_RE = re.compile(r"(\*\*|__)(?=\S)([^\n]{1,400}?)(?<=\S)\1")
_EM_RE = re.compile(
    r"(?<![\w*])\*(?=\S)([^*\n]{1,400}?)(?<=\S)\*(?![\w*])"
    r"|(?<![\w_])_(?=\S)([^_\n]{1,400}?)(?<=\S)_(?![\w_])"
)
_STRIKE_RE = re.compile(r"~~([^\n]{1,400}?)~~")
_CODE_RE = re.compile(r"`+([^`]*)`+")
_TAG_RE = re.compile(r"</?[a-zA-Z][^>]{0,200}>")
_WS_RE = re.compile(r"\s+")


def clean_inline(text: str) -> str:
    """Markdown inline markup removed, so values compare and print like the rendered text."""
    if not text:
        return ""
    if "[" in text:
        text = _LINK_RE.sub(lambda m: m.group(1) or m.group(2), text)
    if "<" in text:
        text = _AUTOLINK_RE.sub(r"\1", text)
        text = _TAG_RE.sub(" ", text)
    if "`" in text:
        text = _CODE_RE.sub(r"\1", text)
    if "*" in text or "_" in text:
        text = _EMPH_RE.sub(r"\2", text)
        text = _EM_RE.sub(lambda m: m.group(1) or m.group(2), text)
    if "~~" in text:
        text = _STRIKE_RE.sub(r"\1", text)
    text = text.replace("\\", "") if "\\" in text else text
    return _WS_RE.sub(" ", text).strip()


def _mk_date(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def match_date(m: re.Match[str]) -> dt.date | None:
    if m.group("y"):
        return _mk_date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
    if m.group("mon1"):
        mon = MONTHS.get(m.group("mon1").lower().rstrip("."))
        return _mk_date(int(m.group("y1")), mon or 0, int(m.group("d1")))
    mon = MONTHS.get(m.group("mon2").lower().rstrip("."))
    return _mk_date(int(m.group("y2")), mon or 0, int(m.group("d2")))


def find_date(text: str) -> dt.date | None:
    """First calendar date written in any common style (ISO, "March 4, 2025", "4 Mar 2025")."""
    for m in DATE_RE.finditer(text):
        d = match_date(m)
        if d is not None:
            return d
    return None


def _tz_minutes(tz: str | None, off: str | None) -> int | None:
    if off:
        sign = -1 if off[0] == "-" else 1
        digits = off[1:].replace(":", "")
        return sign * (int(digits[:2]) * 60 + int(digits[2:4]))
    if tz:
        return TZ_OFFSETS.get(tz.lower())
    return None


def match_time(m: re.Match[str]) -> tuple[dt.time, int | None] | None:
    """(clock time, UTC offset in minutes if written) for a TIME_RE match."""
    if m.group("h") is not None:
        h, mi = int(m.group("h")), int(m.group("mi"))
        s = int(m.group("s") or 0)
        ampm = m.group("ampm")
        tz, off = m.group("tz"), m.group("off")
    else:
        h, mi, s = int(m.group("h2")), 0, 0
        ampm = m.group("ampm2")
        tz, off = m.group("tz2"), m.group("off2")
    if ampm:
        if h > 12:
            return None
        pm = ampm[0].lower() == "p"
        if h == 12:
            h = 12 if pm else 0
        elif pm:
            h += 12
    return dt.time(h, mi, s), _tz_minutes(tz, off)


def find_time(text: str) -> tuple[dt.time, int | None, int, int] | None:
    """First clock time: (time, offset minutes or None, match start, match end)."""
    for m in TIME_RE.finditer(text):
        got = match_time(m)
        if got is not None:
            return got[0], got[1], m.start(), m.end()
    return None


def find_iso_datetime(text: str) -> tuple[dt.datetime, int, int] | None:
    """First ISO-8601 date-time, converted to UTC (no zone written → UTC)."""
    m = ISO_DT_RE.search(text)
    if not m:
        return None
    try:
        base = dt.datetime(
            int(m.group("y")),
            int(m.group("m")),
            int(m.group("d")),
            int(m.group("h")),
            int(m.group("mi")),
            int(m.group("s") or 0),
        )
    except ValueError:
        return None
    tz = m.group("tz")
    offset = 0
    if tz and tz.upper() not in ("Z", "UTC", "GMT"):
        offset = _tz_minutes(None, tz) or 0
    return (base - dt.timedelta(minutes=offset)).replace(tzinfo=dt.UTC), m.start(), m.end()


def find_datetime(text: str, default_offset: int = 0) -> dt.datetime | None:
    """A date and a time written anywhere in ``text`` ("2025-03-04 15:00 UTC", ISO, prose)."""
    iso = find_iso_datetime(text)
    if iso is not None:
        return iso[0]
    d = find_date(text)
    if d is None:
        return None
    t = find_time(DATE_RE.sub(" ", text))
    if t is None:
        return None
    offset = t[1] if t[1] is not None else default_offset
    base = dt.datetime.combine(d, t[0])
    return (base - dt.timedelta(minutes=offset)).replace(tzinfo=dt.UTC)


def tz_declaration(text: str) -> int | None:
    """UTC offset (minutes) declared by lines such as "2015-10-21 (all times UTC)"."""
    if "time" not in text and "(" not in text and "TIME" not in text and "Time" not in text:
        return None
    m = TZ_DECL_RE.search(text)
    if not m:
        return None
    tz = (m.group("tz") or m.group("tz2") or m.group("tz3") or "").lower()
    return TZ_OFFSETS.get(tz)


# Number words that postmortems use for durations, windows and counts.
NUMBER_WORDS: dict[str, float] = {
    "half a": 0.5,
    "half an": 0.5,
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twelve": 12,
    "fourteen": 14,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "forty-five": 45,
    "sixty": 60,
    "ninety": 90,
}
