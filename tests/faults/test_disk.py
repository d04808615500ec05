"""A read-only warehouse folder and a full disk: one clear line naming the file, exit 1, and the
previous warehouse still opens with its data; after the fault is fixed the next build completes.

Root ignores file permissions, so as root the faults are real mounts (a small tmpfs, remounted
read-only or filled up) and the test unmounts after; as another user the read-only case uses
permissions and the full-disk case is skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.faults.conftest import FaultsOrg, differing, run_build, table_hashes

ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@contextmanager
def tmpfs(where: Path, size_mb: int) -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(where)],
                         capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({res.stderr.strip() or res.returncode})")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _remount(where: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(where)], check=True)


@contextmanager
def read_only_folder(tmp_path: Path, warehouse: Path) -> Iterator[Path]:
    """A folder holding a copy of `warehouse` that cannot be written."""
    if ROOT:
        with tmpfs(tmp_path / "ro", 256) as mnt:
            shutil.copy2(warehouse, mnt / "warehouse.duckdb")
            _remount(mnt, "ro")
            try:
                yield mnt
            finally:
                _remount(mnt, "rw")
        return
    folder = tmp_path / "ro"
    folder.mkdir()
    shutil.copy2(warehouse, folder / "warehouse.duckdb")
    (folder / "warehouse.duckdb").chmod(0o444)
    folder.chmod(0o555)
    try:
        yield folder
    finally:
        folder.chmod(0o755)


def _one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr[-3000:]
    return lines[0]


def test_read_only_warehouse_is_one_clear_line_and_nothing_changes(
        faults_org: FaultsOrg, tmp_path: Path) -> None:
    with read_only_folder(tmp_path, faults_org.base) as folder:
        warehouse = folder / "warehouse.duckdb"
        res = run_build(faults_org.exports, warehouse, cwd=tmp_path)
        assert res.returncode == 1
        line = _one_error_line(res.stderr)
        assert line.startswith(f"followthrough build: {warehouse}: cannot write the warehouse")
        assert "--warehouse" in line
        assert differing(table_hashes(warehouse), table_hashes(faults_org.base)) == []
        assert sorted(p.name for p in folder.iterdir()) == ["warehouse.duckdb"]

        fresh = folder / "new.duckdb"
        res = run_build(faults_org.exports, fresh, cwd=tmp_path)
        assert res.returncode == 1
        assert _one_error_line(res.stderr).startswith(f"followthrough build: {fresh}: cannot write")
        assert not fresh.exists()


@pytest.mark.skipif(not ROOT, reason="a full disk needs a small tmpfs, which only root can mount")
def test_full_disk_is_a_clear_error_and_the_previous_build_survives(
        faults_org: FaultsOrg, tmp_path: Path) -> None:
    base_size = faults_org.base.stat().st_size
    # Room for the rebuild once the filler is gone: a build's runs hold one connection, so the
    # write-ahead log grows up to DuckDB's checkpoint threshold (16 MB) before it is folded in.
    with tmpfs(tmp_path / "small", base_size // 2**20 + 64) as mnt:
        warehouse = mnt / "warehouse.duckdb"
        shutil.copy2(faults_org.base, warehouse)
        free = shutil.disk_usage(mnt).free
        filler = mnt / "filler"
        with filler.open("wb") as fh:  # leave ~1 MB: less than reloading every file needs
            fh.truncate(0)
            block = b"\0" * 2**20
            for _ in range(free // 2**20 - 1):
                fh.write(block)
        res = run_build(faults_org.exports, warehouse, "--force", cwd=tmp_path)
        assert res.returncode == 1, res.stdout[-2000:]
        last = res.stderr.strip().splitlines()[-1]
        assert last.startswith(f"followthrough build: {warehouse}: no space left on the device")
        assert "Traceback" not in last
        # Every table still opens; core, models and marts are the previous build's.
        after = table_hashes(warehouse)
        base = table_hashes(faults_org.base)
        assert [t for t in differing(after, base) if not t.startswith("raw.")] == []
        assert set(after) == set(base)

        filler.unlink()
        res = run_build(faults_org.exports, warehouse, cwd=tmp_path)
        assert res.returncode == 0, res.stderr[-3000:]
        assert differing(table_hashes(warehouse), table_hashes(faults_org.reference)) == []
