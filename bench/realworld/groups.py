"""Judged precision of one run over the groups of sets the READMEs quote.

    python bench/realworld/groups.py LABEL

Sets are numbered as in ``batches.json`` (``tuning`` is 0); each line gives worth/judged, the
precision and the noise and wrong counts, then the same by clone type over every batch.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import VERDICTS, finding_key  # noqa: E402

GROUPS = {
    "sets 1-22": range(0, 23),
    "held-out 23-27": range(23, 28),
    "the 631 batches of the seventh session (sets 1-30)": range(0, 31),
    "the 861 batches of the ninth session (sets 1-39)": range(0, 40),
    "the 945 batches of the tenth session (sets 1-42)": range(0, 43),
    "the 1,004 batches of the eleventh session (sets 1-44)": range(0, 45),
    **{f"held-out {n}": range(n, n + 1) for n in (37, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58)},
    "held-out 45-46": range(45, 47),
    "held-out 47-48": range(47, 49),
    "held-out 49-50": range(49, 51),
    "held-out 51-52": range(51, 53),
    "held-out 51-53": range(51, 54),
    "held-out 51-55": range(51, 56),
    "held-out 55-56": range(55, 57),
    "held-out 55-57": range(55, 58),
    "held-out 57-58": range(57, 59),
    "the 1,307 batches of the sixteenth session (sets 1-56)": range(0, 57),
    "the 1,052 batches of the twelfth session (sets 1-46)": range(0, 47),
    "the 1,111 batches of the thirteenth session (sets 1-48)": range(0, 49),
    "the 1,166 batches of the fourteenth session (sets 1-50)": range(0, 51),
    "the 1,262 batches of the fifteenth session (sets 1-54)": range(0, 55),
    "all": range(0, 1000),
}


def number(part: str) -> int:
    """The set's number: 0 for the tuning batches."""
    return 0 if part == "tuning" else int(part.rsplit("-", 1)[1])


def main(argv: list[str]) -> int:
    """Print the groups' precision for the run ``argv[0]``."""
    sets = {b["name"]: number(b["set"]) for b in json.loads((HERE / "batches.json").read_text())}
    verdicts = json.loads(VERDICTS.read_text())
    counts: Counter[tuple[str, str]] = Counter()
    for path in (HERE / "results" / argv[0]).glob("*.json"):
        if path.stem == "unjudged":
            continue
        for finding in json.loads(path.read_text()).get("findings", []):
            verdict = verdicts.get(finding_key(finding["members"]), {}).get("verdict", "unjudged")
            counts[(finding["clone_type"], verdict)] += 1
            for group, numbers in GROUPS.items():
                if sets[path.stem] in numbers:
                    counts[(group, verdict)] += 1
    for group in [*GROUPS, "type-1", "type-2", "type-3", "concept"]:
        worth = counts[(group, "worth")]
        judged = worth + counts[(group, "noise")] + counts[(group, "wrong")]
        share = f"{worth / judged:.2f}" if judged else "-"
        sys.stdout.write(
            f"{group}: {share} ({worth}/{judged}; {counts[(group, 'noise')]} noise, "
            f"{counts[(group, 'wrong')]} wrong, {counts[(group, 'unjudged')]} unjudged)\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
