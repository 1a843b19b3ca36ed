"""Plugin benchmark: calls through respx interception, and the fixtures' cost per test.

Run with ``python benchmarks/bench_plugin.py`` (``--quick`` for fewer rounds). It prints,
as ratios to the static-mock floor of ``bench_core.py`` (the same ``training.get`` on a
fake's client whose transport is a static ``httpx.MockTransport``), measured in the same
run and interleaved:

- the per-call cost of a ``pictograph.Client()`` built by the code under test while a
  fake is active: its traffic goes through the respx route (target <= 1.6x);
- for reference, the same call on a client built *before* the fake started (a stock
  ``httpx.Client``; the route catches it all the same), and on that stock client under a
  bare one-route ``respx.mock`` with no fake at all (the cost the target was set from);
- the set-up + teardown cost per test of the ``pictograph_fake`` + ``pictograph_client``
  fixtures, from pytest's own phase timings of generated tests with and without them
  (target < 1 ms), and a breakdown of where it goes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pictograph
import pytest
import respx
from bench_core import DATASET, EXPORT, _per_call, _world, canned_get, static_floor

from pictograph_testing import FakePictograph

if TYPE_CHECKING:
    from collections.abc import Callable


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
_WITHOUT = """
def test_without_{i}():
    pass
"""


class _PhaseTimes:
    """Collect pytest's own set-up and teardown durations per test."""

    def __init__(self) -> None:
        self.setup: dict[str, float] = {}
        self.teardown: dict[str, float] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "setup":
            self.setup[report.nodeid] = report.duration
        elif report.when == "teardown":
            self.teardown[report.nodeid] = report.duration

    def per_test(self, kind: str, skip: int) -> list[float]:
        ids = [n for n in self.setup if f"::test_{kind}_" in n][skip:]
        return [self.setup[n] + self.teardown[n] for n in ids]


def bench_fixtures(tests: int) -> tuple[float, float, float]:
    """Median set-up + teardown seconds per test with the fixtures, without, and the difference."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source = "".join(_WITH.format(i=i) + _WITHOUT.format(i=i) for i in range(tests))
        (root / "test_fixture_cost.py").write_text(source)
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
            ],
            plugins=[times],
        )
        if code != 0:
            raise SystemExit(f"the generated fixture tests failed (exit {code})")
    skip = max(5, tests // 20)  # the first tests pay one-time imports and patching
    with_fixtures = statistics.median(times.per_test("with", skip))
    without = statistics.median(times.per_test("without", skip))
    return with_fixtures, without, with_fixtures - without


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (for CI)")
    args = parser.parse_args()
    rounds, calls, tests = (3, 1000, 200) if args.quick else (7, 3000, 600)

    calls_result = bench_respx_calls(rounds, calls)
    with_s, without_s, fixture_s = bench_fixtures(tests)
    parts = bench_fixture_parts(rounds * 100)

    floor_us = calls_result["floor"] * 1e6
    print("pictograph-testing plugin benchmark")
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
    print(
        f"  pictograph_fake + pictograph_client per test (set-up + teardown): "
        f"{fixture_s * 1e3:.3f} ms (target < 1 ms; a bare test's phases "
        f"{without_s * 1e3:.3f} ms, with the fixtures {with_s * 1e3:.3f} ms)"
    )
    print(
        "    of which, driven directly: "
        + ", ".join(f"{name} {value:.0f} us" for name, value in parts.items())
    )


if __name__ == "__main__":
    sys.exit(main())
