"""Verification criteria turned into (metric, scope, comparator, threshold, window) where possible.

Percentages become fractions (95% → 0.95, unit "fraction"); latencies become milliseconds;
durations minutes. A criterion is checkable when metric, comparator and threshold are all known.
"""

from __future__ import annotations

import re

from .model import Criterion
from .textutil import NUMBER_WORDS, clean_inline

_WORD_NUM = NUMBER_WORDS
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "sprint": 14, "quarter": 90, "year": 365}

_WINDOW_RE = re.compile(
    r"\b(?:for|over|during|across|in|within|throughout|after)\s+(?:at\s+least\s+)?(?:the\s+)?"
    r"(?:next\s+|following\s+|last\s+|past\s+|first\s+|subsequent\s+)?"
    r"(?P<n>\d+(?:\.\d+)?|an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fourteen|"
    r"thirty|sixty|ninety)?\s*(?:consecutive\s+|full\s+|rolling\s+|calendar\s+|business\s+)?"
    r"(?P<u>day|week|month|sprint|quarter|year)s?\b"
    r"|\b(?P<n2>\d+)[- ]?(?P<u2>day|week|month|d|w)s?\b(?:[- ](?:rolling|window|period))?"
    r"(?=\s|$|[.,;)])",
    re.I,
)
_METRICS: tuple[tuple[str, str], ...] = (
    ("flaky_rate", r"flak(?:y|e|iness)(?:[- ]test)?(?:\s+rate)?|flake\s+rate|flaky tests?"),
    ("ci_failure_rate", r"(?:ci|build|pipeline|job|test|deploy)\s+fail(?:ure)?\s+rate"),
    (
        "ci_pass_rate",
        r"(?:ci|build|pipeline|job|test|deploy)?\s*(?:pass(?:ing)?|success|green)"
        r"\s*rate(?!\s+of\s+requests)|green builds?|pass rate",
    ),
    (
        "error_rate",
        r"error[- ]rate|5xx(?:\s+(?:rate|errors?|responses?))?|errors?\s+(?:rate|ratio)|"
        r"failure rate|failed requests?|error budget burn",
    ),
    (
        "latency_p99",
        r"p99(?:\.\d+)?(?:\s+latency)?|99(?:th)?\s*(?:percentile|pct)(?:\s+latency)?|"
        r"latency\s+(?:at\s+)?p99|tail latency",
    ),
    ("latency_p95", r"p95(?:\s+latency)?|95(?:th)?\s*percentile(?:\s+latency)?|latency\s+p95"),
    ("latency_p50", r"p50(?:\s+latency)?|median\s+latency|latency\s+p50"),
    ("latency", r"latency|response time"),
    ("availability", r"availability|uptime|success rate"),
    (
        "incident_count",
        r"(?:repeat\s+|recurr(?:ing|ent)\s+|similar\s+|related\s+)?"
        r"(?:incidents?|recurrences?|outages?|sev[- ]?[0-3]s?|repeats?)",
    ),
    ("page_count", r"pages|pager alerts|alerts|false pages"),
    ("timeout_count", r"timeouts?"),
    ("duplicate_count", r"duplicate\s+\w+"),
    ("mttr_minutes", r"mttr|time to (?:recover|restore|resolve|mitigate)"),
    ("mttd_minutes", r"mttd|time to (?:detect(?:ion)?|page|alert)"),
    (
        "duration_minutes",
        r"(?:build|deploy|job|pipeline|suite|restore|recovery|backup|failover)"
        r"\s+(?:time|duration)",
    ),
    ("coverage", r"(?:test\s+|code\s+)?coverage"),
    ("queue_depth", r"queue depth|backlog size|consumer lag|replication lag"),
)
_METRIC_RE = re.compile("|".join(f"(?P<{name}>\\b(?:{pat}))" for name, pat in _METRICS), re.I)
_RATE_METRICS = frozenset(
    {"flaky_rate", "ci_failure_rate", "ci_pass_rate", "error_rate", "availability", "coverage"}
)
_COUNT_METRICS = frozenset(
    {"incident_count", "page_count", "timeout_count", "duplicate_count", "queue_depth"}
)
_COMP: tuple[tuple[str, str], ...] = (
    (
        ">=",
        r">=|≥|=>|\bat least\b|\bno less than\b|\bnot (?:fall|drop|go) below\b|"
        r"\b(?:stays?|remains?|kept|keep|holds?) (?:at or )?above\b|\bminimum of\b",
    ),
    (
        "<=",
        r"<=|≤|=<|\bat most\b|\bno more than\b|\b(?:does|do|should|must|will)? ?not exceed\b|"
        r"\b(?:stays?|remains?|kept|keep|holds?) (?:at or )?(?:below|under)\b|\bmaximum of\b|"
        r"\bup to\b|\bno higher than\b",
    ),
    (
        ">",
        r"(?<![-=])>(?!=)|\babove\b|\bgreater than\b|\bmore than\b|\bover\b|\bexceeds?\b|"
        r"\bhigher than\b|\bbetter than\b",
    ),
    (
        "<",
        r"(?<!=)<(?![=-])|\bbelow\b|\bless than\b|\bfewer than\b|\blower than\b|\bunder\b|"
        r"\bwithin\b|\bdrops? (?:below|under)\b",
    ),
    ("=", r"==|(?<![<>=!])=(?![=>])|\bequals?\b|\bexactly\b"),
)
_COMP_RE = re.compile("|".join(f"(?P<c{i}>{pat})" for i, (_, pat) in enumerate(_COMP)), re.I)
_NUM_RE = re.compile(
    r"(?P<num>\d+(?:[.,]\d+)?)\s*(?P<unit>%|percent\b|ms\b|milliseconds?\b|s\b|secs?\b|seconds?\b|"
    r"mins?\b|minutes?\b|h\b|hrs?\b|hours?\b)?"
)
_ZERO_RE = re.compile(
    r"\b(?:zero|no|0|none of the|not a single|without any|without)\s+"
    r"(?:(?:new|more|further|repeat|recurring|similar|related|additional|p[0-2]|sev[- ]?"
    r"[0-3])\s+)*",
    re.I,
)
_SCOPE_PREP_RE = re.compile(r"^\s*(?:on|for|of|in|across|from|at)\s+(?:the\s+)?(.+?)\s*$", re.I)
_BACKTICK_RE = re.compile(r"`([^`]{1,80})`")
_TRIM_RE = re.compile(r"^[\s,;:—–-]+|[\s,;:—–.-]+$")
_NOISE_SCOPE = frozenset(
    {
        "the",
        "a",
        "an",
        "our",
        "all",
        "overall",
        "total",
        "average",
        "daily",
        "weekly",
        "is",
        "stays",
        "remains",
        "should",
        "must",
        "be",
        "will",
        "ci",
        "rate",
    }
)


def _window(text: str) -> tuple[float | None, str]:
    m = _WINDOW_RE.search(text)
    if not m:
        return None, text
    n = m.group("n") or m.group("n2") or "1"
    unit = (m.group("u") or m.group("u2") or "day").lower()
    unit = {"d": "day", "w": "week"}.get(unit, unit)
    count = (
        float(_WORD_NUM.get(n.lower(), 0) or n) if not n.replace(".", "").isdigit() else float(n)
    )
    return count * _UNIT_DAYS[unit], text[: m.start()] + " " + text[m.end() :]


def _scope(before: str, metric_span: tuple[int, int] | None, text: str, comp_at: int) -> str | None:
    ticks = _BACKTICK_RE.findall(text)
    if ticks:
        return ticks[0].strip()
    plain = text
    if metric_span is not None:
        between = (
            plain[metric_span[1] : comp_at] if comp_at > metric_span[1] else plain[metric_span[1] :]
        )
        m = _SCOPE_PREP_RE.match(between)
        if m:
            scope = _TRIM_RE.sub("", m.group(1))
            scope = re.split(r"\s+(?:is|are|stays?|remains?|should|must|will|to|at)\b", scope)[0]
            if scope and scope.lower() not in _NOISE_SCOPE:
                return scope
        lead = _TRIM_RE.sub("", plain[: metric_span[0]])
        lead = re.sub(r"^(?:the|our|overall|zero|no|0)\b\s*", "", lead, flags=re.I)
        lead = re.sub(r"\b(?:ci|the)$", "", lead, flags=re.I).strip()
        words = lead.split()
        if 0 < len(words) <= 6 and lead.lower() not in _NOISE_SCOPE:
            return lead
    return None


def parse_criterion(text: str, line: int | None = None, source: str = "section") -> Criterion:
    plain = clean_inline(text)
    window, rest = _window(plain)
    metric = None
    metric_span = None
    mm = _METRIC_RE.search(rest)
    if mm:
        metric = mm.lastgroup
        metric_span = (mm.start(), mm.end())
    comparator = None
    threshold: float | None = None
    unit: str | None = None
    comp_at = len(rest)
    cm = _COMP_RE.search(rest)
    if cm:
        idx = int((cm.lastgroup or "c4")[1:])
        nm = _NUM_RE.search(rest, cm.end())
        if nm and nm.start() - cm.end() <= 12:
            comparator = _COMP[idx][0]
            comp_at = cm.start()
            threshold = float(nm.group("num").replace(",", "."))
            unit_raw = (nm.group("unit") or "").lower()
            if unit_raw in ("%", "percent"):
                threshold, unit = threshold / 100.0, "fraction"
            elif unit_raw in ("ms", "millisecond", "milliseconds"):
                unit = "ms"
            elif unit_raw in ("s", "sec", "secs", "second", "seconds"):
                if metric and metric.startswith("latency"):
                    threshold, unit = threshold * 1000.0, "ms"
                else:
                    threshold, unit = threshold / 60.0, "minutes"
            elif unit_raw in ("min", "mins", "minute", "minutes"):
                unit = "minutes"
            elif unit_raw in ("h", "hr", "hrs", "hour", "hours"):
                threshold, unit = threshold * 60.0, "minutes"
            elif metric in _RATE_METRICS and threshold <= 1:
                unit = "fraction"
            elif metric in _COUNT_METRICS:
                unit = "count"
    if comparator is None:
        zm = _ZERO_RE.search(rest)
        if zm:
            after = _METRIC_RE.search(rest, zm.end(), zm.end() + 40)
            if after is not None and len(rest[zm.end() : after.start()].split()) > 3:
                after = None
            if after is not None or (metric_span and abs(metric_span[0] - zm.end()) <= 2):
                comparator, threshold, unit = "=", 0.0, "count"
                comp_at = zm.start()
                if after is not None:
                    metric = after.lastgroup
                    metric_span = (after.start(), after.end())
                if metric in _RATE_METRICS:
                    unit = "fraction"
    if metric == "latency" and unit == "ms":
        metric = "latency_p99" if re.search(r"\btail\b", rest, re.I) else "latency"
    if metric == "incident_count" and comparator is None and re.search(r"\bno\b", rest, re.I):
        comparator, threshold, unit = "=", 0.0, "count"
    scope = _scope(rest, metric_span, rest, comp_at) if metric else None
    if scope and metric_span and scope.lower() == rest[metric_span[0] : metric_span[1]].lower():
        scope = None
    checkable = metric is not None and comparator is not None and threshold is not None
    return Criterion(
        text=plain,
        checkable=checkable,
        metric=metric if checkable or metric else None,
        scope=scope,
        comparator=comparator,
        threshold=threshold,
        window_days=window,
        unit=unit,
        line=line,
        source=source,
    )
