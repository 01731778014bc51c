"""What the PostgreSQL backend owes a fleet: several processes on one database, each with its
own store (its own pool), racing for the same rows. Against the session's real server."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.errors import ConfigError
from app.store.postgres import PgStore
from app.store.records import DeliveryRecord, MergedPR, NewJob
from tests.pg_cluster import PgCluster


@pytest.fixture
def url(pg_cluster: PgCluster) -> str:
    """A fresh database of the session's server."""
    return pg_cluster.new_database()


@pytest.fixture
def two(url: str) -> Iterator[tuple[PgStore, PgStore]]:
    """Two stores on one database, as two machines of the App hold them."""
    first, second = PgStore(url), PgStore(url)
    yield first, second
    first.close()
    second.close()


def test_workers_on_two_machines_never_run_two_jobs_of_one_repository_at_once(
    two: tuple[PgStore, PgStore],
) -> None:
    repos = [f"acme/r{n}" for n in range(4)]
    for n in range(40):
        two[0].enqueue(NewJob("batch", {"n": n}, scope=repos[n % 4]), now=time.time())
    running: Counter[str] = Counter()
    most: Counter[str] = Counter()
    ran: list[int] = []
    guard = threading.Lock()

    def work(store: PgStore, name: str) -> None:
        idle_since = time.monotonic()
        while time.monotonic() - idle_since < 1.0:
            job = store.claim(name, time.time(), lease_seconds=30)
            if job is None:
                time.sleep(0.005)
                continue
            idle_since = time.monotonic()
            scope = repos[job.payload["n"] % 4]
            with guard:
                running[scope] += 1
                most[scope] = max(most[scope], running[scope])
                ran.append(job.payload["n"])
            time.sleep(0.01)  # the review
            with guard:
                running[scope] -= 1
            assert store.finish(job, time.time())

    threads = [
        threading.Thread(target=work, args=(two[n % 2], f"host{n % 2}:{n}:w")) for n in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(ran) == list(range(40))  # every job ran, once
    assert set(most.values()) == {1}  # and never two of one repository at once
    assert {row.state for row in two[1].jobs()} == {"done"}


def test_a_delivery_given_to_two_servers_at_once_is_recorded_once(
    two: tuple[PgStore, PgStore],
) -> None:
    merged = MergedPR("acme/demo", 7, 42, {"number": 7}, "2026-11-20T10:07:00Z", 1.0, None)
    job = NewJob("batch", {"repo": "acme/demo"}, key="batch:acme/demo", scope="acme/demo")
    results: list[object] = []
    start = threading.Barrier(8)

    def deliver(store: PgStore) -> None:
        record = DeliveryRecord("same-guid", "pull_request", "closed", 1.0, (job,), merged)
        start.wait()
        results.append(store.accept_deliveries([record])[0])

    threads = [threading.Thread(target=deliver, args=(two[n % 2],)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len([r for r in results if r is not None]) == 1  # one server recorded it
    assert [r for r in results if isinstance(r, Exception)] == []
    assert len(two[0].jobs()) == 1
    assert [m.number for m in two[1].merged("acme/demo")] == [7]
    assert two[0].counts()["deliveries"] == 1


def test_a_job_enqueued_on_another_machine_wakes_an_idle_worker(
    two: tuple[PgStore, PgStore],
) -> None:
    woken = threading.Event()
    two[0].subscribe(woken.set)
    time.sleep(0.3)  # the listener's connection is up
    woken.clear()
    two[1].enqueue(NewJob("command", {"n": 1}), now=time.time())
    assert woken.wait(5), "NOTIFY never reached the other store's listener"


def test_a_debounced_job_keeps_one_row_whoever_enqueues_it(two: tuple[PgStore, PgStore]) -> None:
    ids = {
        two[n % 2].enqueue(NewJob("batch", {"n": n}, key="batch:acme/demo"), now=float(n))
        for n in range(6)
    }
    assert len(ids) == 1
    (row,) = two[0].jobs()
    assert row.run_after == 5.0  # the newest request's time
    taken = two[0].claim("a:1:x", now=10, lease_seconds=30)
    assert taken is not None
    assert taken.payload == {"n": 5}  # and its payload
    two[1].enqueue(NewJob("batch", {"n": 9}, key="batch:acme/demo"), now=11)
    # The running one fails: its queued twin will do the work, so it is not queued twice.
    assert two[0].retry_later(taken, now=12, run_after=99, error="boom")
    assert sorted(r.state for r in two[0].jobs()) == ["done", "queued"]


def test_instances_starting_at_once_migrate_once(url: str) -> None:
    stores: list[PgStore] = []
    start = threading.Barrier(4)

    def open_one() -> None:
        start.wait()
        stores.append(PgStore(url))

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(s.schema[0] for s in stores) == [0, 2, 2, 2]
    for store in stores:
        store.close()


def test_an_unreachable_database_is_a_clear_error_without_the_password(tmp_path: Path) -> None:
    from tests.helpers import free_port

    url = f"postgresql://app:hunter2-secret@127.0.0.1:{free_port()}/idealdiff?connect_timeout=1"
    with pytest.raises(ConfigError) as caught:
        PgStore(url, connect_timeout=2)
    assert "cannot connect to PostgreSQL" in str(caught.value)
    assert "hunter2-secret" not in str(caught.value)


def test_group_commits_of_two_servers_over_the_same_rows_never_deadlock(
    two: tuple[PgStore, PgStore],
) -> None:
    import random

    repos = [f"acme/r{n}" for n in range(4)]

    def record(n: int) -> DeliveryRecord:
        repo = repos[n % 4]
        job = NewJob("batch", {"repo": repo}, key=f"batch:{repo}", scope=repo)
        return DeliveryRecord(f"d-{n}", "pull_request", "closed", float(n), (job,))

    failures: list[BaseException] = []
    accepted: Counter[str] = Counter()
    guard = threading.Lock()

    def server(store: PgStore, seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(15):
            # Each server gets every delivery too (a retry), in its own order, 16 at a time.
            group = [record(n) for n in rng.sample(range(64), 16)]
            try:
                results = store.accept_deliveries(group)
            except BaseException as exc:  # a deadlock would fail the whole group
                failures.append(exc)
                continue
            with guard:
                accepted.update(r.delivery_id for r, out in zip(group, results, strict=True) if out)

    threads = [threading.Thread(target=server, args=(two[n % 2], n)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert set(accepted.values()) == {1}  # a delivery's effects were written once
    assert len(two[0].jobs()) == 4  # one waiting batch per repository


def test_caches_stay_on_each_machine_unless_shared(url: str, tmp_path: Path) -> None:
    from app.settings import Settings
    from app.store.open import open_state

    def machine(name: str, **env: str) -> Settings:
        return Settings.from_env(
            {"IDEALDIFF_DATABASE_URL": url, "IDEALDIFF_DATA_DIR": str(tmp_path / name), **env},
            env_file=None,
        )

    first, second = open_state(machine("a")), open_state(machine("b"))
    first.put_value("answer:1", b"kept here")
    assert second.get_value("answer:1") is None  # another machine's cache
    assert (tmp_path / "a" / "cache.sqlite3").exists()
    first.close()
    second.close()
    shared = [open_state(machine(n, IDEALDIFF_SHARED_CACHE="true")) for n in ("a", "b")]
    shared[0].put_value("answer:2", b"for the fleet")
    assert shared[1].get_value("answer:2") == b"for the fleet"
    for store in shared:
        store.close()


def test_the_database_password_is_a_secret_of_the_settings(url: str) -> None:
    from app.settings import Settings

    settings = Settings.from_env(
        {"IDEALDIFF_DATABASE_URL": url.replace("idealdiff@", "idealdiff:pw-7f3a9c@")},
        env_file=None,
    )
    assert "pw-7f3a9c" in settings.secrets()  # scrubbed from every log line
    assert "pw-7f3a9c" not in repr(settings)


def test_while_the_database_is_down_a_delivery_gets_503_and_nothing_is_lost(
    tmp_path: Path,
) -> None:
    import json

    from fastapi.testclient import TestClient

    from app.service.http import create_app
    from app.settings import Settings
    from tests.webhook_payloads import SECRET, headers

    cluster = PgCluster(durable=True)  # a server of its own, to stop (commits kept on a crash)
    cluster.start()
    try:
        url = cluster.url()
        settings = Settings.from_env(
            {"GITHUB_WEBHOOK_SECRET": SECRET, "IDEALDIFF_DATABASE_URL": url}, env_file=None
        )
        store = PgStore(url)
        woken = threading.Event()
        store.subscribe(woken.set)  # its LISTEN connection must come back with the server
        body = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
        with TestClient(create_app(settings, store)) as client:
            cluster.halt()
            started = time.monotonic()
            down = client.post("/webhook", content=body, headers=headers("ping", "p-1", body))
            assert down.status_code == 503
            assert down.headers["Retry-After"] == "5"
            assert time.monotonic() - started < 9  # within GitHub's 10 s
            assert client.get("/healthz").status_code == 503
            cluster.resume()
            # The pool reconnects on its own back-off, which may still be waiting when the
            # server is back: a redelivery gets 503 until then, never a 500, and is recorded.
            deadline = time.monotonic() + 30
            while True:
                again = client.post("/webhook", content=body, headers=headers("ping", "p-1", body))
                if again.status_code != 503 or time.monotonic() > deadline:
                    break
                time.sleep(1)
            assert again.status_code == 200  # the redelivery is recorded now
        assert store.delivery_seen("p-1")
        other = PgStore(url)  # another machine enqueues: the listener, reconnected, hears it
        deadline = time.monotonic() + 15
        while True:
            woken.clear()
            other.enqueue(NewJob("command", {}), now=time.time())
            if woken.wait(1):
                break
            assert time.monotonic() < deadline, "the listener never came back"
        other.close()
        store.close()
    finally:
        cluster.stop()
