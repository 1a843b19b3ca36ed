"""Every module says what it exports, and other modules import only that."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

import pictograph_testing

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = pictograph_testing.__name__
# Every file whose imports of the package are checked: the package itself, the tests
# (the suite's own helpers too) and the benchmarks.
IMPORTERS = sorted(
    path
    for folder in ("pictograph_testing", "tests", "benchmarks")
    for path in (ROOT / folder).rglob("*.py")
)


def _module_names() -> list[str]:
    prefix = f"{PACKAGE}."
    found = pkgutil.walk_packages(pictograph_testing.__path__, prefix)
    return [PACKAGE, *sorted(info.name for info in found)]


MODULES = _module_names()


@cache
def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


def _exported(name: str) -> tuple[str, ...]:
    return tuple(getattr(_module(name), "__all__", ()))


def _is_submodule(package: str, name: str) -> bool:
    return f"{package}.{name}" in MODULES


def _imports(path: Path) -> list[tuple[int, str, str]]:
    """Every ``from pictograph_testing… import name`` in a file, type-checking ones too."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or node.level or node.module is None:
            continue
        if node.module == PACKAGE or node.module.startswith(f"{PACKAGE}."):
            found.extend((node.lineno, node.module, alias.name) for alias in node.names)
    return found


def test_the_walk_finds_the_package_and_its_importers() -> None:
    # A walk that found nothing would pass every test below.
    assert f"{PACKAGE}.world.state" in MODULES
    assert f"{PACKAGE}.api.app" in MODULES
    assert ROOT / "tests" / "conftest.py" in IMPORTERS
    assert sum(len(_imports(path)) for path in IMPORTERS) > 100


@pytest.mark.parametrize("name", MODULES)
def test_every_module_declares_its_exports(name: str) -> None:
    module = _module(name)
    assert isinstance(getattr(module, "__all__", None), (list, tuple)), f"{name} defines no __all__"
    exported = _exported(name)
    assert len(exported) == len(set(exported)), f"{name}.__all__ lists a name twice"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ lists names it does not define: {missing}"


@pytest.mark.parametrize("path", IMPORTERS, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_from_the_package_name_only_what_a_module_exports(path: Path) -> None:
    strays = [
        f"line {line}: from {module} import {name}"
        for line, module, name in _imports(path)
        if name != "*" and name not in _exported(module) and not _is_submodule(module, name)
    ]
    assert not strays, (
        f"{path.relative_to(ROOT)} imports names its source module does not export "
        f"(add them to that module's __all__, or import from the module that owns them): "
        f"{strays}"
    )
