"""Annotation comments through each SDK release's own clients.

The resource arrived in 1.56.0, taking the image's id (a dataset and a filename, which
the SDK resolves to it, from 1.69.30); every release sends the same wire. Threads,
reactions and soft deletes arrived with 1.69.70: the releases before it list without
the deleted comments (``dialects.COMMENTS_HARD_DELETED``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from pictograph_testing import FakePictograph
from pictograph_testing._sdk.layout import sdk_version
from pictograph_testing.api.dialects import COMMENTS_HARD_DELETED, parse_version

if TYPE_CHECKING:
    from collections.abc import Iterator

DATASET = "site-photos"
RELEASE = parse_version(sdk_version())

pytestmark = pytest.mark.skipif(
    RELEASE < (1, 56, 0), reason="annotation comments arrived in 1.56.0"
)


@pytest.fixture
def fake(no_real_waiting: None) -> Iterator[FakePictograph]:
    with FakePictograph(seed=1) as fake:
        fake.add_dataset(DATASET, images=4, completed_images=4)
        yield fake


def _on_image(sdk: Any, image: Any) -> tuple[Any, ...]:
    """How this release addresses an image: by id, or by dataset and filename."""
    return (image.id,) if RELEASE < (1, 69, 30) else (DATASET, image.filename)


def test_the_sync_client(fake: FakePictograph) -> None:
    with fake.client(max_retries=0) as sdk:
        image = sdk.images.list(DATASET, status="complete")[0]
        annotation = fake.world.images[image.id].annotations[0]["id"]
        where = _on_image(sdk, image)
        if RELEASE < (1, 69, 30):
            # An early release's signature: by image id.
            made = sdk.annotation_comments.create(
                image_id=image.id,  # type: ignore[call-arg]
                annotation_id=annotation,
                body="tighten",
            )
            gone = sdk.annotation_comments.create(
                image_id=image.id,  # type: ignore[call-arg]
                annotation_id=annotation,
                body="drop",
            )
        else:
            made = sdk.annotation_comments.create(*where, annotation_id=annotation, body="tighten")
            gone = sdk.annotation_comments.create(*where, annotation_id=annotation, body="drop")
        assert sdk.annotation_comments.resolve(made.id).resolved
        sdk.annotation_comments.delete(gone.id)
        listed = [c.id for c in sdk.annotation_comments.list(*where)]
        hard = COMMENTS_HARD_DELETED.holds(RELEASE, "sync")
        assert listed == ([made.id] if hard else [made.id, gone.id])
    assert not fake.unserved_calls
