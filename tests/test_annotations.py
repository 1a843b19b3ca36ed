"""Annotations through the real SDK (sync and async): bare bodies, full replacement, checks."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from pictograph import (
    Annotation,
    BBoxAnnotation,
    BoundingBox,
    KeypointAnnotation,
    PolygonAnnotation,
    PolylineAnnotation,
)
from pictograph.exceptions import ForbiddenError, NotFoundError, ValidationError
from pictograph.models.annotation import OrientedBoxGeometry, PolygonGeometry, PolylineGeometry
from pictograph.models.common import Point

from pictograph_testing import FakePictograph
from pictograph_testing.bounds import MAX_COORDINATE
from tests.conftest import DATASET
from tests.image_files import DEV, raw, world_state, write_image

if TYPE_CHECKING:
    from pathlib import Path

    import pictograph

IMAGE = "img-00020.jpg"
BOX = BoundingBox(x=10, y=20, w=30, h=40)


def role_client(fake: FakePictograph, role: Any) -> pictograph.Client:
    return fake.client(api_key=fake.add_api_key(role), max_retries=0)


def every_type() -> list[Any]:
    return [
        BBoxAnnotation(
            name="stop_sign",
            bounding_box=BOX,
            oriented_box=OrientedBoxGeometry(cx=25, cy=40, w=30, h=40, angle=15),
            created_by="tester",
        ),
        PolygonAnnotation(
            name="yield",
            polygon=PolygonGeometry(paths=[[Point(x=1, y=2), Point(x=9, y=2), Point(x=5, y=8)]]),
            confidence=0.6,
        ),
        PolylineAnnotation(
            name="yield", polyline=PolylineGeometry(path=[Point(x=0, y=5), Point(x=7, y=5)])
        ),
        KeypointAnnotation(name="stop_sign", keypoint=Point(x=3, y=4), instance_id=1),
    ]


def test_get_returns_the_stored_annotations_bare(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    annotations = client.annotations.get(DATASET, IMAGE)
    assert [a.type for a in annotations] == ["bbox", "bbox"]
    with raw(fake) as http:
        body = http.get(f"{DEV}/annotations/{DATASET}/{IMAGE}").json()
    assert set(body) == {"success", "image_id", "filename", "annotations", "annotation_count"}
    assert (body["filename"], body["annotation_count"]) == (IMAGE, 2)


def test_save_replaces_and_never_changes_status(client: pictograph.Client) -> None:
    before = client.images.get(DATASET, IMAGE)
    result = client.annotations.save(DATASET, IMAGE, every_type())
    assert (result.image_id, result.previous_count, result.new_count) == (before.id, 2, 4)
    assert result.status == before.status == "new"
    saved = client.annotations.get(DATASET, before.id)
    assert [type(a).__name__ for a in saved] == [
        "BBoxAnnotation",
        "PolygonAnnotation",
        "PolylineAnnotation",
        "KeypointAnnotation",
    ]
    box, polygon, polyline, point = saved
    assert isinstance(box, BBoxAnnotation)
    assert isinstance(polygon, PolygonAnnotation)
    assert isinstance(polyline, PolylineAnnotation)
    assert isinstance(point, KeypointAnnotation)
    # The server computes the box of a polygon or polyline sent without one.
    assert polygon.bounding_box == BoundingBox(x=1, y=2, w=8, h=6)
    assert polyline.bounding_box is not None
    assert (polyline.bounding_box.w, polyline.bounding_box.h) == (7, 1)
    assert box.oriented_box is not None
    assert box.oriented_box.angle == 15
    assert point.instance_id == 1
    after = client.images.get(DATASET, IMAGE)
    assert (after.status, after.annotation_count, after.min_confidence) == ("new", 4, 0.6)
    cleared = client.annotations.save(DATASET, IMAGE, [])
    assert (cleared.previous_count, cleared.new_count) == (4, 0)
    assert client.annotations.get(DATASET, IMAGE) == []
    assert client.images.get(DATASET, IMAGE).min_confidence is None


def test_save_keeps_the_ids_the_sdk_sent(client: pictograph.Client) -> None:
    box = BBoxAnnotation(id="mine-1", name="yield", bounding_box=BOX)
    client.annotations.save(DATASET, IMAGE, [box])
    assert client.annotations.get(DATASET, IMAGE) == [box]


def test_save_of_two_annotations_with_one_id_is_422_naming_the_id(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # The SDK's Annotation.id is "unique annotation ID within the image": a list that
    # repeats one is refused whole, not stored twice (a get would show both).
    before = world_state(fake)
    with pytest.raises(ValidationError) as refused:
        client.annotations.save(
            DATASET,
            IMAGE,
            [
                BBoxAnnotation(id="dup", name="yield", bounding_box=BOX),
                BBoxAnnotation(id="other", name="yield", bounding_box=BOX),
                KeypointAnnotation(id="dup", name="stop_sign", keypoint=Point(x=3, y=4)),
            ],
        )
    assert refused.value.status_code == 422
    assert refused.value.field_errors[0]["loc"] == ["body", "annotations", 2, "id"]
    assert "'dup'" in refused.value.message
    assert "already used by annotations.0" in refused.value.message
    assert world_state(fake) == before
    assert len(client.annotations.get(DATASET, IMAGE)) == 2  # what it had


def test_bulk_save_of_a_repeated_id_is_refused_whole(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    images = client.images.list(DATASET, limit=2)
    before = world_state(fake)
    twice = [BBoxAnnotation(id="dup", name="yield", bounding_box=BOX)] * 2
    with pytest.raises(ValidationError) as refused:
        client.annotations.bulk_save({images[0].id: [], images[1].id: twice})
    assert refused.value.field_errors[0]["loc"] == ["body", "saves", 1, "annotations", 1, "id"]
    assert world_state(fake) == before
    # One id on two images is two annotations, each unique within its image.
    saved = client.annotations.bulk_save({images[0].id: twice[:1], images[1].id: twice[:1]})
    assert [s.new_count for s in saved.saved] == [1, 1]


async def test_async_save_of_a_repeated_id_is_422(aclient: pictograph.AsyncClient) -> None:
    box = BBoxAnnotation(id="dup", name="yield", bounding_box=BOX)
    with pytest.raises(ValidationError, match="'dup'"):
        await aclient.annotations.save(DATASET, IMAGE, [box, box])
    image = (await aclient.images.list(DATASET, limit=1))[0]
    with pytest.raises(ValidationError, match="'dup'"):
        await aclient.annotations.bulk_save({image.id: [box, box]})
    assert len(await aclient.annotations.get(DATASET, IMAGE)) == 2


def test_save_of_a_name_that_is_not_a_class_is_422(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    before = world_state(fake)
    with pytest.raises(ValidationError) as refused:
        client.annotations.save(
            DATASET,
            IMAGE,
            [
                BBoxAnnotation(name="yield", bounding_box=BOX),
                BBoxAnnotation(name="Yield", bounding_box=BOX),
            ],
        )
    assert refused.value.status_code == 422
    assert refused.value.field_errors[0]["loc"] == ["body", "annotations", 1, "name"]
    assert "not a class" in refused.value.message
    assert world_state(fake) == before


@pytest.mark.parametrize("key", ["name", "id"])
def test_a_name_or_id_that_is_not_text_is_refused_as_such(fake: FakePictograph, key: str) -> None:
    annotation = {"name": "yield", "type": "bbox", "bounding_box": BOX.model_dump(), key: 5}
    with raw(fake) as http:
        refused = http.post(
            f"{DEV}/annotations/{DATASET}/{IMAGE}", json={"annotations": [annotation]}
        )
    assert refused.status_code == 422
    [error] = refused.json()["error"]["details"]["errors"]
    assert (error["loc"][-1], error["msg"]) == (key, "Input should be a valid string")


def test_the_classes_a_refusal_lists_are_named_once_each(
    client: pictograph.Client, tmp_path: Path
) -> None:
    # A class is declared once per annotation type: its name is listed once.
    classes = [{"name": n, "type": t} for n in ("stop", "go") for t in ("bbox", "polygon")]
    client.datasets.create("lights", annotation_types=["bbox", "polygon"], classes=classes)
    client.images.upload("lights", write_image(tmp_path / "a.png"))
    with pytest.raises(ValidationError) as refused:
        client.annotations.save("lights", "a.png", [BBoxAnnotation(name="wait", bounding_box=BOX)])
    assert "'wait' is not a class of dataset 'lights' (classes: stop, go)" in str(refused.value)


def test_save_into_a_directory_and_by_id(client: pictograph.Client, tmp_path: Path) -> None:
    image = client.images.upload(DATASET, write_image(tmp_path / "a.png"), directory_path="/v/w")
    box = [BBoxAnnotation(name="yield", bounding_box=BOX)]
    assert client.annotations.save(DATASET, "a.png", box, directory_path="/v/w").new_count == 1
    two = [*box, BBoxAnnotation(name="yield", bounding_box=BOX)]
    assert client.annotations.save(DATASET, "v/w/a.png", two).new_count == 2
    assert len(client.annotations.get(DATASET, image.id)) == 2
    with pytest.raises(NotFoundError):
        client.annotations.get(DATASET, "a.png")  # a bare filename is the root


BAD_ANNOTATIONS: list[tuple[str, dict[str, Any]]] = [
    ("polygon of two points", {"polygon": {"paths": [[{"x": 0, "y": 0}, {"x": 1, "y": 1}]]}}),
    ("polygon without rings", {"polygon": {"paths": []}}),
    ("polyline of one point", {"type": "polyline", "polyline": {"path": [{"x": 0, "y": 0}]}}),
    ("zero-width box", {"type": "bbox", "bounding_box": {"x": 0, "y": 0, "w": 0, "h": 5}}),
    ("negative box", {"type": "bbox", "bounding_box": {"x": 0, "y": 0, "w": 5, "h": -1}}),
    ("box without h", {"type": "bbox", "bounding_box": {"x": 0, "y": 0, "w": 5}}),
    (
        "keypoint with a box",
        {
            "type": "keypoint",
            "keypoint": {"x": 1, "y": 1},
            "bounding_box": {"x": 0, "y": 0, "w": 5, "h": 5},
        },
    ),
    ("unknown type", {"type": "tag"}),
    ("no type", {"type": None, "bounding_box": {"x": 0, "y": 0, "w": 5, "h": 5}}),
    ("extra key", {"type": "bbox", "bounding_box": {"x": 0, "y": 0, "w": 5, "h": 5}, "label": 1}),
    ("confidence above 1", {"confidence": 1.5}),
    ("no name", {"name": None}),
    ("coordinate true", {"type": "keypoint", "keypoint": {"x": True, "y": 1}}),
    ("instance true", {"type": "keypoint", "keypoint": {"x": 1, "y": 1}, "instance_id": True}),
    (
        "oriented width 0",
        {
            "type": "bbox",
            "bounding_box": {"x": 0, "y": 0, "w": 5, "h": 5},
            "oriented_box": {"cx": 2, "cy": 2, "w": 0, "h": 5},
        },
    ),
    ("blank id", {"id": "  "}),
    ("blank name", {"name": ""}),
    ("bad point", {"polygon": {"paths": [[{"x": 0}, {"x": 1, "y": 1}, {"x": 2, "y": 0}]]}}),
    ("instance 0", {"type": "keypoint", "keypoint": {"x": 1, "y": 1}, "instance_id": 0}),
    ("string coordinate", {"type": "keypoint", "keypoint": {"x": "1", "y": 1}}),
    # Finite, but what is computed from them (an enclosing box, an area) would not be.
    (
        "polygon across the float range",
        {"polygon": {"paths": [[{"x": -1e308, "y": 0}, {"x": 1e308, "y": 0}, {"x": 0, "y": 1}]]}},
    ),
    (
        "polyline across the float range",
        {"type": "polyline", "polyline": {"path": [{"x": -1e308, "y": 0}, {"x": 1e308, "y": 0}]}},
    ),
    ("box of 1e200 a side", {"type": "bbox", "bounding_box": {"x": 1, "y": 1, "w": 1e200, "h": 1}}),
    ("keypoint beyond the bound", {"type": "keypoint", "keypoint": {"x": 1, "y": 2e9}}),
    (
        "oriented angle 360",
        {
            "type": "bbox",
            "bounding_box": {"x": 0, "y": 0, "w": 5, "h": 5},
            "oriented_box": {"cx": 2, "cy": 2, "w": 5, "h": 5, "angle": 360},
        },
    ),
]


@pytest.mark.parametrize(("case", "change"), BAD_ANNOTATIONS, ids=[c for c, _ in BAD_ANNOTATIONS])
def test_save_refuses_bad_geometry(fake: FakePictograph, case: str, change: dict[str, Any]) -> None:
    annotation: dict[str, Any] = {
        "id": "a1",
        "name": "yield",
        "type": "polygon",
        "polygon": {"paths": [[{"x": 0, "y": 0}, {"x": 4, "y": 0}, {"x": 2, "y": 3}]]},
        "confidence": 1.0,
        "attributes": [],
        **change,
    }
    if change.get("type") and change["type"] != "polygon":
        annotation.pop("polygon")
    before = world_state(fake)
    with raw(fake) as http:
        response = http.post(
            f"{DEV}/annotations/{DATASET}/{IMAGE}", json={"annotations": [annotation]}
        )
    assert response.status_code == 422, (case, response.text)
    assert response.json()["error"]["details"]["errors"]
    assert world_state(fake) == before


def test_a_coordinate_past_the_bound_gets_one_error_that_names_it(fake: FakePictograph) -> None:
    box = {"x": 1, "y": 1, "w": MAX_COORDINATE * 10, "h": 5}
    with raw(fake) as http:
        response = http.post(
            f"{DEV}/annotations/{DATASET}/{IMAGE}",
            json={"annotations": [{"name": "yield", "type": "bbox", "bounding_box": box}]},
        )
    assert response.status_code == 422
    errors = response.json()["error"]["details"]["errors"]
    # The range, not also "greater than 0": the side sent is positive.
    assert [(e["loc"][-1], e["type"]) for e in errors] == [("w", "range_error")]
    assert "1,000,000,000" in errors[0]["msg"]


def test_coordinates_at_the_bound_are_kept_and_read_back(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    edge = MAX_COORDINATE
    saved = [
        {
            "name": "yield",
            "type": "polygon",
            "polygon": {
                "paths": [[{"x": -edge, "y": 0}, {"x": edge, "y": 0}, {"x": 0, "y": edge}]]
            },
        }
    ]
    with raw(fake) as http:
        assert http.post(
            f"{DEV}/annotations/{DATASET}/{IMAGE}", json={"annotations": saved}
        ).is_success
    (polygon,) = client.annotations.get(DATASET, IMAGE)
    assert isinstance(polygon, PolygonAnnotation)
    assert polygon.bounding_box is not None
    assert polygon.bounding_box.w == 2 * edge
    assert not fake.api.server_errors


@pytest.mark.parametrize(
    "body",
    [
        {"annotations": [], "image_id": "00000000-0000-4000-8000-000000000000"},
        {"annotations": {}},
        {},
        {"annotations": ["box"]},
    ],
)
def test_save_body_is_annotations_only(fake: FakePictograph, body: dict[str, Any]) -> None:
    with raw(fake) as http:
        response = http.post(f"{DEV}/annotations/{DATASET}/{IMAGE}", json=body)
    assert response.status_code == 422


def test_save_without_an_id_gets_one_from_the_server(fake: FakePictograph) -> None:
    annotation = {"name": "yield", "type": "bbox", "bounding_box": {"x": 0, "y": 0, "w": 5, "h": 5}}
    with raw(fake) as http:
        assert (
            http.post(
                f"{DEV}/annotations/{DATASET}/{IMAGE}", json={"annotations": [annotation]}
            ).status_code
            == 200
        )
        stored = http.get(f"{DEV}/annotations/{DATASET}/{IMAGE}").json()["annotations"]
    assert len(stored[0]["id"]) == 36
    assert stored[0] == {
        "id": stored[0]["id"],
        "name": "yield",
        "type": "bbox",
        "bounding_box": {"x": 0.0, "y": 0.0, "w": 5.0, "h": 5.0},
        "confidence": 1.0,
        "attributes": [],
    }


def test_missing_image_or_dataset_is_404(client: pictograph.Client) -> None:
    with pytest.raises(NotFoundError):
        client.annotations.get(DATASET, "ghost.jpg")
    with pytest.raises(NotFoundError):
        client.annotations.save("nope", IMAGE, [])


def test_an_image_without_annotations_reads_as_empty(
    client: pictograph.Client, tmp_path: Path
) -> None:
    image = client.images.upload(DATASET, write_image(tmp_path / "bare.png"))
    assert client.annotations.get(DATASET, image.id) == []


def test_delete_needs_admin(fake: FakePictograph) -> None:
    with role_client(fake, "member") as member:
        member.annotations.save(DATASET, IMAGE, [BBoxAnnotation(name="yield", bounding_box=BOX)])
        before = world_state(fake)
        with pytest.raises(ForbiddenError):
            member.annotations.delete(DATASET, IMAGE)
        assert world_state(fake) == before
    with role_client(fake, "admin") as admin:
        result = admin.annotations.delete(DATASET, IMAGE)
        assert result.deleted_count == 1
        assert admin.annotations.get(DATASET, IMAGE) == []
    with role_client(fake, "viewer") as viewer:
        assert viewer.annotations.get(DATASET, IMAGE) == []
        with pytest.raises(ForbiddenError):
            viewer.annotations.save(DATASET, IMAGE, [])


def test_bulk_save_saves_each_and_fails_unknown_images(client: pictograph.Client) -> None:
    images = client.images.list(DATASET, limit=2)
    ghost = "00000000-0000-4000-8000-000000000000"
    result = client.annotations.bulk_save(
        {
            images[0].id: [BBoxAnnotation(name="yield", bounding_box=BOX)],
            images[1].id: [],
            ghost: [BBoxAnnotation(name="yield", bounding_box=BOX)],
        }
    )
    assert [(s.image_id, s.previous_count, s.new_count) for s in result.saved] == [
        (images[0].id, 2, 1),
        (images[1].id, 2, 0),
    ]
    assert [f.image_id for f in result.failed] == [ghost]
    assert client.images.get(DATASET, images[1].id).annotation_count == 0


def test_bulk_save_reads_an_image_id_in_any_case_with_spaces_around(
    client: pictograph.Client,
) -> None:
    image = client.images.list(DATASET, limit=1)[0]
    box = [BBoxAnnotation(name="yield", bounding_box=BOX)]
    result = client.annotations.bulk_save({f" {image.id.upper()} ": box})
    assert ([s.image_id for s in result.saved], result.failed) == ([image.id], [])
    assert client.images.get(DATASET, image.id).annotation_count == 1


async def test_async_bulk_save_reads_an_image_id_in_any_case(
    aclient: pictograph.AsyncClient,
) -> None:
    image = (await aclient.images.list(DATASET, limit=1))[0]
    box = [BBoxAnnotation(name="yield", bounding_box=BOX)]
    result = await aclient.annotations.bulk_save({image.id.upper(): box})
    assert [s.image_id for s in result.saved] == [image.id]


def test_bulk_save_fails_an_image_whose_labels_are_not_its_classes(
    client: pictograph.Client,
) -> None:
    client.datasets.create("other", classes=[{"name": "cat"}])
    image = client.images.list(DATASET, limit=1)[0]
    result = client.annotations.bulk_save(
        {image.id: [BBoxAnnotation(name="cat", bounding_box=BOX)]}
    )
    assert result.saved == []
    assert "not a class" in result.failed[0].error


def test_bulk_save_over_200_or_malformed_is_refused_whole(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    image = client.images.list(DATASET, limit=1)[0]
    before = world_state(fake)
    many: dict[str, list[Annotation]] = {
        f"00000000-0000-4000-8000-{n:012d}": [] for n in range(201)
    }
    with pytest.raises(ValidationError):
        client.annotations.bulk_save(many)
    with raw(fake) as http:
        response = http.post(
            f"{DEV}/annotations/bulk",
            json={
                "saves": [
                    {"image_id": image.id, "annotations": []},
                    {"image_id": image.id, "annotations": [{"name": "yield", "type": "bbox"}]},
                ]
            },
        )
    assert response.status_code == 422
    assert response.json()["error"]["details"]["errors"][0]["loc"] == [
        "body",
        "saves",
        1,
        "annotations",
        0,
        "bounding_box",
    ]
    assert world_state(fake) == before


def test_annotation_file_by_image_id(fake: FakePictograph, client: pictograph.Client) -> None:
    image = client.images.get(DATASET, IMAGE)
    assert image.annotation_url is not None
    with raw(fake) as http:
        body = http.get(image.annotation_url).json()
    assert body["image"] == IMAGE
    assert len(body["annotations"]) == 2


def test_annotation_file_of_a_deleted_image_is_404_naming_the_image(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    image = client.images.get(DATASET, IMAGE)
    assert image.annotation_url is not None
    client.images.delete(DATASET, IMAGE, permanent=True)
    # A stale `annotation_url` (the SDK fetches it only inside datasets.download).
    with raw(fake) as http:
        response = http.get(image.annotation_url)
    assert response.status_code == 404
    assert response.json()["error"]["message"] == f"Image '{image.id}' not found"


async def test_async_annotations(fake: FakePictograph, aclient: pictograph.AsyncClient) -> None:
    image = (await aclient.images.list(DATASET, limit=1))[0]
    saved = await aclient.annotations.save(DATASET, image.id, every_type())
    assert (saved.previous_count, saved.new_count, saved.status) == (2, 4, image.status)
    assert len(await aclient.annotations.get(DATASET, image.filename)) == 4
    with pytest.raises(ValidationError):
        await aclient.annotations.save(
            DATASET, image.id, [BBoxAnnotation(name="dog", bounding_box=BOX)]
        )
    bulk = await aclient.annotations.bulk_save({image.id: []})
    assert bulk.saved[0].previous_count == 4
    deleted = await aclient.annotations.delete(DATASET, image.filename)
    assert deleted.image_id == image.id


# ── class-wide edits ──


def test_rename_class_renames_the_ontology_and_every_label(client: pictograph.Client) -> None:
    result = client.annotations.rename_class(DATASET, "yield", "give_way")
    assert (result.images_updated, result.annotations_updated, result.config_updated) == (
        20,
        20,
        True,
    )
    assert [c.name for c in client.datasets.get(DATASET).classes] == ["stop_sign", "give_way"]
    assert {a.name for a in client.annotations.get(DATASET, IMAGE)} == {"stop_sign", "give_way"}


def test_rename_onto_an_existing_class_is_a_conflict(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    from pictograph.exceptions import ConflictError

    before = world_state(fake)
    with pytest.raises(ConflictError, match="merge_class"):
        client.annotations.rename_class(DATASET, "yield", "stop_sign")
    with pytest.raises(NotFoundError):
        client.annotations.rename_class(DATASET, "ghost", "x")
    assert world_state(fake) == before


def test_merge_class_relabels_and_drops_the_source(client: pictograph.Client) -> None:
    result = client.annotations.merge_class(DATASET, "yield", "stop_sign")
    assert (result.annotations_updated, result.config_updated) == (20, True)
    assert [c.name for c in client.datasets.get(DATASET).classes] == ["stop_sign"]
    assert client.datasets.insights(DATASET).class_annotation_counts == {"stop_sign": 40}
    with pytest.raises(ValidationError):
        client.annotations.merge_class(DATASET, "stop_sign", "stop_sign")


def test_delete_class_with_and_without_its_annotations(client: pictograph.Client) -> None:
    kept = client.annotations.delete_class(DATASET, "yield")
    assert (kept.config_updated, kept.annotations_removed) == (True, 0)
    assert client.images.get(DATASET, IMAGE).annotation_count == 2
    gone = client.annotations.delete_class(
        DATASET, "stop_sign", class_type="bbox", delete_annotations=True
    )
    assert (gone.images_updated, gone.annotations_removed) == (20, 20)
    assert client.datasets.get(DATASET).classes == []
    with pytest.raises(NotFoundError):
        client.annotations.delete_class(DATASET, "stop_sign")


def test_delete_class_removes_the_labels_of_a_class_the_ontology_no_longer_has(
    client: pictograph.Client,
) -> None:
    """Deleted from the ontology alone, a class lives on its labels: a second delete with
    its annotations removes them (``config_updated`` false), as a rename reaches them."""
    assert client.annotations.delete_class(DATASET, "stop_sign").annotations_removed == 0
    with pytest.raises(NotFoundError):
        client.annotations.delete_class(
            DATASET, "stop_sign", class_type="polygon", delete_annotations=True
        )
    gone = client.annotations.delete_class(DATASET, "stop_sign", delete_annotations=True)
    assert (gone.config_updated, gone.images_updated, gone.annotations_removed) == (False, 20, 20)
    assert "stop_sign" not in client.datasets.insights(DATASET).class_annotation_counts
    with pytest.raises(NotFoundError):
        client.annotations.delete_class(DATASET, "stop_sign", delete_annotations=True)


async def test_async_delete_class_removes_the_labels_of_a_class_the_ontology_no_longer_has(
    aclient: pictograph.AsyncClient,
) -> None:
    await aclient.annotations.delete_class(DATASET, "stop_sign")
    gone = await aclient.annotations.delete_class(DATASET, "stop_sign", delete_annotations=True)
    assert (gone.config_updated, gone.annotations_removed) == (False, 20)


def test_delete_class_takes_box_for_bbox_and_bbox_for_box(client: pictograph.Client) -> None:
    # The platform stores `box` on a box class, `bbox` on a box annotation: either
    # spelling names the class, whichever one it was written with.
    gone = client.annotations.delete_class(
        DATASET, "stop_sign", class_type="box", delete_annotations=True
    )
    assert (gone.config_updated, gone.images_updated, gone.annotations_removed) == (True, 20, 20)
    assert [c.name for c in client.datasets.get(DATASET).classes] == ["yield"]
    client.datasets.update(DATASET, classes=[{"name": "bus", "type": "box"}])
    client.annotations.delete_class(DATASET, "bus", class_type="bbox")
    assert client.datasets.get(DATASET).classes == []


def test_delete_class_of_a_type_it_lacks_is_404_naming_the_type(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    before = world_state(fake)
    with pytest.raises(NotFoundError) as refused:
        client.annotations.delete_class(
            DATASET, "stop_sign", class_type="polygon", delete_annotations=True
        )
    assert refused.value.message == (
        f"Class 'stop_sign' ('polygon') not found in dataset '{DATASET}'"
    )
    assert world_state(fake) == before


def test_rename_onto_a_class_of_the_other_box_spelling_is_a_conflict(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    from pictograph.exceptions import ConflictError

    read = client.datasets.get(DATASET)
    client.datasets.update(DATASET, classes=[*read.classes, {"name": "bus", "type": "box"}])
    before = world_state(fake)
    with pytest.raises(ConflictError, match="merge_class"):
        client.annotations.rename_class(DATASET, "yield", "bus")
    assert world_state(fake) == before


async def test_async_box_and_bbox_name_one_class_type(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    from pictograph.exceptions import ConflictError

    read = await aclient.datasets.get(DATASET)
    await aclient.datasets.update(DATASET, classes=[*read.classes, {"name": "bus", "type": "box"}])
    before = world_state(fake)
    with pytest.raises(ConflictError):
        await aclient.annotations.rename_class(DATASET, "yield", "bus")
    with pytest.raises(NotFoundError, match=r"\('keypoint'\) not found"):
        await aclient.annotations.delete_class(DATASET, "bus", class_type="keypoint")
    assert world_state(fake) == before
    gone = await aclient.annotations.delete_class(
        DATASET, "yield", class_type="box", delete_annotations=True
    )
    assert gone.annotations_removed == 20


def test_the_cli_removes_a_bbox_class_by_either_spelling(
    fake: FakePictograph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The SDK's CLI sends `box` for `--type bbox` (its own spelling of a box class).
    from pictograph.cli._app import app
    from typer.testing import CliRunner

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr("pictograph.cli._config.CONFIG_DIR", tmp_path / ".pictograph")
    monkeypatch.setattr("pictograph.cli._config.CONFIG_PATH", tmp_path / ".pictograph" / "c.toml")
    runner = CliRunner()
    env = {"PICTOGRAPH_API_KEY": fake.api_key, "PICTOGRAPH_BASE_URL": fake.base_url}

    def remove(name: str, kind: str, *more: str) -> Any:
        args = ["classes", "remove", DATASET, name, "--type", kind, "--yes", *more]
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    assert remove("stop_sign", "bbox")["annotations_removed"] == 0
    assert remove("yield", "box", "--with-annotations")["annotations_removed"] == 20
    with fake.client(max_retries=0) as client:
        assert client.datasets.get(DATASET).classes == []


async def test_async_class_edits(aclient: pictograph.AsyncClient) -> None:
    renamed = await aclient.annotations.rename_class(DATASET, "yield", "give_way")
    assert renamed.new_name == "give_way"
    merged = await aclient.annotations.merge_class(DATASET, "give_way", "stop_sign")
    assert merged.target_name == "stop_sign"
    deleted = await aclient.annotations.delete_class(DATASET, "stop_sign", delete_annotations=True)
    assert deleted.annotations_removed == 40


def test_viewer_cannot_edit_classes(fake: FakePictograph) -> None:
    with role_client(fake, "viewer") as viewer, pytest.raises(ForbiddenError):
        viewer.annotations.rename_class(DATASET, "yield", "x")


async def test_synthetic_keypoints_are_instances_of_their_own(
    fake: FakePictograph, client: pictograph.Client, aclient: pictograph.AsyncClient
) -> None:
    # Keypoint pipelines train on a point and its instance: each slot of a synthetic
    # image is one instance, numbered from 1 as the SDK's KeypointAnnotation takes it.
    fake.add_dataset(
        "poses",
        images=2,
        completed_images=2,
        classes=["nose", "tail"],
        annotation_types=["keypoint"],
    )
    image = client.images.list("poses")[0].filename
    synced = client.annotations.get("poses", image)
    awaited = await aclient.annotations.get("poses", image)
    for points in (synced, awaited):
        assert points, "a completed synthetic image carries annotations"
        keypoints = [a for a in points if isinstance(a, KeypointAnnotation)]
        assert keypoints == points
        ids = [a.instance_id for a in keypoints]
        assert ids == list(range(1, len(points) + 1))


# ── rules a mutation run of the annotation checks and class edits found untested ──


def test_a_label_naming_a_class_of_a_dataset_with_none_says_so(client: pictograph.Client) -> None:
    client.datasets.update(DATASET, classes=[])
    with pytest.raises(ValidationError) as refused:
        client.annotations.save(DATASET, IMAGE, [BBoxAnnotation(name="yield", bounding_box=BOX)])
    assert f"'yield' is not a class of dataset '{DATASET}' (classes: none yet)" in str(
        refused.value
    )


def test_a_refusal_names_five_problems_and_counts_the_rest(fake: FakePictograph) -> None:
    box = BOX.model_dump()
    annotations = [
        {"name": "yield", "type": "bbox", "bounding_box": box, "confidence": 2} for _ in range(6)
    ]
    with raw(fake) as http:
        refused = http.post(
            f"{DEV}/annotations/{DATASET}/{IMAGE}", json={"annotations": annotations}
        ).json()["error"]
    assert len(refused["details"]["errors"]) == 6
    assert refused["message"].count("Input should be between 0 and 1") == 5
    assert refused["message"].endswith("(and 1 more)")


def test_what_a_save_may_leave_out_reads_back_as_the_api_fills_it(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # Whole numbers read back as numbers with a fraction, an oriented box without an
    # angle as one at 0, a polyline straight up and down gets a box 1 pixel wide, and a
    # confidence of 0 is a confidence.
    saved = [
        {
            "name": "yield",
            "type": "bbox",
            "bounding_box": {"x": 10, "y": 20, "w": 30, "h": 40},
            "oriented_box": {"cx": 25, "cy": 40, "w": 30, "h": 40},
            "confidence": 0,
            "created_by": "labeller",
        },
        {
            "name": "yield",
            "type": "polyline",
            "polyline": {"path": [{"x": 5, "y": 0}, {"x": 5, "y": 7}]},
        },
    ]
    with raw(fake) as http:
        assert http.post(
            f"{DEV}/annotations/{DATASET}/{IMAGE}", json={"annotations": saved}
        ).is_success
        box, line = http.get(f"{DEV}/annotations/{DATASET}/{IMAGE}").json()["annotations"]
    assert box["bounding_box"] == {"x": 10.0, "y": 20.0, "w": 30.0, "h": 40.0}
    assert all(isinstance(v, float) for v in box["bounding_box"].values())
    assert box["oriented_box"] == {"cx": 25.0, "cy": 40.0, "w": 30.0, "h": 40.0, "angle": 0.0}
    assert (box["confidence"], box["created_by"]) == (0.0, "labeller")
    assert line["bounding_box"] == {"x": 5.0, "y": 0.0, "w": 1.0, "h": 7.0}
    bbox, _ = client.annotations.get(DATASET, IMAGE)
    assert isinstance(bbox, BBoxAnnotation)
    assert (bbox.confidence, bbox.created_by) == (0.0, "labeller")


async def test_async_an_oriented_box_at_angle_0_with_confidence_0_is_kept(
    aclient: pictograph.AsyncClient,
) -> None:
    annotation = BBoxAnnotation(
        name="yield",
        bounding_box=BOX,
        oriented_box=OrientedBoxGeometry(cx=25, cy=40, w=30, h=40, angle=0),
        confidence=0.0,
        created_by="tester",
    )
    await aclient.annotations.save(DATASET, IMAGE, [annotation])
    (kept,) = await aclient.annotations.get(DATASET, IMAGE)
    assert isinstance(kept, BBoxAnnotation)
    assert kept.oriented_box is not None
    assert (kept.oriented_box.angle, kept.confidence, kept.created_by) == (0.0, 0.0, "tester")


def test_class_edits_count_images_and_labels_apart(client: pictograph.Client) -> None:
    # IMAGE holds two `yield` labels and no `stop_sign`: 20 images, 21 labels renamed;
    # a class deleted with its labels counts the 19 images that lost one.
    two = [BBoxAnnotation(name="yield", bounding_box=BOX) for _ in range(2)]
    client.annotations.save(DATASET, IMAGE, two)
    renamed = client.annotations.rename_class(DATASET, "yield", "give_way")
    assert (renamed.images_updated, renamed.annotations_updated) == (20, 21)
    gone = client.annotations.delete_class(DATASET, "stop_sign", delete_annotations=True)
    assert (gone.images_updated, gone.annotations_removed) == (19, 19)


@pytest.mark.parametrize(
    ("new_name", "kept"), [("c" * 120, True), ("c" * 121, False), ("   ", False)]
)
def test_a_class_is_renamed_to_a_name_of_1_to_120_characters(
    fake: FakePictograph, client: pictograph.Client, new_name: str, kept: bool
) -> None:
    if kept:
        assert client.annotations.rename_class(DATASET, "yield", new_name).config_updated
        return
    before = world_state(fake)
    with pytest.raises(ValidationError, match="1 to 120 characters"):
        client.annotations.rename_class(DATASET, "yield", new_name)
    assert world_state(fake) == before


def test_a_class_is_not_renamed_to_its_own_name(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    before = world_state(fake)
    with pytest.raises(ValidationError, match="current name"):
        client.annotations.rename_class(DATASET, "yield", "yield")
    assert world_state(fake) == before


def test_a_class_left_only_on_labels_is_renamed_merged_and_deleted_there(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # Off the ontology, a class lives on its labels: a rename or a merge reaches them
    # (the ontology and the dataset's `updated_at` untouched); a delete that keeps the
    # labels has nothing to delete.
    client.annotations.delete_class(DATASET, "yield")
    stamped = client.datasets.get(DATASET).updated_at
    fake.clock.advance(minutes=5)
    renamed = client.annotations.rename_class(DATASET, "yield", "give_way")
    assert (renamed.config_updated, renamed.annotations_updated) == (False, 20)
    assert client.datasets.get(DATASET).updated_at == stamped
    with pytest.raises(NotFoundError):
        client.annotations.delete_class(DATASET, "give_way")
    merged = client.annotations.merge_class(DATASET, "give_way", "stop_sign")
    assert (merged.config_updated, merged.annotations_updated) == (False, 20)
    assert [c.name for c in client.datasets.get(DATASET).classes] == ["stop_sign"]


async def test_async_a_class_left_only_on_labels_is_renamed_there(
    aclient: pictograph.AsyncClient,
) -> None:
    await aclient.annotations.delete_class(DATASET, "yield")
    renamed = await aclient.annotations.rename_class(DATASET, "yield", "give_way")
    assert (renamed.config_updated, renamed.annotations_updated) == (False, 20)
    with pytest.raises(NotFoundError):
        await aclient.annotations.delete_class(DATASET, "give_way")


@pytest.mark.parametrize("edit", ["merge", "delete"])
def test_a_merge_or_delete_moves_the_datasets_updated_at(
    fake: FakePictograph, client: pictograph.Client, edit: str
) -> None:
    fake.clock.advance(minutes=5)
    if edit == "merge":
        client.annotations.merge_class(DATASET, "yield", "stop_sign")
    else:
        client.annotations.delete_class(DATASET, "yield")
    assert client.datasets.get(DATASET).updated_at == fake.clock.now()


def test_class_edits_reach_the_labels_of_archived_images(client: pictograph.Client) -> None:
    # An archived image comes back with its labels: they follow every class edit.
    client.images.delete(DATASET, IMAGE)
    renamed = client.annotations.rename_class(DATASET, "yield", "give_way")
    assert renamed.images_updated == 20
    assert {a.name for a in client.annotations.get(DATASET, IMAGE)} == {"stop_sign", "give_way"}
    gone = client.annotations.delete_class(DATASET, "give_way", delete_annotations=True)
    assert gone.images_updated == 20
    assert {a.name for a in client.annotations.get(DATASET, IMAGE)} == {"stop_sign"}


def test_a_class_only_archived_images_are_labelled_with_is_still_found(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_dataset("shelved", images=2, classes=["a", "b"])
    client.annotations.delete_class("shelved", "b")  # off the ontology, on the labels
    for image in client.images.list("shelved"):
        client.images.delete("shelved", image.filename)
    assert client.annotations.rename_class("shelved", "b", "c").annotations_updated == 2


def test_a_class_deleted_by_type_keeps_its_labels_of_other_types(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_dataset("shapes", images=3, classes=["car"], annotation_types=("bbox", "polygon"))
    gone = client.annotations.delete_class(
        "shapes", "car", class_type="polygon", delete_annotations=True
    )
    assert (gone.images_updated, gone.annotations_removed) == (3, 6)
    image = client.images.list("shapes")[0]
    assert [a.type for a in client.annotations.get("shapes", image.id)] == ["bbox", "bbox"]


def test_a_save_reports_the_status_the_image_keeps(client: pictograph.Client) -> None:
    complete = client.images.list(DATASET, status="complete")[0]
    result = client.annotations.save(DATASET, complete.filename, [])
    assert (result.new_count, result.status) == (0, "complete")


def test_an_image_called_file_is_looked_up_in_the_dataset_its_id_names(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # `annotations/{id}/file` is also the annotation file of an image by its id: a
    # dataset's id there names the dataset, and the image `file` in it is looked for.
    dataset = fake.add_dataset("signs", images=2)
    with pytest.raises(NotFoundError) as missing:
        client.annotations.get(dataset.id, "file")
    assert missing.value.message == "Image 'file' not found in dataset 'signs'"
