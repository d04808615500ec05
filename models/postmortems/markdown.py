"""Line classification and section spans for Markdown (and for HTML converted to Markdown lines).

The document is read line by line once; sections are found from headings of any level, bold
labels on their own line, bullet labels, plain "Label:" lines, two-column tables and YAML front
matter. Everything downstream works on `Span`s, so every style ends in the same shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .sections import classify, is_known_label
from .textutil import clean_inline

FENCE_RE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
ATX_RE = re.compile(r"^\s{0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*#*[ \t]*$")
SETEXT_RE = re.compile(r"^\s{0,3}(=+|-+)\s*$")
HR_RE = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
SEP_RE = re.compile(r"^\s*\|?\s*:?-{1,}:?\s*(?:\|\s*:?-{1,}:?\s*)+\|?\s*$")
LIST_RE = re.compile(r"^(\s*)(?:[-*+•▪◦‣]|(\d{1,3}|[a-zA-Z])[.)])\s+(.*)$")
CHECK_RE = re.compile(r"^\[( |x|X|-|~|/|✓|✔)\]\s*")
BOLD_LABEL_RE = re.compile(
    r"^(?:\*\*|__)(?P<label>[^*_\n]{1,80}?)\s*(?::\s*)?(?:\*\*|__)\s*:?\s*(?P<rest>.*)$"
)
PLAIN_LABEL_RE = re.compile(r"^(?P<label>[A-Za-z][\w '’/&()?-]{1,60}?)\s*:\s*(?P<rest>.*)$")
_SENTENCE_END = (".", "!", "?", ":", ";", ")", '"', "'", "”", "’")
HTML_COMMENT_RE = re.compile(r"<!--.*?-->", re.DOTALL)
BR_SPLIT_RE = re.compile(r"<br\s*/?>", re.IGNORECASE)
PLACEHOLDER_RE = re.compile(
    r"^(?:_[^_].*_|\*[^*].*\*|\(?(?:tbd|tba|n/?a|none|todo|to be (?:determined|filled in|added)|"
    r"fill (?:this )?in|\?+|-+|…|\.\.\.)\)?\.?)$",
    re.IGNORECASE,
)


@dataclass(slots=True)
class Line:
    no: int  # 1-based line number in the source
    raw: str
    kind: str  # blank, heading, table, sep, list, text, code, quote, rule
    indent: int = 0
    level: int = 0  # heading level
    content: str = ""  # heading text, list item text, table row, stripped text
    check: str | None = None  # checkbox mark of a list item
    _cells: list[str] | None = None

    def cells(self) -> list[str]:
        if self._cells is None:
            self._cells = split_row(self.content)
        return self._cells


@dataclass(slots=True)
class Span:
    part: str | None
    tier: int
    heading: str
    line: int
    kind: str  # heading, label, bullet, table, frontmatter
    level: int = 0
    indent: int = 0
    inline: str = ""
    lines: list[Line] = field(default_factory=list)
    value: Any = None

    def has_content(self) -> bool:
        if self.value not in (None, "", [], {}):
            return True
        if self.inline and not PLACEHOLDER_RE.match(self.inline.strip()):
            return True
        return any(
            ln.kind not in ("blank", "rule", "sep")
            and (ln.kind == "heading" or not PLACEHOLDER_RE.match(ln.content.strip() or "-"))
            for ln in self.lines
        )


@dataclass(slots=True)
class Document:
    lines: list[Line]
    spans: list[Span]
    front_matter: dict[str, Any]
    front_matter_lines: dict[str, int]


def split_row(row: str) -> list[str]:
    s = row.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    if "\\|" in s:
        parts = re.split(r"(?<!\\)\|", s)
        return [p.replace("\\|", "|").strip() for p in parts]
    return [p.strip() for p in s.split("|")]


def _indent_of(s: str) -> int:
    n = 0
    for ch in s:
        if ch == " ":
            n += 1
        elif ch == "\t":
            n += 4
        else:
            break
    return n


def classify_lines(raw_lines: list[tuple[int, str]]) -> list[Line]:
    """One pass: fences, headings (ATX and setext), tables, list items, quotes, text."""
    out: list[Line] = []
    fence: str | None = None
    n = len(raw_lines)
    in_table = False
    for i, (no, raw) in enumerate(raw_lines):
        s = raw.rstrip("\r\n")
        stripped = s.strip()
        if fence is not None:
            if stripped.startswith(fence):
                fence = None
                out.append(Line(no, s, "rule"))
            else:
                out.append(Line(no, s, "code", content=stripped))
            continue
        if not stripped:
            out.append(Line(no, s, "blank"))
            in_table = False
            continue
        first = stripped[0]
        if first in "`~":
            m = FENCE_RE.match(s)
            if m:
                fence = m.group(1)[0] * 3
                out.append(Line(no, s, "rule"))
                continue
        indent = _indent_of(s)
        if first == "#":
            m = ATX_RE.match(s)
            if m:
                out.append(
                    Line(no, s, "heading", level=len(m.group(1)), content=(m.group(2) or ""))
                )
                in_table = False
                continue
        if "|" in stripped:
            if SEP_RE.match(stripped) and "-" in stripped:
                out.append(Line(no, s, "sep", content=stripped))
                in_table = True
                continue
            nxt = raw_lines[i + 1][1] if i + 1 < n else ""
            if (
                first == "|"
                or in_table
                or ("|" in nxt and SEP_RE.match(nxt.strip()) and "-" in nxt)
            ):
                out.append(Line(no, s, "table", indent=indent, content=stripped))
                in_table = True
                continue
        in_table = False
        if first in "-*_" and HR_RE.match(s):
            # `---` under a paragraph line is a setext heading, not a rule.
            if first == "-" and out and out[-1].kind == "text" and out[-1].indent < 4:
                prev = out[-1]
                prev.kind, prev.level, prev.content = "heading", 2, prev.content
                out.append(Line(no, s, "rule"))
                continue
            out.append(Line(no, s, "rule"))
            continue
        if first == "=" and SETEXT_RE.match(s) and out and out[-1].kind == "text":
            prev = out[-1]
            prev.kind, prev.level = "heading", 1
            out.append(Line(no, s, "rule"))
            continue
        if first == ">":
            out.append(Line(no, s, "quote", indent=indent, content=stripped.lstrip("> ").strip()))
            continue
        if first in "-*+•▪◦‣" or first.isdigit() or (len(stripped) > 2 and stripped[1] in ".)"):
            m = LIST_RE.match(s)
            # "A. Something" opening a paragraph is rarely a list item; inside a list it is.
            if m and not (
                m.group(2) and m.group(2).isalpha() and not (out and out[-1].kind == "list")
            ):
                body = m.group(3)
                check = None
                cm = CHECK_RE.match(body)
                if cm:
                    check = cm.group(1)
                    body = body[cm.end() :]
                out.append(
                    Line(
                        no,
                        s,
                        "list",
                        indent=len(m.group(1).expandtabs(4)),
                        content=body.strip(),
                        check=check,
                    )
                )
                continue
        out.append(Line(no, s, "text", indent=indent, content=stripped))
    return out


def _label_of(text: str, kind: str = "text", standalone: bool = True) -> tuple[str, str] | None:
    """(label, rest) when a line starts with a bold label or a known plain "Label:".

    A section name alone on a line ("Timeline", "What went poorly?") is a label only when it is
    ``standalone``: not the last words of a sentence wrapped onto the next line.
    """
    if text.startswith(("**", "__")):
        m = BOLD_LABEL_RE.match(text)
        if m:
            return m.group("label").strip(), m.group("rest").strip()
        return None
    if ":" in text[:64]:
        m = PLAIN_LABEL_RE.match(text)
        if (
            m
            and m.group("label").count(" ") <= 5
            and "http" not in m.group("label")
            and (is_known_label(m.group("label")))
        ):
            return m.group("label").strip(), m.group("rest").strip()
    elif (
        kind == "text"
        and standalone
        and len(text) <= 60
        and len(text.split()) <= 6
        and not text.rstrip().endswith((".", ",", ";"))
        and is_known_label(text)
    ):
        # A section name alone on a line ("Timeline", "Action Items") in a plain or rendered
        # export, where headings lost their markup.
        return text.strip(), ""
    return None


def _front_matter(raw_lines: list[tuple[int, str]]) -> tuple[dict[str, Any], dict[str, int], int]:
    if not raw_lines or raw_lines[0][1].strip() != "---":
        return {}, {}, 0
    end = None
    for i in range(1, min(len(raw_lines), 1000)):
        if raw_lines[i][1].strip() in ("---", "..."):
            end = i
            break
    if end is None:
        return {}, {}, 0
    body = "\n".join(s for _, s in raw_lines[1:end])
    try:
        data = yaml.safe_load(body)
    except yaml.YAMLError:
        return {}, {}, 0
    if not isinstance(data, dict):
        return {}, {}, 0
    key_lines: dict[str, int] = {}
    for no, s in raw_lines[1:end]:
        if s and not s[0].isspace() and ":" in s:
            key = s.split(":", 1)[0].strip().strip("'\"")
            key_lines.setdefault(key, no)
    return {str(k): v for k, v in data.items()}, key_lines, end + 1


def _empty_bullet(span: Span) -> bool:
    """A bullet label with nothing after it yet, or only a table that started under it."""
    return (
        not span.inline
        and span.indent >= 0
        and all(ln.kind in ("blank", "table", "sep") for ln in span.lines)
    )


def parse_structure(raw_lines: list[tuple[int, str]]) -> Document:
    fm, fm_lines, skip = _front_matter(raw_lines)
    lines = classify_lines(raw_lines[skip:])
    spans: list[Span] = []
    for key, value in fm.items():
        got = classify(key.replace("_", " "))
        if got is not None and value not in (None, ""):
            spans.append(
                Span(got[0], got[1], key, fm_lines.get(key, 1), "frontmatter", value=value)
            )

    stack: list[Span] = []  # open spans; the last one receives lines

    def close_bullets(indent: int) -> None:
        while stack and stack[-1].kind == "bullet" and indent <= stack[-1].indent:
            stack.pop()

    prev: Line | None = None
    prev_label = False
    for idx, ln in enumerate(lines):
        kind = ln.kind
        if kind == "blank":
            if stack:
                stack[-1].lines.append(ln)
            prev = None
            continue
        standalone = (
            prev is None
            or prev.kind != "text"
            or prev_label
            or prev.content.rstrip().endswith(_SENTENCE_END)
        )
        prev = ln
        prev_label = False
        if (
            kind == "list"
            and stack
            and stack[-1].kind == "bullet"
            and _empty_bullet(stack[-1])
            and ln.indent == stack[-1].indent
            and _label_of(ln.content, kind) is None
        ):
            # "- **Follow-up actions:**" followed by sibling bullets: they are its items.
            stack[-1].indent = -1
        if kind in ("table", "sep") and stack and stack[-1].kind == "bullet" and _empty_bullet(stack[-1]):
            # "- Action Items:" with the table right under it: the table is the bullet's body.
            stack[-1].lines.append(ln)
            continue
        if kind != "code":
            close_bullets(ln.indent if kind in ("list", "text", "table", "quote") else -1)
        if kind == "heading":
            text = clean_inline(ln.content)
            got = classify(text)
            cur = stack[0] if stack else None
            if (
                cur is not None
                and cur.kind == "heading"
                and got is None
                and ln.level > cur.level
                and not is_known_label(text)
            ):
                cur.lines.append(ln)
                continue
            stack.clear()
            span = Span(
                got[0] if got else None,
                got[1] if got else 0,
                text,
                ln.no,
                "heading",
                level=ln.level,
            )
            spans.append(span)
            stack.append(span)
            continue
        if kind in ("text", "list") and ln.indent < 4:
            lab = _label_of(ln.content, kind, standalone)
            if (
                lab is not None
                and is_known_label(lab[0])
                and not (kind == "list" and ln.indent > 1)
            ):
                label, rest = lab
                got = classify(label)
                prev_label = not rest
                if kind == "list":
                    span = Span(
                        got[0] if got else None,
                        got[1] if got else 0,
                        clean_inline(label),
                        ln.no,
                        "bullet",
                        indent=ln.indent,
                        inline=rest,
                    )
                    spans.append(span)
                    stack.append(span)
                    continue
                # A bold/plain label ends the label section before it, and a heading section's
                # content when it names a different known part.
                while stack and stack[-1].kind in ("label", "bullet"):
                    stack.pop()
                span = Span(
                    got[0] if got else None,
                    got[1] if got else 0,
                    clean_inline(label),
                    ln.no,
                    "label",
                    inline=rest,
                )
                spans.append(span)
                stack.append(span)
                continue
        if kind == "table":
            cells = ln.cells()
            header = idx + 1 < len(lines) and lines[idx + 1].kind == "sep"
            if 2 <= len(cells) <= 3 and cells[0] and not header:
                label = clean_inline(cells[0])
                got = classify(label) if len(label) <= 60 else None
                if got is not None and any(c.strip() for c in cells[1:]):
                    value = " | ".join(c for c in cells[1:] if c.strip())
                    sub = classify_lines(
                        [(ln.no, part.strip()) for part in BR_SPLIT_RE.split(value) if part.strip()]
                    )
                    spans.append(Span(got[0], got[1], label, ln.no, "table", lines=sub))
                    continue
        if stack:
            stack[-1].lines.append(ln)
    return Document(lines, spans, fm, fm_lines)
