"""The terminal progress reporter, and the commands that use it keeping stdout unchanged."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from followthrough.cli import main
from followthrough.progress import NULL, Progress, for_output

REPO = Path(__file__).resolve().parents[2]


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_silent_when_the_stream_is_not_a_terminal() -> None:
    stream = io.StringIO()
    progress = Progress(stream)
    assert not progress.enabled
    with progress.stage("generate", total=10, unit="files") as stage:
        for _ in range(10):
            stage.advance()
        stage.set(10)
        stage.clear()
    assert stream.getvalue() == ""


def test_on_by_itself_on_a_terminal_and_overridable() -> None:
    assert Progress(FakeTerminal()).enabled
    assert not Progress(FakeTerminal(), enabled=False).enabled
    assert Progress(io.StringIO(), enabled=True).enabled
    assert not NULL.enabled


def test_null_reporter_writes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with NULL.stage("anything", total=3) as stage:
        stage.advance(3)
    assert capsys.readouterr() == ("", "")


def test_status_line_shows_stage_count_total_rate_and_elapsed() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, enabled=True, clock=clock)
    with progress.stage("excerpt", total=2_000, unit="files") as stage:
        clock.now += 2.0
        stage.advance(1_500)
        last = stream.getvalue().rsplit("\r", 1)[-1]
        assert last == "excerpt: 1,500 / 2,000 files, 750 files/s, 2.0 s\x1b[K"
        clock.now += 8.0
        stage.set(2_000)
    final = stream.getvalue().rsplit("\r", 1)[-1]
    assert final == "excerpt: 2,000 files in 10.0 s (200 files/s)\x1b[K\n"


def test_final_line_without_total() -> None:
    stream, clock = io.StringIO(), Clock()
    with Progress(stream, enabled=True, clock=clock).stage("generate", unit="files") as stage:
        stage.advance(15_056)
        clock.now += 11.2
    assert stream.getvalue().endswith("\rgenerate: 15,056 files in 11.2 s (1,344 files/s)\x1b[K\n")


def test_redraws_are_throttled_to_about_ten_a_second() -> None:
    stream, clock = io.StringIO(), Clock()
    with Progress(stream, enabled=True, clock=clock).stage("fingerprint", unit="lines") as stage:
        for _ in range(3_000):  # 3 seconds of work in 1 ms steps
            clock.now += 0.001
            stage.advance()
    draws = stream.getvalue().count("\r")
    assert 30 <= draws <= 33  # first line, ~10 a second, the final line
    assert stream.getvalue().count("\n") == 1


def test_real_clock_throttles_a_tight_loop() -> None:
    stream = io.StringIO()
    with Progress(stream, enabled=True).stage("loop") as stage:
        for _ in range(100_000):
            stage.advance()
    assert stream.getvalue().count("\r") < 50
    assert "loop: 100,000 items in" in stream.getvalue()


def test_clear_blanks_the_line_and_the_next_advance_redraws() -> None:
    stream, clock = io.StringIO(), Clock()
    with Progress(stream, enabled=True, clock=clock).stage("s") as stage:
        stage.clear()
        assert stream.getvalue().endswith("\r\x1b[K")
        stage.advance()
        assert stream.getvalue().endswith("\rs: 1 items, 0.0 s\x1b[K")


def test_a_failing_stage_still_ends_its_line() -> None:
    stream = io.StringIO()
    with pytest.raises(RuntimeError), Progress(stream, enabled=True).stage("s") as stage:
        stage.advance()
        raise RuntimeError("boom")
    assert stream.getvalue().endswith("(stopped)\x1b[K\n")


def test_results_on_the_terminal_turn_progress_off() -> None:
    assert for_output(FakeTerminal()) is False
    assert for_output(io.StringIO()) is None


def _logs(tmp_path: Path) -> list[str]:
    paths = []
    for i in range(3):
        p = tmp_path / f"fail{i}.log"
        p.write_text("setup ok\n" * 10 + f"error: cannot link target app{i}\nBUILD FAILED\n")
        paths.append(str(p))
    return paths


def _run_with_stderr(argv: list[str], stderr: io.StringIO, capsys: pytest.CaptureFixture[str],
                     monkeypatch: pytest.MonkeyPatch) -> str:
    with monkeypatch.context() as m:
        m.setattr(sys, "stderr", stderr)
        assert main(argv) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


@pytest.mark.parametrize("fmt", ["text", "jsonl"])
def test_excerpt_stdout_is_the_same_with_progress_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    argv = ["excerpt", "--format", fmt, *_logs(tmp_path)]
    plain, terminal = io.StringIO(), FakeTerminal()
    quiet = _run_with_stderr(argv, plain, capsys, monkeypatch)
    shown = _run_with_stderr(argv, terminal, capsys, monkeypatch)
    assert quiet == shown and "cannot link target app2" in shown
    assert plain.getvalue() == ""
    assert "\rexcerpt: 3 files in " in terminal.getvalue()


def test_fingerprint_stdout_is_the_same_with_progress_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "lines.txt"
    src.write_text("".join(f"connected to host-{i} in {i * 3} ms\n" for i in range(500)))
    argv = ["fingerprint", "--batch-lines", "100", str(src)]
    plain, terminal = io.StringIO(), FakeTerminal()
    quiet = _run_with_stderr(argv, plain, capsys, monkeypatch)
    shown = _run_with_stderr(argv, terminal, capsys, monkeypatch)
    assert quiet == shown and len(shown.splitlines()) == 500
    assert plain.getvalue() == ""
    assert "\rfingerprint: 500 lines in " in terminal.getvalue()


@pytest.mark.parametrize("command", ["excerpt", "fingerprint"])
def test_nothing_on_a_piped_stderr(tmp_path: Path, command: str) -> None:
    args = _logs(tmp_path) if command == "excerpt" else _logs(tmp_path)[:1]
    res = subprocess.run([sys.executable, "-m", "followthrough.cli", command, *args],
                         capture_output=True, text=True, cwd=REPO, timeout=120, check=True)
    assert res.stdout and res.stderr == ""
