"""Template mining: grouping accuracy and throughput, ours vs pip drain3, on loghub-dev.

Run: .venv/bin/python benchmarks/bench_templates.py
     [--repeat-to 2000000] [--fingerprint-lines 10000000]

Prints per system GA (ours, drain3) and lines/s on the 2k files, then end-to-end throughput on
the 8 files repeated to >= 2M lines (list of strings -> group ids), once as-is and once with every
digit of each copy re-randomised (so exact-duplicate caching cannot help), and finally the peak
memory (max RSS) of `followthrough fingerprint` streaming N generated lines through stdin.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from models.logs.templates import mine_templates  # noqa: E402

SHARED = Path(os.environ.get("FOLLOWTHROUGH_SHARED", REPO / ".." / "shared"))
LOGHUB = SHARED / "datasets" / "loghub-dev"


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
    consumer.wait()
    producer.wait()
    elapsed = time.perf_counter() - start
    # ru_maxrss of children = the largest child, i.e. the consumer (the generator is tiny).
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if consumer.returncode != 0:
        raise SystemExit(f"fingerprint command failed with exit code {consumer.returncode}")
    return elapsed, peak_mb


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat-to", type=int, default=2_000_000)
    ap.add_argument("--fingerprint-lines", type=int, default=10_000_000)
    ap.add_argument("--skip-drain3-throughput", action="store_true")
    args = ap.parse_args()

    files = sorted(LOGHUB.glob("*_2k.log_structured_corrected.csv"))
    if not files:
        raise SystemExit(f"no loghub files under {LOGHUB}")
    print(f"{'system':<10} {'GA ours':>8} {'GA drain3':>10} {'ours l/s':>10} {'drain3 l/s':>11}")
    all_msgs: list[str] = []
    ours_ga, drain_ga = [], []
    for f in files:
        df = pl.read_csv(f, infer_schema=False)
        msgs = df["Content"].fill_null("").to_list()
        truth = df["EventTemplate"].to_list()
        all_msgs += msgs
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

    reps = -(-args.repeat_to // len(all_msgs))
    big = all_msgs * reps
    print(f"\nthroughput on {len(big):,} lines ({reps} x the 8 files), list[str] -> group ids")
    for label, data in (
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
    if not args.skip_drain3_throughput:
        t = time.perf_counter()
        drain3_ids(big)
        dt = time.perf_counter() - t
        print(f"  drain3, repeated: {len(big) / dt:,.0f} lines/s ({dt:.2f} s)")

    if args.fingerprint_lines:
        secs, peak = fingerprint_peak_rss(args.fingerprint_lines)
        print(
            f"\nfollowthrough fingerprint, {args.fingerprint_lines:,} lines via stdin: "
            f"{secs:.1f} s, peak RSS {peak:,.0f} MB"
        )


if __name__ == "__main__":
    main()
