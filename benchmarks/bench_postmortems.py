"""Throughput of the postmortem parser and linter on 10,000 varied documents.

Documents are the hand-written fixtures (thirteen styles, Markdown and HTML) with names, ticket
numbers, dates, times and list lengths varied per copy, plus generated documents that mix the
section styles. They are written to a temporary folder and read back with `parse_file`, as the
CLI and the warehouse ingestion do.

    .venv/bin/python benchmarks/bench_postmortems.py [--docs 10000] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.postmortems import lint, parse_file  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "postmortems"
NAMES = ["dana", "lee", "priya", "omar", "lena", "marta", "chen", "rosa", "felix", "hana", "ivan"]
KEY_RE = re.compile(r"\b([A-Z]{2,6})-(\d{1,5})\b")
DATE_RE = re.compile(r"\b20(\d{2})-(\d{2})-(\d{2})\b")


def _vary(text: str, rng: random.Random) -> str:
    shift = rng.randint(0, 400)
    text = KEY_RE.sub(lambda m: f"{m.group(1)}-{int(m.group(2)) + shift}", text)
    year = rng.randint(2019, 2026)
    text = DATE_RE.sub(lambda m: f"{year}-{m.group(2)}-{m.group(3)}", text)
    for name in ("dana", "lee", "omar"):
        text = text.replace(f"@{name}", f"@{rng.choice(NAMES)}")
    return text


def _generated(i: int, rng: random.Random) -> tuple[str, str]:
    """A Markdown postmortem mixing heading, bold-label and table styles."""
    n_items = rng.randint(1, 12)
    n_events = rng.randint(3, 40)
    n_cond = rng.randint(1, 9)
    day = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    h = rng.choice(["## {}", "### {}:", "**{}:**", "## 🔥 {}", "## 2. {}"])
    impact_h = rng.choice(["Impact", "Customer impact"])
    cond_h = rng.choice(["Root causes", "Contributing factors", "What went wrong", "Trigger"])
    ai_h = rng.choice(["Action items", "Follow-ups", "Remediation", "Corrective actions"])
    ver_h = rng.choice(["Verification", "Success criteria", "How we'll know"])
    lines = [
        f"# Incident {i}: service {rng.choice(['api', 'db', 'queue', 'ci'])} degraded — {day}",
        "",
        f"**Date:** {day}",
        f"**Review meeting:** {day} 16:00 UTC",
        "",
        h.format(impact_h),
        "",
        f"Requests failed for {rng.randint(5, 300)} minutes; about {rng.randint(10, 90000)} "
        "users were affected.",
        "",
        h.format("Timeline"),
        "",
        f"{day} (all times UTC)",
        "",
    ]
    if rng.random() < 0.5:
        lines += ["| Time (UTC) | Event |", "|---|---|"]
        lines += [
            f"| {8 + k // 60:02d}:{k % 60:02d} | event number {k} happened |"
            for k in range(n_events)
        ]
    else:
        lines += [
            f"- {8 + k // 60:02d}:{k % 60:02d} — event number {k} happened" for k in range(n_events)
        ]
    lines += ["", h.format(cond_h), ""]
    lines += [f"- condition {k}: the retry path had no budget" for k in range(n_cond)]
    lines += ["", h.format(ai_h), ""]
    if rng.random() < 0.5:
        lines += ["| Action | Owner | Ticket | Due | Status |", "|---|---|---|---|---|"]
        lines += [
            f"| Fix thing {k} | {rng.choice(NAMES)} | OPS-{i * 20 + k} | {day} | "
            f"{rng.choice(['Done', 'To do', 'In progress'])} |"
            for k in range(n_items)
        ]
    else:
        lines += [
            f"- [{rng.choice(' x')}] Fix thing {k} (owner: @{rng.choice(NAMES)}, "
            f"OPS-{i * 20 + k}, sprint 2025-S{rng.randint(1, 26):02d})"
            for k in range(n_items)
        ]
    if rng.random() < 0.8:
        lines += [
            "",
            h.format(ver_h),
            "",
            f"- CI pass rate on the {rng.choice(['api', 'web'])} suite > 9{rng.randint(0, 9)}% "
            f"for {rng.choice([14, 30, 60])} days",
            "- better tests",
        ]
    if rng.random() < 0.1:
        lines += ["", "The outage was caused by human error."]
    return "\n".join(lines) + "\n", ".md"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    bases = [(p.read_text(encoding="utf-8"), p.suffix) for p in sorted(FIXTURES.iterdir())]
    with tempfile.TemporaryDirectory() as tmp:
        paths: list[Path] = []
        total_bytes = 0
        for i in range(args.docs):
            if i % 2 == 0:
                text, suffix = bases[(i // 2) % len(bases)]
                text = _vary(text, rng)
            else:
                text, suffix = _generated(i, rng)
            p = Path(tmp) / f"pm-{i:05d}{suffix}"
            p.write_text(text, encoding="utf-8")
            total_bytes += len(text.encode())
            paths.append(p)
        per_doc: list[float] = []
        items = findings = 0
        start = time.perf_counter()
        for p in paths:
            t0 = time.perf_counter()
            pm = parse_file(p)
            items += len(pm.action_items)
            findings += len(lint(pm))
            per_doc.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - start
        parse_only = time.perf_counter()
        for p in paths[:2000]:
            parse_file(p)
        parse_rate = 2000 / (time.perf_counter() - parse_only)
    per_doc.sort()
    print(
        f"documents:            {args.docs} ({total_bytes / 1e6:.1f} MB, "
        f"{len(bases)} fixture styles + generated)"
    )
    print(f"parse + lint:         {elapsed:.2f} s  ->  {args.docs / elapsed:,.0f} docs/s")
    print(f"parse only (2,000):   {parse_rate:,.0f} docs/s")
    print(
        f"per document:         median {statistics.median(per_doc) * 1e3:.2f} ms, "
        f"p99 {per_doc[int(len(per_doc) * 0.99)] * 1e3:.2f} ms, max {per_doc[-1] * 1e3:.2f} ms"
    )
    print(f"action items:         {items}, findings: {findings}")
    print(
        f"target: 10,000 documents <= 30 s -> "
        f"{'met' if elapsed * 10_000 / args.docs <= 30 else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
