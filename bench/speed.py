"""Speed benchmark: `idealdiff review` of a 10-branch batch on SQLAlchemy vs jscpd and symilar.

    python bench/speed.py                 # everything (about 25 minutes on 2 cores)
    python bench/speed.py --only main     # cold/warm review vs jscpd and symilar
    python bench/speed.py --only scaling  # repository size and batch size
    python bench/speed.py --only parse    # ast vs libcst parse throughput

Tools and data go to ``bench/work/speed/`` (gitignored): the pinned SQLAlchemy sdist (pip), jscpd 5
(npm), pylint's symilar (a venv), the built repositories and ``results.json``. Every idealdiff run
is a fresh process of the checkout's own code (``PYTHONPATH`` is the repository root), with
``--llm offline`` and, for a cold run, an empty ``IDEALDIFF_DATA_DIR``.

Per run: wall time, CPU time (user + sys of the whole process tree), the peak RSS of the largest
process (``wait4``) and the peak RSS of the process tree summed (sampled every 50 ms from /proc:
idealdiff parses in a process pool). Medians over ``--runs`` runs, the tools interleaved so that
load from elsewhere on the machine hits them alike.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "work" / "speed"
sys.path.insert(0, str(HERE))

import sqla_batch  # noqa: E402

SQLA_VERSION = "2.0.36"
JSCPD = "jscpd@5.4.1"
JSCPD_BINARY = "jscpd-linux-x64-gnu@5.3.3"  # the newest published Linux x64 build of the engine
PYLINT = "pylint==3.3.9"
TARBALL = WORK / f"sqlalchemy-{SQLA_VERSION}.tar.gz"

# jscpd's most permissive Python settings for renamed and near-miss copies: comments skipped,
# identifiers and literals blinded (Type-2), neighbouring clones merged across gaps (Type-3);
# the same minimum size as idealdiff's defaults (5 lines, 50 tokens).
JSCPD_ARGS = (
    "--format",
    "python",
    "--mode",
    "weak",
    "--ignore-identifiers",
    "--ignore-literals",
    "--max-gap-lines",
    "3",
    "--min-tokens",
    "50",
    "--min-lines",
    "5",
    "--reporters",
    "json",
    "--silent",
    "--no-tips",
)
SYMILAR_ARGS = ("-d", "5", "-i", "--ignore-docstrings", "--ignore-imports", "--ignore-signatures")

# Repository sizes for the scaling runs: path prefixes kept from the sdist.
SIZES: dict[str, tuple[str, ...]] = {
    "S": (
        "lib/sqlalchemy/orm/",
        "lib/sqlalchemy/sql/",
        "lib/sqlalchemy/engine/",
        "lib/sqlalchemy/util/",
    ),
    "M": ("lib/", "test/sql/", "test/dialect/"),
    "L": (),
}


# ---------------------------------------------------------------------------------------------
# Setup.


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def sh(*cmd: str, cwd: Path | None = None) -> str:
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True).stdout


def ensure_tools() -> dict[str, str]:
    WORK.mkdir(parents=True, exist_ok=True)
    if not TARBALL.exists():
        log(f"downloading the SQLAlchemy {SQLA_VERSION} sdist")
        sh(
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            f"sqlalchemy=={SQLA_VERSION}",
            "-d",
            str(WORK),
        )
    npm = WORK / "npm"
    if not jscpd_bin().exists():
        log("installing jscpd")
        npm.mkdir(exist_ok=True)
        (npm / "package.json").write_text('{"private": true}\n')
        sh("npm", "install", "--no-audit", "--no-fund", JSCPD, JSCPD_BINARY, cwd=npm)
    venv = WORK / "venv"
    if not (venv / "bin" / "symilar").exists():
        log("installing pylint (symilar) into a venv")
        sh(sys.executable, "-m", "venv", str(venv))
        sh(str(venv / "bin" / "pip"), "install", "-q", "-r", str(HERE / "requirements.txt"))
    return {
        "python": platform.python_version(),
        "idealdiff": _idealdiff_version(),
        "jscpd": sh(str(jscpd_bin()), "--version").strip(),
        "symilar": "pylint " + sh(str(venv / "bin" / "pylint"), "--version").split()[1],
        "libcst": _pkg_version("libcst"),
        "git": sh("git", "--version").strip(),
        "sqlalchemy sdist": SQLA_VERSION,
    }


def _pkg_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def _idealdiff_version() -> str:
    rev = sh("git", "rev-parse", "--short", "HEAD", cwd=ROOT).strip()
    dirty = sh("git", "status", "--porcelain", "--", "app", "analyzers", cwd=ROOT).strip()
    return f"{rev}{' + uncommitted changes' if dirty else ''}"


def jscpd_bin() -> Path:
    return WORK / "npm" / "node_modules" / "jscpd-linux-x64-gnu" / "bin" / "jscpd"


def build(name: str, branches: int = 10, keep: tuple[str, ...] = ()) -> Path:
    repo = WORK / name
    sqla_batch.build_repo(TARBALL, repo, branches=branches, keep=keep, log=log)
    return repo


def repo_size(repo: Path) -> dict[str, int]:
    files = sh("git", "ls-files", "-z", "*.py", cwd=repo).split("\0")
    files = [f for f in files if f]
    lines = size = 0
    for f in files:
        data = (repo / f).read_bytes()
        size += len(data)
        lines += data.count(b"\n")
    return {"py_files": len(files), "py_lines": lines, "py_bytes": size}


def machine() -> dict[str, object]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(mem_kb / 2**20, 1),
        "os": platform.platform(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


# ---------------------------------------------------------------------------------------------
# Measuring one process tree.


@dataclass
class Run:
    wall: float
    cpu: float
    rss_max_mb: float  # the largest single process
    rss_tree_mb: float  # the whole tree, sampled
    rc: int
    load: float  # 1-minute load average when the run started


_PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree_rss(root: int) -> int:
    """RSS of ``root`` and its descendants, found through /proc/PID/task/TID/children (cheap:
    scanning all of /proc every few milliseconds cost a quarter of a core)."""
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
            for task in os.listdir(f"/proc/{pid}/task"):
                todo.extend(
                    int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()
                )
        except (OSError, ValueError, IndexError):
            continue
    return total


def measure(
    cmd: Sequence[str],
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float | None = None,
    stdout: Path | None = None,
) -> Run:
    load = os.getloadavg()[0]
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.PIPE)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    killed = False
    try:
        _, status, usage = _wait4(proc, timeout)
    except TimeoutError:
        proc.kill()
        _, status, usage = os.wait4(proc.pid, 0)
        killed = True
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if stdout:
        out.close()  # type: ignore[union-attr]
    rc = -9 if killed else os.waitstatus_to_exitcode(status)
    proc.returncode = rc
    if rc not in (0, 1) and not killed:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise RuntimeError(f"{' '.join(cmd[:4])}... exited {rc}:\n{err[-2000:]}")
    return Run(
        wall=float("inf") if killed else wall,
        cpu=usage.ru_utime + usage.ru_stime,
        rss_max_mb=usage.ru_maxrss / 1024,
        rss_tree_mb=peak / 2**20,
        rc=rc,
        load=load,
    )


def _wait4(
    proc: subprocess.Popen[bytes], timeout: float | None
) -> tuple[int, int, os.struct_rusage]:
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            return pid, status, usage
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError
        time.sleep(0.01)


def summary(runs: list[Run]) -> dict[str, float]:
    return {
        "runs": len(runs),
        "wall_median": statistics.median(r.wall for r in runs),
        "wall_min": min(r.wall for r in runs),
        "wall_max": max(r.wall for r in runs),
        "cpu_median": statistics.median(r.cpu for r in runs),
        "rss_max_mb": max(r.rss_max_mb for r in runs),
        "rss_tree_mb": max(r.rss_tree_mb for r in runs),
        "load_median": statistics.median(r.load for r in runs),
    }


# ---------------------------------------------------------------------------------------------
# The tools.


def idealdiff_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)  # the checkout's code, whatever is installed
    env["IDEALDIFF_DATA_DIR"] = str(data_dir)
    env.pop("ANTHROPIC_API_KEY", None)
    return env


def idealdiff_cmd(repo: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "app.cli",
        "review",
        str(repo),
        "--base",
        "main",
        "--since",
        sqla_batch.BASE_TAG,
        "--format",
        "json",
        "--output",
        str(out),
        "--llm",
        "offline",
    ]


def run_idealdiff(repo: Path, data_dir: Path, out: Path) -> Run:
    return measure(idealdiff_cmd(repo, out), env=idealdiff_env(data_dir))


def run_jscpd(repo: Path, out: Path) -> Run:
    if out.exists():
        shutil.rmtree(out)
    return measure([str(jscpd_bin()), str(repo), *JSCPD_ARGS, "--output", str(out)])


def run_symilar(repo: Path, out: Path, timeout: float) -> Run:
    files = [f for f in sh("git", "ls-files", "-z", "*.py", cwd=repo).split("\0") if f]
    cmd = [str(WORK / "venv" / "bin" / "symilar"), *SYMILAR_ARGS, *files]
    return measure(cmd, cwd=repo, timeout=timeout, stdout=out)


# What each tool found of the three injected copies (a sanity check, not the quality benchmark).


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def injected_spans(
    repo: Path,
) -> list[tuple[tuple[str, tuple[int, int]], tuple[str, tuple[int, int]]]]:
    import ast

    spans = []
    for _copy, (cpath, cname), (opath, oname) in sqla_batch.injected_keys():
        pair = []
        for path, name in ((cpath, cname), (opath, oname)):
            node = sqla_batch._find_def(ast.parse((repo / path).read_text()), name)
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            pair.append((path, (start, node.end_lineno or node.lineno)))
        spans.append((pair[0], pair[1]))
    return spans


def found_by_idealdiff(report: Path, repo: Path) -> int:
    data = json.loads(report.read_text())
    members = [{(m["path"], m["qualname"]) for m in f["members"]} for f in data.get("findings", [])]
    return sum(
        any({c, o} <= group for group in members) for _copy, c, o in sqla_batch.injected_keys()
    )


def found_by_jscpd(report_dir: Path, repo: Path) -> int:
    data = json.loads((report_dir / "jscpd-report.json").read_text())
    clones = []
    for d in data["duplicates"]:
        a, b = d["firstFile"], d["secondFile"]
        clones.append(
            (
                (_rel(a["name"], repo), (a["start"], a["end"])),
                (_rel(b["name"], repo), (b["start"], b["end"])),
            )
        )
    return _count_found(clones, injected_spans(repo))


def found_by_symilar(output: Path, repo: Path) -> int:
    clones = []
    for block in output.read_text(errors="replace").split("\n\n"):
        spans = re.findall(r"^==(.+?):\[(\d+):(\d+)\]$", block, re.M)
        for i, x in enumerate(spans):
            for y in spans[i + 1 :]:
                clones.append(
                    ((x[0], (int(x[1]) + 1, int(x[2]))), (y[0], (int(y[1]) + 1, int(y[2]))))
                )
    return _count_found(clones, injected_spans(repo))


def _rel(name: str, repo: Path) -> str:
    return os.path.relpath(name, repo) if os.path.isabs(name) else name.removeprefix(f"{repo}/")


def _count_found(clones: list, spans: list) -> int:  # type: ignore[type-arg]
    found = 0
    for copy, orig in spans:
        for x, y in clones:
            for p, q in ((x, y), (y, x)):
                if (
                    p[0] == copy[0]
                    and q[0] == orig[0]
                    and _overlaps(p[1], copy[1])
                    and _overlaps(q[1], orig[1])
                ):
                    found += 1
                    break
            else:
                continue
            break
    return found


# ---------------------------------------------------------------------------------------------
# Benchmarks.


def bench_main(runs: int, symilar_runs: int, symilar_timeout: float) -> dict[str, object]:
    repo = build("sqla-b10")
    out = WORK / "out"
    out.mkdir(exist_ok=True)
    cold: list[Run] = []
    warm: list[Run] = []
    jscpd: list[Run] = []
    for i in range(runs):
        data = Path(tempfile.mkdtemp(prefix="idealdiff-cold-", dir=WORK))
        cold.append(run_idealdiff(repo, data, out / "cold.json"))
        warm.append(run_idealdiff(repo, data, out / "warm.json"))
        shutil.rmtree(data)
        jscpd.append(run_jscpd(repo, out / "jscpd"))
        log(
            f"run {i + 1}/{runs}: cold {cold[-1].wall:.2f}s warm {warm[-1].wall:.2f}s "
            f"jscpd {jscpd[-1].wall:.2f}s"
        )
    same = (out / "cold.json").read_bytes() == (out / "warm.json").read_bytes()
    symilar: list[Run] = []
    for _ in range(symilar_runs):
        symilar.append(run_symilar(repo, out / "symilar.txt", symilar_timeout))
        log(f"symilar {symilar[-1].wall:.1f}s")
    result: dict[str, object] = {
        "repo": repo_size(repo),
        "cold": summary(cold),
        "warm": summary(warm),
        "jscpd": summary(jscpd),
        "cold_equals_warm_report": same,
        "injected_found": {
            "idealdiff": found_by_idealdiff(out / "cold.json", repo),
            "jscpd": found_by_jscpd(out / "jscpd", repo),
        },
    }
    if symilar:
        timed_out = [r for r in symilar if r.wall == float("inf")]
        result["symilar"] = summary(symilar) | {
            "timed_out": len(timed_out),
            "timeout_s": symilar_timeout,
        }
        if not timed_out:
            result["injected_found"]["symilar"] = found_by_symilar(out / "symilar.txt", repo)  # type: ignore[index]
    result["stages"] = stages(repo)
    return result


def stages(repo: Path) -> dict[str, dict[str, float]]:
    """Seconds per review stage, cold and warm, from the progress callbacks (one run each)."""
    data = Path(tempfile.mkdtemp(prefix="idealdiff-stages-", dir=WORK))
    result = {}
    for label in ("cold", "warm"):
        cmd = [sys.executable, str(HERE / "speed.py"), "_stages", str(repo)]
        done = subprocess.run(cmd, env=idealdiff_env(data), capture_output=True, text=True)
        if done.returncode != 0:
            log(f"stage timing failed: {done.stderr[-500:]}")
            return {}
        result[label] = json.loads(done.stdout)
    shutil.rmtree(data)
    return result


def _stages_child(repo: str) -> None:
    """In-process review with a recording progress callback (run as a child by ``stages``)."""
    t0 = time.perf_counter()
    import app.cli as cli

    marks: list[tuple[str, float]] = [("import", t0), ("setup", time.perf_counter())]

    class Recorder:
        def __init__(self, *args: object, **kwargs: object) -> None:
            pass

        def __call__(self, stage: str, done: int, total: int) -> None:
            if marks[-1][0] != stage:
                marks.append((stage, time.perf_counter()))

        def close(self) -> None:
            marks.append(("render", time.perf_counter()))

    cli.ProgressBar = Recorder  # type: ignore[misc,assignment]
    cli.main(
        [
            "review",
            repo,
            "--base",
            "main",
            "--since",
            sqla_batch.BASE_TAG,
            "--format",
            "json",
            "--output",
            os.devnull,
            "--llm",
            "offline",
        ]
    )
    marks.append(("end", time.perf_counter()))
    times: dict[str, float] = {}
    for (stage, t), (_, t_next) in itertools.pairwise(marks):
        times[stage] = round(times.get(stage, 0.0) + t_next - t, 3)
    times["total"] = round(marks[-1][1] - t0, 3)
    print(json.dumps(times))


def bench_scaling(runs: int, symilar_timeout: float) -> dict[str, object]:
    out = WORK / "out"
    out.mkdir(exist_ok=True)
    sizes: dict[str, object] = {}
    for name, keep in SIZES.items():
        repo = build(f"sqla-{name}-b10" if keep else "sqla-b10", keep=keep)
        cold, warm, jscpd = [], [], []
        for _ in range(runs):
            data = Path(tempfile.mkdtemp(prefix="idealdiff-cold-", dir=WORK))
            cold.append(run_idealdiff(repo, data, out / "scale.json"))
            warm.append(run_idealdiff(repo, data, out / "scale.json"))
            shutil.rmtree(data)
            jscpd.append(run_jscpd(repo, out / "jscpd-scale"))
        entry = {
            "repo": repo_size(repo),
            "cold": summary(cold),
            "warm": summary(warm),
            "jscpd": summary(jscpd),
        }
        if name == "S":
            sym = run_symilar(repo, out / "symilar-S.txt", symilar_timeout)
            entry["symilar"] = summary([sym])
        sizes[name] = entry
        c, w = summary(cold)["wall_median"], summary(warm)["wall_median"]
        log(f"size {name}: cold {c:.2f}s warm {w:.2f}s")
    batches: dict[str, object] = {}
    for count in (1, 10, 50):
        repo = build(f"sqla-b{count}", branches=count)
        cold, warm = [], []
        for _ in range(runs):
            data = Path(tempfile.mkdtemp(prefix="idealdiff-cold-", dir=WORK))
            cold.append(run_idealdiff(repo, data, out / "batch.json"))
            warm.append(run_idealdiff(repo, data, out / "batch.json"))
            shutil.rmtree(data)
        findings = len(json.loads((out / "batch.json").read_text())["findings"])
        batches[str(count)] = {"cold": summary(cold), "warm": summary(warm), "findings": findings}
        c, w = summary(cold)["wall_median"], summary(warm)["wall_median"]
        log(f"batch {count}: cold {c:.2f}s warm {w:.2f}s")
    return {"sizes": sizes, "batches": batches}


def bench_parse() -> dict[str, object]:
    """Single-core parse throughput on the benchmark repository, in MB of source per second."""
    import ast
    import warnings

    import libcst as cst

    sys.path.insert(0, str(ROOT))
    from analyzers.scan import scan_module
    from analyzers.units import locate_units

    repo = build("sqla-b10")
    files = [f for f in sh("git", "ls-files", "-z", "*.py", cwd=repo).split("\0") if f]
    blobs = [(f, (repo / f).read_bytes()) for f in files]
    blobs = [(f, b) for f, b in blobs if len(b) <= 1_000_000]
    texts = [(f, b.decode("utf-8-sig")) for f, b in blobs]
    # libcst is slow: a deterministic sample (every 8th file) keeps this under a minute.
    sample = texts[::8]

    def rate(fn: Callable[[str, str], object], items: list[tuple[str, str]]) -> dict[str, float]:
        size = sum(len(t.encode()) for _, t in items)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for path, text in items:
                fn(path, text)
        secs = time.perf_counter() - start
        return {
            "mb": round(size / 1e6, 2),
            "seconds": round(secs, 2),
            "mb_per_s": round(size / 1e6 / secs, 2),
        }

    results = {
        "ast.parse (all files)": rate(lambda p, t: ast.parse(t), texts),
        "ast.parse (sample)": rate(lambda p, t: ast.parse(t), sample),
        "libcst.parse_module (sample)": rate(lambda p, t: cst.parse_module(t), sample),
        "scan_module ast path (all files)": rate(lambda p, t: scan_module(p, t.encode()), texts),
        "scan_module libcst path (sample)": rate(
            lambda p, t: scan_module(p, t.encode(), precise=True), sample
        ),
        "locate_units, libcst + positions (sample)": rate(lambda p, t: locate_units(t, p), sample),
    }
    return results


# ---------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["_stages"]:
        _stages_child(args[1])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only", default="main,scaling,parse", help="comma-separated: main, scaling, parse"
    )
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (median)")
    parser.add_argument("--scaling-runs", type=int, default=3)
    parser.add_argument("--symilar-runs", type=int, default=1)
    parser.add_argument("--symilar-timeout", type=float, default=600.0)
    parser.add_argument("--output", default=str(WORK / "results.json"))
    opts = parser.parse_args(args)
    only = set(opts.only.split(","))
    results: dict[str, object] = {"machine": machine(), "versions": ensure_tools()}
    path = Path(opts.output)
    if path.exists():  # keep the parts of an earlier run that this one does not redo
        results = json.loads(path.read_text()) | results
    if "parse" in only:
        log("parse throughput")
        results["parse"] = bench_parse()
    if "main" in only:
        log("main benchmark")
        results["main"] = bench_main(opts.runs, opts.symilar_runs, opts.symilar_timeout)
    if "scaling" in only:
        log("scaling")
        results["scaling"] = bench_scaling(opts.scaling_runs, opts.symilar_timeout)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(report(results))
    return 0


def report(r: dict) -> str:  # type: ignore[type-arg]
    """The results as the Markdown tables of bench/README.md."""
    lines = []
    m = r.get("machine", {})
    lines.append(
        f"Machine: {m.get('cpu')}, {m.get('cores')} cores, {m.get('ram_gib')} GiB RAM; "
        f"{m.get('date')}."
    )
    lines.append("Versions: " + ", ".join(f"{k} {v}" for k, v in r.get("versions", {}).items()))
    main_r = r.get("main")
    if main_r:
        repo = main_r["repo"]
        j = main_r["jscpd"]["wall_median"]
        lines += [
            "",
            f"Repository: {repo['py_files']} Python files, {repo['py_lines']:,} lines, "
            f"{repo['py_bytes'] / 1e6:.1f} MB; batch of 10 branches.",
            "",
            "| tool | wall (median) | min-max | CPU | peak RSS, largest process | "
            "peak RSS, process tree | vs jscpd |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for name in ("cold", "warm", "jscpd", "symilar"):
            s = main_r.get(name)
            if not s:
                continue
            label = {
                "cold": "idealdiff review, cold",
                "warm": "idealdiff review, warm",
                "jscpd": "jscpd 5 (best Type-2/3 settings)",
                "symilar": "pylint symilar",
            }[name]
            wall = s["wall_median"]
            if s.get("timed_out"):
                lines.append(
                    f"| {label} | > {s['timeout_s']:.0f} s (timed out) | | | "
                    f"{s['rss_max_mb']:.0f} MB | {s['rss_tree_mb']:.0f} MB | |"
                )
                continue
            lines.append(
                f"| {label} | {wall:.2f} s | {s['wall_min']:.2f}-{s['wall_max']:.2f} | "
                f"{s['cpu_median']:.2f} s | {s['rss_max_mb']:.0f} MB | {s['rss_tree_mb']:.0f} MB | "
                f"{wall / j:.2f}x |"
            )
        lines.append("")
        lines.append(
            f"Injected copies found (of 3): {main_r.get('injected_found')}; "
            f"cold and warm reports identical: {main_r.get('cold_equals_warm_report')}."
        )
        st = main_r.get("stages")
        if st:
            names = list(dict.fromkeys([*st["cold"], *st["warm"]]))
            lines += [
                "",
                "| stage | " + " | ".join(names) + " |",
                "| --- |" + " --- |" * len(names),
            ]
            for label in ("cold", "warm"):
                lines.append(
                    f"| {label} | " + " | ".join(f"{st[label].get(n, 0):.2f}" for n in names) + " |"
                )
    sc = r.get("scaling")
    if sc:
        lines += [
            "",
            "| size | Python lines | cold | warm | jscpd | cold / jscpd | warm / jscpd |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for name, e in sc["sizes"].items():
            c, w, j = (e[k]["wall_median"] for k in ("cold", "warm", "jscpd"))
            lines.append(
                f"| {name} | {e['repo']['py_lines']:,} | {c:.2f} s | {w:.2f} s | "
                f"{j:.2f} s | {c / j:.1f}x | {w / j:.1f}x |"
            )
        sym = sc["sizes"].get("S", {}).get("symilar")
        if sym:
            lines.append(f"\nsymilar on S: {sym['wall_median']:.1f} s, {sym['rss_max_mb']:.0f} MB.")
        lines += ["", "| branches | cold | warm | findings |", "| --- | --- | --- | --- |"]
        for count, e in sc["batches"].items():
            lines.append(
                f"| {count} | {e['cold']['wall_median']:.2f} s | "
                f"{e['warm']['wall_median']:.2f} s | {e['findings']} |"
            )
    p = r.get("parse")
    if p:
        lines += ["", "| parser (one core) | MB | seconds | MB/s |", "| --- | --- | --- | --- |"]
        for name, e in p.items():
            lines.append(f"| {name} | {e['mb']} | {e['seconds']} | {e['mb_per_s']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
