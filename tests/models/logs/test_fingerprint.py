"""Fingerprints: frozen definition, invariance to volatile values, sensitivity to the error."""

from __future__ import annotations

import hashlib

from models.logs.fingerprint import FINGERPRINT_VERSION, fingerprint, fingerprint_for_job

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
        "at com.acme.Pool.take(<*>)",
        "ERROR build <*> failed after <*> in <*>",
    ]
    payload = f"followthrough-fp:{FINGERPRINT_VERSION}\n" + "\n".join(masked)
    expected = hashlib.sha256(payload.encode()).hexdigest()[:32]
    assert FINGERPRINT_VERSION == "1"
    assert fingerprint(LINES) == expected
    assert fingerprint(LINES) == "5cc4f3c40478d9a91dfb52189ad27224"


def test_volatile_values_do_not_change_fingerprint() -> None:
    other_run = [
        "2025-07-19T01:59:00.0000001Z java.lang.IllegalStateException: pool 0xdeadbeef01 exhausted",
        "\tat com.acme.Pool.take(Pool.java:121)",
        "ERROR build 50001 failed after 3m in /builds/workspace/acme/build",
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
