"""Incremental clustering keeps ids stable and merges near-identical failures."""

from __future__ import annotations

from models.logs.clusters import FailureItem, assign_clusters
from models.logs.fingerprint import fingerprint


def _item(*lines: str) -> FailureItem:
    return FailureItem(fingerprint(lines), tuple(lines))


A1 = _item("java.lang.IllegalStateException: connection pool exhausted", "\tat com.acme.Db.get")
A2 = _item("java.lang.IllegalStateException: connection pool exhausted!", "\tat com.acme.Db.get")
B1 = _item("error[E0308]: mismatched types", " --> src/main.rs:4:18")
C1 = _item("npm ERR! code ELIFECYCLE", "npm ERR! app build: `tsc`")


def test_near_identical_merge_and_distinct_split() -> None:
    out, created = assign_clusters([A1, A2, B1], [])
    assert out[0].cluster_id == out[1].cluster_id
    assert out[2].cluster_id != out[0].cluster_id
    assert [c.cluster_id for c in created] == [out[0].cluster_id, out[2].cluster_id]
    assert out[0].cluster_id == "c" + A1.fingerprint[:15]


def test_ids_stable_when_new_data_arrives() -> None:
    first, clusters = assign_clusters([A1, B1], [])
    later, created = assign_clusters([C1, A2, B1], clusters)
    assert later[1].cluster_id == first[0].cluster_id
    assert later[2].cluster_id == first[1].cluster_id
    assert later[0].is_new_cluster and [c.cluster_id for c in created] == [later[0].cluster_id]
    again, _ = assign_clusters([A1, B1], [])
    assert [a.cluster_id for a in again] == [a.cluster_id for a in first]


def test_same_fingerprint_same_cluster_and_empty_input() -> None:
    out, _ = assign_clusters([A1, A1], [])
    assert out[0].cluster_id == out[1].cluster_id
    assert assign_clusters([], []) == ([], [])
