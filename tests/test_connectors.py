"""Connectors through the real SDK (sync and async): ``connectors.validate``,
``check_limits``, ``import_``, ``get_import``, ``wait_for_import`` and ``cancel_import``
against sources a test registers (the fake reaches no provider)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pictograph.exceptions import (
    ApiError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PaymentRequiredError,
    PollTimeoutError,
    ValidationError,
)
from pictograph.models.connector import ImportJob, LimitCheckResult, RemoteDataset

from pictograph_testing.catalog import PLANS
from pictograph_testing.clock import parse_timestamp
from pictograph_testing.world.connectors import QUEUE_SECONDS, SECONDS_PER_IMAGE
from tests.conftest import DATASET, EXPORT
from tests.image_files import raw, write_image

if TYPE_CHECKING:
    import pictograph

    from pictograph_testing import FakePictograph

pytestmark = pytest.mark.usefixtures("no_real_waiting")
V7_KEY = "v7-team-key"
ROBOFLOW_KEY = "rf-key"
SIGNS = 6
"""Images of the V7 dataset ``Road Signs``."""


@pytest.fixture
def sources(fake: FakePictograph) -> None:
    fake.add_connector_source(
        "v7",
        V7_KEY,
        workspace="acme",
        datasets={"Road Signs": SIGNS, "Birds": ["sparrow.png", "robin.jpg"]},
    )
    fake.add_connector_source("roboflow", ROBOFLOW_KEY, workspace="lab", datasets={"Pipes": 3})


def _remote(client: pictograph.Client, name: str) -> RemoteDataset:
    listed = client.connectors.validate("v7", V7_KEY)
    return next(d for d in listed.datasets if d.name == name)


def _source_gone_after_four_images(fake: FakePictograph, client: pictograph.Client) -> ImportJob:
    """Import every dataset of the registered V7 source, whose key is removed once four
    of its eight images are copied; the import job."""
    listed = client.connectors.validate("v7", V7_KEY).datasets
    job = client.connectors.import_("v7", V7_KEY, listed, wait=False)
    fake.clock.advance(QUEUE_SECONDS + 4 * SECONDS_PER_IMAGE)
    fake.remove_connector_source("v7", V7_KEY)
    return job


# ── validate, check_limits ──


@pytest.mark.usefixtures("sources")
def test_validate_lists_a_registered_sources_datasets(client: pictograph.Client) -> None:
    v7 = client.connectors.validate("v7", V7_KEY)
    assert (v7.valid, v7.workspace, v7.error) == (True, "acme", None)
    assert [(d.name, d.slug, d.image_count, d.version) for d in v7.datasets] == [
        ("Road Signs", "road-signs", SIGNS, None),
        ("Birds", "birds", 2, None),
    ]
    roboflow = client.connectors.validate("roboflow", ROBOFLOW_KEY)
    [pipes] = roboflow.datasets
    assert (pipes.id, pipes.version, pipes.image_count) == ("lab/pipes", 1, 3)
    # A key no source was registered for (or another provider's) is the provider's "no".
    for provider, key in (("v7", "wrong"), ("roboflow", V7_KEY)):
        refused = client.connectors.validate(provider, key)  # type: ignore[arg-type]
        assert (refused.valid, refused.error, refused.datasets) == (False, "Invalid API key", [])


def test_validate_refuses_an_unknown_provider_or_a_blank_key(client: pictograph.Client) -> None:
    with pytest.raises(ValidationError, match="provider"):
        client.connectors.validate("s3", "k")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="api_key"):
        client.connectors.validate("v7", "  ")


def test_check_limits_answers_against_the_plan(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    plan = PLANS[fake.organization.subscription_tier]
    fits = client.connectors.check_limits(total_images=100, estimated_size_bytes=1_000)
    assert isinstance(fits, LimitCheckResult)
    assert (fits.allowed, fits.exceeded) == (True, None)
    # The fixture's dataset holds 20 images: they count, and so do their bytes.
    assert (fits.current_images, fits.image_limit, fits.images_after_import) == (
        20,
        plan.max_images,
        120,
    )
    assert fits.current_storage_bytes > 0
    assert fits.storage_after_import_bytes == fits.current_storage_bytes + 1_000
    assert fits.storage_limit_bytes == plan.max_storage_bytes
    over = plan.max_images - 20 + 1
    assert client.connectors.check_limits(total_images=over, estimated_size_bytes=0).exceeded == (
        "images"
    )
    huge = plan.max_storage_bytes
    assert client.connectors.check_limits(total_images=0, estimated_size_bytes=huge).exceeded == (
        "storage"
    )
    both = client.connectors.check_limits(total_images=over, estimated_size_bytes=huge)
    assert (both.allowed, both.exceeded) == (False, "both")
    with pytest.raises(ValidationError, match="total_images"):
        client.connectors.check_limits(total_images=-1, estimated_size_bytes=0)


# ── importing ──


@pytest.mark.usefixtures("sources")
def test_an_import_copies_the_images_on_the_virtual_clock(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    started = fake.clock.monotonic()
    job = client.connectors.import_("v7", V7_KEY, [_remote(client, "Road Signs")], wait=False)
    assert isinstance(job, ImportJob)
    # The destination is made at once, empty.
    assert client.datasets.get("Road Signs").image_count == 0
    waiting = client.connectors.get_import(job.import_id)
    assert (waiting.status, waiting.total_images, waiting.imported_images) == (
        "processing",
        SIGNS,
        0,
    )
    assert waiting.current_dataset == "Road Signs"
    [row] = waiting.datasets
    assert (row.name, row.status) == ("Road Signs", "pending")
    assert row.dataset_id == client.datasets.get("Road Signs").id

    fake.clock.advance(QUEUE_SECONDS + 2.5 * SECONDS_PER_IMAGE)
    halfway = client.connectors.get_import(job.import_id)
    assert (halfway.imported_images, halfway.datasets[0].status) == (2, "processing")
    assert halfway.progress == pytest.approx(100 * 2 / SIGNS, abs=0.1)
    # What the import reports copied is in the dataset, as real images.
    assert client.datasets.get("Road Signs").image_count == 2

    done = client.connectors.wait_for_import(job.import_id)
    assert (done.status, done.progress, done.imported_images, done.failed_images) == (
        "completed",
        100.0,
        SIGNS,
        0,
    )
    took = QUEUE_SECONDS + SIGNS * SECONDS_PER_IMAGE
    # The wait polls every 3 virtual seconds: it returns at the first poll after the end.
    assert took <= fake.clock.monotonic() - started < took + 3.0
    images = client.images.list("Road Signs")
    names = sorted(i.filename for i in images)
    assert names == [f"road-signs-{n:05d}.jpg" for n in range(1, SIGNS + 1)]
    saved = client.images.download("Road Signs", names[0], tmp_path / names[0])
    assert saved.read_bytes()[:2] == b"\xff\xd8"  # a JPEG, made from the image's id


@pytest.mark.usefixtures("sources")
def test_a_waited_import_of_two_datasets_keeps_file_names_and_numbers_a_taken_name(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    fake.add_dataset("Birds", images=1)
    listed = client.connectors.validate("v7", V7_KEY).datasets
    done = client.connectors.import_("v7", V7_KEY, listed)
    assert (done.status, done.total_images, done.imported_images) == ("completed", SIGNS + 2, 8)
    assert [(r.name, r.status, r.imported) for r in done.datasets] == [
        ("Road Signs", "completed", SIGNS),
        ("Birds (2)", "completed", 2),
    ]
    birds = client.images.list("Birds (2)")
    assert sorted(i.filename for i in birds) == ["robin.jpg", "sparrow.png"]
    png = next(i for i in birds if i.filename == "sparrow.png")
    saved = client.images.download("Birds (2)", png.filename, tmp_path / png.filename)
    assert saved.read_bytes()[:4] == b"\x89PNG"
    # A dict the caller built is taken too (the SDK sends it as given).
    again = client.connectors.import_(
        "roboflow", ROBOFLOW_KEY, [{"id": "lab/pipes", "name": "Pipes", "slug": "pipes"}]
    )
    assert again.imported_images == 3


async def test_an_import_through_the_async_client(
    fake: FakePictograph, aclient: pictograph.AsyncClient, sources: None
) -> None:
    listed = await aclient.connectors.validate("roboflow", ROBOFLOW_KEY)
    assert listed.valid
    limits = await aclient.connectors.check_limits(total_images=3, estimated_size_bytes=0)
    assert limits.allowed
    job = await aclient.connectors.import_("roboflow", ROBOFLOW_KEY, listed.datasets, wait=False)
    assert (await aclient.connectors.get_import(job.import_id)).status == "processing"
    done = await aclient.connectors.wait_for_import(job.import_id)
    assert (done.status, done.imported_images) == ("completed", 3)
    assert (await aclient.datasets.get("Pipes")).image_count == 3
    waited = await aclient.connectors.import_("roboflow", ROBOFLOW_KEY, listed.datasets)
    assert (waited.status, waited.datasets[0].name) == ("completed", "Pipes (2)")


@pytest.mark.usefixtures("sources")
def test_a_cancel_keeps_the_images_copied_so_far(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    listed = client.connectors.validate("v7", V7_KEY).datasets
    job = client.connectors.import_("v7", V7_KEY, listed, wait=False)
    fake.clock.advance(QUEUE_SECONDS + 3 * SECONDS_PER_IMAGE)
    cancelled = client.connectors.cancel_import(job.import_id)
    assert (cancelled.status, cancelled.imported_images, cancelled.failed_images) == (
        "cancelled",
        3,
        0,
    )
    assert [(r.name, r.status, r.imported) for r in cancelled.datasets] == [
        ("Road Signs", "cancelled", 3),
        ("Birds", "cancelled", 0),
    ]
    # The copied images stay; the dataset the import never reached is not left empty.
    assert client.datasets.get("Road Signs").image_count == 3
    with pytest.raises(NotFoundError):
        client.datasets.get("Birds")
    # Nothing more is copied, and a wait returns the cancelled import (not an error).
    fake.clock.advance(60)
    assert client.connectors.wait_for_import(job.import_id).imported_images == 3
    assert client.datasets.get("Road Signs").image_count == 3
    with pytest.raises(ConflictError, match="already cancelled"):
        client.connectors.cancel_import(job.import_id)


async def test_an_async_cancel(
    fake: FakePictograph, aclient: pictograph.AsyncClient, sources: None
) -> None:
    listed = await aclient.connectors.validate("v7", V7_KEY)
    job = await aclient.connectors.import_("v7", V7_KEY, listed.datasets[:1], wait=False)
    cancelled = await aclient.connectors.cancel_import(job.import_id)
    assert (cancelled.status, cancelled.imported_images) == ("cancelled", 0)
    with pytest.raises(NotFoundError):
        await aclient.datasets.get("Road Signs")


@pytest.mark.usefixtures("sources")
def test_an_import_whose_source_is_gone_fails_clearly(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    job = _source_gone_after_four_images(fake, client)
    with pytest.raises(ApiError, match=r"failed \(imported=4, failed=4\)") as ended:
        client.connectors.wait_for_import(job.import_id)
    assert ended.value.code == "job_failed"
    failed = client.connectors.get_import(job.import_id)
    assert failed.status == "error"
    assert [(r.status, r.imported, r.failed) for r in failed.datasets] == [
        ("error", 4, 2),
        ("error", 0, 2),
    ]
    assert client.datasets.get("Road Signs").image_count == 4
    with pytest.raises(NotFoundError):
        client.datasets.get("Birds")
    # The reason is on the wire for a reader of the raw body.
    with raw(fake) as http:
        body = http.get(f"/api/v1/developer/connectors/import/status/{job.import_id}").json()
    assert "source is gone" in body["error"]
    assert client.connectors.validate("v7", V7_KEY).valid is False


@pytest.mark.usefixtures("sources")
@pytest.mark.parametrize(
    "taken_away",
    [
        pytest.param("delete", id="deleted"),
        # Its files take no upload once they move to cold storage.
        pytest.param("freeze", id="frozen"),
    ],
)
def test_a_destination_taken_away_midway_fails_its_rows_and_the_next_still_copies(
    fake: FakePictograph, client: pictograph.Client, taken_away: str
) -> None:
    listed = client.connectors.validate("v7", V7_KEY).datasets
    job = client.connectors.import_("v7", V7_KEY, listed, wait=False)
    fake.clock.advance(QUEUE_SECONDS + 2 * SECONDS_PER_IMAGE)
    getattr(client.datasets, taken_away)("Road Signs")
    with pytest.raises(ApiError, match=r"imported=4, failed=4"):
        client.connectors.wait_for_import(job.import_id)
    ended = client.connectors.get_import(job.import_id)
    assert [(r.status, r.imported, r.failed) for r in ended.datasets] == [
        ("error", 2, 4),
        ("completed", 2, 0),
    ]
    if taken_away == "freeze":
        assert client.datasets.get("Road Signs").image_count == 2
    else:
        with pytest.raises(NotFoundError):
            client.datasets.get("Road Signs")
    assert client.datasets.get("Birds").image_count == 2


@pytest.mark.usefixtures("sources")
def test_a_refused_import_makes_nothing(fake: FakePictograph, client: pictograph.Client) -> None:
    before = [d.name for d in client.datasets.list()]
    signs = _remote(client, "Road Signs")
    with pytest.raises(ValidationError, match="refused the api_key"):
        client.connectors.import_("v7", "wrong", [signs])
    with pytest.raises(ValidationError, match="has no dataset '999'"):
        client.connectors.import_("v7", V7_KEY, [signs, {"id": "999", "name": "x", "slug": "x"}])
    with pytest.raises(ValidationError, match="twice"):
        client.connectors.import_("v7", V7_KEY, [signs, signs])
    with pytest.raises(ValidationError, match="datasets"):
        client.connectors.import_("v7", V7_KEY, [])
    viewer = fake.client(api_key=fake.add_api_key("viewer"), max_retries=0)
    with pytest.raises(ForbiddenError, match="'member' or higher"):
        viewer.connectors.import_("v7", V7_KEY, [signs])
    # The plan's image limit: 1,000 on the free plan, and we hold 20 already.
    fake.organization.subscription_tier = "free"
    fake.add_connector_source("v7", "big", datasets={"Big": 990})
    big = client.connectors.validate("v7", "big").datasets
    with pytest.raises(PaymentRequiredError) as refusal:
        client.connectors.import_("v7", "big", big)
    assert refusal.value.code == "image_limit_exceeded"
    assert refusal.value.upgrade_url == "/settings?tab=billing"
    assert [d.name for d in client.datasets.list()] == before


@pytest.mark.usefixtures("sources")
def test_an_import_past_the_plan_s_dataset_cap_makes_none_of_its_datasets(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # Each remote dataset becomes one: with room for one only, two make none.
    fake.organization.subscription_tier = "free"
    held = len(client.datasets.list())
    for n in range(PLANS["free"].max_datasets - held - 1):
        fake.add_dataset(f"held-{n}")
    before = [d.name for d in client.datasets.list()]
    wanted = [_remote(client, "Road Signs"), _remote(client, "Birds")]
    with pytest.raises(PaymentRequiredError) as refused:
        client.connectors.import_("v7", V7_KEY, wanted)
    assert refused.value.code == "limit_exceeded"
    assert "holds 9 and this needs 2 more: delete 1 or upgrade" in str(refused.value)
    assert refused.value.response is not None
    details = refused.value.response["error"]["details"]
    assert (details["current"], details["additional"], details["limit"]) == (9, 2, 10)
    assert [d.name for d in client.datasets.list()] == before
    assert not list(client.jobs.list(type="connector_import"))
    done = client.connectors.import_("v7", V7_KEY, wanted[:1])
    assert done.status == "completed"


def test_imports_under_way_hold_their_room_under_the_image_limit(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # Started back to back, two imports that each fit alone must not both be let in.
    fake.organization.subscription_tier = "free"
    fake.add_connector_source("v7", "big", datasets={"One": 600, "Two": 600})
    one, two = client.connectors.validate("v7", "big").datasets
    first = client.connectors.import_("v7", "big", [one], wait=False)
    with pytest.raises(PaymentRequiredError) as refused:
        client.connectors.import_("v7", "big", [two], wait=False)
    assert refused.value.code == "image_limit_exceeded"
    assert "(600 of them still to come from imports and extractions under way)" in str(
        refused.value
    )
    assert [j.id for j in client.jobs.list(type="connector_import")] == [first.import_id]
    client.connectors.wait_for_import(first.import_id)
    # Landed, the images are counted as the organization's own: still no room.
    with pytest.raises(PaymentRequiredError, match="past its 'free' plan's limit of 1000"):
        client.connectors.import_("v7", "big", [two], wait=False)


@pytest.mark.usefixtures("sources")
def test_another_organizations_import_is_a_404(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    job = client.connectors.import_("v7", V7_KEY, [_remote(client, "Birds")], wait=False)
    other = fake.add_organization()
    with other.client(max_retries=0) as theirs:
        with pytest.raises(NotFoundError):
            theirs.connectors.get_import(job.import_id)
        with pytest.raises(NotFoundError):
            theirs.connectors.cancel_import(job.import_id)
    with pytest.raises(NotFoundError):
        client.connectors.get_import("00000000-0000-4000-8000-000000000000")


@pytest.mark.usefixtures("sources")
def test_a_wait_times_out_at_the_virtual_deadline(client: pictograph.Client) -> None:
    job = client.connectors.import_("v7", V7_KEY, [_remote(client, "Road Signs")], wait=False)
    with pytest.raises(PollTimeoutError, match="did not complete within 2s"):
        client.connectors.wait_for_import(job.import_id, timeout=2.0, poll_interval=1.0)
    assert client.connectors.wait_for_import(job.import_id).status == "completed"


def test_add_connector_source_refuses_what_no_provider_holds(fake: FakePictograph) -> None:
    with pytest.raises(ValueError, match="provider"):
        fake.add_connector_source("s3", "k", datasets={})
    with pytest.raises(ValueError, match="distinct"):
        fake.add_connector_source("v7", "k", datasets={"A": ["a.jpg", "a.jpg"]})
    with pytest.raises(ValueError, match="1 to 100 characters"):
        fake.add_connector_source("v7", "k", datasets={"a/b": 1})
    with pytest.raises(ValueError, match="no 'v7' source"):
        fake.remove_connector_source("v7", "never")


def test_a_source_is_refused_for_a_key_workspace_or_dataset_the_api_would_not_hold(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    """A blank key, a workspace that is no string, a dataset name blank or over the API's
    100 characters, a count that is a bool: each refused, naming what is wrong."""
    with pytest.raises(ValueError, match=r"^api_key must not be blank$"):
        fake.add_connector_source("v7", "   ", datasets={"Birds": 1})
    with pytest.raises(TypeError, match=r"^workspace must be a string"):
        fake.add_connector_source("v7", V7_KEY, workspace=5, datasets={})  # type: ignore[arg-type]
    for name in ("   ", "x" * 101):
        with pytest.raises(ValueError, match="1 to 100 characters, not blank"):
            fake.add_connector_source("v7", V7_KEY, datasets={name: 1})
    with pytest.raises(ValueError, match="a count of 0 or more, got True"):
        fake.add_connector_source("v7", V7_KEY, datasets={"Birds": True})
    for files in (["a.jpg", " "], ["val/a.jpg"]):
        with pytest.raises(ValueError, match="not blank and hold no '/'"):
            fake.add_connector_source("v7", V7_KEY, datasets={"Birds": files})
    refused = client.connectors.validate("v7", V7_KEY)  # nothing refused was registered
    assert (refused.valid, refused.error) == (False, "Invalid API key")
    longest = "x" * 100  # the API's limit itself is a name it takes
    fake.add_connector_source("v7", V7_KEY, datasets={longest: 1})
    assert [d.name for d in client.connectors.validate("v7", V7_KEY).datasets] == [longest]


@pytest.mark.usefixtures("sources")
def test_a_viewer_may_read_an_import_but_not_cancel_it(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    job = client.connectors.import_("v7", V7_KEY, [_remote(client, "Birds")], wait=False)
    with fake.client(api_key=fake.add_api_key("viewer"), max_retries=0) as viewer:
        assert viewer.connectors.get_import(job.import_id).status == "processing"
        with pytest.raises(ForbiddenError, match="'member' or higher"):
            viewer.connectors.cancel_import(job.import_id)
    assert client.connectors.wait_for_import(job.import_id).status == "completed"


def test_a_snapshot_refuses_a_world_with_a_source(fake: FakePictograph) -> None:
    fake.add_connector_source("v7", V7_KEY, datasets={"Birds": 1})
    with pytest.raises(ValueError, match="connector sources or imports"):
        fake.snapshot()


def test_the_page_states_the_imports_timing() -> None:
    page = (Path(__file__).resolve().parent.parent / "docs" / "connectors.md").read_text()
    timing = (
        f"waits {QUEUE_SECONDS:g} virtual seconds, then copies the datasets one after "
        f"another, one image every {SECONDS_PER_IMAGE:g} virtual seconds"
    )
    assert timing in " ".join(page.split())


# ── the jobs feed ──


@pytest.mark.usefixtures("sources")
def test_an_import_is_a_connector_import_job(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    listed = client.connectors.validate("v7", V7_KEY).datasets
    run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="r", wait=False)
    job = client.connectors.import_("v7", V7_KEY, listed, wait=False)
    queued = client.jobs.get(job.import_id)
    assert (queued.type, queued.status, queued.name) == (
        "connector_import",
        "queued",
        "Import from V7: Road Signs, Birds",
    )
    assert queued.cancel_path == f"/api/v1/developer/connectors/import/cancel/{job.import_id}"
    # Newest first, after the run created before it.
    assert [j.id for j in client.jobs.list()][:2] == [job.import_id, run.id]
    assert [j.id for j in client.jobs.list(type="connector_import")] == [job.import_id]
    fake.clock.advance(QUEUE_SECONDS + SECONDS_PER_IMAGE)
    running = client.jobs.get(job.import_id)
    assert running.status == "running"
    assert running.progress == pytest.approx(100 / (SIGNS + 2), abs=0.1)
    # jobs.cancel goes through the import's own cancel route.
    cancelled = client.jobs.cancel(job.import_id)
    assert cancelled.status == "cancelled"
    assert client.connectors.get_import(job.import_id).status == "cancelled"
    assert [j.id for j in client.jobs.list(status="cancelled", type="connector_import")] == [
        job.import_id
    ]
    done = client.connectors.import_("v7", V7_KEY, listed[1:])
    finished = client.jobs.list(status="completed", type="connector_import")
    assert [j.id for j in finished] == [done.import_id]
    assert len(list(client.jobs.list(status="all", type="connector_import"))) == 2


async def test_the_async_jobs_feed_reads_an_import(
    aclient: pictograph.AsyncClient, sources: None
) -> None:
    listed = await aclient.connectors.validate("roboflow", ROBOFLOW_KEY)
    job = await aclient.connectors.import_("roboflow", ROBOFLOW_KEY, listed.datasets, wait=False)
    assert (await aclient.jobs.get(job.import_id)).type == "connector_import"
    await aclient.connectors.wait_for_import(job.import_id)
    assert (await aclient.jobs.get(job.import_id)).status == "completed"


# ── rules a mutation run of world/connectors.py found no test holding ──


@pytest.mark.usefixtures("sources")
def test_an_import_is_found_by_its_id_in_any_case(client: pictograph.Client) -> None:
    job = client.connectors.import_("v7", V7_KEY, [_remote(client, "Birds")], wait=False)
    found = client.connectors.get_import(job.import_id.upper())
    assert (found.import_id, found.total_images) == (job.import_id, 2)


async def test_an_async_import_is_found_by_its_id_in_any_case(
    aclient: pictograph.AsyncClient, sources: None
) -> None:
    listed = await aclient.connectors.validate("roboflow", ROBOFLOW_KEY)
    job = await aclient.connectors.import_("roboflow", ROBOFLOW_KEY, listed.datasets, wait=False)
    found = await aclient.connectors.get_import(f"  {job.import_id.upper()}")
    assert (found.import_id, found.total_images) == (job.import_id, 3)


def test_an_import_with_no_images_has_made_no_progress_until_it_ends(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_connector_source("v7", "empty", datasets={"Nothing Yet": 0})
    job = client.connectors.import_(
        "v7", "empty", client.connectors.validate("v7", "empty").datasets, wait=False
    )
    waiting = client.connectors.get_import(job.import_id)
    assert (waiting.status, waiting.total_images, waiting.progress) == ("processing", 0, 0.0)
    done = client.connectors.wait_for_import(job.import_id)
    assert (done.status, done.progress) == ("completed", 100.0)
    # Completed, its destination stays, empty as its source.
    assert client.datasets.get("Nothing Yet").image_count == 0


@pytest.mark.usefixtures("sources")
def test_a_failed_import_counts_its_failed_images_as_done(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    job = _source_gone_after_four_images(fake, client)
    fake.clock.advance(1)
    failed = client.connectors.get_import(job.import_id)
    assert (failed.status, failed.imported_images, failed.failed_images) == ("error", 4, 4)
    assert failed.progress == 100.0
    assert client.jobs.get(job.import_id).progress == 100.0


def test_a_failed_row_holds_no_room_under_the_image_limit(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # 20 held; an import of 400 + 400 whose first destination is deleted before its
    # first image: its 400 failed images are no longer to come, so 500 more fit.
    fake.organization.subscription_tier = "free"
    fake.add_connector_source("v7", "big", datasets={"First": 400, "Second": 400, "Third": 500})
    first, second, third = client.connectors.validate("v7", "big").datasets
    job = client.connectors.import_("v7", "big", [first, second], wait=False)
    client.datasets.delete("First")
    fake.clock.advance(QUEUE_SECONDS + 10 * SECONDS_PER_IMAGE)
    under_way = client.connectors.get_import(job.import_id)
    assert (under_way.status, under_way.failed_images) == ("processing", 400)
    later = client.connectors.import_("v7", "big", [third], wait=False)
    assert client.connectors.get_import(later.import_id).total_images == 500


def test_an_import_that_reaches_the_image_limit_exactly_is_let_in(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.organization.subscription_tier = "free"
    room = PLANS["free"].max_images - 20
    fake.add_connector_source("v7", "big", datasets={"Fills It": room, "One More": 1})
    fills, one_more = client.connectors.validate("v7", "big").datasets
    done = client.connectors.import_("v7", "big", [fills])
    assert (done.status, done.imported_images) == ("completed", room)
    with pytest.raises(PaymentRequiredError, match="past its 'free' plan's limit of 1000"):
        client.connectors.import_("v7", "big", [one_more])


def test_a_name_taken_twice_over_is_numbered_on(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_dataset("Birds")
    fake.add_dataset("Birds (2)")
    fake.add_connector_source("v7", V7_KEY, datasets={"Birds": ["robin.jpg"]})
    done = client.connectors.import_(
        "v7", V7_KEY, client.connectors.validate("v7", V7_KEY).datasets
    )
    assert [r.name for r in done.datasets] == ["Birds (3)"]
    assert [i.filename for i in client.images.list("Birds (3)")] == ["robin.jpg"]


@pytest.mark.usefixtures("sources")
def test_an_imports_job_names_its_first_destination_and_when_it_last_changed(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    listed = client.connectors.validate("v7", V7_KEY).datasets
    fake.clock.advance(1)  # started after the clock's first instant
    job = client.connectors.import_("v7", V7_KEY, listed, wait=False)
    queued = client.jobs.get(job.import_id)
    assert queued.dataset_id == client.datasets.get("Road Signs").id
    assert queued.updated_at == queued.created_at
    assert queued.cancel_path is not None
    # Cancelled between two images: it last changed when it was cancelled.
    fake.clock.advance(QUEUE_SECONDS + 2.5 * SECONDS_PER_IMAGE)
    client.connectors.cancel_import(job.import_id)
    fake.clock.advance(5)
    cancelled = client.jobs.get(job.import_id)
    assert cancelled.completed_at is not None
    assert cancelled.updated_at == cancelled.completed_at
    assert cancelled.created_at is not None
    assert cancelled.completed_at > cancelled.created_at
    # Ended, cancelled or failed, an import is no longer cancellable.
    assert cancelled.cancel_path is None
    failing = client.connectors.import_("v7", V7_KEY, listed[1:], wait=False)
    fake.remove_connector_source("v7", V7_KEY)
    fake.clock.advance(QUEUE_SECONDS + SECONDS_PER_IMAGE)
    failed = client.jobs.get(failing.import_id)
    assert (failed.status, failed.cancel_path) == ("failed", None)
    # Failed before any image, it last changed when it ended.
    assert failed.completed_at is not None
    assert failed.updated_at == failed.completed_at


@pytest.mark.usefixtures("sources")
def test_imports_started_at_one_instant_list_newest_first(client: pictograph.Client) -> None:
    listed = client.connectors.validate("v7", V7_KEY).datasets
    first = client.connectors.import_("v7", V7_KEY, listed[:1], wait=False)
    second = client.connectors.import_("v7", V7_KEY, listed[1:], wait=False)
    third = client.connectors.import_("v7", V7_KEY, listed[:1], wait=False)
    feed = [j.id for j in client.jobs.list(type="connector_import")]
    assert feed == [third.import_id, second.import_id, first.import_id]


def test_an_empty_dataset_ends_its_row_at_once_and_the_next_starts_copying(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_connector_source("v7", "k", datasets={"Nothing Yet": 0, "Birds": ["robin.jpg"]})
    job = client.connectors.import_(
        "v7", "k", client.connectors.validate("v7", "k").datasets, wait=False
    )
    fake.clock.advance(QUEUE_SECONDS + SECONDS_PER_IMAGE)
    done = client.connectors.get_import(job.import_id)
    assert (done.status, done.imported_images) == ("completed", 1)


def test_an_imported_image_and_its_job_are_dated_when_it_was_copied(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_connector_source("v7", "k", datasets={"Birds": ["robin.jpg", "wren.jpg"]})
    job = client.connectors.import_(
        "v7", "k", client.connectors.validate("v7", "k").datasets, wait=False
    )
    created = client.jobs.get(job.import_id).created_at
    assert created is not None
    fake.clock.advance(QUEUE_SECONDS + 1.5 * SECONDS_PER_IMAGE)
    copied = timedelta(seconds=QUEUE_SECONDS + SECONDS_PER_IMAGE)
    [robin] = client.images.list("Birds")
    assert robin.created_at == created + copied
    assert client.datasets.get("Birds").updated_at == created + copied
    assert client.jobs.get(job.import_id).updated_at == created + copied
    fake.clock.advance(10)
    done = client.jobs.get(job.import_id)
    assert done.status == "completed"
    assert (
        done.updated_at
        == done.completed_at
        == created + copied + timedelta(seconds=SECONDS_PER_IMAGE)
    )


def test_a_file_name_taken_in_the_destination_is_numbered(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    fake.add_connector_source("v7", "k", datasets={"Birds": ["robin.jpg", "Sparrow.PNG"]})
    client.connectors.import_("v7", "k", client.connectors.validate("v7", "k").datasets, wait=False)
    # Uploaded before the import reaches them, both names are taken.
    client.images.upload("Birds", write_image(tmp_path / "robin.jpg"))
    client.images.upload("Birds", write_image(tmp_path / "Sparrow.PNG"))
    fake.clock.advance(60)
    images = {i.filename: i for i in client.images.list("Birds")}
    assert sorted(images) == ["Sparrow-2.PNG", "Sparrow.PNG", "robin-2.jpg", "robin.jpg"]
    saved = client.images.download("Birds", "Sparrow-2.PNG", tmp_path / "copied.png")
    assert saved.read_bytes()[:4] == b"\x89PNG"


def test_the_first_refusal_is_the_imports_error(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_connector_source("v7", "k", datasets={"Birds": 2, "Fish": 2})
    job = client.connectors.import_(
        "v7", "k", client.connectors.validate("v7", "k").datasets, wait=False
    )
    client.datasets.delete("Birds")
    fake.remove_connector_source("v7", "k")
    fake.clock.advance(60)
    with raw(fake) as http:
        body = http.get(f"/api/v1/developer/connectors/import/status/{job.import_id}").json()
    assert body["status"] == "error"
    assert body["error"] == "The destination dataset 'Birds' was deleted during the import."


def test_a_sources_slugs_are_made_as_the_providers_make_them(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_connector_source("v7", "k", datasets={"-- Traffic  Lights! --": 1, "!!!": 1})
    listed = client.connectors.validate("v7", "k").datasets
    assert [d.slug for d in listed] == ["traffic-lights", "dataset"]


@pytest.mark.usefixtures("sources")
def test_a_destination_moved_to_cold_storage_fails_the_import_with_the_reason(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    job = client.connectors.import_("v7", V7_KEY, [_remote(client, "Road Signs")], wait=False)
    fake.clock.advance(QUEUE_SECONDS + 2 * SECONDS_PER_IMAGE)
    client.datasets.freeze("Road Signs")
    fake.clock.advance(60)
    with raw(fake) as http:
        body = http.get(f"/api/v1/developer/connectors/import/status/{job.import_id}").json()
    assert body["status"] == "error"
    assert "and the import needs its image files" in body["error"]


# ── rules a mutation run of api/connectors.py found no test holding ──


def test_check_limits_allows_an_import_that_reaches_a_limit_exactly(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    plan = PLANS[fake.organization.subscription_tier]
    held = client.connectors.check_limits(total_images=0, estimated_size_bytes=0)
    room_images = plan.max_images - held.current_images
    room_bytes = plan.max_storage_bytes - held.current_storage_bytes
    exact = client.connectors.check_limits(
        total_images=room_images, estimated_size_bytes=room_bytes
    )
    assert (exact.allowed, exact.exceeded) == (True, None)
    assert (exact.images_after_import, exact.storage_after_import_bytes) == (
        plan.max_images,
        plan.max_storage_bytes,
    )


async def test_async_check_limits_allows_an_import_that_reaches_a_limit_exactly(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    plan = PLANS[fake.organization.subscription_tier]
    held = await aclient.connectors.check_limits(total_images=0, estimated_size_bytes=0)
    exact = await aclient.connectors.check_limits(
        total_images=plan.max_images - held.current_images,
        estimated_size_bytes=plan.max_storage_bytes - held.current_storage_bytes,
    )
    assert (exact.allowed, exact.exceeded) == (True, None)


@pytest.mark.usefixtures("sources")
def test_a_started_import_answers_202_with_its_destinations(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    with raw(fake) as http:
        started = http.post(
            "/api/v1/developer/connectors/import/start",
            json={"provider": "v7", "api_key": V7_KEY, "datasets": [{"id": "100002"}]},
        )
    assert started.status_code == 202
    body = started.json()
    birds = client.datasets.get("Birds").id
    assert (body["status"], body["import_id"], body["job"]) == (
        "started",
        body["import_id"],
        body["import_id"],
    )
    assert body["datasets"] == [{"name": "Birds", "project_id": birds, "dataset_id": birds}]
    with raw(fake) as http:
        path = f"/api/v1/developer/connectors/import/status/{body['import_id']}"
        assert http.get(path).json()["completed_at"] is None
        assert client.connectors.wait_for_import(body["import_id"]).status == "completed"
        done = http.get(path).json()
    assert parse_timestamp(done["completed_at"]) == parse_timestamp(done["created_at"]) + timedelta(
        seconds=QUEUE_SECONDS + 2 * SECONDS_PER_IMAGE
    )


@pytest.mark.usefixtures("sources")
def test_an_empty_destination_with_an_export_stays_after_a_cancel(
    client: pictograph.Client,
) -> None:
    job = client.connectors.import_("v7", V7_KEY, [_remote(client, "Birds")], wait=False)
    client.exports.create("Birds", "before-any-image", wait=False)
    client.connectors.cancel_import(job.import_id)
    kept = client.datasets.get("Birds")
    assert kept.image_count == 0
    assert [e.name for e in client.exports.list(dataset_name="Birds")] == ["before-any-image"]


@pytest.mark.usefixtures("sources")
def test_a_source_registered_again_leaves_the_images_already_due_as_they_were(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # Both birds are due by the time the key is registered again, with no request between:
    # they were copied from the files the source held then.
    job = client.connectors.import_("v7", V7_KEY, [_remote(client, "Birds")], wait=False)
    fake.clock.advance(QUEUE_SECONDS + 2 * SECONDS_PER_IMAGE)
    fake.add_connector_source("v7", V7_KEY, workspace="acme", datasets={"Birds": ["owl.png"]})
    assert client.connectors.get_import(job.import_id).status == "completed"
    assert sorted(i.filename for i in client.images.list("Birds")) == ["robin.jpg", "sparrow.png"]


@pytest.mark.usefixtures("sources")
def test_a_task_made_after_an_import_ended_holds_every_image_it_copied(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # No request since the import's end: the task is made of the images it copied.
    client.connectors.import_("v7", V7_KEY, [_remote(client, "Road Signs")], wait=False)
    fake.clock.advance(QUEUE_SECONDS + SIGNS * SECONDS_PER_IMAGE)
    task = fake.add_task("Road Signs")
    assert [(t.id, t.image_count) for t in client.tasks.list()] == [(task.id, SIGNS)]
