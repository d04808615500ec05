"""Train the excerpt ranker and write models/logs/ranker.json.

Run: .venv/bin/python benchmarks/train_excerpt_ranker.py [--folds 5]

1. Every line of the LogChunks dev logs and of the ci-log-breakages logs gets the features of
   `models.logs.line_features`; a line is positive when it belongs to the log's hand-labelled
   chunk (LogChunks) or is a marked error line (ci-log-breakages). A log's positives weigh as
   much as 40 lines at most, so a 2,000-line marked stack trace does not drown the rest.
2. Cross-validation grouped by repository over both sets (no repository is in both the training
   and the test part of a fold): LogChunks chunk recall and ci-log-breakages marked-line recall
   (with and without the passing log) of a 40-line excerpt chosen by `models.logs.excerpt`'s
   selection step (`pick_lines`) from out-of-fold scores, next to the last-40-lines baseline,
   and LogChunks recall per repository (the five worst go into the provenance).
3. The final model is fitted on all logs and written as JSON (tree node arrays, no pickle) with
   its provenance: data, date, scikit-learn version and the cross-validated figures; the JSON
   trees are checked against scikit-learn's own probabilities before writing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from models.logs import excerpt_eval as ev  # noqa: E402
from models.logs.excerpt import (  # noqa: E402
    _SEED_FLAGS,
    _command_left,
    _eligible,
    _keys_of_batches,
    _masked_keys,
    _seedable,
    pick_lines,
    selection_scores,
)
from models.logs.line_features import (  # noqa: E402
    FEATURE_NAMES,
    feature_frame,
    feature_matrix,
    lines_frame,
)
from models.logs.lines import iter_text_batches  # noqa: E402
from models.logs.ranker import ARTEFACT, FORMAT, from_json  # noqa: E402

SHARED = Path(os.environ.get("FOLLOWTHROUGH_SHARED", REPO / ".." / "shared"))
PARAMS = {
    "max_iter": 120,
    "max_depth": 5,
    "learning_rate": 0.1,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
}
NEGATIVE_RATE = 0.15  # share of negative lines kept for fitting (positives are all kept)


def featurise(logs: list[ev.LabelledLog]) -> tuple[np.ndarray, np.ndarray, pl.DataFrame]:
    """Feature matrix, labels and the columns evaluation needs (`seen`: line in the passing log)."""
    frame = pl.concat(
        [lines_frame(list(iter_text_batches(lg.text)), g=i) for i, lg in enumerate(logs)]
    )
    feats = feature_frame(frame)
    x = feature_matrix(feats)
    pos = pl.DataFrame(
        {
            "g": [i for i, lg in enumerate(logs) for _ in lg.positive],
            "n": [n for lg in logs for n in sorted(lg.positive)],
        },
        schema={"g": pl.Int32, "n": pl.Int64},
    ).with_columns(pl.lit(True).alias("y"))
    y = feats.select("g", "n").join(pos, on=["g", "n"], how="left")["y"].fill_null(False)
    keys = _masked_keys(feats["c"]).to_numpy()
    seen = np.zeros(feats.height, dtype=bool)
    g = feats["g"].to_numpy()
    for i, lg in enumerate(logs):
        if lg.passing is not None:
            rows = np.flatnonzero(g == i)
            known = _keys_of_batches(iter_text_batches(lg.passing))
            seen[rows] = np.isin(keys[rows], np.fromiter(known, dtype=np.uint64))
    cols = feats.select("g", "n", "c", "blank", "ov", "fold_start", "fold_end", "after_end",
                        "blk_bad", "blk_to_end", *_SEED_FLAGS)
    return x, y.to_numpy(), cols.with_columns(pl.Series("seen", seen))


def weights(logs: list[ev.LabelledLog], g: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A log's positives weigh as much as 40 lines at most: huge marked traces do not dominate."""
    per_log = np.array([max(1.0, len(lg.positive) / 40) for lg in logs])
    return np.where(y, 1.0 / per_log[g], 1.0)


def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, seed: int = 0):
    from sklearn.ensemble import HistGradientBoostingClassifier

    keep = y | (np.random.default_rng(seed).random(y.size) < NEGATIVE_RATE)
    model = HistGradientBoostingClassifier(random_state=seed, **PARAMS)
    model.fit(x[keep], y[keep], sample_weight=w[keep])
    return model


def recalls(logs: list[ev.LabelledLog], feats: pl.DataFrame, prob: np.ndarray,
            passing: bool = False) -> np.ndarray:
    """Per log: chunk recall (LogChunks) or marked-line recall (ci-log-breakages)."""
    g = feats["g"].to_numpy()
    eligible = _eligible(feats)
    seedable = _seedable(feats)
    seen = feats["seen"].to_numpy() if passing else None
    prob = selection_scores(prob, eligible, seedable, seen, feats["c"], g)
    left = _command_left(feats)
    texts = feats["c"].to_list()
    ns = feats["n"].to_numpy()
    bounds = np.searchsorted(g, np.arange(len(logs) + 1))
    out = []
    for i, lg in enumerate(logs):
        a, b = bounds[i], bounds[i + 1]
        chosen, _ = pick_lines(prob[a:b], eligible[a:b], seedable[a:b], left[a:b], texts[a:b], 40)
        if lg.chunk:
            out.append(ev.chunk_recall(lg, [texts[a + j] for j in chosen]))
        else:
            out.append(ev.line_recall(lg, [ns[a + j] for j in chosen]))
    return np.array(out)


def grouped_cv(logs: list[ev.LabelledLog], x: np.ndarray, y: np.ndarray, feats: pl.DataFrame,
               folds: int) -> np.ndarray:
    """Out-of-fold probabilities; each repository is held out whole in exactly one fold."""
    g = feats["g"].to_numpy()
    repos = np.array([lg.repo for lg in logs])[g]
    names = np.array(sorted({lg.repo for lg in logs}))
    np.random.default_rng(1).shuffle(names)
    w = weights(logs, g, y)
    prob = np.zeros(y.size)
    for k in range(folds):
        test = np.isin(repos, names[k::folds])
        prob[test] = fit(x[~test], y[~test], w[~test]).predict_proba(x[test])[:, 1]
        print(f"  fold {k + 1}/{folds}: {len(names[k::folds])} repositories held out", flush=True)
    return prob


def model_json(model, features: list[str]) -> dict:
    """A fitted HistGradientBoostingClassifier's trees in the shipped ranker's JSON format
    (`models.logs.ranker.from_json` reads it), without provenance."""
    trees = []
    depth = 0
    for (pred,) in model._predictors:
        nodes = pred.nodes
        depth = max(depth, int(nodes["depth"].max()))
        trees.append(
            {
                "feature": nodes["feature_idx"].astype(int).tolist(),
                "threshold": nodes["num_threshold"].astype(float).tolist(),
                "left": nodes["left"].astype(int).tolist(),
                "right": nodes["right"].astype(int).tolist(),
                "value": nodes["value"].astype(float).tolist(),
                "leaf": nodes["is_leaf"].astype(bool).tolist(),
            }
        )
    return {
        "format": FORMAT,
        "features": list(features),
        "baseline": float(np.ravel(model._baseline_prediction)[0]),
        "max_depth": depth,
        "trees": trees,
    }


def export(model, cv: dict) -> dict:
    import sklearn

    return {
        **model_json(model, list(FEATURE_NAMES)),
        "provenance": {
            "trained": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "data": "LogChunks dev split (datasets/logchunks-dev: failing Travis CI logs, "
            "labelled failure chunks) and ci-log-breakages (failing logs with marked error "
            "lines), from the project's reference data",
            "model": f"sklearn HistGradientBoostingClassifier {PARAMS}, negatives sampled at "
            f"{NEGATIVE_RATE}",
            "sklearn": sklearn.__version__,
            **cv,
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--oof", type=Path, help="also save the out-of-fold probabilities (.npy)")
    ap.add_argument("--smoke", action="store_true", help="a few logs and trees: checks the script")
    args = ap.parse_args()
    t0 = time.perf_counter()
    chunks = ev.load_logchunks(SHARED / ev.LOGCHUNKS)
    breakages = ev.load_breakages(SHARED / ev.BREAKAGES)
    if args.smoke:
        chunks, breakages = chunks[::10], breakages[::4]
        PARAMS["max_iter"] = 5
    logs = chunks + breakages
    x, y, feats = featurise(logs)
    print(f"{len(logs)} logs, {y.size:,} lines, {int(y.sum()):,} labelled; "
          f"{time.perf_counter() - t0:.0f} s", flush=True)
    prob = grouped_cv(logs, x, y, feats, args.folds)
    if args.oof:
        np.save(args.oof, prob)
    plain = recalls(logs, feats, prob)
    with_pass = recalls(logs, feats, prob, passing=True)
    lc = slice(0, len(chunks))
    br = slice(len(chunks), len(logs))
    base = np.array(
        [
            ev.chunk_recall(lg, [t for _, t in ev.last_lines(lg.text)]) if lg.chunk
            else ev.line_recall(lg, [n for n, _ in ev.last_lines(lg.text)])
            for lg in logs
        ]
    )
    n_repos = len({lg.repo for lg in logs})
    by_repo: dict[str, list[float]] = {}
    for lg, r in zip(chunks, plain[lc], strict=True):
        by_repo.setdefault(lg.repo, []).append(float(r))
    worst = sorted((float(np.mean(v)), k) for k, v in by_repo.items())
    print("LogChunks held-out chunk recall by repository (worst first):")
    for r, k in worst:
        print(f"  {r:.3f}  {k} ({len(by_repo[k])} logs)")
    cv = {
        "cv": f"{args.folds}-fold cross-validation grouped by repository over LogChunks dev and "
        f"ci-log-breakages ({n_repos} repositories; a repository is never in both parts)",
        "cv_chunk_recall": round(float(plain[lc].mean()), 3),
        "cv_last40_recall": round(float(base[lc].mean()), 3),
        "cv_logs": len(chunks),
        "cv_breakages_recall": round(float(plain[br].mean()), 3),
        "cv_breakages_recall_with_passing": round(float(with_pass[br].mean()), 3),
        "cv_breakages_last40": round(float(base[br].mean()), 3),
        "cv_breakages_logs": len(breakages),
        "cv_worst_repositories": {k: round(r, 3) for r, k in worst[:5]},
    }
    print(json.dumps(cv, indent=1), flush=True)
    model = fit(x, y, weights(logs, feats["g"].to_numpy(), y))
    data = export(model, cv)
    # The JSON trees must reproduce scikit-learn's own probabilities.
    sample = x[:: max(1, y.size // 20_000)]
    gap = np.abs(from_json(data).probability(sample) - model.predict_proba(sample)[:, 1]).max()
    if gap > 1e-4:
        raise SystemExit(f"exported ranker differs from the fitted model by {gap:.2g}")
    ARTEFACT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(json.dumps(data["provenance"], indent=1))
    print(f"wrote {ARTEFACT} ({ARTEFACT.stat().st_size / 1024:.0f} KB); "
          f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
