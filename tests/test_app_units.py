"""The App's parts on their own: settings, the command grammar, the queue, GitHub auth and reads."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.errors import ConfigError
from app.github.client import GitHubApp, GitHubError, GitHubSource, git_blob_sha
from app.service.commands import Command, find_command, parse_command
from app.service.worker import Worker, web_url
from app.settings import Settings
from app.store import AppState
from app.store.records import InstallationRecord, NewJob, PublishedIssue
from app.store.sqlite import AppStore
from tests.app_harness import REPO, World, app_key, running_world
from tests.github_standin import APP_ID, make_key
from tests.test_redundancy import SLUGIFY

# -- settings ----------------------------------------------------------------------------------


def test_settings_read_the_environment_over_a_dotenv_file(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# comment\nGITHUB_APP_ID=1\nexport GITHUB_WEBHOOK_SECRET='from-file'\n"
        'GITHUB_API_URL="https://ghe.example.com/api/v3/"\n'
    )
    settings = Settings.from_env({"GITHUB_APP_ID": "99", "HOME": str(tmp_path)}, env_file=dotenv)
    assert settings.github_app_id == "99"
    assert settings.require_webhook_secret() == "from-file"
    assert settings.github_api_url == "https://ghe.example.com/api/v3"
    assert "from-file" not in repr(settings)


def test_the_private_key_comes_from_a_variable_or_a_file(tmp_path: Path) -> None:
    pem, _ = app_key()
    key_file = tmp_path / "app.pem"
    key_file.write_text(pem)
    from_file = Settings.from_env(
        {"GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY_PATH": str(key_file), "HOME": str(tmp_path)},
        env_file=None,
    )
    one_line = pem.replace("\n", "\\n")  # how secret stores often hold a PEM
    from_var = Settings.from_env(
        {"GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY": one_line, "HOME": str(tmp_path)},
        env_file=None,
    )
    assert from_file.require_app() == ("1", pem)
    assert from_var.require_app() == ("1", pem)


def test_missing_or_invalid_settings_name_the_variable_not_the_value(tmp_path: Path) -> None:
    empty = Settings.from_env({"HOME": str(tmp_path)}, env_file=None)
    with pytest.raises(ConfigError, match="GITHUB_APP_ID"):
        empty.require_app()
    with pytest.raises(ConfigError, match="GITHUB_PRIVATE_KEY_PATH"):
        Settings.from_env({"GITHUB_PRIVATE_KEY_PATH": str(tmp_path / "nope.pem")}, env_file=None)
    with pytest.raises(ConfigError, match="IDEALDIFF_JOB_MAX_ATTEMPTS"):
        Settings.from_env({"IDEALDIFF_JOB_MAX_ATTEMPTS": "many"}, env_file=None)
    pg = Settings.from_env({"IDEALDIFF_DATABASE_URL": "postgresql://u:pw@db/x"}, env_file=None)
    with pytest.raises(ConfigError) as caught:
        pg.database_path()
    assert "pw" not in str(caught.value)


def test_the_database_url_names_a_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/app.sqlite3"
    settings = Settings.from_env({"IDEALDIFF_DATABASE_URL": url}, env_file=None)
    assert settings.database_path() == tmp_path / "app.sqlite3"
    default = Settings.from_env({"IDEALDIFF_DATA_DIR": str(tmp_path)}, env_file=None)
    assert default.database_path() == tmp_path / "idealdiff.sqlite3"


def test_the_model_budgets_reach_the_apps_worker(tmp_path: Path) -> None:
    # One reader for the CLI, the App and its worker: the budgets set for the App are the ones
    # its idealizer runs with (the worker once built it from an empty environment).
    env = {
        "IDEALDIFF_DATA_DIR": str(tmp_path),
        "ANTHROPIC_API_KEY": "sk-ant-test",
        "IDEALDIFF_MODEL": "claude-test",
        "IDEALDIFF_MAX_TOKENS": "1024",
        "IDEALDIFF_PROMPT_BUDGET": "5000",
        "IDEALDIFF_TOKEN_CEILING": "9000",
        "IDEALDIFF_LLM_TIMEOUT": "30",
    }
    settings = Settings.from_env(env, env_file=None)
    store = AppStore(settings.database_path())
    try:
        llm = Worker(settings, store, lambda *a: None)._idealizer().settings  # type: ignore[arg-type]
    finally:
        store.close()
    assert (llm.model, llm.max_tokens, llm.prompt_budget) == ("claude-test", 1024, 5000)
    assert (llm.review_token_ceiling, llm.timeout, llm.online) == (9000, 30.0, True)
    assert "sk-ant-test" in settings.secrets()
    assert "sk-ant-test" not in repr(settings)
    with pytest.raises(ConfigError, match="IDEALDIFF_MAX_TOKENS") as caught:
        Settings.from_env({**env, "IDEALDIFF_MAX_TOKENS": "12"}, env_file=None)
    assert "sk-ant-test" not in str(caught.value)


@pytest.mark.parametrize(
    ("api", "web"),
    [
        ("https://api.github.com", "https://github.com"),
        ("https://ghe.example.com/api/v3", "https://ghe.example.com"),
    ],
)
def test_issue_links_point_at_the_web_host_of_the_api(api: str, web: str) -> None:
    assert web_url(api) == web


# -- the command grammar -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/idealize", Command("review")),
        ("/idealize help", Command("help")),
        ("/idealize --last 5", Command("review", last=5)),
        ("/idealize --since 2026-11-01", Command("review", since_date="2026-11-01")),
        ("/idealize --since 1A2B3C4", Command("review", since_sha="1a2b3c4")),
        ("/idealize --since #42", Command("review", since_pr=42)),
        ("/idealize pr", Command("review", pr=True)),
        ("/idealize pr --last 3", Command("review", last=3, pr=True)),
        ("/idealize pr help", Command("help")),
    ],
)
def test_commands_parse(line: str, expected: Command) -> None:
    assert parse_command(line) == expected


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        ("/idealize --last 0", "`--last` takes a number from 1 to 50"),
        ("/idealize --last 51", "`--last` takes a number from 1 to 50"),
        ("/idealize --since yesterday", "`--since` takes a date"),
        ("/idealize --since 2026-13-01", "`--since` takes a date"),
        ("/idealize now please", "`now please` is not an option I know"),
    ],
)
def test_unknown_options_get_the_help_with_the_reason(line: str, complaint: str) -> None:
    command = parse_command(line)
    assert command.action == "help"
    assert complaint in (command.error or "")


def test_only_a_line_starting_with_the_command_counts() -> None:
    assert find_command("Nice!\n  /idealize --last 2\nthanks") == "/idealize --last 2"
    assert find_command("/idealizer") is None
    assert find_command("please run /idealize") is None
    assert find_command(None) is None


# -- the durable queue -------------------------------------------------------------------------


def test_a_leased_job_is_invisible_until_its_lease_expires(store: AppState) -> None:
    store.enqueue(NewJob("command", {"n": 1}), now=100)
    job = store.claim("a", now=100, lease_seconds=30)
    assert job is not None
    assert store.claim("b", now=120, lease_seconds=30) is None
    assert store.extend_lease(job, now=125, lease_seconds=30)  # a live worker keeps it
    assert store.claim("b", now=150, lease_seconds=30) is None
    again = store.claim("b", now=156, lease_seconds=30)  # the first worker died
    assert again is not None
    assert (again.id, again.attempts) == (job.id, 2)
    assert not store.finish(job, now=157)  # the dead worker's late answer is ignored
    assert store.finish(again, now=158)
    assert [j.state for j in store.jobs()] == ["done"]


def test_keyed_jobs_are_debounced_and_deferral_is_not_a_try(store: AppState) -> None:
    first = store.enqueue(NewJob("batch", {"repo": "a/b"}, key="batch:a/b"), now=0)
    second = store.enqueue(NewJob("batch", {"repo": "a/b"}, key="batch:a/b", run_after=50), 10)
    assert first == second
    assert store.claim("w", now=10, lease_seconds=30) is None  # moved to 50
    job = store.claim("w", now=50, lease_seconds=30)
    assert job is not None
    store.enqueue(NewJob("batch", {"repo": "a/b"}, key="batch:a/b"), now=60)  # a merge meanwhile
    assert len(store.jobs("queued")) == 1
    assert store.defer(job, now=61, run_after=500)
    assert [j.state for j in store.jobs()] == ["done", "queued"]  # the newer one will do it
    newer = store.claim("w", now=62, lease_seconds=30)
    assert newer is not None
    assert store.defer(newer, now=63, run_after=70)
    [row] = [j for j in store.jobs() if j.id == newer.id]
    assert (row.state, row.attempts, row.run_after) == ("queued", 0, 70)


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        ("command", {"repo": "acme/demo", "installation_id": 1}),  # no number, user, line
        ("reindex", {"repo": "acme/demo", "installation_id": 1}),  # a kind this version lacks
    ],
)
def test_a_job_this_version_cannot_read_ends_at_once(
    tmp_path: Path, store: AppState, kind: str, payload: dict[str, object]
) -> None:
    settings = Settings.from_env({"IDEALDIFF_DATA_DIR": str(tmp_path)}, env_file=None)
    store.enqueue(NewJob(kind, payload), now=0)

    def no_github(installation: int, repo: str) -> object:
        raise AssertionError("an unreadable job must not run")

    worker = Worker(settings, store, no_github, clock=lambda: 0.0)  # type: ignore[arg-type]
    assert worker.run_once()
    [row] = store.jobs()
    assert (row.state, row.attempts) == ("dead", 1)
    assert "ConfigError" in (row.last_error or "")


def test_a_job_that_keeps_killing_its_worker_ends_dead(tmp_path: Path, store: AppState) -> None:
    settings = Settings.from_env(
        {"IDEALDIFF_DATA_DIR": str(tmp_path), "IDEALDIFF_JOB_MAX_ATTEMPTS": "2"}, env_file=None
    )
    store.enqueue(NewJob("command", {}), now=0)
    now = 0.0
    for _ in range(2):  # two workers take it and die without a word
        assert store.claim("dying", now=now, lease_seconds=10) is not None
        now += 11

    def no_github(installation: int, repo: str) -> object:
        raise AssertionError("a dead job must not run")

    worker = Worker(settings, store, no_github, clock=lambda: now)  # type: ignore[arg-type]
    assert worker.run_once()
    [job] = store.jobs()
    assert job.state == "dead"
    assert "died" in (job.last_error or "")


# -- GitHub auth and reading code --------------------------------------------------------------


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """The stand-in at a plain base URL (as github.com), and the App."""
    yield from running_world(tmp_path, prefix="")


def test_installation_tokens_are_issued_only_for_the_apps_key(world: World) -> None:
    api = GitHubApp(world.settings).repo(42, REPO)
    assert api.default_branch() == "main"
    assert world.standin.calls("POST", "/app/installations/42/access_tokens") == 1
    api.default_branch()
    assert world.standin.calls("POST", "/app/installations/42/access_tokens") == 1  # cached

    other_pem, _ = make_key()
    stranger = Settings.from_env(
        {**world.env, "GITHUB_PRIVATE_KEY": other_pem, "GITHUB_APP_ID": APP_ID}, env_file=None
    )
    before = len(world.standin.requests)
    with pytest.raises(GitHubError, match="401"):
        GitHubApp(stranger).repo(42, REPO).default_branch()
    assert world.standin.requests[before:] == [("POST", "/app/installations/42/access_tokens", 401)]


def test_code_is_read_by_blob_when_few_and_from_one_tarball_when_many(world: World) -> None:
    files = {f"pkg/m{i}.py": f"VALUE_{i} = {i}\n" for i in range(6)}
    head = world.builder.commit("Many files", {**files, "pkg/text.py": SLUGIFY})
    api = GitHubApp(world.settings).repo(42, REPO)

    few = GitHubSource(api, head, threshold=5)
    tree = few.tree(head)
    one = few.blobs([tree["pkg/text.py"]])
    assert one == {git_blob_sha(SLUGIFY.lstrip("\n").encode()): SLUGIFY.lstrip("\n").encode()}
    assert few.requests == {"trees": 1, "tarballs": 0, "blobs": 1}

    many = GitHubSource(api, head, threshold=5)
    contents = many.blobs(many.tree(head).values())
    assert many.requests == {"trees": 1, "tarballs": 1, "blobs": 0}
    assert all(git_blob_sha(data) == sha for sha, data in contents.items())
    assert set(contents) == set(many.tree(head).values())


def test_a_truncated_tree_is_read_from_the_tarball(world: World) -> None:
    head = world.builder.commit("Two files", {"a.py": "A = 1\n", "b.py": "B = 2\n"})
    world.standin.truncate_trees = True
    source = GitHubSource(GitHubApp(world.settings).repo(42, REPO), head)
    tree = source.tree(head)
    assert {"a.py", "b.py", "pkg/numbers.py"} <= set(tree)
    assert source.requests == {"trees": 1, "tarballs": 1, "blobs": 0}
    assert source.blobs([tree["a.py"]]) == {tree["a.py"]: b"A = 1\n"}


# -- deploy files ------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


def test_deploy_files_agree_with_the_server() -> None:
    import tomllib

    import yaml

    fly = tomllib.loads((ROOT / "fly.toml").read_text())
    docker = (ROOT / "Dockerfile").read_text()
    manifest = yaml.safe_load((ROOT / "app.yml").read_text())
    port = fly["http_service"]["internal_port"]
    assert f'"--port", "{port}"' in docker
    assert "setpriv --reuid=10001" in docker  # the server process never runs as root
    assert [c["path"] for c in fly["http_service"]["checks"]] == ["/healthz"]
    assert fly["mounts"]["destination"] == fly["env"]["IDEALDIFF_DATA_DIR"]
    assert manifest["hook_attributes"]["url"].endswith("/webhook")
    assert manifest["default_events"] == ["pull_request", "issue_comment"]
    assert manifest["default_permissions"] == {
        "contents": "write",  # mode draft_pr and /idealize pr push a branch
        "issues": "write",
        "pull_requests": "write",
        "metadata": "read",
    }
    for secret in ("GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_WEBHOOK_SECRET"):
        assert secret in (ROOT / "fly.toml").read_text()
    # Both shapes from one image: `app` machines serve on the checked port, `worker` machines run
    # `idealdiff worker`; the image can run PostgreSQL (its extra installed and imported).
    processes = fly["processes"]
    assert processes["app"].split()[:2] == ["idealdiff", "serve"]
    assert f"--port {port}" in processes["app"]
    assert processes["worker"] == "idealdiff worker"
    assert fly["http_service"]["processes"] == ["app"]
    assert "pip install '.[postgres]'" in docker
    assert "app.store.postgres" in docker
    from app.cli import main

    for command in ("serve", "worker", "migrate"):  # the commands the two shapes run
        with pytest.raises(SystemExit) as exited:
            main([command, "--help"])
        assert exited.value.code == 0


def test_serve_refuses_to_start_without_a_webhook_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import main

    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.delenv("GITHUB_WEBHOOK_SECRET", raising=False)
    assert main(["serve", "--port", "0"]) == 2
    assert "GITHUB_WEBHOOK_SECRET" in capsys.readouterr().err


def test_jobs_of_one_repository_never_run_at_once(store: AppState) -> None:
    store.enqueue(NewJob("command", {"n": 1}, scope="acme/demo"), now=0)
    store.enqueue(NewJob("command", {"n": 2}, scope="acme/demo"), now=0)
    store.enqueue(NewJob("command", {"n": 3}, scope="acme/other"), now=0)
    first = store.claim("a", now=1, lease_seconds=30)
    other = store.claim("b", now=1, lease_seconds=30)
    assert first is not None
    assert other is not None
    assert (first.payload["n"], other.payload["n"]) == (1, 3)
    assert store.claim("c", now=2, lease_seconds=30) is None  # acme/demo is busy
    store.finish(first, now=3)
    second = store.claim("c", now=4, lease_seconds=30)
    assert second is not None
    assert second.payload["n"] == 2


def test_old_deliveries_and_finished_jobs_are_pruned_dead_ones_kept(store: AppState) -> None:
    store.accept_delivery("old", "ping", None, now=0, jobs=[NewJob("command", {})])
    store.enqueue(NewJob("command", {"dies": True}), now=0)
    done = store.claim("w", now=1, lease_seconds=10)
    assert done is not None
    store.finish(done, now=2)
    dying = store.claim("w", now=3, lease_seconds=10)
    assert dying is not None
    store.bury(dying, now=4, error="boom")
    store.accept_delivery("new", "ping", None, now=100)
    assert store.prune(before=50) == 2
    assert not store.delivery_seen("old")
    assert store.delivery_seen("new")
    assert [j.state for j in store.jobs()] == ["dead"]


def test_a_fleet_of_workers_reconciles_once_per_period_and_forgets_old_periods(
    settings: Settings, store: AppState
) -> None:
    def github(installation: int, repo: str) -> object:
        raise AssertionError("the repository's ledger is empty: GitHub is not asked")

    store.accept_delivery(
        "inst",
        "installation",
        "created",
        now=0,
        installation=InstallationRecord(42, "acme", ["acme/demo"], True),
    )
    workers = [
        Worker(settings, store, github, owner=f"h{n}:{n}:w")  # type: ignore[arg-type]
        for n in range(3)
    ]
    start = 900.0 * 100
    assert [w.reconcile_once(start + n) for n, w in enumerate(workers)] == [True, False, False]
    assert workers[1].reconcile_once(start + 900) is True  # the next period: whoever comes first
    assert store.mark("reconciled-period:100") == "h0:0:w"
    store.mark_once("reply:once", "kept", now=0)
    store.prune(before=start + 1, marks="reconciled-period:")
    assert store.mark("reconciled-period:100") is None
    assert store.mark("reconciled-period:101") == "h1:1:w"
    assert store.mark("reply:once") == "kept"  # a one-shot reply's mark is never forgotten


def test_a_malformed_key_or_app_id_refuses_to_start_with_a_clear_message(tmp_path: Path) -> None:
    pem, _ = app_key()
    base = {"GITHUB_WEBHOOK_SECRET": "s3cret-hook", "IDEALDIFF_DATA_DIR": str(tmp_path)}
    truncated = pem[: len(pem) // 2]
    for env, named in (
        ({"GITHUB_APP_ID": "12x", "GITHUB_PRIVATE_KEY": pem}, "GITHUB_APP_ID"),
        ({"GITHUB_APP_ID": "12", "GITHUB_PRIVATE_KEY": truncated}, "GITHUB_PRIVATE_KEY"),
        ({"GITHUB_APP_ID": "12", "GITHUB_PRIVATE_KEY": "not a key"}, "GITHUB_PRIVATE_KEY"),
    ):
        settings = Settings.from_env({**base, **env}, env_file=None)
        with pytest.raises(ConfigError, match=named) as caught:
            GitHubApp(settings)  # what `idealdiff serve` and `idealdiff worker` build first
        assert truncated[40:80] not in str(caught.value)


def test_readiness_reports_the_database_the_queue_and_the_key(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from app.service.http import create_app

    pem, _ = app_key()
    env = {
        "GITHUB_WEBHOOK_SECRET": "s3cret-hook",
        "IDEALDIFF_DATA_DIR": str(tmp_path),
        "GITHUB_APP_ID": "12",
        "GITHUB_PRIVATE_KEY": pem,
        "IDEALDIFF_QUEUE_STALL_SECONDS": "60",
    }
    now = [1000.0]
    settings = Settings.from_env(env, env_file=None)
    store = AppStore(settings.database_path())
    try:
        with TestClient(create_app(settings, store, clock=lambda: now[0])) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 200
            assert ready.json()["checks"] == {
                "database": "ok",
                "queue": "ok",
                "app_credentials": "ok",
            }
            store.enqueue(NewJob("command", {}), now=now[0])
            now[0] += 61  # no worker took it
            stalled = client.get("/readyz")
            assert stalled.status_code == 503
            assert "waited 61 s" in stalled.json()["checks"]["queue"]
            assert client.get("/healthz").status_code == 200  # liveness stays trivial
        broken = Settings.from_env({**env, "GITHUB_PRIVATE_KEY": pem[:300]}, env_file=None)
        with TestClient(create_app(broken, store, clock=lambda: now[0])) as client:
            checks = client.get("/readyz").json()["checks"]
            assert "not a PEM private key" in checks["app_credentials"]
    finally:
        store.close()


def test_published_issues_recorded_before_origins_were_kept_still_read(tmp_path: Path) -> None:
    import sqlite3

    store = AppStore(tmp_path / "old.sqlite3")  # rows of that format exist only in SQLite
    store.record_published(
        PublishedIssue(
            "a/b", "idd-1", 7, "open", (("p.py", "f"), ("q.py", "g")), (("p.py", "f", "#2"),)
        ),
        now=1,
    )
    with sqlite3.connect(store.path) as db:  # a row as the previous version wrote it
        db.execute(
            "INSERT INTO published_issues (repo, finding_id, number, state, members, updated_at)"
            " VALUES ('a/b', 'idd-0', 5, 'open', '[[\"x.py\", \"h\"]]', 0)"
        )
    old, new = store.published("a/b")
    store.close()
    assert (old.members, old.origins) == ((("x.py", "h"),), ())
    assert new.origins == (("p.py", "f", "#2"),)


def test_a_starting_worker_reclaims_the_jobs_of_a_killed_one_at_once(
    tmp_path: Path, store: AppState
) -> None:
    import socket
    import subprocess
    import sys

    settings = Settings.from_env({"IDEALDIFF_DATA_DIR": str(tmp_path)}, env_file=None)
    assert settings.job_lease_seconds == 30  # short by default
    store.enqueue(NewJob("command", {"n": 1}, scope="acme/demo"), now=0)
    store.enqueue(NewJob("command", {"n": 2}, scope="acme/demo"), now=0)
    # A worker that was kill -9'd: its process is gone, its lease still runs.
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    killed = f"{socket.gethostname()}:{int(dead.stdout)}:abc123"
    assert store.claim(killed, now=10, lease_seconds=30) is not None
    assert store.claim("other:1:x", now=10, lease_seconds=30) is None  # its repository waits
    alive = f"{socket.gethostname()}:{os.getpid()}:def456"  # this process: alive
    store.enqueue(NewJob("batch", {"n": 3}, scope="acme/other"), now=0)
    assert store.claim(alive, now=10, lease_seconds=30) is not None

    def no_github(installation: int, repo: str) -> object:
        raise AssertionError("not called")

    worker = Worker(settings, store, no_github, clock=lambda: 11.0)  # type: ignore[arg-type]
    reclaimed = worker.reclaim()
    assert len(reclaimed) == 1  # the killed worker's job, not the live one's
    rows = {row.id: row for row in store.jobs()}
    assert rows[reclaimed[0]].state == "queued"
    taken = store.claim("next:2:y", now=11, lease_seconds=30)
    assert taken is not None  # the repository's queue runs again 1 second after the kill, not 30
    assert taken.payload["n"] in (1, 2)


def test_a_second_fly_machine_on_sqlite_refuses_to_start(tmp_path: Path) -> None:
    import socket

    from app.service.fleet import check_single_machine

    settings = Settings.from_env({"IDEALDIFF_DATA_DIR": str(tmp_path)}, env_file=None)

    def machines(*addresses: str) -> object:
        def resolve(host: str, port: object, family: int) -> list[tuple[object, ...]]:
            assert (host, family) == ("idealdiff.internal", socket.AF_INET6)
            return [(family, 1, 6, "", (a, 0, 0, 0)) for a in addresses]

        return resolve

    fly = {"FLY_APP_NAME": "idealdiff"}
    check_single_machine(settings, fly, machines("fdaa::2"))  # type: ignore[arg-type]
    check_single_machine(settings, {}, machines("fdaa::2", "fdaa::3"))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="fly scale count app=1 worker=0"):
        check_single_machine(settings, fly, machines("fdaa::2", "fdaa::3"))  # type: ignore[arg-type]
    shared = Settings.from_env(
        {"IDEALDIFF_DATA_DIR": str(tmp_path), "IDEALDIFF_DATABASE_URL": "postgresql://db/app"},
        env_file=None,
    )
    # On PostgreSQL the machines share the database: as many as the load needs.
    check_single_machine(shared, fly, machines("fdaa::2", "fdaa::3", "fdaa::4"))  # type: ignore[arg-type]


def test_a_worker_shutting_down_gives_its_job_back_at_once(tmp_path: Path, store: AppState) -> None:
    import threading

    settings = Settings.from_env({"IDEALDIFF_DATA_DIR": str(tmp_path)}, env_file=None)
    store.enqueue(
        NewJob("batch", {"installation_id": 1, "repo": "acme/demo"}, scope="acme/demo"), now=0
    )
    inside, leave = threading.Event(), threading.Event()

    def slow_github(installation: int, repo: str) -> object:
        inside.set()  # the job is running: a review that takes long
        leave.wait(10)
        raise GitHubError("gone", transient=True)

    worker = Worker(settings, store, slow_github, clock=time.time)  # type: ignore[arg-type]
    worker.start()
    assert inside.wait(10)
    [running] = store.jobs()
    assert (running.state, running.attempts) == ("running", 1)
    worker.stop(grace=0.2)  # SIGTERM: the job is still in hand after the grace
    [back] = store.jobs()
    assert (back.state, back.attempts) == ("queued", 0)  # given back, its try not counted
    taken = store.claim("another:1:z", now=time.time(), lease_seconds=30)
    assert taken is not None  # another worker takes it now, not after the lease
    leave.set()
    worker.stop(grace=10)  # the abandoned review ends before the store is closed


ROW_OF_VERSION_1 = (
    "INSERT INTO merged_prs (repo, number, installation_id, data, merged_at, received_at)"
    " VALUES ('acme/demo', 7, 42, '{\"number\": 7}', '2026-11-20T10:07:00Z', 1.0)"
)


def _previous_sqlite(tmp_path: Path) -> tuple[str, Callable[[], None]]:
    """A SQLite file as the releases before schema versions made it (version 1), with a row;
    its URL, and how to make it newer than this code."""
    import sqlite3

    from app.store.sqlite import APP_MIGRATIONS, SCHEMA

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:
        old.executescript(SCHEMA + APP_MIGRATIONS[0])
        old.execute(ROW_OF_VERSION_1)
        assert old.execute("PRAGMA user_version").fetchone()[0] == 0

    def newer() -> None:
        with sqlite3.connect(path) as db:
            db.execute(f"PRAGMA user_version = {len(APP_MIGRATIONS) + 1}")

    return f"sqlite:///{path}", newer


def _previous_postgres(url: str) -> tuple[str, Callable[[], None]]:
    """A PostgreSQL database at version 1, with a row; its URL (with a password, which trust
    authentication ignores and no output may show), and how to make it newer."""
    import psycopg

    from app.store.postgres import PG_MIGRATIONS, migrate

    with psycopg.connect(url) as conn:
        assert migrate(conn, upto=1) == (0, 1)
        conn.execute(ROW_OF_VERSION_1)

    def newer() -> None:
        with psycopg.connect(url) as conn:
            conn.execute("INSERT INTO idealdiff_schema VALUES (%s)", (len(PG_MIGRATIONS) + 1,))

    return url.replace("idealdiff@", "idealdiff:s3cret-pw@"), newer


def test_a_database_of_the_previous_schema_is_upgraded_and_keeps_its_rows(
    tmp_path: Path,
    backend_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.cli import main
    from app.store.open import open_state

    pg = backend_env.get("IDEALDIFF_DATABASE_URL")
    url, make_newer = _previous_postgres(pg) if pg else _previous_sqlite(tmp_path)
    monkeypatch.setenv("IDEALDIFF_DATABASE_URL", url)
    assert main(["migrate"]) == 0
    out = capsys.readouterr().out
    assert "upgraded from 1" in out
    assert "s3cret-pw" not in out
    settings = Settings.from_env(env_file=None)
    store = open_state(settings)
    try:
        assert store.schema[0] == store.schema[1] >= 2
        assert [m.number for m in store.merged("acme/demo")] == [7]  # nothing lost
        store.record_reconcile("acme/demo", "main", '"etag-1"', now=2)  # version 2's table
        assert store.reconcile_seen("acme/demo") == ("main", '"etag-1"')
    finally:
        store.close()
    assert main(["migrate"]) == 0
    assert "already current" in capsys.readouterr().out
    make_newer()
    with pytest.raises(ConfigError, match="newer than this idealdiff"):
        open_state(settings)
