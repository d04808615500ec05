"""The sample organisation: teams, people, repositories, services, trackers and the calendar.

Everything here is derived from the seed alone so later stages can re-derive any entity cheaply.
"""

from __future__ import annotations

import base64
import random
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sampleorg.writer import epoch

START = datetime(2025, 5, 1, tzinfo=UTC)
END = datetime(2026, 11, 1, tzinfo=UTC)  # exclusive; also the fixed "now" of the sample org
START_TS = epoch(START)
NOW_TS = epoch(END)
N_DAYS = int((NOW_TS - START_TS) // 86400)
SPRINT_ANCHOR_TS = epoch(datetime(2025, 4, 28, 9, 0, tzinfo=UTC))  # a Monday, 09:00 UTC
SPRINT_SECONDS = 14 * 86400

ORG = "acme"
GITHUB_API = "https://api.github.com"
GITHUB_WEB = "https://github.com"
JIRA_BASE = "https://acme.atlassian.net"
LINEAR_BASE = "https://linear.app/acme"
PD_BASE = "https://acme.pagerduty.com"
PD_API = "https://api.pagerduty.com"
EMAIL_DOMAIN = "acme.dev"


def rng_for(seed: int, *parts: object) -> random.Random:
    """An independent, reproducible stream per (seed, purpose) — string seeds hash via SHA-512."""
    return random.Random(":".join([str(seed), *map(str, parts)]))


def node_id(prefix: str, num: int) -> str:
    return base64.b64encode(f"{prefix}{num}".encode()).decode()


def pd_id(rng: random.Random) -> str:
    return "P" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=6))


def sha40(rng: random.Random) -> str:
    return f"{rng.getrandbits(160):040x}"


@dataclass(frozen=True)
class Person:
    login: str
    name: str
    email: str
    team_key: str
    gh_id: int
    account_id: str
    pd_id: str
    tz: str

    @property
    def first(self) -> str:
        return self.name.split()[0]


@dataclass(frozen=True)
class JobSpec:
    name: str
    kind: str  # lint | test | build | e2e | image | infra | deploy


@dataclass(frozen=True)
class Repo:
    name: str
    team_key: str
    toolchain: str  # pytest | unittest | jest | go | maven | gradle | cargo | cmake | terraform
    gh_id: int
    weight: float
    jobs: tuple[JobSpec, ...]
    description: str
    service: str | None

    @property
    def full_name(self) -> str:
        return f"{ORG}/{self.name}"

    @property
    def api_url(self) -> str:
        return f"{GITHUB_API}/repos/{ORG}/{self.name}"

    @property
    def html_url(self) -> str:
        return f"{GITHUB_WEB}/{ORG}/{self.name}"


@dataclass(frozen=True)
class Service:
    name: str
    repo: str
    team_key: str
    pd_id: str
    tier: int  # 1 = customer facing critical


@dataclass
class Team:
    key: str
    name: str
    tracker: str  # jira | linear
    project_key: str
    project_name: str
    project_id: str
    pd_id: str
    tz: str
    members: list[Person] = field(default_factory=list)
    repos: list[Repo] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)


@dataclass
class Org:
    teams: list[Team]
    people: list[Person]
    repos: list[Repo]
    services: list[Service]

    def team(self, key: str) -> Team:
        for t in self.teams:
            if t.key == key:
                return t
        raise KeyError(key)

    def repo(self, name: str) -> Repo:
        for r in self.repos:
            if r.name == name:
                return r
        raise KeyError(name)

    def service(self, name: str) -> Service:
        for s in self.services:
            if s.name == name:
                return s
        raise KeyError(name)


# (key, name, tracker, project key, project name, timezone)
_TEAMS = (
    ("payments", "Payments", "jira", "PAY", "Payments", "America/New_York"),
    ("platform", "Platform", "jira", "PLAT", "Platform Engineering", "Europe/Berlin"),
    ("operations", "Infrastructure Operations", "jira", "OPS", "Operations", "Europe/London"),
    ("sre", "Site Reliability", "jira", "SRE", "SRE", "America/Los_Angeles"),
    ("data", "Data", "jira", "DATA", "Data Platform", "Europe/Berlin"),
    ("core", "Core Engineering", "linear", "ENG", "Engineering", "America/New_York"),
    ("web", "Web", "linear", "WEB", "Web", "America/Los_Angeles"),
    ("mobile", "Mobile", "linear", "MOB", "Mobile", "Europe/London"),
)

_JOBS: dict[str, tuple[tuple[str, str], ...]] = {
    "pytest": (("lint", "lint"), ("typecheck", "lint"), ("test (3.11)", "test"),
               ("test (3.12)", "test"), ("build-image", "image")),
    "unittest": (("lint", "lint"), ("unit-tests", "test"), ("package", "build")),
    "jest": (("lint", "lint"), ("unit-tests", "test"), ("build", "build"), ("e2e", "e2e")),
    "go": (("golangci-lint", "lint"), ("test", "test"), ("build", "build"),
           ("build-image", "image")),
    "maven": (("build", "build"), ("test", "test"), ("integration-tests", "e2e")),
    "gradle": (("assemble", "build"), ("test", "test"), ("lint", "lint")),
    "cargo": (("clippy", "lint"), ("test", "test"), ("build --release", "build")),
    "cmake": (("build (gcc)", "build"), ("build (clang)", "build"), ("ctest", "test")),
    "terraform": (("fmt", "lint"), ("plan", "infra"), ("validate", "lint")),
}

# (repo, team, toolchain, weight, service or None, tier, description)
_REPOS = (
    ("payments-api", "payments", "pytest", 3.0, "payments-api", 1, "Payments REST API"),
    ("payments-webhook", "payments", "pytest", 2.2, "payments-webhook", 1,
     "Outbound webhook delivery for payment events"),
    ("ledger-service", "payments", "maven", 2.0, "ledger", 1, "Double-entry ledger"),
    ("billing-worker", "payments", "go", 1.4, "billing-worker", 2, "Invoice and dunning jobs"),
    ("fraud-scoring", "payments", "pytest", 1.2, "fraud-scoring", 2, "Real-time fraud scoring"),
    ("payments-sdk-java", "payments", "gradle", 0.6, None, 3, "Java client for payments"),
    ("platform-gateway", "platform", "go", 2.6, "api-gateway", 1, "Edge API gateway"),
    ("service-mesh-config", "platform", "terraform", 0.8, None, 3, "Mesh and ingress config"),
    ("platform-auth", "platform", "go", 2.0, "auth", 1, "Authentication and tokens"),
    ("job-scheduler", "platform", "go", 1.3, "job-scheduler", 2, "Distributed job scheduler"),
    ("feature-flags", "platform", "jest", 1.0, "feature-flags", 2, "Feature flag service"),
    ("acme-http-python", "platform", "pytest", 0.7, None, 3, "Shared Python HTTP client"),
    ("infra-live", "operations", "terraform", 1.6, None, 2, "Terraform for production"),
    ("infra-modules", "operations", "terraform", 0.8, None, 3, "Reusable Terraform modules"),
    ("ci-images", "operations", "go", 0.7, None, 3, "Runner images and build tooling"),
    ("dns-controller", "operations", "go", 0.6, "dns-controller", 2, "DNS automation"),
    ("backup-agent", "operations", "cargo", 0.7, "backup-agent", 2, "Database backup agent"),
    ("slo-exporter", "sre", "go", 0.9, "slo-exporter", 2, "SLO metrics exporter"),
    ("alert-router", "sre", "pytest", 0.9, "alert-router", 2, "Alert routing rules"),
    ("runbooks", "sre", "unittest", 0.5, None, 3, "Executable runbooks"),
    ("chaos-toolkit", "sre", "cargo", 0.5, None, 3, "Fault injection tooling"),
    ("status-page", "sre", "jest", 0.6, "status-page", 1, "Public status page"),
    ("data-ingest", "data", "maven", 1.6, "data-ingest", 2, "Event ingestion pipeline"),
    ("warehouse-dbt", "data", "pytest", 1.3, None, 3, "Warehouse models"),
    ("stream-processor", "data", "cargo", 1.2, "stream-processor", 2, "Kafka stream processor"),
    ("ml-features", "data", "pytest", 1.0, "ml-features", 3, "Feature store"),
    ("reporting-api", "data", "gradle", 0.9, "reporting-api", 2, "Customer reporting API"),
    ("accounts-service", "core", "maven", 2.2, "accounts", 1, "Accounts and organisations"),
    ("notifications", "core", "go", 1.5, "notifications", 2, "Email/SMS/push notifications"),
    ("search-service", "core", "maven", 1.2, "search", 2, "Search indexing and queries"),
    ("media-encoder", "core", "cmake", 0.9, "media-encoder", 3, "Image and video transcoding"),
    ("core-protos", "core", "unittest", 0.6, None, 3, "Shared protobuf definitions"),
    ("web-app", "web", "jest", 3.2, "web-app", 1, "Customer web application"),
    ("checkout-ui", "web", "jest", 2.0, "checkout-ui", 1, "Checkout front end"),
    ("design-system", "web", "jest", 1.1, None, 3, "Component library"),
    ("marketing-site", "web", "jest", 0.7, "marketing-site", 3, "Public website"),
    ("mobile-ios", "mobile", "cmake", 1.4, None, 2, "iOS app native modules"),
    ("mobile-android", "mobile", "gradle", 1.6, None, 2, "Android app"),
    ("mobile-bff", "mobile", "jest", 1.3, "mobile-bff", 1, "Backend for the mobile apps"),
    ("push-gateway", "mobile", "go", 0.8, "push-gateway", 2, "Push notification gateway"),
)

_FIRST = (
    "Dana", "Alex", "Priya", "Marco", "Sofia", "Liam", "Hana", "Omar", "Julia", "Mateo",
    "Chen", "Aisha", "Noah", "Elena", "Tariq", "Maya", "Lukas", "Ines", "Ravi", "Zoe", "Diego",
    "Fatima", "Jonas", "Keiko", "Samuel", "Leila", "Victor", "Nora", "Kwame", "Ana", "Felix",
    "Mei", "Yusuf", "Clara", "Bruno", "Amara", "Erik", "Lucia", "Hiro", "Rosa", "Tomas",
    "Zara", "Ivan", "Lena", "Arjun", "Chloe", "Mikael", "Nadia", "Pablo", "Greta", "Kofi",
    "Irene", "Sven", "Maria", "Dev", "Olga", "Luis", "Anouk", "Ben", "Yara",
)
_LAST = (
    "Kim", "Novak", "Patel", "Rossi", "Garcia", "Murphy", "Tanaka", "Haddad", "Schmidt",
    "Silva", "Wang", "Okafor", "Berg", "Petrov", "Khan", "Cohen", "Weber", "Costa", "Iyer",
    "Dubois", "Morales", "Rahman", "Larsen", "Sato", "Mensah", "Nasser", "Fischer", "Lopez",
    "Lindqvist", "Moreau", "Park", "Ahmed", "Jensen", "Romano", "Nakamura", "Oliveira",
    "Fernandes", "Brennan", "Kowalski", "Meyer",
)


def build_org(seed: int) -> Org:
    """Derive teams, ~120 people, 40 repositories and their services from the seed."""
    rng = rng_for(seed, "org")
    teams: list[Team] = []
    for i, (key, name, tracker, pkey, pname, tz) in enumerate(_TEAMS):
        teams.append(Team(key, name, tracker, pkey, pname, str(10000 + i), pd_id(rng), tz))
    by_key = {t.key: t for t in teams}

    names: list[str] = []
    seen: set[str] = set()
    while len(names) < 120:
        n = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        if n not in seen:
            seen.add(n)
            names.append(n)
    people: list[Person] = []
    sizes = (18, 17, 12, 12, 15, 18, 16, 12)
    idx = 0
    for team, size in zip(teams, sizes, strict=True):
        for _ in range(size):
            name = names[idx]
            idx += 1
            first, last = name.lower().split()
            style = rng.random()
            login = (f"{first}-{last}" if style < 0.4 else f"{first[0]}{last}" if style < 0.7
                     else f"{first}{rng.randint(1, 99)}")
            p = Person(
                login=login,
                name=name,
                email=f"{first}.{last}@{EMAIL_DOMAIN}",
                team_key=team.key,
                gh_id=1_000_000 + rng.randrange(90_000_000),
                account_id=f"{rng.getrandbits(96):024x}",
                pd_id=pd_id(rng),
                tz=team.tz,
            )
            people.append(p)
            team.members.append(p)

    repos: list[Repo] = []
    services: list[Service] = []
    for name, tkey, tool, weight, service, tier, desc in _REPOS:
        jobs = tuple(JobSpec(n, k) for n, k in _JOBS[tool])
        repo = Repo(name, tkey, tool, 400_000_000 + rng.randrange(500_000_000), weight, jobs,
                    desc, service)
        repos.append(repo)
        by_key[tkey].repos.append(repo)
        if service:
            svc = Service(service, name, tkey, pd_id(rng), tier)
            services.append(svc)
            by_key[tkey].services.append(svc)
    return Org(teams, people, repos, services)


@dataclass(frozen=True)
class Sprint:
    number: int
    start: float
    end: float

    def jira_name(self, project_key: str) -> str:
        return f"{project_key} Sprint {self.number}"

    def jira_id(self, project_index: int) -> int:
        return 100 + project_index * 1000 + self.number

    def linear_name(self) -> str:
        return f"Cycle {self.number}"

    def state(self) -> str:
        if self.end <= NOW_TS:
            return "closed"
        return "active" if self.start <= NOW_TS else "future"


def sprint_at(ts: float) -> Sprint:
    """The two-week sprint/cycle containing `ts` (shared calendar for Jira sprints and cycles)."""
    n = int((ts - SPRINT_ANCHOR_TS) // SPRINT_SECONDS) + 1
    return sprint_number(n)


def sprint_number(n: int) -> Sprint:
    start = SPRINT_ANCHOR_TS + (n - 1) * SPRINT_SECONDS
    return Sprint(n, start, start + SPRINT_SECONDS)
