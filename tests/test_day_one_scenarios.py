"""A downstream project's own scenarios: paths from the rootdir, names from registered folders.

Each test writes a small project (``scenarios/`` beside its ini file, tests in ``tests/``)
and runs pytest from ``tests/`` in a pytester inner session, or registers a folder from
Python, as a user would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pictograph_testing import FakePictograph, scenarios
from pictograph_testing.server import FakeServer

pytest_plugins = ["pytester"]

INI = """
[pytest]
asyncio_default_fixture_loop_scope = function
pictograph_scenario_dirs = scenarios
"""
UNUSED_PLUGINS = "-p no:hypothesispytest -p no:faker -p no:xdist -p no:anyio -p no:cacheprovider"
BIRDS = {
    "schema_version": 1,
    "seed": 5,
    "datasets": [{"name": "birds", "synthetic_images": {"count": 6, "complete": 6}}],
}
MY_WORLD = {"schema_version": 1, "seed": 7, "profile": "current", "datasets": [{"name": "owls"}]}


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A project with its scenarios folder registered in the ini, run from ``tests/``."""
    pytester.makeini(INI)
    monkeypatch.setenv("PYTEST_ADDOPTS", UNUSED_PLUGINS)
    folder = pytester.mkdir("scenarios")
    (folder / "birds.json").write_text(json.dumps(BIRDS))
    (folder / "my-world.json").write_text(json.dumps(MY_WORLD))
    pytester.mkdir("tests")
    monkeypatch.chdir(pytester.path / "tests")
    return pytester


def _write_test(project: pytest.Pytester, source: str) -> None:
    (project.path / "tests" / "test_project.py").write_text(source)


@pytest.fixture
def registered(tmp_path: Path) -> Iterator[Path]:
    """A folder of the user's scenarios, registered for the test (and forgotten after)."""
    folder = tmp_path / "worlds"
    folder.mkdir()
    (folder / "my-world.json").write_text(json.dumps(MY_WORLD))
    scenarios.register_dir(folder)
    yield folder
    scenarios.unregister_dir(folder)


# ── the plugin: run from a subfolder ──


def test_marker_paths_read_from_the_rootdir_and_ini_folder_names_work_everywhere(
    project: pytest.Pytester,
) -> None:
    _write_test(
        project,
        """
import httpx
import pytest
from pictograph_testing import FakePictograph
from pictograph_testing.server import FakeServer

@pytest.mark.pictograph(scenario="scenarios/birds.json")
def test_marker_path(pictograph_client):
    assert [d.name for d in pictograph_client.datasets.list()] == ["birds"]

@pytest.mark.pictograph(scenario="my-world")
def test_marker_name(pictograph_fake, pictograph_client):
    assert (pictograph_fake.seed, pictograph_fake.profile) == (7, "current")
    assert pictograph_client.datasets.get("owls").name == "owls"

def test_python_name():
    with FakePictograph(scenario="my-world") as fake:
        assert fake.client().datasets.get("owls").name == "owls"

def test_server_name():
    with FakeServer(scenario="my-world") as server:
        with server.client(max_retries=0) as client:
            assert client.datasets.get("owls").name == "owls"
        with server.control() as control:
            assert control.post("/snapshot", json={"scenario": "birds"}).status_code == 200
        with server.client(max_retries=0) as client:
            assert [d.name for d in client.datasets.list()] == ["birds"]
""",
    )

    project.runpytest_inprocess().assert_outcomes(passed=4)

    # The session's folders were registered for the session only.
    assert project.path / "scenarios" not in scenarios.scenario_folders()


def test_a_missing_marker_path_says_it_was_read_from_the_rootdir(
    project: pytest.Pytester,
) -> None:
    _write_test(
        project,
        """
import pytest

@pytest.mark.pictograph(scenario="birds.json")
def test_beside_the_test(pictograph_fake):
    pass
""",
    )
    (project.path / "tests" / "birds.json").write_text(json.dumps(BIRDS))

    result = project.runpytest_inprocess()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            f"*no scenario file at {project.path / 'birds.json'}: a relative scenario path in "
            f"the pictograph marker or ini option is read from the rootdir ({project.path})*"
        ]
    )


def test_an_unknown_name_lists_the_folders_searched_and_how_to_register_one(
    project: pytest.Pytester,
) -> None:
    _write_test(
        project,
        """
import pytest

@pytest.mark.pictograph(scenario="my-wrold")
def test_typo(pictograph_fake):
    pass
""",
    )

    result = project.runpytest_inprocess()

    result.assert_outcomes(errors=1)
    assert "scenarios.py:" not in result.stdout.str()  # the reason, not a traceback
    result.stdout.fnmatch_lines(
        [
            "*unknown scenario 'my-wrold'; known scenarios: birds, my-world, *ready-to-train."
            f" Looked for my-wrold.json in: {project.path / 'scenarios'}, *"
            "Register a folder of your own with the ini option pictograph_scenario_dirs, "
            "pictograph_testing.scenarios.register_dir(path) or scenario_dirs=*"
        ]
    )


def test_the_marker_takes_scenario_folders_read_from_the_rootdir(
    project: pytest.Pytester,
) -> None:
    other = project.mkdir("more-scenarios")
    (other / "finches.json").write_text(
        json.dumps({"schema_version": 1, "seed": 11, "datasets": [{"name": "finches"}]})
    )
    _write_test(
        project,
        f"""
import pytest

@pytest.mark.pictograph(scenario="finches", scenario_dirs=["more-scenarios"])
def test_relative(pictograph_client, pictograph_fake):
    assert pictograph_fake.seed == 11
    assert pictograph_client.datasets.get("finches").name == "finches"

@pytest.mark.pictograph(scenario="finches", scenario_dirs=[{str(other)!r}])
def test_absolute(pictograph_fake):
    assert pictograph_fake.seed == 11

@pytest.mark.pictograph(scenario="finches", scenario_dirs=["no-such-folder"])
def test_missing(pictograph_fake):
    pass

@pytest.mark.pictograph(scenario_dirs="more-scenarios")
def test_not_a_list(pictograph_fake):
    pass
""",
    )

    result = project.runpytest_inprocess("-p", "no:randomly")  # run from tests/

    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*pictograph_fake could not be set up: no scenario folder at "
            f"{project.path / 'no-such-folder'} (nothing there)*",
            "*@pytest.mark.pictograph(scenario_dirs=...) must be list or tuple, "
            "got 'more-scenarios'*",
        ]
    )
    # The marker's folders are for its test only: nothing is registered for the session.
    assert other not in scenarios.scenario_folders()


def test_an_ini_folder_that_does_not_exist_stops_the_run(project: pytest.Pytester) -> None:
    project.makeini(INI.replace("= scenarios", "= scenarios\n    no-such-folder"))
    _write_test(project, "def test_x():\n    pass\n")

    result = project.runpytest_inprocess()

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"*pictograph_scenario_dirs names {project.path / 'no-such-folder'}, which is not a*"]
    )
    assert project.path / "scenarios" not in scenarios.scenario_folders()


# ── Python and the server, with a folder registered ──


def test_a_registered_folder_names_scenarios_for_the_fake_and_the_server(
    registered: Path,
) -> None:
    assert "my-world" in scenarios.available_scenarios()
    with FakePictograph(scenario="my-world") as fake:
        assert fake.profile == "current"
        assert fake.client().datasets.get("owls").name == "owls"

    with FakeServer() as server:
        with server.control() as control:
            assert control.post("/snapshot", json={"scenario": "my-world"}).status_code == 200
        with server.client(max_retries=0) as client:
            assert client.datasets.get("owls").name == "owls"
        assert server.fake.seed == 7


def test_unregistering_forgets_the_folder(registered: Path) -> None:
    scenarios.unregister_dir(registered)

    with pytest.raises(scenarios.UnknownScenario) as unknown:
        FakePictograph(scenario="my-world")

    assert registered not in unknown.value.searched
    assert "my-world" not in unknown.value.known


def test_registering_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=f"no scenario folder at {tmp_path / 'nope'}"):
        scenarios.register_dir(tmp_path / "nope")


@pytest.mark.parametrize("scenario", ["nope", None])
def test_a_scenario_dir_that_is_not_a_folder_is_an_error(
    tmp_path: Path, scenario: str | None
) -> None:
    a_file = tmp_path / "worlds.json"
    a_file.write_text("{}")
    missing = tmp_path / "no-such-folder"

    with pytest.raises(ValueError, match=f"no scenario folder at {missing} \\(nothing there\\)"):
        FakePictograph(scenario=scenario, scenario_dirs=[missing])
    with pytest.raises(ValueError, match=f"no scenario folder at {a_file} \\(a file, not a"):
        FakePictograph(scenario=scenario, scenario_dirs=[a_file])
    with pytest.raises(ValueError, match="no scenario folder at"):
        scenarios.available_scenarios([missing])
    with pytest.raises(TypeError, match="scenario_dirs must be a list of folders"):
        FakePictograph(scenario=scenario, scenario_dirs=str(tmp_path))


def test_the_server_tells_a_caller_the_names_but_not_its_folders(registered: Path) -> None:
    with FakeServer() as server, server.control() as control:
        answer = control.post("/snapshot", json={"scenario": "no-such-world"})

    assert answer.status_code == 422
    assert "my-world" in answer.json()["error"]
    assert str(registered) not in answer.text


def test_a_missing_relative_path_in_python_says_where_it_was_read_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    with pytest.raises(ValueError, match="read from the current directory") as missing:
        FakePictograph(scenario="scenarios/birds.json")

    assert str(tmp_path / "scenarios" / "birds.json") in str(missing.value)
