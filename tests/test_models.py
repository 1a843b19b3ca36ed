"""Trained models through the real SDK: list, get, update, delete, versions, files, downloads."""

from __future__ import annotations

import json
import struct
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

import httpx
import pytest
from pictograph.exceptions import ConflictError, ForbiddenError, NotFoundError, ValidationError

from pictograph_testing import FakePictograph
from tests.conftest import DATASET, EXPORT
from tests.image_files import raw

# The formats `models.download` takes (the SDK spells them inline, with no alias).
DownloadFormat = Literal["onnx", "pytorch", "safetensors", "pte", "engine"]

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    import pictograph
    from pictograph.models.model import Model, ModelStatus

WEIGHTS = {"onnx": "model.onnx", "pytorch": "model.pth", "safetensors": "model.safetensors"}
CLASSES = ["stop_sign", "yield"]
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def _train(client: pictograph.Client, name: str, **options: Any) -> str:
    """Train a YOLOX model (instantly, on the virtual clock); return its model id."""
    run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name=name, **options)
    assert run.status == "completed"
    assert run.model_id is not None
    return run.model_id


@pytest.fixture
def model(client: pictograph.Client) -> Model:
    """One trained model, ``m1``."""
    return client.models.get(model_id=_train(client, "m1"))


@pytest.fixture
def member(fake: FakePictograph) -> Iterator[pictograph.Client]:
    """A client whose key has the ``member`` role (rename yes; publish, delete, pin no)."""
    with fake.client(api_key=fake.add_api_key("member"), max_retries=0) as sdk:
        yield sdk


@pytest.fixture
def viewer(fake: FakePictograph) -> Iterator[pictograph.Client]:
    with fake.client(api_key=fake.add_api_key("viewer"), max_retries=0) as sdk:
        yield sdk


def _only_file(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# ── list / iter ──


def test_list_returns_the_organizations_models_newest_first(client: pictograph.Client) -> None:
    ids = [_train(client, name) for name in ("m1", "m2", "m3")]

    models = client.models.list()

    assert [m.name for m in models] == ["m3", "m2", "m1"]
    assert [m.id for m in models] == ids[::-1]
    assert {(m.status, m.model_type, m.visibility) for m in models} == {
        ("ready", "object_detection", "private")
    }
    assert [m.name for m in client.models.list(limit=1, offset=1)] == ["m2"]
    assert client.models.list(offset=3) == []


def test_list_filters(fake: FakePictograph, client: pictograph.Client) -> None:
    fake.add_dataset("fields", images=10, completed_images=10, annotation_types=("polygon",))
    fake.add_export("fields", "fields-v1")
    _train(client, "boxes-1")
    _train(client, "boxes-2")
    seg = client.training.create("fields", "fields-v1", pipeline_type="sm_pytorch", name="seg")

    def names(**filters: Any) -> list[str]:
        return [m.name for m in client.models.list(**filters)]

    assert names(name="boxes-1") == ["boxes-1"]
    assert names(name="boxes") == []
    assert names(dataset_name=DATASET) == ["boxes-2", "boxes-1"]
    assert names(dataset_name="fields") == ["seg"]
    assert names(dataset_name="nope") == []
    assert names(status="ready") == ["seg", "boxes-2", "boxes-1"]
    assert names(status="archived") == []
    assert names(model_type="object_detection") == ["boxes-2", "boxes-1"]
    assert names(model_type="semantic_segmentation") == ["seg"]
    assert names(model_type="classification") == []
    assert names(dataset_name=DATASET, name="boxes-2", model_type="object_detection") == ["boxes-2"]
    assert client.models.get("seg").id == seg.model_id


def test_the_dataset_filter_follows_a_renamed_dataset(client: pictograph.Client) -> None:
    _train(client, "boxes-1")
    client.datasets.update(DATASET, new_name="signs")

    def names(**filters: Any) -> list[str]:
        return [m.name for m in client.models.list(**filters)]

    assert names(dataset_name="signs") == ["boxes-1"]
    assert names(dataset_name="signs", status="ready") == ["boxes-1"]
    assert [m.name for m in client.models.iter(dataset_name="signs")] == ["boxes-1"]
    assert names(dataset_name=DATASET) == []  # the old name names no dataset now
    # As the training runs' listing reads it.
    assert [r.name for r in client.training.list(dataset_name="signs")] == ["boxes-1"]


async def test_the_dataset_filter_follows_a_renamed_dataset_async(
    aclient: pictograph.AsyncClient,
) -> None:
    await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name="a1")
    await aclient.datasets.update(DATASET, new_name="signs")

    assert [m.name for m in await aclient.models.list(dataset_name="signs")] == ["a1"]
    assert [m.name async for m in aclient.models.iter(dataset_name="signs")] == ["a1"]
    assert await aclient.models.list(dataset_name=DATASET) == []


@pytest.mark.parametrize(("field", "value"), [("model_type", "bogus"), ("status", "deleted")])
def test_list_refuses_an_unknown_filter_value(
    client: pictograph.Client, field: str, value: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        # Each filter by name, with a value its Literal refuses.
        client.models.list(**{field: value})  # type: ignore[arg-type]

    assert refused.value.status_code == 422
    assert refused.value.field_errors is not None
    assert refused.value.field_errors[0]["loc"] == ["query", field]


def test_iter_pages_through_every_model(client: pictograph.Client) -> None:
    for n in range(5):
        _train(client, f"m{n}")
    newest_first = [m.id for m in client.models.list()]

    assert [m.id for m in client.models.iter(page_size=2)] == newest_first
    assert [m.id for m in client.models.iter(page_size=5).all()] == newest_first
    assert [m.id for m in client.models.iter(page_size=2, max_total=3)] == newest_first[:3]
    assert len(client.models.iter(dataset_name=DATASET, page_size=3).all()) == 5
    assert client.models.iter(model_type="classification").all() == []
    assert client.models.iter(status="failed").first() is None


def test_a_page_says_where_it_lies_and_whether_more_follow(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    for n in range(4):
        _train(client, f"m{n}")
    with raw(fake) as http:
        sent = http.get("/api/v1/developer/models/", params={"limit": 2, "offset": 1}).json()

    assert [m["name"] for m in sent["data"]] == ["m2", "m1"]
    assert sent["pagination"] == {"limit": 2, "offset": 1, "total": 4, "has_more": True}
    before = len(fake.calls)
    assert len(client.models.iter(page_size=2).all()) == 4
    # The pager trusts `has_more`: no third request for a page that would be empty.
    assert len(fake.calls) - before == 2


def test_a_page_holds_at_most_100_models(client: pictograph.Client) -> None:
    for n in range(101):
        _train(client, f"m{n}")

    assert len(client.models.list(limit=500)) == 100
    assert [m.name for m in client.models.list(limit=500, offset=100)] == ["m0"]
    assert len(client.models.iter(page_size=100).all()) == 101


async def test_async_list_and_iter(aclient: pictograph.AsyncClient) -> None:
    for name in ("a1", "a2", "a3"):
        await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name=name)

    listed = await aclient.models.list(dataset_name=DATASET)
    walked = [m async for m in aclient.models.iter(page_size=2)]

    assert [m.name for m in listed] == ["a3", "a2", "a1"]
    assert [m.id for m in walked] == [m.id for m in listed]
    assert [m.name for m in await aclient.models.list(name="a2")] == ["a2"]
    with pytest.raises(ValidationError):
        # Deliberately a type the SDK's Literal refuses: the fake must refuse it too.
        await aclient.models.list(model_type="bogus")  # type: ignore[arg-type]


def test_a_name_filter_with_other_filters_needs_them_all(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_dataset("fields", images=2, completed_images=2)
    _train(client, "boxes-1")

    def names(**filters: Any) -> list[str]:
        return [m.name for m in client.models.list(name="boxes-1", **filters)]

    assert names(dataset_name=DATASET) == ["boxes-1"]
    assert names(dataset_name="fields") == []  # named so, but of another dataset
    assert names(dataset_name="fields", status="ready") == []
    assert names(model_type="semantic_segmentation") == []
    assert names(status="archived") == []


async def test_a_name_filter_with_another_dataset_finds_nothing_async(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    fake.add_dataset("fields", images=2, completed_images=2)
    await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name="a1")

    assert await aclient.models.list(name="a1", dataset_name="fields") == []
    assert [m.name for m in await aclient.models.list(name="a1", dataset_name=DATASET)] == ["a1"]


# ── get ──


def test_get_by_name_id_and_uuid_agree(client: pictograph.Client, model: Model) -> None:
    found = [
        client.models.get("m1"),
        client.models.get(model_id=model.id),
        client.models.get(model.id),  # a UUID in the name position
        client.models.get_by_name("m1"),
        client.models.get_by_name(model.id),
        client.models.get_by_name(model.id.upper()),  # the SDK takes any-case UUIDs as ids
    ]

    assert all(m == model for m in found)


def test_a_trained_model_describes_its_training(client: pictograph.Client, model: Model) -> None:
    assert model.name == "m1"
    assert model.status == "ready"
    assert model.model_type == "object_detection"
    assert model.architecture is not None
    assert model.architecture.startswith("yolox-")
    assert model.class_mapping == {"classes": CLASSES}
    assert model.version == "1.0.0"
    assert model.precision == "fp32"
    assert model.metrics
    assert model.training_config is not None
    assert model.training_config["image_height"] == model.training_config["image_width"] == 640
    assert model.parent_model_id is None
    assert model.forked_from_model_id is None
    assert model.created_at == model.updated_at


@pytest.mark.parametrize(
    "lookup",
    [
        lambda c: c.models.get("nope"),
        lambda c: c.models.get(model_id=UNKNOWN_ID),
        lambda c: c.models.get_by_name("nope"),
        lambda c: c.models.get_by_name(UNKNOWN_ID),
    ],
    ids=["name", "model_id", "get_by_name", "get_by_name-uuid"],
)
def test_get_unknown_model_is_404(client: pictograph.Client, model: Model, lookup: Any) -> None:
    with pytest.raises(NotFoundError) as missing:
        lookup(client)
    assert missing.value.status_code == 404


def test_models_of_another_organization_are_invisible(
    fake: FakePictograph, client: pictograph.Client, model: Model
) -> None:
    with fake.world.lock:
        other_org = fake.world.add_organization(balance_usd=10)
        other_key = fake.world.add_api_key(other_org.id, role="owner").key

    with fake.client(api_key=other_key, max_retries=0) as other:
        assert other.models.list() == []
        with pytest.raises(NotFoundError):
            other.models.get(model_id=model.id)
        with pytest.raises(NotFoundError):
            other.models.get("m1")
        result = other.models.bulk_delete([model.id])

    assert result.not_found == [model.id]
    assert client.models.get("m1") == model


async def test_async_get(aclient: pictograph.AsyncClient) -> None:
    run = await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name="a1")
    assert run.model_id is not None

    by_name = await aclient.models.get("a1")

    assert by_name.id == run.model_id
    assert await aclient.models.get(model_id=run.model_id) == by_name
    assert await aclient.models.get_by_name(run.model_id) == by_name
    assert await aclient.models.get_by_name("a1") == by_name
    with pytest.raises(NotFoundError):
        await aclient.models.get("nope")


# ── names ──


def test_a_clashing_model_name_gets_a_suffix(client: pictograph.Client) -> None:
    ids = [_train(client, "same") for _ in range(3)]

    names = [client.models.get(model_id=i).name for i in ids]

    assert names == ["same", "same (2)", "same (3)"]
    assert client.models.get("same (2)").id == ids[1]


def test_a_suffix_freed_by_a_delete_or_rename_is_given_again(client: pictograph.Client) -> None:
    ids = [_train(client, "same") for _ in range(4)]
    client.models.delete(ids[1])  # frees "same (2)"
    client.models.update("same (3)", new_name="other")  # frees "same (3)"

    again = [client.models.get(model_id=_train(client, "same")).name for _ in range(3)]

    assert again == ["same (2)", "same (3)", "same (5)"]


def test_a_suffix_freed_by_a_rename_alone_is_given_again(client: pictograph.Client) -> None:
    ids = [_train(client, "same") for _ in range(3)]
    client.models.update("same (2)", new_name="other")  # frees "same (2)", nothing else

    again = client.models.get(model_id=_train(client, "same"))

    assert again.name == "same (2)"
    assert [client.models.get(model_id=i).name for i in ids] == ["same", "other", "same (3)"]


LONGEST = "Road signs, dashcam, winter " * 3 + "x" * 16
"""A name of exactly the 100 characters the API takes."""


def test_a_numbered_name_is_shortened_to_stay_within_the_limit(
    client: pictograph.Client,
) -> None:
    assert len(LONGEST) == 100
    ids = [_train(client, LONGEST) for _ in range(3)]

    names = [client.models.get(model_id=i).name for i in ids]

    assert names == [LONGEST, LONGEST[:96] + " (2)", LONGEST[:96] + " (3)"]
    # Each can be sent back as it is: a rename to itself, a deployment named after it.
    for name in names:
        assert client.models.update(name, new_name=name).name == name
    deployed = client.deployments.create(names[1]).deployment
    assert deployed.name == names[1]
    assert client.deployments.update(deployed.id, name=names[1]).name == names[1]


def test_a_shortened_suffix_freed_is_given_again(client: pictograph.Client) -> None:
    ids = [_train(client, LONGEST) for _ in range(3)]
    client.models.delete(ids[1])  # frees the shortened "(2)"

    again = [client.models.get(model_id=_train(client, LONGEST)).name for _ in range(2)]

    assert again == [LONGEST[:96] + " (2)", LONGEST[:96] + " (4)"]


async def test_async_numbered_name_stays_within_the_limit(
    aclient: pictograph.AsyncClient,
) -> None:
    for _ in range(2):
        await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name=LONGEST)

    names = sorted(m.name for m in await aclient.models.list())

    assert names == sorted([LONGEST, LONGEST[:96] + " (2)"])
    assert {len(name) for name in names} == {100}


def test_names_with_reserved_characters_round_trip(client: pictograph.Client, model: Model) -> None:
    awkward = "signs/v2 100% #1?"

    renamed = client.models.update("m1", new_name=awkward)

    assert renamed.name == awkward
    assert client.models.get(awkward).id == model.id
    assert client.models.get_by_name(awkward).id == model.id
    assert [m.id for m in client.models.list(name=awkward)] == [model.id]


# ── update ──


def test_update_renames_and_describes(
    fake: FakePictograph, client: pictograph.Client, model: Model
) -> None:
    fake.clock.advance(minutes=3)

    updated = client.models.update(
        "m1", new_name="road-signs-detector", description="Finds stop signs."
    )

    assert updated.id == model.id
    assert updated.name == "road-signs-detector"
    assert updated.description == "Finds stop signs."
    assert updated.updated_at == fake.clock.now()
    assert updated.created_at == model.created_at
    assert client.models.get("road-signs-detector") == updated
    with pytest.raises(NotFoundError):
        client.models.get("m1")


def test_update_by_model_id_changes_only_what_is_sent(
    client: pictograph.Client, model: Model
) -> None:
    client.models.update(model_id=model.id, description="first")

    updated = client.models.update(model_id=model.id, visibility="public")

    assert updated.visibility == "public"
    assert updated.description == "first"
    assert updated.name == "m1"
    assert client.models.update("m1", visibility="private").visibility == "private"


def test_the_wire_model_carries_its_dataset_card_and_current_version(
    fake: FakePictograph, client: pictograph.Client, retrained: Model
) -> None:
    """Keys the SDK's `Model` leaves out, on the wire for other readers; Explore reads the
    license."""
    v1 = client.models.versions("m1").versions[1]
    client.models.set_current_version("m1", version_id=v1.version_id)
    client.models.update("m1", readme="# Road signs", license_id="mit")
    client.models.update("m1", description="Finds stop signs.", visibility="public")

    with raw(fake) as http:
        sent = http.get(f"/api/v1/developer/models/{retrained.id}").json()["data"]
        entries = http.get(f"/api/v1/developer/models/{retrained.id}/versions").json()["data"]
    (listed,) = client.explore.models()

    dataset = client.datasets.get(DATASET)
    assert (sent["dataset_id"], sent["dataset_name"]) == (dataset.id, DATASET)
    assert sent["current_version_id"] == v1.version_id
    assert sent["pipeline_type"] == "yolox"
    assert (sent["readme"], sent["license_id"]) == ("# Road signs", "mit")
    assert (listed.id, listed.license_id) == (retrained.id, "mit")
    # Each version entry carries its id under `id` as well, as the real payload does.
    assert [(v["id"], v["version_label"]) for v in entries["versions"]] == [
        (v["version_id"], v["version_label"]) for v in entries["versions"]
    ]
    assert [v["version_label"] for v in entries["versions"]] == ["2.0.0", "1.0.0"]


def test_rename_to_a_taken_name_is_a_400(client: pictograph.Client, model: Model) -> None:
    # The SDK documents this refusal as a 400 (`models.update`), not a conflict.
    _train(client, "m2")

    with pytest.raises(ValidationError) as clash:
        client.models.update("m1", new_name="m2")

    assert clash.value.status_code == 400
    assert "A model named 'm2' already exists" in str(clash.value)
    assert client.models.get(model_id=model.id).name == "m1"
    assert client.models.update("m1", new_name="m1").name == "m1"  # its own name is no clash


def test_update_refuses_an_unknown_visibility(client: pictograph.Client, model: Model) -> None:
    with pytest.raises(ValidationError) as refused:
        # Deliberately a visibility the SDK's Literal refuses: the fake must refuse it too.
        client.models.update("m1", visibility="secret")  # type: ignore[arg-type]
    assert refused.value.status_code == 422


def test_a_viewer_cannot_update(viewer: pictograph.Client, model: Model) -> None:
    with pytest.raises(ForbiddenError) as refused:
        viewer.models.update("m1", description="nope")
    assert refused.value.status_code == 403


def test_a_member_can_rename_but_not_publish(
    client: pictograph.Client, member: pictograph.Client, model: Model
) -> None:
    renamed = member.models.update("m1", new_name="m1-member")
    with pytest.raises(ForbiddenError) as refused:
        member.models.update("m1-member", visibility="public")

    assert renamed.name == "m1-member"
    assert refused.value.status_code == 403
    assert client.models.get(model_id=model.id).visibility == "private"


def test_a_null_name_is_refused_and_a_null_visibility_changes_nothing(
    fake: FakePictograph, model: Model
) -> None:
    """Bodies the SDK never sends (it leaves out what is not given), as other clients may."""
    path = f"/api/v1/developer/models/{model.id}"
    with raw(fake) as http:
        unnamed = http.patch(path, json={"name": None})
    with raw(fake, fake.add_api_key("member")) as http:
        described = http.patch(path, json={"visibility": None, "description": "Signs."})

    assert unnamed.status_code == 422
    assert described.status_code == 200
    sent = described.json()["data"]
    assert (sent["name"], sent["visibility"], sent["description"]) == ("m1", "private", "Signs.")


async def test_async_update(fake: FakePictograph, aclient: pictograph.AsyncClient) -> None:
    run = await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name="a1")
    await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name="a2")

    updated = await aclient.models.update("a1", new_name="a1-renamed", visibility="public")

    assert (updated.id, updated.name, updated.visibility) == (run.model_id, "a1-renamed", "public")
    with pytest.raises(ValidationError) as clash:
        await aclient.models.update("a1-renamed", new_name="a2")
    assert clash.value.status_code == 400
    async with fake.async_client(api_key=fake.add_api_key("member"), max_retries=0) as member:
        with pytest.raises(ForbiddenError):
            await member.models.update("a1-renamed", visibility="private")


@pytest.mark.parametrize(
    ("method", "route", "params", "body"),
    [
        ("PATCH", "m1", {}, {}),  # nothing to change
        ("PATCH", "m1/current-version", {}, {}),  # the pin, or null to unpin: never left out
        ("POST", "bulk-delete", {}, {}),  # the ids to delete: never left out
        ("GET", "m1/files/download", {"name": "config.json"}, None),
        ("GET", "m1/files/download", {"version_id": "{version}"}, None),
        ("GET", "m1/files/download", {"version_id": "{version}", "name": ""}, None),
    ],
    ids=["update-none", "pin-none", "delete-none", "no-version", "no-name", "empty-name"],
)
def test_a_request_without_what_its_route_needs_is_a_422(
    fake: FakePictograph,
    client: pictograph.Client,
    model: Model,
    method: str,
    route: str,
    params: dict[str, str],
    body: dict[str, Any] | None,
) -> None:
    """Requests the SDK never sends (it sends each of these fields, and refuses an update
    of nothing itself), as other clients may."""
    version = client.models.versions("m1").versions[0].version_id
    query = {key: value.format(version=version) for key, value in params.items()}
    with raw(fake) as http:
        answer = http.request(method, f"/api/v1/developer/models/{route}", params=query, json=body)

    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "validation_error"
    assert client.models.get("m1").updated_at == model.updated_at


# ── delete / bulk_delete ──


def test_delete_by_name_then_404(client: pictograph.Client, model: Model) -> None:
    client.models.delete("m1")

    with pytest.raises(NotFoundError):
        client.models.get(model_id=model.id)
    with pytest.raises(NotFoundError):
        client.models.delete("m1")
    assert client.models.list() == []


def test_delete_by_model_id(client: pictograph.Client, model: Model) -> None:
    keep = _train(client, "m2")

    client.models.delete(model_id=model.id)

    assert [m.id for m in client.models.list()] == [keep]


def test_a_delete_answers_what_it_deleted(fake: FakePictograph, model: Model) -> None:
    # The SDK reads nothing of it; the wire spec's tests do.
    with raw(fake) as http:
        answer = http.delete(f"/api/v1/developer/models/{model.id}").json()

    assert answer["data"] == {"id": model.id, "name": "m1", "deleted": True}


def test_a_member_cannot_delete(
    client: pictograph.Client, member: pictograph.Client, model: Model
) -> None:
    with pytest.raises(ForbiddenError) as refused:
        member.models.delete("m1")
    with pytest.raises(ForbiddenError):
        member.models.bulk_delete([model.id])

    assert refused.value.status_code == 403
    assert client.models.get("m1") == model


def test_bulk_delete_reports_what_it_deleted(client: pictograph.Client) -> None:
    a, b, c = (_train(client, n) for n in ("a", "b", "c"))

    result = client.models.bulk_delete([a, b, a, UNKNOWN_ID, b])

    assert result.succeeded == [a, b]
    assert result.deleted == [a, b]
    assert result.not_found == [UNKNOWN_ID]
    assert result.count == 2
    assert [m.id for m in client.models.list()] == [c]
    with pytest.raises(NotFoundError):
        client.models.get(model_id=a)


def test_a_bulk_delete_answers_the_legacy_key_too(fake: FakePictograph, model: Model) -> None:
    # SDKs from before `succeeded` read `deleted` (the wire spec's bulk-delete result).
    with raw(fake) as http:
        answer = http.post(
            "/api/v1/developer/models/bulk-delete", json={"model_ids": [model.id, UNKNOWN_ID]}
        ).json()

    assert answer["data"] == {
        "succeeded": [model.id],
        "deleted": [model.id],
        "not_found": [UNKNOWN_ID],
        "count": 1,
    }


def test_bulk_delete_takes_an_id_in_any_case(client: pictograph.Client) -> None:
    a, b = (_train(client, n) for n in ("a", "b"))
    shouted = a.upper()

    result = client.models.bulk_delete([shouted])

    # Reported as sent, like the deployments' bulk routes; the model it names is gone.
    assert result.succeeded == [shouted]
    assert result.not_found == []
    assert [m.id for m in client.models.list()] == [b]
    with pytest.raises(NotFoundError):
        client.models.get(model_id=a)
    assert client.models.bulk_delete([shouted]).not_found == [shouted]
    twice = client.models.bulk_delete([b.upper(), b])  # one model, two cases: collapsed
    assert (twice.succeeded, twice.not_found, twice.count) == ([b.upper()], [], 1)


def test_bulk_delete_repeated_finds_nothing(client: pictograph.Client) -> None:
    ids = [_train(client, n) for n in ("a", "b")]
    client.models.bulk_delete(ids)

    again = client.models.bulk_delete(ids)

    assert again.succeeded == []
    assert again.not_found == ids
    assert again.count == 0


def test_bulk_delete_refuses_an_empty_list(client: pictograph.Client) -> None:
    with pytest.raises(ValidationError) as refused:
        client.models.bulk_delete([])
    assert refused.value.status_code == 422


async def test_async_delete_and_bulk_delete(aclient: pictograph.AsyncClient) -> None:
    ids: list[str] = []
    for name in ("a", "b", "c"):
        run = await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name=name)
        assert run.model_id is not None
        ids.append(run.model_id)

    await aclient.models.delete("a")
    result = await aclient.models.bulk_delete([ids[0], ids[1], ids[1]])

    assert result.succeeded == [ids[1]]
    assert result.not_found == [ids[0]]
    assert [m.id for m in await aclient.models.list()] == [ids[2]]
    with pytest.raises(NotFoundError):
        await aclient.models.get("a")
    with pytest.raises(ValidationError):
        await aclient.models.bulk_delete([])
    upper = await aclient.models.bulk_delete([ids[2].upper()])
    assert upper.succeeded == [ids[2].upper()]
    assert await aclient.models.list() == []


# ── versions ──


@pytest.fixture
def retrained(client: pictograph.Client, model: Model) -> Model:
    """``m1`` with a second version (trained for 10 epochs instead of 50)."""
    again = _train(client, "m1-v2", version_of_model_id=model.id, config={"epochs": 10})
    assert again == model.id
    return client.models.get(model_id=model.id)


def test_retraining_adds_a_version_that_becomes_current(
    client: pictograph.Client, model: Model, retrained: Model
) -> None:
    payload = client.models.versions("m1")

    newest, oldest = payload.versions
    assert [v.version_number for v in payload.versions] == [2, 1]
    assert [v.version_label for v in payload.versions] == ["2.0.0", "1.0.0"]
    assert payload.current_version_id == payload.latest_version_id == newest.version_id
    assert payload.pinned_version_id is None
    assert (newest.is_current, newest.is_latest) == (True, True)
    assert (oldest.is_current, oldest.is_latest) == (False, False)
    assert {v.status for v in payload.versions} == {"ready"}
    assert newest.training_run_id != oldest.training_run_id
    assert newest.export_name == EXPORT
    assert newest.pipeline_provenance == {
        "schema_version": 1,
        "build_id": "pictograph-testing",
        "prep_layout_version": 2,
        "libraries": {"cv2": "4.10.0", "torch": "2.5.1"},
    }
    assert retrained.version == "2.0.0"
    assert retrained.training_config is not None
    assert retrained.training_config["epochs"] == 10
    assert [m.id for m in client.models.list()] == [model.id]  # still one model


def test_retraining_moves_the_models_updated_at_to_the_new_versions_end(
    fake: FakePictograph, client: pictograph.Client, model: Model
) -> None:
    fake.clock.advance(hours=1)

    run = client.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="m1-v2", version_of_model_id=model.id
    )
    retrained = client.models.get(model_id=model.id)

    assert run.completed_at is not None
    assert retrained.updated_at == run.completed_at > model.updated_at
    assert retrained.created_at == model.created_at
    newest, oldest = client.models.versions("m1").versions
    assert (newest.created_at, oldest.created_at) == (run.completed_at, model.created_at)


async def test_retraining_moves_updated_at_async(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    first = await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name="a1")
    assert first.model_id is not None
    before = await aclient.models.get(model_id=first.model_id)
    fake.clock.advance(hours=1)

    run = await aclient.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="a1-v2", version_of_model_id=first.model_id
    )

    assert run.completed_at is not None
    assert (await aclient.models.get("a1")).updated_at == run.completed_at > before.updated_at


def test_a_pin_survives_retraining_until_removed(
    client: pictograph.Client, model: Model, retrained: Model
) -> None:
    v2, v1 = client.models.versions("m1").versions

    pinned = client.models.set_current_version("m1", version_id=v1.version_id)

    assert pinned.pinned_version_id == pinned.current_version_id == v1.version_id
    assert client.models.files("m1").pinned_version_id == v1.version_id
    assert pinned.latest_version_id == v2.version_id
    assert [v.is_current for v in pinned.versions] == [False, True]
    # `is_latest` is the version in effect too (the pin first): what `download_file`
    # without a version reads.
    assert [v.is_latest for v in pinned.versions] == [False, True]
    assert client.models.get("m1").version == "1.0.0"

    _train(client, "m1-v3", version_of_model_id=model.id)
    after_retrain = client.models.versions(model_id=model.id)
    assert len(after_retrain.versions) == 3
    assert after_retrain.current_version_id == v1.version_id
    assert after_retrain.latest_version_id == after_retrain.versions[0].version_id
    assert client.models.get("m1").version == "1.0.0"

    unpinned = client.models.set_current_version(model_id=model.id, version_id=None)
    assert unpinned.pinned_version_id is None
    assert unpinned.current_version_id == after_retrain.latest_version_id
    assert client.models.get("m1").version == "3.0.0"


def test_a_pin_or_unpin_moves_updated_at(
    fake: FakePictograph, client: pictograph.Client, retrained: Model
) -> None:
    v1 = client.models.versions("m1").versions[1]
    fake.clock.advance(minutes=5)
    client.models.set_current_version("m1", version_id=v1.version_id)
    pinned_at = client.models.get("m1").updated_at
    fake.clock.advance(minutes=5)
    client.models.set_current_version("m1", version_id=None)

    assert pinned_at == fake.clock.now() - timedelta(minutes=5) > retrained.updated_at
    assert client.models.get("m1").updated_at == fake.clock.now()


def test_a_version_that_is_not_ready_cannot_be_pinned(
    fake: FakePictograph, client: pictograph.Client, retrained: Model
) -> None:
    v1 = client.models.versions("m1").versions[1]
    with fake.world.lock:
        fake.world.registry.find(fake.world.default_key, "m1").versions[0].status = "failed"

    with pytest.raises(ValidationError) as refused:
        client.models.set_current_version("m1", version_id=v1.version_id)

    # The wire spec's status for a version that is not ready (models.set_current_version).
    assert refused.value.status_code == 400
    assert "only a ready version" in refused.value.message
    after = client.models.versions("m1")
    assert after.pinned_version_id is None
    assert [v.status for v in after.versions] == ["ready", "failed"]


@pytest.mark.parametrize(
    "spelled",
    [str.upper, lambda v: uuid.UUID(v).hex, lambda v: "{" + v + "}", lambda v: uuid.UUID(v).urn],
    ids=["upper", "hex", "braces", "urn"],
)
def test_a_pin_takes_a_version_id_in_any_form_of_uuid(
    client: pictograph.Client, retrained: Model, spelled: Callable[[str], str]
) -> None:
    v1 = client.models.versions("m1").versions[1]

    pinned = client.models.set_current_version("m1", version_id=spelled(v1.version_id))

    assert pinned.pinned_version_id == pinned.current_version_id == v1.version_id


def test_a_pinned_model_reads_as_its_pinned_version(
    fake: FakePictograph, client: pictograph.Client, model: Model
) -> None:
    # The second version learns a third class from another dataset, at another size.
    fake.add_dataset("more-signs", images=10, completed_images=10, classes=[*CLASSES, "merge"])
    fake.add_export("more-signs", "more-signs-v1")
    run = client.training.create(
        "more-signs",
        "more-signs-v1",
        pipeline_type="yolox",
        name="m1-v2",
        version_of_model_id=model.id,
        config={"epochs": 10, "model_size": "s"},
    )
    assert run.model_id == model.id
    newest = client.models.get("m1")
    v1 = client.models.versions("m1").versions[1]

    client.models.set_current_version("m1", version_id=v1.version_id)
    pinned = client.models.get("m1")

    assert newest.training_config is not None
    assert newest.training_config["epochs"] == 10
    assert (pinned.version, pinned.training_config) == ("1.0.0", model.training_config)
    assert (pinned.architecture, pinned.metrics) == (model.architecture, model.metrics)
    assert (newest.architecture, newest.metrics) != (model.architecture, model.metrics)
    assert newest.class_mapping == {"classes": [*CLASSES, "merge"]}
    assert pinned.class_mapping == {"classes": CLASSES}
    listed = client.models.versions("m1").versions
    assert [v.architecture for v in listed] == [newest.architecture, model.architecture]
    assert [v.metrics for v in listed] == [newest.metrics, model.metrics]
    # The third class widens the newer graph: each manifest row sizes its own version's.
    sizes = {(f.version_id, f.name): f.size_bytes for f in client.models.files("m1").files}
    onnx = [sizes[(v.version_id, "model.onnx")] for v in listed]
    assert onnx[0] != onnx[1]


def test_downloads_serve_the_pinned_version(
    client: pictograph.Client, retrained: Model, tmp_path: Path
) -> None:
    v2, v1 = client.models.versions("m1").versions
    client.models.set_current_version("m1", version_id=v1.version_id)

    served = client.models.download("m1", output_path=tmp_path / "served.onnx").read_bytes()
    old = client.models.download_file(
        "m1", file_name="model.onnx", version="1.0.0", output_path=tmp_path / "v1.onnx"
    ).read_bytes()
    new = client.models.download_file(
        "m1", file_name="model.onnx", version=v2.version_id, output_path=tmp_path / "v2.onnx"
    ).read_bytes()

    assert served == old != new


def test_set_current_version_refusals(
    fake: FakePictograph, client: pictograph.Client, member: pictograph.Client, retrained: Model
) -> None:
    other = client.models.versions(model_id=_train(client, "other")).versions[0]
    v1 = client.models.versions("m1").versions[1]

    with pytest.raises(NotFoundError):
        client.models.set_current_version("m1", version_id=UNKNOWN_ID)
    with pytest.raises(NotFoundError):
        client.models.set_current_version("m1", version_id=other.version_id)
    with pytest.raises(NotFoundError):
        client.models.set_current_version("nope", version_id=v1.version_id)
    with pytest.raises(ValidationError):
        client.models.set_current_version("m1", version_id="not-a-uuid")
    with pytest.raises(ForbiddenError) as refused:
        member.models.set_current_version("m1", version_id=v1.version_id)

    assert refused.value.status_code == 403
    assert client.models.versions("m1").pinned_version_id is None


async def test_async_versions_and_pin(aclient: pictograph.AsyncClient) -> None:
    run = await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name="a1")
    assert run.model_id is not None
    await aclient.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="a1-v2", version_of_model_id=run.model_id
    )

    v2, v1 = (await aclient.models.versions("a1")).versions
    pinned = await aclient.models.set_current_version("a1", version_id=v1.version_id.upper())
    cleared = await aclient.models.set_current_version(model_id=run.model_id, version_id=None)

    assert (v2.version_number, v1.version_number) == (2, 1)
    assert pinned.current_version_id == pinned.pinned_version_id == v1.version_id
    assert cleared.current_version_id == v2.version_id
    assert cleared.pinned_version_id is None
    with pytest.raises(NotFoundError):
        await aclient.models.set_current_version("a1", version_id=UNKNOWN_ID)


# ── files manifest ──


def test_files_manifest_lists_every_artifact(client: pictograph.Client, model: Model) -> None:
    manifest = client.models.files("m1")

    (version,) = manifest.versions
    assert version.version_label == "1.0.0"
    assert version.is_latest is True
    assert version.is_current is True
    assert manifest.pinned_version_id is None
    rows = {f.name: f for f in manifest.files}
    assert set(rows) == {"model.onnx", "model.pth", "model.safetensors", "config.json"}
    assert {f.version_id for f in manifest.files} == {version.version_id}
    assert all(f.size_bytes is not None and f.size_bytes > 0 for f in manifest.files)
    assert {name: (f.kind, f.format) for name, f in rows.items()} == {
        "model.onnx": ("weights", "onnx"),
        "model.pth": ("weights", "pytorch"),
        "model.safetensors": ("weights", "safetensors"),
        "config.json": ("config", "json"),
    }
    assert rows["config.json"].content_type == "application/json"
    assert rows["config.json"].runtime is None
    assert not any(f.stale for f in manifest.files)  # every file built from its version
    assert rows["model.onnx"].runtime == "onnxruntime"


def test_each_weights_file_names_its_runtime_and_content_type(
    client: pictograph.Client, model: Model
) -> None:
    rows = {f.name: f for f in client.models.files("m1").files}

    assert {name: (f.runtime, f.content_type, f.precision) for name, f in rows.items()} == {
        "model.onnx": ("onnxruntime", "application/octet-stream", "fp32"),
        "model.pth": ("pytorch", "application/octet-stream", "fp32"),
        "model.safetensors": ("pytorch", "application/octet-stream", "fp32"),
        "config.json": (None, "application/json", None),
    }


def test_files_manifest_covers_every_version(
    client: pictograph.Client, model: Model, retrained: Model
) -> None:
    manifest = client.models.files(model_id=model.id)

    newest, oldest = manifest.versions
    assert (newest.is_latest, oldest.is_latest) == (True, False)
    assert len(manifest.files) == 8
    for version in manifest.versions:
        names = {f.name for f in manifest.files if f.version_id == version.version_id}
        assert names == {"model.onnx", "model.pth", "model.safetensors", "config.json"}


def test_the_manifest_lists_the_newest_versions_files_first_each_dated_by_its_version(
    fake: FakePictograph, client: pictograph.Client, model: Model
) -> None:
    fake.clock.advance(hours=1)
    _train(client, "m1-v2", version_of_model_id=model.id)

    manifest = client.models.files("m1")

    newest, oldest = manifest.versions
    assert newest.created_at is not None
    assert newest.created_at > model.created_at == oldest.created_at
    dated = [(f.version_id, f.updated_at) for f in manifest.files]
    assert (
        dated
        == [(newest.version_id, newest.created_at)] * 4
        + [(oldest.version_id, oldest.created_at)] * 4
    )


async def test_async_files(aclient: pictograph.AsyncClient) -> None:
    await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name="a1")

    manifest = await aclient.models.files("a1")

    assert [v.is_latest for v in manifest.versions] == [True]
    assert {(f.name, f.runtime, f.content_type) for f in manifest.files if f.kind == "weights"} == {
        ("model.onnx", "onnxruntime", "application/octet-stream"),
        ("model.pth", "pytorch", "application/octet-stream"),
        ("model.safetensors", "pytorch", "application/octet-stream"),
    }
    assert sorted(f.name for f in manifest.files) == [
        "config.json",
        "model.onnx",
        "model.pth",
        "model.safetensors",
    ]


# ── download ──


@pytest.mark.parametrize("fmt", ["onnx", "pytorch", "safetensors"])
def test_download_is_deterministic_and_atomic(
    client: pictograph.Client, model: Model, tmp_path: Path, fmt: DownloadFormat
) -> None:
    first = client.models.download("m1", output_path=tmp_path / "first", format=fmt)
    second = client.models.download(model_id=model.id, output_path=tmp_path / "second", format=fmt)

    assert first == tmp_path / "first"
    assert first.read_bytes() == second.read_bytes()
    assert _only_file(tmp_path) == ["first", "second"]  # no .part left behind
    sizes = {f.name: f.size_bytes for f in client.models.files("m1").files}
    assert first.stat().st_size == sizes[WEIGHTS[fmt]]


def test_download_creates_missing_directories(
    client: pictograph.Client, model: Model, tmp_path: Path
) -> None:
    out = client.models.download("m1", output_path=tmp_path / "a" / "b" / "m1.onnx")

    assert out.read_bytes()


def test_safetensors_download_is_a_valid_file(
    client: pictograph.Client, model: Model, tmp_path: Path
) -> None:
    path = client.models.download("m1", output_path=tmp_path / "m1.st", format="safetensors")
    blob = path.read_bytes()

    (header_len,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + header_len])
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    assert tensors
    end = max(v["data_offsets"][1] for v in tensors.values())
    assert len(blob) == 8 + header_len + end


@pytest.mark.parametrize("fmt", ["engine", "pte"])
def test_unbuilt_formats_are_a_conflict(
    client: pictograph.Client, model: Model, tmp_path: Path, fmt: DownloadFormat
) -> None:
    with pytest.raises(ConflictError) as refused:
        client.models.download("m1", output_path=tmp_path / "m1.bin", format=fmt)

    assert refused.value.status_code == 409
    # Names the format asked for and says what does exist.
    assert refused.value.message == (
        f"No {fmt} build of model 'm1' exists yet; available formats: onnx, pytorch, safetensors"
    )
    assert _only_file(tmp_path) == []


def test_a_precision_the_model_was_not_built_at_is_a_conflict(
    client: pictograph.Client, model: Model, tmp_path: Path
) -> None:
    with pytest.raises(ConflictError) as refused:
        client.models.download("m1", output_path=tmp_path / "half.onnx", precision="fp16")
    full = client.models.download("m1", output_path=tmp_path / "full.onnx", precision="fp32")

    assert refused.value.status_code == 409
    assert "fp16" in refused.value.message
    assert "fp32" in refused.value.message  # says what does exist
    assert _only_file(tmp_path) == ["full.onnx"]
    plain = client.models.download("m1", output_path=tmp_path / "plain.onnx")
    assert full.read_bytes() == plain.read_bytes()


@pytest.mark.parametrize("status", ["training", "failed", "archived"])
def test_only_a_ready_model_can_be_downloaded(
    fake: FakePictograph,
    client: pictograph.Client,
    model: Model,
    tmp_path: Path,
    status: ModelStatus,
) -> None:
    # No route takes a model out of `ready`; the real API's models can be in the others.
    with fake.world.lock:
        fake.world.registry.find(fake.world.default_key, "m1").status = status

    with pytest.raises(ValidationError) as refused:
        client.models.download("m1", output_path=tmp_path / "m1.onnx")

    # The wire spec's status and words (models.download).
    assert refused.value.status_code == 400
    assert refused.value.message == (
        f"Model status is '{status}'; only 'ready' models can be downloaded."
    )
    assert _only_file(tmp_path) == []
    assert client.models.get("m1").status == status


def test_a_download_refuses_a_precision_there_is_none_of(
    client: pictograph.Client, model: Model, tmp_path: Path
) -> None:
    with pytest.raises(ValidationError) as refused:
        # Deliberately a precision the SDK's Literal refuses: the fake must refuse it too.
        client.models.download("m1", output_path=tmp_path / "m1.onnx", precision="fp8")  # type: ignore[arg-type]

    assert refused.value.status_code == 422
    assert _only_file(tmp_path) == []


def test_the_download_answers_name_the_file_served(
    fake: FakePictograph, client: pictograph.Client, retrained: Model
) -> None:
    """A download without a format serves the ONNX weights of the version in effect (SDK
    1.0.0 sends no format; later releases always send one); a file's download takes its
    version id in any case (the SDK sends it canonical). The SDK reads only the URL of
    either answer."""
    version_id = client.models.versions("m1").versions[1].version_id
    client.models.set_current_version("m1", version_id=version_id)
    with raw(fake) as http:
        weights = http.get("/api/v1/developer/models/m1/download").json()["data"]
        config = http.get(
            "/api/v1/developer/models/m1/files/download",
            params={"version_id": version_id.upper(), "name": "config.json"},
        ).json()["data"]
    with httpx.Client(transport=fake.transport()) as storage:
        # Each signed URL serves its file as the answer typed it.
        served = [storage.get(answer["download_url"]) for answer in (weights, config)]

    assert (weights["filename"], weights["model_name"]) == ("model.onnx", "m1")
    assert weights["content_type"] == "application/octet-stream"
    # Each signed URL names the file it serves.
    assert weights["download_url"].endswith("/model.onnx")
    assert config["download_url"].endswith("/config.json")
    assert weights["version_id"] == version_id
    assert (config["filename"], config["content_type"]) == ("config.json", "application/json")
    assert [r.headers["content-type"] for r in served] == [
        "application/octet-stream",
        "application/json",
    ]


def test_download_of_an_unknown_model_is_404(client: pictograph.Client, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        client.models.download("nope", output_path=tmp_path / "x.onnx")
    assert _only_file(tmp_path) == []


async def test_async_download(
    fake: FakePictograph, aclient: pictograph.AsyncClient, tmp_path: Path
) -> None:
    await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name="a1")

    onnx = await aclient.models.download("a1", output_path=tmp_path / "a.onnx")
    again = await aclient.models.download("a1", output_path=tmp_path / "b.onnx")
    tensors = await aclient.models.download(
        "a1", output_path=tmp_path / "a.safetensors", format="safetensors"
    )

    assert onnx.read_bytes() == again.read_bytes()
    assert tensors.stat().st_size > 8
    with pytest.raises(ConflictError):
        await aclient.models.download("a1", output_path=tmp_path / "a.engine", format="engine")
    assert _only_file(tmp_path) == ["a.onnx", "a.safetensors", "b.onnx"]


# ── download_file / config.json ──


def test_config_json_by_every_version_form(
    client: pictograph.Client, model: Model, tmp_path: Path
) -> None:
    version_id = client.models.files("m1").versions[0].version_id
    forms: dict[str, str | int | None] = {
        "current": None,
        "label": "1.0.0",
        "number": 1,
        "uuid": version_id,
        "uuid-hex": version_id.replace("-", "").upper(),
    }

    blobs = {
        form: client.models.download_file(
            "m1", file_name="config.json", version=version, output_path=tmp_path / form
        ).read_bytes()
        for form, version in forms.items()
    }

    assert len(set(blobs.values())) == 1
    document = json.loads(blobs["current"])
    assert document["_pictograph"]["pipeline"] == "yolox"
    assert document["_pictograph"]["model_type"] == "object_detection"
    assert document["_pictograph"]["class_mapping"]["classes"] == CLASSES
    assert document["_pictograph"]["export_name"] == EXPORT
    assert document["config"]["epochs"] == 50
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(forms)


def test_config_json_follows_the_version_asked_for(
    client: pictograph.Client, retrained: Model, tmp_path: Path
) -> None:
    def epochs(version: str | None) -> int:
        path = client.models.download_file(
            "m1", file_name="config.json", version=version, output_path=tmp_path / "config.json"
        )
        return int(json.loads(path.read_text())["config"]["epochs"])

    assert epochs(None) == 10
    assert epochs("2.0.0") == 10
    assert epochs("1.0.0") == 50


def test_config_json_keeps_the_name_it_was_written_with(
    fake: FakePictograph, tmp_path: Path
) -> None:
    """Written once when a version's training completes: a later rename changes no byte of
    it, whether or not it was read before the rename."""

    def configs_after_rename(read_before: bool) -> list[bytes]:
        with FakePictograph(seed=fake.seed) as world:
            world.add_dataset(DATASET, images=5, completed_images=5, classes=["a", "b"])
            world.add_export(DATASET, EXPORT)
            with world.client(max_retries=0) as sdk:
                first = _train(sdk, "m1")
                if read_before:
                    sdk.models.download_file(
                        "m1", file_name="config.json", output_path=tmp_path / "before.json"
                    )
                sdk.models.update("m1", new_name="renamed")
                _train(sdk, "m1-v2", version_of_model_id=first)
                return [
                    sdk.models.download_file(
                        "renamed",
                        file_name="config.json",
                        version=version,
                        output_path=tmp_path / f"{version}.json",
                    ).read_bytes()
                    for version in (1, 2)
                ]

    configs = configs_after_rename(read_before=False)

    assert configs == configs_after_rename(read_before=True)
    names = [json.loads(config)["_pictograph"]["name"] for config in configs]
    assert names == ["m1", "renamed"]


def test_a_retrained_versions_config_json_keeps_the_name_it_was_trained_under(
    client: pictograph.Client, model: Model, tmp_path: Path
) -> None:
    _train(client, "m1-v2", version_of_model_id=model.id)  # a version of "m1"
    client.models.update("m1", new_name="renamed")

    def written_name(version: int) -> str:
        path = client.models.download_file(
            "renamed", file_name="config.json", version=version, output_path=tmp_path / "c.json"
        )
        return str(json.loads(path.read_text())["_pictograph"]["name"])

    assert [written_name(1), written_name(2)] == ["m1", "m1"]


def test_download_file_refusals(client: pictograph.Client, model: Model, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError) as missing:
        client.models.download_file("m1", file_name="model.bin", output_path=tmp_path / "x")
    with pytest.raises(NotFoundError) as unknown:
        client.models.download_file(
            "m1", file_name="config.json", version=UNKNOWN_ID, output_path=tmp_path / "x"
        )
    with pytest.raises(ValueError, match=r"No version '9\.0\.0'"):
        client.models.download_file(
            "m1", file_name="config.json", version="9.0.0", output_path=tmp_path / "x"
        )

    assert "config.json" in missing.value.message  # names the files that exist
    assert unknown.value.message == f"Version '{UNKNOWN_ID}' not found for model 'm1'"
    assert _only_file(tmp_path) == []


def test_a_downloaded_config_json_trains_again(
    client: pictograph.Client, model: Model, tmp_path: Path
) -> None:
    config = client.models.download_file(
        "m1", file_name="config.json", output_path=tmp_path / "config.json"
    )

    run = client.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="m1-again", config=config
    )

    assert run.status == "completed"
    assert run.config == model.training_config
    assert run.model_id is not None
    again = client.models.get(model_id=run.model_id)
    assert again.name == "m1-again"
    assert again.training_config == model.training_config


def test_a_config_json_for_another_pipeline_is_refused(
    client: pictograph.Client, model: Model, tmp_path: Path
) -> None:
    config = client.models.download_file(
        "m1", file_name="config.json", output_path=tmp_path / "config.json"
    )

    with pytest.raises(ValidationError, match="yolox"):
        client.training.create(
            DATASET, EXPORT, pipeline_type="rfdetr_detection", name="wrong", config=config
        )


async def test_async_download_file(aclient: pictograph.AsyncClient, tmp_path: Path) -> None:
    await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name="a1")
    version_id = (await aclient.models.files("a1")).versions[0].version_id

    current = await aclient.models.download_file(
        "a1", file_name="config.json", output_path=tmp_path / "current.json"
    )
    labelled = await aclient.models.download_file(
        "a1", file_name="config.json", version="1.0.0", output_path=tmp_path / "label.json"
    )
    by_id = await aclient.models.download_file(
        "a1", file_name="config.json", version=version_id, output_path=tmp_path / "id.json"
    )

    assert current.read_bytes() == labelled.read_bytes() == by_id.read_bytes()
    assert json.loads(current.read_text())["_pictograph"]["class_mapping"]["classes"] == CLASSES
    with pytest.raises(NotFoundError):
        await aclient.models.download_file(
            "a1", file_name="nope.txt", output_path=tmp_path / "nope.txt"
        )


# ── signed URLs ──


def test_a_signed_url_expires_after_an_hour(
    fake: FakePictograph, client: pictograph.Client, model: Model, tmp_path: Path
) -> None:
    minted: list[str] = []

    def remember(response: httpx.Response) -> None:
        if response.request.url.path.endswith("/download"):
            response.read()
            minted.append(response.json()["data"]["download_url"])

    # Watch the SDK's own API client to learn the URL its download was given.
    client._transport._client.event_hooks["response"].append(remember)
    weights = client.models.download("m1", output_path=tmp_path / "m1.onnx").read_bytes()
    (url,) = minted

    with httpx.Client(transport=fake.transport()) as storage:
        fake.clock.advance(minutes=59)
        fresh = storage.get(url)
        fake.clock.advance(minutes=1)
        stale = storage.get(url)
        fake.clock.advance(hours=2)
        older = storage.get(url)

    assert fresh.status_code == 200
    assert fresh.content == weights
    assert stale.status_code == older.status_code == 403
    assert b"AccessDenied" in older.content
    # The SDK asks for a fresh URL on every download, so downloading still works.
    again = client.models.download("m1", output_path=tmp_path / "again.onnx").read_bytes()
    assert again == weights
    assert len(minted) == 2
    assert minted[1] != url


def test_signed_urls_need_no_api_key_but_a_real_token(
    fake: FakePictograph, client: pictograph.Client, model: Model, tmp_path: Path
) -> None:
    minted: list[str] = []

    def remember(response: httpx.Response) -> None:
        if response.request.url.path.endswith("/files/download"):
            response.read()
            minted.append(response.json()["data"]["download_url"])

    client._transport._client.event_hooks["response"].append(remember)
    config = client.models.download_file(
        "m1", file_name="config.json", output_path=tmp_path / "config.json"
    )
    (url,) = minted
    forged = url.replace("/_storage/", "/_storage/0")

    with httpx.Client(transport=fake.transport()) as storage:
        served = storage.get(url)
        refused = storage.get(forged)

    assert served.status_code == 200
    assert served.content == config.read_bytes()
    assert served.headers["content-type"] == "application/json"
    assert refused.status_code == 404
