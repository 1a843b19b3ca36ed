"""An export's ``file_size`` is summed from the ZIP layout, never by building the ZIP.

Whatever the format, split layout, image files or names, the size ``exports.get``
reports is the length of the archive ``exports.download`` then writes; reading it
builds nothing, and the bytes and size do not move when an image goes afterwards.
"""

from __future__ import annotations

import math
import random
import zipfile
from typing import TYPE_CHECKING

import pytest
from PIL import Image as PILImage

from tests.conftest import DATASET

if TYPE_CHECKING:
    from pathlib import Path

    import pictograph

    from pictograph_testing import FakePictograph


def _built(fake: FakePictograph, export_id: str) -> bool:
    return fake.world.storage.made((export_id, "export.zip"))


@pytest.mark.parametrize("export_format", ["pictograph", "coco", "yolo", "csv"])
@pytest.mark.parametrize("include_images", [False, True])
@pytest.mark.parametrize("organize_by_split", [False, True])
def test_the_reported_size_is_the_downloaded_archives_length(
    fake: FakePictograph,
    client: pictograph.Client,
    tmp_path: Path,
    export_format: str,
    include_images: bool,
    organize_by_split: bool,
) -> None:
    dataset = fake.world.dataset(fake.organization_id, DATASET)
    images = fake.world.dataset_images(dataset)
    images[0].split, images[1].split = "val", "test"
    images[2].filename = "señal de stop.jpg"  # a name that is not ASCII takes more bytes
    created = client.exports.create(
        DATASET,
        "sized-é",
        format=export_format,  # type: ignore[arg-type]
        include_images=include_images,
        organize_by_split=organize_by_split,
    )

    reported = client.exports.get(DATASET, "sized-é").file_size
    assert not _built(fake, created.id)
    out = client.exports.download(DATASET, "sized-é", tmp_path / "x.zip")

    assert reported == out.stat().st_size
    with zipfile.ZipFile(out) as archive:
        assert archive.testzip() is None
        assert any(name.endswith("señal de stop.jpg.json") for name in archive.namelist()) == (
            export_format in ("pictograph", "csv")  # csv: per-image JSON, as pictograph
        )


async def test_async_get_reports_the_same_size(
    fake: FakePictograph, aclient: pictograph.AsyncClient, tmp_path: Path
) -> None:
    created = await aclient.exports.create(DATASET, "sized", include_images=True)

    reported = (await aclient.exports.get(DATASET, "sized")).file_size

    assert not _built(fake, created.id)
    out = await aclient.exports.download(DATASET, "sized", tmp_path / "a.zip")
    assert reported == out.stat().st_size


def test_an_image_deleted_after_the_size_was_read_leaves_size_and_bytes_as_they_were(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    client.exports.create(DATASET, "sized", include_images=True)
    reported = client.exports.get(DATASET, "sized").file_size
    first = next(iter(client.images.list(DATASET, limit=1)))

    client.images.delete(DATASET, first.id, permanent=True)

    out = client.exports.download(DATASET, "sized", tmp_path / "x.zip")
    assert reported == out.stat().st_size == client.exports.get(DATASET, "sized").file_size


def test_a_listing_reports_the_size_get_reports(client: pictograph.Client) -> None:
    client.exports.create(DATASET, "sized", format="coco")

    listed = [e for e in client.exports.list(dataset_name=DATASET) if e.name == "sized"]

    assert listed[0].file_size == client.exports.get(DATASET, "sized").file_size


# Python's `zipfile` writes ZIP64 records past `zipfile.ZIP64_LIMIT` (2 GiB, not the
# format's 4 GiB), and gives an entry ZIP64 headers once 1.05 times its length passes it.
# The limit is lowered here so that an archive of a few kilobytes crosses it.


def test_an_archive_whose_offsets_pass_zipfiles_limit_is_sized_with_its_zip64_records(
    client: pictograph.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.exports.create(DATASET, "one")
    classic = client.exports.download(DATASET, "one", tmp_path / "one.zip")
    with zipfile.ZipFile(classic) as archive:
        largest = max(info.file_size for info in archive.infolist())
    limit = math.ceil(largest * 1.05) + 1  # no entry passes it; the archive's offsets do
    assert limit < classic.stat().st_size
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", limit)

    client.exports.create(DATASET, "two")  # as long a name: the same entries' lengths

    reported = client.exports.get(DATASET, "two").file_size
    out = client.exports.download(DATASET, "two", tmp_path / "two.zip")
    assert reported == out.stat().st_size > classic.stat().st_size


def test_an_image_file_zipfile_gives_zip64_headers_is_sized_with_them(
    client: pictograph.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.datasets.create("noise", classes=[{"name": "dot", "type": "bbox"}])
    pixels = random.Random(0).randbytes(200 * 200 * 3)  # incompressible: a large PNG
    PILImage.frombytes("RGB", (200, 200), pixels).save(tmp_path / "a.png")
    client.images.upload("noise", tmp_path / "a.png")
    client.exports.create("noise", "one", include_images=True)
    classic = client.exports.download("noise", "one", tmp_path / "one.zip").stat().st_size
    # The archive's own length: no offset passes it, 1.05 times the image file does.
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", classic)

    client.exports.create("noise", "two", include_images=True)

    reported = client.exports.get("noise", "two").file_size
    out = client.exports.download("noise", "two", tmp_path / "two.zip")
    assert reported == out.stat().st_size > classic
