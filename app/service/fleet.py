"""One machine while the database is SQLite: two App instances with a SQLite file each would
each take webhooks and open their own issues. On Fly.io the App's machines are listed by its
private DNS (``<app>.internal``), so a second machine refuses to start instead of splitting the
App in two silently."""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from typing import Any

from app.errors import ConfigError
from app.settings import Settings

Resolve = Callable[..., list[tuple[Any, ...]]]


def check_single_machine(
    settings: Settings, environ: Mapping[str, str], resolve: Resolve = socket.getaddrinfo
) -> None:
    """Raise ``ConfigError`` when this is one of several Fly machines of an App on SQLite."""
    app_name = environ.get("FLY_APP_NAME")
    if not app_name:
        return  # not on Fly: one process per database is the operator's to keep
    if settings.postgres_url() is not None:
        return  # a shared database: as many machines as the load needs
    try:
        found = resolve(f"{app_name}.internal", None, socket.AF_INET6)
    except OSError:
        return  # the private network does not answer: no evidence of a second machine
    machines = {entry[4][0] for entry in found}
    if len(machines) > 1:
        raise ConfigError(
            f"{len(machines)} machines run this App, but its database is SQLite, which one "
            "machine owns: run `fly scale count app=1 worker=0`, or set IDEALDIFF_DATABASE_URL "
            "to a PostgreSQL database they share"
        )
