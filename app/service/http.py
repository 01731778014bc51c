"""The webhook server: verify, record, enqueue, answer in milliseconds (``idealdiff serve``).

``POST /webhook`` checks ``X-Hub-Signature-256`` over the raw body before anything else, then
records the delivery and its jobs in one SQLite transaction before answering (one transaction for
the deliveries in flight together: a group commit). The work itself happens in the worker.
``GET /healthz`` and ``GET /metrics`` (Prometheus text format) serve operators.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import hmac
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from app import logs
from app.errors import ConfigError, StoreUnavailable, validation_problems
from app.github.events import (
    InstallationEvent,
    InstallationRepositoriesEvent,
    IssueCommentEvent,
    PullRequestEvent,
)
from app.service.commands import find_command
from app.service.fleet import check_single_machine
from app.service.jobs import BatchJob, CommandJob, merged_entry
from app.service.metrics import Metrics
from app.settings import Settings
from app.store import AppState
from app.store.open import open_state
from app.store.records import DeliveryRecord, InstallationRecord, MergedPR, NewJob

MAX_BODY = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
METRIC_EVENTS = frozenset(
    {"pull_request", "issue_comment", "installation", "installation_repositories", "ping"}
)
Clock = Callable[[], float]

log = logging.getLogger("idealdiff.server")


class BadPayload(ValueError):
    """A signed delivery whose JSON does not have the shape its event promises."""


@dataclass(frozen=True)
class IntakeOutcome:
    """What intake did with one delivery."""

    status: str  # "accepted", "duplicate", "ignored"
    jobs: tuple[int, ...] = ()
    reason: str = ""


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """True when ``header`` is ``sha256=<hex HMAC of body>`` (compared in constant time)."""
    if not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode())


@dataclass(frozen=True)
class Intake:
    """What recording one verified delivery writes, and why it enqueues nothing (if it does not)."""

    record: DeliveryRecord
    reason: str = ""

    def outcome(self, ids: list[int] | None) -> IntakeOutcome:
        """The outcome once the store has answered (None: the delivery was already recorded)."""
        if ids is None:
            return IntakeOutcome("duplicate", reason="delivery already received")
        return IntakeOutcome("accepted" if ids else "ignored", tuple(ids), self.reason)


Parsed = PullRequestEvent | IssueCommentEvent


def parse_fast(event: str, body: bytes) -> Parsed | None:
    """The model of a ``pull_request`` or ``issue_comment`` body, parsed by pydantic from bytes.

    Three times faster than ``json.loads`` and then the model (a 25 kB payload becomes no Python
    dict). None for any other event and for any body it refuses: the general path then parses
    it again and words the error.
    """
    try:
        if event == "pull_request":
            return PullRequestEvent.model_validate_json(body)
        if event == "issue_comment":
            return IssueCommentEvent.model_validate_json(body)
    except ValidationError:
        pass
    return None


def plan(
    store: AppState,
    event: str,
    delivery: str,
    payload: Mapping[str, Any] | Parsed,
    now: float,
) -> Intake:
    """Decide what a verified delivery records; writes nothing.

    ``payload`` is the JSON object, or its model from ``parse_fast``. Reads the store for
    ``installation_repositories`` only (the repositories it already knows).
    Raises ``BadPayload`` when the payload does not parse as its event.
    """
    if isinstance(payload, Mapping):
        action = payload.get("action") if isinstance(payload.get("action"), str) else None
    else:
        action = payload.action
    try:
        return _plan(store, event, action, delivery, payload, now)
    except ValidationError as exc:
        where = validation_problems(exc, limit=5)
        raise BadPayload(f"{event} payload is missing or mistypes: {where}") from None


def _plan(
    store: AppState,
    event: str,
    action: str | None,
    delivery: str,
    payload: Mapping[str, Any] | Parsed,
    now: float,
) -> Intake:
    def accept(
        reason: str = "",
        jobs: tuple[NewJob, ...] = (),
        merged: MergedPR | None = None,
        installation: InstallationRecord | None = None,
    ) -> Intake:
        record = DeliveryRecord(delivery, event, action, now, jobs, merged, installation)
        return Intake(record, reason)

    if event == "pull_request":
        pr_event = (
            payload
            if isinstance(payload, PullRequestEvent)
            else PullRequestEvent.model_validate(payload)
        )
        pr = pr_event.pull_request
        repo = pr_event.repository
        if pr_event.installation is None:
            return accept("not delivered through an installation of the App")
        if action != "closed" or not pr.merged:
            return accept("not a merge")
        if pr.base.ref != repo.default_branch:
            return accept(f"merged into {pr.base.ref}, not the default branch")
        if pr.merge_commit_sha is None:
            return accept("merged, but GitHub named no merge commit")
        merged = merged_entry(repo.full_name, pr_event.installation.id, pr, now)
        job = BatchJob(installation_id=pr_event.installation.id, repo=repo.full_name)
        return accept(merged=merged, jobs=(job.new_job(),))
    if event == "issue_comment":
        ic = (
            payload
            if isinstance(payload, IssueCommentEvent)
            else IssueCommentEvent.model_validate(payload)
        )
        line = find_command(ic.comment.body)
        if action != "created" or line is None or ic.installation is None:
            return accept("no command")
        if ic.comment.user.is_bot or ic.sender.is_bot:
            return accept("comment by a bot")
        if ic.issue.pull_request is None:
            return accept("command on an issue, not a pull request")
        command = CommandJob(
            installation_id=ic.installation.id,
            repo=ic.repository.full_name,
            default_branch=ic.repository.default_branch,
            number=ic.issue.number,
            comment_id=ic.comment.id,
            user=ic.comment.user.login,
            line=line,
        )
        return accept(jobs=(command.new_job(),))
    if event == "installation":
        inst = InstallationEvent.model_validate(payload)
        repos = None if inst.repositories is None else [r.full_name for r in inst.repositories]
        active = action not in ("deleted", "suspend")
        record = InstallationRecord(
            inst.installation.id, inst.installation.account.login, repos, active
        )
        return accept(installation=record)
    if event == "installation_repositories":
        ir = InstallationRepositoriesEvent.model_validate(payload)
        known = store.installation(ir.installation.id)
        current = set(known.repos or ()) if known else set()
        current |= {r.full_name for r in ir.repositories_added}
        current -= {r.full_name for r in ir.repositories_removed}
        account = ir.installation.account.login
        record = InstallationRecord(ir.installation.id, account, sorted(current), True)
        return accept(installation=record)
    return accept(f"{event} is not handled")


class Background(Protocol):
    """Something the server runs beside itself for its lifetime (the worker thread)."""

    def start(self) -> None:
        """Start in the background."""
        ...

    def stop(self) -> None:
        """Stop and wait."""
        ...


class GroupCommit:
    """Writes deliveries many per transaction; each 2xx still waits for the commit holding it.

    One write runs at a time, in a thread (SQLite blocks); deliveries that arrive meanwhile wait
    and go together in the next transaction. Under load the requests in flight share one commit,
    one WAL append and one thread hop instead of queueing for the store's lock one by one; a lone
    delivery is written at once, as before.
    """

    def __init__(self, store: AppState, max_batch: int = 256) -> None:
        self.store = store
        self.max_batch = max_batch
        self._waiting: list[tuple[DeliveryRecord, asyncio.Future[list[int] | None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def accept(self, record: DeliveryRecord) -> list[int] | None:
        """``AppStore.accept_delivery`` for one delivery, in a transaction shared with others."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[int] | None] = loop.create_future()
        self._waiting.append((record, future))
        writer = self._writer
        # A TestClient without a ``with`` block runs each request on a loop of its own.
        if writer is None or writer.done() or writer.get_loop() is not loop:
            self._writer = loop.create_task(self._write())
        return await future

    async def _write(self) -> None:
        while self._waiting:
            batch = self._waiting[: self.max_batch]
            del self._waiting[: self.max_batch]
            results: list[list[int] | Exception | None]
            try:
                results = await run_in_threadpool(
                    self.store.accept_deliveries, [record for record, _ in batch]
                )
            except Exception as exc:  # nothing was committed: each request of the batch fails
                results = [exc] * len(batch)
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():  # its request was cancelled
                    continue
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)


class Checkpointer:
    """Copies SQLite's WAL into the database file every second, in a thread of its own.

    Left to SQLite, that copy and its fsync run inside the commit that fills the WAL, and every
    delivery in flight waits for it (10-80 ms on the bench machine's disk, see bench/intake). A
    delivery is as durable either way (its commit is in the WAL before the 2xx); this only moves
    the fsync off the webhook path.
    """

    def __init__(self, store: AppState, every: float = 1.0) -> None:
        self.store = store
        self.every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Take the checkpoints over from the store's commits."""
        self.store.defer_checkpoints()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """A last checkpoint, then hand them back to the commits."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.store.defer_checkpoints(False)

    def _run(self) -> None:
        while True:
            try:
                self.store.checkpoint()
            except sqlite3.Error as exc:  # the WAL keeps everything: retry at the next tick
                log.warning("WAL checkpoint failed", extra={"error": str(exc)})
            if self._stop.wait(self.every):
                self.store.checkpoint()
                return


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class BodyBudget:
    """The bytes of request bodies the server holds at once, across every request in flight.

    One event loop serves the webhook, so a plain counter is enough: ``take`` and ``give`` run
    between awaits, never inside one.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0

    def take(self, size: int) -> bool:
        """Reserve ``size`` bytes; False (nothing reserved) when that would pass the limit."""
        if self.held + size > self.limit:
            return False
        self.held += size
        return True

    def give(self, size: int) -> None:
        """Return what ``take`` reserved."""
        self.held -= size


async def _read_body(request: Request) -> bytes | None:
    """The raw body, or None when it grows past MAX_BODY (a lying or absent Content-Length)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(
    settings: Settings,
    store: AppState,
    *,
    clock: Clock = time.time,
    metrics: Metrics | None = None,
    worker: Background | None = None,
) -> FastAPI:
    """The ASGI app. Refuses (``ConfigError``) to be built without a webhook secret.

    ``worker``, when given, is started with the app and stopped with it (``start()``/``stop()``).
    """
    secret = settings.require_webhook_secret()
    logs.add_secrets(settings.secrets())
    stats = metrics or Metrics()
    commits = GroupCommit(store)
    budget = BodyBudget(settings.intake_budget_mb * 1024 * 1024)
    # The App's credentials do not change while it runs: checked once, reported by /readyz.
    app_credentials: str | None = None
    if settings.run_worker:
        try:
            settings.require_app()
            app_credentials = "ok"
        except ConfigError as exc:
            app_credentials = str(exc)
    metrics_token = settings.metrics_token.get_secret_value() if settings.metrics_token else None

    checkpointer = Checkpointer(store)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        checkpointer.start()
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                await run_in_threadpool(worker.stop)
            await run_in_threadpool(checkpointer.stop)

    app = FastAPI(
        title="idealdiff", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.state.metrics = stats
    app.state.store = store

    @app.post("/webhook")
    async def webhook(request: Request) -> Response:
        started = time.perf_counter()
        event = request.headers.get("x-github-event", "")
        delivery = request.headers.get("x-github-delivery", "")
        with logs.context(delivery=delivery or None):
            response, outcome = await _handle(request, event, delivery)
            elapsed = time.perf_counter() - started
            # Headers of unsigned requests are anyone's: a fixed label set keeps /metrics bounded.
            stats.delivery(event if event in METRIC_EVENTS else "other", outcome, elapsed)
            log.info(
                "webhook %s",
                outcome,
                extra={
                    "event": event,
                    "status": response.status_code,
                    "ms": round(elapsed * 1000, 2),
                },
            )
            return response

    async def _handle(request: Request, event: str, delivery: str) -> tuple[Response, str]:
        # Everything that can be refused from the headers is refused before a byte of the body
        # is read: an unsigned flood costs no memory.
        signature = request.headers.get("x-hub-signature-256")
        if signature is None:
            if request.headers.get("x-hub-signature"):
                return _error(
                    401, "SHA-1 signatures (X-Hub-Signature) are refused; send X-Hub-Signature-256"
                ), "unsigned"
            return _error(401, "missing X-Hub-Signature-256"), "unsigned"
        if not event or not delivery:
            return _error(400, "missing X-GitHub-Event or X-GitHub-Delivery"), "malformed"
        length = request.headers.get("content-length")
        declared = int(length) if length is not None and length.isdigit() else None
        if declared is not None and declared > MAX_BODY:
            return _error(413, "payload larger than 25 MB"), "too_large"
        held = MAX_BODY if declared is None else declared
        if not budget.take(held):
            response = _error(503, "too many large deliveries in flight; retry shortly")
            response.headers["Retry-After"] = "1"
            return response, "busy"
        try:
            return await _verified(request, event, delivery, signature)
        finally:
            budget.give(held)

    async def _verified(
        request: Request, event: str, delivery: str, signature: str
    ) -> tuple[Response, str]:
        body = await _read_body(request)
        if body is None:
            return _error(413, "payload larger than 25 MB"), "too_large"
        if not verify_signature(secret, body, signature):
            return _error(
                401,
                "signature does not match: check that the App's webhook secret "
                "equals GITHUB_WEBHOOK_SECRET",
            ), "bad_signature"
        payload: dict[str, Any] | Parsed | None = parse_fast(event, body)
        if payload is None:
            try:
                payload = json.loads(body)
            except (UnicodeDecodeError, json.JSONDecodeError):
                return _error(400, "body is not JSON"), "malformed"
            except RecursionError:  # GitHub's payloads nest a few levels; this one is an attack
                return _error(400, "body nests too deeply"), "malformed"
            if not isinstance(payload, dict):
                return _error(400, "body is not a JSON object"), "malformed"
        try:
            return await _record(event, delivery, payload)
        except StoreUnavailable as exc:
            # Nothing was recorded: GitHub shows the delivery failed, a redelivery (or the
            # reconcile pass, for a merge) brings it back once the database answers.
            log.error("database unavailable", extra={"error": str(exc)})
            response = _error(503, "database unavailable; redeliver later")
            response.headers["Retry-After"] = "5"
            return response, "unavailable"

    async def _record(
        event: str, delivery: str, payload: dict[str, Any] | Parsed
    ) -> tuple[Response, str]:
        if event == "ping":
            await commits.accept(DeliveryRecord(delivery, event, None, clock()))
            return JSONResponse({"msg": "pong"}), "pong"
        now = clock()
        try:
            if event == "installation_repositories":  # reads the store, whose lock may wait
                decided = await run_in_threadpool(plan, store, event, delivery, payload, now)
            else:  # pydantic only: CPU that costs the same here as in a thread
                decided = plan(store, event, delivery, payload, now)
        except BadPayload as exc:
            return _error(400, str(exc)), "malformed"
        outcome = decided.outcome(await commits.accept(decided.record))
        status = 202 if outcome.status == "accepted" else 200
        body_out: dict[str, Any] = {"status": outcome.status, "jobs": list(outcome.jobs)}
        if outcome.reason:
            body_out["reason"] = outcome.reason
        return JSONResponse(body_out, status_code=status), outcome.status

    @app.get("/healthz")
    async def healthz() -> Response:
        try:
            counts = await run_in_threadpool(store.counts)
        except Exception as exc:  # the probe must answer, and say why it is unhealthy
            log.error("health check failed", extra={"error": type(exc).__name__})
            return _error(503, "database unavailable")
        return JSONResponse(
            {"status": "ok", "jobs_queued": counts["jobs_queued"], "jobs_dead": counts["jobs_dead"]}
        )

    @app.get("/readyz")
    async def readyz() -> Response:
        # Liveness (/healthz) says the process answers; readiness says it can do its work.
        checks: dict[str, str] = {}
        try:
            oldest = await run_in_threadpool(store.oldest_ready, clock())
            checks["database"] = "ok"
            waited = 0.0 if oldest is None else clock() - oldest
            checks["queue"] = (
                "ok"
                if waited <= settings.queue_stall_seconds
                else f"a ready job has waited {int(waited)} s for a worker"
            )
        except Exception as exc:  # the probe must answer, and say why
            checks["database"] = f"unavailable ({type(exc).__name__})"
        if app_credentials is not None:
            checks["app_credentials"] = app_credentials
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics")
    async def metrics_endpoint(request: Request) -> Response:
        if metrics_token is not None and not hmac.compare_digest(
            request.headers.get("authorization", "").encode(), f"Bearer {metrics_token}".encode()
        ):
            response = _error(401, "metrics need the bearer token (IDEALDIFF_METRICS_TOKEN)")
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        counts = await run_in_threadpool(store.counts)
        return PlainTextResponse(
            stats.render(counts), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    return app


def serve(host: str, port: int, *, worker: bool = True, env_file: str | None = ".env") -> int:
    """``idealdiff serve``: the webhook server, with a worker thread unless told otherwise.

    Raises ``ConfigError`` (before listening) when a setting the service needs is missing.
    """
    import uvicorn

    from app.github.client import GitHubApp
    from app.service.worker import Worker

    logs.configure()
    settings = Settings.from_env(env_file=Path(env_file) if env_file else None)
    settings.require_webhook_secret()
    logs.add_secrets(settings.secrets())
    check_single_machine(settings, os.environ)
    store = open_state(settings)
    metrics = Metrics()
    runner = None
    if worker and settings.run_worker:
        runner = Worker(settings, store, GitHubApp(settings).repo, metrics=metrics)
    app = create_app(settings, store, metrics=metrics, worker=runner)
    log.info("serving", extra={"host": host, "port": port, "worker": runner is not None})
    # What is alive now (modules, the app, pydantic's schemas) lives as long as the process: out
    # of the collector's sight, a full collection no longer walks it in the middle of requests
    # (p99 of the webhook intake 70-95 -> 35-40 ms at 16 in flight, bench/intake).
    gc.collect()
    gc.freeze()
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
    store.close()
    return 0
