"""The five parts' content: which spans stand for each part, and the contributing conditions and
verification criteria read from them (timeline, impact and action items have their own modules)."""

from __future__ import annotations

from typing import Any

from .markdown import PLACEHOLDER_RE, Span
from .model import PARTS, ActionItem, Criterion, Section
from .textutil import clean_inline
from .verification import parse_criterion


def span_text(span: Span) -> str:
    parts: list[str] = []
    if span.value is not None:
        parts.append(value_text(span.value))
    if span.inline:
        parts.append(span.inline)
    parts.extend(
        ln.content if ln.kind != "table" else ln.raw
        for ln in span.lines
        if ln.kind not in ("blank", "rule", "sep")
    )
    return "\n".join(p for p in parts if p)


def value_text(value: Any) -> str:
    if isinstance(value, dict):
        return "\n".join(f"{k}: {value_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "\n".join(value_text(v) for v in value)
    return str(value)


def _best_spans(spans: list[Span], part: str) -> list[Span]:
    mine = [s for s in spans if s.part == part]
    if not mine:
        return []
    with_content = [s for s in mine if s.has_content()] or mine
    best = min(s.tier for s in with_content)
    return [s for s in with_content if s.tier == best]


def conditions(spans: list[Span]) -> tuple[str, ...]:
    """Contributing conditions: front-matter values, list items, sub-headings, table rows or paragraphs."""
    out: list[str] = []
    for span in spans:
        if span.kind == "frontmatter":
            vals = span.value if isinstance(span.value, list) else [span.value]
            out.extend(clean_inline(value_text(v)) for v in vals if str(v).strip())
            continue
        lines = [ln for ln in span.lines if ln.kind not in ("rule", "sep", "code")]
        if span.kind == "table":
            out.extend(clean_inline(ln.content) for ln in lines if ln.kind in ("text", "list"))
            continue
        items = [ln for ln in lines if ln.kind == "list"]
        if items:
            top = min(ln.indent for ln in items)
            out.extend(
                clean_inline(ln.content)
                for ln in items
                if ln.indent == top and not PLACEHOLDER_RE.match(ln.content)
            )
            continue
        subheads = [ln for ln in lines if ln.kind == "heading"]
        if len(subheads) >= 2:
            out.extend(clean_inline(ln.content) for ln in subheads)
            continue
        rows = [ln for ln in lines if ln.kind == "table"]
        if rows:
            body = rows[1:] if len(rows) > 1 else rows
            out.extend(clean_inline(r.cells()[0]) for r in body if r.cells() and r.cells()[0])
            continue
        para: list[str] = []
        paras: list[str] = []
        if span.inline and not PLACEHOLDER_RE.match(span.inline):
            para.append(span.inline)
        for ln in lines:
            if ln.kind == "blank" or ln.kind == "heading":
                if para:
                    paras.append(" ".join(para))
                    para = []
                continue
            if not PLACEHOLDER_RE.match(ln.content):
                para.append(ln.content)
        if para:
            paras.append(" ".join(para))
        out.extend(clean_inline(p) for p in paras if not p.rstrip().endswith(":") or len(paras) == 1)
    return tuple(c for c in out if c)


def _section_criteria(spans: list[Span]) -> list[Criterion]:
    """Criteria written in the Verification part: front matter, list items, table rows or lines."""
    out: list[Criterion] = []
    for span in spans:
        if span.kind == "frontmatter":
            vals = span.value if isinstance(span.value, list) else [span.value]
            out.extend(parse_criterion(value_text(v), span.line) for v in vals if str(v).strip())
            continue
        if span.inline and not PLACEHOLDER_RE.match(span.inline) and not span.inline.endswith(":"):
            out.append(parse_criterion(span.inline, span.line))
        lines = span.lines
        items = [ln for ln in lines if ln.kind == "list"]
        rows = [ln for ln in lines if ln.kind == "table"]
        if items:
            top = min(ln.indent for ln in items)
            out.extend(
                parse_criterion(ln.content, ln.no)
                for ln in items
                if ln.indent == top and not PLACEHOLDER_RE.match(ln.content)
            )
        if rows:
            for r in rows[1:]:
                cells = [c for c in r.cells() if c.strip()]
                if cells:
                    out.append(parse_criterion(" ".join(cells), r.no))
        if not items and not rows:
            for ln in lines:
                if (
                    ln.kind in ("text", "quote")
                    and not PLACEHOLDER_RE.match(ln.content)
                    and not (ln.content.rstrip().endswith(":"))
                ):
                    out.append(parse_criterion(ln.content, ln.no))
    return out


def choose_parts(spans: list[Span]) -> tuple[dict[str, Section], dict[str, list[Span]]]:
    """Each part's Section (where it starts) and the spans that make it up (possibly none)."""
    sections: dict[str, Section] = {}
    chosen: dict[str, list[Span]] = {}
    for part in PARTS:
        best = _best_spans(spans, part)
        chosen[part] = best
        if best:
            first = min(best, key=lambda s: s.line)
            sections[part] = Section(True, first.heading, first.line)
        else:
            sections[part] = Section(False, None, None)
    return sections, chosen


def criteria(spans: list[Span], action_items: tuple[ActionItem, ...]) -> list[Criterion]:
    """The Verification part's criteria, then each action item's own criterion not listed there."""
    out = _section_criteria(spans)
    seen = {c.text for c in out}
    for item in action_items:
        if item.verification and item.verification not in seen:
            seen.add(item.verification)
            out.append(parse_criterion(item.verification, item.line, source="action_item"))
    return out
