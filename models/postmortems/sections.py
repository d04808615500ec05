"""Map a heading or label, however it is worded, to one of the five canonical parts."""

from __future__ import annotations

import re
from functools import lru_cache

_NUMBERING_RE = re.compile(
    r"^(?:(?:step|part|section)\s+\d+\s*[:.)-]?\s*|\d+(?:\.\d+)*\s*[.):-]?\s+|[ivx]{1,5}[.)]\s+|[a-h][.)]\s+)",
    re.IGNORECASE,
)
_NOISE_RE = re.compile(r"[^\w\s'’/&+-]+")
_EMOJI_RE = re.compile(r"[^\w\s'/&+.):;-]+")
_WS_RE = re.compile(r"\s+")

# (part, tier, pattern): tier 0 is the usual wording; a higher tier is used only when no
# lower-tier section of that part exists (a "What went wrong" list under "Lessons learned"
# is not the causes section when "Root causes" is also there).
_RULES: tuple[tuple[str, int, str], ...] = (
    (
        "timeline",
        0,
        r"^(?:[\w-]+ ){0,3}time ?line\b|^chronology\b|^(?:detailed |incident )?chronology\b|"
        r"^sequence of events\b|^timeline of events\b|^events timeline\b|^incident log\b"
        r"|^event log\b",
    ),
    (
        "contributing_conditions",
        0,
        r"^(?:technical |underlying |primary |probable |the )?root[ -]?causes?\b|^rca\b|"
        r"^contributing (?:factors?|conditions?|causes?)\b|^causal factors?\b|^causes?\b|"
        r"^(?:root causes? and |)triggers?\b|^why (?:it|this|did (?:it|this|the \w+)) happen|"
        r"^what caused\b|^origins? of (?:the )?(?:incident|outage|problem|issue|failure)\b|"
        r"^cause (?:of|and)\b|^technical (?:details|cause)\b|^factors\b|"
        r"^conditions\b|^root cause analysis\b|^analysis of causes\b|^five whys\b|^5 whys\b",
    ),
    (
        "contributing_conditions",
        1,
        r"^what went (?:wrong|poorly|badly)\b|^what broke\b|^what (?:didn'?t|did not) work\b|"
        r"^how (?:the )?(?:problem|issue|bug|incident|outage|failure)\w*(?: s)? (?:was|were|got)"
        r"(?: was| were)? introduced\b",
    ),
    (
        "contributing_conditions",
        2,
        r"^what (?:didn'?t|did not|didn’t) go (?:so )?well\b|^problems encountered\b|^is"
        r"sues encountered\b",
    ),
    (
        "impact",
        0,
        r"^(?:customer|user|business|service|production|external|internal|overall|incide"
        r"nt) impact\b|"
        r"^impact(?! (?:start|end|began|ended|begin|duration|time)s?\b)\b|^blast radius\b|"
        r"^(?:scope|severity) (?:and|&) impact\b|^who was (?:affected|impacted)\b|^affec"
        r"ted (?:users|customers|services)\b|^affected [\w-]+(?: [\w-]+)?$|"
        r"^what was (?:affected|impacted)\b|^what (?:was|is|were) the impacts?\b",
    ),
    (
        "action_items",
        0,
        r"^(?:follow[ -]?up )?action items?\b|^actions?(?: taken| to take| plan)?$|"
        r"^(?:follow[ -]?up|corrective|preventi(?:ve|ative)|remedial) (?:actions?|measures|steps)\b|^foll"
        r"ow[ -]?ups?\b|"
        r"^followups\b|^actionables?\b|^remediations?\b|^corrective (?:and preventive |and preventative "
        r")?actions?\b|"
        r"^preventi(?:ve|ative) (?:actions?|measures)\b|^capa\b|^to ?dos?\b|^tasks\b|"
        r"^what (?:we are|we're|are we|we’re) doing\b|^next steps\b|^action plan\b|^miti"
        r"gations? and prevention\b",
    ),
    (
        "action_items",
        1,
        r"^(?:[\w-]+ )?actions$|"
        r"^improv(?:e|ing|ements?)\b|^prevention\b|^future work\b|^fixes\b|^long[ -]term"
        r" (?:fixes|actions)\b|"
        r"^recommendations?\b",
    ),
    (
        "verification",
        0,
        r"^verification\b|^verifying\b|^success (?:criteria|metrics?|measures?)\b|"
        r"^how (?:we'?ll|we will|will we|we’ll|do we|we) (?:know|verify|measure|tell)\b|"
        r"^validation\b|^measur(?:ing|e) (?:of )?success\b|^definition of done\b|"
        r"^acceptance criteria\b|^exit criteria\b|^verification (?:plan|criteria)\b|"
        r"^metrics? (?:for|of) success\b|^how (?:we|we'll) (?:confirm|check)\b",
    ),
)
_COMPILED: tuple[tuple[str, int, re.Pattern[str]], ...] = tuple(
    (part, tier, re.compile(pat)) for part, tier, pat in _RULES
)

# Headings and labels that are not one of the five parts but do end the one before them.
_OTHER_RE = re.compile(
    r"^(?:executive )?summary\b|^overview\b|^tl;? ?dr\b|^background\b|^context\b|^description\b|"
    r"^what happened\b|^resolution\b|^recovery\b|^mitigation\b|^detection\b|^response\b|"
    r"^lessons? learn(?:ed|t)\b|^what went well\b|^where we got lucky\b|^what we learned\b|"
    r"^supporting information\b|^appendix\b|^references\b|^glossary\b|^responders\b|"
    r"^participants\b|^messaging\b|^internal (?:email|message)\b|^external (?:email|message)\b|"
    r"^communications?\b|^how'?d we do\b|^related\b|^links\b|^attendees\b|^open questions\b|"
    r"^questions\b|^discussion\b|^notes\b|^recovery procedures?\b|^data loss\b|^metadata\b|"
    r"^incident (?:details|summary|overview)\b|^details\b|^people\b|^status\b|^detection time\b|"
    r"^symptoms\b|^investigation\b|^remediation steps taken\b|^customer communication\b|"
    r"^acknowledg(?:e)?ments\b|^thanks\b|^closing\b|^conclusions?\b|^postmortem\b|^post-mortem\b|"
    r"^where (?:did )?we (?:got|get) lucky\b|^(?:brief |short )?summary\b|^quick facts\b|"
    r"^how (?:the )?(?:problem|issue)\w*(?: s)? (?:was|were)(?: was| were)? (?:discovered|detected)\b",
)


@lru_cache(maxsize=4096)
def normalize_label(text: str) -> str:
    label = text.strip().strip("*_#`").strip()
    label = _EMOJI_RE.sub(" ", label.replace("’", "'")).strip()
    label = _NUMBERING_RE.sub("", label)
    label = _NOISE_RE.sub(" ", label)
    label = _WS_RE.sub(" ", label).strip(" -/&").lower()
    return label


@lru_cache(maxsize=4096)
def classify(text: str) -> tuple[str, int] | None:
    """(part, tier) for a heading/label text, or None when it names none of the five parts."""
    label = normalize_label(text)
    if not label or len(label) > 80:
        return None
    words = label.count(" ") + 1
    for part, tier, pat in _COMPILED:
        if pat.search(label):
            if tier > 0 and words > 5:
                continue  # "Improve X by doing Y and Z" is a sentence, not a section name
            return part, tier
    return None


@lru_cache(maxsize=4096)
def is_known_label(text: str) -> bool:
    """True for any recognised section name (canonical or not): such labels end a section."""
    if classify(text) is not None:
        return True
    label = normalize_label(text)
    return bool(label) and len(label) <= 60 and bool(_OTHER_RE.search(label))
