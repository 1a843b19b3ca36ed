"""Directories through the real SDK: made by uploads and by create, listed, nested,
counted, renamed (images follow) and deleted (images move up with cascade)."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import httpx
import pytest
from pictograph.exceptions import (
    ApiError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ValidationError,
)

from tests.conftest import DATASET
from tests.image_files import world_state

if TYPE_CHECKING:
    from pathlib import Path

    import pictograph

    from pictograph_testing import FakePictograph

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def _move(client: pictograph.Client, count: int, target: str) -> list[str]:
    """Move ``count`` of the root's images to ``target``; their ids."""
    chosen = [i.id for i in client.images.list(DATASET, directory_path="/", limit=count)]
    client.batch.move(DATASET, chosen, target_directory_path=target)
    return chosen


def _paths(client: pictograph.Client) -> list[str]:
    return [d.full_path for d in client.directories.list(DATASET)]


def test_uploads_and_moves_make_directories_with_their_parents(
    client: pictograph.Client, tmp_path: Path
) -> None:
    assert client.directories.list(DATASET) == []  # root images make none
    (tmp_path / "a.png").write_bytes(_png())
    client.images.upload(DATASET, tmp_path / "a.png", directory_path="/cam/left")
    _move(client, 2, "/val")
    listed = client.directories.list(DATASET)
    assert [(d.full_path, d.name, d.image_count, d.nested_image_count) for d in listed] == [
        ("/cam", "cam", 0, 1),
        ("/cam/left", "left", 1, 1),
        ("/val", "val", 2, 2),
    ]
    cam, left, _ = listed
    assert (cam.parent_directory_id, left.parent_directory_id) == (None, cam.id)
    dataset = client.datasets.get(DATASET)
    assert {d.dataset_id for d in listed} == {dataset.id}
    assert [d.full_path for d in client.directories.list(DATASET, parent_path="")] == [
        "/cam",
        "/val",
    ]
    assert [d.name for d in client.directories.list(DATASET, parent_path="/cam")] == ["left"]
    assert client.directories.list(DATASET, parent_path="/nowhere") == []


def test_create_is_idempotent_and_makes_the_parents(client: pictograph.Client) -> None:
    made = client.directories.create(DATASET, "/train/positive")
    assert (made.full_path, made.name, made.image_count) == ("/train/positive", "positive", 0)
    again = client.directories.create(DATASET, "train/positive/")
    assert again.id == made.id
    assert client.directories.create(DATASET, "train//positive/").full_path == "/train/positive"
    assert _paths(client) == ["/train", "/train/positive"]
    [train] = client.directories.tree(DATASET)
    assert (train.full_path, [c.full_path for c in train.children]) == (
        "/train",
        ["/train/positive"],
    )
    # Images moved into a directory made by hand land in that directory.
    _move(client, 3, "/train/positive")
    assert client.directories.create(DATASET, "/train/positive").image_count == 3


def test_the_tree_nests_children_by_name(client: pictograph.Client) -> None:
    for path in ("/b", "/a/z", "/a/y", "/a-b"):
        client.directories.create(DATASET, path)
    _move(client, 2, "/a/z")
    tree = client.directories.tree(DATASET)
    assert [n.full_path for n in tree] == ["/a", "/a-b", "/b"]
    a = tree[0]
    assert [c.name for c in a.children] == ["y", "z"]
    assert (a.image_count, a.nested_image_count) == (0, 2)
    assert (a.children[1].image_count, a.children[1].nested_image_count) == (2, 2)
    # The flat list is in the same order: each directory, then what is inside it.
    assert _paths(client) == ["/a", "/a/y", "/a/z", "/a-b", "/b"]


def test_stats_count_images_by_stage_with_or_without_subdirectories(
    client: pictograph.Client,
) -> None:
    complete = [i.id for i in client.images.list(DATASET, status="complete", limit=3)]
    new = [i.id for i in client.images.list(DATASET, status="new", limit=2)]
    client.batch.move(DATASET, complete, target_directory_path="/train")
    client.batch.move(DATASET, new, target_directory_path="/train/hard")
    client.batch.update(DATASET, new[:1], is_archived=True)  # archived: not counted
    size = sum(i.file_size for i in client.images.list(DATASET, directory_path="/train"))
    nested = client.directories.stats(DATASET, "/train")
    assert (nested.total_directories, nested.total_images) == (2, 4)
    assert nested.directories_by_status == {"new": 1, "complete": 3}
    hard = client.images.list(DATASET, directory_path="/train/hard")[0].file_size
    assert nested.total_size_bytes == size + hard
    flat = client.directories.stats(DATASET, "/train", include_subdirectories=False)
    assert (flat.total_directories, flat.total_images, flat.total_size_bytes) == (1, 3, size)
    assert flat.directories_by_status == {"complete": 3}
    first = client.images.list(DATASET, directory_path="/train")[0]
    client.images.review(DATASET, first.id, "request_changes")
    after = client.directories.stats(DATASET, "/train", include_subdirectories=False)
    assert after.directories_by_status == {"annotate": 1, "complete": 2}


def test_rename_moves_the_subtree_and_its_images_in_one_step(
    client: pictograph.Client, tmp_path: Path
) -> None:
    moved = _move(client, 2, "/train/cars")
    client.directories.create(DATASET, "/train/empty")
    before = {d.full_path: d.id for d in client.directories.list(DATASET)}
    renamed = client.directories.rename(DATASET, "/train", "val")
    assert (renamed.full_path, renamed.name, renamed.id) == ("/val", "val", before["/train"])
    assert renamed.nested_image_count == 2
    after = {d.full_path: d.id for d in client.directories.list(DATASET)}
    assert after == {
        "/val": before["/train"],
        "/val/cars": before["/train/cars"],
        "/val/empty": before["/train/empty"],
    }
    # Images are found at their new paths, and no longer at the old ones.
    listed = client.images.list(DATASET, directory_path="/val/cars")
    assert sorted(i.id for i in listed) == sorted(moved)
    assert client.images.list(DATASET, directory_path="/train/cars") == []
    name = listed[0].filename
    assert client.images.get(DATASET, name).directory_path == "/val/cars"
    client.annotations.get(DATASET, f"val/cars/{name}")  # the per-image routes find it
    with pytest.raises(NotFoundError):
        client.annotations.get(DATASET, f"train/cars/{name}")
    # An export made afterwards names the new paths.
    client.batch.update(DATASET, moved, status="complete")
    client.exports.create(DATASET, "after-rename", status_filter="complete")
    out = client.exports.download(DATASET, "after-rename", tmp_path / "e.zip")
    names = zipfile.ZipFile(out).namelist()
    assert f"annotations/val/cars/{name}.json" in names
    assert not any("train/cars" in n for n in names)
    with pytest.raises(NotFoundError, match="Directory '/train' not found"):
        client.directories.stats(DATASET, "/train")


def test_rename_refuses_a_taken_name_and_a_path(client: pictograph.Client) -> None:
    _move(client, 1, "/train")
    client.directories.create(DATASET, "/val")
    with pytest.raises(
        ConflictError,
        match="Directory '/val' already exists in dataset 'road-signs': choose another name, "
        "or delete that directory first",
    ):
        client.directories.rename(DATASET, "/train", "val")
    for bad in ("a/b", "..", " ", "a\\b"):
        with pytest.raises(ValidationError, match="one path segment"):
            client.directories.rename(DATASET, "/train", bad)
    assert _paths(client) == ["/train", "/val"]
    assert client.directories.rename(DATASET, "/train", "train").full_path == "/train"


def test_delete_refuses_subdirectories_and_images_without_cascade(
    client: pictograph.Client,
) -> None:
    _move(client, 2, "/a/b")
    with pytest.raises(ApiError, match="has subdirectories") as refused:
        client.directories.delete(DATASET, "/a")
    assert refused.value.status_code == 400
    with pytest.raises(ApiError, match="holds 2 image") as refused:
        client.directories.delete(DATASET, "/a/b")
    assert refused.value.status_code == 400
    assert _paths(client) == ["/a", "/a/b"]
    client.directories.create(DATASET, "/empty")
    client.directories.delete(DATASET, "/empty")
    assert _paths(client) == ["/a", "/a/b"]


def test_cascade_moves_the_images_to_the_parent(client: pictograph.Client) -> None:
    moved = _move(client, 2, "/a/b")
    client.directories.delete(DATASET, "/a/b", cascade=True)
    assert _paths(client) == ["/a"]
    assert sorted(i.id for i in client.images.list(DATASET, directory_path="/a")) == sorted(moved)
    client.directories.delete(DATASET, "/a", cascade=True)  # to the root
    assert client.directories.list(DATASET) == []
    root = {i.id for i in client.images.list(DATASET, directory_path="/", limit=100)}
    assert set(moved) <= root


def test_a_cascade_that_would_collide_changes_nothing(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    [image] = client.images.list(DATASET, directory_path="/", limit=1)
    client.batch.copy(DATASET, [image.id], target_directory_path="/dup")  # same filename
    with pytest.raises(ConflictError, match=f"'{image.filename}' already exists there"):
        client.directories.delete(DATASET, "/dup", cascade=True)
    assert _paths(client) == ["/dup"]
    assert [i.filename for i in client.images.list(DATASET, directory_path="/dup")] == [
        image.filename
    ]


def test_unknown_dataset_directory_and_another_organization_are_404(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    with pytest.raises(NotFoundError, match="Dataset 'nope' not found"):
        client.directories.list("nope")
    with pytest.raises(NotFoundError, match="Directory '/ghost' not found"):
        client.directories.delete(DATASET, "/ghost")
    with pytest.raises(NotFoundError, match="Directory '/ghost' not found"):
        client.directories.rename(DATASET, "/ghost", "x")
    client.directories.create(DATASET, "/mine")
    rival = fake.add_organization(name="Rival Labs")
    with rival.client(max_retries=0) as other:
        for call in (
            lambda: other.directories.list(DATASET),
            lambda: other.directories.tree(DATASET),
            lambda: other.directories.stats(DATASET, "/mine"),
            lambda: other.directories.delete(DATASET, "/mine"),
            lambda: other.directories.create(DATASET, "/theirs"),
        ):
            with pytest.raises(NotFoundError, match=f"Dataset '{DATASET}' not found"):
                call()
    assert not fake.unserved_calls
    assert _paths(client) == ["/mine"]


def test_a_viewer_reads_but_cannot_change(fake: FakePictograph, client: pictograph.Client) -> None:
    client.directories.create(DATASET, "/train")
    with fake.client(api_key=fake.add_api_key("viewer"), max_retries=0) as viewer:
        assert [d.full_path for d in viewer.directories.list(DATASET)] == ["/train"]
        for call in (
            lambda: viewer.directories.create(DATASET, "/val"),
            lambda: viewer.directories.rename(DATASET, "/train", "val"),
            lambda: viewer.directories.delete(DATASET, "/train"),
        ):
            with pytest.raises(ForbiddenError):
                call()
    assert _paths(client) == ["/train"]


@pytest.mark.parametrize("root", ["/", ""])
def test_the_root_is_no_directory_to_count_rename_or_delete(
    fake: FakePictograph, client: pictograph.Client, root: str
) -> None:
    for call in (
        lambda: client.directories.stats(DATASET, root),
        lambda: client.directories.rename(DATASET, root, "x"),
        lambda: client.directories.delete(DATASET, root, cascade=True),
    ):
        with pytest.raises(NotFoundError, match="No route") as refused:
            call()
        assert refused.value.code == "not_found"
    assert not fake.unserved_calls
    assert len(client.images.list(DATASET, directory_path="/", limit=100)) == 20


def test_create_refuses_the_root_and_dot_segments(client: pictograph.Client) -> None:
    with pytest.raises(ValidationError, match="the root is the dataset itself"):
        client.directories.create(DATASET, "/")
    with pytest.raises(ValidationError, match=r"'\.\.' and blank names are not"):
        client.directories.create(DATASET, "/a/../b")
    assert client.directories.list(DATASET) == []


@pytest.mark.parametrize("path", ["/train/   ", "/ ", "/a/\u3000/b"])
def test_a_blank_directory_name_is_refused_wherever_a_path_is_taken(
    fake: FakePictograph, client: pictograph.Client, path: str
) -> None:
    """A blank name is no name for `rename`; nor is it in a path to create or move to."""
    before = world_state(fake)
    with pytest.raises(ValidationError, match="blank names are not directory names"):
        client.directories.create(DATASET, path)
    chosen = [i.id for i in client.images.list(DATASET, limit=2)]
    with pytest.raises(ValidationError, match="blank names are not directory names"):
        client.batch.move(DATASET, chosen, target_directory_path=path)
    assert world_state(fake) == before


async def test_async_a_blank_directory_name_is_refused(aclient: pictograph.AsyncClient) -> None:
    with pytest.raises(ValidationError, match="blank names are not directory names"):
        await aclient.directories.create(DATASET, "/train/   ")
    assert await aclient.directories.list(DATASET) == []


def test_dataset_delete_counts_every_directory(client: pictograph.Client) -> None:
    client.directories.create(DATASET, "/empty/inner")
    _move(client, 1, "/full")
    assert client.datasets.delete(DATASET)["directories_deleted"] == 3


def test_a_snapshot_keeps_empty_and_renamed_directories(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    from pictograph_testing import FakePictograph

    _move(client, 1, "/train/cars")
    client.directories.create(DATASET, "/empty")
    client.directories.rename(DATASET, "/train", "val")
    listed = client.directories.list(DATASET)
    with FakePictograph(scenario=fake.snapshot()) as again, again.client() as restored:
        assert restored.directories.list(DATASET) == listed


async def test_async_directories(fake: FakePictograph, aclient: pictograph.AsyncClient) -> None:
    made = await aclient.directories.create(DATASET, "/train/cars")
    chosen = [i.id for i in await aclient.images.list(DATASET, limit=2)]
    await aclient.batch.move(DATASET, chosen, target_directory_path="/train/cars")
    assert [d.full_path for d in await aclient.directories.list(DATASET)] == [
        "/train",
        "/train/cars",
    ]
    [train] = await aclient.directories.tree(DATASET)
    assert train.children[0].id == made.id
    assert (await aclient.directories.stats(DATASET, "/train")).total_images == 2
    renamed = await aclient.directories.rename(DATASET, "/train/cars", "trucks")
    assert renamed.full_path == "/train/trucks"
    await aclient.directories.create(DATASET, "/train/vans")
    with pytest.raises(ConflictError):
        await aclient.directories.rename(DATASET, "/train/trucks", "vans")
    await aclient.directories.delete(DATASET, "/train/trucks", cascade=True)
    moved = await aclient.images.list(DATASET, directory_path="/train")
    assert sorted(i.id for i in moved) == sorted(chosen)
    assert not fake.unserved_calls


def test_stats_sum_each_stage_over_the_subtree_in_stage_order(
    client: pictograph.Client,
) -> None:
    complete = [i.id for i in client.images.list(DATASET, status="complete", limit=4)]
    new = [i.id for i in client.images.list(DATASET, status="new", limit=2)]
    # Each directory holds images of both stages, the later stage filed first.
    for target, chosen in (
        ("/train", complete[:2] + new[:1]),
        ("/train/hard", complete[2:] + new[1:]),
    ):
        client.batch.move(DATASET, chosen[:-1], target_directory_path=target)
        client.batch.move(DATASET, chosen[-1:], target_directory_path=target)
    nested = client.directories.stats(DATASET, "/train")
    assert (nested.total_directories, nested.total_images) == (2, 6)
    assert list(nested.directories_by_status.items()) == [("new", 2), ("complete", 4)]
    flat = client.directories.stats(DATASET, "/train", include_subdirectories=False)
    assert list(flat.directories_by_status.items()) == [("new", 1), ("complete", 2)]


def test_a_sibling_whose_name_extends_the_directory_is_not_inside_it(
    client: pictograph.Client,
) -> None:
    """``/a-b`` starts with ``/a`` but is no part of ``/a``: not counted, renamed or
    refused with it."""
    mine = _move(client, 1, "/a")
    theirs = _move(client, 2, "/a-b")
    stats = client.directories.stats(DATASET, "/a")
    assert (stats.total_directories, stats.total_images) == (1, 1)
    client.directories.rename(DATASET, "/a", "c")
    assert _paths(client) == ["/a-b", "/c"]
    client.directories.delete(DATASET, "/c", cascade=True)
    assert _paths(client) == ["/a-b"]
    kept = client.images.list(DATASET, directory_path="/a-b")
    assert sorted(i.id for i in kept) == sorted(theirs)
    root = {i.id for i in client.images.list(DATASET, directory_path="/", limit=100)}
    assert set(mine) <= root


def test_counts_leave_archived_images_out_and_roll_up_every_level(
    client: pictograph.Client,
) -> None:
    deepest = _move(client, 2, "/a/b/c")
    _move(client, 1, "/a/b")
    _move(client, 1, "/a")
    client.batch.update(DATASET, deepest[:1], is_archived=True)
    expected = [("/a", 1, 3), ("/a/b", 1, 2), ("/a/b/c", 1, 1)]
    listed = client.directories.list(DATASET)
    assert [(d.full_path, d.image_count, d.nested_image_count) for d in listed] == expected
    [a] = client.directories.tree(DATASET)
    [b] = a.children
    [c] = b.children
    nodes = [(n.full_path, n.image_count, n.nested_image_count) for n in (a, b, c)]
    assert nodes == expected


def test_images_moved_out_leave_their_directory_empty(client: pictograph.Client) -> None:
    chosen = _move(client, 2, "/a")
    client.batch.move(DATASET, chosen, target_directory_path="/b")
    client.directories.delete(DATASET, "/a")  # empty now: no cascade needed
    assert _paths(client) == ["/b"]
    with pytest.raises(ApiError, match="holds 2 image"):
        client.directories.delete(DATASET, "/b")


def test_a_directory_keeps_its_creator_and_times(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.clock.advance(seconds=30)
    made = client.directories.create(DATASET, "/train/cars")
    assert made.created_by == fake.world.api_keys[fake.api_key].created_by
    assert made.organization_id == fake.world.default_org.id
    assert made.created_at is not None
    assert made.created_at == datetime(2026, 5, 12, 12, 0, 30, tzinfo=timezone.utc)
    assert made.updated_at == made.created_at
    _move(client, 1, "/val")  # made by a move: no creator
    [val] = [d for d in client.directories.list(DATASET) if d.full_path == "/val"]
    assert val.created_by is None
    fake.clock.advance(seconds=60)
    renamed = client.directories.rename(DATASET, "/train", "test")
    assert renamed.created_at == made.created_at
    assert renamed.updated_at == made.created_at + timedelta(seconds=60)
    # Its subdirectories moved with it, a change of theirs too.
    [cars] = client.directories.list(DATASET, parent_path="/test")
    assert (cars.id, cars.created_at) == (made.id, made.created_at)
    assert cars.updated_at == renamed.updated_at


def test_a_refused_delete_names_five_subdirectories_then_how_many_more(
    client: pictograph.Client,
) -> None:
    for path in ("/a/b/c", "/a/d", "/a/e", "/a/f", "/a/g", "/a/h"):
        client.directories.create(DATASET, path)
    nested = "'/a/b', '/a/b/c', '/a/d', '/a/e', '/a/f' and 2 more"
    with pytest.raises(ApiError, match=f"Directory '/a' has subdirectories \\({nested}\\): "):
        client.directories.delete(DATASET, "/a")
    for name in "12345":
        client.directories.create(DATASET, f"/z/{name}")
    five = "'/z/1', '/z/2', '/z/3', '/z/4', '/z/5'"
    with pytest.raises(ApiError, match=f"Directory '/z' has subdirectories \\({five}\\): "):
        client.directories.delete(DATASET, "/z")


def test_a_refused_cascade_names_five_taken_names_in_order_then_how_many_more(
    client: pictograph.Client,
) -> None:
    images = client.images.list(DATASET, directory_path="/", limit=7)
    chosen = sorted(images, key=lambda i: i.filename, reverse=True)
    client.batch.copy(DATASET, [i.id for i in chosen], target_directory_path="/dup")
    names = ", ".join(f"'{n}'" for n in sorted(i.filename for i in images)[:5])
    with pytest.raises(ConflictError, match=f"an image named {names} and 2 more already exists"):
        client.directories.delete(DATASET, "/dup", cascade=True)
    assert len(client.images.list(DATASET, directory_path="/dup")) == 7


async def test_async_counts_roll_up_every_level_and_stages_keep_their_order(
    aclient: pictograph.AsyncClient,
) -> None:
    complete = [i.id for i in await aclient.images.list(DATASET, status="complete", limit=2)]
    new = [i.id for i in await aclient.images.list(DATASET, status="new", limit=1)]
    await aclient.batch.move(DATASET, complete, target_directory_path="/a/b/c")
    await aclient.batch.move(DATASET, new, target_directory_path="/a/b/c")
    await aclient.batch.update(DATASET, complete[:1], is_archived=True)
    listed = await aclient.directories.list(DATASET)
    assert [(d.full_path, d.image_count, d.nested_image_count) for d in listed] == [
        ("/a", 0, 2),
        ("/a/b", 0, 2),
        ("/a/b/c", 2, 2),
    ]
    stats = await aclient.directories.stats(DATASET, "/a")
    assert list(stats.directories_by_status.items()) == [("new", 1), ("complete", 1)]


def test_saved_generations_are_each_datasets_own() -> None:
    from pictograph_testing import FakePictograph

    with FakePictograph(seed=1) as fake:
        client = fake.client()
        for dataset, path in (("birds", "/night"), ("cats", "/day")):
            client.datasets.create(dataset)
            client.directories.create(dataset, path)
        document = fake.snapshot()
    kept = {d["name"]: d["directory_generations"] for d in document["datasets"]}
    assert kept == {"birds": {"/night": 1}, "cats": {"/day": 1}}


def test_create_refuses_a_blank_dataset_name(client: pictograph.Client) -> None:
    with pytest.raises(ValidationError):
        client.directories.create("", "/train")
    assert client.directories.list(DATASET) == []


# ── the releases that called paths the API never had ──


def _http(fake: FakePictograph, agent: str) -> httpx.Client:
    headers = {"X-API-Key": fake.api_key, "User-Agent": agent}
    return httpx.Client(transport=fake.transport(), base_url=fake.base_url, headers=headers)


@pytest.mark.parametrize(
    ("agent", "method", "path"),
    [
        ("pictograph-python/1.69.43", "GET", "directories/list/{dataset}"),
        ("pictograph-python/1.69.43", "GET", "directories/tree/{dataset}"),
        ("pictograph-python-async/1.69.47", "GET", "directories/list/{dataset}"),
        ("pictograph-python/1.69.43", "GET", "directories/{directory}/stats"),
        ("pictograph-python/1.69.43", "DELETE", "directories/{directory}"),
        ("pictograph-python-async/1.69.45", "PATCH", "directories/{directory}/rename"),
        ("pictograph-python/1.69.146", "GET", "directories/list/{dataset}"),
        # `folders`, the resource's name until the API renamed it with 1.69.43.
        ("pictograph-python/1.20.0", "GET", "folders/list/{dataset}"),
        ("pictograph-python/1.20.0", "GET", "folders/tree/{dataset}"),
        ("pictograph-python/1.40.0", "GET", "folders/{directory}/stats"),
        ("pictograph-python/1.69.42", "DELETE", "folders/{directory}"),
        ("pictograph-python-async/1.69.42", "POST", "folders/"),
        ("pictograph-python/1.69.42", "PATCH", "folders/{directory}/rename"),
    ],
)
def test_the_first_releases_id_paths_get_the_apis_own_404(
    fake: FakePictograph, agent: str, method: str, path: str
) -> None:
    dataset = fake.world.dataset(fake.world.default_org.id, DATASET).id
    url = "/api/v1/developer/" + path.format(dataset=dataset, directory=UNKNOWN_ID)
    with _http(fake, agent) as http:
        body = {"new_name": "x"} if method == "PATCH" else None
        if method == "POST":
            body = {"dataset_id": dataset, "folder_path": "/train"}
        answer = http.request(method, url, json=body)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
    assert answer.json()["error"]["message"] == f"No route {method} {url}."
    assert not fake.unserved_calls  # no gap of the fake: the API never had them


def test_1_69_43_creates_with_a_dataset_id(fake: FakePictograph) -> None:
    dataset = fake.world.dataset(fake.world.default_org.id, DATASET).id
    with _http(fake, "pictograph-python/1.69.43") as http:
        answer = http.post(
            "/api/v1/developer/directories/",
            json={"dataset_id": dataset, "directory_path": "/train"},
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["full_path"] == "/train"
    with _http(fake, "pictograph-python-async/1.69.47") as http:
        refused = http.post(
            "/api/v1/developer/directories/",
            json={"dataset_id": dataset, "directory_path": "/val"},
        )
    assert refused.status_code == 422
    with fake.client(max_retries=0) as client:
        assert _paths(client) == ["/train"]


def _png() -> bytes:
    from PIL import Image as PILImage

    out = io.BytesIO()
    PILImage.new("RGB", (8, 6), (10, 20, 30)).save(out, format="PNG")
    return out.getvalue()


def test_a_path_made_again_after_loading_gets_the_id_the_original_world_gives() -> None:
    """A directory made, deleted, then snapshotted: the path made again gets a new id,
    the same in the original world and the loaded one (the snapshot keeps how many
    directories each path has had), never the deleted directory's."""
    from pictograph_testing import FakePictograph

    with FakePictograph(seed=1) as fake:
        client = fake.client()
        client.datasets.create("birds")
        first = client.directories.create("birds", "/night").id
        client.directories.delete("birds", "/night")
        document = fake.snapshot()
        original = client.directories.create("birds", "/night").id
    assert document["datasets"][0]["directory_generations"] == {"/night": 1}
    with FakePictograph(scenario=document) as loaded:
        again = loaded.client().directories.create("birds", "/night").id
        assert loaded.snapshot()["datasets"][0]["directory_generations"] == {"/night": 2}
    assert again == original != first


@pytest.mark.parametrize("generations", [{"night": 1}, {"/night": 0}, {"/": 1}])
def test_saved_directory_generations_are_checked(generations: dict[str, int]) -> None:
    from pictograph_testing import FakePictograph

    document = {
        "schema_version": 1,
        "datasets": [{"name": "birds", "directory_generations": generations}],
    }
    with pytest.raises(ValueError, match="directory_generations"):
        FakePictograph(scenario=document)


# ── what the SDK never sends: defaults, bodies and paths of other clients ──


def test_stats_and_delete_take_their_defaults_when_the_query_says_nothing(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    moved = _move(client, 2, "/train/hard")
    hard = client.directories.list(DATASET, parent_path="/train")[0].id
    base = f"/api/v1/developer/directories/{DATASET}"
    with _http(fake, "pictograph-python/1.69.146") as http:
        stats = http.get(f"{base}/train/stats")  # include_subdirectories: true
        assert (stats.status_code, stats.json()["total_directories"]) == (200, 2)
        refused = http.delete(f"{base}/train/hard")  # cascade: false
        assert refused.status_code == 400, refused.text
        deleted = http.delete(f"{base}/train/hard", params={"cascade": "true"})
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"success": True, "directory_id": hard, "images_moved": 2}
    kept = client.images.list(DATASET, directory_path="/train")
    assert sorted(i.id for i in kept) == sorted(moved)


def test_a_directory_is_sent_under_both_its_path_and_dataset_keys(fake: FakePictograph) -> None:
    with _http(fake, "pictograph-python/1.69.146") as http:
        made = http.post(
            "/api/v1/developer/directories/",
            json={"dataset": DATASET, "directory_path": "/train/cars"},
        ).json()["data"]
        listed = http.get(f"/api/v1/developer/directories/{DATASET}").json()
    dataset = fake.world.dataset(fake.world.default_org.id, DATASET).id
    assert (made["full_path"], made["directory_path"]) == ("/train/cars", "/train/cars")
    assert (made["dataset_id"], made["project_id"]) == (dataset, dataset)
    assert [(d["full_path"], d["directory_path"], d["project_id"]) for d in listed] == [
        ("/train", "/train", dataset),
        ("/train/cars", "/train/cars", dataset),
    ]


def test_a_rename_without_a_new_name_is_refused(fake: FakePictograph) -> None:
    fake.client(max_retries=0).directories.create(DATASET, "/train")
    with _http(fake, "pictograph-python/1.69.146") as http:
        refused = http.patch(f"/api/v1/developer/directories/{DATASET}/train/rename", json={})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize("path", ["train/%20", "train/%2E%2E", "train/%5Ccars"])
def test_a_path_no_directory_can_have_is_refused_in_the_url(
    fake: FakePictograph, client: pictograph.Client, path: str
) -> None:
    """Blank, ``..`` or backslashed names are no directory's: a 422 naming the path, not a
    404 for a directory that could exist."""
    client.directories.create(DATASET, "/train/cars")
    with _http(fake, "pictograph-python/1.69.146") as http:
        refused = http.get(f"/api/v1/developer/directories/{DATASET}/{path}/stats")
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["error"]["details"]["errors"]
    assert error["loc"] == ["path", "directory_path"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "directories/{dataset}//stats"), ("DELETE", "directories/{dataset}/")],
)
def test_the_root_as_an_empty_segment_gets_the_apis_own_404(
    fake: FakePictograph, method: str, path: str
) -> None:
    url = "/api/v1/developer/" + path.format(dataset=DATASET)
    with _http(fake, "pictograph-python/1.69.146") as http:
        answer = http.request(method, url)
    assert answer.status_code == 404
    assert answer.json()["error"]["message"] == f"No route {method} {url}."
    assert not fake.unserved_calls
