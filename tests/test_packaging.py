"""The distribution as an index shows it: one version, classifiers, project URLs, the licence.

The wheel is built from this checkout by the build backend itself (hatchling, in the dev
extra), so what is checked is what ``pip install`` would put on a machine, not the
metadata of whichever checkout the environment was installed from.
"""

from __future__ import annotations

import email.parser
import importlib.metadata
import os
import re
import subprocess
import sys
import zipfile
from email.message import Message
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import pictograph_testing

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[1]
REPOSITORY = "https://github.com/pictograph-testing/pictograph-testing"


def _pyproject() -> dict[str, Any]:
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from 3.11")
    table: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return table


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    pytest.importorskip("hatchling", reason="the build backend, in the dev extra")
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "--target", "wheel", "--directory", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (path,) = out.glob("*.whl")
    with zipfile.ZipFile(path) as built_wheel:
        yield built_wheel


def _metadata(wheel: zipfile.ZipFile) -> Message:
    dist_info = f"pictograph_testing-{pictograph_testing.__version__}.dist-info"
    return email.parser.Parser().parsestr(wheel.read(f"{dist_info}/METADATA").decode())


def test_the_version_is_written_once_and_agrees_everywhere() -> None:
    project = _pyproject()["project"]
    changelog = (ROOT / "CHANGELOG.md").read_text()
    newest = re.search(r"^## (\S+)", changelog, re.MULTILINE)

    assert "version" not in project
    assert "version" in project["dynamic"]
    assert _pyproject()["tool"]["hatch"]["version"]["path"] == "pictograph_testing/__init__.py"
    assert importlib.metadata.version("pictograph-testing") == pictograph_testing.__version__
    assert newest is not None
    assert newest.group(1) == pictograph_testing.__version__


def test_the_wheel_says_what_it_is_for(wheel: zipfile.ZipFile) -> None:
    metadata = _metadata(wheel)
    classifiers = metadata.get_all("Classifier") or []
    pythons = {c.rsplit(" :: ", 1)[1] for c in classifiers if re.search(r"Python :: 3\.\d+$", c)}
    minimum = _pyproject()["project"]["requires-python"].removeprefix(">=")

    assert metadata["Name"] == "pictograph-testing"
    assert metadata["Version"] == pictograph_testing.__version__
    assert {
        "Framework :: Pytest",
        "License :: OSI Approved :: MIT License",
        "Topic :: Software Development :: Testing",
        "Typing :: Typed",
    } <= set(classifiers)
    # Every listed Python from requires-python up, the one running these tests among them.
    assert min(pythons, key=lambda v: tuple(map(int, v.split(".")))) == minimum
    assert f"{sys.version_info.major}.{sys.version_info.minor}" in pythons
    assert metadata["Requires-Python"] == f">={minimum}"


def test_the_wheel_links_the_project_and_carries_its_licence(wheel: zipfile.ZipFile) -> None:
    metadata = _metadata(wheel)
    urls = dict(entry.split(", ", 1) for entry in metadata.get_all("Project-URL") or [])
    dist_info = f"pictograph_testing-{pictograph_testing.__version__}.dist-info"
    licence = wheel.read(f"{dist_info}/licenses/LICENSE").decode()
    mkdocs = (ROOT / "mkdocs.yml").read_text()
    names = set(wheel.namelist())

    assert set(urls) == {"Homepage", "Documentation", "Changelog", "Issues", "Source"}
    assert urls["Homepage"] == urls["Source"] == REPOSITORY
    assert urls["Issues"] == f"{REPOSITORY}/issues"
    assert urls["Changelog"] == f"{REPOSITORY}/blob/main/CHANGELOG.md"
    # The docs site says the same places.
    assert f"site_url: {urls['Documentation']}\n" in mkdocs
    assert f"repo_url: {REPOSITORY}\n" in mkdocs
    assert metadata["License"] == "MIT"
    assert licence.startswith("MIT License\n")
    assert "The pictograph-testing authors" in licence
    assert licence == (ROOT / "LICENSE").read_text()
    # Typing :: Typed holds, and the plugin and the command are declared.
    assert "pictograph_testing/py.typed" in names
    entry_points = wheel.read(f"{dist_info}/entry_points.txt").decode()
    assert "pictograph_testing = pictograph_testing.pytest_plugin" in entry_points
    assert "pictograph-fake = pictograph_testing.cli:main" in entry_points
    # Nothing optional stands between a plain install and real ONNX graphs.
    assert "onnx" not in (metadata.get_all("Provides-Extra") or [])


def test_the_bundled_scenarios_load_when_the_package_is_imported_from_its_wheel(
    wheel: zipfile.ZipFile, tmp_path: Path
) -> None:
    """Imported from a zip (the wheel itself on the path, as a zipapp or a bundled
    deployment has it), the package reads its own scenarios as resources: they were
    folders it could not see, so none was known."""
    bundle = str(wheel.filename)
    script = (
        "import pictograph_testing, pictograph_testing.scenarios as s\n"
        f"assert pictograph_testing.__file__.startswith({bundle!r})\n"
        "print(s.available_scenarios())\n"
        "with pictograph_testing.FakePictograph(scenario='ready-to-train') as fake:\n"
        "    print([d.name for d in fake.client().datasets.list()])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": bundle},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "['nearly-out-of-credit', 'one-image-short', 'ready-to-train']",
        "['road-signs']",
    ]
