"""idealdiff: everything that touches the outside world (CLI, git, GitHub, the model).

One part per subpackage, lowest first. A module imports from its own part and from the parts
above it in ``LAYERS``, never from a part below it or beside it; ``analyzers`` (the pure core)
imports nothing from here. ``tests/test_layout.py`` checks both, and that no import cycle exists.

- ``errors``, ``logs``: the exception tree; structured logs.
- ``settings``: the environment and ``.env``, read once.
- ``store``: everything kept (SQLite in WAL mode, or PostgreSQL for a fleet), behind protocols.
- ``review``: the one review flow, source-agnostic (batch, code source, repository config, report
  data, pipeline, the idealizer protocol it asks).
- ``render``: the report's JSON and SARIF formats; the jinja2 environment over ``prompts/``;
  text made safe for GitHub.
- ``idealize``: the idealized diff (grounding context, prompts and the model session, the
  offline plan, the changes derived from a finding). ``github``: the GitHub adapter only.
- ``publish``: unification issues and pull requests on GitHub.
- ``local``: the command line's world (a git repository on disk, its history, the local run,
  ``--apply``, the demo). ``service``: the App (webhook intake, metrics, commands, the worker).
- ``cli``: the command line, composing the parts.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("idealdiff")  # the one version string: pyproject.toml's
except PackageNotFoundError:  # run from a checkout that was never installed
    __version__ = "0+unknown"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "logs"),
    ("settings",),
    ("store",),
    ("review",),
    ("render",),
    ("idealize", "github"),
    ("publish",),
    ("local", "service"),
    ("cli",),
)
