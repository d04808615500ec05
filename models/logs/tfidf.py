"""TF-IDF of character n-grams within words, as scikit-learn's `TfidfVectorizer` computes it.

`TfidfVectorizer(analyzer="char_wb", ngram_range=(n, n), sublinear_tf=True)` with its other
defaults (lowercase, smoothed idf, L2-normalised rows), without importing scikit-learn: its
import takes about a second, more than clustering the handful of new failures of a day's build.
`tests/models/logs/test_tfidf.py` holds the two to the same matrix.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy import sparse


def _word_grams(word: str, n: int) -> list[str]:
    """The n-grams of a word padded with a space on both sides; a padded word shorter than n
    counts as one n-gram."""
    w = f" {word} "
    return [w] if len(w) <= n else [w[i : i + n] for i in range(len(w) - n + 1)]


def char_wb_ngrams(text: str, n: int) -> list[str]:
    """scikit-learn's `char_wb` analyzer, lowercased: the n-grams of each word in turn."""
    return [g for word in text.lower().split() for g in _word_grams(word, n)]


def _csr(rows: list[list[int]], values: list[list[int]], width: int) -> sparse.csr_matrix:
    indptr = np.cumsum([0] + [len(r) for r in rows], dtype=np.int64)
    indices = np.fromiter((i for r in rows for i in r), dtype=np.int64, count=int(indptr[-1]))
    data = np.fromiter((v for r in values for v in r), dtype=np.float64, count=int(indptr[-1]))
    return sparse.csr_matrix((data, indices, indptr), shape=(len(rows), width))


def tfidf_matrix(corpus: Sequence[str], n: int = 4) -> sparse.csr_matrix:
    """Rows of sublinear-tf × smoothed-idf weights, L2-normalised: a row product is a cosine.

    Failure texts repeat their words, so n-grams are cut once per distinct word: the n-gram
    counts are (texts × word counts) @ (words × n-gram counts)."""
    words: dict[str, int] = {}
    doc_words: list[list[int]] = []
    doc_counts: list[list[int]] = []
    for text in corpus:
        counted = Counter(text.lower().split())
        doc_words.append([words.setdefault(w, len(words)) for w in counted])
        doc_counts.append(list(counted.values()))
    vocab: dict[str, int] = {}
    word_grams: list[list[int]] = []
    gram_counts: list[list[int]] = []
    for word in words:
        counted = Counter(_word_grams(word, n))
        word_grams.append([vocab.setdefault(g, len(vocab)) for g in counted])
        gram_counts.append(list(counted.values()))
    counts = (_csr(doc_words, doc_counts, len(words))
              @ _csr(word_grams, gram_counts, len(vocab))).tocsr()
    counts.sum_duplicates()
    df = np.bincount(counts.indices, minlength=len(vocab)).astype(np.float64)
    idf = np.log((1.0 + len(corpus)) / (1.0 + df)) + 1.0
    weights = sparse.csr_matrix(((1.0 + np.log(counts.data)) * idf[counts.indices],
                                 counts.indices, counts.indptr), shape=counts.shape)
    norms = np.sqrt(np.asarray(weights.multiply(weights).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ weights)
