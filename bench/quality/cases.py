"""Cases of the benchmark, and the git repositories that carry them.

A *case* is one thing a reviewer should (or should not) be told about:

- ``clone-a``: a real function added by one branch and its mutant added by another branch;
- ``clone-b``: a mutant of a function of the base project, added by one branch (the original
  predates the batch: its ``introduced_by`` must be null);
- ``unique``: a branch adds a real function that has no counterpart (precision control);
- ``lookalike-name``: two branches add two different real functions under the same name;
- ``lookalike-vocab``: two branches add two real functions of one package that share much of their
  vocabulary (identifiers, calls) but do different things;
- ``hotspot``: two branches edit the same function of the base project (hotspot recall);
- ``single-edit``: one branch edits a function in a file another branch also edits (that file is a
  hotspot, the function is not).

Cases are spread over repositories (``REPO_CASES`` clone cases each, plus controls and hotspot
cases), each a copy of the base project's sdist on ``main`` tagged ``bench-base``, then a batch of
branches created in parallel from it and merged the way GitHub merges pull requests (merge commits
and squash merges, through ``app.local.build.RepoBuilder``).
"""

from __future__ import annotations

import ast
import random
import shutil
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import corpus
import mutate
from corpus import Func

SEED = 20261101
CASES_PER_OP = 42
SHARE_B = 1 / 3  # share of clone cases whose original is in the base project
REPO_CASES = 28  # clone cases per repository
BRANCHES = 10  # branches per repository
FIRST_PR = 101
BASE_TAG = "bench-base"
MODULE_WORDS = (
    "helpers", "utils", "support", "tools", "common", "extras", "compat", "misc", "shared",
    "internal", "core_ext", "plumbing",
)


@dataclass
class Placed:
    """A unit the benchmark put (or found) in a repository, and where it ends up at the head."""

    uid: str
    path: str
    qualname: str
    branch: str | None  # "#N", or None for code of the base project
    source: str = ""
    start: int = 0
    end: int = 0


@dataclass
class Case:
    cid: str
    kind: str
    op: str | None = None
    clone_type: str | None = None
    units: list[str] = field(default_factory=list)  # uids
    funcs: list[str] = field(default_factory=list)  # function ids (package:path:qualname)
    edit_lines: int = 0


@dataclass
class RepoPlan:
    name: str
    cases: list[Case] = field(default_factory=list)
    units: dict[str, Placed] = field(default_factory=dict)
    hotspots: dict[str, dict[str, set[str]]] = field(default_factory=dict)  # path -> sym -> PRs
    hotspot_files: dict[str, set[str]] = field(default_factory=dict)
    merges: list[tuple[int, str]] = field(default_factory=list)  # (pr, "merge"|"squash")


def fid(f: Func) -> str:
    return f"{f.package}:{f.path}:{f.qualname}"


# ----------------------------------------------------------------------------- planning


def _clone_cases(donors: list[Func], base: list[Func]) -> list[tuple[Case, Func, str]]:
    """(case, original, mutant source) for every operator."""
    out: list[tuple[Case, Func, str]] = []
    for op, (ctype, _fn) in mutate.OPERATORS.items():
        rng = random.Random(f"{SEED}:{op}")
        n_b = round(CASES_PER_OP * SHARE_B)
        for where, pool, want in (("a", donors, CASES_PER_OP - n_b), ("b", base, n_b)):
            order = list(pool)
            rng.shuffle(order)
            made = 0
            for f in order:
                if made == want:
                    break
                mutant = mutate.mutate(op, f.source, random.Random(f"{SEED}:{op}:{fid(f)}"))
                if mutant is None:
                    continue
                cid = f"{op}-{where}{made:02d}"
                case = Case(cid, f"clone-{where}", op, ctype, funcs=[fid(f)],
                            edit_lines=mutate.changed_lines(f.source, mutant))
                out.append((case, f, mutant))
                made += 1
            if made < want:
                raise RuntimeError(f"{op}: only {made} of {want} {where}-cases")
    return out


def _lookalike_vocab_pairs(donors: list[Func], rng: random.Random, n: int) -> list[tuple[Func, Func]]:
    """Pairs of real functions of one package sharing vocabulary but not structure."""

    def idents(f: Func) -> set[str]:
        tree = ast.parse(f.source)
        names = {x.id for x in ast.walk(tree) if isinstance(x, ast.Name)}
        names |= {x.attr for x in ast.walk(tree) if isinstance(x, ast.Attribute)}
        names |= {x.arg for x in ast.walk(tree) if isinstance(x, ast.arg)}
        return names - {"self", "cls", "None", "True", "False"}

    ids = [idents(f) for f in donors]
    sh = [corpus.shingles(f.source) for f in donors]
    scored = []
    for i in range(len(donors)):
        for j in range(i + 1, len(donors)):
            if donors[i].package != donors[j].package:
                continue
            inter = len(ids[i] & ids[j])
            vocab = inter / max(1, len(ids[i] | ids[j]))
            struct = len(sh[i] & sh[j]) / max(1, len(sh[i] | sh[j]))
            if vocab >= 0.25 and inter >= 5 and struct < 0.12:
                scored.append((vocab, i, j))
    scored.sort(reverse=True)
    used: set[int] = set()
    pairs = []
    for _v, i, j in scored:
        if i in used or j in used:
            continue
        used |= {i, j}
        pairs.append((donors[i], donors[j]))
        if len(pairs) == n:
            break
    rng.shuffle(pairs)
    return pairs


def _rename_def(source: str, new: str) -> str:
    import libcst as cst

    module = cst.parse_module(source)
    fn = module.body[0]
    assert isinstance(fn, cst.FunctionDef)
    return module.with_changes(body=[fn.with_changes(name=cst.Name(new))]).code


def _hotspot_functions(base: list[Func]) -> dict[str, list[Func]]:
    """Base functions a branch can edit at two far-apart places, by file."""
    root = corpus.base_root()
    by_file: dict[str, list[Func]] = defaultdict(list)
    for f in base:
        tree = ast.parse((root / f.path).read_text())
        node = _find_def(tree, f.qualname)
        if node is None:
            continue
        body = _body_wo_doc(node)
        if len(body) >= 3 and body[-1].lineno - body[0].lineno >= 4:
            by_file[f.path].append(f)
    return {p: fs for p, fs in by_file.items() if len(fs) >= 3}


def _find_def(tree: ast.AST, qualname: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    parts = qualname.split(".")
    found = []

    def visit(node: ast.AST, prefix: list[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, [*prefix, child.name])
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                if [*prefix, child.name] == parts:
                    found.append(child)

    visit(tree, [])
    return found[0] if len(found) == 1 else None


def _body_wo_doc(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.stmt]:
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return body


def plan(donors: list[Func], base: list[Func], limit: int | None = None) -> list[RepoPlan]:
    """Every repository of the benchmark, with its cases and where each unit goes."""
    rng = random.Random(SEED)
    root = corpus.base_root()
    trees = {p: ast.parse((root / p).read_text()) for p in {f.path for f in base}}
    base = [f for f in base if _find_def(trees[f.path], f.qualname) is not None]
    clone = _clone_cases(donors, base)
    rng.shuffle(clone)
    n_repos = (len(clone) + REPO_CASES - 1) // REPO_CASES
    repos = [RepoPlan(f"repo{i:02d}") for i in range(n_repos)]
    used: list[set[str]] = [set() for _ in repos]
    buckets: list[list[tuple[Case, Func, str]]] = [[] for _ in repos]
    # A repository holds at most one function of any source file (two real functions of one
    # module may well be the same concept, which would blur what a finding is), when possible.
    for k, item in enumerate(clone):
        f = item[1]
        src = f"file:{f.package}:{f.path}"
        for strict in (True, False):
            placed = False
            for step in range(n_repos):
                r = (k + step) % n_repos
                if fid(f) in used[r] or len(buckets[r]) >= REPO_CASES + 1:
                    continue
                if strict and src in used[r]:
                    continue
                used[r] |= {fid(f), src}
                buckets[r].append(item)
                placed = True
                break
            if placed:
                break
        else:
            raise RuntimeError("cannot place a case")
    # Controls: unique functions, same-name look-alikes, same-vocabulary look-alikes.
    crng = random.Random(f"{SEED}:controls")
    vocab_pairs = _lookalike_vocab_pairs(donors, crng, 2 * n_repos)
    spare = [f for f in donors]
    crng.shuffle(spare)
    hot = _hotspot_functions(base)
    hot_files = sorted(hot)
    plans = []
    for r, repo in enumerate(repos):
        if limit is not None and r >= limit:
            break
        prng = random.Random(f"{SEED}:{repo.name}")
        prs = list(range(FIRST_PR, FIRST_PR + BRANCHES))
        # Controls for this repository: functions not used by its clone cases.
        taken = set(used[r])
        controls: list[tuple[str, list[Func]]] = []
        for a, b in vocab_pairs[2 * r : 2 * r + 2]:
            keys = {fid(a), fid(b), f"file:{a.package}:{a.path}", f"file:{b.package}:{b.path}"}
            if fid(a) not in taken and fid(b) not in taken:
                taken |= keys
                controls.append(("lookalike-vocab", [a, b]))
        free = [f for f in spare if fid(f) not in taken and f"file:{f.package}:{f.path}" not in taken]
        prng.shuffle(free)
        def pop() -> Func:
            while True:
                f = free.pop()
                if f"file:{f.package}:{f.path}" not in taken:
                    taken.update({fid(f), f"file:{f.package}:{f.path}"})
                    return f

        for _ in range(3):
            controls.append(("lookalike-name", [pop(), pop()]))
        for _ in range(4):
            controls.append(("unique", [pop()]))
        plans.append(_place(repo, buckets[r], controls, hot, hot_files, prs, prng, r, taken))
    return plans


def _place(
    repo: RepoPlan,
    clone: list[tuple[Case, Func, str]],
    controls: list[tuple[str, list[Func]]],
    hot: dict[str, list[Func]],
    hot_files: list[str],
    prs: list[int],
    rng: random.Random,
    r: int,
    taken: set[str],
) -> RepoPlan:
    """Decide which branch adds what, in which module."""
    modules: dict[int, list[str]] = {}
    for pr in prs:
        words = rng.sample(MODULE_WORDS, 2)
        modules[pr] = [f"src/click/{w}_{pr}.py" for w in words]
    names_in: dict[str, set[str]] = defaultdict(set)
    touched_base: dict[str, set[int]] = defaultdict(set)

    # Hotspots first: two base files, each with two functions edited by two branches and one
    # function edited by a single branch.
    files = [hot_files[(2 * r) % len(hot_files)], hot_files[(2 * r + 1) % len(hot_files)]]
    for path in dict.fromkeys(files):
        funcs = [f for f in hot[path] if fid(f) not in taken]
        rng.shuffle(funcs)
        for k, f in enumerate(funcs[:3]):
            if k < 2:
                a, b = rng.sample(prs, 2)
                kind, who = "hotspot", [a, b]
            else:
                kind, who = "single-edit", [rng.choice(prs)]
            case = Case(f"{repo.name}-{kind}-{len(repo.cases)}", kind, funcs=[fid(f)])
            uid = f"{case.cid}:0"
            repo.units[uid] = Placed(uid, path, f.qualname, None)
            case.units = [uid]
            repo.cases.append(case)
            for i, pr in enumerate(who):
                touched_base[path].add(pr)
                repo.hotspot_files.setdefault(path, set()).add(f"#{pr}")
                if kind == "hotspot":
                    repo.hotspots.setdefault(path, {}).setdefault(f.qualname, set()).add(f"#{pr}")
                # Which place of the function this branch edits: its first or its last statement.
                repo.units[uid].source += f"{pr}:{'first' if i == 0 else 'last'};"

    def put(pr: int, name: str, source: str) -> str:
        for path in sorted(modules[pr], key=lambda p: len(names_in[p])):
            if name not in names_in[path]:
                names_in[path].add(name)
                return path
        path = f"src/click/more_{pr}_{len(modules[pr])}.py"
        modules[pr].append(path)
        names_in[path].add(name)
        return path

    base_files = sorted(
        p.relative_to(corpus.base_root()).as_posix()
        for p in (corpus.base_root() / "src" / "click").glob("*.py")
    )
    for case, f, mutant in clone:
        mut_name = ast.parse(mutant).body[0].name  # type: ignore[attr-defined]
        if case.kind == "clone-a":
            a, b = rng.sample(prs, 2)
            p_orig = put(a, f.name, f.source)
            orig = Placed(f"{case.cid}:orig", p_orig, f.name, f"#{a}", f.source)
        else:
            b = rng.choice(prs)
            orig = Placed(f"{case.cid}:orig", f.path, f.qualname, None)
        # A third of the base re-implementations are appended to an existing module of the base
        # project that no other branch touches; the others go to the branch's new modules.
        p_mut = None
        if case.kind == "clone-b" and rng.random() < 1 / 3:
            for path in rng.sample(base_files, len(base_files)):
                owners = touched_base.get(path, set())
                if owners <= {b} and mut_name not in _top_names(path) | names_in[path]:
                    touched_base[path].add(b)
                    names_in[path].add(mut_name)
                    p_mut = path
                    break
        if p_mut is None:
            p_mut = put(b, mut_name, mutant)
        mut = Placed(f"{case.cid}:mut", p_mut, mut_name, f"#{b}", mutant)
        repo.units[orig.uid] = orig
        repo.units[mut.uid] = mut
        case.units = [orig.uid, mut.uid]
        repo.cases.append(case)
    for n, (kind, fs) in enumerate(controls):
        case = Case(f"{repo.name}-{kind}-{n}", kind, funcs=[fid(f) for f in fs])
        who = rng.sample(prs, len(fs))
        for i, (f, pr) in enumerate(zip(fs, who, strict=True)):
            source = f.source
            name = f.name
            if kind == "lookalike-name" and i == 1:
                name = fs[0].name
                source = _rename_def(source, name)
            path = put(pr, name, source)
            uid = f"{case.cid}:{i}"
            repo.units[uid] = Placed(uid, path, name, f"#{pr}", source)
            case.units.append(uid)
        repo.cases.append(case)
    repo.merges = [(pr, "squash" if rng.random() < 0.25 else "merge") for pr in prs]
    return repo


_TOP_CACHE: dict[str, set[str]] = {}


def _top_names(path: str) -> set[str]:
    if path not in _TOP_CACHE:
        tree = ast.parse((corpus.base_root() / path).read_text())
        _TOP_CACHE[path] = {
            n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)
        } | {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets
             if isinstance(t, ast.Name)}
    return _TOP_CACHE[path]


# ----------------------------------------------------------------------------- building

IMPORTS = (
    "import logging", "import os", "import re", "import sys", "import warnings",
    "import typing as t", "import itertools", "import functools", "import collections",
    "from datetime import datetime, timedelta", "import math", "import string", "import time",
)


def module_header(pr: int, path: str) -> str:
    """A short, module-specific header: a docstring and a few imports."""
    rng = random.Random(f"{SEED}:{path}")
    doc = rng.choice(("Helpers", "Utilities", "Support code", "Shared tools", "Internal helpers"))
    imports = sorted(rng.sample(IMPORTS, rng.randint(1, 3)))
    return f'"""{doc} added by pull request #{pr}."""\n\nfrom __future__ import annotations\n\n' + (
        "\n".join(imports) + "\n"
    )


def _insert_line(text: str, qualname: str, where: str, pr: int) -> str:
    lines = text.splitlines(keepends=True)
    node = _find_def(ast.parse(text), qualname)
    assert node is not None, qualname
    body = _body_wo_doc(node)
    stmt = body[0] if where == "first" else body[-1]
    indent = " " * stmt.col_offset
    new = f'{indent}_hot_{pr} = "{qualname} changed by #{pr}"\n'
    lines.insert(stmt.lineno - 1, new)
    return "".join(lines)


def build(repo: RepoPlan, root: Path) -> None:
    """Create the repository of ``repo`` at ``root`` (replacing what is there)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from app.local.build import RepoBuilder

    if root.exists():
        shutil.rmtree(root)
    base = corpus.base_root()
    shutil.copytree(base, root)
    builder = RepoBuilder(root)
    builder.commit(f"Import {corpus.BASE[0]} {corpus.BASE[1]}")
    builder.git("tag", BASE_TAG)
    per_pr: dict[int, dict[str, str]] = defaultdict(dict)
    # Edits of existing base files (hotspots) and appended re-implementations.
    edits: dict[tuple[int, str], list[tuple[str, str]]] = defaultdict(list)
    for unit in repo.units.values():
        if unit.branch is None and unit.source:
            for item in unit.source.strip(";").split(";"):
                pr_s, where = item.split(":")
                edits[(int(pr_s), unit.path)].append((unit.qualname, where))
    appended: dict[tuple[int, str], list[str]] = defaultdict(list)
    new_modules: dict[tuple[int, str], list[str]] = defaultdict(list)
    for case in repo.cases:
        for uid in case.units:
            unit = repo.units[uid]
            if unit.branch is None:
                continue
            pr = int(unit.branch[1:])
            if (base / unit.path).exists():
                appended[(pr, unit.path)].append(unit.source)
            else:
                new_modules[(pr, unit.path)].append(unit.source)
    for (pr, path), sources in new_modules.items():
        text = module_header(pr, path) + "".join("\n\n" + s for s in sources)
        per_pr[pr][path] = text
    for (pr, path), sources in appended.items():
        text = (base / path).read_text()
        per_pr[pr][path] = text.rstrip("\n") + "\n" + "".join("\n\n" + s for s in sources)
    for (pr, path), items in edits.items():
        text = per_pr[pr].get(path) or (base / path).read_text()
        # Bottom-up, so earlier line numbers stay right.
        located = []
        for qualname, where in items:
            node = _find_def(ast.parse(text), qualname)
            assert node is not None
            body = _body_wo_doc(node)
            located.append(((body[0] if where == "first" else body[-1]).lineno, qualname, where))
        for _line, qualname, where in sorted(located, reverse=True):
            text = _insert_line(text, qualname, where, pr)
        per_pr[pr][path] = text
    for pr, _how in repo.merges:
        files = {p: t.encode() for p, t in per_pr.get(pr, {}).items()}
        builder.branch(f"agent/feature-{pr}", files, author=f"agent-{pr}")
    for pr, how in repo.merges:
        title = f"Feature {pr}: helpers"
        if how == "squash":
            builder.squash_pr(pr, f"agent/feature-{pr}", title)
        else:
            builder.merge_pr(pr, f"agent/feature-{pr}", title)
    locate(repo, root)


def locate(repo: RepoPlan, root: Path) -> None:
    """Fill the head spans (decorators included) of every unit."""
    trees: dict[str, ast.AST] = {}
    for unit in repo.units.values():
        if unit.path not in trees:
            trees[unit.path] = ast.parse((root / unit.path).read_text())
        tree = trees[unit.path]
        if unit.branch is None:
            node = _find_def(tree, unit.qualname)
        else:
            matches = [
                n for n in tree.body  # type: ignore[attr-defined]
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == unit.qualname
            ]
            node = matches[-1] if matches else None
        if node is None:
            raise RuntimeError(f"{repo.name}: {unit.uid} not found in {unit.path}")
        unit.start = min([d.lineno for d in node.decorator_list] + [node.lineno])
        unit.end = node.end_lineno or node.lineno


def plan_json(repo: RepoPlan) -> dict:
    return {
        "name": repo.name,
        "cases": [asdict(c) for c in repo.cases],
        "units": {k: asdict(v) for k, v in repo.units.items()},
        "hotspots": {p: {s: sorted(b) for s, b in d.items()} for p, d in repo.hotspots.items()},
        "hotspot_files": {p: sorted(b) for p, b in repo.hotspot_files.items()},
        "merges": repo.merges,
    }
