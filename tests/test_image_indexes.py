"""The indexes that page a dataset's images by stage and split, kept through every change.

A filtered page reads an index of the dataset's live images (by stage, by split, by
both), never the dataset; these tests drive a dataset through uploads out of path order
at one instant, reviews, splits, archiving, restoring and permanent deletes, through
the real SDK, and check each filtered listing against the dataset's full order.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, Literal

from pictograph.models.image import ImageSplit

from pictograph_testing import FakePictograph
from tests.image_files import write_image

if TYPE_CHECKING:
    from pathlib import Path

    import pictograph

STATUSES: tuple[Any, ...] = (None, "new", "annotate", "review", "complete")
SPLITS: tuple[Any, ...] = (None, "train", "val", "test")
DATASET = "indexed"

# What a step of the random walk does to an image: review it, or set or clear its split.
Step = Literal["approve", "request_changes", "split", "unsplit"]


def everything(client: pictograph.Client) -> list[Any]:
    """The dataset's images, archived ones too, newest first: its order, unindexed."""
    return list(client.images.iter(DATASET, include_archived=True, page_size=9))


def check_listings(client: pictograph.Client) -> None:
    """Every (stage, split) listing is the dataset's live images of that stage and split,
    in the dataset's order, whole and page by page."""
    order = everything(client)
    for status in STATUSES:
        for split in SPLITS:
            expected = [
                image.id
                for image in order
                if not image.is_archived
                and status in (None, image.status)
                and split in (None, image.split)
            ]
            paged = client.images.iter(DATASET, status=status, split=split, page_size=4)
            assert [image.id for image in paged] == expected, (status, split)
            if len(expected) > 3:
                deep = client.images.list(DATASET, status=status, split=split, limit=2, offset=3)
                assert [image.id for image in deep] == expected[3:5], (status, split)


def test_filtered_listings_follow_every_change(tmp_path: Path) -> None:
    chance = random.Random(7)  # a fixed sequence of operations, the same every run
    path = write_image(tmp_path / "a.png")
    with FakePictograph(seed=3) as fake:
        fake.add_dataset(DATASET, images=6, completed_images=3)
        client = fake.client(max_retries=0)
        for step in range(12):
            # An instant's uploads out of path order: some land before others of that instant.
            for name in chance.sample(["m", "c", "x", "a", "q"], 3):
                client.images.upload(DATASET, path, directory_path=f"/s{step}/{name}")
            live = [image for image in everything(client) if not image.is_archived]
            for image in chance.sample(live, min(4, len(live))):
                action: Step = chance.choice(["approve", "request_changes", "split", "unsplit"])
                if action in ("approve", "request_changes"):
                    client.images.review(DATASET, image.id, action)
                else:
                    splits: list[ImageSplit] = ["train", "val", "test"]
                    split = chance.choice(splits) if action == "split" else None
                    client.images.set_split(DATASET, image.id, split)
            victims = chance.sample(live, 2)
            client.images.delete(DATASET, victims[0].id)
            client.images.delete(DATASET, victims[1].id, permanent=True)
            archived = [image for image in everything(client) if image.is_archived]
            if archived and step % 3 == 0:
                client.batch.update(DATASET, [archived[0].id], status="review", is_archived=False)
            if step % 5 == 4:
                client.images.assign_splits(DATASET, train=60, val=30, test=10, seed=step)
            fake.clock.advance(seconds=1)
            check_listings(client)
        # Many deleted for good at once (a pass over the lists rather than one by one).
        doomed = [image.id for image in everything(client)][::2]
        client.batch.delete(DATASET, doomed, permanent=True)
        check_listings(client)
        # A saved world loads with the same order and the same filtered pages.
        snapshot = fake.snapshot()
        before = {
            (status, split): [i.id for i in client.images.iter(DATASET, status=status, split=split)]
            for status in STATUSES
            for split in SPLITS
        }
    with FakePictograph(scenario=snapshot) as loaded:
        again = loaded.client(max_retries=0)
        check_listings(again)
        after = {
            (status, split): [i.id for i in again.images.iter(DATASET, status=status, split=split)]
            for status in STATUSES
            for split in SPLITS
        }
        assert after == before
        # Uploads after loading still take their place in the order.
        for name in ("z", "b"):
            again.images.upload(DATASET, path, directory_path=f"/after/{name}")
        check_listings(again)


def test_a_deleted_dataset_leaves_no_index_behind(tmp_path: Path) -> None:
    with FakePictograph(seed=3) as fake:
        fake.add_dataset(DATASET, images=5, completed_images=5)
        client = fake.client(max_retries=0)
        client.datasets.delete(DATASET)
        fake.add_dataset(DATASET, images=2, completed_images=1)
        assert len(client.images.list(DATASET, status="complete")) == 1
        assert len(client.images.list(DATASET)) == 2


async def test_async_filtered_pages(tmp_path: Path) -> None:
    with FakePictograph(seed=3) as fake:
        fake.add_dataset(DATASET, images=9, completed_images=4)
        aclient = fake.async_client(max_retries=0)
        complete = [i.id async for i in aclient.images.iter(DATASET, status="complete")]
        newest = complete[0]
        await aclient.images.set_split(DATASET, newest, "val")
        await aclient.images.delete(DATASET, complete[1], permanent=True)
        assert [i.id async for i in aclient.images.iter(DATASET, split="val")] == [newest]
        page = await aclient.images.list(DATASET, status="complete", limit=2, offset=1)
        assert [i.id for i in page] == complete[2:4]
        await aclient.aclose()


def test_a_copy_into_another_dataset_is_found_by_its_split_and_stage() -> None:
    with FakePictograph(seed=3) as fake:
        fake.add_dataset(DATASET, images=4, completed_images=2)
        fake.add_dataset("copies")
        client = fake.client(max_retries=0)
        source = client.images.list(DATASET, status="complete")[0]
        client.images.set_split(DATASET, source.id, "val")
        client.batch.copy_to_dataset(DATASET, [source.id], "copies")
        [copy] = client.images.list("copies")
        assert (copy.split, copy.status) == ("val", "complete")
        assert [i.id for i in client.images.list("copies", split="val")] == [copy.id]
        assert [i.id for i in client.images.list("copies", status="complete")] == [copy.id]
        assert client.images.list("copies", split="train") == []
