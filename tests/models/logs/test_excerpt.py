"""Excerpts: recall on hand-marked real CI logs, error shapes, and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from models.logs import excerpt_eval as ev
from models.logs.excerpt import _with_headlines, excerpt, excerpt_file, first_instances
from models.logs.lines import MAX_LINE_CHARS, iter_file_lines


def _recall_table(breakages: Path, with_passing: bool) -> list[tuple[str, float, float, float]]:
    rows = []
    for case in sorted(p for p in breakages.iterdir() if p.is_dir()):
        marked = ev.marked_lines(case / "groundtruth")
        ex = excerpt_file(case / "fail.log", passing=(case / "pass.log") if with_passing else None)
        got = {line.n for line in ex.lines}
        assert len(got) <= 40
        total = ex.total_lines
        tail = set(range(max(1, total - 39), total + 1))
        cap = min(len(marked), 40)
        rows.append(
            (
                case.name,
                len(got & marked) / len(marked),
                len(got & marked) / cap,
                len(tail & marked) / cap,
            )
        )
    return rows


@pytest.mark.requires_shared(ev.BREAKAGES)
@pytest.mark.parametrize("with_passing", [True, False], ids=["with-passing", "no-passing"])
def test_recall_on_marked_breakages_beats_last_40_lines(shared_dir: Path, with_passing: bool) -> None:
    """The shipped ranker saw these logs in training; the held-out figure is in its provenance."""
    rows = _recall_table(shared_dir / ev.BREAKAGES, with_passing)
    k = len(rows)
    raw = sum(r[1] for r in rows) / k
    capped = sum(r[2] for r in rows) / k
    base = sum(r[3] for r in rows) / k
    print(f"\n{len(rows)} logs, passing log {'used' if with_passing else 'not used'}")
    print(f"excerpt recall (marked lines found / min(marked, 40)): {capped:.3f}")
    print(f"last-40-lines baseline, same measure:                {base:.3f}")
    print(f"uncapped recall (found / marked): {raw:.3f}")
    assert len(rows) >= 35
    assert capped > base
    assert capped >= (0.90 if with_passing else 0.85)


@pytest.mark.parametrize("marked_set", ["github-actions", "ci-unseen"])
def test_recall_on_real_marked_logs_beats_last_40_lines(marked_set: str) -> None:
    """Real job logs the ranker never saw (GitHub Actions; GitLab CI, Jenkins, Azure Pipelines,
    CircleCI, Travis and Appflow): side by side with the last 40 lines, on lines labelled
    before any excerpt was made."""
    root = Path(__file__).resolve().parents[2] / "fixtures" / "logs" / marked_set
    rows = ev.marked_log_recalls(root)
    assert len(rows) >= 12 and all(lg.positive for lg, *_ in rows)
    for lg, ex, _, _ in rows:
        assert ex.total_lines >= max(lg.positive) and len(ex.lines) <= 40
    assert sum(r[2] for r in rows) > sum(r[3] for r in rows)


def test_marked_labels_that_do_not_parse_name_the_line(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text("x\n", encoding="utf-8")
    (tmp_path / "labels.jsonl").write_text(
        '{"log": "a.log", "failure": [[1, 1]]}\n{"log": "a.log", "failure": [[1]]}\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=r"labels\.jsonl:2"):
        ev.load_marked_logs(tmp_path)


def test_github_actions_prefixes_annotations_and_ansi() -> None:
    log = "\n".join(
        [
            "2025-06-03T14:02:10.1234567Z ##[group]Run pytest",
            "2025-06-03T14:02:10.2234567Z \x1b[32mcollected 3 items\x1b[0m",
            "2025-06-03T14:02:11.1234567Z tests/test_a.py::test_x FAILED",
            "2025-06-03T14:02:11.2234567Z ##[endgroup]",
            "2025-06-03T14:02:11.3234567Z ##[error]Process completed with exit code 1.",
        ]
    )
    ex = excerpt(log)
    texts = dict((line.n, line.text) for line in ex.lines)
    assert texts[3] == "tests/test_a.py::test_x FAILED"
    assert texts[5] == "##[error]Process completed with exit code 1."
    assert 1 not in texts and 4 not in texts  # structural annotations are not content


def test_carriage_return_progress_keeps_numbering_and_last_segment() -> None:
    log = "step\rprogress 10%\rprogress 100%\nerror: boom happened\n"
    ex = excerpt(log)
    # Line 3 is the surviving progress segment, kept as context before the error.
    assert [(line.n, line.text) for line in ex.lines] == [
        (3, "progress 100%"),
        (4, "error: boom happened"),
    ]


SHAPES = {
    "pytest": (
        "collected 2 items\n\n"
        "tests/test_calc.py .F\n\n"
        "=================================== FAILURES ===================================\n"
        "___________________________________ test_add ___________________________________\n\n"
        "    def test_add():\n>       assert add(1, 2) == 4\nE       assert 3 == 4\n"
        "E        +  where 3 = add(1, 2)\n\n"
        "tests/test_calc.py:5: AssertionError\n"
        "=========================== short test summary info ============================\n"
        "FAILED tests/test_calc.py::test_add - assert 3 == 4\n"
        "========================= 1 failed, 1 passed in 0.03s ==========================\n",
        ["E       assert 3 == 4", "FAILED tests/test_calc.py::test_add - assert 3 == 4"],
    ),
    "unittest": (
        "test_b (test_m.T) ... ok\ntest_a (test_m.T) ... FAIL\n\n"
        "======================================================================\n"
        "FAIL: test_a (test_m.T)\n"
        "----------------------------------------------------------------------\n"
        "Traceback (most recent call last):\n"
        '  File "test_m.py", line 6, in test_a\n    self.assertEqual(1, 2)\n'
        "AssertionError: 1 != 2\n\nRan 2 tests in 0.001s\n\nFAILED (failures=1)\n",
        ["Traceback (most recent call last):", "AssertionError: 1 != 2"],
    ),
    "jest": (
        "PASS src/a.test.js\nFAIL src/b.test.js\n  ● sum › adds\n\n"
        "    expect(received).toBe(expected) // Object.is equality\n\n"
        "    Expected: 4\n    Received: 3\n\n"
        "Tests:       1 failed, 3 passed, 4 total\n",
        # The summary line is not part of the failure as labelled in real logs (LogChunks).
        ["  ● sum › adds", "    Expected: 4", "    Received: 3"],
    ),
    "go": (
        "=== RUN   TestAdd\n    calc_test.go:9: got 3, want 4\n--- FAIL: TestAdd (0.00s)\n"
        "FAIL\nFAIL\texample.com/calc\t0.002s\n",
        ["--- FAIL: TestAdd (0.00s)", "FAIL\texample.com/calc\t0.002s"],
    ),
    "maven": (
        "[INFO] Building app 1.0\n"
        "[ERROR] Tests run: 3, Failures: 1, Errors: 0, Skipped: 0\n"
        "[ERROR] testAdd(com.example.CalcTest)  Time elapsed: 0.01 s  <<< FAILURE!\n"
        "java.lang.AssertionError: expected:<4> but was:<3>\n"
        "\tat org.junit.Assert.fail(Assert.java:89)\n"
        "\tat com.example.CalcTest.testAdd(CalcTest.java:12)\n"
        "[INFO] BUILD FAILURE\n",
        [
            "java.lang.AssertionError: expected:<4> but was:<3>",
            "\tat com.example.CalcTest.testAdd(CalcTest.java:12)",
        ],
    ),
    "cargo": (
        "   Compiling calc v0.1.0\n"
        "error[E0308]: mismatched types\n --> src/main.rs:4:18\n  |\n"
        '4 |     let x: i32 = "a";\n  |            ---   ^^^ expected `i32`, found `&str`\n\n'
        "error: could not compile `calc` due to previous error\n",
        [
            "error[E0308]: mismatched types",
            " --> src/main.rs:4:18",
            "error: could not compile `calc` due to previous error",
        ],
    ),
    "npm": (
        "> app@1.0.0 build\n> tsc\n\nnpm ERR! code ELIFECYCLE\nnpm ERR! errno 2\n"
        "npm ERR! app@1.0.0 build: `tsc`\n",
        ["npm ERR! code ELIFECYCLE", "npm ERR! errno 2"],
    ),
    "gcc": (
        "[ 50%] Building C object CMakeFiles/app.dir/main.c.o\n"
        "/src/main.c:10:5: error: expected ';' before 'return'\n"
        "make[2]: *** [CMakeFiles/app.dir/build.make:76: CMakeFiles/app.dir/main.c.o] Error 1\n",
        ["/src/main.c:10:5: error: expected ';' before 'return'"],
    ),
    "shell": (
        "+ ./deploy.sh\nuploading...\ncurl: (22) The requested URL returned error: 403\n"
        "Error: Process completed with exit code 22.\n",
        [
            "curl: (22) The requested URL returned error: 403",
            "Error: Process completed with exit code 22.",
        ],
    ),
    "junit-xml": (
        '<testsuite name="CalcTest" tests="2" failures="1">\n'
        '  <testcase name="testOk" classname="CalcTest"/>\n'
        '  <testcase name="testAdd" classname="CalcTest">\n'
        '    <failure message="expected:&lt;4&gt; but was:&lt;3&gt;" type="AssertionError">'
        "</failure>\n  </testcase>\n</testsuite>\n",
        [
            '    <failure message="expected:&lt;4&gt; but was:&lt;3&gt;" type="AssertionError">'
            "</failure>"
        ],
    ),
}


@pytest.mark.parametrize("tool", sorted(SHAPES))
def test_error_shapes_of_common_tools(tool: str) -> None:
    noise = "".join(f"ok step {i} done\n" for i in range(200))
    log, expected = SHAPES[tool]
    ex = excerpt(noise + log + noise, max_lines=12)
    texts = ex.texts
    for want in expected:
        assert want in texts, f"{tool}: {want!r} not in {texts}"
    # At most a few lines of context precede the failure; the rest is the failure itself.
    assert sum(line.n <= 200 for line in ex.lines) <= 3


def test_stack_trace_kept_whole() -> None:
    frames = "".join(f"\tat com.x.C{i}.m(C{i}.java:{i})\n" for i in range(12))
    log = "ok\n" * 50 + "java.lang.IllegalStateException: boom\n" + frames + "ok\n" * 50
    ex = excerpt(log)
    got = [line.n for line in ex.lines]
    assert set(range(51, 64)) <= set(got)
    assert all(n >= 48 for n in got)


def test_first_instances_raises_the_first_line_of_each_kind() -> None:
    texts = [
        "src/a.cc:3:1: error: code should be clang-formatted",
        "compiling b.cc",
        "src/b.cc:9:4: error: code should be clang-formatted",
        "src/c.cc:12:8: error: code should be clang-formatted",
        "Error: Process completed with exit code 1.",
        "warning: unused variable",
    ]
    prob = np.array([0.2, 0.05, 0.5, 0.9, 0.7, 0.3])
    seedable = np.array([True, False, True, True, True, False])
    g = np.zeros(6, dtype=np.int32)
    out = first_instances(prob, seedable, pl.Series(texts), g)
    # The first violation takes its kind's best score; later ones, other kinds and lines that
    # cannot seed a window keep theirs.
    assert out.tolist() == [0.9, 0.05, 0.5, 0.9, 0.7, 0.3]
    assert prob.tolist() == [0.2, 0.05, 0.5, 0.9, 0.7, 0.3]
    assert first_instances(prob, seedable & False, pl.Series(texts), g) is prob
    # Logs of one frame are apart: the same kind in another log is another kind.
    two = first_instances(prob, seedable, pl.Series(texts), np.array([0, 0, 0, 1, 1, 1]))
    assert two.tolist() == [0.5, 0.05, 0.5, 0.9, 0.7, 0.3]


def test_repeated_violations_show_the_first_not_the_last() -> None:
    """A linter's 60 violations: the excerpt starts at the first, not at the ones the job's end
    is nearest to."""
    setup = "".join(f"Downloading dependency {i} of 300\n" for i in range(300))
    violations = "".join(
        f"src/mod{i}/file{i}.cc:{i + 10}:3: error: code should be clang-formatted "
        "[-Wclang-format-violations]\n" + "    int  x = 1;\n" + "        ^\n"
        for i in range(60)
    )
    log = setup + violations + "Error: Process completed with exit code 1.\n"
    ex = excerpt(log)
    assert 301 in [line.n for line in ex.lines]


def test_passing_log_demotes_errors_that_also_happen_when_green() -> None:
    common = "".join(f"line {i}\n" for i in range(30))
    noisy = "ERROR: optional plugin cache missing at /tmp/cache-1234\n"
    passing = common + noisy + "BUILD SUCCESS\n"
    failing = (
        common + noisy.replace("1234", "9876") + "error: linker failed for target app\n"
        "BUILD FAILED\n"
    )
    ex = excerpt(failing, passing=passing, max_lines=2)
    assert ex.texts == ["error: linker failed for target app", "BUILD FAILED"]


def _rust_panic(frames: int) -> list[str]:
    lines = [f"test tests::case_{i} ... ok" for i in range(13)]
    lines += ["thread 'main' panicked at 'called `Result::unwrap()` on an `Err` value: "
              "WouldBlock', src/libtest/lib.rs:473:9", "stack backtrace:"]
    for i in range(frames):
        lines += [f"  {i}:     0x55ee97a8b2b5 - core::panicking::frame{i}::h75aedf5f78e5147f",
                  f"             at src/libcore/panicking.rs:{i + 80}"]
    return [*lines, "error: test failed, to rerun pass '--lib'"]


def test_a_window_inside_a_trace_shows_the_traces_headline() -> None:
    """As in a real cargo log: the window starts at the first frame, two lines below the panic."""
    texts = _rust_panic(20)
    eligible = np.ones(len(texts), dtype=bool)
    window = list(range(15, 55))  # frames only, the whole budget
    got = _with_headlines(window, eligible, texts, 40)
    # The panic line takes the place of the deepest frame shown.
    assert got == [13, *range(15, 54)]
    # With budget left it is added.
    assert _with_headlines(window, eligible, texts, 41) == [13, *window]
    # A window that does not start inside a trace, or a headline too far above, changes nothing.
    assert _with_headlines([13, 14, 15], eligible, texts, 3) == [13, 14, 15]
    far = _rust_panic(40)
    assert _with_headlines([75, 76], np.ones(len(far), dtype=bool), far, 2) == [75, 76]


def test_a_routine_error_is_not_the_first_of_its_kind() -> None:
    """An error the passing run also printed does not take the place of the first new one."""
    common = "".join(f"step {i}\n" for i in range(30))
    routine = "src/legacy.cc:12:1: error: deprecated flag -fno-rtti ignored\n"
    passing = common + routine + "BUILD SUCCESS\n"
    failing = common + routine + "src/net.cc:40:7: error: use of undeclared identifier 'sock'\n"
    ex = excerpt(failing, passing=passing, max_lines=1)
    assert ex.texts == ["src/net.cc:40:7: error: use of undeclared identifier 'sock'"]


def test_line_numbers_are_original_and_cap_respected() -> None:
    log = "".join(f"error: problem number {i}\n\nnoise\n\n" for i in range(100))
    original = log.split("\n")
    ex = excerpt(log, max_lines=5)
    assert len(ex.lines) == 5
    # Windows are contiguous (failure chunks are): lines between two errors come along.
    assert sum(line.text.startswith("error: problem") for line in ex.lines) >= 2
    assert all(line.text in ("noise", *(f"error: problem number {i}" for i in range(100)))
               for line in ex.lines)
    for line in ex.lines:
        assert line.text == original[line.n - 1]


def test_secrets_redacted_in_excerpt() -> None:
    token = "ghp_" + "Ab1" * 12
    ex = excerpt(f"error: push failed with token {token}\n")
    assert token not in ex.texts[0]
    assert "[REDACTED:github_token]" in ex.texts[0]


def test_empty_log(tmp_path: Path) -> None:
    p = tmp_path / "empty.log"
    p.write_bytes(b"")
    ex = excerpt_file(p)
    assert ex.lines == ()
    assert ex.notes == ("empty log",)
    assert excerpt("").lines == ()


def test_binary_log_gives_note_not_crash(tmp_path: Path) -> None:
    p = tmp_path / "core.bin"
    p.write_bytes(b"\x7fELF\x00\x00\x01error: not really text\x00" * 100)
    ex = excerpt_file(p)
    assert ex.lines == ()
    assert "binary" in ex.notes[0] and str(p) in ex.notes[0]


def test_non_utf8_decoded_with_replacement(tmp_path: Path) -> None:
    p = tmp_path / "latin1.log"
    p.write_bytes("ok\nerror: fichier d\u00e9j\u00e0 ouvert\n".encode("latin-1"))
    ex = excerpt_file(p)
    assert ex.lines[-1].n == 2
    assert ex.lines[-1].text.startswith("error: fichier d\ufffdj\ufffd")


def test_one_megabyte_single_line_is_truncated(tmp_path: Path) -> None:
    p = tmp_path / "long.log"
    p.write_text("error: " + "x" * 1_000_000 + "\nFAILED\n")
    ex = excerpt_file(p, chunk_bytes=64 * 1024)
    first = ex.lines[0]
    assert first.n == 1
    assert len(first.text) < MAX_LINE_CHARS + 40
    assert first.text.endswith(f"…[truncated {1_000_007 - MAX_LINE_CHARS} chars]")
    assert ex.lines[1] == type(first)(2, "FAILED")
    assert len(ex.lines) == 2


def test_streaming_small_chunks_matches_in_memory(tmp_path: Path) -> None:
    """The chunked reader (used for huge logs) numbers lines exactly like the in-memory path."""
    parts = []
    for i in range(3000):
        parts.append(f"step {i} ok\r\n" if i % 3 else f"progress {i}\r")
        if i % 997 == 0:
            parts.append(f"java.lang.RuntimeException: failure {i}\n\tat a.B.c(B.java:{i})\n")
    text = "".join(parts)
    p = tmp_path / "big.log"
    p.write_bytes(text.encode())
    small = excerpt_file(p, chunk_bytes=1024)
    whole = excerpt(text)
    assert small.lines == whole.lines
    assert small.total_lines == whole.total_lines == sum(1 for _ in iter_file_lines(p, 4096))


@pytest.mark.slow
def test_big_log_streams_with_bounded_memory(tmp_path: Path) -> None:
    """100 MB here (about 40 s); benchmarks/bench_excerpts.py runs the 500 MB case."""
    import resource

    p = tmp_path / "huge.log"
    block = "".join(f"2025-06-03T14:02:11.1234567Z compiling module {i} ok\n" for i in range(10000))
    with p.open("w") as fh:
        while fh.tell() < 100 * 1024 * 1024:
            fh.write(block)
        fh.write("error: the one real failure\n")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ex = excerpt_file(p)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert ex.texts[-1] == "error: the one real failure"
    assert grown_mb < 300
