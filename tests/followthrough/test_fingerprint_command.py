"""`followthrough fingerprint` on awkward input: line breaks, NUL bytes, long lines, secrets."""

from __future__ import annotations

import argparse
import random
import string
import subprocess
import sys
from pathlib import Path

import pytest

from followthrough.commands import fingerprint as fingerprint_cmd

REPO = Path(__file__).resolve().parents[2]


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    fingerprint_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


def _rows(capsys: pytest.CaptureFixture[str]) -> list[list[str]]:
    return [line.split("\t") for line in capsys.readouterr().out.split("\n")[:-1]]


def test_one_output_line_per_input_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "m.txt"
    p.write_bytes(b"a 1\r\n\r\nnul\x00inside 2\nlast line without newline 3")
    assert _run(["fingerprint", str(p)]) == 0
    rows = _rows(capsys)
    assert len(rows) == 4
    assert all(len(r) == 2 and len(r[0]) == 16 for r in rows)
    assert rows[0][1] == "a <*>" and rows[1][1] == ""
    assert rows[3][1] == "last line without newline <*>"


def test_long_line_is_cut_with_marker(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "m.txt"
    p.write_text("error " + "x" * 5000 + "\nshort\n")
    assert _run(["fingerprint", str(p)]) == 0
    rows = _rows(capsys)
    assert len(rows) == 2 and "…[truncated <*> chars]" in rows[0][1]
    assert len(rows[0][1]) < 2100


def test_private_key_split_over_lines_and_batches_never_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(7)
    body = ["".join(rng.choice(string.ascii_letters + "+/") for _ in range(64)) for _ in range(6)]
    token = "ghp_" + "".join(rng.choice(string.ascii_letters) for _ in range(36))
    lines = ["start"] * 3 + ["-----BEGIN RSA PRIVATE KEY-----", *body]
    lines += ["-----END RSA PRIVATE KEY-----", f"push failed with {token}", "end"]
    p = tmp_path / "m.txt"
    p.write_text("\n".join(lines) + "\n")
    assert _run(["fingerprint", str(p), "--batch-lines", "5"]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == len(lines)
    assert not any(b in out for b in body) and token not in out
    assert "[REDACTED:private_key]" in out and "[REDACTED:github_token]" in out


def test_whole_process_through_the_module_entry(tmp_path: Path) -> None:
    p = tmp_path / "m.txt"
    p.write_text("".join(f"user {i} logged in\n" for i in range(1000)))
    done = subprocess.run(
        [sys.executable, "-m", "followthrough.commands.fingerprint", str(p)],
        cwd=REPO, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = [r.split("\t") for r in done.stdout.splitlines()]
    assert len(rows) == 1000 and {r[1] for r in rows} == {"user <*> logged in"}
