"""Shared fixtures: a repository builder in a temp dir and an isolated data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.gitbuild import RepoBuilder


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own cache database, never the user's."""
    data = tmp_path / "data"
    monkeypatch.setenv("IDEALDIFF_DATA_DIR", str(data))
    return data


@pytest.fixture
def repo(tmp_path: Path) -> RepoBuilder:
    """An empty repository on branch main."""
    return RepoBuilder(tmp_path / "repo")
