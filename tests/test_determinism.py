"""Same seed and same calls give byte-identical responses."""

from __future__ import annotations

import contextlib

import httpx
import pictograph

from pictograph_testing import FakePictograph


def _scenario(seed: int, profile: str = "classic") -> list[tuple[int, str, bytes]]:
    """Drive a mixed session through the SDK and record every response exactly."""
    seen: list[tuple[int, str, bytes]] = []

    def record(response: httpx.Response) -> None:
        response.read()
        seen.append((response.status_code, response.headers["x-request-id"], response.content))

    with FakePictograph(seed=seed, profile=profile) as fake:
        fake.add_dataset(
            "road-signs",
            images=40,
            completed_images=30,
            classes=["stop", "yield"],
            annotation_types=["bbox", "polygon"],
        )
        fake.add_export("road-signs", "v1")
        client = fake.client(max_retries=0)
        client._transport._client.event_hooks["response"].append(record)
        first = client.training.create("road-signs", "v1", pipeline_type="yolox", name="a")
        second = client.training.create(
            "road-signs", "v1", pipeline_type="rfdetr_detection", name="b", wait=False
        )
        client.training.quote("road-signs", "v1", pipeline_type="sm_pytorch")
        fake.clock.advance(minutes=4)
        client.training.get(second.id)
        client.training.list(limit=10)
        client.training.cancel(second.id)
        with contextlib.suppress(pictograph.exceptions.NotFoundError):
            client.training.create("road-signs", "missing", pipeline_type="yolox", name="c")
        client.credits.balance()
        client.credits.history(limit=5)
        client.credits.usage_by_operation(range="all")
        client.credits.estimate("training_a100", quantity=12)
        assert first.model_id is not None
        client.models.list()
        client.models.versions(model_id=first.model_id)
        client.models.files(model_id=first.model_id)
        client.close()
    return seen


def test_same_seed_same_calls_give_identical_bytes() -> None:
    first = _scenario(seed=7)
    second = _scenario(seed=7)
    # Sixteen calls, plus the polls of the first create's wait.
    assert len(first) > 16
    assert first == second


def test_same_seed_is_identical_under_the_current_profile_too() -> None:
    assert _scenario(seed=3, profile="current") == _scenario(seed=3, profile="current")


def test_another_seed_gives_other_ids() -> None:
    # Bodies without ids (errors, estimates, usage) may coincide; the rest must not.
    bodies = {body for _, _, body in _scenario(seed=7) if b'"id"' in body}
    others = {body for _, _, body in _scenario(seed=8) if b'"id"' in body}
    assert bodies
    assert not bodies & others
