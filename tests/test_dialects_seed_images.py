"""The seed era's images, annotations, batch and download wire (SDK 1.0.0 to 1.60.0).

Those releases read results at the root, not under ``data``; address one image by its
id alone; name a dataset by ``dataset_id``; send ``folder_path``, ``mime_type`` and
``image_width`` / ``image_height``; and read ``virtual_folder_path``, ``registered`` and
``affected_folders``. The matrix (``tests/matrix/test_images_across_versions.py``)
drives the real releases and validates every reply against each release's own models;
these pin each declared difference over raw HTTP, and where it stops.
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
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def _png() -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (8, 6), (10, 90, 160)).save(out, "PNG")
    return out.getvalue()


class Era:
    """A fake answering one release, its raw client, and the dataset's id."""

    def __init__(self, version: str, images: int = 0) -> None:
        self.fake = FakePictograph(sdk_version=version)
        dataset = self.fake.add_dataset(DATASET, images=images, classes=["cat"])
        self.dataset_id = dataset.id
        self.image_ids = [image.id for image in self.fake.world.dataset_images(dataset)]
        self.http = httpx.Client(
            transport=self.fake.transport(),
            base_url=self.fake.base_url + DEV,
            headers={"X-API-Key": self.fake.api_key},
        )

    def upload(self, filename: str, folder: str = "/") -> str:
        """The four steps 1.0.0 to 1.60.0 send; the new image's id."""
        signed = self.http.post(
            "/images/upload-url",
            json={
                "dataset_id": self.dataset_id,
                "filename": filename,
                "folder_path": folder,
                "content_type": "image/png",
            },
        ).json()
        content = _png()
        put = self.http.put(
            signed["upload_url"], content=content, headers={"Content-Type": "image/png"}
        )
        assert put.status_code == 200
        registered = self.http.post(
            "/images/register",
            data={
                "dataset_id": self.dataset_id,
                "filename": filename,
                **{name: signed[name] for name in ("gcs_bucket", "gcs_path", "gcs_uri")},
                "folder_path": folder,
                "file_size": str(len(content)),
                "mime_type": "image/png",
                "image_width": "8",
                "image_height": "6",
            },
        )
        assert registered.status_code == 201, registered.text
        image_id: str = registered.json()["image_id"]
        return image_id

    def bulk(self, *filenames: str, folder: str = "/") -> dict[str, Any]:
        """A bulk upload as 1.7 to 1.60 send it: old names in each entry."""
        entries = [
            {"filename": name, "folder_path": folder, "content_type": "image/png"}
            for name in filenames
        ]
        signed = self.http.post(
            "/images/bulk-upload-url", json={"dataset_id": self.dataset_id, "images": entries}
        )
        assert signed.status_code == 200, signed.text
        content = _png()
        for slot in signed.json()["upload_urls"]:
            self.http.put(
                slot["upload_url"], content=content, headers={"Content-Type": "image/png"}
            )
        registered = self.http.post(
            "/images/bulk-register",
            json={
                "dataset_id": self.dataset_id,
                "images": [
                    {
                        "filename": name,
                        "folder_path": folder,
                        "file_size": len(content),
                        "mime_type": "image/png",
                        "image_width": 8,
                        "image_height": None,  # the SDK sends what Pillow could not read
                    }
                    for name in filenames
                ],
            },
        )
        assert registered.status_code == 200, registered.text
        result: dict[str, Any] = registered.json()
        return result


@pytest.fixture
def era() -> Iterator[Era]:
    era = Era("1.40.0")
    with era.http:
        yield era


def test_an_image_is_read_with_its_folder_and_mime_type(era: Era) -> None:
    image_id = era.upload("a.png", "/shelf")
    image = era.http.get(f"/images/{image_id}/metadata").json()["image"]
    assert (image["virtual_folder_path"], image["mime_type"]) == ("/shelf", "image/png")
    assert image["image_url"]
    listed = era.http.get("/images/", params={"dataset_id": era.dataset_id}).json()["images"]
    assert [(i["id"], i["virtual_folder_path"], i["mime_type"]) for i in listed] == [
        (image_id, "/shelf", "image/png")
    ]


def test_review_and_split_by_id_answer_at_the_root(era: Era) -> None:
    image_id = era.upload("a.png")
    review = era.http.post(f"/images/{image_id}/review", json={"action": "approve"})
    assert review.status_code == 200, review.text
    assert review.json()["status"] == "complete"
    assert "data" not in review.json()
    split = era.http.post(f"/images/{image_id}/split", json={"split": "val"})
    assert split.json()["split"] == "val"
    assert era.fake.world.images[image_id].split == "val"
    cleared = era.http.post(f"/images/{image_id}/split", json={"split": None})
    assert cleared.json() == {"id": image_id, "split": None, "processed": 1}


def test_delete_by_id_archives_then_deletes_for_an_admin(era: Era) -> None:
    image_id = era.upload("a.png")
    assert era.http.delete(f"/images/{image_id}").json()["message"] == "Image archived"
    assert era.fake.world.images[image_id].is_archived
    member = era.fake.add_api_key("member")
    refused = era.http.delete(
        f"/images/{image_id}", params={"permanent": "true"}, headers={"X-API-Key": member}
    )
    assert refused.status_code == 403
    assert image_id in era.fake.world.images
    gone = era.http.delete(f"/images/{image_id}", params={"permanent": "true"})
    assert gone.json()["message"] == "Image permanently deleted"
    assert image_id not in era.fake.world.images
    assert era.http.delete(f"/images/{UNKNOWN_ID}").status_code == 404


def test_tags_and_splits_take_dataset_id_and_answer_at_the_root(era: Era) -> None:
    ids = [era.upload("a.png"), era.upload("b.png")]
    tagged = era.http.post(
        "/images/bulk-tag",
        json={"dataset_id": era.dataset_id, "image_ids": ids, "tags": ["x"], "add": True},
    )
    # SDK 1.60.0's canned replies: the tags echoed, the dataset as `dataset_id`.
    assert tagged.json() == {"processed": 2, "tags": ["x"], "added": True}
    splits = era.http.post(
        "/images/assign-splits",
        json={"dataset_id": era.dataset_id, "train": 50, "val": 50, "test": 0, "seed": 1},
    )
    assert splits.json() == {
        "dataset_id": era.dataset_id,
        "processed": 2,
        "train": 1,
        "val": 1,
        "test": 0,
    }
    # Today's name for the dataset is not what these releases send: refused, not guessed.
    refused = era.http.post("/images/bulk-tag", json={"dataset": DATASET, "image_ids": ids})
    assert refused.status_code == 422


def test_a_bulk_upload_sends_old_names_and_reads_registered(era: Era) -> None:
    result = era.bulk("a.png", "b.png", folder="/bulk")
    registered = {entry["filename"]: entry for entry in result["registered"]}
    assert sorted(registered) == ["a.png", "b.png"]
    for entry in registered.values():
        image = era.fake.world.images[entry["image_id"]]
        assert (image.directory_path, image.content_type, image.width) == ("/bulk", "image/png", 8)
        assert (entry["folder_path"], entry["status"]) == ("/bulk", "new")
        assert entry["image_url"].endswith(f"/images/{entry['image_id']}")
    again = era.bulk("a.png", folder="/bulk")
    assert again["registered"] == []
    [failure] = again["failed"]
    assert (failure["filename"], failure["folder_path"]) == ("a.png", "/bulk")
    assert "already exists" in failure["error"]


def test_annotations_by_image_id_with_the_id_in_the_body(era: Era) -> None:
    image_id = era.upload("a.png")
    box = {
        "id": "b1",
        "name": "cat",
        "type": "bbox",
        "bounding_box": {"x": 0, "y": 0, "w": 4, "h": 3},
    }
    saved = era.http.post(
        f"/annotations/{image_id}", json={"image_id": image_id, "annotations": [box]}
    )
    assert saved.status_code == 200, saved.text
    assert {k: saved.json()[k] for k in ("image_id", "previous_count", "new_count")} == {
        "image_id": image_id,
        "previous_count": 0,
        "new_count": 1,
    }
    read = era.http.get(f"/annotations/{image_id}").json()
    assert [a["id"] for a in read["annotations"]] == ["b1"]
    deleted = era.http.delete(f"/annotations/{image_id}").json()
    assert (deleted["image_id"], deleted["deleted_count"]) == (image_id, 1)
    assert era.http.get(f"/annotations/{UNKNOWN_ID}").status_code == 404


@pytest.mark.parametrize("version", ["1.0.0", "1.60.0", "1.69.42"])
def test_batch_takes_target_folder_path_and_answers_affected_folders(version: str) -> None:
    era = Era(version, images=1)
    with era.http:
        [image_id] = era.image_ids
        moved = era.http.post(
            "/batch/images/move",
            json={"dataset_name": DATASET, "image_ids": [image_id], "target_folder_path": "/m"},
        )
        assert moved.status_code == 200, moved.text
        assert "/m" in moved.json()["affected_folders"]
        assert era.fake.world.images[image_id].directory_path == "/m"
        deleted = era.http.post(
            "/batch/images/delete", json={"dataset_name": DATASET, "image_ids": [image_id]}
        )
        assert deleted.json()["affected_folders"] == deleted.json()["affected_directories"]


def test_batch_says_directories_from_1_69_43() -> None:
    era = Era("1.69.43", images=1)
    with era.http:
        [image_id] = era.image_ids
        body = {"dataset_name": DATASET, "image_ids": [image_id]}
        refused = era.http.post("/batch/images/move", json={**body, "target_folder_path": "/m"})
        assert refused.status_code == 422
        moved = era.http.post("/batch/images/move", json={**body, "target_directory_path": "/m"})
        assert "/m" in moved.json()["affected_directories"]
        assert "affected_folders" not in moved.json()


@pytest.mark.parametrize(("version", "at_root"), [("1.60.0", True), ("1.61.0", False)])
def test_the_download_listing_is_at_the_root_before_1_61(version: str, at_root: bool) -> None:
    era = Era(version, images=1)
    with era.http:
        path = (
            "/datasets/by-name/site-photos/download" if at_root else f"/datasets/{DATASET}/download"
        )
        listing = era.http.get(path, params={"mode": "full", "limit": 10000}).json()
        if at_root:
            assert listing["dataset_id"] == era.dataset_id
            [item] = listing["items"]
        else:
            assert listing["data"]["id"] == era.dataset_id
            [item] = listing["data"]["items"]
        assert item["id"] == era.image_ids[0]
        assert item["image_url"]
        assert item["annotation_url"]


@pytest.mark.parametrize(
    ("version", "at_root"), [("1.0.0", True), ("1.60.0", True), ("1.61.0", False)]
)
def test_by_id_routes_serve_every_release_to_1_69_43(version: str, at_root: bool) -> None:
    era = Era(version, images=1)
    with era.http:
        [image_id] = era.image_ids
        answer = era.http.post(f"/images/{image_id}/split", json={"split": "test"}).json()
        assert (answer if at_root else answer["data"])["split"] == "test"


def test_the_seed_era_wire_stops_at_1_61() -> None:
    era = Era("1.61.0")
    with era.http:
        entry = {"filename": "a.png", "folder_path": "/", "mime_type": "image/png"}
        refused = era.http.post(
            "/images/bulk-register", json={"dataset_id": era.dataset_id, "images": [entry]}
        )
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["loc"][-1] == "mime_type"
