"""`[automation]` parsing: defaults, rules, routes, and errors that name the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.automation.config import DEFAULT_RULES, AutomationConfig, load_automation
from models.automation.tickets import classify
from models.connectors.config import ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "followthrough.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file_are_dry_run(tmp_path: Path) -> None:
    cfg = load_automation(None, env={})
    assert cfg.path is None and cfg.rules == DEFAULT_RULES and cfg.tracker == "jira"
    for name in ("jira", "linear", "github", "slack"):
        assert not cfg.target(name).is_live({"JIRA_API_TOKEN": "x", "JIRA_EMAIL": "a@b",
                                             "LINEAR_API_KEY": "x", "GITHUB_TOKEN": "x",
                                             "SLACK_BOT_TOKEN": "x"})


def test_live_needs_the_flag_and_the_credentials(tmp_path: Path) -> None:
    path = write(tmp_path, """
[automation.jira]
live = true
site_url = "https://quayside-dev.atlassian.net"
project = "OPS"
[automation.github]
live = true
""")
    cfg = load_automation(path)
    jira, github = cfg.target("jira"), cfg.target("github")
    assert not jira.is_live({})
    assert not jira.is_live({"JIRA_API_TOKEN": "t"})  # Jira also needs the account email
    assert jira.is_live({"JIRA_API_TOKEN": "t", "JIRA_EMAIL": "bot@quayside.dev"})
    assert github.is_live({"GITHUB_TOKEN": "t"}) and not github.is_live({})
    # the connectors' parser accepts the same file
    assert load_config(path).sources == {}


def test_rules_routes_and_tiers(tmp_path: Path) -> None:
    path = write(tmp_path, """
[automation]
tracker = "github"
repeat_window_days = 3
tiers = { "quayside-dev/ledger-*" = 1 }

[[automation.severity]]
name = "tier1-production"
severity = "SEV1"
environments = ["production"]
tiers = [1]

[[automation.severity]]
name = "repeated"
severity = "SEV2"
min_repeat = 2

[[automation.severity]]
name = "rest"
severity = "SEV3"

[[automation.routes]]
repos = ["quayside-dev/billing*"]
tracker = "linear"
team = "payments"
""")
    cfg = load_automation(path)
    assert cfg.repeat_window_days == 3.0
    assert cfg.route("quayside-dev/billing") == ("linear", "payments")
    assert cfg.route("quayside-dev/ledger-api") == ("github", "")
    kw = {"repeat_count": 1, "failing_minutes": 0.0, "prior_failures": 0}
    assert classify(cfg, environment="production", repo="quayside-dev/ledger-api",
                    **kw).name == "tier1-production"
    assert classify(cfg, environment="production", repo="quayside-dev/billing",
                    **kw).name == "rest"
    assert classify(cfg, environment="production", repo="quayside-dev/billing",
                    **{**kw, "repeat_count": 2}).name == "repeated"


def test_default_rules_order() -> None:
    cfg = AutomationConfig()
    base = {"environment": "production", "repo": "r", "repeat_count": 1,
            "failing_minutes": 0.0, "prior_failures": 0}
    assert classify(cfg, **base).severity == "SEV3"
    assert classify(cfg, **{**base, "prior_failures": 2}).name == "production-recurring"
    assert classify(cfg, **{**base, "failing_minutes": 180}).severity == "SEV1"
    assert classify(cfg, **{**base, "repeat_count": 3}).name == "production-repeated"
    assert classify(cfg, **{**base, "environment": "staging"}).name == "default"


@pytest.mark.parametrize("text, key", [
    ("[automation]\ntracker = 'trello'\n", "automation.tracker"),
    ("[automation]\nbogus = 1\n", "automation.bogus"),
    ("[automation.jira]\nlive = 'yes'\n", "automation.jira.live"),
    ("[automation.jira]\nlive = true\n", "automation.jira"),
    ("[automation.slack]\napi_url = 'slack.com'\n", "automation.slack.api_url"),
    ("[[automation.severity]]\nname = 'x'\n", "automation.severity[0]"),
    ("[[automation.severity]]\nname = 'x'\nseverity = 'SEV1'\nmin_repeat = -1\n",
     "automation.severity[0].min_repeat"),
])
def test_bad_config_names_the_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_automation(path)
    assert err.value.key == key and str(path) in str(err.value)


def test_the_documented_example_parses(tmp_path: Path) -> None:
    import re

    doc = Path(__file__).resolve().parents[3] / "docs" / "automation.md"
    (block,) = re.findall(r"```toml\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)
    cfg = load_automation(write(tmp_path, block))
    assert cfg.route("acme/payments-api") == ("linear", "payments")
    assert cfg.team_ems == {"payments": "U07PAYMGR"} and cfg.tier("acme/payments-x") == 1
    assert [r.name for r in cfg.rules] == ["production-repeated"]
    assert not any(cfg.target(t).live for t in ("jira", "linear", "github", "slack"))
