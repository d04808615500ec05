"""Incremental clustering of failures whose fingerprints differ but whose text is near-identical.

Items are compared by TF-IDF (character 4-grams of the masked excerpt) and cosine similarity.
The text compared is masked with the coarse template profile (every token with a digit and every
path become `<*>`), not the fingerprint's failure profile: a fingerprint tells failures apart by
file, image or error code; a cluster gathers the family, e.g. one rate limit hit while pulling
different images.
Assignment is incremental and stable: an item joins the most similar existing cluster when the
similarity reaches `threshold`, otherwise it founds a new cluster whose id is derived from its own
fingerprint, so re-running on the same data yields the same ids and old ids never change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.logs.fingerprint import normalised_lines, normalised_lines_many
from models.logs.tfidf import tfidf_matrix

DEFAULT_THRESHOLD = 0.8
# Character 4-grams within words: as discriminating as 3-5-grams on failure text, a third of
# the features per row (so a third of the cost of each similarity product).
_NGRAM = 4
_BLOCK = 1024  # new items compared per sparse product; bounds memory to _BLOCK x corpus


@dataclass(frozen=True, slots=True)
class FailureItem:
    fingerprint: str
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Cluster:
    cluster_id: str
    representative: str  # masked text of the founding member


@dataclass(frozen=True, slots=True)
class Assignment:
    fingerprint: str
    cluster_id: str
    similarity: float
    is_new_cluster: bool


def cluster_text(lines: Sequence[str]) -> str:
    return "\n".join(normalised_lines(lines, profile="template"))


def assign_clusters(
    new_items: Sequence[FailureItem],
    existing_clusters: Sequence[Cluster],
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> tuple[list[Assignment], list[Cluster]]:
    """Assign items (in the order given) to clusters; return assignments and the new clusters.

    Items with an equal fingerprint always share a cluster. Existing clusters are never renamed
    or merged, which keeps ids stable when new data arrives.
    """
    clusters = list(existing_clusters)
    texts = [
        "\n".join(n)
        for n in normalised_lines_many([item.lines for item in new_items], profile="template")
    ]
    corpus = [c.representative for c in clusters] + texts
    n_old = len(existing_clusters)
    matrix = None
    if corpus and any(t.strip() for t in corpus):
        matrix = tfidf_matrix(corpus, _NGRAM)  # rows are L2-normalised: dot = cosine
    by_fp: dict[str, str] = {}
    known_ids = {c.cluster_id for c in clusters}
    created: list[Cluster] = []
    founders: list[int] = []  # positions (in new_items) of items that founded a cluster
    founder_ids: list[str] = []
    out: list[Assignment] = []
    block: np.ndarray | None = None
    block_start = block_end = 0
    prev_founders = 0  # founders that existed when the current block was computed
    for i, item in enumerate(new_items):
        if item.fingerprint in by_fp:
            out.append(Assignment(item.fingerprint, by_fp[item.fingerprint], 1.0, False))
            continue
        best_sim, best_id = 0.0, None
        if matrix is not None:
            if block is None or i >= block_end:
                # One sparse product per block of new items, against the only rows an item can
                # join: existing clusters, founders so far, and the block's own items.
                block_start, block_end = i, min(i + _BLOCK, len(new_items))
                prev_founders = len(founders)
                cols = np.concatenate([
                    np.arange(n_old),
                    n_old + np.asarray(founders, dtype=np.int64),
                    np.arange(n_old + block_start, n_old + block_end),
                ]).astype(np.int64)
                rows = matrix[n_old + block_start : n_old + block_end]
                block = (rows @ matrix[cols].T).toarray()
            sims = block[i - block_start]
            in_block = n_old + prev_founders + (np.asarray(founders[prev_founders:]) - block_start)
            cand = np.concatenate([
                sims[: n_old + prev_founders],
                sims[in_block.astype(np.int64)] if in_block.size else np.empty(0),
            ])
            if cand.size:
                k = int(np.argmax(cand))
                best_sim = float(cand[k])
                best_id = clusters[k].cluster_id if k < n_old else founder_ids[k - n_old]
        if best_id is not None and best_sim >= threshold:
            cid = best_id
            out.append(Assignment(item.fingerprint, cid, best_sim, False))
        else:
            cid = "c" + item.fingerprint[:15]
            suffix = 1
            while cid in known_ids:
                cid = f"c{item.fingerprint[:15]}-{suffix}"
                suffix += 1
            known_ids.add(cid)
            cluster = Cluster(cid, texts[i])
            created.append(cluster)
            founders.append(i)
            founder_ids.append(cid)
            out.append(Assignment(item.fingerprint, cid, 1.0, True))
        by_fp[item.fingerprint] = cid
    return out, created
