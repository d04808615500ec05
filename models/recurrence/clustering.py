"""Incremental cluster assignment over fingerprints, oldest failure first."""

from __future__ import annotations

import json
from collections.abc import Sequence

from models.logs import Assignment, Cluster, FailureItem, assign_clusters


def items_from_excerpts(rows: Sequence[tuple[str, str]]) -> list[FailureItem]:
    """(fingerprint, excerpt JSON) rows, one per distinct fingerprint, into clustering items."""
    items = []
    for fp, excerpt_json in rows:
        parsed = json.loads(excerpt_json or "[]")
        core = [line for line in parsed if not line.get("context")] or parsed
        lines = tuple(str(line["text"]) for line in core)
        items.append(FailureItem(fingerprint=fp, lines=lines))
    return items


def assign(
    rows: Sequence[tuple[str, str]], existing: Sequence[Cluster], threshold: float
) -> tuple[list[Assignment], list[Cluster]]:
    return assign_clusters(items_from_excerpts(rows), existing, threshold=threshold)
