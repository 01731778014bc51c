"""Webhook intake: signatures first, durable recording before the 2xx, redeliveries ignored."""

from __future__ import annotations

import io
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from app import logs
from app.errors import ConfigError
from app.service.http import MAX_BODY, create_app, verify_signature
from app.settings import Settings
from app.store import AppState
from app.store.sqlite import AppStore
from tests.webhook_payloads import SECRET, example, headers, merged_pr, pr_comment, sign, validate

SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"


@pytest.fixture
def client(settings: Settings, store: AppState) -> Iterator[TestClient]:
    """The real FastAPI app, driven in process (no worker: only intake is under test)."""
    with TestClient(create_app(settings, store)) as test_client:
        yield test_client


def post(client: TestClient, event: str, payload: object, delivery: str = "d-1") -> object:
    """Sign and POST a delivery the way GitHub does."""
    body = json.dumps(payload).encode()
    return client.post("/webhook", content=body, headers=headers(event, delivery, body))


def merged(number: int = 7, base: str = "main") -> dict[str, object]:
    """A merged pull request delivery for acme/demo."""
    return merged_pr(
        "acme/demo",
        number,
        title=f"Feature {number}",
        author="agent-a",
        merge_sha=SHA,
        merged_at=f"2026-11-20T10:{number:02d}:00Z",
        base=base,
    )


def test_signature_is_sha256_hmac_of_the_raw_body() -> None:
    body = b'{"zen": "Design for failure."}'
    assert verify_signature(SECRET, body, sign(body))
    assert not verify_signature(SECRET, body + b" ", sign(body))
    assert not verify_signature(SECRET, body, sign(body, "another-secret"))
    assert not verify_signature(SECRET, body, sign(body).replace("sha256=", "sha1="))
    assert not verify_signature(SECRET, body, None)


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda h, b: h.pop("X-Hub-Signature-256"), id="missing"),
        pytest.param(lambda h, b: h.update({"X-Hub-Signature-256": sign(b, "wrong")}), id="wrong"),
        pytest.param(
            lambda h, b: h.update({"X-Hub-Signature-256": sign(b + b"x")}), id="other-body"
        ),
        pytest.param(
            lambda h, b: (
                h.pop("X-Hub-Signature-256"),
                h.update({"X-Hub-Signature": "sha1=" + "0" * 40}),
            ),
            id="sha1-only",
        ),
    ],
)
def test_bad_signatures_get_401_and_nothing_is_recorded(
    client: TestClient, store: AppState, mutate: object
) -> None:
    body = json.dumps(merged()).encode()
    hdrs = headers("pull_request", "d-bad", body)
    mutate(hdrs, body)  # type: ignore[operator]
    response = client.post("/webhook", content=body, headers=hdrs)
    assert response.status_code == 401
    assert SECRET not in response.text
    assert store.counts()["deliveries"] == 0
    assert store.jobs() == []


def test_sha1_signature_is_refused_by_name(client: TestClient) -> None:
    body = json.dumps(merged()).encode()
    hdrs = headers("pull_request", "d-sha1", body)
    del hdrs["X-Hub-Signature-256"]
    hdrs["X-Hub-Signature"] = "sha1=" + "0" * 40
    response = client.post("/webhook", content=body, headers=hdrs)
    assert response.status_code == 401
    assert "SHA-1" in response.json()["error"]


@pytest.mark.parametrize(
    ("event", "body"),
    [
        pytest.param("pull_request", b"{not json", id="not-json"),
        pytest.param("pull_request", b"[1, 2]", id="not-an-object"),
        pytest.param("pull_request", b'{"action": "closed"}', id="no-pull-request"),
        pytest.param(
            "issue_comment",
            json.dumps(
                {**pr_comment("acme/demo", 3, "/idealize"), "comment": {"id": "x"}}
            ).encode(),
            id="mistyped-comment",
        ),
        pytest.param("pull_request", "\u00e9".encode("latin-1"), id="not-utf8"),
    ],
)
def test_malformed_payloads_get_400_and_nothing_is_enqueued(
    client: TestClient, store: AppState, event: str, body: bytes
) -> None:
    response = client.post("/webhook", content=body, headers=headers(event, "d-bad", body))
    assert response.status_code == 400
    assert store.jobs() == []
    assert store.counts()["deliveries"] == 0


def test_bodies_above_25_mb_get_413(client: TestClient, store: AppState) -> None:
    body = b" " * (MAX_BODY + 1)
    response = client.post("/webhook", content=body, headers=headers("push", "d-big", body))
    assert response.status_code == 413
    assert store.counts()["deliveries"] == 0


def test_a_merge_is_recorded_and_enqueued_before_the_answer(
    client: TestClient, store: AppState
) -> None:
    started = time.perf_counter()
    response = post(client, "pull_request", merged(7))
    elapsed = time.perf_counter() - started
    assert response.status_code == 202  # type: ignore[attr-defined]
    assert elapsed < 1.0  # GitHub gives up after 10 s; intake does no network at all
    [job] = store.jobs()
    assert (job.kind, job.key, job.state, job.delivery_id) == (
        "batch",
        "batch:acme/demo",
        "queued",
        "d-1",
    )
    [entry] = store.waiting_merges("acme/demo")
    assert (entry.number, entry.data["title"], entry.data["author"]) == (7, "Feature 7", "agent-a")
    assert entry.data["merge_sha"] == SHA


def test_a_redelivery_is_acknowledged_but_not_processed_twice(
    client: TestClient, store: AppState
) -> None:
    first = post(client, "pull_request", merged(7), delivery="same-id")
    again = post(client, "pull_request", merged(7), delivery="same-id")
    assert first.status_code == 202  # type: ignore[attr-defined]
    assert again.status_code == 200  # type: ignore[attr-defined]
    assert again.json()["status"] == "duplicate"  # type: ignore[attr-defined]
    assert len(store.jobs()) == 1
    assert store.counts()["deliveries"] == 1


def test_merges_in_a_row_share_one_waiting_batch_job(client: TestClient, store: AppState) -> None:
    for number in (1, 2, 3):
        post(client, "pull_request", merged(number), delivery=f"d-{number}")
    assert [j.kind for j in store.jobs()] == ["batch"]
    assert [m.number for m in store.waiting_merges("acme/demo")] == [1, 2, 3]


def test_merges_elsewhere_and_closes_without_merge_are_ignored(
    client: TestClient, store: AppState
) -> None:
    response = post(client, "pull_request", merged(4, base="release"), delivery="d-rel")
    assert response.json()["status"] == "ignored"  # type: ignore[attr-defined]
    closed = validate(example("pull_request.closed"), "pull_request$closed")
    assert closed["pull_request"]["merged"] is False
    assert post(client, "pull_request", closed, delivery="d-cl").status_code == 200  # type: ignore[attr-defined]
    assert store.jobs() == []
    assert store.waiting_merges("acme/demo") == []


def test_an_idealize_comment_enqueues_a_command_job(client: TestClient, store: AppState) -> None:
    payload = pr_comment("acme/demo", 12, "Thanks!\n/idealize --last 3", user="maintainer")
    assert post(client, "issue_comment", payload).status_code == 202  # type: ignore[attr-defined]
    [job] = store.jobs()
    assert job.kind == "command"


@pytest.mark.parametrize(
    ("body", "user_type", "user"),
    [
        pytest.param("/idealize", "Bot", "idealdiff[bot]", id="this-app"),
        pytest.param("/idealize", "Bot", "dependabot[bot]", id="another-bot"),
        pytest.param("looks good to me", "User", "maintainer", id="no-command"),
        pytest.param("> /idealize\nquoted", "User", "maintainer", id="quoted"),
        pytest.param("```\n/idealize\n```", "User", "maintainer", id="in-code"),
    ],
)
def test_comments_that_are_not_commands_enqueue_nothing(
    client: TestClient, store: AppState, body: str, user_type: str, user: str
) -> None:
    payload = pr_comment("acme/demo", 12, body, user=user, user_type=user_type)
    response = post(client, "issue_comment", payload)
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert store.jobs() == []


def test_ping_is_answered_and_unknown_events_acknowledged(
    client: TestClient, store: AppState
) -> None:
    ping = validate(example("ping", 1), "ping$event")
    response = post(client, "ping", ping, delivery="d-ping")
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert response.json() == {"msg": "pong"}  # type: ignore[attr-defined]
    star = {"action": "created", "starred_at": "2026-11-20T10:00:00Z"}
    response = post(client, "star", star, delivery="d-star")
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert response.json()["status"] == "ignored"  # type: ignore[attr-defined]
    assert store.jobs() == []


def test_installations_are_recorded(client: TestClient, store: AppState) -> None:
    created = validate(example("installation.created"), "installation$created")
    post(client, "installation", created, delivery="d-inst")
    ident = created["installation"]["id"]
    found = store.installation(ident)
    assert found is not None
    account, repos, active = found.account, found.repos, found.active
    assert account == created["installation"]["account"]["login"]
    assert repos == sorted(r["full_name"] for r in created["repositories"])
    assert active
    added = validate(
        example("installation_repositories.added", 1), "installation_repositories$added"
    )
    added["installation"]["id"] = ident
    post(client, "installation_repositories", added, delivery="d-added")
    known = store.installation(ident)
    after = (known.repos or []) if known else []
    assert set(after) == set(repos) | {r["full_name"] for r in added["repositories_added"]}


def test_healthz_and_metrics(client: TestClient) -> None:
    post(client, "pull_request", merged(7))
    assert client.get("/healthz").json()["status"] == "ok"
    text = client.get("/metrics").text
    assert 'idealdiff_webhook_requests_total{event="pull_request",outcome="accepted"} 1' in text
    assert 'idealdiff_jobs{state="queued"} 1' in text
    assert "idealdiff_merged_prs_waiting 1" in text


def test_the_server_refuses_to_start_without_a_webhook_secret(tmp_path: Path) -> None:
    settings = Settings.from_env({"IDEALDIFF_DATA_DIR": str(tmp_path)}, env_file=None)
    store = AppStore(":memory:")
    with pytest.raises(ConfigError, match="GITHUB_WEBHOOK_SECRET"):
        create_app(settings, store)


def test_log_lines_are_json_with_the_delivery_id_and_no_secret(
    client: TestClient,
) -> None:
    stream = io.StringIO()
    logs.configure(stream, logging.INFO)
    try:
        post(client, "pull_request", merged(7), delivery="d-logged")
        logging.getLogger("idealdiff.test").info(
            "token ghs_abcdefghijklmnopqrstuvwxyz0123 and %s", SECRET
        )
    finally:
        for name in ("idealdiff", "uvicorn", "uvicorn.error", "uvicorn.access"):
            logging.getLogger(name).handlers.clear()
            logging.getLogger(name).propagate = True
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert any(line.get("delivery_id") == "d-logged" for line in lines)
    assert SECRET not in stream.getvalue()
    assert "ghs_abcdefghijklmnopqrstuvwxyz0123" not in stream.getvalue()


@pytest.mark.parametrize(
    "secret", ['pa"ss\\wörd-123', "tab\tand\nnewline-secret", "ünïcødé-sëcret"]
)
def test_a_secret_is_redacted_whatever_characters_it_holds(secret: str) -> None:
    stream = io.StringIO()
    logs.add_secrets([secret])
    logs.configure(stream, logging.INFO)
    try:
        logging.getLogger("idealdiff.test").info(
            "failed with %s", secret, extra={"detail": {"key": secret}, "items": [secret]}
        )
    finally:
        for name in ("idealdiff", "uvicorn", "uvicorn.error", "uvicorn.access"):
            logging.getLogger(name).handlers.clear()
            logging.getLogger(name).propagate = True
    written = stream.getvalue()
    assert secret not in written
    assert json.dumps(secret)[1:-1] not in written  # nor its JSON-escaped spelling
    line = json.loads(written)
    assert line["msg"] == "failed with [redacted]"
    assert line["detail"] == {"key": "[redacted]"}


def _recorded_examples() -> list[Any]:
    from tests.webhook_payloads import recorded_examples

    cases = []
    definitions = {
        "pull_request.closed": "pull_request$closed",
        "pull_request.opened": "pull_request$opened",
        "issue_comment.created": "issue_comment$created",
        "installation.created": "installation$created",
        "installation_repositories.added": "installation_repositories$added",
    }
    for name, examples in recorded_examples().items():
        for i in range(len(examples)):
            cases.append(pytest.param(name, definitions.get(name), i, id=f"{name}-{i}"))
    return cases


@pytest.mark.parametrize(("name", "definition", "index"), _recorded_examples())
def test_every_recorded_example_is_accepted_or_ignored_never_refused(
    client: TestClient, store: AppState, name: str, definition: str | None, index: int
) -> None:
    import jsonschema

    payload = example(name, index)
    if definition is not None:
        try:
            validate(payload, definition)
        except jsonschema.ValidationError:
            pass  # GitHub's own examples drift from its schema; the App must take them anyway
    response = post(client, name.split(".")[0], payload, delivery=f"ex-{name}-{index}")
    assert response.status_code in (200, 202), response.text  # type: ignore[attr-defined]
    assert store.delivery_seen(f"ex-{name}-{index}")


def test_metrics_labels_stay_bounded_whatever_unsigned_requests_claim(client: TestClient) -> None:
    for i in range(20):
        client.post("/webhook", content=b"{}", headers={"X-GitHub-Event": f"made-up-{i}"})
    text = client.get("/metrics").text
    assert "made-up" not in text
    assert 'idealdiff_webhook_requests_total{event="other",outcome="unsigned"} 20' in text


class _Body:
    """A request body that says whether the server read any of it."""

    def __init__(self, size: int, gate: threading.Event | None = None) -> None:
        self.size = size
        self.gate = gate
        self.consumed = threading.Event()

    def __iter__(self) -> Iterator[bytes]:
        self.consumed.set()
        yield b" " * 1024
        if self.gate is not None:
            self.gate.wait(10)
        yield b" " * (self.size - 1024)


@pytest.mark.parametrize(
    ("drop", "status"),
    [("x-hub-signature-256", 401), ("x-github-event", 400), ("x-github-delivery", 400)],
)
def test_a_request_refusable_by_its_headers_is_refused_before_its_body_is_read(
    client: TestClient, drop: str, status: int
) -> None:
    body = _Body(24 * 1024 * 1024)
    sent = {k: v for k, v in headers("push", "d-flood", b"{}").items() if k.lower() != drop}
    response = client.post("/webhook", content=body, headers=sent)
    assert response.status_code == status
    assert not body.consumed.is_set()


def test_a_declared_length_over_the_cap_is_refused_before_reading(client: TestClient) -> None:
    body = _Body(1024 * 1024)
    sent = {**headers("push", "d-huge", b"{}"), "content-length": str(MAX_BODY + 1)}
    response = client.post("/webhook", content=body, headers=sent)
    assert response.status_code == 413
    assert not body.consumed.is_set()


def _raw_request(port: int, sent: dict[str, str], length: int, first: bytes) -> socket.socket:
    """Open a connection, send the request line, headers and the first bytes of the body."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    lines = ["POST /webhook HTTP/1.1", "Host: localhost", f"Content-Length: {length}"]
    lines += [f"{k}: {v}" for k, v in sent.items() if k.lower() != "content-length"]
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + first)
    return conn


def test_bodies_in_flight_share_a_byte_budget_and_past_it_get_503(store: AppState) -> None:
    settings = Settings.from_env(
        {"GITHUB_WEBHOOK_SECRET": SECRET, "IDEALDIFF_INTAKE_BUDGET_MB": "40"}, env_file=None
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings, store), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    size = 20 * 1024 * 1024
    try:
        # A slow sender holds 20 MB of the 40 MB budget while its body trickles in.
        slow = _raw_request(port, headers("push", "d-slow", b"{}"), size, b" " * 1024)
        time.sleep(0.3)
        busy = _raw_request(port, headers("push", "d-next", b"{}"), size + 1, b"")
        answer = busy.recv(4096).decode()
        assert answer.startswith("HTTP/1.1 503")
        assert "retry-after: 1" in answer.lower()
        busy.close()
        slow.close()  # gone half-way: its reservation is given back
        time.sleep(0.3)
        body = json.dumps(merged()).encode()
        after = _raw_request(port, headers("pull_request", "d-ok", body), len(body), body)
        assert after.recv(4096).decode().startswith("HTTP/1.1 202")
        after.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_pathologically_nested_json_is_a_400(client: TestClient) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    response = client.post("/webhook", content=body, headers=headers("push", "d-deep", body))
    assert response.status_code == 400
    assert "deep" in response.json()["error"]


def test_metrics_can_want_a_bearer_token(tmp_path: Path, store: AppState) -> None:
    settings = Settings.from_env(
        {"GITHUB_WEBHOOK_SECRET": SECRET, "IDEALDIFF_METRICS_TOKEN": "m-token-123"}, env_file=None
    )
    with TestClient(create_app(settings, store)) as client:
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        good = client.get("/metrics", headers={"Authorization": "Bearer m-token-123"})
        assert good.status_code == 200
        assert "idealdiff_jobs" in good.text
        assert client.get("/healthz").status_code == 200  # probes stay open
