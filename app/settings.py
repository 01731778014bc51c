"""Service settings of the App, from the environment or a ``.env`` file (pydantic, validated).

The environment is passed in (``Settings.from_env(environ)``) so tests never touch ``os.environ``.
Secrets are ``SecretStr``: their ``repr`` and ``str`` are masked, so a logged settings object or a
validation error never shows them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from app.errors import ConfigError, validation_problems

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_MODEL = "claude-sonnet-5"


def data_dir(environ: dict[str, str] | None = None) -> Path:
    """Where idealdiff keeps its database: ``IDEALDIFF_DATA_DIR``, else the user's cache folder."""
    env = os.environ if environ is None else environ
    if env.get("IDEALDIFF_DATA_DIR"):
        return Path(env["IDEALDIFF_DATA_DIR"])
    cache = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "idealdiff"


class LlmSettings(BaseModel):
    """How the idealizer talks to Anthropic; read from the environment, never logged."""

    model_config = ConfigDict(frozen=True)

    mode: Literal["auto", "anthropic", "offline"] = "auto"
    api_key: SecretStr | None = None
    base_url: str | None = None
    model: str = DEFAULT_MODEL
    max_tokens: int = Field(default=4096, ge=256)
    prompt_budget: int = Field(default=24_000, ge=2_000)  # input tokens per prompt
    review_token_ceiling: int = Field(default=400_000, ge=1_000)  # all tokens of one review
    timeout: float = Field(default=120.0, gt=0)
    max_retries: int = Field(default=4, ge=0)
    concurrency: int = Field(default=4, ge=1)
    edits: bool = False  # draft-PR mode: ask for the concrete edits of each finding

    @property
    def online(self) -> bool:
        """Whether the model is asked (else the offline plan is written)."""
        return self.mode == "anthropic" or (self.mode == "auto" and self.api_key is not None)


class Settings(BaseModel):
    """Everything the server and the worker read from their environment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    github_app_id: str | None = None
    github_private_key: SecretStr | None = None
    github_webhook_secret: SecretStr | None = None
    github_api_url: str = DEFAULT_API_URL
    # sqlite:///path, or postgresql://user:password@host/db (a secret: it may hold a password)
    database_url: SecretStr | None = None
    shared_cache: bool = False  # on PostgreSQL, the analysis and answer caches there too
    database_pool_size: int = Field(default=10, ge=2)  # connections per process (PostgreSQL)
    data_dir: Path
    llm: LlmSettings = LlmSettings()  # the model: key, endpoint, budgets (CLI, App, worker)
    # Worker tuning; the defaults suit GitHub (a review takes seconds to minutes).
    # Short, and renewed every third of it while the job runs: a worker killed without a word
    # holds its repository's queue for this long at most (less: a worker starting on the same
    # machine reclaims it at once).
    job_lease_seconds: float = Field(default=30.0, gt=0)
    job_max_attempts: int = Field(default=5, ge=1)
    job_backoff_seconds: float = Field(default=30.0, ge=0)
    worker_poll_seconds: float = Field(default=1.0, gt=0)
    # On SIGTERM a running job may finish for this long, then goes back to the queue (below
    # Fly's kill_timeout of 60 s, after which the process is killed).
    shutdown_grace_seconds: float = Field(default=45.0, ge=0)
    github_retry_seconds: float = Field(default=1.0, ge=0)  # first wait after a GitHub 5xx
    run_worker: bool = True  # `idealdiff serve` runs a worker thread beside the server
    # Bytes of webhook bodies held in memory at once; past it a delivery is refused with a 503
    # (GitHub's deliveries are small; a flood of large ones must not take the process down).
    intake_budget_mb: int = Field(default=200, ge=26)
    # /readyz fails when a ready job has waited this long for a worker (none running, or stuck).
    queue_stall_seconds: float = Field(default=600.0, gt=0)
    metrics_token: SecretStr | None = None  # when set, /metrics wants "Authorization: Bearer <it>"

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
    ) -> Settings:
        """Read the settings; the environment wins over the ``.env`` file.

        Raises ``ConfigError`` naming the variable at fault (never its value).
        """
        env = dict(read_env_file(env_file)) if env_file is not None else {}
        env.update(os.environ if environ is None else environ)
        key = env.get("GITHUB_PRIVATE_KEY") or None
        key_path = env.get("GITHUB_PRIVATE_KEY_PATH")
        if key is None and key_path:
            try:
                key = Path(key_path).read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(
                    f"GITHUB_PRIVATE_KEY_PATH names a file that cannot be read ({exc.strerror})"
                ) from exc
        if key is not None and "\\n" in key and "\n" not in key:
            key = key.replace("\\n", "\n")  # PEM pasted into one line of a secret store
        raw: dict[str, object] = {
            "github_app_id": env.get("GITHUB_APP_ID") or None,
            "github_private_key": key,
            "github_webhook_secret": env.get("GITHUB_WEBHOOK_SECRET") or None,
            "github_api_url": (env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
            "database_url": env.get("IDEALDIFF_DATABASE_URL") or None,
            "metrics_token": env.get("IDEALDIFF_METRICS_TOKEN") or None,
            "data_dir": data_dir(dict(env)),
        }
        llm: dict[str, object] = {
            "api_key": env.get("ANTHROPIC_API_KEY") or None,
            "base_url": env.get("ANTHROPIC_BASE_URL") or None,
        }
        llm_names = {
            "model": "IDEALDIFF_MODEL",
            "max_tokens": "IDEALDIFF_MAX_TOKENS",
            "prompt_budget": "IDEALDIFF_PROMPT_BUDGET",
            "review_token_ceiling": "IDEALDIFF_TOKEN_CEILING",
            "timeout": "IDEALDIFF_LLM_TIMEOUT",
        }
        llm.update({field: env[name] for field, name in llm_names.items() if env.get(name)})
        raw["llm"] = llm
        tuning = {
            "job_lease_seconds": "IDEALDIFF_JOB_LEASE_SECONDS",
            "job_max_attempts": "IDEALDIFF_JOB_MAX_ATTEMPTS",
            "job_backoff_seconds": "IDEALDIFF_JOB_BACKOFF_SECONDS",
            "worker_poll_seconds": "IDEALDIFF_WORKER_POLL_SECONDS",
            "shutdown_grace_seconds": "IDEALDIFF_SHUTDOWN_GRACE_SECONDS",
            "github_retry_seconds": "IDEALDIFF_GITHUB_RETRY_SECONDS",
            "run_worker": "IDEALDIFF_RUN_WORKER",
            "intake_budget_mb": "IDEALDIFF_INTAKE_BUDGET_MB",
            "queue_stall_seconds": "IDEALDIFF_QUEUE_STALL_SECONDS",
            "shared_cache": "IDEALDIFF_SHARED_CACHE",
            "database_pool_size": "IDEALDIFF_DATABASE_POOL_SIZE",
        }
        for field, name in tuning.items():
            if env.get(name):
                raw[field] = env[name]
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            names = {**tuning, **llm_names, "github_api_url": "GITHUB_API_URL"}
            problems = validation_problems(exc, names)
            raise ConfigError(f"invalid settings: {problems}") from None

    def postgres_url(self) -> str | None:
        """The PostgreSQL URL of ``IDEALDIFF_DATABASE_URL``, or None when the database is SQLite.

        Raises ``ConfigError`` for any other scheme, naming the scheme (never the URL).
        """
        url = self.database_url.get_secret_value() if self.database_url else None
        if url is None or "://" not in url:
            return None
        scheme = url.split("://", 1)[0].lower()
        if scheme in ("postgresql", "postgres"):
            return url
        if scheme == "sqlite":
            return None
        raise ConfigError(
            f"IDEALDIFF_DATABASE_URL uses {scheme!r}; idealdiff stores its tables in SQLite "
            "(sqlite:///path/to/file.sqlite3) or PostgreSQL (postgresql://user:password@host/db)"
        )

    def database_path(self) -> Path:
        """The SQLite file: ``IDEALDIFF_DATABASE_URL`` (``sqlite:///path``) or the data dir's."""
        if self.postgres_url() is not None:
            raise ConfigError("IDEALDIFF_DATABASE_URL names a PostgreSQL database, not a file")
        url = self.database_url.get_secret_value() if self.database_url else None
        if url is None:
            return self.data_dir / "idealdiff.sqlite3"
        return Path(url.removeprefix("sqlite:///"))

    def cache_path(self) -> Path:
        """The SQLite file of this machine's caches: the database itself when it is SQLite,
        else one in the data dir (the caches stay local unless ``IDEALDIFF_SHARED_CACHE``)."""
        if self.postgres_url() is not None:
            return self.data_dir / "cache.sqlite3"
        return self.database_path()

    def require_app(self) -> tuple[str, str]:
        """(app id, private key), or a ``ConfigError`` saying which variable is missing."""
        if not self.github_app_id:
            raise ConfigError("GITHUB_APP_ID is not set (the App's numeric id)")
        if not self.github_app_id.isdigit():
            raise ConfigError(
                "GITHUB_APP_ID must be the App's numeric id (its settings page shows it)"
            )
        if self.github_private_key is None:
            raise ConfigError(
                "neither GITHUB_PRIVATE_KEY nor GITHUB_PRIVATE_KEY_PATH is set "
                "(the App's private key, PEM)"
            )
        key = self.github_private_key.get_secret_value()
        try:
            serialization.load_pem_private_key(key.encode(), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            # Said before any job runs: with a bad key every call to GitHub would fail.
            raise ConfigError(
                "GITHUB_PRIVATE_KEY (or the file GITHUB_PRIVATE_KEY_PATH names) is not a PEM "
                "private key: truncated, malformed or encrypted; download a new one from the "
                "App's settings"
            ) from None
        return self.github_app_id, key

    def require_webhook_secret(self) -> str:
        """The webhook secret, or a ``ConfigError``: the server never runs without one."""
        if self.github_webhook_secret is None or not self.github_webhook_secret.get_secret_value():
            raise ConfigError(
                "GITHUB_WEBHOOK_SECRET is not set: the server refuses to accept unsigned "
                "webhooks (use the secret you entered in the App's settings)"
            )
        return self.github_webhook_secret.get_secret_value()

    def secrets(self) -> list[str]:
        """Every secret value, for the log redactor."""
        values = [
            self.github_private_key,
            self.github_webhook_secret,
            self.llm.api_key,
            self.metrics_token,
        ]
        out = [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]
        if self.database_url is not None:
            password = urlsplit(self.database_url.get_secret_value()).password
            if password:
                out.append(password)
        return out


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines of a ``.env`` file (quotes stripped, ``#`` comments); {} if absent."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[key.strip()] = value
    return out
