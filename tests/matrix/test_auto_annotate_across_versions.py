"""Auto-annotation through each SDK release's own clients.

``auto_annotate`` is in every release with the same wire: SAM3's point, box and text
prompts and the batch job (start, poll, cancel); ``quote`` arrived later, and a release
without it simply lacks the method. Before 1.69.95 a release names images by filename
only, which the API resolves as it does today.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING

import pytest

from tests.matrix.conftest import DATASET

if TYPE_CHECKING:
    import pictograph

    from pictograph_testing import FakePictograph
    from pictograph_testing.world.entities import Image


def _unlabelled(world: FakePictograph) -> Image:
    """The dataset's first image, its annotations cleared (releases save by id or by path)."""
    fake = world.world
    with fake.lock:
        image = fake.dataset_images(fake.dataset(fake.default_org.id, DATASET))[0]
        image.annotations = []
    return image


def test_the_sync_client(world: FakePictograph, sdk: pictograph.Client) -> None:
    image = _unlabelled(world)
    classes = [{"name": "stop_sign", "output_type": "bbox"}]
    before = world.balance_micro_usd

    job = sdk.auto_annotate.batch(
        DATASET, [image.filename], classes, confidence_threshold=0.0, poll_interval=1
    )
    # Older releases read an image's annotations by its id alone.
    by_id = "dataset_name" not in inspect.signature(sdk.annotations.get).parameters
    saved = (
        sdk.annotations.get(image.id)  # type: ignore[call-arg]
        if by_id
        else sdk.annotations.get(DATASET, image.filename)
    )
    point = sdk.auto_annotate.point(
        DATASET, image.filename, x=(image.width or 2) // 2, y=(image.height or 2) // 2
    )

    assert job.status == "completed"
    assert job.total_annotations_added == len(saved) == 1
    assert saved[0].name == "stop_sign"
    assert point.status == "success"
    assert point.annotations[0].type == "polygon"
    if hasattr(sdk.auto_annotate, "quote"):
        quote = sdk.auto_annotate.quote(
            dataset_name=DATASET, image_filenames=[image.filename], classes=classes
        )
        assert world.balance_micro_usd < before - quote.estimated_credits


async def test_the_async_client(world: FakePictograph, async_sdk: pictograph.AsyncClient) -> None:
    fake = world.world
    image = fake.dataset_images(fake.dataset(fake.default_org.id, DATASET))[0]
    kickoff = await async_sdk.auto_annotate.batch(
        DATASET, [image.filename], [{"name": "yield", "output_type": "polygon"}], wait=False
    )
    cancelled = await async_sdk.auto_annotate.cancel_batch(kickoff.job_id)
    text = await async_sdk.auto_annotate.text(
        DATASET, image.filename, text_prompt="yield", confidence_threshold=0.0
    )

    assert kickoff.status == "pending"
    assert cancelled.status == "cancelled"
    assert text.status == "success"
    with pytest.raises(Exception, match="cancelled"):
        await async_sdk.auto_annotate.wait_for_batch(kickoff.job_id, poll_interval=1)
