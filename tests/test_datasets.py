"""Datasets through the real SDK (sync and async): create, read, list, update, archive, delete."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pictograph import BBoxAnnotation, BoundingBox
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
from pictograph_testing.world.datasets import CLASS_COLORS, CLASS_NAME_LIMIT
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


def test_an_empty_list_of_annotation_types_is_kept(client: pictograph.Client) -> None:
    # Only a body without annotation_types gets the default, bbox.
    assert client.datasets.create("untyped", annotation_types=[]).annotation_types == []


async def test_async_an_empty_list_of_annotation_types_is_kept(
    aclient: pictograph.AsyncClient,
) -> None:
    created = await aclient.datasets.create("untyped", annotation_types=[])
    assert created.annotation_types == []


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
        ({"name": "x", "classes": [{"name": "   "}]}, "classes"),
        ({"name": "x", "classes": [{"name": "a", "type": 7}]}, "classes"),
        ({"name": "x", "classes": [{"name": "a", "attributes": ["visible"]}]}, "classes"),
        ({"name": "x", "classes": [{"name": "a", "attributes": [{"name": ""}]}]}, "classes"),
        (
            {
                "name": "x",
                "classes": [
                    {"name": "a", "attributes": [{"name": "v", "type": "select", "values": [1]}]}
                ],
            },
            "classes",
        ),
        ({"name": "x", "classes": [{"name": "a", "skeleton": {"nodes": [{"x": 0.5}]}}]}, "classes"),
        (
            {
                "name": "x",
                "classes": [{"name": "a", "skeleton": {"nodes": [{"name": "n", "x": True}]}}],
            },
            "classes",
        ),
        (
            {
                "name": "x",
                "classes": [{"name": "a", "skeleton": {"nodes": [{"name": "n"}], "edges": 5}}],
            },
            "classes",
        ),
        (
            {
                "name": "x",
                "classes": [
                    {"name": "a", "skeleton": {"nodes": [{"name": "n"}], "edges": [[0, 0, 0]]}}
                ],
            },
            "classes",
        ),
        (
            {
                "name": "x",
                "classes": [
                    {
                        "name": "a",
                        "skeleton": {"nodes": [{"name": "n"}, {"name": "m"}], "edges": [[True, 0]]},
                    }
                ],
            },
            "classes",
        ),
        (
            {
                "name": "x",
                "classes": [
                    {"name": "a", "skeleton": {"nodes": [{"name": "n"}], "edges": [[0, 1]]}}
                ],
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


def test_a_list_of_the_wrong_items_is_refused_naming_what_it_should_hold(
    fake: FakePictograph,
) -> None:
    # The message and the field error agree: classes are objects, not names.
    with raw(fake) as http:
        response = http.post(f"{DEV}/datasets/", json={"name": "pets", "classes": ["cat"]})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["message"] == "classes must be a list of class objects."
    assert error["details"]["errors"] == [
        {
            "loc": ["body", "classes"],
            "msg": "Input should be a list of class objects",
            "type": "list_type",
        }
    ]


def test_a_class_and_an_attribute_name_hold_up_to_120_characters(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    longest = "n" * CLASS_NAME_LIMIT
    created = client.datasets.create(
        "long", classes=[{"name": longest, "attributes": [{"name": longest}]}]
    )
    assert created.classes[0].name == longest
    before = world_state(fake)
    too_long = longest + "n"
    for classes, loc in (
        ([{"name": too_long}], ["body", "classes", 0, "name"]),
        (
            [{"name": "a", "attributes": [{"name": too_long}]}],
            ["body", "classes", 0, "attributes", 0, "name"],
        ),
    ):
        with pytest.raises(ValidationError) as refused:
            client.datasets.create("longer", classes=classes)
        assert refused.value.field_errors[0]["loc"] == loc
        # A name too long is there: it is of the wrong length, not missing.
        assert refused.value.field_errors[0]["type"] == "string_length"
    assert world_state(fake) == before


def test_a_class_field_written_as_null_is_not_stored(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    nulls = {"type": None, "color": None, "attributes": None, "skeleton": None}
    created = client.datasets.create("nulls", classes=[{"name": "a", **nulls}])
    assert [(c.type, c.color) for c in created.classes] == [(None, CLASS_COLORS[0])]
    with raw(fake) as http:
        [stored] = http.get(f"{DEV}/datasets/nulls").json()["data"]["classes"]
    assert stored == {"name": "a", "color": CLASS_COLORS[0]}


def test_a_class_takes_an_untyped_attribute_and_joints_on_the_unit_square_s_edges(
    client: pictograph.Client,
) -> None:
    nodes = [{"name": "head", "x": 0, "y": 1}, {"name": "tail", "x": 1, "y": 0}]
    created = client.datasets.create(
        "poses",
        annotation_types=["keypoint"],
        classes=[
            {
                "name": "cat",
                "type": "keypoint",
                "attributes": [{"name": "note"}],
                "skeleton": {"nodes": nodes, "edges": [[0, 1]]},
            }
        ],
    )
    [cat] = created.classes
    assert cat.attributes is not None
    assert [(a.name, a.type) for a in cat.attributes] == [("note", "text")]
    assert cat.skeleton is not None
    assert [(j.x, j.y) for j in cat.skeleton.nodes] == [(0.0, 1.0), (1.0, 0.0)]
    assert cat.skeleton.edges == [(0, 1)]


async def test_async_a_joint_off_the_unit_square_is_refused(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    before = world_state(fake)
    for x in (-0.01, 1.01):
        skeleton = {"nodes": [{"name": "head", "x": x}]}
        with pytest.raises(ValidationError) as refused:
            await aclient.datasets.create("poses", classes=[{"name": "cat", "skeleton": skeleton}])
        assert refused.value.field_errors[0]["loc"][-2:] == [0, "x"]
    assert world_state(fake) == before


def test_a_refusal_of_classes_names_every_bad_class(client: pictograph.Client) -> None:
    with pytest.raises(ValidationError) as refused:
        client.datasets.create(
            "x", classes=[{"name": "a", "color": "red"}, {"name": "b"}, {"name": "c", "type": 7}]
        )
    assert [e["loc"][2:] for e in refused.value.field_errors] == [[0, "color"], [2, "type"]]
    assert "classes.0.color: Input should be a hex colour" in refused.value.message
    assert "classes.2.type: Input should be a valid string" in refused.value.message


async def test_async_annotation_types_named_twice_are_kept_once(
    aclient: pictograph.AsyncClient,
) -> None:
    created = await aclient.datasets.create("twice", annotation_types=["bbox", "polygon", "bbox"])
    assert created.annotation_types == ["bbox", "polygon"]
    updated = await aclient.datasets.update("twice", annotation_types=["keypoint", "keypoint"])
    assert updated.annotation_types == ["keypoint"]


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


def test_a_class_colour_is_a_hex_colour_of_three_six_or_eight_digits(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    written = ["#abc", "#A1B2C3", "#11223344"]
    created = client.datasets.create(
        "painted", classes=[{"name": f"c{n}", "color": c} for n, c in enumerate(written)]
    )
    assert [c.color for c in created.classes] == written
    before = world_state(fake)
    # Four digits are no hex colour, and the colour is the whole text, nothing after it.
    for bad in ("#abcd", "#123456zz", "123456"):
        with pytest.raises(ValidationError) as refused:
            client.datasets.create("unpainted", classes=[{"name": "a", "color": bad}])
        assert refused.value.field_errors[0]["loc"] == ["body", "classes", 0, "color"]
    assert world_state(fake) == before


def test_a_palette_colour_written_in_capitals_is_not_given_again(
    client: pictograph.Client,
) -> None:
    written = CLASS_COLORS[0].upper()
    created = client.datasets.create(
        "caps", classes=[{"name": "a", "color": written}, {"name": "b"}]
    )
    assert [c.color for c in created.classes] == [written, CLASS_COLORS[1]]


def test_classes_past_the_palette_take_its_colours_again_by_their_place(
    client: pictograph.Client,
) -> None:
    many = [{"name": f"class-{n}"} for n in range(len(CLASS_COLORS) + 2)]
    created = client.datasets.create("many", classes=many)
    assert [c.color for c in created.classes] == [*CLASS_COLORS, *CLASS_COLORS[:2]]


async def test_async_a_class_colour_of_four_digits_is_refused(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    before = world_state(fake)
    with pytest.raises(ValidationError) as refused:
        await aclient.datasets.update(DATASET, classes=[{"name": "a", "color": "#abcd"}])
    assert refused.value.field_errors[0]["loc"] == ["body", "classes", 0, "color"]
    assert world_state(fake) == before
    updated = await aclient.datasets.update(DATASET, classes=[{"name": "a", "color": "#abc"}])
    assert [c.color for c in updated.classes] == ["#abc"]


def test_a_new_dataset_was_last_updated_when_it_was_made(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.clock.advance(90)
    created = client.datasets.create("fresh")
    assert created.created_at.isoformat() == "2026-05-12T12:01:30+00:00"
    assert created.updated_at == created.created_at
    assert client.datasets.get("fresh").updated_at == created.created_at


def test_add_dataset_refuses_a_description_that_is_not_unicode(fake: FakePictograph) -> None:
    import os

    before = world_state(fake)
    with pytest.raises(ValueError, match="description holds a lone surrogate"):
        fake.add_dataset("photos", description=os.fsdecode(b"shot on \xff"))
    assert world_state(fake) == before


async def test_add_dataset_makes_one_object_box_class_unless_told_and_goes_past_the_plan(
    fake: FakePictograph, client: pictograph.Client, aclient: pictograph.AsyncClient
) -> None:
    """Without ``classes`` the dataset has one class, ``object``, a box (with no
    annotation types too); a test's own set-up goes past the plan's dataset cap, which
    only the API's routes hold."""
    fake.add_dataset("plain")
    fake.add_dataset("no-types", annotation_types=[])
    for name in ("plain", "no-types"):
        shown = await aclient.datasets.get(name)
        assert [(c.name, c.type) for c in shown.classes] == [("object", "bbox")]
    fake.organization.subscription_tier = "free"
    cap = PLANS["free"].max_datasets
    for n in range(cap):
        fake.add_dataset(f"extra-{n}")
    assert len(client.datasets.list()) == cap + 3
    with pytest.raises(PaymentRequiredError):
        client.datasets.create("one-more")


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


def test_include_images_embeds_up_to_1000_by_default(fake: FakePictograph) -> None:
    fake.add_dataset("many", images=101)
    with raw(fake) as http:
        data = http.get(f"{DEV}/datasets/many", params={"include_images": "true"}).json()["data"]
    assert len(data["images"]) == 101


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


def test_list_pages_100_by_default_and_at_most_1000(fake: FakePictograph) -> None:
    with raw(fake) as http:
        default = http.get(f"{DEV}/datasets/").json()["pagination"]
        capped = http.get(f"{DEV}/datasets/", params={"limit": 5000}).json()["pagination"]
    assert (default["limit"], capped["limit"]) == (100, 1000)


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


def test_archiving_again_keeps_the_first_archive_time_and_changes_nothing(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.clock.advance(60)
    archived = client.datasets.archive(DATASET)
    # Archiving is a change of the dataset: it was last updated then.
    assert archived.updated_at == archived.archived_at
    assert archived.updated_at is not None
    assert archived.updated_at.isoformat() == "2026-05-12T12:01:00+00:00"
    fake.clock.advance(60)
    again = client.datasets.archive(DATASET)
    assert (again.archived_at, again.updated_at) == (archived.archived_at, archived.updated_at)
    fake.clock.advance(60)
    restored = client.datasets.unarchive(DATASET)
    assert restored.updated_at is not None
    assert restored.updated_at.isoformat() == "2026-05-12T12:03:00+00:00"
    fake.clock.advance(60)
    assert client.datasets.unarchive(DATASET).updated_at == restored.updated_at


async def test_async_archiving_again_keeps_the_first_archive_time(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    archived = await aclient.datasets.archive(DATASET)
    fake.clock.advance(60)
    again = await aclient.datasets.archive(DATASET)
    assert (again.archived_at, again.updated_at) == (archived.archived_at, archived.updated_at)


def test_an_unarchived_dataset_is_listed_in_its_place_by_creation(
    client: pictograph.Client,
) -> None:
    # Made at one instant: listed newest created first, before and after an archive.
    for name in ("first", "second"):
        client.datasets.create(name)
    listed = [d.name for d in client.datasets.list()]
    assert listed == ["second", "first", DATASET]
    client.datasets.archive("first")
    client.datasets.archive(DATASET)
    assert [d.name for d in client.datasets.list(archived=True)] == ["first", DATASET]
    client.datasets.unarchive(DATASET)
    client.datasets.unarchive("first")
    assert [d.name for d in client.datasets.list()] == listed


async def test_async_an_unarchived_dataset_is_listed_in_its_place(
    aclient: pictograph.AsyncClient,
) -> None:
    await aclient.datasets.create("later")
    await aclient.datasets.archive(DATASET)
    await aclient.datasets.unarchive(DATASET)
    assert [d.name for d in await aclient.datasets.list()] == ["later", DATASET]


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


def test_update_rewrites_the_readme_its_explore_card_shows(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    client.datasets.update(DATASET, readme="# Road signs, v2")
    fake.publish_dataset(DATASET)
    [row] = client.explore.datasets(search=DATASET)
    assert client.explore.dataset(row.ref).readme == "# Road signs, v2"
    # A change of another field leaves the card as it was.
    client.datasets.update(DATASET, description="signs")
    assert client.explore.dataset(row.ref).readme == "# Road signs, v2"


async def test_async_update_rewrites_the_readme(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    await aclient.datasets.update(DATASET, readme="# Signs")
    fake.publish_dataset(DATASET)
    [row] = await aclient.explore.datasets(search=DATASET)
    assert (await aclient.explore.dataset(row.ref)).readme == "# Signs"


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
    held = fake.world.datasets[dataset.id]
    image_ids = list(held.image_ids)
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
    assert fake.world.directory_service.of_dataset(held) == []
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


def test_delete_counts_and_removes_the_archived_images_too(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    archived = [i.id for i in client.images.list(DATASET, limit=2)]
    client.batch.delete(DATASET, archived)  # archived, still held by the dataset
    assert client.datasets.get(DATASET).archived_image_count == 2
    summary = client.datasets.delete(DATASET)
    assert (summary["images_deleted"], summary["gcs_blobs_deleted"]) == (20, 20)
    assert not any(i in fake.world.images for i in archived)


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


def _boxes(name: str, *confidences: float) -> list[BBoxAnnotation]:
    return [
        BBoxAnnotation(
            name=name, bounding_box=BoundingBox(x=n, y=0, w=3, h=3), confidence=confidence
        )
        for n, confidence in enumerate(confidences)
    ]


def test_insights_count_each_image_s_classes_sizes_and_lowest_confidence(
    client: pictograph.Client, tmp_path: Path
) -> None:
    client.datasets.create("health", classes=[{"name": "yield"}, {"name": "car"}])
    # (size, boxes): each image's lowest confidence falls on a bucket's edge.
    shots = [
        ((40, 30), _boxes("yield", 0.4567, 1.0, 1.0, 1.0, 1.0)),
        ((40, 30), _boxes("car", 0.5, *[1.0] * 9)),
        ((20, 50), _boxes("car", 0.7, 1.0)),
        ((30, 30), _boxes("car", 0.9)),
        ((30, 30), _boxes("yield", 0.0)),
        ((54, 20), []),
    ]
    sizes = 0
    for n, (size, boxes) in enumerate(shots):
        image = client.images.upload("health", write_image(tmp_path / f"{n}.png", size))
        sizes += image.file_size
        if boxes:
            client.annotations.save("health", image.id, boxes)
    insights = client.datasets.insights("health")
    assert (insights.total_images, insights.total_annotations, insights.total_bytes) == (
        6,
        19,
        sizes,
    )
    assert (insights.annotated_images, insights.unannotated_images) == (5, 1)
    assert insights.avg_annotations_per_image == 3.17
    # A class counts once an image however many of its boxes the image holds.
    assert insights.class_annotation_counts == {"yield": 6, "car": 13}
    assert insights.class_image_counts == {"yield": 2, "car": 3}
    assert insights.annotation_density == {"2-5": 2, "6-10": 1, "1": 2, "0": 1}
    dimensions = insights.dimensions
    assert (dimensions.min_width, dimensions.max_width, dimensions.avg_width) == (20, 54, 36)
    assert (dimensions.min_height, dimensions.max_height, dimensions.avg_height) == (20, 50, 32)
    orientation = dimensions.orientation
    assert (orientation.landscape, orientation.portrait, orientation.square) == (3, 1, 2)
    # The most common sizes first, a tie by width then height.
    assert [(s.w, s.h, s.count) for s in dimensions.sizes] == [
        (30, 30, 2),
        (40, 30, 2),
        (20, 50, 1),
        (54, 20, 1),
    ]
    assert (dimensions.distinct_size_count, dimensions.images_with_dimensions) == (4, 6)
    assert dimensions.images_missing_dimensions == 0
    confidence = insights.model_confidence
    assert confidence is not None
    # A confidence of 0 is the lowest there is, not an absent one.
    assert (confidence.flagged, confidence.lowest, confidence.avg_flagged) == (5, 0.0, 0.5113)
    buckets = confidence.buckets
    assert (buckets.lt50, buckets.b50_70, buckets.b70_90, buckets.b90_100) == (2, 1, 1, 1)


async def test_async_insights_round_the_mean_annotations_to_two_places(
    aclient: pictograph.AsyncClient, tmp_path: Path
) -> None:
    await aclient.datasets.create("health", classes=[{"name": "car"}])
    for n, count in enumerate((2, 0, 0)):
        image = await aclient.images.upload("health", write_image(tmp_path / f"{n}.png"))
        if count:
            await aclient.annotations.save("health", image.id, _boxes("car", *[1.0] * count))
    insights = await aclient.datasets.insights("health")
    assert insights.avg_annotations_per_image == 0.67
    assert (insights.annotated_images, insights.unannotated_images) == (1, 2)
    # Every box is sure: no image is flagged for review.
    assert insights.model_confidence is None


def _sized_images(widths: range) -> dict[str, Any]:
    """A scenario: one image per width, 10 high, then one of no size and one of a width only."""
    images: list[dict[str, Any]] = [
        {"filename": f"{w}.jpg", "width": w, "height": 10} for w in widths
    ]
    images += [
        {"filename": "unsized.jpg", "width": None, "height": None},
        {"filename": "half.jpg", "width": 64, "height": None},
    ]
    return {"schema_version": 1, "datasets": [{"name": "sizes", "images": images}]}


def test_insights_list_the_200_commonest_sizes_of_the_images_with_both_sides() -> None:
    with (
        FakePictograph(scenario=_sized_images(range(10, 211))) as fake,
        fake.client(max_retries=0) as client,
    ):
        dimensions = client.datasets.insights("sizes").dimensions
    assert [(s.w, s.h) for s in dimensions.sizes] == [(w, 10) for w in range(10, 210)]
    assert dimensions.distinct_size_count == 201
    # An image missing either side has no size.
    assert (dimensions.images_with_dimensions, dimensions.images_missing_dimensions) == (201, 2)
    assert (dimensions.min_width, dimensions.max_width, dimensions.max_height) == (10, 210, 10)


async def test_async_insights_count_the_images_missing_a_side() -> None:
    with FakePictograph(scenario=_sized_images(range(10, 13))) as fake:
        async with fake.async_client(max_retries=0) as client:
            dimensions = (await client.datasets.insights("sizes")).dimensions
    assert (dimensions.images_with_dimensions, dimensions.images_missing_dimensions) == (3, 2)
    orientation = dimensions.orientation
    assert (orientation.landscape, orientation.portrait, orientation.square) == (2, 0, 1)


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


def test_the_download_listing_s_defaults_and_limits(fake: FakePictograph) -> None:
    fake.add_dataset("many", images=101)
    listing = f"{DEV}/datasets/many/download"
    with raw(fake) as http:
        whole = http.get(listing).json()["data"]
        few = http.get(listing, params={"limit": 5, "status_filter": "all"}).json()["data"]
        none = http.get(listing, params={"limit": 0})
        unknown = http.get(listing, params={"status_filter": "in_progress"})
        [files] = http.get(listing, params={"mode": "images_only", "limit": 1}).json()["data"][
            "items"
        ]
        [labels] = http.get(listing, params={"mode": "annotations_only", "limit": 1}).json()[
            "data"
        ]["items"]
    # By default every image (up to 10,000), each with its file and its annotations.
    assert (len(whole["items"]), whole["total_items"]) == (101, 101)
    assert all(i["image_url"] and i["annotation_url"] for i in whole["items"])
    assert (bool(files["image_url"]), files["annotation_url"]) == (True, None)
    assert (bool(labels["annotation_url"]), labels["image_url"]) == (True, None)
    # `all` is every stage; a limit cuts the items, not the total.
    assert (len(few["items"]), few["total_items"]) == (5, 101)
    assert none.status_code == 422
    # An unknown stage is the API's own 400.
    assert unknown.status_code == 400


def test_a_download_item_carries_the_image_s_place_size_and_label_count(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    uploaded = client.images.upload(DATASET, write_image(tmp_path / "a.png"), directory_path="/x/y")
    with raw(fake) as http:
        items = http.get(f"{DEV}/datasets/{DATASET}/download").json()["data"]["items"]
    by_id = {i["id"]: i for i in items}
    item = by_id[uploaded.id]
    assert (item["directory_path"], item["file_size"], item["annotation_count"]) == (
        "/x/y",
        uploaded.file_size,
        0,
    )
    synthetic = next(i for i in items if i["id"] != uploaded.id)
    assert (synthetic["directory_path"], synthetic["annotation_count"]) == ("/", 2)


async def test_async_insights_and_download(aclient: pictograph.AsyncClient, tmp_path: Path) -> None:
    assert (await aclient.datasets.insights(DATASET)).total_images == 20
    report = await aclient.datasets.download(DATASET, tmp_path)
    assert (report.images_downloaded, report.failures) == (20, [])


# ── synthetic images ──


def test_synthetic_images_are_numbered_on_from_the_images_a_dataset_holds() -> None:
    held = [{"filename": "a.jpg"}, {"filename": "img-00003.jpg", "status": "complete"}]
    document = {
        "schema_version": 1,
        "datasets": [
            {"name": "d", "images": held, "synthetic_images": {"count": 2, "complete": 1}}
        ],
    }
    with FakePictograph(scenario=document) as fake, fake.client(max_retries=0) as client:
        listed = {i.filename: (i.status, i.tags) for i in client.images.list("d")}
    # The first is the dataset's third image, a name taken: it gets a suffix of its own.
    [suffixed] = [n for n in listed if re.fullmatch(r"img-00003-[0-9a-f]{4}\.jpg", n)]
    assert listed == {
        "a.jpg": ("new", []),
        "img-00003.jpg": ("complete", []),
        suffixed: ("complete", ["object"]),
        "img-00004.jpg": ("new", ["object"]),
    }


async def test_synthetic_images_label_a_class_without_a_type_with_boxes() -> None:
    classes = [{"name": "car"}, {"name": "dog", "type": "polygon"}]
    document = {
        "schema_version": 1,
        "datasets": [
            {"name": "untyped", "classes": classes, "synthetic_images": {"count": 1}},
            # Without a class, the images are labelled `object`.
            {"name": "bare", "classes": [], "synthetic_images": {"count": 1}},
        ],
    }
    with FakePictograph(scenario=document) as fake:
        async with fake.async_client(max_retries=0) as client:
            labels: dict[str, list[tuple[str, str | None]]] = {}
            for name in ("untyped", "bare"):
                [image] = await client.images.list(name)
                got = await client.annotations.get(name, image.filename)
                labels[name] = [(a.name, a.type) for a in got]
    assert labels == {
        "untyped": [("car", "bbox"), ("dog", "polygon")],
        "bare": [("object", "bbox"), ("object", "bbox")],
    }


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
