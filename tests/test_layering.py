"""The layers, read from the code's own imports: `shared` at the bottom, the services on it, the
trainer on both, and the `stylegrpo` command on top. A service image holds no trainer code."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("shared", "services", "trainer", "stylegrpo")
# What each layer may import of the project's packages (third-party packages are free).
ALLOWED = {
    "shared": {"shared"},
    "services": {"shared", "services"},
    "trainer": {"shared", "services", "trainer"},
    "stylegrpo": set(PACKAGES),
}


def imported_modules(path: Path) -> list[str]:
    """Every module `path` imports, at module level or inside functions."""
    modules = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.append(node.module)
    return modules


def modules_of(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_a_layer_imports_only_the_layers_below_it(package: str) -> None:
    wrong = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in modules_of(package)
        for module in imported_modules(path)
        if module.split(".")[0] in PACKAGES and module.split(".")[0] not in ALLOWED[package]
    ]
    assert not wrong, "\n".join(wrong)


def test_a_trainer_module_that_uses_service_code_says_which_in_its_docstring() -> None:
    """The trainer uses a service's internals only to measure exactly as the service does; the
    module's docstring names each such module, so a reader sees the coupling."""
    unsaid = []
    for path in modules_of("trainer"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstring = ast.get_docstring(tree) or ""
        unsaid += [
            f"{path.relative_to(ROOT)}: {module}"
            for module in imported_modules(path)
            if module.startswith("services.") and module not in docstring
        ]
    assert not unsaid, "modules not named in their importer's docstring:\n" + "\n".join(unsaid)


def test_every_service_module_imports_without_the_trainer() -> None:
    """What a service image holds (`shared`, `services`) runs with `trainer` absent."""
    names = [
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for package in ("shared", "services")
        for path in modules_of(package)
        if path.name != "__main__.py"
    ]
    script = (
        "import importlib, sys\n"
        "sys.modules['trainer'] = None  # any import of it fails\n"
        "sys.modules['stylegrpo'] = None\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(names) > 40  # the walk found the packages
