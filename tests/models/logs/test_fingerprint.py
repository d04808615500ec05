"""Fingerprints: frozen definition, invariance to volatile values, sensitivity to the error."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest

from models.logs.fingerprint import (
    FINGERPRINT_VERSION,
    fingerprint,
    fingerprint_excerpt,
    fingerprint_for_job,
    lines_for_fingerprint,
    normalised_lines,
)
from models.logs.lines import MAX_LINE_CHARS, truncate
from models.logs.normalise import mask

LINES = [
    "2025-06-03T14:02:11.1234567Z java.lang.IllegalStateException: pool 0x7f3a2c1d exhausted",
    "\tat com.acme.Pool.take(Pool.java:118)",
    "ERROR build 48213 failed after 12.5s in /home/runner/work/acme/acme/build",
]


def test_frozen_value_follows_documented_definition() -> None:
    # The definition in docs/logs.md, spelled out: masked lines joined by newlines after a
    # versioned header, sha256, first 32 hex digits.
    masked = [
        "java.lang.IllegalStateException: pool <*> exhausted",
        "at com.acme.Pool.take(Pool.java:<*>)",
        "ERROR build <*> failed after <*> in <*>",
    ]
    payload = f"followthrough-fp:{FINGERPRINT_VERSION}\n" + "\n".join(masked)
    expected = hashlib.sha256(payload.encode()).hexdigest()[:32]
    assert FINGERPRINT_VERSION == "6"
    assert normalised_lines(LINES) == masked
    assert fingerprint(LINES) == expected
    assert fingerprint(LINES) == "6cfa7a26edf9b340dd68a75565588904"


def test_volatile_values_do_not_change_fingerprint() -> None:
    other_run = [
        "2025-07-19T01:59:00.0000001Z java.lang.IllegalStateException: pool 0xdeadbeef01 exhausted",
        "\tat com.acme.Pool.take(Pool.java:121)",
        "\ufeffERROR build 50001 failed after 3m in /builds/workspace/acme/build",
    ]
    assert fingerprint(other_run) == fingerprint(LINES)
    uuids = [
        "request 123e4567-e89b-12d3-a456-426614174000 failed from 10.0.0.7:8080 at sha "
        "3f786850e387550fdab836ed7e6dc881de23001b"
    ]
    uuids2 = [
        "request 00000000-1111-2222-3333-444444444444 failed from 192.168.1.20:443 at sha "
        "89e6c98d92887913cadf06b2adb97f26cde4849b"
    ]
    assert fingerprint(uuids) == fingerprint(uuids2)


def test_different_error_gives_different_fingerprint() -> None:
    changed = [*LINES[:2], "ERROR build 48213 timed out after 12.5s in /home/runner/work/x/y/z"]
    assert fingerprint(changed) != fingerprint(LINES)


def test_job_variant_differs_by_job_and_is_stable() -> None:
    a = fingerprint_for_job(LINES, "build (ubuntu-latest)")
    assert a == fingerprint_for_job(LINES, "build (ubuntu-latest)")
    assert a != fingerprint_for_job(LINES, "lint")
    assert a != fingerprint(LINES)


def test_secrets_do_not_reach_the_hash_input() -> None:
    t1 = ["auth failed with token ghp_" + "a1" * 18]
    t2 = ["auth failed with token ghp_" + "b2" * 18]
    assert fingerprint(t1) == fingerprint(t2)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "src/a.ts(12,5): error TS18047: 'x' is possibly 'null'.",
            "src/a.ts(12,5): error TS2532: 'x' is possibly 'null'.",
        ),
        ("error[E0425]: cannot find value `x`", "error[E0308]: cannot find value `x`"),
        ("Program.cs(3,1): error CS1002: ; expected", "Program.cs(3,1): error CS1003: ; expected"),
        ("FAIL: TestSync64Fast (0.18s)", "FAIL: TestSync65Fast (0.18s)"),
        ("FAILED tests/test_io.py::test_read", "FAILED tests/test_io.py::test_write"),
        ("error TLDR003 descriptions", "error TLDR004 descriptions"),
        ("java.lang.IllegalStateException: closed", "java.lang.IllegalArgumentException: closed"),
    ],
)
def test_names_and_codes_that_identify_a_failure_stay(a: str, b: str) -> None:
    assert fingerprint([a]) != fingerprint([b])


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("\ufeffBUILD FAILED in 12s", "BUILD FAILED in 3m"),
        ("\x1b[31mFAIL\x1b[0m TestX", "FAIL TestX"),
        ("at /home/travis/build/o/r/x.psm1:2038", "at /Users/travis/build/o/r/x.psm1:2041"),
        ("mypy: src/app/hooks.py:12: error: Argument 1", "mypy: lib/events.py:80: error: Argument 1"),
        ("deliver(event_id=\"evt_8159d2b3b9cd\")", "deliver(event_id=\"evt_1c3ea7e3edf8\")"),
        ("listen udp 127.0.0.1:42613: bind", "listen udp 127.0.0.1:41777: bind"),
        ("FAILED t.py::test_retry[attempt3] - got 2", "FAILED t.py::test_retry[attempt5] - got 1"),
        ("jemalloc-sys-754a2cc36ac04a65/out: error", "jemalloc-sys-8599e81d749c60c3/out: error"),
        ("segfault at 0x7ffd5e8c1a20 in job 3", "segfault at 0x55d1c0ffee00 in job 4"),
        ("done 2025-06-03 14:02:11,123 id 8f14e45f-ceea-467f-a1c5-f2b2f5c3e1a0", "done "
         "2026-01-01 00:00:00,000 id 00000000-1111-2222-3333-444444444444"),
    ],
)
def test_volatile_parts_of_tokens_go(a: str, b: str) -> None:
    assert fingerprint([a]) == fingerprint([b])


def test_failure_mask_strips_bom_and_ansi_and_keeps_codes() -> None:
    assert mask("\ufeff\x1b[1merror TS2532\x1b[0m at 12", profile="failure") == "error TS2532 at <*>"
    assert mask("\ufeffplain") == "plain"
    with pytest.raises(ValueError, match="profile"):
        mask("x", profile="nope")


@dataclass
class _Ex:
    error_texts: list[str]
    signature: tuple[str, ...] = ()


def test_signature_wins_over_excerpt_lines_when_present() -> None:
    sig = ("error: linker failed",)
    with_passing = _Ex(["context line 1", "error: linker failed"], sig)
    without = _Ex(["other context 7", "error: linker failed", "more"], sig)
    assert lines_for_fingerprint(with_passing) == ["error: linker failed"]
    assert fingerprint_excerpt(with_passing) == fingerprint_excerpt(without)
    assert fingerprint_excerpt(_Ex(["a", "b"])) == fingerprint(["a", "b"])


def test_where_a_long_line_was_cut_does_not_matter() -> None:
    # The same failure listing 300 or 400 inputs: the cut falls in a different token and the
    # marker counts a different number of dropped characters.
    short = "Files to be formatted: (" + " ".join(f'"core/libs/f{i}.el"' for i in range(300))
    long = "Files to be formatted: (" + " ".join(f'"layers/x/f{i}.el"' for i in range(400))
    assert len(truncate(short)) > MAX_LINE_CHARS
    assert normalised_lines([truncate(short)]) == ['Files to be formatted: ("<*>" …']
    assert fingerprint([truncate(short)]) == fingerprint([long])
    assert fingerprint([short]) != fingerprint(["Files to be linted: (" + short[24:]])


def test_lists_of_values_count_as_one() -> None:
    assert fingerprint(['missing "a/b.c" "d/e.f"']) == fingerprint(['missing "g/h.i"'])
    assert mask("ids 12, 13; 14 | 15 left", profile="failure") == "ids <*> left"


def test_the_tail_of_a_very_long_message_is_not_compared() -> None:
    head = "Error Domain=IDETestOperationsObserverErrorDomain Code=14 Test operation was canceled. "
    a = head + "x" * 150 + " attach the log file at Run-Tests-sBoUPY.log"
    b = head + "x" * 150 + " attach the log file at Run-Tests-0ROG4M.log"
    assert fingerprint([a]) == fingerprint([b])
    assert fingerprint([a]) != fingerprint(["Error Domain=Other Code=14 " + "x" * 150])
