"""Template mining: grouping accuracy and throughput, ours vs pip drain3, on loghub-dev.

Run: .venv/bin/python benchmarks/bench_templates.py
     [--repeat-to 2000000] [--fingerprint-lines 10000000] [--process-lines 400000]

Prints per system GA (ours, drain3) and lines/s on the 2k files; the leave-one-system-out figure
(thresholds chosen on 7 systems from a fixed grid, evaluated on the 8th); end-to-end throughput
in-process on the 8 files repeated to >= 2M lines (list of strings -> group ids), once as-is and
once with every digit of each copy re-randomised; then `followthrough fingerprint` against pip
drain3 as whole processes on the same input file (process start to last output line, redaction
on, output to /dev/null): loghub-dev lines repeated, and the lines of the ci-log-breakages logs
(passing and failing) repeated; finally the peak memory (max RSS) of `followthrough fingerprint`
streaming N generated lines through stdin.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from followthrough import benchrun  # noqa: E402
from models.logs.templates import SPLIT_MAX, SPLIT_RATIO, mine_templates  # noqa: E402

SHARED = Path(os.environ.get("FOLLOWTHROUGH_SHARED", REPO / ".." / "shared"))
LOGHUB = SHARED / "datasets" / "loghub-dev"
BREAKAGES = SHARED / "datasets" / "ci-log-breakages"

# The threshold grid searched by leave-one-system-out (split_max, split_ratio).
GRID = [(m, r) for m in (0, 1, 2, 3) for r in (2.0, 4.0, 6.0, 8.0, 12.0, 16.0, 32.0, 1e9)]

# The drain3 side of the process benchmark, shared with `followthrough bench`.
DRAIN3_PROCESS = benchrun.DRAIN3_PROCESS


def grouping_accuracy(truth: list[str], pred: list[object]) -> float:
    df = pl.DataFrame({"t": truth, "p": [str(p) for p in pred]})
    a = df.group_by("t").agg(pl.col("p").n_unique().alias("np"))
    b = df.group_by("p").agg(pl.col("t").n_unique().alias("nt"))
    ok = df.join(a, on="t").join(b, on="p")
    return ok.filter((pl.col("np") == 1) & (pl.col("nt") == 1)).height / df.height


def drain3_miner():  # type: ignore[no-untyped-def]
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
    return TemplateMiner(config=cfg)


def drain3_ids(messages: list[str]) -> list[int]:
    miner = drain3_miner()
    return [miner.add_log_message(m)["cluster_id"] for m in messages]


def perturb_digits(messages: list[str], seed: int) -> list[str]:
    rng = random.Random(seed)
    table = [str.maketrans("0123456789", "".join(rng.sample("0123456789", 10))) for _ in range(64)]
    return [m.translate(table[i % 64]) for i, m in enumerate(messages)]


def fingerprint_peak_rss(n_lines: int) -> tuple[float, float]:
    """Stream n generated lines through `followthrough fingerprint`; return (s, max RSS MB)."""
    code = (
        "import sys\n"
        "from followthrough.commands import fingerprint as f\n"
        "import argparse\n"
        "p=argparse.ArgumentParser();s=p.add_subparsers();f.register(s)\n"
        "a=p.parse_args(['fingerprint','-']);sys.exit(a.func(a))\n"
    )
    gen = (
        "import sys,random\n"
        "r=random.Random(1);w=sys.stdout.write\n"
        "msgs=['Received block blk_%d of size %d from /10.0.%d.%d','user %s logged in from %d',"
        "'Deleting file /data/%d/part-%05d.parquet','job %d failed after %d ms on node-%d']\n"
        f"for i in range({n_lines}):\n"
        "  t=msgs[i%4]\n"
        "  a=tuple(r.randrange(10**6) for _ in range(t.count('%')))\n"
        "  w((t%a if '%s' not in t else t.replace('%s','u'+str(a[0]))%a[1:])+'\\n')\n"
    )
    start = time.perf_counter()
    producer = subprocess.Popen([sys.executable, "-c", gen], stdout=subprocess.PIPE)
    consumer = subprocess.Popen(
        [sys.executable, "-c", code], stdin=producer.stdout, stdout=subprocess.DEVNULL, cwd=REPO
    )
    assert producer.stdout is not None
    producer.stdout.close()
    # wait4 reports the resources of this one child (RUSAGE_CHILDREN would be the largest of
    # every child so far, drain3 runs included).
    _, status, usage = os.wait4(consumer.pid, 0)
    producer.wait()
    elapsed = time.perf_counter() - start
    peak_mb = usage.ru_maxrss / 1024
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"fingerprint command failed with status {status}")
    return elapsed, peak_mb


def leave_one_out(systems: dict[str, tuple[list[str], list[str]]]) -> dict[str, tuple]:
    """Per held-out system: (thresholds chosen on the other 7, GA on it)."""
    scores = {
        params: {
            name: grouping_accuracy(
                truth, mine_templates(msgs, split_max=params[0], split_ratio=params[1])["group_id"]
                .to_list()
            )
            for name, (msgs, truth) in systems.items()
        }
        for params in GRID
    }
    out = {}
    for held in systems:
        best = max(
            GRID,
            key=lambda p: (
                sum(v for k, v in scores[p].items() if k != held),
                p == (SPLIT_MAX, SPLIT_RATIO),
            ),
        )
        out[held] = (best, scores[best][held])
    return out


def _process_seconds(cmd: list[str], path: Path, runs: int) -> tuple[float, float]:
    """Median wall seconds and CPU seconds (user + sys, all threads) of `cmd` over `runs`."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(cmd, stdout=subprocess.DEVNULL, cwd=REPO, check=False)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode != 0:
            raise SystemExit(f"{cmd[:4]} failed on {path} with exit code {done.returncode}")
    return sorted(walls)[len(walls) // 2], sorted(cpus)[len(cpus) // 2]


def process_throughput(lines: list[str], label: str, n: int, runs: int) -> None:
    """`followthrough fingerprint` vs drain3, whole processes, on the same file of n lines."""
    reps = -(-n // max(1, len(lines)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lines.txt"
        path.write_text("\n".join((lines * reps)[:n]) + "\n", encoding="utf-8")
        drain = [sys.executable, "-c", DRAIN3_PROCESS, str(path)]
        cli = [sys.executable, "-m", "followthrough.cli", "fingerprint", str(path)]
        own = [sys.executable, "-m", "followthrough.commands.fingerprint", str(path)]
        d_wall, d_cpu = _process_seconds(drain, path, 1)
        c_wall, c_cpu = _process_seconds(cli, path, runs)
        o_wall, o_cpu = _process_seconds(own, path, runs)
    print(f"\n{label}: {n:,} lines, whole processes (median of {runs} runs for ours)")
    print(f"  {'':<38} {'wall s':>7} {'lines/s':>11} {'x drain3':>9} {'cpu s':>7} {'x (cpu)':>8}")
    for name, wall, cpu in (
        ("drain3 (TemplateMiner, 1 run)", d_wall, d_cpu),
        ("followthrough fingerprint (CLI entry)", c_wall, c_cpu),
        ("python -m ...commands.fingerprint", o_wall, o_cpu),
    ):
        print(
            f"  {name:<38} {wall:>7.2f} {n / wall:>11,.0f} {d_wall / wall:>8.1f}x "
            f"{cpu:>7.2f} {d_cpu / cpu:>7.1f}x"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat-to", type=int, default=2_000_000)
    ap.add_argument("--fingerprint-lines", type=int, default=10_000_000)
    ap.add_argument("--skip-drain3-throughput", action="store_true")
    ap.add_argument("--process-lines", type=int, default=400_000)
    ap.add_argument("--process-runs", type=int, default=3)
    ap.add_argument("--process-sources", default="loghub,ci", help="comma-separated: loghub, ci")
    ap.add_argument("--skip-loo", action="store_true")
    args = ap.parse_args()

    files = sorted(LOGHUB.glob("*_2k.log_structured_corrected.csv"))
    if not files:
        raise SystemExit(f"no loghub files under {LOGHUB}")
    print(f"{'system':<10} {'GA ours':>8} {'GA drain3':>10} {'ours l/s':>10} {'drain3 l/s':>11}")
    all_msgs: list[str] = []
    ours_ga, drain_ga = [], []
    systems: dict[str, tuple[list[str], list[str]]] = {}
    for f in files:
        df = pl.read_csv(f, infer_schema=False)
        msgs = df["Content"].fill_null("").to_list()
        truth = df["EventTemplate"].to_list()
        all_msgs += msgs
        systems[f.name.split("_")[0]] = (msgs, truth)
        t = time.perf_counter()
        ours = mine_templates(msgs)["group_id"].to_list()
        t_ours = time.perf_counter() - t
        t = time.perf_counter()
        theirs = drain3_ids(msgs)
        t_drain = time.perf_counter() - t
        g1, g2 = grouping_accuracy(truth, ours), grouping_accuracy(truth, theirs)
        ours_ga.append(g1)
        drain_ga.append(g2)
        name = f.name.split("_")[0]
        print(
            f"{name:<10} {g1:>8.3f} {g2:>10.3f} {len(msgs) / t_ours:>10,.0f} "
            f"{len(msgs) / t_drain:>11,.0f}"
        )
    print(
        f"{'mean':<10} {sum(ours_ga) / len(ours_ga):>8.3f} {sum(drain_ga) / len(drain_ga):>10.3f}"
    )
    if not args.skip_loo:
        loo = leave_one_out(systems)
        print(f"\nleave-one-system-out (thresholds from {len(GRID)} grid points, chosen on 7):")
        for (name, (params, ga)), d in zip(loo.items(), drain_ga, strict=True):
            print(f"  {name:<10} held-out GA {ga:.3f} (split_max={params[0]}, "
                  f"split_ratio={params[1]:g})  drain3 {d:.3f}")
        held = [ga for _, ga in loo.values()]
        print(f"  {'mean':<10} held-out GA {sum(held) / len(held):.3f}  min {min(held):.3f}  "
              f"drain3 mean {sum(drain_ga) / len(drain_ga):.3f}")

    reps = -(-args.repeat_to // len(all_msgs))
    big = all_msgs * reps
    if big:
        print(f"\nthroughput on {len(big):,} lines ({reps} x the 8 files), list[str] -> group ids")
    for label, data in () if not big else (
        ("repeated", big),
        ("digits re-randomised per copy", perturb_digits(big, 7)),
    ):
        t = time.perf_counter()
        out = mine_templates(data)
        dt = time.perf_counter() - t
        print(
            f"  ours, {label}: {len(data) / dt:,.0f} lines/s "
            f"({dt:.2f} s, {out['group_id'].n_unique()} groups)"
        )
    if big and not args.skip_drain3_throughput:
        t = time.perf_counter()
        drain3_ids(big)
        dt = time.perf_counter() - t
        print(f"  drain3, repeated: {len(big) / dt:,.0f} lines/s ({dt:.2f} s)")

    sources = set(args.process_sources.split(","))
    if args.process_lines and "loghub" in sources:
        process_throughput(all_msgs, "loghub-dev lines repeated", args.process_lines,
                           args.process_runs)
    if args.process_lines and "ci" in sources:
        ci_lines: list[str] = []
        for log in sorted(BREAKAGES.glob("*/*.log")):
            text = log.read_text(encoding="utf-8", errors="replace")
            ci_lines += text.replace("\r\n", "\n").replace("\r", " ").split("\n")
        if ci_lines:
            process_throughput(ci_lines, "ci-log-breakages lines", args.process_lines,
                               args.process_runs)

    if args.fingerprint_lines:
        secs, peak = fingerprint_peak_rss(args.fingerprint_lines)
        print(
            f"\nfollowthrough fingerprint, {args.fingerprint_lines:,} lines via stdin: "
            f"{secs:.1f} s, peak RSS {peak:,.0f} MB"
        )


if __name__ == "__main__":
    main()
