"""`followthrough draft INCIDENT_ID`: a postmortem draft pre-populated from the warehouse.

The warehouse is opened read-only; nothing is written to it. Exit status: 0 draft written,
1 a query failed, 2 unknown incident, missing warehouse, bad option or an existing --out file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from followthrough.commands.build import add_warehouse_arg

FIND_IDS = (
    'followthrough sql "SELECT incident_id, title FROM core.incidents ORDER BY created_at DESC LIMIT 20"'
)
# Lint rules a fresh draft is expected to trip: the meeting assigns owners and files tickets.
EXPECTED_RULES = frozenset({"action-item-no-owner", "action-item-no-ticket"})


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "draft",
        help="write a postmortem draft for an incident, pre-filled from the warehouse",
        description="Write a Markdown postmortem for a PagerDuty incident with its timeline, "
        "contributing CI signals, candidate conditions, impact, action items and verification "
        "pre-filled from the warehouse. Placeholders are marked _TBD_. The warehouse is only read.",
    )
    p.add_argument("incident_id", metavar="INCIDENT_ID", help="PagerDuty incident id (or number)")
    add_warehouse_arg(p)
    p.add_argument("--out", type=Path, default=None, help="write the draft here (default: stdout)")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    p.add_argument(
        "--window-hours",
        type=float,
        default=24.0,
        metavar="N",
        help="timeline starts N hours before the incident was created (default: 24)",
    )
    p.set_defaults(func=run)


def _err(msg: str) -> None:
    print(f"followthrough draft: {msg}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    import duckdb

    from models.postmortems import lint, parse_postmortem
    from models.postmortems.draft import render_draft
    from warehouse.db import connect_readonly, warehouse_path
    from warehouse.drafts import MAX_HOURS, UnknownIncident, WarehouseNotReady, load_draft_input

    if not 0 < args.window_hours <= MAX_HOURS:
        _err(f"--window-hours must be more than 0 and at most {MAX_HOURS}, got {args.window_hours:g}")
        return 2
    out: Path | None = args.out
    if out is not None and out.exists() and not args.force:
        _err(f"{out} already exists; pass --force to overwrite it")
        return 2
    path = warehouse_path(args.warehouse)
    try:
        conn = connect_readonly(path)
    except FileNotFoundError as exc:
        _err(str(exc))
        return 2
    except duckdb.Error as exc:
        _err(f"cannot open the warehouse {path} read-only: {exc}")
        return 2
    try:
        data = load_draft_input(conn, args.incident_id, args.window_hours)
    except UnknownIncident as exc:
        lines = [
            f'no incident "{exc.incident_id}" in the warehouse {path}.',
            "Find incident ids with:",
            f"  {FIND_IDS}",
        ]
        if exc.recent:
            lines.append("Most recent incidents:")
            lines += [f"  {iid}  {title or ''}".rstrip() for iid, title in exc.recent]
        _err("\n".join(lines))
        return 2
    except (WarehouseNotReady, ValueError) as exc:
        _err(f"{path}: {exc}")
        return 2
    except duckdb.Error as exc:
        _err(f"reading {path} failed: {type(exc).__name__}: {exc}")
        return 1
    finally:
        conn.close()
    draft = render_draft(data)
    if out is None:
        sys.stdout.write(draft.markdown)
        sys.stdout.flush()
    else:
        try:
            if out.parent and not out.parent.exists():
                out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(draft.markdown, encoding="utf-8")
        except OSError as exc:
            _err(f"cannot write {out}: {exc.strerror or exc}")
            return 2
    findings = lint(parse_postmortem(draft.markdown, path=str(out or "draft.md")))
    expected = sum(1 for f in findings if f.rule in EXPECTED_RULES)
    other = [f for f in findings if f.rule not in EXPECTED_RULES]
    summary = (
        f"{'wrote ' + str(out) if out else 'draft'} for {data.incident.incident_id}: "
        f"{draft.timeline_rows} timeline rows, {len(data.failures)} CI failure(s), "
        f"{draft.candidate_conditions} candidate condition(s), {draft.action_items} pre-filled "
        f"action item(s); lint: {expected} missing owner/ticket finding(s) to settle in the meeting"
    )
    if other:
        summary += f", {len(other)} other: " + "; ".join(f"{f.rule} ({f.message})" for f in other[:5])
    print(summary, file=sys.stderr)
    return 0
