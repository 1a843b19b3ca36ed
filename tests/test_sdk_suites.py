"""What running the SDK's own suites against the fake settled: sizes, units, classes, routes.

``scripts/sdk_suites.sh`` runs the SDK's live, e2e and contract suites against a served
fake (it needs the sdist, so it runs in CI, not here). These tests pin what those suites
showed and how it was decided, through the real SDK: generated images report the length
of the bytes they download as, an estimate's unit is ``minute``, a saved annotation's name
must be a class, and the route snapshot the contract binds requests against.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pictograph
import pictograph.exceptions
import pytest
from pictograph.exceptions import ValidationError
from pictograph.models.annotation import BBoxAnnotation
from pictograph.models.common import BoundingBox

from pictograph_testing import FakePictograph
from pictograph_testing.api.resources import ENDPOINTS
from pictograph_testing.fidelity import routes_snapshot
from pictograph_testing.sdk_suites import STALE, sdk_calls, select_files, served_methods
from tests.conftest import DATASET
from tests.image_files import write_image

pytest_plugins = ["pytester"]

# ── image sizes ──


def _sizes(fake: FakePictograph, tmp_path: Path) -> tuple[list[tuple[str, int]], int]:
    """Each image's (filename, file_size), checked against its download, and the total."""
    with fake.client(max_retries=0) as client:
        images = list(client.images.iter(DATASET))
        for image in images[:4]:
            got = client.images.get(DATASET, image.id)
            saved = client.images.download(DATASET, image.id, tmp_path / image.filename)
            assert got.file_size == image.file_size == saved.stat().st_size > 0
        total = client.datasets.get(DATASET).total_size
    return [(i.filename, i.file_size) for i in images], total


def test_generated_images_report_the_length_they_download_as(tmp_path: Path) -> None:
    sizes = []
    for n in range(2):
        with FakePictograph(seed=3) as fake:
            fake.add_dataset(DATASET, images=9, completed_images=3, classes=["a", "b"])
            listed, total = _sizes(fake, tmp_path / str(n))
            assert total == sum(size for _, size in listed)
            assert len({size for _, size in listed}) > 1, "sizes follow each image's bytes"
            sizes.append((listed, total))
    # The same seed and calls: the same bytes, so the same sizes.
    assert sizes[0] == sizes[1]


def test_copies_and_uploads_keep_the_dataset_total(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    source = client.images.list(DATASET, limit=2)
    client.datasets.create("copies")
    client.batch.copy_to_dataset(DATASET, [i.id for i in source], "copies")
    uploaded = client.images.upload("copies", write_image(tmp_path / "u.png", (30, 20)))
    copies = list(client.images.iter("copies"))
    assert sorted(i.file_size for i in copies) == sorted(
        [*(i.file_size for i in source), uploaded.file_size]
    )
    assert client.datasets.get("copies").total_size == sum(i.file_size for i in copies)


async def test_generated_image_sizes_async(
    fake: FakePictograph, aclient: pictograph.AsyncClient, tmp_path: Path
) -> None:
    images = await aclient.images.list(DATASET, limit=3)
    for image in images:
        saved = await aclient.images.download(DATASET, image.id, tmp_path / image.filename)
        assert image.file_size == saved.stat().st_size
    everything = [i async for i in aclient.images.iter(DATASET)]
    dataset = await aclient.datasets.get(DATASET)
    assert dataset.total_size == sum(i.file_size for i in everything)


# ── the unit and the class rule ──


def test_an_estimates_unit_is_minute_or_call(client: pictograph.Client) -> None:
    assert client.credits.estimate("training_a10g", quantity=1).unit == "minute"
    assert client.credits.estimate("image_edit_gemini_flash", quantity=1).unit == "call"


async def test_an_estimates_unit_async(aclient: pictograph.AsyncClient) -> None:
    assert (await aclient.credits.estimate("training_h100", quantity=2)).unit == "minute"


def test_an_annotation_of_a_class_the_dataset_lacks_is_422(
    fake: FakePictograph, tmp_path: Path
) -> None:
    # The SDK's augment and tile live tests, on their fixture's dataset.
    with fake.client(max_retries=0) as client:
        client.datasets.create(
            "scratch",
            annotation_types=["bbox", "polygon"],
            classes=[{"name": "thing", "type": "bbox"}, {"name": "shape", "type": "polygon"}],
        )
        image = client.images.upload("scratch", write_image(tmp_path / "a.png", (40, 40)))
        box = BoundingBox(x=5, y=5, w=20, h=20)
        with pytest.raises(ValidationError) as refused:
            client.annotations.save(
                "scratch", image.id, [BBoxAnnotation(name="obj", bounding_box=box)]
            )
        assert refused.value.status_code == 422
        assert "'obj' is not a class" in refused.value.message
        assert client.annotations.get("scratch", image.id) == []
        saved = client.annotations.save(
            "scratch", image.id, [BBoxAnnotation(name="thing", bounding_box=box)]
        )
        assert saved.new_count == 1


def test_the_stale_tests_are_the_ones_the_rules_fail() -> None:
    assert sorted(STALE) == [
        "tests/e2e/test_smoke.py::test_estimate_credit_cost_returns_estimate",
        "tests/live/test_augment_live.py::test_augment_in_place_appends_to_directory",
        "tests/live/test_augment_live.py::test_augment_into_new_dataset",
        "tests/live/test_tile_live.py::test_tile_in_place_appends_to_directory",
        "tests/live/test_tile_live.py::test_tile_into_new_dataset",
    ]
    # Each names the exception it fails with, so a failure of another kind is not hidden.
    for stale in STALE.values():
        assert stale.raises == "AssertionError" or issubclass(
            getattr(pictograph.exceptions, stale.raises), pictograph.exceptions.PictographError
        )


# ── choosing the files ──


def test_a_file_runs_only_when_the_fake_serves_every_call(tmp_path: Path) -> None:
    live = tmp_path / "tests" / "live"
    live.mkdir(parents=True)
    (tmp_path / "tests" / "e2e").mkdir()
    (live / "conftest.py").write_text("p = client.datasets.create(name)\n")
    (live / "test_a_live.py").write_text("img = client.images.get(ds, i)\n")
    # No SDK release has `sam3.track`: a call the fake cannot serve, whatever it serves.
    (live / "test_b_live.py").write_text("hits = e2e_client.sam3.track(video, text=t)\n")
    (live / "helper.py").write_text("client.nothing.here()\n")
    chosen = {s.path: s for s in select_files(tmp_path)}
    assert set(chosen) == {"tests/live/test_a_live.py", "tests/live/test_b_live.py"}
    assert chosen["tests/live/test_a_live.py"].calls == {"datasets.create", "images.get"}
    assert chosen["tests/live/test_a_live.py"].runs
    assert chosen["tests/live/test_b_live.py"].unserved == ("sam3.track",)
    assert not chosen["tests/live/test_b_live.py"].runs


def test_calls_are_read_from_any_client_variable() -> None:
    source = "c = client.images.iter(x)\nbad_client.sam3.track(limit=1)\nclient.images\n"
    assert sdk_calls(source) == {"images.iter", "sam3.track"}
    served = served_methods()
    assert {"images.iter", "sam3.predict", "images.augment"} <= served
    assert "sam3.track" not in served


# ── the route snapshot ──


def _segments(path: str) -> list[str]:
    return [s for s in path.strip("/").split("/") if s]


def _binds(doc: list[str], route: list[str]) -> bool:
    """The contract's matching: ``{x}`` takes one segment, ``{x:path}`` one or more."""
    if not route:
        return not doc
    head, *rest = route
    if head.endswith(":path}"):
        return any(_binds(doc[take:], rest) for take in range(1, len(doc) - len(rest) + 1))
    if not doc or (not head.startswith("{") and doc[0] != head):
        return False
    return _binds(doc[1:], rest)


def _route(routes: list[dict[str, Any]], method: str, path: str) -> dict[str, Any] | None:
    for route in routes:
        if method in route["methods"] and _binds(_segments(path), _segments(route["path"])):
            return route
    return None


def test_the_snapshot_lists_todays_routes_with_their_parameters() -> None:
    snapshot = routes_snapshot()
    routes = snapshot["routes"]
    assert json.loads(json.dumps(snapshot)) == snapshot
    assert all(set(r) == {"path", "methods", "params", "body"} for r in routes)
    assert all(r["path"].startswith("/api/v1/") for r in routes)
    newest = [e for e in ENDPOINTS if e.span.until is None]
    assert len(routes) >= len(newest) > 50
    assert not any(":uuid" in r["path"] or "..." in r["path"] for r in routes)
    annotations = _route(routes, "POST", "/api/v1/developer/annotations/ds/a/b/c.jpg")
    assert annotations is not None
    assert annotations["path"].endswith("{image_path:path}") or ":path}" in annotations["path"]
    assert annotations["body"] == ["annotations"]
    # A literal route is bound before a parameter that would swallow it.
    bulk = _route(routes, "POST", "/api/v1/developer/annotations/bulk")
    assert bulk is not None
    assert bulk["body"] == ["saves"]


def test_every_request_the_sdk_sends_binds_against_the_snapshot(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    routes = routes_snapshot()["routes"]
    image = client.images.list(DATASET, limit=5, status="complete")[0]
    client.images.get(DATASET, image.id)
    client.images.download(DATASET, image.id, tmp_path / "x.jpg")
    client.annotations.save(DATASET, image.id, client.annotations.get(DATASET, image.id))
    client.datasets.update(DATASET, description="signs")
    client.credits.estimate("training_a10g", quantity=3)
    client.credits.history(limit=2)
    client.exports.list(dataset_name=DATASET)
    client.training.list(limit=2)
    sent = [c for c in fake.calls if c.path.startswith("/api/v1/developer/")]
    assert len(sent) >= 9
    for call in sent:
        route = _route(routes, call.method, call.path)
        assert route is not None, f"{call.method} {call.path}: no route in the snapshot"
        assert set(call.params) <= set(route["params"]), (call.target, route)
        if call.body and route["body"]:
            assert set(json.loads(call.body)) <= set(route["body"]), (call.path, route)


@pytest.mark.parametrize(
    ("worker", "url"), [("gw0", "http://127.0.0.1:1"), ("gw1", "http://127.0.0.1:2")]
)
def test_each_xdist_worker_talks_to_a_server_of_its_own(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, worker: str, url: str
) -> None:
    # One worker's tests list what the other's create: on a shared server, a dataset
    # listed twice could differ in between.
    monkeypatch.setenv("PICTOGRAPH_SUITES_BASE_URLS", "http://127.0.0.1:1 http://127.0.0.1:2")
    monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
    pytester.makepyfile(
        f"""
        import os

        def test_the_worker_s_server():
            assert os.environ["PICTOGRAPH_TEST_BASE_URL"] == "{url}"
            assert os.environ["PICTOGRAPH_BASE_URL"] == "{url}"
        """
    )

    result = pytester.runpytest_subprocess("-p", "pictograph_testing.sdk_suites")

    result.assert_outcomes(passed=1)
