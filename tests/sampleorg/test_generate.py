"""The sample-organisation generator: shapes, planted truth, determinism, speed and memory."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from followthrough.cli import main
from followthrough.progress import Progress
from sampleorg import generate

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z ")
ISO_ANY = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)$")
SEED = 11


@pytest.fixture(scope="module")
def org_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("org")
    t0 = time.perf_counter()
    summary = generate(out, seed=SEED, scale=0.02)
    elapsed = time.perf_counter() - t0
    assert elapsed < 10, f"scale 0.02 took {elapsed:.1f}s"
    assert summary.counts["jobs"] > 1000
    return out


@pytest.fixture(scope="module")
def gt(org_dir: Path) -> dict[str, Any]:
    return json.loads((org_dir / "groundtruth.json").read_text())


def _raw(path: Path) -> str:
    """File text without newline translation (logs keep their carriage returns)."""
    return path.read_bytes().decode("utf-8")


def _load_all(org_dir: Path, pattern: str) -> list[tuple[Path, Any]]:
    return [(p, json.loads(p.read_text())) for p in sorted(org_dir.glob(pattern))]


def _jobs(org_dir: Path) -> dict[int, dict[str, Any]]:
    return {j["id"]: j for _, doc in _load_all(org_dir, "github/jobs/*.json") for j in doc["jobs"]}


def _issues(org_dir: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for _, doc in _load_all(org_dir, "jira/issues/*.json"):
        for i in doc["issues"]:
            out[i["key"]] = {"provider": "jira", **i}
    for _, doc in _load_all(org_dir, "linear/issues/*.json"):
        for n in doc["data"]["issues"]["nodes"]:
            out[n["identifier"]] = {"provider": "linear", **n}
    return out


def _text(issue: dict[str, Any]) -> str:
    """Description text of a Jira (ADF or string) or Linear issue."""
    if issue["provider"] == "linear":
        return issue["description"] or ""
    d = issue["fields"]["description"]
    return d if isinstance(d, str) else json.dumps(d)


def test_runs_and_jobs_have_vendor_shape(org_dir: Path) -> None:
    run_ids: set[int] = set()
    for path, doc in _load_all(org_dir, "github/runs/*.json"):
        assert doc["total_count"] == len(doc["workflow_runs"]) > 0, path
        for r in doc["workflow_runs"]:
            assert r["repository"]["full_name"].startswith("acme/")
            assert r["created_at"].startswith(path.stem), (path, r["id"])
            assert r["html_url"].endswith(f"/actions/runs/{r['id']}")
            assert r["conclusion"] in ("success", "failure", "cancelled")
            for key in ("head_sha", "run_number", "event", "head_commit", "actor", "node_id"):
                assert key in r
            run_ids.add(r["id"])
    jobs = 0
    for path, doc in _load_all(org_dir, "github/jobs/*.json"):
        assert doc["total_count"] == len(doc["jobs"])
        for j in doc["jobs"]:
            jobs += 1
            assert j["run_id"] in run_ids, (path, j["id"])
            for key in ("id", "run_id", "run_url", "node_id", "head_sha", "url", "html_url",
                        "status", "conclusion", "started_at", "completed_at", "name", "steps",
                        "labels", "runner_id", "runner_name", "runner_group_id",
                        "runner_group_name", "workflow_name", "head_branch"):
                assert key in j, (path, j["id"], key)
            assert j["completed_at"] >= j["started_at"]
            for s in j["steps"]:
                assert ISO_ANY.match(s["started_at"]) and s["started_at"].endswith("-08:00")
            if j["conclusion"] == "failure":
                assert any(s["conclusion"] == "failure" for s in j["steps"])
    assert jobs > 1000


def test_every_failed_job_has_a_timestamped_log(org_dir: Path, gt: dict[str, Any]) -> None:
    jobs = _jobs(org_dir)
    failed = {j for j, rec in jobs.items() if rec["conclusion"] == "failure"}
    truth = {f["job_id"]: f for f in gt["failed_jobs"]}
    assert failed == set(truth)
    rate = len(failed) / len(jobs)
    assert 0.04 < rate < 0.16, rate
    for f in truth.values():
        log = org_dir / f["log"]
        assert log.is_file(), log
        lines = _raw(log).rstrip("\n").split("\n")  # "\r" progress stays in-line
        assert len(lines) >= 30
        assert all(LOG_LINE.match(line) for line in lines), log
        assert any("##[error]" in line for line in lines), log
        assert lines[0][:10] == f["log"].split("/")[2]
    # some passing jobs carry a log too (the last pass before a failure)
    logged = {int(p.stem) for p in org_dir.glob("github/logs/*/*.txt")}
    assert logged - failed
    assert all(jobs[j]["conclusion"] == "success" for j in logged - failed)


def test_recurring_patterns_are_planted_consistently(org_dir: Path, gt: dict[str, Any]) -> None:
    jobs = _jobs(org_dir)
    issues = _issues(org_dir)
    by_pattern = {}
    for f in gt["failed_jobs"]:
        by_pattern.setdefault(f["pattern_id"], set()).add(f["job_id"])
    pats = gt["recurring_failures"]
    assert 20 <= len(pats) <= 30
    assert None in by_pattern  # one-off failures exist
    recurred = 0
    for p in pats:
        assert set(p["job_ids"]) == by_pattern[p["pattern_id"]]
        assert len(p["job_ids"]) >= 3
        months = {jobs[j]["started_at"][:7] for j in p["job_ids"]}
        assert len(months) >= 2, p["pattern_id"]
        for key in p["ticket_keys"]:
            assert key in issues, key
        if p["ticket_keys"] and p["fix_ticket_key"] and p["postmortem_ids"] == []:
            desc = _text(issues[p["fix_ticket_key"]])
            assert "/actions/runs/" in desc
        if p["fix_closed_at"]:
            after = [j for j in p["job_ids"] if jobs[j]["started_at"] > p["fix_closed_at"]]
            assert bool(after) == p["recurred_after_fix"]
            recurred += p["recurred_after_fix"]
    assert recurred >= 2
    # messages vary between occurrences (ids, line numbers, paths...)
    p = next(p for p in pats if p["pattern_id"] == "rf01-webhook-retry-attempts")
    texts = {(org_dir / next(f["log"] for f in gt["failed_jobs"] if f["job_id"] == j)
              ).read_text().split("##[error]")[0][-600:] for j in p["job_ids"]}
    assert len(texts) == len(p["job_ids"])


def test_tickets_in_truth_exist_with_changelogs(org_dir: Path, gt: dict[str, Any]) -> None:
    issues = _issues(org_dir)
    keys = [t["key"] for t in gt["tickets"]]
    assert len(keys) == len(set(keys)) == len(issues)
    assert set(keys) == set(issues)
    prefixes = {k.split("-")[0] for k in keys}
    assert prefixes <= {"PAY", "PLAT", "OPS", "SRE", "DATA", "ENG", "WEB", "MOB"}
    for i in issues.values():
        if i["provider"] == "jira":
            f = i["fields"]
            assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$", f["created"])
            assert "histories" in i["changelog"]
            assert f["status"]["statusCategory"]["key"] in ("new", "indeterminate", "done")
            assert "comments" in f["comment"]
        else:
            assert i["state"]["type"] in ("unstarted", "started", "completed", "canceled",
                                          "backlog")
            assert i["team"]["key"] in ("ENG", "WEB", "MOB")
    assert any(h for i in issues.values() if i["provider"] == "jira"
               for h in i["changelog"]["histories"]
               if any(it["field"] == "Sprint" for it in h["items"]))


def test_action_items_match_documents_and_tickets(org_dir: Path, gt: dict[str, Any]) -> None:
    issues = _issues(org_dir)
    docs = {pm["postmortem_id"]: (org_dir / pm["path"]).read_text() for pm in gt["postmortems"]}
    assert gt["action_items"]
    for pm in gt["postmortems"]:
        assert pm["path"] == f"postmortems/{pm['postmortem_id']}." + (
            "html" if pm["format"] == "html" else "md")
        assert pm["incident_url"] in docs[pm["postmortem_id"]] or pm["format"] == "html"
        for sentence in pm["blame_sentences"]:
            assert sentence in docs[pm["postmortem_id"]] or \
                __import__("html").escape(sentence) in docs[pm["postmortem_id"]]
    ordinals: dict[str, list[int]] = {}
    for ai in gt["action_items"]:
        pm_id, ordinal = ai["action_item_id"].split("#")
        assert pm_id == ai["postmortem_id"] and int(ordinal) == ai["ordinal"]
        ordinals.setdefault(pm_id, []).append(ai["ordinal"])
        doc = docs[pm_id]
        key = ai["ticket_key"]
        if key is None:
            assert ai["link_kind"] is None and ai["completed_at"] is None
            continue
        issue = issues[key]
        if ai["link_kind"] == "doc_key":
            assert re.search(rf"\b{re.escape(key)}\b", doc), (pm_id, key)
        else:
            assert ai["link_kind"] == "ticket_mentions_postmortem"
            assert pm_id in _text(issue)
            assert not re.search(rf"\b{re.escape(key)}\b", doc)
        created = (issue["fields"]["created"] if issue["provider"] == "jira"
                   else issue["createdAt"])
        assert created[:19] == ai["ticket_created_at"][:19]
        done = (issue["fields"]["resolutiondate"] if issue["provider"] == "jira"
                else issue["completedAt"])
        assert (done or None) and done[:19] == ai["completed_at"][:19] if ai["completed_at"] \
            else done is None
        assert ai["delay_hours"] >= 0
        if ai["stale"]:
            assert ai["completed_at"] is None and ai["stale_reasons"]
    for ords in ordinals.values():
        assert sorted(ords) == list(range(1, len(ords) + 1))


def test_identified_at_follows_the_conventions(gt: dict[str, Any]) -> None:
    for pm in gt["postmortems"]:
        expected = pm["meeting_at"] or f"{pm['date']}T00:00:00Z"
        assert pm["identified_at"] == expected
    for ai in gt["action_items"]:
        pm = next(p for p in gt["postmortems"] if p["postmortem_id"] == ai["postmortem_id"])
        assert ai["identified_at"] == pm["identified_at"]


def test_deploy_incidents_cite_the_failed_deploy(org_dir: Path, gt: dict[str, Any]) -> None:
    incidents = {i["id"]: i for _, doc in _load_all(org_dir, "pagerduty/incidents/*.json")
                 for i in doc["incidents"]}
    assert len(incidents) == gt["counts"]["incidents"]
    statuses = [s for _, doc in _load_all(org_dir, "github/deployment_statuses/*.json")
                for s in doc]
    deployments = {d["id"]: d for _, doc in _load_all(org_dir, "github/deployments/*.json")
                   for d in doc}
    assert all(s["deployment_url"].rsplit("/", 1)[1].isdigit() for s in statuses)
    caused = gt["deploy_incidents"]["caused_incidents"]
    assert caused
    for c in caused:
        inc = incidents[c["incident_id"]]
        assert c["deployment_url"] in inc["body"]["details"]
        assert c["run_html_url"] in inc["body"]["details"]
        dep = deployments[c["deployment_id"]]
        assert dep["environment"] == "production"
        fail = [s for s in statuses if s["deployment_url"] == c["deployment_url"]
                and s["state"] == "failure"]
        assert len(fail) == 1
        assert fail[0]["created_at"] < inc["created_at"]
        assert 0 < c["minutes_after_failure"] < 30
    for f in gt["deploy_incidents"]["failed_without_incident"]:
        assert deployments[f["deployment_id"]]["environment"] == "production"


def test_secrets_are_recorded_where_they_leak(org_dir: Path, gt: dict[str, Any]) -> None:
    assert gt["secrets"]
    for s in gt["secrets"]:
        lines = _raw(org_dir / s["path"]).split("\n")
        assert s["value"] in lines[s["line"] - 1]


def test_same_seed_is_byte_identical(tmp_path: Path) -> None:
    def digest(root: Path) -> dict[str, str]:
        return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(root.rglob("*")) if p.is_file()}

    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, seed=3, scale=0.01)
    stderr = io.StringIO()
    summary = generate(b, seed=3, scale=0.01, progress=Progress(stderr, enabled=True))
    generate(c, seed=4, scale=0.01)
    da = digest(a)
    assert da == digest(b)  # reporting progress changes nothing that is written
    assert da != digest(c)
    finals = re.findall(r"\r(generate [^:]+): ([\d,]+) files in ", stderr.getvalue())
    assert [name for name, _ in finals] == ["generate github", "generate gitlab, buildkite",
                                            "generate postmortems, tickets, incidents"]
    assert sum(int(n.replace(",", "")) for _, n in finals) == summary.files_written == len(da)


def test_cli_writes_summary_and_rejects_bad_input(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "org"
    assert main(["generate", "--seed", "5", "--scale", "0.01", str(out)]) == 0
    assert "jobs" in capsys.readouterr().out
    assert (out / "groundtruth.json").is_file()
    assert main(["generate", "--scale", "0.01", str(out)]) == 2  # not empty
    assert "not empty" in capsys.readouterr().err
    assert main(["generate", "--scale", "0", str(tmp_path / "x")]) == 2
    assert "positive" in capsys.readouterr().err


_RSS_SCRIPT = """
import resource, sys
from pathlib import Path
from sampleorg import generate
generate(Path(sys.argv[1]), seed=2, scale=float(sys.argv[2]))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.mark.slow
def test_memory_does_not_grow_with_scale(tmp_path: Path) -> None:
    rss = []
    for scale in (0.05, 0.5):
        res = subprocess.run([sys.executable, "-c", _RSS_SCRIPT, str(tmp_path / str(scale)),
                              str(scale)], capture_output=True, text=True, check=True)
        rss.append(int(res.stdout.strip().splitlines()[-1]))
    # ten times the jobs may cost a little more (ground-truth tuples), never ten times the RSS
    assert rss[1] < rss[0] * 1.5 + 30_000, rss


@pytest.mark.slow
def test_action_item_delay_distribution(tmp_path: Path) -> None:
    generate(tmp_path, seed=9, scale=0.5)
    gt = json.loads((tmp_path / "groundtruth.json").read_text())
    items = gt["action_items"]
    assert len(items) > 250
    delays = sorted(a["delay_hours"] for a in items if a["delay_hours"] is not None)
    median = delays[len(delays) // 2]
    assert 36 <= median <= 100, median
    assert sum(d < 12 for d in delays) / len(delays) > 0.08
    assert sum(d > 4.3 * 24 for d in delays) / len(delays) > 0.1
    never = sum(a["ticket_key"] is None for a in items) / len(items)
    assert 0.08 <= never <= 0.2, never
    assert {a["link_kind"] for a in items} == {"doc_key", "ticket_mentions_postmortem", "fuzzy", None}
    pms = gt["postmortems"]
    no_verif = sum(not any(a["has_verification"] for a in items
                           if a["postmortem_id"] == p["postmortem_id"]) for p in pms) / len(pms)
    assert 0.15 <= no_verif <= 0.35, no_verif
    assert 0.07 <= sum(not p["blameless"] for p in pms) / len(pms) <= 0.25
    assert 0.04 <= sum(p["format"] == "html" for p in pms) / len(pms) <= 0.18
