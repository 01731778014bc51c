"""Choose the peers' settings: run jscpd and symilar with several settings on the first
repositories of the benchmark and print recall and precision for each (README: "Peer settings").

    python bench/quality/sweep_peers.py --repos 4
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cases  # noqa: E402
import corpus  # noqa: E402
import run  # noqa: E402
import score  # noqa: E402
import tools  # noqa: E402

JSCPD_GRID = {
    "defaults (exact)": ["--format", "python"],
    "weak": ["--format", "python", "--mode", "weak"],
    "weak+renamed": ["--format", "python", "--mode", "weak", "--ignore-identifiers",
                     "--ignore-literals"],
    **{
        f"weak+renamed+gap{g}, k{k}, l{l_}": [
            "--format", "python", "--min-tokens", str(k), "--min-lines", str(l_), "--mode",
            "weak", "--ignore-identifiers", "--ignore-literals", "--max-gap-lines", str(g),
        ]
        for g in (0, 3)
        for k, l_ in ((50, 5), (40, 4), (30, 3), (20, 2))
    },
}
SYMILAR_GRID = {
    f"-d {d}{' ' + ' '.join(extra) if extra else ''}": ["-d", str(d), *extra]
    for d in (2, 3, 4, 6)
    for extra in ([], ["-i", "--ignore-docstrings", "--ignore-imports", "--ignore-signatures"])
}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repos", type=int, default=4)
    args = ap.parse_args()
    donors, base = corpus.load()
    plans = cases.plan(donors, base, limit=args.repos)
    built = [(p, run.build_repo(p)) for p in plans]
    rows = []
    for name, extra in JSCPD_GRID.items():
        saved = tools.JSCPD_ARGS
        tools.JSCPD_ARGS = extra
        rows.append(("jscpd " + name, _score(built, lambda r, o: tools.run_jscpd(r, o)[0])))
        tools.JSCPD_ARGS = saved
    for name, extra in SYMILAR_GRID.items():
        saved = tools.SYMILAR_ARGS
        tools.SYMILAR_ARGS = extra
        rows.append(("symilar " + name, _score(built, lambda r, o: tools.run_symilar(r)[0])))
        tools.SYMILAR_ARGS = saved
    print("| settings | recall | precision | T1 | T2 | T3 single | T3 multi |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, (rec, prec, groups) in rows:
        g = " | ".join(f"{groups[k]:.3f}" for k in run.GROUPS)
        print(f"| {name} | {rec:.3f} | {prec:.3f} | {g} |")
    return 0


def _score(built, fn):
    found = total = tp = fp = 0
    per_group = {g: [0, 0] for g in run.GROUPS}
    for plan, root in built:
        scorer = score.Scorer(plan, root)
        res = scorer.score_pairs(fn(root, tools.WORK / "out" / plan.name / "sweep"), whole=False)
        tp += res["tp"]
        fp += res["fp"]
        for case in plan.cases:
            if not case.kind.startswith("clone"):
                continue
            hit = case.cid in res["found"]
            total += 1
            found += hit
            for g, ops in run.GROUPS.items():
                if case.op in ops:
                    per_group[g][0] += hit
                    per_group[g][1] += 1
    return (
        found / max(1, total),
        tp / max(1, tp + fp),
        {g: a / max(1, b) for g, (a, b) in per_group.items()},
    )


if __name__ == "__main__":
    raise SystemExit(main())
