"""Failures of the sample organisation: excerpts, clusters and recurrence links vs ground truth."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from sampleorg.evaluate import cluster_purity, recurrence_scores


def test_recurrence_links_recover_planted_recurring_failures(sample_org: tuple[Path, Path]) -> None:
    exports, warehouse = sample_org
    scores = recurrence_scores(exports, warehouse)
    print({k: str(v) for k, v in scores.items()})
    for name in ("prior_tickets", "prior_postmortems"):
        assert scores[name].expected > 0, f"the sample plants no {name}"
        assert scores[name].precision >= 0.9, (name, scores[name])
        assert scores[name].recall >= 0.9, (name, scores[name])
    fix = scores["fix_did_not_hold"]
    assert fix.precision >= 0.9 and fix.recall >= 0.9, fix


def test_planted_patterns_stay_whole_and_clean(sample_org: tuple[Path, Path]) -> None:
    exports, warehouse = sample_org
    purity = cluster_purity(exports, warehouse)
    assert purity["completeness"] >= 0.9 and purity["purity"] >= 0.9, purity


def test_every_failure_is_excerpted_and_secrets_are_not_stored(sample_org: tuple[Path, Path]) -> None:
    exports, warehouse = sample_org
    truth = json.loads((exports / "groundtruth.json").read_text(encoding="utf-8"))
    conn = duckdb.connect(str(warehouse), read_only=True)
    failed, excerpted, empty = conn.execute(
        "SELECT (SELECT count(*) FROM core.ci_failures WHERE log_path IS NOT NULL), "
        "(SELECT count(*) FROM models.failure_excerpts), "
        "(SELECT count(*) FROM models.failure_excerpts WHERE fingerprint IS NULL)"
    ).fetchone()
    assert failed == excerpted > 0 and empty == 0
    secrets = [s["value"] for s in truth["secrets"]]
    assert secrets, "the sample plants no leaked secrets"
    for table, column in (("models.failure_excerpts", "excerpt"),
                          ("models.failure_clusters", "representative"),
                          ("raw.quarantine", "snippet")):
        leaked = conn.execute(
            f"SELECT count(*) FROM {table} "
            f"WHERE len(list_filter(?, s -> contains({column}::VARCHAR, s))) > 0",
            [secrets],
        ).fetchone()[0]
        assert leaked == 0, f"{table}.{column} stores a planted secret"
    # and the excerpts did reach lines that held secrets: they show the redaction marker
    shown = 0
    for s in truth["secrets"]:
        excerpt = conn.execute(
            "SELECT excerpt FROM models.failure_excerpts WHERE job_id = ?", [s["job_id"]]
        ).fetchone()
        lines = {line["n"]: line["text"] for line in json.loads(excerpt[0])} if excerpt else {}
        if s["line"] in lines:
            assert "[REDACTED:" in lines[s["line"]], lines[s["line"]]
            shown += 1
    conn.close()
    assert shown > 0, "no planted secret fell inside an excerpt; the check above proves little"


def test_recurrence_message_names_prior_ticket(sample_org: tuple[Path, Path]) -> None:
    _, warehouse = sample_org
    conn = duckdb.connect(str(warehouse), read_only=True)
    row = conn.execute(
        "SELECT message, prior_ticket_keys, first_seen, failed_at FROM models.recurrences "
        "WHERE len(prior_ticket_keys) > 0 ORDER BY failed_at LIMIT 1"
    ).fetchone()
    conn.close()
    message, keys, first_seen, failed_at = row
    assert first_seen < failed_at
    assert f"see {keys[0]}" in message and "has happened" in message
