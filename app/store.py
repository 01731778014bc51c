"""Everything idealdiff keeps on disk, behind one module: SQLite in WAL mode.

Today it holds the analysis cache (one scanned module per git blob sha); the job queue and the
ledgers of the App live here too, so moving to another database changes this module only.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from analyzers import Features, IndexedUnit, ModuleScan, Skip, Unit

SCHEMA = """
CREATE TABLE IF NOT EXISTS analysis_cache (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
"""


def _encode(scan: ModuleScan) -> bytes:
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
        ]
        for u in scan.units
    ]
    return zlib.compress(json.dumps(payload, separators=(",", ":")).encode(), 1)


def _decode(blob: bytes, path: str) -> ModuleScan:
    """Rebuild a scan; the cached path is replaced by ``path`` (one blob may live at many)."""
    payload = json.loads(zlib.decompress(blob))
    if "skip" in payload:
        return ModuleScan(path=path, skip=Skip(path=path, reason=payload["skip"]))
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
            ),
        )
        for row in payload["units"]
    )
    return ModuleScan(path=path, units=units)


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
        """Close the connection."""
        self._db.close()

    def get_scans(self, wanted: Mapping[str, str]) -> dict[str, ModuleScan]:
        """Cached scans for ``{cache key: path}``; keys not in the cache are absent."""
        found: dict[str, ModuleScan] = {}
        keys = list(wanted)
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT key, value FROM analysis_cache WHERE key IN ({marks})", chunk
                ).fetchall()
                for key, value in rows:
                    try:
                        found[key] = _decode(value, wanted[key])
                    except (ValueError, KeyError, IndexError, TypeError, zlib.error):
                        continue  # a damaged entry is simply recomputed
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

    def put_scans(self, items: Iterable[tuple[str, ModuleScan]]) -> None:
        """Store scans under their cache keys."""
        rows = [(key, _encode(scan)) for key, scan in items]
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO analysis_cache (key, value) VALUES (?, ?)", rows
            )
