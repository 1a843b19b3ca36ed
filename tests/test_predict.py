"""Hosted test inference (``models.predict``) and ``models.fork`` through the real SDK."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from pictograph.exceptions import (
    ApiError,
    ForbiddenError,
    NotFoundError,
    RateLimitError,
    ValidationError,
)
from pictograph.models.training import PipelineType
from PIL import Image as PILImage

from pictograph_testing import FakePictograph
from pictograph_testing.catalog import HOSTED_INFERENCE
from pictograph_testing.world.images import synthetic_image
from pictograph_testing.world.predictions import image_size
from tests.conftest import DATASET, EXPORT
from tests.image_files import raw

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import pictograph

    from pictograph_testing.world.entities import Image

CLASSES = {"stop_sign", "yield"}


def _train(client: pictograph.Client, name: str = "m1", pipeline: PipelineType = "yolox") -> str:
    run = client.training.create(DATASET, EXPORT, pipeline_type=pipeline, name=name)
    assert run.model_id is not None
    return run.model_id


def _first_image(fake: FakePictograph) -> tuple[Image, bytes]:
    """The dataset's first image and the bytes the fake serves for it."""
    world = fake.world
    image = world.dataset_images(world.dataset(fake.organization_id, DATASET))[0]
    content, _ = world.image_service.content(image)
    return image, content


@pytest.fixture
def viewer(fake: FakePictograph) -> Iterator[pictograph.Client]:
    with fake.client(api_key=fake.add_api_key("viewer"), max_retries=0) as sdk:
        yield sdk


# ── predict ──


def test_predict_follows_a_known_images_ground_truth(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _train(client)
    world = fake.world
    # Twenty images: over fewer, the share of finds over a true object is one draw.
    known = world.dataset_images(world.dataset(fake.organization_id, DATASET))[:20]

    found = over_truth = 0
    for image in known:
        content, _ = world.image_service.content(image)
        result = client.models.predict("m1", image=content, confidence=0.3)
        assert result.success
        assert result.model_type == "object_detection"
        assert result.tags == []
        assert result.inference_seconds > 0
        truth = [a["bounding_box"] for a in image.annotations]
        width, height = image_size(content)
        for annotation in result.annotations:
            found += 1
            assert annotation["name"] in CLASSES
            assert annotation["confidence"] >= 0.3
            box = annotation["bounding_box"]
            assert min(box["x"], box["y"]) >= 0
            assert box["x"] + box["w"] <= width
            assert box["y"] + box["h"] <= height
            over_truth += any(abs(box["x"] - t["x"]) < t["w"] / 2 for t in truth)
    # A model of mAP 0.4 misses some objects, not all of twenty images' worth, and most of
    # what it finds lies over a true object (a few low-score false positives do not).
    assert found >= 10
    assert over_truth > found / 2


def test_predict_on_a_downloaded_image_uses_its_annotations(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    _train(client)
    image = client.images.list(DATASET)[-1]
    saved = client.images.download(DATASET, image.id, tmp_path / "first.jpg")
    truth = client.annotations.get(DATASET, image.id)

    result = client.models.predict("m1", image=saved, confidence=0.05)

    names = {a.name for a in truth}
    assert {a["name"] for a in result.annotations} & names


def test_predict_reads_a_file_path(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    _train(client)
    picture = tmp_path / "street.png"
    picture.write_bytes(synthetic_image(640, 480, "image/png", "street"))

    result = client.models.predict("m1", image=picture, confidence=0.05)

    for annotation in result.annotations:
        box = annotation["bounding_box"]
        assert box["x"] + box["w"] <= 640
        assert box["y"] + box["h"] <= 480
    assert (
        result.annotations
        == client.models.predict("m1", image=picture.read_bytes(), confidence=0.05).annotations
    )


def test_a_higher_confidence_returns_fewer(fake: FakePictograph, client: pictograph.Client) -> None:
    _train(client)
    _, content = _first_image(fake)

    low = client.models.predict("m1", image=content, confidence=0.05).annotations
    high = client.models.predict("m1", image=content, confidence=0.95).annotations

    assert high == [a for a in low if a["confidence"] >= 0.95]


def test_classification_answers_tags_and_scores(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _train(client, "clf", "classification")
    _, content = _first_image(fake)

    one = client.models.predict("clf", image=content, confidence=0.05, top_k=1)
    every = client.models.predict("clf", image=content, confidence=0.05, top_k=5)

    assert one.model_type == "classification"
    assert one.annotations == []
    assert len(one.tags) == 1
    assert one.tags == every.tags[:1]
    assert set(every.tags) <= CLASSES
    assert len(every.tag_scores) == len(every.tags)
    assert every.tag_scores == sorted(every.tag_scores, reverse=True)


def test_segmentation_answers_polygons(fake: FakePictograph, client: pictograph.Client) -> None:
    fake.add_dataset("fields", images=6, completed_images=6, annotation_types=("polygon",))
    fake.add_export("fields", "fields-v1")
    run = client.training.create(
        "fields", "fields-v1", pipeline_type="rfdetr_segmentation", name="seg"
    )
    assert run.status == "completed"

    result = client.models.predict(
        "seg", image=synthetic_image(300, 200, "image/jpeg", "x"), confidence=0.05
    )

    assert result.model_type == "instance_segmentation"
    assert {a["type"] for a in result.annotations} == {"polygon"}
    for annotation in result.annotations:
        ring = annotation["polygon"]["paths"][0]
        assert len(ring) >= 3
        assert all(0 <= p["x"] <= 300 and 0 <= p["y"] <= 200 for p in ring)


async def test_predict_async(fake: FakePictograph, aclient: pictograph.AsyncClient) -> None:
    with fake.client(max_retries=0) as sdk:
        _train(sdk)
    _, content = _first_image(fake)

    result = await aclient.models.predict("m1", image=content, confidence=0.05)

    with fake.client(max_retries=0) as sdk:
        assert result == sdk.models.predict("m1", image=content, confidence=0.05)
    assert result.annotations


def test_predict_is_free(fake: FakePictograph, client: pictograph.Client) -> None:
    _train(client)
    before = fake.balance_micro_usd
    client.models.predict("m1", image=synthetic_image(50, 50, "image/png", "a"))
    assert fake.balance_micro_usd == before


def test_predict_needs_member(client: pictograph.Client, viewer: pictograph.Client) -> None:
    _train(client)
    with pytest.raises(ForbiddenError, match="member"):
        viewer.models.predict("m1", image=synthetic_image(50, 50, "image/png", "a"))


def test_predict_unknown_model(client: pictograph.Client) -> None:
    with pytest.raises(NotFoundError):
        client.models.predict("nope", image=synthetic_image(50, 50, "image/png", "a"))


def test_predict_refuses_an_image_over_25_mb(client: pictograph.Client) -> None:
    _train(client)
    too_big = b"\xff\xd8" + b"\0" * HOSTED_INFERENCE.max_image_bytes

    with pytest.raises(ApiError) as refused:
        client.models.predict("m1", image=too_big)

    assert refused.value.status_code == 413
    assert refused.value.code == "payload_too_large"
    assert "25 MB" in str(refused.value)


def test_predict_refuses_bytes_that_are_not_an_image(client: pictograph.Client) -> None:
    _train(client)
    with pytest.raises(ValidationError, match="not an image"):
        client.models.predict("m1", image=b"%PDF-1.7 not a picture")


def _png_declaring(width: int, height: int) -> bytes:
    """A few hundred bytes of PNG whose header declares ``width`` x ``height`` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def _encoded(fmt: str) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (16, 16)).save(out, fmt)
    return out.getvalue()


UNDECODABLE = {
    # A decompression bomb: Pillow refuses to open it, which the route did not catch.
    "bomb": (_png_declaring(30_000, 30_000), "more than"),
    "too wide": (_png_declaring(20_000, 10), "each side may be at most"),
    "truncated": (synthetic_image(64, 48, "image/png", "t")[:80], "truncated"),
    "ico": (_encoded("ICO"), "ICO files are not taken"),
    # A HEIC header: the service keeps such an upload, but does not read its pixels.
    "heic": (
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64,
        "HEIC images are not decoded here",
    ),
}


@pytest.mark.parametrize("case", sorted(UNDECODABLE))
def test_predict_refuses_an_image_it_cannot_decode(
    fake: FakePictograph, client: pictograph.Client, case: str
) -> None:
    _train(client)
    content, reason = UNDECODABLE[case]

    with pytest.raises(ValidationError, match=reason) as refused:
        client.models.predict("m1", image=content)

    assert refused.value.status_code == 422
    assert "JPEG, PNG" in str(refused.value)
    assert fake.world.inference_pool.used_today == 0


async def test_predict_refuses_an_image_it_cannot_decode_async(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    with fake.client(max_retries=0) as sdk:
        _train(sdk)
    content, reason = UNDECODABLE["bomb"]
    with pytest.raises(ValidationError, match=reason):
        await aclient.models.predict("m1", image=content)


def _sideways_photo(width: int, height: int) -> bytes:
    """A JPEG stored ``width`` x ``height`` whose EXIF says to show it turned a quarter."""
    picture = PILImage.new("RGB", (width, height), (90, 120, 60))
    exif = picture.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise to display: shown height x width
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_predict_measures_a_sideways_photo_as_it_is_shown(client: pictograph.Client) -> None:
    _train(client)
    _train(client, "seg", pipeline="rfdetr_segmentation")
    photo = _sideways_photo(400, 30)  # shown 30 wide, 400 tall

    for model in ("m1", "seg"):
        for seed in range(8):  # several images: each draws its own objects
            picture = _sideways_photo(400 + seed, 30)
            found = client.models.predict(model, image=picture, confidence=0.05).annotations
            for annotation in found or []:
                box = annotation["bounding_box"]
                assert box["x"] + box["w"] <= 30 + 1e-6
                assert box["y"] + box["h"] <= 400 + seed + 1e-6
                for point in (annotation.get("polygon") or {"paths": [[]]})["paths"][0]:
                    assert point["x"] <= 30 + 1e-6
    assert client.models.predict("m1", image=photo, confidence=0.05).annotations


async def test_predict_measures_a_sideways_photo_async(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    with fake.client(max_retries=0) as sdk:
        _train(sdk)
    boxes = [
        annotation["bounding_box"]
        for seed in range(8)
        for annotation in (
            await aclient.models.predict(
                "m1", image=_sideways_photo(400 + seed, 30), confidence=0.05
            )
        ).annotations
        or []
    ]
    assert boxes
    assert all(box["x"] + box["w"] <= 30 + 1e-6 for box in boxes)


@pytest.mark.parametrize("confidence", [0.01, 0.99])
def test_predict_refuses_a_confidence_out_of_range(
    client: pictograph.Client, confidence: float
) -> None:
    _train(client)
    with pytest.raises(ValidationError, match="confidence_threshold"):
        client.models.predict(
            "m1", image=synthetic_image(50, 50, "image/png", "a"), confidence=confidence
        )


def test_a_spent_pool_answers_429_until_midnight(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _train(client)
    picture = synthetic_image(50, 50, "image/png", "a")
    fake.faults.exhaust_inference_pool()

    with pytest.raises(RateLimitError) as refused:
        client.models.predict("m1", image=picture)

    wait = refused.value.retry_after
    assert wait is not None
    # The clock starts at 12:00 UTC; training moved it on a little.
    assert 0 < wait <= 12 * 3600
    assert refused.value.code == "inference_capacity_exhausted"
    # A fault the test armed, so the journal says so (as it does a rate limit's 429).
    assert fake.calls.last.fault == "inference pool exhausted"
    fake.clock.advance(wait)
    assert client.models.predict("m1", image=picture).success
    assert fake.calls.last.fault is None


def test_a_spent_pool_under_an_armed_fault_is_journaled_with_both(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _train(client)
    fake.faults.exhaust_inference_pool()
    fake.faults.delay_next(5, "POST", "models/*/predict")

    with pytest.raises(RateLimitError):
        client.models.predict("m1", image=synthetic_image(50, 50, "image/png", "a"))
    assert fake.calls.last.fault == "delayed 5s; inference pool exhausted"


def test_the_pool_holds_a_days_images(fake: FakePictograph, client: pictograph.Client) -> None:
    _train(client)
    pool = fake.world.inference_pool
    for _ in range(HOSTED_INFERENCE.daily_images - 1):
        pool.admit(fake.clock.monotonic())
    picture = synthetic_image(50, 50, "image/png", "a")

    assert client.models.predict("m1", image=picture).success
    with pytest.raises(RateLimitError):
        client.models.predict("m1", image=picture)
    assert pool.used_today == HOSTED_INFERENCE.daily_images
    assert fake.calls.last.fault is None  # the world's own limit, not a fault


def _a_minute_before_midnight_with_the_pool_spent(fake: FakePictograph) -> None:
    """Spend the day's pool as calls would, then move to 23:59:00 UTC: a 429's
    ``Retry-After`` is then 60 s, short enough for the SDK to wait and retry itself."""
    pool = fake.world.inference_pool
    for _ in range(HOSTED_INFERENCE.daily_images):
        pool.admit(fake.clock.monotonic())
    now = fake.clock.now()
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    fake.clock.advance(midnight - now - timedelta(minutes=1))


def _the_retry_ran_afresh(fake: FakePictograph) -> None:
    first, retry = fake.calls.filter("POST", "models/*/predict")
    # One request sent twice under one Idempotency-Key: the 429 was not kept to replay.
    assert first.idempotency_key is not None
    assert retry.idempotency_key == first.idempotency_key
    assert (first.status, retry.status) == (429, 200)
    assert first.response_json()["error"]["code"] == "inference_capacity_exhausted"
    assert retry.at == fake.clock.start.replace(hour=0) + timedelta(days=1)
    assert fake.world.inference_pool.used_today == 1  # the new day's first image


def test_a_retry_after_the_pool_refills_runs_afresh_under_the_same_key(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # The world's own 429 (the day's capacity spent) means nothing was done: the SDK's
    # retry under the same Idempotency-Key must run, not replay the refusal.
    _train(client)
    _a_minute_before_midnight_with_the_pool_spent(fake)

    with fake.client(max_retries=1) as retrying:
        assert retrying.models.predict("m1", image=synthetic_image(50, 50, "image/png", "a"))
    _the_retry_ran_afresh(fake)


async def test_a_retry_after_the_pool_refills_runs_afresh_async(fake: FakePictograph) -> None:
    with fake.client(max_retries=0) as sdk:
        _train(sdk)
    _a_minute_before_midnight_with_the_pool_spent(fake)

    async with fake.async_client(max_retries=1) as retrying:
        result = await retrying.models.predict(
            "m1", image=synthetic_image(50, 50, "image/png", "a")
        )
    assert result.success
    _the_retry_ran_afresh(fake)


def test_a_refused_call_takes_nothing_from_the_pool(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _train(client)
    with pytest.raises(ValidationError):
        client.models.predict("m1", image=b"not an image")
    assert fake.world.inference_pool.used_today == 0


async def test_a_spent_pool_async(fake: FakePictograph, aclient: pictograph.AsyncClient) -> None:
    with fake.client(max_retries=0) as sdk:
        _train(sdk)
    fake.faults.arm({"kind": "inference_pool"})
    with pytest.raises(RateLimitError):
        await aclient.models.predict("m1", image=synthetic_image(50, 50, "image/png", "a"))
    fake.faults.clear()
    assert (
        await aclient.models.predict("m1", image=synthetic_image(9, 9, "image/png", "a"))
    ).success


def test_predictions_are_byte_identical_for_the_same_seed() -> None:
    def bodies() -> list[bytes]:
        with FakePictograph(seed=3) as fake:
            fake.add_dataset(DATASET, images=8, completed_images=8, classes=sorted(CLASSES))
            fake.add_export(DATASET, EXPORT)
            with fake.client(max_retries=0) as sdk:
                _train(sdk)
                _, content = _first_image(fake)
                sdk.models.predict("m1", image=content, confidence=0.05)
                sdk.models.predict("m1", image=synthetic_image(77, 55, "image/png", "q"))
            return [c.response_body for c in fake.calls if c.path.endswith("/predict")]

    first = bodies()
    assert len(first) == 2
    assert first == bodies()


# ── fork ──


@pytest.fixture
def published(fake: FakePictograph, client: pictograph.Client) -> str:
    """The default organization publishes model ``Road Signs``; returns its slug."""
    _train(client, "Road Signs")
    client.models.update("Road Signs", visibility="public")
    return fake.world.organizations[fake.organization_id].slug


def test_fork_copies_a_public_model(
    fake: FakePictograph, client: pictograph.Client, published: str
) -> None:
    other = fake.add_organization()
    source = client.models.get("Road Signs")
    with other.client(max_retries=0) as theirs:
        copy = theirs.models.fork(published, "road-signs")

        assert copy.name == "Road Signs"
        assert copy.organization_id == other.id
        assert copy.id != source.id
        assert copy.forked_from_model_id == source.id
        assert copy.parent_model_id is None  # a fork names its source as such, only
        assert (copy.visibility, copy.status) == ("private", "ready")
        assert copy.class_mapping == source.class_mapping
        assert copy.metrics == source.metrics
        assert copy.version == "1.0.0"
        # A copy was trained by no run of its organization's.
        (version,) = theirs.models.versions("Road Signs").versions
        assert version.training_run_id is None
        assert client.models.versions("Road Signs").versions[0].training_run_id is not None
        assert [m.id for m in theirs.models.list()] == [copy.id]
        # The copy is usable at once: it predicts like its source.
        picture = synthetic_image(120, 90, "image/png", "p")
        assert theirs.models.predict("Road Signs", image=picture).model_type == "object_detection"


def test_fork_copies_the_current_version_and_the_card(
    fake: FakePictograph, client: pictograph.Client, published: str
) -> None:
    source = client.models.get("Road Signs")
    client.training.create(
        DATASET,
        EXPORT,
        pipeline_type="yolox",
        name="Road Signs v2",
        version_of_model_id=source.id,
        config={"epochs": 10},
    )
    v2, v1 = client.models.versions("Road Signs").versions
    client.models.set_current_version("Road Signs", version_id=v1.version_id)
    client.models.update(
        "Road Signs", description="Finds stop signs.", readme="# Road signs", license_id="mit"
    )
    other = fake.add_organization()

    with other.client(max_retries=0) as theirs:
        copy = theirs.models.fork(published, "road-signs")
    with raw(fake, other.api_key) as http:
        sent = http.get(f"/api/v1/developer/models/{copy.id}").json()["data"]

    # The pinned first version, not the newest: its config trained for 50 epochs.
    assert copy.training_config == source.training_config
    assert copy.training_config is not None
    assert copy.training_config["epochs"] == 50
    assert copy.metrics == v1.metrics != v2.metrics
    assert copy.description == "Finds stop signs."
    assert (sent["readme"], sent["license_id"]) == ("# Road signs", "mit")


def test_a_fork_has_no_dataset_and_is_found_by_its_name(
    client: pictograph.Client, published: str
) -> None:
    source = client.models.get("Road Signs")

    copy = client.models.fork(published, "road-signs", name="Mine")

    assert [m.id for m in client.models.list(dataset_name=DATASET)] == [source.id]
    assert [m.id for m in client.models.list(name="Mine")] == [copy.id]
    assert [m.id for m in client.models.list(name="Mine", status="ready")] == [copy.id]


def test_fork_reads_the_named_organization_only(
    fake: FakePictograph, client: pictograph.Client, published: str
) -> None:
    """Another organization's public model of the same name is not the one copied."""
    other = fake.add_organization()
    other.add_dataset(DATASET, images=20, completed_images=20)
    other.add_export(DATASET, EXPORT)
    with other.client(max_retries=0) as theirs:
        _train(theirs, "Road Signs")
        theirs.models.update("Road Signs", visibility="public")
        their_slug = fake.world.organizations[other.id].slug
        ours = client.models.get("Road Signs").id
        assert theirs.models.fork(published, "road-signs").forked_from_model_id == ours
        copied = client.models.fork(their_slug, "Road Signs").forked_from_model_id
        assert copied == theirs.models.get("Road Signs").id != ours


def test_fork_suffixes_a_taken_name(client: pictograph.Client, published: str) -> None:
    names = [client.models.fork(published, "Road Signs").name for _ in range(2)]
    assert names == ["Road Signs (2)", "Road Signs (3)"]
    assert client.models.fork(published, "Road Signs", name="Mine").name == "Mine"


def test_fork_numbers_a_long_taken_name_within_the_limit(
    client: pictograph.Client, published: str
) -> None:
    longest = "Road Signs " * 9 + "x"
    assert len(longest) == 100
    client.models.update("Road Signs", new_name=longest)

    copy = client.models.fork(published, longest)

    assert copy.name == longest[:96] + " (2)"
    assert client.models.update(copy.name, new_name=copy.name).id == copy.id


def test_fork_refuses_a_private_or_unknown_model(
    fake: FakePictograph, client: pictograph.Client, published: str
) -> None:
    _train(client, "Secret")
    for organization, model in (
        (published, "Secret"),
        (published, "missing"),
        ("no-such-org", "Road Signs"),
    ):
        with pytest.raises(NotFoundError, match="not found"):
            client.models.fork(organization, model)


def test_fork_refuses_a_model_with_no_weights(
    fake: FakePictograph, client: pictograph.Client, published: str
) -> None:
    source = fake.world.registry.find(fake.world.default_key, "Road Signs")
    for version in source.versions:
        version.status = "failed"
    with pytest.raises(ValidationError, match="no weights"):
        client.models.fork(published, "Road Signs")


def test_fork_refuses_a_long_name_with_400(client: pictograph.Client, published: str) -> None:
    before = [m.id for m in client.models.list()]
    with pytest.raises(ValidationError, match="name") as refused:
        client.models.fork(published, "Road Signs", name="x" * 101)
    # The wire spec's status for a fork's name over 100 characters (models.fork).
    assert refused.value.status_code == 400
    assert refused.value.field_errors[0]["loc"] == ["body", "name"]
    assert [m.id for m in client.models.list()] == before
    assert client.models.fork(published, "Road Signs", name="x" * 100).name == "x" * 100


def test_fork_needs_member(viewer: pictograph.Client, published: str) -> None:
    with pytest.raises(ForbiddenError, match="member"):
        viewer.models.fork(published, "Road Signs")


async def test_fork_async(
    fake: FakePictograph, aclient: pictograph.AsyncClient, published: str
) -> None:
    copy = await aclient.models.fork(published, "road-signs", name="Async copy")
    assert copy.name == "Async copy"
    assert copy.forked_from_model_id is not None
    assert [m.id for m in await aclient.models.list(name="Async copy")] == [copy.id]
    assert copy.id not in [m.id for m in await aclient.models.list(dataset_name=DATASET)]
    with pytest.raises(NotFoundError):
        await aclient.models.fork(published, "nothing-here")
    with pytest.raises(ValidationError) as refused:
        await aclient.models.fork(published, "road-signs", name="A" * 101)
    assert refused.value.status_code == 400
    longest = "A" * 100
    copied = await aclient.models.fork(published, "road-signs", name=longest)
    again = await aclient.models.fork(published, "road-signs", name=longest)
    assert (copied.name, again.name) == (longest, "A" * 96 + " (2)")
