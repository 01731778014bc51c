"""Compare the findings of two runs over the batches both ran: what each run has alone.

    python bench/realworld/diffruns.py OLD_LABEL NEW_LABEL

One line per finding only one of the runs has (``-`` gone, ``+`` new), with its batch, its
verdict in ``verdicts.json`` (or ``unjudged``), its clone type and its key. A round that keeps
every worth finding prints no ``- ... worth`` line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import VERDICTS, finding_key  # noqa: E402


def findings(label: str) -> dict[str, dict[str, dict[str, object]]]:
    """Per batch of the run, its findings by key."""
    out = {}
    for path in (HERE / "results" / label).glob("*.json"):
        if path.stem != "unjudged":
            run = json.loads(path.read_text())
            out[path.stem] = {finding_key(f["members"]): f for f in run.get("findings", [])}
    return out


def main(argv: list[str]) -> int:
    """Print the findings each of the two runs has alone."""
    old, new = findings(argv[0]), findings(argv[1])
    verdicts = json.loads(VERDICTS.read_text())
    for batch in sorted(old.keys() & new.keys()):
        for sign, mine, theirs in (("-", old, new), ("+", new, old)):
            for key in sorted(mine[batch].keys() - theirs[batch].keys()):
                verdict = verdicts.get(key, {}).get("verdict", "unjudged")
                kind = mine[batch][key]["clone_type"]
                sys.stdout.write(f"{sign} {batch} {verdict} {kind} {key}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
