"""CODEOWNERS the way GitHub reads it (gitignore patterns, last match wins, an owner-less rule
unowns), found in the exports or at a configured path, and mapped to a team and its EM."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.automation.codeowners import CodeOwners, CodeOwnersCache, locate
from models.automation.config import load_automation
from models.automation.notify import Directory

# The example file from GitHub's documentation on code owners, in its order.
GITHUB_EXAMPLE = """\
# This is a comment.
# Each line is a file pattern followed by one or more owners.

# These owners will be the default owners for everything in
# the repo. Unless a later match takes precedence,
# @global-owner1 and @global-owner2 will be requested for
# review when someone opens a pull request.
*       @global-owner1 @global-owner2

# Order is important; the last matching pattern takes the most
# precedence. When someone opens a pull request that only
# modifies JS files, only @js-owner and not the global
# owner(s) will be requested for a review.
*.js    @js-owner #This is an inline comment.

# You can also use email addresses if you prefer. They'll be
# used to look up users just like we do for commit author
# emails.
*.go docs@example.com

# Teams can be specified as code owners as well.
*.txt @octo-org/octocats

# In this example, @doctocat owns any files in the build/logs
# directory at the root of the repository and any of its
# subdirectories.
/build/logs/ @doctocat

# The `docs/*` pattern will match files like
# `docs/getting-started.md` but not further nested files like
# `docs/build-app/troubleshooting.md`.
docs/*  docs@example.com

# In this example, @octocat owns any file in an apps directory
# anywhere in your repository.
apps/ @octocat

# In this example, @doctocat owns any file in the `/docs`
# directory in the root of your repository and any of its
# subdirectories.
/docs/ @doctocat

# In this example, any change inside the `/scripts` directory
# will require approval from @doctocat or @octocat.
/scripts/ @doctocat @octocat

# In this example, @octocat owns any file in a `/logs` directory such as
# `/build/logs`, `/scripts/logs`, and `/deeply/nested/logs`. Any changes
# in a `/logs` directory will require approval from @octocat.
**/logs @octocat

# In this example, @octocat owns any file in the `/apps`
# directory in the root of your repository except for the `/apps/github`
# subdirectory, as this subdirectory has its own owners.
/apps/ @octocat
/apps/github
"""


@pytest.mark.parametrize(("path", "owners"), [
    ("README.md", ("@global-owner1", "@global-owner2")),
    ("src/app.js", ("@js-owner",)),  # the inline comment is not an owner
    ("cmd/main.go", ("docs@example.com",)),
    ("notes/todo.txt", ("@octo-org/octocats",)),
    ("build/logs/today/run.log", ("@octocat",)),  # /build/logs/ then **/logs: last wins
    ("build/output.bin", ("@global-owner1", "@global-owner2")),
    ("docs/getting-started.md", ("@doctocat",)),  # docs/* then /docs/: last wins
    ("docs/build-app/troubleshooting.md", ("@doctocat",)),
    ("src/docs/intro.md", ("@global-owner1", "@global-owner2")),  # docs/* is anchored
    ("web/apps/main.py", ("@octocat",)),  # apps/ anywhere
    ("scripts/deploy.sh", ("@doctocat", "@octocat")),
    ("deeply/nested/logs/x.txt", ("@octocat",)),
    ("apps/github/index.py", ()),  # a rule without owners leaves the path unowned
    ("apps/other/index.py", ("@octocat",)),
])
def test_github_documented_example(path: str, owners: tuple[str, ...]) -> None:
    co = CodeOwners.parse(GITHUB_EXAMPLE)
    assert co.errors == []
    assert co.owners(path) == owners


def test_directory_children_pattern_does_not_reach_nested_files() -> None:
    co = CodeOwners.parse("* @all\n/docs/* @docs\n")
    assert co.owners("docs/a.md") == ("@docs",)
    assert co.owners("docs/sub/b.md") == ("@all",)


def test_invalid_lines_are_skipped_and_named() -> None:
    co = CodeOwners.parse("* @all\n!secret.txt @x\n[ab].py @y\n*.py not-an-owner\n*.rs @rust\n",
                          "acme/CODEOWNERS")
    assert [r.pattern for r in co.rules] == ["*", "*.rs"]
    assert co.errors == [
        "acme/CODEOWNERS:2: pattern '!secret.txt' uses syntax CODEOWNERS does not support "
        "(! or [ ])",
        "acme/CODEOWNERS:3: pattern '[ab].py' uses syntax CODEOWNERS does not support (! or [ ])",
        "acme/CODEOWNERS:4: owner 'not-an-owner' is not @user, @org/team or an email address",
    ]
    assert co.owners("x.py") == ("@all",)


def test_owners_for_a_failure_follow_the_paths_in_its_excerpt() -> None:
    co = CodeOwners.parse("* @acme/platform\n/services/refunds/ @acme/payments\n")
    assert co.owners_for_failure(["FAILED services/refunds/test_twice.py::test_x - assert"]) \
        == ("@acme/payments",)
    assert co.owners_for_failure(["Error: connection reset"]) == ("@acme/platform",)
    assert CodeOwners.parse("*.py @py\n").default_owners() == ()


def test_found_in_the_exports_before_the_configured_path(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    repo_dir = exports / "codeowners" / "acme__ledger"
    (repo_dir / ".github").mkdir(parents=True)
    (repo_dir / ".github" / "CODEOWNERS").write_text("* @acme/ledger\n", encoding="utf-8")
    (exports / "codeowners" / "acme__billing").write_text("* @acme/billing\n", encoding="utf-8")
    fallback = tmp_path / "CODEOWNERS"
    fallback.write_text("* @acme/everyone\n", encoding="utf-8")
    assert locate("acme/ledger", exports, str(fallback)) == repo_dir / ".github" / "CODEOWNERS"
    assert locate("acme/billing", exports, "") == exports / "codeowners" / "acme__billing"
    assert locate("acme/other", exports, str(fallback)) == fallback
    assert locate("acme/other", exports, "") is None
    cache = CodeOwnersCache(exports, str(fallback))
    assert cache.get("acme/other").default_owners() == ("@acme/everyone",)  # type: ignore[union-attr]
    assert cache.get("acme/ledger").default_owners() == ("@acme/ledger",)  # type: ignore[union-attr]


def test_codeowners_team_maps_to_its_engineering_manager(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    (exports / "codeowners").mkdir(parents=True)
    (exports / "codeowners" / "acme__ledger").write_text(
        "* @acme/platform\n/refunds/ @acme/Payments @dana\n", encoding="utf-8")
    config = tmp_path / "followthrough.toml"
    config.write_text("""
[automation.teams.payments]
em = "Priya Patel"
em_email = "priya@acme.example"
codeowners = ["@acme/payments"]

[automation.teams.platform]
em_slack = "U07PLATEM1"
codeowners = ["@acme/platform", "@sam"]
""", encoding="utf-8")
    d = Directory(load_automation(config, env={}), exports)
    # handles compare case-insensitively, the first owner that maps to a team wins
    assert d.team_for("acme/ledger", ["FAILED refunds/test_refund.py::test_twice"]) \
        == ("payments", "CODEOWNERS @acme/Payments")
    assert d.team_for("acme/ledger", ["timeout"]) == ("platform", "CODEOWNERS @acme/platform")
    assert d.team_for("acme/unknown", [], fallback="Payments") == ("Payments", "prior postmortem")
    em = d.em("payments")
    assert em is not None and em.who == "Priya Patel" and em.email == "priya@acme.example"
    platform = d.em("Platform")
    assert platform is not None and platform.slack == "U07PLATEM1" and not platform.email
    assert d.em("data") is None


def test_routes_and_team_repos_come_before_codeowners(tmp_path: Path) -> None:
    config = tmp_path / "followthrough.toml"
    config.write_text("""
[automation]
codeowners = "CODEOWNERS-not-there"

[[automation.routes]]
repos = ["acme/pay-*"]
team = "payments"

[automation.teams.web]
repos = ["acme/web-*"]
""", encoding="utf-8")
    d = Directory(load_automation(config, env={}), None)
    assert d.team_for("acme/pay-api") == ("payments", "route")
    assert d.team_for("acme/web-app") == ("web", "team repos")
    assert d.team_for("acme/other") == ("", "")
