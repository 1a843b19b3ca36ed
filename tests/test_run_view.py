"""``fake.run(ref)`` is what ``training.get`` answers at the same virtual instant.

Checked from the user's side: step the clock through a run's whole life (cold start,
training, the end) and, at every step, compare the fake's view with the real SDK's.
"""

from __future__ import annotations

import pictograph
import pytest

from pictograph_testing import FakePictograph, ProfileName
from pictograph_testing.world.training import RunView

TERMINAL = ("completed", "failed", "cancelled")
STEP_SECONDS = 5.0  # the cold start (45 s) and the run (395 s) end on a step


def _assert_same(view: RunView, run: pictograph.TrainingRun) -> None:
    assert (view.status, view.progress, view.epoch, view.model_id, view.error_message) == (
        run.status,
        run.progress,
        run.current_epoch,
        run.model_id,
        run.error_message,
    )
    assert view.metrics == run.metrics
    assert view.training_seconds == run.training_time_seconds


def _world(
    profile: ProfileName = "classic", gpu_workers: dict[str, int] | None = None
) -> FakePictograph:
    fake = FakePictograph(seed=3, profile=profile, gpu_workers=gpu_workers)
    fake.add_dataset("road-signs", images=30, completed_images=30)
    fake.add_export("road-signs", "v1")
    return fake


def _follow(fake: FakePictograph, client: pictograph.Client, ref: str) -> list[str]:
    """Step the clock until the run ends, comparing at each step; return the statuses seen."""
    seen: list[str] = []
    for _ in range(2000):
        run = client.training.get(ref)
        _assert_same(fake.run(ref), run)
        if not seen or seen[-1] != run.status:
            seen.append(run.status)
        if run.status in TERMINAL:
            return seen
        fake.clock.advance(seconds=STEP_SECONDS)
    raise AssertionError(f"run {ref} never ended: {seen}")


@pytest.mark.parametrize("profile", ["classic", "current"])
def test_the_view_matches_the_sdk_through_a_whole_run(profile: ProfileName) -> None:
    with _world(profile) as fake:
        client = fake.client()
        run = client.training.create(
            "road-signs", "v1", pipeline_type="yolox", name="r1", wait=False
        )
        seen = _follow(fake, client, run.id)
    assert seen[-1] == "completed"
    assert "running" in seen  # the instants the issue was about: the view said queued
    assert seen.index("running") > 0  # a cold start came first


def test_the_view_matches_for_a_run_waiting_for_a_gpu_and_by_name() -> None:
    with _world(gpu_workers={"a10g": 1}) as fake:
        client = fake.client()
        client.training.create("road-signs", "v1", pipeline_type="yolox", name="first", wait=False)
        second = client.training.create(
            "road-signs", "v1", pipeline_type="yolox", name="second", wait=False
        )
        assert fake.run("second").status == client.training.get(second.id).status
        seen = _follow(fake, client, "second")
    assert seen[0] in ("pending", "queued")
    assert seen[-1] == "completed"


def test_the_view_matches_for_a_run_that_fails_and_one_cancelled() -> None:
    with _world() as fake:
        client = fake.client()
        doomed = client.training.create(
            "road-signs", "v1", pipeline_type="yolox", name="oom", wait=False
        )
        fake.faults.fail_run(doomed.id, epoch=3, reason="oom")
        assert _follow(fake, client, doomed.id)[-1] == "failed"

        stopped = client.training.create(
            "road-signs", "v1", pipeline_type="yolox", name="stop", wait=False
        )
        fake.clock.advance(minutes=4)
        _assert_same(fake.run(stopped.id), client.training.get(stopped.id))
        client.training.cancel(stopped.id)
        _assert_same(fake.run(stopped.id), client.training.get(stopped.id))
        assert fake.run(stopped.id).status == "cancelled"


async def test_the_view_matches_the_async_client_at_each_instant() -> None:
    with _world() as fake:
        async with fake.async_client() as client:
            run = await client.training.create(
                "road-signs", "v1", pipeline_type="yolox", name="a", wait=False
            )
            statuses = set()
            while (polled := await client.training.get(run.id)).status not in TERMINAL:
                _assert_same(fake.run(run.id), polled)
                statuses.add(polled.status)
                fake.clock.advance(seconds=STEP_SECONDS)
            _assert_same(fake.run(run.id), polled)
    assert "running" in statuses
    assert polled.status == "completed"
