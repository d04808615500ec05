"""`followthrough excerpt` and `followthrough fingerprint` end to end on real files."""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import pytest

from followthrough.commands import excerpt as excerpt_cmd
from followthrough.commands import fingerprint as fingerprint_cmd


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    excerpt_cmd.register(sub)
    fingerprint_cmd.register(sub)
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


def test_cli_module_lists_commands() -> None:
    from followthrough import cli

    assert "excerpt" in cli.COMMANDS and "fingerprint" in cli.COMMANDS


def test_excerpt_jsonl_one_object_per_log_and_bad_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "fail.log"
    good.write_text("setup ok\n" * 10 + "error: cannot link target app\nBUILD FAILED\n")
    binary = tmp_path / "bin.log"
    binary.write_bytes(b"\x00\x01\x02 error")
    empty = tmp_path / "empty.log"
    empty.write_text("")
    missing = tmp_path / "missing.log"
    rc = _run(["excerpt", "--format", "jsonl", str(good), str(binary), str(empty), str(missing)])
    assert rc == 0
    captured = capsys.readouterr()
    objs = [json.loads(line) for line in captured.out.splitlines()]
    assert [o["path"] for o in objs] == [str(good), str(binary), str(empty), str(missing)]
    assert objs[0]["lines"][-2:] == [
        {"n": 11, "text": "error: cannot link target app"},
        {"n": 12, "text": "BUILD FAILED"},
    ]
    assert len(objs[0]["lines"]) <= 5
    assert len(objs[0]["fingerprint"]) == 32
    assert all(set(o) == {"path", "fingerprint", "lines"} for o in objs)
    assert objs[1]["lines"] == objs[2]["lines"] == objs[3]["lines"] == []
    assert f"{binary}: " in captured.err and "binary" in captured.err
    assert f"{empty}: empty log" in captured.err
    assert str(missing) in captured.err and "No such file" in captured.err


def test_excerpt_text_format_with_passing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    passing = tmp_path / "pass.log"
    passing.write_text("WARNING: cache miss 12\nall good\n")
    failing = tmp_path / "fail.log"
    failing.write_text("WARNING: cache miss 97\nerror: test_x failed\n")
    assert _run(["excerpt", "--max-lines", "1", "--passing", str(passing), str(failing)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"== {failing} (2 lines, fingerprint ")
    assert out[1:] == ["  2: error: test_x failed"]


def test_fingerprint_stdin_batches_keep_order_and_ids(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [f"user {i} logged in" if i % 2 else f"disk /dev/sd{i} full" for i in range(9)]
    data = ("\n".join(lines) + "\n").encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert _run(["fingerprint", "-", "--batch-lines", "4"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 9
    assert {r[0] for r in rows[1::2]} == {rows[1][0]}
    assert {r[0] for r in rows[0::2]} == {rows[0][0]}
    assert rows[1][1] == "user <*> logged in"


def test_fingerprint_file_argument_and_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = tmp_path / "msgs.txt"
    p.write_bytes(b"a \xff b 12\nplain\n")
    assert _run(["fingerprint", str(p)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[0].split("\t")[1] == "a \ufffd b <*>"
    assert _run(["fingerprint", str(tmp_path / "nope.txt")]) == 1
    assert "nope.txt" in capsys.readouterr().err
