"""The detectors under comparison, each run on one benchmark repository.

- idealdiff: ``python -m app.cli review REPO --since bench-base --format json`` from a copy of
  the committed code (``git archive HEAD``) or from the working tree;
- jscpd 5 (npm ``jscpd@5`` + ``jscpd-linux-x64-gnu``, installed into bench/work/npm), with
  identifiers and literals ignored, comments skipped, near-miss gaps merged, and only the clones
  absent from the base (``--baseline-from-ref bench-base``);
- symilar (pylint's duplicate-code checker) on every tracked ``.py`` file.

Every peer finding becomes a pair of line ranges ``(path, start, end, path, start, end)``,
1-based and inclusive.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WORK = ROOT / "bench" / "work"
NPM = WORK / "npm"
JSCPD_PACKAGES = ("jscpd@5", "jscpd-linux-x64-gnu")

Range = tuple[str, int, int]
Pair = tuple[Range, Range]

# The best settings found for each peer (see README: "Peer settings").
# Chosen by sweep_peers.py: the highest recall at a precision of at least 0.90.
JSCPD_ARGS = [
    "--format", "python", "--min-tokens", "30", "--min-lines", "3", "--mode", "weak",
    "--ignore-identifiers", "--ignore-literals", "--max-gap-lines", "3",
]
SYMILAR_ARGS = ["-d", "3"]


def idealdiff_source(worktree: bool) -> tuple[Path, str]:
    """Where to import idealdiff from, and a description of that version."""
    code = _git(ROOT, "log", "-1", "--format=%h", "HEAD", "--", "app", "analyzers")
    if worktree:
        return ROOT, f"working tree (code of commit {code} + uncommitted edits)"
    sha = _git(ROOT, "rev-parse", "--short", "HEAD")
    dest = WORK / f"idealdiff-{sha}"
    if not (dest / "app").exists():
        tmp = WORK / f"idealdiff-{sha}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "archive", "HEAD", "app", "analyzers", "prompts", "pyproject.toml"],
            cwd=ROOT, capture_output=True, check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
        tmp.rename(dest)
    return dest, f"commit {code} (last commit of app/ and analyzers/ at HEAD {sha})"


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


def run_idealdiff(repo: Path, src: Path, out: Path) -> tuple[dict, float]:
    env = {
        **os.environ,
        "PYTHONPATH": str(src),
        "IDEALDIFF_DATA_DIR": str(WORK / "idealdiff-cache"),
    }
    env.pop("ANTHROPIC_API_KEY", None)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "review", str(repo), "--since", "bench-base",
         "--format", "json", "--output", str(out)],
        cwd=src, env=env, capture_output=True, text=True, check=False,
    )
    took = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise RuntimeError(f"idealdiff failed on {repo}: {done.stderr[-2000:]}")
    return json.loads(out.read_text()), took


def ensure_jscpd() -> Path:
    binary = NPM / "node_modules" / ".bin" / "jscpd"
    if not binary.exists():
        NPM.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", *JSCPD_PACKAGES], cwd=NPM, check=True
        )
    return binary


def jscpd_version() -> str:
    out = subprocess.run([str(ensure_jscpd()), "--version"], capture_output=True, text=True)
    return out.stdout.strip()


def run_jscpd(repo: Path, out_dir: Path, extra: list[str] | None = None) -> tuple[list[Pair], float]:
    binary = ensure_jscpd()
    shutil.rmtree(out_dir, ignore_errors=True)
    args = [*JSCPD_ARGS, *(extra or [])]
    start = time.perf_counter()
    subprocess.run(
        [str(binary), *args, "--baseline-from-ref", "bench-base", "--reporters", "json",
         "--output", str(out_dir), "--silent", "--no-tips", "."],
        cwd=repo, capture_output=True, text=True, check=False,
        env={**os.environ, "JSCPD_NO_TIPS": "1"},
    )
    took = time.perf_counter() - start
    report = json.loads((out_dir / "jscpd-report.json").read_text())
    pairs: list[Pair] = []
    for dup in report["duplicates"]:
        if not dup.get("isNew", True):
            continue
        a, b = dup["firstFile"], dup["secondFile"]
        pairs.append(((a["name"], a["start"], a["end"]), (b["name"], b["start"], b["end"])))
    return pairs, took


_SYM_HEAD = re.compile(r"^(\d+) similar lines in (\d+) files$")
_SYM_FILE = re.compile(r"^==(.+):\[(\d+):(\d+)\]$")


def run_symilar(repo: Path) -> tuple[list[Pair], float]:
    files = [f for f in _git(repo, "ls-files", "*.py").splitlines() if f]
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pylint.checkers.symilar", *SYMILAR_ARGS, *files],
        cwd=repo, capture_output=True, text=True, check=False,
    )
    took = time.perf_counter() - start
    pairs: list[Pair] = []
    group: list[Range] = []
    for line in done.stdout.splitlines() + [""]:
        m = _SYM_FILE.match(line.strip())
        if m:
            # symilar prints 0-based start and exclusive end.
            group.append((m.group(1), int(m.group(2)) + 1, int(m.group(3))))
            continue
        if group and not line.startswith("=="):
            for i in range(len(group)):
                for j in range(i + 1, len(group)):
                    pairs.append((group[i], group[j]))
            group = []
    return pairs, took


def symilar_version() -> str:
    import pylint

    return f"pylint {pylint.__version__}"
