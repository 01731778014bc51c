"""Opening storage from the settings: the one place that chooses a backend."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.errors import ConfigError
from app.settings import Settings
from app.store import AppState, Cache
from app.store.sqlite import AppStore, Store

if TYPE_CHECKING:
    from app.store.postgres import PgStore


def open_state(settings: Settings) -> AppState:
    """The App's state: the PostgreSQL database of ``IDEALDIFF_DATABASE_URL``, else the SQLite
    file. Upgrades its schema (``ConfigError`` for a database newer than this code, or one that
    cannot be reached)."""
    url = settings.postgres_url()
    if url is None:
        return AppStore(settings.database_path())
    backend = _postgres()
    cache = None if settings.shared_cache else Store(settings.cache_path())
    try:
        return backend(url, cache=cache, pool_size=settings.database_pool_size)
    except BaseException:
        if cache is not None:
            cache.close()
        raise


def open_cache(settings: Settings) -> Cache:
    """The analysis and answer caches: this machine's SQLite file, or the shared PostgreSQL
    database when ``IDEALDIFF_SHARED_CACHE`` is set beside a PostgreSQL URL."""
    url = settings.postgres_url()
    if url is not None and settings.shared_cache:
        return _postgres()(url, pool_size=settings.database_pool_size)
    return Store(settings.cache_path())


def _postgres() -> type[PgStore]:
    try:
        from app.store.postgres import PgStore  # psycopg is an extra: imported when named
    except ImportError:
        raise ConfigError(
            "IDEALDIFF_DATABASE_URL names a PostgreSQL database, but psycopg is not installed: "
            "pip install 'idealdiff[postgres]'"
        ) from None
    return PgStore
