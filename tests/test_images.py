"""Images through the real SDK (sync and async): upload, list, read, bytes, review, splits."""

from __future__ import annotations

import io
import re
import zipfile
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pictograph.exceptions import ConflictError, ForbiddenError, NotFoundError, ValidationError
from PIL import Image as PILImage

from pictograph_testing import FakePictograph
from tests.conftest import DATASET
from tests.image_files import DEV, raw, world_state, write_image, write_images

if TYPE_CHECKING:
    from pathlib import Path

    import pictograph

IN_PROGRESS: Any = "in_progress"
ALL: Any = "all"
EMBEDDING: Any = "embedding"


def role_client(fake: FakePictograph, role: Any) -> pictograph.Client:
    return fake.client(api_key=fake.add_api_key(role), max_retries=0)


def tree(root: Path) -> Path:
    """A class-per-folder tree with a nested folder, a non-image and an undecodable image."""
    write_images(root / "cars", ["c0.png", "c1.jpg", "c2.png"])
    write_images(root / "dogs" / "small", ["d0.png", "d1.png"])
    write_images(root / "dogs", ["d2.webp"])
    write_image(root / "top.png")
    (root / "broken.jpg").write_bytes(b"not really a jpeg")
    (root / "notes.txt").write_text("not an image")
    return root


# ── single upload ──


def test_upload_takes_three_requests_and_registers_a_new_image(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    path = write_image(tmp_path / "photo.png", (64, 48))
    seen: list[httpx.Request] = []
    client._transport._client.event_hooks["request"].append(seen.append)
    image = client.images.upload(DATASET, path, directory_path="/val")
    assert [(r.method, r.url.path) for r in seen] == [
        ("POST", f"{DEV}/images/upload-url"),
        ("POST", f"{DEV}/images/register"),
    ]
    assert image.status == "new"
    assert (image.filename, image.directory_path) == ("photo.png", "/val")
    assert (image.width, image.height, image.content_type) == (64, 48, "image/png")
    assert image.file_size == path.stat().st_size
    assert image.dataset_id == client.datasets.get(DATASET).id
    assert image.image_url == f"{fake.base_url}{DEV}/images/{image.id}"
    assert image.annotation_url == f"{fake.base_url}{DEV}/annotations/{image.id}/file"
    assert fake.world.images[image.id].content == path.read_bytes()


def test_upload_url_is_absolute_and_expires_in_15_minutes(fake: FakePictograph) -> None:
    with raw(fake) as http:
        body = http.post(
            f"{DEV}/images/upload-url",
            json={
                "dataset": DATASET,
                "filename": "a.png",
                "directory_path": "x/y/",
                "content_type": "image/png",
            },
        ).json()["data"]
    assert body["upload_url"].startswith(f"{fake.base_url}/_storage/")
    assert (body["filename"], body["directory_path"], body["expires_in_minutes"]) == (
        "a.png",
        "/x/y",
        15,
    )


def test_uploaded_bytes_download_back_unchanged(client: pictograph.Client, tmp_path: Path) -> None:
    path = write_image(tmp_path / "in" / "photo.jpg", (40, 30))
    image = client.images.upload(DATASET, path, directory_path="/a/b")
    by_id = client.images.download(DATASET, image.id, tmp_path / "out" / "by-id.jpg")
    by_path = client.images.download(DATASET, "a/b/photo.jpg", tmp_path / "out" / "by-path.jpg")
    assert by_id.read_bytes() == by_path.read_bytes() == path.read_bytes()


def test_duplicate_upload_is_a_conflict_and_changes_nothing(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    path = write_image(tmp_path / "dup.png")
    client.images.upload(DATASET, path)
    before = world_state(fake)
    with pytest.raises(ConflictError) as refused:
        client.images.upload(DATASET, path)
    assert "already exists" in refused.value.message
    assert world_state(fake) == before
    # The same name in another directory is another image.
    assert client.images.upload(DATASET, path, directory_path="/other").directory_path == "/other"


def test_register_refuses_a_taken_path_even_after_bytes_were_put(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    image = client.images.upload(DATASET, write_image(tmp_path / "a.png"))
    body = {
        "dataset": DATASET,
        "filename": "a.png",
        "directory_path": "/",
        "content_type": "image/png",
    }
    with raw(fake) as http:
        # bulk-upload-url signs a taken name (the refusal comes at register).
        signed = http.post(
            f"{DEV}/images/bulk-upload-url",
            json={"dataset": DATASET, "images": [{k: body[k] for k in list(body)[1:]}]},
        )
        url = signed.json()["data"]["upload_urls"][0]["upload_url"]
        put = http.put(url, content=b"x", headers={"content-type": "image/png"})
        assert put.status_code == 200
        refused = http.post(f"{DEV}/images/register", json=body)
    assert refused.status_code == 409
    assert "already exists" in refused.json()["error"]["message"]
    assert client.images.get(DATASET, image.id).file_size == image.file_size


def test_register_without_uploaded_bytes_is_404(fake: FakePictograph) -> None:
    before = world_state(fake)
    with raw(fake) as http:
        response = http.post(
            f"{DEV}/images/register",
            json={"dataset": DATASET, "filename": "ghost.png", "content_type": "image/png"},
        )
    assert response.status_code == 404
    assert "upload_url" in response.json()["error"]["message"]
    assert world_state(fake) == before


@pytest.mark.parametrize(
    "body",
    [
        {"dataset": DATASET, "filename": "a.txt", "content_type": "text/plain"},
        {"dataset": DATASET, "filename": "a/b.png", "content_type": "image/png"},
        {"dataset": DATASET, "filename": " ", "content_type": "image/png"},
        {"dataset": DATASET, "filename": "a.png", "content_type": "image/png", "x": 1},
        {"dataset": DATASET, "filename": "a.png"},
        {
            "dataset": DATASET,
            "filename": "a.png",
            "content_type": "image/png",
            "directory_path": "/a/../b",
        },
    ],
)
def test_upload_url_refuses_a_bad_body(fake: FakePictograph, body: dict[str, Any]) -> None:
    with raw(fake) as http:
        response = http.post(f"{DEV}/images/upload-url", json=body)
    assert response.status_code == 422, response.text


def test_upload_to_a_missing_dataset_is_404(client: pictograph.Client, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        client.images.upload("nope", write_image(tmp_path / "a.png"))


def test_viewer_cannot_upload(fake: FakePictograph, tmp_path: Path) -> None:
    with role_client(fake, "viewer") as viewer, pytest.raises(ForbiddenError):
        viewer.images.upload(DATASET, write_image(tmp_path / "a.png"))


async def test_async_upload_and_download(aclient: pictograph.AsyncClient, tmp_path: Path) -> None:
    path = write_image(tmp_path / "a.png", (20, 10))
    image = await aclient.images.upload(DATASET, path, directory_path="/async")
    assert (image.width, image.height, image.directory_path) == (20, 10, "/async")
    out = await aclient.images.download(DATASET, image.id, tmp_path / "out.png")
    assert out.read_bytes() == path.read_bytes()
    with pytest.raises(ConflictError):
        await aclient.images.upload(DATASET, path, directory_path="/async")


# ── upload_from_directory ──


def uploaded(client: pictograph.Client, dataset: str) -> list[tuple[str, str, str]]:
    return [
        (i.id, i.directory_path or "", i.filename)
        for i in client.images.iter(dataset, include_archived=True)
    ]


def test_upload_from_directory_in_a_thread_pool(tmp_path: Path) -> None:
    root = tree(tmp_path / "tree")
    with FakePictograph(seed=1) as fake, fake.client(max_retries=0) as client:
        report = client.images.upload_from_directory("fresh", root, parallel=True, max_workers=8)
        assert report.images_attempted == 8
        # The undecodable file is refused at register, as the service refuses it.
        assert (report.images_uploaded, report.images_skipped) == (7, 0)
        [failure] = report.failures
        assert failure.path.name == "broken.jpg"
        assert "is not an image the API takes" in failure.reason
        dataset = client.datasets.get("fresh")
        assert (dataset.image_count, dataset.classes) == (7, [])
        paths = sorted((d, f) for _, d, f in uploaded(client, "fresh"))
        assert paths == [
            ("/", "top.png"),
            ("/cars", "c0.png"),
            ("/cars", "c1.jpg"),
            ("/cars", "c2.png"),
            ("/dogs", "d0.png"),
            ("/dogs", "d1.png"),
            ("/dogs", "d2.webp"),
        ]
        first = uploaded(client, "fresh")
        # A second run finds every image there already; the broken file fails again.
        again = client.images.upload_from_directory("fresh", root)
        assert (again.images_uploaded, again.images_skipped, len(again.failures)) == (0, 7, 1)
        assert uploaded(client, "fresh") == first
        assert fake.server_errors == []
    # The same seed and files give the same ids and order, whatever the thread schedule.
    for _ in range(3):
        with FakePictograph(seed=1) as fake, fake.client(max_retries=0) as client:
            client.images.upload_from_directory("fresh", root, max_workers=8)
            assert uploaded(client, "fresh") == first
    with FakePictograph(seed=1) as fake, fake.client(max_retries=0) as client:
        client.images.upload_from_directory("fresh", root, parallel=False)
        assert uploaded(client, "fresh") == first


def test_upload_from_directory_layouts(client: pictograph.Client, tmp_path: Path) -> None:
    root = tree(tmp_path / "tree")
    client.images.upload_from_directory("flat", root, organize_by_class=False)
    assert {d for _, d, _ in uploaded(client, "flat")} == {"/"}
    client.images.upload_from_directory("deep", root, preserve_structure=True)
    assert {d for _, d, _ in uploaded(client, "deep")} == {"/", "/cars", "/dogs", "/dogs/small"}


def test_upload_from_directory_without_create_if_missing(
    client: pictograph.Client, tmp_path: Path
) -> None:
    with pytest.raises(NotFoundError):
        client.images.upload_from_directory("absent", tree(tmp_path), create_if_missing=False)


def test_upload_from_directory_reports_refusals_as_failures(
    fake: FakePictograph, tmp_path: Path
) -> None:
    root = tree(tmp_path / "tree")
    with role_client(fake, "viewer") as viewer:
        report = viewer.images.upload_from_directory(DATASET, root)
    assert report.images_uploaded == 0
    assert len(report.failures) == 8
    assert all("role" in f.reason for f in report.failures)


async def test_async_upload_from_directory(tmp_path: Path) -> None:
    root = tree(tmp_path / "tree")
    with FakePictograph(seed=1) as fake:
        async with fake.async_client(max_retries=0) as client:
            report = await client.images.upload_from_directory("fresh", root, max_workers=4)
            assert report.images_uploaded == 7
            assert [f.path.name for f in report.failures] == ["broken.jpg"]
            again = await client.images.upload_from_directory("fresh", root)
            assert again.images_skipped == 7
            listed = [
                (i.id, i.directory_path, i.filename) async for i in client.images.iter("fresh")
            ]
    with FakePictograph(seed=1) as fake, fake.client(max_retries=0) as sync_client:
        sync_client.images.upload_from_directory("fresh", root)
        assert uploaded(sync_client, "fresh") == listed


# ── bulk upload ──


def test_bulk_upload_registers_each_file_and_fails_taken_names(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    paths = write_images(tmp_path, ["a.png", "b.png", "c.jpg"])
    client.images.upload(DATASET, paths[1], directory_path="/bulk")
    result = client.images.bulk_upload(DATASET, paths, directory_path="/bulk")
    assert [i.filename for i in result.succeeded] == ["a.png", "c.jpg"]
    assert all(i.status == "new" and i.directory_path == "/bulk" for i in result.succeeded)
    assert [(f.filename, f.directory_path) for f in result.failed] == [("b.png", "/bulk")]
    assert "already exists" in result.failed[0].error
    assert result.count == 2
    assert client.datasets.get(DATASET).image_count == 23


def test_bulk_upload_url_caps_at_500(fake: FakePictograph) -> None:
    entry = {"filename": "a.png", "content_type": "image/png"}
    with raw(fake) as http:
        response = http.post(
            f"{DEV}/images/bulk-upload-url", json={"dataset": DATASET, "images": [entry] * 501}
        )
        empty = http.post(f"{DEV}/images/bulk-upload-url", json={"dataset": DATASET, "images": []})
        bad = http.post(
            f"{DEV}/images/bulk-register",
            json={"dataset": DATASET, "images": [{"filename": "a.png", "width": "wide"}]},
        )
    assert (response.status_code, empty.status_code, bad.status_code) == (422, 422, 422)
    assert bad.json()["error"]["details"]["errors"][0]["loc"] == ["body", "images", 0, "width"]


async def test_async_bulk_upload(aclient: pictograph.AsyncClient, tmp_path: Path) -> None:
    result = await aclient.images.bulk_upload(DATASET, write_images(tmp_path, ["a.png", "b.png"]))
    assert result.count == 2


# ── list / get ──


def test_list_filters(fake: FakePictograph, client: pictograph.Client, tmp_path: Path) -> None:
    a = client.images.upload(DATASET, write_image(tmp_path / "a.png"), directory_path="/x")
    b = client.images.upload(DATASET, write_image(tmp_path / "b.png"), directory_path="/x/y")
    client.batch.update(DATASET, [a.id], status="review")
    client.images.set_split(DATASET, b.id, "test")
    client.images.delete(DATASET, "x/y/b.png")
    assert [i.filename for i in client.images.list(DATASET, directory_path="/x")] == ["a.png"]
    assert [i.filename for i in client.images.list(DATASET, directory_path="x/")] == ["a.png"]
    assert client.images.list(DATASET, directory_path="/x/y") == []
    assert [
        i.filename
        for i in client.images.list(DATASET, directory_path="/x/y", include_archived=True)
    ] == ["b.png"]
    assert [i.id for i in client.images.list(DATASET, status="review")] == [a.id]
    assert len(client.images.list(DATASET, status="complete")) == 12
    assert [i.id for i in client.images.list(DATASET, split="test", include_archived=True)] == [
        b.id
    ]
    assert [i.id for i in client.images.list(DATASET, filename="a.png")] == [a.id]
    assert len(client.images.list(DATASET, limit=5, offset=18)) == 3


def test_pages_step_over_archived_images_wherever_they_sit(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    """A page of a dataset with archived images (first, last and among the rest) holds
    the live ones in order, and its totals count those alone, as pages of a list would."""
    everything = [i.filename for i in client.images.iter(DATASET, page_size=7)]
    archived = {everything[0], everything[5], everything[6], everything[-1]}
    for name in archived:
        client.images.delete(DATASET, name)
    live = [name for name in everything if name not in archived]
    assert [i.filename for i in client.images.iter(DATASET, page_size=3)] == live
    with raw(fake) as http:
        for offset in (0, 4, 15, 16, 40):
            body = http.get(
                f"{DEV}/images/", params={"dataset": DATASET, "limit": 4, "offset": offset}
            ).json()
            assert [i["filename"] for i in body["data"]] == live[offset : offset + 4]
            assert body["pagination"]["total"] == len(live) == 16
            assert body["pagination"]["has_more"] == (offset + 4 < 16)
    shown = client.images.iter(DATASET, page_size=5, include_archived=True)
    assert [i.filename for i in shown] == everything


async def test_async_pages_step_over_archived_images(aclient: pictograph.AsyncClient) -> None:
    newest = (await aclient.images.list(DATASET, limit=1))[0]
    await aclient.images.delete(DATASET, newest.id)
    listed = [i.filename async for i in aclient.images.iter(DATASET, page_size=6)]
    assert len(listed) == 19
    assert newest.filename not in listed


def test_a_filename_in_several_folders_lists_in_the_datasets_order(
    client: pictograph.Client, tmp_path: Path
) -> None:
    path = write_image(tmp_path / "same.png")
    made = [
        client.images.upload(DATASET, path, directory_path=where) for where in ("/b", "/a", "/c")
    ]
    client.images.delete(DATASET, "c/same.png")
    # Uploaded at one virtual instant: the later a path sorts, the newer (`/c`, `/b`, `/a`).
    newest_first = [made[0].id, made[1].id]
    assert [i.id for i in client.images.list(DATASET, filename="same.png")] == newest_first
    kept = client.images.list(DATASET, filename="same.png", include_archived=True)
    assert [i.id for i in kept] == [made[2].id, *newest_first]
    assert [
        i.id for i in client.images.list(DATASET, filename="same.png", directory_path="/a")
    ] == [made[1].id]
    assert client.images.list(DATASET, filename="none.png") == []


def test_list_is_newest_first_and_pages(fake: FakePictograph, client: pictograph.Client) -> None:
    listed = [i.filename for i in client.images.iter(DATASET, page_size=7)]
    assert listed == [f"img-{n:05d}.jpg" for n in range(20, 0, -1)]
    with raw(fake) as http:
        body = http.get(f"{DEV}/images/", params={"dataset": DATASET, "limit": 5}).json()
    assert body["pagination"] == {"limit": 5, "offset": 0, "total": 20, "has_more": True}


def test_list_min_confidence_lt(client: pictograph.Client) -> None:
    from pictograph import BBoxAnnotation, BoundingBox

    image = client.images.list(DATASET, limit=1)[0]
    box = BoundingBox(x=1, y=1, w=5, h=5)
    client.annotations.save(
        DATASET,
        image.filename,
        [
            BBoxAnnotation(name="yield", bounding_box=box, confidence=0.3),
            BBoxAnnotation(name="yield", bounding_box=box, confidence=0.8),
        ],
    )
    uncertain = client.images.list(DATASET, min_confidence_lt=0.5)
    assert [(i.id, i.min_confidence) for i in uncertain] == [(image.id, 0.3)]
    assert client.images.list(DATASET, min_confidence_lt=0.3) == []


@pytest.mark.parametrize("status", [IN_PROGRESS, ALL])
def test_list_refuses_statuses_that_are_not_stages(client: pictograph.Client, status: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        client.images.list(DATASET, status=status)
    assert refused.value.status_code == 400
    assert refused.value.message.startswith("Invalid status")


@pytest.mark.parametrize(
    "params",
    [
        {"dataset_id": "x"},
        {"dataset": DATASET, "dataset_name": DATASET},
        {},
        {"dataset": DATASET, "split": "holdout"},
        {"dataset": DATASET, "min_confidence_lt": "low"},
        {"dataset": DATASET, "include_archived": "maybe"},
        {"dataset": DATASET, "limit": 0},
    ],
)
def test_list_refuses_bad_query_parameters(fake: FakePictograph, params: dict[str, Any]) -> None:
    with raw(fake) as http:
        response = http.get(f"{DEV}/images/", params=params)
    assert response.status_code == 422, response.text


def test_get_by_filename_and_by_id(client: pictograph.Client, tmp_path: Path) -> None:
    image = client.images.upload(DATASET, write_image(tmp_path / "one.png"), directory_path="/d")
    assert client.images.get(DATASET, "one.png") == image
    assert client.images.get(DATASET, image.id) == image
    assert client.images.get(client.datasets.get(DATASET).id, image.id) == image
    with pytest.raises(NotFoundError):
        client.images.get(DATASET, "none.png")
    with pytest.raises(NotFoundError):
        client.images.get(DATASET, "00000000-0000-4000-8000-000000000000")


def test_get_of_a_name_in_two_directories_is_ambiguous(
    client: pictograph.Client, tmp_path: Path
) -> None:
    path = write_image(tmp_path / "same.png")
    client.images.upload(DATASET, path, directory_path="/a")
    client.images.upload(DATASET, path, directory_path="/b")
    with pytest.raises(ValueError, match="more than one directory"):
        client.images.get(DATASET, "same.png")


def test_get_by_id_of_another_dataset_is_not_found(client: pictograph.Client) -> None:
    client.datasets.create("other")
    image = client.images.list(DATASET, limit=1)[0]
    with pytest.raises(NotFoundError):
        client.images.get("other", image.id)


def test_metadata_by_id_carries_the_path_and_dataset(fake: FakePictograph) -> None:
    image = next(iter(fake.world.images.values()))
    with raw(fake) as http:
        body = http.get(f"{DEV}/images/{image.id}/metadata").json()["data"]
        missing = http.get(f"{DEV}/images/00000000-0000-4000-8000-000000000000/metadata")
    assert (body["id"], body["filename"], body["directory_path"]) == (image.id, image.filename, "/")
    assert body["dataset_id"] == image.dataset_id
    assert missing.status_code == 404


async def test_async_list_get_iter(aclient: pictograph.AsyncClient) -> None:
    images = await aclient.images.list(DATASET, status="complete", limit=3)
    assert len(images) == 3
    assert (await aclient.images.get(DATASET, images[0].filename)).id == images[0].id
    assert (await aclient.images.get(DATASET, images[0].id)).filename == images[0].filename
    assert len([i async for i in aclient.images.iter(DATASET, page_size=6)]) == 20


# ── bytes of images added by count ──


def test_synthetic_images_download_as_valid_deterministic_jpegs(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    image = client.images.list(DATASET, limit=1)[0]
    first = client.images.download(DATASET, image.id, tmp_path / "1.jpg").read_bytes()
    second = client.images.download(DATASET, image.filename, tmp_path / "2.jpg").read_bytes()
    assert first == second
    assert first[:3] == b"\xff\xd8\xff"
    decoded = PILImage.open(io.BytesIO(first))
    assert (decoded.format, decoded.size) == ("JPEG", (640, 480))
    with raw(fake) as http:
        response = http.get(f"{DEV}/images/{image.id}")
    assert response.headers["content-type"] == "image/jpeg"
    assert response.content == first
    with FakePictograph(seed=1) as again:
        again.add_dataset(DATASET, images=20, completed_images=12)
        with raw(again) as http:
            assert http.get(f"{DEV}/images/{image.id}").content == first


def test_download_of_a_missing_image_is_404(client: pictograph.Client, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        client.images.download(DATASET, "ghost.jpg", tmp_path / "ghost.jpg")
    assert not (tmp_path / "ghost.jpg").exists()
    assert not (tmp_path / "ghost.jpg.part").exists()


def test_a_bare_filename_of_an_image_in_a_directory_is_404_naming_where_it_is(
    client: pictograph.Client, tmp_path: Path
) -> None:
    for directory in ("/val", "/train/a"):
        client.images.upload(DATASET, write_image(tmp_path / "x.png"), directory_path=directory)
    hint = (
        "an image of that name is in /train/a, /val: address it with its directory, as "
        "'train/a/x.png' (or directory_path='/train/a' where the call takes one)"
    )
    with pytest.raises(NotFoundError, match=re.escape(hint)):
        client.images.download(DATASET, "x.png", tmp_path / "out.png")
    with pytest.raises(NotFoundError, match=re.escape(hint)):
        client.annotations.get(DATASET, "x.png")
    # The one it names answers; a name held nowhere else says only that it is missing.
    assert client.images.download(DATASET, "val/x.png", tmp_path / "out.png").exists()
    with pytest.raises(NotFoundError) as missing:
        client.images.download(DATASET, "val/ghost.png", tmp_path / "ghost.png")
    assert str(missing.value).startswith(
        f"Image 'val/ghost.png' not found in dataset '{DATASET}' ("
    )


def test_a_bare_filename_held_in_many_directories_names_the_first_few(
    client: pictograph.Client, tmp_path: Path
) -> None:
    ids = [
        client.images.upload(DATASET, write_image(tmp_path / "x.png"), directory_path=f"/d{n}").id
        for n in range(1, 9)
    ]
    client.images.delete(DATASET, "d8/x.png", permanent=True)
    client.images.delete(DATASET, "d1/x.png", permanent=True)
    client.batch.move(DATASET, [ids[1]], target_directory_path="/z")
    # Six left: the first five by path, then how many more; the deleted and the moved
    # one's old directory are gone.
    with pytest.raises(NotFoundError) as missing:
        client.annotations.get(DATASET, "x.png")
    assert "is in /d3, /d4, /d5, /d6, /d7 and 1 more: address it" in str(missing.value)
    assert "as 'd3/x.png'" in str(missing.value)
    assert client.annotations.get(DATASET, "z/x.png") is not None


async def test_async_bare_filename_404_names_the_directory(
    aclient: pictograph.AsyncClient, tmp_path: Path
) -> None:
    await aclient.images.upload(DATASET, write_image(tmp_path / "y.png"), directory_path="/val")
    with pytest.raises(NotFoundError, match=re.escape("as 'val/y.png'")):
        await aclient.images.review(DATASET, "y.png", "approve")


def test_download_bundle_is_a_zip_with_image_annotations_and_manifest(
    client: pictograph.Client, tmp_path: Path
) -> None:
    image = client.images.list(DATASET, limit=1)[0]
    path = client.images.download_bundle(DATASET, image.id, tmp_path / "bundle.zip")
    with zipfile.ZipFile(path) as bundle:
        assert bundle.namelist() == [image.filename, "annotations.json", "manifest.json"]


# ── paths with spaces, '%' and nesting ──


def test_names_with_spaces_and_percent_signs_round_trip(
    client: pictograph.Client, tmp_path: Path
) -> None:
    client.datasets.create("a/b c%")
    path = write_image(tmp_path / "my photo #1 100%.png")
    image = client.images.upload("a/b c%", path, directory_path="/x y/z%20")
    assert image.directory_path == "/x y/z%20"
    assert client.images.get("a/b c%", image.id).filename == "my photo #1 100%.png"
    out = client.images.download("a/b c%", image.id, tmp_path / "out.png")
    assert out.read_bytes() == path.read_bytes()
    assert client.images.review("a/b c%", image.id, "approve") == "complete"


# ── delete ──


def test_delete_archives_by_default(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    image = client.images.upload(DATASET, write_image(tmp_path / "a.png"))
    client.images.delete(DATASET, image.id)
    assert client.images.get(DATASET, image.id).is_archived
    assert client.datasets.get(DATASET).archived_image_count == 1
    # Its name is still taken while it is archived.
    with pytest.raises(ConflictError, match="archived"):
        client.images.upload(DATASET, tmp_path / "a.png")
    client.images.delete(DATASET, "a.png")  # archiving again is no error


def test_permanent_delete_needs_admin(fake: FakePictograph, tmp_path: Path) -> None:
    with role_client(fake, "member") as member:
        image = member.images.upload(DATASET, write_image(tmp_path / "a.png"))
        before = world_state(fake)
        with pytest.raises(ForbiddenError):
            member.images.delete(DATASET, image.id, permanent=True)
        assert world_state(fake) == before
        member.images.delete(DATASET, image.id)
    with role_client(fake, "admin") as admin:
        admin.images.delete(DATASET, image.id, permanent=True)
        with pytest.raises(NotFoundError):
            admin.images.get(DATASET, image.id)
        # The name is free again; the new image has a new id.
        again = admin.images.upload(DATASET, tmp_path / "a.png")
        assert again.id != image.id
    with role_client(fake, "viewer") as viewer, pytest.raises(ForbiddenError):
        viewer.images.delete(DATASET, again.id)


async def test_async_delete(aclient: pictograph.AsyncClient) -> None:
    image = (await aclient.images.list(DATASET, limit=1))[0]
    await aclient.images.delete(DATASET, image.filename)
    assert (await aclient.images.get(DATASET, image.id)).is_archived
    await aclient.images.delete(DATASET, image.id, permanent=True)
    with pytest.raises(NotFoundError):
        await aclient.images.get(DATASET, image.id)


# ── review, split, assign_splits, tags ──


def test_review_moves_an_image_between_stages(client: pictograph.Client) -> None:
    image = client.images.list(DATASET, status="new", limit=1)[0]
    assert client.images.review(DATASET, image.id, "approve") == "complete"
    assert client.datasets.get(DATASET).completed_image_count == 13
    assert client.images.review(DATASET, image.filename, "request_changes", note="tighter") == (
        "annotate"
    )
    assert client.images.get(DATASET, image.id).status == "annotate"


def test_review_refuses_an_unknown_action(fake: FakePictograph) -> None:
    with raw(fake) as http:
        response = http.post(f"{DEV}/images/{DATASET}/img-00001.jpg/review", json={"action": "ok"})
    assert response.status_code == 422


def test_set_split_and_clear_it(client: pictograph.Client) -> None:
    image = client.images.list(DATASET, limit=1)[0]
    assert client.images.set_split(DATASET, image.id, "train") == "train"
    assert client.images.get(DATASET, image.id).split == "train"
    assert client.images.set_split(DATASET, image.filename, None) is None
    assert client.images.get(DATASET, image.id).split is None


def test_set_split_refuses_an_unknown_split(fake: FakePictograph) -> None:
    with raw(fake) as http:
        response = http.post(f"{DEV}/images/{DATASET}/img-00001.jpg/split", json={"split": "dev"})
    assert response.status_code == 422


def test_assign_splits_is_deterministic_under_its_seed(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    counts = client.images.assign_splits(DATASET, train=70, val=20, test=10, seed=7)
    assert counts == {"processed": 20, "train": 14, "val": 4, "test": 2}
    first = {i.id: i.split for i in client.images.iter(DATASET)}
    assert client.images.assign_splits(DATASET, seed=7) == counts
    assert {i.id: i.split for i in client.images.iter(DATASET)} == first
    client.images.assign_splits(DATASET, seed=8)
    assert {i.id: i.split for i in client.images.iter(DATASET)} != first
    assert client.images.assign_splits(DATASET, train=80, val=20, test=0) == {
        "processed": 20,
        "train": 16,
        "val": 4,
        "test": 0,
    }


def test_assign_splits_refusals(fake: FakePictograph, client: pictograph.Client) -> None:
    before = world_state(fake)
    with pytest.raises(ConflictError, match="embedding"):
        client.images.assign_splits(DATASET, mode=EMBEDDING)
    with pytest.raises(ValidationError):
        client.images.assign_splits(DATASET, train=50, val=20, test=10)
    with pytest.raises(ValidationError):
        client.images.assign_splits(DATASET, train=120, val=-10, test=-10)
    # Blank text is no mode: only a mode left out is the default, random.
    with pytest.raises(ValidationError, match="Invalid split_mode '': choose 'random'"):
        client.images.assign_splits(DATASET, mode="")  # type: ignore[arg-type]
    assert world_state(fake) == before


def test_bulk_tag_adds_and_removes(client: pictograph.Client) -> None:
    images = client.images.list(DATASET, limit=3)
    ids = [i.id for i in images]
    first, second = images[0].tags, images[1].tags  # a synthetic image's class tag
    assert client.images.bulk_tag(DATASET, [*ids, "not-an-id"], ["cat", "day"]) == 3
    assert client.images.bulk_tag(DATASET, ids[:1], ["cat", "night"]) == 1
    assert client.images.get(DATASET, ids[0]).tags == [*first, "cat", "day", "night"]
    assert client.images.bulk_tag(DATASET, ids, ["cat"], add=False) == 3
    assert client.images.get(DATASET, ids[0]).tags == [*first, "day", "night"]
    assert client.images.get(DATASET, ids[1]).tags == [*second, "day"]


def test_member_reviews_and_viewer_cannot(fake: FakePictograph) -> None:
    with role_client(fake, "member") as member:
        assert member.images.review(DATASET, "img-00020.jpg", "approve") == "complete"
        member.images.set_split(DATASET, "img-00020.jpg", "val")
    with role_client(fake, "viewer") as viewer:
        before = world_state(fake)
        with pytest.raises(ForbiddenError):
            viewer.images.review(DATASET, "img-00019.jpg", "approve")
        with pytest.raises(ForbiddenError):
            viewer.images.set_split(DATASET, "img-00019.jpg", "val")
        with pytest.raises(ForbiddenError):
            viewer.images.assign_splits(DATASET)
        with pytest.raises(ForbiddenError):
            viewer.images.bulk_tag(DATASET, [], ["x"])
        assert world_state(fake) == before


async def test_async_review_split_assign_and_tag(aclient: pictograph.AsyncClient) -> None:
    image = (await aclient.images.list(DATASET, status="new", limit=1))[0]
    assert await aclient.images.review(DATASET, image.id, "approve") == "complete"
    assert await aclient.images.set_split(DATASET, image.id, "test") == "test"
    counts = await aclient.images.assign_splits(DATASET, seed=1)
    assert counts["processed"] == 20
    assert await aclient.images.bulk_tag(DATASET, [image.id], ["x"]) == 1


# Pillow warns (in the SDK, which reads an upload's size) above 89,478,485 pixels.
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_an_image_below_the_pixel_bound_but_past_pillows_warning_is_taken(
    client: pictograph.Client, tmp_path: Path
) -> None:
    # 9,500 x 9,500 is 90,250,000 pixels: within the API's 178,956,970 and 16,384 a side.
    PILImage.new("1", (9500, 9500)).save(tmp_path / "wide.png")
    image = client.images.upload(DATASET, tmp_path / "wide.png")
    assert (image.width, image.height) == (9500, 9500)
    assert client.images.get(DATASET, image.id).width == 9500


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
async def test_async_an_image_past_pillows_warning_is_taken(
    aclient: pictograph.AsyncClient, tmp_path: Path
) -> None:
    PILImage.new("1", (9500, 9500)).save(tmp_path / "wide.png")
    image = await aclient.images.upload(DATASET, tmp_path / "wide.png")
    assert (image.width, image.height) == (9500, 9500)


@pytest.mark.parametrize("workers", [1, 4])
def test_two_files_of_one_name_in_one_bulk_upload_keep_their_own_bytes(
    client: pictograph.Client, tmp_path: Path, workers: int
) -> None:
    # Two signed URLs name one path: each keeps its bytes, and the file that registers
    # is stored with its own, whichever PUT came last.
    first = write_image(tmp_path / "a" / "x.png", (10, 10))
    second = write_image(tmp_path / "b" / "x.png", (100, 50))
    result = client.images.bulk_upload(
        DATASET, [first, second], directory_path="/dup", max_workers=workers
    )
    [image] = result.succeeded
    assert [f.filename for f in result.failed] == ["x.png"]
    assert (image.width, image.height, image.file_size) == (10, 10, first.stat().st_size)
    stored = client.images.download(DATASET, image.id, tmp_path / "got.png").read_bytes()
    assert stored == first.read_bytes()


async def test_async_two_files_of_one_name_keep_their_own_bytes(
    aclient: pictograph.AsyncClient, tmp_path: Path
) -> None:
    first = write_image(tmp_path / "a" / "x.png", (10, 10))
    second = write_image(tmp_path / "b" / "x.png", (100, 50))
    result = await aclient.images.bulk_upload(DATASET, [first, second], directory_path="/dup")
    [image] = result.succeeded
    assert (image.width, image.height) == (10, 10)
    path = await aclient.images.download(DATASET, image.id, tmp_path / "got.png")
    assert path.read_bytes() == first.read_bytes()


def test_a_registered_size_is_the_bytes_own(fake: FakePictograph, tmp_path: Path) -> None:
    # The API measures what it stores: a register that declares another size gets the
    # image's own (upright) width and height, as its file_size is the bytes'.
    picture = write_image(tmp_path / "m.png", (10, 10))
    with raw(fake) as http:
        signed = http.post(
            f"{DEV}/images/upload-url",
            json={"dataset": DATASET, "filename": "m.png", "content_type": "image/png"},
        ).json()["data"]
        put = http.put(
            signed["upload_url"],
            content=picture.read_bytes(),
            headers={"Content-Type": "image/png"},
        )
        assert put.status_code == 200, put.text
        registered = http.post(
            f"{DEV}/images/register",
            json={
                "dataset": DATASET,
                "filename": "m.png",
                "file_size": 3,
                "content_type": "image/png",
                "width": 4000,
                "height": 3,
            },
        )
    assert registered.status_code == 201, registered.text
    data = registered.json()["data"]
    assert (data["width"], data["height"], data["file_size"]) == (10, 10, picture.stat().st_size)


def _signed_png(http: httpx.Client, filename: str) -> str:
    """A signed upload URL for a PNG named ``filename`` in the dataset."""
    signed = http.post(
        f"{DEV}/images/upload-url",
        json={"dataset": DATASET, "filename": filename, "content_type": "image/png"},
    )
    return str(signed.json()["data"]["upload_url"])


def test_storage_takes_the_signed_content_type_with_parameters(
    fake: FakePictograph, tmp_path: Path
) -> None:
    # The media type is what is signed: a parameter after it (and spaces) is no mismatch.
    picture = write_image(tmp_path / "a.png").read_bytes()
    with raw(fake) as http:
        url = _signed_png(http, "a.png")
        put = http.put(url, content=picture, headers={"Content-Type": "image/png ; q=1"})
    assert put.status_code == 200


def test_a_signed_upload_url_expires_at_its_fifteenth_minute(
    fake: FakePictograph, tmp_path: Path
) -> None:
    picture = write_image(tmp_path / "a.png").read_bytes()
    with raw(fake) as http:
        early, late = _signed_png(http, "a.png"), _signed_png(http, "b.png")
        fake.clock.advance(seconds=15 * 60 - 1)
        taken = http.put(early, content=picture, headers={"Content-Type": "image/png"})
        fake.clock.advance(seconds=1)
        expired = http.put(late, content=picture, headers={"Content-Type": "image/png"})
    assert taken.status_code == 200
    assert expired.status_code == 403
    assert b"<Code>AccessDenied</Code><Message>Request has expired.</Message>" in expired.content


@pytest.mark.parametrize("sent", ["text/plain", "text/html&<b>"])
def test_storage_refuses_another_content_type_in_well_formed_xml(
    fake: FakePictograph, sent: str
) -> None:
    from xml.etree import ElementTree

    with raw(fake) as http:
        signed = http.post(
            f"{DEV}/images/upload-url",
            json={"dataset": DATASET, "filename": "a.png", "content_type": "image/png"},
        ).json()["data"]
        put = http.put(signed["upload_url"], content=b"x", headers={"Content-Type": sent})
    assert put.status_code == 403
    assert put.headers["content-type"] == "application/xml"
    error = ElementTree.fromstring(put.content)
    assert error.findtext("Code") == "SignatureDoesNotMatch"
    assert error.findtext("Message") == (
        f"Content-Type '{sent}' does not match the signed 'image/png'."
    )


# ── rules a mutation round of the image service found no test holding ──


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("filename", ".."),
        ("filename", "."),
        ("filename", "..\\evil.png"),
        ("filename", "a\x00b.png"),
        ("filename", "tab\there.png"),
        ("content_type", "image/"),
        ("content_type", "imagery/png"),
    ],
)
def test_upload_url_refuses_names_no_file_system_takes(
    fake: FakePictograph, field: str, value: str
) -> None:
    # The SDK derives both from the path it uploads, so only a hand-made body sends these.
    body = {"dataset": DATASET, "filename": "a.png", "content_type": "image/png", field: value}
    before = world_state(fake)
    with raw(fake) as http:
        response = http.post(f"{DEV}/images/upload-url", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["details"]["errors"][0]["loc"] == ["body", field]
    assert repr(value) in error["message"] or f"'{value}'" in error["message"]
    assert world_state(fake) == before


def test_a_listing_with_archived_images_still_filters_by_stage(
    client: pictograph.Client, tmp_path: Path
) -> None:
    done = client.images.list(DATASET, status="complete", limit=1)[0]
    fresh = client.images.upload(DATASET, write_image(tmp_path / "a.png"))
    client.batch.delete(DATASET, [done.id, fresh.id])
    complete = client.images.list(DATASET, status="complete", include_archived=True, limit=50)
    assert len(complete) == 12
    assert {i.status for i in complete} == {"complete"}
    assert done.id in {i.id for i in complete}
    new = client.images.list(DATASET, status="new", include_archived=True, limit=50)
    assert fresh.id in {i.id for i in new}
    assert {i.status for i in new} == {"new"}


def test_min_confidence_lt_leaves_out_images_without_annotations(
    client: pictograph.Client, tmp_path: Path
) -> None:
    from pictograph import BBoxAnnotation, BoundingBox

    bare = client.images.upload(DATASET, write_image(tmp_path / "bare.png"))
    assert bare.min_confidence is None
    unsure = client.images.upload(DATASET, write_image(tmp_path / "unsure.png"))
    box = BoundingBox(x=1, y=1, w=5, h=5)
    client.annotations.save(
        DATASET, unsure.id, [BBoxAnnotation(name="yield", bounding_box=box, confidence=0.4)]
    )
    listed = client.images.list(DATASET, min_confidence_lt=0.99, limit=50)
    assert [i.id for i in listed] == [unsure.id]


def test_a_name_in_two_folders_lists_newest_first(
    client: pictograph.Client, tmp_path: Path
) -> None:
    # The first folder to hold the name is the older image: the list is not in the
    # order the folders took the name.
    path = write_image(tmp_path / "twice.png")
    older = client.images.upload(DATASET, path, directory_path="/a")
    newer = client.images.upload(DATASET, path, directory_path="/b")
    assert [i.id for i in client.images.list(DATASET, filename="twice.png")] == [
        newer.id,
        older.id,
    ]


def test_a_directory_listing_is_newest_first(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    made = []
    for name in ("c.png", "a.png", "b.png"):
        made.append(
            client.images.upload(DATASET, write_image(tmp_path / name), directory_path="/x")
        )
        fake.clock.advance(seconds=1)
    listed = client.images.list(DATASET, directory_path="/x")
    assert [i.id for i in listed] == [i.id for i in reversed(made)]


def test_archiving_a_complete_image_takes_it_off_the_datasets_counts(
    client: pictograph.Client,
) -> None:
    before = client.datasets.get(DATASET)
    done = client.images.list(DATASET, status="complete", limit=1)[0]
    client.images.delete(DATASET, done.id)
    archived = client.datasets.get(DATASET)
    assert (archived.image_count, archived.completed_image_count) == (19, 11)
    assert archived.archived_image_count == 1
    assert archived.total_size == before.total_size - done.file_size
    client.batch.update(DATASET, [done.id], is_archived=False)
    restored = client.datasets.get(DATASET)
    assert (restored.image_count, restored.completed_image_count) == (20, 12)
    assert (restored.archived_image_count, restored.total_size) == (0, before.total_size)


async def test_async_archiving_a_complete_image_takes_it_off_the_counts(
    aclient: pictograph.AsyncClient,
) -> None:
    before = await aclient.datasets.get(DATASET)
    done = (await aclient.images.list(DATASET, status="complete", limit=1))[0]
    await aclient.images.delete(DATASET, done.id)
    after = await aclient.datasets.get(DATASET)
    assert after.completed_image_count == before.completed_image_count - 1
    assert after.total_size == before.total_size - done.file_size


def test_a_shared_file_leaves_the_plans_storage_with_its_last_image(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    def stored() -> int:
        return client.connectors.check_limits(
            total_images=0, estimated_size_bytes=0
        ).current_storage_bytes

    fake.add_dataset("target")
    image = client.images.list(DATASET, limit=1)[0]
    before = stored()
    result = client.batch.copy_to_dataset(DATASET, [image.id], "target")
    assert result.processed == 1
    (copy,) = client.images.list("target")
    assert stored() == before  # one file, counted once
    client.images.delete(DATASET, image.id, permanent=True)
    assert stored() == before  # the copy still holds it
    client.images.delete("target", copy.id, permanent=True)
    assert stored() == before - image.file_size


def test_bytes_by_id_take_an_upper_case_id_and_stay_in_their_organization(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    image = client.images.list(DATASET, limit=1)[0]
    other = fake.add_organization()
    with raw(fake) as http, raw(fake, other.api_key) as stranger:
        own = http.get(f"{DEV}/images/{image.id}")
        upper = http.get(f"{DEV}/images/{image.id.upper()}")
        theirs = stranger.get(f"{DEV}/images/{image.id}")
    assert own.status_code == upper.status_code == 200
    assert upper.content == own.content
    # Another organization's image is a 404 to it, never a 403.
    assert theirs.status_code == 404
    assert image.id in theirs.json()["error"]["message"]


def test_a_generated_image_reports_the_length_it_downloads_as(fake: FakePictograph) -> None:
    # The seeded images have no uploaded bytes: their file_size is the drawn file's.
    with raw(fake) as http:
        listed = http.get(f"{DEV}/images/", params={"dataset": DATASET, "limit": 3}).json()
        for image in listed["data"]:
            served = http.get(f"{DEV}/images/{image['id']}")
            assert served.headers["content-type"] == "image/jpeg"
            assert len(served.content) == image["file_size"]


def test_register_after_a_signed_url_but_no_put_is_404(fake: FakePictograph) -> None:
    body = {"dataset": DATASET, "filename": "late.png", "content_type": "image/png"}
    with raw(fake) as http:
        signed = http.post(f"{DEV}/images/upload-url", json=body)
        assert signed.status_code == 200
        before = world_state(fake)
        response = http.post(f"{DEV}/images/register", json=body)
    assert response.status_code == 404
    assert "PUT the file to the upload_url" in response.json()["error"]["message"]
    assert world_state(fake) == before


def test_a_file_that_is_no_image_fails_alone_in_a_bulk_upload(
    client: pictograph.Client, tmp_path: Path
) -> None:
    good = write_image(tmp_path / "good.png")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not really a jpeg")
    result = client.images.bulk_upload(DATASET, [good, broken])
    assert result.count == 1
    assert [i.filename for i in result.succeeded] == ["good.png"]
    assert [f.filename for f in result.failed] == ["broken.jpg"]
    assert client.images.list(DATASET, filename="broken.jpg") == []


def test_review_moves_the_completed_count_and_nothing_else(client: pictograph.Client) -> None:
    image = client.images.list(DATASET, status="new", limit=1)[0]
    client.images.review(DATASET, image.id, "approve")
    approved = client.datasets.get(DATASET)
    assert (approved.image_count, approved.completed_image_count) == (20, 13)
    assert image.id in {i.id for i in client.images.list(DATASET, status="complete", limit=50)}
    client.images.review(DATASET, image.id, "request_changes")
    sent_back = client.datasets.get(DATASET)
    assert (sent_back.image_count, sent_back.completed_image_count) == (20, 12)
    assert [i.id for i in client.images.list(DATASET, status="annotate")] == [image.id]
    assert image.id not in {i.id for i in client.images.list(DATASET, status="complete", limit=50)}


def test_assign_splits_floors_val_and_test_and_lists_what_it_reports(
    client: pictograph.Client,
) -> None:
    # 20 images at 34/33/33: val and test take 6 each (6.6 floored), train the other 8.
    counts = client.images.assign_splits(DATASET, train=34, val=33, test=33, seed=7)
    assert [counts[k] for k in ("processed", "train", "val", "test")] == [20, 8, 6, 6]
    sizes: list[tuple[Any, int]] = [("train", 8), ("val", 6), ("test", 6)]
    for split, expected in sizes:
        assert len(client.images.list(DATASET, split=split, limit=50)) == expected


async def test_async_assign_splits_floors_val_and_test(aclient: pictograph.AsyncClient) -> None:
    counts = await aclient.images.assign_splits(DATASET, train=34, val=33, test=33)
    assert [counts[k] for k in ("train", "val", "test")] == [8, 6, 6]
    assert len(await aclient.images.list(DATASET, split="train", limit=50)) == 8


def test_an_archived_images_name_is_taken_and_the_conflict_says_how_to_restore_it(
    client: pictograph.Client, tmp_path: Path
) -> None:
    path = write_image(tmp_path / "kept.png")
    image = client.images.upload(DATASET, path)
    client.images.delete(DATASET, image.id)
    with pytest.raises(ConflictError) as refused:
        client.images.upload(DATASET, path)
    assert "(archived: restore it with batch.update(is_archived=False))" in refused.value.message


@pytest.mark.parametrize("name", [".", "..", " ", "a/b", "a\\b"])
def test_a_directory_is_not_renamed_to_a_name_no_path_takes(
    fake: FakePictograph, client: pictograph.Client, name: str
) -> None:
    client.directories.create(DATASET, "/a")
    before = world_state(fake)
    with pytest.raises(ValidationError) as refused:
        client.directories.rename(DATASET, "/a", name)
    assert "Invalid directory name" in refused.value.message
    assert world_state(fake) == before


def test_metadata_by_id_takes_an_upper_case_id_and_stays_in_its_organization(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    image = client.images.list(DATASET, limit=1)[0]
    assert client.images.get(DATASET, image.id.upper()) == image
    other = fake.add_organization()
    with raw(fake, other.api_key) as stranger:
        theirs = stranger.get(f"{DEV}/images/{image.id}/metadata")
    assert theirs.status_code == 404
    assert theirs.json()["error"]["message"] == f"Image '{image.id}' not found"


def test_register_refuses_more_pixels_than_an_image_file_holds(fake: FakePictograph) -> None:
    body = {
        "dataset": DATASET,
        "filename": "huge.png",
        "content_type": "image/png",
        "width": 16_384,
        "height": 16_384,
    }
    before = world_state(fake)
    with raw(fake) as http:
        response = http.post(f"{DEV}/images/register", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert "16384x16384 holds more than 178,956,970 pixels" in error["message"]
    assert error["details"]["errors"][0]["loc"] == ["body", "width"]
    assert world_state(fake) == before
    # Exactly the bound (12,470 x 14,351) is a size a file may have: what refuses it
    # then is that no bytes were put.
    with raw(fake) as http:
        at_bound = http.post(
            f"{DEV}/images/register", json={**body, "width": 12_470, "height": 14_351}
        )
    assert at_bound.status_code == 404, at_bound.text


def test_a_bad_entry_of_a_bulk_upload_is_named_by_its_place(fake: FakePictograph) -> None:
    entries = [
        {"filename": "a.png", "content_type": "image/png"},
        {"filename": "..", "content_type": "image/png"},
    ]
    with raw(fake) as http:
        response = http.post(
            f"{DEV}/images/bulk-upload-url", json={"dataset": DATASET, "images": entries}
        )
    assert response.status_code == 422
    assert response.json()["error"]["details"]["errors"][0]["loc"] == [
        "body",
        "images",
        1,
        "filename",
    ]


def test_assign_splits_defaults_are_the_sdks(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # A body with the dataset alone splits 70/20/10 under seed 42, as the SDK's defaults.
    dataset_id = client.datasets.get(DATASET).id
    with raw(fake) as http:
        bare = http.post(f"{DEV}/images/assign-splits", json={"dataset": DATASET}).json()["data"]
    by_split = {i.id: i.split for i in client.images.iter(DATASET)}
    assert bare == {"dataset": dataset_id, "processed": 20, "train": 14, "val": 4, "test": 2}
    assert client.images.assign_splits(DATASET)["train"] == 14
    assert {i.id: i.split for i in client.images.iter(DATASET)} == by_split


def test_bulk_tag_adds_unless_told_not_to(fake: FakePictograph, client: pictograph.Client) -> None:
    image = client.images.list(DATASET, limit=1)[0]
    body = {"dataset": DATASET, "image_ids": [image.id], "tags": ["sunny"]}
    with raw(fake) as http:
        added = http.post(f"{DEV}/images/bulk-tag", json=body).json()["data"]
    assert added == {"processed": 1, "tags": ["sunny"], "added": True}
    assert "sunny" in client.images.get(DATASET, image.id).tags


def test_bulk_urls_expire_in_15_minutes_and_count_only_what_registered(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    taken = client.images.list(DATASET, limit=1)[0].filename
    entries = [
        {"filename": "new.png", "content_type": "image/png"},
        {"filename": taken, "content_type": "image/jpeg"},
    ]
    with raw(fake) as http:
        signed = http.post(
            f"{DEV}/images/bulk-upload-url", json={"dataset": DATASET, "images": entries}
        ).json()["data"]
        assert signed["expires_in_minutes"] == 15
        url = signed["upload_urls"][0]["upload_url"]
        png = io.BytesIO()
        PILImage.new("RGB", (8, 8)).save(png, format="PNG")
        http.put(url, content=png.getvalue(), headers={"content-type": "image/png"})
        result = http.post(
            f"{DEV}/images/bulk-register", json={"dataset": DATASET, "images": entries}
        ).json()["data"]
    assert result["count"] == len(result["succeeded"]) == 1
    assert [f["filename"] for f in result["failed"]] == [taken]


def test_bulk_tag_reports_a_removal(fake: FakePictograph) -> None:
    image_id = next(iter(fake.world.images))
    body = {"dataset": DATASET, "image_ids": [image_id], "tags": ["x"], "add": False}
    with raw(fake) as http:
        removed = http.post(f"{DEV}/images/bulk-tag", json=body).json()["data"]
    assert removed == {"processed": 1, "tags": ["x"], "added": False}


def test_an_image_called_like_a_routes_suffix_is_served_as_itself(
    client: pictograph.Client, tmp_path: Path
) -> None:
    # `images/{ds}/d/metadata` is the bytes of the image `/d/metadata`, not the
    # metadata of an image `/d`.
    path = write_image(tmp_path / "m.png")
    client.images.upload(
        DATASET, path, filename="metadata", directory_path="/d", content_type="image/png"
    )
    out = client.images.download(DATASET, "d/metadata", tmp_path / "out.png")
    assert out.read_bytes() == path.read_bytes()


def test_a_permanent_delete_says_so(fake: FakePictograph) -> None:
    image = next(iter(fake.world.images.values()))
    with raw(fake) as http:
        response = http.delete(
            f"{DEV}/images/{DATASET}/{image.filename}", params={"permanent": "true"}
        )
    assert response.json() == {"success": True, "message": "Image permanently deleted"}


def test_review_and_split_answer_for_the_image_as_addressed(fake: FakePictograph) -> None:
    image = next(iter(fake.world.images.values()))
    at = f"{DEV}/images/{DATASET}/{image.filename}"
    with raw(fake) as http:
        approved = http.post(f"{at}/review", json={"action": "approve", "note": "ok"})
        sent_back = http.post(f"{at}/review", json={"action": "request_changes", "note": "redo"})
        split = http.post(f"{at}/split", json={"split": "val"})
    assert approved.json()["data"] == {
        "id": image.filename,
        "status": "complete",
        "review_note": None,
        "processed": 1,
    }
    assert sent_back.json()["data"]["review_note"] == "redo"
    assert split.json()["data"] == {"id": image.filename, "split": "val", "processed": 1}
