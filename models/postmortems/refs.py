"""Ticket, incident and CI references written anywhere in a document."""

from __future__ import annotations

import re
from functools import lru_cache

# Upper-case prefixes that look like issue keys but are standards, severities or versions.
_NOT_KEYS = frozenset(
    {
        "SEV",
        "UTF",
        "ISO",
        "SHA",
        "TLS",
        "SSL",
        "HTTP",
        "HTTPS",
        "AES",
        "CVE",
        "RSA",
        "COVID",
        "IPV",
        "GPT",
        "ARM",
        "MD",
        "RFC",
        "INC",
        "PR",
        "CWE",
        "GHSA",
        "TCP",
        "UDP",
        "DDR",
        "LTS",
        "US",
        "EU",
        "AP",
        "SA",
        "X",
        "Q",
        "H",
        "SP",
        "WIN",
        "OS",
        "R",
        "T",
        "V",
        "API",
        "ID",
        "PD",
        "SLO",
        "SLA",
        "OKR",
        "PCI",
        "SOC",
        "GDPR",
        "ECMA",
        "IEEE",
        "ANSI",
        "BS",
        "CAN",
    }
)
ISSUE_KEY_RE = re.compile(r"(?<![\w/.-])([A-Z][A-Z0-9]{1,9})-([1-9]\d{0,6})(?![\w-])")
GH_NUM_RE = re.compile(
    r"(?:(?<=\s)|(?<=^)|(?<=[(\[,;]))(?P<repo>[\w.-]+/[\w.-]+)?#(?P<num>\d{1,7})\b"
)
BUG_RE = re.compile(
    r"\b(?:bug|issue|ticket)\s*(?:#|no\.?\s*|number\s*)?(?P<num>\d{3,9})\b|\bb/(?P<b>\d{3,12})\b",
    re.IGNORECASE,
)
# Phabricator tasks written with their marker: "task T189059", "bug T219450", "phab:T12345".
PHAB_RE = re.compile(
    r"\b(?:bug|task|phab(?:ricator)?)\s*[:#]?\s*(?P<t>T\d{3,9})\b", re.IGNORECASE
)
_WORD_SCREEN_RE = re.compile(
    r"[Bb][Uu][Gg]|[Ii][Ss][Ss][Uu][Ee]|[Tt][Ii][Cc][Kk][Ee][Tt]|[Tt][Aa][Ss][Kk]|[Pp][Hh][Aa][Bb]"
)
URL_RE = re.compile(r"https?://[^\s<>\"'()\[\]`|]+")
_TICKET_URL_RE = re.compile(
    r"/(?:issues?|pull|pulls|merge_requests|browse|tickets?|bugs?|show_bug\.cgi)(?:/|\?id=)|"
    r"linear\.app/[^/]+/issue/|atlassian\.net/(?:browse|jira)/|/-/issues/|/-/merge_requests/|"
    r"bugzilla\.|crbug\.com/|issuetracker\.google\.com/|trello\.com/c/|app\.asana\.com/\d+/\d+/\d+|"
    r"app\.shortcut\.com/[^/]+/story/|/youtrack/issue/",
    re.IGNORECASE,
)
_CI_URL_RE = re.compile(
    r"/actions/runs/\d+|/-/pipelines/\d+|/-/jobs/\d+|/pipelines/\d+|circleci\.com/|"
    r"buildkite\.com/[^/]+/[^/]+/builds/\d+|/job/[^/]+/\d+|travis-ci\.(?:com|org)/.+/(?:builds|jobs)/\d+|"
    r"_build/results\?buildId=|/commit/[0-9a-f]{7,40}|/commits/[0-9a-f]{7,40}|/builds?/\d+",
    re.IGNORECASE,
)
_INCIDENT_URL_RE = re.compile(
    r"pagerduty\.com/incidents/|/incidents?/[\w-]+|opsgenie\.com/.*/incident|incident\.io/|statuspage|"
    r"status\.[\w.-]+/incidents/",
    re.IGNORECASE,
)
SHA_RE = re.compile(r"(?<![\w/#-])([0-9a-f]{7,40})(?![\w-])")
_HAS_DIGIT_RE = re.compile(r"\d")
_HAS_HEXLETTER_RE = re.compile(r"[a-f]")
_SHA_CONTEXT_RE = re.compile(
    r"\b(?:commit|sha|revert(?:ed|s)?|cherry-?pick(?:ed)?|hash|rev(?:ision)?|merged?|deploy(?:ed)?|"
    r"build|release|change|patch|diff)\b",
    re.IGNORECASE,
)
PD_ID_RE = re.compile(r"\b(P[A-Z0-9]{6}|Q[A-Z0-9]{13})\b")
INCIDENT_CTX_RE = re.compile(
    r"\b(?:incident|outage|pagerduty|sev(?:erity)?[\s-]?\d|pd)\b[^.\n]{0,20}?"
    r"(?:(?P<hash>#\d{1,7})\b|\b(?P<pd>(?-i:P[A-Z0-9]{6}|Q[A-Z0-9]{13}))\b)",
    re.IGNORECASE,
)
INC_KEY_RE = re.compile(r"\b(INC|INCIDENT)-(\d{1,7})\b")


def issue_keys(text: str) -> list[str]:
    """Jira/Linear style keys (PAY-412) with look-alikes (SEV-1, UTF-8, ISO-8601) left out."""
    out: list[str] = []
    for m in ISSUE_KEY_RE.finditer(text):
        prefix = m.group(1)
        if prefix in _NOT_KEYS or prefix.isdigit() or not prefix[0].isalpha():
            continue
        out.append(m.group(0))
    return out


def _url_refs(text: str) -> tuple[list[str], list[str], list[str]]:
    tickets: list[str] = []
    ci: list[str] = []
    incidents: list[str] = []
    for m in URL_RE.finditer(text):
        url = m.group(0).rstrip(".,;:!?*_")
        if _CI_URL_RE.search(url) and not _TICKET_URL_RE.search(url):
            ci.append(url)
        elif _TICKET_URL_RE.search(url):
            tickets.append(url)
        elif _INCIDENT_URL_RE.search(url):
            incidents.append(url)
    return tickets, ci, incidents


def ticket_refs(text: str) -> tuple[str, ...]:
    """Every ticket reference in order: keys, GitHub numbers, "Bug 1234", issue/PR URLs."""
    if len(text) > 512:
        return _ticket_refs(text)
    return _ticket_refs_cached(text)


@lru_cache(maxsize=8192)
def _ticket_refs_cached(text: str) -> tuple[str, ...]:
    return _ticket_refs(text)


def _ticket_refs(text: str) -> tuple[str, ...]:
    if "-" not in text and "#" not in text and "/" not in text and not _WORD_SCREEN_RE.search(text):
        return ()
    found: list[tuple[int, str]] = []
    url_spans: list[tuple[int, int]] = []
    for m in URL_RE.finditer(text):
        url = m.group(0).rstrip(".,;:!?*_")
        url_spans.append((m.start(), m.end()))
        if _TICKET_URL_RE.search(url) and not (_CI_URL_RE.search(url) and "/issues" not in url):
            found.append((m.start(), url))

    def in_url(pos: int) -> bool:
        return any(a <= pos < b for a, b in url_spans)

    for m in ISSUE_KEY_RE.finditer(text):
        prefix = m.group(1)
        if prefix in _NOT_KEYS or INC_KEY_RE.fullmatch(m.group(0)):
            continue
        found.append((m.start(), m.group(0)))
    if "#" in text:
        for m in GH_NUM_RE.finditer(text):
            if in_url(m.start()):
                continue
            before = text[max(0, m.start() - 24) : m.start()].lower()
            if "incident" in before or "outage" in before:
                continue
            found.append((m.start(), m.group(0)))
    for m in BUG_RE.finditer(text):
        if in_url(m.start()):
            continue
        num = m.group("num") or m.group("b")
        label = f"b/{num}" if m.group("b") else f"Bug {num}"
        word = m.group(0).split()[0].lower() if m.group("num") else "b"
        if word.startswith("issue") and "#" in m.group(0):
            continue  # "issue #12" is already a GitHub number
        if word.startswith("ticket") or word.startswith("issue"):
            label = f"#{num}" if word.startswith("issue") else num
        found.append((m.start(), label))
    for m in PHAB_RE.finditer(text):
        if not in_url(m.start()) and m.group("t")[0] == "T":
            found.append((m.start(), m.group("t")))
    found.sort()
    return tuple(dict.fromkeys(ref for _, ref in found))


def incident_refs(text: str) -> list[str]:
    out: list[str] = []
    for m in INCIDENT_CTX_RE.finditer(text):
        out.append(m.group("hash") or m.group("pd"))
    for m in INC_KEY_RE.finditer(text):
        out.append(m.group(0))
    out.extend(_url_refs(text)[2])
    return list(dict.fromkeys(out))


def ci_refs(text: str) -> list[str]:
    """CI run/job URLs, and commit SHAs written near words such as "commit" or "revert"."""
    out = list(_url_refs(text)[1])
    for m in SHA_RE.finditer(text):
        sha = m.group(1)
        if not (_HAS_DIGIT_RE.search(sha) and _HAS_HEXLETTER_RE.search(sha)):
            continue
        ctx = text[max(0, m.start() - 40) : m.start()]
        if _SHA_CONTEXT_RE.search(ctx) or len(m.group(1)) == 40:
            out.append(m.group(1))
    return list(dict.fromkeys(out))
