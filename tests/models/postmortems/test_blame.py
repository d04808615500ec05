"""Precision/recall of the blame-language rule on labelled sentences."""

from __future__ import annotations

from models.postmortems import lint, parse_postmortem
from models.postmortems.blame import find_blame

NAMES = ("dana", "Bob Smith", "Alice", "kiran")

BLAMEFUL = [
    "The outage was caused by human error.",
    "Root cause: operator error during the failover.",
    "Bob failed to run the migration on staging first.",
    "Bob should have known the migration locks the users table.",
    "This was a careless mistake.",
    "If only Bob had followed the runbook, none of this would have happened.",
    "Alice broke prod by pushing directly to main.",
    "It was Dana's fault for skipping the review.",
    "The engineer was negligent in applying the change without review.",
    "The on-call engineer failed to acknowledge the page for 40 minutes.",
    "The incident was caused by Bob.",
    "Kiran caused the outage by restarting the wrong cluster.",
    "Someone broke the build and went home.",
    "The deploy went wrong because @dana forgot to update the config.",
    "He ignored the alert and went back to sleep.",
    "Alice made a mistake when she edited the DNS zone.",
    "The blame lies with the release manager.",
    "Sloppy work by the contractor led to the data loss.",
    "Bob Smith neglected to check the replication lag before the switch.",
    "The DBA should have checked the backups.",
    "This happened due to Kiran's carelessness.",
    "The intern is to blame for the lost data.",
]

BLAMELESS = [
    "14:05 Bob rolled back the deploy.",
    "Alice restored the backup at 14:30 UTC.",
    "The deploy failed to start because the image was missing.",
    "The health check failed to detect the stale index.",
    "We built the cache to be fault-tolerant.",
    "The default timeout is 30 seconds.",
    "Hardware diagnostics reported no fault found.",
    "This was not human error; the runbook step had no confirmation prompt.",
    "We avoid calling this 'human error' because it hides the conditions.",
    "No one was at fault: the tooling allowed a destructive command without confirmation.",
    "This is a blameless postmortem.",
    "Dana paged the database on-call at 14:12.",
    "The migration failed to acquire the lock and retried.",
    "Kubernetes failed to schedule the pods on the new nodes.",
    "We should have had alerting on replication lag.",
    "The alert should have fired earlier; its threshold was too high.",
    "Error budget burn rate exceeded 10x.",
    "Users saw 502 errors for 27 minutes.",
    "Fault injection tests did not cover the cache tier.",
    "The segmentation fault in the worker was triggered by a malformed payload.",
    "Kiran triggered a failover to the secondary region.",
    "A configuration change caused the outage.",
    "The outage was triggered by a latent bug in the retry loop.",
    "Bob ran the migration script as documented in the runbook.",
    "The CI job failed to upload artifacts because the token expired.",
    "User error messages were unclear, so customers retried.",
    "The engineer removed the data directory on the primary instead of the secondary.",
    "It is nobody's fault that the vendor changed the API.",
    "Because Alice noticed the spike early, the impact was limited.",
    "The change was introduced by the nightly dependency update.",
]


def _flagged(sentence: str) -> bool:
    return bool(find_blame([(1, sentence)], NAMES))


def test_blame_recall_and_precision() -> None:
    tp = sum(_flagged(s) for s in BLAMEFUL)
    fp_sentences = [s for s in BLAMELESS if _flagged(s)]
    missed = [s for s in BLAMEFUL if not _flagged(s)]
    recall = tp / len(BLAMEFUL)
    precision = tp / (tp + len(fp_sentences)) if tp else 0.0
    print(
        f"blame rule: recall {recall:.2f} precision {precision:.2f} "
        f"({len(BLAMEFUL)} blameful, {len(BLAMELESS)} blameless)"
    )
    assert recall >= 0.9, missed
    assert precision >= 0.95, fp_sentences
    assert not fp_sentences, fp_sentences


def test_blame_finding_has_sentence_line_and_rewrite() -> None:
    doc = (
        "# Outage\n\n## Contributing conditions\n\n"
        "- The change skipped staging.\n"
        "- Bob failed to run the migration on staging first.\n"
    )
    findings = [f for f in lint(parse_postmortem(doc)) if f.rule == "blame-language"]
    assert len(findings) == 1
    f = findings[0]
    assert f.line == 6 and f.severity == "error"
    assert "Bob failed to run the migration on staging first" in f.message
    assert f.suggestion and "did not require or prompt anyone to run the migration" in f.suggestion


def test_human_error_rewrite_is_condition_focused() -> None:
    (hit,) = find_blame([(3, "The outage was caused by human error.")], ())
    assert "a manual step without a safeguard" in hit.suggestion
