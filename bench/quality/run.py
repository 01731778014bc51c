"""Run the quality benchmark: build the repositories, run idealdiff, jscpd and symilar, score.

    python bench/quality/run.py                 # everything (about 15 minutes on 2 cores)
    python bench/quality/run.py --repos 2       # a quick look at the first two repositories
    python bench/quality/run.py --worktree      # idealdiff from the working tree, not HEAD

Writes bench/quality/results/results.json and results.md (the table of the README) and prints
the table. Deterministic: the sdists are pinned and every random choice is seeded.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cases  # noqa: E402
import corpus  # noqa: E402
import mutate  # noqa: E402
import score  # noqa: E402
import tools  # noqa: E402

REPOS = tools.WORK / "repos"
RESULTS = HERE / "results"
TOOLS = ("idealdiff", "jscpd", "symilar")
GROUPS = {
    "Type-1": ("t1_layout", "t1_comments", "t1_docstring", "t1_all"),
    "Type-2": ("t2_rename_sys", "t2_rename_arb", "t2_literals", "t2_all"),
    "Type-3 single edit": ("t3_inline", "t3_insert", "t3_delete", "t3_modify"),
    "Type-3 multi-edit": ("t3_multi2", "t3_multi3"),
}
TARGETS = {"Type-1": 0.99, "Type-2": 0.98, "Type-3 single edit": 0.95, "Type-3 multi-edit": 0.80}


def _plan_stamp(plan: cases.RepoPlan) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(cases.plan_json(plan), sort_keys=True).encode()).hexdigest()


def build_repo(plan: cases.RepoPlan) -> Path:
    root = REPOS / plan.name
    stamp = _plan_stamp(plan)
    mark = REPOS / f"{plan.name}.stamp"
    if root.exists() and mark.exists() and mark.read_text() == stamp:
        cases.locate(plan, root)
        return root
    cases.build(plan, root)
    mark.write_text(stamp)
    return root


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repos", type=int, default=None, help="only the first N repositories")
    ap.add_argument("--worktree", action="store_true", help="idealdiff from the working tree")
    ap.add_argument("--no-peers", action="store_true", help="run idealdiff only")
    ap.add_argument("--out", default=str(RESULTS), help="where results.json/.md go")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    donors, base = corpus.load()
    plans = cases.plan(donors, base, limit=args.repos)
    src, idd_version = tools.idealdiff_source(args.worktree)
    run_tools = ("idealdiff",) if args.no_peers else TOOLS
    print(f"{len(plans)} repositories; idealdiff from {idd_version}", file=sys.stderr)

    per_case: dict[str, dict] = {}
    totals = {t: Counter() for t in run_tools}
    hot = Counter()
    control_flags = {t: Counter() for t in run_tools}
    control_counts: Counter = Counter()
    fps: dict[str, list] = defaultdict(list)
    secs = Counter()
    for plan in plans:
        tb = time.perf_counter()
        root = build_repo(plan)
        secs["build"] += time.perf_counter() - tb
        scorer = score.Scorer(plan, root)
        out_dir = tools.WORK / "out" / plan.name
        out_dir.mkdir(parents=True, exist_ok=True)
        results = {}
        report, took = tools.run_idealdiff(root, src, out_dir / "idealdiff.json")
        secs["idealdiff"] += took
        results["idealdiff"] = scorer.idealdiff(report)
        for k, v in results["idealdiff"]["hotspots"].items():
            if isinstance(v, int):
                hot[k] += v
        if "jscpd" in run_tools:
            pairs, took = tools.run_jscpd(root, out_dir / "jscpd")
            secs["jscpd"] += took
            results["jscpd"] = scorer.score_pairs(pairs, whole=False)
        if "symilar" in run_tools:
            pairs, took = tools.run_symilar(root)
            secs["symilar"] += took
            results["symilar"] = scorer.score_pairs(pairs, whole=False)
        for tool, res in results.items():
            totals[tool]["tp"] += res["tp"]
            totals[tool]["fp"] += res["fp"]
            totals[tool]["findings_tp"] += res["findings_tp"]
            totals[tool]["findings_fp"] += res["findings_fp"]
            totals[tool]["members_right"] += res.get("members_right", 0)
            totals[tool]["members_total"] += res.get("members_total", 0)
            for a, b, ua, ub in res["fp_list"]:
                fps[tool].append({"repo": plan.name, "a": a, "b": b, "ua": ua, "ub": ub})
        for case in plan.cases:
            if not case.kind.startswith("clone"):
                if case.kind in ("unique", "lookalike-name", "lookalike-vocab"):
                    control_counts[case.kind] += 1
                    for tool, res in results.items():
                        if _control_flagged(case, res["fp_list"]):
                            control_flags[tool][case.kind] += 1
                continue
            units = [plan.units[u] for u in case.units]
            entry = {
                "repo": plan.name, "op": case.op, "kind": case.kind, "edit_lines": case.edit_lines,
                "units": [f"{u.path}:{u.start}-{u.end} {u.qualname} ({u.branch})" for u in units],
            }
            for tool, res in results.items():
                got = res["found"].get(case.cid)
                entry[tool] = bool(got)
                if tool == "idealdiff" and got:
                    entry["attribution"] = got  # members attributed right (0..2)
            per_case[case.cid + "@" + plan.name] = entry
        line = " ".join(
            f"{t}={sum(1 for e in per_case.values() if e['repo'] == plan.name and e.get(t))}"
            for t in run_tools
        )
        n = sum(1 for e in per_case.values() if e["repo"] == plan.name)
        print(f"{plan.name}: {n} clone cases; found {line}", file=sys.stderr)

    summary = summarize(per_case, totals, hot, control_flags, control_counts, run_tools)
    summary["meta"] = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "python": platform.python_version(),
        "idealdiff": idd_version,
        "jscpd": tools.jscpd_version() if "jscpd" in run_tools else None,
        "symilar": tools.symilar_version() if "symilar" in run_tools else None,
        "libcst": __import__("libcst").__version__ if hasattr(__import__("libcst"), "__version__")
        else _pkg_version("libcst"),
        "base": "==".join(corpus.BASE),
        "donors": [f"{k}=={v}" for k, v in corpus.DONORS.items()],
        "repos": len(plans),
        "seconds": {k: round(v, 1) for k, v in secs.items()},
        "wall_seconds": round(time.perf_counter() - t0, 1),
        "command": "python bench/quality/run.py" + (" " + " ".join(argv or sys.argv[1:])).rstrip(),
        "jscpd_args": tools.JSCPD_ARGS,
        "symilar_args": tools.SYMILAR_ARGS,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(summary, indent=1) + "\n")
    (out / "cases.json").write_text(json.dumps(per_case, indent=0) + "\n")
    (out / "false_positives.json").write_text(json.dumps(fps, indent=0) + "\n")
    table = render(summary, run_tools)
    (out / "results.md").write_text(table)
    print(table)
    return 0


def _pkg_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def _control_flagged(case: cases.Case, fp_list: list) -> bool:
    mine = set(case.units)
    for _a, _b, ua, ub in fp_list:
        if case.kind == "unique" and (mine & set(ua) or mine & set(ub)):
            return True
        if case.kind != "unique":
            x, y = case.units
            if (x in ua and y in ub) or (y in ua and x in ub):
                return True
    return False


def summarize(per_case, totals, hot, control_flags, control_counts, run_tools) -> dict:
    by_op: dict[str, dict] = {}
    for op in mutate.OPERATORS:
        rows = [e for e in per_case.values() if e["op"] == op]
        by_op[op] = {
            "n": len(rows),
            **{t: round(sum(e[t] for e in rows) / max(1, len(rows)), 3) for t in run_tools},
            "n_base": sum(1 for e in rows if e["kind"] == "clone-b"),
        }
    by_group = {}
    for group, ops in GROUPS.items():
        rows = [e for e in per_case.values() if e["op"] in ops]
        by_group[group] = {
            "n": len(rows),
            **{t: round(sum(e[t] for e in rows) / max(1, len(rows)), 3) for t in run_tools},
        }
    by_kind = {}
    for kind in ("clone-a", "clone-b"):
        rows = [e for e in per_case.values() if e["kind"] == kind]
        by_kind[kind] = {
            "n": len(rows),
            **{t: round(sum(e[t] for e in rows) / max(1, len(rows)), 3) for t in run_tools},
        }
    all_rows = list(per_case.values())
    found = [e for e in all_rows if e.get("idealdiff")]
    precision = {
        t: round(totals[t]["tp"] / max(1, totals[t]["tp"] + totals[t]["fp"]), 3) for t in run_tools
    }
    finding_precision = {
        t: round(
            totals[t]["findings_tp"] / max(1, totals[t]["findings_tp"] + totals[t]["findings_fp"]),
            3,
        )
        for t in run_tools
    }
    return {
        "finding_precision": finding_precision,
        "member_precision": round(
            totals["idealdiff"]["members_right"] / max(1, totals["idealdiff"]["members_total"]), 3
        ),
        "recall_by_operator": by_op,
        "recall_by_type": by_group,
        "recall_by_placement": by_kind,
        "recall_all": {
            t: round(sum(e[t] for e in all_rows) / max(1, len(all_rows)), 3) for t in run_tools
        },
        "precision": precision,
        "reported_pairs": {t: dict(totals[t]) for t in run_tools},
        "attribution_accuracy": round(
            sum(e.get("attribution", 0) for e in found) / max(1, 2 * len(found)), 3
        ),
        "pairs_fully_attributed": round(
            sum(1 for e in found if e.get("attribution") == 2) / max(1, len(found)), 3
        ),
        "hotspots": {
            **dict(hot),
            "symbol_recall": round(hot["symbols_found"] / max(1, hot["symbols_expected"]), 3),
            "symbol_branches_right": round(
                hot["symbols_branches_right"] / max(1, hot["symbols_expected"]), 3
            ),
            "symbol_precision": round(
                hot["symbols_reported_expected"] / max(1, hot["symbols_reported"]), 3
            ),
            "file_recall": round(hot["files_found"] / max(1, hot["files_expected"]), 3),
        },
        "controls": {
            "cases": dict(control_counts),
            "flagged": {t: dict(control_flags[t]) for t in run_tools},
        },
        "cases": len(all_rows),
    }


def render(s: dict, run_tools) -> str:
    m = s.get("meta", {})
    cols = list(run_tools)
    lines = [
        f"Quality benchmark, {m.get('date')}: {s['cases']} injected clone cases in "
        f"{m.get('repos')} repositories ({m.get('base')} + functions of "
        f"{', '.join(m.get('donors', []))}).",
        "",
        f"Machine: {m.get('machine')}; Python {m.get('python')}. idealdiff {m.get('idealdiff')}; "
        f"{m.get('jscpd')}; symilar from {m.get('symilar')}.",
        f"Command: `{m.get('command')}` ({m.get('wall_seconds')} s; tool seconds "
        f"{m.get('seconds')}).",
        "",
        "| recall | cases | " + " | ".join(cols) + " | target |",
        "| --- | ---: | " + " | ".join("---:" for _ in cols) + " | ---: |",
    ]
    for group, row in s["recall_by_type"].items():
        tgt = TARGETS.get(group)
        lines.append(
            f"| **{group}** | {row['n']} | "
            + " | ".join(f"**{row[c]:.3f}**" for c in cols)
            + f" | {tgt:.2f} |"
        )
        for op in GROUPS[group]:
            r = s["recall_by_operator"][op]
            lines.append(
                f"| &nbsp;&nbsp;{op} | {r['n']} | " + " | ".join(f"{r[c]:.3f}" for c in cols) + " | |"
            )
    for kind, label in (("clone-a", "original and mutant from two branches"),
                        ("clone-b", "mutant of a base function")):
        r = s["recall_by_placement"][kind]
        lines.append(f"| {label} | {r['n']} | " + " | ".join(f"{r[c]:.3f}" for c in cols) + " | |")
    r = s["recall_all"]
    lines.append(f"| **all clone cases** | {s['cases']} | "
                 + " | ".join(f"**{r[c]:.3f}**" for c in cols) + " | |")
    pairs = s["reported_pairs"]
    lines.append(
        "| **precision** (reported pairs: true/false) | | "
        + " | ".join(
            f"**{s['precision'][c]:.3f}** ({pairs[c].get('tp', 0)}/{pairs[c].get('fp', 0)})"
            for c in cols
        )
        + " | 0.90 |"
    )
    lines.append(
        "| precision by finding (a group counts once: right when it holds an injected pair) | | "
        + " | ".join(
            f"{s['finding_precision'][c]:.3f} ({pairs[c].get('findings_tp', 0)}/"
            f"{pairs[c].get('findings_fp', 0)})"
            for c in cols
        )
        + " | |"
    )
    ctl = s["controls"]
    for kind, n in ctl["cases"].items():
        lines.append(
            f"| control `{kind}` flagged (lower is better) | {n} | "
            + " | ".join(str(ctl["flagged"][c].get(kind, 0)) for c in cols)
            + " | 0 |"
        )
    h = s["hotspots"]
    lines += [
        "",
        f"idealdiff attribution accuracy (members of found pairs with the right `introduced_by`): "
        f"**{s['attribution_accuracy']:.3f}** (pairs with both members right: "
        f"{s['pairs_fully_attributed']:.3f}).",
        f"idealdiff member precision (members of its findings that belong to an injected pair "
        f"the finding holds): {s['member_precision']:.3f}.",
        f"idealdiff hotspots: symbol recall **{h['symbol_recall']:.3f}** "
        f"({h.get('symbols_found', 0)}/{h.get('symbols_expected', 0)}; branches right "
        f"{h['symbol_branches_right']:.3f}), symbol precision {h['symbol_precision']:.3f} "
        f"({h.get('symbols_reported_expected', 0)}/{h.get('symbols_reported', 0)}), "
        f"file recall {h['file_recall']:.3f} ({h.get('files_found', 0)}/"
        f"{h.get('files_expected', 0)}). The peers do not report hotspots.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
