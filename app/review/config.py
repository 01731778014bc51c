"""The per-repository configuration, ``.github/idealdiff.yml``: every key optional, validated."""

from __future__ import annotations

import re
from functools import cached_property
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from analyzers import RedundancyOptions, ScanLimits
from app.errors import ConfigError, validation_problems

CONFIG_PATH = ".github/idealdiff.yml"

DEFAULT_EXCLUDE = (
    "**/vendor/**",
    "**/vendored/**",
    "**/_vendor/**",
    "**/third_party/**",
    "**/node_modules/**",
    "**/site-packages/**",
    "**/.venv/**",
    "**/venv/**",
    "**/migrations/**",
    "**/*_pb2.py",
    "**/*_pb2_grpc.py",
)

# Files several branches change by nature, not by drift: listing them as hotspots is noise.
DEFAULT_HOTSPOT_EXCLUDE = (
    "**/CHANGELOG*",
    "**/CHANGES*",
    "**/HISTORY*",
    "**/NEWS*",
    "**/changelog.d/**",
    "**/changes/**",
    "**/*.lock",
    "**/package-lock.json",
    "**/requirements*.txt",
    ".github/**",
    ".pre-commit-config.yaml",
)


class AnalysisConfig(BaseModel):
    """Thresholds of the redundancy detector (see ``RedundancyOptions`` for their meaning)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_lines: int = Field(default=RedundancyOptions.min_lines, ge=1)
    min_tokens: int = Field(default=RedundancyOptions.min_tokens, ge=1)
    type3_similarity: float = Field(default=RedundancyOptions.type3_similarity, gt=0, le=1)
    type3_min_exact: float = Field(default=RedundancyOptions.type3_min_exact, ge=0, le=1)
    concept_similarity: float = Field(default=RedundancyOptions.concept_similarity, gt=0, le=1)
    concept_max_df: int = Field(default=RedundancyOptions.concept_max_df, ge=1)
    max_file_bytes: int = Field(default=ScanLimits.max_file_bytes, ge=1000)
    include_tests: bool = RedundancyOptions.include_tests  # tests as members of findings


class BatchConfig(BaseModel):
    """When the App reviews a batch of merged pull requests on its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    quiet_minutes: float = Field(default=30, ge=0, le=7 * 24 * 60)  # no merge for this long
    min_prs: int = Field(default=2, ge=1, le=500)  # ... and at least this many merged since
    # ... unless the oldest waiting merge has waited this long: then it is reviewed alone.
    max_wait_minutes: float = Field(default=24 * 60, ge=0, le=30 * 24 * 60)


class RepoConfig(BaseModel):
    """The whole ``.github/idealdiff.yml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    exclude: tuple[str, ...] = Field(default=DEFAULT_EXCLUDE)
    extra_exclude: tuple[str, ...] = ()
    hotspot_exclude: tuple[str, ...] = Field(default=DEFAULT_HOTSPOT_EXCLUDE)
    analysis: AnalysisConfig = AnalysisConfig()
    # The GitHub App's keys: what a merged batch triggers, and how issues are labelled.
    # draft_pr: the issues, plus a draft pull request carrying out each unification that could
    # be computed and validated (the issue says why when one could not).
    mode: Literal["issues", "draft_pr", "dry-run", "off"] = "issues"
    batch: BatchConfig = BatchConfig()
    labels: tuple[str, ...] = Field(default=("idealdiff",), min_length=1)
    # With a model, findings it judges not worth acting on are set apart and never published;
    # false publishes every finding, the model's verdict shown in each.
    model_triage: bool = True

    @cached_property
    def _exclude_patterns(self) -> list[tuple[str, re.Pattern[str]]]:
        return [(glob, glob_to_regex(glob)) for glob in (*self.exclude, *self.extra_exclude)]

    def excluded_by(self, path: str) -> str | None:
        """The exclude glob that matches ``path``, if any."""
        for glob, pattern in self._exclude_patterns:
            if pattern.fullmatch(path):
                return glob
        return None

    @cached_property
    def _hotspot_patterns(self) -> list[re.Pattern[str]]:
        return [glob_to_regex(glob) for glob in self.hotspot_exclude]

    def hotspot_excluded(self, path: str) -> bool:
        """A file whose parallel changes are not worth a hotspot (changelogs, lock files, CI)."""
        return any(pattern.fullmatch(path) for pattern in self._hotspot_patterns)

    def redundancy_options(self) -> RedundancyOptions:
        """The analysis thresholds as the core takes them."""
        a = self.analysis
        return RedundancyOptions(
            min_lines=a.min_lines,
            min_tokens=a.min_tokens,
            type3_similarity=a.type3_similarity,
            type3_min_exact=a.type3_min_exact,
            concept_similarity=a.concept_similarity,
            concept_max_df=a.concept_max_df,
            include_tests=a.include_tests,
        )

    def scan_limits(self) -> ScanLimits:
        """The file limits as the core takes them."""
        return ScanLimits(max_file_bytes=self.analysis.max_file_bytes)


def glob_to_regex(glob: str) -> re.Pattern[str]:
    """Translate a gitignore-like glob (``**`` crosses folders, ``*`` does not) to a regex."""
    out: list[str] = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out))


def parse_repo_config(text: str | None) -> RepoConfig:
    """Validate the YAML text of ``.github/idealdiff.yml``; None or empty means the defaults.

    Raises ``ConfigError`` with every problem listed, so one comment can explain them all.
    """
    if text is None or not text.strip():
        return RepoConfig()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{CONFIG_PATH} is not valid YAML: {exc}") from exc
    if data is None:
        return RepoConfig()
    if not isinstance(data, dict):
        raise ConfigError(f"{CONFIG_PATH} must be a mapping of keys to values")
    try:
        return RepoConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{CONFIG_PATH} is invalid: {validation_problems(exc)}") from exc


def load_repo_config(text: str | None) -> tuple[RepoConfig, str | None]:
    """The config a file's text gives, or the defaults and the reason the text was refused."""
    try:
        return parse_repo_config(text), None
    except ConfigError as exc:
        return RepoConfig(), str(exc)
