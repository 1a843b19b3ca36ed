"""Cold storage through the real SDK (sync and async): ``datasets.storage_status``,
``freeze``, ``restore`` and ``wait_for_storage``, and what a cold dataset refuses."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pictograph.exceptions import (
    ConflictError,
    ForbiddenError,
    PaymentRequiredError,
    PollTimeoutError,
)
from pictograph.models import BBoxAnnotation, BoundingBox
from pictograph.models.dataset import DatasetStorageStatus, DatasetStorageTransition

from pictograph_testing import FakePictograph
from pictograph_testing.catalog import COLD_STORAGE
from pictograph_testing.world.cold_storage import (
    FREEZE_SECONDS,
    RESTORE_SECONDS,
    SECONDS_PER_IMAGE,
)
from tests.conftest import DATASET, EXPORT
from tests.image_files import raw, world_state, write_image
from tests.invariants import state_digest

if TYPE_CHECKING:
    from pathlib import Path

    import pictograph

pytestmark = pytest.mark.usefixtures("no_real_waiting")
IMAGES = 20
"""The images of the shared fixture's dataset."""
FROZEN_AFTER = FREEZE_SECONDS + SECONDS_PER_IMAGE * IMAGES
RESTORED_AFTER = RESTORE_SECONDS + SECONDS_PER_IMAGE * IMAGES


def frozen(fake: FakePictograph, client: pictograph.Client) -> DatasetStorageStatus:
    client.datasets.freeze(DATASET)
    return client.datasets.wait_for_storage(DATASET)


def refused_cold(refusal: pytest.ExceptionInfo[ConflictError], doing: str) -> None:
    assert refusal.value.status_code == 409
    assert refusal.value.code == "dataset_cold"
    assert f"'{DATASET}' is in cold storage, and {doing} needs its image files" in str(
        refusal.value
    )
    assert f"datasets.restore('{DATASET}')" in str(refusal.value)


# ── reading the state ──


def test_a_dataset_starts_in_standard_storage_with_no_quote(client: pictograph.Client) -> None:
    status = client.datasets.storage_status(DATASET)
    assert (status.storage_class, status.storage_state) == ("standard", "idle")
    assert (status.cold_since, status.cold_bytes, status.cold_image_count) == (None, 0, 0)
    assert status.storage_job_id is None
    assert status.restore_estimate is None
    assert client.datasets.get(DATASET).storage_class == "standard"


def test_a_viewer_reads_the_storage_state_by_name_or_id(fake: FakePictograph) -> None:
    viewer = fake.client(api_key=fake.add_api_key("viewer"), max_retries=0)
    dataset_id = viewer.datasets.get(DATASET).id
    by_name = viewer.datasets.storage_status(DATASET)
    assert viewer.datasets.storage_status(dataset_id=dataset_id) == by_name


# ── freeze ──


def test_freeze_moves_the_files_to_cold_storage_on_the_virtual_clock(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    started = fake.clock.monotonic()
    job = client.datasets.freeze(DATASET)
    assert isinstance(job, DatasetStorageTransition)
    assert (job.storage_state, job.quoted_micro_usd) == ("freezing", None)
    # Still standard while the files move: the SDK's CLI reads (standard, freezing) so.
    moving = client.datasets.storage_status(DATASET)
    assert (moving.storage_class, moving.storage_state) == ("standard", "freezing")
    assert moving.storage_job_id == job.job_id
    assert moving.restore_estimate is None

    status = client.datasets.wait_for_storage(DATASET)
    # The wait polls every 3 virtual seconds: it returns at the first poll after the end.
    assert FROZEN_AFTER <= fake.clock.monotonic() - started < FROZEN_AFTER + 3.0
    assert (status.storage_class, status.storage_state) == ("coldline", "idle")
    assert status.storage_job_id == job.job_id
    assert status.cold_image_count == IMAGES
    assert status.cold_bytes == client.datasets.get(DATASET).total_size > 0
    assert status.cold_since is not None
    assert status.cold_since.timestamp() == pytest.approx(
        fake.clock.start.timestamp() + started + FROZEN_AFTER
    )
    assert client.datasets.get(DATASET).storage_class == "coldline"
    # A freeze is free.
    assert not [e for e in fake.ledger if e.operation == "dataset_restore"]


async def test_freeze_and_restore_through_the_async_client(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    job = await aclient.datasets.freeze(DATASET)
    assert job.storage_state == "freezing"
    cold = await aclient.datasets.wait_for_storage(DATASET)
    assert (cold.storage_class, cold.storage_state) == ("coldline", "idle")
    assert cold.restore_estimate is not None
    with pytest.raises(ConflictError) as refusal:
        await aclient.exports.create(DATASET, "while-cold")
    refused_cold(refusal, "an export")

    restoring = await aclient.datasets.restore(DATASET)
    assert restoring.quoted_micro_usd == cold.restore_estimate.total_micro_usd
    warm = await aclient.datasets.wait_for_storage(DATASET)
    assert (warm.storage_class, warm.storage_state) == ("standard", "idle")
    assert fake.ledger[-1].operation == "dataset_restore"
    assert fake.ledger[-1].amount == -cold.restore_estimate.total_micro_usd


def test_wait_for_storage_times_out_at_the_virtual_deadline(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    client.datasets.freeze(DATASET)
    started = fake.clock.monotonic()
    with pytest.raises(PollTimeoutError, match="state='freezing'"):
        client.datasets.wait_for_storage(DATASET, timeout=5.0, poll_interval=1.0)
    assert fake.clock.monotonic() - started == pytest.approx(5.0)


def test_freezing_twice_or_while_moving_is_a_conflict_that_changes_nothing(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    job = client.datasets.freeze(DATASET)
    before = world_state(fake)
    with pytest.raises(ConflictError, match=r"moving to cold storage .*wait_for_storage") as moving:
        client.datasets.freeze(DATASET)
    assert moving.value.code == "conflict"
    assert job.job_id in str(moving.value)
    with pytest.raises(ConflictError, match="moving to cold storage"):
        client.datasets.restore(DATASET)
    assert world_state(fake) == before
    client.datasets.wait_for_storage(DATASET)
    with pytest.raises(ConflictError, match="already in cold storage: there is nothing to freeze"):
        client.datasets.freeze(DATASET)


def test_a_public_dataset_or_one_with_forks_is_not_frozen(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # Explore serves a public dataset's files, and a fork shares its source's.
    fake.add_dataset("atlas", images=4, completed_images=4, visibility="public")
    ref = f"{fake.organization.slug}/atlas"
    other = fake.add_organization()
    with other.client(max_retries=0) as theirs:
        theirs.datasets.wait_for_public_import(
            theirs.datasets.import_public(ref, wait=False).import_id
        )
    before = world_state(fake)
    with pytest.raises(ConflictError, match="'atlas' is public: Explore serves its files"):
        client.datasets.freeze("atlas")
    assert world_state(fake) == before
    fake.unpublish_dataset("atlas")
    before = world_state(fake)
    with pytest.raises(ConflictError, match=r"has forks \(1 imported copy shares its files\)"):
        client.datasets.freeze("atlas")
    assert world_state(fake) == before
    assert client.datasets.storage_status("atlas").storage_state == "idle"
    # Once the fork is gone, the dataset freezes.
    with other.client(max_retries=0) as theirs:
        theirs.datasets.delete("atlas")
    assert client.datasets.freeze("atlas").storage_state == "freezing"


async def test_async_a_public_dataset_is_not_frozen(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    fake.add_dataset("atlas", images=2, visibility="public")
    with pytest.raises(ConflictError, match="is public"):
        await aclient.datasets.freeze("atlas")
    assert (await aclient.datasets.storage_status("atlas")).storage_state == "idle"


def test_freeze_and_restore_need_an_admin_key(fake: FakePictograph) -> None:
    member = fake.client(api_key=fake.add_api_key("member"), max_retries=0)
    before = world_state(fake)
    with pytest.raises(ForbiddenError, match="freeze datasets"):
        member.datasets.freeze(DATASET)
    with pytest.raises(ForbiddenError, match="restore datasets"):
        member.datasets.restore(DATASET)
    assert world_state(fake) == before
    admin = fake.client(api_key=fake.add_api_key("admin"), max_retries=0)
    assert admin.datasets.freeze(DATASET).storage_state == "freezing"


def test_a_dataset_deleted_while_freezing_ends_quietly(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    client.datasets.freeze(DATASET)
    client.datasets.delete(DATASET)
    fake.clock.advance(FROZEN_AFTER + 1)
    assert [d.name for d in client.datasets.list()] == []


# ── restore ──


def test_the_restore_quote_is_what_the_restore_charges_on_success(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    frozen(fake, client)
    fake.clock.advance(30 * 86_400.0)
    estimate = client.datasets.storage_status(DATASET).restore_estimate
    assert estimate is not None
    assert estimate.operation == "dataset_restore"
    assert estimate.days_in_cold == pytest.approx(30.0, abs=0.01)
    assert estimate.cold_image_count == IMAGES
    lines = (estimate.retrieval_micro_usd, estimate.early_delete_micro_usd)
    assert estimate.total_micro_usd == sum(lines) + estimate.operations_micro_usd
    assert estimate.total_micro_usd > 0
    balance = fake.balance_micro_usd

    job = client.datasets.restore(DATASET)
    assert (job.storage_state, job.quoted_micro_usd) == ("restoring", estimate.total_micro_usd)
    restoring = client.datasets.storage_status(DATASET)
    assert (restoring.storage_class, restoring.storage_state) == ("coldline", "restoring")
    assert restoring.restore_estimate is None
    # Billed on success: nothing is charged while the restore runs.
    assert fake.balance_micro_usd == balance
    started = fake.clock.monotonic()

    status = client.datasets.wait_for_storage(DATASET)
    assert (status.storage_class, status.storage_state, status.cold_since) == (
        "standard",
        "idle",
        None,
    )
    assert (status.cold_bytes, status.cold_image_count) == (0, 0)
    entry = fake.ledger[-1]
    assert (entry.operation, entry.amount) == ("dataset_restore", -estimate.total_micro_usd)
    assert entry.metadata == {"dataset_id": client.datasets.get(DATASET).id, "job_id": job.job_id}
    assert entry.created_at == pytest.approx(started + RESTORED_AFTER)
    assert fake.balance_micro_usd == balance - estimate.total_micro_usd
    # Warm again: the export the freeze paused is made.
    assert client.exports.create(DATASET, "after-restore", wait=True).status == "completed"


def test_restoring_a_dataset_that_is_not_cold_is_a_conflict(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    before = world_state(fake)
    with pytest.raises(ConflictError, match="is not in cold storage: there is nothing to restore"):
        client.datasets.restore(DATASET)
    assert world_state(fake) == before


def test_a_restore_the_balance_cannot_cover_is_a_402_that_starts_nothing() -> None:
    with FakePictograph(seed=1, balance_usd=0) as fake:
        fake.add_dataset(DATASET, images=IMAGES, completed_images=IMAGES)
        client = fake.client(max_retries=0)
        frozen(fake, client)
        quote = client.datasets.storage_status(DATASET).restore_estimate
        assert quote is not None
        before = world_state(fake)
        with pytest.raises(PaymentRequiredError, match="to restore dataset 'road-signs'"):
            client.datasets.restore(DATASET)
        assert world_state(fake) == before
        assert client.datasets.storage_status(DATASET).storage_state == "idle"


def test_two_restores_cannot_promise_one_balance_twice() -> None:
    with FakePictograph(seed=1, balance_usd=0) as fake:
        for name in ("a", "b"):
            fake.add_dataset(name, images=IMAGES, completed_images=IMAGES)
        client = fake.client(max_retries=0)
        for name in ("a", "b"):
            client.datasets.freeze(name)
            client.datasets.wait_for_storage(name)
        quotes = [client.datasets.storage_status(n).restore_estimate for n in ("a", "b")]
        assert quotes[0] is not None
        assert quotes[1] is not None
        first, second = quotes[0].total_micro_usd, quotes[1].total_micro_usd
        fake.top_up((first + second - 1) / 1_000_000)  # enough for either, not both
        client.datasets.restore("a")
        before = world_state(fake)
        with pytest.raises(PaymentRequiredError, match="once the restores under way are paid"):
            client.datasets.restore("b")
        assert world_state(fake) == before
        client.datasets.wait_for_storage("a")
        assert fake.balance_micro_usd == second - 1  # never below zero
        assert client.datasets.storage_status("b").storage_state == "idle"


# ── what a cold dataset refuses, and what it still does ──


def test_a_cold_dataset_refuses_exports_training_uploads_and_image_downloads(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    frozen(fake, client)
    before = world_state(fake)
    runs = dict(fake.world.runs)
    with pytest.raises(ConflictError) as export:
        client.exports.create(DATASET, "while-cold")
    refused_cold(export, "an export")
    with pytest.raises(ConflictError) as run:
        client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="cold-run")
    refused_cold(run, "a training run")
    with pytest.raises(ConflictError) as upload:
        client.images.upload(DATASET, write_image(tmp_path / "new.png"))
    refused_cold(upload, "an upload")
    with pytest.raises(ConflictError) as download:
        client.datasets.download(DATASET, tmp_path / "out")
    refused_cold(download, "a download of its images")
    assert world_state(fake) == before
    assert fake.world.runs == runs


def test_a_cold_dataset_refuses_reading_an_image_file(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    # One image's bytes are its file as much as the batch download's are: a cold
    # dataset served them (and its data bundle) while refusing datasets.download.
    frozen(fake, client)
    image = client.images.get(DATASET, "img-00001.jpg")
    with pytest.raises(ConflictError) as by_name:
        client.images.download(DATASET, "img-00001.jpg", tmp_path / "a.jpg")
    refused_cold(by_name, "a download of its images")
    with pytest.raises(ConflictError) as by_id:
        client.images.download(DATASET, image.id, tmp_path / "b.jpg")
    refused_cold(by_id, "a download of its images")
    with pytest.raises(ConflictError) as bundle:
        client.images.download_bundle(DATASET, "img-00001.jpg", tmp_path / "c.zip")
    refused_cold(bundle, "a download of its images")
    assert not list(tmp_path.iterdir())

    client.datasets.restore(DATASET)
    client.datasets.wait_for_storage(DATASET)
    assert client.images.download(DATASET, image.id, tmp_path / "b.jpg").stat().st_size > 0


async def test_a_moving_dataset_refuses_reading_an_image_file_async(
    fake: FakePictograph, aclient: pictograph.AsyncClient, tmp_path: Path
) -> None:
    await aclient.datasets.freeze(DATASET)
    with pytest.raises(ConflictError) as moving:
        await aclient.images.download(DATASET, "img-00001.jpg", tmp_path / "a.jpg")
    assert moving.value.code == "dataset_cold"
    assert f"'{DATASET}' is moving to cold storage" in str(moving.value)
    with pytest.raises(ConflictError) as bundle:
        await aclient.images.download_bundle(DATASET, "img-00001.jpg", tmp_path / "c.zip")
    assert bundle.value.code == "dataset_cold"


def _copies_refused(fake: FakePictograph, client: pictograph.Client) -> list[ConflictError]:
    """Copy two images within the cold dataset, out of it and into it; the refusals."""
    fake.add_dataset("warm", images=2)
    cold_ids = [i.id for i in client.images.list(DATASET, limit=2)]
    warm_ids = [i.id for i in client.images.list("warm")]
    before = world_state(fake)
    refusals: list[ConflictError] = []
    copies: tuple[Callable[[], object], ...] = (
        lambda: client.batch.copy(DATASET, cold_ids, target_directory_path="/c"),
        lambda: client.batch.copy_to_dataset(DATASET, cold_ids, "warm"),
        lambda: client.batch.copy_to_dataset("warm", warm_ids, DATASET),
    )
    for copy in copies:
        with pytest.raises(ConflictError) as refusal:
            copy()
        refusals.append(refusal.value)
    assert world_state(fake) == before
    return refusals


def test_a_cold_dataset_refuses_copies_of_its_images_and_into_it(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # A copy writes a new image file (and reads the source's): it was served while
    # cold, and copied images landed in cold storage uncharged and unrestored.
    frozen(fake, client)
    within, out_of, into = _copies_refused(fake, client)
    for refusal in (within, out_of, into):
        assert (refusal.status_code, refusal.code) == (409, "dataset_cold")
    assert "a copy of its images needs its image files" in within.message
    assert "a copy of its images into another dataset needs" in out_of.message
    assert "a copy of images into it needs its image files" in into.message
    assert client.datasets.storage_status(DATASET).cold_image_count == IMAGES


async def test_a_moving_dataset_refuses_copies_async(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    fake.add_dataset("warm", images=1)
    ids = [i.id for i in await aclient.images.list(DATASET, limit=1)]
    await aclient.datasets.freeze(DATASET)
    with pytest.raises(ConflictError) as within:
        await aclient.batch.copy(DATASET, ids, target_directory_path="/c")
    with pytest.raises(ConflictError) as out_of:
        await aclient.batch.copy_to_dataset(DATASET, ids, "warm")
    for refusal in (within, out_of):
        assert refusal.value.code == "dataset_cold"
        assert "is moving to cold storage" in refusal.value.message
    assert [i.filename for i in await aclient.images.list("warm")] == ["img-00001.jpg"]


@pytest.mark.parametrize("use_async", [False, True])
def test_a_training_run_refused_on_a_cold_dataset_leaves_the_world_as_it_was(
    fake: FakePictograph, client: pictograph.Client, use_async: bool
) -> None:
    # The run was admitted first and refused after: admission had memoized the
    # export's class support, so the refusal changed the world.
    frozen(fake, client)
    before = state_digest(fake.world)

    def create() -> None:
        if use_async:

            async def start() -> None:
                async with fake.async_client(max_retries=0) as aclient:
                    await aclient.training.create(
                        DATASET, EXPORT, pipeline_type="yolox", name="cold-run", wait=False
                    )

            asyncio.run(start())
        else:
            client.training.create(
                DATASET, EXPORT, pipeline_type="yolox", name="cold-run", wait=False
            )

    with pytest.raises(ConflictError) as run:
        create()
    refused_cold(run, "a training run")
    assert state_digest(fake.world) == before


def test_a_cold_dataset_is_still_read_and_annotated(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    frozen(fake, client)
    dataset = client.datasets.get(DATASET)
    assert dataset.image_count == IMAGES
    # Labels are not image files: annotating goes on while cold (the SDK's
    # DatasetStorageStatus: "browsing/annotations keep working").
    box = BBoxAnnotation(name="stop_sign", bounding_box=BoundingBox(x=1, y=2, w=30, h=40))
    saved = client.annotations.save(DATASET, "img-00001.jpg", [box])
    assert saved.new_count == 1
    client.datasets.download(DATASET, tmp_path / "labels", mode="annotations_only")
    assert client.exports.get(DATASET, EXPORT).status == "completed"


def test_a_training_quote_on_a_cold_dataset_names_it_as_a_blocker(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    frozen(fake, client)
    quote = client.training.quote(DATASET, EXPORT, pipeline_type="yolox")
    cold = [b for b in quote.blocking if b.code == "dataset_cold"]
    assert len(cold) == 1
    assert "restore it first" in cold[0].message


def test_a_bulk_upload_to_a_cold_dataset_is_refused_whole(fake: FakePictograph) -> None:
    with FakePictograph(seed=1) as world:
        world.add_dataset(DATASET, images=2, completed_images=2)
        client = world.client(max_retries=0)
        frozen(world, client)
        entry = {"filename": "a.png", "directory_path": "/", "content_type": "image/png"}
        with raw(world) as http:
            answer = http.post(
                "/api/v1/developer/images/bulk-register",
                json={"dataset": DATASET, "images": [{**entry, "width": 4, "height": 4}]},
            )
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "dataset_cold"


# ── older releases ──


def _http(fake: FakePictograph, release: str) -> httpx.Client:
    client = raw(fake)
    client.headers["User-Agent"] = f"pictograph-python/{release}"
    return client


def test_releases_before_1_61_read_the_storage_replies_at_the_root(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    dataset_id = client.datasets.get(DATASET).id
    base = f"/api/v1/developer/datasets/{dataset_id}/storage"
    with _http(fake, "1.60.0") as old:
        status = old.get(base).json()
        job = old.post(f"{base}/freeze").json()
    assert DatasetStorageStatus.model_validate(status).storage_class == "standard"
    assert "data" not in status
    assert job["storage_state"] == "freezing"
    assert {"charged_micro_usd", "quoted_micro_usd"} <= set(job)


def test_releases_before_1_69_58_read_the_restore_fee_as_charged(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    frozen(fake, client)
    quote = client.datasets.storage_status(DATASET).restore_estimate
    assert quote is not None
    # 1.61.0 to 1.69.43 address a dataset by name as `by-name/{name}`.
    with _http(fake, "1.69.43") as old:
        answer = old.post(f"/api/v1/developer/datasets/by-name/{DATASET}/storage/restore")
    assert answer.status_code == 200
    assert answer.json()["data"]["charged_micro_usd"] == quote.total_micro_usd
    with _http(fake, "1.2.0") as older:
        # No release before 1.4.0 has cold storage: the route is not theirs.
        assert older.get(f"/api/v1/developer/datasets/{DATASET}/storage").status_code == 404


# ── scenarios ──


def test_a_scenario_declares_a_cold_dataset() -> None:
    document = {
        "schema_version": 1,
        "datasets": [
            {
                "name": DATASET,
                "storage_class": "coldline",
                "synthetic_images": {"count": 6, "complete": 6},
                "exports": [{"name": EXPORT}],
            }
        ],
    }
    with FakePictograph(scenario=document) as fake:
        client = fake.client(max_retries=0)
        status = client.datasets.storage_status(DATASET)
        assert (status.storage_class, status.storage_state) == ("coldline", "idle")
        assert status.cold_image_count == 6
        with pytest.raises(ConflictError) as run:
            client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="r")
        assert run.value.code == "dataset_cold"


def test_a_snapshot_keeps_a_restore_under_way() -> None:
    with FakePictograph(seed=2) as fake:
        fake.add_dataset(DATASET, images=IMAGES, completed_images=IMAGES)
        client = fake.client(max_retries=0)
        frozen(fake, client)
        client.datasets.restore(DATASET)
        document = fake.snapshot()
        fake.clock.advance(RESTORED_AFTER)
        expected = client.datasets.storage_status(DATASET)
        ledger = fake.ledger
    with FakePictograph(scenario=document) as again:
        client = again.client(max_retries=0)
        assert client.datasets.storage_status(DATASET).storage_state == "restoring"
        again.clock.advance(RESTORED_AFTER)
        assert client.datasets.storage_status(DATASET) == expected
        assert again.ledger == ledger


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"storage_class": "archive"}, "storage_class must be one of"),
        ({"storage_state": "freezing"}, "a freeze or restore under way is a snapshot's"),
        ({"cold_since": 5.0}, "cold_since is for a dataset in 'coldline' storage"),
    ],
)
def test_a_scenario_refuses_a_storage_state_it_cannot_hold(
    fields: dict[str, Any], problem: str
) -> None:
    document = {"schema_version": 1, "datasets": [{"name": DATASET, **fields}]}
    with pytest.raises(ValueError, match=problem):
        FakePictograph(scenario=document)


def test_a_cold_datasets_images_count_half_toward_the_plans_limit(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # The SDK's `freeze`: "images count half toward quota" while cold (its CLI's words).
    warm = client.connectors.check_limits(total_images=0, estimated_size_bytes=0)
    client.datasets.freeze(DATASET)
    moving = client.connectors.check_limits(total_images=0, estimated_size_bytes=0)
    assert moving.current_images == warm.current_images  # still warm while it moves
    client.datasets.wait_for_storage(DATASET)
    cold = client.connectors.check_limits(total_images=0, estimated_size_bytes=0)
    assert cold.current_images == warm.current_images - IMAGES // 2
    client.datasets.restore(DATASET)
    client.datasets.wait_for_storage(DATASET)
    again = client.connectors.check_limits(total_images=0, estimated_size_bytes=0)
    assert again.current_images == warm.current_images


async def test_async_a_cold_datasets_images_count_half(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    warm = await aclient.connectors.check_limits(total_images=0, estimated_size_bytes=0)
    await aclient.datasets.freeze(DATASET)
    await aclient.datasets.wait_for_storage(DATASET)
    cold = await aclient.connectors.check_limits(total_images=0, estimated_size_bytes=0)
    assert cold.current_images == warm.current_images - IMAGES // 2


def test_a_dataset_declared_cold_in_a_scenario_counts_half() -> None:
    document = {
        "schema_version": 1,
        "datasets": [
            {"name": "archive", "storage_class": "coldline", "synthetic_images": {"count": 10}}
        ],
    }
    with FakePictograph(scenario=document) as loaded, loaded.client(max_retries=0) as client:
        limits = client.connectors.check_limits(total_images=0, estimated_size_bytes=0)
        assert limits.current_images == 5


def test_cold_copies_of_warm_images_are_not_discounted(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # The copies share files a warm dataset holds: those files count in full still.
    warm = client.connectors.check_limits(total_images=0, estimated_size_bytes=0)
    fake.add_dataset("archive")
    every = [i.id for i in client.images.iter(DATASET)]
    client.batch.copy_to_dataset(DATASET, every, "archive")
    client.datasets.freeze("archive")
    client.datasets.wait_for_storage("archive")
    cold = client.connectors.check_limits(total_images=0, estimated_size_bytes=0)
    assert cold.current_images == warm.current_images


# ── rules a mutation run of the cold-storage service found untested ──

DAY = 86_400.0
ARCHIVE = 2_000
"""Images of the dataset the tariff tests freeze: enough bytes for whole µUSD lines."""


def _frozen_archive(fake: FakePictograph, client: pictograph.Client) -> None:
    """Freeze a dataset of ARCHIVE images, the clock left at the instant it turns cold."""
    fake.add_dataset("archive", images=ARCHIVE, completed_images=ARCHIVE)
    client.datasets.freeze("archive")
    fake.clock.advance(FREEZE_SECONDS + SECONDS_PER_IMAGE * ARCHIVE)


def _marked_up(micro_usd: float) -> int:
    """A tariff line as the quote writes it: marked up, rounded half up to whole µUSD."""
    return math.floor(micro_usd * COLD_STORAGE.markup + 0.5)


def test_a_freeze_takes_its_time_per_image_to_the_second(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_dataset("archive", images=ARCHIVE, completed_images=ARCHIVE)
    stamped = client.datasets.get("archive").updated_at
    fake.clock.advance(60)
    client.datasets.freeze("archive")
    # The move starting is a change to the dataset.
    assert client.datasets.get("archive").updated_at == fake.clock.now() != stamped
    fake.clock.advance(FREEZE_SECONDS + SECONDS_PER_IMAGE * ARCHIVE - 1)
    assert client.datasets.storage_status("archive").storage_state == "freezing"
    fake.clock.advance(1)
    status = client.datasets.storage_status("archive")
    assert (status.storage_class, status.storage_state) == ("coldline", "idle")


def test_the_restore_quote_follows_the_tariff_line_by_line(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # Each line is a rate of COLD_STORAGE for the cold gigabytes (early deletion: the
    # cold rate for the months of 30 days left of the 90-day minimum), marked up.
    _frozen_archive(fake, client)
    days = 12.3456
    fake.clock.advance(days * DAY)
    estimate = client.datasets.storage_status("archive").restore_estimate
    assert estimate is not None
    tariff = COLD_STORAGE
    gigabytes = estimate.cold_bytes / 1_000_000_000
    assert estimate.cold_bytes == client.datasets.get("archive").total_size
    assert (estimate.days_in_cold, estimate.min_storage_days) == (12.35, 90.0)
    assert estimate.retrieval_micro_usd == _marked_up(gigabytes * tariff.retrieval_micro_usd_per_gb)
    saved = tariff.standard_micro_usd_per_gb_month - tariff.cold_micro_usd_per_gb_month
    assert estimate.monthly_savings_micro_usd == _marked_up(gigabytes * saved)
    months_left = (tariff.min_storage_days - days) / 30
    assert estimate.early_delete_micro_usd == _marked_up(
        gigabytes * tariff.cold_micro_usd_per_gb_month * months_left
    )
    per_image = tariff.operation_micro_usd_per_image
    assert estimate.operations_micro_usd == _marked_up(ARCHIVE * per_image) == 12_000
    # Past the 90 days, nothing is left to pay for early deletion.
    fake.clock.advance(80 * DAY)
    later = client.datasets.storage_status("archive").restore_estimate
    assert later is not None
    assert (later.days_in_cold, later.early_delete_micro_usd) == (92.35, 0)
    assert later.total_micro_usd == later.retrieval_micro_usd + later.operations_micro_usd


def test_a_restoring_dataset_refuses_what_needs_its_files_until_it_ends(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    frozen(fake, client)
    client.datasets.restore(DATASET)
    with pytest.raises(ConflictError) as export:
        client.exports.create(DATASET, "while-restoring")
    assert export.value.code == "dataset_cold"
    assert f"'{DATASET}' is being restored from cold storage, and an export needs" in str(
        export.value
    )
    assert f"wait for the restore (datasets.wait_for_storage('{DATASET}'))" in str(export.value)
    client.datasets.wait_for_storage(DATASET)
    assert client.exports.create(DATASET, "after", wait=True).status == "completed"


def test_a_balance_of_exactly_the_quote_restores() -> None:
    with FakePictograph(seed=1, balance_usd=0) as fake:
        fake.add_dataset(DATASET, images=IMAGES, completed_images=IMAGES)
        client = fake.client(max_retries=0)
        frozen(fake, client)
        quote = client.datasets.storage_status(DATASET).restore_estimate
        assert quote is not None
        fake.top_up(quote.total_micro_usd / 1_000_000)
        assert client.datasets.restore(DATASET).quoted_micro_usd == quote.total_micro_usd
        client.datasets.wait_for_storage(DATASET)
        assert fake.balance_micro_usd == 0


def test_only_the_organizations_own_live_restores_hold_its_balance() -> None:
    # Another organization's restore under way, or one of a dataset deleted since,
    # promises nothing of this balance.
    with FakePictograph(seed=1, balance_usd=0) as fake:
        other = fake.add_organization()
        for name in ("a", "b"):
            fake.add_dataset(name, images=IMAGES, completed_images=IMAGES)
        fake.add_dataset("theirs", images=IMAGES, completed_images=IMAGES, organization=other)
        client = fake.client(max_retries=0)
        theirs = other.client(max_retries=0)
        for sdk, name in ((client, "a"), (client, "b"), (theirs, "theirs")):
            sdk.datasets.freeze(name)
            sdk.datasets.wait_for_storage(name)
        quotes = {}
        for sdk, name in ((client, "a"), (client, "b"), (theirs, "theirs")):
            estimate = sdk.datasets.storage_status(name).restore_estimate
            assert estimate is not None
            quotes[name] = estimate.total_micro_usd
        fake.top_up(quotes["a"] / 1_000_000)
        other.top_up(quotes["theirs"] / 1_000_000)
        client.datasets.restore("a")
        assert theirs.datasets.restore("theirs").quoted_micro_usd == quotes["theirs"]
        client.datasets.delete("a")  # its restore will charge nothing now
        fake.top_up(quotes["b"] / 1_000_000 - quotes["a"] / 1_000_000 + 1e-6)
        assert client.datasets.restore("b").quoted_micro_usd == quotes["b"]


def test_a_restore_refused_past_promised_credit_reports_nothing_left() -> None:
    # A training run's pre-charge does not count the restores under way: spent below
    # what a restore holds, the balance leaves the next restore nothing, never a debt.
    with FakePictograph(seed=1, balance_usd=0) as fake:
        for name in ("a", "b"):
            fake.add_dataset(name, images=IMAGES, completed_images=IMAGES)
        fake.add_dataset("warm", images=IMAGES, completed_images=IMAGES)
        fake.add_export("warm", "v1")
        client = fake.client(max_retries=0)
        for name in ("a", "b"):
            client.datasets.freeze(name)
            client.datasets.wait_for_storage(name)
        estimate = client.datasets.storage_status("a").restore_estimate
        assert estimate is not None
        quote = client.training.quote("warm", "v1", pipeline_type="yolox")
        precharge = quote.balance.required_to_start_micro_usd
        fake.top_up((estimate.total_micro_usd + precharge - 1) / 1_000_000)
        client.datasets.restore("a")
        client.training.create("warm", "v1", pipeline_type="yolox", name="r", wait=False)
        assert fake.balance_micro_usd == estimate.total_micro_usd - 1
        with pytest.raises(PaymentRequiredError) as refused:
            client.datasets.restore("b")
        assert "has $0.00 once the restores under way are paid" in str(refused.value)
        assert refused.value.credits_remaining == 0


def test_a_short_move_ends_on_time_whatever_starts_after_it(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_dataset("long", images=ARCHIVE)
    fake.add_dataset("short", images=1)
    client.datasets.freeze("short")
    client.datasets.freeze("long")
    fake.clock.advance(FREEZE_SECONDS + SECONDS_PER_IMAGE)
    assert client.datasets.storage_status("short").storage_class == "coldline"
    assert client.datasets.storage_status("long").storage_state == "freezing"


def test_restores_ending_in_one_catch_up_are_charged_in_the_order_they_end() -> None:
    with FakePictograph(seed=1) as fake:
        fake.add_dataset("bigger", images=IMAGES * 2)
        fake.add_dataset("smaller", images=IMAGES)
        client = fake.client(max_retries=0)
        for name in ("bigger", "smaller"):
            client.datasets.freeze(name)
            client.datasets.wait_for_storage(name)
        for name in ("bigger", "smaller"):  # at one instant: the smaller ends first
            client.datasets.restore(name)
        fake.clock.advance(RESTORE_SECONDS + SECONDS_PER_IMAGE * IMAGES * 2)
        charged = [e for e in fake.ledger if e.operation == "dataset_restore"]
        assert [e.description for e in charged] == [
            "Restore of dataset 'smaller' from cold storage",
            "Restore of dataset 'bigger' from cold storage",
        ]
        assert charged[0].created_at < charged[1].created_at


def test_a_move_read_long_after_it_ended_is_dated_when_it_ended(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    started = fake.clock.now()
    client.datasets.freeze(DATASET)
    fake.clock.advance(DAY)  # nothing reads the dataset until a day later
    ended = started + timedelta(seconds=FROZEN_AFTER)
    assert client.datasets.storage_status(DATASET).cold_since == ended
    assert client.datasets.get(DATASET).updated_at == ended


def test_restoring_an_empty_dataset_is_free_and_posts_nothing(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_dataset("empty")
    client.datasets.freeze("empty")
    client.datasets.wait_for_storage("empty")
    estimate = client.datasets.storage_status("empty").restore_estimate
    assert estimate is not None
    assert estimate.total_micro_usd == 0
    entries = len(fake.ledger)
    assert client.datasets.restore("empty").quoted_micro_usd == 0
    assert client.datasets.wait_for_storage("empty").storage_class == "standard"
    assert len(fake.ledger) == entries


def test_a_snapshot_after_a_restore_holds_no_quote(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    frozen(fake, client)
    client.datasets.restore(DATASET)
    client.datasets.wait_for_storage(DATASET)
    (dataset,) = [d for d in fake.snapshot()["datasets"] if d["name"] == DATASET]
    assert (dataset["storage_state"], dataset["restore_quote"]) == ("idle", None)


def test_a_scenarios_cold_since_ahead_of_the_clock_counts_no_days_yet() -> None:
    # Frozen "tomorrow" by hand: no days in cold storage yet, never a negative count.
    document = {
        "schema_version": 1,
        "datasets": [
            {
                "name": DATASET,
                "storage_class": "coldline",
                "cold_since": DAY,
                "synthetic_images": {"count": 2},
            }
        ],
    }
    with FakePictograph(scenario=document) as fake:
        estimate = fake.client(max_retries=0).datasets.storage_status(DATASET).restore_estimate
        assert estimate is not None
        assert estimate.days_in_cold == 0.0
