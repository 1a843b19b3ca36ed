"""Datasets through the real SDK (sync and async): create, read, list, update, archive, delete."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pictograph.exceptions import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PaymentRequiredError,
    ValidationError,
)
from pictograph.models.dataset import DatasetClass

from pictograph_testing import FakePictograph
from pictograph_testing.catalog import PLANS
from pictograph_testing.world.datasets import CLASS_COLORS
from tests.conftest import DATASET, EXPORT
from tests.image_files import DEV, raw, world_state, write_image

if TYPE_CHECKING:
    from pathlib import Path

    import pictograph

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
BAD: Any = ["bbox", "segmentation"]


def role_client(fake: FakePictograph, role: Any) -> pictograph.Client:
    return fake.client(api_key=fake.add_api_key(role), max_retries=0)


# ── create ──


def test_create_returns_every_field(fake: FakePictograph, client: pictograph.Client) -> None:
    dataset = client.datasets.create(
        "pets",
        readme="# Pets",
        description="cats and dogs",
        annotation_types=["bbox", "polygon"],
        classes=[
            {"name": "cat", "type": "bbox"},
            DatasetClass(name="dog", type="polygon", color="#123456"),
            {
                "name": "nose",
                "type": "keypoint",
                "attributes": [{"name": "visible", "type": "checkbox"}],
                "skeleton": {"nodes": [{"name": "nose"}], "edges": []},
            },
        ],
    )
    assert UUID.match(dataset.id)
    assert dataset.organization_id == fake.organization_id
    assert (dataset.name, dataset.description) == ("pets", "cats and dogs")
    assert dataset.annotation_types == ["bbox", "polygon"]
    # A class saved without a colour gets the next palette colour no class has yet.
    assert [c.color for c in dataset.classes] == [CLASS_COLORS[0], "#123456", CLASS_COLORS[1]]
    assert dataset.classes[2].attributes is not None
    assert dataset.classes[2].attributes[0].type == "checkbox"
    assert dataset.classes[2].skeleton is not None
    assert (dataset.image_count, dataset.completed_image_count, dataset.total_size) == (0, 0, 0)
    assert (dataset.is_archived, dataset.archived_at, dataset.storage_class) == (
        False,
        None,
        "standard",
    )
    assert dataset.created_at.isoformat() == "2026-05-12T12:00:00+00:00"
    assert fake.world.datasets[dataset.id].readme == "# Pets"


def test_create_with_only_a_name_defaults_to_bbox_and_no_classes(
    client: pictograph.Client,
) -> None:
    dataset = client.datasets.create("bare")
    assert dataset.annotation_types == ["bbox"]
    assert dataset.classes == []


def test_create_answers_201_with_the_data_envelope(fake: FakePictograph) -> None:
    with raw(fake) as http:
        response = http.post(f"{DEV}/datasets/", json={"name": "x"})
    assert response.status_code == 201
    assert response.json()["data"]["name"] == "x"


def test_create_duplicate_name_is_a_conflict_and_changes_nothing(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    before = world_state(fake)
    with pytest.raises(ConflictError) as refused:
        client.datasets.create(DATASET)
    assert refused.value.status_code == 409
    assert "already exists" in refused.value.message
    assert world_state(fake) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "annotation_types": ["bbox", "segmentation"]}, "annotation_types"),
        ({"name": "x", "classes": [{"name": ""}]}, "classes"),
        ({"name": "x", "classes": [{"name": "a", "color": "red"}]}, "classes"),
        ({"name": "x", "classes": [{"name": "a"}, {"name": "a"}]}, "classes"),
        (
            {"name": "x", "classes": [{"name": "a", "type": "bbox"}, {"name": "a", "type": "box"}]},
            "classes",
        ),
        ({"name": "x", "classes": [{"type": "bbox"}]}, "classes"),
        ({"name": "x", "classes": ["cat"]}, "classes"),
        (
            {"name": "x", "classes": [{"name": "a", "skeleton": {"nodes": [], "edges": []}}]},
            "classes",
        ),
        (
            {
                "name": "x",
                "classes": [
                    {"name": "a", "skeleton": {"nodes": [{"name": "n"}], "edges": [[0, 3]]}}
                ],
            },
            "classes",
        ),
        (
            {
                "name": "x",
                "classes": [{"name": "a", "attributes": [{"name": "z", "type": "date"}]}],
            },
            "classes",
        ),
        ({"name": ""}, "name"),
        ({"name": "x", "colour": "red"}, "colour"),
        ({}, "name"),
        ({"name": 7}, "name"),
    ],
)
def test_create_refuses_a_bad_body_with_422(
    fake: FakePictograph, body: dict[str, Any], field: str
) -> None:
    before = world_state(fake)
    with raw(fake) as http:
        response = http.post(f"{DEV}/datasets/", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]["errors"][0]["loc"][:2] == ["body", field]
    assert world_state(fake) == before


def test_create_bad_annotation_type_through_the_sdk(client: pictograph.Client) -> None:
    with pytest.raises(ValidationError) as refused:
        client.datasets.create("x", annotation_types=BAD)
    assert refused.value.status_code == 422
    assert refused.value.field_errors[0]["loc"] == ["body", "annotation_types", 1]


def test_a_box_class_and_a_bbox_class_of_one_name_are_one_class(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # The platform stores `box` on a box class and `bbox` on a box annotation: the two
    # spellings are one type, so naming both is the same class twice.
    twice = [{"name": "a", "type": "bbox"}, {"name": "a", "type": "box"}]
    before = world_state(fake)
    with pytest.raises(ValidationError, match="Duplicate class 'a'") as refused:
        client.datasets.create("x", classes=twice)
    assert refused.value.field_errors[0]["loc"] == ["body", "classes", 1, "name"]
    with pytest.raises(ValidationError, match="Duplicate class 'a'"):
        client.datasets.update(DATASET, classes=twice)
    assert world_state(fake) == before
    # Each spelling is stored as written.
    created = client.datasets.create("y", classes=[{"name": "a", "type": "box"}])
    assert [(c.name, c.type) for c in created.classes] == [("a", "box")]


async def test_async_a_box_class_and_a_bbox_class_are_one_class(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    before = world_state(fake)
    with pytest.raises(ValidationError, match="Duplicate class 'a'"):
        await aclient.datasets.create(
            "x", classes=[{"name": "a", "type": "box"}, {"name": "a", "type": "bbox"}]
        )
    assert world_state(fake) == before


async def test_async_create_get_and_conflict(aclient: pictograph.AsyncClient) -> None:
    created = await aclient.datasets.create("async-ds", classes=[{"name": "a", "type": "bbox"}])
    fetched = await aclient.datasets.get("async-ds")
    assert fetched.id == created.id
    assert (await aclient.datasets.get(dataset_id=created.id)).name == "async-ds"
    with pytest.raises(ConflictError):
        await aclient.datasets.create("async-ds")


# ── get ──


def test_get_by_name_and_by_id_give_the_same_dataset(client: pictograph.Client) -> None:
    by_name = client.datasets.get(DATASET)
    by_id = client.datasets.get(dataset_id=by_name.id)
    assert by_name == by_id
    assert (by_name.image_count, by_name.completed_image_count) == (20, 12)
    assert by_name.images is None
    assert [c.name for c in by_name.classes] == ["stop_sign", "yield"]


def test_get_missing_dataset_is_404(client: pictograph.Client) -> None:
    with pytest.raises(NotFoundError):
        client.datasets.get("nope")
    with pytest.raises(NotFoundError):
        client.datasets.get(dataset_id="00000000-0000-4000-8000-000000000000")


def test_counts_and_size_are_derived_from_the_images(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    client.datasets.create("sized")
    first = client.images.upload("sized", write_image(tmp_path / "a.png", (40, 30)))
    second = client.images.upload("sized", write_image(tmp_path / "b.png", (50, 30)))
    dataset = client.datasets.get("sized")
    assert dataset.image_count == 2
    assert dataset.total_size == first.file_size + second.file_size > 0
    client.batch.update("sized", [first.id], status="complete")
    client.batch.delete("sized", [second.id])
    dataset = client.datasets.get("sized")
    assert (dataset.image_count, dataset.completed_image_count) == (1, 1)
    assert (dataset.archived_image_count, dataset.total_size) == (1, first.file_size)


def test_kept_counts_follow_every_change_of_the_images(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    client.datasets.create("kept")
    ids = [
        client.images.upload("kept", write_image(tmp_path / f"{n}.png", (30 + n, 20))).id
        for n in range(5)
    ]
    client.batch.update("kept", ids[:3], status="complete")
    client.images.review("kept", ids[0], "request_changes")
    client.batch.delete("kept", [ids[1]])  # archived
    client.batch.update("kept", [ids[1]], is_archived=False)
    client.batch.delete("kept", [ids[2]])
    client.images.delete("kept", ids[3], permanent=True)

    dataset = client.datasets.get("kept")
    everything = fake.world.dataset_images(
        fake.world.dataset(fake.world.default_org.id, "kept"), archived=True
    )
    live = [i for i in everything if not i.is_archived]
    assert (
        dataset.image_count,
        dataset.completed_image_count,
        dataset.archived_image_count,
        dataset.total_size,
    ) == (
        len(live),
        sum(1 for i in live if i.status == "complete"),
        len(everything) - len(live),
        sum(i.file_size for i in live),
    )
    assert (dataset.image_count, dataset.completed_image_count) == (3, 1)


def test_include_images_embeds_a_window_of_the_images(client: pictograph.Client) -> None:
    dataset = client.datasets.get(DATASET, include_images=True, images_limit=5, images_offset=3)
    assert dataset.images is not None
    assert [i.filename for i in dataset.images] == [f"img-{n:05d}.jpg" for n in range(4, 9)]
    assert all(i.dataset_id == dataset.id for i in dataset.images)
    whole = client.datasets.get(DATASET, include_images=True)
    assert whole.images is not None
    assert len(whole.images) == 20


def test_include_images_limit_must_be_positive(fake: FakePictograph) -> None:
    with raw(fake) as http:
        response = http.get(
            f"{DEV}/datasets/{DATASET}", params={"include_images": "true", "images_limit": 0}
        )
    assert response.status_code == 422


# ── list / iter ──


def test_list_pages_newest_first_and_iter_reads_them_all(client: pictograph.Client) -> None:
    for n in range(5):
        client.datasets.create(f"ds-{n}")
    names = [d.name for d in client.datasets.list()]
    assert names == ["ds-4", "ds-3", "ds-2", "ds-1", "ds-0", DATASET]
    assert [d.name for d in client.datasets.list(limit=2, offset=1)] == ["ds-3", "ds-2"]
    assert [d.name for d in client.datasets.iter(page_size=2)] == names
    assert [d.name for d in client.datasets.iter(page_size=2, max_total=3)] == names[:3]


def test_list_pagination_has_more(fake: FakePictograph) -> None:
    with raw(fake) as http:
        body = http.get(f"{DEV}/datasets/", params={"limit": 1}).json()
    assert body["pagination"] == {"limit": 1, "offset": 0, "total": 1, "has_more": False}


async def test_async_list_and_iter(aclient: pictograph.AsyncClient) -> None:
    await aclient.datasets.create("second")
    assert [d.name for d in await aclient.datasets.list()] == ["second", DATASET]
    assert [d.name async for d in aclient.datasets.iter(page_size=1)] == ["second", DATASET]


# ── archive ──


def test_archive_hides_a_dataset_from_the_default_list(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.clock.advance(60)
    archived = client.datasets.archive(DATASET)
    assert archived.is_archived
    assert archived.archived_at is not None
    assert archived.archived_at.isoformat() == "2026-05-12T12:01:00+00:00"
    assert client.datasets.list() == []
    assert [d.name for d in client.datasets.list(archived=True)] == [DATASET]
    assert [d.name for d in client.datasets.iter(archived=True)] == [DATASET]
    assert client.datasets.archive(DATASET).archived_at == archived.archived_at  # idempotent
    assert client.datasets.get(DATASET).is_archived
    restored = client.datasets.unarchive(DATASET)
    assert (restored.is_archived, restored.archived_at) == (False, None)
    assert client.datasets.unarchive(DATASET).is_archived is False
    assert [d.name for d in client.datasets.list()] == [DATASET]


async def test_async_archive_and_unarchive(aclient: pictograph.AsyncClient) -> None:
    assert (await aclient.datasets.archive(DATASET)).is_archived
    assert [d.name for d in await aclient.datasets.list(archived=True)] == [DATASET]
    assert not (await aclient.datasets.unarchive(DATASET)).is_archived


# ── update ──


def test_update_renames_and_the_old_name_is_gone(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.clock.advance(5)
    updated = client.datasets.update(DATASET, new_name="signs", readme="r", description="d")
    assert updated.name == "signs"
    assert updated.description == "d"
    assert updated.updated_at is not None
    assert updated.updated_at > updated.created_at
    assert client.datasets.get("signs").id == updated.id
    with pytest.raises(NotFoundError):
        client.datasets.get(DATASET)
    # The export follows its dataset's new name.
    assert client.exports.get("signs", EXPORT).dataset_name == "signs"


def test_rename_onto_another_dataset_is_a_conflict(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    client.datasets.create("other")
    before = world_state(fake)
    with pytest.raises(ConflictError) as refused:
        client.datasets.update("other", new_name=DATASET, readme="never written")
    assert "already exists" in refused.value.message
    assert world_state(fake) == before
    # Renaming a dataset to its own name is no clash.
    assert client.datasets.update("other", new_name="other").name == "other"


def test_update_replaces_types_and_classes(client: pictograph.Client) -> None:
    updated = client.datasets.update(
        DATASET,
        annotation_types=["polygon"],
        classes=[{"name": "car", "type": "polygon"}, {"name": "bus", "type": "polygon"}],
    )
    assert updated.annotation_types == ["polygon"]
    assert [(c.name, c.color) for c in updated.classes] == [
        ("car", CLASS_COLORS[0]),
        ("bus", CLASS_COLORS[1]),
    ]


def test_classes_base_keeps_a_class_another_writer_added(client: pictograph.Client) -> None:
    read = client.datasets.get(DATASET)
    # Another writer adds a class after our read.
    client.datasets.update(DATASET, classes=[*read.classes, DatasetClass(name="late", type="bbox")])
    edited = [c for c in read.classes if c.name != "yield"]
    edited.append(DatasetClass(name="bus", type="bbox"))
    edited[0] = DatasetClass(name="stop_sign", type="bbox", color="#000000")
    merged = client.datasets.update(DATASET, classes=edited, classes_base=read.classes)
    assert [(c.name, c.color) for c in merged.classes] == [
        ("stop_sign", "#000000"),
        ("late", CLASS_COLORS[2]),
        ("bus", CLASS_COLORS[0]),  # stop_sign's old colour is free again
    ]
    # Without classes_base the same list replaces, and the late class is gone.
    replaced = client.datasets.update(DATASET, classes=edited)
    assert [c.name for c in replaced.classes] == ["stop_sign", "bus"]


def test_classes_base_edits_a_bbox_class_read_as_box(client: pictograph.Client) -> None:
    # An edit keys classes by name and type, `box` and `bbox` one type: an edit written
    # with the other spelling changes the stored class rather than adding a second one.
    read = client.datasets.get(DATASET)
    assert [c.type for c in read.classes] == ["bbox", "bbox"]
    base = [c.model_copy(update={"type": "box"}) for c in read.classes]
    edited = [base[0].model_copy(update={"color": "#000000"}), base[1]]
    merged = client.datasets.update(DATASET, classes=edited, classes_base=base)
    assert [(c.name, c.type, c.color) for c in merged.classes] == [
        ("stop_sign", "box", "#000000"),
        ("yield", "bbox", read.classes[1].color),
    ]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"classes_base": []},
        {"new_name": ""},
        {"annotation_types": ["mask"]},
        {"classes": [{"name": "a"}, {"name": "a"}]},
        {"classes": [{"name": "a", "type": "box"}, {"name": "a", "type": "bbox"}]},
        {"name": "renamed"},
    ],
)
def test_update_refuses_a_bad_body_with_422(fake: FakePictograph, body: dict[str, Any]) -> None:
    before = world_state(fake)
    with raw(fake) as http:
        response = http.patch(f"{DEV}/datasets/{DATASET}", json=body)
    assert response.status_code == 422, response.text
    assert world_state(fake) == before


def test_update_of_a_missing_dataset_is_404(client: pictograph.Client) -> None:
    with pytest.raises(NotFoundError):
        client.datasets.update("nope", readme="x")


async def test_async_update(aclient: pictograph.AsyncClient) -> None:
    updated = await aclient.datasets.update(DATASET, new_name="renamed", classes=[{"name": "a"}])
    assert (updated.name, [c.name for c in updated.classes]) == ("renamed", ["a"])


# ── delete ──


def test_delete_returns_the_summary_and_removes_images_and_exports(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    dataset = client.datasets.get(DATASET)
    client.images.upload(DATASET, write_image(tmp_path / "a.png"), directory_path="/x/y")
    image_ids = list(fake.world.datasets[dataset.id].image_ids)
    summary = client.datasets.delete(DATASET)
    assert summary == {
        "id": dataset.id,
        "name": DATASET,
        "deleted": True,
        "images_deleted": 21,
        "directories_deleted": 2,
        "gcs_blobs_deleted": 21,
        "gcs_blobs_retained_for_forks": 0,
    }
    assert not any(i in fake.world.images for i in image_ids)
    assert fake.world.exports == {}
    with pytest.raises(NotFoundError):
        client.datasets.get(DATASET)
    with pytest.raises(NotFoundError):
        client.datasets.delete(DATASET)


def _copy_three_to_a_fork(client: pictograph.Client) -> None:
    client.datasets.create("fork")
    ids = [i.id for i in client.images.list(DATASET, limit=3)]
    client.batch.copy_to_dataset(DATASET, ids, "fork")


def _files_deleted_and_kept(client: pictograph.Client, dataset: str) -> tuple[int, int]:
    summary = client.datasets.delete(dataset)
    return summary["gcs_blobs_deleted"], summary["gcs_blobs_retained_for_forks"]


def test_delete_keeps_files_a_copy_in_another_dataset_shares(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _copy_three_to_a_fork(client)
    assert _files_deleted_and_kept(client, DATASET) == (17, 3)
    assert client.datasets.get("fork").image_count == 3
    # The copies now hold those files alone.
    assert _files_deleted_and_kept(client, "fork") == (3, 0)


def test_delete_of_a_copy_keeps_the_files_its_source_still_uses(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _copy_three_to_a_fork(client)
    assert _files_deleted_and_kept(client, "fork") == (0, 3)
    assert _files_deleted_and_kept(client, DATASET) == (20, 0)


async def test_async_delete(aclient: pictograph.AsyncClient) -> None:
    summary = await aclient.datasets.delete(DATASET)
    assert summary["deleted"] is True
    assert summary["images_deleted"] == 20
    with pytest.raises(NotFoundError):
        await aclient.datasets.get(DATASET)


# ── roles ──


def test_viewer_reads_but_cannot_write(fake: FakePictograph) -> None:
    with role_client(fake, "viewer") as viewer:
        assert viewer.datasets.get(DATASET).name == DATASET
        assert len(viewer.datasets.list()) == 1
        before = world_state(fake)
        with pytest.raises(ForbiddenError):
            viewer.datasets.create("x")
        with pytest.raises(ForbiddenError):
            viewer.datasets.update(DATASET, readme="x")
        with pytest.raises(ForbiddenError):
            viewer.datasets.delete(DATASET)
        assert world_state(fake) == before


def test_member_creates_and_updates_but_admin_archives_and_deletes(fake: FakePictograph) -> None:
    with role_client(fake, "member") as member:
        member.datasets.create("mine")
        member.datasets.update("mine", readme="x")
        before = world_state(fake)
        for refused in (member.datasets.archive, member.datasets.unarchive, member.datasets.delete):
            with pytest.raises(ForbiddenError) as error:
                refused("mine")
            assert error.value.code == "forbidden"
        assert world_state(fake) == before
    with role_client(fake, "admin") as admin:
        assert admin.datasets.archive("mine").is_archived
        assert admin.datasets.delete("mine")["deleted"] is True


# ── insights and the download listing ──


def test_insights_are_derived_from_the_live_images(client: pictograph.Client) -> None:
    from pictograph import BBoxAnnotation, BoundingBox

    image = client.images.list(DATASET, limit=1)[0]
    client.annotations.save(
        DATASET,
        image.id,
        [
            BBoxAnnotation(
                name="yield", bounding_box=BoundingBox(x=0, y=0, w=3, h=3), confidence=0.4
            )
        ],
    )
    client.batch.delete(DATASET, [client.images.list(DATASET, limit=2)[1].id])
    insights = client.datasets.insights(DATASET)
    assert (insights.total_images, insights.total_annotations) == (19, 37)
    assert insights.status_counts.complete + insights.status_counts.new == 19
    assert insights.class_annotation_counts["yield"] == 19
    assert insights.type_counts == {"bbox": 37}
    assert insights.annotation_density == {"1": 1, "2-5": 18}
    assert insights.dimensions.sizes[0].count == 19
    assert insights.model_confidence is not None
    assert (insights.model_confidence.flagged, insights.model_confidence.lowest) == (1, 0.4)


def test_download_writes_images_and_annotation_files(
    client: pictograph.Client, tmp_path: Path
) -> None:
    report = client.datasets.download(DATASET, tmp_path / "all")
    assert (report.images_downloaded, report.annotations_downloaded, report.failures) == (
        20,
        20,
        [],
    )
    image = client.images.list(DATASET, limit=1)[0]
    direct = client.images.download(DATASET, image.id, tmp_path / "direct.jpg").read_bytes()
    assert (tmp_path / "all" / image.filename).read_bytes() == direct
    done = client.datasets.download(
        DATASET, tmp_path / "done", mode="images_only", status_filter="complete"
    )
    assert (done.images_downloaded, done.annotations_downloaded) == (12, 0)
    only_labels = client.datasets.download(DATASET, tmp_path / "labels", mode="annotations_only")
    assert (only_labels.images_downloaded, only_labels.annotations_downloaded) == (0, 20)
    with pytest.raises(ValidationError):
        client.datasets.download(DATASET, tmp_path / "x", status_filter="in_progress")


def test_an_image_deleted_for_good_is_gone_from_its_signed_url(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    headers = {"x-api-key": fake.api_key}
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
        listing = http.get(f"/api/v1/developer/datasets/{DATASET}/download", headers=headers)
        first = listing.json()["data"]["items"][0]
        assert http.get(first["image_url"]).status_code == 200
        client.images.delete(DATASET, first["id"], permanent=True)
        gone = http.get(first["image_url"])
    assert gone.status_code == 404
    assert b"<Code>NoSuchKey</Code>" in gone.content
    assert fake.server_errors == []


async def test_async_insights_and_download(aclient: pictograph.AsyncClient, tmp_path: Path) -> None:
    assert (await aclient.datasets.insights(DATASET)).total_images == 20
    report = await aclient.datasets.download(DATASET, tmp_path)
    assert (report.images_downloaded, report.failures) == (20, [])


# ── the plan's dataset cap ──


def _fill_to_the_free_cap(fake: FakePictograph) -> int:
    """Put the organization on the free plan with as many datasets as it allows."""
    fake.organization.subscription_tier = "free"
    cap = PLANS["free"].max_datasets
    with fake.client(max_retries=0) as client:
        held = len(client.datasets.list())
    for n in range(cap - held):
        fake.add_dataset(f"held-{n}")
    return cap


def test_a_dataset_past_the_plan_s_cap_is_a_402_and_makes_nothing(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    cap = _fill_to_the_free_cap(fake)
    client.datasets.archive("held-0")  # an archived dataset is still held
    with pytest.raises(PaymentRequiredError) as refused:
        client.datasets.create("one-more")
    assert refused.value.code == "limit_exceeded"
    assert refused.value.upgrade_url == "/settings?tab=billing"
    assert refused.value.response is not None
    details = refused.value.response["error"]["details"]
    assert (details["limit_type"], details["current"], details["limit"]) == ("datasets", cap, cap)
    said = "'free' plan allows 10 datasets; the organization holds 10 and this needs one more"
    assert f"{said}: delete 1 or upgrade the plan" in str(refused.value)
    held = len(client.datasets.list()) + len(client.datasets.list(archived=True))
    assert held == cap
    # Room made, a dataset is made; another plan holds more.
    client.datasets.delete("held-1")
    assert client.datasets.create("one-more").name == "one-more"
    fake.organization.subscription_tier = "core"
    assert client.datasets.create("and-another").name == "and-another"


async def test_async_a_dataset_past_the_plan_s_cap_is_a_402(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    _fill_to_the_free_cap(fake)
    with pytest.raises(PaymentRequiredError) as refused:
        await aclient.datasets.create("one-more")
    assert refused.value.code == "limit_exceeded"
    with pytest.raises(NotFoundError):
        await aclient.datasets.get("one-more")
