"""Fixtures shared by the pipeline tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.models.automation.fakes import ENV


@pytest.fixture
def dry_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An `[automation]` config with no target live and no credential in the environment."""
    config = tmp_path / "followthrough.toml"
    config.write_text("[automation]\n", encoding="utf-8")
    monkeypatch.setenv("FOLLOWTHROUGH_CONFIG", str(config))
    for var in ENV:
        monkeypatch.delenv(var, raising=False)
    return config
