# syntax=docker/dockerfile:1
# The idealdiff GitHub App, run as a non-root user: `idealdiff serve` (webhook server + worker
# thread) by default, or `idealdiff worker` (jobs only) given as the command, e.g.
#   docker run -e IDEALDIFF_DATABASE_URL=postgresql://... IMAGE idealdiff worker
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    IDEALDIFF_DATA_DIR=/data

RUN useradd --create-home --uid 10001 idealdiff \
    && mkdir -p /data \
    && chown idealdiff:idealdiff /data

WORKDIR /opt/idealdiff
# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p app analyzers prompts \
    && touch app/__init__.py analyzers/__init__.py prompts/__init__.py \
    && pip install '.[postgres]' && pip uninstall -y idealdiff && rm -rf app analyzers prompts build
# Every package pyproject installs (tests/test_deploy.py holds the two to each other).
COPY app ./app
COPY analyzers ./analyzers
COPY prompts ./prompts
# A regular install (the templates ship inside the wheel); the sources are removed after it, so
# the image runs exactly what was installed.
RUN pip install --no-deps . && rm -rf app analyzers prompts build \
    && cd / && python -c "import app.service.http, app.service.worker, app.store.postgres, prompts"

# Volumes (Fly's among them) are mounted owned by root: the entrypoint, started as root, gives
# the data directory to the idealdiff user, then drops to it (uid 10001) with setpriv, so the
# server never runs as root. `docker run --user 10001` skips the first step.
COPY <<'EOF' /usr/local/bin/idealdiff-entrypoint
#!/bin/sh
set -e
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$IDEALDIFF_DATA_DIR"
    chown idealdiff:idealdiff "$IDEALDIFF_DATA_DIR"
    exec setpriv --reuid=10001 --regid=10001 --init-groups "$@"
fi
exec "$@"
EOF
RUN chmod 0755 /usr/local/bin/idealdiff-entrypoint

VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)" || exit 1
ENTRYPOINT ["/usr/local/bin/idealdiff-entrypoint"]
CMD ["idealdiff", "serve", "--host", "0.0.0.0", "--port", "8080"]
