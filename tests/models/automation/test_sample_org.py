"""On the sample organisation, in dry run: every planted failed production deploy (GitHub
deployment statuses, the deploy-script workflow without deployment records, GitLab and
Buildkite) yields exactly one outbox ticket with every field filled and one postmortem draft,
and `automate --once` again (or after a crash, or after a rebuild of the warehouse) adds none."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from followthrough.cli import main
from followthrough.commands.build import build
from models.automation import outbox
from models.automation.config import load_automation
from models.automation.tickets import NOT_FOUND, incident_tickets
from models.settings import Settings
from sampleorg.generator import generate
from sampleorg.otherci import AUTOMATION_TRIGGERS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], Path, Path]]:
    root = tmp_path_factory.mktemp("org")
    exports = root / "exports"
    generate(exports, seed=7, scale=0.3)
    truth = json.loads((exports / "groundtruth.json").read_text(encoding="utf-8"))
    settings = Settings(warehouse=root / "w.duckdb", exports=exports)
    build(settings)
    config = root / "followthrough.toml"
    triggers = "".join(f"{k} = {json.dumps(v)}\n" for k, v in AUTOMATION_TRIGGERS.items())
    config.write_text(f"[automation]\ntracker = \"jira\"\n{triggers}", encoding="utf-8")
    yield truth, settings.warehouse, config


def planted(truth: dict[str, Any]) -> set[str]:
    d = truth["deploy_incidents"]
    return ({f"github:{x['deployment_id']}"
             for x in d["caused_incidents"] + d["failed_without_incident"]}
            | {x["key"] for x in d["script_workflow"] + d["other_ci"]})


def automate(warehouse: Path, config: Path, capsys: pytest.CaptureFixture[str]) -> str:
    code = main(["automate", "--once", "--warehouse", str(warehouse), "--config", str(config)])
    out = capsys.readouterr().out
    assert code == 0, out
    return out


def ticket_rows(warehouse: Path) -> list[tuple[Any, ...]]:
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        return conn.execute(
            "SELECT idempotency_key, status, payload, rule, severity, event_at "
            "FROM automation.outbox WHERE kind = 'ticket' ORDER BY 1").fetchall()
    finally:
        conn.close()


def test_every_planted_failed_deploy_gets_one_complete_ticket(
        org: tuple[dict[str, Any], Path, Path], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    truth, warehouse, config = org
    for var in ("JIRA_API_TOKEN", "JIRA_EMAIL", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    want = planted(truth)
    assert len(want) >= 30

    out = automate(warehouse, config, capsys)
    assert f"failed production deployments: {len(want)}" in out
    rows = ticket_rows(warehouse)
    assert [r[0] for r in rows] == sorted(want)  # exactly one each, nothing else
    assert {r[1] for r in rows} == {"dry_run"}
    for key, _status, payload, rule, severity, event_at in rows:
        fields = json.loads(payload)["fields"]
        assert fields["summary"] and rule and severity and event_at is not None, key
        assert "incident" in fields["labels"]
        assert "followthrough-" + key.replace(":", "-") in fields["labels"]
        text = json.dumps(fields["description"])
        assert NOT_FOUND not in text, key

    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        drafts = {d.idempotency_key: d for d in incident_tickets(conn, load_automation(config))}
        pm_drafts = dict(conn.execute(
            "SELECT ticket_key, path FROM automation.drafts").fetchall())
        linked = dict(conn.execute("SELECT ticket_key, incident_id FROM automation.drafts "
                                   "WHERE incident_id IS NOT NULL").fetchall())
    finally:
        conn.close()
    d_truth = truth["deploy_incidents"]
    caused = {f"github:{x['deployment_id']}": x for x in d_truth["caused_incidents"]}
    script = {x["key"]: x for x in d_truth["script_workflow"]}
    other = {x["key"]: x for x in d_truth["other_ci"]}
    assert script and {x["trigger"] for x in other.values()} == {
        "gitlab_deployment", "gitlab_job", "buildkite_build"}
    for key, d in drafts.items():
        for name, value in d.to_json().items():
            if name in ("team", "history"):
                continue  # no team routes configured; history is empty for a first failure
            if name == "deployment_id" and (key in script or other.get(key, {}).get(
                    "trigger") in ("gitlab_job", "buildkite_build")):
                assert value is None, key  # no deployment record: the ticket says so
                assert d.deployment_url.startswith("(no deployment record: "), key
                continue
            assert value not in (None, "", NOT_FOUND, []), (key, name)
        assert not d.excerpt[0].startswith("(no log excerpt"), key
        assert d.environment == "production" and len(d.sha) == 40
        if key in caused:  # the generator knows the run, job and commit behind these
            assert d.run_url == caused[key]["run_html_url"]
            assert d.job_url.endswith(f"/job/{caused[key]['job_id']}")
            assert d.sha == caused[key]["sha"]
        elif key in script:
            x = script[key]
            assert (d.run_url, d.job_url, d.sha, d.merged_by) == (
                x["run_html_url"], x["job_html_url"], x["sha"], x["actor"])
        elif key in other:
            x = other[key]
            if x["provider"] == "gitlab":
                assert (d.run_url, d.job_url, d.merged_by) == (
                    x["pipeline_url"], x["job_url"], x["user"])
            else:
                assert (d.run_url, d.job_url, d.merged_by) == (
                    x["build_url"], x["job_url"], x["creator"])
            assert d.sha == x["sha"]
        else:
            assert d.run_url.startswith("https://github.com/") and "/job/" in d.job_url
    # the incident record started itself: one postmortem draft per ticket, on disk, about the
    # PagerDuty incident the failed deploy caused (and no other)
    assert set(pm_drafts) == want
    assert linked == {k: x["incident_id"] for k, x in caused.items()}
    for path in pm_drafts.values():
        assert Path(path).is_file() and "followthrough:auto begin timeline" in Path(
            path).read_text(encoding="utf-8")
    # the "failed before" lines appear wherever the same deploy failure recurred
    assert sum(1 for d in drafts.values() if d.history) >= len(drafts) // 2

    again = automate(warehouse, config, capsys)
    assert "enqueued nothing" in again and "postmortem drafts: 0 started" in again
    assert ticket_rows(warehouse) == rows
    assert len(list((warehouse.parent / "drafts").iterdir())) == len(want)


def test_a_crash_mid_enqueue_then_a_rerun_adds_exactly_the_rest(
        org: tuple[dict[str, Any], Path, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    truth, warehouse, config = org
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(warehouse.read_bytes())
    conn = duckdb.connect(str(copy))
    conn.execute("DELETE FROM automation.outbox")
    conn.close()
    real = outbox.enqueue
    calls = {"n": 0}

    def dies_on_the_tenth(*args: Any, **kw: Any) -> bool:
        calls["n"] += 1
        if calls["n"] == 10:
            raise KeyboardInterrupt("killed")
        return real(*args, **kw)

    monkeypatch.setattr(outbox, "enqueue", dies_on_the_tenth)
    assert main(["automate", "--once", "--warehouse", str(copy), "--config", str(config)]) == 130
    assert len(ticket_rows(copy)) == 9
    monkeypatch.setattr(outbox, "enqueue", real)
    automate(copy, config, capsys)
    assert [r[0] for r in ticket_rows(copy)] == sorted(planted(truth))


def test_the_outbox_survives_a_rebuild(org: tuple[dict[str, Any], Path, Path],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    _truth, warehouse, config = org
    automate(warehouse, config, capsys)
    before = ticket_rows(warehouse)
    build(Settings(warehouse=warehouse, exports=warehouse.parent / "exports"), force=True)
    assert ticket_rows(warehouse) == before
    assert "enqueued nothing" in automate(warehouse, config, capsys)
