"""Fixtures shared by the postmortem tests: the hand-written example documents and the docs page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from models.postmortems import Postmortem, parse_file

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def postmortem_fixtures() -> Path:
    """The folder of example postmortems modelled on public styles (one file per style)."""
    return REPO / "tests" / "fixtures" / "postmortems"


@pytest.fixture(scope="session")
def postmortems_doc() -> Path:
    """docs/postmortems.md, which documents every lint rule."""
    return REPO / "docs" / "postmortems.md"


@pytest.fixture(scope="session")
def load_fixture(postmortem_fixtures: Path) -> Callable[[str], Postmortem]:
    """Parse one example postmortem by file name."""

    def load(name: str) -> Postmortem:
        return parse_file(postmortem_fixtures / name)

    return load
