"""Excerpt signatures: the decisive lines a fingerprint is computed from."""

from __future__ import annotations

import numpy as np

from models.logs.excerpt import SIGNATURE_LINES, _signature, excerpt
from models.logs.fingerprint import fingerprint_excerpt


def _sig(rows: list[tuple[str, float, bool]], eligible: list[bool] | None = None) -> list[str]:
    texts = [t for t, _, _ in rows]
    prob = np.array([p for _, p, _ in rows])
    seed = np.array([s for _, _, s in rows])
    elig = np.array(eligible if eligible is not None else [bool(t.strip()) for t in texts])
    return list(_signature(prob, elig, seed, texts))


def test_message_body_follows_its_seed_and_wrappers_stay_out() -> None:
    rows = [
        ("Compiling Text.Pandoc.CSV", 0.25, False),
        ("src/Text/Pandoc/Ipynb.hs:94:10: Warning:", 0.85, True),
        ("    No explicit implementation for", 0.75, False),
        ("      ‘mappend’", 0.88, False),
        ("", 0.0, False),
        ('The command "stack test" exited with 1.', 0.90, True),
        ("Done. Your build exited with 1.", 0.60, True),
    ]
    assert _sig(rows) == [
        "src/Text/Pandoc/Ipynb.hs:94:10: Warning:",
        "    No explicit implementation for",
        "      ‘mappend’",
    ]


def test_low_scoring_boilerplate_never_enters() -> None:
    rows = [
        ("Allow some information gathering to give useful error messages", 0.03, True),
        ("README.md:2186:Line longer than 80 characters.", 0.93, True),
        ('The command "gomali *.md" exited with 1.', 0.38, True),
    ]
    assert _sig(rows) == ["README.md:2186:Line longer than 80 characters."]


def test_lines_equal_but_for_digits_count_once_and_the_budget_holds() -> None:
    rows = [(f"src/v.erl:{i}: variable 'Tags' is unbound", 0.9, True) for i in range(3)]
    rows += [(f"src/v.erl:{i}: field {w} undefined in record vhost", 0.8, True)
             for i, w in enumerate(["tags", "description", "name", "id"])]
    sig = _sig(rows)
    assert len(sig) == SIGNATURE_LINES
    assert sum("'Tags' is unbound" in line for line in sig) == 1


def test_wrappers_are_the_signature_when_nothing_else_failed() -> None:
    rows = [("installing", 0.01, False), ('The command "make" exited with 2.', 0.4, True)]
    assert _sig(rows) == ['The command "make" exited with 2.']


def test_lines_after_the_end_marker_are_used_only_when_nothing_else_qualifies() -> None:
    rows = [
        ("Worker information", 0.0, False),
        ("hostname: 1194@9116.wjb-2", 0.0, False),
        ("xcodebuild: error: Unable to find a destination", 0.07, True),
    ]
    assert _sig(rows, eligible=[True, True, False]) == [
        "xcodebuild: error: Unable to find a destination"
    ]
    assert _sig([("", 0.0, False)]) == []


def test_signature_and_fingerprint_do_not_depend_on_the_passing_log() -> None:
    setup = [f"Setting up package-{i} ({i}.0.1) ..." for i in range(40)]
    failing = "\n".join([
        *setup,
        "$ npm test",
        "src/a.ts(12,5): error TS18047: 'x' is possibly 'null'.",
        "npm ERR! Test failed.  See above for more details.",
        'The command "npm test" exited with 1.',
        "Done. Your build exited with 1.",
    ])
    passing = "\n".join([*setup, "$ npm test", "ok", "Done. Your build exited with 0."])
    alone, diffed = excerpt(failing), excerpt(failing, passing=passing)
    assert alone.signature == diffed.signature
    assert any("TS18047" in line for line in alone.signature)
    assert fingerprint_excerpt(alone) == fingerprint_excerpt(diffed)
