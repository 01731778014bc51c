"""Scoring: one repository's findings (any detector) against the cases injected into it.

A detector's output is reduced to *reported pairs*: for idealdiff every pair of members of a
finding; for a peer every clone pair it printed. Each side of a pair is mapped to the benchmark
units its lines overlap (or to itself when it overlaps none). A case's pair is *found* when one
reported pair overlaps the original on one side and the mutant on the other. A reported pair is a
true positive when it finds at least one injected pair, else a false positive (pairs are counted
once per distinct pair of sides). Peer pairs that touch no line the batch added are dropped (those
are clones the base project already had).
"""

from __future__ import annotations

import re
import subprocess
from collections import defaultdict
from itertools import combinations
from pathlib import Path

from cases import Placed, RepoPlan

Range = tuple[str, int, int]


def added_lines(repo: Path, since: str = "bench-base") -> dict[str, set[int]]:
    diff = subprocess.run(
        ["git", "diff", "-U0", "--no-color", since, "HEAD", "--", "*.py"],
        cwd=repo, capture_output=True, text=True, check=True,
    ).stdout
    out: dict[str, set[int]] = defaultdict(set)
    path = ""
    for line in diff.splitlines():
        if line.startswith("+++ "):
            path = line[6:] if line.startswith("+++ b/") else ""
        elif line.startswith("@@") and path:
            m = re.match(r"@@ -\S+ \+(\d+)(?:,(\d+))? @@", line)
            if m:
                start, count = int(m.group(1)), int(m.group(2) or "1")
                out[path].update(range(start, start + count))
    return out


def _overlap(a1: int, a2: int, b1: int, b2: int) -> int:
    return max(0, min(a2, b2) - max(a1, b1) + 1)


class Scorer:
    def __init__(self, repo: RepoPlan, root: Path) -> None:
        self.repo = repo
        self.by_path: dict[str, list[Placed]] = defaultdict(list)
        for unit in repo.units.values():
            if unit.start:
                self.by_path[unit.path].append(unit)
        self.expected: dict[frozenset[str], str] = {}
        for case in repo.cases:
            if case.kind.startswith("clone"):
                self.expected[frozenset(case.units)] = case.cid
        self.added = added_lines(root)

    def units_of(self, side: Range, whole: bool) -> frozenset[str]:
        """The units a reported side stands for. ``whole``: the side is a unit (idealdiff), so
        it maps to the one unit it overlaps most; otherwise every unit it overlaps."""
        path, s, e = side
        hits = [(u, _overlap(s, e, u.start, u.end)) for u in self.by_path.get(path, [])]
        hits = [(u, o) for u, o in hits if o > 0]
        if not hits:
            return frozenset({f"{path}:{s}-{e}"})
        if whole:
            best = max(hits, key=lambda h: h[1] / max(h[0].end - h[0].start + 1, e - s + 1))
            if best[1] / max(best[0].end - best[0].start + 1, e - s + 1) < 0.5:
                return frozenset({f"{path}:{s}-{e}"})
            return frozenset({best[0].uid})
        return frozenset(u.uid for u, _ in hits)

    def touches_batch(self, side: Range) -> bool:
        path, s, e = side
        lines = self.added.get(path)
        return bool(lines) and any(x in lines for x in range(s, e + 1))

    def score_pairs(
        self, pairs: list[tuple[Range, Range]], whole: bool,
        branches: list[tuple[str | None, str | None]] | None = None,
    ) -> dict:
        """found: cid -> attribution (or True); tp, fp: distinct reported pairs; fp_list."""
        found: dict[str, object] = {}
        seen: dict[tuple[frozenset[str], frozenset[str]], bool] = {}
        fp_list = []
        for k, (a, b) in enumerate(pairs):
            if not whole and not (self.touches_batch(a) or self.touches_batch(b)):
                continue
            ua, ub = self.units_of(a, whole), self.units_of(b, whole)
            if ua == ub and len(ua) == 1:
                continue
            key = (ua, ub) if sorted(ua) <= sorted(ub) else (ub, ua)
            hit = False
            for x in ua:
                for y in ub:
                    cid = self.expected.get(frozenset({x, y}))
                    if cid is None:
                        continue
                    hit = True
                    if branches is not None:
                        bx, by = branches[k]
                        want = {x: self.repo.units[x].branch, y: self.repo.units[y].branch}
                        good = int(bx == want[x]) + int(by == want[y])
                        found[cid] = max(found.get(cid, 0), good)  # type: ignore[call-overload]
                    else:
                        found.setdefault(cid, True)
            if key not in seen:
                seen[key] = hit
                if not hit:
                    fp_list.append((a, b, sorted(ua), sorted(ub)))
            else:
                seen[key] = seen[key] or hit
        tp = sum(1 for v in seen.values() if v)
        # For a peer every reported pair is a finding of its own.
        return {"found": found, "tp": tp, "fp": len(seen) - tp, "fp_list": fp_list,
                "findings_tp": tp, "findings_fp": len(seen) - tp}

    def idealdiff(self, report: dict) -> dict:
        pairs: list[tuple[Range, Range]] = []
        branches: list[tuple[str | None, str | None]] = []
        for finding in report.get("findings", []):
            members = finding["members"]
            for m1, m2 in combinations(members, 2):
                pairs.append(
                    ((m1["path"], m1["start_line"], m1["end_line"]),
                     (m2["path"], m2["start_line"], m2["end_line"]))
                )
                branches.append((m1["introduced_by"], m2["introduced_by"]))
        out = self.score_pairs(pairs, whole=True, branches=branches)
        out["hotspots"] = self.hotspots(report)
        # Finding-level: a finding is right when it holds an injected pair; its members are right
        # when each of them belongs to an injected pair held by the finding.
        good = bad = right_members = members_total = 0
        for finding in report.get("findings", []):
            keys = [
                next(iter(self.units_of((m["path"], m["start_line"], m["end_line"]), True)))
                for m in finding["members"]
            ]
            paired = {
                x for x in keys for y in keys if x != y and frozenset({x, y}) in self.expected
            }
            members_total += len(keys)
            right_members += len(paired)
            if paired:
                good += 1
            else:
                bad += 1
        out["findings_tp"], out["findings_fp"] = good, bad
        out["members_right"], out["members_total"] = right_members, members_total
        return out

    def hotspots(self, report: dict) -> dict:
        want = {
            (path, sym): branches
            for path, syms in self.repo.hotspots.items()
            for sym, branches in syms.items()
        }
        want_files = {p: b for p, b in self.repo.hotspot_files.items() if len(b) >= 2}
        got: dict[tuple[str, str], set[str]] = {}
        got_files: dict[str, set[str]] = {}
        for spot in report.get("hotspots", []):
            got_files[spot["path"]] = set(spot["branches"])
            for sym in spot.get("symbols", []):
                got[(spot["path"], sym["qualname"])] = set(sym["branches"])
        return {
            "symbols_expected": len(want),
            "symbols_found": sum(1 for k in want if k in got),
            "symbols_branches_right": sum(1 for k, b in want.items() if got.get(k) == b),
            "symbols_reported": len(got),
            "symbols_reported_expected": sum(1 for k in got if k in want),
            "files_expected": len(want_files),
            "files_found": sum(1 for p in want_files if p in got_files),
            "files_reported": len(got_files),
            "missed": [f"{p}::{s}" for (p, s) in want if (p, s) not in got],
            "unexpected": [f"{p}::{s}" for (p, s) in got if (p, s) not in want],
        }
