"""Plugin benchmark: what loading the plugin costs, the fixtures per test, respx calls.

Run with ``python benchmarks/bench_plugin.py`` (``--quick`` for fewer rounds;
``--markdown`` prints the section of ``docs/benchmarks.md``). It prints:

- what loading the plugin adds to ``pytest -VV`` (which loads every plugin and runs no
  test), from ``python -X importtime`` in fresh interpreters: the import time of the
  modules only a run with the plugin imports (target < 20 ms), with plugin autoloading
  off so only ours differs; and, for reference, what respx's and Faker's own pytest
  plugins add (both are dependencies, so a project that installs the package loads them);
- the set-up + teardown cost per test of the ``pictograph_fake`` + ``pictograph_client``
  fixtures against two empty generator fixtures, from pytest's own phase timings of
  generated tests interleaved in one run (target: at most 2x), and a breakdown of where
  it goes;

and, as ratios to the static-mock floor of ``bench_core.py`` (the same ``training.get``
on a fake's client whose transport is a static ``httpx.MockTransport``), measured in the
same run and interleaved:

- the per-call cost of a ``pictograph.Client()`` built by the code under test while a
  fake is active: its traffic goes through the respx route (target <= 1.6x);
- for reference, the same call on a client built *before* the fake started (a stock
  ``httpx.Client``; the route catches it all the same), and on that stock client under a
  bare one-route ``respx.mock`` with no fake at all (the cost the target was set from);
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import pictograph
import pytest
import respx
from bench_core import DATASET, EXPORT, _per_call, _world, canned_get, static_floor
from tables import markdown_table

from pictograph_testing import FakePictograph

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


# ── per call ──


def bench_respx_calls(rounds: int, calls: int) -> dict[str, float]:
    """Median per-call seconds of each way in, and their median ratios to the floor."""
    with pictograph.Client(api_key="pk_live_unused", max_retries=0) as probe:
        stock_class = type(probe._transport._client)
    # Built before any fake starts: a stock httpx.Client with a real network transport.
    early = _world()
    before = pictograph.Client(api_key=early.api_key, max_retries=0)
    assert type(before._transport._client) is stock_class

    fake = early.start()
    try:
        client = fake.client(max_retries=0)
        run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="r", wait=False)
        fake.clock.advance(minutes=3)  # a running run: the live fields are computed
        canned = status, headers, body = canned_get(fake, run.id)
        floor_client = static_floor(fake, canned)
        # What the code under test does: build its own client from the environment.
        own = pictograph.Client(max_retries=0)

        ways: dict[str, Callable[[], object]] = {
            "floor": lambda: floor_client.training.get(run_id=run.id),
            "own": lambda: own.training.get(run_id=run.id),
            "before": lambda: before.training.get(run_id=run.id),
        }
        bare_route = f"{fake.base_url}/api/v1/developer/training/{run.id}"

        def bare() -> object:
            return before.training.get(run_id=run.id)

        for fn in ways.values():
            _per_call(fn, calls // 4)  # warm up
        samples: dict[str, list[float]] = {name: [] for name in (*ways, "bare")}
        for _ in range(rounds):
            for name, fn in ways.items():
                samples[name].append(_per_call(fn, calls))
            # The bare respx mock runs with no fake active, as a test without one would.
            fake.stop()
            try:
                with respx.mock(assert_all_called=False) as router:
                    router.get(bare_route).respond(status, headers=headers, content=body)
                    _per_call(bare, calls // 10)
                    samples["bare"].append(_per_call(bare, calls))
            finally:
                fake.start()
    finally:
        if fake.active:
            fake.stop()
        before.close()
    result = {name: statistics.median(values) for name, values in samples.items()}
    for name in ("own", "before", "bare"):
        ratios = [s / f for s, f in zip(samples[name], samples["floor"], strict=True)]
        result[f"{name}_ratio"] = statistics.median(ratios)
    return result


# ── per test ──

_WITH = """
def test_with_{i}(pictograph_fake, pictograph_client):
    pass
"""
_EMPTY = """
def test_empty_{i}(empty_one, empty_two):
    pass
"""
_WITHOUT = """
def test_without_{i}():
    pass
"""
# Three pictograph tests in a row: the middle one ("held") neither couples the SDK (the
# first does) nor uncouples it (the last does), as in a module of such tests.
_IN_A_ROW = """
def test_first_{i}(pictograph_fake, pictograph_client):
    pass


def test_held_{i}(pictograph_fake, pictograph_client):
    pass


def test_last_{i}(pictograph_fake, pictograph_client):
    pass
"""
# Two fixtures that do nothing, shaped like the plugin's (set-up, yield, teardown).
_EMPTY_FIXTURES = """
import pytest


@pytest.fixture
def empty_one():
    yield None


@pytest.fixture
def empty_two(empty_one):
    yield None
"""


class _PhaseTimes:
    """Collect the CPU time of each test's set-up and teardown phases.

    CPU time of the process, not pytest's own wall-clock ``duration``: on a machine
    shared with other work a phase of a few milliseconds is often descheduled midway,
    which would count against whichever phases happen to be longer.
    """

    def __init__(self) -> None:
        self.setup: dict[str, float] = {}
        self.teardown: dict[str, float] = {}

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Iterator[None]:
        started = time.process_time()
        try:
            return (yield)
        finally:
            self.setup[item.nodeid] = time.process_time() - started

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Iterator[None]:
        started = time.process_time()
        try:
            return (yield)
        finally:
            self.teardown[item.nodeid] = time.process_time() - started

    def per_test(self, kind: str, skip: int) -> list[float]:
        ids = [n for n in self.setup if f"::test_{kind}_" in n][skip:]
        return [self.setup[n] + self.teardown[n] for n in ids]


class FixtureCost(NamedTuple):
    """Median set-up + teardown seconds per test of each kind, and the ratio asked about."""

    with_fixtures: float
    empty: float
    without: float
    held: float
    """A pictograph test between two others (the SDK stays coupled across the three)."""

    @property
    def ratio(self) -> float:
        """The plugin's two fixtures against two empty ones (target: at most 2x)."""
        return self.with_fixtures / self.empty

    @property
    def held_ratio(self) -> float:
        """A pictograph test between two others against two empty fixtures (reference)."""
        return self.held / self.empty


def bench_fixtures(tests: int) -> FixtureCost:
    """Per-test phases with the plugin's two fixtures, two empty ones, and none, interleaved."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source = "".join(
            _WITH.format(i=i) + _EMPTY.format(i=i) + _WITHOUT.format(i=i) + _IN_A_ROW.format(i=i)
            for i in range(tests)
        )
        (root / "test_fixture_cost.py").write_text(source)
        (root / "conftest.py").write_text(_EMPTY_FIXTURES)
        (root / "pytest.ini").write_text(
            "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        )
        times = _PhaseTimes()
        code = pytest.main(
            [
                str(root),
                # No terminal output: CI reads the suite's own closing line, not ours.
                "-p",
                "no:terminal",
                "-p",
                "no:cacheprovider",
                "-p",
                "no:hypothesispytest",
                # Its per-test hooks would add alike to every kind of test, flattering the
                # ratio (the project's own suite runs with it).
                "-p",
                "no:timeout",
            ],
            plugins=[times],
        )
        if code != 0:
            raise SystemExit(f"the generated fixture tests failed (exit {code})")
    skip = max(5, tests // 20)  # the first tests pay one-time imports and patching
    return FixtureCost(
        *(
            statistics.median(times.per_test(kind, skip))
            for kind in ("with", "empty", "without", "held")
        )
    )


# ── loading the plugin ──

_ENTRY_MODULE = "pictograph_testing.pytest_plugin"
# Plugins of the package's dependencies: installing the package installs them.
_DEPENDENCY_PLUGINS = ("respx.plugin", "faker.contrib.pytest.plugin")


# `pytest -VV` in a fresh interpreter, the plugins first imported with an `import`
# statement: `-X importtime` logs only those (pytest's own `importlib` import of a `-p`
# module is not logged), and pytest then finds them already imported.
_PROBE = """
import os, sys
for name in filter(None, os.environ["BENCH_PRELOAD"].split(",")):
    __import__(name)
import pytest
sys.exit(pytest.console_main())
"""


def _import_times(plugins: tuple[str, ...], project: Path) -> dict[str, int]:
    """Self import time in µs of every module ``pytest -VV`` imports with ``plugins``.

    A fresh interpreter each time, plugin autoloading off: only the plugins named load.
    Bytecode is cached (under ``project``), as it is in an installed package.
    """
    command = [sys.executable, "-X", "importtime", "-c", _PROBE, "-VV", "-p", "no:cacheprovider"]
    for plugin in plugins:
        command += ["-p", plugin]
    environment = {
        **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "PYTHONPYCACHEPREFIX": str(project / "bytecode"),
        "BENCH_PRELOAD": ",".join(plugins),
    }
    done = subprocess.run(
        command, cwd=project, env=environment, capture_output=True, text=True, check=True
    )
    times: dict[str, int] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        self_us, _, name = line.removeprefix("import time:").split("|")
        times[name.strip()] = int(self_us)
    return times


def _added_ms(base: dict[str, int], loaded: dict[str, int]) -> float:
    """Import time of the modules only the run with the plugin imported."""
    return sum(us for name, us in loaded.items() if name not in base) / 1000


class LoadCost(NamedTuple):
    """Median ms that loading each set of plugins adds to ``pytest -VV``, by import time."""

    ours: float
    ours_modules: int
    dependencies: float


def bench_plugin_load(rounds: int) -> LoadCost:
    """What our entry module, and the dependencies' plugins, add to a run that loads them."""
    ours, dependencies = [], []
    modules = 0
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "pytest.ini").write_text("[pytest]\n")
        _import_times((_ENTRY_MODULE, *_DEPENDENCY_PLUGINS), project)  # compile, once
        for _ in range(rounds):
            base = _import_times((), project)
            with_ours = _import_times((_ENTRY_MODULE,), project)
            with_theirs = _import_times(_DEPENDENCY_PLUGINS, project)
            ours.append(_added_ms(base, with_ours))
            modules = len(set(with_ours) - set(base))
            dependencies.append(_added_ms(base, with_theirs))
    return LoadCost(statistics.median(ours), modules, statistics.median(dependencies))


def bench_fixture_parts(rounds: int) -> dict[str, float]:
    """Median microseconds of each step the two fixtures take, driven directly."""
    steps: dict[str, list[float]] = {"construct": [], "activate": [], "client": [], "close": []}
    steps["deactivate"] = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fake = FakePictograph()
        t1 = time.perf_counter()
        fake.start()
        t2 = time.perf_counter()
        client = fake.client()
        t3 = time.perf_counter()
        client.close()
        t4 = time.perf_counter()
        fake.stop()
        t5 = time.perf_counter()
        for name, (a, b) in zip(
            steps, ((t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5)), strict=True
        ):
            steps[name].append((b - a) * 1e6)
    return {name: statistics.median(values[3:]) for name, values in steps.items()}


HEADING = "The pytest plugin: loading it, its fixtures, respx interception"
"""The section this script writes in docs/benchmarks.md (``--markdown``)."""


def markdown(
    load: LoadCost,
    fixtures: FixtureCost,
    parts: dict[str, float],
    calls: dict[str, float],
    *,
    tests: int,
) -> str:
    """The figures as the section of docs/benchmarks.md."""
    floor_us = calls["floor"] * 1e6
    rows = [
        [
            "loading the plugin: import time it adds to `pytest -VV` "
            "(`-X importtime`, modules only that run imports)",
            f"**{load.ours:.1f} ms** ({load.ours_modules} modules)",
            "< 20 ms",
        ],
        [
            "for reference: respx's and Faker's own pytest plugins (dependencies of the "
            "package, so installed with it)",
            f"{load.dependencies:.0f} ms",
            "",
        ],
        [
            "`pictograph_fake` + `pictograph_client`, set-up and teardown per test, against "
            "two empty fixtures in the same run",
            f"{fixtures.with_fixtures * 1e3:.3f} ms / {fixtures.empty * 1e3:.3f} ms = "
            f"**{fixtures.ratio:.2f}x** (no fixture: {fixtures.without * 1e3:.3f} ms)",
            "≤ 2x",
        ],
        [
            "the same, for a pictograph test between two others (the SDK stays coupled "
            "from one to the next, as in a module of such tests)",
            f"{fixtures.held * 1e3:.3f} ms = {fixtures.held_ratio:.2f}x",
            "(reference)",
        ],
        [
            "the fixtures' steps, driven directly",
            ", ".join(f"{name} {value:.0f} µs" for name, value in parts.items()),
            "",
        ],
        [
            "`training.get` on a `pictograph.Client()` built by the code under test, "
            "through respx interception",
            f"{calls['own'] * 1e6:.1f} µs = {calls['own_ratio']:.2f}x the mock floor "
            f"({floor_us:.1f} µs)",
            "≤ 1.6x",
        ],
        [
            "the same on a stock client built before the fake started",
            f"{calls['before'] * 1e6:.1f} µs = {calls['before_ratio']:.2f}x",
            "(reference)",
        ],
        [
            "that client on a bare one-route `respx.mock`, no fake",
            f"{calls['bare'] * 1e6:.1f} µs = {calls['bare_ratio']:.2f}x",
            "(reference)",
        ],
    ]
    return "\n\n".join(
        [
            f"## {HEADING}",
            "`python benchmarks/bench_plugin.py`. Loading: fresh interpreters run "
            "`python -X importtime -m pytest -VV` in an empty project with plugin "
            "autoloading off, with and without `-p pictograph_testing.pytest_plugin`; the "
            "figure is the import time of the modules only the run with the plugin imports "
            "(its entry module imports no httpx, SDK, respx, faker or pydantic until a test "
            "uses a pictograph fixture; `tests/test_plugin_load.py` holds it to that). "
            f"Fixtures: {tests} generated tests of each kind, interleaved in one pytest run, "
            "timed by the CPU time of their set-up and teardown phases (medians; the first tests, "
            "which pay one-time imports, left out). Calls: medians of interleaved rounds, "
            "CPU time, as in the core benchmark.",
            markdown_table(("what", "result", "target"), rows),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (for CI)")
    parser.add_argument(
        "--markdown", action="store_true", help="print the section of docs/benchmarks.md"
    )
    args = parser.parse_args()
    rounds, calls, tests = (3, 1000, 200) if args.quick else (7, 3000, 600)

    load = bench_plugin_load(rounds)
    calls_result = bench_respx_calls(rounds, calls)
    fixtures = bench_fixtures(tests)
    parts = bench_fixture_parts(rounds * 100)
    if args.markdown:
        print(markdown(load, fixtures, parts, calls_result, tests=tests))
        return

    floor_us = calls_result["floor"] * 1e6
    print("pictograph-testing plugin benchmark")
    print(
        f"  loading the plugin adds {load.ours:.1f} ms of imports to pytest -VV "
        f"({load.ours_modules} modules; target < 20 ms); respx's and Faker's own plugins "
        f"add {load.dependencies:.0f} ms (reference)"
    )
    print(
        f"  pictograph_fake + pictograph_client per test (set-up + teardown): "
        f"{fixtures.with_fixtures * 1e3:.3f} ms, two empty fixtures "
        f"{fixtures.empty * 1e3:.3f} ms: {fixtures.ratio:.2f}x (target <= 2x; no fixture "
        f"{fixtures.without * 1e3:.3f} ms)"
    )
    print(
        f"    a pictograph test between two others (the SDK stays coupled): "
        f"{fixtures.held * 1e3:.3f} ms, {fixtures.held_ratio:.2f}x (reference)"
    )
    print(
        "    of which, driven directly: "
        + ", ".join(f"{name} {value:.0f} us" for name, value in parts.items())
    )
    print(
        f"  training.get per call, static-mock floor {floor_us:.1f} us; through respx interception:"
    )
    print(
        f"    Client() built by the code under test: {calls_result['own'] * 1e6:.1f} us, "
        f"ratio {calls_result['own_ratio']:.3f}x (target <= 1.6x)"
    )
    print(
        f"    stock client built before the fake:    {calls_result['before'] * 1e6:.1f} us, "
        f"ratio {calls_result['before_ratio']:.3f}x (reference)"
    )
    print(
        f"    that client on a bare one-route respx mock, no fake: "
        f"{calls_result['bare'] * 1e6:.1f} us, ratio {calls_result['bare_ratio']:.3f}x (reference)"
    )


if __name__ == "__main__":
    main()
