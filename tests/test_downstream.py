"""A downstream project's nightly training job, tested as its authors would from the docs.

tests/test_day_one.py checks the plugin's promises one by one; here a whole small
project (a job that polls a run, gives up on a 402, reports a failed run and downloads
the model) runs its own suite through the installed plugin: scenarios, marker faults,
the ini option coupling its module to the fake's clock, the async client, and the same
suite under pytest-xdist.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

pytest_plugins = ["pytester"]

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
pictograph_clock_modules =
    nightly
"""

NIGHTLY = """
import asyncio
import time

import pictograph
from pictograph.exceptions import PaymentRequiredError

TERMINAL = ("completed", "failed", "cancelled")


def nightly(dataset, export, *, every=60.0, timeout=4 * 3600.0):
    client = pictograph.Client()
    try:
        run = client.training.create(
            dataset, export, pipeline_type="yolox", name="nightly", wait=False
        )
    except PaymentRequiredError:
        return "skipped", None
    deadline = time.monotonic() + timeout
    while (current := client.training.get(run.id)).status not in TERMINAL:
        if time.monotonic() > deadline:
            client.training.cancel(run.id)
            return "timed-out", run.id
        time.sleep(every)
    return current.status, current.model_id or current.error_message


def fetch_model(model_id, dest):
    return pictograph.Client().models.download(model_id=model_id, output_path=dest)


async def nightly_async(dataset, export):
    async with pictograph.AsyncClient() as client:
        run = await client.training.create(
            dataset, export, pipeline_type="yolox", name="nightly", wait=False
        )
        while (current := await client.training.get(run.id)).status not in TERMINAL:
            await asyncio.sleep(60)
        return current.status
"""

TESTS = """
import pytest

from nightly import fetch_model, nightly, nightly_async
from pictograph_testing import FaultSpec

READY = pytest.mark.pictograph(scenario="ready-to-train")


@READY
def test_trains_and_downloads(pictograph_fake, pictograph_clock, tmp_path):
    status, model_id = nightly("road-signs", "road-signs-v1")
    assert status == "completed"
    assert pictograph_clock.monotonic() >= 60  # polled on the fake's clock
    assert fetch_model(model_id, tmp_path / "model.onnx").stat().st_size > 0


@pytest.mark.pictograph(scenario="nearly-out-of-credit")
def test_a_402_skips_the_night(pictograph_fake):
    assert nightly("road-signs", "road-signs-v1") == ("skipped", None)
    pictograph_fake.calls.assert_not_called("GET", "training/{run_id}")


@pytest.mark.pictograph(
    scenario="ready-to-train", faults=[FaultSpec.fail_run(epoch=3, reason="oom")]
)
def test_an_oom_is_reported(pictograph_fake):
    status, message = nightly("road-signs", "road-signs-v1")
    assert status == "failed"
    assert message


@pytest.mark.pictograph(
    scenario="ready-to-train",
    faults=[FaultSpec.fail_next("POST", "training/", status=503, after=True)],
)
def test_a_lost_answer_is_retried_and_trains_once(pictograph_fake):
    assert nightly("road-signs", "road-signs-v1")[0] == "completed"
    assert len(pictograph_fake.calls.filter(method="POST", path="training/")) == 2
    assert len(pictograph_fake.client().training.list()) == 1


@READY
def test_a_short_timeout_cancels(pictograph_fake):
    status, run_id = nightly("road-signs", "road-signs-v1", timeout=120)
    assert status == "timed-out"
    assert pictograph_fake.run(run_id).status == "cancelled"


@READY
async def test_the_async_job(pictograph_fake):
    assert await nightly_async("road-signs", "road-signs-v1") == "completed"
"""
PASSED = 6


@pytest.fixture
def project(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> Iterator[pytest.Pytester]:
    pytester.makeini(INI)
    pytester.makepyfile(nightly=NIGHTLY, test_nightly=TESTS)
    monkeypatch.syspath_prepend(str(pytester.path))
    yield pytester
    sys.modules.pop("nightly", None)


def test_the_downstream_suite_passes(project: pytest.Pytester) -> None:
    project.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=PASSED)


@pytest.mark.slow  # worker subprocesses: scripts/test_slow.sh
def test_the_downstream_suite_passes_under_xdist(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=PASSED)
