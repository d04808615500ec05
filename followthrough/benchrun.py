"""`followthrough bench`: the figures an operator sizes a machine by, measured as a user runs them.

Every build and every fingerprint run is a whole process (start-up included), so the figures are
what `followthrough build` costs on this machine, not what a warm interpreter costs. The sample
organisation is generated once per (jobs, seed) under the work directory and reused; the export
tree a build reads is a hard-linked copy of it without its last day, so the incremental figure
is "one more day of exports lands, then build again".
"""

from __future__ import annotations

import inspect
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

# Jobs the generator writes per unit of `--scale` (scale 1 ~ 150k jobs; 6.7 ~ 1M).
JOBS_PER_SCALE = 150_000
FINGERPRINT_LINES = 400_000
# Alternating rounds of the two fingerprinting processes; the median round is reported.
FINGERPRINT_ROUNDS = 3
DASHBOARD_REPEATS = 20
_ISO_PREFIX = re.compile(r"^\d{4}-\d\d-\d\dT\S+ ")
_DAY = re.compile(r"^\d{4}-\d\d-\d\d$")

# The drain3 side of the fingerprint comparison: the same file, mined line by line and printed,
# with the masking drain3's examples use (benchmarks/bench_templates.py uses this one).
DRAIN3_PROCESS = r"""
import sys
from drain3 import TemplateMiner
from drain3.masking import MaskingInstruction
from drain3.template_miner_config import TemplateMinerConfig

cfg = TemplateMinerConfig()
cfg.masking_instructions = [
    MaskingInstruction(
        r"((?<=[^A-Za-z0-9])|^)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})((?=[^A-Za-z0-9])|$)", "IP"
    ),
    MaskingInstruction(r"((?<=[^A-Za-z0-9])|^)(0x[a-f0-9A-F]+)((?=[^A-Za-z0-9])|$)", "HEX"),
    MaskingInstruction(r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+)((?=[^A-Za-z0-9])|$)", "NUM"),
]
cfg.profiling_enabled = False
miner = TemplateMiner(config=cfg)
write = sys.stdout.write
with open(sys.argv[1], encoding="utf-8", errors="replace") as fh:
    for line in fh:
        r = miner.add_log_message(line.rstrip("\n"))
        write(f"{r['cluster_id']}\t{r['template_mined']}\n")
"""

NOISE_NOTE = (
    "Measured on a shared machine: other work may have run at the same time (see load_average "
    "before and after); figures are single runs, except the dashboard queries (repeated)."
)


class BenchError(RuntimeError):
    """A stage of the benchmark failed; the message names the stage and the command's output."""


@dataclass
class Org:
    """A generated sample organisation and the day held back for the incremental build."""

    source: Path
    jobs: int
    failed_jobs: int
    logs: int
    scale: float
    last_day: str
    generate_s: float | None = None  # None: reused from an earlier run


@dataclass
class Sampler:
    """Peak resident memory of a process and its descendants, sampled from /proc."""

    pid: int
    interval: float = 0.1
    peak_bytes: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Sampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, tree_rss_pages(self.pid) * page)
            self._stop.wait(self.interval)


def tree_rss_pages(root: int) -> int:
    """Resident pages of `root` and every process below it (0 when /proc is not there)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0
    for name in entries:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields follow the last ')'.
        fields = stat[stat.rfind(")") + 2:].split()
        pid = int(name)
        parents[pid] = int(fields[1])
        rss[pid] = int(fields[21])
    total = 0
    for pid in rss:
        p = pid
        while p and p != root:
            p = parents.get(p, 0)
        if p == root:
            total += rss[pid]
    return total


def _env() -> dict[str, str]:
    """The environment a user's build sees: no FOLLOWTHROUGH_* overrides, this code importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOLLOWTHROUGH_")}
    code = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (code, env.get("PYTHONPATH", "")) if p)
    return env


def run_timed(cmd: Sequence[str], *, cwd: Path, stage: str, stdout: Any = subprocess.DEVNULL,
              ) -> tuple[float, int]:
    """Run `cmd` to the end: (wall seconds, peak RSS bytes of its process tree)."""
    seconds, peak, _ = run_measured(cmd, cwd=cwd, stage=stage, stdout=stdout)
    return seconds, peak


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_measured(cmd: Sequence[str], *, cwd: Path, stage: str, stdout: Any = subprocess.DEVNULL,
                 ) -> tuple[float, int, float]:
    """`run_timed` plus the CPU seconds (user + system) of the command and the children it
    waited for: on a busy machine wall time grows with the load, CPU time much less."""
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    proc = subprocess.Popen(list(cmd), cwd=cwd, env=_env(), stdout=stdout,
                            stderr=subprocess.PIPE, text=True)
    with Sampler(proc.pid) as sampler:
        _, err = proc.communicate()
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = "\n".join((err or "").strip().splitlines()[-15:])
        raise BenchError(f"{stage} failed (exit {proc.returncode}): {' '.join(cmd[2:6])} ...\n{tail}")
    return seconds, sampler.peak_bytes, _children_cpu() - cpu0


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "followthrough.cli", *args]


def day_of(rel: Path) -> str | None:
    """The UTC day a daily export file or folder belongs to (`2026-10-31.json`,
    `2026-10-31.owner__repo.json`, `logs/2026-10-31/…`); None for monthly and other files."""
    for part in rel.parts:
        head = part.split(".", 1)[0]
        if _DAY.match(head):
            return head
    return None


def ensure_org(workdir: Path, jobs: int, seed: int, log: Callable[[str], None]) -> Org:
    """The sample organisation for (jobs, seed): generated on first use, then reused."""
    scale = jobs / JOBS_PER_SCALE
    home = workdir / f"org-{jobs}-seed{seed}"
    source = home / "source"
    meta_path = home / "org.json"
    if meta_path.is_file() and (source / "groundtruth.json").is_file():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        log(f"reusing the sample organisation in {source}")
        return Org(source=source, jobs=meta["jobs"], failed_jobs=meta["failed_jobs"],
                   logs=meta["logs"], scale=meta["scale"], last_day=meta["last_day"])
    if source.exists():
        shutil.rmtree(source)  # a generation that did not finish
    home.mkdir(parents=True, exist_ok=True)
    log(f"generating {jobs:,} jobs (scale {scale:.4g}, seed {seed}) into {source}")
    from sampleorg import generate

    t0 = time.perf_counter()
    summary = generate(source, seed=seed, scale=scale)
    days = sorted({d for p in (source / "github" / "runs").glob("*.json")
                   if (d := day_of(Path(p.name)))})
    if not days:
        raise BenchError(f"the generated organisation in {source} has no daily CI exports")
    org = Org(source=source, jobs=summary.counts["jobs"],
              failed_jobs=summary.counts["failed_jobs"], logs=summary.counts["logs"],
              scale=scale, last_day=days[-1], generate_s=time.perf_counter() - t0)
    meta_path.write_text(json.dumps({"jobs": org.jobs, "failed_jobs": org.failed_jobs,
                                     "logs": org.logs, "scale": scale, "seed": seed,
                                     "last_day": org.last_day}), encoding="utf-8")
    return org


def link_tree(source: Path, target: Path, keep: Callable[[Path], bool]) -> int:
    """Hard-link (copy across file systems) the files of `source` that `keep` accepts."""
    n = 0
    for dirpath, _, files in os.walk(source):
        for name in files:
            src = Path(dirpath) / name
            rel = src.relative_to(source)
            if not keep(rel):
                continue
            dst = target / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)
            n += 1
    return n


def sample_log_lines(source: Path, limit: int) -> list[str]:
    """Up to `limit` log messages from the organisation's CI logs (timestamps cut, as the
    pipeline cuts them), cycled when the logs hold fewer lines."""
    lines: list[str] = []
    for path in sorted((source / "github" / "logs").glob("*/*.txt")):
        for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
            lines.append(_ISO_PREFIX.sub("", raw, count=1))
            if len(lines) >= limit:
                return lines
    if not lines:
        raise BenchError(f"no CI logs under {source / 'github' / 'logs'}")
    reps = -(-limit // len(lines))
    return (lines * reps)[:limit]


def fingerprint_rates(source: Path, workdir: Path, n_lines: int,
                      rounds: int = FINGERPRINT_ROUNDS) -> dict[str, Any]:
    """`followthrough fingerprint` and pip drain3, whole processes, on the same file of lines,
    alternating for `rounds` rounds (medians), so a burst of other load hits both sides."""
    path = workdir / "fingerprint-lines.txt"
    path.write_text("\n".join(sample_log_lines(source, n_lines)) + "\n", encoding="utf-8")
    try:
        import drain3  # noqa: F401 - only whether it is installed
    except ImportError:
        has_drain3 = False
    else:
        has_drain3 = True
    own: list[float] = []
    own_cpu: list[float] = []
    theirs: list[float] = []
    theirs_cpu: list[float] = []
    for _ in range(max(1, rounds)):
        s, _peak, cpu = run_measured(cli("fingerprint", str(path)), cwd=workdir,
                                     stage="followthrough fingerprint")
        own.append(s)
        own_cpu.append(cpu)
        if has_drain3:
            s, _peak, cpu = run_measured([sys.executable, "-c", DRAIN3_PROCESS, str(path)],
                                         cwd=workdir, stage="drain3")
            theirs.append(s)
            theirs_cpu.append(cpu)
    own_s = statistics.median(own)
    out: dict[str, Any] = {"fingerprint_lines": n_lines, "fingerprint_s": own_s,
                           "fingerprint_cpu_s": statistics.median(own_cpu),
                           "fingerprint_rounds": len(own),
                           "fingerprint_lines_per_s": n_lines / own_s}
    if not has_drain3:
        out.update(drain3_lines_per_s=None, drain3_s=None, fingerprint_vs_drain3=None,
                   drain3_reason="drain3 is not installed (it is not a runtime dependency): "
                                 "`pip install drain3` to compare")
    else:
        d_s = statistics.median(theirs)
        d_cpu = statistics.median(theirs_cpu)
        out.update(drain3_s=d_s, drain3_cpu_s=d_cpu, drain3_lines_per_s=n_lines / d_s,
                   fingerprint_vs_drain3=d_s / own_s,
                   fingerprint_vs_drain3_cpu=d_cpu / statistics.median(own_cpu),
                   drain3_version=metadata.version("drain3"))
    path.unlink()
    return out


def dashboard_reads() -> Iterator[tuple[str, Callable[..., Any]]]:
    """Every `load_*` reader of dashboards/reads that needs only the warehouse path."""
    import importlib
    import pkgutil

    import dashboards.reads as reads

    for mod_info in pkgutil.iter_modules(reads.__path__):
        mod = importlib.import_module(f"dashboards.reads.{mod_info.name}")
        for name, fn in sorted(vars(mod).items()):
            if not name.startswith("load_") or not inspect.isfunction(fn):
                continue
            if fn.__module__ != mod.__name__ or len(inspect.signature(fn).parameters) != 1:
                continue
            yield f"{mod_info.name}.{name}", fn


def dashboard_latency(warehouse: Path, repeats: int) -> dict[str, Any]:
    """Each dashboard read, as the app runs it (open read-only, query, close), `repeats` times:
    the page-load readers, and each reader of one choice (a cluster, a repository, a
    postmortem) on the heaviest choice the warehouse has."""
    from dashboards.reads.connection import TableMissing
    from dashboards.reads.drilldowns import sample_reads
    from dashboards.reads.failure_clusters import load_excerpt

    readers = [*dashboard_reads(), *sample_reads(warehouse)]
    conn = __import__("duckdb").connect(str(warehouse), read_only=True)
    try:
        row = conn.execute("SELECT provider, job_id FROM models.failure_excerpts "
                           "ORDER BY job_id LIMIT 1").fetchone()
    finally:
        conn.close()
    if row is not None:
        readers.append(("failure_clusters.load_excerpt",
                        lambda p, r=row: load_excerpt(p, r[0], int(r[1]))))
    times: list[float] = []
    per_read: dict[str, float] = {}
    missing: list[str] = []
    for name, fn in readers:
        mine: list[float] = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            try:
                fn(warehouse)
            except TableMissing as exc:
                missing.append(f"{name}: {exc}")
                break
            mine.append((time.perf_counter() - t0) * 1000)
        if mine:
            times += mine
            per_read[name] = statistics.median(mine)
    if not times:
        raise BenchError(f"no dashboard read succeeded against {warehouse}")
    return {
        "dashboard_query_p95_ms": percentile(times, 95),
        "dashboard_query_p50_ms": percentile(times, 50),
        "dashboard_query_max_ms": max(times),
        "dashboard_queries": len(times),
        "dashboard_reads": len(per_read),
        "dashboard_repeats": repeats,
        "dashboard_median_ms_by_read": {k: round(v, 2) for k, v in sorted(per_read.items())},
        "dashboard_reads_skipped": missing,
    }


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile, nearest rank (a measured value, not an interpolation)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def machine_info() -> dict[str, Any]:
    """What the figures were measured on."""
    mem_kb = None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    mem_kb = int(line.split()[1])
    except OSError:
        pass
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()

    def version(dist: str) -> str | None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    code = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=code, capture_output=True,
                                text=True, timeout=10).stdout.strip() or None
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                    cwd=code, capture_output=True, text=True,
                                    timeout=10).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        commit, dirty = None, None
    return {
        "cores": os.cpu_count(),
        "cores_usable": affinity,
        "memory_gb": round(mem_kb / 1024 / 1024, 1) if mem_kb else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": version("duckdb"),
        "dagster": version("dagster"),
        "polars": version("polars"),
        "followthrough": version("followthrough"),
        "git_commit": commit,
        "git_dirty": dirty,
    }


def _load() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def bench(jobs: int, seed: int, workdir: Path, *, fingerprint_lines: int = FINGERPRINT_LINES,
          repeats: int = DASHBOARD_REPEATS, build_options: Sequence[str] = (),
          log: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Measure everything; returns the JSON-ready result."""
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    load_before = _load()
    org = ensure_org(workdir, jobs, seed, log)
    run = workdir / f"run-{jobs}-seed{seed}"
    if run.exists():
        shutil.rmtree(run)
    exports, warehouse = run / "exports", run / "warehouse.duckdb"
    held = link_tree(org.source, exports, lambda rel: day_of(rel) != org.last_day)
    build = cli("build", "-q", "--exports", str(exports), "--warehouse", str(warehouse),
                *build_options)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    log(f"full build of {held:,} export files (all but {org.last_day})")
    full_s, full_peak, full_cpu = run_measured(build, cwd=run, stage="full build")
    added = link_tree(org.source, exports, lambda rel: day_of(rel) == org.last_day)
    log(f"incremental build: {added:,} files of {org.last_day} added")
    inc_s, inc_peak, inc_cpu = run_measured(build, cwd=run, stage="incremental build")
    # ru_maxrss is the largest single child so far (KiB on Linux): a floor for the sampled tree.
    children_max = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    largest_child = children_max * 1024 if children_max > children_before else 0
    peak = max(full_peak, inc_peak, largest_child)
    log(f"fingerprint vs drain3 on {fingerprint_lines:,} log lines")
    fingerprints = fingerprint_rates(org.source, run, fingerprint_lines)
    log(f"dashboard reads, {repeats} times each")
    dashboard = dashboard_latency(warehouse, repeats)
    result: dict[str, Any] = {
        "jobs_requested": jobs,
        "jobs": org.jobs,
        "failed_jobs": org.failed_jobs,
        "logs": org.logs,
        "seed": seed,
        "scale": org.scale,
        "generate_s": org.generate_s,
        "export_files": held + added,
        "full_materialize_s": full_s,
        "full_materialize_cpu_s": full_cpu,
        "incremental_day": org.last_day,
        "incremental_day_files": added,
        "incremental_day_s": inc_s,
        "incremental_day_cpu_s": inc_cpu,
        **fingerprints,
        **dashboard,
        "peak_rss_mb": peak / 1024 / 1024,
        "peak_rss_full_build_mb": full_peak / 1024 / 1024,
        "peak_rss_incremental_mb": inc_peak / 1024 / 1024,
        "peak_rss_method": "sum of RSS over the build process and its descendants, sampled from "
                           "/proc every 0.1 s; at least the largest child's ru_maxrss",
        "warehouse_mb": warehouse.stat().st_size / 1024 / 1024,
        "build_command": " ".join(["followthrough", *build[3:]]).replace(str(run) + "/", ""),
        "started_utc": started,
        "load_average_before": load_before,
        "load_average_after": _load(),
        "note": NOISE_NOTE,
        "machine": machine_info(),
    }
    result["targets"] = targets(result)
    return result


# The targets issue 13 sets for N = 1M jobs on a 2-core machine.
TARGETS: dict[str, tuple[str, float]] = {
    "full_materialize_s": ("<=", 300.0),
    "incremental_day_s": ("<=", 15.0),
    "fingerprint_vs_drain3": (">=", 10.0),
    "dashboard_query_p95_ms": ("<=", 200.0),
    "peak_rss_mb": ("<=", 4096.0),
}


def targets(result: dict[str, Any]) -> dict[str, Any]:
    """Each target and whether this run met it (None when the figure is missing)."""
    out: dict[str, Any] = {"for": "1,000,000 jobs on 2 cores"}
    for key, (op, bound) in TARGETS.items():
        value = result.get(key)
        met = None if value is None else (value <= bound if op == "<=" else value >= bound)
        out[key] = {"target": f"{op} {bound:g}", "met": met}
    return out
