"""Batch image operations through the real SDK (sync and async): bare ``BatchResult`` bodies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from pictograph import BBoxAnnotation, BoundingBox
from pictograph.exceptions import ForbiddenError, NotFoundError, ValidationError

from pictograph_testing import FakePictograph
from tests.conftest import DATASET
from tests.image_files import DEV, raw, world_state, write_image

if TYPE_CHECKING:
    from pathlib import Path

    import pictograph

GHOST = "00000000-0000-4000-8000-000000000000"
IN_PROGRESS: Any = "in_progress"
STATUS_MESSAGE = "Invalid status. Must be one of: ['new', 'annotate', 'review', 'complete']"


def role_client(fake: FakePictograph, role: Any) -> pictograph.Client:
    return fake.client(api_key=fake.add_api_key(role), max_retries=0)


def ids(client: pictograph.Client, count: int, **filters: Any) -> list[str]:
    return [i.id for i in client.images.list(DATASET, limit=count, **filters)]


# ── update ──


def test_update_status_marks_images_complete(client: pictograph.Client) -> None:
    chosen = ids(client, 3, status="new")
    result = client.batch.update(DATASET, chosen, status="complete")
    assert (result.success, result.processed, result.failed) == (True, 3, [])
    assert result.affected_directories == ["/"]
    assert result.operation is None
    assert client.datasets.get(DATASET).completed_image_count == 15


def test_update_by_dataset_id_and_with_unknown_ids(client: pictograph.Client) -> None:
    dataset = client.datasets.get(DATASET)
    chosen = ids(client, 2)
    result = client.batch.update(dataset.id, [*chosen, GHOST, "junk"], status="review")
    assert result.processed == 2
    assert [(f.id, "not found" in f.reason) for f in result.failed] == [
        (GHOST, True),
        ("junk", True),
    ]
    assert {client.images.get(DATASET, i).status for i in chosen} == {"review"}


def test_update_archives_restores_and_renames_for_display(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    chosen = ids(client, 2)
    client.batch.update(DATASET, chosen, is_archived=True)
    assert client.datasets.get(DATASET).archived_image_count == 2
    client.batch.update(DATASET, chosen, is_archived=False, display_name="shown")
    assert client.datasets.get(DATASET).archived_image_count == 0
    with raw(fake) as http:
        body = http.get(f"{DEV}/images/{chosen[0]}/metadata").json()["data"]
    assert body["display_name"] == "shown"


@pytest.mark.parametrize("status", [IN_PROGRESS, "all", "done"])
def test_update_refuses_an_invalid_status_with_400(
    fake: FakePictograph, client: pictograph.Client, status: Any
) -> None:
    before = world_state(fake)
    with pytest.raises(ValidationError) as refused:
        client.batch.update(DATASET, ids(client, 2), status=status)
    assert refused.value.status_code == 400
    assert refused.value.message == STATUS_MESSAGE
    assert world_state(fake) == before


def test_update_refuses_when_nothing_matches(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    before = world_state(fake)
    with pytest.raises(NotFoundError):
        client.batch.update(DATASET, [GHOST], status="complete")
    with pytest.raises(NotFoundError):
        client.batch.update("nope", ids(client, 1), status="complete")
    client.datasets.create("other")
    with pytest.raises(NotFoundError):
        client.batch.update("other", ids(client, 2), status="complete")
    assert client.datasets.get(DATASET).completed_image_count == 12
    assert world_state(fake)[1] == before[1]


@pytest.mark.parametrize(
    "body",
    [
        {"dataset_name": DATASET, "image_ids": [GHOST], "updates": {}},
        {"dataset_name": DATASET, "image_ids": [GHOST], "updates": {"split": "train"}},
        {"dataset_name": DATASET, "image_ids": [], "updates": {"status": "new"}},
        {"dataset_name": DATASET, "image_ids": [GHOST], "updates": {"is_archived": "yes"}},
        {"dataset": DATASET, "image_ids": [GHOST], "updates": {"status": "new"}},
        {"dataset_name": DATASET, "image_ids": [1], "updates": {"status": "new"}},
    ],
)
def test_update_refuses_a_malformed_body(fake: FakePictograph, body: dict[str, Any]) -> None:
    with raw(fake) as http:
        response = http.patch(f"{DEV}/batch/images/update", json=body)
    assert response.status_code == 422, response.text


def test_update_answers_a_bare_batch_result(fake: FakePictograph) -> None:
    image_id = next(iter(fake.world.images))
    with raw(fake) as http:
        body = http.patch(
            f"{DEV}/batch/images/update",
            json={"dataset_name": DATASET, "image_ids": [image_id], "updates": {"status": "new"}},
        ).json()
    assert "data" not in body
    assert body["processed"] == 1


# ── move ──


def test_move_renames_on_a_clash(client: pictograph.Client, tmp_path: Path) -> None:
    path = write_image(tmp_path / "photo.png")
    first = client.images.upload(DATASET, path, directory_path="/a")
    second = client.images.upload(DATASET, path, directory_path="/b")
    client.images.upload(DATASET, path, directory_path="/target")
    result = client.batch.move(DATASET, [first.id, second.id], target_directory_path="target/")
    assert (result.processed, result.renamed) == (2, 2)
    assert result.affected_directories == ["/a", "/b", "/target"]
    moved = sorted(i.filename for i in client.images.list(DATASET, directory_path="/target"))
    assert moved == ["photo-1.png", "photo-2.png", "photo.png"]
    assert client.images.get(DATASET, first.id).directory_path == "/target"
    # The image answers at its new path, and no longer at the old one.
    assert client.annotations.get(DATASET, "target/photo-1.png") == []
    with pytest.raises(NotFoundError):
        client.annotations.get(DATASET, "a/photo.png")


def test_a_name_renamed_on_a_clash_stays_within_the_longest_filename(
    client: pictograph.Client, tmp_path: Path
) -> None:
    """`-1`, `-2` cut the stem of a 255-character name, so every name stays one an
    upload takes; the extension is kept."""
    path = write_image(tmp_path / "photo.png")
    longest = "x" * 251 + ".png"
    client.images.upload(DATASET, path, filename=longest)
    moved = client.images.upload(DATASET, path, filename=longest, directory_path="/o")
    copied = client.images.upload(DATASET, path, filename=longest, directory_path="/p")
    assert client.batch.move(DATASET, [moved.id], target_directory_path="/").renamed == 1
    assert client.batch.copy(DATASET, [copied.id], target_directory_path="/").processed == 1
    names = sorted(i.filename for i in client.images.list(DATASET, directory_path="/", limit=500))
    assert ["x" * 249 + "-1.png", "x" * 249 + "-2.png", longest] == [
        name for name in names if name.startswith("x")
    ]


async def test_async_a_name_renamed_on_a_clash_stays_within_the_longest_filename(
    aclient: pictograph.AsyncClient, tmp_path: Path
) -> None:
    path = write_image(tmp_path / "photo.png")
    name = "y" * 250 + ".jpeg"
    await aclient.images.upload(DATASET, path, filename=name)
    other = await aclient.images.upload(DATASET, path, filename=name, directory_path="/o")
    await aclient.batch.move(DATASET, [other.id], target_directory_path="/")
    moved = await aclient.images.get(DATASET, other.id)
    assert moved.filename == "y" * 248 + "-1.jpeg"


def test_move_to_root_by_default(client: pictograph.Client, tmp_path: Path) -> None:
    image = client.images.upload(DATASET, write_image(tmp_path / "x.png"), directory_path="/d")
    result = client.batch.move(DATASET, [image.id, GHOST])
    assert (result.processed, [f.id for f in result.failed]) == (1, [GHOST])
    assert client.images.get(DATASET, image.id).directory_path == "/"


async def test_async_move(aclient: pictograph.AsyncClient) -> None:
    image = (await aclient.images.list(DATASET, limit=1))[0]
    result = await aclient.batch.move(DATASET, [image.id], target_directory_path="/moved")
    assert result.processed == 1
    assert (await aclient.images.get(DATASET, image.id)).directory_path == "/moved"


# ── copy ──


def test_copy_shares_the_file_and_starts_clean(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    source = client.images.list(DATASET, status="complete", limit=1)[0]
    result = client.batch.copy(DATASET, [source.id], target_directory_path="/copies")
    assert (result.processed, result.affected_directories) == (1, ["/copies"])
    copy = client.images.list(DATASET, directory_path="/copies")[0]
    assert copy.id != source.id
    assert (copy.filename, copy.status, copy.annotation_count) == (source.filename, "new", 0)
    original = client.images.download(DATASET, source.id, tmp_path / "a.jpg").read_bytes()
    copied = client.images.download(DATASET, copy.id, tmp_path / "b.jpg").read_bytes()
    assert copied == original


def test_copy_with_annotations_and_duplicate_handling(client: pictograph.Client) -> None:
    source = client.images.list(DATASET, status="complete", limit=1)[0]
    client.batch.copy(DATASET, [source.id], target_directory_path="/c", copy_annotations=True)
    labelled = client.images.list(DATASET, directory_path="/c")[0]
    assert (labelled.status, labelled.annotation_count) == ("complete", 2)
    renamed = client.batch.copy(DATASET, [source.id], target_directory_path="/c")
    assert renamed.processed == 1
    stem = source.filename.removesuffix(".jpg")
    names = sorted(i.filename for i in client.images.list(DATASET, directory_path="/c"))
    assert names == [f"{stem}-2.jpg", source.filename]
    skipped = client.batch.copy(
        DATASET, [source.id], target_directory_path="/c", duplicate_handling="skip"
    )
    assert (skipped.processed, len(skipped.failed)) == (0, 1)
    overwritten = client.batch.copy(
        DATASET, [source.id], target_directory_path="/c", duplicate_handling="overwrite"
    )
    assert overwritten.processed == 1
    fresh = client.images.list(DATASET, directory_path="/c", filename=source.filename)
    assert (fresh[0].id != labelled.id, fresh[0].annotation_count) == (True, 0)


def test_copy_refuses_an_unknown_duplicate_handling(fake: FakePictograph) -> None:
    image_id = next(iter(fake.world.images))
    with raw(fake) as http:
        response = http.post(
            f"{DEV}/batch/images/copy",
            json={"dataset_name": DATASET, "image_ids": [image_id], "duplicate_handling": "merge"},
        )
    assert response.status_code == 422
    assert response.json()["error"]["message"] == (
        "Invalid duplicate_handling 'merge': choose one of 'rename', 'skip', 'overwrite'."
    )


def test_an_id_sent_again_in_another_case_is_one_image(client: pictograph.Client) -> None:
    """``processed`` and ``failed`` partition the images named, an id in any case naming
    the same one (the SDK's ``BatchResult``)."""
    first, second = ids(client, 2)
    copied = client.batch.copy(DATASET, [first, f" {first.upper()}"], target_directory_path="/c")
    assert (copied.processed, copied.failed) == (1, [])
    assert len(client.images.list(DATASET, directory_path="/c")) == 1
    client.datasets.create("target", classes=[{"name": "stop", "type": "bbox"}])
    into = client.batch.copy_to_dataset(DATASET, [second, second.upper()], "target")
    assert into.processed == 1
    assert len(client.images.list("target")) == 1
    moved = client.batch.move(DATASET, [first, first.upper()], target_directory_path="/m")
    assert moved.processed == 1


async def test_async_an_id_sent_again_in_another_case_is_one_image(
    aclient: pictograph.AsyncClient,
) -> None:
    [image] = await aclient.images.list(DATASET, limit=1)
    result = await aclient.batch.copy(
        DATASET, [image.id, image.id.upper()], target_directory_path="/c"
    )
    assert result.processed == 1


async def test_async_copy(aclient: pictograph.AsyncClient) -> None:
    image = (await aclient.images.list(DATASET, limit=1))[0]
    result = await aclient.batch.copy(DATASET, [image.id], target_directory_path="/c")
    assert result.processed == 1


# ── copy to another dataset ──


def test_copy_to_dataset_carries_labels_and_adds_classes(client: pictograph.Client) -> None:
    client.datasets.create("target", classes=[{"name": "yield", "type": "bbox"}])
    source = client.images.list(DATASET, status="complete", limit=2)
    client.images.bulk_tag(DATASET, [source[0].id], ["sunny"])
    client.images.set_split(DATASET, source[0].id, "val")
    result = client.batch.copy_to_dataset(
        DATASET, [s.id for s in source] + [GHOST], "target", target_directory_path="/in"
    )
    assert (result.processed, result.target_dataset, result.classes_added) == (
        2,
        "target",
        ["stop_sign"],
    )
    assert [f.id for f in result.failed] == [GHOST]
    assert result.operation is None  # only a delete names what it did
    target = client.datasets.get("target")
    assert [(c.name, c.type) for c in target.classes] == [("yield", "bbox"), ("stop_sign", "bbox")]
    assert (target.image_count, target.completed_image_count) == (2, 2)
    copied = client.images.get("target", source[0].filename)
    assert (copied.tags, copied.split, copied.annotation_count) == (
        [*source[0].tags, "sunny"],
        "val",
        2,
    )
    again = client.batch.copy_to_dataset(
        DATASET, [source[0].id], "target", target_directory_path="/in"
    )
    assert (again.renamed, again.classes_added) == (1, [])


def test_copy_to_an_unknown_dataset_is_404(fake: FakePictograph, client: pictograph.Client) -> None:
    before = world_state(fake)
    with pytest.raises(NotFoundError):
        client.batch.copy_to_dataset(DATASET, ids(client, 1), "nope")
    assert world_state(fake) == before


async def test_async_copy_to_dataset(aclient: pictograph.AsyncClient) -> None:
    await aclient.datasets.create("target")
    image = (await aclient.images.list(DATASET, limit=1))[0]
    result = await aclient.batch.copy_to_dataset(DATASET, [image.id], "target")
    # In the order the copied labels first use them.
    assert result.classes_added == ["yield", "stop_sign"]
    assert (result.target_dataset, result.operation) == ("target", None)


# ── delete ──


def test_delete_archives_by_default(client: pictograph.Client) -> None:
    chosen = ids(client, 2)
    result = client.batch.delete(DATASET, [*chosen, GHOST])
    assert (result.processed, result.operation, len(result.failed)) == (2, "archived", 1)
    dataset = client.datasets.get(DATASET)
    assert (dataset.image_count, dataset.archived_image_count) == (18, 2)


def test_permanent_delete_needs_admin(fake: FakePictograph) -> None:
    with role_client(fake, "member") as member:
        chosen = ids(member, 2)
        before = world_state(fake)
        with pytest.raises(ForbiddenError) as refused:
            member.batch.delete(DATASET, chosen, permanent=True)
        assert refused.value.message == "Only admin or owner roles can permanently delete images."
        assert world_state(fake) == before
        assert member.batch.delete(DATASET, chosen).operation == "archived"
    with role_client(fake, "admin") as admin:
        result = admin.batch.delete(DATASET, chosen, permanent=True)
        assert (result.processed, result.operation) == (2, "deleted")
        assert all(i not in fake.world.images for i in chosen)
        assert admin.datasets.get(DATASET).archived_image_count == 0


def test_viewer_cannot_run_batch_operations(fake: FakePictograph) -> None:
    with role_client(fake, "viewer") as viewer:
        chosen = ids(viewer, 1)
        before = world_state(fake)
        with pytest.raises(ForbiddenError):
            viewer.batch.update(DATASET, chosen, status="complete")
        with pytest.raises(ForbiddenError):
            viewer.batch.move(DATASET, chosen, target_directory_path="/x")
        with pytest.raises(ForbiddenError):
            viewer.batch.copy(DATASET, chosen)
        with pytest.raises(ForbiddenError):
            viewer.batch.delete(DATASET, chosen)
        assert world_state(fake) == before


async def test_async_update_and_delete(aclient: pictograph.AsyncClient) -> None:
    chosen = [i.id for i in await aclient.images.list(DATASET, status="new", limit=2)]
    updated = await aclient.batch.update(DATASET, chosen, status="complete")
    assert updated.processed == 2
    assert (await aclient.datasets.get(DATASET)).completed_image_count == 14
    with pytest.raises(ValidationError):
        await aclient.batch.update(DATASET, chosen, status=IN_PROGRESS)
    deleted = await aclient.batch.delete(DATASET, chosen, permanent=True)
    assert deleted.operation == "deleted"


def test_full_flow_marks_uploaded_images_complete(
    client: pictograph.Client, tmp_path: Path
) -> None:
    client.datasets.create("ds1", classes=[{"name": "thing", "type": "bbox"}])
    uploaded = []
    for n in range(3):
        image = client.images.upload("ds1", write_image(tmp_path / f"img{n}.png"))
        client.annotations.save(
            "ds1",
            image.id,
            [BBoxAnnotation(name="thing", bounding_box=BoundingBox(x=1, y=1, w=4, h=4))],
        )
        assert client.images.get("ds1", image.id).status == "new"
        uploaded.append(image.id)
    client.batch.update("ds1", uploaded, status="complete")
    dataset = client.datasets.get("ds1")
    assert (dataset.image_count, dataset.completed_image_count) == (3, 3)


def test_copies_share_their_sources_files_and_count_once_against_the_plan(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # The SDK's `copy_to_dataset`: copies "do not count toward your image quota a second
    # time". Deleting the source leaves the copies, which then hold the files alone.
    fake.add_dataset("target")
    before = client.connectors.check_limits(total_images=0, estimated_size_bytes=0)
    every = [i.id for i in client.images.iter(DATASET)]
    assert client.batch.copy_to_dataset(DATASET, every, "target").processed == len(every)
    after = client.connectors.check_limits(total_images=0, estimated_size_bytes=0)
    assert (after.current_images, after.current_storage_bytes) == (
        before.current_images,
        before.current_storage_bytes,
    )
    client.datasets.delete(DATASET)
    alone = client.connectors.check_limits(total_images=0, estimated_size_bytes=0)
    assert alone.current_images == before.current_images


async def test_async_copies_count_once_against_the_plan(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    fake.add_dataset("target")
    before = await aclient.connectors.check_limits(total_images=0, estimated_size_bytes=0)
    every = [i.id async for i in aclient.images.iter(DATASET)]
    await aclient.batch.copy_to_dataset(DATASET, every, "target")
    after = await aclient.connectors.check_limits(total_images=0, estimated_size_bytes=0)
    assert after.current_images == before.current_images


# ── rules a mutation round of the image service found no test holding ──


def ids_of(client: pictograph.Client, dataset: str) -> list[str]:
    """Every live image of ``dataset``, newest first."""
    return [i.id for i in client.images.iter(dataset)]


def test_deleting_all_images_but_one_leaves_that_one_listed(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_dataset("pair", images=2)
    first, second = ids_of(client, "pair")
    assert client.batch.delete("pair", [first], permanent=True).processed == 1
    assert ids_of(client, "pair") == [second]
    assert client.datasets.get("pair").image_count == 1


def test_deleting_every_image_empties_each_listing_until_the_next_upload(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    every = ids_of(client, DATASET)
    client.batch.update(DATASET, every[:3], status="review")
    assert client.batch.delete(DATASET, every, permanent=True).processed == 20
    assert ids_of(client, DATASET) == []
    assert client.images.list(DATASET, status="review") == []
    image = client.images.upload(DATASET, write_image(tmp_path / "a.png"))
    assert ids_of(client, DATASET) == [image.id]
    assert [i.id for i in client.images.list(DATASET, status="new")] == [image.id]


async def test_async_deleting_every_image_empties_the_listing(
    aclient: pictograph.AsyncClient,
) -> None:
    every = [i.id async for i in aclient.images.iter(DATASET)]
    await aclient.batch.delete(DATASET, every, permanent=True)
    assert await aclient.images.list(DATASET) == []
    assert (await aclient.datasets.get(DATASET)).image_count == 0


def test_delete_reports_the_directories_it_emptied_from(
    client: pictograph.Client, tmp_path: Path
) -> None:
    a = client.images.upload(DATASET, write_image(tmp_path / "a.png"), directory_path="/a")
    b = client.images.upload(DATASET, write_image(tmp_path / "b.png"), directory_path="/b/c")
    result = client.batch.delete(DATASET, [a.id, b.id, GHOST])
    assert (result.processed, result.operation) == (2, "archived")
    assert result.affected_directories == ["/a", "/b/c"]


def test_a_move_into_the_images_own_directory_renames_nothing(
    client: pictograph.Client, tmp_path: Path
) -> None:
    image = client.images.upload(DATASET, write_image(tmp_path / "x.png"), directory_path="/d")
    result = client.batch.move(DATASET, [image.id], target_directory_path="/d")
    assert (result.processed, result.renamed, result.affected_directories) == (1, 0, ["/d"])
    assert client.images.get(DATASET, image.id).filename == "x.png"


async def test_async_a_move_into_the_images_own_directory_renames_nothing(
    aclient: pictograph.AsyncClient,
) -> None:
    image = (await aclient.images.list(DATASET, limit=1))[0]
    result = await aclient.batch.move(DATASET, [image.id], target_directory_path="/")
    assert (result.processed, result.renamed) == (1, 0)
    assert (await aclient.images.get(DATASET, image.id)).filename == image.filename


def test_overwrite_replaces_the_image_it_finds_and_never_one_being_copied(
    client: pictograph.Client, tmp_path: Path
) -> None:
    path = write_image(tmp_path / "p.png")
    kept = client.images.upload(DATASET, path, directory_path="/t")
    source = client.images.upload(DATASET, path, directory_path="/s")
    # `kept` is a source too: it is not overwritten by `source`'s copy.
    both = client.batch.copy(
        DATASET, [kept.id, source.id], target_directory_path="/t", duplicate_handling="overwrite"
    )
    assert both.processed == 0
    assert sorted(f.id for f in both.failed) == sorted([kept.id, source.id])
    assert "is itself being copied" in {f.id: f.reason for f in both.failed}[source.id]
    replaced = client.batch.copy(
        DATASET, [source.id], target_directory_path="/t", duplicate_handling="overwrite"
    )
    assert replaced.processed == 1
    (only,) = client.images.list(DATASET, directory_path="/t", include_archived=True)
    assert only.id not in (kept.id, source.id)
    with pytest.raises(NotFoundError):
        client.images.get(DATASET, kept.id)


def test_a_copy_into_another_dataset_takes_the_first_free_suffix(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_dataset("target")
    image = client.images.list(DATASET, limit=1)[0]
    client.batch.copy_to_dataset(DATASET, [image.id], "target")
    again = client.batch.copy_to_dataset(DATASET, [image.id], "target")
    assert (again.processed, again.renamed) == (1, 1)
    stem = image.filename.removesuffix(".jpg")
    names = sorted(i.filename for i in client.images.list("target"))
    assert names == [f"{stem}-1.jpg", image.filename]


def test_a_move_carries_the_directories_image_counts(
    client: pictograph.Client, tmp_path: Path
) -> None:
    image = client.images.upload(DATASET, write_image(tmp_path / "m.png"), directory_path="/a")
    client.directories.create(DATASET, "/b")
    client.batch.move(DATASET, [image.id], target_directory_path="/b")
    counts = {d.full_path: d.image_count for d in client.directories.list(DATASET)}
    assert (counts["/a"], counts["/b"]) == (0, 1)


def test_a_clash_on_a_name_that_is_nearly_all_extension_cuts_the_whole_name(
    client: pictograph.Client, tmp_path: Path
) -> None:
    # No room is left for any stem before `-1.<extension>`: the name itself is cut.
    path = write_image(tmp_path / "photo.png")
    name = "a." + "e" * 252
    client.images.upload(DATASET, path, filename=name, content_type="image/png")
    other = client.images.upload(
        DATASET, path, filename=name, directory_path="/o", content_type="image/png"
    )
    assert client.batch.move(DATASET, [other.id], target_directory_path="/").renamed == 1
    assert client.images.get(DATASET, other.id).filename == name[:253] + "-1"


def test_classes_a_copy_adds_mark_the_target_dataset_updated(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_dataset("target")
    before = client.datasets.get("target").updated_at
    fake.clock.advance(minutes=1)
    image = client.images.list(DATASET, status="complete", limit=1)[0]
    assert client.batch.copy_to_dataset(DATASET, [image.id], "target").classes_added
    after = client.datasets.get("target").updated_at
    assert before is not None
    assert after is not None
    assert after > before


# ── what every batch body must hold ──

_ROUTES: dict[str, tuple[str, dict[str, Any]]] = {
    "update": ("PATCH", {"updates": {"status": "new"}}),
    "move": ("POST", {}),
    "copy": ("POST", {}),
    "copy-to-dataset": ("POST", {"target_dataset_name": "target"}),
    "delete": ("POST", {}),
}


@pytest.mark.parametrize("route", list(_ROUTES))
@pytest.mark.parametrize(
    ("missing", "changes"),
    [
        ("dataset_name", {}),
        ("image_ids", {}),
        (None, {"image_ids": ["  "]}),
        (None, {"image_ids": [GHOST] * 10_001}),
    ],
    ids=["no-dataset", "no-ids", "a-blank-id", "past-the-cap"],
)
def test_every_route_refuses_a_body_without_its_dataset_or_with_bad_ids(
    fake: FakePictograph, route: str, missing: str | None, changes: dict[str, Any]
) -> None:
    """422, before any lookup: a dataset and 1 to 10,000 non-blank ids are required."""
    fake.add_dataset("target")
    method, extra = _ROUTES[route]
    body = {"dataset_name": DATASET, "image_ids": [GHOST], **extra, **changes}
    if missing is not None:
        del body[missing]
    before = world_state(fake)
    with raw(fake) as http:
        response = http.request(method, f"{DEV}/batch/images/{route}", json=body)
    assert response.status_code == 422, response.text
    assert world_state(fake) == before


@pytest.mark.parametrize(
    ("route", "missing"), [("update", "updates"), ("copy-to-dataset", "target_dataset_name")]
)
def test_a_route_refuses_a_body_without_what_it_acts_with(
    fake: FakePictograph, route: str, missing: str
) -> None:
    fake.add_dataset("target")
    method, extra = _ROUTES[route]
    body = {"dataset_name": DATASET, "image_ids": [next(iter(fake.world.images))], **extra}
    del body[missing]
    with raw(fake) as http:
        response = http.request(method, f"{DEV}/batch/images/{route}", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["errors"][0]["loc"] == ["body", missing]


def test_a_batch_takes_as_many_as_ten_thousand_ids(client: pictograph.Client) -> None:
    chosen = ids(client, 1)
    ghosts = [f"00000000-0000-4000-8000-{n:012d}" for n in range(9_999)]
    result = client.batch.update(DATASET, [*chosen, *ghosts], status="review")
    assert (result.processed, len(result.failed)) == (1, 9_999)
    assert client.images.get(DATASET, chosen[0]).status == "review"


@pytest.mark.parametrize("route", ["move", "copy", "copy-to-dataset"])
def test_a_bad_target_directory_is_refused_at_its_own_field(
    fake: FakePictograph, route: str
) -> None:
    fake.add_dataset("target")
    method, extra = _ROUTES[route]
    body = {
        "dataset_name": DATASET,
        "image_ids": [next(iter(fake.world.images))],
        "target_directory_path": "/a/../b",
        **extra,
    }
    before = world_state(fake)
    with raw(fake) as http:
        response = http.request(method, f"{DEV}/batch/images/{route}", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["details"]["errors"][0]["loc"] == ["body", "target_directory_path"]
    assert world_state(fake) == before


@pytest.mark.parametrize("status", ["", "done"])
def test_a_bad_status_is_refused_before_the_dataset_is_looked_up(
    client: pictograph.Client, status: Any
) -> None:
    with pytest.raises(ValidationError) as refused:
        client.batch.update("nope", [GHOST], status=status)
    assert (refused.value.status_code, refused.value.message) == (400, STATUS_MESSAGE)


async def test_async_a_bad_status_is_refused_before_the_dataset_is_looked_up(
    aclient: pictograph.AsyncClient,
) -> None:
    with pytest.raises(ValidationError) as refused:
        await aclient.batch.update("nope", [GHOST], status="")
    assert (refused.value.status_code, refused.value.message) == (400, STATUS_MESSAGE)


def test_a_copy_that_names_no_duplicate_handling_renames_on_a_clash(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # The SDK always sends one: only a hand-made body leaves it to the route.
    image = client.images.list(DATASET, limit=1)[0]
    with raw(fake) as http:
        body = http.post(
            f"{DEV}/batch/images/copy",
            json={"dataset_name": DATASET, "image_ids": [image.id]},
        ).json()
    assert (body["processed"], body["failed"]) == (1, [])
    stem = image.filename.removesuffix(".jpg")
    assert client.images.list(DATASET, filename=f"{stem}-2.jpg")  # a copy's first suffix
    assert client.datasets.get(DATASET).image_count == 21


def test_a_copy_into_another_dataset_lands_in_the_directory_named(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_dataset("target")
    image = client.images.list(DATASET, limit=1)[0]
    client.batch.copy_to_dataset(DATASET, [image.id], "target", target_directory_path="in/deep")
    (copied,) = client.images.list("target")
    assert copied.directory_path == "/in/deep"


async def test_async_a_copy_into_another_dataset_lands_in_the_directory_named(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    fake.add_dataset("target")
    image = (await aclient.images.list(DATASET, limit=1))[0]
    await aclient.batch.copy_to_dataset(DATASET, [image.id], "target", target_directory_path="/in")
    (copied,) = await aclient.images.list("target")
    assert copied.directory_path == "/in"
