"""Template mining: put the messages of one log statement into one group.

Vectorised in polars. The pipeline is
1. fold digits and de-duplicate, so regex masking runs once per distinct message shape;
2. mask parameters (`normalise.mask_expr`) and de-duplicate again;
3. token-position statistics on the distinct masked messages, grouped by token count: a token's
   frequency is how many distinct messages carry it at that position. The frequency shared by most
   of a message's tokens marks its constant skeleton (tokens a statement always prints recur
   together); tokens rarer than that skeleton are candidate parameters;
4. inside a skeleton group, a candidate column that takes few distinct values splits the group
   (it is a constant that tells two statements apart); one that takes many becomes `<*>`.
Only distinct shapes are processed per step, so the cost per raw line is a byte-wise digit fold,
a hash and a join.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import polars as pl

from models.logs.normalise import WILDCARD, fold_digits, mask_expr

_SEP = "\x1f"
# One set of thresholds for every system (chosen by leave-one-system-out on loghub-dev; see
# benchmarks/bench_templates.py): a non-skeleton column with at most SPLIT_MAX values, or whose
# values each cover SPLIT_RATIO lines or more on average, is a constant that splits a group.
SPLIT_MAX = 3
SPLIT_RATIO = 32.0
_HOLE = "\x00"


def template_id(template: str) -> str:
    """Stable 16-hex id of a template text (same text, same id, in every run and release)."""
    return hashlib.sha256(template.encode("utf-8")).hexdigest()[:16]


def _as_series(messages: pl.Series | Iterable[str]) -> pl.Series:
    if isinstance(messages, pl.Series):
        s = messages.cast(pl.String)
    else:
        s = pl.Series("message", list(messages), dtype=pl.String)
    return s.fill_null("").rename("message")


def distinct_rows(s: pl.Series) -> tuple[pl.Series, pl.Series, pl.Series]:
    """Exact de-duplication: (each row's distinct id, first row of each id, rows per id).

    Rows are grouped on a 64-bit hash (cheap to group and join) and the grouping is then checked
    against the text itself; on a hash collision the text is grouped directly.
    """
    rows = pl.DataFrame({"h": s.hash()}).with_row_index("row")
    groups = rows.group_by("h", maintain_order=True).agg(
        pl.col("row").first().alias("rep"), pl.len().alias("w")
    )
    groups = groups.with_row_index("id")
    row_id = rows.join(groups.select("h", "id"), on="h", how="left", maintain_order="left")["id"]
    rep, w = groups["rep"], groups["w"]
    if not (s.gather(rep.gather(row_id)) == s).fill_null(True).all():
        texts = pl.DataFrame({"m": s}).with_row_index("row")
        groups = texts.group_by("m", maintain_order=True).agg(
            pl.col("row").first().alias("rep"), pl.len().alias("w")
        ).with_row_index("id")
        row_id = texts.join(groups.select("m", "id"), on="m", how="left", maintain_order="left")[
            "id"
        ]
        rep, w = groups["rep"], groups["w"]
    return row_id, rep, w


def _distinct_masked(s: pl.Series, weights: pl.Series) -> tuple[pl.Series, pl.DataFrame]:
    """Return each row's index into the distinct masked messages, and those messages."""
    folded = fold_digits(s)
    rows = pl.DataFrame({"folded": folded, "w": weights}).with_row_index("row")
    shapes = rows.group_by("folded", maintain_order=True).agg(
        pl.col("row").first().alias("rep"), pl.col("w").sum()
    )
    shapes = shapes.with_columns(
        masked=mask_expr(pl.lit(s.gather(shapes["rep"]))),
    )
    masked_ids = (
        shapes.group_by("masked", maintain_order=True).agg(pl.col("w").sum()).with_row_index("mid")
    )
    shapes = shapes.join(masked_ids.select("masked", "mid"), on="masked", how="left")
    row_mid = rows.join(
        shapes.select("folded", "mid"), on="folded", how="left", maintain_order="left"
    )["mid"]
    return row_mid, masked_ids


def _skeleton_groups(masked_ids: pl.DataFrame, split_max: int, split_ratio: float) -> pl.DataFrame:
    """Assign each distinct masked message (mid) a template text via position statistics."""
    toks = masked_ids.with_columns(tok=pl.col("masked").str.split(" ")).with_columns(
        n=pl.col("tok").list.len()
    )
    long = (
        toks.select("mid", "n", "tok", "w")
        .with_columns(pos=pl.int_ranges(0, pl.col("n")))
        .explode("tok", "pos")
    )
    long = long.with_columns(freq=pl.col("w").sum().over("n", "pos", "tok"))
    # The skeleton frequency: the frequency value most tokens of the message share (ties: the
    # higher one). Tokens at least that frequent are the statement's constant skeleton.
    lcp = (
        long.group_by("mid", "freq")
        .agg(pl.len().alias("k"))
        .sort(["mid", "k", "freq"], descending=[False, True, True])
        .group_by("mid", maintain_order=True)
        .agg(pl.col("freq").first().alias("lcp"))
    )
    long = long.join(lcp, on="mid").sort("mid", "pos")
    long = long.with_columns(
        skel=pl.when(pl.col("freq") >= pl.col("lcp")).then(pl.col("tok")).otherwise(pl.lit(_HOLE))
    )
    # Group keys are 64-bit hashes of the joined tokens: a long message's key is then not
    # copied onto each of its token rows.
    keys = long.group_by("mid", maintain_order=True).agg(
        pl.col("n").first(), pl.col("skel").str.join(_SEP).hash().alias("key1")
    )
    long = long.join(keys.select("mid", "key1"), on="mid")
    # Candidate columns inside a skeleton group: few distinct values -> a constant that splits
    # the group; many -> a parameter.
    col_card = (
        long.filter(pl.col("skel") == _HOLE)
        .group_by("n", "key1", "pos")
        .agg(pl.col("tok").n_unique().alias("card"), pl.col("w").sum().alias("rows"))
    )
    long = long.join(col_card, on=["n", "key1", "pos"], how="left")
    long = long.with_columns(
        key2=pl.when(pl.col("skel") != _HOLE)
        .then(pl.col("tok"))
        .when((pl.col("card") <= split_max) | (pl.col("card") * split_ratio <= pl.col("rows")))
        .then(pl.col("tok"))
        .otherwise(pl.lit(WILDCARD))
    )
    final = long.group_by("mid", maintain_order=True).agg(
        pl.col("n").first(), pl.col("key2").str.join(_SEP).hash().alias("key")
    )
    long = long.join(final.select("mid", "key"), on="mid")
    tmpl_tok = long.group_by("key", "pos").agg(
        pl.when(pl.col("tok").n_unique() == 1)
        .then(pl.col("tok").first())
        .otherwise(pl.lit(WILDCARD))
        .alias("t")
    )
    templates = (
        tmpl_tok.sort("key", "pos")
        .group_by("key", maintain_order=True)
        .agg(pl.col("t").str.join(" ").alias("template"))
    )
    return final.join(templates, on="key").select("mid", "template")


def mine_templates(
    messages: pl.Series | Iterable[str],
    *,
    weights: pl.Series | None = None,
    split_max: int = SPLIT_MAX,
    split_ratio: float = SPLIT_RATIO,
) -> pl.DataFrame:
    """Group messages by the log statement that printed them.

    Returns one row per input message, in input order, with `group_id` (stable hash of the
    template text) and `template` (masked text, `<*>` for parameters). `weights` says how many
    log lines each message stands for (callers that de-duplicated already); without it, exact
    duplicates are folded here first.
    """
    s = _as_series(messages)
    if s.len() == 0:
        return pl.DataFrame(schema={"group_id": pl.String, "template": pl.String})
    if weights is None:
        row_id, rep, w = distinct_rows(s)
        if rep.len() < s.len():
            mined = mine_templates(
                s.gather(rep), weights=w, split_max=split_max, split_ratio=split_ratio
            )
            return mined.select(pl.all().gather(row_id))
        weights = w
    row_mid, masked_ids = _distinct_masked(s, weights.cast(pl.UInt32))
    mid_tmpl = _skeleton_groups(masked_ids, split_max, split_ratio)
    ids = (
        mid_tmpl.select("template")
        .unique()
        .with_columns(group_id=pl.col("template").map_elements(template_id, return_dtype=pl.String))
    )
    mid_tmpl = mid_tmpl.join(ids, on="template")
    out = pl.DataFrame({"mid": row_mid}).join(mid_tmpl, on="mid", how="left", maintain_order="left")
    return out.select("group_id", "template")


def _compatible(a: list[str], b: list[str]) -> bool:
    """Same statement: no clashing constants, a shared constant, at most one position widened."""
    shared = widened = 0
    for x, y in zip(a, b, strict=True):
        if x == y:
            shared += x != WILDCARD
        elif x == WILDCARD or y == WILDCARD:
            widened += 1
        else:
            return False
    return shared > 0 and widened <= 1


class TemplateStore:
    """Templates that persist across batches, so group ids stay stable on streamed input.

    Each batch is mined on its own; a batch template that lines up token by token with a template
    stored by an earlier batch (same length, every position equal or a wildcard on either side,
    a shared constant, at most one position widened) takes the stored id, and the stored text
    widens to the wildcard where they differ. Ids are never renamed. Candidates are found through
    an index of (length, position, constant token), so a batch costs time in proportion to its
    own templates, not to their product with the table.
    """

    _MAX_CANDIDATES = 64

    def __init__(self) -> None:
        self._by_len: dict[int, list[tuple[str, list[str]]]] = {}
        self._exact: dict[str, tuple[int, int]] = {}
        self._index: dict[tuple[int, int, str], list[int]] = {}

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_len.values())

    def to_frame(self) -> pl.DataFrame:
        rows = [(gid, " ".join(toks)) for v in self._by_len.values() for gid, toks in v]
        return pl.DataFrame(
            rows, schema={"group_id": pl.String, "template": pl.String}, orient="row"
        )

    @classmethod
    def from_frame(cls, frame: pl.DataFrame) -> TemplateStore:
        store = cls()
        for gid, text in frame.select("group_id", "template").iter_rows():
            store._add(gid, text.split(" "))
        return store

    def _add(self, gid: str, toks: list[str]) -> None:
        bucket = self._by_len.setdefault(len(toks), [])
        idx = len(bucket)
        bucket.append((gid, toks))
        self._exact[" ".join(toks)] = (len(toks), idx)
        for pos, tok in enumerate(toks):
            if tok != WILDCARD:
                self._index.setdefault((len(toks), pos, tok), []).append(idx)

    def _resolve(self, template: str, known: int) -> tuple[str, str] | None:
        """Stored (id, text) for a batch template, looking only at the first `known` entries."""
        toks = template.split(" ")
        n = len(toks)
        hit = self._exact.get(template)
        bucket = self._by_len.get(n, [])
        if hit is not None and hit[1] < known:
            gid, stored = bucket[hit[1]]
            return gid, " ".join(stored)
        # A compatible template differs from this one in at most one position, so it shares
        # the token at one of any two constant positions: look up the two rarest.
        lists = sorted(
            (self._index.get((n, pos, tok), []) for pos, tok in enumerate(toks) if tok != WILDCARD),
            key=len,
        )
        cands = set(lists[0]).union(lists[1]) if len(lists) > 1 else set(lists[0] if lists else ())
        for idx in sorted(c for c in cands if c < known)[: self._MAX_CANDIDATES]:
            gid, stored = bucket[idx]
            if stored == toks:
                return gid, template
            if _compatible(stored, toks):
                merged = [x if x == y else WILDCARD for x, y in zip(stored, toks, strict=True)]
                bucket[idx] = (gid, merged)
                text = " ".join(merged)
                self._exact[text] = (n, idx)
                return gid, text
        return None

    def add_batch(
        self, messages: pl.Series | Iterable[str], weights: pl.Series | None = None
    ) -> pl.DataFrame:
        """Mine one batch; return `group_id`, `template` per message, in input order."""
        mined = mine_templates(messages, weights=weights)
        if mined.height == 0:
            return mined
        local = mined.select("template").unique(maintain_order=True)
        known = {n: len(b) for n, b in self._by_len.items()}
        gids: list[str] = []
        texts: list[str] = []
        for template in local["template"].to_list():
            found = self._resolve(template, known.get(template.count(" ") + 1, 0))
            if found is None:
                found = (template_id(template), template)
                self._add(found[0], template.split(" "))
            gids.append(found[0])
            texts.append(found[1])
        mapping = local.with_columns(
            pl.Series("gid", gids, dtype=pl.String), pl.Series("stored", texts, dtype=pl.String)
        )
        out = mined.join(mapping, on="template", how="left", maintain_order="left")
        return out.select(pl.col("gid").alias("group_id"), pl.col("stored").alias("template"))
