"""A learned signature, measured: train a second model to choose the lines a fingerprint hashes.

Run: .venv/bin/python benchmarks/train_signature_model.py   (about 15 CPU minutes)

A failure's fingerprint hashes its excerpt's signature (`models.logs.excerpt._signature`, a
fixed rule over the ranker's scores). Which lines the ranker scores highest varies between runs
of one failure, so this study trains a second model to choose them and measures whether its
fingerprints group same-failure runs better. The result was *not* adopted (docs/logs.md,
"Fingerprints, logchunks-dev"): it raised precision and lowered recall on the held-out half.
The script stays so the comparison can be rerun against a changed ranker or rule.

1. Every LogChunks dev log is excerpted as the pipeline does (no passing log). Candidates are
   the `CANDIDATES` eligible lines the ranker scores highest; besides the ranker's features
   each gets its score, its score relative to the best failure-shaped non-wrapper line and its
   rank, whether it is failure-shaped, a wrapper or a warning head, its distance to that best
   line and where it sits in the run of lines scoring 0.1 or more around it.
2. A candidate is positive when its masked form (the fingerprint's failure profile) is one of
   the masked lines of the hand-labelled chunk. A log's positives weigh as much as
   `POSITIVE_CAP` lines at most.
3. Signature: candidates the model scores at least `THRESHOLD` (the best one when none does),
   best first, up to `LINES` lines (lines equal but for digits count once), in log order.
   `THRESHOLD` and `LINES` were chosen by leave-one-repository-out within the dev half (grid
   0.2-0.7 x 2-8 lines, best min(precision, recall)).
4. Same-failure pair precision and recall (`bench_fingerprints` truth), next to the shipped
   rule on the same logs: leave-one-repository-out within the dev half, leave-one-repository-out
   over all 29 repositories, and the model fitted on the dev half scored on the held-out half.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from itertools import combinations
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_fingerprints import LOGCHUNKS, chunk_lines, held_out, reference_form  # noqa: E402

from models.logs import excerpt as ex  # noqa: E402
from models.logs.fingerprint import fingerprint_many, normalised_lines_many  # noqa: E402
from models.logs.line_features import FEATURE_NAMES, feature_frame, feature_matrix  # noqa: E402
from models.logs.lines import iter_file_batches  # noqa: E402
from models.logs.ranker import FORMAT, Ranker, default_ranker, from_json  # noqa: E402

PARAMS = {
    "max_iter": 100,
    "max_depth": 4,
    "learning_rate": 0.1,
    "min_samples_leaf": 20,
    "l2_regularization": 1.0,
}
POSITIVE_CAP = 10  # a log's positives weigh as much as this many lines at most
CANDIDATES = 64
THRESHOLD = 0.3
LINES = 3
EXTRA = ("p", "p_rel", "rank", "seed", "wrapper", "warning", "to_top", "to_top_abs",
         "run_before", "run_length", "in_top_run")
_WARNING_HEAD = re.compile(r"(?i)^\W*(?:\S+:\d+(?::\d+)?:\s*)?(?:\[?warn(?:ing)?\]?\b|deprecat)")


def _streak(hi: np.ndarray) -> np.ndarray:
    """Per position: how many consecutive `hi` positions end there (0 where `hi` is false)."""
    at = np.arange(hi.size)
    return at - np.maximum.accumulate(np.where(hi, -1, at))


def candidates(
    prob: np.ndarray, eligible: np.ndarray, seedable: np.ndarray, texts: list[str], x: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rows the model reads and their features (`x`: ranker features of the eligible rows)."""
    erows = np.flatnonzero(eligible)
    if erows.size == 0:
        return erows, np.zeros((0, x.shape[1] + len(EXTRA)), dtype=np.float32)
    p = prob[erows]
    order = np.argsort(-p, kind="stable")
    pick = np.sort(order[:CANDIDATES])
    rank = np.empty(erows.size)
    rank[order] = np.arange(erows.size)
    rows = erows[pick]
    wrapper = np.array([ex._WRAPPER.search(texts[r]) is not None for r in rows], dtype=bool)
    warning = np.array([_WARNING_HEAD.search(texts[r].strip()) is not None for r in rows],
                       dtype=bool)
    seeds = seedable[erows] & np.array(
        [ex._WRAPPER.search(texts[r]) is None for r in erows], dtype=bool
    )
    pool = np.flatnonzero(seeds) if seeds.any() else np.arange(erows.size)
    top_k = int(pool[np.argmax(p[pool])])
    top = max(float(p[top_k]), 1e-9)
    hi = p >= 0.1
    before = np.concatenate([[0], _streak(hi)[:-1]])
    after = np.concatenate([_streak(hi[::-1])[::-1][1:], [0]])
    dist = (pick - top_k).astype(np.float64)
    extra = np.column_stack([
        p[pick], p[pick] / top, np.log1p(rank[pick]), seedable[rows], wrapper, warning,
        np.clip(dist, -50, 50), np.log1p(np.abs(dist)), np.log1p(before[pick]),
        np.log1p(before[pick] + after[pick] + 1),
        (pick - before[pick] <= top_k) & (top_k <= pick + after[pick]),
    ])
    return rows, np.hstack([x[pick], extra]).astype(np.float32)


class Log:
    """One labelled log as the signature step sees it."""

    def __init__(self, row: dict) -> None:
        self.repo: str = row["repo"]
        self.truth = reference_form(row["chunk"])
        pool = ex._Pool(default_ranker())
        for batch in iter_file_batches(LOGCHUNKS / row["log"]):
            pool.feed(batch)
        feats = feature_frame(pool.frame())
        self.eligible = ex._eligible(feats)
        self.seedable = ex._seedable(feats)
        self.x = feature_matrix(feats.filter(pl.Series(self.eligible)))
        self.prob = np.zeros(feats.height)
        self.prob[self.eligible] = default_ranker().probability(self.x)
        self.texts: list[str] = feats["c"].to_list()
        self.rule = ex._signature(self.prob, self.eligible, self.seedable, self.texts)
        self.rows, self.features = candidates(
            self.prob, self.eligible, self.seedable, self.texts, self.x
        )
        self.chunk = chunk_lines(row["chunk"])
        self.y = np.zeros(self.rows.size, dtype=bool)

    def signature(self, model: Ranker) -> tuple[str, ...]:
        """The model's signature of this log (see the module doc, step 3)."""
        if self.rows.size == 0:
            return self.rule
        q = model.probability(self.features)
        ok = np.flatnonzero(q >= THRESHOLD)
        if ok.size == 0:
            ok = np.array([int(np.argmax(q))])
        picked: list[int] = []
        seen: set[str] = set()
        for k in ok[np.argsort(-q[ok], kind="stable")]:
            key = ex._DIGITS.sub("0", self.texts[self.rows[k]].strip())
            if len(picked) < LINES and key not in seen:
                seen.add(key)
                picked.append(int(self.rows[k]))
        return tuple(self.texts[i] for i in sorted(picked))


def label(logs: list[Log]) -> None:
    """Candidates whose masked form is a masked line of the log's labelled chunk."""
    cands = normalised_lines_many([[log.texts[r]] for log in logs for r in log.rows])
    chunks = normalised_lines_many([log.chunk for log in logs])
    at = 0
    for log, chunk in zip(logs, chunks, strict=True):
        wanted = set(chunk)
        log.y = np.array([bool(c) and c[0] in wanted for c in cands[at : at + log.rows.size]],
                         dtype=bool)
        at += log.rows.size


def fit(logs: list[Log], seed: int = 0):
    from sklearn.ensemble import HistGradientBoostingClassifier

    use = [log for log in logs if log.rows.size]
    x = np.vstack([log.features for log in use])
    y = np.concatenate([log.y for log in use])
    w = np.concatenate(
        [np.where(log.y, 1.0 / max(1.0, log.y.sum() / POSITIVE_CAP), 1.0) for log in use]
    )
    model = HistGradientBoostingClassifier(random_state=seed, **PARAMS)
    return model.fit(x, y, sample_weight=w)


def as_ranker(model) -> Ranker:
    """The fitted trees in the shipped ranker's JSON format, read back by its loader (so the
    figures are those of the numpy inference the pipeline would run)."""
    trees = []
    depth = 0
    for (pred,) in model._predictors:
        nodes = pred.nodes
        depth = max(depth, int(nodes["depth"].max()))
        trees.append({
            "feature": nodes["feature_idx"].astype(int).tolist(),
            "threshold": nodes["num_threshold"].astype(float).tolist(),
            "left": nodes["left"].astype(int).tolist(),
            "right": nodes["right"].astype(int).tolist(),
            "value": nodes["value"].astype(float).tolist(),
            "leaf": nodes["is_leaf"].astype(bool).tolist(),
        })
    return from_json({
        "format": FORMAT,
        "features": [*FEATURE_NAMES, *EXTRA],
        "baseline": float(np.ravel(model._baseline_prediction)[0]),
        "max_depth": depth,
        "trees": trees,
    }, "signature model")


def pairs(logs: list[Log], sigs: list[tuple[str, ...]], which: list[bool]) -> tuple[float, float]:
    """Same-failure pair precision and recall within each repository, over logs in `which`."""
    fps = fingerprint_many([list(s) for s in sigs])
    by_repo: dict[str, list[int]] = defaultdict(list)
    for i, log in enumerate(logs):
        if which[i]:
            by_repo[log.repo].append(i)
    tp = pred = true = 0
    for idx in by_repo.values():
        for a, b in combinations(idx, 2):
            t = logs[a].truth == logs[b].truth
            p = fps[a] == fps[b]
            tp += t and p
            pred += p
            true += t
    return (tp / pred if pred else 1.0, tp / true if true else 1.0)


def leave_one_out(logs: list[Log], repos: list[str]) -> list[tuple[str, ...]]:
    """Each repository's signatures from a model fitted on the other repositories of `repos`."""
    sigs: list[tuple[str, ...]] = [() for _ in logs]
    for r in repos:
        model = as_ranker(fit([log for log in logs if log.repo in repos and log.repo != r]))
        for i, log in enumerate(logs):
            if log.repo == r:
                sigs[i] = log.signature(model)
    return sigs


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    t0 = time.perf_counter()
    rows = [json.loads(line) for line in
            (LOGCHUNKS / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    logs = [Log(r) for r in rows]
    label(logs)
    repos = sorted({log.repo for log in logs})
    dev = [r for r in repos if not held_out(r)]
    splits = {
        "all": [True] * len(logs),
        "dev": [not held_out(log.repo) for log in logs],
        "held-out": [held_out(log.repo) for log in logs],
    }
    print(f"{len(logs)} logs, {sum(log.rows.size for log in logs):,} candidates, "
          f"{sum(int(log.y.sum()) for log in logs):,} positive; {time.perf_counter() - t0:.0f} s",
          flush=True)
    def show(what: str, sigs: list[tuple[str, ...]], which: list[bool]) -> None:
        p, r = pairs(logs, sigs, which)
        print(f"{what}: precision {p:.3f} recall {r:.3f}", flush=True)

    rule = [log.rule for log in logs]
    for name, which in splits.items():
        show(f"shipped rule, {name}", rule, which)
    show(f"model, leave-one-repository-out within dev ({len(dev)} repositories)",
         leave_one_out(logs, dev), splits["dev"])
    every = leave_one_out(logs, repos)
    for name, which in splits.items():
        show(f"model, leave-one-repository-out over all {len(repos)}, {name}", every, which)
    on_dev = as_ranker(fit([log for log in logs if not held_out(log.repo)]))
    show("model fitted on dev, held-out", [log.signature(on_dev) for log in logs],
         splits["held-out"])
    print(f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
