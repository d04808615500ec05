"""TF-IDF of character n-grams within words, as scikit-learn's `TfidfVectorizer` computes it.

`TfidfVectorizer(analyzer="char_wb", ngram_range=(n, n), sublinear_tf=True)` with its other
defaults (lowercase, smoothed idf, L2-normalised rows), without importing scikit-learn: its
import takes about a second, more than clustering the handful of new failures of a day's build.
`tests/models/logs/test_tfidf.py` holds the two to the same matrix.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy import sparse

_WHITE_SPACES = re.compile(r"\s\s+")


def char_wb_ngrams(text: str, n: int) -> list[str]:
    """The n-grams of each word padded with a space on both sides; a padded word shorter
    than n counts as one n-gram (scikit-learn's `char_wb` analyzer, lowercased)."""
    out: list[str] = []
    for word in _WHITE_SPACES.sub(" ", text.lower()).split():
        w = f" {word} "
        if len(w) <= n:
            out.append(w)
        else:
            out.extend(w[i : i + n] for i in range(len(w) - n + 1))
    return out


def tfidf_matrix(corpus: Sequence[str], n: int = 4) -> sparse.csr_matrix:
    """Rows of sublinear-tf × smoothed-idf weights, L2-normalised: a row product is a cosine."""
    vocab: dict[str, int] = {}
    indptr = [0]
    indices: list[int] = []
    counts: list[int] = []
    for text in corpus:
        for gram, count in Counter(char_wb_ngrams(text, n)).items():
            indices.append(vocab.setdefault(gram, len(vocab)))
            counts.append(count)
        indptr.append(len(indices))
    cols = np.asarray(indices, dtype=np.int64)
    tf = 1.0 + np.log(np.asarray(counts, dtype=np.float64))
    df = np.bincount(cols, minlength=len(vocab)).astype(np.float64)
    idf = np.log((1.0 + len(corpus)) / (1.0 + df)) + 1.0
    values = tf * idf[cols]
    matrix = sparse.csr_matrix((values, cols, np.asarray(indptr, dtype=np.int64)),
                               shape=(len(corpus), len(vocab)))
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)
