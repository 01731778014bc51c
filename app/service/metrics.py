"""The process's Prometheus metrics: what the server's intake and the worker's jobs count."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping


class Metrics:
    """Counters the server keeps in memory; queue gauges come from the store at scrape time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.deliveries: Counter[tuple[str, str]] = Counter()
        self.jobs: Counter[tuple[str, str]] = Counter()
        self.intake_seconds = 0.0
        self.intake_count = 0

    def delivery(self, event: str, outcome: str, seconds: float = 0.0) -> None:
        """Count one webhook request by event and outcome."""
        with self.lock:
            self.deliveries[(event, outcome)] += 1
            self.intake_seconds += seconds
            self.intake_count += 1

    def job(self, kind: str, outcome: str) -> None:
        """Count one job run by kind and outcome (done, retry, dead, deferred)."""
        with self.lock:
            self.jobs[(kind, outcome)] += 1

    def render(self, counts: Mapping[str, int]) -> str:
        """The Prometheus text exposition format (version 0.0.4)."""
        lines = [
            "# HELP idealdiff_webhook_requests_total Webhook requests by event and outcome.",
            "# TYPE idealdiff_webhook_requests_total counter",
        ]
        with self.lock:
            for (event, outcome), n in sorted(self.deliveries.items()):
                lines.append(
                    f'idealdiff_webhook_requests_total{{event="{_label(event)}",'
                    f'outcome="{outcome}"}} {n}'
                )
            lines += [
                "# HELP idealdiff_webhook_intake_seconds Time spent answering webhook requests.",
                "# TYPE idealdiff_webhook_intake_seconds summary",
                f"idealdiff_webhook_intake_seconds_sum {self.intake_seconds:.6f}",
                f"idealdiff_webhook_intake_seconds_count {self.intake_count}",
                "# HELP idealdiff_worker_jobs_total Jobs run by this process's worker.",
                "# TYPE idealdiff_worker_jobs_total counter",
            ]
            for (kind, outcome), n in sorted(self.jobs.items()):
                lines.append(
                    f'idealdiff_worker_jobs_total{{kind="{kind}",outcome="{outcome}"}} {n}'
                )
        lines += [
            "# HELP idealdiff_jobs Jobs in the durable queue by state.",
            "# TYPE idealdiff_jobs gauge",
        ]
        for key, value in sorted(counts.items()):
            if key.startswith("jobs_"):
                lines.append(f'idealdiff_jobs{{state="{key.removeprefix("jobs_")}"}} {value}')
        for key, text in (
            ("deliveries", "Deliveries recorded."),
            ("merged_prs_waiting", "Merged pull requests waiting for a batch review."),
            ("issues_open", "Unification issues open."),
        ):
            lines += [
                f"# HELP idealdiff_{key} {text}",
                f"# TYPE idealdiff_{key} gauge",
                f"idealdiff_{key} {counts.get(key, 0)}",
            ]
        return "\n".join(lines) + "\n"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")[:64]
