"""Explain idealdiff's misses and false positives of the last run (results/*.json).

    python bench/quality/analyse.py     # writes results/analysis.md

Misses are put into causes: a unit below idealdiff's documented size floor (``min_tokens``
syntax tokens, ``min_lines: 5``, counted by idealdiff's own walker), a unit holding a nested
function or class (see README: "nested definitions"), or other. False-positive findings are put
into groups by what their members are.
"""

from __future__ import annotations

import ast
import json
import sys
import textwrap
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cases  # noqa: E402
import corpus  # noqa: E402
import score  # noqa: E402
import tools  # noqa: E402

RESULTS = HERE / "results"


def _unit_source(repo: str, spec: str) -> str:
    loc = spec.split(" ", 1)[0]
    path, span = loc.rsplit(":", 1)
    start, end = map(int, span.split("-"))
    lines = (tools.WORK / "repos" / repo / path).read_text().splitlines()
    return textwrap.dedent("\n".join(lines[start - 1 : end]))


def main() -> int:
    src, _ = tools.idealdiff_source(False)
    sys.path.insert(0, str(src))
    from analyzers.fingerprint import Walker  # idealdiff's own token count
    from analyzers.redundancy import RedundancyOptions

    floor = RedundancyOptions().min_tokens

    per_case = json.loads((RESULTS / "cases.json").read_text())
    causes: Counter = Counter()
    rows = []
    for key, e in per_case.items():
        if e["idealdiff"]:
            continue
        sizes, nested = [], False
        for spec in e["units"]:
            fn = ast.parse(_unit_source(e["repo"], spec)).body[0]
            sizes.append(len(Walker().streams(fn).blind))  # type: ignore[arg-type]
            nested |= any(
                isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                for n in ast.walk(fn)
                if n is not fn
            )
        if nested:
            cause = "nested definition"
        elif min(sizes) < floor:
            cause = f"below the {floor}-token floor"
        else:
            cause = "other"
        causes[(e["op"][:2], cause)] += 1
        rows.append((cause, key, e["op"], sizes, e["jscpd"], e["symilar"], e["units"]))

    donors, base = corpus.load()
    fp_groups: Counter = Counter()
    examples: dict = defaultdict(list)
    extra: Counter = Counter()
    for plan in cases.plan(donors, base):
        root = tools.WORK / "repos" / plan.name
        out = tools.WORK / "out" / plan.name / "idealdiff.json"
        if not out.exists():
            continue
        cases.locate(plan, root)
        sc = score.Scorer(plan, root)
        kind_of = {u: c.kind for c in plan.cases for u in c.units}
        for f in json.loads(out.read_text())["findings"]:
            keys = [
                next(iter(sc.units_of((m["path"], m["start_line"], m["end_line"]), True)))
                for m in f["members"]
            ]
            paired = {x for x in keys for y in keys if x != y and frozenset({x, y}) in sc.expected}
            desc = [
                f"{m['qualname']} ({m['introduced_by'] or 'base'}; {kind_of.get(k, 'not injected')})"
                for k, m in zip(keys, f["members"], strict=True)
            ]
            if paired:
                for k, m in zip(keys, f["members"], strict=True):
                    if k not in paired:
                        extra[(f["clone_type"], "batch" if m["introduced_by"] else "base")] += 1
                continue
            kinds = sorted({kind_of.get(k, "not injected") for k in keys})
            group = " + ".join(kinds)
            fp_groups[group] += 1
            examples[group].append(f"{plan.name}: {f['clone_type']} " + ", ".join(desc))

    lines = ["# idealdiff: misses and false positives of the last run", ""]
    lines += ["## Misses by cause", "", "| type | cause | misses |", "| --- | --- | ---: |"]
    for (t, cause), n in sorted(causes.items()):
        lines.append(f"| {t} | {cause} | {n} |")
    lines += ["", "| cause | case | operator | idealdiff tokens | jscpd | symilar | units |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for cause, key, op, sizes, j, s, units in sorted(rows):
        lines.append(f"| {cause} | {key} | {op} | {sizes} | {j} | {s} | {'; '.join(units)} |")
    lines += ["", "## False-positive findings (no injected pair inside), by members", "",
              "| members | findings | example |", "| --- | ---: | --- |"]
    for group, n in fp_groups.most_common():
        lines.append(f"| {group} | {n} | {examples[group][0]} |")
    lines += ["", "## Extra members of right findings (not part of the injected pair)", "",
              "| finding type | member predates the batch? | members |", "| --- | --- | ---: |"]
    for (ctype, who), n in extra.most_common():
        lines.append(f"| {ctype} | {'yes' if who == 'base' else 'no'} | {n} |")
    (RESULTS / "analysis.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:40]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
