"""Benchmark the sample-organisation generator: wall time, peak RSS and output size.

Each scale runs in a fresh subprocess so peak RSS is per run. Usage:
    python benchmarks/bench_generate.py [--scales 1,6.7] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

_CHILD = """
import json, resource, sys, time
from pathlib import Path
from sampleorg import generate
t0 = time.perf_counter()
s = generate(Path(sys.argv[1]), seed=7, scale=float(sys.argv[2]))
print(json.dumps({"seconds": time.perf_counter() - t0, "jobs": s.counts["jobs"],
                  "failed_jobs": s.counts["failed_jobs"], "logs": s.counts["logs"],
                  "tickets": s.counts["tickets"], "postmortems": s.counts["postmortems"],
                  "mb": s.bytes_written / 1e6, "files": s.files_written,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scales", default="1,6.7", help="comma-separated scales (6.7 ~ 1M jobs)")
    ap.add_argument("--keep", type=Path, help="write outputs under DIR instead of a temp dir")
    args = ap.parse_args()
    for raw in args.scales.split(","):
        scale = float(raw)
        with tempfile.TemporaryDirectory(prefix="ft-bench-") as tmp:
            out = (args.keep or Path(tmp)) / f"scale-{scale}"
            res = subprocess.run([sys.executable, "-c", _CHILD, str(out), str(scale)],
                                 capture_output=True, text=True, check=True)
            r = json.loads(res.stdout.strip().splitlines()[-1])
            print(f"scale {scale:g}: {r['jobs']:,} jobs ({r['failed_jobs']:,} failed, "
                  f"{r['logs']:,} logs), {r['tickets']:,} tickets, {r['postmortems']} "
                  f"postmortems in {r['seconds']:.1f}s; peak RSS {r['peak_rss_mb']:.0f} MB; "
                  f"{r['mb']:.0f} MB in {r['files']:,} files", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
