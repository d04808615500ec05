"""`followthrough lint PATH...`: lint postmortem documents, for a postmortem repository's CI.

Exit status: 0 when every document passes, 1 when any has an error-level finding, 2 when any
input could not be read (the others are still linted and reported).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from models.postmortems import (
    PARTS,
    Finding,
    Postmortem,
    PostmortemReadError,
    lint,
    parse_file,
)

SUFFIXES = (".md", ".markdown", ".html", ".htm")
_SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "lint",
        help="lint postmortem documents (Markdown or HTML exports)",
        description="Check postmortems for the five parts, action-item ownership and tickets, "
        "checkable verification criteria and blame language. Directories are searched "
        "recursively for " + ", ".join(f"*{s}" for s in SUFFIXES) + ".",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    p.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (compiler style, default) or json (one object per document per line)",
    )
    p.add_argument(
        "--fail-on",
        choices=("error", "warning"),
        default="error",
        help="lowest severity that fails a document (default: error)",
    )
    p.add_argument("--quiet", action="store_true", help="text format: print only errors")
    p.set_defaults(func=run)


def _walk(paths: list[str]) -> Iterator[tuple[str, str | None]]:
    """(path, problem) pairs: every document under the arguments, in a stable order."""
    for arg in paths:
        p = Path(arg)
        if p.is_dir():
            found: list[str] = []
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(os.path.join(root, f) for f in files if f.lower().endswith(SUFFIXES))
            yield from ((f, None) for f in sorted(found))
        elif p.exists():
            yield arg, None
        else:
            yield arg, "no such file or directory"


def _passed(findings: list[Finding], fail_on: str) -> bool:
    limit = _SEVERITY_RANK[fail_on]
    return not any(_SEVERITY_RANK.get(f.severity, 0) >= limit for f in findings)


def document_json(
    path: str, pm: Postmortem | None, findings: list[Finding], passed: bool
) -> dict[str, Any]:
    """The per-document JSON object (the shape is part of the CLI's contract)."""
    sections: dict[str, dict[str, Any]] = {}
    for part in PARTS:
        sec = pm.sections.get(part) if pm else None
        entry: dict[str, Any] = {
            "present": bool(sec and sec.present),
            "heading": sec.heading if sec else None,
        }
        if part == "timeline":
            entry["entries"] = len(pm.timeline) if pm else 0
        elif part == "contributing_conditions":
            entry["count"] = len(pm.contributing_conditions) if pm else 0
        elif part == "impact":
            entry["duration_minutes"] = pm.impact.duration_minutes if pm else None
        elif part == "action_items":
            entry["count"] = len(pm.action_items) if pm else 0
        sections[part] = entry
    return {
        "path": path,
        "title": pm.title if pm else None,
        "sections": sections,
        "action_items": [
            {
                "text": a.text,
                "owner": a.owner,
                "ticket": a.ticket,
                "status": a.status,
                "due": a.due_label,
                "verification": a.verification,
            }
            for a in (pm.action_items if pm else ())
        ],
        "findings": [
            {
                "rule": f.rule,
                "severity": f.severity,
                "line": f.line,
                "message": f.message,
                "suggestion": f.suggestion,
            }
            for f in findings
        ],
        "passed": passed,
    }


def run(args: argparse.Namespace) -> int:
    out = sys.stdout
    unreadable = 0
    failed = 0
    total = 0
    counts = {"error": 0, "warning": 0, "info": 0}
    for path, problem in _walk(args.paths):
        total += 1
        pm: Postmortem | None = None
        if problem is None:
            try:
                pm = parse_file(path)
            except PostmortemReadError as exc:
                problem = exc.reason
        if pm is None:
            unreadable += 1
            findings = [Finding("unreadable", "error", None, f"cannot read document: {problem}")]
        else:
            findings = lint(pm)
        passed = _passed(findings, args.fail_on)
        failed += 0 if passed else 1
        for f in findings:
            counts[f.severity] = counts.get(f.severity, 0) + 1
        if args.format == "json":
            out.write(json.dumps(document_json(path, pm, findings, passed), ensure_ascii=False))
            out.write("\n")
        else:
            for f in findings:
                if args.quiet and f.severity != "error":
                    continue
                loc = f"{path}:{f.line}" if f.line is not None else path
                out.write(f"{loc}: {f.severity}: {f.message} [{f.rule}]\n")
                if f.suggestion:
                    out.write(f"    suggestion: {f.suggestion}\n")
    if args.format == "text":
        out.write(
            f"{total} document{'s' if total != 1 else ''} checked: {total - failed} passed, "
            f"{failed} failed ({counts['error']} errors, {counts['warning']} warnings, "
            f"{counts['info']} notes)" + (f"; {unreadable} unreadable" if unreadable else "") + "\n"
        )
    out.flush()
    if unreadable:
        return 2
    return 1 if failed else 0
