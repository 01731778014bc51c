"""Show that two revisions of idealdiff write byte-identical JSON reports: the embedded demo and
the benchmark batch (``sqla_batch.py``: a pinned SQLAlchemy sdist and ten merged branches).

    python bench/same_reports.py BEFORE [AFTER]     # AFTER defaults to HEAD

Each revision is exported with ``git archive`` into ``bench/work/same-reports/<sha>/`` and run
from there (``python -m app.cli``, ``PYTHONPATH`` set to it), with its own empty data directory,
offline. Exit status 0 when every report is the same bytes, 1 otherwise (the differing lines are
printed). For refactors that must not change what a user sees (issue 12's layout).
"""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "work" / "same-reports"
sys.path.insert(0, str(HERE))

import sqla_batch  # noqa: E402
from speed import TARBALL, ensure_tools  # noqa: E402


def export(rev: str) -> Path:
    """The tree of ``rev`` on disk (reused when already exported)."""
    sha = subprocess.run(
        ["git", "rev-parse", rev], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
    out = WORK / sha[:12]
    if not (out / "app").exists():
        out.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", sha], cwd=ROOT, check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(out)], input=archive.stdout, check=True)
    return out


def report(code: Path, *args: str) -> bytes:
    """``idealdiff <args> --format json`` run from the exported tree ``code``, offline."""
    with tempfile.TemporaryDirectory() as data:
        env = {
            **os.environ,
            "PYTHONPATH": str(code),
            "IDEALDIFF_DATA_DIR": data,
            "ANTHROPIC_API_KEY": "",
        }
        env.pop("IDEALDIFF_DATABASE_URL", None)
        done = subprocess.run(
            [sys.executable, "-m", "app.cli", *args, "--format", "json"],
            cwd=data,
            env=env,
            capture_output=True,
        )
    if done.returncode not in (0, 1):  # 1: findings reported
        raise SystemExit(f"{code.name}: idealdiff {' '.join(args)} failed:\n{done.stderr.decode()}")
    return done.stdout


def main(argv: list[str]) -> int:
    """Compare the reports of two revisions."""
    if not argv or len(argv) > 2:
        raise SystemExit(__doc__)
    before, after = export(argv[0]), export(argv[1] if len(argv) > 1 else "HEAD")
    ensure_tools()
    repo = WORK / "sqla-batch"
    sqla_batch.build_repo(TARBALL, repo)
    cases = {
        "demo": ("demo",),
        "sqla batch": ("review", str(repo), "--since", sqla_batch.BASE_TAG, "--no-cache"),
    }
    same = True
    for name, args in cases.items():
        old, new = report(before, *args), report(after, *args)
        if old == new:
            print(f"{name}: identical ({len(new):,} bytes)")
            continue
        same = False
        print(f"{name}: DIFFERENT")
        diff = difflib.unified_diff(
            old.decode().splitlines(), new.decode().splitlines(), "before", "after", lineterm=""
        )
        print("\n".join(list(diff)[:80]))
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
