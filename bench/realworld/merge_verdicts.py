"""Merge verdicts written by a judge into verdicts.json (kept sorted, one entry per finding key).

    python bench/realworld/merge_verdicts.py judged.json [--run after]

The input is a JSON object ``{key: {"verdict": "worth|noise|wrong", "reason": ..., "repo": ...,
"batch": ...}}`` for findings listed in ``results/<label>/unjudged.json``. A key already judged
keeps its first verdict unless ``--replace`` is given: a verdict is about the code, not the run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

VERDICTS = Path(__file__).resolve().parent / "verdicts.json"


def main(argv: list[str] | None = None) -> int:
    """Merge one file of verdicts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("judged", type=Path)
    parser.add_argument("--run", default="after", help="which run the findings came from")
    parser.add_argument("--replace", action="store_true")
    args = parser.parse_args(argv)
    verdicts = json.loads(VERDICTS.read_text()) if VERDICTS.exists() else {}
    added = 0
    for key, entry in json.loads(args.judged.read_text()).items():
        if entry["verdict"] not in ("worth", "noise", "wrong"):
            raise SystemExit(f"{key}: unknown verdict {entry['verdict']!r}")
        if key in verdicts and not args.replace:
            continue
        verdicts[key] = {
            "verdict": entry["verdict"],
            "reason": entry["reason"],
            "repo": entry["repo"],
            "batch": entry["batch"],
            "judged": args.run,
        }
        added += 1
    VERDICTS.write_text(json.dumps(dict(sorted(verdicts.items())), indent=1) + "\n")
    print(f"{added} verdicts added, {len(verdicts)} in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
