"""Markdown tables from ``results.json`` files of ``bench/intake/run.py``.

``python bench/intake/report.py bench/work/intake/<stamp>/results.json [more.json ...]``: with
several files, each load cell is the median over the runs, with the range where it matters.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

TARGET_RPS = 500
TARGET_P99_MS = 50.0


def _table(
    rows: list[dict[str, Any]], title: str, cell: Callable[[list[dict[str, Any]]], str]
) -> list[str]:
    targets = list(dict.fromkeys(r["target"] for r in rows))
    levels = sorted({r["connections"] for r in rows})
    by: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in rows:
        by.setdefault((r["target"], r["connections"]), []).append(r)
    out = [f"| {title} | " + " | ".join(f"c={c}" for c in levels) + " |"]
    out.append("| --- |" + " --- |" * len(levels))
    for target in targets:
        cells = [cell(by[(target, c)]) if (target, c) in by else "" for c in levels]
        out.append(f"| {target} | " + " | ".join(cells) + " |")
    return out


def _median(rs: list[dict[str, Any]], value: Callable[[dict[str, Any]], float]) -> float:
    return statistics.median(value(r) for r in rs)


def _span(rs: list[dict[str, Any]], value: Callable[[dict[str, Any]], float], fmt: str) -> str:
    text = format(_median(rs, value), fmt)
    if len(rs) > 1:
        text += f" ({format(min(map(value, rs)), fmt)}-{format(max(map(value, rs)), fmt)})"
    return text


def _rps(r: dict[str, Any]) -> float:
    return float(r["rps"])


def _p50(r: dict[str, Any]) -> float:
    return float(r["p50_us"]) / 1000


def _p99(r: dict[str, Any]) -> float:
    return float(r["p99_us"]) / 1000


def _cpu(r: dict[str, Any]) -> float:
    return float(r["server_cpu_s"]) / max(int(r["requests"]), 1) * 1e6


def render(runs: list[dict[str, Any]]) -> str:
    """The load tables (throughput, p50, p99, CPU per delivery) and each soak's counts."""
    lines: list[str] = []
    for results in runs:
        m = results["machine"]
        lines.append(
            f"- {m['date']}, commit `{m['commit']}`; {m['nproc']} cores ({m['cpu']}), "
            f"{m['ram_gib']} GiB RAM, Linux {m['kernel']}; Python {m['python']}, SQLite "
            f"{m['sqlite']}, {m['wrk']}; "
            + ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v)
            + "."
        )
    lines.append("")
    load = [row for results in runs for row in results.get("load") or []]
    if load:

        def met(rs: list[dict[str, Any]]) -> str:
            ok = sum(1 for r in rs if _rps(r) >= TARGET_RPS and _p99(r) <= TARGET_P99_MS)
            return f"{_median(rs, _rps):.0f}" + (" " + "✓" * ok if ok else "")

        lines += _table(load, "deliveries/s (✓: target met, per run)", met)
        lines.append("")
        lines += _table(load, "p50 ms", lambda rs: f"{_median(rs, _p50):.1f}")
        lines.append("")
        lines += _table(load, "p99 ms", lambda rs: _span(rs, _p99, ".0f"))
        lines.append("")
        lines += _table(load, "server CPU µs per delivery", lambda rs: f"{_median(rs, _cpu):.0f}")
        lines.append("")
        lines += _table(
            load, "load average (1 min)", lambda rs: "/".join(f"{r['loadavg']:.1f}" for r in rs)
        )
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
    for soak in (results["soak"] for results in runs if results.get("soak")):
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
    """Print the tables of the results files named on the command line."""
    runs = [json.loads(Path(arg).read_text()) for arg in sys.argv[1:]]
    sys.stdout.write(render(runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
