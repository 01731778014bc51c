"""The one review flow the CLI and the worker share: batch + code + config -> Report."""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from collections.abc import Set as AbstractSet
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Protocol

from analyzers import (
    BranchChange,
    IndexedUnit,
    ModuleScan,
    ScanLimits,
    Skip,
    analyse_overlap,
    find_redundancy,
    is_python,
    scan_module,
)
from analyzers.scan import paused_gc
from app.review.answer import Idealized, LlmRun
from app.review.batch import Batch
from app.review.config import CONFIG_PATH, RepoConfig
from app.review.report import Report
from app.review.source import CodeReader, CodeSource
from app.store import Cache
from app.store.records import encode_scan

# Bump when scanning changes what it produces, so old cache entries are not reused.
ANALYZER_VERSION = "10"
PARALLEL_MIN_BYTES = 2_000_000  # below this a process pool costs more than it saves
ABSENT = "its content is not in the repository (a partial clone leaves files out): fetch it"


Progress = Callable[[str, int, int], None]


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


class Idealizer(Protocol):
    """What gives a report's findings and hotspots their idealized diffs (a model, or the
    offline planner): the review asks for it, whoever composes the review supplies it."""

    def run(self, report: Report, reader: CodeReader) -> tuple[dict[str, Idealized], LlmRun]:
        """Idealized diffs keyed by finding id or ``hotspot:<path>``, and what it cost."""
        ...


@dataclass
class ReviewStats:
    """What the review did, for logs and benchmarks (not part of the JSON contract)."""

    files: int = 0
    parsed: int = 0
    cached: int = 0
    units: int = 0
    queries: int = 0
    extra: dict[str, int] = field(default_factory=dict)


def _cache_key(blob: str, precise: bool, limits: ScanLimits) -> str:
    mode = "cst" if precise else "ast"
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    return f"scan/{ANALYZER_VERSION}/{py}/{mode}/{limits.max_file_bytes}/{blob}"


Job = tuple[str, str, bytes, bool]  # cache key, path, content, precise


def _scan_chunk(
    jobs: list[Job], limits: ScanLimits, encode: bool
) -> list[tuple[str, ModuleScan, bytes | None]]:
    # Encoding for the cache here, in the pool's processes, keeps it off the main process.
    out: list[tuple[str, ModuleScan, bytes | None]] = []
    for key, path, data, precise in jobs:
        scan = scan_module(path, data, precise=precise, limits=limits)
        out.append((key, scan, encode_scan(scan) if encode else None))
    return out


Request = tuple[Mapping[str, str], AbstractSet[str]]  # {path: blob}, paths located with libcst


class Scanner:
    """Scans modules by blob, through the cache, in parallel when there is enough to do."""

    def __init__(
        self,
        source: CodeSource,
        store: Cache | None,
        limits: ScanLimits,
        progress: Progress = _no_progress,
        workers: int | None = None,
    ) -> None:
        self.source = source
        self.store = store
        self.limits = limits
        self.progress = progress
        self.workers = workers or os.cpu_count() or 1
        self.stats = ReviewStats()

    def scan(
        self, files: Mapping[str, str], precise: set[str] | None = None
    ) -> dict[str, ModuleScan]:
        """Scan ``{path: blob}``; paths in ``precise`` are located with libcst."""
        return self.scan_many([(files, precise or set())])[0]

    def scan_many(self, requests: Sequence[Request]) -> list[dict[str, ModuleScan]]:
        """Scan several ``({path: blob}, precise paths)`` at once: one cache query, one pool.

        A blob scanned the same way for several requests (or paths) is scanned once.
        """
        keyed = [
            {path: _cache_key(blob, path in precise, self.limits) for path, blob in files.items()}
            for files, precise in requests
        ]
        wanted: dict[str, str] = {}
        for keys in keyed:
            for path, key in keys.items():
                wanted.setdefault(key, path)
        scans = self.store.get_scans(wanted) if self.store else {}
        hits = set(scans)
        jobs: dict[str, tuple[str, str, bool]] = {}
        for (files, precise), keys in zip(requests, keyed, strict=True):
            for path, key in keys.items():
                if key not in hits and key not in jobs:
                    jobs[key] = (path, files[path], path in precise)
        if jobs:
            contents = self.source.blobs(blob for _, blob, _ in jobs.values())
            # A blob the source does not hold (a partial clone) is no empty module: say so,
            # and cache nothing, so the file is read once its contents arrive.
            for key, (path, blob, _) in list(jobs.items()):
                if blob not in contents:
                    del jobs[key]
                    scans[key] = ModuleScan(path=path, skip=Skip(path=path, reason=ABSENT))
            done = self._run(
                [(k, p, contents[b], pr) for k, (p, b, pr) in jobs.items()],
                encode=self.store is not None,
            )
            rows: list[tuple[str, bytes]] = []
            for key, scan, encoded in done:
                scans[key] = scan
                if self.store:
                    rows.append((key, encoded if encoded is not None else encode_scan(scan)))
            self.stats.parsed += len(done)
            if self.store:
                self.store.put_encoded(rows)
        out: list[dict[str, ModuleScan]] = []
        for keys in keyed:
            result: dict[str, ModuleScan] = {}
            for path, key in keys.items():
                scan = scans[key]
                result[path] = scan if scan.path == path else _relocate(scan, path)
            self.stats.cached += sum(1 for key in keys.values() if key in hits)
            out.append(result)
        return out

    def _run(self, jobs: list[Job], encode: bool) -> list[tuple[str, ModuleScan, bytes | None]]:
        total = len(jobs)
        size = sum(len(data) for _, _, data, _ in jobs)
        self.progress("parse", 0, total)
        out: list[tuple[str, ModuleScan, bytes | None]] = []
        if self.workers < 2 or size < PARALLEL_MIN_BYTES:
            for i in range(0, total, 50):
                out.extend(_scan_chunk(jobs[i : i + 50], self.limits, encode))
                self.progress("parse", len(out), total)
            return out
        # Big files first so the last chunk is not the slow one; chunks of ~1 MB.
        jobs.sort(key=lambda j: -len(j[2]))
        chunks: list[list[Job]] = [[]]
        budget = 0
        for job in jobs:
            if budget > 1_000_000:
                chunks.append([])
                budget = 0
            chunks[-1].append(job)
            budget += len(job[2])
        n = len(chunks)
        # The results arrive pickled: ~3 acyclic objects per unit, which the collector would
        # otherwise walk over and over while they are unpickled.
        with ProcessPoolExecutor(max_workers=self.workers) as pool, paused_gc():
            for done in pool.map(_scan_chunk, chunks, [self.limits] * n, [encode] * n):
                out.extend(done)
                self.progress("parse", len(out), total)
        return out


class MatchCache(MutableMapping[tuple[str, str], tuple[float, float]]):
    """Token-stream similarities of unit pairs, kept in the store between reviews.

    Looked up one pair at a time (a point query costs microseconds); new ones are written
    together by ``flush``. Keyed by the pair's exact hashes, so a result holds wherever the
    same two pieces of code meet again.
    """

    def __init__(self, store: Cache | None) -> None:
        self.store = store
        self.known: dict[tuple[str, str], tuple[float, float] | None] = {}
        self.new: dict[tuple[str, str], tuple[float, float]] = {}

    def _key(self, pair: tuple[str, str]) -> str:
        return f"match/{ANALYZER_VERSION}/{pair[0]}/{pair[1]}"

    def __getitem__(self, pair: tuple[str, str]) -> tuple[float, float]:
        if pair not in self.known:
            raw = self.store.get_value(self._key(pair)) if self.store else None
            self.known[pair] = struct.unpack("<dd", raw) if raw and len(raw) == 16 else None
        found = self.known[pair]
        if found is None:
            raise KeyError(pair)
        return found

    def __setitem__(self, pair: tuple[str, str], value: tuple[float, float]) -> None:
        self.known[pair] = self.new[pair] = value

    def __delitem__(self, pair: tuple[str, str]) -> None:
        self.known.pop(pair, None)
        self.new.pop(pair, None)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return (pair for pair, value in self.known.items() if value is not None)

    def __len__(self) -> int:
        return sum(1 for value in self.known.values() if value is not None)

    def flush(self) -> None:
        """Write the similarities computed since the last flush."""
        if self.store and self.new:
            self.store.put_encoded(
                (self._key(pair), struct.pack("<dd", *value)) for pair, value in self.new.items()
            )
        self.new.clear()


def _relocate(scan: ModuleScan, path: str) -> ModuleScan:
    return ModuleScan(
        path=path,
        units=tuple(replace(u, unit=replace(u.unit, path=path)) for u in scan.units),
        skip=None if scan.skip is None else Skip(path=path, reason=scan.skip.reason),
    )


def _excluded(paths: Iterable[str], config: RepoConfig) -> tuple[list[str], list[Skip]]:
    """Split paths into kept ones and one skip entry per excluded top folder."""
    kept: list[str] = []
    groups: dict[tuple[str, str], int] = {}
    for path in paths:
        glob = config.excluded_by(path)
        if glob is None:
            kept.append(path)
            continue
        folder = _matched_folder(path, glob)
        groups[(folder, glob)] = groups.get((folder, glob), 0) + 1
    skips = [
        Skip(path=folder, reason=f"excluded by {glob!r} ({count} Python file{'s' * (count != 1)})")
        for (folder, glob), count in sorted(groups.items())
    ]
    return kept, skips


def _matched_folder(path: str, glob: str) -> str:
    parts = path.split("/")
    literal = [p for p in glob.split("/") if p and "*" not in p and "?" not in p]
    for i, part in enumerate(parts[:-1]):
        if part in literal:
            return "/".join(parts[: i + 1]) + "/"
    return path


def _triaged(report: Report) -> Report:
    """The report with the findings whose idealized diff says not to act on them set apart."""
    ideal = report.idealized
    left = {f.id for f in report.findings if f.id in ideal and not ideal[f.id].acted}
    return replace(
        report,
        findings=tuple(f for f in report.findings if f.id not in left),
        dismissed=tuple(f for f in report.findings if f.id in left),
    )


def review(
    source: CodeSource,
    batch: Batch,
    config: RepoConfig,
    *,
    repo: str,
    store: Cache | None = None,
    progress: Progress = _no_progress,
    config_problem: str | None = None,
    workers: int | None = None,
    idealizer: Idealizer | None = None,
) -> tuple[Report, ReviewStats]:
    """Analyse one batch; with an idealizer, give each finding and hotspot its idealized diff."""
    limits = config.scan_limits()
    scanner = Scanner(source, store, limits, progress, workers)
    skipped: list[Skip] = []
    if config_problem:
        skipped.append(Skip(path=CONFIG_PATH, reason=f"{config_problem}; defaults used"))
    for branch in batch.branches:
        if branch.note:
            skipped.append(Skip(path=f"branch {branch.id}", reason=branch.note))

    head_tree = source.tree(batch.head_sha)
    python, excluded = _excluded(sorted(p for p in head_tree if is_python(p)), config)
    skipped.extend(excluded)
    if not python:
        skipped.append(
            Skip(path=".", reason="no Python files at the batch head: only hotspots are reported")
        )
    changed_at_head = {
        change.path
        for branch in batch.branches
        for change in branch.files
        if change.path in head_tree and is_python(change.path)
    }
    kept = set(python)
    head_files = {p: head_tree[p] for p in python}
    # Each branch's Python files before and after it: units for attribution and symbol hotspots.
    # Scanned together with the head, so that one process pool does all the parsing.
    requests: list[Request] = [(head_files, {p for p in changed_at_head if p in kept})]
    for branch in batch.branches:
        olds = [c.old_path for c in branch.files if c.old_path and is_python(c.old_path)]
        news = [c.path for c in branch.files if c.path and is_python(c.path)]
        requests.append((dict(source.tree(branch.parent_sha, olds)) if olds else {}, set()))
        requests.append((dict(source.tree(branch.merge_sha, news)) if news else {}, set()))
    scans, *sides = scanner.scan_many(requests)
    scanner.stats.files = len(head_files)

    branch_changes: list[BranchChange] = []
    for i, branch in enumerate(batch.branches):
        progress("branches", i, len(batch.branches))
        before, after = sides[2 * i], sides[2 * i + 1]
        branch_changes.append(
            BranchChange(
                id=branch.id,
                files=branch.files,
                before={p: tuple(u.unit for u in s.units) for p, s in before.items()},
                after={p: tuple(u.unit for u in s.units) for p, s in after.items()},
            )
        )
    progress("branches", len(batch.branches), len(batch.branches))
    overlap = analyse_overlap(branch_changes)

    index: list[IndexedUnit] = []
    for path in sorted(scans):
        scan = scans[path]
        if scan.skip is not None:
            skipped.append(scan.skip)
        index.extend(scan.units)
    scanner.stats.units = len(index)
    head_keys = {u.unit.key for u in index}
    queries = [k for k in (*overlap.introduced, *overlap.changed) if k in head_keys]
    scanner.stats.queries = len(set(queries))

    # Redundancy reads the modules of its candidates, the idealizer every head file: one reader
    # for both. Locally one `git cat-file --batch` of every head file (~0.1 s for 19 MB) costs
    # less than a git process per candidate module (~160 on the benchmark batch).
    reader = CodeReader(source, batch.head_sha, dict(head_tree))
    if queries and source.bulk_reads:
        reader.preload(head_files)

    def head_source(path: str) -> str | None:
        # Python modules, and the other files the detector asks about (packaging manifests).
        return reader.text(path) if path in head_tree else None

    progress("redundancy", 0, 1)
    matches = MatchCache(store)
    findings = find_redundancy(
        index,
        queries,
        {k: v for k, v in overlap.introduced.items() if k in head_keys},
        head_source,
        config.redundancy_options(),
        matches,
    )
    scanner.stats.extra["matches_computed"] = len(matches.new)
    matches.flush()
    progress("redundancy", 1, 1)
    report = Report(
        repo=repo,
        base=batch.base,
        head_sha=batch.head_sha,
        batch=batch.branches,
        hotspots=tuple(h for h in overlap.hotspots if not config.hotspot_excluded(h.path)),
        findings=findings,
        skipped=tuple(skipped),
    )
    if idealizer is not None:
        progress("idealize", 0, 1)
        idealized, llm = idealizer.run(report, reader)
        report = replace(report, idealized=idealized, llm=llm)
        if config.model_triage:
            report = _triaged(report)
        progress("idealize", 1, 1)
    return report, scanner.stats
