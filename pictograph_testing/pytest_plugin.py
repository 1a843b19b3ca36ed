"""The pytest plugin: a fresh, active fake per test, and the same tests against the real API.

Installed with the package (a ``pytest11`` entry point named ``pictograph_testing``;
``-p no:pictograph_testing`` turns it off). Fixtures:

``pictograph_fake``
    A new, active :class:`~pictograph_testing.FakePictograph` for the test. While it is
    active, httpx traffic to its host goes to it and ``PICTOGRAPH_API_KEY`` holds its
    key, so code that builds its own ``pictograph.Client()`` reaches it unchanged.
``pictograph_client`` / ``pictograph_async_client``
    A ``pictograph.Client`` / ``AsyncClient`` for the test's fake, or, with
    ``--pictograph-live``, for the real API. The async one is built and closed by a
    plain fixture, so it works under any async test plugin (or ``asyncio.run``).
``pictograph_clock``
    The fake's :class:`~pictograph_testing.VirtualClock`.
``pictograph_live``
    ``True`` when the run is against the real API.

Settings, nearest first: the ``@pytest.mark.pictograph(...)`` marker, which takes every
``FakePictograph`` keyword (:data:`SETTINGS`, type-checked; ``faults`` is a list of
``FaultSpec`` or dicts, armed before the test; a marker on a test overrides one on its
class or module; on a test that used no pictograph fixture, as a parameter or through
``request.getfixturevalue``, it is an error at teardown), then the ini options
``pictograph_profile``, ``pictograph_balance_usd``, ``pictograph_seed``,
``pictograph_scenario``, ``pictograph_base_url``, ``pictograph_sdk_version``,
``pictograph_strict``, ``pictograph_allow_hosts`` and ``pictograph_clock_modules``, then
the fake's own defaults. The ini options are declared with their types (bool, int,
float), so pytest 9's native ``[tool.pytest]`` table takes TOML values
(``pictograph_strict = true``); ini files and ``[tool.pytest.ini_options]`` take strings.

Teardown: when the test passed, ``pictograph_fake`` calls ``FakePictograph.verify``,
which fails the test for a fault armed and never fired, a call to a route the fake does
not serve, or (``strict``) a request to a host neither the fake nor allowed; see
:mod:`pictograph_testing.strictness`.

Scenarios: ``pictograph_scenario_dirs`` (one folder a line, relative to the ini file)
are registered for the session (:func:`pictograph_testing.scenarios.register_dir`), so
their names work in the marker, the ini option, ``FakePictograph(scenario=...)`` and
``FakeServer`` alike; the marker's ``scenario_dirs=[...]`` adds folders for one test. A
relative scenario path or ``scenario_dirs`` folder in the marker, or scenario path in the
ini option, is read from the rootdir, wherever pytest is run from.

Contract mode: ``--pictograph-live`` (with the key in the environment variable named by
``--pictograph-live-key-env``, ``PICTOGRAPH_API_KEY`` by default) makes the client
fixtures talk to the real API. Tests that need what only the fake has are skipped with
the reason: those using ``pictograph_fake`` or ``pictograph_clock``, those marked
``@pytest.mark.pictograph_fake_only``, and those whose ``pictograph`` marker sets up what
the real API cannot be made to have (any setting outside :data:`LIVE_SETTINGS`). Without
a key, every test that uses a client fixture is skipped, not failed.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NoReturn

import pytest

from pictograph_testing.docs_links import page

# Loaded in every pytest run of a project that installs the package, used or not: this
# module imports nothing heavy (httpx, the SDK, respx, faker, the fake) until a test
# asks for a pictograph fixture; tests/test_plugin_load.py holds it to that.
if TYPE_CHECKING:
    from collections.abc import Generator, Iterator, Sequence
    from types import ModuleType

    import pictograph

    from pictograph_testing.clock import VirtualClock
    from pictograph_testing.fake import FakePictograph
    from pictograph_testing.strictness import TeardownCheckFailed

__all__ = [
    "CALLS_SECTION",
    "GIVEN_RECIPE",
    "LIVE_SETTINGS",
    "SETTINGS",
    "TAKES_NONE",
    "fake_of",
    "pictograph_async_client",
    "pictograph_client",
    "pictograph_clock",
    "pictograph_fake",
    "pictograph_live",
]

MARKER = "pictograph"
FAKE_ONLY_MARKER = "pictograph_fake_only"
FAKE_ONLY_FIXTURES = frozenset({"pictograph_fake", "pictograph_clock"})
CLIENT_FIXTURES = frozenset({"pictograph_client", "pictograph_async_client"})
SETTINGS: dict[str, tuple[type, ...]] = {
    "profile": (str,),
    "balance_usd": (int, float),
    "seed": (int,),
    "scenario": (str, os.PathLike, dict),
    "scenario_dirs": (list, tuple),
    "base_url": (str,),
    "gpu_workers": (dict,),
    "faults": (list, tuple),
    "rate_limit": (int,),
    "sdk_version": (str,),
    "api_key": (str,),
    "speed": (int, float),
    "start": (datetime,),
    "journal_limit": (int,),
    "strict": (bool,),
    "allow_hosts": (list, tuple),
    "assert_all_fired": (bool,),
    "assert_all_served": (bool,),
    "assert_streams_stopped": (bool,),
    "clock_modules": (list, tuple),
}
"""Every keyword of the marker, and the types its value may have."""
TAKES_NONE = frozenset(
    {
        "profile",
        "balance_usd",
        "seed",
        "scenario",
        "gpu_workers",
        "faults",
        "rate_limit",
        "sdk_version",
        "api_key",
        "start",
    }
)
"""The keywords whose ``None`` is ``FakePictograph``'s own default (the rest take none)."""
# Settings a live run can honour (they describe the API, or what teardown checks, rather
# than seed a world). `faults` and `rate_limit` are the fake's powers: a test that sets
# them is skipped live.
LIVE_SETTINGS = frozenset(
    {
        "profile",
        "base_url",
        "sdk_version",
        "strict",
        "allow_hosts",
        "assert_all_fired",
        "assert_all_served",
        "assert_streams_stopped",
        "journal_limit",
        "clock_modules",
        # Where a named scenario is looked up seeds nothing; `scenario` itself does.
        "scenario_dirs",
    }
)
_INI_SETTINGS: dict[str, type[str | float | int | bool]] = {
    "profile": str,
    "balance_usd": float,
    "seed": int,
    "scenario": str,
    "base_url": str,
    "sdk_version": str,
    "strict": bool,
}
"""The scalar ini options (``pictograph_<name>``) and the type of each one's value."""
_INI_LISTS = ("allow_hosts", "clock_modules")
_IniType = Literal["string", "bool", "int", "float"]
# Declared typed, so pytest 9's native `[tool.pytest]` table takes `pictograph_strict =
# true` and `pictograph_seed = 3` as TOML values; ini files and `[tool.pytest.ini_options]`
# give strings, which pytest converts by the same type. The "int" and "float" types came
# in pytest 8.4: before it, those options are strings that `_ini_defaults` parses.
_NUMBERS_TYPED = tuple(int(part) for part in pytest.version_tuple[:2]) >= (8, 4)
_DEFAULT_KEY_ENV = "PICTOGRAPH_API_KEY"


def _ini_type(kind: type[str | float | int | bool]) -> _IniType:
    """The ``addini`` type of an option whose values are ``kind``."""
    if kind is bool:
        return "bool"
    if kind is int and _NUMBERS_TYPED:
        return "int"
    if kind is float and _NUMBERS_TYPED:
        return "float"
    return "string"


@dataclass(frozen=True)
class LiveTarget:
    """Where a ``--pictograph-live`` run goes; ``api_key`` is ``None`` when none is set."""

    key_env: str
    api_key: str | None
    base_url: str | None


MARKER_HELP = (
    f"{MARKER}(*, profile: str, balance_usd: float, seed: int, scenario: str | path | "
    "dict, scenario_dirs: list[str | path], base_url: str, api_key: str, speed: float, "
    "start: datetime, sdk_version: str, "
    "gpu_workers: dict[str, int], rate_limit: int, journal_limit: int, faults: "
    "list[FaultSpec | dict], strict: bool, allow_hosts: list[str], assert_all_fired: "
    "bool, assert_all_served: bool, assert_streams_stopped: bool, clock_modules: "
    "list[str]): the FakePictograph(...) "
    "arguments of the test's pictograph_fake (nearest marker wins; ini pictograph_* "
    "options are the defaults). "
    "faults=[FaultSpec.fail_next('POST', 'training/', status=503)] arms faults before the "
    "test; at teardown a passing test fails if a fault it armed never fired (optional=True "
    "on the fault, or assert_all_fired=False), if it called a route the fake does not serve "
    "(assert_all_served=False), with strict=True if it sent a request to a host "
    "neither the fake nor in allow_hosts, or with assert_streams_stopped=True if it left "
    "a stream running. Relative scenario and scenario_dirs paths are "
    "read from the rootdir. The test must use a pictograph fixture (as a parameter or "
    f"through request.getfixturevalue). See {page('faults')}"
)


_defaults_key = pytest.StashKey[dict[str, Any]]()
_folders_key = pytest.StashKey["list[Path]"]()
_live_key = pytest.StashKey["LiveTarget | None"]()
_live_environment_key = pytest.StashKey[Callable[[], None]]()
"""What puts back the ``PICTOGRAPH_*`` variables a live run pointed at its API."""
_show_calls_key = pytest.StashKey[bool]()


# ── hooks ──


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pictograph", "pictograph-testing (fake Pictograph API)")
    group.addoption(
        "--pictograph-live",
        action="store_true",
        default=False,
        help="run the pictograph client fixtures against the real API (contract mode)",
    )
    group.addoption(
        "--pictograph-live-key-env",
        default=_DEFAULT_KEY_ENV,
        metavar="NAME",
        help="environment variable holding the API key for --pictograph-live "
        f"(default {_DEFAULT_KEY_ENV})",
    )
    group.addoption(
        "--pictograph-live-base-url",
        default=None,
        metavar="URL",
        help="API root for --pictograph-live (default: the SDK's, or PICTOGRAPH_BASE_URL)",
    )
    group.addoption(
        "--pictograph-report",
        default=None,
        metavar="DIR",
        help="write an HTML picture of the fake's world to DIR for each failing test "
        "that used pictograph_fake (named after the test id)",
    )
    for name, kind in _INI_SETTINGS.items():
        parser.addini(
            f"pictograph_{name}",
            f"default {name} of the pictograph_fake fixture ({kind.__name__})",
            type=_ini_type(kind),
            # Not the type's own default (False, 0): unset means the fake's default.
            default=None,
        )
    parser.addini(
        "pictograph_show_calls",
        "add the calls the fake answered to the report of a failing test that used "
        "pictograph_fake (default true)",
        type="bool",
        default=True,
    )
    parser.addini(
        "pictograph_allow_hosts",
        "hosts a strict pictograph_fake lets through to the network, one a line "
        "(host, host:port or a pattern like *.internal)",
        type="linelist",
        default=[],
    )
    parser.addini(
        "pictograph_clock_modules",
        "modules of the code under test whose time.sleep / time.monotonic / time.time / "
        "asyncio.sleep follow the pictograph_fake's clock, one a line (myapp.jobs)",
        type="linelist",
        default=[],
    )
    parser.addini(
        "pictograph_scenario_dirs",
        "folders of scenario files (NAME.json) that scenario= names are looked up in, "
        "registered for the session (names work in the marker, FakePictograph and "
        "FakeServer); relative to the ini file",
        type="paths",
        default=[],
    )


# First in and last out: a plugin or conftest that starts a fake in its own
# `pytest_configure` (a stand-in API for a live run, say) stops it in its
# `pytest_unconfigure` before the live environment is put back, so each restores what
# it found and the session leaves PICTOGRAPH_* as it found them.
@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    config.addinivalue_line(
        "markers",
        f"{FAKE_ONLY_MARKER}: needs the fake's powers; skipped with --pictograph-live",
    )
    config.stash[_folders_key] = _register_scenario_folders(config)
    config.stash[_defaults_key] = _ini_defaults(config)
    try:
        show_calls = config.getini("pictograph_show_calls")
    except (pytest.UsageError, ValueError) as exc:  # its message names no option
        raise pytest.UsageError(f"ini option pictograph_show_calls: {exc}") from None
    config.stash[_show_calls_key] = bool(show_calls)
    live: LiveTarget | None = None
    if config.getoption("pictograph_live", default=False):
        key_env = config.getoption("pictograph_live_key_env") or _DEFAULT_KEY_ENV
        # Read once, before any fake sets PICTOGRAPH_API_KEY for a test.
        live = LiveTarget(
            key_env=key_env,
            api_key=os.environ.get(key_env) or None,
            base_url=_live_base_url(config.getoption("pictograph_live_base_url")),
        )
    config.stash[_live_key] = live
    if live is not None:
        # Registered after this module, so its client fixtures replace the fake's ones.
        config.pluginmanager.register(LiveClients(live), "pictograph-live-clients")
        from pictograph_testing import activation

        # A `pictograph.Client()` the code under test builds goes where the fixtures'
        # clients go, with their key: not to the SDK's default API with whatever key
        # PICTOGRAPH_API_KEY holds (a production one, on a run against staging).
        config.stash[_live_environment_key] = activation.point_at_live(live.base_url, live.api_key)
    report_dir = config.getoption("pictograph_report", default=None)
    if report_dir:
        from pathlib import Path

        from pictograph_testing.picture.pytest_report import ReportOnFailure

        where = Path(config.invocation_params.dir, report_dir)
        if where.exists() and not where.is_dir():
            raise pytest.UsageError(
                f"--pictograph-report: {where} is a file; give a folder for the reports "
                "(it is made if it does not exist)"
            )
        config.pluginmanager.register(ReportOnFailure(where), "pictograph-report")


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    # A session ended with `pytest.exit` (or an interrupt) runs no teardown hook for the
    # test it stopped in: a pytester run nested in a test must not leave that test on top
    # of the one running it.
    _running[:] = [item for item in _running if item.config is not config]
    _release_coupling()
    restore = config.stash.get(_live_environment_key, None)
    if restore is not None:
        del config.stash[_live_environment_key]
        restore()
    folders = config.stash.get(_folders_key, ())
    if folders:
        from pictograph_testing import scenario_registry

        for folder in folders:
            scenario_registry.unregister_dir(folder)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    live = config.stash.get(_live_key, None)
    if live is None:
        return
    for item in items:
        reason = _live_skip_reason(item, live)
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    live = config.stash.get(_live_key, None)
    if live is None:
        return _live_options_unused(config)
    where = live.base_url
    if where is None:
        # The SDK then reads PICTOGRAPH_BASE_URL, in any case: the header names it.
        from_environment = os.environ.get("PICTOGRAPH_BASE_URL") or next(
            (v for n, v in os.environ.items() if n.upper() == "PICTOGRAPH_BASE_URL" and v), None
        )
        where = (
            f"{from_environment} (from $PICTOGRAPH_BASE_URL)"
            if from_environment
            else "the SDK's default API"
        )
    key = "a key" if live.api_key else "NO key (client tests will be skipped)"
    lines = [f"pictograph: live against {where} with {key} from ${live.key_env}"]
    defaults: dict[str, Any] = config.stash[_defaults_key]
    seeding = sorted(set(defaults) - LIVE_SETTINGS)
    if seeding:
        # The markers' seeding settings skip their tests; the ini's are every test's
        # defaults, so they are named here: a test that relies on them may fail live.
        options = ", ".join(f"pictograph_{name}" for name in seeding)
        lines.append(f"pictograph: ini {options} set up the fake only: the live API ignores them")
    return lines


def _live_options_unused(config: pytest.Config) -> list[str] | None:
    """The header line of a run given a live option but not ``--pictograph-live``.

    Not a usage error: suites keep the live options in ``addopts`` and add
    ``--pictograph-live`` when they mean it. But a run meant to be live that reads as
    passed on the fake should say so where the run starts.
    """
    given = [
        f"--pictograph-live-{name.replace('_', '-')}"
        for name, default in (("base_url", None), ("key_env", _DEFAULT_KEY_ENV))
        if config.getoption(f"pictograph_live_{name}", default=default) != default
    ]
    if not given:
        return None
    return [f"pictograph: {' and '.join(given)} given without --pictograph-live: on the fake"]


_outcome_key = pytest.StashKey[str]()
"""The test's call phase: "passed", "failed" or "skipped" (absent: it never ran)."""
_fixture_used_key = pytest.StashKey[bool]()
"""Set on a test once a pictograph fixture was set up for it, asked for in any way."""
_fake_key = pytest.StashKey["FakePictograph"]()
"""The test's ``pictograph_fake`` while it is set up, however the test asked for it."""


_checked_key = pytest.StashKey["FakePictograph"]()
"""The test's ``pictograph_fake`` when its teardown checks failed: the teardown's report
shows its calls (and ``--pictograph-report`` its world). Kept for failed tests only."""
_PER_RUN_KEYS: tuple[pytest.StashKey[Any], ...] = (_outcome_key, _fixture_used_key, _checked_key)
"""What one run of a test notes, cleared as it is set up again."""


def fake_of(item: pytest.Item) -> FakePictograph | None:
    """The ``pictograph_fake`` of ``item`` while it is set up (or, once its teardown
    checks failed, the fake they failed on), or ``None``.

    Found whether the test asked for it as a parameter, through another fixture or with
    ``request.getfixturevalue`` (which ``item.funcargs`` does not show).
    """
    return item.stash.get(_fake_key, None) or item.stash.get(_checked_key, None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[_outcome_key] = report.outcome
    if report.failed and report.when in ("call", "teardown"):
        fake = fake_of(item)
        if fake is not None and item.config.stash.get(_show_calls_key, True):
            report.sections.append((CALLS_SECTION, fake.calls.summary()))
        if report.when == "call" and _fixture_under_given(item, call):
            if item.config.stash.get(_live_key, None) is None:
                report.sections.append(("pictograph_testing: a fake per example", GIVEN_HINT))
            else:
                # A fake per example would test the fake, not the API this run is for.
                report.sections.append(("pictograph_testing: one live client", LIVE_GIVEN_HINT))
    return report


CALLS_SECTION = "pictograph calls"
"""The section a failing test's report gains when it used ``pictograph_fake`` (the ini
option ``pictograph_show_calls = false`` turns it off)."""


GIVEN_RECIPE = (
    "    @given(request=pst.create_requests('current', dataset='signs', export='v1'))\n"
    "    def test_runs(request):\n"
    "        with FakePictograph(profile='current') as fake:  # the strategy's profile\n"
    "            fake.add_dataset('signs', images=6, completed_images=6,\n"
    "                             annotation_types=('bbox', 'polygon', 'keypoint'))\n"
    "            fake.add_export('signs', 'v1')\n"
    "            fake.client().training.create(**request, wait=False)\n"
)
"""The recipe :data:`GIVEN_HINT` shows (every pipeline of the profile has labels to learn;
``tests/test_plugin*`` runs it as written)."""

GIVEN_HINT = (
    "Hypothesis runs every example of a @given test in the same function-scoped "
    "fixture, so pictograph_fake (and the client and clock fixtures) would carry one "
    "example's world into the next. Make a fake per example inside the test instead:\n\n"
    f"{GIVEN_RECIPE}\n"
    f"See the strategies page of the docs: {page('strategies')}"
)
"""What a failing ``@given`` test that asks for a pictograph fixture is told."""

LIVE_GIVEN_HINT = (
    "Hypothesis runs every example of a @given test in the same function-scoped fixture. "
    "In a --pictograph-live run the client fixtures hold no world, only a client for the "
    "live API, which its examples may share: say so with "
    "@settings(suppress_health_check=[HealthCheck.function_scoped_fixture]). (A "
    "FakePictograph per example, the recipe for runs on the fake, would leave the live "
    f"API untested.) See the strategies page of the docs: {page('strategies')}"
)
"""What a failing ``@given`` test that asks for a client fixture is told, live."""


def _fixture_under_given(item: pytest.Item, call: pytest.CallInfo[None]) -> bool:
    """Whether ``call`` failed on hypothesis's health check against a function-scoped
    fixture, in a test that asks for one of ours."""
    errors = sys.modules.get("hypothesis.errors")
    if call.excinfo is None or errors is None:
        return False  # hypothesis not imported: no @given test ran
    names = set(getattr(item, "fixturenames", ()))
    return (
        isinstance(call.excinfo.value, errors.FailedHealthCheck)
        and "function-scoped fixture" in str(call.excinfo.value)
        and bool(names & (FAKE_ONLY_FIXTURES | CLIENT_FIXTURES))
    )


# The tests being run, innermost last (pytester runs a session inside a test): the node
# `pictograph_fake` reads its markers and config from. Asking pytest for its `request`
# fixture instead makes pytest build a fixture definition for it per test, a signature
# inspected and all: about 20 µs a test, a tenth of what the fake's set-up costs.
_running: list[pytest.Item] = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    _running.append(item)  # taken off at its teardown (or at its session's end)
    # What an earlier run of this item noted (pytest-rerunfailures runs it again) is not
    # this run's: its outcome, its use of a fixture, the fake its checks failed on.
    stash = item.stash
    for key in _PER_RUN_KEYS:
        if key in stash:
            del stash[key]
    if not _uses_fake(item):
        # Before its own fixtures: a test with no fake of ours finds the SDK as it is.
        _release_coupling()
    if item.config.stash.get(_live_key, None) is not None:
        _check_live_marker(item)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[Any]) -> Iterator[Any]:
    result = yield
    # A fixture that patches httpx's transports (pytest-httpx's `httpx_mock`) over the
    # fake's interception, held from an earlier test or set up before it, would answer
    # the fake's host itself: the fake's host stays the fake's, in either order.
    activation = sys.modules.get("pictograph_testing.activation")
    if activation is not None:
        activation.coupling.keep_interception_on_top()
    return result


_PICTOGRAPH_FIXTURES = FAKE_ONLY_FIXTURES | CLIENT_FIXTURES


def _uses_fake(item: pytest.Item) -> bool:
    """Whether the test asks for a fixture of ours (each of them sets up a fake)."""
    return not _PICTOGRAPH_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    # A teardown check's failure is about the test, not this hook: pytest leaves the
    # frames that say so out of the report (here, the fixture's and `verify`'s).
    __tracebackhide__ = True
    try:
        result = yield
    finally:
        if _running and _running[-1] is item:
            _running.pop()
        activation = sys.modules.get("pictograph_testing.activation")
        if activation is not None:
            # Every finalizer has run: one that put back a fake's key after the fake
            # stopped (monkeypatch's, set up before the fake) is undone here.
            activation.undo_stale_environment()
        # The coupling held for the next test is let go now, on this test's account,
        # unless the next one uses a fake of ours too.
        if nextitem is None or not _uses_fake(nextitem):
            _release_coupling()
    _check_marker_was_used(item)
    return result


def _note_fixture_used() -> None:
    """Record that the running test set up a pictograph fixture, however it asked."""
    if _running:
        _running[-1].stash[_fixture_used_key] = True


def _check_marker_was_used(item: pytest.Item) -> None:
    """Fail a test whose own marker set up a fake that it never used.

    Checked once the test has run, not before: a test may ask for the fixture with
    ``request.getfixturevalue``, which its signature does not show. A test that failed
    is told too (its failure may be the missing fake); one that was skipped is not.
    """
    if item.stash.get(_outcome_key, "skipped") == "skipped" or item.stash.get(
        _fixture_used_key, False
    ):
        return
    if item.config.stash.get(_live_key, None) is not None:
        return  # live, the marker sets up no fake: its live settings describe the API
    if any(mark.name == MARKER for mark in getattr(item, "own_markers", ())):
        pytest.fail(
            f"@pytest.mark.{MARKER}(...) on {item.name} sets up the pictograph_fake "
            "fixture, but the test used no pictograph fixture, so it did nothing: add a "
            "pictograph_fake, pictograph_client, pictograph_async_client or "
            "pictograph_clock parameter, ask for one with request.getfixturevalue(...), "
            "or use FakePictograph(...) directly",
            pytrace=False,
        )


def _release_coupling() -> None:
    """Uncouple the SDK, which ``pictograph_fake`` holds coupled from one test to the next."""
    # Not imported: no fake was ever made, so there is nothing to release.
    activation = sys.modules.get("pictograph_testing.activation")
    if activation is not None:
        activation.release()


# ── fixtures ──


@pytest.fixture
def pictograph_live(request: pytest.FixtureRequest) -> bool:
    """Whether the client fixtures talk to the real API (``--pictograph-live``)."""
    return request.config.stash.get(_live_key, None) is not None


@pytest.fixture
def pictograph_fake() -> Iterator[FakePictograph]:
    """A fresh, active fake for this test, set up by the marker and ini options.

    At teardown a test that passed fails if a fault it armed never fired (arm it with
    ``optional=True``, or mark ``assert_all_fired=False``), if it called a route the fake
    does not serve (``assert_all_served=False``), with ``strict=True`` if it sent a request
    to a host neither the fake nor in ``allow_hosts``, or with
    ``assert_streams_stopped=True`` if it left a stream running. See docs/faults.md.
    Under hypothesis's ``@given`` make a fake per example instead
    (``with FakePictograph(...) as fake:``): this one would be shared by every example.
    """
    if not _running:
        raise RuntimeError(
            "pictograph_fake is set up for a test that pytest runs with the "
            "pictograph_testing plugin loaded (-p pictograph_testing.pytest_plugin)"
        )
    node = _running[-1]
    _note_fixture_used()
    if node.config.stash.get(_live_key, None) is not None:
        pytest.skip("uses pictograph_fake, which a --pictograph-live run does not have")
    callspec = getattr(node, "callspec", None)
    if callspec is not None and "pictograph_fake" in callspec.params:
        # `indirect=True`: a parameter this fixture would otherwise drop in silence.
        pytest.fail(
            "pictograph_fake takes no parameter (indirect parametrization): give each "
            "case its settings with the marker, as "
            "pytest.param(..., marks=pytest.mark.pictograph(balance_usd=0.01))",
            pytrace=False,
        )
    activation, fake_type, check_failed_type = _fake_parts()
    settings = fake_settings(node)
    # Each test's fake finds the SDK still coupled from the last one: coupling it is
    # most of what starting a fake costs. Released before a test that uses no fake.
    activation.hold()
    mistake: str | None = None
    try:
        fake = fake_type(**settings).start()
    except (ValueError, TypeError) as exc:
        # A setting the test (or the ini file) got wrong (FakePictograph raises
        # TypeError for a value of the wrong type): say which, without a traceback
        # through the plugin, and failed outside the handler, so the report shows the
        # message once rather than under "During handling of the above exception".
        mistake = str(exc)
    if mistake is not None:
        pytest.fail(f"pictograph_fake could not be set up: {mistake}", pytrace=False)
    node.stash[_fake_key] = fake
    try:
        yield fake
    finally:
        # Not kept past its test: items live for the whole session.
        del node.stash[_fake_key]
        fake.stop()
    # Teardown checks only a test that passed: a failure already says what went wrong.
    if node.stash.get(_outcome_key, None) == "passed":
        __tracebackhide__ = True
        failed: TeardownCheckFailed | None = None
        try:
            fake.verify()
        except BaseException as exc:
            node.stash[_checked_key] = fake
            if isinstance(node, pytest.Function) or not isinstance(exc, check_failed_type):
                raise
            failed = exc
        if failed is not None:
            # Only a test function's report leaves the frames that raised out
            # (`__tracebackhide__`); a doctest's would show pytest's and this plugin's:
            # its report gets the message alone.
            pytest.fail(f"{type(failed).__name__}: {failed}", pytrace=False)


@functools.cache
def _fake_parts() -> tuple[ModuleType, type[FakePictograph], type[TeardownCheckFailed]]:
    """What ``pictograph_fake`` uses, imported by its first test (a statement that imports
    three names runs importlib's Python code each time, for modules long imported)."""
    from pictograph_testing import activation
    from pictograph_testing.fake import FakePictograph
    from pictograph_testing.strictness import TeardownCheckFailed

    return activation, FakePictograph, TeardownCheckFailed


@pytest.fixture
def pictograph_clock(pictograph_fake: FakePictograph) -> VirtualClock:
    """The virtual clock of the test's fake.

    Inject its drop-ins into code that takes its clock as arguments: ``.sleep`` for
    ``time.sleep``, ``.monotonic``, ``.time``, ``.async_sleep`` for ``asyncio.sleep``;
    or put whole modules on it with ``@pytest.mark.pictograph(clock_modules=[...])``.
    """
    return pictograph_fake.clock


@pytest.fixture
def pictograph_client(pictograph_fake: FakePictograph) -> Iterator[pictograph.Client]:
    """A ``pictograph.Client`` for the test's fake (or the real API with --pictograph-live)."""
    with pictograph_fake.client() as sdk:
        yield sdk


@pytest.fixture
def pictograph_async_client(
    pictograph_fake: FakePictograph,
) -> Iterator[pictograph.AsyncClient]:
    """A ``pictograph.AsyncClient`` for the test's fake (or the real API when live)."""
    sdk = pictograph_fake.async_client()
    yield sdk
    _close_in_process(sdk)


class LiveClients:
    """The client fixtures of a ``--pictograph-live`` run: the real API, no fake.

    Registered only for such a run, after the plugin module, so these replace its
    ``pictograph_client`` and ``pictograph_async_client`` (which take the fake).
    """

    def __init__(self, live: LiveTarget) -> None:
        self.live = live

    @pytest.fixture
    def pictograph_client(self) -> Iterator[pictograph.Client]:
        """A ``pictograph.Client`` for the real API (``--pictograph-live``)."""
        import pictograph

        _note_fixture_used()
        live = self.live
        with pictograph.Client(api_key=_live_key_or_skip(live), base_url=live.base_url) as sdk:
            yield sdk

    @pytest.fixture
    def pictograph_async_client(self) -> Iterator[pictograph.AsyncClient]:
        """A ``pictograph.AsyncClient`` for the real API (``--pictograph-live``)."""
        import pictograph

        from pictograph_testing._sdk.loop_closing import LoopBoundClosing

        _note_fixture_used()
        live = self.live
        sdk = pictograph.AsyncClient(api_key=_live_key_or_skip(live), base_url=live.base_url)
        closing = LoopBoundClosing(sdk)
        yield sdk
        closing.close()


# ── settings ──


def fake_settings(node: pytest.Item | pytest.Collector) -> dict[str, Any]:
    """The ``FakePictograph`` arguments for ``node``: its markers over the ini defaults."""
    defaults = node.config.stash[_defaults_key]
    settings = dict(defaults)
    # iter_markers yields the nearest first: apply the farthest first so the nearest wins.
    for marker in reversed(list(node.iter_markers(MARKER))):
        settings.update(_marker_settings(marker))
    if "scenario" in settings:
        settings["scenario"] = _rooted(node.config, settings["scenario"])
    if settings.get("scenario_dirs"):
        settings["scenario_dirs"] = _rooted_folders(node.config, settings["scenario_dirs"])
    return settings


def _ini_defaults(config: pytest.Config) -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    for name, kind in _INI_SETTINGS.items():
        wanted = f"ini option pictograph_{name} must be of type {kind.__name__}"
        try:
            # pytest converts (or, from a TOML table, checks) the value by its declared
            # type; its message says what was wrong, without naming our option in ini mode.
            raw = config.getini(f"pictograph_{name}")
        except (pytest.UsageError, ValueError, TypeError) as exc:
            raise pytest.UsageError(f"{wanted}: {exc}") from None
        if raw is None or raw == "":
            continue
        if isinstance(raw, str):
            # A string option, or a number on a pytest without the "int"/"float" types.
            try:
                raw = kind(raw.strip())
            except ValueError:
                raise pytest.UsageError(f"{wanted}, got {raw!r}") from None
        # A TOML integer for a float option (`pictograph_balance_usd = 20`) is that float.
        defaults[name] = kind(raw)
    for name in _INI_LISTS:
        lines = [line.strip() for line in config.getini(f"pictograph_{name}") if line.strip()]
        if lines:
            defaults[name] = lines
    return defaults


def _register_scenario_folders(config: pytest.Config) -> list[Path]:
    """Register the ini's scenario folders for the session; return them, to unregister."""
    registered: list[Path] = []
    folders = config.getini("pictograph_scenario_dirs")
    if not folders:
        return registered
    from pictograph_testing import scenario_registry

    for folder in folders:
        try:
            found = scenario_registry.scenario_folder(folder)
            if found in scenario_registry.registered_dirs():
                # Registered already (by a conftest, or the session a pytester run is
                # nested in): that registration keeps it after this session.
                continue
            registered.append(scenario_registry.register_dir(found))
        except ValueError:
            for done in registered:
                scenario_registry.unregister_dir(done)
            raise pytest.UsageError(
                f"ini option pictograph_scenario_dirs names {folder}, which is not a folder "
                "(each line is a folder of NAME.json files, relative to the ini file)"
            ) from None
    return registered


def _rooted(config: pytest.Config, scenario: Any) -> Any:
    """A relative scenario path read from the rootdir, as every path pytest is given."""
    from pictograph_testing import scenarios

    if not isinstance(scenario, (str, os.PathLike)) or not scenarios.looks_like_path(scenario):
        return scenario
    path = Path(os.path.expanduser(os.fspath(scenario)))
    if path.is_absolute():
        return scenario
    rooted = config.rootpath / path
    if not rooted.is_file():
        pytest.fail(
            f"pictograph_fake could not be set up: no scenario file at {rooted}: a relative "
            f"scenario path in the pictograph marker or ini option is read from the rootdir "
            f"({config.rootpath}), wherever pytest is run from",
            pytrace=False,
        )
    return rooted


def _rooted_folders(config: pytest.Config, folders: Sequence[Any]) -> list[Path]:
    """The marker's scenario folders, a relative one read from the rootdir (as a relative
    scenario path is); the fake refuses one that is not a folder, saying where it looked."""
    rooted: list[Path] = []
    for folder in folders:
        if not isinstance(folder, (str, os.PathLike)):
            _marker_mistake(
                f"@pytest.mark.{MARKER}(scenario_dirs=...) must be a list of folders "
                f"(str or path), got {folder!r} in {folders!r}"
            )
        rooted.append(config.rootpath / Path(os.fspath(folder)).expanduser())
    return rooted


def _marker_settings(marker: pytest.Mark) -> dict[str, Any]:
    if marker.args:
        _marker_mistake(
            f"@pytest.mark.{MARKER} takes keywords only ({', '.join(SETTINGS)}), "
            f"got positional {marker.args!r}"
        )
    unknown = sorted(set(marker.kwargs) - set(SETTINGS))
    if unknown:
        _marker_mistake(
            f"@pytest.mark.{MARKER} got unknown setting(s) {', '.join(unknown)}; "
            f"it takes {', '.join(SETTINGS)}"
        )
    for name, value in marker.kwargs.items():
        kinds = SETTINGS[name]
        wrong_bool = isinstance(value, bool) and bool not in kinds
        if value is None and name in TAKES_NONE:
            continue
        if value is None or wrong_bool or not isinstance(value, kinds):
            wanted = " or ".join(k.__name__ for k in kinds)
            _marker_mistake(f"@pytest.mark.{MARKER}({name}=...) must be {wanted}, got {value!r}")
    return dict(marker.kwargs)


def _marker_mistake(message: str) -> NoReturn:
    """Fail the test (at set-up) for its marker's mistake, saying what to fix: the test's
    own error, reported as such, not a traceback through the plugin."""
    pytest.fail(f"pictograph_fake could not be set up: {message}", pytrace=False)


# ── live runs ──


def _live_skip_reason(item: pytest.Item, live: LiveTarget) -> str | None:
    names = set(getattr(item, "fixturenames", ()))
    if item.get_closest_marker(FAKE_ONLY_MARKER) is not None:
        return f"marked {FAKE_ONLY_MARKER}: needs the fake, and this is a --pictograph-live run"
    fake_only = sorted(names & FAKE_ONLY_FIXTURES)
    if fake_only:
        return f"uses {', '.join(fake_only)}: needs the fake, and this is a --pictograph-live run"
    given = {k for m in item.iter_markers(MARKER) for k, v in m.kwargs.items() if v is not None}
    # A setting the marker misspells is the test's mistake, failed at its set-up.
    seeded = sorted(given & set(SETTINGS) - LIVE_SETTINGS)
    if seeded:
        # Seeds, balances and faults are the fake's to set; the real API takes none of them.
        return (
            f"its {MARKER} marker sets {', '.join(seeded)}: the real API cannot be seeded "
            "or made to fail on cue (--pictograph-live run)"
        )
    if live.api_key is None and names & CLIENT_FIXTURES:
        return f"--pictograph-live needs an API key in ${live.key_env}, and none is set"
    return None


def _live_base_url(given: str | None) -> str | None:
    """``--pictograph-live-base-url`` as given, once it is seen to be an http(s) URL."""
    if given is None:
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(given)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise pytest.UsageError(
            "--pictograph-live-base-url must be an http or https URL with a host, such as "
            f"https://api.pictograph.io, got {given!r}"
        )
    return given


def _check_live_marker(item: pytest.Item) -> None:
    """Fail a live test whose marker the fake would refuse, as a run in process fails it:
    a misspelt setting, or a value of the wrong type or out of range."""
    if item.get_closest_marker(MARKER) is None:
        return
    settings = fake_settings(item)  # fails the test for a marker's mistake
    from pictograph_testing.fake import FakePictograph

    try:
        FakePictograph(**settings)  # built, never started: only its checks run
    except (ValueError, TypeError) as exc:
        _marker_mistake(str(exc))


def _live_key_or_skip(live: LiveTarget) -> str:
    if live.api_key is None:
        pytest.skip(f"--pictograph-live needs an API key in ${live.key_env}, and none is set")
    return live.api_key


def _close_in_process(sdk: pictograph.AsyncClient) -> None:
    """Close a fake's async client from a sync teardown, with no event loop.

    Its transport answers in process, so closing never waits on anything: one step of
    the coroutine finishes it (a loop per test would cost more than the test).
    """
    closing = sdk.aclose()
    try:
        closing.send(None)
    except StopIteration:
        return
    closing.close()
    raise RuntimeError("closing a fake's AsyncClient waited on I/O; this is a bug")
