"""The SQLite backend (WAL mode) of everything idealdiff keeps: the analysis and answer caches
(``Cache``), and for the App the job queue and the ledgers (``Queue``, ``Ledger``)."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from analyzers import ModuleScan
from analyzers.scan import paused_gc
from app.errors import ConfigError, StoreUnavailable
from app.store import Backend
from app.store.records import (
    MERGED_COLUMNS,
    PUBLISHED_COLUMNS,
    DeliveryRecord,
    InstallationRecord,
    Job,
    JobRow,
    JobState,
    MergedPR,
    NewJob,
    PublishedIssue,
    decode_scans,
    installation_from_row,
    installation_repos,
    merged_from_row,
    merged_row,
    published_from_row,
    published_members,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS analysis_cache (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
"""


class Store:
    """A SQLite database file (or ``:memory:``) shared by the CLI, the server and the worker."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        """Close the connection; under the lock, so a thread still at work (a job a shutdown
        gave back) gets an error from the closed database, never a half-closed one."""
        with self._lock:
            self._db.close()

    def get_scans(self, wanted: Mapping[str, str]) -> dict[str, ModuleScan]:
        """Cached scans for ``{cache key: path}``; keys not in the cache are absent."""
        found: dict[str, ModuleScan] = {}
        keys = list(wanted)
        # Decoding builds ~3 objects per unit (120k for a 580k-line repository) and none is
        # cyclic: the collector's passes over them were half the decoding time.
        with self._lock, paused_gc():
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, value FROM analysis_cache WHERE key IN ({marks})", chunk
                ).fetchall()
                found.update(decode_scans(rows, wanted))
        return found

    def get_value(self, key: str) -> bytes | None:
        """A cached value (e.g. an idealized answer) by key, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM analysis_cache WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else bytes(row[0])

    def put_value(self, key: str, value: bytes) -> None:
        """Cache a value under a key."""
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO analysis_cache (key, value) VALUES (?, ?)", (key, value)
            )

    def put_encoded(self, rows: Iterable[tuple[str, bytes]]) -> None:
        """Store scans already encoded with ``encode_scan`` (by the process that scanned them)."""
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO analysis_cache (key, value) VALUES (?, ?)", list(rows)
            )


# ---------------------------------------------------------------------------------------------
# The App's durable state: deliveries seen, the job queue, the batch ledger, installations and
# the issues published per finding. Times are Unix seconds from the caller's clock (injected, so
# tests can move time); every write that must be atomic is one transaction.

APP_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    action TEXT,
    received_at REAL NOT NULL,
    job_id INTEGER
);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    key TEXT,
    scope TEXT,
    payload TEXT NOT NULL,
    delivery_id TEXT,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    run_after REAL NOT NULL,
    lease_owner TEXT,
    lease_until REAL,
    last_error TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_ready ON jobs (state, run_after);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_one_queued_per_key ON jobs (key)
    WHERE state = 'queued' AND key IS NOT NULL;
CREATE TABLE IF NOT EXISTS merged_prs (
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    installation_id INTEGER NOT NULL,
    data TEXT NOT NULL,
    merged_at TEXT NOT NULL,
    received_at REAL NOT NULL,
    reviewed_at REAL,
    PRIMARY KEY (repo, number)
);
CREATE TABLE IF NOT EXISTS installations (
    id INTEGER PRIMARY KEY,
    account TEXT NOT NULL,
    repos TEXT NOT NULL,
    active INTEGER NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS published_issues (
    repo TEXT NOT NULL,
    finding_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    state TEXT NOT NULL,
    members TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (repo, finding_id)
);
CREATE TABLE IF NOT EXISTS app_marks (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    at REAL NOT NULL
);
"""

# The App's schema, one script per version (``PRAGMA user_version``): a database is upgraded at
# start, or by ``idealdiff migrate``, one version at a time, each in one transaction. Never edit
# a published version: add the next.
APP_MIGRATIONS: tuple[str, ...] = (
    APP_SCHEMA,  # 1: the tables of the first releases (which set no version)
    # 2: what reconciling last saw of a repository (its default branch and the ETag of its
    # closed pull requests): App state, not a cache.
    """
    CREATE TABLE IF NOT EXISTS reconcile_state (
        repo TEXT PRIMARY KEY,
        default_branch TEXT NOT NULL,
        etag TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    """,
)


def migrate(db: sqlite3.Connection) -> tuple[int, int]:
    """Bring the App's tables to the newest schema version; (version before, version after).

    A database made before versions were kept (``user_version`` 0 with the deliveries table)
    is version 1. A database newer than this code is refused, never written.
    """
    before = int(db.execute("PRAGMA user_version").fetchone()[0])
    if (
        before == 0
        and db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'deliveries'"
        ).fetchone()
    ):
        before = 1
        db.execute("PRAGMA user_version = 1")
    if before > len(APP_MIGRATIONS):
        raise ConfigError(
            f"the database's schema is version {before}, newer than this idealdiff knows "
            f"({len(APP_MIGRATIONS)}): run the newer idealdiff, or point "
            "IDEALDIFF_DATABASE_URL elsewhere"
        )
    for version in range(before + 1, len(APP_MIGRATIONS) + 1):
        db.executescript(
            f"BEGIN IMMEDIATE;\n{APP_MIGRATIONS[version - 1]}\n"
            f"PRAGMA user_version = {version};\nCOMMIT;"
        )
    return before, len(APP_MIGRATIONS)


JOB_STATES = ("queued", "running", "done", "dead")
WAL_TRUNCATE_FRAMES = 8192  # ~32 MB of WAL at SQLite's 4 kB pages


class AppStore(Store, Backend):
    """The store with the App's tables: one module, so a move to PostgreSQL changes only this."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        try:
            self.schema = migrate(self._db)  # (version found, version now)
        except ConfigError:
            self._db.close()
            raise
        self._checkpointer: sqlite3.Connection | None = None
        self.where = self.path
        # One process owns a SQLite database: no other can make a job ready behind its back.
        self._wakers = []

    # -- deliveries and enqueueing -------------------------------------------------------------

    def accept_deliveries(
        self, records: Sequence[DeliveryRecord]
    ) -> list[list[int] | Exception | None]:
        """Record several deliveries in one transaction (a group commit), in order.

        Each result is what ``accept_delivery`` returns for that delivery, or the exception that
        kept it out: each delivery is a savepoint, so one that fails leaves the others in. The
        commit covers them all: none is recorded unless it succeeds (then the exception is raised).
        """
        try:
            results = self._accept_all(records)
        except sqlite3.OperationalError as exc:  # locked past the timeout, disk full, I/O
            raise StoreUnavailable(f"the SQLite database does not answer ({exc})") from None
        self._woken_if(any(results))
        return results

    def _accept_all(self, records: Sequence[DeliveryRecord]) -> list[list[int] | Exception | None]:
        results: list[list[int] | Exception | None] = []
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            for record in records:
                self._db.execute("SAVEPOINT delivery")
                try:
                    results.append(self._accept(record))
                except (sqlite3.Error, ValueError, TypeError) as exc:
                    self._db.execute("ROLLBACK TO delivery")
                    results.append(exc)
                self._db.execute("RELEASE delivery")
        return results

    def _accept(self, record: DeliveryRecord) -> list[int] | None:
        seen = self._db.execute(
            "SELECT 1 FROM deliveries WHERE id = ?", (record.delivery_id,)
        ).fetchone()
        if seen:
            return None
        if record.merged is not None:
            self._db.execute(
                f"INSERT OR IGNORE INTO merged_prs ({MERGED_COLUMNS.removesuffix(', reviewed_at')})"
                " VALUES (?, ?, ?, ?, ?, ?)",
                merged_row(record.merged),
            )
        if record.installation is not None:
            self._record_installation(record.installation, now=record.now)
        ids = [self._enqueue(job, record.delivery_id, record.now) for job in record.jobs]
        self._db.execute(
            "INSERT INTO deliveries (id, event, action, received_at, job_id)"
            " VALUES (?, ?, ?, ?, ?)",
            (record.delivery_id, record.event, record.action, record.now, ids[0] if ids else None),
        )
        return ids

    def _enqueue(self, job: NewJob, delivery_id: str | None, now: float) -> int:
        run_after = now if job.run_after is None else job.run_after
        if job.key is not None:
            row = self._db.execute(
                "SELECT id FROM jobs WHERE key = ? AND state = 'queued'", (job.key,)
            ).fetchone()
            if row is not None:
                self._db.execute(
                    "UPDATE jobs SET payload = ?, run_after = ?, updated_at = ? WHERE id = ?",
                    (json.dumps(job.payload), run_after, now, row[0]),
                )
                return int(row[0])
        cur = self._db.execute(
            "INSERT INTO jobs (kind, key, scope, payload, delivery_id, state, run_after,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?)",
            (
                job.kind,
                job.key,
                job.scope,
                json.dumps(job.payload),
                delivery_id,
                run_after,
                now,
                now,
            ),
        )
        return int(cur.lastrowid or 0)

    def enqueue(self, job: NewJob, now: float, delivery_id: str | None = None) -> int:
        """Enqueue one job outside a delivery (a follow-up a handler schedules)."""
        with self._lock, self._db:
            ident = self._enqueue(job, delivery_id, now)
        self._woken_if(True)
        return ident

    def delivery_seen(self, delivery_id: str) -> bool:
        """Whether a delivery with this id was accepted."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM deliveries WHERE id = ?", (delivery_id,)
            ).fetchone()
        return row is not None

    def defer_checkpoints(self, deferred: bool = True) -> None:
        """Stop (or resume) copying the WAL into the database file at the end of a commit.

        SQLite does that copy, and its fsync, inside whichever commit grows the WAL past 1000
        pages: a delivery's 2xx then waits 10-80 ms on this machine's disk (bench/intake). While
        deferred, ``checkpoint()`` must be called from elsewhere, or the WAL grows without bound.
        """
        with self._lock:
            self._db.execute(f"PRAGMA wal_autocheckpoint={0 if deferred else 1000}")

    def checkpoint(self) -> None:
        """Copy what the WAL holds into the database file, without blocking writers or readers.

        Runs on a connection of its own (made on first use, in the calling thread), so the
        store's lock and its commits never wait for the fsync. A crash in the middle is safe:
        the WAL stays the record until the copy is complete.
        """
        if self._checkpointer is None:
            # Used by one thread at a time: the checkpointing one, then close() once it stopped.
            self._checkpointer = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        frames = self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
        if frames > WAL_TRUNCATE_FRAMES:
            # Under steady writes a passive pass never finds the WAL idle, so the WAL is never
            # restarted and would grow forever. TRUNCATE makes writers wait, for the few frames
            # written since the passive pass and one fsync: rarely, and briefly.
            self._checkpointer.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        """Close the connections."""
        with self._lock:
            if self._checkpointer is not None:
                self._checkpointer.close()
        super().close()

    # -- the queue -----------------------------------------------------------------------------

    def claim(self, owner: str, now: float, lease_seconds: float) -> Job | None:
        """Take the next ready job (queued and due, or running with an expired lease)."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            row = self._db.execute(
                "SELECT id FROM jobs WHERE ((state = 'queued' AND run_after <= ?)"
                " OR (state = 'running' AND lease_until < ?))"
                " AND (scope IS NULL OR scope NOT IN (SELECT scope FROM jobs"
                " WHERE state = 'running' AND lease_until >= ? AND scope IS NOT NULL))"
                " ORDER BY run_after, id LIMIT 1",
                (now, now, now),
            ).fetchone()
            if row is None:
                return None
            taken = self._db.execute(
                "UPDATE jobs SET state = 'running', lease_owner = ?, lease_until = ?,"
                " attempts = attempts + 1, updated_at = ? WHERE id = ?"
                " RETURNING id, kind, key, payload, delivery_id, attempts",
                (owner, now + lease_seconds, now, row[0]),
            ).fetchall()[0]
        return Job(
            id=taken[0],
            kind=taken[1],
            key=taken[2],
            payload=json.loads(taken[3]),
            delivery_id=taken[4],
            attempts=taken[5],
            lease_owner=owner,
        )

    def release(self, job: Job, now: float) -> bool:
        """Give a running job back at once, its try not counted (a worker shutting down)."""
        with self._lock, self._db:
            cur = self._db.execute(
                "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = NULL,"
                " attempts = MAX(attempts - 1, 0), run_after = ?, updated_at = ?"
                " WHERE id = ? AND state = 'running' AND lease_owner = ?",
                (now, now, job.id, job.lease_owner),
            )
        self._woken_if(cur.rowcount == 1)
        return cur.rowcount == 1

    def reclaim_leases(self, gone: Callable[[str], bool], now: float) -> list[int]:
        """Put back in the queue, at once, the running jobs whose lease owner is ``gone`` (a
        worker killed without a word); their try still counts. Returns their ids."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            rows = self._db.execute(
                "SELECT id, lease_owner FROM jobs WHERE state = 'running'"
            ).fetchall()
            ids = [job_id for job_id, owner in rows if owner is not None and gone(owner)]
            for job_id in ids:
                self._db.execute(
                    "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = NULL,"
                    " run_after = ?, updated_at = ? WHERE id = ? AND state = 'running'",
                    (now, now, job_id),
                )
        self._woken_if(bool(ids))
        return ids

    def extend_lease(self, job: Job, now: float, lease_seconds: float) -> bool:
        """Keep a running job's lease; False when the lease was lost to another worker."""
        with self._lock, self._db:
            cur = self._db.execute(
                "UPDATE jobs SET lease_until = ?, updated_at = ?"
                " WHERE id = ? AND state = 'running' AND lease_owner = ?",
                (now + lease_seconds, now, job.id, job.lease_owner),
            )
        return cur.rowcount == 1

    def finish(self, job: Job, now: float) -> bool:
        """Mark a job done (only by the worker that holds it)."""
        return self._settle(job, "done", now, None, None)

    def retry_later(self, job: Job, now: float, run_after: float, error: str) -> bool:
        """Put a failed job back in the queue until ``run_after``."""
        return self._settle(job, "queued", now, run_after, error)

    def bury(self, job: Job, now: float, error: str) -> bool:
        """Move a job to the dead state, with the error that killed it."""
        return self._settle(job, "dead", now, None, error)

    def defer(self, job: Job, now: float, run_after: float) -> bool:
        """Put a job back without counting a try (it asked to run later, e.g. a debounce)."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            if job.key is not None:
                other = self._db.execute(
                    "SELECT id FROM jobs WHERE key = ? AND state = 'queued' AND id != ?",
                    (job.key, job.id),
                ).fetchone()
                if other is not None:  # a newer request for the same key will do the work
                    cur = self._db.execute(
                        "UPDATE jobs SET state = 'done', lease_owner = NULL, lease_until = NULL,"
                        " updated_at = ? WHERE id = ? AND lease_owner = ?",
                        (now, job.id, job.lease_owner),
                    )
                    return cur.rowcount == 1
            cur = self._db.execute(
                "UPDATE jobs SET state = 'queued', run_after = ?, attempts = attempts - 1,"
                " lease_owner = NULL, lease_until = NULL, updated_at = ?"
                " WHERE id = ? AND state = 'running' AND lease_owner = ?",
                (run_after, now, job.id, job.lease_owner),
            )
            return cur.rowcount == 1

    def _settle(
        self, job: Job, state: JobState, now: float, run_after: float | None, error: str | None
    ) -> bool:
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            if state == "queued" and job.key is not None:
                other = self._db.execute(
                    "SELECT id FROM jobs WHERE key = ? AND state = 'queued' AND id != ?",
                    (job.key, job.id),
                ).fetchone()
                if other is not None:  # the queued twin retries the same work
                    state = "done"
            cur = self._db.execute(
                "UPDATE jobs SET state = ?, run_after = COALESCE(?, run_after), last_error = ?,"
                " lease_owner = NULL, lease_until = NULL, updated_at = ?"
                " WHERE id = ? AND state = 'running' AND lease_owner = ?",
                (state, run_after, error, now, job.id, job.lease_owner),
            )
        return cur.rowcount == 1

    def jobs(self, state: JobState | None = None) -> list[JobRow]:
        """Jobs, oldest first, optionally only those in one state."""
        sql = "SELECT id, kind, key, state, attempts, run_after, delivery_id, last_error FROM jobs"
        args: tuple[Any, ...] = ()
        if state is not None:
            sql += " WHERE state = ?"
            args = (state,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY id", args).fetchall()
        return [JobRow(*row) for row in rows]

    def counts(self) -> dict[str, int]:
        """Numbers for /metrics: jobs per state, deliveries, ledger entries waiting."""
        out = {f"jobs_{state}": 0 for state in JOB_STATES}
        with self._lock:
            for state, count in self._db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state"):
                out[f"jobs_{state}"] = int(count)
            out["deliveries"] = int(
                self._db.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0]
            )
            out["merged_prs_waiting"] = int(
                self._db.execute(
                    "SELECT COUNT(*) FROM merged_prs WHERE reviewed_at IS NULL"
                ).fetchone()[0]
            )
            out["issues_open"] = int(
                self._db.execute(
                    "SELECT COUNT(*) FROM published_issues WHERE state = 'open'"
                ).fetchone()[0]
            )
        return out

    def oldest_ready(self, now: float) -> float | None:
        """When the longest-waiting ready job (queued and due) became due, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT MIN(run_after) FROM jobs WHERE state = 'queued' AND run_after <= ?", (now,)
            ).fetchone()
        return None if row[0] is None else float(row[0])

    def prune(self, before: float, marks: str | None = None) -> int:
        """Forget deliveries and finished jobs older than ``before``; dead jobs stay visible.

        GitHub redelivers (automatically or by hand) within days; 30 days of delivery ids is
        ample to recognise a redelivery.
        """
        with self._lock, self._db:
            gone = self._db.execute("DELETE FROM deliveries WHERE received_at < ?", (before,))
            done = self._db.execute(
                "DELETE FROM jobs WHERE state = 'done' AND updated_at < ?", (before,)
            )
            if marks is not None:
                self._db.execute(
                    "DELETE FROM app_marks WHERE substr(key, 1, ?) = ? AND at < ?",
                    (len(marks), marks, before),
                )
        return gone.rowcount + done.rowcount

    # -- the batch ledger ----------------------------------------------------------------------

    def waiting_merges(self, repo: str) -> list[MergedPR]:
        """The merged pull requests no review has covered yet, in merge order."""
        return self._merged("WHERE repo = ? AND reviewed_at IS NULL", (repo,))

    def merged(self, repo: str) -> list[MergedPR]:
        """Every merged pull request of the ledger, in merge order."""
        return self._merged("WHERE repo = ?", (repo,))

    def _merged(self, where: str, args: tuple[Any, ...]) -> list[MergedPR]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {MERGED_COLUMNS} FROM merged_prs {where} ORDER BY merged_at, number",
                args,
            ).fetchall()
        return [merged_from_row(r) for r in rows]

    def mark_reviewed(self, repo: str, numbers: Iterable[int], now: float) -> None:
        """Mark ledger entries as covered by a review."""
        with self._lock, self._db:
            self._db.executemany(
                "UPDATE merged_prs SET reviewed_at = ? WHERE repo = ? AND number = ?",
                [(now, repo, n) for n in numbers],
            )

    # -- installations -------------------------------------------------------------------------

    def _record_installation(self, inst: InstallationRecord, now: float) -> None:
        row = self._db.execute(
            "SELECT repos FROM installations WHERE id = ?", (inst.id,)
        ).fetchone()
        self._db.execute(
            "INSERT OR REPLACE INTO installations (id, account, repos, active, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                inst.id,
                inst.account,
                installation_repos(inst, row and row[0]),
                int(inst.active),
                now,
            ),
        )

    def reconcile_seen(self, repo: str) -> tuple[str, str] | None:
        """(default branch, ETag) the last reconcile of ``repo`` saw, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT default_branch, etag FROM reconcile_state WHERE repo = ?", (repo,)
            ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    def record_reconcile(self, repo: str, default_branch: str, etag: str, now: float) -> None:
        """Remember what a reconcile of ``repo`` saw."""
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO reconcile_state (repo, default_branch, etag, updated_at)"
                " VALUES (?, ?, ?, ?)",
                (repo, default_branch, etag, now),
            )

    def installations(self) -> list[InstallationRecord]:
        """Every recorded installation, with its repositories."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, account, repos, active FROM installations ORDER BY id"
            ).fetchall()
        return [installation_from_row(r) for r in rows]

    def installation(self, ident: int) -> InstallationRecord | None:
        """An installation, if recorded (its repositories always listed)."""
        with self._lock:
            row = self._db.execute(
                "SELECT id, account, repos, active FROM installations WHERE id = ?", (ident,)
            ).fetchone()
        return None if row is None else installation_from_row(row)

    # -- published issues and one-shot marks ---------------------------------------------------

    def published(self, repo: str) -> list[PublishedIssue]:
        """The issues recorded as published for a repository."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {PUBLISHED_COLUMNS} FROM published_issues WHERE repo = ? ORDER BY number",
                (repo,),
            ).fetchall()
        return [published_from_row(r) for r in rows]

    def record_published(self, issue: PublishedIssue, now: float) -> None:
        """Remember (or update) the issue that carries a finding."""
        with self._lock, self._db:
            self._db.execute(
                f"INSERT OR REPLACE INTO published_issues ({PUBLISHED_COLUMNS}, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    issue.repo,
                    issue.finding_id,
                    issue.number,
                    issue.state,
                    published_members(issue),
                    now,
                ),
            )

    def mark_once(self, key: str, value: str, now: float) -> bool:
        """Set a mark; False when it was already set (for replies that must be sent once)."""
        with self._lock, self._db:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO app_marks (key, value, at) VALUES (?, ?, ?)",
                (key, value, now),
            )
        return cur.rowcount == 1

    def mark(self, key: str) -> str | None:
        """The value of a mark, or None."""
        with self._lock:
            row = self._db.execute("SELECT value FROM app_marks WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])
