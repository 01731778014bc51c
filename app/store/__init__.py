"""Everything idealdiff keeps: what the rest of the program may ask of it (``Cache``, ``Queue``,
``Ledger``), the records it keeps (``records``), and two backends: SQLite in WAL mode
(``sqlite``, one machine, nothing to install) and PostgreSQL (``postgres``, any number of
machines). ``open`` picks one from the settings.

Code outside this package is typed against the protocols and opens storage through ``open``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

from analyzers import ModuleScan
from app.store.records import (
    DeliveryRecord,
    InstallationRecord,
    Job,
    JobRow,
    JobState,
    MergedPR,
    NewJob,
    PublishedIssue,
)


class Cache(Protocol):
    """The analysis cache (module scans by blob, similarity matches) and the answer cache."""

    def get_scans(self, wanted: Mapping[str, str]) -> dict[str, ModuleScan]:
        """Cached scans for ``{cache key: path}``; keys not in the cache are absent."""
        ...

    def put_encoded(self, rows: Iterable[tuple[str, bytes]]) -> None:
        """Store scans already encoded with ``encode_scan``."""
        ...

    def get_value(self, key: str) -> bytes | None:
        """A cached value (a match, an idealized answer) by key, or None."""
        ...

    def put_value(self, key: str, value: bytes) -> None:
        """Cache a value under a key."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


class Queue(Protocol):
    """Deliveries recorded once, and the durable job queue with leases."""

    def accept_deliveries(
        self, records: Sequence[DeliveryRecord]
    ) -> list[list[int] | Exception | None]:
        """Record deliveries with their effects in one transaction, in order."""
        ...

    def accept_delivery(
        self,
        delivery_id: str,
        event: str,
        action: str | None,
        now: float,
        jobs: Iterable[NewJob] = (),
        merged: MergedPR | None = None,
        installation: InstallationRecord | None = None,
    ) -> list[int] | None:
        """Record one delivery; None when it was already seen."""
        ...

    def enqueue(self, job: NewJob, now: float, delivery_id: str | None = None) -> int:
        """Enqueue one job outside a delivery."""
        ...

    def delivery_seen(self, delivery_id: str) -> bool:
        """Whether a delivery with this id was accepted."""
        ...

    def claim(self, owner: str, now: float, lease_seconds: float) -> Job | None:
        """Take the next ready job, with a lease."""
        ...

    def extend_lease(self, job: Job, now: float, lease_seconds: float) -> bool:
        """Keep a running job's lease; False when it was lost."""
        ...

    def release(self, job: Job, now: float) -> bool:
        """Give a running job back at once, its try not counted."""
        ...

    def reclaim_leases(self, gone: Callable[[str], bool], now: float) -> list[int]:
        """Requeue at once the running jobs whose lease owner is ``gone``; their ids."""
        ...

    def finish(self, job: Job, now: float) -> bool:
        """Mark a job done."""
        ...

    def retry_later(self, job: Job, now: float, run_after: float, error: str) -> bool:
        """Put a failed job back until ``run_after``."""
        ...

    def bury(self, job: Job, now: float, error: str) -> bool:
        """Move a job to the dead state with its error."""
        ...

    def defer(self, job: Job, now: float, run_after: float) -> bool:
        """Put a job back without counting a try."""
        ...

    def jobs(self, state: JobState | None = None) -> list[JobRow]:
        """Jobs, oldest first, optionally in one state."""
        ...

    def counts(self) -> dict[str, int]:
        """Numbers for /metrics."""
        ...

    def prune(self, before: float, marks: str | None = None) -> int:
        """Forget deliveries and finished jobs older than ``before``, and the marks older than
        it whose key starts with ``marks`` (the caller knows which of its marks expire)."""
        ...

    def oldest_ready(self, now: float) -> float | None:
        """When the longest-waiting ready job became due, or None."""
        ...


class Ledger(Protocol):
    """The batch ledger of merged pull requests, installations, published issues, marks."""

    def waiting_merges(self, repo: str) -> list[MergedPR]:
        """Merged pull requests no review has covered yet, in merge order."""
        ...

    def merged(self, repo: str) -> list[MergedPR]:
        """Every merged pull request of the ledger, in merge order."""
        ...

    def mark_reviewed(self, repo: str, numbers: Iterable[int], now: float) -> None:
        """Mark ledger entries as covered by a review."""
        ...

    def installation(self, ident: int) -> InstallationRecord | None:
        """An installation, if recorded."""
        ...

    def installations(self) -> list[InstallationRecord]:
        """Every recorded installation, with its repositories."""
        ...

    def reconcile_seen(self, repo: str) -> tuple[str, str] | None:
        """(default branch, ETag) the last reconcile of ``repo`` saw, or None."""
        ...

    def record_reconcile(self, repo: str, default_branch: str, etag: str, now: float) -> None:
        """Remember what a reconcile of ``repo`` saw."""
        ...

    def published(self, repo: str) -> list[PublishedIssue]:
        """The issues recorded as published for a repository."""
        ...

    def record_published(self, issue: PublishedIssue, now: float) -> None:
        """Remember (or update) the issue that carries a finding."""
        ...

    def mark_once(self, key: str, value: str, now: float) -> bool:
        """Set a mark; False when it was already set."""
        ...

    def mark(self, key: str) -> str | None:
        """The value of a mark, or None."""
        ...


class AppState(Cache, Queue, Ledger, Protocol):
    """Everything the App's server and worker keep, in one database."""

    where: str  # the database, for messages (a PostgreSQL URL without its password)
    schema: tuple[int, int]  # (schema version found at opening, version now)

    def subscribe(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` whenever a job may have become ready (enqueued, or given back): in
        this process, and on PostgreSQL from any process (``LISTEN``)."""
        ...

    def defer_checkpoints(self, deferred: bool = True) -> None:
        """Leave the log's copy into the database to ``checkpoint`` (off the commit path); a
        backend that does its own upkeep does nothing."""
        ...

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the database without blocking; or nothing (above)."""
        ...


class Backend(ABC):
    """What every backend of ``AppState`` does the same way, written once: one delivery as a
    group of one, and the in-process side of ``subscribe`` (a backend calls
    ``_woken_if(True)`` after a commit that made a job ready)."""

    _wakers: list[Callable[[], None]]

    @abstractmethod
    def accept_deliveries(
        self, records: Sequence[DeliveryRecord]
    ) -> list[list[int] | Exception | None]:
        """Record deliveries with their effects in one transaction, in order (the backend's)."""

    def accept_delivery(
        self,
        delivery_id: str,
        event: str,
        action: str | None,
        now: float,
        jobs: Iterable[NewJob] = (),
        merged: MergedPR | None = None,
        installation: InstallationRecord | None = None,
    ) -> list[int] | None:
        """Record a delivery with its effects in one transaction; None when already seen.

        Returns the ids of the jobs enqueued (or moved) for it.
        """
        record = DeliveryRecord(delivery_id, event, action, now, tuple(jobs), merged, installation)
        result = self.accept_deliveries([record])[0]
        if isinstance(result, Exception):
            raise result
        return result

    def subscribe(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` whenever this process enqueues or gives back a job."""
        self._wakers.append(wake)

    def _woken_if(self, ready: bool) -> None:
        if ready:
            for wake in list(self._wakers):
                wake()
