"""GitHub deployment payload variants real accounts produce, loaded through the real loader."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from warehouse.db import connect
from warehouse.ingest import ingest
from warehouse.sources import GITHUB_DEPLOYMENTS


def test_deployment_to_a_production_named_environment_is_production(
    vendor_payload, tmp_path: Path
) -> None:
    # The List deployments response (GitHub REST description, `deployment-items` example):
    # `production_environment` is false unless the deployment request set it, as most do not.
    base = vendor_payload("github_deployments_list.json")[0]
    cases = [("production", False), ("Prod", False), ("prd", False), ("staging", False),
             ("qa", True), ("staging", None)]
    deployments = []
    for i, (env, flag) in enumerate(cases):
        d = copy.deepcopy(base)
        d["id"] = 1000 + i
        d["environment"] = env
        if flag is None:
            del d["production_environment"]
        else:
            d["production_environment"] = flag
        deployments.append(d)
    root = tmp_path / "exports"
    (root / "github/deployments").mkdir(parents=True)
    (root / "github/deployments/2025-06-03.json").write_text(json.dumps(deployments))
    conn = connect(tmp_path / "w.duckdb")
    ingest(conn, root, [GITHUB_DEPLOYMENTS])
    assert conn.execute(
        "SELECT environment, production FROM raw.github_deployments ORDER BY deployment_id"
    ).fetchall() == [("production", True), ("Prod", True), ("prd", True), ("staging", False),
                     ("qa", True), ("staging", False)]
    conn.close()
