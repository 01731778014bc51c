"""Markdown tables from a ``results.json`` of ``bench/intake/run.py``.

python bench/intake/report.py bench/work/intake/<stamp>/results.json
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

TARGET_RPS = 500
TARGET_P99_MS = 50.0


def _table(
    rows: list[dict[str, Any]], title: str, cell: Callable[[dict[str, Any]], str]
) -> list[str]:
    targets = list(dict.fromkeys(r["target"] for r in rows))
    levels = sorted({r["connections"] for r in rows})
    by = {(r["target"], r["connections"]): r for r in rows}
    out = [f"| {title} | " + " | ".join(f"c={c}" for c in levels) + " |"]
    out.append("| --- |" + " --- |" * len(levels))
    for target in targets:
        cells = [cell(by[(target, c)]) if (target, c) in by else "" for c in levels]
        out.append(f"| {target} | " + " | ".join(cells) + " |")
    return out


def render(results: dict[str, Any]) -> str:
    """The load tables (throughput, p50, p99, CPU per delivery) and the soak's counts."""
    lines: list[str] = []
    m = results["machine"]
    lines.append(
        f"{m['date']}, commit `{m['commit']}`; {m['nproc']} cores ({m['cpu']}), {m['ram_gib']} GiB"
        f" RAM, Linux {m['kernel']}; Python {m['python']}, SQLite {m['sqlite']}, {m['wrk']}; "
        + ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v)
        + "."
    )
    lines.append("")
    load = results.get("load") or []
    if load:

        def met(r: dict[str, Any]) -> str:
            ok = r["rps"] >= TARGET_RPS and r["p99_us"] / 1000 <= TARGET_P99_MS
            return f"{r['rps']:.0f}" + (" ✓" if ok else "")

        lines += _table(load, "deliveries/s (✓: target met)", met)
        lines.append("")
        lines += _table(load, "p50 ms", lambda r: f"{r['p50_us'] / 1000:.1f}")
        lines.append("")
        lines += _table(load, "p99 ms", lambda r: f"{r['p99_us'] / 1000:.1f}")
        lines.append("")
        lines += _table(
            load,
            "server CPU µs per delivery",
            lambda r: f"{r['server_cpu_s'] / max(r['requests'], 1) * 1e6:.0f}",
        )
        lines.append("")
        lines += _table(load, "load average (1 min)", lambda r: f"{r['loadavg']:.1f}")
        bad = [r for r in load if r["non2xx"] or r["connect_errors"] or r["timeouts"]]
        lines.append("")
        lines.append(
            "Every response was a 2xx and no request failed."
            if not bad
            else "Failures: "
            + "; ".join(
                f"{r['target']} c={r['connections']}: {r['non2xx']} non-2xx, "
                f"{r['connect_errors']} connect errors, {r['timeouts']} timeouts"
                for r in bad
            )
        )
        short = [
            r
            for r in load
            if "recorded" in r and r["recorded"] < r["requests"] and r["target"] != "bare"
        ]
        if short:
            lines.append(
                "Recorded fewer deliveries than answered: "
                + ", ".join(f"{r['target']} c={r['connections']}" for r in short)
            )
    soak = results.get("soak")
    if soak:
        lines.append("")
        lines.append("| crash soak | value |")
        lines.append("| --- | --- |")
        keys = [
            "seconds",
            "kills",
            "server_starts",
            "senders",
            "acknowledged",
            "acknowledged_merges",
            "acknowledged_commands",
            "deliveries_recorded",
            "jobs_total",
            "lost_deliveries",
            "lost_jobs",
            "lost_ledger_entries",
            "duplicated_command_jobs",
            "duplicated_batch_jobs",
            "jobs_without_acknowledged_delivery",
            "transport_errors",
            "redelivered",
            "p50_ms",
            "p99_ms",
            "integrity",
        ]
        for key in keys:
            lines.append(f"| {key} | {soak.get(key)} |")
        lines.append(f"| answers during the soak and the settling | {soak.get('statuses')} |")
        lines.append(f"| answers to the redeliveries | {soak.get('redelivery_answers')} |")
        drain = soak.get("drain")
        if drain:
            lines.append("")
            lines.append("| killed job runners | value |")
            lines.append("| --- | --- |")
            for key, value in drain.items():
                lines.append(f"| {key} | {value} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    """Print the tables of one results file."""
    results = json.loads(Path(sys.argv[1]).read_text())
    sys.stdout.write(render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
