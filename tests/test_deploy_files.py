"""deploy/: every command the compose file and the systemd units run exists, with those options.

The files only run programs of this repository's environment (`followthrough`, `dagster-*`,
`celery`), so a renamed command or option fails here instead of on an operator's host.
`followthrough` command lines are parsed by the CLI's own parser; the others are run with
`--help` appended, which their click parsers reject when an option or sub-command is unknown.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
VENV_BIN = Path(sys.executable).parent
SECRET_NAME = re.compile(r"PASSWORD|PASS$|SECRET|TOKEN|API_KEY")


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _units() -> dict[str, dict[str, list[str]]]:
    """Each unit file as {key: [values]} (systemd repeats keys such as EnvironmentFile)."""
    units: dict[str, dict[str, list[str]]] = {}
    for path in sorted((DEPLOY / "systemd").iterdir()):
        entries: dict[str, list[str]] = {}
        for line in path.read_text().splitlines():
            line = line.strip()
            if not line or line.startswith(("#", ";", "[")):
                continue
            key, sep, value = line.partition("=")
            assert sep, f"{path.name}: not a key=value line: {line!r}"
            entries.setdefault(key.strip(), []).append(value.strip())
        units[path.name] = entries
    return units


def _command_lines() -> list[tuple[str, list[str]]]:
    """(where, argv) for every command a service runs; argv[0] is the program's name."""
    out: list[tuple[str, list[str]]] = []
    for name, service in _compose()["services"].items():
        if "command" in service:
            command = service["command"]
            argv = list(command) if isinstance(command, list) else shlex.split(command)
            out.append((f"compose.yaml:{name}", argv))
    for unit, entries in _units().items():
        for line in entries.get("ExecStart", []):
            argv = shlex.split(line)
            out.append((f"systemd/{unit}", [Path(argv[0]).name, *argv[1:]]))
    return out


COMMANDS = _command_lines()


def test_every_service_is_deployed_both_ways() -> None:
    programs = {(argv[0], argv[1]) for _, argv in COMMANDS}
    for pair in [("dagster-webserver", "--host"), ("dagster-daemon", "run"),
                 ("followthrough", "serve"), ("followthrough", "webhook")]:
        wheres = {where.split(":")[0].split("/")[0] for where, argv in COMMANDS
                  if (argv[0], argv[1]) == pair}
        assert wheres == {"compose.yaml", "systemd"}, (pair, wheres)
    assert ("celery", "--app") in programs


@pytest.mark.parametrize(("where", "argv"), COMMANDS, ids=[w for w, _ in COMMANDS])
def test_command_exists_with_its_options(where: str, argv: list[str]) -> None:
    program, args = argv[0], argv[1:]
    if program == "followthrough":
        from followthrough.cli import COMMANDS as CLI_COMMANDS
        from followthrough.cli import build_parser

        assert args[0] in CLI_COMMANDS, f"{where}: `followthrough {args[0]}` is not a command"
        try:
            parsed = build_parser(args[0]).parse_args(args)
        except SystemExit:
            pytest.fail(f"{where}: `followthrough {shlex.join(args)}` does not parse")
        assert parsed.command == args[0] and callable(parsed.func)
        return
    assert (VENV_BIN / program).is_file(), f"{where}: {program} is not installed"
    code, out, err = _help(tuple(argv))
    assert code == 0, f"{where}: {shlex.join(argv)}: {err[-1500:]}"
    assert "Usage:" in out


@functools.cache
def _help(argv: tuple[str, ...]) -> tuple[int, str, str]:
    """The program's answer to its command line plus `--help` (once per distinct line)."""
    done = subprocess.run([str(VENV_BIN / argv[0]), *argv[1:], "--help"], capture_output=True,
                          text=True, timeout=120)
    return done.returncode, done.stdout, done.stderr


def test_files_the_services_read_are_in_the_repository() -> None:
    compose = _compose()
    for name, service in compose["services"].items():
        for env_file in service.get("env_file", []):
            assert (DEPLOY / f"{env_file}.example").is_file(), f"{name}: no {env_file}.example"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./") and source != "./followthrough.toml":
                assert (DEPLOY / source).is_file(), f"{name}: {source} is missing"
        build = service.get("build")
        if build:
            assert (DEPLOY / build["context"] / build["dockerfile"]).is_file()
    for unit, entries in _units().items():
        for env_file in entries.get("EnvironmentFile", []):
            example = DEPLOY / "env" / f"{Path(env_file.lstrip('-')).name}.example"
            assert example.is_file(), f"{unit}: no {example.name} for {env_file}"
        if "ExecStart" in entries:
            assert entries["User"] != ["root"] and entries.get("User"), unit
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "requirements.lock" in dockerfile and "USER followthrough" in dockerfile


def test_no_secret_is_written_in_the_files() -> None:
    """Passwords and tokens come from the env files an operator fills in, never from deploy/."""
    for example in sorted((DEPLOY / "env").glob("*.example")):
        for line in example.read_text().splitlines():
            key, _, value = line.partition("=")
            if line.startswith("#") or not SECRET_NAME.search(key):
                continue
            assert value == "", f"{example.name}: {key} has a value"
    for name, service in _compose()["services"].items():
        environment = service.get("environment") or {}
        keys = environment if isinstance(environment, dict) else [
            e.split("=")[0] for e in environment]
        assert not [k for k in keys if SECRET_NAME.search(k)], name
    for unit, entries in _units().items():
        for line in entries.get("Environment", []):
            assert not SECRET_NAME.search(line.split("=")[0]), unit
    ignored = (DEPLOY / ".gitignore").read_text().split()
    assert "env/*.env" in ignored


def test_instance_and_workspace_files_load(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    """deploy/dagster.yaml is a valid Dagster instance config once its variables are set, and
    every variable it reads is in the example env file; the workspace's module imports."""
    import importlib.util

    from dagster._core.instance.config import dagster_instance_config

    text = (DEPLOY / "dagster.yaml").read_text()
    variables = set(re.findall(r"\{env: (\w+)\}", text))
    example = (DEPLOY / "env" / "dagster.env.example").read_text()
    assert variables and all(re.search(rf"^{v}=", example, re.M) for v in variables)
    for var in variables:
        monkeypatch.setenv(var, "5432" if var.endswith("PORT") else "x")
    (tmp_path / "dagster.yaml").write_text(text)
    config, _ = dagster_instance_config(str(tmp_path))
    assert "postgres" in config["storage"]
    assert config["telemetry"] == {"enabled": False}
    from pipelines.definitions import CODE_LOCATION

    workspace = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())
    for entry in workspace["load_from"]:
        module = entry["python_module"]["module_name"]
        assert importlib.util.find_spec(module) is not None, module
        assert entry["python_module"]["location_name"] == CODE_LOCATION


@pytest.mark.slow
def test_definitions_load_from_an_installed_package(tmp_path: Path) -> None:
    """The image and the systemd set-up install the package (`pip install --no-deps .`): no
    pyproject.toml sits beside the code there, and the code location must load all the same."""
    target = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                           "--target", str(target), str(REPO)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    if done.returncode != 0 and "No matching distribution found for setuptools" in done.stderr:
        pytest.skip("no package index to fetch the build backend (setuptools) from")
    assert done.returncode == 0, done.stderr[-1500:]
    assert not (target / "pyproject.toml").exists()
    probe = ("import pipelines, sys; from pipelines.definitions import defs; d = defs.load_fn(); "
             "print(pipelines.__file__); print(sorted(s.name for s in d.schedules))")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=300, cwd=tmp_path, env={**env, "PYTHONPATH": str(target)})
    assert loaded.returncode == 0, loaded.stderr[-1500:]
    where, schedules = loaded.stdout.splitlines()[-2:]
    assert where.startswith(str(target))
    from pipelines.definitions import defs

    assert schedules == str(sorted(s.name for s in defs.load_fn().schedules))
    assert "sources_hourly" in schedules


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    """`systemd-analyze verify` names unknown keys, bad values and missing units; the only
    complaint allowed is that the install path (/opt/followthrough) is absent on this host."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    for path in sorted((DEPLOY / "systemd").iterdir()):
        shutil.copyfile(path, tmp_path / path.name)
    units = sorted(str(p) for p in tmp_path.iterdir())
    done = subprocess.run([analyze, "verify", *units], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    missing_install = re.compile(r"Command /opt/followthrough/\.venv/bin/\S+ is not executable")
    complaints = [line for line in (done.stdout + done.stderr).splitlines()
                  if line.strip() and not missing_install.search(line)]
    assert not complaints, "\n".join(complaints)
