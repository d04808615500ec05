"""Secret redaction: token shapes inside error lines, keys split over lines and batches, code."""

from __future__ import annotations

import random
import string
from pathlib import Path

import polars as pl
import pytest

from models.logs.redact import (
    Redactor,
    redact,
    redact_logs,
    redact_many,
    redact_series,
    redact_series_by_log,
)

_RNG = random.Random(20250603)
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "logs"
B64 = string.ascii_letters + string.digits + "+/"
HEX = "0123456789abcdef"


def _rand(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(n))


GHP = "ghp_" + _rand(36)
GHO = "gho_" + _rand(36)
GHS = "ghs_" + _rand(36)
PAT = "github_pat_" + _rand(22) + "_" + _rand(59)
GLPAT = "glpat-" + _rand(20)
SLACK = "xoxb-" + _rand(12, string.digits) + "-" + _rand(12, string.digits) + "-" + _rand(24)
SLACK_HOOK = "https://hooks.slack.com/services/T" + _rand(8) + "/B" + _rand(8) + "/" + _rand(24)
AKIA = "AKIA" + _rand(16, string.ascii_uppercase + string.digits)
AWS_SECRET = _rand(40, string.ascii_letters + string.digits + "/+")
GOOGLE = "AIza" + _rand(35)
GCP_OAUTH = "ya29." + _rand(60)
AZURE_SECRET = _rand(3) + "8Q~" + _rand(34)
AZURE_KEY = _rand(86) + "=="
STRIPE = "sk_live_" + _rand(24)
NPM = "npm_" + _rand(36)
PYPI = "pypi-AgEIcHlwaS5vcmc" + _rand(60)
JWT = "eyJ" + _rand(30) + ".eyJ" + _rand(40) + "." + _rand(43)
TWILIO = "SK" + _rand(32, HEX)
SENDGRID = "SG." + _rand(22) + "." + _rand(43)
HEROKU = "HRKU-" + _rand(60)
DIGITALOCEAN = "dop_v1_" + _rand(64, HEX)
OPENAI = "sk-proj-" + _rand(48)
HF = "hf_" + _rand(34, string.ascii_letters)
DOCKER = "dckr_pat_" + _rand(27)
BEARER = _rand(40)
BASIC = _rand(24) + "=="


@pytest.mark.parametrize(
    ("line", "secret", "kind"),
    [
        (f"remote: Invalid username or password. token={GHP} rejected", GHP, "github_token"),
        (f"fatal: could not read from remote using {GHO}", GHO, "github_token"),
        (f"git push https://x-access-token:{GHS}@github.com/o/r.git failed", GHS, None),
        (f"Error: Bad credentials ({PAT})", PAT, "github_token"),
        (f"ERROR: Job failed: CI token {GLPAT} expired", GLPAT, "gitlab_token"),
        (f"slack notify failed: invalid_auth for {SLACK}", SLACK, "slack_token"),
        (f"curl: (22) The requested URL returned error: 404 {SLACK_HOOK}", SLACK_HOOK, None),
        (f"An error occurred (InvalidClientTokenId) for key {AKIA}", AKIA, "aws_access_key"),
        (f"aws_secret_access_key = {AWS_SECRET}", AWS_SECRET, "aws_secret_key"),
        (f"googleapi: Error 400: API key not valid: key={GOOGLE}", GOOGLE, "google_api_key"),
        (f"ERROR 401 Unauthorized with access token {GCP_OAUTH}", GCP_OAUTH, None),
        (f"AADSTS7000215: Invalid client secret {AZURE_SECRET} provided", AZURE_SECRET, None),
        (
            "Microsoft.Azure.Storage: DefaultEndpointsProtocol=https;AccountName=acme;"
            f"AccountKey={AZURE_KEY};EndpointSuffix=core.windows.net",
            AZURE_KEY,
            "connection_string",
        ),
        (f"stripe.error.AuthenticationError: Invalid API Key provided: {STRIPE}", STRIPE, None),
        (f"npm ERR! 403 Forbidden - PUT with //registry.npmjs.org/:_authToken={NPM}", NPM, None),
        (f"HTTPError: 403 Invalid or non-existent authentication for {PYPI}", PYPI, None),
        (f"JsonWebTokenError: jwt malformed {JWT}", JWT, "jwt"),
        (f"TwilioRestException: HTTP 401 using API key {TWILIO}", TWILIO, "twilio_key"),
        (f"python_http_client.exceptions.UnauthorizedError for {SENDGRID}", SENDGRID, None),
        (f" ▸    Invalid credentials provided: {HEROKU}", HEROKU, "heroku_key"),
        (f"Error: GET https://api.digitalocean.com/v2/account: 401 {DIGITALOCEAN}", DIGITALOCEAN, None),
        (f"openai.AuthenticationError: Incorrect API key provided: {OPENAI}", OPENAI, None),
        (f"401 Client Error for model download with {HF}", HF, "huggingface_token"),
        (f"Error response from daemon: login with {DOCKER} unauthorized", DOCKER, None),
        (f"> GET /api HTTP/1.1\r\n> Authorization: Bearer {BEARER}", BEARER, None),
        (f"curl -H 'Authorization: Basic {BASIC}' https://api.example.com", BASIC, None),
        ("postgres://deploy:S3cretPassw0rd@db.internal:5432/app refused", "S3cretPassw0rd", None),
        ("DB_PASSWORD=correct-horse-battery", "correct-horse-battery", "secret_assignment"),
        ("  password: hunter2hunter2", "hunter2hunter2", "secret_assignment"),
        ("  password: 'correcthorse'", "correcthorse", "secret_assignment"),
        ('{"client_secret": "c9e1f0a2b3d4e5f6a7b8"}', "c9e1f0a2b3d4e5f6a7b8", None),
        ("Server=tcp:x.net;User ID=u;Password=Pa55w0rd!x;", "Pa55w0rd!x", None),
    ],
)
def test_secrets_in_error_lines_are_redacted(line: str, secret: str, kind: str | None) -> None:
    out = redact(line)
    assert secret not in out
    assert "[REDACTED:" in out
    if kind:
        assert f"[REDACTED:{kind}]" in out


def test_bearer_value_removed_but_header_kept() -> None:
    value = _rand(40)
    out = redact(f"Authorization: Bearer {value}")
    assert value not in out
    assert out.startswith("Authorization:")


def _pem(label: str = "RSA PRIVATE KEY", rows: int = 6) -> list[str]:
    body = [_rand(64, B64) for _ in range(rows)] + [_rand(20, B64) + "=="]
    return [f"-----BEGIN {label}-----", *body, f"-----END {label}-----"]


def test_pem_split_over_lines_keeps_armour_and_hides_every_body_line() -> None:
    key = _pem()
    lines = ["Run echo \"$DEPLOY_KEY\"", *key, "Permission denied (publickey)."]
    out = redact_many(lines)
    assert len(out) == len(lines)
    assert out[0] == lines[0] and out[-1] == lines[-1]
    assert out[1] == key[0] and out[-2] == key[-1]
    assert out[2:-2] == ["[REDACTED:private_key]"] * (len(key) - 2)
    # the same as one text
    assert redact("\n".join(lines)) == "\n".join(out)


def test_pem_with_ci_prefixes_and_openssh_label() -> None:
    key = _pem("OPENSSH PRIVATE KEY")
    prefix = "2025-06-03T14:02:11.1234567Z "
    out = redact_many([prefix + k for k in key])
    assert all(o.startswith(prefix) for o in out)
    assert all(k not in "".join(out) for k in key[1:-1])


def test_pem_split_across_batches() -> None:
    key = _pem("ENCRYPTED PRIVATE KEY", rows=8)
    lines = ["x"] * 70 + key + ["error: bad decrypt"] + ["y"] * 70
    r = Redactor()
    first, second = r.lines(lines[:74]), r.lines(lines[74:])
    joined = first + second
    assert joined == redact_many(lines)
    assert not any(k in "\n".join(joined) for k in key[1:-1])
    assert joined[-71] == "error: bad decrypt"


def test_pem_series_matches_list() -> None:
    key = _pem()
    lines = ["ok"] * 100 + key + ["done"]
    out = redact_series(pl.Series(lines))
    assert out.to_list() == redact_many(lines)


def test_many_logs_at_once_equal_one_at_a_time() -> None:
    # Small and large logs, secrets near the boundaries, and a key cut short at the end of one
    # log: the next log must start with no key block open.
    code = (FIXTURES / "code_lines.txt").read_text(encoding="utf-8").splitlines()
    key = _pem()
    logs = [
        [],
        [f"token={GHP}"],
        ["ok"] * 10 + key[:3],
        [_rand(64, B64), "done"],
        [*code[:80], f"Authorization: Bearer {BEARER}", *key],
        ["x"] * 70 + key[:4],
        [_rand(64, B64)] * 3 + [f"export AWS_SECRET_ACCESS_KEY={AWS_SECRET}"] + ["y"] * 64,
        code,
    ]
    expected = [redact_many(log) for log in logs]
    assert redact_logs(logs) == expected
    column = pl.Series([line for log in logs for line in log], dtype=pl.String)
    by_log = redact_series_by_log(column, [len(log) for log in logs])
    assert by_log.to_list() == [line for log in expected for line in log]
    with pytest.raises(ValueError, match="sizes add up"):
        redact_series_by_log(column, [1])
    out = redact_logs(logs)
    assert out[3][0] != "[REDACTED:private_key]" and out[6][0] != "[REDACTED:private_key]"
    assert GHP not in out[1][0] and BEARER not in "".join(out[4])


def test_unterminated_key_stops_at_first_line_that_is_not_base64() -> None:
    key = _pem()[:4]
    out = redact_many([*key, "fatal: key truncated", "next"])
    assert out[-2:] == ["fatal: key truncated", "next"]
    assert out[1:4] == ["[REDACTED:private_key]"] * 3


def test_service_account_json_one_line_and_pretty_printed() -> None:
    body = "\\n".join(_rand(64, B64) for _ in range(3))
    pem = f"-----BEGIN PRIVATE KEY-----\\n{body}\\n-----END PRIVATE KEY-----\\n"
    key_id = _rand(40, HEX)
    one = (
        f'{{"type": "service_account", "private_key_id": "{key_id}", '
        f'"private_key": "{pem}", "client_email": "ci@p.iam.gserviceaccount.com"}}'
    )
    out = redact(one)
    assert key_id not in out and body.split("\\n")[0] not in out
    assert "ci@p.iam.gserviceaccount.com" in out
    rows = [_rand(64, B64) for _ in range(3)]
    pretty = [
        "{",
        '  "type": "service_account",',
        f'  "private_key": "-----BEGIN PRIVATE KEY-----\\n{rows[0]}\\n',
        f"{rows[1]}\\n",
        f"{rows[2]}\\n",
        '-----END PRIVATE KEY-----\\n",',
        '  "client_email": "ci@p.iam.gserviceaccount.com"',
        "}",
    ]
    out2 = redact_many(pretty)
    assert not any(r in "\n".join(out2) for r in rows)
    assert out2[-2] == pretty[-2]


def test_real_source_code_lines_are_untouched() -> None:
    lines = (FIXTURES / "code_lines.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 100
    changed = [(a, b) for a, b in zip(lines, redact_many(lines), strict=True) if a != b]
    assert changed == []
    assert [redact(line) for line in lines] == lines


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
        "[INFO] Checking unresolved references to org.codehaus.mojo.signature:java18:1.0",
        "error[E0308]: mismatched types: expected `SecretKey`, found `PrivateKey`",
        "password: ${{ secrets.DEPLOY_PASSWORD }}",
        "PASSWORD=***",
        "-----BEGIN CERTIFICATE-----",
        "OLDPWD=/home/travis/build",
        "ERROR: failed to fetch anonymous token: unexpected status: 429 Too Many Requests",
        "PWD=/home/travis/build/martanne/vis",
        "Could not write generated class a.b.AutoValue_SerialSignatureTest_One: "
        "javax.annotation.processing.FilerException: Source file already exists",
    ],
)
def test_ordinary_lines_untouched(line: str) -> None:
    assert redact(line) == line


def test_many_keeps_length_and_order() -> None:
    lines = [f"line {i}" for i in range(200)]
    lines[150] = f"token {GHP}"
    out = redact_many(lines)
    assert len(out) == 200 and out[:150] == lines[:150] and GHP not in out[150]
    assert redact_many([]) == []


def test_audit_shapes_find_raw_secrets_but_not_redacted_output() -> None:
    import json
    import re

    from models.logs.redact import TOKEN_SHAPES

    def leaks(text: str) -> bool:
        return any(re.search(shape, text) for shape in TOKEN_SHAPES)

    key = _pem()
    raw = [f"token {GHP}", f"key {AKIA}", f"jwt {JWT}", f"mail {SENDGRID}", *key]
    assert leaks(json.dumps(raw))
    assert not leaks(json.dumps(redact_many(raw)))
    assert not leaks(json.dumps([key[0]]))  # the armour alone is no secret
