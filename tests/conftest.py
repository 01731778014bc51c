"""Shared fixtures: a repository builder, an isolated data dir, the App's settings and store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.local.build import RepoBuilder
from app.settings import Settings
from app.store.sqlite import AppStore
from tests.webhook_payloads import SECRET


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


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a webhook secret and a database in the test's temp dir."""
    return Settings.from_env(
        {"GITHUB_WEBHOOK_SECRET": SECRET, "IDEALDIFF_DATA_DIR": str(tmp_path / "data")},
        env_file=None,
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[AppStore]:
    """The App's store on a fresh SQLite file."""
    db = AppStore(settings.database_path())
    yield db
    db.close()


@pytest.fixture(autouse=True)
def _loggers_as_they_were() -> Iterator[None]:
    """``serve``, ``worker`` and the log tests configure the process's loggers: undo it, so a
    later test's ``caplog`` still sees what is logged whatever order the tests run in."""
    import logging

    names = ("idealdiff", "uvicorn", "uvicorn.error", "uvicorn.access")
    saved = {
        n: (
            list(logging.getLogger(n).handlers),
            logging.getLogger(n).propagate,
            logging.getLogger(n).level,
        )
        for n in names
    }
    yield
    for name, (handlers, propagate, level) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.propagate = propagate
        logger.setLevel(level)
