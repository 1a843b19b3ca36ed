"""Image search through the real SDK (sync and async): ``search.by_tag``,
``search.by_similarity`` and ``datasets.near_duplicates``, on embeddings made from each
image's own pixels."""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pictograph import BBoxAnnotation, BoundingBox
from pictograph.exceptions import ConflictError, NotFoundError, ValidationError
from PIL import Image as PILImage
from PIL import ImageDraw

from pictograph_testing import FakePictograph
from pictograph_testing.world.search import TAG_MAX_LENGTH, embedding_of, similarity
from tests.image_files import raw

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import pictograph

DATASET = "street"
DEV = "/api/v1/developer"


def _draw(path: Path, picture: str, *, quality: int | None = None) -> Path:
    """A 64 x 48 picture of one of a few distinct kinds, saved by the path's suffix."""
    image = PILImage.new("RGB", (64, 48), (30, 60, 200))
    draw = ImageDraw.Draw(image)
    if picture == "circle":  # a red disc on blue
        draw.ellipse((12, 6, 52, 42), fill=(220, 30, 30))
    elif picture == "stripes":  # green and yellow bands
        for y in range(0, 48, 8):
            draw.rectangle((0, y, 63, y + 3), fill=(40, 200, 60) if y % 16 else (240, 230, 20))
    elif picture == "dark":  # a dim corner on black
        draw.rectangle((0, 0, 63, 47), fill=(5, 5, 10))
        draw.rectangle((40, 30, 63, 47), fill=(90, 80, 70))
    path.parent.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {"quality": quality} if quality is not None else {}
    image.save(path, **options)
    return path


@pytest.fixture
def fake(no_real_waiting: None) -> Iterator[FakePictograph]:
    with FakePictograph(seed=3) as fake:
        fake.add_dataset(DATASET, images=0)
        yield fake


@pytest.fixture
def client(fake: FakePictograph) -> Iterator[pictograph.Client]:
    with fake.client(max_retries=0) as sdk:
        yield sdk


def _upload(
    client: pictograph.Client,
    tmp_path: Path,
    name: str,
    picture: str,
    *,
    directory: str = "/",
    quality: int | None = None,
) -> str:
    path = _draw(tmp_path / directory.strip("/") / name, picture, quality=quality)
    return client.images.upload(DATASET, path, directory_path=directory).id


@pytest.fixture
def gallery(client: pictograph.Client, tmp_path: Path) -> dict[str, str]:
    """Three circles (one re-encoded as a lossy JPEG), two stripes and one dark picture."""
    return {
        "circle.png": _upload(client, tmp_path, "circle.png", "circle"),
        "circle-copy.png": _upload(client, tmp_path, "circle-copy.png", "circle", directory="/b"),
        "circle.jpg": _upload(client, tmp_path, "circle.jpg", "circle", quality=60),
        "stripes.png": _upload(client, tmp_path, "stripes.png", "stripes"),
        "stripes-again.png": _upload(
            client, tmp_path, "stripes-again.png", "stripes", directory="/b"
        ),
        "dark.png": _upload(client, tmp_path, "dark.png", "dark"),
    }


# ── embeddings ──


def test_the_embedding_is_the_pictures_not_the_files(tmp_path: Path) -> None:
    circle = embedding_of(_draw(tmp_path / "a.png", "circle").read_bytes())
    lossy = embedding_of(_draw(tmp_path / "a.jpg", "circle", quality=60).read_bytes())
    stripes = embedding_of(_draw(tmp_path / "s.png", "stripes").read_bytes())
    assert circle is not None
    assert lossy is not None
    assert stripes is not None
    assert similarity(circle, circle) == 1.0
    assert similarity(circle, lossy) >= 0.98  # another encoding of the same picture
    assert similarity(circle, stripes) < 0.6  # another picture
    assert embedding_of(b"not an image") is None


# ── by tag ──


def test_by_tag_ands_the_tags_of_every_category(
    fake: FakePictograph, client: pictograph.Client, gallery: dict[str, str]
) -> None:
    client.images.bulk_tag(DATASET, [gallery["circle.png"], gallery["circle.jpg"]], ["ball"])
    client.images.bulk_tag(DATASET, [gallery["circle.png"]], ["scenes:outdoor", "attributes:red"])
    found = client.search.by_tag(objects=["ball"])
    assert [i.filename for i in found] == ["circle.jpg", "circle.png"]
    outdoor = client.search.by_tag(objects=["ball"], scenes=["outdoor"], attributes=["red"])
    assert [i.id for i in outdoor] == [gallery["circle.png"]]
    assert outdoor[0].image_auto_tags == {
        "objects": ["ball"],
        "scenes": ["outdoor"],
        "attributes": ["red"],
    }
    assert outdoor[0].dataset_id == client.datasets.get(DATASET).id
    assert client.search.by_tag(objects=["ball", "bat"]) == []
    assert client.search.by_tag(scenes=["ball"]) == []  # a plain tag is an object


def test_a_tag_in_either_spelling_is_one_tag_and_every_stored_tag_is_searchable(
    client: pictograph.Client, gallery: dict[str, str]
) -> None:
    image = gallery["circle.png"]
    client.images.bulk_tag(DATASET, [image], ["ball", "objects:ball"])
    [found] = client.search.by_tag(objects=["ball"])
    assert found.image_auto_tags["objects"] == ["ball"]  # listed once, not twice
    # The longest tag bulk_tag stores is one search finds; a longer one is refused.
    longest = "t" * TAG_MAX_LENGTH
    client.images.bulk_tag(DATASET, [image], [longest])
    assert [i.id for i in client.search.by_tag(objects=[longest])] == [image]
    with pytest.raises(ValidationError, match=f"at most {TAG_MAX_LENGTH} characters"):
        client.images.bulk_tag(DATASET, [image], [longest + "t"])
    assert longest + "t" not in client.images.get(DATASET, "circle.png").tags


def test_by_tag_spans_the_organization_or_one_dataset_and_pages(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_dataset("signs", images=3, classes=["stop"])
    fake.add_dataset("more-signs", images=2, classes=["stop"])
    everywhere = client.search.by_tag(objects=["stop"])
    assert len(everywhere) == 5
    assert len({i.dataset_id for i in everywhere}) == 2
    one = client.search.by_tag(objects=["stop"], dataset_name="more-signs")
    assert [i.filename for i in one] == ["img-00001.jpg", "img-00002.jpg"]
    page = client.search.by_tag(objects=["stop"], limit=2, offset=2)
    assert [i.id for i in page] == [i.id for i in everywhere[2:4]]


def test_by_tag_refuses_an_unknown_or_foreign_dataset_and_no_tags(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    other = fake.add_organization(name="rivals")
    other.add_dataset("theirs", images=2)
    for name in ("missing", "theirs"):
        with pytest.raises(NotFoundError, match=f"Dataset '{name}' not found"):
            client.search.by_tag(objects=["object"], dataset_name=name)
    assert client.search.by_tag(objects=["object"]) == []  # their images are not ours
    with raw(fake) as http:
        answer = http.get(f"{DEV}/search/by-tags", params={"limit": 5})
    assert answer.status_code == 422
    assert "at least one tag" in answer.json()["error"]["message"]


async def test_by_tag_async(fake: FakePictograph) -> None:
    fake.add_dataset("signs", images=3, classes=["stop", "yield"])
    async with fake.async_client(max_retries=0) as sdk:
        found = await sdk.search.by_tag(objects=["yield"], dataset_name="signs")
    assert [i.filename for i in found] == ["img-00002.jpg"]


# ── by similarity ──


def test_by_similarity_finds_the_same_picture_not_others(
    client: pictograph.Client, gallery: dict[str, str]
) -> None:
    found = client.search.by_similarity(DATASET, "circle.png")
    # The root's images only (the copy is in /b), the lossy copy first; not the source.
    assert [i.filename for i in found] == ["circle.jpg"]
    assert found[0].similarity >= 0.98
    by_id = client.search.by_similarity(DATASET, gallery["circle.png"], directory_path="/b")
    assert [(i.filename, i.similarity) for i in by_id] == [("circle-copy.png", 1.0)]
    everything = client.search.by_similarity(DATASET, "circle.png", threshold=0.0)
    scores = [i.similarity for i in everything]
    assert scores == sorted(scores, reverse=True)
    assert {i.filename for i in everything} == {"circle.jpg", "stripes.png", "dark.png"}
    assert client.search.by_similarity(DATASET, "circle.png", threshold=0.0, limit=1) == found


def test_by_similarity_refuses_a_bad_threshold_and_foreign_images(
    fake: FakePictograph, client: pictograph.Client, gallery: dict[str, str]
) -> None:
    with pytest.raises(ValidationError, match=r"'threshold' must be between 0 and 1, got '1\.5'"):
        client.search.by_similarity(DATASET, "circle.png", threshold=1.5)
    other = fake.add_organization(name="rivals")
    other.add_dataset("theirs", images=1)
    theirs = fake.world.dataset(other.id, "theirs").image_ids[0]
    with raw(fake) as http:
        answer = http.get(f"{DEV}/search/similar", params={"image_id": theirs})
    assert answer.status_code == 404
    assert answer.json()["error"]["message"] == f"Image '{theirs}' not found"
    with pytest.raises(NotFoundError):
        client.search.by_similarity(DATASET, "nowhere.png")


def test_a_heic_image_has_no_embedding_so_searching_from_it_is_a_conflict(
    fake: FakePictograph, client: pictograph.Client, gallery: dict[str, str], tmp_path: Path
) -> None:
    heic = tmp_path / "phone.heic"
    heic.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64)
    phone = client.images.upload(DATASET, heic)
    with pytest.raises(ConflictError, match="has no embedding"):
        client.search.by_similarity(DATASET, "phone.heic")
    # Never a match either: the scan and the other searches pass it by.
    assert phone.id not in {
        i.id for i in client.search.by_similarity(DATASET, "dark.png", threshold=0)
    }
    assert client.datasets.near_duplicates(DATASET).total_images == 7


async def test_by_similarity_async(fake: FakePictograph, gallery: dict[str, str]) -> None:
    async with fake.async_client(max_retries=0) as sdk:
        found = await sdk.search.by_similarity(DATASET, "stripes.png", directory_path="/b")
    assert [(i.filename, i.similarity) for i in found] == [("stripes-again.png", 1.0)]


# ── near duplicates ──


def test_near_duplicates_clusters_the_same_pictures(
    fake: FakePictograph, client: pictograph.Client, gallery: dict[str, str]
) -> None:
    result = client.datasets.near_duplicates(DATASET)
    clusters = [sorted(m.filename for m in g.members) for g in result.groups]
    assert clusters == [
        ["circle-copy.png", "circle.jpg", "circle.png"],
        ["stripes-again.png", "stripes.png"],
    ]
    assert [g.size for g in result.groups] == [3, 2]
    assert result.groups[1].max_similarity == 1.0
    assert (result.group_count, result.duplicate_image_count, result.redundant_count) == (2, 5, 3)
    assert (result.analyzed, result.total_images, result.sample_limit) == (6, 6, 1000)
    assert not result.sample_capped
    assert not result.pairs_capped
    assert (result.threshold, result.directory_path) == (0.92, None)
    member = result.groups[1].members[0]
    assert (member.virtual_directory_path, member.status, member.annotation_count) == (
        "/",
        "new",
        0,
    )


def _varied_pictures(folder: Path, count: int, seed: int) -> list[Path]:
    """Pictures of every kind of likeness: flat colours near and far apart, shaded
    copies, noise, gradients and shapes, drawn from ``seed``."""
    import random

    rng = random.Random(seed)
    paths: list[Path] = []
    for n in range(count):
        base = tuple(rng.randrange(256) for _ in range(3))
        image = PILImage.new("RGB", (32, 24), base)
        draw = ImageDraw.Draw(image)
        kind = n % 5
        if kind == 1 and paths:  # a copy of an earlier picture, shaded a little
            with PILImage.open(rng.choice(paths)) as earlier:
                shade = rng.randrange(-12, 13)
                image = earlier.convert("RGB").point(lambda v, s=shade: max(0, min(255, v + s)))
        elif kind == 2:  # noise
            image.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(32 * 24)])
        elif kind == 3:  # a gradient
            for x in range(32):
                draw.line((x, 0, x, 23), fill=(x * 8, base[1], 255 - x * 8))
        elif kind == 4:  # a shape on the colour
            draw.ellipse((rng.randrange(10), rng.randrange(8), 22, 16), fill=(255, 255, 255))
        path = folder / f"p{n:02d}.png"
        image.save(path)
        paths.append(path)
    return paths


@pytest.mark.parametrize("threshold", [0.5, 0.8, 0.92, 0.99])
def test_near_duplicates_finds_exactly_the_pairs_scoring_the_threshold(
    client: pictograph.Client, tmp_path: Path, threshold: float
) -> None:
    # The scan leaves out pictures it can tell are too far apart without scoring them:
    # it must find exactly what scoring every pair finds (fewer pictures than the
    # neighbours kept, so no cap applies).
    paths = _varied_pictures(tmp_path, 45, seed=int(threshold * 100))
    client.datasets.create("varied")
    client.images.bulk_upload("varied", paths)
    vectors = {p.name: embedding_of(p.read_bytes()) for p in paths}
    parent = {name: name for name in vectors}

    def root(name: str) -> str:
        while parent[name] != name:
            name = parent[name]
        return name

    strongest: dict[str, float] = {}
    edges = []
    for a in vectors:
        for b in vectors:
            va, vb = vectors[a], vectors[b]
            if a < b and va is not None and vb is not None:
                score = similarity(va, vb)
                if score >= threshold:
                    edges.append((a, b, score))
                    parent[root(b)] = root(a)
    for a, _, score in edges:
        strongest[root(a)] = max(strongest.get(root(a), 0.0), score)
    expected: dict[frozenset[str], float] = {}
    for name in vectors:
        expected.setdefault(frozenset(n for n in vectors if root(n) == root(name)), 0.0)
    wanted = {
        members: strongest[root(next(iter(members)))] for members in expected if len(members) > 1
    }

    result = client.datasets.near_duplicates("varied", threshold=threshold, neighbors=50)

    found = {frozenset(m.filename for m in g.members): g.max_similarity for g in result.groups}
    assert found == wanted
    assert not result.pairs_capped
    if threshold == 0.99:
        assert found  # the shaded copies at least


def test_near_duplicates_reports_its_bounds_and_scope(
    client: pictograph.Client, gallery: dict[str, str]
) -> None:
    sampled = client.datasets.near_duplicates(DATASET, sample=1, neighbors=1)
    assert (sampled.analyzed, sampled.sample_limit, sampled.sample_capped) == (1, 1, True)
    # The first image (by directory, then name: circle.jpg) keeps its one nearest.
    assert [sorted(m.filename for m in g.members) for g in sampled.groups] == [
        ["circle.jpg", "circle.png"]
    ]
    capped = client.datasets.near_duplicates(DATASET, max_pairs=1)
    assert capped.pairs_capped
    assert capped.group_count == 1
    scoped = client.datasets.near_duplicates(DATASET, directory_path="/b")
    assert (scoped.total_images, scoped.group_count, scoped.directory_path) == (2, 0, "/b")
    clamped = client.datasets.near_duplicates(DATASET, sample=10**6)
    assert clamped.sample_limit == 2000


def test_near_duplicates_refuses_bad_bounds_and_unknown_datasets(
    fake: FakePictograph, client: pictograph.Client, gallery: dict[str, str]
) -> None:
    with pytest.raises(ValidationError, match=r"between 0\.5 and 0\.9999, got '0\.3'"):
        client.datasets.near_duplicates(DATASET, threshold=0.3)
    with pytest.raises(ValidationError, match="'sample' must be at least 1"):
        client.datasets.near_duplicates(DATASET, sample=0)
    other = fake.add_organization(name="rivals")
    other.add_dataset("theirs", images=2)
    for name in ("missing", "theirs"):
        with pytest.raises(NotFoundError, match=f"Dataset '{name}' not found"):
            client.datasets.near_duplicates(name)


def test_an_image_deleted_leaves_the_clusters_and_the_cache(
    fake: FakePictograph, client: pictograph.Client, gallery: dict[str, str]
) -> None:
    assert client.datasets.near_duplicates(DATASET).redundant_count == 3
    assert fake.world.search.embedded(gallery["stripes.png"])
    client.images.delete(DATASET, "stripes.png", permanent=True)
    assert not fake.world.search.embedded(gallery["stripes.png"])
    assert client.datasets.near_duplicates(DATASET).redundant_count == 2


async def test_near_duplicates_async(fake: FakePictograph, gallery: dict[str, str]) -> None:
    async with fake.async_client(max_retries=0) as sdk:
        result = await sdk.datasets.near_duplicates(DATASET, threshold=0.99)
    assert [g.size for g in result.groups] == [3, 2]


def test_images_added_by_count_that_share_a_drawing_are_duplicates(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_dataset("synthetic", images=20)
    world = fake.world

    def pixels(image_id: str) -> bytes:
        content, _ = world.image_service.content(world.images[image_id])
        with PILImage.open(io.BytesIO(content)) as picture:
            data: bytes = picture.convert("RGB").tobytes()
            return data

    result = client.datasets.near_duplicates("synthetic", threshold=0.9999)
    # Each cluster is one drawing, pixel for pixel, and every drawing drawn twice is one.
    drawings = {pixels(i) for i in world.dataset(world.default_org.id, "synthetic").image_ids}
    for group in result.groups:
        assert len({pixels(m.id) for m in group.members}) == 1
    assert result.redundant_count == 20 - len(drawings)


# ── the rules a mutation run found no test holding ──


Colour = tuple[int, int, int]
RED: Colour = (200, 60, 40)
NEAR_RED: Colour = (177, 71, 40)
"""Scores 0.988 against :data:`RED`: its cosine, 0.98799..., rounds up to it."""
DARK_RED: Colour = (190, 50, 30)
"""Scores 0.9933 against :data:`RED`, and lies below it on the scan's grey axis."""
GREEN: Colour = (40, 200, 60)
BLUE: Colour = (40, 60, 200)


def _flat(path: Path, colour: Colour) -> Path:
    """A picture of one flat colour: its embedding is that colour, centred on mid-grey."""
    path.parent.mkdir(parents=True, exist_ok=True)
    PILImage.new("RGB", (32, 24), colour).save(path)
    return path


def _upload_flat(client: pictograph.Client, tmp_path: Path, pictures: dict[str, Colour]) -> None:
    """Upload a flat picture of each colour under its name, in the order given."""
    for name, colour in pictures.items():
        client.images.upload(DATASET, _flat(tmp_path / name, colour))


def _two_halves() -> PILImage.Image:
    """A red left half and a blue right half: a picture that turning changes."""
    picture = PILImage.new("RGB", (64, 48), (220, 30, 30))
    ImageDraw.Draw(picture).rectangle((32, 0, 63, 47), fill=(30, 60, 200))
    return picture


def _cosine(first: Colour, second: Colour) -> float:
    """The similarity of two flat colours as the module's docstring defines it."""
    a = [(c - 127.5) / 127.5 for c in first]
    b = [(c - 127.5) / 127.5 for c in second]
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def test_a_jpeg_is_embedded_from_its_whole_picture_shrunk_by_averaging() -> None:
    encoded = io.BytesIO()
    _two_halves().save(encoded, "JPEG", quality=90)
    with PILImage.open(io.BytesIO(encoded.getvalue())) as decoded:
        small = decoded.convert("RGB").resize((8, 8), PILImage.Resampling.BOX).tobytes()
    values = [(channel - 127.5) / 127.5 for channel in small]
    norm = math.sqrt(sum(v * v for v in values))
    assert embedding_of(encoded.getvalue()) == tuple(v / norm for v in values)


def test_a_photo_turned_by_its_exif_orientation_is_searched_upright(
    client: pictograph.Client, tmp_path: Path
) -> None:
    upright = _two_halves()
    upright.save(tmp_path / "upright.png")
    # Stored on its side, with the orientation tag that turns it back (a phone's photo).
    exif = PILImage.Exif()
    exif[0x0112] = 6
    sideways = upright.transpose(PILImage.Transpose.ROTATE_90)
    sideways.save(tmp_path / "phone.jpg", quality=95, exif=exif.tobytes())
    sideways.save(tmp_path / "untagged.jpg", quality=95)
    for name in ("upright.png", "phone.jpg", "untagged.jpg"):
        client.images.upload(DATASET, tmp_path / name)
    found = client.search.by_similarity(DATASET, "upright.png", threshold=0.9)
    assert [i.filename for i in found] == ["phone.jpg"]
    assert found[0].similarity >= 0.99


def test_flat_colours_score_their_cosine_about_mid_grey_clamped_at_zero(
    client: pictograph.Client, tmp_path: Path
) -> None:
    white, black = (255, 255, 255), (0, 0, 0)
    _upload_flat(
        client,
        tmp_path,
        {"red.png": RED, "darker.png": DARK_RED, "white.png": white, "black.png": black},
    )
    scores = {
        i.filename: i.similarity
        for i in client.search.by_similarity(DATASET, "red.png", threshold=0.0)
    }
    # To four places (0.9933), not three.
    assert scores["darker.png"] == round(_cosine(RED, DARK_RED), 4) == 0.9933
    # Opposites are not "similar": black and white score 0, never less.
    from_white = client.search.by_similarity(DATASET, "white.png", threshold=0.0)
    assert {i.filename: i.similarity for i in from_white}["black.png"] == 0.0


def test_a_mid_grey_picture_is_never_an_empty_vector(
    client: pictograph.Client, tmp_path: Path
) -> None:
    # 127 is as close to the centre (127.5) as an 8-bit value gets: still a direction.
    grey, lighter = (127, 127, 127), (128, 128, 128)
    _upload_flat(client, tmp_path, {"grey.png": grey, "lighter.png": lighter, "same.png": grey})
    found = client.search.by_similarity(DATASET, "grey.png", threshold=0.0)
    assert [(i.filename, i.similarity) for i in found] == [("same.png", 1.0), ("lighter.png", 0.0)]


def test_a_score_equal_to_the_threshold_is_in_even_just_under_it_before_rounding(
    client: pictograph.Client, tmp_path: Path
) -> None:
    # Its cosine, 0.98799..., rounds to 0.988: a threshold of 0.988 takes the pair.
    assert _cosine(RED, NEAR_RED) < 0.988 == round(_cosine(RED, NEAR_RED), 4)
    _upload_flat(client, tmp_path, {"a.png": RED, "b.png": NEAR_RED})
    [found] = client.search.by_similarity(DATASET, "a.png", threshold=0.988)
    assert (found.filename, found.similarity) == ("b.png", 0.988)
    for sample in (1, 2):  # from either picture
        result = client.datasets.near_duplicates(DATASET, threshold=0.988, sample=sample)
        assert [(g.size, g.max_similarity) for g in result.groups] == [(2, 0.988)]
    # And the identical copy at the top threshold of a similarity search.
    _upload_flat(client, tmp_path, {"c.png": RED})
    assert [i.filename for i in client.search.by_similarity(DATASET, "a.png", threshold=1)] == [
        "c.png"
    ]


def test_similar_images_come_most_similar_first_whatever_their_names(
    client: pictograph.Client, tmp_path: Path
) -> None:
    _upload_flat(client, tmp_path, {"source.png": RED, "a-near.png": NEAR_RED, "b-same.png": RED})
    found = client.search.by_similarity(DATASET, "source.png", threshold=0.9)
    assert [(i.filename, i.similarity) for i in found] == [
        ("b-same.png", 1.0),
        ("a-near.png", 0.988),
    ]


def test_a_darker_duplicate_of_the_only_source_is_found(
    client: pictograph.Client, tmp_path: Path
) -> None:
    # The scan reads pictures on both sides of the source's brightness.
    _upload_flat(client, tmp_path, {"a-bright.png": RED, "b-dark.png": DARK_RED})
    result = client.datasets.near_duplicates(DATASET, threshold=0.9, sample=1)
    assert [sorted(m.filename for m in g.members) for g in result.groups] == [
        ["a-bright.png", "b-dark.png"]
    ]


def test_a_source_keeps_its_nearest_neighbours_only(
    client: pictograph.Client, tmp_path: Path
) -> None:
    _upload_flat(client, tmp_path, {"a.png": RED, "b-near.png": NEAR_RED, "c-same.png": RED})
    one = client.datasets.near_duplicates(DATASET, threshold=0.9, sample=1, neighbors=1)
    assert [[m.filename for m in g.members] for g in one.groups] == [["a.png", "c-same.png"]]
    assert one.groups[0].max_similarity == 1.0
    two = client.datasets.near_duplicates(DATASET, threshold=0.9, sample=1, neighbors=2)
    assert [[m.filename for m in g.members] for g in two.groups] == [
        ["a.png", "b-near.png", "c-same.png"]
    ]


def test_a_pair_found_from_both_sides_is_one_pair_and_the_strongest_pairs_are_kept(
    client: pictograph.Client, tmp_path: Path
) -> None:
    _upload_flat(
        client, tmp_path, {"a.png": RED, "b.png": NEAR_RED, "c.png": GREEN, "d.png": GREEN}
    )
    # Two pairs, each found from both of its pictures: exactly two, so none is dropped.
    both = client.datasets.near_duplicates(DATASET, threshold=0.9, max_pairs=2)
    assert not both.pairs_capped
    assert [g.size for g in both.groups] == [2, 2]
    one = client.datasets.near_duplicates(DATASET, threshold=0.9, max_pairs=1)
    assert one.pairs_capped
    assert [[m.filename for m in g.members] for g in one.groups] == [["c.png", "d.png"]]


def test_clusters_of_one_size_come_strongest_first_then_by_their_first_image(
    client: pictograph.Client, tmp_path: Path
) -> None:
    pictures = {"a.png": RED, "b.png": NEAR_RED, "c.png": BLUE, "d.png": GREEN}
    _upload_flat(client, tmp_path, {**pictures, "e.png": BLUE, "f.png": GREEN})
    result = client.datasets.near_duplicates(DATASET, threshold=0.9)
    assert [([m.filename for m in g.members], g.max_similarity) for g in result.groups] == [
        (["c.png", "e.png"], 1.0),
        (["d.png", "f.png"], 1.0),
        (["a.png", "b.png"], 0.988),
    ]


def test_a_clusters_images_are_in_the_datasets_order(
    client: pictograph.Client, tmp_path: Path
) -> None:
    # The strongest pair (b, c) is joined first; a joins them after: still a, b, c.
    _upload_flat(client, tmp_path, {"a.png": NEAR_RED, "b.png": RED, "c.png": RED})
    result = client.datasets.near_duplicates(DATASET, threshold=0.9)
    assert [[m.filename for m in g.members] for g in result.groups] == [["a.png", "b.png", "c.png"]]


def test_a_scan_reports_its_sample_against_the_scope(
    client: pictograph.Client, gallery: dict[str, str]
) -> None:
    sampled = client.datasets.near_duplicates(DATASET, sample=2)
    assert (sampled.analyzed, sampled.total_images, sampled.sample_capped) == (2, 6, True)
    whole = client.datasets.near_duplicates(DATASET, sample=6)
    assert (whole.analyzed, whole.total_images, whole.sample_capped) == (6, 6, False)
    assert client.datasets.near_duplicates(DATASET, threshold=0.925).threshold == 0.925


def test_a_duplicates_member_says_its_status_and_labels(
    client: pictograph.Client, gallery: dict[str, str]
) -> None:
    boxes = [
        BBoxAnnotation(name="object", bounding_box=BoundingBox(x=x, y=0, w=10, h=4))
        for x in (0, 20)
    ]
    client.annotations.save(DATASET, "stripes.png", boxes)
    assert client.images.review(DATASET, "stripes.png", "approve") == "complete"
    result = client.datasets.near_duplicates(DATASET)
    members = {m.filename: m for g in result.groups for m in g.members}
    labelled, other = members["stripes.png"], members["stripes-again.png"]
    assert (labelled.status, labelled.annotation_count) == ("complete", 2)
    assert (other.status, other.annotation_count) == ("new", 0)
    # A search's rows say the same.
    [row] = client.search.by_similarity(DATASET, "stripes-again.png", directory_path="/")
    assert (row.filename, row.status, row.annotation_count) == ("stripes.png", "complete", 2)
    [row] = client.search.by_similarity(DATASET, "stripes.png", directory_path="/b")
    assert (row.filename, row.status, row.annotation_count) == ("stripes-again.png", "new", 0)


def test_a_tag_with_an_empty_or_unknown_category_is_an_object_tag_as_written(
    client: pictograph.Client, gallery: dict[str, str]
) -> None:
    image = gallery["circle.png"]
    client.images.bulk_tag(DATASET, [image], ["scenes:", "weather:rainy", "attributes:red"])
    [found] = client.search.by_tag(objects=["weather:rainy"])
    assert found.image_auto_tags == {
        "objects": ["scenes:", "weather:rainy"],
        "scenes": [],
        "attributes": ["red"],
    }
    assert [i.id for i in client.search.by_tag(objects=["scenes:"])] == [image]


def test_by_tag_lists_the_oldest_datasets_images_first(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_dataset("zebra-signs", images=2, classes=["stop"])
    fake.add_dataset("alpha-signs", images=1, classes=["stop"])
    ids = {
        name: fake.world.dataset(fake.world.default_org.id, name).id
        for name in ("zebra-signs", "alpha-signs")
    }
    found = client.search.by_tag(objects=["stop"])
    assert [i.dataset_id for i in found] == [ids["zebra-signs"]] * 2 + [ids["alpha-signs"]]


# ── the answers as sent, and the query's bounds ──


def test_search_answers_carry_their_count_filters_page_and_query(
    fake: FakePictograph, client: pictograph.Client, gallery: dict[str, str]
) -> None:
    client.images.bulk_tag(DATASET, list(gallery.values()), ["shape"])
    dataset_id = client.datasets.get(DATASET).id
    with raw(fake) as http:
        tagged = http.get(
            f"{DEV}/search/by-tags",
            params={"objects": "shape", "dataset_name": DATASET, "limit": 4, "offset": 3},
        ).json()
        similar = http.get(
            f"{DEV}/search/similar",
            params={"image_id": gallery["circle.png"].upper(), "threshold": 0.5},
        ).json()
    # The page's own count (3 of the 6 from the fourth on), not the matches'.
    assert tagged["count"] == len(tagged["results"]) == 3
    assert tagged["filters"] == {
        "objects": ["shape"],
        "scenes": None,
        "attributes": None,
        "dataset_name": DATASET,
    }
    assert tagged["pagination"] == {"limit": 4, "offset": 3}
    assert {row["project_id"] for row in tagged["results"]} == {dataset_id}
    assert (similar["count"], similar["threshold"]) == (len(similar["results"]), 0.5)
    assert similar["count"] == 1
    assert similar["query_image_id"] == gallery["circle.png"]


def test_a_search_without_bounds_takes_the_sdks_defaults(
    fake: FakePictograph, client: pictograph.Client, gallery: dict[str, str], tmp_path: Path
) -> None:
    fake.add_dataset("many", images=55, classes=["stop"])
    first = fake.world.dataset(fake.world.default_org.id, "many").image_ids[0]
    with raw(fake) as http:
        tagged = http.get(f"{DEV}/search/by-tags", params={"objects": "stop"}).json()
        similar = http.get(
            f"{DEV}/search/similar", params={"image_id": gallery["circle.png"]}
        ).json()
        alike = http.get(f"{DEV}/search/similar", params={"image_id": first, "threshold": 0})
    assert (tagged["count"], tagged["pagination"]) == (50, {"limit": 50, "offset": 0})
    assert similar["threshold"] == 0.6
    assert alike.json()["count"] == 50  # of the 54 others


def test_a_search_limit_past_the_cap_is_taken_as_it(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_dataset("many", images=501, classes=["stop"])
    # The SDK's docstring names the cap: 500.
    assert len(client.search.by_tag(objects=["stop"], limit=10**6)) == 500


def test_search_bounds_below_their_least_or_blank_tags_are_refused(
    client: pictograph.Client, gallery: dict[str, str]
) -> None:
    for call in (
        lambda: client.search.by_tag(objects=["shape"], limit=0),
        lambda: client.search.by_similarity(DATASET, "circle.png", limit=0),
        lambda: client.search.by_tag(objects=[" "]),
        lambda: client.search.by_tag(scenes=["outdoor"], dataset_name=" "),
        lambda: client.search.by_tag(attributes=["t" * (TAG_MAX_LENGTH + 1)]),
        lambda: client.datasets.near_duplicates(DATASET, neighbors=0),
        lambda: client.datasets.near_duplicates(DATASET, max_pairs=0),
    ):
        with pytest.raises(ValidationError):
            call()


def test_a_similarity_search_reads_a_directory_as_the_api_writes_it(
    client: pictograph.Client, gallery: dict[str, str]
) -> None:
    found = client.search.by_similarity(DATASET, "circle.png", directory_path="b/")
    assert [(i.filename, i.virtual_directory_path) for i in found] == [("circle-copy.png", "/b")]


def test_a_scan_keeps_ten_neighbours_a_source_unless_told(
    client: pictograph.Client, tmp_path: Path
) -> None:
    _upload_flat(client, tmp_path, {f"p{n:02d}.png": RED for n in range(12)})

    def pairs(neighbors: int) -> int:
        # All tie at 1.0: each source keeps the first `neighbors` others in the scope's order.
        kept = set()
        for source in range(12):
            others = [other for other in range(12) if other != source][:neighbors]
            kept |= {(min(source, other), max(source, other)) for other in others}
        return len(kept)

    assert pairs(9) < pairs(10) < pairs(11)
    scan = client.datasets.near_duplicates
    for told in (None, 10):  # the default, then told as much
        assert not scan(DATASET, max_pairs=pairs(10), neighbors=told).pairs_capped
        assert scan(DATASET, max_pairs=pairs(10) - 1, neighbors=told).pairs_capped


# ── older releases ──


def _http(fake: FakePictograph, release: str) -> httpx.Client:
    client = raw(fake)
    client.headers["User-Agent"] = f"pictograph-python/{release}"
    return client


def test_releases_before_1_69_43_name_directories_folders(
    fake: FakePictograph, client: pictograph.Client, gallery: dict[str, str]
) -> None:
    dataset_id = client.datasets.get(DATASET).id
    with _http(fake, "1.40.0") as old:
        root = old.get(f"{DEV}/datasets/{dataset_id}/duplicates", params={"folder_path": "/b"})
        similar = old.get(
            f"{DEV}/search/similar",
            params={"image_id": gallery["circle.png"], "folder_path": "/b"},
        )
    assert root.status_code == 200, root.text
    result = root.json()  # at the root before 1.61
    assert "data" not in result
    assert (result["folder_path"], result["total_images"]) == ("/b", 2)
    [hit] = similar.json()["results"]
    assert (hit["filename"], hit["virtual_folder_path"]) == ("circle-copy.png", "/b")
    with _http(fake, "1.69.42") as named:
        answer = named.get(f"{DEV}/datasets/by-name/{DATASET}/duplicates")
    members = answer.json()["data"]["groups"][0]["members"]
    assert all(m["virtual_folder_path"] == m["virtual_directory_path"] for m in members)
    with _http(fake, "1.34.0") as before:
        # near_duplicates arrived with 1.35.0: the route is not theirs.
        assert before.get(f"{DEV}/datasets/{dataset_id}/duplicates").status_code == 404
