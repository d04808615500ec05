"""The clustering's own TF-IDF gives scikit-learn's `TfidfVectorizer` matrix."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from models.logs.clusters import cluster_text
from models.logs.tfidf import char_wb_ngrams, tfidf_matrix


def _assert_same(corpus: Sequence[str]) -> None:
    ours = tfidf_matrix(corpus, 4)
    ref = TfidfVectorizer(analyzer="char_wb", ngram_range=(4, 4), sublinear_tf=True)
    theirs = ref.fit_transform(corpus).tocsr()
    assert ours.shape == theirs.shape
    # Columns are numbered differently: compare what clustering uses, the row products, and
    # each row's sorted weights.
    np.testing.assert_allclose((ours @ ours.T).toarray(), (theirs @ theirs.T).toarray(),
                               rtol=0, atol=1e-12)
    for i in range(len(corpus)):
        np.testing.assert_allclose(np.sort(ours[i].data), np.sort(theirs[i].data),
                                   rtol=0, atol=1e-12)


def test_analyzer_matches_scikit_learn_on_edge_cases() -> None:
    analyzer = TfidfVectorizer(analyzer="char_wb", ngram_range=(4, 4)).build_analyzer()
    for text in ["", "a", "ab cd", "abc", "ABCD  efgh\t\tij\nk", "ı İstanbul Ǆ ß", "x" * 9,
                 "  leading and trailing  ", "tab\tsep\r\nwin"]:
        assert char_wb_ngrams(text, 4) == analyzer(text), text


def test_matrix_matches_scikit_learn_on_failure_texts() -> None:
    corpus = [
        "java.lang.IllegalStateException: connection pool exhausted\n\tat com.acme.Db.get",
        "java.lang.IllegalStateException: connection pool exhausted!\n\tat com.acme.Db.get",
        "error[E0308]: mismatched types\n --> src/main.rs:<*>:<*>",
        "npm ERR! code ELIFECYCLE\nnpm ERR! app build: `tsc`",
        "npm ERR! code ELIFECYCLE",
        "a",
        "Ünïcödé FAILED tests/test_x.py::test_y - AssertionError: 1 != 2",
    ]
    _assert_same(corpus)


@pytest.mark.requires_shared("datasets/ci-log-breakages")
def test_matrix_matches_scikit_learn_on_real_ci_logs(shared_dir: Path) -> None:
    """Masked texts of real failing CI logs, one per few lines, as clustering forms them."""
    corpus: list[str] = []
    for log in sorted((shared_dir / "datasets" / "ci-log-breakages").glob("*/fail.log")):
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
        corpus += [cluster_text(lines[i : i + 5]) for i in range(0, min(len(lines), 400), 5)]
    assert len(corpus) > 1000
    _assert_same(corpus)
