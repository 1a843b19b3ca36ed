"""Calls whose wire changed between releases, each made as the release under test makes it.

Dataset insights (at the root before 1.61), cold storage (from 1.4.0: at the root and by
id before 1.61, by ``by-name/`` to 1.69.43, its restore fee read as ``charged_micro_usd``
before 1.69.58), model evaluations (of a dataset, by ``project_id``, before 1.66.2),
deployments (created with a ``compute_type`` before
1.69.127), the fork of a public model (by its id from 1.5.0 to 1.69.43, by its owner's slug
and its own after), the organization's credits (whole legacy credits in
1.0.x, as its ``credits.balance``), and the member roles and invite statuses that
arrived late (``annotator`` in 1.69.69, ``declined`` in 1.69.91: refused to older
releases, which cannot parse a reply holding them). A release without the call skips.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pictograph.exceptions import NotFoundError, ValidationError

from pictograph_testing import FakePictograph
from pictograph_testing._sdk.layout import sdk_version
from pictograph_testing.api.dialects import (
    CHARGED_RESTORES,
    COMPUTE_TYPES,
    EVALUATED_DATASETS,
    EVALUATED_TYPES_BY_RELEASE,
    INTEGER_CREDITS,
    INVITE_STATUSES_BY_RELEASE,
    LEGACY_ENVELOPES,
    MODEL_FORKS_BY_ID,
    ROLES_BY_RELEASE,
    parse_version,
)
from tests.matrix.conftest import DATASET, EXPORT

if TYPE_CHECKING:
    import pictograph
    from pictograph.models.training import GpuType  # today's SDK: typing only

RELEASE = parse_version(sdk_version())


def _has(resource: object, method: str) -> None:
    if not hasattr(resource, method):
        pytest.skip(f"pictograph {sdk_version()} has no {type(resource).__name__}.{method}")


def test_insights_count_the_dataset(world: FakePictograph, sdk: pictograph.Client) -> None:
    _has(sdk.datasets, "insights")
    insights = sdk.datasets.insights(DATASET)
    # Every field has a default: a reply read in the wrong place parses as all zeros.
    assert insights.total_images == 20
    assert insights.status_counts.complete == 12
    assert insights.total_annotations > 0


async def test_async_insights_count_the_dataset(
    async_sdk: pictograph.AsyncClient,
) -> None:
    _has(async_sdk.datasets, "insights")
    insights = await async_sdk.datasets.insights(DATASET)
    assert (insights.total_images, insights.status_counts.complete) == (20, 12)


def _restore_fee(job: Any) -> Any:
    """The restore's fee as the release reads it (``quoted_micro_usd`` from 1.69.58)."""
    charged = CHARGED_RESTORES.holds(RELEASE) or LEGACY_ENVELOPES.holds(RELEASE)
    return getattr(job, "charged_micro_usd" if charged else "quoted_micro_usd")


def test_a_dataset_freezes_and_restores_as_the_release_reads_it(
    world: FakePictograph, sdk: pictograph.Client
) -> None:
    _has(sdk.datasets, "freeze")
    # By id: every release takes `dataset_id=` (a name only from 1.61.0).
    dataset = world.world.dataset_service.named(world.organization_id, DATASET)
    assert dataset is not None
    dataset_id = dataset.id
    assert sdk.datasets.freeze(dataset_id=dataset_id).storage_state == "freezing"
    cold = sdk.datasets.wait_for_storage(dataset_id=dataset_id)
    assert (cold.storage_class, cold.storage_state, cold.cold_image_count) == (
        "coldline",
        "idle",
        20,
    )
    assert cold.restore_estimate is not None
    job = sdk.datasets.restore(dataset_id=dataset_id)
    assert _restore_fee(job) == cold.restore_estimate.total_micro_usd > 0
    warm = sdk.datasets.wait_for_storage(dataset_id=dataset_id)
    assert warm.storage_class == "standard"
    if "name" in inspect.signature(sdk.datasets.storage_status).parameters:
        assert sdk.datasets.storage_status(DATASET) == warm


async def test_async_a_dataset_freezes_and_restores_as_the_release_reads_it(
    world: FakePictograph, async_sdk: pictograph.AsyncClient
) -> None:
    _has(async_sdk.datasets, "freeze")
    dataset = world.world.dataset_service.named(world.organization_id, DATASET)
    assert dataset is not None
    dataset_id = dataset.id
    await async_sdk.datasets.freeze(dataset_id=dataset_id)
    cold = await async_sdk.datasets.wait_for_storage(dataset_id=dataset_id)
    assert cold.restore_estimate is not None
    job = await async_sdk.datasets.restore(dataset_id=dataset_id)
    assert _restore_fee(job) == cold.restore_estimate.total_micro_usd
    warm = await async_sdk.datasets.wait_for_storage(dataset_id=dataset_id)
    assert warm.storage_class == "standard"


def _ground_truth(sdk: pictograph.Client) -> str:
    """How the release's ``model_evaluations.create`` names the ground truth."""
    return list(inspect.signature(sdk.model_evaluations.create).parameters)[1]


def _evaluate(world: FakePictograph, sdk: pictograph.Client, model_id: str) -> Any:
    """Create an evaluation of ``model_id`` on the export, as the release names it."""
    dataset = world.world.dataset(world.organization_id, DATASET)
    export = world.world.export(dataset, EXPORT)
    # Each release names the ground truth its own way: the dataset's id before 1.66.2,
    # then the export's id, then (resolved by the SDK to that id) the names of both.
    named_by: dict[str, tuple[str, ...]] = {
        "project_id": (dataset.id,),
        "export_id": (export.id,),
        "dataset_name": (DATASET, EXPORT),
    }
    create: Any = sdk.model_evaluations.create
    return create(model_id, *named_by[_ground_truth(sdk)])


def test_an_evaluation_is_created_as_the_release_names_its_ground_truth(
    world: FakePictograph, sdk: pictograph.Client
) -> None:
    if not hasattr(sdk, "model_evaluations"):
        pytest.skip(f"pictograph {sdk_version()} has no model evaluations")
    run = sdk.training.create(
        dataset_name=DATASET, export_name=EXPORT, pipeline_type="yolox", name="scored"
    )
    assert run.model_id is not None
    assert (_ground_truth(sdk) == "project_id") == EVALUATED_DATASETS.holds(RELEASE)

    created = _evaluate(world, sdk, run.model_id)

    evaluation = world.world.evaluations.evaluations[created.id]
    dataset = world.world.dataset(world.organization_id, DATASET)
    # A dataset is scored on its newest completed export: the only one here.
    export = world.world.export(dataset, EXPORT)
    assert (evaluation.dataset_id, evaluation.export_id) == (dataset.id, export.id)
    assert sdk.model_evaluations.get(created.id).status in ("pending", "running", "completed")


@pytest.mark.parametrize(
    ("pipeline", "model_type"),
    [("classification", "classification"), ("sm_pytorch", "semantic_segmentation")],
)
def test_each_release_evaluates_the_model_types_its_api_scored(
    no_real_waiting: None, pipeline: Any, model_type: str
) -> None:
    # Each release's models parse what its API scored; a newer type is refused to it.
    with FakePictograph(seed=1, profile="current") as world:
        world.add_dataset(
            DATASET,
            images=20,
            completed_images=12,
            classes=["stop_sign", "yield"],
            annotation_types=["bbox", "polygon"],
        )
        world.add_export(DATASET, EXPORT)
        with world.client(max_retries=0) as sdk:
            if not hasattr(sdk, "model_evaluations"):
                pytest.skip(f"pictograph {sdk_version()} has no model evaluations")
            run = sdk.training.create(
                dataset_name=DATASET, export_name=EXPORT, pipeline_type=pipeline, name="m"
            )
            assert run.model_id is not None
            if not EVALUATED_TYPES_BY_RELEASE[model_type].holds(RELEASE):
                with pytest.raises(ValidationError) as refused:
                    _evaluate(world, sdk, run.model_id)
                assert refused.value.status_code == 422
                assert not world.world.evaluations.evaluations
                return
            created = _evaluate(world, sdk, run.model_id)
            world.clock.advance(hours=2)
            evaluation = sdk.model_evaluations.get(created.id)
            assert evaluation.status == "completed"
            listed = sdk.model_evaluations.list()
            assert [e.id for e in listed] == [created.id]
            if hasattr(sdk.model_evaluations, "report"):
                assert sdk.model_evaluations.report(created.id) is not None
        assert world.server_errors == []


def _deployed_model(sdk: pictograph.Client) -> str:
    run = sdk.training.create(
        dataset_name=DATASET, export_name=EXPORT, pipeline_type="yolox", name="served"
    )
    assert run.model_id is not None
    return run.model_id


def _compute_type_sent(world: FakePictograph) -> bool:
    return "compute_type" in world.calls.filter(method="POST", path="deployments/").last.json()


def test_a_deployment_is_created_as_the_release_sends_it(
    world: FakePictograph, sdk: pictograph.Client
) -> None:
    _has(sdk, "deployments")
    created = sdk.deployments.create(_deployed_model(sdk), name="edge")
    # Releases before 1.69.127 name the compute type (`gpu` by default); the API took it.
    assert _compute_type_sent(world) == COMPUTE_TYPES.holds(RELEASE)
    assert created.deployment.name == "edge"
    assert created.deployment.status == "provisioning"
    assert sdk.deployments.get(created.deployment.id).id == created.deployment.id


async def test_async_a_deployment_is_created_as_the_release_sends_it(
    world: FakePictograph, sdk: pictograph.Client, async_sdk: pictograph.AsyncClient
) -> None:
    _has(async_sdk, "deployments")
    created = await async_sdk.deployments.create(_deployed_model(sdk), name="edge")
    assert _compute_type_sent(world) == COMPUTE_TYPES.holds(RELEASE, "async")
    assert created.deployment.status == "provisioning"
    paused = await async_sdk.deployments.pause(created.deployment.id)
    assert paused.status == "paused"


def test_a_deployment_is_quoted_as_the_release_asks(
    world: FakePictograph, sdk: pictograph.Client
) -> None:
    _has(sdk, "deployments")
    _has(sdk.deployments, "quote")  # not in the first releases that deploy
    quote = sdk.deployments.quote(min_containers=1)
    assert quote.cost_per_hour_micro_usd > 0
    if not COMPUTE_TYPES.holds(RELEASE):
        return
    # Releases before 1.69.127 name the compute type; a GPU is all the fake deploys, so
    # a CPU quote is refused, as `create` refuses a CPU deployment, not priced as a GPU.
    assert world.calls.last.params["compute_type"] == "gpu"
    with pytest.raises(ValidationError) as refused:
        # A release before 1.69.127's signature: it names the compute type.
        sdk.deployments.quote(compute_type="cpu")  # type: ignore[call-arg]
    assert refused.value.status_code == 422
    assert "compute_type" in world.calls.last.response_json()["error"]["message"]


def _published_model(world: FakePictograph) -> tuple[str, str]:
    """Another organization trains ``Shared`` and makes it public (through today's wire:
    the older releases cannot); its slug and the model's id."""
    research = world.add_organization(name="Pictograph Research")
    research.add_dataset(DATASET, images=20, completed_images=12, classes=["stop_sign", "yield"])
    research.add_export(DATASET, EXPORT)
    with research.client(max_retries=0) as theirs:
        run = theirs.training.create(
            dataset_name=DATASET, export_name=EXPORT, pipeline_type="yolox", name="Shared"
        )
    assert run.model_id is not None
    with httpx.Client(transport=world.transport(), base_url=world.base_url) as raw:
        published = raw.patch(
            f"/api/v1/developer/models/{run.model_id}",
            json={"visibility": "public"},
            headers={"X-API-Key": research.api_key},
        )
    assert published.status_code == 200, published.text
    return research.slug, run.model_id


def _fork(models: Any, slug: str, model_id: str) -> Any:
    """``models.fork`` as the release calls it: by the model's id before 1.69.44."""
    if MODEL_FORKS_BY_ID.holds(RELEASE):
        return models.fork(model_id)
    return models.fork(slug, "Shared")


def test_a_public_model_is_forked_as_the_release_names_it(
    world: FakePictograph, sdk: pictograph.Client
) -> None:
    _has(sdk.models, "fork")
    slug, source = _published_model(world)
    copy = _fork(sdk.models, slug, source)
    assert (copy.name, copy.organization_id) == ("Shared", world.organization_id)
    assert copy.forked_from_model_id == source
    assert copy.id != source
    assert sdk.models.get(copy.id).id == copy.id
    # A private or unknown model is the API's 404, whichever way it is named.
    with pytest.raises(NotFoundError):
        _fork(sdk.models, slug.upper() + "-elsewhere", "00000000-0000-4000-8000-000000000000")
    assert not world.unserved_calls


async def test_async_a_public_model_is_forked_as_the_release_names_it(
    world: FakePictograph, async_sdk: pictograph.AsyncClient
) -> None:
    _has(async_sdk.models, "fork")
    slug, source = _published_model(world)
    copy = await _fork(async_sdk.models, slug, source)
    assert (copy.name, copy.forked_from_model_id) == ("Shared", source)


def test_the_organization_counts_credits_as_the_balance_does(sdk: pictograph.Client) -> None:
    organization = sdk.organizations.me()
    balance = sdk.credits.balance()
    assert organization.credits_remaining == balance.credits_remaining
    # Whole legacy credits (a cent each) in 1.0.x, whole dollars after: $100 either way.
    assert organization.credits_remaining == (10_000 if INTEGER_CREDITS.holds(RELEASE) else 100)


def test_whole_credits_add_up_as_the_ledger_says(sdk: pictograph.Client) -> None:
    if not INTEGER_CREDITS.holds(RELEASE):
        pytest.skip(f"pictograph {sdk_version()} counts micro-USD, not whole credits")
    start = sdk.credits.balance().credits_remaining
    # Charges and refunds of fractions of a credit (a10g: half a credit a minute).
    runs: tuple[tuple[str, GpuType], ...] = (("a", "a10g"), ("b", "a100"), ("c", "a10g"))
    for name, gpu in runs:
        sdk.training.create(
            dataset_name=DATASET, export_name=EXPORT, pipeline_type="yolox", name=name, gpu_type=gpu
        )
    entries = list(reversed(sdk.credits.history()))  # oldest first
    # A charge a run (on success), or a pre-charge and a refund of what it did not use.
    assert len(entries) >= 3
    balance = start
    for entry in entries:
        balance += entry.amount
        assert entry.balance_after == balance, entry
    assert (
        sdk.credits.balance().credits_remaining == balance == start + sum(e.amount for e in entries)
    )
    assert balance < start


def test_an_annotator_is_invited_only_by_the_releases_that_know_one(
    world: FakePictograph, sdk: pictograph.Client
) -> None:
    _has(sdk.organizations, "invite")
    before = len(world.world.people.sent(world.organization_id))
    if ROLES_BY_RELEASE.readable("annotator", RELEASE):
        invite = sdk.organizations.invite("ann@example.com", role="annotator")
        assert invite.role == "annotator"
        return
    with pytest.raises(ValidationError) as refused:
        sdk.organizations.invite("ann@example.com", role="annotator")
    assert refused.value.status_code == 422
    # Older releases show only "HTTP 422"; the API's message names the value all the same.
    assert "annotator" in world.calls.last.response_json()["error"]["message"]
    assert len(world.world.people.sent(world.organization_id)) == before  # nothing sent


def test_declined_invites_are_asked_for_only_by_the_releases_that_know_them(
    world: FakePictograph, sdk: pictograph.Client
) -> None:
    _has(sdk.organizations, "list_invites")
    if "status" not in inspect.signature(sdk.organizations.list_invites).parameters:
        pytest.skip(f"pictograph {sdk_version()} lists invites without a status filter")
    invite = sdk.organizations.invite("dee@example.com", role="viewer")
    world.decline_invite(invite.id)
    if INVITE_STATUSES_BY_RELEASE.readable("declined", RELEASE):
        declined = sdk.organizations.list_invites(status="declined")
        assert [i.id for i in declined] == [invite.id]
        return
    with pytest.raises(ValidationError) as refused:
        sdk.organizations.list_invites(status="declined")
    assert refused.value.status_code == 422
