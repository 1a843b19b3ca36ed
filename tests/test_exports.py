"""Exports through the real SDK: create, the lifecycle on the clock, reads, ZIPs, deletes."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import httpx
import pytest
import yaml
from pictograph.exceptions import (
    ApiError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PollTimeoutError,
    ValidationError,
)
from pictograph.formats import from_coco
from pictograph.models.annotation import (
    Annotation,
    BBoxAnnotation,
    PolygonAnnotation,
    PolygonGeometry,
)
from pictograph.models.common import BoundingBox, Point
from PIL import Image as PILImage
from pydantic import TypeAdapter

from pictograph_testing import FakePictograph
from pictograph_testing.clock import parse_timestamp
from pictograph_testing.world.exports import (
    BASE_SECONDS,
    DOWNLOAD_TTL_SECONDS,
    QUEUE_SECONDS,
    SECONDS_PER_IMAGE,
    SECONDS_PER_IMAGE_BYTES,
    processing_seconds,
)
from tests.conftest import DATASET, EXPORT
from tests.image_files import raw

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pictograph


UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
# The conftest dataset: 20 images, the first 12 complete, two boxes each.
ALL, COMPLETE = 20, 12


@pytest.fixture
def viewer(fake: FakePictograph) -> Iterator[pictograph.Client]:
    with fake.client(api_key=fake.add_api_key("viewer"), max_retries=0) as sdk:
        yield sdk


@pytest.fixture
def member(fake: FakePictograph) -> Iterator[pictograph.Client]:
    with fake.client(api_key=fake.add_api_key("member"), max_retries=0) as sdk:
        yield sdk


def _zip(path: Path) -> zipfile.ZipFile:
    archive = zipfile.ZipFile(path)
    assert archive.testzip() is None
    return archive


# ── create and the lifecycle ──


def test_create_waits_on_the_virtual_clock_until_completed(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    export = client.exports.create(DATASET, "v2", status_filter="complete")

    assert export.status == "completed"
    assert (export.image_count, export.annotation_count) == (COMPLETE, 2 * COMPLETE)
    assert export.status_filter == "complete"
    assert export.format == "pictograph"
    assert export.file_size is not None
    assert export.file_size > 0
    assert export.error_message is None
    ends = QUEUE_SECONDS + processing_seconds(COMPLETE, include_images=False)
    # Polled every 2 s: the first poll at or after the end sees it completed.
    assert fake.clock.monotonic() == 2.0 * -(-ends // 2.0)


def test_the_lifecycle_follows_the_clock(fake: FakePictograph, client: pictograph.Client) -> None:
    created = client.exports.create(DATASET, "v2", include_images=True, wait=False)
    assert created.status == "pending"
    assert created.download_url is None
    assert created.file_size is None
    assert created.created_at.isoformat() == "2026-05-12T12:00:00+00:00"
    assert created.dataset_id == fake.world.dataset(fake.organization_id, DATASET).id
    assert created.organization_id == fake.organization_id

    fake.clock.advance(seconds=QUEUE_SECONDS - 0.5)
    assert client.exports.get(DATASET, "v2").status == "pending"
    fake.clock.advance(seconds=0.5)
    assert client.exports.get(DATASET, "v2").status == "processing"
    duration = processing_seconds(ALL, include_images=True)
    fake.clock.advance(seconds=duration - 0.001)
    assert client.exports.get(DATASET, "v2").status == "processing"
    fake.clock.advance(seconds=0.001)
    done = client.exports.get(DATASET, "v2")
    assert done.status == "completed"
    assert done.expires_at is not None
    assert done.expires_at > done.created_at


def test_more_images_and_image_files_take_longer() -> None:
    assert processing_seconds(10, include_images=False) < processing_seconds(100, False)
    assert processing_seconds(10, include_images=False) < processing_seconds(10, True)
    assert processing_seconds(7, True) == processing_seconds(7, True)


def test_the_page_states_the_exports_timing() -> None:
    page = (Path(__file__).resolve().parent.parent / "docs" / "datasets.md").read_text()
    timing = (
        f"An export waits {QUEUE_SECONDS:g} virtual seconds for a worker (`pending`), then "
        f"processes for {BASE_SECONDS:g} virtual seconds plus {SECONDS_PER_IMAGE:g} s an "
        f"image, and {SECONDS_PER_IMAGE_BYTES:g} s more an image with `include_images=True`"
    )
    assert timing in " ".join(page.split())
    # "about 10 virtual minutes" for 2,000 images with their files, past 300 s.
    assert 540 <= QUEUE_SECONDS + processing_seconds(2000, include_images=True) <= 660


def test_create_sends_every_option_and_the_export_echoes_them(client: pictograph.Client) -> None:
    export = client.exports.create(
        DATASET,
        "signs-only",
        format="coco",
        include_images=True,
        class_filter=["stop_sign"],
        status_filter="review",
        organize_by_split=True,
    )

    assert export.format == "coco"
    assert export.include_images is True
    assert export.class_filter == ["stop_sign"]
    assert export.status_filter == "review"
    assert export.image_count == 0  # no image of the dataset is in review
    assert export.annotation_count == 0
    every = client.exports.create(DATASET, "every-sign", class_filter=["stop_sign"])
    assert every.status_filter is None
    assert every.image_count == ALL
    # Each synthetic image has one box of each class; only stop signs are kept.
    assert every.annotation_count == ALL


@pytest.mark.parametrize("sent", ["all", "in_progress", "completed"])
async def test_a_status_filter_that_is_no_stage_matches_no_image_as_on_the_api(
    client: pictograph.Client, aclient: pictograph.AsyncClient, sent: str
) -> None:
    # The API matches it exactly: a literal "all" built an empty export, which is why the
    # SDK's create_export tool sends None for "all" (its _registry.py says so).
    export = client.exports.create(DATASET, f"literal-{sent}", status_filter=sent)
    assert (export.status_filter, export.image_count) == (sent, 0)
    again = await aclient.exports.create(DATASET, f"again-{sent}", status_filter=sent)
    assert (again.status_filter, again.image_count) == (sent, 0)
    with pytest.raises(ValidationError, match="empty"):
        client.training.create(DATASET, f"literal-{sent}", pipeline_type="yolox", name="r")


def test_the_builder_refuses_a_status_filter_that_is_no_stage(fake: FakePictograph) -> None:
    with pytest.raises(ValueError, match=r"must be an image stage .* got 'all'"):
        fake.add_export(DATASET, "everything", status_filter="all")
    dataset = fake.world.dataset(fake.organization_id, DATASET)
    assert list(fake.world.export_service.of_dataset(dataset.id)) == [EXPORT]


async def test_the_builder_freezes_what_the_api_would_for_its_filters_and_format(
    fake: FakePictograph, client: pictograph.Client, aclient: pictograph.AsyncClient
) -> None:
    """``add_export`` builds the export ``exports.create`` would, for the same filters
    and format: its images, its filters and its format read back through the SDK."""
    options: dict[str, Any] = {"status_filter": "complete", "class_filter": ["yield"]}
    fake.add_export(DATASET, "built", export_format="coco", **options)
    made = client.exports.create(DATASET, "made", format="coco", **options)
    built = await aclient.exports.get(DATASET, "built")
    assert (built.format, built.status_filter, built.class_filter) == (
        "coco",
        "complete",
        ["yield"],
    )
    assert (built.image_count, built.annotation_count) == (made.image_count, made.annotation_count)
    everything = client.exports.get(DATASET, EXPORT).image_count
    assert built.image_count is not None
    assert everything is not None
    assert 0 < built.image_count < everything


def test_an_export_freezes_its_images_at_creation(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    client.exports.create(DATASET, "frozen", status_filter="complete")
    dataset = fake.world.dataset(fake.organization_id, DATASET)
    fake.world.dataset_service.add_synthetic_images(dataset, 5, completed=5)

    assert client.exports.get(DATASET, "frozen").image_count == COMPLETE
    assert client.exports.create(DATASET, "later", status_filter="complete").image_count == 17


def test_an_unknown_status_filter_builds_an_empty_export_that_training_refuses(
    client: pictograph.Client,
) -> None:
    # The pitfall the guide warns of: a literal "in_progress" matches no image status.
    export = client.exports.create(DATASET, "empty", status_filter="in_progress")
    assert export.image_count == 0

    with pytest.raises(ValidationError) as refused:
        client.training.create(DATASET, "empty", pipeline_type="yolox", name="r")
    assert "empty" in refused.value.message


def test_training_waits_for_the_export_to_complete(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    client.exports.create(DATASET, "v2", wait=False)
    with pytest.raises(ValidationError) as refused:
        client.training.create(DATASET, "v2", pipeline_type="yolox", name="early")
    assert "current status: pending" in refused.value.message

    client.exports.wait_for_completion(DATASET, "v2")
    run = client.training.create(DATASET, "v2", pipeline_type="yolox", name="on-time")
    assert run.status == "completed"
    assert run.export_id == client.exports.get(DATASET, "v2").id


def test_a_forced_failure_makes_create_raise_job_failed(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.faults.fail_export("disk full")

    with pytest.raises(ApiError) as failed:
        client.exports.create(DATASET, "doomed")

    assert failed.value.code == "job_failed"
    assert failed.value.message == "Export 'doomed' failed: disk full"
    export = client.exports.get(DATASET, "doomed")
    assert (export.status, export.error_message) == ("failed", "disk full")
    # Only the next export fails.
    assert client.exports.create(DATASET, "fine").status == "completed"
    with pytest.raises(ValidationError):
        client.training.create(DATASET, "doomed", pipeline_type="yolox", name="r")


def test_an_export_added_as_failed_fails_a_wait(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_export(DATASET, "broken", status="failed")

    with pytest.raises(ApiError) as failed:
        client.exports.wait_for_completion(DATASET, "broken")

    assert failed.value.code == "job_failed"
    assert "Export failed." in failed.value.message


def test_fail_export_needs_a_positive_count(fake: FakePictograph) -> None:
    with pytest.raises(ValueError, match="times"):
        fake.faults.fail_export(times=0)


def test_a_wait_shorter_than_the_export_times_out(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # 400 images with their files process for 123 virtual seconds: past the 60 s wait.
    fake.add_dataset("big", images=400, completed_images=400)

    with pytest.raises(PollTimeoutError) as slow:
        client.exports.create("big", "all", include_images=True, timeout=60.0)

    assert "last status: processing" in str(slow.value)
    assert fake.clock.monotonic() == 60.0
    # The export goes on: it completes later, on the server's own time.
    fake.clock.advance(seconds=QUEUE_SECONDS + processing_seconds(400, include_images=True))
    assert client.exports.get("big", "all").status == "completed"


async def test_async_create_waits_and_reads(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    export = await aclient.exports.create(DATASET, "v2", status_filter="complete")
    assert export.status == "completed"
    assert fake.clock.monotonic() > 0

    assert (await aclient.exports.get(DATASET, "v2")).id == export.id
    assert (await aclient.exports.get_by_id(export.id)).name == "v2"
    listed = await aclient.exports.list(dataset_name=DATASET)
    assert [e.name for e in listed] == ["v2", EXPORT]
    assert [e.name async for e in aclient.exports.iter(page_size=1)] == ["v2", EXPORT]


async def test_async_failure_raises_job_failed(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    fake.faults.fail_export("out of disk")
    with pytest.raises(ApiError) as failed:
        await aclient.exports.create(DATASET, "doomed")
    assert failed.value.code == "job_failed"


# ── create: refusals ──


def test_create_in_a_missing_dataset_is_404(client: pictograph.Client) -> None:
    with pytest.raises(NotFoundError) as missing:
        client.exports.create("nope", "v1")
    assert "Dataset 'nope' not found" in missing.value.message


def test_a_duplicate_name_in_the_dataset_is_409(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    with pytest.raises(ConflictError) as taken:
        client.exports.create(DATASET, EXPORT)
    assert "already exists" in taken.value.message

    # Names are unique per dataset, not per organization.
    fake.add_dataset("other", images=3, completed_images=3)
    assert client.exports.create("other", EXPORT).status == "completed"


@pytest.mark.parametrize(
    ("name", "options", "field"),
    [
        ("v2", {"format": "tfrecord"}, "format"),
        ("", {}, "name"),
        ("x" * 101, {}, "name"),
        ("   ", {}, "name"),
    ],
)
def test_bad_input_is_422(
    client: pictograph.Client, name: str, options: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        client.exports.create(DATASET, name, **options)
    assert refused.value.status_code == 422
    assert refused.value.field_errors is not None
    assert refused.value.field_errors[0]["loc"] == ["body", field]


def test_a_name_of_100_characters_is_fine(client: pictograph.Client) -> None:
    assert client.exports.create(DATASET, "x" * 100).name == "x" * 100


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"dataset_name": DATASET, "name": "v2", "colour": "red"}, "colour"),
        ({"dataset_name": DATASET}, "name"),
        ({"dataset_name": DATASET, "name": "v2", "include_images": "yes"}, "include_images"),
        ({"dataset_name": DATASET, "name": "v2", "class_filter": [1]}, "class_filter"),
    ],
)
def test_requests_the_sdk_never_sends_are_422(
    fake: FakePictograph, body: dict[str, Any], field: str
) -> None:
    with raw(fake) as http:
        answer = http.post("/api/v1/developer/exports/", json=body)
    assert answer.status_code == 422
    envelope = answer.json()
    assert envelope["error"]["code"] == "validation_error"
    assert envelope["error"]["details"]["errors"][0]["loc"] == ["body", field]


def test_a_viewer_cannot_create(viewer: pictograph.Client, member: pictograph.Client) -> None:
    with pytest.raises(ForbiddenError):
        viewer.exports.create(DATASET, "v2")
    assert member.exports.create(DATASET, "v2").status == "completed"


# ── get / list ──


def test_get_by_name_by_dataset_id_and_by_id(
    fake: FakePictograph, client: pictograph.Client, viewer: pictograph.Client
) -> None:
    by_name = client.exports.get(DATASET, EXPORT)
    dataset_id = fake.world.dataset(fake.organization_id, DATASET).id

    assert by_name.name == EXPORT
    assert by_name.dataset_name == DATASET
    assert by_name.status == "completed"
    assert client.exports.get(dataset_id, EXPORT) == by_name
    assert client.exports.get_by_id(by_name.id) == by_name
    assert client.exports.get_by_id(by_name.id.upper()) == by_name
    assert viewer.exports.get(DATASET, EXPORT) == by_name


def test_names_with_slashes_and_spaces_travel_as_one_segment(client: pictograph.Client) -> None:
    name = "v2 / with spaces?"
    client.exports.create(DATASET, name)
    assert client.exports.get(DATASET, name).name == name


def test_get_refusals(fake: FakePictograph, client: pictograph.Client) -> None:
    with pytest.raises(NotFoundError):
        client.exports.get(DATASET, "nope")
    with pytest.raises(NotFoundError):
        client.exports.get("nope", EXPORT)
    with pytest.raises(NotFoundError):
        client.exports.get_by_id(UNKNOWN_ID)
    with pytest.raises(NotFoundError) as by_name_without_dataset:
        client.exports.get_by_id(EXPORT)
    assert "?dataset=" in by_name_without_dataset.value.message


def test_another_organizations_export_is_404(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    export_id = client.exports.get(DATASET, EXPORT).id
    other = fake.world.add_organization(balance_usd=10)
    outsider_key = fake.world.add_api_key(other.id, role="owner").key
    with fake.client(api_key=outsider_key, max_retries=0) as outsider:
        with pytest.raises(NotFoundError):
            outsider.exports.get_by_id(export_id)
        with pytest.raises(NotFoundError):
            outsider.exports.download_by_id(export_id, "unused.zip")
        assert outsider.exports.list() == []


def test_list_is_newest_first_filtered_and_paged(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_dataset("other", images=3, completed_images=3)
    client.exports.create(DATASET, "v2")
    client.exports.create("other", "o1", wait=False)
    fake.add_export(DATASET, "broken", status="failed")

    assert [e.name for e in client.exports.list()] == ["broken", "o1", "v2", EXPORT]
    assert [e.name for e in client.exports.list(dataset_name=DATASET)] == [
        "broken",
        "v2",
        EXPORT,
    ]
    assert [e.name for e in client.exports.list(dataset_name="missing")] == []
    assert [e.name for e in client.exports.list(status="pending")] == ["o1"]
    assert [e.name for e in client.exports.list(status="failed")] == ["broken"]
    assert [e.name for e in client.exports.list(limit=2, offset=1)] == ["o1", "v2"]
    assert [e.name for e in client.exports.iter(page_size=3)] == ["broken", "o1", "v2", EXPORT]
    assert [e.name for e in client.exports.iter(page_size=1, max_total=2)] == ["broken", "o1"]
    assert [e.name for e in client.exports.iter(status="completed")] == ["v2", EXPORT]


def test_a_datasets_listing_follows_its_exports_status_changes_and_deletes(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    """By dataset and status, read from indexes kept as exports end and go."""
    fake.add_dataset("other", images=3, completed_images=3)
    client.exports.create("other", "o1", wait=False)
    client.exports.create(DATASET, "p1", wait=False)
    fake.add_export(DATASET, "broken", status="failed")
    assert [e.name for e in client.exports.list(dataset_name=DATASET, status="pending")] == ["p1"]
    assert [e.name for e in client.exports.list(dataset_name=DATASET, status="failed")] == [
        "broken"
    ]
    fake.clock.advance(hours=1)  # every pending export has completed
    assert client.exports.list(dataset_name=DATASET, status="pending") == []
    assert [e.name for e in client.exports.list(dataset_name=DATASET, status="completed")] == [
        "p1",
        EXPORT,
    ]
    client.exports.delete(DATASET, "p1")
    assert [e.name for e in client.exports.list(dataset_name=DATASET)] == ["broken", EXPORT]
    assert [e.name for e in client.exports.list(dataset_name=DATASET, limit=1, offset=1)] == [
        EXPORT
    ]
    assert [e.name for e in client.exports.list(dataset_name="other")] == ["o1"]


async def test_async_a_datasets_listing_by_status(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    await aclient.exports.create(DATASET, "p1", wait=False)
    pending = await aclient.exports.list(dataset_name=DATASET, status="pending")
    assert [e.name for e in pending] == ["p1"]


def test_list_refuses_an_unknown_status(client: pictograph.Client) -> None:
    with pytest.raises(ValidationError) as refused:
        client.exports.list(status="done")
    assert refused.value.field_errors is not None
    assert refused.value.field_errors[0]["loc"] == ["query", "status"]


def test_the_wire_object_carries_every_field(fake: FakePictograph) -> None:
    with raw(fake) as http:
        listed = http.get("/api/v1/developer/exports/").json()
    export = listed["data"][0]
    assert listed["pagination"] == {"limit": 100, "offset": 0, "total": 1, "has_more": False}
    assert export["project_id"] == export["dataset_id"]
    assert set(export) >= {
        "id",
        "organization_id",
        "dataset_id",
        "dataset_name",
        "name",
        "format",
        "include_images",
        "class_filter",
        "status_filter",
        "organize_by_split",
        "status",
        "error_message",
        "file_size",
        "image_count",
        "annotation_count",
        "created_at",
        "expires_at",
        "download_url",
    }


# ── download ──


def test_download_is_a_valid_zip_with_one_json_per_image_and_a_manifest(
    client: pictograph.Client, tmp_path: Path
) -> None:
    client.exports.create(DATASET, "v2", status_filter="complete")
    seen: list[tuple[int, int]] = []

    out = client.exports.download(
        DATASET, "v2", tmp_path / "out" / "v2.zip", progress=lambda n, t: seen.append((n, t))
    )

    assert out == tmp_path / "out" / "v2.zip"
    assert not out.with_name("v2.zip.part").exists()
    archive = _zip(out)
    names = archive.namelist()
    assert any(n.endswith(".json") for n in names)
    annotations = [n for n in names if n.startswith("annotations/")]
    assert len(annotations) == COMPLETE
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["export"]["name"] == "v2"
    assert manifest["image_count"] == COMPLETE
    assert manifest["classes"] == ["stop_sign", "yield"]
    first = json.loads(archive.read(annotations[0]))
    assert first["status"] == "complete"
    assert len(first["annotations"]) == 2
    assert {a["type"] for a in first["annotations"]} == {"bbox"}
    assert not any(n.startswith("images/") for n in names)
    assert seen[-1][0] == out.stat().st_size
    assert client.exports.get(DATASET, "v2").file_size == out.stat().st_size


def test_download_by_id_gives_the_same_bytes(client: pictograph.Client, tmp_path: Path) -> None:
    export = client.exports.get(DATASET, EXPORT)
    by_name = client.exports.download(DATASET, EXPORT, tmp_path / "a.zip")
    by_id = client.exports.download_by_id(export.id, tmp_path / "b.zip")
    assert by_name.read_bytes() == by_id.read_bytes()


def test_include_images_puts_the_image_files_in_the_zip(
    client: pictograph.Client, tmp_path: Path
) -> None:
    client.exports.create(DATASET, "with-images", include_images=True, status_filter="complete")
    archive = _zip(client.exports.download(DATASET, "with-images", tmp_path / "x.zip"))

    images = [n for n in archive.namelist() if n.startswith("images/")]
    assert len(images) == COMPLETE
    first = archive.read(images[0])
    assert first[:2] == b"\xff\xd8"  # the JPEG the image route serves
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["images"][0]["image"] == images[0]


def test_organize_by_split_puts_images_under_their_split(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    dataset = fake.world.dataset(fake.organization_id, DATASET)
    images = fake.world.dataset_images(dataset)
    images[0].split, images[1].split, images[2].split = "val", "test", "train"
    client.exports.create(DATASET, "split", organize_by_split=True)
    names = _zip(client.exports.download(DATASET, "split", tmp_path / "s.zip")).namelist()

    tops = {n.split("/")[0] for n in names if "/" in n}
    assert tops == {"train", "valid", "test"}
    assert sum(n.startswith("valid/annotations/") for n in names) == 1
    assert sum(n.startswith("train/annotations/") for n in names) == ALL - 2


@pytest.mark.parametrize("export_format", ["coco", "yolo"])
def test_coco_and_yolo_zips(client: pictograph.Client, tmp_path: Path, export_format: str) -> None:
    client.exports.create(DATASET, export_format, format=export_format)  # type: ignore[arg-type]
    archive = _zip(client.exports.download(DATASET, export_format, tmp_path / "f.zip"))
    names = archive.namelist()
    if export_format == "coco":
        coco = json.loads(archive.read("annotations.json"))
        assert len(coco["images"]) == ALL
        assert len(coco["annotations"]) == 2 * ALL
        assert [c["name"] for c in coco["categories"]] == ["stop_sign", "yield"]
    else:
        labels = [n for n in names if n.startswith("labels/")]
        assert len(labels) == ALL
        assert archive.read(labels[0]).decode().count("\n") == 2
        assert b"nc: 2" in archive.read("data.yaml")


def test_a_pascal_voc_zip_is_read_back_by_the_sdks_own_importer(
    client: pictograph.Client, tmp_path: Path
) -> None:
    """One XML an image under ``Annotations/``, as the SDK's ``to_pascal_voc`` writes it:
    imported into a copy of the dataset, every box comes back where it was."""
    client.exports.create(DATASET, "voc", format="pascal_voc", include_images=True)
    archive = _zip(client.exports.download(DATASET, "voc", tmp_path / "voc.zip"))
    xml = {n: archive.read(n).decode() for n in archive.namelist() if n.endswith(".xml")}
    assert len(xml) == ALL
    assert all(name.startswith("Annotations/") for name in xml)
    manifest = json.loads(archive.read("manifest.json"))
    assert {entry["annotations"] for entry in manifest["images"]} == set(xml)
    boxes = {
        image.filename: sorted(
            (a.name, a.bounding_box.x, a.bounding_box.y, a.bounding_box.w, a.bounding_box.h)
            for a in client.annotations.get(DATASET, image.filename)
            if isinstance(a, BBoxAnnotation)
        )
        for image in client.images.list(DATASET, limit=ALL)
    }
    assert sum(len(found) for found in boxes.values()) == 2 * ALL
    client.datasets.create("copy", annotation_types=["bbox"])
    for entry in manifest["images"]:
        image = tmp_path / entry["path"]
        image.write_bytes(archive.read(entry["image"]))
        client.images.upload("copy", image)
    by_file = {name.removeprefix("Annotations/"): text for name, text in xml.items()}
    report = client.annotations.import_pascal_voc("copy", by_file)
    assert report.failures == []
    for filename, expected in boxes.items():
        back = sorted(
            (a.name, a.bounding_box.x, a.bounding_box.y, a.bounding_box.w, a.bounding_box.h)
            for a in client.annotations.get("copy", filename)
            if isinstance(a, BBoxAnnotation)
        )
        assert back == [(n, round(x), round(y), round(w), round(h)) for n, x, y, w, h in expected]


def _same_stem_dataset(client: pictograph.Client, tmp_path: Path) -> None:
    """`a.png` and `a.jpg` side by side, a box each; the class `car` as a box and a polygon."""
    client.datasets.create(
        "stems",
        annotation_types=["bbox", "polygon"],
        classes=[
            {"name": "car", "type": "box"},
            {"name": "car", "type": "polygon"},
            {"name": "bus", "type": "box"},
        ],
    )
    for name, fmt in (("a.png", "PNG"), ("a.jpg", "JPEG")):
        PILImage.new("RGB", (100, 50)).save(tmp_path / name, fmt)
        client.images.upload("stems", tmp_path / name, directory_path="/cam")
        client.annotations.save(
            "stems",
            name,
            [BBoxAnnotation(name="bus", bounding_box=BoundingBox(x=10, y=10, w=20, h=10))],
            directory_path="/cam",
        )


@pytest.mark.filterwarnings("error::UserWarning")
def test_a_yolo_zip_pairs_each_image_with_labels_of_its_own(
    client: pictograph.Client, tmp_path: Path
) -> None:
    _same_stem_dataset(client, tmp_path)
    client.exports.create("stems", "y", format="yolo", include_images=True)
    archive = _zip(client.exports.download("stems", "y", tmp_path / "y.zip"))

    names = archive.namelist()
    assert len(names) == len(set(names))
    labels = sorted(n for n in names if n.startswith("labels/"))
    images = sorted(n for n in names if n.startswith("images/"))
    assert labels == ["labels/cam/a-1.txt", "labels/cam/a.txt"]
    assert [n.rsplit(".", 1)[0] for n in images] == ["images/cam/a-1", "images/cam/a"]
    # Each image's labels are under its stored stem; the manifest says which image it is.
    manifest = json.loads(archive.read("manifest.json"))
    stored = {entry["path"]: (entry["image"], entry["labels"]) for entry in manifest["images"]}
    assert set(stored) == {"cam/a.png", "cam/a.jpg"}
    for image, label in stored.values():
        assert image.removeprefix("images/").rsplit(".", 1)[0] == label[7:-4]
        assert archive.read(label).decode().split()[0] == "1"  # `bus`, after `car`


def test_a_class_name_of_two_types_is_one_class_in_the_zip(
    client: pictograph.Client, tmp_path: Path
) -> None:
    _same_stem_dataset(client, tmp_path)
    for export_format in ("yolo", "coco", "pictograph"):
        client.exports.create("stems", export_format, format=export_format)
        archive = _zip(client.exports.download("stems", export_format, tmp_path / "c.zip"))
        assert json.loads(archive.read("manifest.json"))["classes"] == ["car", "bus"]
        if export_format == "yolo":
            data = archive.read("data.yaml").decode()
            assert 'nc: 2\nnames:\n  0: "car"\n  1: "bus"\n' in data
        if export_format == "coco":
            coco = json.loads(archive.read("annotations.json"))
            assert coco["categories"] == [{"id": 1, "name": "car"}, {"id": 2, "name": "bus"}]
            assert {a["category_id"] for a in coco["annotations"]} == {2}


def test_a_yolo_data_yaml_says_where_each_split_is(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    client.exports.create(DATASET, "flat", format="yolo")
    flat = _zip(client.exports.download(DATASET, "flat", tmp_path / "f.zip"))
    assert flat.read("data.yaml").decode().startswith("train: images\nval: images\nnc: 2\n")

    dataset = fake.world.dataset(fake.organization_id, DATASET)
    images = fake.world.dataset_images(dataset)
    images[0].split, images[1].split = "val", "test"
    client.exports.create(DATASET, "split", format="yolo", organize_by_split=True)
    split = _zip(client.exports.download(DATASET, "split", tmp_path / "s.zip"))
    assert (
        split.read("data.yaml")
        .decode()
        .startswith("train: train/images\nval: valid/images\ntest: test/images\nnc: 2\n")
    )


def _mask_value(rle: dict[str, Any], x: int, y: int) -> int:
    """The pixel at (x, y) of an uncompressed COCO RLE mask (runs down columns)."""
    height = rle["size"][0]
    at, value = x * height + y, 0
    for run in rle["counts"]:
        if at < run:
            return value
        at, value = at - run, 1 - value
    raise AssertionError("outside the mask")


def _polygon_dataset(
    client: pictograph.Client, tmp_path: Path, name: str, size: tuple[int, int]
) -> None:
    """A dataset of polygons of class `lot`, holding one black image `a.png` of ``size``."""
    client.datasets.create(
        name, annotation_types=["polygon"], classes=[{"name": "lot", "type": "polygon"}]
    )
    PILImage.new("RGB", size).save(tmp_path / "a.png")
    client.images.upload(name, tmp_path / "a.png")


def test_a_coco_zip_carries_polygon_masks(client: pictograph.Client, tmp_path: Path) -> None:
    _polygon_dataset(client, tmp_path, "shapes", (100, 50))
    square = [Point(x=10, y=10), Point(x=30, y=10), Point(x=30, y=30), Point(x=10, y=30)]
    hole = [Point(x=15, y=15), Point(x=20, y=15), Point(x=20, y=20), Point(x=15, y=20)]
    client.annotations.save(
        "shapes",
        "a.png",
        [
            PolygonAnnotation(name="lot", polygon=PolygonGeometry(paths=[square])),
            PolygonAnnotation(name="lot", polygon=PolygonGeometry(paths=[square, hole])),
        ],
    )
    client.exports.create("shapes", "coco", format="coco")
    coco = json.loads(
        _zip(client.exports.download("shapes", "coco", tmp_path / "c.zip")).read("annotations.json")
    )

    plain, holed = coco["annotations"]
    assert plain["segmentation"] == [[10.0, 10.0, 30.0, 10.0, 30.0, 30.0, 10.0, 30.0]]
    assert plain["area"] == 400.0
    # The SDK's own reader takes the ring back as the polygon it was.
    (read,) = from_coco({**coco, "annotations": [plain]}).annotations["a.png"]
    assert read.type == "polygon"
    assert [(p.x, p.y) for p in read.polygon.paths[0]] == [(p.x, p.y) for p in square]
    # A hole has no polygon form in COCO: the mask comes as RLE over the whole image.
    rle = holed["segmentation"]
    assert rle["size"] == [50, 100]
    assert sum(rle["counts"]) == 50 * 100
    assert holed["area"] == sum(rle["counts"][1::2])
    assert (_mask_value(rle, 12, 12), _mask_value(rle, 17, 17), _mask_value(rle, 50, 5)) == (
        1,
        0,
        0,
    )


def test_a_download_url_needs_no_key_and_expires(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    with raw(fake) as http:
        answer = http.get(f"/api/v1/developer/exports/{EXPORT}/download?dataset={DATASET}")
        url = answer.json()["data"]["download_url"]
        assert url.startswith(fake.base_url + "/_storage/")
        with httpx.Client(transport=fake.transport()) as anonymous:
            fetched = anonymous.get(url)
            assert fetched.status_code == 200
            assert fetched.headers["content-type"] == "application/zip"
            assert zipfile.ZipFile(io.BytesIO(fetched.content)).testzip() is None
            # HEAD, as an object store answers it: GET's status and length, no body.
            head = anonymous.head(url)
            assert head.status_code == 200
            assert head.headers["content-length"] == str(len(fetched.content))
            assert head.content == b""
            assert anonymous.post(url).status_code == 405
            fake.clock.advance(hours=1)
            assert anonymous.get(url).status_code == 403


def test_get_and_list_carry_a_download_url_until_the_window_closes(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # The SDK reads `download_url` on get and list once completed (create(wait=True)
    # returns it populated); reading it draws no id: the same URL every time.
    created = client.exports.create(DATASET, "v2")
    got = client.exports.get(DATASET, "v2")
    listed = next(e for e in client.exports.list(dataset_name=DATASET) if e.name == "v2")
    assert created.download_url is not None
    assert created.download_url == got.download_url == listed.download_url
    assert client.exports.get_by_id(created.id).download_url == got.download_url
    with httpx.Client(transport=fake.transport()) as anonymous:
        fetched = anonymous.get(got.download_url)
        assert fetched.status_code == 200
        assert zipfile.ZipFile(io.BytesIO(fetched.content)).testzip() is None
        assert got.expires_at is not None
        fake.clock.advance(got.expires_at - fake.clock.now())
        assert client.exports.get(DATASET, "v2").download_url is None
        assert anonymous.get(got.download_url).status_code == 403


async def test_async_get_carries_the_same_download_url(
    client: pictograph.Client, aclient: pictograph.AsyncClient
) -> None:
    export = await aclient.exports.get(DATASET, EXPORT)
    assert export.download_url is not None
    assert export.download_url == client.exports.get(DATASET, EXPORT).download_url


def test_a_signed_url_of_a_deleted_export_is_no_such_key(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    listed_url = client.exports.get(DATASET, EXPORT).download_url
    assert listed_url is not None
    with raw(fake) as http:
        answer = http.get(f"/api/v1/developer/exports/{EXPORT}/download?dataset={DATASET}")
        minted_url = answer.json()["data"]["download_url"]
    client.exports.delete(DATASET, EXPORT)
    with httpx.Client(transport=fake.transport()) as anonymous:
        for url in (listed_url, minted_url):
            gone = anonymous.get(url)
            assert gone.status_code == 404
            assert b"<Code>NoSuchKey</Code>" in gone.content
    assert fake.server_errors == []


def test_an_unfinished_export_cannot_be_downloaded(
    client: pictograph.Client, tmp_path: Path
) -> None:
    client.exports.create(DATASET, "v2", wait=False)
    with pytest.raises(ValidationError) as refused:
        client.exports.download(DATASET, "v2", tmp_path / "x.zip")
    assert "not ready" in refused.value.message
    assert not (tmp_path / "x.zip").exists()


def test_a_viewer_may_download(viewer: pictograph.Client, tmp_path: Path) -> None:
    assert _zip(viewer.exports.download(DATASET, EXPORT, tmp_path / "v.zip")).namelist()


async def test_async_downloads(aclient: pictograph.AsyncClient, tmp_path: Path) -> None:
    export = await aclient.exports.get(DATASET, EXPORT)
    by_name = await aclient.exports.download(DATASET, EXPORT, tmp_path / "a.zip")
    by_id = await aclient.exports.download_by_id(export.id, tmp_path / "b.zip")
    assert by_name.read_bytes() == by_id.read_bytes()
    assert any(n.endswith(".json") for n in _zip(by_name).namelist())


# ── delete ──


def test_delete_needs_admin_and_removes_the_export(
    fake: FakePictograph, client: pictograph.Client, member: pictograph.Client
) -> None:
    with pytest.raises(ForbiddenError):
        member.exports.delete(DATASET, EXPORT)

    client.exports.delete(DATASET, EXPORT)

    with pytest.raises(NotFoundError):
        client.exports.get(DATASET, EXPORT)
    with pytest.raises(NotFoundError):
        client.exports.delete(DATASET, EXPORT)
    assert client.exports.list() == []
    # The name is free again.
    assert client.exports.create(DATASET, EXPORT).status == "completed"


def test_deleting_a_pending_export_stops_its_lifecycle(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    client.exports.create(DATASET, "v2", wait=False)
    client.exports.delete(DATASET, "v2")
    fake.clock.advance(minutes=5)
    assert [e.name for e in client.exports.list()] == [EXPORT]
    assert client.notifications.list() == []


def test_bulk_delete(
    fake: FakePictograph, client: pictograph.Client, member: pictograph.Client
) -> None:
    first = client.exports.get(DATASET, EXPORT).id
    second = client.exports.create(DATASET, "v2").id
    with pytest.raises(ForbiddenError):
        member.exports.bulk_delete([first])

    result = client.exports.bulk_delete([first, second, first, UNKNOWN_ID])

    assert result.succeeded == [first, second]
    assert result.deleted == [first, second]
    assert result.not_found == [UNKNOWN_ID]
    assert result.count == 2
    assert client.exports.list() == []
    again = client.exports.bulk_delete([first])
    assert (again.succeeded, again.not_found, again.count) == ([], [first], 0)


def test_bulk_delete_collapses_one_id_sent_in_two_cases(client: pictograph.Client) -> None:
    export_id = client.exports.create(DATASET, "v2").id
    twice = client.exports.bulk_delete([export_id.upper(), export_id])
    assert (twice.succeeded, twice.not_found, twice.count) == ([export_id.upper()], [], 1)


def test_bulk_delete_refuses_an_empty_list(client: pictograph.Client) -> None:
    with pytest.raises(ValidationError) as refused:
        client.exports.bulk_delete([])
    assert refused.value.status_code == 422


async def test_async_delete_and_bulk_delete(aclient: pictograph.AsyncClient) -> None:
    created = await aclient.exports.create(DATASET, "v2")
    await aclient.exports.delete(DATASET, EXPORT)
    result = await aclient.exports.bulk_delete([created.id])
    assert result.succeeded == [created.id]
    assert await aclient.exports.list() == []


# ── what each format holds of each shape ──


def _shapes_dataset(client: pictograph.Client, tmp_path: Path) -> None:
    """One 200 x 100 image with a keypoint, a polyline, a box straying off the image, and
    boxes of classes an export may filter out."""
    client.datasets.create(
        "scene",
        annotation_types=["bbox", "polyline", "keypoint"],
        classes=[
            {"name": "car", "type": "bbox"},
            {"name": "bus", "type": "bbox"},
            {"name": "lane", "type": "polyline"},
            {"name": "nose", "type": "keypoint"},
        ],
    )
    PILImage.new("RGB", (200, 100)).save(tmp_path / "a.png")
    client.images.upload("scene", tmp_path / "a.png")
    annotations = _ANNOTATIONS.validate_python(
        [
            {"name": "nose", "type": "keypoint", "keypoint": {"x": 40, "y": 30}},
            {
                "name": "lane",
                "type": "polyline",
                "polyline": {"path": [{"x": 0, "y": 5}, {"x": 50, "y": 5}]},
            },
            {"name": "car", "type": "bbox", "bounding_box": {"x": -20, "y": 70, "w": 60, "h": 40}},
            {"name": "bus", "type": "bbox", "bounding_box": {"x": 100, "y": 10, "w": 50, "h": 20}},
        ]
    )
    client.annotations.save("scene", "a.png", annotations)


_ANNOTATIONS: TypeAdapter[list[Annotation]] = TypeAdapter(list[Annotation])


def test_a_keypoint_is_a_coco_point_with_a_trainable_box_and_a_polyline_is_left_out(
    client: pictograph.Client, tmp_path: Path
) -> None:
    # As the SDK's `to_coco` writes them: a point on its own (no template joins it) with
    # its [x, y, v] triplet and a box 5% of the shorter side; polylines have no COCO form.
    _shapes_dataset(client, tmp_path)
    client.exports.create("scene", "coco", format="coco")
    archive = _zip(client.exports.download("scene", "coco", tmp_path / "c.zip"))
    coco = json.loads(archive.read("annotations.json"))
    names = {c["id"]: c["name"] for c in coco["categories"]}
    by_class = {names[a["category_id"]]: a for a in coco["annotations"]}
    assert sorted(by_class) == ["bus", "car", "nose"]
    nose = by_class["nose"]
    assert (nose["keypoints"], nose["num_keypoints"], nose["segmentation"]) == (
        [40.0, 30.0, 2],
        1,
        [],
    )
    assert nose["bbox"] == [37.5, 27.5, 5.0, 5.0]
    assert nose["area"] == 25.0
    # The SDK's own reader takes the point back.
    read = from_coco(coco).annotations["a.png"]
    assert [(a.type, a.name) for a in read if a.type == "keypoint"] == [("keypoint", "nose")]


def test_yolo_labels_are_clipped_to_the_image_and_hold_keypoints_in_pose_only(
    client: pictograph.Client, tmp_path: Path
) -> None:
    _shapes_dataset(client, tmp_path)
    labels = {}
    for export_format in ("yolo", "yolo_pose"):
        client.exports.create("scene", export_format, format=export_format)
        archive = _zip(client.exports.download("scene", export_format, tmp_path / "y.zip"))
        labels[export_format] = archive.read("labels/a.txt").decode().splitlines()
    # The classes by index: car 0, bus 1, lane 2, nose 3. The car box (x -20..40, y 70..110)
    # is cut to the image (x 0..40, y 70..100); the lane is no YOLO shape.
    car = "0 0.100000 0.850000 0.200000 0.300000"
    bus = "1 0.625000 0.200000 0.250000 0.200000"
    assert labels["yolo"] == [car, bus]
    assert labels["yolo_pose"] == ["3 0.200000 0.300000 0.025000 0.050000", car, bus]
    for line in labels["yolo_pose"]:
        assert all(0 <= float(v) <= 1 for v in line.split()[1:])


def test_a_class_filtered_export_lists_only_its_classes(
    client: pictograph.Client, tmp_path: Path
) -> None:
    # The archive's class list is the one a run trained on the export learns.
    _shapes_dataset(client, tmp_path)
    for export_format in ("yolo", "coco", "pictograph"):
        client.exports.create(
            "scene",
            f"buses-{export_format}",
            format=export_format,
            class_filter=["bus"],
        )
        archive = _zip(
            client.exports.download("scene", f"buses-{export_format}", tmp_path / "f.zip")
        )
        assert json.loads(archive.read("manifest.json"))["classes"] == ["bus"]
        if export_format == "yolo":
            assert archive.read("data.yaml").decode().endswith('nc: 1\nnames:\n  0: "bus"\n')
            assert (
                archive.read("labels/a.txt").decode() == "0 0.625000 0.200000 0.250000 0.200000\n"
            )
        if export_format == "coco":
            coco = json.loads(archive.read("annotations.json"))
            assert coco["categories"] == [{"id": 1, "name": "bus"}]


@pytest.mark.parametrize(
    "name", ["\U0001f697 car", "van\x80", "bus\x85x", "car\u2028front", 'say "hi" \\o/', "del\x7f"]
)
def test_a_data_yaml_class_name_reads_back_as_it_is(
    client: pictograph.Client, tmp_path: Path, name: str
) -> None:
    # YAML reads JSON's `\ud83d\ude97` as two broken characters, refuses a raw U+0080 and
    # reads a raw U+0085 as a line break: each name is escaped as YAML reads it back.
    client.datasets.create("cars", classes=[{"name": name, "type": "bbox"}])
    client.exports.create("cars", "y", format="yolo")
    data = _zip(client.exports.download("cars", "y", tmp_path / "y.zip")).read("data.yaml")
    assert yaml.safe_load(data)["names"] == {0: name}


def _coco_of_a_square_with(
    client: pictograph.Client, tmp_path: Path, holes: list[list[Point]]
) -> dict[str, Any]:
    """The COCO annotation of a 50 x 50 square at (10, 10) with ``holes``, on a 100 x 80
    image, as a `coco` export of it writes it."""
    _polygon_dataset(client, tmp_path, "lots", (100, 80))
    square = [Point(x=10, y=10), Point(x=60, y=10), Point(x=60, y=60), Point(x=10, y=60)]
    polygon = PolygonGeometry(paths=[square, *holes])
    client.annotations.save("lots", "a.png", [PolygonAnnotation(name="lot", polygon=polygon)])
    client.exports.create("lots", "coco", format="coco")
    archive = _zip(client.exports.download("lots", "coco", tmp_path / "c.zip"))
    (annotation,) = json.loads(archive.read("annotations.json"))["annotations"]
    return cast("dict[str, Any]", annotation)


def test_a_coco_mask_with_a_hole_covers_the_polygons_pixels(
    client: pictograph.Client, tmp_path: Path
) -> None:
    # A pixel is in the mask when its centre is: a 50 x 50 square less a 5 x 10 hole is
    # 2,450 pixels, all inside the square's box (pycocotools counts the same).
    hole = [Point(x=20, y=20), Point(x=25, y=20), Point(x=25, y=30), Point(x=20, y=30)]
    holed = _coco_of_a_square_with(client, tmp_path, [hole])
    rle = holed["segmentation"]
    assert holed["area"] == 2450.0
    assert holed["bbox"] == [10.0, 10.0, 50.0, 50.0]
    inside = {(x, y) for x in range(100) for y in range(80) if _mask_value(rle, x, y)}
    assert min(x for x, _ in inside) == 10
    assert max(x for x, _ in inside) == 59
    assert max(y for _, y in inside) == 59
    assert (20, 20) not in inside
    assert (19, 20) in inside


def test_overlapping_holes_and_a_hole_past_the_ring_stay_holes(
    client: pictograph.Client, tmp_path: Path
) -> None:
    # Each hole is taken out on its own: where two overlap, and outside the outer ring,
    # no pixel comes back (an even-odd fill of all the rings together filled them in).
    first = [Point(x=20, y=20), Point(x=40, y=20), Point(x=40, y=40), Point(x=20, y=40)]
    second = [Point(x=30, y=30), Point(x=50, y=30), Point(x=50, y=50), Point(x=30, y=50)]
    past = [Point(x=55, y=5), Point(x=70, y=5), Point(x=70, y=15), Point(x=55, y=15)]
    holed = _coco_of_a_square_with(client, tmp_path, [first, second, past])
    rle = holed["segmentation"]
    # 2,500 less 400 and 400 sharing 100, less the 5 x 5 corner the last hole cuts off.
    assert holed["area"] == 2500 - 700 - 25
    assert _mask_value(rle, 35, 35) == 0
    assert _mask_value(rle, 65, 10) == 0


def test_a_yolo_label_of_an_image_of_unknown_size_keeps_its_box(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    # A HEIC image's pixels are not read: with no size to cut a box to, it is written
    # as saved rather than dropped.
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    (tmp_path / "a.heic").write_bytes(heic)
    client.datasets.create("phones", classes=[{"name": "car", "type": "bbox"}])
    client.images.upload("phones", tmp_path / "a.heic")
    box = BBoxAnnotation(name="car", bounding_box=BoundingBox(x=10, y=10, w=50, h=40))
    client.annotations.save("phones", "a.heic", [box])
    client.exports.create("phones", "y", format="yolo")
    archive = _zip(client.exports.download("phones", "y", tmp_path / "y.zip"))
    assert archive.read("labels/a.txt").decode().startswith("0 ")


async def test_async_a_keypoint_reaches_a_pose_export(
    client: pictograph.Client, aclient: pictograph.AsyncClient, tmp_path: Path
) -> None:
    _shapes_dataset(client, tmp_path)
    await aclient.exports.create("scene", "pose", format="yolo_pose")
    path = await aclient.exports.download("scene", "pose", tmp_path / "p.zip")
    lines = _zip(path).read("labels/a.txt").decode().splitlines()
    assert lines[0] == "3 0.200000 0.300000 0.025000 0.050000"


# ── rules a mutation run of the exports found no test holding ──


def _boxes_dataset(
    client: pictograph.Client, tmp_path: Path, boxes: dict[str, list[BoundingBox]]
) -> None:
    """A dataset `boxes` of 200 x 100 images, each named in ``boxes`` with its `car` boxes
    (``a.png`` holds `bus` boxes instead, when it is named)."""
    client.datasets.create(
        "boxes", classes=[{"name": "car", "type": "bbox"}, {"name": "bus", "type": "bbox"}]
    )
    for name, found in boxes.items():
        PILImage.new("RGB", (200, 100)).save(tmp_path / name)
        client.images.upload("boxes", tmp_path / name)
        kind = "bus" if name == "a.png" else "car"
        annotations = [BBoxAnnotation(name=kind, bounding_box=box) for box in found]
        client.annotations.save("boxes", name, cast("list[Annotation]", annotations))


def test_a_class_filter_keeps_only_images_with_an_annotation_of_its_classes(
    client: pictograph.Client, tmp_path: Path
) -> None:
    box = BoundingBox(x=10, y=10, w=20, h=10)
    _boxes_dataset(client, tmp_path, {"a.png": [box], "b.png": [box], "c.png": []})

    export = client.exports.create("boxes", "buses", class_filter=["bus"])

    assert (export.image_count, export.annotation_count) == (1, 1)
    archive = _zip(client.exports.download("boxes", "buses", tmp_path / "b.zip"))
    manifest = json.loads(archive.read("manifest.json"))
    assert [entry["path"] for entry in manifest["images"]] == ["a.png"]


def test_an_export_read_late_ended_at_its_own_moment(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    created = client.exports.create(DATASET, "late", wait=False)
    fake.clock.advance(seconds=3600)

    done = client.exports.get(DATASET, "late")

    ends = QUEUE_SECONDS + processing_seconds(ALL, include_images=False)
    assert done.status == "completed"
    assert done.expires_at == created.created_at + timedelta(seconds=ends + DOWNLOAD_TTL_SECONDS)
    with raw(fake) as http:
        wire = http.get(f"/api/v1/developer/exports/{done.id}").json()["data"]
    completed_at = parse_timestamp(wire["completed_at"])
    assert completed_at == created.created_at + timedelta(seconds=ends)


async def test_async_a_failed_export_has_no_download_window(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    fake.faults.fail_export("disk full")
    await aclient.exports.create(DATASET, "doomed", wait=False)
    fake.clock.advance(seconds=3600)

    failed = await aclient.exports.get(DATASET, "doomed")

    assert (failed.status, failed.error_message) == ("failed", "disk full")
    assert (failed.expires_at, failed.download_url, failed.file_size) == (None, None, None)


def test_the_wire_and_the_manifest_echo_organize_by_split(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    for name, organized in (("split", True), ("flat", False)):
        export = client.exports.create(DATASET, name, organize_by_split=organized)
        with raw(fake) as http:
            wire = http.get(f"/api/v1/developer/exports/{export.id}").json()["data"]
        assert wire["organize_by_split"] is organized
        archive = _zip(client.exports.download(DATASET, name, tmp_path / f"{name}.zip"))
        assert json.loads(archive.read("manifest.json"))["export"]["organize_by_split"] is organized


def test_a_create_without_a_format_makes_a_pictograph_export(fake: FakePictograph) -> None:
    # Every SDK release sends `format`; the route's default is the SDK's.
    with raw(fake) as http:
        answer = http.post(
            "/api/v1/developer/exports/", json={"dataset_name": DATASET, "name": "x"}
        )
    assert answer.status_code == 200
    assert answer.json()["data"]["format"] == "pictograph"


@pytest.mark.filterwarnings("error::UserWarning")
def test_a_third_image_of_a_shared_stem_takes_the_next_number(
    client: pictograph.Client, tmp_path: Path
) -> None:
    client.datasets.create("stems", classes=[{"name": "bus", "type": "bbox"}])
    for name, fmt in (("a.png", "PNG"), ("a.jpg", "JPEG"), ("a.gif", "GIF")):
        PILImage.new("RGB", (100, 50)).save(tmp_path / name, fmt)
        client.images.upload("stems", tmp_path / name)
    client.exports.create("stems", "y", format="yolo", include_images=True)

    archive = _zip(client.exports.download("stems", "y", tmp_path / "y.zip"))

    labels = sorted(n for n in archive.namelist() if n.startswith("labels/"))
    assert labels == ["labels/a-1.txt", "labels/a-2.txt", "labels/a.txt"]


def test_a_data_yaml_without_train_or_val_images_trains_and_validates_on_train(
    client: pictograph.Client, tmp_path: Path
) -> None:
    # Every image is a test image: `train` still names its directory, and `val` with it.
    client.datasets.create("held-out", classes=[{"name": "bus", "type": "bbox"}])
    PILImage.new("RGB", (100, 50)).save(tmp_path / "a.png")
    client.images.upload("held-out", tmp_path / "a.png")
    client.images.set_split("held-out", "a.png", "test")
    client.exports.create("held-out", "y", format="yolo", organize_by_split=True)

    archive = _zip(client.exports.download("held-out", "y", tmp_path / "y.zip"))

    assert (
        archive.read("data.yaml")
        .decode()
        .startswith("train: train/images\nval: train/images\ntest: test/images\nnc: 1\n")
    )


def test_yolo_labels_clip_a_box_past_the_right_edge_and_drop_one_wholly_outside(
    client: pictograph.Client, tmp_path: Path
) -> None:
    past = BoundingBox(x=150, y=10, w=100, h=20)
    outside = BoundingBox(x=250, y=10, w=20, h=20)
    _boxes_dataset(client, tmp_path, {"b.png": [past, outside]})
    client.exports.create("boxes", "y", format="yolo")

    archive = _zip(client.exports.download("boxes", "y", tmp_path / "y.zip"))

    assert archive.read("labels/b.txt").decode() == "0 0.875000 0.200000 0.250000 0.200000\n"


def test_a_coco_export_numbers_annotations_from_one_and_reads_occluded_points(
    client: pictograph.Client, tmp_path: Path
) -> None:
    client.datasets.create(
        "points", annotation_types=["keypoint"], classes=[{"name": "nose", "type": "keypoint"}]
    )
    PILImage.new("RGB", (200, 100)).save(tmp_path / "a.png")
    client.images.upload("points", tmp_path / "a.png")
    annotations = _ANNOTATIONS.validate_python(
        [
            {
                "name": "nose",
                "type": "keypoint",
                "keypoint": {"x": 40, "y": 30},
                "attributes": {"occluded": occluded},
            }
            for occluded in (True, False)
        ]
    )
    client.annotations.save("points", "a.png", annotations)
    client.exports.create("points", "coco", format="coco")

    archive = _zip(client.exports.download("points", "coco", tmp_path / "c.zip"))

    coco = json.loads(archive.read("annotations.json"))["annotations"]
    assert [(a["id"], a["keypoints"]) for a in coco] == [(1, [40.0, 30.0, 1]), (2, [40.0, 30.0, 2])]


def test_a_triangle_is_a_coco_polygon(client: pictograph.Client, tmp_path: Path) -> None:
    _polygon_dataset(client, tmp_path, "tri", (100, 50))
    triangle = [Point(x=10, y=10), Point(x=30, y=10), Point(x=10, y=30)]
    polygon = PolygonAnnotation(name="lot", polygon=PolygonGeometry(paths=[triangle]))
    client.annotations.save("tri", "a.png", [polygon])
    client.exports.create("tri", "coco", format="coco")

    archive = _zip(client.exports.download("tri", "coco", tmp_path / "c.zip"))

    (annotation,) = json.loads(archive.read("annotations.json"))["annotations"]
    assert annotation["segmentation"] == [[10.0, 10.0, 30.0, 10.0, 10.0, 30.0]]
    assert annotation["area"] == 200.0


def test_an_image_deleted_for_good_before_the_first_read_keeps_its_bytes_in_the_zip(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    # The images added by count have no uploaded bytes: the ZIP draws them again.
    client.exports.create(DATASET, "before", include_images=True)
    before = _zip(client.exports.download(DATASET, "before", tmp_path / "before.zip"))
    client.exports.create(DATASET, "after", include_images=True, wait=False)
    fake.clock.advance(seconds=3600)  # completed, never read

    image = client.images.list(DATASET, limit=1)[0]
    client.images.delete(DATASET, image.id, permanent=True)
    after = _zip(client.exports.download(DATASET, "after", tmp_path / "after.zip"))

    stored = [n for n in after.namelist() if n.startswith("images/")]
    assert len(stored) == ALL
    assert {n: after.read(n) for n in stored} == {n: before.read(n) for n in stored}


def test_exports_ending_at_one_instant_notify_in_the_order_they_were_made(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # Equal in size, made at one instant: they end together, the first made first.
    for name in ("first", "second"):
        client.exports.create(DATASET, name, wait=False)
    fake.clock.advance(seconds=3600)

    ready = client.notifications.list()

    assert all(n.metadata is not None for n in ready)
    names = [n.metadata["export_name"] for n in ready if n.metadata is not None]
    assert names == ["second", "first"]  # newest first
    assert ready[0].created_at == ready[1].created_at


def test_a_coco_mask_holds_the_row_whose_centre_an_edge_starts_on(
    client: pictograph.Client, tmp_path: Path
) -> None:
    # A square from y = 10.5 to 60.5: its top edge lies on row 10's centre, which is in
    # (a half-open rule: an edge holds its start), and row 60's centre is out.
    _polygon_dataset(client, tmp_path, "lots", (100, 80))
    square = [Point(x=10, y=10.5), Point(x=60, y=10.5), Point(x=60, y=60.5), Point(x=10, y=60.5)]
    hole = [Point(x=30, y=30), Point(x=40, y=30), Point(x=40, y=40), Point(x=30, y=40)]
    polygon = PolygonGeometry(paths=[square, hole])
    client.annotations.save("lots", "a.png", [PolygonAnnotation(name="lot", polygon=polygon)])
    client.exports.create("lots", "coco", format="coco")

    archive = _zip(client.exports.download("lots", "coco", tmp_path / "c.zip"))

    (annotation,) = json.loads(archive.read("annotations.json"))["annotations"]
    assert annotation["area"] == 2400.0
    rows = {y for y in range(80) if _mask_value(annotation["segmentation"], 20, y)}
    assert rows == set(range(10, 60))


def _notified(*, read_between: bool) -> list[dict[str, Any]]:
    """The notifications of two exports ending 0.4 s apart, read once both have ended;
    ``read_between``: read between the two endings as well."""
    fake = FakePictograph(seed=1)
    with fake, fake.client(max_retries=0) as sdk:
        fake.add_dataset(DATASET, images=20, completed_images=12, classes=["stop", "yield"])
        sdk.exports.create(DATASET, "small", status_filter="complete", wait=False)
        sdk.exports.create(DATASET, "large", wait=False)
        small = QUEUE_SECONDS + processing_seconds(COMPLETE, include_images=False)
        fake.clock.advance(seconds=small + 0.2)
        if read_between:
            assert len(sdk.notifications.list()) == 1
        fake.clock.advance(seconds=3600)
        return [n.model_dump(mode="json") for n in sdk.notifications.list()]


def test_exports_ending_in_one_catch_up_notify_as_if_read_as_each_ended() -> None:
    # One catch-up ends them in time order: ids and all, as two reads would have seen.
    late = _notified(read_between=False)
    assert [n["metadata"]["export_name"] for n in late] == ["large", "small"]
    assert late == _notified(read_between=True)
