"""Build the benchmark repository: a pinned SQLAlchemy sdist as one base commit on ``main``, then
a batch of ten branches merged into it the way GitHub merges pull requests.

Everything is deterministic: fixed dates, identities from the environment, no global git
configuration (``GIT_CONFIG_GLOBAL=/dev/null``), so the same sdist always gives the same shas.

Three of the branches copy an existing SQLAlchemy function under a new name into another module
(``INJECTED``): the redundancy a review of the batch should report.
"""

from __future__ import annotations

import ast
import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import textwrap
import tokenize
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# Bump when anything below changes what the repository contains: the repository is rebuilt.
SPEC_VERSION = "3"
BASE_DATE = "2024-10-15T12:00:00+00:00"
BASE_TAG = "bench-base"


@dataclass(frozen=True)
class Modify:
    """Insert a small change at the top of an existing function's body."""

    path: str
    qualname: str
    style: str  # "guard" (raise on None), "strip" (normalize a str argument) or "note"
    param: str = ""


@dataclass(frozen=True)
class Copy:
    """Copy a real function under a new name into another module (the redundancy to catch)."""

    src_path: str
    src_qualname: str
    dst_path: str
    new_name: str
    renames: dict[str, str] = field(default_factory=dict)
    edits: tuple[tuple[str, str], ...] = ()  # exact text replacements after renaming
    expected: str = ""  # the clone type it is meant to be


@dataclass(frozen=True)
class BranchSpec:
    number: int
    title: str
    author: str
    modify: tuple[Modify, ...]
    new_files: dict[str, str]
    copy: Copy | None = None


# ---------------------------------------------------------------------------------------------
# The new modules each branch adds (distinct code, a few functions each).

NEW_URL_HELPERS = '''\
"""Small helpers around database URLs used by the engine factories."""

from __future__ import annotations

import re
from typing import Optional
from typing import Tuple

_PASSWORD = re.compile(r"(?P<head>://[^:/@]+:)(?P<secret>[^@]*)(?P<tail>@)")


def mask_password_in_dsn(dsn: str, mask: str = "***") -> str:
    """Hide the password part of a DSN string, for logging."""
    if "@" not in dsn:
        return dsn
    return _PASSWORD.sub(lambda m: m.group("head") + mask + m.group("tail"), dsn, count=1)


def split_host_port(netloc: str, default_port: Optional[int] = None) -> Tuple[str, Optional[int]]:
    """Split ``host:port`` (IPv6 addresses in brackets) into its parts."""
    if netloc.startswith("["):
        host, _, rest = netloc[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif netloc.count(":") == 1:
        host, _, port_text = netloc.partition(":")
    else:
        host, port_text = netloc, ""
    if not port_text:
        return host, default_port
    if not port_text.isdigit():
        raise ValueError(f"invalid port in {netloc!r}")
    return host, int(port_text)


def normalize_driver_name(drivername: str) -> str:
    """``postgresql+Psycopg2 `` -> ``postgresql+psycopg2``; the backend alone is kept as is."""
    backend, plus, driver = drivername.strip().partition("+")
    backend = backend.lower()
    if backend == "postgres":
        backend = "postgresql"
    return backend + plus + driver.strip().lower() if plus else backend
'''

NEW_CONNECT_ARGS = '''\
"""Coercion of ``connect_args`` and query-string options to the types DBAPIs expect."""

from __future__ import annotations

from typing import Any
from typing import Dict
from typing import Iterable
from typing import Optional
from typing import Type

from ..util.langhelpers import asbool

_INT_OPTIONS = ("connect_timeout", "port", "pool_size", "max_overflow")


def int_options(options: Dict[str, Any], names: Iterable[str] = _INT_OPTIONS) -> Dict[str, Any]:
    """A copy of ``options`` with the integer-valued ones converted from strings."""
    result = dict(options)
    for name in names:
        value = result.get(name)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            result[name] = int(value)
    return result


def drop_empty_options(options: Dict[str, Any]) -> Dict[str, Any]:
    """Options whose value is neither None nor an empty string."""
    return {key: value for key, value in options.items() if value not in (None, "")}
'''

NEW_TABLE_STATS = '''\
"""Counting what a statement touches, for the statement cache statistics."""

from __future__ import annotations

from collections import Counter
from typing import Dict
from typing import Iterable


def table_histogram(names: Iterable[str]) -> Dict[str, int]:
    """How many times each table name occurs, most frequent first."""
    counts = Counter(name.lower() for name in names if name)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def widest_tables(widths: Dict[str, int], limit: int = 5) -> list:
    """The ``limit`` tables with the most columns, as (name, width) pairs."""
    ranked = sorted(widths.items(), key=lambda item: (-item[1], item[0]))
    return ranked[:limit]


def describe_usage(histogram: Dict[str, int]) -> str:
    """A one-line summary such as ``users x3, orders x1``."""
    if not histogram:
        return "no tables"
    parts = [f"{name} x{count}" for name, count in histogram.items()]
    if len(parts) > 6:
        parts = parts[:6] + [f"... {len(parts) - 6} more"]
    return ", ".join(parts)
'''

NEW_SESSION_DIAGNOSTICS = '''\
"""Diagnostics for Session.merge(): why an instance was loaded, reused or created."""

from __future__ import annotations

import logging
from typing import Any
from typing import List
from typing import Tuple

log = logging.getLogger(__name__)

_EVENTS: List[Tuple[str, str]] = []


def record_merge_event(kind: str, key: Any) -> None:
    """Remember one merge decision (``loaded``, ``reused``, ``created``) for a key."""
    if kind not in ("loaded", "reused", "created"):
        raise ValueError(f"unknown merge event {kind!r}")
    _EVENTS.append((kind, repr(key)))
    if log.isEnabledFor(logging.DEBUG):
        log.debug("merge %s %r", kind, key)


def merge_summary() -> str:
    """Counts of each merge decision since the last reset."""
    totals = {"loaded": 0, "reused": 0, "created": 0}
    for kind, _ in _EVENTS:
        totals[kind] += 1
    return " ".join(f"{kind}={count}" for kind, count in totals.items())


def reset_merge_events() -> int:
    """Forget the recorded events; return how many there were."""
    count = len(_EVENTS)
    _EVENTS.clear()
    return count
'''

NEW_SESSION_DIAGNOSTICS_TEST = """\
from sqlalchemy.orm import _diagnostics
from sqlalchemy.testing import eq_
from sqlalchemy.testing import fixtures


class MergeDiagnosticsTest(fixtures.TestBase):
    def teardown_test(self):
        _diagnostics.reset_merge_events()

    def test_summary_counts_each_kind(self):
        _diagnostics.record_merge_event("loaded", (1,))
        _diagnostics.record_merge_event("created", (2,))
        _diagnostics.record_merge_event("created", (3,))
        eq_(_diagnostics.merge_summary(), "loaded=1 reused=0 created=2")

    def test_reset_returns_count(self):
        _diagnostics.record_merge_event("reused", (1,))
        eq_(_diagnostics.reset_merge_events(), 1)
        eq_(_diagnostics.reset_merge_events(), 0)
"""

NEW_CYCLE_REPORT = '''\
"""Readable reports of circular dependencies between mappers in a flush."""

from __future__ import annotations

from typing import Any
from typing import Iterable
from typing import List
from typing import Sequence


def format_cycle(path: Sequence[Any]) -> str:
    """``A -> B -> C -> A`` for a cycle given as its list of nodes."""
    if not path:
        return "(empty)"
    names = [getattr(node, "__name__", None) or str(node) for node in path]
    return " -> ".join(names + [names[0]])


def shortest_cycles(cycles: Iterable[Sequence[Any]], limit: int = 3) -> List[str]:
    """The ``limit`` shortest cycles, formatted, shortest first."""
    ordered = sorted(cycles, key=lambda c: (len(c), format_cycle(c)))
    return [format_cycle(c) for c in ordered[:limit]]


def cycle_hint(count: int) -> str:
    """Advice shown under a CircularDependencyError."""
    if count == 0:
        return ""
    return (
        f"{count} dependency cycle(s) found; consider post_update=True on one "
        "of the relationships involved"
    )
'''

NEW_REFLECTION_CACHE = '''\
"""A bounded cache of reflected column lists, keyed by schema and table name."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any
from typing import Dict
from typing import List
from typing import Optional
from typing import Tuple

Key = Tuple[Optional[str], str]


class ReflectionCache:
    """Least recently used entries go first once ``capacity`` is reached."""

    def __init__(self, capacity: int = 256, ttl: Optional[float] = None) -> None:
        self.capacity = capacity
        self.ttl = ttl
        self._data: "OrderedDict[Key, Tuple[float, List[Dict[str, Any]]]]" = OrderedDict()

    def get(self, schema: Optional[str], table: str) -> Optional[List[Dict[str, Any]]]:
        entry = self._data.get((schema, table))
        if entry is None:
            return None
        stamp, columns = entry
        if self.ttl is not None and time.monotonic() - stamp > self.ttl:
            del self._data[(schema, table)]
            return None
        self._data.move_to_end((schema, table))
        return columns

    def put(self, schema: Optional[str], table: str, columns: List[Dict[str, Any]]) -> None:
        self._data[(schema, table)] = (time.monotonic(), columns)
        self._data.move_to_end((schema, table))
        while len(self._data) > self.capacity:
            self._data.popitem(last=False)
'''

NEW_ORDER_HELPERS = '''\
"""Helpers for ORDER BY clauses given as strings in legacy code."""

from __future__ import annotations

from typing import List
from typing import Tuple


def parse_order_spec(spec: str) -> List[Tuple[str, bool]]:
    """``"name, created desc"`` -> ``[("name", False), ("created", True)]``."""
    result = []
    for item in spec.split(","):
        words = item.split()
        if not words:
            continue
        descending = len(words) > 1 and words[-1].lower() == "desc"
        result.append((words[0], descending))
    return result


def render_order_spec(items: List[Tuple[str, bool]]) -> str:
    """The inverse of ``parse_order_spec``."""
    return ", ".join(name + (" DESC" if desc else "") for name, desc in items)


def reverse_order_spec(items: List[Tuple[str, bool]]) -> List[Tuple[str, bool]]:
    """Every direction flipped, for keyset pagination backwards."""
    return [(name, not desc) for name, desc in items]
'''

NEW_NAMES = '''\
"""Case rules for identifiers across backends."""

from __future__ import annotations

_UPPER_CASE_BACKENDS = frozenset({"oracle", "db2", "firebird"})


def folds_to_upper(backend: str) -> bool:
    """Whether unquoted identifiers fold to upper case on ``backend``."""
    return backend.lower() in _UPPER_CASE_BACKENDS


def needs_quotes(name: str, reserved: frozenset = frozenset()) -> bool:
    """Whether ``name`` must be quoted: mixed case, odd characters or a reserved word."""
    if not name:
        return True
    if name.lower() in reserved:
        return True
    if not (name[0].isalpha() or name[0] == "_"):
        return True
    return any(not (ch.isalnum() or ch == "_") for ch in name) or name != name.lower()
'''

NEW_POOL_METRICS = '''\
"""Counters of checkouts and returns, exported by the pool events."""

from __future__ import annotations

import threading
from typing import Dict


class PoolMetrics:
    """Thread-safe counters of a connection pool's life."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Dict[str, int] = {"checkout": 0, "checkin": 0, "invalidate": 0}

    def incr(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + amount

    def snapshot(self) -> Dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def in_use(self) -> int:
        counts = self.snapshot()
        return max(counts["checkout"] - counts["checkin"] - counts["invalidate"], 0)
'''

NEW_REGISTRY_STATS = '''\
"""How many listeners are registered per event name, for debugging leaks."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from typing import DefaultDict
from typing import Dict
from typing import Iterable
from typing import Tuple


def listener_counts(pairs: Iterable[Tuple[str, Any]]) -> Dict[str, int]:
    """Count (identifier, listener) pairs by identifier."""
    counts: DefaultDict[str, int] = defaultdict(int)
    for identifier, _listener in pairs:
        counts[identifier] += 1
    return dict(counts)


def suspicious_counts(counts: Dict[str, int], threshold: int = 50) -> Dict[str, int]:
    """The identifiers with more listeners than ``threshold``: a likely leak."""
    return {name: n for name, n in counts.items() if n > threshold}


def format_counts(counts: Dict[str, int]) -> str:
    lines = [f"{name:<30} {n:>6}" for name, n in sorted(counts.items())]
    return "\\n".join(lines) if lines else "(no listeners)"
'''

# ---------------------------------------------------------------------------------------------
# The batch.

INJECTED: tuple[Copy, ...] = (
    Copy(
        src_path="lib/sqlalchemy/util/langhelpers.py",
        src_qualname="coerce_kw_type",
        dst_path="lib/sqlalchemy/engine/_connect_args.py",
        new_name="coerce_connect_arg",
        expected="type-2",
    ),
    Copy(
        src_path="lib/sqlalchemy/util/topological.py",
        src_qualname="find_cycles",
        dst_path="lib/sqlalchemy/orm/dependency.py",
        new_name="detect_dependency_cycles",
        renames={
            "tuples": "dependency_pairs",
            "allitems": "all_states",
            "edges": "graph",
            "nodes_to_test": "candidates",
            "output": "in_cycle",
            "stack": "path",
            "todo": "remaining",
            "top": "current",
            "cyc": "cycle",
        },
        expected="type-2",
    ),
    Copy(
        src_path="lib/sqlalchemy/util/langhelpers.py",
        src_qualname="quoted_token_parser",
        dst_path="lib/sqlalchemy/sql/naming.py",
        new_name="parse_qualified_name",
        renames={
            "value": "name",
            "state": "in_quotes",
            "result": "parts",
            "idx": "pos",
            "lv": "length",
            "char": "ch",
            "token": "part",
        },
        edits=(
            ("    if '\"' not in name:\n", "    name = name.strip()\n    if '\"' not in name:\n"),
            (
                '    return ["".join(part) for part in parts]',
                '    return ["".join(part) for part in parts if part]',
            ),
        ),
        expected="type-3",
    ),
)

BRANCHES: tuple[BranchSpec, ...] = (
    BranchSpec(
        1,
        "Validate database URLs early and add URL helpers",
        "Alice Example",
        (
            Modify("lib/sqlalchemy/engine/url.py", "make_url", "guard", "name_or_url"),
            Modify(
                "lib/sqlalchemy/engine/url.py", "URL.update_query_string", "strip", "query_string"
            ),
        ),
        {"lib/sqlalchemy/engine/_url_helpers.py": NEW_URL_HELPERS},
    ),
    BranchSpec(
        2,
        "Coerce connect_args from the query string",
        "Bob Example",
        (
            Modify("lib/sqlalchemy/engine/create.py", "create_pool_from_url", "guard", "url"),
            Modify("lib/sqlalchemy/util/_collections.py", "to_list", "note"),
        ),
        {"lib/sqlalchemy/engine/_connect_args.py": NEW_CONNECT_ARGS},
        INJECTED[0],
    ),
    BranchSpec(
        3,
        "Table usage statistics for the statement cache",
        "Carol Example",
        (
            Modify("lib/sqlalchemy/sql/util.py", "find_tables", "guard", "clause"),
            Modify("lib/sqlalchemy/sql/util.py", "bind_values", "guard", "clause"),
        ),
        {"lib/sqlalchemy/sql/_table_stats.py": NEW_TABLE_STATS},
    ),
    BranchSpec(
        4,
        "Session.merge diagnostics",
        "Dan Example",
        (
            Modify("lib/sqlalchemy/orm/session.py", "Session.merge", "guard", "instance"),
            Modify("lib/sqlalchemy/orm/session.py", "make_transient", "guard", "instance"),
        ),
        {
            "lib/sqlalchemy/orm/_diagnostics.py": NEW_SESSION_DIAGNOSTICS,
            "test/orm/test_merge_diagnostics.py": NEW_SESSION_DIAGNOSTICS_TEST,
        },
    ),
    BranchSpec(
        5,
        "Report dependency cycles in the unit of work",
        "Erin Example",
        (
            Modify("lib/sqlalchemy/orm/util.py", "identity_key", "note"),
            Modify("lib/sqlalchemy/orm/util.py", "with_parent", "guard", "instance"),
        ),
        {"lib/sqlalchemy/orm/_cycle_report.py": NEW_CYCLE_REPORT},
        INJECTED[1],
    ),
    BranchSpec(
        6,
        "Cache reflected columns",
        "Frank Example",
        (
            Modify(
                "lib/sqlalchemy/engine/reflection.py",
                "Inspector.get_columns",
                "strip",
                "table_name",
            ),
            Modify(
                "lib/sqlalchemy/dialects/sqlite/base.py",
                "SQLiteDialect._resolve_type_affinity",
                "strip",
                "type_",
            ),
        ),
        {"lib/sqlalchemy/engine/_reflection_cache.py": NEW_REFLECTION_CACHE},
    ),
    BranchSpec(
        7,
        "Fix ORDER BY unwrapping of labels",
        "Grace Example",
        (
            Modify("lib/sqlalchemy/sql/util.py", "unwrap_order_by", "guard", "clause"),
            Modify("lib/sqlalchemy/sql/util.py", "splice_joins", "note"),
        ),
        {"lib/sqlalchemy/sql/_order_helpers.py": NEW_ORDER_HELPERS},
    ),
    BranchSpec(
        8,
        "Parse schema-qualified names",
        "Heidi Example",
        (
            Modify(
                "lib/sqlalchemy/dialects/postgresql/base.py",
                "PGCompiler.visit_ilike_op_binary",
                "guard",
                "binary",
            ),
            Modify(
                "lib/sqlalchemy/dialects/mysql/base.py", "MySQLCompiler.visit_cast", "guard", "cast"
            ),
        ),
        {"lib/sqlalchemy/sql/_names.py": NEW_NAMES},
        INJECTED[2],
    ),
    BranchSpec(
        9,
        "Harden the pool's return path and count checkouts",
        "Ivan Example",
        (
            Modify("lib/sqlalchemy/pool/base.py", "_finalize_fairy", "note"),
            Modify("lib/sqlalchemy/pool/base.py", "_ConnectionRecord.checkout", "guard", "pool"),
        ),
        {"lib/sqlalchemy/pool/_pool_metrics.py": NEW_POOL_METRICS},
    ),
    BranchSpec(
        10,
        "Listener registry statistics",
        "Judy Example",
        (
            Modify("lib/sqlalchemy/event/api.py", "listen", "guard", "fn"),
            Modify("lib/sqlalchemy/event/api.py", "listens_for", "guard", "identifier"),
        ),
        {"lib/sqlalchemy/event/_registry_stats.py": NEW_REGISTRY_STATS},
    ),
)


# ---------------------------------------------------------------------------------------------
# Source transformations.


def _find_def(tree: ast.Module, qualname: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    """The last definition with this qualname (the implementation after any @overload stubs)."""
    found: list[ast.AST] = []

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                qual = f"{prefix}.{child.name}" if prefix else child.name
                if qual == qualname:
                    found.append(child)
                walk(child, qual)

    walk(tree, "")
    defs = [n for n in found if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    if not defs:
        raise LookupError(f"no function {qualname}")
    return defs[-1]


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def modify_function(text: str, change: Modify, number: int) -> str:
    """Insert a few lines at the top of a function body (after its docstring)."""
    tree = ast.parse(text)
    node = _find_def(tree, change.qualname)
    first = node.body[0]
    at = first.end_lineno if _is_docstring(first) else first.lineno - 1
    follow = node.body[1] if _is_docstring(first) and len(node.body) > 1 else first
    ind = " " * follow.col_offset
    name = change.qualname.rsplit(".", 1)[-1]
    p = change.param
    if change.style == "guard":
        new = [
            f"{ind}if {p} is None:  # PR #{number}: fail early with a clear message",
            f'{ind}    raise ValueError("{name}() requires a value for {p!r}")',
        ]
    elif change.style == "strip":
        new = [
            f"{ind}# PR #{number}: tolerate surrounding whitespace",
            f"{ind}if isinstance({p}, str):",
            f"{ind}    {p} = {p}.strip()",
        ]
    else:
        new = [f"{ind}# PR #{number}: see the changelog entry for why this path is hot"]
    lines = text.split("\n")
    lines[at:at] = new
    out = "\n".join(lines)
    ast.parse(out)  # still valid Python
    return out


def _rename(source: str, renames: dict[str, str]) -> str:
    """Rename identifiers (not attributes) by token, keeping the layout."""
    if not renames:
        return source
    edits: list[tuple[int, int, int, str]] = []
    prev: tokenize.TokenInfo | None = None
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.NAME and tok.string in renames:
            if not (prev is not None and prev.type == tokenize.OP and prev.string == "."):
                edits.append((tok.start[0], tok.start[1], tok.end[1], renames[tok.string]))
        if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT):
            prev = tok
    lines = source.splitlines(keepends=True)
    for row, start, end, new in sorted(edits, reverse=True):
        line = lines[row - 1]
        lines[row - 1] = line[:start] + new + line[end:]
    return "".join(lines)


def copied_function(src_text: str, copy: Copy) -> str:
    """The source of the copied function, renamed, at module level."""
    tree = ast.parse(src_text)
    node = _find_def(tree, copy.src_qualname)
    start = min([node.lineno] + [d.lineno for d in node.decorator_list])
    lines = src_text.splitlines(keepends=True)[start - 1 : node.end_lineno]
    body = textwrap.dedent("".join(lines))
    body = _rename(body, {copy.src_qualname.rsplit(".", 1)[-1]: copy.new_name, **copy.renames})
    for old, new in copy.edits:
        if body.count(old) != 1:
            raise ValueError(f"edit {old!r} matches {body.count(old)} times in the copy")
        body = body.replace(old, new)
    ast.parse(body)
    return body


def apply_copy(root: Path, copy: Copy) -> None:
    src = (root / copy.src_path).read_text(encoding="utf-8")
    func = copied_function(src, copy)
    dst = root / copy.dst_path
    text = dst.read_text(encoding="utf-8")
    text = text.rstrip("\n") + "\n\n\n" + func.rstrip("\n") + "\n"
    ast.parse(text)
    dst.write_text(text, encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Git.


def git_env(name: str, email: str, date: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GIT_CONFIG_GLOBAL="/dev/null",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME=name,
        GIT_AUTHOR_EMAIL=email,
        GIT_AUTHOR_DATE=date,
        GIT_COMMITTER_NAME="Bench Merge Bot",
        GIT_COMMITTER_EMAIL="merge-bot@bench.invalid",
        GIT_COMMITTER_DATE=date,
        LC_ALL="C",
        TZ="UTC",
    )
    return env


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false", *args],
        cwd=repo,
        env=env or git_env("Bench", "bench@bench.invalid", BASE_DATE),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout.strip()


def _email(author: str) -> str:
    return author.split()[0].lower() + "@example.com"


def _extract(tarball: Path, dest: Path) -> None:
    with tarfile.open(tarball) as tar:
        members = tar.getmembers()
        top = members[0].name.split("/")[0]
        for member in members:
            parts = member.name.split("/", 1)
            if len(parts) < 2 or parts[0] != top or not parts[1]:
                continue
            member.name = parts[1]
            tar.extract(member, dest, filter="data")


def _stamp(tarball: Path, branches: int, keep: tuple[str, ...]) -> str:
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()[:16]
    spec = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    return f"spec={SPEC_VERSION} sdist={digest} builder={spec} branches={branches} keep={keep}"


def _touched_by_spec() -> set[str]:
    paths: set[str] = set()
    for spec in BRANCHES:
        paths.update(m.path for m in spec.modify)
        paths.update(spec.new_files)
        if spec.copy is not None:
            paths.update((spec.copy.src_path, spec.copy.dst_path))
    return paths


def _guard_param(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    names = [a.arg for a in node.args.posonlyargs + node.args.args if a.arg not in ("self", "cls")]
    return names[0] if names else None


def generated_branches(root: Path, count: int, first: int = 11) -> list[BranchSpec]:
    """``count`` more branches, each changing two functions of one module no other branch touches.

    Used for the batch-size scaling runs (1, 10, 50 branches). They add no code of their own, so
    they add queries (changed units) but no new redundancy.
    """
    taken = _touched_by_spec()
    specs: list[BranchSpec] = []
    for path in sorted(p.relative_to(root).as_posix() for p in root.glob("lib/sqlalchemy/**/*.py")):
        if len(specs) == count:
            break
        if path in taken or path.endswith("__init__.py"):
            continue
        text = (root / path).read_text(encoding="utf-8")
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        funcs: list[tuple[str, str]] = []  # (qualname, param)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                param = _guard_param(node)
                if param and node.body and len(node.body) > 1:
                    funcs.append((node.name, param))
        if len(funcs) < 2:
            continue
        number = first + len(specs)
        mods = (
            Modify(path, funcs[0][0], "guard", funcs[0][1]),
            Modify(path, funcs[-1][0], "note"),
        )
        try:
            modify_function(modify_function(text, mods[0], number), mods[1], number)
        except (LookupError, SyntaxError):
            continue
        module = path.rsplit("/", 1)[-1][:-3]
        specs.append(
            BranchSpec(number, f"Validate arguments in {module}", "Generated Example", mods, {})
        )
    if len(specs) < count:
        raise ValueError(f"only {len(specs)} modules qualify for generated branches")
    return specs


def build_repo(
    tarball: Path,
    repo: Path,
    *,
    branches: int = 10,
    keep: tuple[str, ...] = (),
    log: Callable[[str], object] = print,
) -> tuple[str, str]:
    """(base sha, head sha) of the benchmark repository, built from scratch when stale.

    ``branches``: how many pull requests the batch has: the first ``branches`` of ``BRANCHES``,
    then generated ones (``generated_branches``) past ten. ``keep``: when given, only files under
    these path prefixes are imported (the repository-size scaling runs); the files the batch
    touches are always kept.
    """
    stamp_file = repo.parent / (repo.name + ".stamp")
    stamp = _stamp(tarball, branches, keep)
    if (repo / ".git").exists() and stamp_file.exists() and stamp_file.read_text() == stamp:
        try:
            return git(repo, "rev-parse", BASE_TAG), git(repo, "rev-parse", "main")
        except RuntimeError:
            pass
    if repo.exists():
        shutil.rmtree(repo)
    repo.mkdir(parents=True)
    log(f"building {repo.name}: {tarball.name}, {branches} branches, keep={list(keep) or 'all'}")
    _extract(tarball, repo)
    specs = list(BRANCHES[:branches])
    if branches > len(BRANCHES):
        specs += generated_branches(repo, branches - len(BRANCHES), len(BRANCHES) + 1)
    if keep:
        needed = _touched_by_spec() | {m.path for s in specs for m in s.modify}
        for path in sorted(repo.rglob("*"), reverse=True):
            rel = path.relative_to(repo).as_posix()
            if path.is_file() and rel not in needed and not rel.startswith(keep):
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    base_env = git_env("Bench Importer", "importer@bench.invalid", BASE_DATE)
    git(repo, "commit", "-q", "-m", f"Import {tarball.name}", env=base_env)
    git(repo, "tag", BASE_TAG)
    base = git(repo, "rev-parse", "HEAD")

    for i, spec in enumerate(specs):
        n = spec.number
        date = _date("2024-10-16", i)
        env = git_env(spec.author, _email(spec.author), date)
        git(repo, "checkout", "-q", "-b", f"bench/branch-{n}", BASE_TAG)
        for change in spec.modify:
            path = repo / change.path
            path.write_text(modify_function(path.read_text(encoding="utf-8"), change, n))
        for rel, text in spec.new_files.items():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            (repo / rel).write_text(text, encoding="utf-8")
        if spec.copy is not None:
            apply_copy(repo, spec.copy)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", spec.title, env=env)

    git(repo, "checkout", "-q", "main")
    for i, spec in enumerate(specs):
        n = spec.number
        env = git_env(spec.author, _email(spec.author), _date("2024-10-17", i))
        message = f"Merge pull request #{n} from bench/branch-{n}\n\n{spec.title}"
        git(repo, "merge", "-q", "--no-ff", "-m", message, f"bench/branch-{n}", env=env)
    git(repo, "gc", "-q")
    head = git(repo, "rev-parse", "main")
    stamp_file.write_text(stamp)
    return base, head


def _date(day: str, i: int) -> str:
    """Hourly from 09:00 for the first ten (their dates as in SPEC 3), then every five minutes."""
    if i < 10:
        return f"{day}T{9 + i:02d}:00:00+00:00"
    minutes = (i - 10) * 5
    return f"{day}T{19 + minutes // 60:02d}:{minutes % 60:02d}:00+00:00"


def injected_keys() -> list[tuple[Copy, tuple[str, str], tuple[str, str]]]:
    """(copy, (copy path, copy qualname), (original path, original qualname)) per injection."""
    return [(c, (c.dst_path, c.new_name), (c.src_path, c.src_qualname)) for c in INJECTED]
