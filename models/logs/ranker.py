"""The learned excerpt ranker: scores every line of a log by how likely it explains the failure.

The model is a small gradient-boosted tree ensemble trained by
`benchmarks/train_excerpt_ranker.py` and shipped as JSON (`ranker.json` beside this file: node
arrays, feature names and the training provenance). Inference is plain numpy, so neither
scikit-learn nor the training data is needed to excerpt a log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

ARTEFACT = Path(__file__).with_name("ranker.json")
FORMAT = "followthrough-excerpt-ranker/1"
_ROWS_PER_STEP = 4_096
GROW = 0.5  # a window takes neighbours scoring at least this share of its seed
SEED_FLOOR = 0.1  # no window starts at a line scoring under this share of the best line


@dataclass(frozen=True)
class Ranker:
    """A tree ensemble over `features`: margin = baseline + sum of one leaf value per tree.

    Node arrays of all trees are concatenated. A leaf points to itself (feature 0, threshold
    +inf), so every row takes exactly `depth` steps with no leaf test; `child[2 * node + 1]`
    is the right child (`x > threshold`), `child[2 * node]` the left one.
    """

    features: tuple[str, ...]
    baseline: float
    roots: np.ndarray  # index of each tree's root in the node arrays
    feature: np.ndarray
    threshold: np.ndarray
    child: np.ndarray
    value: np.ndarray
    depth: int
    provenance: dict[str, Any]

    def margin(self, x: np.ndarray) -> np.ndarray:
        """Raw score (log-odds) per row of `x` (columns in `features` order)."""
        if x.ndim != 2 or x.shape[1] != len(self.features):
            raise ValueError(
                f"ranker expects {len(self.features)} feature columns, got array of shape {x.shape}"
            )
        out = np.empty(x.shape[0], dtype=np.float64)
        width = x.shape[1]
        for a in range(0, x.shape[0], _ROWS_PER_STEP):
            rows = np.ascontiguousarray(x[a : a + _ROWS_PER_STEP], dtype=np.float64)
            flat = rows.ravel()
            base = (np.arange(rows.shape[0], dtype=np.int64) * width)[:, None]
            node = np.broadcast_to(self.roots, (rows.shape[0], self.roots.size)).copy()
            for _ in range(self.depth):
                right = flat[base + self.feature[node]] > self.threshold[node]
                node = self.child[2 * node + right]
            out[a : a + rows.shape[0]] = self.baseline + self.value[node].sum(axis=1)
        return out

    def probability(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.margin(x)))


def from_json(data: dict[str, Any], source: str = "ranker") -> Ranker:
    """Build a `Ranker` from the artefact's JSON object; a malformed one is named in the error."""
    if data.get("format") != FORMAT:
        raise ValueError(f"{source}: not an excerpt ranker (format {data.get('format')!r})")
    try:
        trees = data["trees"]
        sizes = [len(t["feature"]) for t in trees]
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)

        def cat(key: str, dtype: type) -> np.ndarray:
            return np.concatenate([np.asarray(t[key], dtype=dtype) for t in trees])

        shift = np.repeat(offsets, sizes)
        leaf = cat("leaf", bool)
        own = np.arange(leaf.size, dtype=np.int64)
        child = np.empty(2 * leaf.size, dtype=np.int64)
        child[0::2] = np.where(leaf, own, cat("left", np.int64) + shift)
        child[1::2] = np.where(leaf, own, cat("right", np.int64) + shift)
        if child.size and (child.min() < 0 or child.max() >= leaf.size):
            raise ValueError("a child index points outside its tree")
        return Ranker(
            features=tuple(data["features"]),
            baseline=float(data["baseline"]),
            roots=offsets,
            feature=np.where(leaf, 0, cat("feature", np.int64)),
            threshold=np.where(leaf, np.inf, cat("threshold", np.float64)),
            child=child,
            value=cat("value", np.float64),
            depth=int(data["max_depth"]),
            provenance=dict(data.get("provenance", {})),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{source}: malformed excerpt ranker: {exc}") from exc


def load(path: Path = ARTEFACT) -> Ranker:
    return from_json(json.loads(path.read_text()), str(path))


@lru_cache(maxsize=1)
def default_ranker() -> Ranker:
    """The shipped model, loaded once per process."""
    return load(ARTEFACT)


def select(
    score: np.ndarray,
    max_lines: int,
    grow: float = GROW,
    floor: float = SEED_FLOOR,
    seedable: np.ndarray | None = None,
) -> list[int]:
    """Positions of at most `max_lines` lines: contiguous windows around the best lines.

    The best line not yet chosen seeds a window; the window takes its better neighbour while that
    scores at least `grow` times the best line of the window, so a failure block comes whole and
    its noisy surroundings do not. Budget left after a window goes to the next best seed. A line
    scoring under `floor` times the best line seeds no window: the budget is a ceiling, not a
    quota to fill with noise. With `seedable`, only those lines seed windows (when one of them
    clears the floor; otherwise any line may).
    """
    size = score.size
    if size == 0:
        return []
    least = float(score.max()) * floor
    if seedable is not None and not np.any(seedable & (score >= least)):
        seedable = None
    chosen = np.zeros(size, dtype=bool)
    count = 0
    for seed in np.argsort(-score, kind="stable"):
        if count >= max_lines or score[seed] < least:
            break
        if chosen[seed] or (seedable is not None and not seedable[seed]):
            continue
        chosen[seed] = True
        count += 1
        lo = hi = int(seed)
        top = float(score[seed])
        while count < max_lines:
            left = score[lo - 1] if lo > 0 and not chosen[lo - 1] else -np.inf
            right = score[hi + 1] if hi + 1 < size and not chosen[hi + 1] else -np.inf
            best = max(left, right)
            if best == -np.inf or best < top * grow:
                break
            if right >= left:
                hi += 1
                chosen[hi] = True
            else:
                lo -= 1
                chosen[lo] = True
            top = max(top, float(best))
            count += 1
    return np.flatnonzero(chosen).tolist()
