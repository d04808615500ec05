"""The webhook spool: GitHub deliveries wait on disk until the sensor lands them as exports.

The receiver never opens the warehouse: DuckDB allows one writer, and that is the sensor (or
`automate --once`). A delivery is written once, atomically, to a file named by its
`X-GitHub-Delivery` id, holding only the records the loader needs (the deployment and its
status, the run, the job) in the shape the GitHub connector lands them. Draining merges those
records into the same landed files the connector writes (by id, an older copy never replacing a
newer one), loads them, and only then removes the spool files: a crash at any point leaves the
delivery to be landed again, which changes nothing the second time.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from models.connectors.github import JOBS, RUNS
from models.connectors.landing import BARE, Landing, Shape, day_of, slug

EVENTS = ("deployment_status", "workflow_run", "workflow_job")
DELIVERY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
REJECTED = "rejected"
# A spool temp file this old was left by a receiver killed mid-write: nothing refers to it.
STALE_TMP_S = 300.0


class SpoolError(ValueError):
    """A delivery that cannot be spooled or landed, with the reason."""


class Ignored(Exception):
    """A delivery of a used event that carries nothing to land (a run not yet completed)."""


@dataclass(frozen=True)
class Delivery:
    delivery: str
    event: str
    action: str
    repo: str
    received_at: str
    records: dict[str, list[dict[str, Any]]]  # kind -> records in the connector's shape

    def to_json(self) -> bytes:
        return json.dumps({"delivery": self.delivery, "event": self.event,
                           "action": self.action, "repo": self.repo,
                           "received_at": self.received_at, "records": self.records},
                          separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _obj(payload: dict[str, Any], key: str, event: str) -> dict[str, Any]:
    value = payload.get(key)
    if not isinstance(value, dict):
        raise SpoolError(f"{event} payload has no '{key}' object")
    if not isinstance(value.get("id"), int) or isinstance(value.get("id"), bool):
        raise SpoolError(f"{event} payload: '{key}.id' is not a whole number")
    return value


def extract(event: str, payload: Any, *, delivery: str = "",
            received_at: str | None = None) -> Delivery:
    """What a delivery holds for the loader. Raises SpoolError (bad payload) or Ignored."""
    if event not in EVENTS:
        raise Ignored(f"event {event!r} is not used")
    if not isinstance(payload, dict):
        raise SpoolError(f"{event} payload is not a JSON object")
    repo = payload.get("repository", {})
    repo_name = repo.get("full_name") if isinstance(repo, dict) else None
    if not isinstance(repo_name, str) or "/" not in repo_name:
        raise SpoolError(f"{event} payload has no repository.full_name")
    action = str(payload.get("action") or "")
    records: dict[str, list[dict[str, Any]]] = {}
    if event == "deployment_status":
        status = dict(_obj(payload, "deployment_status", event))
        deployment = _obj(payload, "deployment", event)
        if not isinstance(status.get("state"), str):
            raise SpoolError("deployment_status payload: 'deployment_status.state' is missing")
        # The REST status names its deployment by URL; a webhook status always does too, but
        # the loader depends on it, so it is filled from the deployment when absent.
        if not status.get("deployment_url") and deployment.get("url"):
            status["deployment_url"] = deployment["url"]
        records = {"deployments": [deployment], "deployment_statuses": [status]}
    elif event == "workflow_run":
        run = _obj(payload, "workflow_run", event)
        if run.get("status") != "completed":
            raise Ignored(f"workflow_run {action or run.get('status')}: only completed runs land")
        records = {"runs": [run]}
    else:
        job = _obj(payload, "workflow_job", event)
        if job.get("status") != "completed":
            raise Ignored(f"workflow_job {action or job.get('status')}: only completed jobs land")
        records = {"jobs": [job]}
    return Delivery(delivery=delivery, event=event, action=action, repo=repo_name,
                    received_at=received_at or datetime.now(UTC).isoformat(), records=records)


class Spool:
    """One folder of `<delivery>.json` files."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_of(self, delivery: str) -> Path:
        if not DELIVERY_ID.fullmatch(delivery):
            raise SpoolError("X-GitHub-Delivery is missing or not an id (letters, digits, '-')")
        return self.root / f"{delivery}.json"

    def put(self, item: Delivery) -> bool:
        """Write a delivery once; False when that delivery id is already spooled (a redelivery).

        The file appears whole or not at all: it is written and synced under a temporary name,
        then hard-linked to its final name, which fails instead of replacing an existing file."""
        final = self.path_of(item.delivery)
        if final.exists():
            return False
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=f".{item.delivery}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(item.to_json())
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, final)
            except FileExistsError:
                return False
        finally:
            Path(tmp).unlink(missing_ok=True)
        _sync_dir(self.root)
        return True

    def pending(self) -> list[Path]:
        """Spooled deliveries, oldest first (a later status of the same thing lands last)."""
        if not self.root.is_dir():
            return []
        now = time.time()
        files = []
        for p in self.root.iterdir():
            if p.name.endswith(".tmp"):
                try:
                    if now - p.stat().st_mtime > STALE_TMP_S:
                        p.unlink(missing_ok=True)
                except OSError:
                    pass
            elif p.suffix == ".json" and p.is_file():
                files.append(p)
        return sorted(files, key=lambda p: (_mtime_ns(p), p.name))

    def read(self, path: Path) -> Delivery:
        try:
            doc = json.loads(path.read_bytes())
            return Delivery(delivery=str(doc["delivery"]), event=str(doc["event"]),
                            action=str(doc.get("action") or ""), repo=str(doc["repo"]),
                            received_at=str(doc["received_at"]),
                            records={k: list(v) for k, v in dict(doc["records"]).items()})
        except (ValueError, KeyError, TypeError) as exc:
            raise SpoolError(f"{path.name}: not a spooled delivery ({exc})") from None

    def reject(self, path: Path, reason: str) -> Path:
        """Keep a delivery that cannot land out of the way, with why, for a person to see."""
        folder = self.root / REJECTED
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / path.name
        os.replace(path, target)
        (folder / f"{path.stem}.reason.txt").write_text(reason + "\n", encoding="utf-8")
        return target

    def rejected(self) -> list[Path]:
        folder = self.root / REJECTED
        return sorted(folder.glob("*.json")) if folder.is_dir() else []


def _mtime_ns(p: Path) -> int:
    try:
        return p.stat().st_mtime_ns
    except OSError:
        return 0


def _sync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- landing -------------------------------------------------------------------------------


def _completed_stamp(r: dict[str, Any], done: str) -> tuple[bool, str]:
    return (r.get("status") == "completed", str(r.get(done) or r.get("updated_at") or ""))


@dataclass(frozen=True)
class _Kind:
    folder: str
    shape: Shape
    day_field: tuple[str, ...]
    stamp: Callable[[dict[str, Any]], Any] | None  # newer copies win; None: records never change


KINDS: dict[str, _Kind] = {
    "deployments": _Kind("deployments", BARE, ("created_at",),
                         lambda r: str(r.get("updated_at") or "")),
    "deployment_statuses": _Kind("deployment_statuses", BARE, ("created_at",), None),
    "runs": _Kind("runs", RUNS, ("created_at",),
                  lambda r: _completed_stamp(r, "updated_at")),
    # The connector files a job under its run's creation day; a job's own `created_at` is that
    # day but for runs queued across midnight.
    "jobs": _Kind("jobs", JOBS, ("created_at", "started_at"),
                  lambda r: _completed_stamp(r, "completed_at")),
}


def landed_path(kind: str, repo: str, record: dict[str, Any],
                run_days: dict[Any, str] | None = None) -> str:
    """The connector's file for a record; a job goes under its run's day when the run is known
    (`run_days`: run id -> day)."""
    spec = KINDS[kind]
    day = (run_days or {}).get(record.get("run_id")) if kind == "jobs" else None
    if day is None:
        when = next((record[f] for f in spec.day_field if record.get(f)), None)
        day = day_of(when if isinstance(when, str) else None)
    return f"github/{spec.folder}/{day}.{slug(repo)}.json"


def run_days(deliveries: Iterable[Delivery]) -> dict[Any, str]:
    return {r.get("id"): day_of(r.get("created_at")) for d in deliveries
            for r in d.records.get("runs", []) if r.get("created_at")}


def land(landing: Landing, deliveries: Iterable[Delivery]) -> int:
    """Merge the deliveries' records into the landed GitHub files; returns records that were new
    or newer than what was there."""
    grouped: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    deliveries = list(deliveries)
    days = run_days(deliveries)
    for d in deliveries:
        for kind, records in d.records.items():
            if kind not in KINDS:
                raise SpoolError(f"{d.delivery}: unknown record kind {kind!r}")
            for r in records:
                by_id = grouped.setdefault((kind, landed_path(kind, d.repo, r, days)), {})
                key = str(r["id"])
                stamp = KINDS[kind].stamp
                old = by_id.get(key)
                if old is None or stamp is None or stamp(r) >= stamp(old):
                    by_id[key] = r
    changed = 0
    for (kind, rel), by_id in grouped.items():
        spec = KINDS[kind]
        incoming = list(by_id.values())
        if spec.stamp is not None:
            existing = {str(r.get("id")): r for r in landing.read_records(rel, spec.shape)
                        if isinstance(r, dict)}
            incoming = [r for r in incoming if str(r["id"]) not in existing
                        or spec.stamp(r) >= spec.stamp(existing[str(r["id"])])]
        before = landing.records_written
        landing.merge(rel, incoming, lambda r: r["id"], spec.shape)
        changed += landing.records_written - before
    return changed


@dataclass
class DrainResult:
    deliveries: int = 0  # landed and removed from the spool
    records: int = 0  # records written to landed files (new or newer than what was there)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    loaded: bool = False
    logs: int = 0  # failed-job logs fetched

    def lines(self) -> list[str]:
        if not (self.deliveries or self.rejected):
            return []
        out = [f"webhook spool: {self.deliveries} delivery(ies) landed, {self.records} "
               f"record(s) written" + ("; loaded" if self.loaded else "")]
        if self.logs:
            out[0] += f"; {self.logs} failed-job log(s) fetched"
        out += [f"  rejected {name}: {reason}" for name, reason in self.rejected]
        return out


LogFetcher = Callable[[str, str, int], str | None]  # (repo, day, job_id) -> log text


def drain(spool_dir: Path, exports: Path, load: Callable[[], object] | None = None, *,
          fetch_log: LogFetcher | None = None, limit: int = 500) -> DrainResult:
    """Land what the spool holds, load it (`load`: the caller's build), then remove the files.

    A delivery that cannot be read or landed is moved to `rejected/` with its reason; any other
    failure (disk, the load) leaves every file in place for the next pass."""
    spool = Spool(spool_dir)
    result = DrainResult()
    paths = spool.pending()[:limit]
    if not paths:
        return result
    landing = Landing(exports)
    good: list[tuple[Path, Delivery]] = []
    for path in paths:
        try:
            item = spool.read(path)
            for kind, records in item.records.items():
                if kind not in KINDS:
                    raise SpoolError(f"unknown record kind {kind!r}")
                for r in records:
                    if not isinstance(r, dict) or "id" not in r:
                        raise SpoolError(f"a {kind} record has no id")
        except SpoolError as exc:
            spool.reject(path, str(exc))
            result.rejected.append((path.name, str(exc)))
            continue
        good.append((path, item))
    if not good:
        return result
    result.records = land(landing, (item for _, item in good))
    if fetch_log is not None:
        result.logs = _fetch_logs(landing, [item for _, item in good], fetch_log)
    if load is not None:
        load()
        result.loaded = True
    for path, _ in good:
        path.unlink(missing_ok=True)
    result.deliveries = len(good)
    return result


FAILED_JOB = {"failure", "timed_out", "startup_failure", "cancelled"}


def _fetch_logs(landing: Landing, items: list[Delivery], fetch_log: LogFetcher) -> int:
    """The log of each failed job, where the connector keeps it, so the ticket's excerpt is
    there without waiting for the next scheduled fetch."""
    fetched = 0
    days = run_days(items)
    for item in items:
        for job in item.records.get("jobs", []):
            if job.get("conclusion") not in FAILED_JOB:
                continue
            day = landed_path("jobs", item.repo, job, days).split("/")[2].split(".")[0]
            rel = f"github/logs/{day}/{job['id']}.txt"
            if landing.exists(rel):
                continue
            text = fetch_log(item.repo, day, int(job["id"]))
            if text is not None:
                from models.connectors.github import redact_log

                landing.write_bytes(rel, redact_log(text).encode("utf-8"))
                fetched += 1
    return fetched
