"""Structured logs: one JSON object per line, with the delivery id and the job id in context.

Every line passes through a redactor: the settings' secret values and anything shaped like a
GitHub token, an Anthropic key or a PEM private key are replaced before the line is written.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import IO, Any

delivery_id: ContextVar[str | None] = ContextVar("delivery_id", default=None)
job_id: ContextVar[int | None] = ContextVar("job_id", default=None)

_TOKEN_SHAPES = re.compile(
    r"(gh[opusr]_[A-Za-z0-9_]{16,}|github_pat_[A-Za-z0-9_]{20,}|v1\.[0-9a-f]{40}"
    r"|sk-ant-[A-Za-z0-9_-]{10,}"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"
    r"|(?<=[?&]token=)[^&\s\"']+|(?i:bearer|token) [A-Za-z0-9._-]{20,})",
    re.DOTALL,
)
_secrets: set[str] = set()


def add_secrets(values: Iterable[str]) -> None:
    """Register secret values that must never be written (short ones are ignored: no false hits)."""
    _secrets.update(v for v in values if len(v) >= 6)


def redact(text: str) -> str:
    """``text`` with every registered secret and token-shaped string replaced by ``[redacted]``."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "[redacted]")
    return _TOKEN_SHAPES.sub("[redacted]", text)


def _scrub(value: Any) -> Any:
    """``value`` with every string in it redacted; what JSON cannot hold becomes its text."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(str(k)): _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))


class JsonFormatter(logging.Formatter):
    """Format records as single-line JSON with context ids and ``extra`` fields."""

    _STANDARD = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        """One JSON line, redacted."""
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if (delivery := delivery_id.get()) is not None:
            entry["delivery_id"] = delivery
        if (job := job_id.get()) is not None:
            entry["job_id"] = job
        for key, value in vars(record).items():
            if key not in self._STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        # Redacted before encoding: JSON escapes a secret holding ``"``, ``\\`` or non-ASCII
        # characters into another string, which a pass over the encoded line would not find.
        return redact(json.dumps(_scrub(entry)))


def configure(stream: IO[str] | None = None, level: int = logging.INFO) -> None:
    """Send the ``idealdiff`` logger (and uvicorn's) to ``stream`` as JSON lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("idealdiff", "uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False


@contextmanager
def context(*, delivery: str | None = None, job: int | None = None) -> Iterator[None]:
    """Attach a delivery id and/or job id to every log line written inside the block."""
    d_token = delivery_id.set(delivery) if delivery is not None else None
    j_token = job_id.set(job) if job is not None else None
    try:
        yield
    finally:
        if j_token is not None:
            job_id.reset(j_token)
        if d_token is not None:
            delivery_id.reset(d_token)
