"""`followthrough.toml`: which vendor accounts to read, where their APIs are, which variables hold
their secrets.

The file names environment variables, never secrets, so it can be committed; a token is read from
the environment when a client is built and is kept nowhere else.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

CONFIG_FILE = "followthrough.toml"
CONFIG_VARIABLE = "FOLLOWTHROUGH_CONFIG"


class ConfigError(ValueError):
    """A config file problem, naming the file and the key."""

    def __init__(self, path: Path | str, key: str, reason: str) -> None:
        super().__init__(f"{path}: {key}: {reason}")
        self.path = str(path)
        self.key = key
        self.reason = reason


@dataclass(frozen=True)
class SourceConfig:
    """Keys every source has; `token_env` names the variable holding the API token."""

    api_url: str = ""
    token_env: str = ""
    timeout_s: float = 30.0
    max_attempts: int = 6
    page_size: int = 100
    # Re-read this much before the stored watermark, so a record updated while the previous run
    # was paging is not missed; duplicates are merged by id.
    overlap_minutes: float = 60.0

    def token(self, env: Mapping[str, str] | None = None) -> str | None:
        env = os.environ if env is None else env
        return env.get(self.token_env) or None if self.token_env else None


@dataclass(frozen=True)
class GitHubConfig(SourceConfig):
    api_url: str = "https://api.github.com"
    token_env: str = "GITHUB_TOKEN"
    repos: tuple[str, ...] = ()
    org: str = ""
    production_environments: tuple[str, ...] = ("production",)
    logs: str = "failed"  # "failed", "all" or "none": which jobs' logs to download


@dataclass(frozen=True)
class GitLabConfig(SourceConfig):
    api_url: str = "https://gitlab.com/api/v4"
    token_env: str = "GITLAB_TOKEN"
    projects: tuple[str, ...] = ()
    production_environments: tuple[str, ...] = ("production",)
    logs: str = "failed"


@dataclass(frozen=True)
class BuildkiteConfig(SourceConfig):
    api_url: str = "https://api.buildkite.com/v2"
    token_env: str = "BUILDKITE_TOKEN"
    organization: str = ""
    pipelines: tuple[str, ...] = ()
    logs: str = "failed"


@dataclass(frozen=True)
class JiraConfig(SourceConfig):
    api_url: str = ""  # unused: Jira is addressed by site_url
    site_url: str = ""
    email_env: str = "JIRA_EMAIL"
    token_env: str = "JIRA_API_TOKEN"
    jql: str = ""
    page_size: int = 100
    # IANA zone Jira reads JQL dates in (the account's profile setting); empty: ask /myself.
    time_zone: str = ""

    def email(self, env: Mapping[str, str] | None = None) -> str | None:
        env = os.environ if env is None else env
        return env.get(self.email_env) or None if self.email_env else None


@dataclass(frozen=True)
class LinearConfig(SourceConfig):
    api_url: str = "https://api.linear.app/graphql"
    token_env: str = "LINEAR_API_KEY"
    teams: tuple[str, ...] = ()
    page_size: int = 50
    # "api_key" (sent as is), "oauth" (sent as "Bearer ..."), or "" to tell by the token's
    # prefix (`lin_oauth_` is an OAuth token).
    auth: str = ""


@dataclass(frozen=True)
class GitHubIssuesConfig(SourceConfig):
    api_url: str = "https://api.github.com"
    token_env: str = "GITHUB_TOKEN"
    repos: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()  # only issues carrying all of these labels (GitHub's filter)
    comments: bool = True  # keep comments from the timeline (they justify reschedules)


@dataclass(frozen=True)
class PagerDutyConfig(SourceConfig):
    api_url: str = "https://api.pagerduty.com"
    token_env: str = "PAGERDUTY_TOKEN"
    services: tuple[str, ...] = ()
    log_entries: bool = True
    window_days: int = 180  # PagerDuty accepts since/until ranges of at most 6 months


@dataclass(frozen=True)
class SlackConfig(SourceConfig):
    api_url: str = "https://slack.com/api"
    token_env: str = "SLACK_TOKEN"
    channels: tuple[str, ...] = ("#inc-*",)  # name globs, or channel ids
    page_size: int = 200
    # Threads whose parent was posted this long before the window are read again, so a late
    # reply to an older thread is not missed (Slack lists a thread under its parent's time).
    thread_days: float = 7.0


SOURCE_TYPES: dict[str, type[SourceConfig]] = {
    "github": GitHubConfig,
    "gitlab": GitLabConfig,
    "buildkite": BuildkiteConfig,
    "jira": JiraConfig,
    "linear": LinearConfig,
    "github_issues": GitHubIssuesConfig,
    "pagerduty": PagerDutyConfig,
    "slack": SlackConfig,
}

_REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    # Each inner tuple: at least one of these keys must be set.
    "github": (("repos", "org"),),
    "gitlab": (("projects",),),
    "buildkite": (("organization",),),
    "jira": (("site_url",),),
    "github_issues": (("repos",),),
}


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    sources: dict[str, SourceConfig] = field(default_factory=dict)

    def source(self, name: str) -> SourceConfig | None:
        return self.sources.get(name)


def _coerce(path: Path, key: str, f: Any, value: Any) -> Any:
    default = f.default
    if isinstance(default, tuple):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(path, key, "expected a list of strings")
        return tuple(value)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(path, key, "expected true or false")
        return value
    if isinstance(default, int) and not isinstance(default, bool):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ConfigError(path, key, "expected a whole number > 0")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(path, key, "expected a number >= 0")
        return float(value)
    if not isinstance(value, str):
        raise ConfigError(path, key, "expected a string")
    return value


def _check_url(path: Path, key: str, value: str) -> None:
    if value and not value.startswith(("http://", "https://")):
        raise ConfigError(path, key, f"expected an http(s) URL, got {value!r}")


def parse_config(data: Mapping[str, Any], path: Path) -> Config:
    sources_raw = data.get("sources", {})
    if not isinstance(sources_raw, dict):
        raise ConfigError(path, "sources", "expected a table of [sources.NAME] sections")
    unknown_top = sorted(set(data) - {"sources", "automation"})
    if unknown_top:
        raise ConfigError(path, unknown_top[0], "unknown section")
    sources: dict[str, SourceConfig] = {}
    for name, values in sources_raw.items():
        kind = SOURCE_TYPES.get(name)
        if kind is None:
            raise ConfigError(
                path, f"sources.{name}",
                f"unknown source; expected one of {', '.join(SOURCE_TYPES)}",
            )
        if not isinstance(values, dict):
            raise ConfigError(path, f"sources.{name}", "expected a table")
        known = {f.name: f for f in fields(kind)}
        kwargs: dict[str, Any] = {}
        for key, value in values.items():
            if key not in known:
                raise ConfigError(
                    path, f"sources.{name}.{key}",
                    f"unknown key; expected one of {', '.join(sorted(known))}",
                )
            kwargs[key] = _coerce(path, f"sources.{name}.{key}", known[key], value)
        cfg = kind(**kwargs)
        for key in ("api_url", "site_url"):
            if hasattr(cfg, key):
                _check_url(path, f"sources.{name}.{key}", getattr(cfg, key))
        for group in _REQUIRED.get(name, ()):
            if not any(getattr(cfg, k) for k in group):
                raise ConfigError(path, f"sources.{name}", f"needs {' or '.join(group)}")
        if hasattr(cfg, "logs") and cfg.logs not in {"failed", "all", "none"}:
            raise ConfigError(path, f"sources.{name}.logs", "expected 'failed', 'all' or 'none'")
        sources[name] = cfg
    return Config(path=path, sources=sources)


def config_path(explicit: str | os.PathLike[str] | None = None,
                env: Mapping[str, str] | None = None) -> Path | None:
    """`--config`, else $FOLLOWTHROUGH_CONFIG, else ./followthrough.toml when it exists."""
    env = os.environ if env is None else env
    if explicit:
        return Path(explicit)
    if env.get(CONFIG_VARIABLE):
        return Path(env[CONFIG_VARIABLE])
    default = Path(CONFIG_FILE)
    return default if default.is_file() else None


def load_config(explicit: str | os.PathLike[str] | None = None,
                env: Mapping[str, str] | None = None) -> Config:
    path = config_path(explicit, env)
    if path is None:
        return Config()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(path, "file", f"cannot read: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(path, "file", "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "file", f"not valid TOML: {exc}") from None
    return parse_config(data, path)
