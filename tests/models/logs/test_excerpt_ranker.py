"""The learned excerpt ranker: artefact, selection, miss shapes of real CI logs, signatures."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from models.logs import excerpt_eval as ev
from models.logs.excerpt import excerpt, excerpt_file, excerpt_many
from models.logs.line_features import FEATURE_NAMES, feature_frame, feature_matrix, lines_frame
from models.logs.lines import iter_text_batches, iter_text_lines
from models.logs.ranker import ARTEFACT, FORMAT, default_ranker, from_json, load, select


def test_shipped_artefact_loads_scores_and_states_its_provenance() -> None:
    data = json.loads(ARTEFACT.read_text())
    assert data["format"] == FORMAT
    assert tuple(data["features"]) == FEATURE_NAMES
    prov = data["provenance"]
    for key in ("trained", "data", "sklearn", "cv", "cv_chunk_recall", "cv_last40_recall",
                "cv_worst_repositories"):
        assert key in prov, key
    # The shipped model's held-out figures meet the targets, above the last-40-lines baseline.
    assert prov["cv_chunk_recall"] >= 0.80 > prov["cv_last40_recall"]
    assert prov["cv_breakages_recall"] >= 0.85
    assert prov["cv_breakages_recall"] > prov["cv_breakages_last40"]
    ranker = load()
    frame = lines_frame(list(iter_text_batches("ok\nok\nerror: boom\nThe command \"x\" exited with 1.\n")))
    p = ranker.probability(feature_matrix(feature_frame(frame)))
    assert p.shape == (4,) and np.all((p > 0) & (p < 1))
    assert p[2] > p[0]  # an error line outranks a routine one
    with pytest.raises(ValueError, match="feature columns"):
        ranker.margin(np.zeros((2, 3), dtype=np.float32))


def test_tree_inference_follows_thresholds() -> None:
    # One stump on feature 1 (x <= 0.5 goes left) and one constant tree.
    data = {
        "format": FORMAT,
        "features": ["a", "b"],
        "baseline": -1.0,
        "max_depth": 1,
        "trees": [
            {"feature": [1, 0, 0], "threshold": [0.5, 0, 0], "left": [1, 0, 0],
             "right": [2, 0, 0], "value": [0, -2.0, 3.0], "leaf": [False, True, True]},
            {"feature": [0], "threshold": [0], "left": [0], "right": [0], "value": [0.5],
             "leaf": [True]},
        ],
    }
    r = from_json(data)
    x = np.array([[9, 0.5], [9, 0.6], [0, -1]], dtype=np.float32)
    assert r.margin(x).tolist() == [-2.5, 2.5, -2.5]
    with pytest.raises(ValueError, match="not an excerpt ranker"):
        from_json({**data, "format": "other"}, "bad.json")
    with pytest.raises(ValueError, match=r"bad\.json: malformed"):
        from_json({k: v for k, v in data.items() if k != "trees"}, "bad.json")


def test_select_takes_contiguous_windows_within_budget() -> None:
    score = np.array([0.0, 0.1, 0.9, 0.8, 0.7, 0.05, 0.0, 0.6, 0.55, 0.0])
    assert select(score, 3) == [2, 3, 4]
    assert select(score, 5) == [2, 3, 4, 7, 8]
    assert len(select(np.random.default_rng(0).random(500), 40)) == 40


def test_batch_splitter_numbers_lines_like_the_line_reader() -> None:
    rng = random.Random(3)
    parts = ["a", "bb", "\r", "\n", "\r\n", "x" * 2500, "é", "error: x"]
    for _ in range(300):
        text = "".join(rng.choice(parts) for _ in range(rng.randint(0, 60)))
        want = [(r.n, r.text, r.overwritten) for r in iter_text_lines(text)]
        got = [
            (b.first + i, t, o)
            for b in iter_text_batches(text)
            for i, (t, o) in enumerate(zip(b.text.to_list(), b.overwritten.to_list(), strict=True))
        ]
        assert got == want


# Travis-like log pieces for the miss shapes seen on real logs.
SETUP = "".join(
    [
        "travis_fold:start:system_info\r\x1b[0KBuild system information\n",
        "Build language: go\n",
        "travis_fold:end:system_info\r\x1b[0K\n",
        "$ cat /etc/sudoers\n",
        "# This file MUST be edited with the 'visudo' command as root; a syntax error here\n",
        "# will fail to load and lock you out.\n",
        "Defaults\tenv_reset\n",
        "Defaults\tsecure_path=\"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin\"\n",
        "root\tALL=(ALL:ALL) ALL\n",
        "%sudo\tALL=(ALL:ALL) NOPASSWD: ALL\n",
        "#includedir /etc/sudoers.d\n",
        "$ cat LICENSE\n",
        'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR\n',
        "IMPLIED. IN NO EVENT SHALL THE AUTHORS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER\n",
        "LIABILITY, ERRORS OR OMISSIONS, OR FAILURE OF THE SOFTWARE, WHETHER IN AN ACTION\n",
        "OF CONTRACT, TORT OR OTHERWISE, ARISING FROM THE SOFTWARE.\n",
        "$ ls -l internal/\n",
        "-rw-r--r-- 1 travis travis  1734 Jan  3 10:01 errors.go\n",
        "-rw-r--r-- 1 travis travis  2210 Jan  3 10:01 failure_test.go\n",
        "-rw-r--r-- 1 travis travis   912 Jan  3 10:01 exception_handler.go\n",
        "$ cat ci/test.sh\n",
        "set -e\n",
        "if ! go test ./...; then\n",
        "  echo \"error: tests failed\"\n",
        "  exit 1\n",
        "fi\n",
    ]
    + [f"go: downloading example.com/dep{i} v1.{i}.0\n" for i in range(150)]
)
FAILURE = (
    "$ go test ./...\n"
    "ok  \texample.com/app/a\t0.012s\n"
    "=== RUN   TestAdd\n"
    "    calc_test.go:9: got 3, want 4\n"
    "--- FAIL: TestAdd (0.00s)\n"
    "FAIL\n"
    "FAIL\texample.com/app/calc\t0.004s\n"
    "The command \"go test ./...\" exited with 1.\n"
)
FAILURE_LINES = ["    calc_test.go:9: got 3, want 4", "--- FAIL: TestAdd (0.00s)"]
CLEANUP = (
    "travis_fold:start:cache.2\r\x1b[0Kstore build cache\n"
    "$ rm -rf $HOME/.cache/go-build/tmp\n"
    "change detected (content changed, file is created, or file is deleted):\n"
    "/home/travis/gopath/pkg/mod/cache/download/example.com/dep1/@v/v1.1.0.info\n"
    "uploading archive\n"
    "travis_fold:end:cache.2\r\x1b[0K\n"
    "\nDone. Your build exited with 1.\n"
)


def test_setup_boilerplate_is_not_chosen_over_the_failure() -> None:
    log = SETUP + FAILURE + CLEANUP
    first_failure_line = log.count("\n", 0, log.index("=== RUN")) + 1
    ex = excerpt(log, max_lines=12)
    texts = ex.texts
    for want in FAILURE_LINES:
        assert want in texts
        assert want in ex.signature
    for noise in ("Defaults\tenv_reset", "#includedir /etc/sudoers.d", "OF CONTRACT, TORT OR "
                  "OTHERWISE, ARISING FROM THE SOFTWARE."):
        assert noise not in texts
    assert not any("errors.go" in t or "sudoers" in t or "WARRANTY" in t for t in texts)
    assert not any("echo" in s or "LIABILITY" in s for s in ex.signature)
    # The echoed script and every other set-up line rank below the failure block.
    tight = excerpt(log, max_lines=6)
    assert all(line.n >= first_failure_line for line in tight.lines)
    assert set(FAILURE_LINES) <= set(tight.texts)


def test_error_before_cleanup_noise_is_found() -> None:
    noise = "".join(f"uploading cache part {i} of 60\n" for i in range(60))
    ex = excerpt(SETUP + FAILURE + CLEANUP.replace("uploading archive\n", noise), max_lines=20)
    for want in FAILURE_LINES:
        assert want in ex.texts


def test_failure_stated_by_the_last_command_without_error_words() -> None:
    log = (
        SETUP
        + "$ ./scripts/check-format.sh\n"
        + "Checking formatting of 214 files\n"
        + "src/app/main.go\n"
        + "src/app/server/routes.go\n"
        + "The command \"./scripts/check-format.sh\" exited with 1.\n"
        + CLEANUP
    )
    ex = excerpt(log, max_lines=10)
    assert "src/app/server/routes.go" in ex.texts
    assert "src/app/main.go" in ex.texts


def test_excerpt_many_equals_excerpt_and_signature_ignores_passing_log() -> None:
    failing = SETUP + FAILURE + CLEANUP
    passing = SETUP + FAILURE.replace("--- FAIL", "--- PASS").replace("exited with 1", "exited with 0")
    alone = [excerpt(failing), excerpt(failing, passing=passing), excerpt("ok\nerror: x\n")]
    many = excerpt_many([(failing, None), (failing, passing), ("ok\nerror: x\n", None)])
    assert many == alone
    assert alone[0].signature == alone[1].signature
    assert 1 <= len(alone[0].signature) <= 5


def test_signature_is_redacted() -> None:
    token = "ghp_" + "Zx9" * 12
    ex = excerpt(f"$ git push\nfatal: could not push with token {token}\n")
    assert ex.signature and all(token not in s for s in ex.signature)
    assert any("[REDACTED:github_token]" in s for s in ex.signature)


@pytest.mark.requires_shared(ev.BREAKAGES)
def test_signature_same_with_and_without_passing_log(shared_dir: Path) -> None:
    root = shared_dir / ev.BREAKAGES
    for case in sorted(p for p in root.iterdir() if p.is_dir()):
        plain = excerpt_file(case / "fail.log")
        with_pass = excerpt_file(case / "fail.log", passing=case / "pass.log")
        assert plain.signature, case.name
        assert plain.signature == with_pass.signature, case.name


@pytest.mark.requires_shared(ev.LOGCHUNKS)
def test_logchunks_recall_beats_last_40_lines(shared_dir: Path) -> None:
    """In-sample for the shipped model (it was trained on these logs): a regression guard.

    The held-out figure is the grouped cross-validation stored in the artefact's provenance.
    """
    logs = ev.load_logchunks(shared_dir / ev.LOGCHUNKS)
    got = [ev.chunk_recall(lg, ex.texts) for lg, ex in
           zip(logs, excerpt_many([(lg.text, None) for lg in logs]), strict=True)]
    base = [ev.chunk_recall(lg, [t for _, t in ev.last_lines(lg.text)]) for lg in logs]
    mean, base_mean = sum(got) / len(got), sum(base) / len(base)
    print(f"\nLogChunks (in-sample) recall {mean:.3f}, last 40 lines {base_mean:.3f}")
    assert mean > base_mean + 0.2
    prov = default_ranker().provenance
    assert prov["cv_chunk_recall"] > prov["cv_last40_recall"]


def test_line_numbers_past_a_million_stay_eligible() -> None:
    """Huge logs: nothing depends on line numbers being small (a sentinel once cut at 1e6)."""
    import polars as pl

    from models.logs.lines import LineBatch

    texts = ["compiling module ok"] * 5 + ["error: the one real failure"]
    batch = LineBatch(
        3_000_000, pl.Series("t", texts), pl.Series("ov", [False] * len(texts))
    )
    feats = feature_frame(lines_frame([batch]))
    assert not feats["after_end"].any()
    assert feats["n"].to_list()[-1] == 3_000_005


def test_failure_far_before_the_pool_tail_is_screened_in(tmp_path: Path) -> None:
    """A log longer than the pool: an early failure is found by the screening pass."""
    from models.logs.excerpt import POOL_LINES

    head = "".join(f"step {i} ok\n" for i in range(100))
    boom = "java.lang.IllegalStateException: cache corrupted\n\tat a.B.c(B.java:12)\n"
    tail = "".join(f"compiling module {i} ok\n" for i in range(POOL_LINES + 5_000))
    p = tmp_path / "long.log"
    p.write_text(head + boom + tail)
    ex = excerpt_file(p, chunk_bytes=64 * 1024)
    assert "java.lang.IllegalStateException: cache corrupted" in ex.texts
    assert "java.lang.IllegalStateException: cache corrupted" in ex.signature
    assert ex.total_lines == 102 + POOL_LINES + 5_000
    assert excerpt(head + boom + tail).lines == ex.lines


def test_excerpt_many_batches_give_the_same_excerpts_as_one_log_at_a_time() -> None:
    """One frame and one model evaluation for a whole batch changes nothing per log."""
    from models.logs.excerpt import POOL_LINES

    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ff\n"
    long_log = "".join(f"compiling module {i} ok\n" for i in range(POOL_LINES + 50)) + "error: late\n"
    failing = SETUP + FAILURE + CLEANUP
    passing = SETUP + FAILURE.replace("--- FAIL", "--- PASS").replace("exited with 1", "exited with 0")
    logs = [
        (failing, passing),
        ("$ deploy\n" + pem, None),  # a key left open: must not redact the next log
        ("error: next log\nsecret ghp_" + "Zx9" * 12 + "\n", failing),
        ("", None),
        ("Expected: 1\r\r\nActual  : 2\r\r\nThe command \"t\" exited with 1.\r\r\n", None),
        (long_log, passing),
        *[(failing.replace("TestAdd", f"TestAdd{i}"), passing if i % 2 else None)
          for i in range(5)],
    ]
    many = excerpt_many(logs)
    assert many == [excerpt(text, passing=p) for text, p in logs]
    assert many[2].texts[0] == "error: next log"
    assert many[3].notes == ("empty log",)
    assert "error: late" in many[5].texts


def test_failure_in_cr_cr_lf_lines_is_shown() -> None:
    """Lines ended by `\\r\\r\\n` (macOS Travis, PowerShell) are content, not progress."""
    log = "".join(f"{line}\r\r\n" for line in [
        "$ pwsh -c Invoke-Pester", *[f"[+] test {i} passed" for i in range(30)],
        "[-] reads the config -> Expected and actual values differ!",
        "Expected: 'a'", "Actual  : 'b'",
        "at Verify-Equal, /src/Verify-Equal.ps1:16",
        "Tests Passed: 30, Failed: 1",
        "The command \"pwsh -c Invoke-Pester\" exited with 1.",
    ])
    ex = excerpt(log)
    for want in ("[-] reads the config -> Expected and actual values differ!",
                 "Expected: 'a'", "Actual  : 'b'"):
        assert want in ex.texts
    assert all(line.text for line in ex.lines)


def test_malformed_child_index_is_named() -> None:
    data = {
        "format": FORMAT, "features": ["a"], "baseline": 0.0, "max_depth": 1,
        "trees": [{"feature": [0, 0, 0], "threshold": [0.5, 0, 0], "left": [1, 0, 0],
                   "right": [7, 0, 0], "value": [0, 1.0, 2.0], "leaf": [False, True, True]}],
    }
    with pytest.raises(ValueError, match=r"r\.json: malformed excerpt ranker: .*outside"):
        from_json(data, "r.json")


def test_many_logs_split_at_once_give_each_log_its_own_lines() -> None:
    from models.logs.excerpt import _split_many

    rng = random.Random(5)
    parts = ["a", "bb", "\r", "\n", "\r\n", "x" * 2500, "é", "error: x", "\r\r\n"]
    texts = ["".join(rng.choice(parts) for _ in range(rng.randint(0, 40))) for _ in range(400)]
    texts += ["", "\n", "\r\n", "only\r", "tail without break"]

    def lines(batches: list) -> list:
        return [
            (b.first + i, t, o)
            for b in batches
            for i, (t, o) in enumerate(zip(b.text.to_list(), b.overwritten.to_list(), strict=True))
        ]

    got = _split_many(texts)
    for text, batches in zip(texts, got, strict=True):
        assert lines(batches) == lines(list(iter_text_batches(text))), repr(text)
