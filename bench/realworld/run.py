"""Replay real merge batches offline and score the findings against hand-written verdicts.

    python bench/realworld/run.py [--only NAME ...] [--label after] [--no-run]

For each batch of ``batches.json`` it runs ``idealdiff review`` on the repository's bare mirror
(brought by the search tool's ``fetch``; set ``REALWORLD_MIRRORS`` elsewhere), offline, and keeps
the findings (member paths and qualified names, never code) in ``results/<label>/<batch>.json``.
Then it looks every finding up in ``verdicts.json``, keyed by its member set (a pair finding by
its pair), and prints per batch: findings, judged precision, test-only findings, the biggest
group and the time, the held-out batches apart. Findings without a verdict are written to
``results/<label>/unjudged.json`` for someone to read and judge.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))  # run from anywhere: the checkout's analyzers

from analyzers.testcode import is_sample_path  # noqa: E402

MIRRORS = Path(os.environ.get("REALWORLD_MIRRORS", "/work/.mirror"))
VERDICTS = HERE / "verdicts.json"
GOOD = "worth"
MEMBER_FIELDS = (
    "path",
    "qualname",
    "kind",
    "start_line",
    "end_line",
    "introduced_by",
)  # verdicts: worth (acting on), noise (similar, not worth it), wrong


_TITLES = {
    "tuning": "tuning batches (looked at while changing the detector)",
    "held-out-1": "held-out set 1 (measured after round 1, then seen: used in round 2)",
    "held-out-2": "held-out set 2 (added after round 2's changes; never tuned on)",
    "held-out-3": "held-out set 3 (added after round 2, measured with it)",
    "held-out-4": "held-out set 4 (added after round 3's change, measured with it)",
    "held-out-5": "held-out set 5 (added in a later session, first measured with round 3's code)",
    "held-out-6": "held-out set 6 (added after round 4, first measured with it, then seen)",
    "held-out-7": "held-out set 7 (added after round 5, first measured with it, then seen)",
    "held-out-8": "held-out set 8 (added after round 6, measured with it; never tuned on)",
    "held-out-9": "held-out set 9 (added after round 7, measured with it; never tuned on)",
    "held-out-10": "held-out set 10 (third session: fetched before any change, measured with round 7)",
    "held-out-11": "held-out set 11 (fetched before round 8, first measured with it)",
    "held-out-12": "held-out set 12 (fetched after round 9, first measured with it)",
    "held-out-13": "held-out set 13 (fetched before round 11, first measured with it)",
    "held-out-14": "held-out set 14 (fetched after round 11, first measured with it, then seen)",
    "held-out-15": "held-out set 15 (fetched after round 12, measured with the final code)",
    "held-out-16": "held-out set 16 (fetched after round 12, measured with the final code)",
    "held-out-17": "held-out set 17 (fourth session: fetched before any change, measured with it)",
    "held-out-18": "held-out set 18 (fourth session: fetched before any change, measured with it)",
    "held-out-19": "held-out set 19 (fetched at the end of the fourth session, measured with its final code)",
    "held-out-20": "held-out set 20 (fifth session: fetched before any change, measured with it)",
    "held-out-21": "held-out set 21 (sixth session: fetched before any change, measured with it)",
    "held-out-22": "held-out set 22 (fetched before round 16, first measured with the code it started from)",
    "held-out-23": "held-out set 23 (sixth session: fetched before round 17, first measured with the code it started from)",
    "held-out-24": "held-out set 24 (fetched before round 17, measured with the code it started from and with round 17, never tuned on)",
    "held-out-25": "held-out set 25 (fetched before round 18, measured with round 17's code and with round 18)",
    "held-out-26": "held-out set 26 (fetched before round 19, measured with round 18's code and with round 19)",
    "held-out-27": "held-out set 27 (fetched before round 19's test-class rule, measured with round 18's code and with round 19)",
    "held-out-28": "held-out set 28 (seventh session: fetched before any change, measured with the code it started from)",
    "held-out-29": "held-out set 29 (seventh session: fetched after rounds 20-21, before any look at it; measured with them)",
    "held-out-30": "held-out set 30 (seventh session: fetched at its end, measured only with its final code; never tuned on)",
    "held-out-31": "held-out set 31 (eighth session: fetched at its start, measured first with the seventh session's final code)",
    "held-out-32": "held-out set 32 (eighth session: fetched at its start, measured first with the seventh session's final code)",
    "held-out-33": "held-out set 33 (eighth session: fetched after round 23 and measured with it, never tuned on; round 24 changes none of its batches)",
    "held-out-34": "held-out set 34 (eighth session: fetched after round 23 and measured with it, never tuned on; round 24 changes none of its batches)",
    "held-out-35": "held-out set 35 (eighth session: fetched after round 23 and measured with it, never tuned on; round 24 changes none of its batches)",
    "held-out-36": "held-out set 36 (eighth session: fetched after round 23 and measured with it; round 24 came from it)",
    "held-out-37": "held-out set 37 (eighth session: fetched after its last rule, measured only with its final code; never tuned on)",
    "held-out-38": "held-out set 38 (ninth session: fetched before any change, first measured with the starting code 86100cb)",
    "held-out-39": "held-out set 39 (ninth session: fetched after its last rule, measured only with its final code f82fcb0; never tuned on)",
    "held-out-40": "held-out set 40 (tenth session: fetched before any rule of the session, first measured with e506d39)",
    "held-out-41": "held-out set 41 (tenth session: fetched before round 32, first measured with 3711d56; round 32 came from it)",
    "held-out-42": "held-out set 42 (tenth session: fetched after round 32, measured once with the final code; never tuned on)",
    "held-out-43": "held-out set 43 (eleventh session: fetched after round 35, measured once with the final code; never tuned on)",
    "held-out-44": "held-out set 44 (eleventh session: fetched after set 43 was judged, measured once with the final code; never tuned on)",
    "held-out-45": "held-out set 45 (twelfth session: fetched after rounds 36-37 were written, measured once with the final code; never tuned on)",
    "held-out-46": "held-out set 46 (twelfth session: fetched after set 45 gave one finding, measured once with the final code; never tuned on)",
    "held-out-47": "held-out set 47 (thirteenth session: fetched after rounds 40-43 were written, measured once with the final code and once with the starting code; never tuned on)",
    "held-out-48": "held-out set 48 (thirteenth session: projects of the AI-agent era, fetched after set 47 gave no finding; measured with the final code, then with the starting code; never tuned on)",
    "held-out-49": "held-out set 49 (fourteenth session: projects of the AI-agent era, fetched after round 44 was written, first measured with round 44's code, then seen: the generated-docstring fix and the module __getattr__ rule came from it)",
    "held-out-50": "held-out set 50 (fourteenth session: projects of the AI-agent era, fetched after round 45, measured once with the final code; never tuned on)",
    "held-out-51": "held-out set 51 (fifteenth session: fetched at the session's start, first measured with the fourteenth session's final code, then seen: round 47 used one of its findings)",
    "held-out-52": "held-out set 52 (fifteenth session: fetched at the session's start, first measured with round 46's code, then seen: the cookbook fix and round 47 came from it)",
    "held-out-53": "held-out set 53 (fifteenth session: fetched after rounds 46-47 and the cookbook fix, first measured with that code, then seen: round 48 came from it)",
    "held-out-54": "held-out set 54 (fifteenth session: fetched after round 48, measured once with the final code; never tuned on)",
    "held-out-56": "held-out set 56 (sixteenth session: projects of the AI-agent era, fetched after set 55 was measured; measured once offline and once with the model's verdict; never tuned on)",
    "held-out-57": "held-out set 57 (seventeenth session: fetched at its start, after the prompt's acknowledged-copy rule; measured once offline and once with the model's verdict; never tuned on)",
    "held-out-58": "held-out set 58 (seventeenth session: fetched after set 57 was measured; measured once offline and once with the model's verdict; never tuned on)",
    "held-out-55": "held-out set 55 (sixteenth session: fetched after the model's verdict was measured, measured once offline and once with the model's verdict; never tuned on)",
}


def finding_key(members: list[dict[str, object]]) -> str:
    """The verdict key of a finding: its members' ``path::qualname``, sorted, joined by `` ~ ``."""
    return " ~ ".join(sorted(f"{m['path']}::{m['qualname']}" for m in members))


def is_test_unit(path: str, qualname: str) -> bool:
    """Test or sample code, as idealdiff reads it, or a test by its name wherever it is."""
    return is_sample_path(path) or qualname.rsplit(".", 1)[-1].startswith("test")


def run_batch(batch: dict[str, object], out: Path, data_dir: Path, code: Path) -> dict[str, object]:
    """Review one batch with this checkout's idealdiff; the trimmed report and the wall time."""
    repo = MIRRORS / str(batch["repo"]).replace("/", "+") / "repo"
    report = out / f"{batch['name']}.report.json"
    env = {**os.environ, "IDEALDIFF_DATA_DIR": str(data_dir)}
    env.pop("ANTHROPIC_API_KEY", None)
    start = time.perf_counter()
    # The code of ``code`` (this checkout by default), whatever ``idealdiff`` on PATH is.
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "review", str(repo), "--base", str(batch["head"])]
        + ["--since", str(batch["since"]), "--format", "json", "--llm", "offline"]
        + ["--output", str(report)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=code,
    )
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1) or not report.exists():
        return {"name": batch["name"], "error": done.stderr.strip()[-2000:], "seconds": seconds}
    data = json.loads(report.read_text())
    report.unlink()
    return {
        "name": batch["name"],
        "seconds": round(seconds, 1),
        "branches": len(data["batch"]),
        "hotspots": [h["path"] for h in data["hotspots"]],
        "skipped": data["skipped"],
        "findings": [
            {
                "id": f["id"],
                "clone_type": f["clone_type"],
                "concept": f["concept"],
                "members": [{k: m[k] for k in MEMBER_FIELDS} for m in f["members"]],
                "evidence": [
                    [*e["between"], e["clone_type"], e["score"], e["matched"]]
                    for e in f["evidence"]
                ],
            }
            for f in data["findings"]
        ],
    }


def score(
    batches: list[dict[str, object]],
    results: dict[str, dict[str, object]],
    verdicts: dict[str, dict[str, str]],
) -> tuple[str, list[dict[str, object]]]:
    """The Markdown table of every batch, held-out batches apart, and the unjudged findings."""
    unjudged: list[dict[str, object]] = []
    lines: list[str] = []
    for part in _TITLES:
        lines += [
            "",
            _TITLES[part],
            "",
            "| batch | PRs | findings | worth | noise | wrong | unjudged | precision | test-only "
            "| biggest | s |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        tot = {"findings": 0, "worth": 0, "noise": 0, "wrong": 0, "unjudged": 0, "test": 0}
        for batch in batches:
            if batch["set"] != part or batch["name"] not in results:
                continue
            res = results[str(batch["name"])]
            if "error" in res:
                lines.append(f"| {batch['name']} | error: {str(res['error'])[:80]} |")
                continue
            counts = {"worth": 0, "noise": 0, "wrong": 0, "unjudged": 0}
            tests = 0
            biggest = 0
            findings = res["findings"]
            assert isinstance(findings, list)
            for f in findings:
                members = f["members"]
                key = finding_key(members)
                verdict = verdicts.get(key, {}).get("verdict", "unjudged")
                counts[verdict] += 1
                if verdict == "unjudged":
                    unjudged.append(
                        {
                            "batch": batch["name"],
                            "repo": batch["repo"],
                            "head": batch["head"],
                            "key": key,
                            **f,
                        }
                    )
                tests += all(is_test_unit(m["path"], m["qualname"]) for m in members)
                biggest = max(biggest, len(members))
            judged = counts["worth"] + counts["noise"] + counts["wrong"]
            precision = f"{counts['worth'] / judged:.2f}" if judged else "-"
            lines.append(
                f"| {batch['name']} | {batch['prs']} | {len(findings)} | {counts['worth']} "
                f"| {counts['noise']} | {counts['wrong']} | {counts['unjudged']} | {precision} "
                f"| {tests} | {biggest} | {res['seconds']} |"
            )
            tot["findings"] += len(findings)
            tot["test"] += tests
            for k in counts:
                tot[k] += counts[k]
        judged = tot["worth"] + tot["noise"] + tot["wrong"]
        precision = f"{tot['worth'] / judged:.2f}" if judged else "-"
        lines.append(
            f"| **all** | | {tot['findings']} | {tot['worth']} | {tot['noise']} | {tot['wrong']} "
            f"| {tot['unjudged']} | **{precision}** | {tot['test']} | | |"
        )
    return "\n".join(lines), unjudged


def main(argv: list[str] | None = None) -> int:
    """Run (or only score) the batches; print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="batch names to run (default: all)")
    parser.add_argument("--label", default="current", help="results/<label>/ holds this run")
    parser.add_argument("--no-run", action="store_true", help="score the stored results only")
    parser.add_argument(
        "--code",
        type=Path,
        default=HERE.parent.parent,
        help="the idealdiff checkout to run (default: this one); e.g. a worktree of an older "
        "commit, for a before/after comparison",
    )
    args = parser.parse_args(argv)
    batches = json.loads((HERE / "batches.json").read_text())
    out = HERE / "results" / args.label
    out.mkdir(parents=True, exist_ok=True)
    data_dir = HERE.parent / "work" / "realworld-cache" / args.code.resolve().name
    data_dir.mkdir(parents=True, exist_ok=True)
    for batch in batches:
        if args.no_run or (args.only and batch["name"] not in args.only):
            continue
        res = run_batch(batch, out, data_dir, args.code.resolve())
        (out / f"{batch['name']}.json").write_text(json.dumps(res, indent=1) + "\n")
        print(
            f"{batch['name']}: {len(res.get('findings', []))} findings, {res['seconds']} s",
            file=sys.stderr,
        )
    results = {
        p.stem: json.loads(p.read_text()) for p in out.glob("*.json") if p.stem != "unjudged"
    }
    verdicts = json.loads(VERDICTS.read_text()) if VERDICTS.exists() else {}
    table, unjudged = score(batches, results, verdicts)
    (out / "unjudged.json").write_text(json.dumps(unjudged, indent=1) + "\n")
    print(table)
    print(f"\n{len(unjudged)} findings without a verdict: {out / 'unjudged.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
