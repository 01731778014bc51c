"""The command line: exit codes, output files, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main
from app.local.build import RepoBuilder
from tests.pg_cluster import PgCluster
from tests.test_redundancy import SLUGIFY, SLUGIFY_RENAMED, UNIQUE


def test_exit_code_is_0_without_findings(
    repo: RepoBuilder, capsys: pytest.CaptureFixture[str]
) -> None:
    base = repo.commit("Initial", {"pkg/text.py": SLUGIFY})
    repo.branch("fib", {"pkg/fib.py": UNIQUE})
    repo.merge_pr(1, "fib", "Fib")
    assert main(["review", str(repo.root), "--since", base]) == 0
    assert "No redundant implementations found." in capsys.readouterr().out


def test_exit_code_is_1_with_findings_and_output_goes_to_the_file(
    repo: RepoBuilder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = repo.commit("Initial", {"pkg/text.py": SLUGIFY})
    repo.branch("names", {"pkg/urls.py": SLUGIFY_RENAMED})
    repo.merge_pr(1, "names", "Names")
    out = tmp_path / "report.json"
    code = main(["review", str(repo.root), "--since", base, "--format", "json", "-o", str(out)])
    assert code == 1
    assert capsys.readouterr().out == ""
    assert len(json.loads(out.read_text())["findings"]) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--since", "nope"], "neither a revision of this repository nor a date", id="since"
        ),
        pytest.param(["--base", "no-such-branch"], "does not name a commit", id="base"),
    ],
)
def test_exit_code_is_2_on_bad_arguments(
    repo: RepoBuilder, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    repo.commit("Initial", {"pkg/text.py": SLUGIFY})
    assert main(["review", str(repo.root), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("idealdiff: error:")
    assert message in err


def test_exit_code_is_2_outside_a_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["review", str(tmp_path)]) == 2
    assert "is not a git repository" in capsys.readouterr().err


def test_console_script_runs_as_a_process(repo: RepoBuilder) -> None:
    base = repo.commit("Initial", {"pkg/text.py": SLUGIFY})
    repo.branch("names", {"pkg/urls.py": SLUGIFY_RENAMED})
    repo.merge_pr(1, "names", "Names")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "review",
            str(repo.root),
            "--since",
            base,
            "--format",
            "sarif",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["version"] == "2.1.0"
    assert done.stderr == ""  # no progress bar when not attached to a terminal


def test_progress_bar_draws_on_a_terminal_and_clears_its_line() -> None:
    import io

    from app.local.progress import ProgressBar

    stream = io.StringIO()
    bar = ProgressBar(stream, force=True)
    bar("parse", 0, 4)
    bar("parse", 4, 4)
    bar.close()
    text = stream.getvalue()
    assert "parse       [------------------------------] 0/4" in text
    assert "[##############################] 4/4" in text
    assert text.endswith("\r")
    silent = io.StringIO()
    ProgressBar(silent)("parse", 1, 2)  # StringIO is not a terminal
    assert silent.getvalue() == ""


def test_evidence_tells_members_of_one_name_apart(
    repo: RepoBuilder, capsys: pytest.CaptureFixture[str]
) -> None:
    base = repo.commit("Initial", {"pkg/text.py": SLUGIFY})
    repo.branch("copy", {"pkg/urls.py": SLUGIFY.replace("Turn a title", "Make a title")})
    repo.merge_pr(1, "copy", "Copy")
    assert main(["review", str(repo.root), "--since", base]) == 1
    out = capsys.readouterr().out
    assert "- `pkg/urls.py::slugify` ~ `pkg/text.py::slugify` (type-1" in out


def test_the_cli_reads_the_database_url_as_the_app_does(
    repo: RepoBuilder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = repo.commit("Initial", {"pkg/__init__.py": "", "pkg/text.py": SLUGIFY})
    repo.branch("other", {"pkg/other.py": UNIQUE})
    repo.merge_pr(1, "other", "Unrelated")
    cache = tmp_path / "shared.sqlite3"
    monkeypatch.setenv("IDEALDIFF_DATABASE_URL", f"sqlite:///{cache}")
    assert main(["review", str(repo.root), "--since", base]) == 0
    assert cache.exists()
    monkeypatch.setenv("IDEALDIFF_DATABASE_URL", "mysql://u:pw@db/x")
    assert main(["review", str(repo.root), "--since", base]) == 2  # said, not silently ignored


def test_beside_postgresql_the_cli_caches_on_this_machine_unless_told_to_share(
    repo: RepoBuilder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pg_cluster: PgCluster,
) -> None:
    import psycopg

    base = repo.commit("Initial", {"pkg/__init__.py": "", "pkg/text.py": SLUGIFY})
    repo.branch("other", {"pkg/other.py": UNIQUE})
    repo.merge_pr(1, "other", "Unrelated")
    url = pg_cluster.new_database()
    monkeypatch.setenv("IDEALDIFF_DATABASE_URL", url)
    assert main(["review", str(repo.root), "--since", base]) == 0
    assert (tmp_path / "data" / "cache.sqlite3").exists()  # local: no round trip per scan
    monkeypatch.setenv("IDEALDIFF_SHARED_CACHE", "1")
    assert main(["review", str(repo.root), "--since", base]) == 0
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM analysis_cache").fetchone()
    assert row is not None
    assert row[0] > 0  # the scans, for every worker of the fleet
