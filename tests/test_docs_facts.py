"""Facts the README and the docs state about the package, held to the code they name:
option lists, settings, extras and printed values that a change would otherwise leave
stale."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from pictograph_testing import FakePictograph
from pictograph_testing.pytest_plugin import LIVE_SETTINGS, SETTINGS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10 reads no pyproject here
    tomllib = None

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _page(name: str) -> str:
    return (ROOT / "docs" / name).read_text(encoding="utf-8")


def test_the_readme_names_every_ini_option(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    shown = pytester.runpytest_inprocess("--help").stdout.str()
    registered = set(re.findall(r"^\s+(pictograph_\w+) \(", shown, re.MULTILINE))
    assert registered  # the plugin is loaded in the help's run
    paragraph = README[README.index("suite-wide defaults go in ini options") :]
    paragraph = paragraph[: paragraph.index("\n\n")]
    assert set(re.findall(r"`(pictograph_\w+)`", paragraph)) == registered


def test_the_readme_names_the_extras_pyproject_declares() -> None:
    if tomllib is None:
        pytest.skip("tomllib is in the standard library from Python 3.11")
    # mypy checks as Python 3.10, where tomllib is None: the skip above ends there.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]  # type: ignore[unreachable]
    declared = set(project["optional-dependencies"]) - {"dev"}
    line = next(line for line in README.splitlines() if "# extras:" in line)
    assert set(re.findall(r"\[(\w+)\]", line.partition("# extras:")[2])) == declared


def test_contract_mode_names_the_settings_that_skip_a_test() -> None:
    sentence = _page("contract.md")
    sentence = sentence[sentence.index("marker sets up what") :]
    sentence = sentence[: sentence.index(". ")]
    assert set(re.findall(r"`(\w+)`", sentence)) == set(SETTINGS) - LIVE_SETTINGS


def test_the_servers_printed_key_is_seed_zeros() -> None:
    # The banner in docs/server.md is `pictograph-fake serve` with its defaults: seed 0.
    printed = re.findall(r"export PICTOGRAPH_API_KEY=(\S+)", _page("server.md"))
    assert printed == [FakePictograph(seed=0).api_key]


def test_the_server_page_lists_every_serve_option(pytester: pytest.Pytester) -> None:
    shown = pytester.run(sys.executable, "-m", "pictograph_testing.cli", "serve", "--help")
    options = set(re.findall(r"^\s+(--[a-z-]+)", shown.stdout.str(), re.MULTILINE)) - {"--help"}
    assert options
    table = set(re.findall(r"^\| `(--[a-z-]+)", _page("server.md"), re.MULTILINE))
    assert table == options


def test_the_organizations_page_states_each_plan_s_dataset_cap() -> None:
    from pictograph_testing.catalog import PLANS

    stated = re.search(r"the dataset cap \(([^)]*?) datasets", _page("organizations.md"))
    assert stated is not None
    caps = [int(n.replace(",", "")) for n in re.findall(r"[\d,]*\d", stated.group(1))]
    assert caps == [plan.max_datasets for plan in PLANS.values()]


def test_messages_link_to_the_published_docs_pages_that_exist() -> None:
    """Errors and help texts name docs pages by address (a wheel ships no `docs/`): the
    site's address is mkdocs.yml's, and every page linked is a page of the site."""
    import ast

    from pictograph_testing.docs_links import DOCS_URL

    root = Path(__file__).resolve().parent.parent
    site = re.search(r"^site_url:\s*(\S+)", (root / "mkdocs.yml").read_text(), re.MULTILINE)
    assert site is not None
    assert site.group(1) == DOCS_URL
    linked: set[str] = set()
    for path in (root / "pictograph_testing").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "page"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                name = node.args[0].value
                assert isinstance(name, str), (path, name)
                linked.add(name)
    assert linked >= {"faults", "fidelity", "routes", "strategies"}
    assert all((root / "docs" / f"{name}.md").is_file() for name in linked), linked
