"""Shared fixtures: a repository builder, an isolated data dir, the App's settings and store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.local.build import RepoBuilder
from app.settings import Settings
from app.store import AppState
from app.store.open import open_state
from tests.anthropic_standin import KEY, StandIn, serve
from tests.pg_cluster import PgCluster, server_binaries
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


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """One throwaway PostgreSQL server for the session (a fresh database per test)."""
    if server_binaries() is None:
        pytest.skip("PostgreSQL's server binaries (initdb, pg_ctl) are not on this machine")
    cluster = PgCluster()
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def backend_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """The App's database for one test, on each backend: nothing (the data dir's SQLite file),
    or ``IDEALDIFF_DATABASE_URL`` naming a fresh database of the session's PostgreSQL server."""
    if request.param == "sqlite":
        return {}
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return {"IDEALDIFF_DATABASE_URL": cluster.new_database()}


@pytest.fixture
def settings(tmp_path: Path, backend_env: dict[str, str]) -> Settings:
    """Settings with a webhook secret and a fresh database (SQLite in the test's temp dir, or
    PostgreSQL)."""
    return Settings.from_env(
        {
            "GITHUB_WEBHOOK_SECRET": SECRET,
            "IDEALDIFF_DATA_DIR": str(tmp_path / "data"),
            **backend_env,
        },
        env_file=None,
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[AppState]:
    """The App's store on the test's fresh database."""
    db = open_state(settings)
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


@pytest.fixture
def standin() -> Iterator[StandIn]:
    """The Anthropic stand-in, served for one test."""
    with serve() as state:
        yield state


@pytest.fixture
def cli_model(standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> StandIn:
    """The stand-in, reached by the CLI through the environment, as a user would set it."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", standin.url)
    return standin
