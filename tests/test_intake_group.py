"""The fast intake path: group commits, bytes-to-model parsing, WAL checkpoints off the 2xx path."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import httpx
import pytest

from app.github.events import IssueCommentEvent, PullRequestEvent
from app.service.http import Checkpointer, create_app, parse_fast
from app.settings import Settings
from app.store import AppState
from app.store.records import DeliveryRecord, NewJob
from app.store.sqlite import AppStore
from tests.webhook_payloads import headers, merged_pr, pr_comment


def _merged(number: int) -> dict[str, object]:
    return merged_pr(
        "acme/demo",
        number,
        title=f"Feature {number}",
        author="agent",
        merge_sha=f"{number:040x}",
        merged_at="2026-11-20T10:00:00Z",
    )


def test_one_failing_delivery_leaves_the_others_of_its_group_commit_in(store: AppState) -> None:
    good = NewJob("command", {"n": 1})
    bad = NewJob("command", {"n": object()})  # not JSON: its savepoint is rolled back
    results = store.accept_deliveries(
        [
            DeliveryRecord("d-1", "issue_comment", "created", 1.0, (good,)),
            DeliveryRecord("d-2", "issue_comment", "created", 1.0, (bad,)),
            DeliveryRecord("d-3", "issue_comment", "created", 1.0, (good,)),
            DeliveryRecord("d-1", "issue_comment", "created", 1.0, (good,)),  # a redelivery
        ]
    )
    assert isinstance(results[0], list)
    assert len(results[0]) == 1
    assert isinstance(results[1], TypeError)
    assert isinstance(results[2], list)
    assert len(results[2]) == 1
    assert results[3] is None  # the same id later in the same group is a duplicate
    assert [store.delivery_seen(d) for d in ("d-1", "d-2", "d-3")] == [True, False, True]
    assert len(store.jobs()) == 2


@pytest.mark.parametrize(
    ("event", "payload", "model"),
    [
        ("pull_request", _merged(7), PullRequestEvent),
        ("issue_comment", pr_comment("acme/demo", 7, "/idealize --last 2"), IssueCommentEvent),
    ],
)
def test_parse_fast_reads_what_the_general_path_reads(
    event: str, payload: dict[str, object], model: type[PullRequestEvent | IssueCommentEvent]
) -> None:
    body = json.dumps(payload).encode()
    assert parse_fast(event, body) == model.model_validate(json.loads(body))
    assert parse_fast(event, b'{"action": "closed"}') is None  # the general path words the error
    assert parse_fast("push", body) is None


def test_concurrent_deliveries_are_all_recorded_and_a_bad_one_is_refused_alone(
    settings: Settings, store: AppState
) -> None:
    app = create_app(settings, store)
    bodies = [(f"d-{n}", json.dumps(_merged(n)).encode()) for n in range(1, 41)]
    broken = b'{"action": "closed", "pull_request": 3}'

    async def send() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            posts = [
                client.post("/webhook", content=b, headers=headers("pull_request", d, b))
                for d, b in bodies
            ]
            posts.append(
                client.post(
                    "/webhook", content=broken, headers=headers("pull_request", "d-bad", broken)
                )
            )
            return await asyncio.gather(*posts)

    responses = asyncio.run(send())
    assert [r.status_code for r in responses[:-1]] == [202] * 40
    assert responses[-1].status_code == 400
    assert all(store.delivery_seen(d) for d, _ in bodies)
    assert not store.delivery_seen("d-bad")
    assert len(store.merged("acme/demo")) == 40
    assert [j.kind for j in store.jobs()] == ["batch"]  # debounced into one review


def test_the_checkpointer_copies_the_whole_wal_into_the_database(tmp_path: Path) -> None:
    path = tmp_path / "wal.sqlite3"  # SQLite's own upkeep: PostgreSQL checkpoints by itself
    store = AppStore(path)
    checkpointer = Checkpointer(store, every=0.01)
    checkpointer.start()
    for n in range(200):
        store.accept_deliveries([DeliveryRecord(f"c-{n}", "ping", None, 1.0)])
    checkpointer.stop()
    # The database file alone (without its WAL) holds every delivery: the checkpoints ran.
    alone = tmp_path / "copy.sqlite3"
    alone.write_bytes(path.read_bytes())
    store.close()
    with sqlite3.connect(alone) as db:
        assert db.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0] == 200
