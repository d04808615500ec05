"""Every SQL example in the warehouse docs runs, read-only, on a built sample warehouse."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from warehouse.readonly import query

DOCS = Path(__file__).resolve().parents[1] / "docs"
EXAMPLES = [
    (doc.name, i, sql)
    for doc in sorted(DOCS.glob("*.md"))
    for i, sql in enumerate(re.findall(r"```sql\n(.*?)```", doc.read_text(encoding="utf-8"), re.S))
]


@pytest.mark.parametrize(("doc", "index", "sql"), EXAMPLES, ids=[f"{d}#{i}" for d, i, _ in EXAMPLES])
def test_documented_sql_runs(sample_org: tuple[Path, Path], doc: str, index: int, sql: str) -> None:
    _, warehouse = sample_org
    result = query(sql, warehouse)
    assert result.columns, f"{doc} example {index} returned no columns"
