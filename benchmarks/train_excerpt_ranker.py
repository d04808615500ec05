"""Train the excerpt ranker on LogChunks and write models/logs/ranker.json.

Run: .venv/bin/python benchmarks/train_excerpt_ranker.py [--folds 5] [--no-write]

1. Every line of the 289 LogChunks logs gets the features of `models.logs.line_features`; a
   line is positive when it belongs to the log's hand-labelled chunk.
2. Cross-validation grouped by repository (no repository is in both the training and the
   test part of a fold): chunk recall of a 40-line excerpt chosen by `models.logs.excerpt`'s
   selection step from out-of-fold scores, next to the last-40-lines baseline.
3. The final model is fitted on all LogChunks logs and written as JSON (tree node arrays, no
   pickle) with its provenance: data, date, scikit-learn version, the CV figures, and the
   recall of the shipped model on ci-log-breakages (never used for training: held out whole).
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
from models.logs.excerpt import _choose, _eligible  # noqa: E402
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
    frame = pl.concat([lines_frame(list(iter_text_batches(lg.text)), g=i) for i, lg in enumerate(logs)])
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
    return x, y.to_numpy(), feats.select("g", "n", "c", "blank", "ov", "fold_start", "fold_end")


def fit(x: np.ndarray, y: np.ndarray, seed: int = 0):
    from sklearn.ensemble import HistGradientBoostingClassifier

    keep = y | (np.random.default_rng(seed).random(y.size) < NEGATIVE_RATE)
    model = HistGradientBoostingClassifier(random_state=seed, **PARAMS)
    model.fit(x[keep], y[keep])
    return model


def recalls(logs: list[ev.LabelledLog], feats: pl.DataFrame, prob: np.ndarray) -> np.ndarray:
    g = feats["g"].to_numpy()
    eligible = _eligible(feats)
    texts = feats["c"].to_list()
    bounds = np.searchsorted(g, np.arange(len(logs) + 1))
    out = []
    for i, lg in enumerate(logs):
        a, b = bounds[i], bounds[i + 1]
        chosen = _choose(prob[a:b], eligible[a:b], 40)
        out.append(ev.chunk_recall(lg, [texts[a + j] for j in chosen]))
    return np.array(out)


def grouped_cv(logs: list[ev.LabelledLog], x: np.ndarray, y: np.ndarray, feats: pl.DataFrame,
               folds: int) -> tuple[np.ndarray, np.ndarray]:
    repos = np.array([logs[i].repo for i in feats["g"].to_numpy()])
    names = np.array(sorted({lg.repo for lg in logs}))
    np.random.default_rng(1).shuffle(names)
    prob = np.zeros(y.size)
    for k in range(folds):
        test = np.isin(repos, names[k::folds])
        prob[test] = fit(x[~test], y[~test]).predict_proba(x[test])[:, 1]
        print(f"  fold {k + 1}/{folds}: {len(names[k::folds])} repositories held out", flush=True)
    return prob, recalls(logs, feats, prob)


def export(model, cv: dict) -> dict:
    import sklearn

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
        "features": list(FEATURE_NAMES),
        "baseline": float(np.ravel(model._baseline_prediction)[0]),
        "max_depth": depth,
        "trees": trees,
        "provenance": {
            "trained": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "data": "LogChunks dev split (shared/datasets/logchunks-dev): 289 failing Travis CI "
            "logs of 29 repositories, labelled failure chunks",
            "model": f"sklearn HistGradientBoostingClassifier {PARAMS}, negatives sampled at "
            f"{NEGATIVE_RATE}",
            "sklearn": sklearn.__version__,
            **cv,
        },
    }


def breakage_recall() -> dict:
    """The shipped model, end to end through `excerpt`, on ci-log-breakages (held out whole)."""
    from models.logs.excerpt import excerpt
    from models.logs.ranker import default_ranker

    default_ranker.cache_clear()
    logs = ev.load_breakages(SHARED / ev.BREAKAGES)
    plain, passing, base = [], [], []
    for lg in logs:
        a = excerpt(lg.text)
        b = excerpt(lg.text, passing=lg.passing)
        plain.append(ev.line_recall(lg, [x.n for x in a.lines]))
        passing.append(ev.line_recall(lg, [x.n for x in b.lines]))
        base.append(ev.line_recall(lg, [n for n, _ in ev.last_lines(lg.text)]))
    return {
        "breakages_logs": len(logs),
        "breakages_recall": round(float(np.mean(plain)), 3),
        "breakages_recall_with_passing": round(float(np.mean(passing)), 3),
        "breakages_last40": round(float(np.mean(base)), 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--smoke", action="store_true", help="a few logs and trees: checks the script")
    args = ap.parse_args()
    t0 = time.perf_counter()
    logs = ev.load_logchunks(SHARED / ev.LOGCHUNKS)
    if args.smoke:
        logs = logs[::10]
        PARAMS["max_iter"] = 5
    x, y, feats = featurise(logs)
    print(f"{len(logs)} logs, {y.size:,} lines, {int(y.sum()):,} labelled; "
          f"{time.perf_counter() - t0:.0f} s", flush=True)
    _, cv_recall = grouped_cv(logs, x, y, feats, args.folds)
    texts_last = [[t for _, t in ev.last_lines(lg.text)] for lg in logs]
    base = np.array([ev.chunk_recall(lg, t) for lg, t in zip(logs, texts_last, strict=True)])
    cv = {
        "cv": f"{args.folds}-fold cross-validation grouped by repository on LogChunks dev",
        "cv_chunk_recall": round(float(cv_recall.mean()), 3),
        "cv_last40_recall": round(float(base.mean()), 3),
        "cv_logs": len(logs),
    }
    print(f"LogChunks CV chunk recall {cv['cv_chunk_recall']:.3f}  "
          f"last 40 lines {cv['cv_last40_recall']:.3f}", flush=True)
    model = fit(x, y)
    data = export(model, cv)
    # The JSON trees must reproduce scikit-learn's own probabilities.
    sample = x[:: max(1, y.size // 20_000)]
    gap = np.abs(from_json(data).probability(sample) - model.predict_proba(sample)[:, 1]).max()
    if gap > 1e-4:
        raise SystemExit(f"exported ranker differs from the fitted model by {gap:.2g}")
    ARTEFACT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    data["provenance"].update(breakage_recall())
    ARTEFACT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(json.dumps(data["provenance"], indent=1))
    print(f"wrote {ARTEFACT} ({ARTEFACT.stat().st_size / 1024:.0f} KB); "
          f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
