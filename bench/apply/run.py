"""``idealdiff review --apply`` on real repositories: what it commits, and whether their tests pass.

Two kinds of batch, both reviewed offline (``--llm offline``) on a fresh clone of a mirror:

- **real**: a batch of ``bench/realworld`` whose true findings are Type-1 copies (flask-4: the
  merge of #5127 copied ``_make_timedelta`` and three methods of ``Flask`` into ``sansio`` and
  ``Blueprint``);
- **simulated agent batches** on a real repository at a pinned commit: one "agent" branch copies
  a helper of the package into a second module that calls it and makes that module call the copy
  (``copy``: the body verbatim under a private name; ``renamed``: its locals renamed too); a
  second branch edits the README. Both are merged as pull requests. Helpers are chosen by a
  fixed rule, not by hand: module-level functions of the package of 5-40 lines, without
  decorators, imported by name and called by another module of the package; three per
  repository, in the order of a hash of their names.

For each batch: every finding's outcome (committed, or refused with the reason), then the
project's own test suite on the batch's head and on the ``idealdiff/...`` branch, in a virtual
environment per repository (``bench/work/apply/venv-<name>``). Run from the project root:

    python bench/apply/run.py --label after            # ~6 min the first time (venvs)
    python bench/apply/run.py --label before --code <worktree of an older idealdiff>
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from analyzers.imports import Modules, module_bindings  # noqa: E402
from analyzers.unify import function_shape  # noqa: E402

MIRRORS = Path("/work/.mirror")
WORK = ROOT / "bench" / "work" / "apply"


@dataclass(frozen=True)
class Project:
    """A repository, the batch of bench/realworld whose head simulated batches start from, and
    how to run its tests."""

    repo: str
    batch: str
    package: str  # folder holding the package's modules
    pins: tuple[str, ...] = ()  # dependency versions of the time, when the newest break it


FLASK_PINS = (
    "werkzeug==2.3.7",
    "jinja2==3.1.2",
    "itsdangerous==2.1.2",
    "click==8.1.7",
    "blinker==1.6.3",
    "asgiref==3.7.2",
    "pytest==7.4.0",
)
PROJECTS = (
    Project("pallets/flask", "flask-4", "src/flask", FLASK_PINS),
    Project("pallets/click", "click-4", "src/click", ("pytest==7.4.0",)),
    Project(
        "Textualize/rich", "rich-4", "rich", ("pytest==7.4.0", "attrs==23.2.0", "pygments==2.19.2")
    ),
)
REAL = (("flask-4", "pallets/flask"), ("rich-4", "Textualize/rich"))


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` and return its output."""
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


def clone(repo: str, commit: str, into: Path) -> Path:
    """A working clone of the mirror with ``main`` at ``commit``."""
    mirror = MIRRORS / repo.replace("/", "+") / "repo"
    subprocess.run(["rm", "-rf", str(into)], check=True)
    subprocess.run(["git", "clone", "-q", str(mirror), str(into)], check=True)
    git(into, "checkout", "-q", "-B", "main", commit)
    git(into, "config", "user.name", "agent")
    git(into, "config", "user.email", "agent@example.invalid")
    return into


# ----------------------------------------------------------------------------- helpers chosen


@dataclass(frozen=True)
class Helper:
    """A function of the package, and a module of it that imports and calls it."""

    path: str
    name: str
    caller: str


def helpers(root: Path, project: Project) -> list[Helper]:
    """Every helper the rule admits, in the order of a hash of its name (three are used)."""
    files = sorted(str(p.relative_to(root)) for p in (root / project.package).rglob("*.py"))
    texts = {f: (root / f).read_text() for f in files}
    modules = Modules(texts)
    found: list[Helper] = []
    for path, text in texts.items():
        mod = modules.name(path)
        if mod is None:
            continue
        tree = ast.parse(text)
        defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
        for node in tree.body:
            if (
                isinstance(node, ast.FunctionDef)
                and defined.count(node.name) == 1  # not an overloaded name
                and not node.decorator_list
                and not node.name.startswith("__")
                and 5 <= (node.end_lineno or 0) - node.lineno + 1 <= 40
                and len([b for b in node.body if not _docstring(b)]) >= 3  # some logic
            ):
                for other, other_text in texts.items():
                    other_mod = modules.name(other)
                    if other == path or other_mod is None:
                        continue
                    binds = module_bindings(other_text, other_mod[1], other.endswith("__init__.py"))
                    if binds.imports.get(node.name) == f"{mod[1]}.{node.name}" and re.search(
                        rf"(?<![\w.])(?<!def ){node.name}\(", other_text
                    ):
                        found.append(Helper(path, node.name, other))
                        break
    return sorted(found, key=lambda h: hashlib.sha256(h.name.encode()).hexdigest())


def _docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)


def copy_into_caller(root: Path, helper: Helper, renamed: bool) -> str:
    """The agent's change: the caller gets its own copy and calls it. Returns the copy's name."""
    text = (root / helper.path).read_text()
    node = next(
        n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef) and n.name == helper.name
    )
    lines = text.splitlines(keepends=True)[node.lineno - 1 : node.end_lineno]
    source = "".join(lines)
    new_name = f"_{helper.name.lstrip('_')}_local"
    source = re.sub(rf"\bdef {helper.name}\(", f"def {new_name}(", source, count=1)
    if renamed:
        params = {a.arg for a in ast.walk(node) if isinstance(a, ast.arg)}
        stored = sorted(
            {
                n.id
                for n in ast.walk(node)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.id not in params
            }
        )
        for name in stored:
            source = re.sub(rf"(?<![\w.'\"]){name}\b", f"{name}_", source)
    caller = root / helper.caller
    ctext = caller.read_text()
    # Calls move to the copy; the import stays, as an agent that did not look would leave it.
    body = re.sub(rf"(?<![\w.])(?<!def ){helper.name}\(", f"{new_name}(", ctext)
    needs = _imports_for(root, helper, text, ctext)
    caller.write_text(body.rstrip("\n") + "\n\n" + needs + "\n\n" + source)
    return new_name


def _imports_for(root: Path, helper: Helper, text: str, caller_text: str) -> str:
    """The imports the copy needs in the caller's module (what the helper reads there and the
    caller does not bind yet), as a working agent adds them."""
    files = [str(p.relative_to(root)) for p in root.rglob("*.py") if ".git" not in p.parts]
    modules = Modules(files)
    mod = modules.name(helper.path)
    cmod = modules.name(helper.caller)
    assert mod is not None
    assert cmod is not None
    source = module_bindings(text, mod[1], helper.path.endswith("__init__.py"))
    caller = module_bindings(caller_text, cmod[1], helper.caller.endswith("__init__.py"))
    shape = function_shape(text, helper.name)
    assert shape is not None
    lines = []
    for name in sorted(shape.free | shape.typing):  # annotations are read at def time too
        if name in caller.imports or name in caller.defined:
            continue
        target = source.imports.get(name) or (
            f"{mod[1]}.{name}" if name in source.defined else None
        )
        if target is None:
            continue  # a builtin
        owner, _, attr = target.rpartition(".")
        if not owner or (modules.path(target) is not None):
            lines.append(f"import {target} as {name}" if target != name else f"import {target}")
        else:
            lines.append(f"from {owner} import {attr}" + ("" if attr == name else f" as {name}"))
    return "\n".join(lines)


def simulate(project: Project, base: str, helper: Helper, renamed: bool, into: Path) -> Path:
    """A clone whose ``main`` holds the two agent merges after ``base``."""
    root = clone(project.repo, base, into)
    git(root, "checkout", "-q", "-b", "agent/helper")
    new_name = copy_into_caller(root, helper, renamed)
    git(root, "commit", "-qam", f"Use a local {new_name} in {helper.caller}")
    git(root, "checkout", "-q", "-b", "agent/docs", "main")
    readme = next(p for p in ("README.md", "README.rst") if (root / p).exists())
    with (root / readme).open("a") as f:
        f.write("\n")
    git(root, "commit", "-qam", "Docs: a trailing line")
    git(root, "checkout", "-q", "main")
    for number, branch in ((9001, "agent/helper"), (9002, "agent/docs")):
        message = f"Merge pull request #{number} from {branch}"
        git(root, "merge", "-q", "--no-ff", "-m", message, branch)
    return root


# ----------------------------------------------------------------------------- running


CODE = ROOT  # the idealdiff checkout that reviews (``--code``)


def review(root: Path, since: str) -> dict[str, object]:
    """``idealdiff review --apply`` offline, the JSON report."""
    out = root.parent / f"{root.name}.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "review",
            str(root),
            "--base",
            "main",
            "--since",
            since,
            "--llm",
            "offline",
            "--apply",
            "--format",
            "json",
            "--output",
            str(out),
        ],
        cwd=CODE,
        capture_output=True,
        text=True,
        env={**_env(), "IDEALDIFF_DATA_DIR": str(WORK / f"cache-{CODE.name}")},
    )
    return json.loads(out.read_text())


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}


def venv(project: Project, root: Path) -> Path:
    """A virtual environment holding the project (editable) and its test dependencies."""
    where = WORK / f"venv-{project.repo.split('/')[1]}"
    python = where / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "pytest", *project.pins],
            check=True,
            capture_output=True,
        )
    # The pins installed first stay: they satisfy the project's own requirements.
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "-e", str(root)],
        check=True,
        capture_output=True,
    )
    return python


def tests(python: Path, root: Path) -> str:
    """The suite's summary line, e.g. ``477 passed, 5 skipped``."""
    done = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    last = [line for line in done.stdout.splitlines() if line.strip()][-1:]
    summary = re.sub(r"=+|\bin [\d.]+s.*", "", last[0]).strip() if last else "no output"
    return summary if done.returncode == 0 else f"FAILED: {summary}"


def outcome(report: dict[str, object], root: Path, python: Path | None) -> list[dict[str, str]]:
    """One row per finding: members, outcome, and the suite on the branch when it committed."""
    changes = report.get("changes") or {}
    assert isinstance(changes, dict)
    records = {r["finding"]: r for r in changes.get("records", [])}
    branch = changes.get("target", "")
    findings = report.get("findings", [])
    assert isinstance(findings, list)
    rows = []
    suite = ""
    if python is not None and str(branch).startswith("idealdiff/"):
        git(root, "checkout", "-q", str(branch))
        suite = tests(python, root)
        git(root, "checkout", "-q", "main")
    for f in findings:
        record = records.get(f["id"], {})
        members = " ~ ".join(f"{m['path']}::{m['qualname']}" for m in f["members"])
        rows.append(
            {
                "finding": f["id"],
                "type": f["clone_type"],
                "members": members,
                "status": record.get("status", "none"),
                "detail": record.get("detail", ""),
                "suite on branch": suite if record.get("status") == "committed" else "",
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run every batch; print the table; keep results and plans under bench/work/apply/."""
    global CODE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="the idealdiff checkout to run")
    parser.add_argument("--label", default="current", help="names the results and plans files")
    args = parser.parse_args(argv)
    CODE = args.code.resolve()
    WORK.mkdir(parents=True, exist_ok=True)
    table: list[dict[str, str]] = []
    plans: dict[str, object] = {}  # batch -> its findings with their offline plans, to judge
    batches = {
        b["name"]: b for b in json.loads((ROOT / "bench/realworld/batches.json").read_text())
    }
    by_repo = {p.repo: p for p in PROJECTS}
    for name, repo in REAL:
        batch = batches[name]
        root = clone(repo, batch["head"], WORK / name)
        python = venv(by_repo[repo], root)
        head = tests(python, root)
        report = review(root, batch["since"])
        plans[name] = report["findings"]
        for row in outcome(report, root, python):
            table.append({"batch": name, "suite on head": head, **row})
    for project in PROJECTS:
        base_sha = batches[project.batch]["head"]
        probe = clone(project.repo, base_sha, WORK / "probe")
        chosen = helpers(probe, project)[:3]
        python = venv(project, probe)
        for i, helper in enumerate(chosen):
            renamed = i % 2 == 1
            label = f"{project.repo.split('/')[1]}:{helper.name}:{'renamed' if renamed else 'copy'}"
            root = simulate(project, base_sha, helper, renamed, WORK / label.replace(":", "-"))
            venv(project, root)
            head = tests(python, root)  # the agents' merges, before idealdiff
            report = review(root, base_sha)
            plans[label] = report["findings"]
            rows = outcome(report, root, python)
            wanted = [
                r for r in rows if helper.caller in r["members"] and helper.path in r["members"]
            ]
            if not wanted:
                table.append(
                    {
                        "batch": label,
                        "suite on head": head,
                        "finding": "-",
                        "type": "-",
                        "members": f"{helper.path}::{helper.name} copied into {helper.caller}",
                        "status": "NOT FOUND",
                        "detail": "",
                        "suite on branch": "",
                    }
                )
            for row in rows:
                table.append({"batch": label, "suite on head": head, **row})
    (WORK / f"{args.label}-results.json").write_text(json.dumps(table, indent=1))
    (WORK / f"{args.label}-plans.json").write_text(json.dumps(plans, indent=1))
    cols = ["batch", "type", "members", "status", "detail", "suite on head", "suite on branch"]
    lines = ["| " + " | ".join(cols) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
    for row in table:
        lines.append("| " + " | ".join(str(row.get(c, "")).replace("|", "/") for c in cols) + " |")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
