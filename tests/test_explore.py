"""Explore through the real SDK (sync and async): ``explore.datasets``, ``dataset``,
``models`` and their pagers, and the import of a public dataset
(``datasets.import_public``, ``get_public_import``, ``wait_for_public_import``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from pictograph.exceptions import (
    ApiError,
    ForbiddenError,
    NotFoundError,
    PaymentRequiredError,
    PollTimeoutError,
    ValidationError,
)
from pictograph.models.explore import PublicDataset, PublicDatasetImport, PublicModel
from pictograph.models.training import PipelineType

from pictograph_testing import FakePictograph
from pictograph_testing.catalog import PLANS
from pictograph_testing.world.public_imports import (
    IMPORT_SECONDS,
    QUEUE_SECONDS,
    SECONDS_PER_IMAGE,
)
from tests.conftest import DATASET, EXPORT
from tests.image_files import raw, write_image

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pictograph

    from pictograph_testing.fake import FakeOrganization

pytestmark = pytest.mark.usefixtures("no_real_waiting")
SOURCE_IMAGES = 12
IMPORTED_AFTER = QUEUE_SECONDS + IMPORT_SECONDS + SECONDS_PER_IMAGE * SOURCE_IMAGES


@pytest.fixture
def research(fake: FakePictograph) -> FakeOrganization:
    """Another organization that published ``COCO-5k`` and keeps ``secret`` private."""
    org = fake.add_organization(name="Pictograph Research")
    org.add_dataset(
        "COCO-5k",
        images=SOURCE_IMAGES,
        completed_images=4,
        classes=["person", "car"],
        description="street scenes",
        visibility="public",
        license_id="cc-by-4.0",
    )
    org.add_dataset("secret", images=3)
    return org


@pytest.fixture
def ref(research: FakeOrganization) -> str:
    return f"{research.slug}/coco-5k"


def _train(client: pictograph.Client, name: str, pipeline: PipelineType = "yolox") -> None:
    run = client.training.create(DATASET, EXPORT, pipeline_type=pipeline, name=name)
    assert run.model_id is not None


# ── the dataset catalog ──


def test_explore_lists_every_organizations_public_datasets_only(
    fake: FakePictograph, client: pictograph.Client, research: FakeOrganization
) -> None:
    # Ours is private: not listed, to us or anyone.
    [row] = client.explore.datasets()
    assert isinstance(row, PublicDataset)
    assert row.ref == "pictograph-research/coco-5k"
    assert (row.name, row.description, row.license_id) == ("COCO-5k", "street scenes", "cc-by-4.0")
    assert row.organization is not None
    assert row.organization.name == "Pictograph Research"
    assert row.image_count == SOURCE_IMAGES
    # Two boxes an image, as the fixture's synthetic images hold.
    assert row.annotation_count == 2 * SOURCE_IMAGES
    assert [c.name for c in row.classes] == ["person", "car"]
    assert row.class_count == 2
    assert row.published_at is not None
    assert not row.is_fork
    # The publisher reads the same catalog.
    with research.client(max_retries=0) as theirs:
        assert [d.id for d in theirs.explore.datasets()] == [row.id]
    assert client.datasets.get(DATASET).is_public is False


def test_the_detail_has_the_card_and_every_class(
    fake: FakePictograph, client: pictograph.Client, research: FakeOrganization, ref: str
) -> None:
    many = [f"class-{n}" for n in range(8)]
    research.add_dataset("Many Classes", classes=many, visibility="public")
    fake.world.dataset(research.id, "Many Classes").readme = "# A card"
    [row] = client.explore.datasets(search="many")
    # A row carries the first few classes; the detail has them all, and the card.
    assert len(row.classes) == 5
    assert row.class_count == 8
    assert row.readme is None
    detail = client.explore.dataset(row.ref)
    assert [c.name for c in detail.classes] == many
    assert detail.readme == "# A card"
    # By display name too, or the bare name with organization=.
    assert client.explore.dataset("Many Classes", organization=research.slug).id == detail.id
    assert client.explore.dataset(ref).name == "COCO-5k"


def test_a_private_or_unknown_dataset_is_one_and_the_same_404(
    client: pictograph.Client, research: FakeOrganization
) -> None:
    messages = []
    for missing in (f"{research.slug}/secret", f"{research.slug}/nothing", "no-such-org/coco-5k"):
        with pytest.raises(NotFoundError) as refusal:
            client.explore.dataset(missing)
        messages.append(str(refusal.value).split(" not found")[0])
    assert messages[0] == f"Public dataset '{research.slug}/secret'"
    # Our own private dataset is not public either.
    with pytest.raises(NotFoundError):
        client.explore.dataset(DATASET, organization=client.organizations.me().slug)


async def test_a_slug_two_organizations_share_names_the_first_made(
    fake: FakePictograph,
    client: pictograph.Client,
    aclient: pictograph.AsyncClient,
    research: FakeOrganization,
) -> None:
    later = fake.add_organization(name="Pictograph Research")
    assert later.slug == research.slug
    later.add_dataset("Late", visibility="public")
    research.add_dataset("Early", visibility="public")
    assert client.explore.dataset(f"{research.slug}/early").name == "Early"
    assert (await aclient.explore.dataset(f"{research.slug}/early")).name == "Early"
    # The later organization's dataset is listed, but its name leads to the first's.
    assert {d.name for d in client.explore.datasets(search="late")} == {"Late"}
    with pytest.raises(NotFoundError):
        client.explore.dataset(f"{research.slug}/late")


async def test_a_display_name_beats_a_slug_and_both_follow_a_rename(
    fake: FakePictograph,
    client: pictograph.Client,
    aclient: pictograph.AsyncClient,
    research: FakeOrganization,
) -> None:
    # `Road Signs` is `road-signs` by slug; published later, `road-signs` is it by name.
    research.add_dataset("Road Signs", visibility="public")
    research.add_dataset("road-signs", visibility="public", description="by name")
    assert client.explore.dataset(f"{research.slug}/road-signs").description == "by name"
    assert client.explore.dataset(f"{research.slug}/Road Signs").name == "Road Signs"
    # Stars refile it in `popular`: it still answers to both of its names.
    research.publish_dataset("Road Signs", star_count=3)
    assert (await aclient.explore.dataset(f"{research.slug}/Road Signs")).star_count == 3
    assert (await aclient.explore.dataset(f"{research.slug}/road-signs")).name == "road-signs"
    with research.client(max_retries=0) as theirs:
        theirs.datasets.update("road-signs", new_name="Lanes")
        # Its old names are gone: the slug is the other dataset's alone now.
        assert client.explore.dataset(f"{research.slug}/road-signs").name == "Road Signs"
        assert client.explore.dataset(f"{research.slug}/lanes").name == "Lanes"
        fake.unpublish_dataset("Road Signs", organization=research)
    with pytest.raises(NotFoundError):
        client.explore.dataset(f"{research.slug}/road-signs")


async def test_publishing_again_sets_no_stars_and_no_tags_when_given(
    fake: FakePictograph,
    client: pictograph.Client,
    aclient: pictograph.AsyncClient,
    research: FakeOrganization,
) -> None:
    """``star_count=0`` and ``auto_tags=[]`` are values to set, not "leave them be"."""
    research.add_dataset("Zebras", visibility="public")
    research.publish_dataset("Zebras", star_count=5, auto_tags=["savanna"])
    assert [d.name for d in client.explore.datasets(search="savanna")] == ["Zebras"]
    fake.publish_dataset("Zebras", organization=research, star_count=0, auto_tags=[])
    shown = await aclient.explore.dataset(f"{research.slug}/Zebras")
    assert (shown.star_count, shown.top_auto_tags) == (0, [])
    assert client.explore.datasets(search="savanna") == []


def test_sorts_filters_and_pages(
    fake: FakePictograph, client: pictograph.Client, research: FakeOrganization
) -> None:
    for name, stars in (("Zebras", 1), ("apples", 9), ("Mangoes", 4)):
        research.add_dataset(name, classes=[name.lower()], visibility="public")
        fake.clock.advance(60)
        fake.publish_dataset(name, organization=research, star_count=stars)
    fake.publish_dataset("Zebras", organization=research, auto_tags=["savanna", "street"])

    def names(**options: object) -> list[str]:
        return [d.name for d in client.explore.datasets(**options)]  # type: ignore[arg-type]

    assert names() == ["Mangoes", "apples", "Zebras", "COCO-5k"]
    assert names(sort="popular") == ["apples", "Mangoes", "Zebras", "COCO-5k"]
    # The fake keeps no star history: this week's stars are all of them.
    assert names(sort="trending") == names(sort="popular")
    assert names(sort="alphabetical") == ["apples", "COCO-5k", "Mangoes", "Zebras"]
    # A name, or what the images show (auto tags), case aside; a class by its name.
    assert names(search="MANGO") == ["Mangoes"]
    assert names(search="street") == ["Zebras"]
    assert names(class_name="car") == ["COCO-5k"]
    assert names(search="z", class_name="car") == []
    # Pages of two, walked by the pager; limit and offset as sent.
    assert [d.name for d in client.explore.iter_datasets(page_size=2, sort="alphabetical")] == [
        "apples",
        "COCO-5k",
        "Mangoes",
        "Zebras",
    ]
    assert names(limit=2, offset=1) == ["apples", "Zebras"]
    pages = [c for c in fake.calls if c.path.endswith("/public/datasets")]
    assert len(pages) >= 3


def test_a_rename_unpublish_or_delete_keeps_the_catalog_in_step(
    fake: FakePictograph, research: FakeOrganization, client: pictograph.Client
) -> None:
    research.add_dataset("Bananas", visibility="public")
    with research.client(max_retries=0) as theirs:
        # Renamed past COCO-5k: the alphabetical order moves it.
        theirs.datasets.update("Bananas", new_name="Zucchini")
        assert [d.name for d in client.explore.datasets(sort="alphabetical")] == [
            "COCO-5k",
            "Zucchini",
        ]
        assert client.explore.dataset(f"{research.slug}/zucchini").name == "Zucchini"
        with pytest.raises(NotFoundError):
            client.explore.dataset(f"{research.slug}/bananas")
        # A public dataset cannot be deleted: it is unpublished first.
        with pytest.raises(ValidationError, match="unpublish it from Explore") as refusal:
            theirs.datasets.delete("Zucchini")
        assert refusal.value.status_code == 400
        assert theirs.datasets.get("Zucchini").is_public is True
        fake.unpublish_dataset("Zucchini", organization=research)
        assert theirs.datasets.get("Zucchini").is_public is False
        assert [d.name for d in client.explore.datasets()] == ["COCO-5k"]
        theirs.datasets.delete("Zucchini")
    assert [d.name for d in client.explore.datasets(sort="popular")] == ["COCO-5k"]


async def test_the_async_client_reads_the_catalog(
    aclient: pictograph.AsyncClient, research: FakeOrganization, ref: str
) -> None:
    [row] = await aclient.explore.datasets(sort="alphabetical")
    assert row.ref == ref
    assert [d.id async for d in aclient.explore.iter_datasets(page_size=1)] == [row.id]
    assert (await aclient.explore.dataset(ref)).id == row.id
    with pytest.raises(NotFoundError):
        await aclient.explore.dataset(f"{research.slug}/secret")
    assert await aclient.explore.models() == []


def test_a_bad_sort_or_page_is_a_422_that_names_the_choices(
    client: pictograph.Client, research: FakeOrganization
) -> None:
    with pytest.raises(ValidationError, match="'recent', 'popular', 'trending'"):
        client.explore.datasets(sort="newest")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="'recent', 'popular', 'alphabetical'"):
        client.explore.models(sort="trending")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="model_type"):
        client.explore.models(model_type="detector")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="limit"):
        client.explore.datasets(limit=0)


# ── the model catalog ──


def test_explore_lists_public_ready_models_and_follows_their_changes(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _train(client, "Signs Detector")
    _train(client, "Private One")
    fake.clock.advance(60)
    _train(client, "Sign Classes", pipeline="classification")
    assert client.explore.models() == []
    client.models.update("Signs Detector", visibility="public")
    fake.clock.advance(60)
    client.models.update("Sign Classes", visibility="public")

    rows = client.explore.models()
    assert [m.name for m in rows] == ["Sign Classes", "Signs Detector"]
    detector = rows[1]
    assert isinstance(detector, PublicModel)
    slug = client.organizations.me().slug
    assert detector.ref == f"{slug}/signs-detector"
    assert detector.model_type == "object_detection"
    assert detector.classes == ["stop_sign", "yield"]
    assert detector.metrics == client.models.get("Signs Detector").metrics
    # Filters: the task, a name.
    assert [m.name for m in client.explore.models(model_type="classification")] == ["Sign Classes"]
    assert [m.name for m in client.explore.models(search="DETECTOR")] == ["Signs Detector"]
    # Stars order `popular`; a rename reorders `alphabetical`; private again, gone.
    fake.star_model("Signs Detector", 5)
    assert client.explore.models(sort="popular")[0].name == "Signs Detector"
    for refused in (True, -1):
        with pytest.raises(ValueError, match=r"^star_count must be a count of 0 or more"):
            fake.star_model("Signs Detector", refused)
    assert fake.star_model("Signs Detector", 0).star_count == 0  # no star is a count too
    assert client.explore.models(sort="popular")[0].star_count == 0
    fake.star_model("Signs Detector", 5)
    client.models.update("Signs Detector", new_name="A Detector")
    assert [m.name for m in client.explore.models(sort="alphabetical")] == [
        "A Detector",
        "Sign Classes",
    ]
    # The fork reads the catalog's names: the new slug, the new display name.
    other = fake.add_organization()
    with other.client(max_retries=0) as theirs:
        assert theirs.models.fork(slug, "a-detector").name == "A Detector"
    client.models.update("A Detector", visibility="private")
    assert [m.name for m in client.explore.iter_models(page_size=1)] == ["Sign Classes"]
    client.models.delete("Sign Classes")
    assert client.explore.models(sort="alphabetical") == []


# ── importing a public dataset ──


def test_an_import_copies_the_dataset_on_the_virtual_clock(
    fake: FakePictograph, client: pictograph.Client, research: FakeOrganization, ref: str
) -> None:
    started = fake.clock.monotonic()
    job = client.datasets.import_public(ref, wait=False)
    assert isinstance(job, PublicDatasetImport)
    assert (job.status, job.image_count, job.total_images) == ("pending", 0, SOURCE_IMAGES)
    assert job.dataset_name == "COCO-5k"
    assert job.source is not None
    assert (job.source.organization, job.source.dataset) == (research.slug, "COCO-5k")
    # The copy is there at once, with the source's classes and license, no images yet.
    copy = client.datasets.get(job.dataset_name)
    assert copy.id == job.dataset_id
    assert copy.image_count == 0
    assert [c.name for c in copy.classes] == ["person", "car"]

    fake.clock.advance(QUEUE_SECONDS + IMPORT_SECONDS / 2)
    running = client.datasets.get_public_import(job.import_id)
    assert running.status == "running"
    assert 0 < running.image_count < SOURCE_IMAGES
    assert 0 < running.progress < 100

    done = client.datasets.wait_for_public_import(job.import_id)
    # The wait polls every 3 virtual seconds: it returns at the first poll after the end.
    assert IMPORTED_AFTER <= fake.clock.monotonic() - started < IMPORTED_AFTER + 3.0
    assert (done.status, done.image_count, done.progress) == ("completed", SOURCE_IMAGES, 100.0)
    assert done.completed_at is not None
    assert done.error is None
    copy = client.datasets.get(job.dataset_name)
    assert (copy.image_count, copy.completed_image_count) == (SOURCE_IMAGES, 4)
    assert copy.is_public is False
    insights = client.datasets.insights(job.dataset_name)
    assert insights.total_annotations == 2 * SOURCE_IMAGES
    # It stays ours when the source is unpublished.
    fake.unpublish_dataset("COCO-5k", organization=research)
    assert client.datasets.get(job.dataset_name).image_count == SOURCE_IMAGES


def test_a_waited_import_takes_a_name_and_suffixes_a_taken_one(
    client: pictograph.Client, ref: str
) -> None:
    first = client.datasets.import_public(ref)
    assert (first.status, first.dataset_name) == ("completed", "COCO-5k")
    second = client.datasets.import_public(ref)
    assert second.dataset_name == "COCO-5k (imported)"
    third = client.datasets.import_public("coco-5k", organization=ref.split("/")[0])
    assert third.dataset_name == "COCO-5k (imported 2)"
    assert client.datasets.import_public(ref, name="mine").dataset_name == "mine"
    assert client.datasets.import_public(ref, name=DATASET).dataset_name == f"{DATASET} (imported)"
    # A suffixed name stays within the API's 100 characters, as a numbered one does.
    long = "x" * 100
    assert client.datasets.import_public(ref, name=long).dataset_name == long
    suffixed = client.datasets.import_public(ref, name=long).dataset_name
    assert suffixed == "x" * (100 - len(" (imported)")) + " (imported)"
    assert client.datasets.get(suffixed).name == suffixed


async def test_an_import_through_the_async_client(
    fake: FakePictograph, aclient: pictograph.AsyncClient, ref: str
) -> None:
    job = await aclient.datasets.import_public(ref, name="async copy", wait=False)
    assert job.status == "pending"
    done = await aclient.datasets.wait_for_public_import(job.import_id)
    assert (done.status, done.image_count) == ("completed", SOURCE_IMAGES)
    assert (await aclient.datasets.get("async copy")).image_count == SOURCE_IMAGES
    again = await aclient.datasets.get_public_import(job.import_id)
    assert again == done


def test_a_refused_import_makes_nothing(
    fake: FakePictograph, client: pictograph.Client, research: FakeOrganization, ref: str
) -> None:
    before = [d.name for d in client.datasets.list()]
    with pytest.raises(NotFoundError, match="Public dataset"):
        client.datasets.import_public(f"{research.slug}/secret")
    with pytest.raises(ValidationError, match="cannot hold '/'"):
        client.datasets.import_public(ref, name="a/b")
    viewer = fake.client(api_key=fake.add_api_key("viewer"), max_retries=0)
    with pytest.raises(ForbiddenError, match="'member' or higher"):
        viewer.datasets.import_public(ref)
    # The plan's image limit: 1,000 on the free plan, and we hold 20 already.
    fake.organization.subscription_tier = "free"
    research.add_dataset("Big", images=990, visibility="public")
    with pytest.raises(PaymentRequiredError) as refusal:
        client.datasets.import_public(f"{research.slug}/big")
    assert refusal.value.code == "image_limit_exceeded"
    assert refusal.value.response is not None
    details = refusal.value.response["error"]["details"]
    assert (details["current_images"], details["additional_images"]) == (20, 990)
    assert details["max_images"] == 1_000
    assert [d.name for d in client.datasets.list()] == before


def test_an_import_past_the_plan_s_dataset_cap_is_a_402(
    fake: FakePictograph, client: pictograph.Client, ref: str
) -> None:
    fake.organization.subscription_tier = "free"
    held = len(client.datasets.list())
    for n in range(PLANS["free"].max_datasets - held):
        fake.add_dataset(f"held-{n}")
    before = [d.name for d in client.datasets.list()]
    with pytest.raises(PaymentRequiredError) as refused:
        client.datasets.import_public(ref)
    assert refused.value.code == "limit_exceeded"
    assert [d.name for d in client.datasets.list()] == before


def test_an_import_is_a_job_of_the_feed_from_queued_to_completed(
    fake: FakePictograph, client: pictograph.Client, ref: str
) -> None:
    job = client.datasets.import_public(ref, name="copy", wait=False)
    [queued] = client.jobs.list(type="public_dataset_import")
    assert (queued.id, queued.status, queued.cancel_path) == (job.import_id, "queued", None)
    assert queued.name == f"Import {ref.split('/')[0]}/COCO-5k as 'copy'"
    assert queued.detail["total_images"] == SOURCE_IMAGES
    assert [j.id for j in client.jobs.list()] == [job.import_id]  # active by default
    fake.clock.advance(QUEUE_SECONDS + 1)
    assert client.jobs.get(job.import_id).status == "running"
    done = client.jobs.wait(job.import_id)
    assert (done.status, done.progress) == ("completed", 100.0)
    assert done.detail["copied_images"] == SOURCE_IMAGES
    assert list(client.jobs.list()) == []
    finished = client.jobs.list(status="finished", type="public_dataset_import")
    assert [(j.id, j.status) for j in finished] == [(job.import_id, "completed")]


async def test_an_import_under_way_holds_its_room_against_another_kind(
    fake: FakePictograph, aclient: pictograph.AsyncClient, research: FakeOrganization
) -> None:
    # A connector import still copying and a public import ask the same plan's room.
    fake.organization.subscription_tier = "free"
    held = PLANS["free"].max_images - (await aclient.datasets.get(DATASET)).image_count
    fake.add_connector_source("v7", "big", datasets={"Big": held - SOURCE_IMAGES + 1})
    [big] = (await aclient.connectors.validate("v7", "big")).datasets
    await aclient.connectors.import_("v7", "big", [big], wait=False)
    with pytest.raises(PaymentRequiredError) as refused:
        await aclient.datasets.import_public(f"{research.slug}/coco-5k", wait=False)
    assert refused.value.code == "image_limit_exceeded"
    assert "still to come from imports and extractions under way" in str(refused.value)


def test_another_organizations_import_is_a_404(
    fake: FakePictograph, client: pictograph.Client, ref: str
) -> None:
    job = client.datasets.import_public(ref, wait=False)
    other = fake.add_organization()
    with other.client(max_retries=0) as theirs, pytest.raises(NotFoundError):
        theirs.datasets.get_public_import(job.import_id)
    with pytest.raises(NotFoundError):
        client.datasets.get_public_import("00000000-0000-4000-8000-000000000000")


def test_an_import_whose_source_is_deleted_fails_with_the_reason(
    fake: FakePictograph, client: pictograph.Client, research: FakeOrganization, ref: str
) -> None:
    job = client.datasets.import_public(ref, wait=False)
    fake.unpublish_dataset("COCO-5k", organization=research)
    with research.client(max_retries=0) as theirs:
        theirs.datasets.delete("COCO-5k")
    with pytest.raises(ApiError) as ended:
        client.datasets.wait_for_public_import(job.import_id)
    assert ended.value.code == "job_failed"
    assert "was deleted before its images were copied" in str(ended.value)
    failed = client.datasets.get_public_import(job.import_id)
    assert (failed.status, failed.image_count, failed.progress) == ("failed", 0, 0.0)
    # The copy it had made holds nothing: it is gone with the failure.
    with pytest.raises(NotFoundError):
        client.datasets.get("COCO-5k")


def test_an_armed_failure_fails_the_next_import(
    fake: FakePictograph, client: pictograph.Client, ref: str
) -> None:
    fake.faults.fail_public_import("the copier ran out of disk")
    with pytest.raises(ApiError, match="the copier ran out of disk") as ended:
        client.datasets.import_public(ref)
    assert ended.value.code == "job_failed"
    assert client.datasets.import_public(ref).status == "completed"


def test_a_wait_times_out_at_the_virtual_deadline(client: pictograph.Client, ref: str) -> None:
    job = client.datasets.import_public(ref, wait=False)
    with pytest.raises(PollTimeoutError, match="still running"):
        client.datasets.wait_for_public_import(job.import_id, timeout=4.0, poll_interval=1.0)
    assert client.datasets.wait_for_public_import(job.import_id).status == "completed"


# ── releases, scenarios ──


@pytest.fixture
def old_release(fake: FakePictograph) -> Iterator[httpx.Client]:
    with raw(fake) as http:
        http.headers["User-Agent"] = "pictograph-python/1.69.123"
        yield http


def test_releases_before_1_69_124_have_no_explore(
    old_release: httpx.Client, research: FakeOrganization
) -> None:
    answer = old_release.get("/api/v1/developer/public/datasets")
    assert answer.status_code == 404


def test_a_scenario_declares_a_public_dataset() -> None:
    document = {
        "schema_version": 1,
        "datasets": [
            {
                "name": DATASET,
                "visibility": "public",
                "license_id": "cc-by-4.0",
                "star_count": 2,
                "auto_tags": ["street"],
                "synthetic_images": {"count": 3},
            }
        ],
    }
    with FakePictograph(scenario=document) as fake:
        client = fake.client(max_retries=0)
        [row] = client.explore.datasets(search="street")
        assert (row.name, row.license_id, row.star_count, row.image_count) == (
            DATASET,
            "cc-by-4.0",
            2,
            3,
        )
        assert client.datasets.get(DATASET).is_public is True
        # A saved world keeps it public.
        again = FakePictograph(scenario=fake.snapshot())
    with again:
        assert [d.name for d in again.client(max_retries=0).explore.datasets()] == [DATASET]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"visibility": "shared"}, "visibility must be one of"),
        ({"star_count": -1}, "star_count must be"),
        ({"auto_tags": "street"}, "auto_tags must be"),
        ({"published_at": 5.0}, "published_at is for a public dataset"),
    ],
)
def test_a_scenario_refuses_a_publication_it_cannot_hold(
    fields: dict[str, object], problem: str
) -> None:
    document = {"schema_version": 1, "datasets": [{"name": DATASET, **fields}]}
    with pytest.raises(ValueError, match=problem):
        FakePictograph(scenario=document)


def test_a_snapshot_refuses_a_world_with_an_import() -> None:
    fake = FakePictograph(seed=4)
    with fake:
        fake.add_dataset("mine", visibility="public")
        with fake.client(max_retries=0) as sdk:
            sdk.datasets.import_public(f"{sdk.organizations.me().slug}/mine")
        with pytest.raises(ValueError, match="public-dataset imports"):
            fake.snapshot()


def test_the_page_states_the_imports_timing() -> None:
    page = (Path(__file__).resolve().parent.parent / "docs" / "explore.md").read_text()
    timing = (
        f"`pending` for {QUEUE_SECONDS:g} s, `running` for {IMPORT_SECONDS:g} s plus "
        f"{SECONDS_PER_IMAGE:g} s per image"
    )
    assert timing in " ".join(page.split())


# ── rules a mutation run of the catalog found untested ──


def test_a_scenarios_public_datasets_order_by_publication_then_stars() -> None:
    # Listed as the document gives them, each at its own publication; a private one not
    # at all. Of two alike in stars, the later published is more popular.
    document = {
        "schema_version": 1,
        "clock": {"start": "2026-05-12T12:00:00Z"},
        "datasets": [
            {"name": "later", "visibility": "public", "published_at": 7200.0, "star_count": 3},
            {"name": "earlier", "visibility": "public", "published_at": 3600.0, "star_count": 3},
            {"name": "private"},
        ],
    }
    with FakePictograph(scenario=document) as fake:
        client = fake.client(max_retries=0)
        assert [d.name for d in client.explore.datasets()] == ["later", "earlier"]
        assert [d.name for d in client.explore.datasets(sort="popular")] == ["later", "earlier"]


def test_names_alike_but_for_case_list_capitals_first(
    fake: FakePictograph, client: pictograph.Client, research: FakeOrganization
) -> None:
    other = fake.add_organization(name="Orchard")
    research.add_dataset("Apples", visibility="public")
    other.add_dataset("apples", visibility="public")
    listed = [d.ref for d in client.explore.datasets(sort="alphabetical")]
    assert listed == [f"{research.slug}/apples", "orchard/apples", f"{research.slug}/coco-5k"]
    other.add_dataset("Bananas", visibility="public")
    research.add_dataset("bananas", visibility="public")
    names = [d.ref for d in client.explore.datasets(sort="alphabetical", search="banana")]
    assert names == ["orchard/bananas", f"{research.slug}/bananas"]


def test_of_two_datasets_one_slug_names_the_first_published(
    client: pictograph.Client, research: FakeOrganization
) -> None:
    research.add_dataset("Road Signs", visibility="public")
    research.add_dataset("Road-Signs", visibility="public")
    assert client.explore.dataset(f"{research.slug}/road-signs").name == "Road Signs"
    assert client.explore.dataset(f"{research.slug}/Road-Signs").name == "Road-Signs"


def test_a_search_matches_a_display_name_a_slug_a_tag_or_a_class_case_aside(
    fake: FakePictograph, client: pictograph.Client, research: FakeOrganization
) -> None:
    research.add_dataset("Street Scenes", classes=["Bus"], visibility="public")
    fake.publish_dataset("COCO-5k", organization=research, auto_tags=["Savanna"])

    def names(**options: str) -> list[str]:
        return [d.name for d in client.explore.datasets(**options)]  # type: ignore[arg-type]

    assert names(search="street sc") == ["Street Scenes"]  # the display name
    assert names(search="street-scenes") == ["Street Scenes"]  # the slug
    assert names(search="savanna") == ["COCO-5k"]  # a tag written in capitals
    assert names(class_name="BUS") == ["Street Scenes"]


def test_a_model_search_matches_its_display_name_or_its_slug(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _train(client, "Signs Detector")
    client.models.update("Signs Detector", visibility="public")
    assert [m.name for m in client.explore.models(search="Signs Det")] == ["Signs Detector"]
    assert [m.name for m in client.explore.models(search="signs-detector")] == ["Signs Detector"]


def test_making_a_public_model_public_again_keeps_its_publication(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _train(client, "first")
    _train(client, "second")
    client.models.update("first", visibility="public")
    fake.clock.advance(60)
    client.models.update("second", visibility="public")
    fake.clock.advance(60)
    client.models.update("first", visibility="public")
    assert [m.name for m in client.explore.models()] == ["second", "first"]


def test_a_snapshot_after_an_unpublish_loads_as_a_private_dataset() -> None:
    mine = FakePictograph(seed=2)
    with mine:
        mine.add_dataset("atlas", images=2, visibility="public")
        mine.unpublish_dataset("atlas")
        document = mine.snapshot()
    with FakePictograph(scenario=document) as again:
        client = again.client(max_retries=0)
        assert client.datasets.get("atlas").is_public is False
        assert client.explore.datasets() == []


def test_a_release_that_forks_by_id_finds_a_model_only_once_it_is_public() -> None:
    # SDK 1.5.0 to 1.69.43 fork `models/{id}/fork`: a private model's id is a 404 there,
    # as its public name is to releases since.
    with FakePictograph(seed=1, sdk_version="1.40.0") as fake:
        owner = fake.add_organization()
        owner.add_dataset(DATASET, images=10, completed_images=10)
        owner.add_export(DATASET, EXPORT)
        body = {
            "dataset_name": DATASET,
            "export_name": EXPORT,
            "pipeline_type": "yolox",
            "name": "Shared",
        }
        with raw(fake, owner.api_key) as theirs:
            run = theirs.post("/api/v1/developer/training/", json=body).json()["training_run"]
            fake.clock.advance(hours=3)
            read = theirs.get(f"/api/v1/developer/training/{run['id']}").json()["training_run"]
            model_id = read["model_id"]
            with raw(fake) as ours:
                refused = ours.post(f"/api/v1/developer/models/{model_id}/fork")
                assert refused.status_code == 404
                assert f"Public model '{model_id}' not found" in refused.text
                published = theirs.patch(
                    f"/api/v1/developer/models/{model_id}", json={"visibility": "public"}
                )
                assert published.status_code == 200
                forked = ours.post(f"/api/v1/developer/models/{model_id}/fork")
                assert forked.status_code == 201
                assert forked.json()["model"]["forked_from_model_id"] == model_id


# ── rules a mutation run of the import service found untested ──


def test_an_import_runs_from_the_instant_its_copier_takes_it_image_by_whole_image(
    fake: FakePictograph, client: pictograph.Client, ref: str
) -> None:
    job = client.datasets.import_public(ref, wait=False)
    fake.clock.advance(QUEUE_SECONDS)
    taken = client.datasets.get_public_import(job.import_id)
    assert (taken.status, taken.image_count) == ("running", 0)
    fake.clock.advance(1.0)  # a second of 5.12: 2.34 images' worth, 2 of them whole
    running = client.datasets.get_public_import(job.import_id)
    assert (running.image_count, running.progress) == (2, 16.7)
    fake.clock.advance(IMPORT_SECONDS - 1.0)  # the 12 images' 0.12 s are still to go
    assert client.datasets.get_public_import(job.import_id).status == "running"
    fake.clock.advance(SECONDS_PER_IMAGE * SOURCE_IMAGES)
    done = client.datasets.get_public_import(job.import_id)
    assert done.status == "completed"
    assert client.jobs.get(job.import_id).updated_at == done.completed_at


async def test_an_import_is_found_by_its_id_in_any_case(
    client: pictograph.Client, aclient: pictograph.AsyncClient, ref: str
) -> None:
    job = client.datasets.import_public(ref, wait=False)
    assert client.datasets.get_public_import(job.import_id.upper()).import_id == job.import_id
    found = await aclient.datasets.get_public_import(f" {job.import_id.upper()} ")
    assert found.import_id == job.import_id


def test_the_copy_takes_the_sources_card(
    fake: FakePictograph, client: pictograph.Client, research: FakeOrganization, ref: str
) -> None:
    research.add_dataset(
        "Outlines",
        annotation_types=("polygon",),
        description="road outlines",
        visibility="public",
        license_id="cc-by-sa-4.0",
    )
    with research.client(max_retries=0) as theirs:
        theirs.datasets.update("Outlines", readme="# Outlines\nTraced by hand.")
    job = client.datasets.import_public(f"{research.slug}/outlines")
    copy = client.datasets.get(job.dataset_name)
    assert (copy.annotation_types, copy.description) == (["polygon"], "road outlines")
    with raw(fake) as http:
        card = http.get(f"/api/v1/developer/datasets/{copy.name}").json()["data"]["readme"]
    assert card == "# Outlines\nTraced by hand."
    fake.publish_dataset(copy.name)
    slug = client.organizations.me().slug
    assert client.explore.dataset(f"{slug}/outlines").license_id == "cc-by-sa-4.0"


def test_imports_under_way_hold_the_plans_room_theirs_alone(
    fake: FakePictograph, client: pictograph.Client, research: FakeOrganization, ref: str
) -> None:
    # Another organization's import under way takes none of ours; ours does, and an
    # import that reaches the limit exactly is taken.
    fake.organization.subscription_tier = "free"
    room = PLANS["free"].max_images - client.datasets.get(DATASET).image_count
    fake.add_dataset("filler", images=room - 2 * SOURCE_IMAGES)
    with research.client(max_retries=0) as theirs:
        theirs.datasets.import_public(ref, name="their-copy", wait=False)
    client.datasets.import_public(ref, name="first", wait=False)
    client.datasets.import_public(ref, name="second", wait=False)  # to the limit exactly
    with pytest.raises(PaymentRequiredError) as refused:
        client.datasets.import_public(ref, name="third", wait=False)
    assert refused.value.code == "image_limit_exceeded"
    assert "still to come from imports and extractions under way" in str(refused.value)


def test_imports_and_runs_made_at_one_instant_list_newest_first(
    client: pictograph.Client, ref: str
) -> None:
    run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="r", wait=False)
    first = client.datasets.import_public(ref, name="first", wait=False)
    second = client.datasets.import_public(ref, name="second", wait=False)
    assert [j.id for j in client.jobs.list()] == [second.import_id, first.import_id, run.id]


def test_an_import_read_long_after_it_ended_is_dated_when_it_ended(
    fake: FakePictograph, client: pictograph.Client, ref: str
) -> None:
    job = client.datasets.import_public(ref, wait=False)
    fake.clock.advance(hours=24)
    done = client.datasets.get_public_import(job.import_id)
    assert done.completed_at is not None
    took = (done.completed_at - fake.clock.start).total_seconds()
    assert took == pytest.approx(IMPORTED_AFTER, abs=0.001)
    assert client.datasets.get(job.dataset_name).updated_at == done.completed_at


def test_an_import_copies_the_images_the_source_holds_when_it_ends(
    client: pictograph.Client, research: FakeOrganization, ref: str, tmp_path: Path
) -> None:
    job = client.datasets.import_public(ref, wait=False)
    with research.client(max_retries=0) as theirs:
        theirs.images.upload("COCO-5k", write_image(tmp_path / "late.png"))
    done = client.datasets.wait_for_public_import(job.import_id)
    assert (done.image_count, done.total_images) == (SOURCE_IMAGES + 1, SOURCE_IMAGES + 1)
    assert client.datasets.get(job.dataset_name).image_count == SOURCE_IMAGES + 1


def test_an_import_whose_copy_is_deleted_fails_saying_so(
    client: pictograph.Client, ref: str
) -> None:
    job = client.datasets.import_public(ref, wait=False)
    client.datasets.delete(job.dataset_name)
    with pytest.raises(ApiError, match="The copy was deleted before its images were copied"):
        client.datasets.wait_for_public_import(job.import_id)


@pytest.mark.parametrize("put_in", ["an image", "an export"])
def test_a_failed_imports_copy_that_someone_used_meanwhile_stays(
    fake: FakePictograph,
    client: pictograph.Client,
    research: FakeOrganization,
    ref: str,
    tmp_path: Path,
    put_in: str,
) -> None:
    job = client.datasets.import_public(ref, wait=False)
    copy = job.dataset_name
    assert copy is not None
    if put_in == "an image":
        client.images.upload(copy, write_image(tmp_path / "mine.png"))
    else:
        fake.add_export(copy, "early")
    fake.unpublish_dataset("COCO-5k", organization=research)
    with research.client(max_retries=0) as theirs:
        theirs.datasets.delete("COCO-5k")
    with pytest.raises(ApiError, match="was deleted before its images were copied"):
        client.datasets.wait_for_public_import(job.import_id)
    assert client.datasets.get(copy).id == job.dataset_id


def test_a_dataset_published_without_stars_has_none(
    fake: FakePictograph, client: pictograph.Client, research: FakeOrganization
) -> None:
    assert client.explore.dataset(f"{research.slug}/coco-5k").star_count == 0
    fake.publish_dataset(DATASET)
    (ours,) = [d for d in client.explore.datasets() if d.name == DATASET]
    assert ours.star_count == 0


async def test_async_a_dataset_published_without_stars_has_none(
    aclient: pictograph.AsyncClient, research: FakeOrganization
) -> None:
    assert (await aclient.explore.dataset(f"{research.slug}/coco-5k")).star_count == 0
