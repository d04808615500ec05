"""`followthrough ingest` as a user runs it: a sources file, a GitHub API on 127.0.0.1, errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from followthrough.cli import main
from models.connectors.config import SOURCE_TYPES, ConfigError, load_config, parse_config
from tests.models.connectors.fake_github import FakeGitHub
from tests.vendor_server import Fault, VendorServer

REPO_ROOT = Path(__file__).resolve().parents[2]
TOKEN = "ghp_" + "Z9y8" * 9


def _toml(path: Path, url: str, extra: str = "") -> Path:
    path.write_text(f'[sources.github]\napi_url = "{url}"\nrepos = ["quayside-dev/ledger-api"]\n'
                    f'token_env = "FT_TEST_GH_TOKEN"\n{extra}', encoding="utf-8")
    return path


def _jira_export(root: Path) -> None:
    (root / "jira" / "issues").mkdir(parents=True)
    issue = {"id": "10001", "key": "ED-1", "fields": {
        "summary": "Add failover drill", "created": "2026-11-02T10:00:00.000+0000",
        "status": {"name": "To Do", "statusCategory": {"key": "new"}},
        "project": {"key": "ED"}, "issuetype": {"name": "Task"}}}
    (root / "jira" / "issues" / "2026-11.json").write_text(json.dumps({"issues": [issue]}))


def test_ingest_fetches_loads_and_rebuilds_then_continues_from_its_cursor(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("FT_TEST_GH_TOKEN", TOKEN)
    monkeypatch.setenv("FOLLOWTHROUGH_START_DATE", "2026-10-01")
    exports, db = tmp_path / "exports", tmp_path / "w.duckdb"
    with VendorServer() as server:
        fake = FakeGitHub(server, start=datetime(2026, 11, 1, tzinfo=UTC))
        config = _toml(tmp_path / "followthrough.toml", server.url)
        args = ["ingest", "--config", str(config), "--exports", str(exports),
                "--warehouse", str(db), "--since", "2026-10-31", "-q"]
        assert main(args) == 0
        first = capsys.readouterr().out
        assert re.search(r"fetched raw/github_actions: \d+ record\(s\)", first)
        conn = duckdb.connect(str(db), read_only=True)
        jobs = conn.execute("SELECT count(*), count(*) FILTER (WHERE has_log) FROM core.ci_jobs "
                            "WHERE provider = 'github' AND repo = 'quayside-dev/ledger-api'"
                            ).fetchone()
        failures = conn.execute("SELECT count(*) FROM core.ci_failures").fetchone()[0]
        conn.close()
        assert jobs == (sum(len(j) for j in fake.jobs.values()), len(fake.logs))
        assert failures == len(fake.logs)
        calls = len(server.log)
        assert main(args) == 0
        second = capsys.readouterr().out
        assert "no new data: core and marts unchanged" in second
        runs_queries = [r.arg("created") for r in server.log[calls:] if r.path.endswith("/runs")]
        assert runs_queries and all(not q.startswith("2026-10-31") for q in runs_queries)
    stored = b"".join(p.read_bytes() for p in exports.rglob("*") if p.is_file())
    assert TOKEN.encode() not in stored  # neither the API token nor any leaked copy of it
    assert not list(tmp_path.rglob("*.duckdb.wal")) or TOKEN.encode() not in db.read_bytes()


def test_a_failing_api_is_reported_and_the_other_sources_still_load(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("FT_TEST_GH_TOKEN", TOKEN)
    exports, db = tmp_path / "exports", tmp_path / "w.duckdb"
    _jira_export(exports)
    with VendorServer() as server:
        FakeGitHub(server)
        server.fail_next("GET", r"/repos/.*/actions/runs", Fault(503), times=50)
        config = _toml(tmp_path / "f.toml", server.url, "max_attempts = 2\n")
        rc = main(["ingest", "--config", str(config), "--exports", str(exports),
                   "--warehouse", str(db), "-q"])
    out = capsys.readouterr().out
    assert rc == 1
    assert "fetch_succeeded" in out and "HTTP 503 after 2 attempts" in out
    conn = duckdb.connect(str(db), read_only=True)
    assert conn.execute("SELECT ticket_key FROM core.tickets").fetchall() == [("ED-1",)]
    conn.close()


@pytest.mark.parametrize(("text", "message"), [
    ("[sources.github]\nrepos = ['a/b']\ntoken = 'x'\n",
     r"f\.toml: sources\.github\.token: unknown key; expected one of .*token_env"),
    ("[sources.github]\napi_url = 'api.github.com'\nrepos = ['a/b']\n",
     r"sources\.github\.api_url: expected an http\(s\) URL"),
    ("[sources.github]\n", r"sources\.github: needs repos or org"),
    ("[sources.gitlub]\n", r"sources\.gitlub: unknown source; expected one of github, gitlab"),
    ("[sources.github\n", r"f\.toml: file: not valid TOML"),
    ("[sources.github]\nrepos = ['a/b']\nmax_attempts = 0\n",
     r"sources\.github\.max_attempts: expected a whole number > 0"),
])
def test_a_bad_sources_file_is_one_line_naming_file_and_key(tmp_path: Path, text: str,
                                                           message: str):
    path = tmp_path / "f.toml"
    path.write_text(text, encoding="utf-8")
    res = subprocess.run(
        [sys.executable, "-m", "followthrough.cli", "ingest", "--config", str(path),
         "--exports", str(tmp_path / "e"), "--warehouse", str(tmp_path / "w.duckdb")],
        capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and re.search(message, lines[0]), lines
    assert not (tmp_path / "w.duckdb").exists()


def test_a_token_variable_that_is_not_set_stops_before_anything_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.delenv("FT_TEST_GH_TOKEN", raising=False)
    config = _toml(tmp_path / "f.toml", "http://127.0.0.1:9")
    assert main(["ingest", "--config", str(config), "--exports", str(tmp_path / "e"),
                 "--warehouse", str(tmp_path / "w.duckdb")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("followthrough ingest: github: environment variable FT_TEST_GH_TOKEN "
                   f"(sources.github.token_env in {config}) is not set")
    assert not (tmp_path / "w.duckdb").exists()


def test_no_sources_file_says_how_to_make_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FOLLOWTHROUGH_CONFIG", raising=False)
    assert main(["ingest"]) == 2
    assert "create followthrough.toml" in capsys.readouterr().err


def test_the_readme_example_sources_file_parses_with_every_source():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(# followthrough\.toml\n.*?)```", readme, re.S)
    assert block, "README has no followthrough.toml example"
    import tomllib

    config = parse_config(tomllib.loads(block.group(1)), Path("README.md"))
    assert set(config.sources) == set(SOURCE_TYPES)
    assert config.sources["pagerduty"].api_url == "https://api.pagerduty.com"


def test_config_file_from_the_environment_variable(tmp_path: Path):
    path = _toml(tmp_path / "elsewhere.toml", "https://ghe.example.com/api/v3")
    config = load_config(env={"FOLLOWTHROUGH_CONFIG": str(path)})
    assert config.sources["github"].api_url == "https://ghe.example.com/api/v3"
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(env={"FOLLOWTHROUGH_CONFIG": str(tmp_path / "missing.toml")})
