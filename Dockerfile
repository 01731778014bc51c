# The idealdiff GitHub App: `idealdiff serve` (webhook server + worker) as a non-root user.
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
RUN mkdir -p app analyzers && touch app/__init__.py analyzers/__init__.py \
    && pip install . && pip uninstall -y idealdiff && rm -rf app analyzers build
COPY app ./app
COPY analyzers ./analyzers
COPY prompts ./prompts
# Editable: the templates in prompts/ are read next to the package, not from site-packages.
RUN pip install --no-deps -e . && python -c "import app.server, app.worker"

USER idealdiff
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s \
    CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)" || exit 1
CMD ["idealdiff", "serve", "--host", "0.0.0.0", "--port", "8080"]
