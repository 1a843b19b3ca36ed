"""``sam3.predict`` through the real SDK: SAM3 on an image sent with the call."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pytest
from pictograph.exceptions import ForbiddenError, PaymentRequiredError, ValidationError
from pictograph.models import BBoxAnnotation, KeypointAnnotation, PolygonAnnotation

from pictograph_testing import FakePictograph
from pictograph_testing.catalog import AUTO_ANNOTATE
from pictograph_testing.world.images import synthetic_image

if TYPE_CHECKING:
    import pictograph

# A rectangle over the middle half (100..300 x 75..225) of a plain 400 x 300 background.
PICTURE = synthetic_image(400, 300, "image/png", "sam3")


def test_a_point_outlines_the_object_under_it(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    result = client.sam3.predict(PICTURE, points=[(200, 150)], name="sign")

    assert (result.status, result.prompt, result.width, result.height) == (
        "success",
        "point",
        400,
        300,
    )
    assert result.confidence_threshold == 0.75
    (found,) = result.annotations
    assert (found.name, found.type) == ("sign", "polygon")
    assert isinstance(found, PolygonAnnotation)
    box = found.bounding_box
    assert box is not None
    assert (box.x, box.y, box.w, box.h) == (100, 75, 200, 150)


def test_every_prompt_outlines_the_same_middle_half(client: pictograph.Client) -> None:
    # The picture's rectangle covers exactly the middle half, its last pixels included,
    # so a point, a box around it and a phrase agree on it, and its outline is the
    # rectangle's four corners.
    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(PICTURE)) as picture:
        inside, outside = picture.getpixel((299, 224)), picture.getpixel((300, 225))
        assert inside == picture.getpixel((100, 75)) != outside
    outlines = [
        client.sam3.predict(PICTURE, points=[(200, 150)]),
        client.sam3.predict(PICTURE, box=(60, 40, 340, 260)),
        client.sam3.predict(PICTURE, text="sign", confidence=0.0, max_detections=1),
    ]
    for result in outlines:
        (found,) = result.annotations
        assert isinstance(found, PolygonAnnotation)
        box = found.bounding_box
        assert box is not None
        assert (box.x, box.y, box.w, box.h) == (100, 75, 200, 150)
        assert found.polygon is not None
        (outline,) = found.polygon.paths
        assert [(p.x, p.y) for p in outline] == [(100, 75), (300, 75), (300, 225), (100, 225)]


def test_a_negative_point_carves_its_region_out(client: pictograph.Client) -> None:
    whole = client.sam3.predict(PICTURE, points=[(10, 10)], output="bbox")
    carved = client.sam3.predict(
        PICTURE, points=[(10, 10), (200, 150)], negative_points=[(200, 150)], output="bbox"
    )

    (whole_box,), (carved_box,) = whole.annotations, carved.annotations
    assert isinstance(whole_box, BBoxAnnotation)
    assert isinstance(carved_box, BBoxAnnotation)
    assert whole_box.bounding_box == carved_box.bounding_box


def test_a_box_keeps_the_object_inside_it(client: pictograph.Client) -> None:
    result = client.sam3.predict(PICTURE, box=(0, 0, 200, 150), output="bbox")
    empty = client.sam3.predict(PICTURE, box={"x": 0, "y": 0, "w": 50, "h": 50})

    found = result.annotations[0]
    assert isinstance(found, BBoxAnnotation)
    box = found.bounding_box
    assert box is not None
    assert (box.x, box.y, box.w, box.h) == (100, 75, 100, 75)
    assert empty.status == "no_detection"


def test_text_names_its_matches_after_the_phrase(client: pictograph.Client) -> None:
    result = client.sam3.predict(PICTURE, text="price tag", confidence=0.0, max_detections=1)
    strict = client.sam3.predict(PICTURE, text="price tag", confidence=1.0)

    assert [a.name for a in result.annotations] == ["price tag"]
    assert strict.status == "below_threshold"
    assert strict.annotations == []


def _grid_of_objects() -> bytes:
    """Twenty-five bright squares on black: objects that stand out clearly."""
    import io

    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (400, 400), (0, 0, 0))
    draw = ImageDraw.Draw(picture)
    for i in range(5):
        for j in range(5):
            corner = (10 + i * 78, 10 + j * 78)
            draw.rectangle([*corner, corner[0] + 50, corner[1] + 50], fill=(255, 50 * i, 50 * j))
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


def _found(result: pictograph.models.sam3.Sam3Prediction) -> set[tuple[float, float]]:
    found: set[tuple[float, float]] = set()
    for a in result.annotations:
        assert not isinstance(a, KeypointAnnotation)
        if a.bounding_box:
            found.add((a.bounding_box.x, a.bounding_box.y))
    return found


def test_above_the_default_threshold_two_phrases_find_different_objects(
    client: pictograph.Client,
) -> None:
    # docs/auto-annotate.md: a phrase's fit scales each object's score, the same each time.
    grid = _grid_of_objects()
    assert len(client.sam3.predict(grid, text="cat", output="bbox").annotations) == 25
    cats, cars = (
        _found(client.sam3.predict(grid, text=phrase, output="bbox", confidence=0.7))
        for phrase in ("cat", "car")
    )
    assert 0 < len(cats) < 25
    assert 0 < len(cars) < 25
    assert cats != cars
    assert _found(client.sam3.predict(grid, text="CAT ", output="bbox", confidence=0.7)) == cats


async def test_async_a_phrase_finds_the_objects_the_sync_client_finds(
    client: pictograph.Client, aclient: pictograph.AsyncClient
) -> None:
    grid = _grid_of_objects()
    sync = client.sam3.predict(grid, text="car", output="bbox", confidence=0.7)
    found = await aclient.sam3.predict(grid, text="car", output="bbox", confidence=0.7)
    assert 0 < len(found.annotations) < 25
    assert _found(found) == _found(sync)


def test_the_fee_is_charged_once_per_image(fake: FakePictograph, client: pictograph.Client) -> None:
    before = fake.balance_micro_usd
    client.sam3.predict(PICTURE, text="sign")
    client.sam3.predict(PICTURE, points=[(5, 5)])

    assert before - fake.balance_micro_usd == AUTO_ANNOTATE.session_micro_usd
    assert client.sam3.predict(PICTURE, text="sign").image_sha256 is not None


def test_bad_input_is_refused_and_free(fake: FakePictograph, client: pictograph.Client) -> None:
    before = fake.balance_micro_usd
    with pytest.raises(ValidationError, match="outside the image"):
        client.sam3.predict(PICTURE, points=[(999, 5)])
    with pytest.raises(ValidationError, match="not an image"):
        client.sam3.predict(b"not a picture", text="sign")

    assert fake.balance_micro_usd == before


def test_a_viewer_and_an_empty_balance_are_refused() -> None:
    with FakePictograph(seed=1, balance_usd=0.01) as fake:
        with fake.client(max_retries=0) as client, pytest.raises(PaymentRequiredError):
            client.sam3.predict(PICTURE, text="sign")
        with (
            fake.client(api_key=fake.add_api_key("viewer"), max_retries=0) as viewer,
            pytest.raises(ForbiddenError),
        ):
            viewer.sam3.predict(PICTURE, text="sign")
        assert fake.ledger == ()


async def test_the_async_client(aclient: pictograph.AsyncClient) -> None:
    result = await aclient.sam3.predict(PICTURE, box=(50, 50, 300, 200), name="sign")

    assert result.status == "success"
    assert [a.name for a in result.annotations] == ["sign"]
