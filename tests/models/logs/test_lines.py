"""Reading logs as lines: many logs in one polars pass give what one log at a time gives."""

from __future__ import annotations

import random

import polars as pl

from models.logs.lines import MAX_LINE_CHARS, LineBatch, iter_text_batches, text_batches_many

_PIECES = ("ok", "error: boom", "", " ", "\t", "é ✓ ✗", "x" * (MAX_LINE_CHARS + 17),
           "\x1b[31mred\x1b[0m", "50%", "-----BEGIN RSA PRIVATE KEY-----")
_BREAKS = ("\n", "\r\n", "\r", "\r\r\n", "\n\n")


def _random_log(rng: random.Random) -> str:
    n = rng.choice((0, 1, 2, 5, 40, 300))
    parts = [rng.choice(_PIECES) + rng.choice(_BREAKS) for _ in range(n)]
    text = "".join(parts)
    ending = rng.random()
    if ending < 0.3 and text:
        text = text.rstrip("\r\n")  # no final line break
    elif ending < 0.4:
        text += "tail without break\r"
    return text


def _plain(batches: list[LineBatch]) -> list[tuple[int, list[str], list[bool]]]:
    return [(b.first, b.text.to_list(), b.overwritten.to_list()) for b in batches]


def test_many_logs_at_once_equal_one_at_a_time() -> None:
    rng = random.Random(11)
    texts = [_random_log(rng) for _ in range(300)]
    texts += ["", "\r", "\n", "a\rb\r", "only\r\n", "x" * (3 * MAX_LINE_CHARS), "y\n" + "z" * 5000]
    many = text_batches_many(texts)
    assert len(many) == len(texts)
    for text, got in zip(texts, many, strict=True):
        assert _plain(got) == _plain(list(iter_text_batches(text))), repr(text[:80])


def test_columns_keep_their_names_and_types() -> None:
    (batch,) = text_batches_many(["a\nb\r\nc"])[0][:1]
    assert batch.text.name == "t" and batch.text.dtype == pl.String
    assert batch.overwritten.name == "ov" and batch.overwritten.dtype == pl.Boolean
    assert text_batches_many([]) == []
