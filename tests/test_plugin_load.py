"""Loading the package and its pytest plugin imports nothing heavy until a test uses the fake.

Every pytest run of a project that installs the package loads the plugin, whether or not
a test uses the fake. What is imported, not how long it takes, is what these pin: each
check runs in a fresh interpreter and reads ``sys.modules``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import pictograph_testing

ROOT = Path(__file__).resolve().parent.parent
# What the fake is built on, and what a run that never touches it should not pay for.
HEAVY = ("httpx", "pictograph", "respx", "faker", "pydantic", "pydantic_settings", "asyncio")
"""Top-level packages the plugin's entry module must not import."""
SECONDS = 120
"""How long any one interpreter may take before the test fails instead of hanging."""


def _imported_after(code: str, cwd: Path | None = None) -> list[str]:
    """The ``HEAVY`` packages in ``sys.modules`` once ``code`` has run in a fresh interpreter."""
    probe = textwrap.dedent(code) + textwrap.dedent(
        f"""
        import json, sys
        print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))))
        """
    )
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        # Other installed plugins (respx's and faker's among them) import what they like.
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=SECONDS,
        cwd=cwd or ROOT,
        env=environment,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_importing_the_package_imports_nothing_heavy() -> None:
    assert _imported_after("import pictograph_testing; pictograph_testing.__version__") == []


def test_importing_the_plugin_entry_module_imports_nothing_heavy() -> None:
    assert _imported_after("import pictograph_testing.pytest_plugin") == []


@pytest.mark.parametrize(
    "ini",
    [
        "pictograph_seed = 3",
        # Registering the suite's scenario folders is bookkeeping: it reads no scenario.
        "pictograph_scenario_dirs =\n    scenarios",
    ],
    ids=["seed", "scenario_dirs"],
)
def test_a_pytest_run_that_uses_no_fixture_imports_nothing_heavy(tmp_path: Path, ini: str) -> None:
    # The whole plugin life of a run: options, ini, markers, configure, collection,
    # a test, the report; only the fixtures' first use may import the fake.
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "pytest.ini").write_text(f"[pytest]\n{ini}\n")
    (tmp_path / "test_plain.py").write_text(
        "import pytest\n\n\n@pytest.mark.pictograph_fake_only\ndef test_plain():\n    pass\n"
    )
    imported = _imported_after(
        """
        import sys
        import pytest
        code = pytest.main(["-q", "-p", "pictograph_testing.pytest_plugin",
                            "-p", "no:cacheprovider", "--strict-markers"])
        assert code == 0, code
        """,
        cwd=tmp_path,
    )
    assert imported == []


def test_a_fixture_imports_the_fake_when_first_used(tmp_path: Path) -> None:
    # The other side of the above: the same run, with a test that uses the fake.
    (tmp_path / "test_fake.py").write_text(
        "def test_fake(pictograph_client):\n    assert pictograph_client.credits\n"
    )
    imported = _imported_after(
        """
        import pytest
        code = pytest.main(["-q", "-p", "pictograph_testing.pytest_plugin",
                            "-p", "no:cacheprovider"])
        assert code == 0, code
        """,
        cwd=tmp_path,
    )
    assert {"httpx", "pictograph", "respx"} <= set(imported)


@pytest.mark.parametrize("name", pictograph_testing.__all__)
def test_every_public_name_is_there_on_first_use(name: str) -> None:
    # Imported lazily, each name is still the object its home module defines.
    value = getattr(pictograph_testing, name)
    home = pictograph_testing._HOMES[name]
    assert value is getattr(sys.modules[home], name)
    assert name in dir(pictograph_testing)


def test_the_lazy_table_names_exactly_the_public_names() -> None:
    assert sorted(pictograph_testing._HOMES) == sorted(pictograph_testing.__all__)
    with pytest.raises(AttributeError, match="no attribute 'FakeWorld'"):
        _ = pictograph_testing.FakeWorld  # type: ignore[attr-defined]
