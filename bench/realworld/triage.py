"""The model's verdict on real findings: the prompts it is sent, its answers, scored by hand.

    python bench/realworld/triage.py prompts --run s19z --out DIR [--code CHECKOUT] [--only B ...]
    python bench/realworld/triage.py collect --prompts DIR ... --answers RAW ... --out FILE
    python bench/realworld/triage.py score --run s19z --answers bench/realworld/triage.json

``prompts`` reviews every batch of run ``--run`` that has a finding the way the App does with a
model (``--llm anthropic``), against the local Anthropic stand-in of the tests, which records
each request: no key and no network. Each finding's request (system prompt, the tool fields
that decide, the finding prompt) is written to ``DIR/<batch>__<id>.md`` and ``DIR/index.json``
maps the files to the findings' verdict keys. Whoever answers reads only those files, never the
repositories or ``verdicts.json``, so the answers rest on what the model would see.

``collect`` turns answers keyed by prompt file (``{file: {"verdict": "act"|"leave"|"unrelated",
"reason": ...}}``) into the committed file keyed by finding; ``score`` prints the precision of a
run's findings before and after the model's triage, against the verdicts judged by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from run import MIRRORS, VERDICTS, finding_key  # noqa: E402

FINDING_HEADER = "## A redundancy in this batch"


def _text(content: Any) -> str:
    """The text of a message's content, a string or a list of blocks."""
    if isinstance(content, str):
        return content
    return "\n".join(block.get("text", "") for block in content if isinstance(block, dict))


def _owner(prompt: str, findings: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The finding whose every member heads a section of this prompt."""
    for finding in findings:
        heads = [f"#### `{m['qualname']}` at {m['path']}:" for m in finding["members"]]
        if all(h in prompt for h in heads):
            return finding
    return None


def prompts(args: argparse.Namespace) -> int:
    """Record the model's prompt of every finding of ``--run``."""
    from tests.anthropic_standin import KEY, serve

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    batches = {b["name"]: b for b in json.loads((HERE / "batches.json").read_text())}
    runs = HERE / "results" / args.run
    index: dict[str, dict[str, str]] = {}
    if (out / "index.json").exists():
        index = json.loads((out / "index.json").read_text())
    data_dir = Path(tempfile.mkdtemp(prefix="triage-"))
    if args.cache:
        shutil.copy(args.cache, data_dir / "idealdiff.sqlite3")
    names = args.only or sorted(p.stem for p in runs.glob("*.json") if p.stem != "unjudged")
    for path in (runs / f"{name}.json" for name in names):
        findings = json.loads(path.read_text()).get("findings", [])
        if not findings or any(v["batch"] == path.stem for v in index.values()):
            continue
        batch = batches[path.stem]
        repo = MIRRORS / str(batch["repo"]).replace("/", "+") / "repo"
        with serve() as standin:
            env = {
                **os.environ,
                "IDEALDIFF_DATA_DIR": str(data_dir),
                "ANTHROPIC_API_KEY": KEY,
                "ANTHROPIC_BASE_URL": standin.url,
            }
            done = subprocess.run(
                [sys.executable, "-m", "app.cli", "review", str(repo)]
                + ["--base", str(batch["head"]), "--since", str(batch["since"])]
                + ["--format", "json", "--llm", "anthropic", "--output", os.devnull],
                capture_output=True,
                text=True,
                env=env,
                check=False,
                cwd=args.code,
            )
            requests = list(standin.requests)
        if done.returncode not in (0, 1):
            print(f"{path.stem}: review failed: {done.stderr[-500:]}", file=sys.stderr)
            continue
        for body in requests:
            prompt = "\n\n".join(_text(m["content"]) for m in body["messages"])
            if FINDING_HEADER not in prompt:
                continue
            finding = _owner(prompt, findings)
            if finding is None:
                continue
            name = f"{path.stem}__{finding['id']}.md"
            tool = body["tools"][0]
            schema = {
                k: tool["input_schema"]["properties"][k]
                for k in ("summary", "verdict", "verdict_reason")
            }
            (out / name).write_text(
                f"# System prompt\n\n{_text(body['system'])}\n\n"
                f"# Tool `{tool['name']}` (the fields that decide)\n\n"
                f"```json\n{json.dumps(schema, indent=1)}\n```\n\n# User message\n\n{prompt}\n"
            )
            index[name] = {"batch": path.stem, "key": finding_key(finding["members"])}
        print(f"{path.stem}: {len(findings)} findings", file=sys.stderr)
        (out / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    shutil.rmtree(data_dir, ignore_errors=True)
    return 0


def collect(args: argparse.Namespace) -> int:
    """Key the answers (by prompt file) by finding, into the committed answers file."""
    index: dict[str, dict[str, str]] = {}
    for folder in args.prompts:
        index.update(json.loads((folder / "index.json").read_text()))
    keyed = json.loads(args.out.read_text()) if args.out.exists() else {}
    for path in args.answers:
        for name, answer in json.loads(Path(path).read_text()).items():
            entry = index[name]
            keyed[entry["key"]] = {"batch": entry["batch"], **answer}
    args.out.write_text(json.dumps(keyed, indent=1, sort_keys=True) + "\n")
    print(f"{len(keyed)} answers in {args.out}")
    return 0


def score(args: argparse.Namespace) -> int:
    """Precision of run ``--run``'s findings before and after the model's triage."""
    verdicts = json.loads(VERDICTS.read_text())
    answers = json.loads(args.answers.read_text())
    sets = {b["name"]: b["set"] for b in json.loads((HERE / "batches.json").read_text())}
    counts: Counter[tuple[str, str, str]] = Counter()
    for path in sorted((HERE / "results" / args.run).glob("*.json")):
        if path.stem == "unjudged":
            continue
        part = sets[path.stem]
        number = 0 if part == "tuning" else int(part.rsplit("-", 1)[1])
        for finding in json.loads(path.read_text()).get("findings", []):
            key = finding_key(finding["members"])
            model = answers.get(key, {}).get("verdict", "unanswered")
            hand = verdicts.get(key, {}).get("verdict", "unjudged")
            for group in ("all", "held-out 51 and later" if number >= 51 else "sets 1-50"):
                counts[(group, model, hand)] += 1
    for group in ("all", "sets 1-50", "held-out 51 and later"):
        before: Counter[str] = Counter()
        kept: Counter[str] = Counter()
        for (g, m, h), n in counts.items():
            if g == group:
                before[h] += n
                # No answer (the review's token ceiling reached): the offline plan stands in,
                # and it never leaves a finding alone, so the finding is published.
                kept[h] += n if m in ("act", "unanswered") else 0
        total, acted = sum(before.values()), sum(kept.values())
        unanswered = sum(n for (g, m, _), n in counts.items() if g == group and m == "unanswered")
        print(
            f"{group}: {total} findings, worth {before['worth']}/{total} = "
            f"{before['worth'] / max(total, 1):.2f}; published after the model's verdict {acted}: worth "
            f"{kept['worth']}/{acted} = {kept['worth'] / max(acted, 1):.2f} (worth kept "
            f"{kept['worth']}/{before['worth']}, noise {kept['noise']}/{before['noise']}, wrong "
            f"{kept['wrong']}/{before['wrong']}; {unanswered} unanswered, counted as acted on)"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Dispatch ``prompts``, ``collect`` or ``score``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prompts")
    p.add_argument("--run", required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--code", type=Path, default=ROOT)
    p.add_argument("--cache", type=Path, help="a warm analysis cache to start from (copied)")
    p.add_argument("--only", nargs="*")
    c = sub.add_parser("collect")
    c.add_argument("--prompts", type=Path, nargs="+", required=True)
    c.add_argument("--answers", nargs="+", required=True, help="answers keyed by prompt file")
    c.add_argument("--out", type=Path, required=True, help="answers keyed by finding")
    s = sub.add_parser("score")
    s.add_argument("--run", required=True)
    s.add_argument("--answers", type=Path, required=True, help="answers keyed by finding")
    args = parser.parse_args(argv)
    return {"prompts": prompts, "collect": collect, "score": score}[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
