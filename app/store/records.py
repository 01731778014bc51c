"""What the store keeps, as plain records and encodings: the same for every backend."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from analyzers import Features, IndexedUnit, ModuleScan, Skip, Unit


@dataclass(frozen=True)
class NewJob:
    """A job to enqueue: its kind, JSON payload, and an optional key that debounces it.

    At most one job per key waits in the queue: enqueueing a keyed job while one is queued
    moves the queued one's ``run_after`` instead of adding another. Jobs of one ``scope`` run one
    at a time, whatever the number of workers: two reviews of one repository publishing at once
    could each find no issue for a finding and both open one.
    """

    kind: str
    payload: Mapping[str, Any]
    key: str | None = None
    run_after: float | None = None
    scope: str | None = None  # jobs of one scope (a repository) never run at the same time


@dataclass(frozen=True)
class DeliveryRecord:
    """A verified delivery and what recording it writes (see ``AppStore.accept_delivery``)."""

    delivery_id: str
    event: str
    action: str | None
    now: float
    jobs: tuple[NewJob, ...] = ()
    merged: MergedPR | None = None
    installation: InstallationRecord | None = None


@dataclass(frozen=True)
class InstallationRecord:
    """An installation of the App: its account, the repositories it covers (None in an event
    that does not list them: the recorded ones are kept) and whether it is active."""

    id: int
    account: str
    repos: list[str] | None
    active: bool


JobState = Literal["queued", "running", "done", "dead"]


@dataclass(frozen=True)
class Job:
    """A job taken by a worker, with the lease it holds."""

    id: int
    kind: str
    key: str | None
    payload: dict[str, Any]
    delivery_id: str | None
    attempts: int
    lease_owner: str


@dataclass(frozen=True)
class JobRow:
    """A job as the queue holds it (for status pages, metrics and tests)."""

    id: int
    kind: str
    key: str | None
    state: JobState
    attempts: int
    run_after: float
    delivery_id: str | None
    last_error: str | None


@dataclass(frozen=True)
class MergedPR:
    """One merged pull request waiting in (or reviewed from) the batch ledger."""

    repo: str
    number: int
    installation_id: int
    data: dict[str, Any]
    merged_at: str
    received_at: float
    reviewed_at: float | None


@dataclass(frozen=True)
class PublishedIssue:
    """The issue opened for a finding, and the members it was about."""

    repo: str
    finding_id: str
    number: int
    state: str
    members: tuple[tuple[str, str], ...]
    # Who introduced each member, as the issue first said it ((path, qualname) -> "#2"): a later
    # batch sees #2's code as older, but the issue's history does not change.
    origins: tuple[tuple[str, str, str], ...] = ()


def encode_scan(scan: ModuleScan) -> bytes:
    """A scan as a cache value (compact JSON, compressed); the path is replaced on reading."""
    payload: dict[str, Any] = {"path": scan.path}
    if scan.skip is not None:
        payload["skip"] = scan.skip.reason
    payload["units"] = [
        [
            u.unit.qualname,
            u.unit.kind,
            u.unit.start_line,
            u.unit.end_line,
            u.unit.docstring,
            u.unit.parent,
            u.features.tokens,
            u.features.statements,
            u.features.exact_hash,
            u.features.blind_hash,
            list(u.features.sketch),
            list(u.features.name_terms),
            list(u.features.ident_terms),
            list(u.features.calls),
            list(u.features.literals),
            list(u.features.doc_terms),
            list(u.features.fragments),
            list(u.features.bases),
            u.features.alpha_hash,
        ]
        for u in scan.units
    ]
    return zlib.compress(json.dumps(payload, separators=(",", ":")).encode(), 1)


def decode_scan(blob: bytes, path: str) -> ModuleScan:
    """Rebuild a scan; the cached path is replaced by ``path`` (one blob may live at many)."""
    payload = json.loads(zlib.decompress(blob))
    skip = Skip(path=path, reason=payload["skip"]) if "skip" in payload else None
    units = tuple(
        IndexedUnit(
            unit=Unit(
                path=path,
                qualname=row[0],
                kind=row[1],
                start_line=row[2],
                end_line=row[3],
                docstring=row[4],
                parent=row[5],
            ),
            features=Features(
                tokens=row[6],
                statements=row[7],
                exact_hash=row[8],
                blind_hash=row[9],
                sketch=tuple(row[10]),
                name_terms=tuple(row[11]),
                ident_terms=tuple(row[12]),
                calls=tuple(row[13]),
                literals=tuple(row[14]),
                doc_terms=tuple(row[15]),
                fragments=tuple(row[16]),
                bases=tuple(row[17]),
                alpha_hash=row[18],
            ),
        )
        for row in payload["units"]
    )
    return ModuleScan(path=path, units=units, skip=skip)


# -- row codecs: how a record is spread over columns, the same for every backend --------------


def decode_scans(
    rows: Iterable[tuple[str, bytes]], wanted: Mapping[str, str]
) -> dict[str, ModuleScan]:
    """The scans of cache rows ``(key, value)``, each at ``wanted[key]``; a damaged entry is left
    out (and so recomputed)."""
    found: dict[str, ModuleScan] = {}
    for key, value in rows:
        try:
            found[key] = decode_scan(bytes(value), wanted[key])
        except (ValueError, KeyError, IndexError, TypeError, zlib.error):
            continue
    return found


MERGED_COLUMNS = "repo, number, installation_id, data, merged_at, received_at, reviewed_at"


def merged_row(merged: MergedPR) -> tuple[Any, ...]:
    """The columns of a ledger entry, without ``reviewed_at`` (a new entry is not reviewed)."""
    return (
        merged.repo,
        merged.number,
        merged.installation_id,
        json.dumps(merged.data),
        merged.merged_at,
        merged.received_at,
    )


def merged_from_row(row: Sequence[Any]) -> MergedPR:
    """A ledger entry from its ``MERGED_COLUMNS``."""
    return MergedPR(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5], row[6])


def installation_repos(inst: InstallationRecord, stored: str | None) -> str:
    """The repositories column of an installation: the event's list, else the one recorded."""
    kept = inst.repos if inst.repos is not None else (json.loads(stored) if stored else [])
    return json.dumps(sorted(set(kept)))


def installation_from_row(row: Sequence[Any]) -> InstallationRecord:
    """An installation from ``id, account, repos, active``."""
    return InstallationRecord(int(row[0]), row[1], json.loads(row[2]), bool(row[3]))


PUBLISHED_COLUMNS = "repo, finding_id, number, state, members"


def published_members(issue: PublishedIssue) -> str:
    """The members column: ``[path, qualname, who introduced it or null]`` per member."""
    origins = {(a, b): who for a, b, who in issue.origins}
    return json.dumps([[p, q, origins.get((p, q))] for p, q in issue.members])


def published_from_row(row: Sequence[Any]) -> PublishedIssue:
    """A published issue from its ``PUBLISHED_COLUMNS``."""
    # Each member is [path, qualname] or, since origins are kept, [path, qualname, who].
    listed = json.loads(row[4])
    return PublishedIssue(
        row[0],
        row[1],
        row[2],
        row[3],
        tuple((m[0], m[1]) for m in listed),
        tuple((m[0], m[1], m[2]) for m in listed if len(m) > 2 and m[2]),
    )
