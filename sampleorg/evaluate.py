"""Scoring a warehouse built from the sample organisation against its planted ground truth.

Used by the tests and by benchmarks/bench_recurrence.py; the pipeline itself never reads the
ground truth.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    predicted: int
    expected: int

    def __str__(self) -> str:
        return (f"precision {self.precision:.3f} recall {self.recall:.3f} "
                f"({self.predicted} predicted, {self.expected} expected)")


def _score(pred: set[Any], truth: set[Any]) -> Score:
    hit = len(pred & truth)
    return Score(hit / len(pred) if pred else 1.0, hit / len(truth) if truth else 1.0,
                 len(pred), len(truth))


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def recurrence_scores(exports: Path, warehouse: Path) -> dict[str, Score]:
    """Precision/recall of models.recurrences against the planted recurring failures.

    A link is (failed job, earlier ticket or postmortem about its root failure): expected for
    every failure of a planted pattern that happened after the ticket was created or the
    postmortem was reviewed; "fix did not hold" is expected for failures after the pattern's
    fix ticket closed, for patterns planted to recur.
    """
    truth = json.loads((exports / "groundtruth.json").read_text(encoding="utf-8"))
    tickets = {t["key"]: _ts(t["created_at"]) for t in truth["tickets"]}
    reviewed = {p["postmortem_id"]: _ts(p["identified_at"])
                for p in truth["postmortems"] if p.get("identified_at")}
    patterns = {p["pattern_id"]: p for p in truth["recurring_failures"]}
    job_pattern = {f["job_id"]: f["pattern_id"] for f in truth["failed_jobs"]}
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        failed_at = dict(conn.execute("SELECT job_id, failed_at FROM core.ci_failures").fetchall())
        rec = {
            r[0]: r[1:]
            for r in conn.execute(
                "SELECT job_id, prior_ticket_keys, prior_postmortem_ids, fix_did_not_hold "
                "FROM models.recurrences"
            ).fetchall()
        }
    finally:
        conn.close()
    exp_t: set[tuple[int, str]] = set()
    exp_p: set[tuple[int, str]] = set()
    exp_f: set[int] = set()
    for job, pid in job_pattern.items():
        if not pid or job not in failed_at:
            continue
        at = failed_at[job]
        p = patterns[pid]
        exp_t |= {(job, k) for k in p["ticket_keys"] if k in tickets and tickets[k] < at}
        exp_p |= {(job, d) for d in p["postmortem_ids"] if d in reviewed and reviewed[d] < at}
        if p["recurred_after_fix"] and p["fix_closed_at"] and _ts(p["fix_closed_at"]) < at:
            exp_f.add(job)
    got_t = {(j, k) for j, (ks, _, _) in rec.items() for k in ks}
    got_p = {(j, d) for j, (_, ds, _) in rec.items() for d in ds}
    got_f = {j for j, (_, _, fix) in rec.items() if fix}
    return {
        "prior_tickets": _score(got_t, exp_t),
        "prior_postmortems": _score(got_p, exp_p),
        "fix_did_not_hold": _score(got_f, exp_f),
    }


def cluster_purity(exports: Path, warehouse: Path) -> dict[str, float]:
    """How whole each planted pattern stays (share of its failures in its main cluster), and
    how clean (share of its main cluster's failures that belong to it)."""
    truth = json.loads((exports / "groundtruth.json").read_text(encoding="utf-8"))
    job_pattern = {f["job_id"]: f["pattern_id"] for f in truth["failed_jobs"]}
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = conn.execute("SELECT job_id, cluster_id FROM models.ci_failure_clusters").fetchall()
    finally:
        conn.close()
    cluster_of = dict(rows)
    members: dict[str, list[int]] = {}
    for job, cid in rows:
        members.setdefault(cid, []).append(job)
    whole = clean = total = 0
    for pid in {p for p in job_pattern.values() if p}:
        jobs = [j for j, p in job_pattern.items() if p == pid and j in cluster_of]
        if not jobs:
            continue
        counts: dict[str, int] = {}
        for j in jobs:
            counts[cluster_of[j]] = counts.get(cluster_of[j], 0) + 1
        main, n = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        whole += n
        clean += sum(1 for j in members[main] if job_pattern.get(j) == pid)
        total += len(members[main]) - n
    planted = sum(1 for p in job_pattern.values() if p)
    return {"completeness": whole / planted if planted else 1.0,
            "purity": clean / (clean + total) if clean + total else 1.0}
