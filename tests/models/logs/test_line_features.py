"""Line features: carriage returns, command blocks, and one frame for many logs."""

from __future__ import annotations

import polars as pl

from models.logs.line_features import (
    FEATURE_NAMES,
    feature_frame,
    feature_matrix,
    lines_frame,
    logs_frame,
    shown_overwritten,
)
from models.logs.lines import iter_text_batches
from models.logs.redact import redact_many

PEM_OPEN = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
)


def _frame(text: str) -> pl.DataFrame:
    return lines_frame(list(iter_text_batches(text)))


def test_cr_cr_lf_lines_are_content_and_progress_segments_are_not() -> None:
    # `\r\r\n` (macOS Travis, PowerShell): the text is what the terminal shows.
    frame = _frame("Expected: 1\r\r\nActual  : 2\r\r\nloading 10%\rloading 90%\rdone\n")
    got = dict(zip(frame["t"].to_list(), frame["ov"].to_list(), strict=True))
    assert got["Expected: 1"] is False and got["Actual  : 2"] is False
    assert got["loading 10%"] is True and got["loading 90%"] is True
    assert got["done"] is False


def test_shown_overwritten_stays_inside_each_log() -> None:
    text = pl.Series(["a", "", "b", ""])
    ov = pl.Series([False, True, True, False])
    # Row 1 ends log 0 and row 2 starts log 1: an empty first line of the next log does not
    # unhide the last segment of this one.
    g = pl.Series([0, 0, 1, 1])
    assert shown_overwritten(text, ov, g).to_list() == [False, True, False, False]


def test_logs_frame_equals_one_frame_per_log_and_redacts_each_log_alone() -> None:
    texts = [
        "$ deploy\n" + PEM_OPEN,  # a key left open at the end of the log
        "error: next log\ntoken ghp_" + "Zx9" * 12 + "\n",
        "a\r\r\nerror: x\r\r\n",
        "plain\nlines\n",
    ]
    logs = [list(iter_text_batches(t)) for t in texts]
    many = logs_frame(logs)
    alone = pl.concat([lines_frame(b, g=g) for g, b in enumerate(logs)])
    assert many.equals(alone)
    second = many.filter(pl.col("g") == 1)["t"].to_list()
    assert second[0] == "error: next log"  # the open key of log 0 does not spill over
    assert "[REDACTED:github_token]" in second[1]
    for g in range(len(texts)):
        want = redact_many(pl.concat([b.text for b in logs[g]]).to_list())
        assert many.filter(pl.col("g") == g)["t"].to_list() == want
    assert many["total"].to_list() == [3, 3, 3, 2, 2, 4, 4, 4, 4, 2, 2]


def test_command_blocks_tell_the_failing_command_from_the_passing_ones() -> None:
    log = (
        "$ make lint\nlint: 0 errors\nThe command \"make lint\" exited with 0.\n"
        "$ make test\nerror: test_x failed\nmore output\nThe command \"make test\" exited with 2.\n"
        "$ after\nbye\n"
    )
    feats = feature_frame(_frame(log)).select("c", "blk_bad", "blk_to_end")
    rows = {r["c"]: r for r in feats.iter_rows(named=True)}
    assert rows["lint: 0 errors"]["blk_bad"] == 0.0
    assert rows["error: test_x failed"]["blk_bad"] == 1.0
    assert rows["error: test_x failed"]["blk_to_end"] == 2
    assert rows['The command "make test" exited with 2.']["blk_to_end"] == 0
    assert rows["bye"]["blk_bad"] == 0.5  # no end marker after it: unknown
    assert feature_matrix(feature_frame(_frame(log))).shape == (9, len(FEATURE_NAMES))
