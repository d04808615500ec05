"""Text helpers for the draft: warehouse strings are untrusted, so everything copied into the
Markdown goes through here to stay on one line, inert and free of blame language."""

from __future__ import annotations

import datetime as dt
import re

from ..blame import find_blame

TBD = "_TBD_"
MAX_TEXT = 240
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_WS_RE = re.compile(r"\s+")


def utc(t: dt.datetime) -> dt.datetime:
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def hm(t: dt.datetime) -> str:
    return utc(t).strftime("%H:%M")


def hms(t: dt.datetime) -> str:
    return utc(t).strftime("%H:%M:%S")


_SLACK_LINK_RE = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def slack_plain(text: str | None) -> str:
    """Slack markup as plain words: `<url|label>` is its label, `<@U1>` is @U1, `<#C1|inc>` #inc."""

    def one(m: re.Match[str]) -> str:
        target, label = m.group(1), m.group(2)
        if target.startswith("#") and label:
            return f"#{label}"
        if label:
            return label
        if target.startswith("!"):
            return "@" + target[1:].split("^", 1)[0]
        return target

    return _SLACK_LINK_RE.sub(one, text or "")


def stamp(t: dt.datetime) -> str:
    return utc(t).strftime("%Y-%m-%d %H:%M UTC")


def plain(text: str | None, limit: int = MAX_TEXT) -> str:
    """One line of untrusted text: no control characters, no line breaks, bounded length."""
    s = _WS_RE.sub(" ", _CONTROL_RE.sub(" ", text or "")).strip()
    if len(s) > limit:
        s = s[: limit - 1].rstrip() + "…"
    return s


def md(text: str | None, limit: int = MAX_TEXT) -> str:
    """Untrusted text made inert for Markdown: no headings, emphasis, links or table breaks."""
    s = plain(text, limit)
    s = re.sub(r"([\\`*_\[\]<|])", r"\\\1", s)
    return s


def code(text: str | None, limit: int = 120) -> str:
    s = plain(text, limit).replace("`", "'")
    return f"`{s}`" if s else ""


def cell(text: str) -> str:
    """Table cell text: a pipe that is not escaped yet (inside code spans too) would split the row."""
    return re.sub(r"(?<!\\)\|", r"\\|", text)


def link(label: str, url: str | None) -> str:
    if not url:
        return label
    safe = plain(url, 500).replace(" ", "%20").replace("(", "%28").replace(")", "%29")
    return f"[{label}]({safe})"


def times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def sha7(sha: str | None) -> str:
    return (sha or "")[:7] or "unknown commit"


def blameless(text: str) -> bool:
    """True when the linter would not read the text as blame (checked on data we copy in)."""
    return not find_blame([(1, text)], ())


def safe_text(text: str | None, fallback: str, limit: int = MAX_TEXT) -> str:
    s = md(text, limit)
    return s if s and blameless(s) else fallback


def minutes(a: dt.datetime, b: dt.datetime) -> float:
    return (utc(b) - utc(a)).total_seconds() / 60.0


def relative(t: dt.datetime, ref: dt.datetime) -> str:
    """'12 minutes before the incident was created' / '3 hours after ...'."""
    m = minutes(t, ref)
    word = "before" if m >= 0 else "after"
    m = abs(m)
    if m < 1:
        return "within a minute of the incident being created"
    if m < 120:
        amount = f"{round(m)} minute{'s' if round(m) != 1 else ''}"
    else:
        h = m / 60.0
        amount = f"{h:.1f} hours" if h < 48 else f"{h / 24:.1f} days"
    return f"{amount} {word} the incident was created"
