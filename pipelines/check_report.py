"""What a failing asset check says: how many rows fail it and which, by id, in its description.

A check that only says "3 bad rows" sends the reader to write the query the check already ran;
naming the first few keys lets them open the record straight away.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

EXAMPLES = 10


@dataclass(frozen=True, slots=True)
class Offenders:
    """The rows failing one rule of a check: how many, and the keys of the first `EXAMPLES`."""

    key: str
    what: str
    count: int
    examples: list[str]

    def sentence(self) -> str:
        if not self.count:
            return f"no {self.what}"
        more = self.count - len(self.examples)
        tail = f" and {more} more" if more > 0 else ""
        return f"{self.count} {self.what}: {', '.join(self.examples)}{tail}"


def offenders(
    conn: duckdb.DuckDBPyConnection, key: str, what: str, sql: str, params: Sequence[Any] = ()
) -> Offenders:
    """Count the rows of `sql` and keep the first labels; `sql` selects `label` and `sort_key`."""
    count, examples = conn.execute(
        f"SELECT count(*), list(label ORDER BY sort_key, label)[:{EXAMPLES}] FROM ({sql})",
        list(params),
    ).fetchone()
    return Offenders(key, what, int(count), [str(e) for e in examples or []])


def describe(*found: Offenders) -> str:
    """One sentence per rule that some rows fail; "none" when every rule holds."""
    failing = [f.sentence() for f in found if f.count]
    return "; ".join(failing) if failing else "; ".join(f.sentence() for f in found)


def metadata(*found: Offenders, **extra: Any) -> dict[str, Any]:
    """`<key>` (count) and `<key>_examples` (ids) for each rule, plus any extra figures."""
    out: dict[str, Any] = dict(extra)
    for f in found:
        out[f.key] = f.count
        out[f"{f.key}_examples"] = f.examples
    return out
