"""Webhook intake benchmark: ``idealdiff serve`` under load, and under SIGKILL (never run by CI).

    python bench/intake/run.py                 # load, then the crash soak (~6 min)
    python bench/intake/run.py --only load     # deliveries/s and latency, peers included
    python bench/intake/run.py --only soak     # kill -9 while delivering; count lost/duplicated
    python bench/intake/run.py --only flood --targets idealdiff@REV,idealdiff
                                               # 80 unsigned 24 MB requests at once: peak memory

The server is the real ``idealdiff serve`` process on loopback with a fresh data directory. Its
worker is off (``--no-worker``) unless a target says otherwise, so jobs stay queued and nothing
reaches a network; ``GITHUB_API_URL`` points at a closed loopback port all the same. Raw outputs
go to ``bench/work/intake/``; see ``bench/intake/README.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
WORK = ROOT / "bench" / "work" / "intake"
sys.path.insert(0, str(ROOT))

from app.store.sqlite import AppStore  # noqa: E402
from tests.helpers import free_port  # noqa: E402
from tests.webhook_payloads import merged_pr, pr_comment, sign  # noqa: E402

SECRET = "bench-webhook-secret"
REPOS = tuple(f"bench-org/service-{k}" for k in range(4))
# (name, command line): the peers show what the stack costs without idealdiff's work.
# idealdiff-pg: one server on PostgreSQL; idealdiff-pg-x2: two servers on one PostgreSQL database,
# each given half the connections (a load balancer's split).
TARGETS = ("bare", "durable", "idealdiff", "idealdiff+worker", "idealdiff-pg", "idealdiff-pg-x2")


def say(text: str) -> None:
    """Progress on standard output, at once."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


@dataclass(frozen=True)
class Delivery:
    """A signed body ready to send; ``repo``/``number`` say what it must leave in the store."""

    event: str
    body: bytes
    signature: str
    kind: str  # "merge" or "command"
    repo: str
    number: int


def deliveries(count: int = 200) -> list[Delivery]:
    """Half merged pull requests, half ``/idealize`` comments, over four repositories.

    Derived from octokit's recorded examples and validated against GitHub's webhook schema by
    ``tests/webhook_payloads.py`` (13-25 kB each, as GitHub sends them).
    """
    out: list[Delivery] = []
    for i in range(count):
        repo = REPOS[(i // 2) % len(REPOS)]
        number = 1000 + i
        if i % 2 == 0:
            payload = merged_pr(
                repo,
                number,
                title=f"Change {number}",
                author=f"dev-{i % 7}",
                merge_sha=f"{i:040x}",
                merged_at=f"2026-11-2{i % 10}T10:{i % 60:02d}:00Z",
            )
            event, kind = "pull_request", "merge"
        else:
            payload = pr_comment(repo, number, "/idealize", comment_id=50_000 + i)
            event, kind = "issue_comment", "command"
        body = json.dumps(payload).encode()
        out.append(Delivery(event, body, sign(body, SECRET), kind, repo, number))
    return out


def write_manifest(items: list[Delivery], where: Path) -> Path:
    """Bodies as files and one ``event signature path`` line each, for the wrk script."""
    where.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, item in enumerate(items):
        path = where / f"body-{i:04d}.json"
        path.write_bytes(item.body)
        lines.append(f"{item.event} {item.signature} {path}")
    manifest = where / "manifest.txt"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


# -- processes ----------------------------------------------------------------------------------


def code_at(rev: str) -> Path:
    """The checkout itself, or the code of ``app``/``analyzers``/``prompts`` at a commit."""
    if not rev:
        return ROOT
    where = WORK / f"code-{rev}"
    if not where.exists():
        where.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "archive", rev, "app", "analyzers", "prompts"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(where)], input=archive, check=True)
    return where


def hide_fast_http() -> Path:
    """A directory whose ``uvloop`` and ``httptools`` fail to import, to go first on the path."""
    where = WORK / "hide-fast-http"
    where.mkdir(parents=True, exist_ok=True)
    for name in ("uvloop", "httptools"):
        (where / f"{name}.py").write_text(f"raise ImportError('{name} hidden by bench/intake')\n")
    return where


def throwaway_key() -> str:
    """A fresh RSA key for a throwaway GITHUB_APP_ID: the worker signs JWTs nobody checks."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


@dataclass
class Server:
    """One server process (idealdiff or a peer) on loopback, restartable on the same port."""

    # One of TARGETS; "idealdiff@REV" serves the code of commit REV (an A/B); a ":h11" suffix
    # hides httptools and uvloop, so uvicorn falls back to h11 and asyncio.
    target: str
    run_dir: Path
    database_url: str | None = None  # PostgreSQL (else the run dir's SQLite file)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        """The base address."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def db(self) -> Path:
        """The SQLite file the server writes."""
        return self.run_dir / "data" / "idealdiff.sqlite3"

    @property
    def kind(self) -> str:
        """The target without its revision and suffix: bare, durable, idealdiff(+worker)."""
        return self.target.split(":")[0].split("@")[0]

    def command(self) -> list[str]:
        """The command line of the target."""
        if self.kind in ("bare", "durable"):
            return [
                sys.executable,
                str(HERE / "peers.py"),
                self.kind,
                "--port",
                str(self.port),
                "--db",
                str(self.db),
                "--secret",
                SECRET,
            ]
        cmd = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1"]
        cmd += ["--port", str(self.port)]
        return cmd if self.kind == "idealdiff+worker" else [*cmd, "--no-worker"]

    def environment(self) -> dict[str, str]:
        """The process environment: no inherited GitHub or Anthropic settings, no network."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "ANTHROPIC_"))}
        env.update(
            PYTHONPATH=os.pathsep.join(
                ([str(hide_fast_http())] if self.target.endswith(":h11") else [])
                + [str(code_at(self.target.split(":")[0].partition("@")[2]))]
            ),
            GITHUB_WEBHOOK_SECRET=SECRET,
            IDEALDIFF_DATA_DIR=str(self.run_dir / "data"),
            # Nothing listens there: a worker that runs anyway fails fast and backs off.
            GITHUB_API_URL=f"http://127.0.0.1:{free_port()}",
        )
        if self.database_url is not None:
            env["IDEALDIFF_DATABASE_URL"] = self.database_url
        if self.kind == "idealdiff+worker":
            env.update(GITHUB_APP_ID="1", GITHUB_PRIVATE_KEY=throwaway_key())
        else:
            env["IDEALDIFF_RUN_WORKER"] = "false"
        return env

    def start(self, wait: bool = True) -> None:
        """Start the process (cwd: its run dir, so no ``.env`` of the checkout is read)."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        log = open(self.run_dir / f"server-{self.starts}.log", "wb")
        self.proc = subprocess.Popen(
            self.command(),
            cwd=self.run_dir,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Poll ``/healthz`` until it answers 200."""
        import httpx

        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(self.url + "/healthz", timeout=1, trust_env=False).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or (self.proc and self.proc.poll() is not None):
                log = (self.run_dir / f"server-{self.starts}.log").read_text(errors="replace")
                raise RuntimeError(f"{self.target} did not start:\n{log[-3000:]}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM kill would."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        """SIGTERM and wait (uvicorn finishes the requests in flight)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process so far (from /proc)."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- load ---------------------------------------------------------------------------------------


def wrk(url: str, manifest: Path, connections: int, seconds: float, nonce: str) -> dict[str, Any]:
    """One wrk run (one thread: the other core is the server's); its BENCH_JSON summary."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (Debian's package)")
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{round(seconds)}s", "--timeout", "5s"]
    cmd += ["-s", str(HERE / "deliver.lua"), url + "/webhook"]
    env = {**os.environ, "BENCH_MANIFEST": str(manifest), "BENCH_NONCE": nonce}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    out = done.stdout
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{out}\n{done.stderr}")
    match = re.search(r"^BENCH_JSON (.*)$", out, re.M)
    if match is None:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    result: dict[str, Any] = json.loads(match.group(1))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["command"] = " ".join(cmd)
    return result


def load(
    targets: list[str], levels: list[int], seconds: float, manifest: Path, stamp: str
) -> list[dict[str, Any]]:
    """Every target at every concurrency level, a fresh server and database for each.

    Targets take turns at each level, so that load from elsewhere on the machine hits them alike.
    PostgreSQL targets share one server started for the run (durable: fsync and synchronous
    commits on, as deployed), a fresh database each.
    """
    cluster = None
    if any(t.startswith("idealdiff-pg") for t in targets):
        from tests.pg_cluster import PgCluster

        cluster = PgCluster(durable=True)
        cluster.start()
    rows = []
    try:
        for level in levels:
            for target in targets:
                rows.append(_load_one(target, level, seconds, manifest, stamp, cluster))
    finally:
        if cluster is not None:
            cluster.stop()
    return rows


def _load_one(
    target: str, level: int, seconds: float, manifest: Path, stamp: str, cluster: Any
) -> dict[str, Any]:
    run_dir = WORK / stamp / "load" / f"{target}-c{level}"
    shutil.rmtree(run_dir, ignore_errors=True)
    url = cluster.new_database() if target.startswith("idealdiff-pg") else None
    copies = 2 if target.endswith("-x2") else 1
    servers = [Server(target, run_dir / f"s{n}", database_url=url) for n in range(copies)]
    # The connections split between the servers, as a load balancer would spread them.
    shares = [level // copies + (1 if n < level % copies else 0) for n in range(copies)]
    for server in servers:
        server.start()
    try:
        for server, share in zip(servers, shares, strict=True):
            wrk(server.url, manifest, max(share, 1), 2, f"warm-{target}-{level}-{server.port}")
        cpu0 = [server.cpu_seconds() for server in servers]
        with ThreadPoolExecutor(len(servers)) as pool:
            parts = list(
                pool.map(
                    lambda pair: wrk(
                        pair[0].url,
                        manifest,
                        max(pair[1], 1),
                        seconds,
                        f"m-{target}-{level}-{pair[0].port}",
                    ),
                    zip(servers, shares, strict=True),
                )
            )
        cpu = sum(server.cpu_seconds() - c for server, c in zip(servers, cpu0, strict=True))
    finally:
        for server in servers:
            server.stop()
    result = dict(parts[0])
    if len(parts) > 1:
        # Two wrk runs at once: their throughputs add; a tail is the worse of the two (the
        # merged distribution is not in wrk's summary).
        for key in ("requests", "non2xx", "connect_errors", "read_errors", "timeouts"):
            result[key] = sum(p[key] for p in parts)
        result["rps"] = sum(p["rps"] for p in parts)
        for key in ("p50_us", "p99_us"):
            result[key] = max(p[key] for p in parts)
        result["parts"] = parts
    result["server_cpu_s"] = cpu
    if target != "bare":
        result["recorded"] = recorded_deliveries(servers[0])
    result.update(target=target, connections=level, loadavg=os.getloadavg()[0])
    say(
        f"{target:17s} c={level:<4d} {result['rps']:8.0f}/s  p50 "
        f"{result['p50_us'] / 1000:6.2f} ms  p99 {result['p99_us'] / 1000:7.2f} ms  "
        f"non2xx {result['non2xx']}  errors "
        f"{result['connect_errors'] + result['read_errors'] + result['timeouts']}  "
        f"cpu {result['server_cpu_s'] / max(result['requests'], 1) * 1e6:5.0f} us/req  "
        f"load {result['loadavg']:.1f}"
    )
    return result


def open_store(server: Server) -> Any:
    """The server's database, through the App's store."""
    if server.database_url is not None:
        from app.store.postgres import PgStore

        return PgStore(server.database_url)
    return AppStore(server.db)


def recorded_deliveries(server: Server) -> int:
    """How many deliveries the server's database holds."""
    store = open_store(server)
    try:
        return int(store.counts()["deliveries"])
    finally:
        store.close()


# -- crash soak ---------------------------------------------------------------------------------


@dataclass
class SoakState:
    """What the sender saw: acknowledged ids, and ids sent without an answer."""

    acked: dict[str, int] = field(default_factory=dict)  # delivery id -> index of its body
    pending: dict[str, int] = field(default_factory=dict)  # sent, no 2xx yet: to redeliver
    statuses: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    transport_errors: int = 0
    next_id: int = 0


async def _send(
    client: Any, item: Delivery, delivery_id: str, state: SoakState, event_status: Counter[str]
) -> bool:
    import httpx

    headers = {
        "X-GitHub-Event": item.event,
        "X-GitHub-Delivery": delivery_id,
        "X-Hub-Signature-256": item.signature,
        "Content-Type": "application/json",
    }
    started = time.perf_counter()
    try:
        answer = await client.post("/webhook", content=item.body, headers=headers)
    except httpx.TransportError:
        state.transport_errors += 1
        return False
    if 200 <= answer.status_code < 300:
        state.latencies.append(time.perf_counter() - started)
        event_status[f"{answer.status_code} {answer.json().get('status')}"] += 1
        return True
    event_status[str(answer.status_code)] += 1
    return False


async def _sender(client: Any, items: list[Delivery], state: SoakState, until: float) -> None:
    while time.monotonic() < until:
        if state.pending:
            # A delivery that got no answer goes again with its id, as a GitHub redelivery does.
            delivery_id, index = state.pending.popitem()
        else:
            delivery_id, index = f"soak-{state.next_id}", state.next_id % len(items)
            state.next_id += 1
        if await _send(client, items[index], delivery_id, state, state.statuses):
            state.acked[delivery_id] = index
        else:
            state.pending[delivery_id] = index
            await asyncio.sleep(0.1)  # the server is down (or restarting): wait a little


async def _killer(server: Server, until: float, kills: int, log: list[dict[str, Any]]) -> None:
    span = (until - time.monotonic()) / kills
    for k in range(kills):
        # A random moment in each slice of the soak, so kills spread over it.
        await asyncio.sleep(random.uniform(0.2 * span, 0.9 * span))
        server.kill()
        log.append({"kill": k + 1, "at": time.time()})
        await asyncio.sleep(random.uniform(0.0, 0.5))
        server.start(wait=False)


async def soak_traffic(
    server: Server, items: list[Delivery], seconds: float, kills: int, senders: int
) -> tuple[SoakState, list[dict[str, Any]], Counter[str]]:
    """Deliver for ``seconds``, killing the server ``kills`` times; then settle, redeliver."""
    import httpx

    state = SoakState()
    kill_log: list[dict[str, Any]] = []
    until = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=senders, max_keepalive_connections=senders)
    async with httpx.AsyncClient(
        base_url=server.url, timeout=10, trust_env=False, limits=limits
    ) as client:
        tasks = [_sender(client, items, state, until) for _ in range(senders)]
        await asyncio.gather(_killer(server, until, kills, kill_log), *tasks)
        await asyncio.to_thread(server.wait_ready)
        # Everything sent without an answer goes again until answered: those the dead server had
        # already committed must come back as duplicates, the others as accepted.
        settle: Counter[str] = Counter()
        while state.pending:
            delivery_id, index = state.pending.popitem()
            if await _send(client, items[index], delivery_id, state, settle):
                state.acked[delivery_id] = index
            else:
                state.pending[delivery_id] = index
                await asyncio.sleep(0.05)
        # GitHub redelivery of acknowledged deliveries: same id, same body.
        again: Counter[str] = Counter()
        sample = random.sample(sorted(state.acked), min(500, len(state.acked)))
        for delivery_id in sample:
            await _send(client, items[state.acked[delivery_id]], delivery_id, state, again)
    state.statuses.update({f"settle {k}": v for k, v in settle.items()})
    return state, kill_log, again


def check_store(store: Any, items: list[Delivery], acked: dict[str, int]) -> dict[str, Any]:
    """Count, through the store's API, what an acknowledged delivery must have left behind."""
    try:
        jobs = store.jobs()
        counts = store.counts()
        ledger = {(pr.repo, pr.number) for repo in REPOS for pr in store.merged(repo)}
        seen = {d for d in acked if store.delivery_seen(d)}
    finally:
        store.close()
    per_delivery = Counter(j.delivery_id for j in jobs if j.kind == "command")
    batch_keys = Counter(j.key for j in jobs if j.kind == "batch" and j.state == "queued")
    lost_delivery = [d for d in acked if d not in seen]
    lost_job = []
    lost_merge = []
    for delivery_id, index in acked.items():
        item = items[index]
        if item.kind == "command" and per_delivery[delivery_id] == 0:
            lost_job.append(delivery_id)
        if item.kind == "merge":
            if (item.repo, item.number) not in ledger:
                lost_merge.append(delivery_id)
            if batch_keys[f"batch:{item.repo}"] == 0:
                lost_job.append(delivery_id)
    acked_commands = sum(1 for i in acked.values() if items[i].kind == "command")
    return {
        "acknowledged": len(acked),
        "acknowledged_commands": acked_commands,
        "acknowledged_merges": len(acked) - acked_commands,
        "deliveries_recorded": counts["deliveries"],
        "jobs_total": len(jobs),
        "lost_deliveries": len(lost_delivery),
        "lost_jobs": len(lost_job),
        "lost_ledger_entries": len(lost_merge),
        "duplicated_command_jobs": sum(n - 1 for n in per_delivery.values() if n > 1),
        "duplicated_batch_jobs": sum(n - 1 for n in batch_keys.values() if n > 1),
        "jobs_without_acknowledged_delivery": sum(
            1 for j in jobs if j.kind == "command" and j.delivery_id not in acked
        ),
        "examples_lost": (lost_delivery + lost_job + lost_merge)[:5],
    }


def integrity(db: Path) -> str:
    """SQLite's own check of the file after the kills (raw SQL: the store has no call for it)."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


# -- jobs run twice: a harmless job path, with its runners killed -------------------------------


def drain_process(db: str, log: str, owner: str, lease: float) -> int:
    """Claim jobs, 'run' each (a line in a log), finish it; exit when the queue is empty."""
    store = AppStore(db)
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        while True:
            job = store.claim(owner, time.time(), lease)
            if job is None:
                counts = store.counts()
                if counts["jobs_queued"] == 0 and counts["jobs_running"] == 0:
                    return 0
                time.sleep(0.05)  # another runner holds the rest (or a dead one's lease runs)
                continue
            # The job's side effect: one O_APPEND write (in the kernel once written, so a kill -9
            # after it cannot lose it). A real job's effect is a GitHub call.
            os.write(fd, f"run {job.id} {owner}\n".encode())
            time.sleep(random.uniform(0, 0.002))
            ok = store.finish(job, time.time())
            os.write(fd, f"finish {job.id} {owner} {int(ok)}\n".encode())
    finally:
        os.close(fd)
        store.close()


def drain(db: Path, run_dir: Path, runners: int, kill_every: float, lease: float) -> dict[str, Any]:
    """Run every queued job with ``runners`` processes, SIGKILLing one every ~``kill_every`` s."""
    log = run_dir / "executions.log"
    log.unlink(missing_ok=True)
    store = AppStore(db)
    total = len(store.jobs())
    store.close()

    def spawn(n: int) -> subprocess.Popen[bytes]:
        cmd = [sys.executable, __file__, "_drain", str(db), str(log), f"runner-{n}", str(lease)]
        return subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": str(ROOT)})

    spawned = runners
    procs = [spawn(n) for n in range(runners)]
    kills = 0
    started = time.monotonic()
    next_kill = started + random.uniform(0.5, 1.5) * kill_every
    while any(p.poll() is None for p in procs):
        time.sleep(0.05)
        if time.monotonic() >= next_kill:
            alive = [i for i, p in enumerate(procs) if p.poll() is None]
            if alive:
                i = random.choice(alive)
                procs[i].send_signal(signal.SIGKILL)
                procs[i].wait()
                kills += 1
                procs[i] = spawn(spawned)
                spawned += 1
            next_kill = time.monotonic() + random.uniform(0.5, 1.5) * kill_every
    elapsed = time.monotonic() - started
    runs: Counter[int] = Counter()
    finished_ok: Counter[int] = Counter()
    refused = 0  # finish() said no: the lease had passed to another runner
    run_after_done = 0
    for line in log.read_text().splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue  # a line cut by the kill
        job_id = int(parts[1])
        if parts[0] == "run":
            if finished_ok[job_id]:
                run_after_done += 1  # ran again although a run had completed: a real duplicate
            runs[job_id] += 1
        elif parts[0] == "finish" and len(parts) == 4:
            if parts[3] == "1":
                finished_ok[job_id] += 1
            else:
                refused += 1
    store = AppStore(db)
    counts = store.counts()
    store.close()
    return {
        "jobs": total,
        "runners": runners,
        "runner_kills": kills,
        "seconds": round(elapsed, 1),
        "jobs_done": counts["jobs_done"],
        "jobs_left": counts["jobs_queued"] + counts["jobs_running"],
        "jobs_never_run": total - len(runs),
        "jobs_finished_twice": sum(1 for n in finished_ok.values() if n > 1),
        "runs_after_a_completed_run": run_after_done,
        "finishes_refused": refused,
        "reruns_after_a_killed_run": sum(n - 1 for n in runs.values() if n > 1) - run_after_done,
    }


def soak(
    seconds: float, kills: int, senders: int, stamp: str, drain_jobs: bool, backend: str = "sqlite"
) -> dict[str, Any]:
    """The crash soak: deliveries under SIGKILL, then the store's accounting (on SQLite, or on
    a PostgreSQL server the run starts: durable, as deployed)."""
    items = deliveries()
    run_dir = WORK / stamp / f"soak-{backend}"
    shutil.rmtree(run_dir, ignore_errors=True)
    cluster = None
    if backend == "postgres":
        from tests.pg_cluster import PgCluster

        cluster = PgCluster(durable=True)
        cluster.start()
    try:
        url = cluster.new_database() if cluster is not None else None
        server = Server("idealdiff", run_dir, database_url=url)
        server.start()
        try:
            state, kill_log, again = asyncio.run(
                soak_traffic(server, items, seconds, kills, senders)
            )
        finally:
            server.stop()
        result = check_store(open_store(server), items, state.acked)
    finally:
        if cluster is not None:
            cluster.stop()
    lat = sorted(state.latencies)
    result.update(
        seconds=seconds,
        kills=len(kill_log),
        server_starts=server.starts,
        senders=senders,
        transport_errors=state.transport_errors,
        statuses=dict(state.statuses),
        redelivered=sum(again.values()),
        redelivery_answers=dict(again),
        p50_ms=round(lat[len(lat) // 2] * 1000, 2) if lat else None,
        p99_ms=round(lat[int(len(lat) * 0.99)] * 1000, 2) if lat else None,
        backend=backend,
        integrity=integrity(server.db) if backend == "sqlite" else "n/a (PostgreSQL)",
    )
    say(json.dumps(result, indent=2))
    if drain_jobs and backend == "sqlite":  # bench/fleet kills job runners on PostgreSQL
        result["drain"] = drain(server.db, run_dir, runners=2, kill_every=1.5, lease=1.0)
        say(json.dumps(result["drain"], indent=2))
    return result


# -- the report ---------------------------------------------------------------------------------


def _unsigned(port: int, size: int, answers: list[str]) -> None:
    """One unsigned request declaring (and sending) ``size`` bytes; its status line kept."""

    head = (
        f"POST /webhook HTTP/1.1\r\nHost: localhost\r\nX-GitHub-Event: push\r\n"
        f"X-GitHub-Delivery: flood\r\nContent-Type: application/json\r\n"
        f"Content-Length: {size}\r\n\r\n"
    ).encode()
    chunk = b" " * 65536
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
            conn.sendall(head)
            try:
                for _ in range(size // len(chunk)):
                    conn.sendall(chunk)
            except OSError:
                pass  # refused before the body: the server closed the connection
            answers.append(conn.recv(64).decode(errors="replace").split("\r\n")[0])
    except OSError as exc:
        answers.append(f"error: {type(exc).__name__}")


def flood(
    targets: list[str], stamp: str, senders: int = 80, size: int = 24 * 1024 * 1024
) -> dict[str, Any]:
    """``senders`` unsigned requests of ``size`` bytes at once, per target: the server's peak
    resident memory (VmHWM) and what it answered."""
    import threading
    from collections import Counter

    out: dict[str, Any] = {}
    for target in targets:
        server = Server(target, WORK / stamp / f"flood-{target.replace('@', '-')}")
        server.start()
        assert server.proc is not None
        answers: list[str] = []
        started = time.monotonic()
        threads = [
            threading.Thread(target=_unsigned, args=(server.port, size, answers))
            for _ in range(senders)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.monotonic() - started
        status = Path(f"/proc/{server.proc.pid}/status").read_text()
        peak_kb = int(
            next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))
        )
        server.stop()
        out[target] = {
            "peak_rss_mb": round(peak_kb / 1024, 1),
            "answers": dict(Counter(answers)),
            "seconds": round(seconds, 2),
        }
        say(f"flood {target}: {json.dumps(out[target])}")
    return out


def machine() -> dict[str, Any]:
    """Where and what was measured."""
    import importlib.metadata as md

    def version(name: str) -> str | None:
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return None

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())[1])  # type: ignore[index]
    sha = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        [
            "git",
            "status",
            "--porcelain",
            "app/service/http.py",
            "app/store/sqlite.py",
            "bench/intake",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()[:2]
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": sha + (" (with uncommitted intake changes)" if dirty else ""),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem_kb / 2**20, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": {
            n: version(n)
            for n in ("uvicorn", "fastapi", "starlette", "httptools", "uvloop", "httpx")
        },
        "sqlite": __import__("sqlite3").sqlite_version,
        "wrk": " ".join(wrk_version),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; results in ``bench/work/intake/<stamp>/results.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", choices=["load", "soak", "flood"])
    parser.add_argument("--levels", default="1,8,32,64,128,256", help="wrk connections")
    parser.add_argument("--seconds", type=float, default=10, help="per load level (after 2 s)")
    parser.add_argument(
        "--targets",
        default="bare,durable,idealdiff,idealdiff+worker",
        help="comma-separated; idealdiff@REV: the code of commit REV; a :h11 suffix: without "
        "httptools and uvloop",
    )
    parser.add_argument("--soak-seconds", type=float, default=60)
    parser.add_argument("--kills", type=int, default=8)
    parser.add_argument("--senders", type=int, default=16, help="concurrent soak requests")
    parser.add_argument("--no-drain", action="store_true", help="skip the job-runner kill phase")
    parser.add_argument(
        "--soak-backend", choices=("sqlite", "postgres"), default="sqlite", help="the soak's store"
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None and args.only not in ("soak", "flood"):
        sys.stderr.write("wrk is needed for the load test: apt-get install -y wrk\n")
        return 2
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out: dict[str, Any] = {"machine": machine(), "argv": sys.argv}
    say(json.dumps(out["machine"]))
    if args.only in (None, "load"):
        manifest = write_manifest(deliveries(), WORK / stamp / "bodies")
        targets = [t for t in args.targets.split(",") if t]
        unknown = {t.split(":")[0].split("@")[0] for t in targets} - set(TARGETS)
        if unknown:
            parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
        levels = [int(n) for n in args.levels.split(",")]
        out["load"] = load(targets, levels, args.seconds, manifest, stamp)
    if args.only in (None, "flood"):
        out["flood"] = flood([t for t in args.targets.split(",") if t], stamp)
    if args.only in (None, "soak"):
        out["soak"] = soak(
            args.soak_seconds,
            args.kills,
            args.senders,
            stamp,
            not args.no_drain,
            args.soak_backend,
        )
    path = WORK / stamp / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    say(f"results: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "_drain":
        raise SystemExit(drain_process(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])))
    raise SystemExit(main())
