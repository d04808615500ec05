"""A small sample organisation, built the way a user builds it, for the fault tests.

`faults_org` generates one organisation per test session and builds three warehouses from it as
whole `followthrough build` processes: `base` (every export but the last day), `reference`
(base, then the last day added: an uninterrupted incremental build) and the export folder that
all later builds read (its absolute paths are part of the raw rows, so every warehouse compared
here is built from the same folder).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from followthrough.benchrun import day_of, link_tree

REPO = Path(__file__).resolve().parents[2]
SCALE = 0.01  # ~2,000 jobs, ~170 failed with logs: every asset has rows, a build takes seconds
# Columns that record when a row was loaded, not what it holds: left out of the comparison.
LOAD_TIME_COLUMNS = ("loaded_at", "quarantined_at", "checked_at")
COMPARED_SCHEMAS = ("raw", "core", "models", "marts")


def build_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOLLOWTHROUGH_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def build_cmd(exports: Path, warehouse: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "followthrough.cli", "build", "-q", "--exports", str(exports),
            "--warehouse", str(warehouse), *extra]


def run_build(exports: Path, warehouse: Path, *extra: str, cwd: Path,
              timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(build_cmd(exports, warehouse, *extra), cwd=cwd, env=build_env(),
                          capture_output=True, text=True, timeout=timeout)


def table_hashes(path: Path) -> dict[str, tuple[int, int]]:
    """`schema.table` -> (rows, order-independent hash of every row but its load times)."""
    conn = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            f"WHERE table_schema IN {COMPARED_SCHEMAS} ORDER BY ALL").fetchall()
        for schema, name in tables:
            cols = [c for (c,) in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
                "AND table_name = ? ORDER BY ordinal_position", [schema, name]).fetchall()
                if c not in LOAD_TIME_COLUMNS]
            collist = ", ".join(f'"{c}"' for c in cols)
            out[f"{schema}.{name}"] = conn.execute(
                f"SELECT count(*), coalesce(sum(hash({collist})), 0) FROM {schema}.{name}"
            ).fetchone()
        return out
    finally:
        conn.close()


def differing(a: dict[str, tuple[int, int]], b: dict[str, tuple[int, int]]) -> list[str]:
    return sorted(t for t in set(a) | set(b) if a.get(t) != b.get(t))


@dataclass(frozen=True)
class FaultsOrg:
    root: Path
    source: Path  # the generated organisation, never read by a build
    exports: Path  # what every build reads: the whole organisation
    last_day: str
    base: Path  # warehouse built before the last day's exports landed
    reference: Path  # base plus an uninterrupted build of the last day
    base_seconds: float
    incremental_seconds: float

    def add_last_day(self) -> None:
        link_tree(self.source, self.exports, lambda rel: day_of(rel) == self.last_day)

    def copy_of(self, warehouse: Path, into: Path) -> Path:
        into.mkdir(parents=True, exist_ok=True)
        target = into / "warehouse.duckdb"
        shutil.copy2(warehouse, target)
        return target


@pytest.fixture(scope="session")
def faults_org(tmp_path_factory: pytest.TempPathFactory) -> FaultsOrg:
    from sampleorg import generate

    root = tmp_path_factory.mktemp("faults")
    source = root / "source"
    generate(source, seed=13, scale=SCALE)
    days = sorted({d for p in (source / "github" / "runs").glob("*.json")
                   if (d := day_of(Path(p.name)))})
    last_day = days[-1]
    exports = root / "exports"
    link_tree(source, exports, lambda rel: day_of(rel) != last_day)
    base = root / "base.duckdb"
    t0 = time.perf_counter()
    res = run_build(exports, base, cwd=root)
    base_seconds = time.perf_counter() - t0
    assert res.returncode == 0, res.stderr[-3000:]
    reference = root / "reference.duckdb"
    shutil.copy2(base, reference)
    org = FaultsOrg(root, source, exports, last_day, base, reference, base_seconds, 0.0)
    org.add_last_day()
    t0 = time.perf_counter()
    res = run_build(exports, reference, cwd=root)
    assert res.returncode == 0, res.stderr[-3000:]
    return FaultsOrg(root, source, exports, last_day, base, reference, base_seconds,
                     time.perf_counter() - t0)
