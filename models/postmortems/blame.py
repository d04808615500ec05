"""Blame language: people named as the cause, and judgement words, with condition-focused rewrites.

Precision matters more than recall here: people acting in a timeline ("Dana rolled back the
deploy"), systems failing ("the deploy failed to start"), "fault-tolerant", "default" and
"no fault found" must not be reported. A phrase counts only when it is a known blame phrase, or
when a blame verb's subject is a person (a handle, a pronoun, a role, or a name).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .textutil import clean_inline

# Common given names (ambiguous English words such as Will, Mark, Bill, Page, Grant left out).
_GIVEN_NAMES = """
    aaron adam adrian ahmed aisha alan albert alex alexander alexandra alice alicia alison
    amanda amelia amir amy ana andre andrea andrew andy angela anna anne anthony antonio
    arjun arthur ashley barbara ben benjamin beth bob bobby brandon brenda brian bruce bryan
    carl carla carlos carol caroline catherine charles charlie charlotte chen chris
    christian christina christine christopher claire colin craig cynthia dan dana daniel
    danielle dave david deborah denise dennis derek diana diego dmitri donald donna doug
    douglas dylan ed eddie edward elena eli elizabeth ellen emily emma eric erik erin ethan
    eva evan fatima felix fernando frank fred gabriel gary george gina greg gregory hana
    hannah harry heather helen henry hiroshi hugo ian igor isaac isabel ivan jack jacob jake
    james jamie jane janet jason javier jay jeff jeffrey jennifer jenny jeremy jerry jessica
    jim jimmy joan joe joel john johnny jon jonathan jordan jorge jose joseph josh joshua
    juan julia julie justin karen karl kate katherine kathy katie kay keith kelly ken kenji
    kevin kim kyle larry laura lauren lee leo liam linda lisa liz logan lucas lucy luis luke
    maria marie marina mario marta martin mary matt matthew max megan melissa mia michael
    michelle miguel mike mohammed nancy natalie nathan neil nicholas nick nicole nina noah
    olga oliver olivia omar oscar pablo pamela patricia patrick paul paula pedro peter phil
    philip priya rachel rahul raj ravi rebecca richard rick rob robert robin ron ronald rosa
    ruth ryan sam samantha samuel sandra sara sarah scott sean sergei sharon simon sofia
    sophia sophie stephanie stephen steve steven susan tanya taylor ted teresa thomas tim
    timothy tina todd tom tommy tony tyler valerie vanessa victor victoria vikram vincent
    walter wei wendy william xavier yuki yusuf zach zoe
    abdul adaeze adele agnes aiko akira alba aleksandr ali alina amara amina anders andrei
    anika anouk antoine arun astrid ayesha beatriz bjorn camila carmen cecilia chiara chidi
    chloe clara daisuke dalia darius deepa dimitri eduardo elif elise emeka emil emilia enzo
    esther fabian farah fatma fiona francesca freya gabriela giulia greta gustavo hamza hans
    haruto hassan ibrahim ingrid ines irene isla ivana jakub jana jiho jin joana johan jonas
    julien jun kai kamal karim katarina kenta kofi lars layla leila lena leon lin lorenzo
    lucia luca lukas magnus mahmoud maja malik manuel marco marcus mariam mateo mathilde
    matteo maya mehmet mei mila mina ming mohamed nadia naomi nia nikolai nils noor nora
    olu oskar pavel pia rafael ramon rania rashid reza rin riya rui sakura salma santiago
    sasha sebastian selin shreya sienna sigrid sina sofie soren sunita tariq thabo theo
    tobias tomas valentina vera viktor wiktoria xin yara yasmin yosef yuna yusuf zainab
    zara zeynep
"""
FIRST_NAMES = frozenset(_GIVEN_NAMES.split())
_ROLES = (
    r"engineers?|developers?|devs?|operators?|sres?|admins?|administrators?|dbas?|interns?|"
    r"contractors?|on-?call(?:er)?s?|reviewers?|authors?|persons?|employees?|team members?|"
    r"release managers?|ics?|incident commanders?|committers?|maintainers?|hires?|staff(?:er)?|"
    r"guys?|folks|junior|senior|colleagues?|analysts?|technicians?|responders?|deployers?"
)
_ROLE_RE = re.compile(r"^(?:" + _ROLES + r")$", re.I)
_PRONOUNS = frozenset(
    {"he", "she", "someone", "somebody", "him", "her", "they", "whoever", "you", "i"}
)
_COLLECTIVE = frozenset(
    {"we", "us", "our", "nobody", "noone", "no one", "anyone", "everyone", "everybody"}
)
_NOT_NAMES = frozenset(
    {
        "the",
        "a",
        "an",
        "this",
        "that",
        "it",
        "which",
        "who",
        "then",
        "and",
        "but",
        "so",
        "also",
        "alert",
        "deploy",
        "job",
        "build",
        "test",
        "tests",
        "system",
        "service",
        "script",
        "process",
        "check",
        "monitor",
        "monitoring",
    }
)

# Subject written after an anchor word ("if only <subj> had", "because <subj>'s mistake").
_SUBJ_AFTER = r"(?P<subj>@?[\w’'.-]+(?:\s+[\w’'.-]+){0,2}?)"
_ADV = (
    r"(?:\b(?:simply|just|also|then|again|clearly|obviously|completely|repeatedly|"
    r"really|apparently)\s+)?"
)
_NEG_RE = re.compile(
    r"(?:\bnot?\b|n't\b|\bnever\b|\brather than\b|\binstead of\b|\bavoid\w*\b|"
    r"\bwithout\b|\bbeyond\b|\bnor\b|\bno one\b|\bnobody\b|\bnot anyone\b|"
    r"\bisn't\b|\bwasn't\b|\bdon't\b|\bdoesn't\b|\bstop\b|\bban\b|\bretire\b)"
    r"[^.;]{0,30}$",
    re.I,
)

# Cheap substring screen (lower-cased) before any regex runs on a line.
_TRIGGERS: tuple[str, ...] = (
    "error",
    "careless",
    "negligen",
    "incompeten",
    "sloppy",
    "reckless",
    "lazy",
    "laziness",
    "stupid",
    "idiot",
    "dumb",
    "boneheaded",
    "inexcusable",
    "should",
    "ought to",
    "fault",
    "failed to",
    "neglected",
    "forgot",
    "broke",
    "took down",
    "brought down",
    "blew up",
    "if only",
    "none of",
    "would have",
    "would not have",
    "blame",
    "caused",
    "triggered by",
    "introduced by",
    "started by",
    "responsible for",
    "mistake",
    "blunder",
    "screw",
    "messed up",
    "bother",
    "follow",
    "ignored",
    "because",
    "due to",
    "thanks to",
    "root cause",
    "oversight",
    "procedure",
    "process",
    "runbook",
    "adequately",
    "properly",
    "carefully",
    "sufficiently",
)


_TRIGGER_RE = re.compile("|".join(re.escape(t) for t in _TRIGGERS))


def _triggered(text: str) -> bool:
    return _TRIGGER_RE.search(text.lower()) is not None


@dataclass(frozen=True, slots=True)
class BlameHit:
    line: int
    sentence: str
    phrase: str
    kind: str
    suggestion: str


def _p(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)


_HUMAN_ERROR_RE = _p(
    r"\b(?:human|operator|pilot|engineer(?:ing)?|personnel)[- ]errors?\b|"
    r"\buser error\b(?!\s*(?:message|rate|page|log|count|code|response|handling|s\b))"
)
_JUDGEMENT_RE = _p(
    r"\b(?:careless(?:ly|ness)?|negligen(?:t|ce|tly)|incompeten(?:t|ce|tly)|sloppy|"
    r"sloppiness|reckless(?:ly|ness)?|lazy|laziness|stupid(?:ity)?|idiot(?:ic|s)?|"
    r"dumb|boneheaded|inexcusable)\b"
)
_HINDSIGHT_RE = _p(
    _ADV + r"\s*\b(?:should(?:'ve|’ve| have)|ought to have)\s+(?:(?:been able to|"
    r"easily|clearly|obviously)\s+)?(?P<verb>known|caught|noticed|checked|realized|"
    r"realised|tested|verified|reviewed|double-checked|asked|waited|followed|seen|"
    r"read|been more careful|been careful|paid attention|thought)\b(?P<rest>[^.;!?]*)"
)
_BARE_HINDSIGHT_RE = _p(r"\bshould(?:'ve|’ve| have) known\b")
_FAULT_RE = _p(
    r"\b(?:(?P<pron>his|her|their|your|my)|(?P<poss>[\w.@-]+)['’]s)\s+fault\b|"
    r"\b(?P<at>(?:was|were|is|are|be)\s+at fault)\b|\bfault (?:lies|lay|was|is|rests) with\b|"
    r"\bthe fault of\s+(?P<of>[\w.@-]+)"
)
_FAILED_RE = _p(
    _ADV + r"\s*\b(?P<verb>failed to|neglected to|forgot to|didn'?t bother to|"
    r"did not bother to|didn'?t follow|did not follow|ignored|"
    r"(?:did not|didn'?t) use (?:a |the |any |our )?(?:[\w-]+ ){0,2}(?:procedure|process|runbook|"
    r"checklist|protocol)s?|(?:did not|didn'?t) (?:adequately|properly|carefully|sufficiently)"
    r"(?= \w))\s*(?P<rest>[^.;!?]*)"
)
_BROKE_RE = _p(
    r"(?:\b(?:accidentally|inadvertently|just|then)\s+)?\b(?:broke|took down|"
    r"brought down|blew up)\s+(?P<what>prod(?:uction)?|the build|the site|master|main|"
    r"everything|staging|ci|the (?:database|db|cluster|api|app|service))\b"
)
_IF_ONLY_RE = _p(
    r"\bif only\s+" + _SUBJ_AFTER + r"\s+(?:had|would have|would've|did|were|was|'d|’d)\b"
    r"(?P<rest>[^.;!?]*)"
)
# "If Pablo had followed the runbook, none of this would have happened."
_COUNTERFACTUAL_RE = _p(
    r"\bif\s+" + _SUBJ_AFTER + r"\s+(?:had|'d|’d)(?:\s+(?:just|simply|only))?\s+"
    r"(?P<rest>(?!been\b)(?:[a-z]+ed|[a-z]+en|known|seen|read|run|done|made|caught|kept|told|"
    r"paid|thought|put|set|built|sent|held|left|gone|let)\b[^,.;!?]*)"
)
_WOULD_NOT_RE = _p(
    r"\bnone of (?:this|it|that)\b|\bwould(?:n['’]t| not| never)? have (?:happened|occurred|"
    r"been (?:avoided|prevented|caught))|\bcould have been (?:avoided|prevented)"
)
_CAUSED_BY_RE = _p(
    r"\b(?:caused|triggered|introduced|started) by\s+(?P<subj>@?[\w.-]+(?:\s+[A-Z][\w-]+)?)"
    r"(?P<poss>['’]s)?"
)
_SUBJ_CAUSED_RE = _p(
    r"(?:\b(?:directly|single-handedly)\s+)?\b(?:caused|was responsible for|"
    r"is responsible for|(?:is|was) to blame for|(?:is|was) the (?:root )?cause of)\s+"
    r"(?:the\s+|this\s+|our\s+)?(?:outage|incident|problem|issue|failure|downtime|"
    r"breakage|data loss|it|everything|the whole thing)\b"
)
_BECAUSE_RE = _p(
    r"\b(?:because(?: of)?|due to|thanks to|root cause (?:was|is|:))\s+"
    + _SUBJ_AFTER
    + r"(?P<tail>['’]s\s+(?:mistake|error|carelessness|oversight|negligence|fault|blunder|"
    r"laziness|typo|screw-?up|bad (?:change|deploy|commit))|\s+(?:forgot|didn'?t|did not|"
    r"failed|neglected|ignored|made an? (?:mistake|error)|messed up|screwed up))"
)
_MISTAKE_RE = _p(
    r"(?:(?<=\w)['’]s\s+(?:mistake|error|blunder|oversight|screw-?up|carelessness|"
    r"negligence)|\s+(?:made\s+(?:a|an|the|another)\s+(?:mistake|error|blunder|"
    r"bad call)|(?:messed|screwed)\s+up))\b"
)
_BLAME_WORD_RE = _p(
    r"\b(?:(?:is|are|was|were) to blame|blame (?:lies|falls|rests|lay|fell) "
    r"(?:with|on)|(?:we|i) blame|blamed)\b"
)

_SENT_RE = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9@])")


class PersonCheck:
    """Decides whether a subject phrase refers to a person, using the document's own names."""

    def __init__(self, names: Iterable[str]) -> None:
        known: set[str] = set()
        for n in names:
            for tok in re.split(r"[\s,]+", n.lower().lstrip("@")):
                tok = tok.strip(".'’")
                if len(tok) >= 2 and tok not in _NOT_NAMES:
                    known.add(tok)
        self.known = known

    def __call__(self, subj: str | None) -> bool:
        if not subj:
            return False
        words = [w.strip(".,:;()\"'’") for w in subj.split()]
        words = [w for w in words if w]
        if not words:
            return False
        last = re.sub(r"['’]s$", "", words[-1])
        low = last.lower()
        if low in _COLLECTIVE or (len(words) >= 2 and words[-2].lower() == "no" and low == "one"):
            return False
        if last.startswith("@") and len(last) > 1:
            return True
        if low in _PRONOUNS - {"they", "you", "i"}:
            return True
        if _ROLE_RE.match(low) and (len(words) == 1 or words[-2].lower() not in ("no", "every")):
            return True
        # "Bob Smith" (check the given name too), but not "Alice's deploy".
        candidates = words[-2:] if len(words) >= 2 and words[-1][:1].isupper() else words[-1:]
        for w in reversed(candidates):
            wl = re.sub(r"['’]s$", "", w).lower()
            if wl in self.known:
                return True
            if w[:1].isupper() and wl in FIRST_NAMES:
                return True
        return False


def _negated(sentence: str, start: int) -> bool:
    before = sentence[max(0, start - 45) : start]
    if _NEG_RE.search(before):
        return True
    # Quoted as a term: "we avoid 'human error' as a cause"
    return start > 0 and sentence[start - 1] in "\"'“‘"


def _suggest(kind: str, m: re.Match[str], sentence: str) -> str:
    rest = ""
    try:
        rest = (m.group("rest") or "").strip(" ,")
    except IndexError:
        rest = ""
    if kind == "human-error":
        rewritten = _HUMAN_ERROR_RE.sub("a manual step without a safeguard", sentence)
        return (
            "Name the condition that made the mistake possible (missing guard rail, unclear "
            f'runbook, confusing tool) instead of "human error", e.g. "{rewritten}"'
        )
    if kind == "judgement":
        return (
            f'Drop the judgement ("{m.group(0)}") and describe what made the action easy to get '
            "wrong: a missing check, an unclear interface, time pressure, absent review."
        )
    if kind == "hindsight":
        if rest:
            target = re.sub(r"^(?:that|about|the fact that)\s+", "", rest)
            return (
                f'Describe why it was hard to know at the time, e.g. "Nothing in the tooling or '
                f'runbook made it visible that {target}."'
            )
        return (
            'Replace hindsight ("should have known") with what the person could see at the '
            "time and what would have made the risk visible."
        )
    if kind == "failed-to":
        if rest and m.group("verb").lower().endswith("to"):
            return (
                f'Describe the gap in the process, e.g. "The process did not require or prompt '
                f'anyone to {rest}."'
            )
        if rest:
            return (
                f'Describe why the signal was easy to miss, e.g. "{rest[:1].upper() + rest[1:]} '
                f'did not stand out among other signals and nothing required acting on it."'
            )
        return "Describe the missing safeguard rather than the person's omission."
    if kind == "broke":
        return (
            f'Describe the change and the missing safeguard, e.g. "A change reached '
            f'{m.group("what")} without a check that would have caught it."'
        )
    if kind == "if-only":
        if rest:
            return (
                f'State the condition instead, e.g. "Nothing in the process prompted anyone '
                f'to{" " if not rest.startswith(" ") else ""}{rest.strip()}."'
            )
        return "State the missing condition instead of a counterfactual about a person."
    if kind in ("person-cause", "mistake", "fault", "blame"):
        return (
            "Describe the change and the conditions that let it cause harm, not who made it, "
            'e.g. "A configuration change reached production without validation or staged '
            'rollout."'
        )
    return "Rewrite around the contributing condition rather than the person."


def find_blame(prose: Iterable[tuple[int, str]], names: Iterable[str]) -> list[BlameHit]:
    is_person = PersonCheck(names)
    hits: list[BlameHit] = []
    seen: set[tuple[int, str]] = set()
    for line, raw in prose:
        if not raw or not _triggered(raw):
            continue
        text = clean_inline(raw)
        for sentence in _SENT_RE.split(text):
            if not _triggered(sentence):
                continue
            for kind, m in _matches(sentence, is_person):
                key = (line, sentence)
                if key in seen:
                    break
                seen.add(key)
                hits.append(
                    BlameHit(
                        line,
                        sentence.strip()[:400],
                        m.group(0).strip(),
                        kind,
                        _suggest(kind, m, sentence.strip()),
                    )
                )
                break
    return hits


def _matches(sentence: str, is_person: PersonCheck) -> Iterable[tuple[str, re.Match[str]]]:
    for m in _HUMAN_ERROR_RE.finditer(sentence):
        if not _negated(sentence, m.start()):
            yield "human-error", m
    for m in _JUDGEMENT_RE.finditer(sentence):
        if not _negated(sentence, m.start()):
            yield "judgement", m
    for m in _FAULT_RE.finditer(sentence):
        if _negated(sentence, m.start()):
            continue
        poss = m.group("poss") or m.group("of")
        if m.group("at"):
            subj = sentence[: m.start()].split()[-3:]
            if subj and is_person(" ".join(subj)):
                yield "fault", m
            continue
        if poss is not None and poss.lower() in ("no one", "nobody", "anyone", "noone", "one"):
            continue
        if m.group("pron") or poss is None or is_person(poss) or poss[:1].isupper():
            if poss is not None and poss.lower() in ("system", "vendor", "provider", "aws", "gcp"):
                continue
            yield "fault", m
    for m in _BLAME_WORD_RE.finditer(sentence):
        if not _negated(sentence, m.start()):
            yield "blame", m
    # Verb first, then the (up to three) words before it are the subject.
    for rx, kind in (
        (_HINDSIGHT_RE, "hindsight"),
        (_FAILED_RE, "failed-to"),
        (_BROKE_RE, "broke"),
        (_SUBJ_CAUSED_RE, "person-cause"),
        (_MISTAKE_RE, "mistake"),
    ):
        for m in rx.finditer(sentence):
            before = sentence[: m.start()]
            words = before.split()[-3:]
            if (
                words
                and is_person(" ".join(words))
                and not _negated(sentence, len(before.rstrip()))
            ):
                yield kind, m
    for rx, kind in ((_IF_ONLY_RE, "if-only"), (_BECAUSE_RE, "person-cause")):
        for m in rx.finditer(sentence):
            if is_person(m.group("subj")) and not _negated(sentence, m.start("subj")):
                yield kind, m
    for m in _CAUSED_BY_RE.finditer(sentence):
        if is_person(m.group("subj")) and not _negated(sentence, m.start()):
            yield "person-cause", m
    if _WOULD_NOT_RE.search(sentence):
        for m in _COUNTERFACTUAL_RE.finditer(sentence):
            subj = m.group("subj").split()
            if is_person(m.group("subj")) or (
                len(subj) == 1 and subj[0][:1].isupper() and subj[0].lower() not in _NOT_NAMES
                and subj[0].lower() not in _COLLECTIVE
            ):
                yield "if-only", m
    for m in _BARE_HINDSIGHT_RE.finditer(sentence):
        before = sentence[: m.start()].strip().split()
        if before and before[-1].lower() in _COLLECTIVE:
            continue
        if not before or not _negated(sentence, m.start()):
            yield "hindsight", m
