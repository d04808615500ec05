"""Incremental clustering of failures whose fingerprints differ but whose text is near-identical.

Items are compared by TF-IDF (character 3-5-grams of the masked excerpt) and cosine similarity.
Assignment is incremental and stable: an item joins the most similar existing cluster when the
similarity reaches `threshold`, otherwise it founds a new cluster whose id is derived from its own
fingerprint, so re-running on the same data yields the same ids and old ids never change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from models.logs.fingerprint import normalised_lines

DEFAULT_THRESHOLD = 0.8


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
    return "\n".join(normalised_lines(lines))


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
    texts = [cluster_text(item.lines) for item in new_items]
    corpus = [c.representative for c in clusters] + texts
    if not corpus or not any(t.strip() for t in corpus):
        matrix = None
    else:
        vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
        matrix = vec.fit_transform(corpus)
    rep_rows = list(range(len(clusters)))
    by_fp: dict[str, str] = {}
    known_ids = {c.cluster_id for c in clusters}
    created: list[Cluster] = []
    out: list[Assignment] = []
    for i, item in enumerate(new_items):
        if item.fingerprint in by_fp:
            out.append(Assignment(item.fingerprint, by_fp[item.fingerprint], 1.0, False))
            continue
        row = len(existing_clusters) + i
        best, best_sim = -1, 0.0
        if matrix is not None and rep_rows:
            sims = cosine_similarity(matrix[row], matrix[rep_rows]).ravel()
            best = int(np.argmax(sims))
            best_sim = float(sims[best])
        if best >= 0 and best_sim >= threshold:
            cid = clusters[best].cluster_id
            out.append(Assignment(item.fingerprint, cid, best_sim, False))
        else:
            cid = "c" + item.fingerprint[:15]
            suffix = 1
            while cid in known_ids:
                cid = f"c{item.fingerprint[:15]}-{suffix}"
                suffix += 1
            known_ids.add(cid)
            cluster = Cluster(cid, texts[i])
            clusters.append(cluster)
            created.append(cluster)
            rep_rows.append(row)
            out.append(Assignment(item.fingerprint, cid, 1.0, True))
        by_fp[item.fingerprint] = cid
    return out, created
