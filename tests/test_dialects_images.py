"""The id-era images and annotations wire (SDK 1.61.0 to 1.69.43), over raw HTTP.

Those releases name a dataset by ``dataset_id`` (the images list also by
``dataset_name`` from 1.69.30), an image by its id alone, and say ``folder_path`` until
1.69.43. The matrix (``tests/matrix/test_images_across_versions.py``) drives the real
SDKs; these pin each declared difference and where it stops.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from PIL import Image as PILImage

from pictograph_testing import FakePictograph

if TYPE_CHECKING:
    from collections.abc import Iterator

DEV = "/api/v1/developer"
DATASET = "site-photos"


def _png() -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (8, 6), (10, 90, 160)).save(out, "PNG")
    return out.getvalue()


class Era:
    """A fake answering one release, its raw client, and the dataset's id."""

    def __init__(self, version: str) -> None:
        self.fake = FakePictograph(sdk_version=version)
        self.dataset_id = self.fake.add_dataset(DATASET, classes=["cat"]).id
        self.http = httpx.Client(
            transport=self.fake.transport(),
            base_url=self.fake.base_url + DEV,
            headers={"X-API-Key": self.fake.api_key},
        )

    def upload(self, filename: str, folder: str = "/") -> dict[str, Any]:
        """The three steps 1.61.0 to 1.69.42 send: upload-url, PUT, register."""
        body = {"dataset_id": self.dataset_id, "filename": filename, "folder_path": folder}
        signed = self.http.post("/images/upload-url", json={**body, "content_type": "image/png"})
        assert signed.status_code == 200, signed.text
        content = _png()
        put = self.http.put(
            signed.json()["data"]["upload_url"],
            content=content,
            headers={"Content-Type": "image/png"},
        )
        assert put.status_code == 200
        extra = {"file_size": len(content), "content_type": "image/png", "width": 8, "height": 6}
        registered = self.http.post("/images/register", json={**body, **extra})
        assert registered.status_code == 201, registered.text
        image: dict[str, Any] = registered.json()["data"]
        return image


@pytest.fixture
def era() -> Iterator[Era]:
    era = Era("1.61.0")
    with era.http:
        yield era


def test_uploads_take_dataset_id_and_folder_path_and_answer_both_names(era: Era) -> None:
    image = era.upload("a.png", "/shelf/top")
    assert image["dataset_id"] == era.dataset_id
    assert image["folder_path"] == image["directory_path"] == "/shelf/top"


def test_the_list_takes_dataset_id_and_folder_path(era: Era) -> None:
    era.upload("a.png", "/shelf")
    era.upload("b.png")
    answer = era.http.get(
        "/images/", params={"dataset_id": era.dataset_id, "folder_path": "/shelf"}
    )
    assert answer.status_code == 200, answer.text
    [only] = answer.json()["data"]
    assert (only["filename"], only["folder_path"]) == ("a.png", "/shelf")


def test_bulk_uploads_take_folder_path_in_each_entry(era: Era) -> None:
    entry = {"filename": "c.png", "folder_path": "/bulk", "content_type": "image/png"}
    urls = era.http.post(
        "/images/bulk-upload-url", json={"dataset_id": era.dataset_id, "images": [entry]}
    )
    assert urls.status_code == 200, urls.text
    [signed] = urls.json()["data"]["upload_urls"]
    assert signed["folder_path"] == "/bulk"
    era.http.put(signed["upload_url"], content=_png(), headers={"Content-Type": "image/png"})
    registered = era.http.post(
        "/images/bulk-register", json={"dataset_id": era.dataset_id, "images": [entry]}
    )
    assert registered.status_code == 200, registered.text
    [image] = registered.json()["data"]["succeeded"]
    assert image["folder_path"] == "/bulk"


def test_one_image_by_its_id_alone(era: Era) -> None:
    image_id = era.upload("a.png")["id"]
    metadata = era.http.get(f"/images/{image_id}/metadata").json()["data"]
    assert metadata["folder_path"] == "/"
    review = era.http.post(f"/images/{image_id}/review", json={"action": "request_changes"})
    assert review.json()["data"]["status"] == "annotate"
    split = era.http.post(f"/images/{image_id}/split", json={"split": "test"})
    assert split.json()["data"]["split"] == "test"
    assert era.http.delete(f"/images/{image_id}").json()["message"] == "Image archived"
    assert era.fake.world.images[image_id].is_archived


def test_annotations_by_image_id_and_class_edits_by_dataset_id(era: Era) -> None:
    image_id = era.upload("a.png")["id"]
    box = {"name": "cat", "type": "bbox", "bounding_box": {"x": 0, "y": 0, "w": 4, "h": 3}}
    saved = era.http.post(
        f"/annotations/{image_id}", json={"image_id": image_id, "annotations": [box]}
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["new_count"] == 1
    assert [a["name"] for a in era.http.get(f"/annotations/{image_id}").json()["annotations"]] == [
        "cat"
    ]
    renamed = era.http.post(
        "/annotations/rename-class",
        json={"dataset_id": era.dataset_id, "old_name": "cat", "new_name": "feline"},
    )
    assert renamed.status_code == 200, renamed.text
    deleted = era.http.delete(f"/annotations/{image_id}")
    assert deleted.json()["deleted_count"] == 1


def test_dataset_wide_writes_take_dataset_id(era: Era) -> None:
    image_id = era.upload("a.png")["id"]
    tagged = era.http.post(
        "/images/bulk-tag",
        json={"dataset_id": era.dataset_id, "image_ids": [image_id], "tags": ["x"], "add": True},
    )
    assert tagged.json()["data"]["processed"] == 1
    splits = era.http.post("/images/assign-splits", json={"dataset_id": era.dataset_id, "seed": 1})
    assert splits.status_code == 200, splits.text


def test_batch_moves_take_target_folder_path(era: Era) -> None:
    image_id = era.upload("a.png")["id"]
    moved = era.http.post(
        "/batch/images/move",
        json={"dataset_name": DATASET, "image_ids": [image_id], "target_folder_path": "/moved"},
    )
    assert moved.status_code == 200, moved.text
    assert era.fake.world.images[image_id].directory_path == "/moved"


def test_1_69_30_lists_by_dataset_name() -> None:
    era = Era("1.69.30")
    with era.http:
        era.upload("a.png")
        answer = era.http.get("/images/", params={"dataset_name": DATASET, "filename": "a.png"})
        assert [image["filename"] for image in answer.json()["data"]] == ["a.png"]


@pytest.mark.parametrize("version", ["1.69.43", "1.69.146"])
def test_folder_path_stops_at_1_69_43(version: str) -> None:
    era = Era(version)
    with era.http:
        body = {"dataset": DATASET, "filename": "a.png", "content_type": "image/png"}
        answer = era.http.post("/images/upload-url", json={**body, "folder_path": "/x"})
        assert answer.status_code == 422
        assert answer.json()["detail"][0]["type"] == "extra_forbidden"
        signed = era.http.post("/images/upload-url", json=body).json()["data"]
        assert "folder_path" not in signed


@pytest.mark.parametrize(("version", "served"), [("1.69.43", True), ("1.69.44", False)])
def test_id_routes_end_at_1_69_44(version: str, served: bool) -> None:
    era = Era(version)
    with era.http:
        listed = era.http.get("/images/", params={"dataset_id": era.dataset_id})
        assert (listed.status_code == 200) is served
        # Not an image's id: the id route refuses it (404), or there is no such route.
        answer = era.http.get(f"/annotations/{era.dataset_id}")
        assert answer.status_code == 404
        assert ("No route" in answer.json()["error"]["message"]) is not served
