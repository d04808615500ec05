"""Secret redaction on real-shaped (generated) secrets, and ordinary lines left alone."""

from __future__ import annotations

import random
import string

import pytest

from models.logs.redact import redact

_RNG = random.Random(20250603)


def _rand(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(n))


GHP = "ghp_" + _rand(36)
GHS = "ghs_" + _rand(36)
PAT = "github_pat_" + _rand(22) + "_" + _rand(59)
GLPAT = "glpat-" + _rand(20)
SLACK = "xoxb-" + _rand(12, string.digits) + "-" + _rand(12, string.digits) + "-" + _rand(24)
AKIA = "AKIA" + _rand(16, string.ascii_uppercase + string.digits)
AWS_SECRET = _rand(40, string.ascii_letters + string.digits + "/+")
GOOGLE = "AIza" + _rand(35)
JWT = "eyJ" + _rand(30) + ".eyJ" + _rand(40) + "." + _rand(43)


@pytest.mark.parametrize(
    ("line", "secret", "kind"),
    [
        (f"export GITHUB_TOKEN={GHP}", GHP, "github_token"),
        (f"git push https://x-access-token:{GHS}@github.com/o/r.git", GHS, None),
        (f"token {PAT} accepted", PAT, "github_token"),
        (f"CI_JOB_TOKEN set, using {GLPAT}", GLPAT, "gitlab_token"),
        (f"posting with {SLACK}", SLACK, "slack_token"),
        (f"aws_access_key_id = {AKIA}", AKIA, "aws_access_key"),
        (f"aws_secret_access_key = {AWS_SECRET}", AWS_SECRET, None),
        (f"maps key={GOOGLE}", GOOGLE, "google_api_key"),
        (f"curl -H 'Authorization: Bearer {_rand(32)}x' https://api", None, None),
        (f"cookie session {JWT}", JWT, "jwt"),
        ("postgres://deploy:S3cretPassw0rd@db.internal:5432/app", "S3cretPassw0rd", "url_password"),
        ("DB_PASSWORD=correct-horse-battery", "correct-horse-battery", None),
        ("password: hunter2hunter2", "hunter2hunter2", None),
        ("Server=tcp:x.net;User ID=u;Password=Pa55w0rd!x;", "Pa55w0rd!x", None),
        ("DefaultEndpointsProtocol=https;AccountKey=" + _rand(44) + "==;", "AccountKey=", None),
    ],
)
def test_secrets_are_redacted(line: str, secret: str | None, kind: str | None) -> None:
    out = redact(line)
    assert "[REDACTED:" in out
    if secret and secret != "AccountKey=":
        assert secret not in out
    if kind:
        assert f"[REDACTED:{kind}]" in out


def test_bearer_value_removed_but_header_kept() -> None:
    value = _rand(40)
    out = redact(f"Authorization: Bearer {value}")
    assert value not in out
    assert out.startswith("Authorization:")


def test_pem_block_is_redacted_whole() -> None:
    body = "\n".join(_rand(64, string.ascii_letters + string.digits + "+/") for _ in range(5))
    text = f"before\n-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\nafter"
    out = redact(text)
    assert out == "before\n[REDACTED:private_key]\nafter"


@pytest.mark.parametrize(
    "line",
    [
        "[INFO] BUILD SUCCESS",
        "Executing with tokens:",
        "max_tokens=4096",
        "LogDifferTest > testGithubParsing() FAILED",
        "token verification failed for user alice",
        "E   AssertionError: assert 3 == 4",
        "src/main.c:10:5: error: expected ';' before 'return'",
        "https://github.com/org/repo/actions/runs/123",
        "the author=John wrote a password policy",
        "Downloaded from central: https://repo.maven.apache.org/maven2/a/b/1.0/b-1.0.pom",
    ],
)
def test_ordinary_lines_untouched(line: str) -> None:
    assert redact(line) == line
