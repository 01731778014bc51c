"""Detection only: idealdiff's findings on the benchmark repositories under several settings.

    python bench/quality/sweep_idealdiff.py                          # the defaults
    python bench/quality/sweep_idealdiff.py --set min_tokens=40 --set min_tokens=30,min_lines=4

Runs ``app.review.pipeline.review`` in process from the working tree, without the idealizer (whose
call-site search is most of ``run.py``'s time and changes no finding), on repositories that
``run.py`` already built, and prints recall per clone type and precision (by reported pair, by
finding, by member, controls flagged) for each setting: how the thresholds were checked before
changing a default (README: "Size floor"). Not a replacement for ``run.py``: no peers, no
hotspots, no attribution.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import cases  # noqa: E402
import corpus  # noqa: E402
import run  # noqa: E402
import score  # noqa: E402


def _review(root: Path, analysis: dict[str, float], store: object) -> dict:
    from app.local.history import collect_batch
    from app.local.repo import GitRepo
    from app.review.config import RepoConfig
    from app.review.pipeline import review
    from app.render.formats import to_json

    repo = GitRepo(root)
    batch = collect_batch(repo, "main", "bench-base")
    config = RepoConfig.model_validate({"analysis": analysis})
    report, _ = review(repo, batch, config, repo="bench/quality", store=store, workers=1)  # type: ignore[arg-type]
    return to_json(report)


def _parse(spec: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in filter(None, spec.split(",")):
        key, value = item.split("=", 1)
        out[key] = float(value) if "." in value else int(value)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repos", type=int, default=None, help="only the first N repositories")
    ap.add_argument("--set", action="append", default=[], help="analysis keys, e.g. min_tokens=40")
    ap.add_argument("--misses", action="store_true", help="list the missed cases")
    ap.add_argument("--dump", help="write each report to DUMP/<setting>/<repo>.json")
    args = ap.parse_args()
    donors, base = corpus.load()
    plans = cases.plan(donors, base, limit=args.repos)
    built = [(p, run.build_repo(p)) for p in plans]
    from app.store.sqlite import Store

    # Scans are cached for this invocation only: the first setting parses, the others reuse it
    # (a cache kept across runs would outlive edits to the scanner).
    tmp = tempfile.TemporaryDirectory()
    store = Store(Path(tmp.name) / "cache.sqlite")
    print("| settings | all | T1 | T2 | T3 single | T3 multi | precision (pairs) | by finding "
          "| by member | controls flagged |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for spec in args.set or [""]:
        analysis = _parse(spec)
        found = Counter[str]()
        total = Counter[str]()
        tot = Counter[str]()
        flagged = 0
        misses: list[str] = []
        for plan, root in built:
            scorer = score.Scorer(plan, root)
            report = _review(root, analysis, store)
            if args.dump:
                out = Path(args.dump) / (spec or "defaults")
                out.mkdir(parents=True, exist_ok=True)
                (out / f"{plan.name}.json").write_text(json.dumps(report, indent=1))
            res = scorer.idealdiff(report)
            for key in ("tp", "fp", "findings_tp", "findings_fp", "members_right",
                        "members_total"):
                tot[key] += res[key]
            for case in plan.cases:
                if case.kind in ("unique", "lookalike-name", "lookalike-vocab"):
                    flagged += run._control_flagged(case, res["fp_list"])
                if not case.kind.startswith("clone"):
                    continue
                group = next(g for g, ops in run.GROUPS.items() if case.op in ops)
                hit = case.cid in res["found"]
                for g in (group, "all"):
                    total[g] += 1
                    found[g] += hit
                if not hit:
                    misses.append(f"{case.cid}@{plan.name}")
        rec = {g: found[g] / max(1, total[g]) for g in total}
        cols = " | ".join(f"{rec.get(g, 0):.3f}" for g in ("all", *run.GROUPS))
        print(
            f"| {spec or 'defaults'} | {cols} "
            f"| {tot['tp'] / max(1, tot['tp'] + tot['fp']):.3f} ({tot['tp']}/{tot['fp']}) "
            f"| {tot['findings_tp'] / max(1, tot['findings_tp'] + tot['findings_fp']):.3f} "
            f"({tot['findings_tp']}/{tot['findings_fp']}) "
            f"| {tot['members_right'] / max(1, tot['members_total']):.3f} | {flagged} |",
            flush=True,
        )
        if args.misses:
            print("misses: " + ", ".join(misses), flush=True)
    store.close()
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
