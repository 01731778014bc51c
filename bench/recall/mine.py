"""Recall on real history: duplication that maintainers later removed, and whether idealdiff
reported it when it was merged (never run by CI).

    python bench/recall/mine.py mine > bench/recall/pairs.json    # find the pairs (~5 min)
    python bench/recall/mine.py run [--code DIR] [--label NAME]   # review each pair's batch
    python bench/recall/mine.py score --label NAME                # again, after judging

``mine`` walks the first-parent history (since 2019) of every mirrored repository of
``bench/realworld/select_batches.py`` for commits whose message says they remove duplication
(dedup, duplicate, DRY, consolidate, unify, share a helper, ...). In each, two functions of the
parent are a *unified pair* when both are removed or cut to a short delegation by the commit
(or one is, and the other stays) and their code was alike (token similarity >= 0.6, 4 or more
statements each, no test code). The pair's *introduction* is the first-parent commit where the
later of the two first appears, already alike. Every mined pair is then judged by hand (is it
the same job done twice?), in ``pairs.json``'s ``verdict``.

``run`` reviews, offline, the batch of the 10 first-parent commits ending at each pair's
introduction (the commit that completed the duplication is the last merge of its batch: the
moment idealdiff runs) and records whether a finding holds both members. Recall is the pairs
judged true that were reported, over the pairs judged true. No code of the projects is kept:
paths, qualified names, commits and verdicts only.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import io
import json
import re
import subprocess
import sys
import time
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from analyzers.testcode import is_sample_path, is_test_path  # noqa: E402
from bench.realworld.select_batches import MIRRORS, REPOS  # noqa: E402

HERE = Path(__file__).resolve().parent
PAIRS = HERE / "pairs.json"
SAYS_DEDUP = re.compile(
    r"(?i)\b(de-?dup\w*|duplicat\w*|dry\b|consolidat\w*|unif(?:y|ies|ied|ying)|"
    r"shared? (?:the )?(?:code|logic|helper|implementation|function)|"
    r"(?:extract|factor)\w* (?:out )?(?:a |the )?(?:common|shared|helper))"
)
MIN_STATEMENTS = 4
ALIKE = 0.6
WINDOW = 10  # first-parent commits per batch, ending at the introduction
OFFLINE_JSON = ("--format", "json", "--llm", "offline")


def git(repo: Path, *args: str) -> str:
    """A git command's output (empty on failure: a path absent at a commit)."""
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else ""


@dataclass(frozen=True)
class Func:
    """A function or method of one file at one commit."""

    path: str
    qualname: str
    statements: int
    tokens: tuple[str, ...]
    calls: frozenset[str]


def functions(path: str, text: str) -> dict[str, Func]:
    """The file's functions by qualified name (``Class.method``), as idealdiff names them."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return {}
    out: dict[str, Func] = {}

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                walk(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                body = child.body
                if (
                    body
                    and isinstance(body[0], ast.Expr)
                    and isinstance(body[0].value, ast.Constant)
                ):
                    body = body[1:]  # the docstring is not the code
                source = "\n".join(ast.unparse(s) for s in body)
                statements = sum(1 for n in ast.walk(child) if isinstance(n, ast.stmt)) - 1
                calls = frozenset(
                    n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
                    for n in ast.walk(child)
                    if isinstance(n, ast.Call)
                )
                out[prefix + child.name] = Func(
                    path, prefix + child.name, statements, _tokens(source), calls
                )

    walk(tree, "")
    return out


def _tokens(source: str) -> tuple[str, ...]:
    try:
        return tuple(
            t.string
            for t in tokenize.generate_tokens(io.StringIO(source).readline)
            if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
        )
    except (tokenize.TokenError, IndentationError):
        return ()


def alike(a: Func, b: Func) -> float:
    """Token similarity of two functions' code."""
    return difflib.SequenceMatcher(None, a.tokens, b.tokens, autojunk=False).ratio()


def unified_pairs(repo: Path, commit: str, parent: str) -> list[tuple[Func, Func, float]]:
    """Pairs of alike functions of ``parent`` that ``commit`` removed (or cut to a delegation),
    one of them possibly kept."""
    changed = [
        p
        for p in git(repo, "diff", "--name-only", parent, commit, "--", "*.py").split()
        if not is_test_path(p) and not is_sample_path(p)
    ]
    before: dict[str, Func] = {}
    gone: set[str] = set()
    for path in changed:
        old = functions(path, git(repo, "show", f"{parent}:{path}"))
        new = functions(path, git(repo, "show", f"{commit}:{path}"))
        for name, func in old.items():
            key = f"{path}::{name}"
            before[key] = func
            after = new.get(name)
            if after is None or (after.statements <= 2 and func.statements >= MIN_STATEMENTS):
                gone.add(key)
    out = []
    keys = sorted(before)
    for i, ka in enumerate(keys):
        for kb in keys[i + 1 :]:
            if ka not in gone and kb not in gone:
                continue
            a, b = before[ka], before[kb]
            if min(a.statements, b.statements) < MIN_STATEMENTS:
                continue
            score = alike(a, b)
            bar = ALIKE if ka in gone and kb in gone else 0.75  # one kept: it must be close
            if score >= bar:
                out.append((a, b, score))
    return out


def path_history(repo: Path, branch: str, path: str) -> list[tuple[str, str]]:
    """(commit, the file's path then) for each first-parent commit that touched the file,
    oldest first, following renames: a file moved (a ``src/`` layout) keeps its history."""
    out = git(
        repo,
        "log",
        "--first-parent",
        "--follow",
        "--format=%x00%H",
        "--name-only",
        branch,
        "--",
        path,
    )
    history = []
    for chunk in out.split("\x00")[1:]:
        lines = [line for line in chunk.splitlines() if line.strip()]
        if len(lines) >= 2:
            history.append((lines[0], lines[-1]))
    return list(reversed(history))


def introduced(repo: Path, branch: str, func: Func) -> tuple[str, list[tuple[str, str]]] | None:
    """The first first-parent commit whose tree has the function (under the path its file had
    then), and the file's history."""
    history = path_history(repo, branch, func.path)
    for sha, path in history:
        if func.qualname in functions(path, git(repo, "show", f"{sha}:{path}")):
            return sha, history
    return None


def path_at(history: list[tuple[str, str]], index: dict[str, int], sha: str) -> str | None:
    """The file's path at commit ``sha``: where the newest commit touching it at or before left
    it."""
    before = [path for commit, path in history if index.get(commit, -1) <= index[sha]]
    return before[-1] if before else None


def mine() -> list[dict[str, Any]]:
    """Every unified pair of every mirrored repository, with its introduction."""
    out: list[dict[str, Any]] = []
    for name, branch, _pinned, _set in REPOS:
        repo = MIRRORS / name.replace("/", "+") / "repo"
        if not repo.exists():
            continue
        order: list[str] = []  # the first-parent chain, newest first: read when first needed
        log = git(
            repo,
            "log",
            "--first-parent",
            "--since=2019-01-01",
            "--format=%H %P%x00%s%n%b%x1e",
            branch,
        )
        for entry in log.split("\x1e"):
            head, _, message = entry.strip().partition("\x00")
            shas = head.split()
            if len(shas) < 2 or not SAYS_DEDUP.search(message):
                continue
            commit, parent = shas[0], shas[1]
            for a, b, score in unified_pairs(repo, commit, parent):
                born_a, born_b = (introduced(repo, branch, f) for f in (a, b))
                if born_a is None or born_b is None:
                    continue
                if not order:
                    order = git(repo, "rev-list", "--first-parent", branch).split()
                    index = {sha: n for n, sha in enumerate(reversed(order))}
                if born_a[0] not in index or born_b[0] not in index:
                    continue
                intro = max(born_a[0], born_b[0], key=index.__getitem__)
                # Where each member lived then (files move), and alike already when the
                # duplication was completed?
                then = (path_at(born_a[1], index, intro), path_at(born_b[1], index, intro))
                if then[0] is None or then[1] is None:
                    continue
                fa = functions(then[0], git(repo, "show", f"{intro}:{then[0]}")).get(a.qualname)
                fb = functions(then[1], git(repo, "show", f"{intro}:{then[1]}")).get(b.qualname)
                if fa is None or fb is None or alike(fa, fb) < ALIKE:
                    continue
                since = order[min(order.index(intro) + WINDOW, len(order) - 1)]
                out.append(
                    {
                        "repo": name,
                        "unified_by": commit,
                        "message": message.splitlines()[0][:120],
                        "a": f"{a.path}::{a.qualname}",
                        "b": f"{b.path}::{b.qualname}",
                        # The members as the review at the introduction names them.
                        "a_then": f"{then[0]}::{a.qualname}",
                        "b_then": f"{then[1]}::{b.qualname}",
                        "similarity": round(score, 3),
                        "introduced": intro,
                        "since": since,
                        "verdict": None,
                        "reason": None,
                    }
                )
                sys.stderr.write(f"{name} {commit[:9]} {out[-1]['a']} ~ {out[-1]['b']}\n")
    return out


def run(code: Path, label: str) -> dict[str, Any]:
    """Review each pair's batch; whether a finding holds both members. Recall is given over
    every mined pair, over the pairs judged true, and over unifying commits (one found pair of
    a commit's group is enough: the issue would have led to it)."""
    rows = []
    for pair in _pairs():
        repo = MIRRORS / pair["repo"].replace("/", "+") / "repo"
        started = time.perf_counter()
        window = ["--base", pair["introduced"], "--since", pair["since"]]
        done = subprocess.run(
            [sys.executable, "-m", "app.cli", "review", str(repo), *window, *OFFLINE_JSON],
            capture_output=True,
            text=True,
            cwd=code,
            env={**_env(), "PYTHONPATH": str(code)},
        )
        report = json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}
        members = [
            {f"{m['path']}::{m['qualname']}" for m in f.get("members", [])}
            for f in report.get("findings", [])
        ]
        wanted = {pair.get("a_then", pair["a"]), pair.get("b_then", pair["b"])}
        found = any(wanted <= m for m in members)
        rows.append(
            {
                "repo": pair["repo"],
                "unified_by": pair["unified_by"],
                "verdict": pair.get("verdict"),
                "a": pair["a"],
                "b": pair["b"],
                "found": found,
                "findings": len(members),
                "exit": done.returncode,
                "seconds": round(time.perf_counter() - started, 1),
                "error": done.stderr.strip().splitlines()[-1] if done.returncode > 1 else None,
            }
        )
        sys.stdout.write(f"{'FOUND ' if found else 'missed'} {pair['a']} ~ {pair['b']}\n")
        sys.stdout.flush()
    return score(rows, label)


def score(rows: list[dict[str, Any]], label: str) -> dict[str, Any]:
    """Recall over the mined pairs, the pairs judged true, and the unifying commits; written to
    ``results/<label>.json`` with the rows. Verdicts are read from ``pairs.json`` now, so a run
    can be scored again after judging (``score``)."""
    verdicts = {(p["a"], p["b"], p["unified_by"]): p.get("verdict") for p in _pairs()}
    for row in rows:
        row["verdict"] = verdicts.get((row["a"], row["b"], row["unified_by"]))
    true = [r for r in rows if r["verdict"] == "true"]
    commits = {r["unified_by"] for r in true}
    found_commits = {r["unified_by"] for r in true if r["found"]}
    summary = {
        "label": label,
        "mined_pairs": len(rows),
        "mined_found": sum(r["found"] for r in rows),
        "true_pairs": len(true),
        "true_found": sum(r["found"] for r in true),
        "recall_pairs": round(sum(r["found"] for r in true) / max(len(true), 1), 3),
        "unifying_commits": len(commits),
        "commits_found": len(found_commits),
        "recall_commits": round(len(found_commits) / max(len(commits), 1), 3),
    }
    out = HERE / "results" / f"{label}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"summary": summary, "rows": rows}, indent=2) + "\n")
    sys.stdout.write(json.dumps(summary) + "\n")
    return summary


def _pairs() -> list[dict[str, Any]]:
    pairs: list[dict[str, Any]] = json.loads(PAIRS.read_text())
    return pairs


def _env() -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "GITHUB_"))}
    env["IDEALDIFF_DATA_DIR"] = str(ROOT / "bench" / "work" / "recall-cache")
    return env


def main() -> int:
    """``mine`` or ``run``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=("mine", "run", "score"))
    parser.add_argument("--code", type=Path, default=ROOT)
    parser.add_argument("--label", default="now")
    args = parser.parse_args()
    if args.what == "mine":
        sys.stdout.write(json.dumps(mine(), indent=2) + "\n")
    elif args.what == "score":
        rows = json.loads((HERE / "results" / f"{args.label}.json").read_text())["rows"]
        sys.stdout.write(json.dumps(score(rows, args.label)) + "\n")
    else:
        run(args.code.resolve(), args.label)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
