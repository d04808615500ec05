"""GitHub Actions job logs: the runner preamble, grouped steps, tool noise and the failure.

Every line carries the 7-digit-fraction timestamp prefix GitHub serves. Lines are spread over
the step windows of the job so the timestamps agree with the job's `steps[]`.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

from sampleorg.patterns import ESC, GREEN, RESET, Failure
from sampleorg.writer import log_ts

CYAN = f"{ESC}[36;1m"

SETUP_STEP = {
    "pytest": ("Set up Python 3.11", "actions/setup-python@v5"),
    "unittest": ("Set up Python 3.12", "actions/setup-python@v5"),
    "jest": ("Setup Node.js 20", "actions/setup-node@v4"),
    "go": ("Set up Go 1.22", "actions/setup-go@v5"),
    "maven": ("Set up JDK 21", "actions/setup-java@v4"),
    "gradle": ("Set up JDK 17", "actions/setup-java@v4"),
    "cargo": ("Install Rust toolchain", "dtolnay/rust-toolchain@stable"),
    "cmake": ("Install build dependencies", None),
    "terraform": ("Setup Terraform", "hashicorp/setup-terraform@v3"),
}

TOOL_CACHE = {"pytest": "Python/3.11.9", "unittest": "Python/3.12.4", "jest": "node/20.15.1",
              "go": "go/1.22.5", "maven": "Java_Temurin-Hotspot_jdk/21.0.3-9.0",
              "gradle": "Java_Temurin-Hotspot_jdk/17.0.11-9", "cargo": "rust/1.79.0",
              "cmake": "cmake/3.29.6", "terraform": "terraform/1.9.8"}

COMMANDS: dict[tuple[str, str], str] = {
    ("pytest", "lint"): "ruff check . && mypy src",
    ("pytest", "test"): "pytest -q -n auto --junitxml=report.xml",
    ("pytest", "image"): "docker buildx build --push -t ghcr.io/acme/$REPO:$GITHUB_SHA .",
    ("unittest", "lint"): "flake8 src tests",
    ("unittest", "test"): "python -m unittest discover -s tests -v",
    ("unittest", "build"): "python -m build",
    ("jest", "lint"): "npm run lint",
    ("jest", "test"): "npx jest --ci --reporters=default",
    ("jest", "build"): "npm ci && npm run build",
    ("jest", "e2e"): "npx playwright test --reporter=list",
    ("go", "lint"): "golangci-lint run ./...",
    ("go", "test"): "go test -race -count=1 ./...",
    ("go", "build"): "go build -trimpath ./...",
    ("go", "image"): "docker buildx build --push -t ghcr.io/acme/$REPO:$GITHUB_SHA .",
    ("maven", "build"): "mvn -B -ntp package -DskipTests",
    ("maven", "test"): "mvn -B -ntp test",
    ("maven", "e2e"): "mvn -B -ntp verify -Pintegration",
    ("gradle", "build"): "./gradlew assemble --no-daemon",
    ("gradle", "test"): "./gradlew test",
    ("gradle", "lint"): "./gradlew lint ktlintCheck",
    ("cargo", "lint"): "cargo clippy --all-targets -- -D warnings",
    ("cargo", "test"): "cargo test --all --locked",
    ("cargo", "build"): "cargo build --release --locked",
    ("cmake", "build"): "cmake -S . -B build -G 'Unix Makefiles' && cmake --build build -j4",
    ("cmake", "test"): "ctest --test-dir build --output-on-failure",
    ("terraform", "lint"): "terraform fmt -check -recursive",
    ("terraform", "infra"): "terraform plan -input=false -lock-timeout=60s -out=tfplan",
}

STEP_LABEL = {"lint": "Lint", "test": "Run tests", "build": "Build", "e2e": "Run integration tests",
              "image": "Build and push image", "infra": "Terraform plan", "deploy": "Deploy"}


@dataclass(frozen=True)
class Secret:
    kind: str
    value: str
    line: int  # 1-based line number in the log file


def step_names(toolchain: str, kind: str) -> list[str]:
    """The steps a job of this kind runs, in order (GitHub step names)."""
    if kind == "deploy":
        return ["Set up job", "Run actions/checkout@v4", "Configure kubectl",
                "Deploy", "Post Run actions/checkout@v4", "Complete job"]
    setup, action = SETUP_STEP[toolchain]
    names = ["Set up job", "Run actions/checkout@v4", f"Run {action}" if action else setup]
    if toolchain in ("pytest", "unittest", "jest") and kind not in ("image",):
        names.append("Install dependencies")
    names.append(STEP_LABEL[kind])
    if kind == "test" and toolchain in ("pytest", "go", "jest"):
        names.append("Upload coverage")
    names += ["Post Run actions/checkout@v4", "Complete job"]
    return names


def main_step_index(names: list[str]) -> int:
    for i, n in enumerate(names):
        if n in STEP_LABEL.values():
            return i
    return len(names) - 3


_PKGS = {
    "py": ("requests", "urllib3", "certifi", "idna", "charset-normalizer", "pydantic",
           "pydantic-core", "typing-extensions", "sqlalchemy", "psycopg2-binary", "alembic",
           "fastapi", "starlette", "uvicorn", "httpx", "anyio", "sniffio", "pytest", "pluggy",
           "iniconfig", "pytest-xdist", "execnet", "pytest-cov", "coverage", "mypy",
           "mypy-extensions", "ruff", "boto3", "botocore", "s3transfer", "jmespath", "pyyaml",
           "orjson", "structlog", "redis", "celery", "kombu", "click", "jinja2", "markupsafe",
           "numpy", "pandas", "pyarrow", "protobuf", "grpcio", "tenacity", "freezegun"),
    "js": ("@babel/core", "@babel/preset-env", "typescript", "eslint", "prettier", "jest",
           "ts-jest", "react", "react-dom", "webpack", "vite", "esbuild", "rollup", "postcss",
           "tailwindcss", "axios", "lodash", "date-fns", "zod", "@testing-library/react",
           "inflight", "glob", "rimraf", "uuid", "semver", "chalk", "debug", "ms"),
    "go": ("github.com/stretchr/testify", "github.com/jackc/pgx/v5", "go.uber.org/zap",
           "github.com/prometheus/client_golang", "google.golang.org/grpc",
           "golang.org/x/sync", "golang.org/x/net", "github.com/spf13/cobra",
           "github.com/redis/go-redis/v9", "go.opentelemetry.io/otel", "github.com/google/uuid",
           "github.com/aws/aws-sdk-go-v2", "gopkg.in/yaml.v3", "github.com/go-chi/chi/v5"),
    "java": ("org/springframework/spring-core", "org/springframework/boot/spring-boot",
             "com/fasterxml/jackson/core/jackson-databind", "org/junit/jupiter/junit-jupiter-api",
             "org/mockito/mockito-core", "org/slf4j/slf4j-api", "ch/qos/logback/logback-classic",
             "org/postgresql/postgresql", "org/flywaydb/flyway-core", "io/micrometer/"
             "micrometer-core", "org/apache/commons/commons-lang3", "com/google/guava/guava",
             "org/testcontainers/testcontainers", "org/apache/maven/plugins/maven-surefire-"
             "plugin", "org/apache/kafka/kafka-clients", "io/netty/netty-handler"),
    "rust": ("serde", "serde_json", "tokio", "hyper", "reqwest", "tracing", "anyhow",
             "thiserror", "clap", "bytes", "futures", "rand", "chrono", "prost", "tonic",
             "rdkafka", "parking_lot", "once_cell", "regex", "syn", "quote", "proc-macro2"),
    "cc": ("codec", "frame", "decoder", "encoder", "scaler", "color", "bitstream", "mux",
           "demux", "filters", "util", "io", "thumbnail", "metadata"),
}


def _pkg(rng: random.Random, eco: str = "py") -> str:
    names = _PKGS[eco]
    return names[int(rng.random() * len(names))]


def _ver(rng: random.Random) -> str:
    r = rng.random
    return f"{int(r() * 9)}.{int(r() * 30)}.{int(r() * 10)}"


def _install_noise(rng: random.Random, toolchain: str, big: bool) -> list[str]:
    out: list[str] = []
    n = rng.randint(700, 1800) if big else int(rng.lognormvariate(2.7, 0.7)) + 3
    if toolchain in ("pytest", "unittest"):
        out.append(f"{CYAN}python -m pip install -r requirements-dev.txt{RESET}")
        for _ in range(n):
            p = _pkg(rng)
            v = _ver(rng)
            out.append(f"Collecting {p}=={v}")
            if rng.random() < 0.2:
                size = rng.randint(20, 9000)
                out.append(f"  Downloading {p}-{v}-py3-none-any.whl ({size} kB)")
                out.append("\r     ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 0.0/" + f"{size / 1000:.1f} MB"
                           + f"\r     ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ {size / 1000:.1f}/"
                           f"{size / 1000:.1f} MB {rng.randint(5, 80)}.{rng.randint(0, 9)} MB/s "
                           "eta 0:00:00")
        out.append("Successfully installed " + " ".join(f"{_pkg(rng)}-{_ver(rng)}"
                                                         for _ in range(8)))
    elif toolchain == "jest":
        out.append(f"{CYAN}npm ci{RESET}")
        for _ in range(min(n, 30)):
            out.append(f"npm WARN deprecated {_pkg(rng, 'js')}@{_ver(rng)}: This package is "
                       "no longer supported.")
        out.append(f"added {rng.randint(800, 2400)} packages, and audited "
                   f"{rng.randint(800, 2400)} packages in {rng.randint(8, 90)}s")
        out.append(f"{rng.randint(100, 300)} packages are looking for funding")
        out.append(f"found {ESC}[32m{ESC}[1m0{ESC}[22m{ESC}[39m vulnerabilities")
    elif toolchain == "go":
        for _ in range(n):
            out.append(f"go: downloading {_pkg(rng, 'go')} v{_ver(rng)}")
    elif toolchain in ("maven", "gradle"):
        for _ in range(n):
            ga = _pkg(rng, "java")
            a = ga.rsplit("/", 1)[1]
            v = _ver(rng)
            url = f"https://repo.maven.apache.org/maven2/{ga}/{v}/{a}-{v}.jar"
            out.append(f"[INFO] Downloading from central: {url}")
            out.append(f"[INFO] Downloaded from central: {url} ({int(rng.random() * 900) + 2} "
                       f"kB at {rng.random() * 20:.1f} MB/s)")
    elif toolchain == "cargo":
        out.append(f"{ESC}[1m{ESC}[32m    Updating{RESET} crates.io index")
        for _ in range(n):
            out.append(f"{ESC}[1m{ESC}[32m   Compiling{RESET} {_pkg(rng, 'rust')} v{_ver(rng)}")
    elif toolchain == "cmake":
        out += ["-- The C compiler identification is GNU 11.4.0",
                "-- The CXX compiler identification is GNU 11.4.0",
                "-- Detecting CXX compiler ABI info - done", "-- Configuring done (1.2s)",
                "-- Generating done (0.1s)"]
        for i in range(n):
            pct = min(99, int(100 * i / max(n, 1)))
            m = _pkg(rng, "cc")
            out.append(f"[ {pct:2d}%] Building CXX object src/{m}/CMakeFiles/{m}.dir/"
                       f"{_pkg(rng, 'cc')}_{_pkg(rng, 'cc')}.cc.o")
    elif toolchain == "terraform":
        out += ["Initializing the backend...", "Initializing provider plugins...",
                "- Finding hashicorp/aws versions matching \"~> 5.0\"...",
                f"- Installing hashicorp/aws v5.{rng.randint(40, 80)}.0...",
                "Terraform has been successfully initialized!"]
        for _ in range(n):
            res = rng.choice(("aws_iam_role", "aws_s3_bucket", "aws_security_group",
                              "aws_route53_record", "aws_db_instance", "aws_eks_node_group"))
            mod = _pkg(rng, "cc")
            out.append(f"module.{mod}.{res}.this: Refreshing state... "
                       f"[id={mod}-{rng.getrandbits(32):08x}]")
    return out


def _pass_output(rng: random.Random, toolchain: str, kind: str, repo: str) -> list[str]:
    n = int(rng.lognormvariate(3.0, 0.7)) + 4
    if kind == "lint":
        return ["All checks passed!" if toolchain != "go" else "0 issues."]
    if kind == "image":
        out = [f"#{i} [{i}/9] RUN {rng.choice(['apt-get update', 'pip install .', 'go build'])}"
               for i in range(1, 10)]
        out.append(f"#12 pushing manifest for ghcr.io/acme/{repo}:{rng.getrandbits(160):040x} "
                   f"{rng.randint(1, 5)}.{rng.randint(0, 9)}s done")
        return out
    if toolchain in ("pytest",):
        out = [f"tests/test_{_pkg(rng, 'cc')}.py {'.' * rng.randint(3, 60)} "
               f"[{min(100, int(100 * (i + 1) / n)):3d}%]" for i in range(n)]
        out.append(f"{GREEN}===== {rng.randint(200, 900)} passed, {rng.randint(0, 9)} skipped in "
                   f"{rng.uniform(20, 300):.2f}s ====={RESET}")
        return out
    if toolchain == "unittest":
        out = []
        for i in range(n):
            mod, fn = _pkg(rng, "cc"), f"test_{_pkg(rng, 'cc')}_{i}"
            out.append(f"{fn} (tests.test_{mod}.Tests.{fn}) ... ok")
        return [*out, "-" * 70, f"Ran {n} tests in {rng.uniform(1, 30):.3f}s", "", "OK"]
    if toolchain == "jest":
        out = [f"{ESC}[42m{ESC}[1m PASS {RESET} src/{_pkg(rng, 'cc')}/{_pkg(rng, 'cc')}.test.tsx "
               f"({rng.uniform(0.5, 12):.1f} s)" for _ in range(n)]
        return [*out, f"Tests:       {rng.randint(100, 900)} passed, {rng.randint(100, 900)} total"]
    if toolchain == "go":
        return [f"ok  \tgithub.com/acme/{repo}/internal/{_pkg(rng, 'cc')}\t"
                f"{rng.uniform(0.01, 9):.3f}s" for _ in range(n)]
    if toolchain in ("maven", "gradle"):
        out = [f"[INFO] Tests run: {rng.randint(1, 40)}, Failures: 0, Errors: 0, Skipped: 0, Time "
               f"elapsed: {rng.uniform(0.1, 9):.3f} s -- in com.acme.{_pkg(rng, 'cc')}."
               f"{_pkg(rng, 'cc').title()}Test" for _ in range(n)]
        return [*out, "[INFO] BUILD SUCCESS", f"[INFO] Total time:  {rng.randint(1, 9)}:"
                f"{rng.randint(10, 59)} min"]
    if toolchain == "cargo":
        out = [f"test {_pkg(rng, 'cc')}::tests::{_pkg(rng, 'rust')}_{_pkg(rng, 'cc')} ... ok"
               for _ in range(n)]
        return [*out, f"test result: ok. {n} passed; 0 failed; 0 ignored; 0 measured"]
    if toolchain == "cmake":
        return [f"{i + 1}/{n} Test #{i + 1}: {_pkg(rng, 'cc')}_test ....   Passed    "
                f"{rng.uniform(0, 3):.2f} sec" for i in range(n)] + ["100% tests passed"]
    return [f"Plan: {rng.randint(0, 9)} to add, {rng.randint(0, 9)} to change, 0 to destroy."]


def _secret_line(rng: random.Random) -> tuple[str, str, str]:
    """A realistic-looking, freshly generated credential in the way people leak them."""
    alnum = string.ascii_letters + string.digits
    kind = rng.choice(["github_token", "aws_access_key", "slack_token", "postgres_url", "api_key"])
    if kind == "github_token":
        v = "ghp_" + "".join(rng.choices(alnum, k=36))
        return kind, v, f"+ curl -sf -H 'Authorization: token {v}' https://api.github.com/user"
    if kind == "aws_access_key":
        v = "AKIA" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=16))
        return kind, v, f"AWS_ACCESS_KEY_ID={v}"
    if kind == "slack_token":
        v = (f"xoxb-{rng.randint(10**10, 10**11)}-{rng.randint(10**11, 10**12)}-"
             + "".join(rng.choices(alnum, k=24)))
        return kind, v, f"DEBUG slack client init token={v}"
    if kind == "postgres_url":
        pw = "".join(rng.choices(alnum, k=20))
        v = f"postgres://app_rw:{pw}@db-{rng.randint(1, 9)}.prod.acme.internal:5432/app"
        return kind, v, f"DATABASE_URL={v}"
    v = "".join(rng.choices(alnum, k=32))
    return kind, v, f"API_KEY={v}"


def render_log(rng: random.Random, *, repo: str, toolchain: str, kind: str, job_name: str,
               steps: list[tuple[str, float, float, str]], failure: Failure | None,
               leak_secret: bool = False) -> tuple[str, Secret | None]:
    """The full plain-text log of one job; returns the text and the leaked secret, if any."""
    big = failure is not None and toolchain in ("maven", "gradle") and rng.random() < 0.03
    per_step: list[list[str]] = []
    secret_text: tuple[str, str, str] | None = _secret_line(rng) if leak_secret else None
    for name, _start, _end, concl in steps:
        lines: list[str] = []
        if name == "Set up job":
            lines += [f"Current runner version: '2.{rng.choice([319, 320, 321])}."
                      f"{rng.randint(0, 2)}'", "##[group]Operating System", "Ubuntu", "22.04.5",
                      "LTS", "##[endgroup]", "##[group]Runner Image",
                      "Image: ubuntu-22.04", f"Version: 2025{rng.randint(1, 12):02d}"
                      f"{rng.randint(1, 28):02d}.{rng.randint(1, 9)}.0", "##[endgroup]",
                      "##[group]GITHUB_TOKEN Permissions", "Contents: read", "Metadata: read",
                      "##[endgroup]", "Secret source: Actions", "Prepare workflow directory",
                      "Prepare all required actions", "Getting action download info",
                      f"Download action repository 'actions/checkout@v4' (SHA:"
                      f"{rng.getrandbits(160):040x})", f"Complete job name: {job_name}"]
        elif name == "Run actions/checkout@v4":
            lines += ["##[group]Run actions/checkout@v4", "with:", f"  repository: acme/{repo}",
                      "  token: ***", "  fetch-depth: 1", "##[endgroup]",
                      f"Syncing repository: acme/{repo}", "##[group]Getting Git version info",
                      "[command]/usr/bin/git version", "git version 2.47.1", "##[endgroup]",
                      "##[group]Fetching the repository",
                      f"[command]/usr/bin/git -c protocol.version=2 fetch --no-tags --prune "
                      f"--no-recurse-submodules --depth=1 origin +{rng.getrandbits(160):040x}",
                      "##[endgroup]"]
        elif name.startswith("Post Run"):
            lines += ["Post job cleanup.", "[command]/usr/bin/git version", "git version 2.47.1",
                      "[command]/usr/bin/git config --local --name-only --get-regexp core\\."
                      "sshCommand"]
        elif name == "Complete job":
            lines += ["Cleaning up orphan processes"]
        elif name == "Upload coverage":
            if concl != "skipped":
                lines += ["##[group]Run codecov/codecov-action@v4", "##[endgroup]",
                          f"info - {rng.randint(1, 9)} coverage files found"]
        elif name == "Install dependencies":
            lines += ["##[group]Run make deps", f"{CYAN}make deps{RESET}", "##[endgroup]"]
            lines += _install_noise(rng, toolchain, False)
        elif name == "Configure kubectl":
            lines += ["##[group]Run azure/setup-kubectl@v4", "##[endgroup]",
                      "Kubectl tool version: 'v1.30.2' has been cached at /opt/hostedtoolcache"]
        elif name in STEP_LABEL.values():
            cmd = COMMANDS.get((toolchain, kind), "./scripts/deploy.sh")
            lines += [f"##[group]Run {cmd}", f"{CYAN}{cmd}{RESET}",
                      "shell: /usr/bin/bash -e {0}", "env:", f"  REPO: {repo}"]
            if toolchain in ("pytest", "unittest"):
                lines.append("  pythonLocation: /opt/hostedtoolcache/Python/3.11.9/x64")
            lines.append("##[endgroup]")
            if toolchain not in ("pytest", "unittest", "jest") or kind == "image":
                lines += _install_noise(rng, toolchain, big)
            if secret_text is not None:
                lines.append(secret_text[2])
            if concl == "failure" and failure is not None:
                lines += _pass_output(rng, toolchain, kind, repo)[: rng.randint(0, 40)]
                lines += failure.lines
                lines += failure.annotations
                lines.append(f"##[error]Process completed with exit code {failure.exit_code}.")
            else:
                lines += _pass_output(rng, toolchain, kind, repo)
        else:  # tool set-up step
            lines += [f"##[group]Run {name.removeprefix('Run ')}", "##[endgroup]",
                      f"Found in cache @ /opt/hostedtoolcache/{TOOL_CACHE[toolchain]}/x64"]
        per_step.append(lines)

    out: list[str] = []
    secret: Secret | None = None
    for (_name, start, end, _concl), lines in zip(steps, per_step, strict=True):
        if not lines:
            continue
        span = max(end - start, 0.001)
        step_dt = span / (len(lines) + 1)
        t = start + rng.uniform(0, min(step_dt, 0.5))
        for text in lines:
            if secret_text is not None and secret is None and text == secret_text[2]:
                secret = Secret(secret_text[0], secret_text[1], len(out) + 1)
            out.append(f"{log_ts(t)} {text}")
            t += step_dt * rng.uniform(0.2, 1.8) if step_dt > 0.01 else step_dt
            if t > end:
                t = end
    return "\n".join(out) + "\n", secret
