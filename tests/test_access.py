"""Access control through the real SDK: keys (missing, malformed, unknown, revoked), the
role each action needs on every resource, and organizations that see only their own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pictograph import BBoxAnnotation, BoundingBox
from pictograph.exceptions import AuthError, ForbiddenError, NotFoundError

from pictograph_testing import FakePictograph
from pictograph_testing.world.entities import Role
from pictograph_testing.world.training import RunRequest
from tests.conftest import DATASET, EXPORT
from tests.image_files import write_image
from tests.invariants import fingerprint

if TYPE_CHECKING:
    from pathlib import Path

    import pictograph

    from pictograph_testing.fake import FakeOrganization

ROLES: tuple[Role, ...] = ("viewer", "member", "admin", "owner")
RANK: dict[str, int] = {role: rank for rank, role in enumerate(ROLES)}
IMAGE = "img-00001.jpg"
PUBLISHED = "published"
SOURCE_KEY = "v7-key"
"""The key of the V7 source the world registered (one dataset, ``Signs``, id 100001)."""
BOX = BBoxAnnotation(name="stop_sign", bounding_box=BoundingBox(x=1, y=2, w=3, h=4))


class Refs:
    """What the actions act on: ids in a world built by :func:`_world`."""

    def __init__(self, fake: FakePictograph) -> None:
        world = fake.world
        runs = list(world.runs.values())
        self.done = runs[0]
        self.live = runs[1]
        assert self.done.model_id is not None
        self.model = world.models[self.done.model_id]
        dataset = world.dataset(world.default_org.id, DATASET)
        self.images = dataset.image_ids
        self.export = next(iter(world.exports.values()))
        self.public = f"{world.default_org.slug}/{PUBLISHED}"
        """The qualified public name of the dataset the organization published."""
        self.tmp: Path | None = None


def _world(seed: int = 5) -> FakePictograph:
    """A dataset with images and an export, a completed run (and model) and a live run."""
    fake = FakePictograph(seed=seed, balance_usd=500.0)
    fake.add_dataset(DATASET, images=10, completed_images=10, classes=["stop_sign", "yield"])
    fake.add_dataset("spare", images=2, completed_images=2, classes=["stop_sign"])
    fake.add_dataset(PUBLISHED, images=1, completed_images=1, visibility="public")
    fake.add_export(DATASET, EXPORT)
    fake.add_connector_source("v7", SOURCE_KEY, datasets={"Signs": 1})
    world = fake.world
    with world.lock:
        request = RunRequest(DATASET, EXPORT, "yolox", "a10g", {"epochs": 2}, "done")
        world.training.create(world.default_key, request)
        fake.clock.advance(hours=1)
        world.catch_up()
        world.training.create(world.default_key, RunRequest(DATASET, EXPORT, "yolox", "a10g", {}))
    return fake


Action = Callable[["pictograph.Client", Refs], Any]
# Every write the SDK can make on these resources, with the role the spec's tables
# (wire specs §6.8a and §9) say it needs; reads need `viewer`.
ACTIONS: dict[str, tuple[str, Action]] = {
    # training
    "training.create": (
        "member",
        lambda c, r: c.training.create(
            DATASET, EXPORT, pipeline_type="yolox", name="n", wait=False
        ),
    ),
    "training.cancel": ("member", lambda c, r: c.training.cancel(run_id=r.live.id)),
    "training.bulk_cancel": ("member", lambda c, r: c.training.bulk_cancel([r.live.id])),
    "training.quote": (
        "viewer",
        lambda c, r: c.training.quote(DATASET, EXPORT, pipeline_type="yolox"),
    ),
    "training.get": ("viewer", lambda c, r: c.training.get(run_id=r.done.id)),
    "training.list": ("viewer", lambda c, r: c.training.list()),
    "jobs.cancel": ("member", lambda c, r: c.jobs.cancel(r.live.id)),
    "jobs.list": ("viewer", lambda c, r: c.jobs.list()),
    # datasets
    "datasets.create": ("member", lambda c, r: c.datasets.create("fresh")),
    "datasets.update": ("member", lambda c, r: c.datasets.update(DATASET, description="d")),
    "datasets.delete": ("admin", lambda c, r: c.datasets.delete("spare")),
    "datasets.archive": ("admin", lambda c, r: c.datasets.archive("spare")),
    "datasets.get": ("viewer", lambda c, r: c.datasets.get(DATASET)),
    "datasets.freeze": ("admin", lambda c, r: c.datasets.freeze("spare")),
    "datasets.storage_status": ("viewer", lambda c, r: c.datasets.storage_status(DATASET)),
    "datasets.import_public": (
        "member",
        lambda c, r: c.datasets.import_public(r.public, wait=False),
    ),
    "explore.datasets": ("viewer", lambda c, r: c.explore.datasets()),
    "explore.dataset": ("viewer", lambda c, r: c.explore.dataset(r.public)),
    # connectors
    "connectors.validate": ("viewer", lambda c, r: c.connectors.validate("v7", SOURCE_KEY)),
    "connectors.check_limits": (
        "viewer",
        lambda c, r: c.connectors.check_limits(total_images=1, estimated_size_bytes=1),
    ),
    "connectors.import_": (
        "member",
        lambda c, r: c.connectors.import_(
            "v7", SOURCE_KEY, [{"id": "100001", "name": "Signs", "slug": "signs"}], wait=False
        ),
    ),
    # images
    "images.upload": (
        "member",
        lambda c, r: c.images.upload(DATASET, write_image(r.tmp / "new.png")),  # type: ignore[operator]
    ),
    "images.delete (archive)": ("member", lambda c, r: c.images.delete(DATASET, IMAGE)),
    "images.delete (permanent)": (
        "admin",
        lambda c, r: c.images.delete(DATASET, IMAGE, permanent=True),
    ),
    "images.bulk_tag": ("member", lambda c, r: c.images.bulk_tag(DATASET, r.images[:2], ["t"])),
    "images.review": ("member", lambda c, r: c.images.review(DATASET, IMAGE, "approve")),
    "images.set_split": ("member", lambda c, r: c.images.set_split(DATASET, IMAGE, "val")),
    "images.assign_splits": ("member", lambda c, r: c.images.assign_splits(DATASET)),
    "images.list": ("viewer", lambda c, r: c.images.list(DATASET)),
    # annotations
    "annotations.save": ("member", lambda c, r: c.annotations.save(DATASET, IMAGE, [BOX])),
    "annotations.bulk_save": ("member", lambda c, r: c.annotations.bulk_save({r.images[0]: [BOX]})),
    "annotations.delete": ("admin", lambda c, r: c.annotations.delete(DATASET, IMAGE)),
    "annotations.rename_class": (
        "member",
        lambda c, r: c.annotations.rename_class(DATASET, "yield", "give_way"),
    ),
    "annotations.merge_class": (
        "member",
        lambda c, r: c.annotations.merge_class(DATASET, "yield", "stop_sign"),
    ),
    "annotations.delete_class": (
        "member",
        lambda c, r: c.annotations.delete_class(DATASET, "yield"),
    ),
    "annotations.get": ("viewer", lambda c, r: c.annotations.get(DATASET, IMAGE)),
    # batch
    "batch.move": (
        "member",
        lambda c, r: c.batch.move(DATASET, r.images[:1], target_directory_path="/m"),
    ),
    "batch.copy": (
        "member",
        lambda c, r: c.batch.copy(DATASET, r.images[:1], target_directory_path="/c"),
    ),
    "batch.copy_to_dataset": (
        "member",
        lambda c, r: c.batch.copy_to_dataset(DATASET, r.images[:1], "spare"),
    ),
    "batch.update": ("member", lambda c, r: c.batch.update(DATASET, r.images[:1], status="new")),
    "batch.delete (archive)": ("member", lambda c, r: c.batch.delete(DATASET, r.images[:1])),
    "batch.delete (permanent)": (
        "admin",
        lambda c, r: c.batch.delete(DATASET, r.images[:1], permanent=True),
    ),
    # exports
    "exports.create": ("member", lambda c, r: c.exports.create(DATASET, "v2", wait=False)),
    "exports.delete": ("admin", lambda c, r: c.exports.delete(DATASET, EXPORT)),
    "exports.bulk_delete": ("admin", lambda c, r: c.exports.bulk_delete([r.export.id])),
    "exports.list": ("viewer", lambda c, r: c.exports.list()),
    # models
    "models.update": ("member", lambda c, r: c.models.update(model_id=r.model.id, description="d")),
    "models.update (visibility)": (
        "admin",
        lambda c, r: c.models.update(model_id=r.model.id, visibility="public"),
    ),
    "models.set_current_version": (
        "admin",
        lambda c, r: c.models.set_current_version(model_id=r.model.id, version_id=None),
    ),
    "models.delete": ("admin", lambda c, r: c.models.delete(model_id=r.model.id)),
    "models.bulk_delete": ("admin", lambda c, r: c.models.bulk_delete([r.model.id])),
    "models.get": ("viewer", lambda c, r: c.models.get(model_id=r.model.id)),
    # notifications and credits: every role reads, and marks its feed read
    "notifications.mark_all_read": ("viewer", lambda c, r: c.notifications.mark_all_read()),
    "credits.balance": ("viewer", lambda c, r: c.credits.balance()),
    "credits.estimate": ("viewer", lambda c, r: c.credits.estimate("training_a10g", quantity=3)),
}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[FakePictograph, Refs]]:
    with _world() as fake:
        refs = Refs(fake)
        refs.tmp = tmp_path
        yield fake, refs


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_each_action_needs_its_role(
    world: tuple[FakePictograph, Refs], action: str, role: Any
) -> None:
    fake, refs = world
    needed, act = ACTIONS[action]
    key = fake.api_key if role == "owner" else fake.add_api_key(role)
    before = fingerprint(fake.world)

    with fake.client(api_key=key, max_retries=0) as sdk:
        if RANK[role] >= RANK[needed]:
            act(sdk, refs)
            return
        with pytest.raises(ForbiddenError) as refused:
            act(sdk, refs)

    assert refused.value.status_code == 403
    assert refused.value.code == "forbidden"
    assert f"role '{role}'" in refused.value.message or "admin or owner" in refused.value.message
    assert fingerprint(fake.world) == before, "a refused request changed the world"


def test_a_viewer_is_told_in_the_quote_not_refused(world: tuple[FakePictograph, Refs]) -> None:
    fake, _ = world
    with fake.client(api_key=fake.add_api_key("viewer"), max_retries=0) as viewer:
        quote = viewer.training.quote(DATASET, EXPORT, pipeline_type="yolox")

    assert not quote.can_start
    assert [b.code for b in quote.blocking] == ["forbidden"]


# ── keys ──


def _status(fake: FakePictograph, headers: dict[str, str]) -> httpx.Response:
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
        return http.get("/api/v1/developer/credits/balance", headers=headers)


@pytest.mark.parametrize(
    ("headers", "reason", "message"),
    [
        ({}, "missing", "Missing API key: send it in the X-API-Key header."),
        ({"X-API-Key": "   "}, "missing", "Missing API key: send it in the X-API-Key header."),
        ({"Authorization": "Bearer pk_live_x"}, "missing", "Missing API key"),
        ({"X-API-Key": "hunter2"}, "malformed", "Malformed API key: keys are 'pk_live_'"),
        # The right prefix, too short: the message says how long a key is.
        (
            {"X-API-Key": "pk_live_dummy123"},
            "malformed",
            "Malformed API key: keys are 'pk_live_' or 'pk_test_' followed by 16 to 128 letters",
        ),
        ({"X-API-Key": "pk_live_not-hex!"}, "malformed", "Malformed API key"),
        (
            {"X-API-Key": "pk_live_" + "0" * 32},
            "unknown",
            # What a client built before its test's fake (at import time) meets: why.
            "Invalid API key. It is none of this fake's keys: a client built before the fake "
            "started (at import time, say) keeps the key it was built with",
        ),
    ],
)
def test_requests_without_a_valid_key_are_401(
    fake: FakePictograph, headers: dict[str, str], reason: str, message: str
) -> None:
    response = _status(fake, headers)

    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "unauthorized"
    assert error["message"].startswith(message)
    assert error["details"] == {"reason": reason}


@pytest.mark.parametrize("key", ["hunter2", "pk_live_" + "0" * 32])
def test_the_sdk_raises_auth_error_for_a_bad_key(fake: FakePictograph, key: str) -> None:
    with fake.client(api_key=key) as sdk, pytest.raises(AuthError) as refused:
        sdk.credits.balance()
    assert refused.value.status_code == 401
    assert len(fake.calls) == 1  # a 401 is not retried


async def test_a_revoked_key_is_refused_from_then_on(fake: FakePictograph) -> None:
    key = fake.add_api_key("member")
    async with fake.async_client(api_key=key, max_retries=0) as sdk:
        await sdk.credits.balance()
        fake.revoke_api_key(key)
        with pytest.raises(AuthError, match=r"This API key has been revoked\."):
            await sdk.credits.balance()

    assert fake.calls.last.response_json()["error"]["details"] == {"reason": "revoked"}
    with pytest.raises(ValueError, match="no such API key"):
        fake.revoke_api_key("pk_live_unknown")


def test_a_key_given_verbatim_is_never_malformed() -> None:
    with FakePictograph(api_key="dev-key") as fake, fake.client() as sdk:
        sdk.credits.balance()
    assert fake.api_key == "dev-key"


# ── organizations ──


@pytest.fixture
def two_orgs() -> Iterator[tuple[FakePictograph, FakeOrganization, Refs]]:
    """The default organization's world, and a second organization with a same-named
    dataset and export of its own."""
    with _world() as fake:
        refs = Refs(fake)
        fake.world.feeds.notify(fake.organization_id, "export_ready", "Export ready", at=0.0)
        other = fake.add_organization(balance_usd=25.0, name="Rival Labs")
        other.add_dataset(DATASET, images=5, completed_images=5, classes=["cat"])
        other.add_export(DATASET, EXPORT)
        yield fake, other, refs


def _their_notification(fake: FakePictograph) -> str:
    return next(iter(fake.world.feeds.notifications))


# What another organization might try on the default organization's resources.
TRESPASSES: dict[str, Callable[[pictograph.Client, FakePictograph, Refs], Any]] = {
    "training.get": lambda c, f, r: c.training.get(run_id=r.done.id),
    "training.get by name": lambda c, f, r: c.training.get("done"),
    "training.cancel": lambda c, f, r: c.training.cancel(run_id=r.live.id),
    "training.create with their model": lambda c, f, r: c.training.create(
        DATASET,
        EXPORT,
        pipeline_type="yolox",
        name="v2",
        version_of_model_id=r.model.id,
        wait=False,
    ),
    "models.get": lambda c, f, r: c.models.get(model_id=r.model.id),
    "models.get by name": lambda c, f, r: c.models.get(r.model.name),
    "models.update": lambda c, f, r: c.models.update(model_id=r.model.id, description="x"),
    "models.delete": lambda c, f, r: c.models.delete(model_id=r.model.id),
    "datasets.get by id": lambda c, f, r: c.datasets.get(dataset_id=r.done.dataset_id),
    "datasets.delete": lambda c, f, r: c.datasets.delete("spare"),
    "datasets.freeze": lambda c, f, r: c.datasets.freeze("spare"),
    "datasets.storage_status": lambda c, f, r: c.datasets.storage_status("spare"),
    # A private dataset is no public one: the same 404 as none at all.
    "explore.dataset private": lambda c, f, r: c.explore.dataset(f"{f.organization.slug}/spare"),
    "datasets.import_public private": lambda c, f, r: c.datasets.import_public(
        f"{f.organization.slug}/spare"
    ),
    "exports.get_by_id": lambda c, f, r: c.exports.get_by_id(r.export.id),
    "images.get by id": lambda c, f, r: c.images.get(DATASET, r.images[0]),
    "images.list of theirs": lambda c, f, r: c.images.list("spare"),
    "notifications.mark_read": lambda c, f, r: c.notifications.mark_read(_their_notification(f)),
    "notifications.delete": lambda c, f, r: c.notifications.delete(_their_notification(f)),
    "jobs.get": lambda c, f, r: c.jobs.get(r.done.id),
}


@pytest.mark.parametrize("trespass", sorted(TRESPASSES))
def test_another_organizations_resources_are_404_never_403(
    two_orgs: tuple[FakePictograph, FakeOrganization, Refs], trespass: str
) -> None:
    fake, other, refs = two_orgs
    before = fingerprint(fake.world)

    with other.client(max_retries=0) as rival, pytest.raises(NotFoundError):
        TRESPASSES[trespass](rival, fake, refs)

    assert fingerprint(fake.world) == before


def test_a_role_refusal_is_the_same_whichever_run_it_names(
    two_orgs: tuple[FakePictograph, FakeOrganization, Refs],
) -> None:
    # The role is checked before the run is looked up (docs/routes.md), so a viewer's
    # 403 says nothing of whether the run exists, or in which organization.
    fake, other, refs = two_orgs
    with other.client(max_retries=0) as rival:
        theirs = rival.training.create(
            DATASET, EXPORT, pipeline_type="yolox", name="theirs", wait=False
        )
    viewer_key = other.add_api_key("viewer")
    before = fingerprint(fake.world)
    refusals = []

    with other.client(api_key=viewer_key, max_retries=0) as viewer:
        for run_id in (theirs.id, refs.live.id, "00000000-0000-4000-8000-000000000000"):
            with pytest.raises(ForbiddenError) as refused:
                viewer.training.cancel(run_id=run_id)
            refusals.append((refused.value.status_code, refused.value.message))

    assert len(set(refusals)) == 1, refusals
    assert refusals[0][0] == 403
    assert fingerprint(fake.world) == before


def test_bulk_writes_treat_another_organizations_ids_as_unknown(
    two_orgs: tuple[FakePictograph, FakeOrganization, Refs],
) -> None:
    fake, other, refs = two_orgs
    before = fingerprint(fake.world)

    with other.client(max_retries=0) as rival:
        cancelled = rival.training.bulk_cancel([refs.live.id])
        deleted = rival.models.bulk_delete([refs.model.id])
        exports = rival.exports.bulk_delete([refs.export.id])
        saved = rival.annotations.bulk_save({refs.images[0]: [BOX]})

    assert (cancelled.succeeded, cancelled.not_found) == ([], [refs.live.id])
    assert deleted.not_found == [refs.model.id]
    assert exports.not_found == [refs.export.id]
    assert [f.image_id for f in saved.failed] == [refs.images[0]]
    assert fingerprint(fake.world) == before


def test_each_organization_lists_only_its_own(
    two_orgs: tuple[FakePictograph, FakeOrganization, Refs],
) -> None:
    fake, other, refs = two_orgs
    with other.client(max_retries=0) as rival:
        assert [d.name for d in rival.datasets.list()] == [DATASET]
        assert rival.datasets.get(DATASET).id != refs.done.dataset_id
        assert rival.training.list() == []
        assert rival.models.list() == []
        assert [e.id for e in rival.exports.list()] != [refs.export.id]
        assert rival.notifications.list() == []
        theirs = {refs.done.id, refs.live.id, refs.export.id}
        assert not theirs & {job.id for job in rival.jobs.list(status="all")}
        assert rival.credits.history() == []
        assert rival.credits.balance().included_allowance_micro_usd == 25_000_000
        # The same names, resolved in its own organization: a run of its own dataset.
        run = rival.training.create(DATASET, EXPORT, pipeline_type="yolox", name="r", wait=False)
    assert fake.run(run.id, organization=other).status == "queued"
    assert fake.world.runs[run.id].dataset_id != refs.done.dataset_id
    assert fake.world.runs[run.id].organization_id == other.id
    assert len(other.ledger) == 1
    assert all(e.organization_id == fake.organization_id for e in fake.ledger)


def test_every_role_of_another_organization_is_kept_out(
    two_orgs: tuple[FakePictograph, FakeOrganization, Refs],
) -> None:
    _, other, refs = two_orgs
    for role in ROLES:
        with other.client(role=role, max_retries=0) as rival, pytest.raises(NotFoundError):
            rival.training.get(run_id=refs.done.id)


def test_organizations_are_built_through_the_fake(fake: FakePictograph) -> None:
    other = fake.add_organization(balance_usd=7.5, name="Second Org")
    member = fake.add_api_key("member", organization=other)
    other.add_dataset("mine", images=3, completed_images=3)
    other.top_up(2.5)

    assert other.name == "Second Org"
    assert other.balance_usd == pytest.approx(10.0)
    assert fake.balance_usd == pytest.approx(100.0)
    assert fake.world.api_keys[member].organization_id == other.id
    assert fake.world.api_keys[other.api_key].role == "owner"
    assert repr(other) == f"FakeOrganization(id={other.id!r}, name='Second Org')"
    with pytest.raises(ValueError, match="no organization 'nope'"):
        fake.add_dataset("x", organization="nope")


def test_a_fakes_repr_says_whether_it_is_active() -> None:
    fake = FakePictograph(seed=3)
    now = fake.clock.now().isoformat()
    assert repr(fake) == (
        f"FakePictograph(seed=3, profile='classic', base_url='https://api.pictograph.io', "
        f"inactive, now={now})"
    )
    with fake:
        assert repr(fake).endswith(f"'https://api.pictograph.io', active, now={now})")


def test_an_organization_takes_only_a_plan_of_the_catalog(fake: FakePictograph) -> None:
    tier = fake.organization.subscription_tier
    with pytest.raises(ValueError, match=r"^unknown plan 'gold'; choose one of: "):
        fake.organization.subscription_tier = "gold"
    assert fake.organization.subscription_tier == tier
