"""The deployment's Dagster instance (deploy/dagster.yaml) on a real PostgreSQL server.

A session fixture starts Debian's PostgreSQL (initdb into a temporary folder, a free port on
127.0.0.1, the unix socket in that folder) and stops it afterwards; the tests skip when the server
binaries are absent. PostgreSQL refuses to run as root, so under root the server runs as the
`postgres` system user (or `nobody` where that user does not exist).

End to end, the real `dagster-daemon` runs the project's own schedule and sensor: its scheduler
launches a run of `sources_hourly`, the queued-run coordinator starts it with the multiprocess
executor, the run materializes raw assets, and the ticks, the run and its events are read back
from PostgreSQL's tables.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
VENV_BIN = Path(sys.executable).parent
NOT_FOUND = ("PostgreSQL server binaries not found (Debian: apt-get install postgresql; "
             ".ci/run installs it)")


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    user: str
    password: str
    db: str

    def env(self) -> dict[str, str]:
        """The variables deploy/dagster.yaml reads."""
        return {"DAGSTER_PG_HOST": self.host, "DAGSTER_PG_PORT": str(self.port),
                "DAGSTER_PG_USER": self.user, "DAGSTER_PG_PASSWORD": self.password,
                "DAGSTER_PG_DB": self.db}

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        import psycopg2

        conn = psycopg2.connect(host=self.host, port=self.port, user=self.user,
                                password=self.password, dbname=self.db)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                return cur.fetchall()
        finally:
            conn.close()


def _server_bin() -> Path | None:
    """The newest Debian PostgreSQL server folder, else `pg_ctl` on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path and shutil.which("initdb") else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    bindir = _server_bin()
    if bindir is None:
        pytest.skip(NOT_FOUND)
    as_user: dict[str, Any] = {}
    # Under root the server's user must reach the folder: /tmp, not a private $TMPDIR.
    shared_tmp = "/tmp" if os.geteuid() == 0 and os.path.isdir("/tmp") else None
    base = Path(tempfile.mkdtemp(prefix="followthrough-pg-", dir=shared_tmp))
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            account = pwd.getpwnam("nobody")
        as_user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        os.chown(base, account.pw_uid, account.pw_gid)
    password = secrets.token_urlsafe(18)
    pwfile = base / "pw"
    pwfile.write_text(password + "\n")
    (base / "sock").mkdir()
    for path in (pwfile, base / "sock"):
        if as_user:
            os.chown(path, as_user["user"], as_user["group"])
    data, log = base / "data", base / "server.log"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=base, capture_output=True, text=True, timeout=120,
                              env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"}, **as_user)

    init = run(str(bindir / "initdb"), "-D", str(data), "-U", "followthrough", "-E", "UTF8",
               "--auth=scram-sha-256", f"--pwfile={pwfile}", "--no-sync")
    if init.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"initdb failed: {init.stderr.strip()[-800:]}")
    port = _free_port()
    options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {base / 'sock'} "
               "-c fsync=off -c full_page_writes=off -c max_connections=60")
    start = run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
                "-o", options, "start")
    if start.returncode != 0:
        detail = log.read_text()[-800:] if log.exists() else start.stderr
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start: {detail.strip()}")
    try:
        server = Postgres("127.0.0.1", port, "followthrough", password, "postgres")
        import psycopg2

        conn = psycopg2.connect(host=server.host, port=port, user=server.user,
                                password=password, dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE dagster")
        conn.close()
        yield Postgres("127.0.0.1", port, "followthrough", password, "dagster")
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "-t", "60", "stop")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def dagster_home(postgres: Postgres, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A DAGSTER_HOME holding deploy/dagster.yaml, on a fresh database of the server."""
    db = f"dagster_{secrets.token_hex(4)}"
    admin = Postgres(postgres.host, postgres.port, postgres.user, postgres.password, "postgres")
    import psycopg2

    conn = psycopg2.connect(host=admin.host, port=admin.port, user=admin.user,
                            password=admin.password, dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {db}")
    conn.close()
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    for var, value in Postgres(postgres.host, postgres.port, postgres.user, postgres.password,
                               db).env().items():
        monkeypatch.setenv(var, value)
    yield home


def _db(postgres: Postgres) -> Postgres:
    return Postgres(postgres.host, postgres.port, postgres.user, postgres.password,
                    os.environ["DAGSTER_PG_DB"])


def test_instance_keeps_runs_events_and_schedules_in_postgres(
        postgres: Postgres, dagster_home: Path) -> None:
    import dagster as dg
    from dagster._core.run_coordinator import QueuedRunCoordinator
    from dagster_postgres import (
        PostgresEventLogStorage,
        PostgresRunStorage,
        PostgresScheduleStorage,
    )

    instance = dg.DagsterInstance.get()
    try:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        assert instance.get_settings("telemetry") == {"enabled": False}
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
    finally:
        instance.dispose()
    tables = {r[0] for r in _db(postgres).query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}
    assert {"runs", "event_logs", "jobs", "job_ticks", "instigators"} <= tables
    # No secret reached the file the operator copies.
    assert postgres.password not in (dagster_home / "dagster.yaml").read_text()


def _wait(what: str, probe: Callable[[], Any], timeout: float, log: Path) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(1.0)
    tail = log.read_text()[-3000:] if log.exists() else ""
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}; daemon log:\n{tail}")


def _dagster_env(home: Path, tmp_path: Path, exports: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOLLOWTHROUGH_")}
    env.update({
        "DAGSTER_HOME": str(home),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "FOLLOWTHROUGH_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "FOLLOWTHROUGH_EXPORTS": str(exports),
        "FOLLOWTHROUGH_CONFIG": str(tmp_path / "followthrough.toml"),
        "FOLLOWTHROUGH_MAX_PROCESSES": "2",
    })
    return env


def _cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run([str(VENV_BIN / "dagster"), *args, "-w", str(DEPLOY / "workspace.yaml")],
                          env=env, cwd=cwd, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"dagster {' '.join(args)}: {done.stderr[-1500:]}"
    return done.stdout


def _stop_group(daemon: subprocess.Popen[bytes]) -> None:
    """Stop the daemon, then whatever it started (its code server, run workers) in its group."""
    os.killpg(daemon.pid, signal.SIGTERM)
    try:
        daemon.wait(timeout=30)
    except subprocess.TimeoutExpired:
        daemon.kill()
        daemon.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.killpg(daemon.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(daemon.pid, signal.SIGKILL)


def _last_daily_tick(now: datetime, hour: int, minute: int) -> datetime:
    tick = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return tick if tick <= now else tick - timedelta(days=1)


def _github_export(root: Path, vendor_dir: Path, days: list[date]) -> Path:
    """The project's GitHub payloads filed under `days`, one job id per day."""
    jobs = json.loads((vendor_dir / "github_workflow_run_jobs_list.json").read_text())
    for folder in ("github/jobs", "github/runs"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for n, day in enumerate(days, start=1):
        jobs["jobs"][0]["id"] = n
        (root / "github/jobs" / f"{day}.json").write_text(json.dumps(jobs))
        shutil.copyfile(vendor_dir / "github_workflow_runs_list.json",
                        root / "github/runs" / f"{day}.json")
    return root


@pytest.mark.slow
def test_daemon_runs_a_schedule_tick_and_a_sensor_tick_on_postgres(
        postgres: Postgres, dagster_home: Path, tmp_path: Path, vendor_dir: Path) -> None:
    import dagster as dg
    from dagster._core.scheduler.instigation import (
        InstigatorType,
        ScheduleInstigatorData,
        TickStatus,
    )

    now = datetime.now(UTC)
    tick_time = _last_daily_tick(now, 1, 15)  # github_actions_daily_schedule: 01:15 UTC
    exports = _github_export(tmp_path / "exports", vendor_dir,
                             [tick_time.date() - timedelta(days=1), tick_time.date()])
    (tmp_path / "followthrough.toml").write_text("")
    env = _dagster_env(dagster_home, tmp_path, exports)
    _cli(env, tmp_path, "schedule", "start", "github_actions_daily_schedule")
    _cli(env, tmp_path, "sensor", "start", "deploy_failure_sensor")

    instance = dg.DagsterInstance.get()
    # Rather than wait for 01:15, the schedule is recorded as started a minute before its latest
    # tick time, so the daemon's first pass owes it exactly that one tick.
    (state,) = instance.all_instigator_state(instigator_type=InstigatorType.SCHEDULE)
    data = state.instigator_data
    assert isinstance(data, ScheduleInstigatorData)
    instance.update_instigator_state(state.with_data(ScheduleInstigatorData(
        data.cron_schedule, start_timestamp=tick_time.timestamp() - 60)))
    (sensor_state,) = instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)

    log = tmp_path / "daemon.log"
    with log.open("w") as out:
        daemon = subprocess.Popen(
            [str(VENV_BIN / "dagster-daemon"), "run", "-w", str(DEPLOY / "workspace.yaml")],
            env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def schedule_tick() -> Any:
            ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id)
            return next((t for t in ticks if t.status == TickStatus.SUCCESS and t.run_ids), None)

        tick = _wait("a schedule tick that launched a run", schedule_tick, 60, log)
        (run_id,) = tick.run_ids

        def finished() -> Any:
            run = instance.get_run_by_id(run_id)
            return run if run is not None and run.is_finished else None

        run = _wait("the scheduled run to finish", finished, 60, log)

        def sensor_tick() -> Any:
            ticks = instance.get_ticks(sensor_state.instigator_origin_id, sensor_state.selector_id)
            return next((t for t in ticks if t.status == TickStatus.SKIPPED), None)

        sensed = _wait("a sensor tick", sensor_tick, 30, log)
    finally:
        _stop_group(daemon)

    assert run.status == dg.DagsterRunStatus.SUCCESS, log.read_text()[-3000:]
    assert tick.timestamp == pytest.approx(tick_time.timestamp())
    assert run.tags["dagster/schedule_name"] == "github_actions_daily_schedule"
    partition = run.tags["dagster/partition"]
    # The daemon's sensor did its work and said so: the outbox summary is its skip reason.
    assert sensed.skip_reason and "failed production deployments: 0" in sensed.skip_reason

    db = _db(postgres)
    # Ticks, the run and its events are rows of PostgreSQL's tables, not of a local folder.
    kinds = dict(db.query(
        "SELECT type, count(*) FROM job_ticks WHERE job_origin_id IN (%s, %s) GROUP BY type",
        state.instigator_origin_id, sensor_state.instigator_origin_id))
    assert kinds.get("SCHEDULE", 0) >= 1 and kinds.get("SENSOR", 0) >= 1
    assert db.query("SELECT status FROM runs WHERE run_id = %s", run_id) == [("SUCCESS",)]
    materialized = db.query(
        "SELECT asset_key, partition FROM event_logs WHERE run_id = %s AND dagster_event_type = %s",
        run_id, "ASSET_MATERIALIZATION")
    assert materialized == [('["raw", "github_actions"]', partition)]
    # Each step ran in a process of its own: the multiprocess executor, not the run's process.
    in_subprocess = {r[0] for r in db.query(
        "SELECT step_key FROM event_logs WHERE run_id = %s AND dagster_event_type = %s",
        run_id, "STEP_WORKER_STARTED")}
    assert "raw__github_actions" in in_subprocess
    # The run loaded that partition's day, and only that day, into the configured warehouse.
    import duckdb

    conn = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    try:
        loaded = conn.execute("SELECT list(job_id) FROM raw.github_jobs").fetchone()[0]
    finally:
        conn.close()
    assert loaded == [2 if partition == tick_time.date().isoformat() else 1]
    instance.dispose()


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::celery.exceptions.DuplicateTaskNameWarning")
@pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated")
def test_celery_worker_executes_the_steps_of_a_run(
        postgres: Postgres, dagster_home: Path, tmp_path: Path, vendor_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """FOLLOWTHROUGH_EXECUTOR=celery end to end, with no broker service: Celery's SQLAlchemy
    transport and result backend keep the queue in the same PostgreSQL server, and a real
    `celery worker` (the command of deploy/) executes the steps."""
    import dagster as dg
    from dagster._core.definitions.reconstruct import ReconstructableJob, ReconstructableRepository

    db = _db(postgres)
    auth = f"{db.user}:{db.password}@{db.host}:{db.port}/{db.db}"
    day = date(2025, 6, 4)
    exports = _github_export(tmp_path / "exports", vendor_dir, [day - timedelta(days=1), day])
    (tmp_path / "followthrough.toml").write_text("")
    env = _dagster_env(dagster_home, tmp_path, exports)
    env.update({"FOLLOWTHROUGH_EXECUTOR": "celery",
                "CELERY_BROKER_URL": f"sqla+postgresql+psycopg2://{auth}",
                "CELERY_RESULT_BACKEND": f"db+postgresql+psycopg2://{auth}"})
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [str(VENV_BIN / "celery"), "--app", "dagster_celery.app", "worker", "--queues",
             "dagster", "--pool", "solo", "--prefetch-multiplier", "1", "--loglevel", "INFO"],
            env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    instance = dg.DagsterInstance.get()
    try:
        # The worker creates the queue's tables as it starts: submitting before it is ready
        # races it to CREATE SEQUENCE, and the loser dies.
        _wait("the celery worker to be ready",
              lambda: worker.poll() is not None or " ready." in log.read_text(), 120, log)
        assert worker.poll() is None, log.read_text()[-3000:]
        repo = ReconstructableRepository.for_module("pipelines.definitions", "defs",
                                                    working_directory=str(REPO))
        job = ReconstructableJob(repo, "github_actions_daily")
        assert job.get_definition().executor_def.name == "celery"
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["result"] = dg.execute_job(job, instance=instance,
                                                   tags={"dagster/partition": day.isoformat()})
            except Exception as exc:  # reported below, in the test's thread
                outcome["error"] = exc

        # A worker that dies mid-run would leave execute_job waiting for ever: watch it.
        runner = threading.Thread(target=run, daemon=True)
        runner.start()
        _wait("the run to finish on the worker",
              lambda: not runner.is_alive() or worker.poll() is not None, 300, log)
        assert not runner.is_alive(), f"the worker died mid-run: {log.read_text()[-3000:]}"
        if "error" in outcome:
            raise outcome["error"]
        result = outcome["result"]
    finally:
        _stop_group(worker)
    assert result.success, log.read_text()[-3000:]
    run_id = result.run_id
    on_worker = db.query(
        "SELECT DISTINCT step_key FROM event_logs WHERE run_id = %s AND dagster_event_type = %s "
        "AND event LIKE %s", run_id, "ENGINE_EVENT", "%in celery worker%")
    assert ("raw__github_actions",) in on_worker
    assert db.query(
        "SELECT asset_key, partition FROM event_logs WHERE run_id = %s AND dagster_event_type = %s",
        run_id, "ASSET_MATERIALIZATION") == [('["raw", "github_actions"]', day.isoformat())]
    assert "succeeded" in log.read_text()  # the worker's own log: its tasks finished
    # The queue and the task results went through PostgreSQL too.
    tables = {r[0] for r in db.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}
    assert {"kombu_queue", "kombu_message", "celery_taskmeta"} <= tables
    import duckdb

    conn = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    try:
        assert conn.execute("SELECT list(job_id) FROM raw.github_jobs").fetchone()[0] == [2]
    finally:
        conn.close()
    instance.dispose()
