"""The hidden line that ties a published issue or pull request to its finding across reviews."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Marker:
    """An HTML comment naming a finding id, invisible in the rendered body."""

    kind: str

    def line(self, finding_id: str) -> str:
        """The marker of ``finding_id``."""
        return f"<!-- idealdiff:{self.kind} {finding_id} -->"

    def find(self, body: str | None) -> str | None:
        """The finding id a body carries, or None."""
        match = re.search(rf"<!-- idealdiff:{re.escape(self.kind)} (idd-[0-9a-f]+) -->", body or "")
        return match.group(1) if match else None


ISSUE_MARKER = Marker("finding")
PULL_MARKER = Marker("pull-request")
