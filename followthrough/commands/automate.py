"""`followthrough automate --once`: one pass of the deploy-failure automation.

Every failed production deployment gets one incident ticket in the outbox (and, above the
severity threshold, one Slack alert); what is due is sent to the targets that are live. Without
`live = true` and credentials, rows are kept as `dry_run`: the outbox shows what would be sent.
Rerunning adds nothing. Exit status: 0 done, 1 some sends failed (they are retried later),
2 bad config or warehouse.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from followthrough.commands.build import add_warehouse_arg


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "automate",
        help="incident tickets for failed production deploys, repeat-failure alerts, weekly digests "
        "(dry run unless configured)",
        description="Evaluate the deploy-failure rule once: enqueue one incident ticket per "
        "failed production deployment in automation.outbox, send what is due to live targets "
        "([automation] in followthrough.toml), and print a summary. Safe to rerun.",
    )
    add_warehouse_arg(p)
    p.add_argument("--config", type=Path, default=None,
                   help="config file (default: $FOLLOWTHROUGH_CONFIG or ./followthrough.toml)")
    p.add_argument("--once", action="store_true",
                   help="run one pass and exit (the only mode; under Dagster the sensor runs it)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import duckdb

    from models.automation.config import load_automation
    from models.automation.run import run_once
    from warehouse.db import connect, warehouse_path

    if not args.once:
        print("followthrough automate: pass --once (continuous runs are the Dagster sensor "
              "`deploy_failure_sensor`)", file=sys.stderr)
        return 2
    cfg = load_automation(args.config)
    path = warehouse_path(args.warehouse)
    if not path.exists():
        print(f"followthrough automate: no warehouse at {path}: build one with "
              "`followthrough build`", file=sys.stderr)
        return 2
    from followthrough.commands.webhook import drain_spool
    from models.settings import Settings

    drained = drain_spool(cfg, Settings.load(warehouse=path))  # webhook deliveries, if any
    for line in drained.lines():
        print(line)
    try:
        conn = connect(path)
    except duckdb.Error as exc:
        print(f"followthrough automate: cannot open the warehouse {path}: {exc}",
              file=sys.stderr)
        return 2
    try:
        summary = run_once(conn, cfg)
    finally:
        conn.close()
    for line in summary.lines():
        print(line)
    return 1 if summary.failed else 0
