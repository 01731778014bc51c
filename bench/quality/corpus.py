"""The source code of the benchmark: pinned PyPI sdists, and the functions chosen from them.

Donor functions come from a few pure-Python packages; the base project (the repository the batch
is merged into) is another pinned sdist. Every function kept is of reasonable size and has no
accidental clone in the corpus (no other kept function or base function shares more than a small
share of its identifier-blind token shingles), so that every clone a detector reports is either
an injected one or a false positive.
"""

from __future__ import annotations

import ast
import io
import json
import subprocess
import sys
import tarfile
import textwrap
import tokenize
from dataclasses import asdict, dataclass
from pathlib import Path

WORK = Path(__file__).resolve().parents[1] / "work"
SDIST_DIR = WORK / "sdist"

# Pinned sdists. Donors give the injected functions; BASE is the project the batch is merged into.
DONORS = {
    "boltons": "24.0.0",
    "more-itertools": "10.5.0",
    "python-dateutil": "2.9.0.post0",
    "sqlparse": "0.5.1",
    "markdown": "3.7",
    "requests": "2.32.3",
}
BASE = ("click", "8.1.7")

MIN_STATEMENTS = 6
MIN_LINES = 8
MAX_LINES = 60
SHINGLE = 5
MAX_JACCARD = 0.3  # a function sharing more blind shingles with another one is dropped


@dataclass(frozen=True)
class Func:
    """One real function: where it comes from and its (dedented) source."""

    package: str
    path: str  # inside the sdist (or the base repository)
    qualname: str
    name: str
    source: str
    statements: int
    start_line: int = 0  # in its file (base functions only)
    end_line: int = 0


def sdist_root(name: str, version: str) -> Path:
    """Download (once) and unpack the pinned sdist; return its unpacked folder."""
    SDIST_DIR.mkdir(parents=True, exist_ok=True)
    stem = name.replace("-", "_").lower()
    for folder in SDIST_DIR.iterdir():
        low = folder.name.lower().replace("-", "_")
        if folder.is_dir() and low == f"{stem}_{version}".lower():
            return folder
    archives = [
        p
        for p in SDIST_DIR.glob("*.tar.gz")
        if p.name.lower().replace("-", "_").startswith(f"{stem}_{version}".lower())
    ]
    if not archives:
        subprocess.run(
            [
                sys.executable, "-m", "pip", "download", "-q", "--no-binary", ":all:",
                "--no-deps", "-d", str(SDIST_DIR), f"{name}=={version}",
            ],
            check=True,
        )
        archives = [
            p
            for p in SDIST_DIR.glob("*.tar.gz")
            if p.name.lower().replace("-", "_").startswith(f"{stem}_{version}".lower())
        ]
    with tarfile.open(archives[0]) as tar:
        tar.extractall(SDIST_DIR, filter="data")
    return sdist_root(name, version)


def _skip_path(rel: str) -> bool:
    parts = rel.lower().split("/")
    return any(
        p in ("tests", "test", "docs", "doc", "examples", "scripts", "build", "misc") for p in parts
    ) or parts[-1].startswith(("test_", "setup", "conftest"))


def _count_statements(node: ast.AST) -> int:
    body = getattr(node, "body", [])
    count = 0
    for child in ast.walk(node):
        if isinstance(child, ast.stmt) and child is not node:
            count += 1
    doc = body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    return count - (1 if doc else 0)


def _functions(package: str, root: Path, base: bool) -> list[Func]:
    out: list[Func] = []
    for file in sorted(root.rglob("*.py")):
        rel = file.relative_to(root).as_posix()
        if _skip_path(rel):
            continue
        text = file.read_text(encoding="utf-8", errors="replace")
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        lines = text.splitlines()

        def visit(node: ast.AST, prefix: str, top: bool) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.ClassDef) and top:
                    visit(child, f"{prefix}{child.name}.", False)
                elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                    start = min([d.lineno for d in child.decorator_list] + [child.lineno])
                    end = child.end_lineno or child.lineno
                    n = end - start + 1
                    stmts = _count_statements(child)
                    if child.name.startswith("__") or not (MIN_LINES <= n <= MAX_LINES):
                        continue
                    if stmts < MIN_STATEMENTS:
                        continue
                    src = textwrap.dedent("\n".join(lines[start - 1 : end])) + "\n"
                    if "\t" in src:
                        continue
                    try:
                        ast.parse(src)
                    except SyntaxError:
                        continue
                    out.append(
                        Func(package, rel, prefix + child.name, child.name, src, stmts,
                             start if base else 0, end if base else 0)
                    )

        visit(tree, "", True)
    return out


_KEYWORDS = set(__import__("keyword").kwlist)


def blind_tokens(source: str) -> list[str]:
    """Identifier- and literal-blind tokens, without comments and docstring-like strings."""
    out: list[str] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.NAME:
                out.append(tok.string if tok.string in _KEYWORDS else "N")
            elif tok.type in (tokenize.NUMBER, tokenize.STRING):
                out.append("L")
            elif tok.type == tokenize.OP:
                out.append(tok.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return out


def shingles(source: str) -> set[tuple[str, ...]]:
    toks = blind_tokens(source)
    return {tuple(toks[i : i + SHINGLE]) for i in range(max(0, len(toks) - SHINGLE + 1))}


def _unique(funcs: list[Func], others: list[Func]) -> list[Func]:
    """Keep the functions with no near-copy among ``funcs`` + ``others``."""
    pool = funcs + others
    sh = [shingles(f.source) for f in pool]
    # Inverted index: shingle -> functions, to avoid comparing all pairs.
    index: dict[tuple[str, ...], list[int]] = {}
    for i, s in enumerate(sh):
        for g in s:
            index.setdefault(g, []).append(i)
    kept: list[Func] = []
    for i, f in enumerate(funcs):
        if len(sh[i]) < 20:
            continue
        shared: dict[int, int] = {}
        for g in sh[i]:
            bucket = index[g]
            if len(bucket) > 200:  # a shingle that common says nothing
                continue
            for j in bucket:
                if j != i:
                    shared[j] = shared.get(j, 0) + 1
        worst = max(
            (c / len(sh[i] | sh[j]) for j, c in shared.items()),
            default=0.0,
        )
        if worst <= MAX_JACCARD:
            kept.append(f)
    return kept


def base_root() -> Path:
    return sdist_root(*BASE)


def load() -> tuple[list[Func], list[Func]]:
    """(donor functions, base functions), cached in bench/work as JSON."""
    cache = WORK / "corpus.json"
    key = {"donors": DONORS, "base": BASE, "min": [MIN_STATEMENTS, MIN_LINES, MAX_LINES],
           "jaccard": MAX_JACCARD, "v": 2}
    if cache.exists():
        data = json.loads(cache.read_text())
        if data.get("key") == key:
            return [Func(**d) for d in data["donors"]], [Func(**d) for d in data["base"]]
    donors: list[Func] = []
    for name, version in DONORS.items():
        donors.extend(_functions(name, sdist_root(name, version), base=False))
    base_all = _functions(BASE[0], base_root(), base=True)
    # Every function of the base (any size) for the uniqueness check of the donors.
    kept_donors = _unique(donors, base_all)
    kept_base = _unique(base_all, donors)
    # Donor functions whose name already exists in the base would collide in meaning; drop them.
    base_names = {f.name for f in base_all}
    kept_donors = [f for f in kept_donors if f.name not in base_names]
    WORK.mkdir(parents=True, exist_ok=True)
    cache.write_text(
        json.dumps(
            {"key": key, "donors": [asdict(f) for f in kept_donors],
             "base": [asdict(f) for f in kept_base]}
        )
    )
    return kept_donors, kept_base


if __name__ == "__main__":
    d, b = load()
    from collections import Counter

    print(len(d), "donor functions", Counter(f.package for f in d))
    print(len(b), "base functions")
