"""``sam3.predict`` through the real SDK: SAM3 on an image sent with the call."""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

import pytest
from pictograph.exceptions import ForbiddenError, PaymentRequiredError, ValidationError
from pictograph.models import BBoxAnnotation, KeypointAnnotation, PolygonAnnotation

from pictograph_testing import FakePictograph
from pictograph_testing.catalog import AUTO_ANNOTATE
from pictograph_testing.world.images import synthetic_image
from pictograph_testing.world.sam3 import SHADE_TOLERANCE

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


# ── what SAM3 reads from the pixels ──


Shape = tuple[tuple[int, int, int, int], tuple[int, int, int]]
"""A filled rectangle: its corners (inclusive, as PIL draws them) and its colour."""


def _drawn(
    size: tuple[int, int],
    background: tuple[int, int, int],
    *shapes: Shape,
    fmt: str = "PNG",
    orientation: int | None = None,
) -> bytes:
    """An image of plain rectangles; at most 96 pixels a side, each pixel is a grid cell."""
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(picture)
    for corners, colour in shapes:
        draw.rectangle(corners, fill=colour)
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation  # the EXIF Orientation tag
    out = io.BytesIO()
    picture.save(out, format=fmt, exif=exif)
    return out.getvalue()


def _box_of(result: pictograph.models.sam3.Sam3Prediction) -> tuple[float, ...]:
    """The box of the one object a prompt found."""
    (found,) = result.annotations
    assert not isinstance(found, KeypointAnnotation)
    box = found.bounding_box
    assert box is not None
    return box.x, box.y, box.w, box.h


GREY = (100, 100, 100)
MIDDLE = ((24, 24, 71, 71), GREY)  # a square over the middle half of a 96 x 96 image


@pytest.mark.parametrize("channel", [0, 1, 2])
def test_a_shade_within_the_tolerance_is_the_same_region(
    client: pictograph.Client, channel: int
) -> None:
    # docs/auto-annotate.md: a cell joins a region within SHADE_TOLERANCE of it in every
    # channel, so one channel more than that apart makes an object.
    def shifted(by: int) -> tuple[int, int, int]:
        colour = list(GREY)
        colour[channel] += by
        return colour[0], colour[1], colour[2]

    same = _drawn((96, 96), GREY, ((24, 24, 71, 71), shifted(SHADE_TOLERANCE)))
    apart = _drawn((96, 96), GREY, ((24, 24, 71, 71), shifted(SHADE_TOLERANCE + 1)))

    def point(image: bytes) -> pictograph.models.sam3.Sam3Prediction:
        return client.sam3.predict(image, points=[(48, 48)], output="bbox", confidence=0.0)

    def phrase(image: bytes) -> pictograph.models.sam3.Sam3Prediction:
        return client.sam3.predict(image, text="square", output="bbox", confidence=0.0)

    assert _box_of(point(same)) == (0, 0, 96, 96)
    assert phrase(same).status == "no_detection"
    assert _box_of(point(apart)) == (24, 24, 48, 48)
    assert _box_of(phrase(apart)) == (24, 24, 48, 48)


WHITE = (255, 255, 255)
BLACK = (0, 0, 0)


def test_a_lone_pixel_is_noise_and_two_are_an_object(client: pictograph.Client) -> None:
    image = _drawn((96, 96), BLACK, ((10, 10, 10, 10), WHITE), ((50, 50, 51, 50), WHITE))

    result = client.sam3.predict(image, text="dot", output="bbox", confidence=0.0)

    assert _box_of(result) == (50, 50, 2, 1)


def test_squares_touching_only_at_a_corner_are_two_objects(client: pictograph.Client) -> None:
    # Regions are four-connected: a shared corner does not join them.
    image = _drawn((96, 96), BLACK, ((10, 10, 29, 29), WHITE), ((30, 30, 49, 49), WHITE))

    result = client.sam3.predict(image, text="square", output="bbox", confidence=0.0)

    assert sorted(_found(result)) == [(10, 10), (30, 30)]


def test_the_background_is_the_shade_of_most_of_the_border(client: pictograph.Client) -> None:
    # White squares in the corners: the border is mostly black, so they are the objects.
    corners = [(0, 0), (86, 0), (0, 86), (86, 86)]
    image = _drawn((96, 96), BLACK, *(((x, y, x + 9, y + 9), WHITE) for x, y in corners))

    result = client.sam3.predict(image, text="square", output="bbox", confidence=0.0)

    assert sorted(_found(result)) == sorted(corners)


def test_a_box_keeps_the_largest_object_inside_it(client: pictograph.Client) -> None:
    image = _drawn((96, 96), BLACK, ((50, 50, 59, 59), WHITE), ((10, 10, 29, 29), WHITE))

    result = client.sam3.predict(image, box=(0, 0, 96, 96), output="bbox")

    assert _box_of(result) == (10, 10, 20, 20)


def test_a_box_drawn_tight_round_an_object_still_finds_it(client: pictograph.Client) -> None:
    # The object fills most of the box: what the box's border shows is the background.
    result = client.sam3.predict(PICTURE, box=(90, 65, 220, 170))

    assert _box_of(result) == (100, 75, 200, 150)


@pytest.mark.parametrize("box", [(0, 0, 400, 300), (-50, -50, 500, 400)])
def test_a_box_over_the_whole_image_finds_the_object_on_it(
    client: pictograph.Client, box: tuple[int, int, int, int]
) -> None:
    # The image's own edge is the box's border there: the background, not the object.
    result = client.sam3.predict(PICTURE, box=box, output="bbox")

    assert result.status == "success"
    assert _box_of(result) == (100, 75, 200, 150)


async def test_async_a_box_over_the_whole_image_finds_the_object_on_it(
    aclient: pictograph.AsyncClient,
) -> None:
    result = await aclient.sam3.predict(PICTURE, box=(0, 0, 400, 300), output="bbox")

    assert _box_of(result) == (100, 75, 200, 150)


def test_a_negative_box_takes_its_area_out(client: pictograph.Client) -> None:
    result = client.sam3.predict(
        PICTURE, box=(60, 40, 340, 260), negative_boxes=[(0, 0, 200, 300)], output="bbox"
    )

    assert _box_of(result) == (200, 75, 100, 150)


def test_a_box_takes_the_cells_whose_centres_it_covers(client: pictograph.Client) -> None:
    # From 30.6 the box covers the centre (31.5) of the object's pixel 31, not 30's (30.5).
    image = _drawn((96, 96), BLACK, ((20, 20, 59, 59), WHITE))

    result = client.sam3.predict(image, box=(30.6, 30.6, 40, 40), output="bbox")

    assert _box_of(result) == (31, 31, 29, 29)


def test_a_score_is_the_objects_contrast_with_its_surroundings(client: pictograph.Client) -> None:
    # docs/auto-annotate.md: 0.5 for no contrast up to 0.99 for 96 or more (of 255).
    faint = _drawn((96, 96), GREY, ((24, 24, 71, 71), (140, 100, 100)))
    flat = _drawn((96, 96), (200, 200, 200))
    stark = _drawn((96, 96), BLACK, ((24, 24, 71, 71), WHITE))

    def point(
        image: bytes, confidence: float | None = None
    ) -> pictograph.models.sam3.Sam3Prediction:
        return client.sam3.predict(image, points=[(48, 48)], confidence=confidence)

    faint_found = point(faint, confidence=0.0)
    assert faint_found.score == round(0.5 + 0.49 * 40 / 96, 4) == 0.7042
    assert [a.confidence for a in faint_found.annotations] == [0.7042]
    # Below the point prompt's default 0.75: found, but not kept.
    assert point(faint).status == "below_threshold"
    # A flat image is one region that stands out from nothing.
    assert point(flat, confidence=0.0).score == 0.5
    stark_found = point(stark)
    assert (stark_found.status, stark_found.score) == ("success", 0.99)
    assert [a.confidence for a in stark_found.annotations] == [0.99]


def test_a_phrase_scales_each_objects_score_by_its_fit(client: pictograph.Client) -> None:
    # Every square of the grid stands out fully (0.99); a phrase's fit scales that by
    # 0.55 up to (not including) 1, and the matches come best first.
    result = client.sam3.predict(_grid_of_objects(), text="cat", confidence=0.0)
    scores = [a.confidence for a in result.annotations]

    assert len(scores) == 25
    assert all(score is not None and 0.99 * 0.55 <= score < 0.99 for score in scores)
    assert scores == sorted(scores, reverse=True)
    best = client.sam3.predict(_grid_of_objects(), text="cat", confidence=0.0, max_detections=3)
    assert [a.confidence for a in best.annotations] == scores[:3]


def test_coordinates_are_pixels_along_each_axis(client: pictograph.Client) -> None:
    # 960 x 26 reads as 96 x 3 cells of 10 x 8.67 pixels: the object (its last 8 rows)
    # is the bottom row of cells, from y = 17.33 (two decimals) to the bottom.
    strip = _drawn((960, 26), BLACK, ((200, 18, 599, 25), WHITE))

    result = client.sam3.predict(strip, points=[(400, 22)], output="bbox")

    assert _box_of(result) == (200, 17.33, 400, 8.67)


def test_coordinates_are_of_the_image_as_displayed(client: pictograph.Client) -> None:
    # Stored 400 x 300 with its block in the top-left, EXIF orientation 6 (turn right to
    # show it): upright it is 300 x 400, the block at the top-right.
    sideways = _drawn((400, 300), BLACK, ((0, 0, 99, 49), WHITE), fmt="JPEG", orientation=6)

    result = client.sam3.predict(sideways, points=[(275, 50)], output="bbox")

    assert (result.width, result.height) == (300, 400)
    assert _box_of(result) == pytest.approx((250, 0, 50, 100), abs=5)


def test_a_truncated_image_is_refused_and_free(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    before = fake.balance_micro_usd
    with pytest.raises(ValidationError, match="not an image SAM3 can read"):
        client.sam3.predict(PICTURE[: len(PICTURE) // 2], text="sign")

    assert fake.balance_micro_usd == before


# ── what the route takes ──


FAINT = _drawn((96, 96), GREY, ((24, 24, 71, 71), (140, 100, 100)))
"""A square 40 shades from its background: a point on it scores 0.7042."""


def test_each_prompt_has_its_own_default_threshold(client: pictograph.Client) -> None:
    # The SDK's Sam3.predict docs: 0.3 for text, 0.5 for a box, 0.75 for points.
    text = client.sam3.predict(PICTURE, text="sign")
    box = client.sam3.predict(PICTURE, box=(60, 40, 340, 260))
    point = client.sam3.predict(PICTURE, points=[(200, 150)])

    assert [r.confidence_threshold for r in (text, box, point)] == [0.3, 0.5, 0.75]


def test_a_threshold_equal_to_the_score_keeps_the_object(client: pictograph.Client) -> None:
    kept = client.sam3.predict(FAINT, points=[(48, 48)], confidence=0.7042)
    dropped = client.sam3.predict(FAINT, points=[(48, 48)], confidence=0.7043)

    assert (kept.status, kept.score) == ("success", 0.7042)
    assert (dropped.status, dropped.annotations) == ("below_threshold", [])


@pytest.mark.parametrize(("count", "taken"), [(100, True), (101, False), (0, False)])
def test_max_detections_is_from_1_to_100(
    client: pictograph.Client, count: int, taken: bool
) -> None:
    if taken:
        assert client.sam3.predict(PICTURE, text="sign", max_detections=count).status == "success"
        return
    with pytest.raises(ValidationError, match="max_detections is a whole number from 1 to 100"):
        client.sam3.predict(PICTURE, text="sign", max_detections=count)


@pytest.mark.parametrize("point", [(400, 150), (200, 300), (-1, 150)])
def test_a_point_on_or_past_the_far_edges_is_outside_the_image(
    fake: FakePictograph, client: pictograph.Client, point: tuple[int, int]
) -> None:
    # Pixels run from 0 to width - 1: x = 400 of a 400-pixel-wide image is past the last.
    before = fake.balance_micro_usd
    with pytest.raises(ValidationError, match="outside the image"):
        client.sam3.predict(PICTURE, points=[point])

    assert client.sam3.predict(PICTURE, points=[(399, 299)]).width == 400
    assert before - fake.balance_micro_usd == AUTO_ANNOTATE.session_micro_usd


@pytest.mark.parametrize("box", [(400, 0, 10, 10), (0, 300, 10, 10), (-10, -10, 10, 10)])
def test_a_box_that_only_touches_the_image_covers_none_of_it(
    client: pictograph.Client, box: tuple[int, int, int, int]
) -> None:
    with pytest.raises(ValidationError, match="does not cover any of the image"):
        client.sam3.predict(PICTURE, box=box)


def test_a_box_of_numbers_that_are_not_finite_is_refused(client: pictograph.Client) -> None:
    with pytest.raises(ValidationError, match="box is 4 numbers"):
        client.sam3.predict(PICTURE, box=(math.nan, 0, 10, 10))


def test_a_prompt_names_its_objects_object_unless_told(client: pictograph.Client) -> None:
    result = client.sam3.predict(PICTURE, points=[(200, 150)])

    assert [a.name for a in result.annotations] == ["object"]


def test_a_phrase_reports_no_single_score_and_times_every_object_it_found(
    client: pictograph.Client,
) -> None:
    # Its objects carry their own confidences; the GPU time counts each object found,
    # kept or not (one here, none kept).
    found = client.sam3.predict(PICTURE, text="sign", confidence=0.0)
    strict = client.sam3.predict(PICTURE, text="sign", confidence=1.0)

    assert found.score is None
    assert [a.confidence for a in found.annotations] != [None]
    assert (strict.status, strict.inference_time) == ("below_threshold", 0.09)
