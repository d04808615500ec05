"""The `[automation]` section of `followthrough.toml`: where tickets and alerts go, which severity
rule fires, and whether anything is really sent.

Every target is dry-run unless its table says `live = true` AND its token variable is set: a
fresh install, the demo and CI only ever fill the outbox with what would have been sent.
"""

from __future__ import annotations

import fnmatch
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.connectors.config import ConfigError, config_path

TRACKERS = ("jira", "linear", "github")
TARGETS = (*TRACKERS, "slack")


@dataclass(frozen=True)
class TargetConfig:
    """One place messages go. `token_env` names the variable holding the secret."""

    name: str
    live: bool = False
    api_url: str = ""
    token_env: str = ""
    email_env: str = ""  # Jira Cloud: basic auth is email + API token
    project: str = ""  # Jira project key
    issue_type: str = "Bug"  # Jira issue type name
    team_id: str = ""  # Linear team id
    repo: str = ""  # GitHub Issues: owner/name; empty: the failing deployment's repository
    channel: str = ""  # Slack channel id or name
    timeout_s: float = 15.0
    max_attempts: int = 3  # HTTP attempts within one send (ApiClient); the outbox retries later

    def token(self, env: Mapping[str, str] | None = None) -> str | None:
        env = os.environ if env is None else env
        return (env.get(self.token_env) or None) if self.token_env else None

    def email(self, env: Mapping[str, str] | None = None) -> str | None:
        env = os.environ if env is None else env
        return (env.get(self.email_env) or None) if self.email_env else None

    def is_live(self, env: Mapping[str, str] | None = None) -> bool:
        """Live only when asked for and the credentials are there."""
        if not self.live or not self.token(env):
            return False
        return not (self.name == "jira" and not self.email(env))


_TARGET_DEFAULTS: dict[str, dict[str, Any]] = {
    "jira": {"token_env": "JIRA_API_TOKEN", "email_env": "JIRA_EMAIL"},
    "linear": {"api_url": "https://api.linear.app/graphql", "token_env": "LINEAR_API_KEY"},
    "github": {"api_url": "https://api.github.com", "token_env": "GITHUB_TOKEN"},
    "slack": {"api_url": "https://slack.com/api", "token_env": "SLACK_BOT_TOKEN",
              "channel": "#incidents"},
    "smtp": {},
}


@dataclass(frozen=True)
class SeverityRule:
    """A rule matches when every condition it sets holds; the first match sets the severity."""

    name: str
    severity: str
    environments: tuple[str, ...] = ()  # empty: any environment
    tiers: tuple[int, ...] = ()  # service tiers (see `AutomationConfig.tiers`); empty: any
    min_repeat: int = 0  # failed deploys of this repo+environment in `repeat_window_days`
    min_failing_minutes: float = 0.0  # since the first failure with no success after it
    min_prior_failures: int = 0  # earlier failures of the same CI failure cluster
    # repositories failing in production around this failure, this one and the configured
    # dependents of its service included (see `blast_radius` in models/automation/tickets.py)
    min_blast_radius: int = 0

    def describe(self) -> str:
        parts = []
        if self.environments:
            parts.append(f"environment in {list(self.environments)}")
        if self.tiers:
            parts.append(f"tier in {list(self.tiers)}")
        if self.min_repeat:
            parts.append(f"repeat count >= {self.min_repeat}")
        if self.min_failing_minutes:
            parts.append(f"failing >= {self.min_failing_minutes:g} min")
        if self.min_prior_failures:
            parts.append(f"same failure seen >= {self.min_prior_failures} time(s) before")
        if self.min_blast_radius:
            parts.append(f"blast radius >= {self.min_blast_radius}")
        return f"{self.name} ({' and '.join(parts) or 'always'}) -> {self.severity}"


DEFAULT_RULES: tuple[SeverityRule, ...] = (
    SeverityRule("production-repeated", "SEV1", environments=("production",), min_repeat=3),
    SeverityRule("production-failing-2h", "SEV1", environments=("production",),
                 min_failing_minutes=120),
    SeverityRule("production-recurring", "SEV2", environments=("production",),
                 min_prior_failures=1),
    SeverityRule("production", "SEV3", environments=("production",)),
    SeverityRule("default", "SEV4"),
)


@dataclass(frozen=True)
class Route:
    """Deployments of matching repositories go to `tracker`, owned by `team`."""

    repos: tuple[str, ...]
    tracker: str = ""
    team: str = ""

    def matches(self, repo: str) -> bool:
        return any(fnmatch.fnmatchcase(repo, pattern) for pattern in self.repos)


@dataclass(frozen=True)
class WebhookConfig:
    """`[automation.webhook]`: the GitHub webhook receiver and the spool it shares with the
    sensor. The secret itself never sits in the file, only the name of its variable."""

    secret_env: str = "FOLLOWTHROUGH_WEBHOOK_SECRET"
    spool: str = "webhook-spool"  # relative: to the config file's folder (else the cwd)
    max_body_bytes: int = 5 * 1024 * 1024  # GitHub caps deliveries at 25 MB; ours are small

    def secret(self, env: Mapping[str, str] | None = None) -> str | None:
        env = os.environ if env is None else env
        return env.get(self.secret_env) or None

    def spool_dir(self, config_file: Path | None) -> Path:
        path = Path(self.spool).expanduser()
        if path.is_absolute() or config_file is None:
            return path
        return config_file.parent / path


@dataclass(frozen=True)
class AutomationConfig:
    path: Path | None = None
    tracker: str = "jira"
    environments: tuple[str, ...] = ()  # besides deployments flagged production
    repeat_window_days: float = 7.0
    alert_severities: tuple[str, ...] = ("SEV1", "SEV2")
    retry_base_s: float = 60.0
    retry_cap_s: float = 3600.0
    max_sends: int = 10  # a row failing this many times stays failed until reset by hand
    # A failure older than this when first seen is only recorded (dry_run), never sent: turning
    # a target live on a warehouse with months of history must not open months of tickets.
    # 0: no limit.
    max_age_hours: float = 24.0
    tiers: dict[str, int] = field(default_factory=dict)  # repo glob -> service tier
    rules: tuple[SeverityRule, ...] = DEFAULT_RULES
    routes: tuple[Route, ...] = ()
    targets: dict[str, TargetConfig] = field(default_factory=dict)
    team_ems: dict[str, str] = field(default_factory=dict)  # team -> EM's Slack user id
    webhook: WebhookConfig = field(default_factory=WebhookConfig)
    # --- triggers, blast radius and postmortem drafts (see the block at the end of the file)
    triggers: TriggerConfig = field(default_factory=lambda: TriggerConfig())
    services: dict[str, ServiceConfig] = field(default_factory=dict)
    blast_window_minutes: float = 60.0
    drafts: DraftsConfig = field(default_factory=lambda: DraftsConfig())

    @property
    def spool_dir(self) -> Path:
        """Where the webhook receiver spools deliveries and the sensor drains them."""
        return self.webhook.spool_dir(self.path)
    # Repeat failures, weekly digest, notifications (see the block below `parse_automation`).
    teams: dict[str, TeamConfig] = field(default_factory=dict)
    people: dict[str, PersonAddress] = field(default_factory=dict)
    smtp: SmtpConfig = field(default_factory=lambda: SmtpConfig(name="smtp"))
    codeowners: str = ""  # a CODEOWNERS file, or a folder of <owner__repo> files
    repeats: RepeatsConfig = field(default_factory=lambda: RepeatsConfig())
    digest: DigestConfig = field(default_factory=lambda: DigestConfig())

    def target(self, name: str) -> TargetConfig:
        return self.targets.get(name) or TargetConfig(name=name, **_TARGET_DEFAULTS[name])

    def route(self, repo: str) -> tuple[str, str]:
        """(tracker, team) for a repository."""
        for r in self.routes:
            if r.matches(repo):
                return r.tracker or self.tracker, r.team
        return self.tracker, ""

    def tier(self, repo: str) -> int | None:
        service = self.service_of(repo)
        if service is not None and service.tier is not None:
            return service.tier
        for pattern, tier in self.tiers.items():
            if fnmatch.fnmatchcase(repo, pattern):
                return tier
        return None

    def service_of(self, repo: str) -> ServiceConfig | None:
        """The configured service a repository (or Buildkite pipeline) belongs to."""
        for svc in self.services.values():
            if svc.matches(repo):
                return svc
        return None

    def dependents(self, repo: str) -> tuple[str, ...]:
        """Every service that depends, directly or not, on the repository's service."""
        start = self.service_of(repo)
        if start is None:
            return ()
        seen: list[str] = []
        todo = list(start.dependents)
        while todo:
            name = todo.pop(0)
            if name in seen or name == start.name:
                continue
            seen.append(name)
            nxt = self.services.get(name)
            if nxt is not None:
                todo.extend(nxt.dependents)
        return tuple(seen)


def _str_list(path: Path, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(path, key, "expected a list of strings")
    return tuple(value)


def _number(path: Path, key: str, value: Any, whole: bool = False) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(path, key, "expected a number >= 0")
    if whole and not isinstance(value, int):
        raise ConfigError(path, key, "expected a whole number")
    return value if whole else float(value)


def _string(path: Path, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(path, key, "expected a string")
    return value


def _target(path: Path, name: str, values: Any) -> TargetConfig:
    key = f"automation.{name}"
    if not isinstance(values, dict):
        raise ConfigError(path, key, "expected a table")
    kw: dict[str, Any] = dict(_TARGET_DEFAULTS[name])
    strings = {"api_url", "token_env", "email_env", "project", "issue_type", "team_id", "repo",
               "channel"}
    for k, v in values.items():
        if k == "live":
            if not isinstance(v, bool):
                raise ConfigError(path, f"{key}.live", "expected true or false")
            kw[k] = v
        elif k == "site_url" or k in strings:
            kw["api_url" if k == "site_url" else k] = _string(path, f"{key}.{k}", v)
        elif k == "timeout_s":
            kw[k] = _number(path, f"{key}.{k}", v)
        elif k == "max_attempts":
            kw[k] = max(1, _number(path, f"{key}.{k}", v, whole=True))
        else:
            raise ConfigError(path, f"{key}.{k}", "unknown key")
    api = kw.get("api_url", "")
    if api and not api.startswith(("http://", "https://")):
        raise ConfigError(path, f"{key}.api_url", f"expected an http(s) URL, got {api!r}")
    cfg = TargetConfig(name=name, **kw)
    if cfg.live and name == "jira" and not (cfg.api_url and cfg.project):
        raise ConfigError(path, key, "live Jira needs site_url and project")
    if cfg.live and name == "linear" and not cfg.team_id:
        raise ConfigError(path, key, "live Linear needs team_id")
    return cfg


def _rule(path: Path, i: int, values: Any) -> SeverityRule:
    key = f"automation.severity[{i}]"
    if not isinstance(values, dict):
        raise ConfigError(path, key, "expected a table")
    if not values.get("name") or not values.get("severity"):
        raise ConfigError(path, key, "needs name and severity")
    kw: dict[str, Any] = {}
    for k, v in values.items():
        if k in ("name", "severity"):
            kw[k] = _string(path, f"{key}.{k}", v)
        elif k == "environments":
            kw[k] = _str_list(path, f"{key}.{k}", v)
        elif k == "tiers":
            if not isinstance(v, list) or not all(isinstance(t, int) for t in v):
                raise ConfigError(path, f"{key}.{k}", "expected a list of whole numbers")
            kw[k] = tuple(v)
        elif k in ("min_repeat", "min_prior_failures", "min_blast_radius"):
            kw[k] = _number(path, f"{key}.{k}", v, whole=True)
        elif k == "min_failing_minutes":
            kw[k] = _number(path, f"{key}.{k}", v)
        else:
            raise ConfigError(path, f"{key}.{k}", "unknown key")
    return SeverityRule(**kw)


def _webhook(path: Path, values: Any) -> WebhookConfig:
    key = "automation.webhook"
    if not isinstance(values, dict):
        raise ConfigError(path, key, "expected a table")
    kw: dict[str, Any] = {}
    for k, v in values.items():
        if k in ("secret_env", "spool"):
            kw[k] = _string(path, f"{key}.{k}", v)
            if not kw[k]:
                raise ConfigError(path, f"{key}.{k}", "must not be empty")
        elif k == "max_body_bytes":
            kw[k] = max(1024, _number(path, f"{key}.{k}", v, whole=True))
        else:
            raise ConfigError(path, f"{key}.{k}", "unknown key")
    return WebhookConfig(**kw)


def parse_automation(data: Mapping[str, Any], path: Path) -> AutomationConfig:
    """The `[automation]` table of an already parsed TOML document."""
    section = data.get("automation", {})
    if not isinstance(section, dict):
        raise ConfigError(path, "automation", "expected a table")
    kw: dict[str, Any] = {"path": path}
    targets: dict[str, TargetConfig] = {}
    for k, v in section.items():
        key = f"automation.{k}"
        if k in TARGETS:
            targets[k] = _target(path, k, v)
        elif k == "tracker":
            if v not in TRACKERS:
                raise ConfigError(path, key, f"expected one of {', '.join(TRACKERS)}")
            kw[k] = v
        elif k in ("environments", "alert_severities"):
            kw[k] = _str_list(path, key, v)
        elif k in ("repeat_window_days", "retry_base_s", "retry_cap_s", "max_age_hours"):
            kw[k] = _number(path, key, v)
        elif k == "max_sends":
            kw[k] = max(1, _number(path, key, v, whole=True))
        elif k == "tiers":
            if not isinstance(v, dict) or not all(isinstance(t, int) for t in v.values()):
                raise ConfigError(path, key, "expected a table of repo glob = tier number")
            kw[k] = dict(v)
        elif k == "severity":
            if not isinstance(v, list) or not v:
                raise ConfigError(path, key, "expected [[automation.severity]] tables")
            kw["rules"] = tuple(_rule(path, i, r) for i, r in enumerate(v))
        elif k == "routes":
            if not isinstance(v, list):
                raise ConfigError(path, key, "expected [[automation.routes]] tables")
            routes = []
            for i, r in enumerate(v):
                rk = f"{key}[{i}]"
                if not isinstance(r, dict) or not r.get("repos"):
                    raise ConfigError(path, rk, "expected a table with repos")
                unknown = set(r) - {"repos", "tracker", "team"}
                if unknown:
                    raise ConfigError(path, f"{rk}.{sorted(unknown)[0]}", "unknown key")
                tracker = _string(path, f"{rk}.tracker", r.get("tracker", ""))
                if tracker and tracker not in TRACKERS:
                    raise ConfigError(path, f"{rk}.tracker",
                                      f"expected one of {', '.join(TRACKERS)}")
                routes.append(Route(_str_list(path, f"{rk}.repos", r["repos"]), tracker,
                                    _string(path, f"{rk}.team", r.get("team", ""))))
            kw["routes"] = tuple(routes)
        elif k == "webhook":
            kw[k] = _webhook(path, v)
        elif k in _TRIGGER_KEYS:
            kw.update(_parse_trigger_key(path, k, v, kw))
        elif k == "team_ems":
            if not isinstance(v, dict) or not all(isinstance(u, str) for u in v.values()):
                raise ConfigError(path, key, "expected a table of team = Slack user id")
            kw[k] = dict(v)
        elif k in NOTIFY_KEYS:
            kw[k] = parse_notify_key(path, k, v)
            if k == "smtp":
                targets["smtp"] = kw[k]
        else:
            raise ConfigError(path, key, "unknown key")
    kw["targets"] = targets
    return AutomationConfig(**kw)


# --- Triggers, blast radius and postmortem drafts -------------------------------------------

@dataclass(frozen=True)
class TriggerConfig:
    """Where a failed production deploy can show up besides a deployment record.

    GitHub: a failed job of a workflow whose file (or name) matches `production_workflows`
    (`production_jobs`, when set, narrows it to those job names). GitLab: a failed job matching
    `gitlab_production_jobs` ("stage:name", or the name). Buildkite: a failed build of a
    pipeline matching `production_pipelines` (`production_jobs` narrows it the same way).
    """

    production_workflows: tuple[str, ...] = ()
    production_jobs: tuple[str, ...] = ()
    gitlab_production_jobs: tuple[str, ...] = ()
    production_pipelines: tuple[str, ...] = ()

    @staticmethod
    def _any(value: str | None, patterns: tuple[str, ...]) -> bool:
        return bool(value) and any(fnmatch.fnmatchcase(value, p)  # type: ignore[arg-type]
                                   for p in patterns)

    def workflow_is_production(self, path: str | None, name: str | None) -> bool:
        base = path.rsplit("/", 1)[-1] if path else None
        return any(self._any(v, self.production_workflows) for v in (path, base, name))

    def job_counts(self, name: str | None) -> bool:
        return not self.production_jobs or self._any(name, self.production_jobs)

    def gitlab_job_is_production(self, stage: str | None, name: str | None) -> bool:
        return (self._any(f"{stage}:{name}", self.gitlab_production_jobs)
                or self._any(name, self.gitlab_production_jobs))

    def pipeline_is_production(self, slug: str | None, name: str | None) -> bool:
        return any(self._any(v, self.production_pipelines) for v in (slug, name))


@dataclass(frozen=True)
class ServiceConfig:
    """`[automation.services.NAME]`: a service's repositories (globs; default: a repository
    or pipeline named like the service), its tier, and the services that depend on it."""

    name: str
    repos: tuple[str, ...] = ()
    tier: int | None = None
    dependents: tuple[str, ...] = ()

    def matches(self, repo: str) -> bool:
        if self.repos:
            return any(fnmatch.fnmatchcase(repo, p) for p in self.repos)
        return repo.rsplit("/", 1)[-1] == self.name


@dataclass(frozen=True)
class DraftsConfig:
    """Postmortem drafts started with each incident ticket."""

    enabled: bool = True
    folder: str = ""  # empty: a `drafts` folder beside the warehouse file
    follow_hours: float = 72.0  # the timeline keeps filling this long after the failure
    window_hours: float = 24.0  # and starts this long before it


_TRIGGER_KEYS = ("production_workflows", "production_jobs", "gitlab_production_jobs",
                 "production_pipelines", "services", "blast_window_minutes", "drafts")


def _service(path: Path, name: str, values: Any) -> ServiceConfig:
    key = f"automation.services.{name}"
    if not isinstance(values, dict):
        raise ConfigError(path, key, "expected a table")
    kw: dict[str, Any] = {}
    for k, v in values.items():
        if k in ("repos", "dependents"):
            kw[k] = _str_list(path, f"{key}.{k}", v)
        elif k == "tier":
            if isinstance(v, bool) or not isinstance(v, int):
                raise ConfigError(path, f"{key}.tier", "expected a whole number")
            kw[k] = v
        else:
            raise ConfigError(path, f"{key}.{k}", "unknown key")
    return ServiceConfig(name=name, **kw)


def _drafts(path: Path, values: Any) -> DraftsConfig:
    key = "automation.drafts"
    if not isinstance(values, dict):
        raise ConfigError(path, key, "expected a table")
    kw: dict[str, Any] = {}
    for k, v in values.items():
        if k == "enabled":
            if not isinstance(v, bool):
                raise ConfigError(path, f"{key}.enabled", "expected true or false")
            kw[k] = v
        elif k == "folder":
            kw[k] = _string(path, f"{key}.folder", v)
        elif k in ("follow_hours", "window_hours"):
            kw[k] = _number(path, f"{key}.{k}", v)
            if not 0 < kw[k] <= 24 * 31:
                raise ConfigError(path, f"{key}.{k}", "expected more than 0 and at most 744")
        else:
            raise ConfigError(path, f"{key}.{k}", "unknown key")
    return DraftsConfig(**kw)


def _parse_trigger_key(path: Path, k: str, v: Any, kw: dict[str, Any]) -> dict[str, Any]:
    """One key of the triggers / blast radius / drafts block, as AutomationConfig keywords."""
    key = f"automation.{k}"
    if k == "blast_window_minutes":
        return {k: _number(path, key, v)}
    if k == "drafts":
        return {k: _drafts(path, v)}
    if k == "services":
        if not isinstance(v, dict):
            raise ConfigError(path, key, "expected [automation.services.NAME] tables")
        services = {name: _service(path, name, values) for name, values in v.items()}
        for svc in services.values():
            for dep in svc.dependents:
                if dep not in services:
                    raise ConfigError(path, f"automation.services.{svc.name}.dependents",
                                      f"names {dep!r}, which has no [automation.services.{dep}]")
        return {k: services}
    current = kw.get("triggers", TriggerConfig())
    patterns = _str_list(path, key, v)
    if not all(patterns):
        raise ConfigError(path, key, "empty pattern")
    return {"triggers": TriggerConfig(**{**current.__dict__, k: patterns})}


def load_automation(explicit: str | os.PathLike[str] | None = None,
                    env: Mapping[str, str] | None = None) -> AutomationConfig:
    """`[automation]` from `--config`, $FOLLOWTHROUGH_CONFIG or ./followthrough.toml (defaults
    when there is no file)."""
    path = config_path(explicit, env)
    if path is None:
        return AutomationConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(path, "file", f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(path, "file", "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "file", f"not valid TOML: {exc}") from None
    return parse_automation(data, path)


# --- Repeat failures, weekly digest, notifications -------------------------------------------
# `[automation.teams.NAME]`, `[automation.people]`, `[automation.smtp]`, `[automation.repeats]`,
# `[automation.digest]` and `codeowners`: who owns a failure, how their engineering manager and
# the owners of stale action items are reached, and when the digest goes out.

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
FIX_ACTIONS = ("reopen", "comment")


@dataclass(frozen=True)
class TeamConfig:
    """A team: its engineering manager, its Slack channel, and what it owns."""

    name: str
    em: str = ""  # the EM's name, as shown in messages
    em_slack: str = ""  # the EM's Slack user id (U…): direct messages
    em_email: str = ""  # the EM's email address (SMTP)
    channel: str = ""  # the team's channel for repeat alerts; empty: [automation.slack] channel
    codeowners: tuple[str, ...] = ()  # CODEOWNERS owners (@org/team, @user, email) of the team
    repos: tuple[str, ...] = ()  # repository globs the team owns (besides [[automation.routes]])


@dataclass(frozen=True)
class PersonAddress:
    """How to reach an action item's owner (matched by the name written in the postmortem)."""

    slack: str = ""
    email: str = ""


@dataclass(frozen=True)
class SmtpConfig(TargetConfig):
    """Email over SMTP. Live when `live = true`, a host and a From address are set, and, when
    `user_env` names a variable, that variable and `password_env`'s are set."""

    host: str = ""
    port: int = 587
    sender: str = ""  # the From address
    starttls: bool = True
    user_env: str = ""
    password_env: str = ""

    def credentials(self, env: Mapping[str, str] | None = None) -> tuple[str, str] | None:
        env = os.environ if env is None else env
        if not self.user_env:
            return None
        user, password = env.get(self.user_env), env.get(self.password_env or "")
        return (user, password) if user and password else None

    def is_live(self, env: Mapping[str, str] | None = None) -> bool:
        if not (self.live and self.host and self.sender):
            return False
        return not self.user_env or self.credentials(env) is not None


@dataclass(frozen=True)
class RepeatsConfig:
    """Repeat-failure alerts and "fix did not hold" actions."""

    enabled: bool = True
    # On the first evaluation the watermark is set this many hours before the newest CI failure
    # in the warehouse (or before now, whichever is earlier): only failures at or after it are
    # alerted, so turning the automation on does not replay history.
    lookback_hours: float = 24.0
    fix_not_held: str = "reopen"  # reopen (where the tracker allows) and comment, or comment
    branches: tuple[str, ...] = ()  # only failures on these branches; empty: any branch


@dataclass(frozen=True)
class DigestConfig:
    """The weekly digest of stale action items."""

    enabled: bool = True
    weekday: str = "monday"
    hour: int = 8
    timezone: str = "UTC"
    max_items: int = 25  # per message; the rest are counted, not listed


NOTIFY_KEYS = ("teams", "people", "smtp", "codeowners", "repeats", "digest")


def _bool(path: Path, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(path, key, "expected true or false")
    return value


def _table(path: Path, key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(path, key, "expected a table")
    return value


def _team(path: Path, name: str, values: Any) -> TeamConfig:
    key = f"automation.teams.{name}"
    kw: dict[str, Any] = {"name": name}
    for k, v in _table(path, key, values).items():
        if k in ("em", "em_slack", "em_email", "channel"):
            kw[k] = _string(path, f"{key}.{k}", v)
        elif k in ("codeowners", "repos"):
            kw[k] = _str_list(path, f"{key}.{k}", v)
        else:
            raise ConfigError(path, f"{key}.{k}", "unknown key")
    if kw.get("em_email") and "@" not in kw["em_email"]:
        raise ConfigError(path, f"{key}.em_email", f"not an email address: {kw['em_email']!r}")
    return TeamConfig(**kw)


def _smtp(path: Path, values: Any) -> SmtpConfig:
    key = "automation.smtp"
    kw: dict[str, Any] = {"name": "smtp"}
    for k, v in _table(path, key, values).items():
        if k in ("live", "starttls"):
            kw[k] = _bool(path, f"{key}.{k}", v)
        elif k in ("host", "user_env", "password_env"):
            kw[k] = _string(path, f"{key}.{k}", v)
        elif k == "from":
            kw["sender"] = _string(path, f"{key}.from", v)
        elif k == "port":
            port = _number(path, f"{key}.port", v, whole=True)
            if not 0 < port < 65536:
                raise ConfigError(path, f"{key}.port", "expected a port number")
            kw[k] = port
        elif k == "timeout_s":
            kw[k] = _number(path, f"{key}.{k}", v)
        else:
            raise ConfigError(path, f"{key}.{k}", "unknown key")
    cfg = SmtpConfig(**kw)
    if cfg.live and not (cfg.host and cfg.sender):
        raise ConfigError(path, key, "live SMTP needs host and from")
    if cfg.user_env and not cfg.password_env:
        raise ConfigError(path, f"{key}.password_env", "needed when user_env is set")
    return cfg


def _repeats(path: Path, values: Any) -> RepeatsConfig:
    key = "automation.repeats"
    kw: dict[str, Any] = {}
    for k, v in _table(path, key, values).items():
        if k == "enabled":
            kw[k] = _bool(path, f"{key}.{k}", v)
        elif k == "lookback_hours":
            kw[k] = _number(path, f"{key}.{k}", v)
        elif k == "fix_not_held":
            if v not in FIX_ACTIONS:
                raise ConfigError(path, f"{key}.{k}", f"expected one of {', '.join(FIX_ACTIONS)}")
            kw[k] = v
        elif k == "branches":
            kw[k] = _str_list(path, f"{key}.{k}", v)
        else:
            raise ConfigError(path, f"{key}.{k}", "unknown key")
    return RepeatsConfig(**kw)


def _digest(path: Path, values: Any) -> DigestConfig:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    key = "automation.digest"
    kw: dict[str, Any] = {}
    for k, v in _table(path, key, values).items():
        if k == "enabled":
            kw[k] = _bool(path, f"{key}.{k}", v)
        elif k == "weekday":
            if not isinstance(v, str) or v.lower() not in WEEKDAYS:
                raise ConfigError(path, f"{key}.{k}", f"expected one of {', '.join(WEEKDAYS)}")
            kw[k] = v.lower()
        elif k == "hour":
            hour = _number(path, f"{key}.{k}", v, whole=True)
            if hour > 23:
                raise ConfigError(path, f"{key}.{k}", "expected an hour 0-23")
            kw[k] = hour
        elif k == "timezone":
            try:
                ZoneInfo(_string(path, f"{key}.{k}", v))
            except (ZoneInfoNotFoundError, ValueError):
                raise ConfigError(path, f"{key}.{k}", f"unknown time zone {v!r}") from None
            kw[k] = v
        elif k == "max_items":
            kw[k] = max(1, _number(path, f"{key}.{k}", v, whole=True))
        else:
            raise ConfigError(path, f"{key}.{k}", "unknown key")
    return DigestConfig(**kw)


def parse_notify_key(path: Path, k: str, v: Any) -> Any:
    """The value of one of `NOTIFY_KEYS` under `[automation]`."""
    key = f"automation.{k}"
    if k == "teams":
        return {name: _team(path, name, t) for name, t in _table(path, key, v).items()}
    if k == "people":
        people = {}
        for name, p in _table(path, key, v).items():
            pk = f"{key}.{name}"
            unknown = set(_table(path, pk, p)) - {"slack", "email"}
            if unknown:
                raise ConfigError(path, f"{pk}.{sorted(unknown)[0]}", "unknown key")
            people[name] = PersonAddress(_string(path, f"{pk}.slack", p.get("slack", "")),
                                         _string(path, f"{pk}.email", p.get("email", "")))
        return people
    if k == "smtp":
        return _smtp(path, v)
    if k == "codeowners":
        return _string(path, key, v)
    if k == "repeats":
        return _repeats(path, v)
    return _digest(path, v)
