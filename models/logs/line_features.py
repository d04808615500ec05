"""Per-line features of a failing CI log, for the learned excerpt ranker.

Every feature is a vectorised polars expression over a frame of lines (`g` log id, `n` line
number, `t` redacted text, `ov` overwritten progress segment, `total` lines in the log). The
same function serves training (whole logs) and inference (whole small logs, or the bounded pool
of lines the streaming pass kept from a huge log), so the model sees the same numbers in both.

Tool-specific shapes (pytest, Maven, go test, cargo, npm, Travis, GitHub Actions, ...) are
features, not rules: the model learns how much each is worth next to position, block structure
and boiler-plate signs (licence text, sudoers files, echoed scripts, file listings).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from models.logs.lines import _ANSI, _CI_PREFIX, LineBatch
from models.logs.redact import HINT, opens_key_block, redact_series

# Flags: name -> Rust-regex (polars) pattern, matched on the cleaned line.
FLAGS: dict[str, str] = {
    "gh_error": r"^##\[error\]|^::error\b",
    "traceback": r"Traceback \(most recent call last\)",
    "py_e": r"^\s*E {2,}\S|^_{3,} \S.* _{3,}$|^(?:FAILED|ERROR) \S+::",
    "banner_fail": r"^[=_-]{3,} .*\b(?:FAILURES|ERRORS|failed|errors?)\b.* [=_-]{3,}$",
    "go_fail": r"^\s*--- FAIL:|^FAIL\b|^\s*panic:|^goroutine \d+ \[",
    "rust": r"panicked at|^error(?:\[E\d{4}\])?:|^\s*-->\s+\S+:\d+:\d+",
    "compiler": r"\S+:\d+:(?:\d+:)?\s*(?:fatal )?error\b|\berror (?:C|CS|TS|LNK)\d{3,5}\b",
    "npm": r"(?i)npm ERR!|yarn error|error Command failed|ERR_PNPM_",
    "jest": r"^\s*●\s|^\s*✕|^\s*(?:×|✗|✘)\s|\bTests?:\s+\d+ failed",
    "maven_error": r"^\[ERROR\]|^ERROR:|^\[error\]|^\s*ERROR\b",
    "fatal": r"\bFATAL\b|^fatal:|(?i)\bfatal error\b",
    "java_exc": r"(?:^|\s)(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:Error|Exception|Failure)\b",
    "exc_name": r"\b[A-Z]\w*(?:Error|Exception)\b",
    "assertion": r"(?i)\bassert|\bexpected\b|\bactual\b|\bbut (?:was|got)\b|\bto (?:equal|be)\b"
    r"|\bdiffer|!=|\bnot equal|\bgot\b.*\bwant\b",
    "test_summary": r"Tests run:.*(?:Failures: [1-9]|Errors: [1-9])|\bTests in error\b"
    r"|\bFailed tests?:|(?i)\b[1-9]\d* (?:failed|failures?|errors?|failing)\b",
    "build_fail": r"(?i)\bBUILD FAIL(?:URE|ED)\b|\bFAILURE:|Failed to execute goal"
    r"|COMPILATION ERROR|\baborted!",
    "upper_fail": r"\b(?:FAILED|FAILURES?|ERRORS?|FAIL)\b",
    "exit_nonzero": r"(?i)(?:exit(?:ed)? (?:with )?(?:code|status)|returned non-zero exit status"
    r"|exited with)\s*[1-9]",
    "travis_cmd_exit": r"^The command \".*\" (?:exited|failed) with [1-9]",
    "build_exit": r"^Done\. Your build exited with [1-9]|Process completed with exit code [1-9]"
    r"|^ERROR: Job failed",
    "make": r"(?i)make(?:\[\d+\])?: \*\*\*|\bcommand not found\b|Segmentation fault|core dumped",
    "not_found": r"(?i)\bundefined reference\b|\bcannot find\b|\bno such file\b|\bnot found\b"
    r"|\bnot installed\b|\bno \w+ found\b|\bunable to\b|\bcould not\b|\bcannot\b|\bcan't\b",
    "denied": r"(?i)\bpermission denied\b|\btime-?d? ?out\b|\bkilled\b|\brefused\b|\bforbidden\b",
    "kw_error": r"(?i)\berror\b|\berrors\b",
    "kw_fail": r"(?i)\bfail(?:ed|s|ure|ures|ing)?\b",
    "kw_exception": r"(?i)exception\b",
    "kw_warning": r"(?i)\bwarn(?:ing)?s?\b|\bdeprecat",
    "kw_not_ok": r"(?i)^\s*not ok\b|^\s*\[-\]\s|^\s*\d+\)\s|^\s*✗",
    "error_prefix": r"^\s*(?:Error|ERROR|error|Failure|FAILURE|Failed|FAILED|FAIL)\b\s*[:!\]]",
    "frame": r"^\s+at\s|^\s+File \".*\", line \d+|^\s*\.\.\. \d+ (?:more|common frames)"
    r"|^\s*from \S+:\d+|:\d+:in `",
    "file_line": r"[\w/\\.-]+\.\w{1,6}:\d+",
    "caused_by": r"^\s*(?:Caused by|Suppressed|During handling|The above exception)",
    "code_gutter": r"^\s*\d+\s*\||^\s*\|\s|^\s*[~^]{2,}\s*$",
    "diff_line": r"^[-+][^-+]|^@@ |^[-+]{3} [ab]/",
    "pass_mark": r"^\s*(?:✓|✔|√|\[\+\]|ok \d|PASS\b)",
    "success": r"(?i)\b(?:pass(?:ed|ing)?|success(?:ful(?:ly)?)?|succeeded|ok|done|complete[d]?)\b",
    "zero_fail": r"(?i)\b(?:0|no) (?:errors?|failures?|failed)\b|\b0 failed\b"
    r"|(?i)\b(?:failures?|errors?|failed)(?: in tests)?\s*[:=]\s*0\b",
    "info_prefix": r"^\s*\[?(?:INFO|DEBUG|TRACE)\]?\b",
    # Boiler-plate shapes: words that look like failures but are not.
    "licence": r"(?i)\bcopyright\b|\bwarrant|\blicen[cs]e|permission is hereby|\bliabilit"
    r"|merchantab|redistribut|\bterms of\b|\bGNU\b",
    "sudoers": r"(?i)sudoers|visudo|^\s*Defaults\b|#includedir|NOPASSWD|ALL=\(ALL|secure_path|env_reset",
    "listing": r"^[-dlcbps][-rwxsStT]{9}[.+@]?\s|^total \d+$|^\s*\d+\s+\S+\s+\d+\s+\w{3}\s+\d",
    "error_filename": r"(?i)[\w.-]*(?:error|fail|exception)[\w-]*\.(?:[a-z]{1,5})\b",
    "install_noise": r"(?i)^\s*(?:Collecting|Downloading|Downloaded|Installing|Installed|"
    r"Requirement already|Get:\d|Hit:\d|Ign:\d|Fetched|Unpacking|Setting up|Selecting previously"
    r"|Preparing to unpack|Reading package|Building dependency|Reading state|Resolving|Receiving "
    r"objects|Resolving deltas|remote:|Cloning into|Processing triggers|Progress|Fetching|Using)\b",
    "travis_meta": r"^travis_(?:fold|time)|^\s*\$ |^Setting environment variables|^Worker information"
    r"|^Build system information|^Build language|^Runtime kernel",
    "cmd_echo": r"^\$ |^\+ |^##\[group\]Run |^> \S|^\[command\]|^Running:? |^Executing:? ",
    "script_like": r"^\s*(?:if|then|fi|else|elif|for|do|done|case|esac|echo|export|set -\w|function"
    r"|local|source|cd|exit)\b|;\s*$|\\\s*$|&&|\|\|",
    "key_value": r"^\s*[\w.-]+\s*[:=]\s+\S",
    "url": r"https?://",
    "separator": r"^\s*[-=_*#~.]{4,}\s*$",
    "fold_start": r"travis_fold:start|^##\[group\]|^::group::",
    "fold_end": r"travis_fold:end|^##\[endgroup\]|^::endgroup::",
    "ends_colon": r":\s*$",
}
# The lines worth a close look in a huge log: any of these can start a failure block.
PREFILTER = (
    r"(?i)error|fail|exception|fatal|panic|traceback|assert|expected|denied|not found|cannot"
    r"|can't|could not|unable|abort|killed|timed? ?out|segmentation|exit|not ok|\bE {2}|●|✕|✗|×"
    r"|\[-\]|^\s*\d+\)\s|warning|refused|missing|invalid|undefined|wrong|differ"
)
_ERRORISH = (
    "gh_error", "traceback", "py_e", "go_fail", "rust", "compiler", "npm", "jest", "maven_error",
    "fatal", "java_exc", "exc_name", "test_summary", "build_fail", "upper_fail", "make",
    "kw_error", "kw_fail", "kw_exception", "kw_not_ok", "error_prefix",
)
_BOILER = ("licence", "sudoers", "listing", "error_filename", "script_like")
# The job's own end: after it come only post-job cleanup steps.
_JOB_END = r"Process completed with exit code [1-9]|^Done\. Your build exited with|^ERROR: Job failed"
_EXIT = ("travis_cmd_exit", "build_exit", "gh_error", "exit_nonzero")
# A command's own end marker, whatever its status: it closes one command's output block.
_CMD_END = (
    r"^The command \".*\" (?:exited|failed) with \d+|Process completed with exit code \d+"
    r"|(?i)exit(?:ed)? (?:with )?(?:code|status):? ?\d+\b"
)
_BIG = 1e6


def _over(expr: pl.Expr) -> pl.Expr:
    return expr.over("g")


def feature_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Add `c` (cleaned text) and every feature column to a frame of lines (see module doc)."""
    lines = frame.with_columns(clean_series_expr(pl.col("t")).alias("c"))
    # The text flags are the costly part and depend on the text alone: computed once per
    # distinct line (CI logs repeat many lines) and joined back in line order.
    shapes = lines.select(pl.col("c").unique()).with_columns(
        pl.col("c").str.strip_chars().alias("s"),
        *[pl.col("c").str.contains(p).fill_null(False).alias(k) for k, p in FLAGS.items()],
    )
    lf = lines.lazy().join(shapes.lazy(), on="c", how="left", maintain_order="left")
    # Failure words inside boiler-plate (licence, sudoers, listings, echoed scripts) do not
    # count as error lines for the block and distance features.
    boiler = pl.any_horizontal([pl.col(k) for k in _BOILER])
    err = pl.any_horizontal([pl.col(k) for k in _ERRORISH]) & ~pl.col("ov") & ~boiler
    exit_mark = pl.any_horizontal([pl.col(k) for k in _EXIT])
    n = pl.col("n").cast(pl.Float64)
    lf = lf.with_columns(
        err.alias("err"),
        exit_mark.alias("exit_mark"),
        (pl.col("s").str.len_chars() == 0).alias("blank"),
        pl.col("c").str.contains(_JOB_END).alias("job_end"),
        pl.col("c").str.len_chars().alias("len"),
        pl.col("c").str.contains(_CMD_END).alias("cmd_end"),
    )
    # Command blocks: the output up to and including a command's end marker (`blk_bad`: 1 when
    # the marker reports a failure, 0 for success, 0.5 for a block no marker closes). Selection
    # uses them to run an excerpt on to its command's end; the model does not (as features they
    # lowered held-out recall on ci-log-breakages and made short synthetic logs rank worse).
    lf = lf.with_columns(
        (_over(pl.col("cmd_end").cast(pl.Int32).cum_sum()) - pl.col("cmd_end").cast(pl.Int32))
        .alias("_blk"),
    )
    blk = ("g", "_blk")
    lf = lf.with_columns(
        pl.when(pl.col("cmd_end").any().over(blk))
        .then(pl.col("exit_mark").filter(pl.col("cmd_end")).first().over(blk).cast(pl.Float64))
        .otherwise(0.5).alias("blk_bad"),
        (pl.len().over(blk) - pl.col("n").rank("ordinal").over(blk)).alias("blk_to_end"),
    )
    lf = lf.with_columns(
        # The last exit marker: the command whose failure ended the build.
        _over(pl.when(pl.col("exit_mark")).then(n).max()).alias("_last_exit"),
        _over(pl.when(pl.col("err")).then(n).max()).alias("_last_err"),
        _over(pl.when(pl.col("err")).then(n).min()).alias("_first_err"),
        _over(pl.col("fold_start").cast(pl.Int32).cum_sum() - pl.col("fold_end").cast(pl.Int32)
              .cum_sum()).alias("_depth"),
        _over(pl.when(pl.col("cmd_echo")).then(n).forward_fill()).alias("_cmd"),
        _over(pl.when(pl.col("err")).then(n).forward_fill()).alias("_prev_err"),
        _over(pl.when(pl.col("err")).then(n).backward_fill()).alias("_next_err"),
        _over(pl.when(pl.col("blank")).then(n).forward_fill()).alias("_prev_blank"),
        _over(pl.when(pl.col("blank")).then(n).backward_fill()).alias("_next_blank"),
        pl.len().over("g", pl.col("s").str.replace_all(r"\d+", "0")).alias("_repeat"),
    )
    last_exit = pl.col("_last_exit").fill_null(pl.col("total").cast(pl.Float64) + 1)
    last_cmd = _over(pl.when(pl.col("cmd_echo") & (n < last_exit)).then(n).max()).fill_null(0.0)
    f = pl.col("err").cast(pl.Float64)
    roll = {
        w: _over(f.rolling_sum(2 * w + 1, center=True, min_samples=1)) for w in (2, 5, 15)
    }
    total = pl.col("total").cast(pl.Float64)
    lf = lf.with_columns(
        (total - n).alias("from_end"),
        (n / total).alias("rel_pos"),
        (last_exit - n).alias("to_exit"),
        (n - last_cmd).alias("from_last_cmd"),
        ((n > last_cmd) & (n <= last_exit)).alias("in_last_cmd"),
        (last_exit - last_cmd).alias("last_cmd_lines"),
        (n > _over(pl.when(pl.col("job_end")).then(n).max()).fill_null(float("inf")))
        .alias("after_end"),
        (pl.col("_last_err").fill_null(-_BIG) - n).alias("to_last_err"),
        (n - pl.col("_first_err").fill_null(_BIG)).alias("from_first_err"),
        (n - pl.col("_cmd").fill_null(-_BIG)).alias("from_cmd"),
        (n - pl.col("_prev_err").shift(1).over("g").fill_null(-_BIG)).alias("from_prev_err"),
        (pl.col("_next_err").shift(-1).over("g").fill_null(_BIG) - n).alias("to_next_err"),
        (n - pl.col("_prev_blank").fill_null(0.0)).alias("from_blank"),
        (pl.col("_next_blank").fill_null(total + 1) - n).alias("to_blank"),
        (pl.col("_depth") > 0).alias("in_fold"),
        roll[2].alias("err_w2"),
        roll[5].alias("err_w5"),
        roll[15].alias("err_w15"),
        _over(pl.col("err").shift(1)).fill_null(False).alias("prev_err"),
        _over(pl.col("err").shift(-1)).fill_null(False).alias("next_err"),
        _over(pl.col("frame").shift(-1)).fill_null(False).alias("next_frame"),
        _over(pl.col("frame").shift(1)).fill_null(False).alias("prev_frame"),
        _over(pl.col("blank").shift(1)).fill_null(True).alias("prev_blank"),
        _over(pl.col("cmd_echo").shift(1)).fill_null(False).alias("prev_cmd"),
        _over(pl.col("licence").cast(pl.Float64).rolling_sum(9, center=True, min_samples=1))
        .alias("licence_w4"),
        _over(pl.col("script_like").cast(pl.Float64).rolling_sum(9, center=True, min_samples=1))
        .alias("script_w4"),
        _over(pl.col("install_noise").cast(pl.Float64).rolling_sum(9, center=True, min_samples=1))
        .alias("install_w4"),
        _over(f.sum()).alias("err_lines"),
        pl.col("s").str.count_matches(r"[A-Za-z]").alias("_alpha"),
        pl.col("s").str.count_matches(r"\d").alias("_digit"),
        (pl.col("c").str.len_chars() - pl.col("c").str.strip_chars_start().str.len_chars())
        .alias("indent"),
    )
    return lf.collect()


def clean_series_expr(expr: pl.Expr) -> pl.Expr:
    """`clean_series` as an expression (ANSI codes and CI timestamp prefixes removed)."""
    return expr.str.replace_all(_ANSI, "").str.replace(_CI_PREFIX, "")


def _log1p(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


NUMERIC = (
    "from_end", "rel_pos", "to_exit", "from_last_cmd", "last_cmd_lines", "to_last_err", "from_first_err",
    "from_cmd", "from_prev_err", "to_next_err", "from_blank", "to_blank", "err_w2", "err_w5",
    "err_w15", "licence_w4", "script_w4", "install_w4", "err_lines", "len", "indent", "_repeat",
)
BOOLEAN = (
    *FLAGS, "err", "exit_mark", "blank", "in_last_cmd", "in_fold", "prev_err", "next_err",
    "next_frame", "prev_frame", "prev_blank", "prev_cmd", "ov",
)
_LOGGED = {
    "from_end", "to_exit", "from_last_cmd", "last_cmd_lines", "to_last_err", "from_first_err", "from_cmd",
    "from_prev_err", "to_next_err", "from_blank", "to_blank", "err_lines", "len", "indent",
    "_repeat",
}
FEATURE_NAMES: tuple[str, ...] = (
    *NUMERIC, *BOOLEAN, "alpha_frac", "digit_frac",
)


def feature_matrix(feats: pl.DataFrame) -> np.ndarray:
    """The model's input (rows in frame order, columns in `FEATURE_NAMES` order)."""
    cols = []
    for name in NUMERIC:
        x = feats[name].cast(pl.Float64).fill_null(0.0).to_numpy()
        x = np.clip(x, -_BIG, _BIG)
        cols.append(_log1p(x) if name in _LOGGED else x)
    for name in BOOLEAN:
        cols.append(feats[name].cast(pl.Float64).fill_null(0.0).to_numpy())
    length = np.maximum(feats["s"].str.len_chars().cast(pl.Float64).to_numpy(), 1.0)
    cols.append(feats["_alpha"].cast(pl.Float64).to_numpy() / length)
    cols.append(feats["_digit"].cast(pl.Float64).to_numpy() / length)
    return np.column_stack(cols).astype(np.float32)


def shown_overwritten(text: pl.Series, ov: pl.Series, g: pl.Series | None = None) -> pl.Series:
    """`ov` cleared where nothing overwrites the segment: the next segment is empty.

    A line ended by `\\r\\r\\n` (macOS Travis images, PowerShell hosts) splits into its text,
    ended by a lone carriage return, and an empty segment; a terminal shows the text, so it is
    content, not a progress update. With `g` (log ids), the next line must be of the same log.
    """
    nxt = text.shift(-1).str.len_bytes() == 0
    if g is not None:
        nxt = nxt & (g.shift(-1) == g)
    return ov & ~nxt.fill_null(False)


def _redact_logs(text: pl.Series, sizes: list[int]) -> pl.Series:
    """`redact_series` of each log, computed for many logs at once.

    Redaction keeps state from line to line only inside a private-key block. When no line of
    the batch can open one (`opens_key_block`, one vectorised check), lines are judged alone
    and the whole batch is redacted in one call. Otherwise each log is redacted on its own (a
    key left open at the end of one log must not swallow the next); a log with no line
    matching the redaction pre-filter (`HINT`) has nothing to redact and is not visited.
    """
    if not opens_key_block(text):
        return redact_series(text)
    size = np.asarray(sizes, dtype=np.int64)
    hit = text.str.contains(HINT).fill_null(False).to_numpy()
    owner = np.repeat(np.arange(size.size), size)
    flagged = np.flatnonzero(np.bincount(owner[hit], minlength=size.size))
    if not flagged.size:
        return text
    ends = np.cumsum(size)
    parts: list[pl.Series] = []
    done = 0
    for k in flagged:
        a, b = int(ends[k] - size[k]), int(ends[k])
        parts += [text.slice(done, a - done), redact_series(text.slice(a, b - a))]
        done = b
    parts.append(text.slice(done))
    return pl.concat(parts)


_SCHEMA = {"g": pl.Int32, "n": pl.Int64, "t": pl.String, "ov": pl.Boolean, "total": pl.Int64}


def logs_frame(logs: list[list[LineBatch]], totals: list[int] | None = None) -> pl.DataFrame:
    """Frame of many logs' lines, log `i` as `g` = i (redacted here, before anything else
    looks at them): one redaction pre-filter pass and one frame for a whole batch of logs."""
    sizes = [sum(len(b) for b in batches) for batches in logs]
    flat = [b for batches in logs for b in batches if len(b)]
    if not flat:
        return pl.DataFrame(schema=_SCHEMA)
    text = pl.concat([b.text for b in flat])
    lasts = [batches[-1].first + len(batches[-1]) - 1 if batches else 0 for batches in logs]
    ends = totals if totals is not None else lasts
    g = pl.Series("g", np.repeat(np.arange(len(logs), dtype=np.int32), sizes))
    n = pl.concat([pl.int_range(b.first, b.first + len(b), eager=True) for b in flat])
    return pl.DataFrame(
        {
            "g": g,
            "n": n.cast(pl.Int64),
            "t": _redact_logs(text, sizes),
            "ov": shown_overwritten(text, pl.concat([b.overwritten for b in flat]), g),
            "total": pl.Series(np.repeat(np.asarray(ends, dtype=np.int64), sizes)),
        }
    )


def lines_frame(
    batches: list[LineBatch], g: int = 0, total: int | None = None, settled: bool = False
) -> pl.DataFrame:
    """Frame of one log's lines (see `logs_frame`). `settled`: the batches' `ov` already went
    through `shown_overwritten` (rows gathered from a longer run of lines)."""
    if not batches:
        return pl.DataFrame(schema=_SCHEMA)
    text = pl.concat([b.text for b in batches])
    ov = pl.concat([b.overwritten for b in batches])
    n = pl.concat([pl.int_range(b.first, b.first + len(b), eager=True) for b in batches])
    last = batches[-1].first + len(batches[-1]) - 1
    size = text.len()
    return pl.DataFrame(
        {
            "g": pl.Series([g], dtype=pl.Int32).extend_constant(g, size - 1),
            "n": n.cast(pl.Int64),
            "t": _redact_logs(text, [size]),
            "ov": ov if settled else shown_overwritten(text, ov),
            "total": pl.Series([total or last], dtype=pl.Int64).extend_constant(
                total or last, size - 1
            ),
        }
    )
