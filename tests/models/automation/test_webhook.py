"""The GitHub webhook receiver over real HTTP on 127.0.0.1, with GitHub's published payloads,
and the spool it writes (atomic, idempotent per delivery id) and drains into landed exports."""

from __future__ import annotations

import copy
import http.client
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from followthrough.cli import main
from models.automation.config import load_automation
from models.automation.spool import Delivery, Spool, drain, extract
from models.automation.webhook import Receiver, signature
from models.connectors.landing import Landing
from warehouse.loader import map_file
from warehouse.sources import ALL_SOURCES

SECRET = "It's a Secret to Everybody"
REAL = Path(__file__).resolve().parents[2] / "fixtures" / "vendors" / "real" / "github" / "webhooks"


def payload(name: str) -> dict[str, Any]:
    return json.loads((REAL / name).read_text(encoding="utf-8"))


def failed_deploy() -> dict[str, Any]:
    doc = copy.deepcopy(payload("deployment_status.json"))
    doc["deployment_status"]["state"] = "failure"
    return doc


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    return tmp_path / "spool"


@pytest.fixture
def receiver(spool_dir: Path) -> Iterator[Receiver]:
    with Receiver(Spool(spool_dir), SECRET, "127.0.0.1", 0, max_body_bytes=64 * 1024) as r:
        yield r


def post(receiver: Receiver, body: bytes | dict[str, Any], *, event: str = "deployment_status",
         delivery: str | None = "72d3162e-cc78-11e3-81ab-4c9367dc0958",
         sign: str | None = "good", headers: dict[str, str] | None = None,
         ) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    h = {"Content-Type": "application/json", "X-GitHub-Event": event,
         "User-Agent": "GitHub-Hookshot/044aadd"}
    if delivery is not None:
        h["X-GitHub-Delivery"] = delivery
    if sign == "good":
        h["X-Hub-Signature-256"] = signature(SECRET.encode(), data)
    elif sign is not None:
        h["X-Hub-Signature-256"] = sign
    h.update(headers or {})
    host, port = receiver.address
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("POST", "/github", body=data, headers=h)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"{}")
    finally:
        conn.close()


def spooled(spool_dir: Path) -> list[str]:
    return sorted(p.name for p in spool_dir.glob("*")) if spool_dir.exists() else []


def test_signature_matches_githubs_published_example() -> None:
    # docs.github.com, "Validating webhook deliveries": this secret and body give this header.
    assert signature(SECRET.encode(), b"Hello, World!") == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")


def test_good_signature_spools_one_file_named_by_delivery(receiver: Receiver,
                                                          spool_dir: Path) -> None:
    status, answer = post(receiver, failed_deploy())
    assert (status, answer["outcome"]) == (202, "spooled")
    assert spooled(spool_dir) == ["72d3162e-cc78-11e3-81ab-4c9367dc0958.json"]
    item = Spool(spool_dir).read(spool_dir / spooled(spool_dir)[0])
    assert item.event == "deployment_status" and item.repo == "Codertocat/Hello-World"
    assert item.records["deployments"][0]["id"] == 145988746
    assert item.records["deployment_statuses"][0]["state"] == "failure"
    # Only what lands is kept: no sender, no repository object.
    assert "sender" not in (spool_dir / spooled(spool_dir)[0]).read_text()


@pytest.mark.parametrize("sign, reason", [
    (None, "missing X-Hub-Signature-256"),
    ("sha256=" + "0" * 64, "does not match"),
    ("sha1=0123", "does not match"),
])
def test_missing_or_bad_signature_is_401(receiver: Receiver, spool_dir: Path,
                                         sign: str | None, reason: str) -> None:
    status, answer = post(receiver, failed_deploy(), sign=sign)
    assert status == 401 and reason in answer["reason"]
    assert spooled(spool_dir) == []


def test_signature_of_another_body_is_rejected(receiver: Receiver, spool_dir: Path) -> None:
    body = json.dumps(failed_deploy()).encode()
    forged = signature(SECRET.encode(), body.replace(b"failure", b"success"))
    status, _ = post(receiver, body, sign=forged)
    assert status == 401 and spooled(spool_dir) == []


def test_redelivery_is_idempotent(receiver: Receiver, spool_dir: Path) -> None:
    assert post(receiver, failed_deploy())[1]["outcome"] == "spooled"
    path = spool_dir / spooled(spool_dir)[0]
    first = path.read_bytes()
    status, answer = post(receiver, failed_deploy())
    assert (status, answer["outcome"]) == (202, "duplicate")
    assert spooled(spool_dir) == [path.name] and path.read_bytes() == first


def test_concurrent_redeliveries_write_one_file(receiver: Receiver, spool_dir: Path) -> None:
    outcomes: list[str] = []
    threads = [threading.Thread(target=lambda: outcomes.append(
        post(receiver, failed_deploy(), delivery="same-id")[1]["outcome"])) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["duplicate"] * 7 + ["spooled"]
    assert spooled(spool_dir) == ["same-id.json"]


def test_oversize_body_is_413_and_not_read(receiver: Receiver, spool_dir: Path) -> None:
    big = failed_deploy()
    big["deployment"]["payload"] = {"blob": "x" * 70_000}
    status, answer = post(receiver, big)
    assert status == 413 and "limit" in answer["reason"]
    assert spooled(spool_dir) == []
    assert post(receiver, failed_deploy())[0] == 202  # and the next delivery is served


@pytest.mark.parametrize("body, delivery, reason", [
    (b"event=deployment_status&payload=%7B%7D", "d1", "body is not JSON"),
    (b"[1, 2]", "d2", "not a JSON object"),
    (json.dumps({"action": "created", "repository": {"full_name": "o/r"}}).encode(), "d3",
     "no 'deployment_status' object"),
    (b"{}", None, "X-GitHub-Delivery"),
    (b"{}", "../../etc/passwd", "X-GitHub-Delivery"),
])
def test_bad_payloads_are_400_naming_the_reason(receiver: Receiver, spool_dir: Path,
                                                body: bytes, delivery: str | None,
                                                reason: str) -> None:
    status, answer = post(receiver, body, delivery=delivery)
    assert status == 400 and reason in answer["reason"]
    assert spooled(spool_dir) == []


def test_unused_events_and_actions_are_202_ignored(receiver: Receiver, spool_dir: Path) -> None:
    status, answer = post(receiver, {"ref": "refs/heads/main"}, event="push")
    assert (status, answer["outcome"]) == (202, "ignored")
    requested = payload("workflow_run_completed.json")
    requested["action"] = "requested"
    requested["workflow_run"].update(status="queued", conclusion=None)
    status, answer = post(receiver, requested, event="workflow_run")
    assert (status, answer["outcome"]) == (202, "ignored") and "completed" in answer["reason"]
    status, answer = post(receiver, {"zen": "Design for failure.", "hook_id": 1}, event="ping")
    assert (status, answer["outcome"]) == (200, "pong")
    assert spooled(spool_dir) == []


def test_receiver_survives_bad_requests(receiver: Receiver, spool_dir: Path) -> None:
    host, port = receiver.address
    # Garbage instead of HTTP, then a body cut short with the connection closed.
    for raw in (b"\x16\x03\x01\x02\x00garbage\r\n\r\n",
                b"POST / HTTP/1.1\r\nContent-Length: 500\r\nX-GitHub-Event: ping\r\n\r\n{\"a\""):
        with socket.create_connection((host, port), timeout=5) as s:
            s.sendall(raw)
            s.shutdown(socket.SHUT_WR)
            s.recv(4096)
    # No Content-Length at all.
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        assert b" 411 " in s.recv(4096)
    status, answer = post(receiver, failed_deploy())
    assert (status, answer["outcome"]) == (202, "spooled")
    assert len(spooled(spool_dir)) == 1


def test_logs_carry_neither_secret_nor_body(receiver: Receiver,
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = json.dumps(failed_deploy()).encode()
    post(receiver, body)
    post(receiver, body, sign="sha256=" + "1" * 64)
    text = caplog.text
    assert "deployment_status" in text and "202" in text and "401" in text
    for secret in (SECRET, signature(SECRET.encode(), body), "f95f852bd8fc", "Codertocat"):
        assert secret not in text


def test_spool_write_is_atomic(spool_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spool = Spool(spool_dir)
    item = extract("deployment_status", failed_deploy(), delivery="d-atomic")

    def crash(*_: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "link", crash)
    with pytest.raises(OSError):
        spool.put(item)
    assert spooled(spool_dir) == []  # neither a partial file nor its temp copy
    monkeypatch.undo()
    assert spool.put(item) is True and spool.put(item) is False
    # A temp file left by a killed receiver is never read as a delivery, and goes once stale.
    stale = spool_dir / ".d-killed.abc.tmp"
    stale.write_bytes(b'{"delivery": "d-ki')
    assert [p.name for p in spool.pending()] == ["d-atomic.json"]
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    spool.pending()
    assert not stale.exists()


def test_drain_lands_connector_shaped_files_the_loader_maps(spool_dir: Path,
                                                            tmp_path: Path) -> None:
    spool = Spool(spool_dir)
    spool.put(extract("deployment_status", failed_deploy(), delivery="a1"))
    spool.put(extract("workflow_run", payload("workflow_run_completed.json"), delivery="a2"))
    spool.put(extract("workflow_job", payload("workflow_job_completed_failure.json"),
                      delivery="a3"))
    exports = tmp_path / "exports"
    loads: list[int] = []
    result = drain(spool_dir, exports, lambda: loads.append(1))
    assert (result.deliveries, result.loaded, loads) == (3, True, [1])
    assert spool.pending() == []
    landed = sorted(str(p.relative_to(exports)) for p in exports.rglob("*.json"))
    assert landed == [
        "github/deployment_statuses/2019-05-15.Codertocat__Hello-World.json",
        "github/deployments/2019-05-15.Codertocat__Hello-World.json",
        "github/jobs/2021-08-05.Codertocat__Hello-World.json",
        "github/runs/2020-10-05.octo-org__octo-repo.json",
    ]
    by_source = {s.name: s for s in ALL_SOURCES}
    for rel, source in (("deployments/2019-05-15", "github_deployments"),
                        ("deployment_statuses/2019-05-15", "github_deployment_statuses")):
        path = exports / f"github/{rel}.Codertocat__Hello-World.json"
        mapped, problems = map_file(by_source[source], path.read_bytes())
        assert problems == [] and len(mapped) == 1
    runs, problems = map_file(by_source["github_runs"],
                              (exports / landed[3]).read_bytes())
    assert problems == [] and runs[0]["raw.github_workflow_runs"][0].conclusion == "success"
    jobs, problems = map_file(by_source["github_jobs"], (exports / landed[2]).read_bytes())
    assert problems == [] and jobs[0]["raw.github_jobs"][0].failed_step == \
        "Run yarn run format-check"


def test_drain_keeps_files_when_the_load_fails_and_newer_copies_win(spool_dir: Path,
                                                                    tmp_path: Path) -> None:
    spool = Spool(spool_dir)
    done = payload("workflow_run_completed.json")
    spool.put(extract("workflow_run", done, delivery="r-done"))
    exports = tmp_path / "exports"

    def broken() -> None:
        raise RuntimeError("warehouse locked")

    with pytest.raises(RuntimeError):
        drain(spool_dir, exports, broken)
    assert [p.name for p in spool.pending()] == ["r-done.json"]  # kept for the next pass
    assert drain(spool_dir, exports, lambda: None).deliveries == 1
    # A late redelivery of an older copy of the run does not replace the newer landed one.
    older = copy.deepcopy(done)
    older["workflow_run"].update(conclusion="failure", updated_at="2020-10-05T16:33:30Z")
    spool.put(extract("workflow_run", older, delivery="r-older"))
    drain(spool_dir, exports, lambda: None)
    rel = "github/runs/2020-10-05.octo-org__octo-repo.json"
    from models.connectors.github import RUNS

    (run,) = Landing(exports).read_records(rel, RUNS)
    assert run["conclusion"] == "success"


def test_drain_rejects_an_unreadable_file_with_its_reason(spool_dir: Path,
                                                          tmp_path: Path) -> None:
    spool = Spool(spool_dir)
    spool_dir.mkdir()
    (spool_dir / "broken.json").write_text("{not json", encoding="utf-8")
    spool.put(Delivery("ok", "workflow_run", "completed", "octo-org/octo-repo", "now",
                       {"runs": [payload("workflow_run_completed.json")["workflow_run"]]}))
    result = drain(spool_dir, tmp_path / "exports", lambda: None)
    assert result.deliveries == 1 and [n for n, _ in result.rejected] == ["broken.json"]
    assert [p.name for p in spool.rejected()] == ["broken.json"]
    assert "not a spooled delivery" in (spool_dir / "rejected" / "broken.reason.txt").read_text()


def test_webhook_table_in_config(tmp_path: Path) -> None:
    cfg_file = tmp_path / "followthrough.toml"
    cfg_file.write_text('[automation.webhook]\nsecret_env = "HOOK_SECRET"\nspool = "spool"\n'
                        "max_body_bytes = 4096\n", encoding="utf-8")
    cfg = load_automation(cfg_file)
    assert cfg.webhook.secret_env == "HOOK_SECRET" and cfg.webhook.max_body_bytes == 4096
    assert cfg.spool_dir == tmp_path / "spool"
    assert cfg.webhook.secret({"HOOK_SECRET": "x"}) == "x"
    cfg_file.write_text('[automation.webhook]\nsecret = "inline"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"automation\.webhook\.secret: unknown key"):
        load_automation(cfg_file)


def test_command_refuses_to_start_without_a_secret(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("FOLLOWTHROUGH_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("FOLLOWTHROUGH_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["webhook", "--port", "0", "--spool", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "$FOLLOWTHROUGH_WEBHOOK_SECRET" in err


def test_command_serves_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    repo_root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "FOLLOWTHROUGH_WEBHOOK_SECRET": SECRET, "PYTHONPATH": str(repo_root)}
    env.pop("FOLLOWTHROUGH_CONFIG", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "followthrough.cli", "webhook", "--port", str(port),
         "--spool", str(tmp_path / "spool")], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert b"listening on http://127.0.0.1:" in (proc.stdout.readline() if proc.stdout
                                                      else b"")
        body = json.dumps(failed_deploy()).encode()
        r = httpx.post(f"http://127.0.0.1:{port}/github", content=body, headers={
            "X-GitHub-Event": "deployment_status", "X-GitHub-Delivery": "cli-1",
            "X-Hub-Signature-256": signature(SECRET.encode(), body)}, timeout=10)
        assert (r.status_code, r.json()["outcome"]) == (202, "spooled")
        assert spooled(tmp_path / "spool") == ["cli-1.json"]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert SECRET.encode() not in err and b"cli-1" in err  # one log line per request


def test_a_job_lands_under_its_runs_day_with_its_log_redacted(spool_dir: Path,
                                                              tmp_path: Path) -> None:
    run = payload("workflow_run_completed.json")
    run["workflow_run"]["conclusion"] = "failure"
    job = payload("workflow_job_completed_failure.json")
    # Queued before midnight, run after it: the connector files it under the run's day.
    job["workflow_job"].update(run_id=run["workflow_run"]["id"],
                               started_at="2020-10-06T00:02:00Z",
                               completed_at="2020-10-06T00:05:00Z")
    spool = Spool(spool_dir)
    spool.put(extract("workflow_job", job, delivery="j1"))
    spool.put(extract("workflow_run", run, delivery="r1"))
    asked: list[tuple[str, str, int]] = []

    def fetch_log(repo: str, day: str, job_id: int) -> str:
        asked.append((repo, day, job_id))
        return "##[error]deploy failed\nexport GITHUB_TOKEN=ghp_" + "a1B2" * 9 + "\n"

    exports = tmp_path / "exports"
    result = drain(spool_dir, exports, None, fetch_log=fetch_log)
    assert result.logs == 1 and asked == [("Codertocat/Hello-World", "2020-10-05", 289782451)]
    assert (exports / "github/jobs/2020-10-05.Codertocat__Hello-World.json").is_file()
    log_text = (exports / "github/logs/2020-10-05/289782451.txt").read_text()
    assert "deploy failed" in log_text and "a1B2a1B2" not in log_text


def test_the_documented_webhook_table_parses(tmp_path: Path) -> None:
    import re

    doc = Path(__file__).resolve().parents[3] / "docs" / "automation.md"
    (block,) = re.findall(r"```\n(\[automation\.webhook\]\n.*?)```",
                          doc.read_text(encoding="utf-8"), re.S)
    cfg_file = tmp_path / "followthrough.toml"
    cfg_file.write_text(block, encoding="utf-8")
    cfg = load_automation(cfg_file)
    assert cfg.webhook.secret_env == "FOLLOWTHROUGH_WEBHOOK_SECRET"
    assert cfg.spool_dir == tmp_path / "webhook-spool"
