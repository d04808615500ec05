"""`followthrough demo`: the sample organisation, built and served, in one command."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from followthrough.commands.build import add_warehouse_arg, configure_logging
from models.settings import Settings

DEFAULT_SEED = 7


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="generate the sample organisation, build its warehouse, serve the dashboard",
    )
    p.add_argument("--exports", type=Path, default=Path("sample-org"),
                   help="where the sample organisation is written (default: ./sample-org)")
    add_warehouse_arg(p)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--no-serve", action="store_true", help="build and summarise, do not serve")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8501)
    p.set_defaults(func=run)


def _generated_with(exports: Path) -> tuple[int, float] | None:
    """Seed and scale of an existing sample organisation, from its ground-truth file."""
    try:
        truth = json.loads((exports / "groundtruth.json").read_text(encoding="utf-8"))
        return int(truth["seed"]), float(truth["scale"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _automate_dry_run(warehouse: Path, exports: Path) -> None:
    """What automation would send for the sample org's failed production deploys: with no
    credentials every outbox row is a dry run (the dashboard's Automation page shows them).
    The sample org's production workflows and pipelines are named as a user's config would."""
    from models.automation.config import parse_automation
    from models.automation.run import run_once
    from sampleorg.otherci import AUTOMATION_TRIGGERS
    from warehouse.db import connect

    section = {**AUTOMATION_TRIGGERS, "drafts": {"folder": str((exports / "drafts").resolve())}}
    cfg = parse_automation({"automation": section}, Path("sample org"))
    conn = connect(warehouse)
    try:
        summary = run_once(conn, cfg, env={})
    finally:
        conn.close()
    for line in summary.lines():
        print(f"automation (dry run): {line}", flush=True)


def run(args: argparse.Namespace) -> int:
    from followthrough.cli import main as cli_main
    from followthrough.commands.build import StepProgress, build
    from followthrough.progress import Progress

    configure_logging(quiet=True)
    exports: Path = args.exports
    if _generated_with(exports) != (args.seed, args.scale):
        print(f"generating the sample organisation into {exports} "
              f"(seed {args.seed}, scale {args.scale:g})", flush=True)
        rc = cli_main(["generate", "--seed", str(args.seed), "--scale", str(args.scale),
                       str(exports)])
        if rc:
            return rc
    else:
        print(f"sample organisation in {exports} is current (seed {args.seed}, "
              f"scale {args.scale:g})")
    settings = Settings.load(warehouse=args.warehouse, exports=exports)
    target = settings.warehouse
    summary = build(settings, listener=StepProgress(Progress()))
    print("\n".join(summary.lines()), flush=True)
    _automate_dry_run(target, exports)
    if args.no_serve:
        print(f"explore: followthrough sql \"SELECT * FROM marts.time_to_ticket LIMIT 10\" "
              f"--warehouse {target}")
        return 0
    from followthrough.commands.serve import serve

    print(f"dashboard: http://{args.host}:{args.port}  (Ctrl-C to stop)", flush=True)
    sys.stdout.flush()
    return serve(target, args.host, args.port)
