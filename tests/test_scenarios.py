"""Scenarios: named worlds loaded with one call, and snapshots that load back exactly."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from pictograph.exceptions import ApiError, PaymentRequiredError, ValidationError

from pictograph_testing import FakePictograph, ProfileName
from pictograph_testing.catalog import PROFILES
from pictograph_testing.scenarios import SCHEMA_VERSION, available_scenarios, load_scenario
from tests.image_files import DEV, raw, write_image

NAMED = ("ready-to-train", "nearly-out-of-credit", "one-image-short")


# ── the named scenarios ──


def test_the_named_scenarios_are_available() -> None:
    assert set(NAMED) <= set(available_scenarios())


@pytest.mark.parametrize("name", NAMED)
def test_every_named_scenario_loads(name: str) -> None:
    scenario = load_scenario(name)
    assert scenario.name == name
    with FakePictograph(scenario=name) as fake:
        client = fake.client(max_retries=0)
        [dataset] = client.datasets.list()
        assert dataset.name == "road-signs"
        [export] = client.exports.list()
        assert (export.name, export.status) == ("road-signs-v1", "completed")


def test_ready_to_train_trains_at_once() -> None:
    with FakePictograph(scenario="ready-to-train") as fake:
        client = fake.client(max_retries=0)
        export = client.exports.get("road-signs", "road-signs-v1")
        assert (export.image_count, export.status_filter) == (12, "complete")
        run = client.training.create(
            "road-signs", "road-signs-v1", pipeline_type="yolox", name="first"
        )
        assert run.status == "completed"
        assert client.models.get(model_id=run.model_id).name == "first"


@pytest.mark.parametrize(
    ("profile", "pipeline"),
    [(p, pipeline) for p in ("classic", "current") for pipeline in sorted(PROFILES[p].pipelines)],
)
def test_nearly_out_of_credit_refuses_a_run(profile: ProfileName, pipeline: Any) -> None:
    # "a 402 on any training run, under either profile": every pipeline has its labels.
    with FakePictograph(scenario="nearly-out-of-credit", profile=profile) as fake:
        assert fake.balance_micro_usd == 20_000
        client = fake.client(max_retries=0)
        assert client.credits.history()[0].operation == "training_a100_per_minute"
        with pytest.raises(PaymentRequiredError) as refused:
            client.training.create("road-signs", "road-signs-v1", pipeline_type=pipeline, name="r")
        assert refused.value.status_code == 402


@pytest.mark.parametrize("pipeline", sorted(PROFILES["current"].pipelines))
def test_every_pipeline_trains_on_one_image_short_under_current(pipeline: Any) -> None:
    with FakePictograph(scenario="one-image-short", profile="current") as current:
        client = current.client(max_retries=0)
        run = client.training.create(
            "road-signs", "road-signs-v1", pipeline_type=pipeline, name="r"
        )
        assert run.status == "completed", run.error_message


def test_one_image_short_is_refused_by_classic_and_trains_under_current() -> None:
    with FakePictograph(scenario="one-image-short") as classic:
        client = classic.client(max_retries=0)
        assert client.exports.get("road-signs", "road-signs-v1").image_count == 4
        with pytest.raises(ValidationError) as refused:
            client.training.create("road-signs", "road-signs-v1", pipeline_type="yolox", name="r")
        assert refused.value.status_code == 422
        assert "at least 5 images" in refused.value.message
    with FakePictograph(scenario="one-image-short", profile="current") as current:
        client = current.client(max_retries=0)
        run = client.training.create("road-signs", "road-signs-v1", pipeline_type="yolox", name="r")
        assert run.status == "completed"


def test_arguments_override_the_scenarios_settings() -> None:
    with FakePictograph(scenario="ready-to-train", seed=9, balance_usd=3.0) as fake:
        assert (fake.seed, fake.profile, fake.balance_usd) == (9, "classic", 3.0)
    with FakePictograph(scenario="ready-to-train") as fake:
        assert (fake.seed, fake.profile, fake.balance_usd) == (0, "classic", 100.0)


def test_a_scenario_loads_the_same_world_every_time() -> None:
    def ids() -> list[str]:
        with FakePictograph(scenario="ready-to-train") as fake:
            client = fake.client(max_retries=0)
            return [d.id for d in client.datasets.list()] + [e.id for e in client.exports.list()]

    assert ids() == ids()


# ── reading scenarios ──


def _write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document))
    return path


def test_a_scenario_is_a_name_a_path_or_a_document(tmp_path: Path) -> None:
    document = {"schema_version": SCHEMA_VERSION, "datasets": [{"name": "d"}]}
    path = _write(tmp_path / "mine.json", document)
    for ref in (path, str(path), document):
        with FakePictograph(scenario=ref) as fake:
            assert [d.name for d in fake.client().datasets.list()] == ["d"]
    assert load_scenario(path).name == "mine"


def test_a_key_made_by_hand_keeps_its_rate_limit_and_expiry() -> None:
    document = {
        "schema_version": 1,
        "api_keys": [
            {"role": "owner"},
            {"role": "viewer", "name": "ci", "rate_limit": 50, "expires_at": 3600.0},
        ],
    }
    with FakePictograph(scenario=document) as fake:
        [key] = [k for k in fake.world.api_keys.values() if k.name == "ci"]
        assert (key.role, key.rate_limit, key.expires_at) == ("viewer", 50, 3600.0)


def test_a_balance_given_beside_a_snapshot_or_an_organization_wins() -> None:
    """The snapshot carries its organization's allowance; ``balance_usd`` given beside it
    is the allowance all the same, as every argument given beside a scenario wins."""
    with FakePictograph(seed=1) as original:
        original.add_dataset("d", images=1)
        snapshot = original.snapshot()
    written = {"schema_version": 1, "organization": {"allowance_micro_usd": 7_000_000}}
    for scenario in (snapshot, written, "ready-to-train"):
        with FakePictograph(scenario=scenario, balance_usd=5.0) as fake:
            balance = fake.client().credits.balance()
            assert fake.balance_usd == 5.0
            assert balance.included_allowance_micro_usd == 5_000_000
    with FakePictograph(scenario=written) as fake:
        assert fake.balance_usd == 7.0


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"schema_version": 99}, "schema_version 99"),
        ({}, "schema_version None"),
        ({"schema_version": 1, "dataset": []}, "unknown key(s) 'dataset'"),
        ({"schema_version": 1, "datasets": [{"name": "d", "imgs": []}]}, "'imgs'"),
        (
            {"schema_version": 1, "datasets": [{"name": "d", "exports": [{"name": "e", "x": 1}]}]},
            "'x'",
        ),
        (
            {
                "schema_version": 1,
                "datasets": [{"name": "d", "synthetic_images": {"count": 1, "complete": 2}}],
            },
            "complete must be 0..count",
        ),
        (
            {"schema_version": 1, "datasets": [{"name": "d"}, {"name": "d"}]},
            "already exists",
        ),
        ({"schema_version": 1, "datasets": [{"images": []}]}, "a required key is missing"),
        ({"schema_version": 1, "datasets": [{"name": "d", "images": [{}]}]}, "'filename'"),
        (
            {
                "schema_version": 1,
                "datasets": [{"name": "d", "images": [{"filename": "a.jpg", "status": "done"}]}],
            },
            "status must be one of",
        ),
        (
            {
                "schema_version": 1,
                "datasets": [{"name": "d", "images": [{"filename": "a.jpg", "split": "valid"}]}],
            },
            "split must be one of",
        ),
        (
            {"schema_version": 1, "organization": {"subscription_tier": "gold"}},
            "unknown subscription_tier 'gold'",
        ),
        (
            {"schema_version": 1, "members": [{"email": "x", "role": "owner"}]},
            "not a valid email",
        ),
        ({"schema_version": 1, "invites": [{"email": "a@b.co", "role": "owner"}]}, "Owners"),
        (
            {"schema_version": 1, "datasets": [{"name": "d", "registrations": {"a.png": 1}}]},
            "a path is '/directory/filename'",
        ),
        (
            {"schema_version": 1, "datasets": [{"name": "d", "registrations": {"/a//a.png": 1}}]},
            "a path is '/directory/filename'",
        ),
        (
            {"schema_version": 1, "datasets": [{"name": "d", "registrations": {"/../a.png": 1}}]},
            "Invalid directory_path",
        ),
        (
            {"schema_version": 1, "datasets": [{"name": "d", "registrations": {"/a.png": 0}}]},
            "must be a whole number from 1",
        ),
        (
            {"schema_version": 1, "datasets": [{"name": "d", "registrations": {"/a.png": "1"}}]},
            "must be a whole number from 1",
        ),
        (
            {
                "schema_version": 1,
                "datasets": [{"name": "d", "images": [{"filename": "a.jpg", "blob": " "}]}],
            },
            "blob must not be blank",
        ),
        (
            {
                "schema_version": 1,
                "datasets": [{"name": "d", "images": [{"filename": "a.jpg", "display_name": 3}]}],
            },
            "display_name must be a string or null",
        ),
        # What the API itself refuses: the format's rules are its rules.
        ({"schema_version": True}, "schema_version True"),
        ({"schema_version": 1.0}, "schema_version 1.0"),
        (
            {
                "schema_version": 1,
                "datasets": [
                    {"name": "d", "images": [{"filename": "a.jpg", "directory_path": "/n/"}]}
                ],
            },
            "directory_path must be written '/n'",
        ),
        (
            {
                "schema_version": 1,
                "datasets": [
                    {"name": "d", "images": [{"filename": "a.jpg"}, {"filename": "a.jpg"}]}
                ],
            },
            "an image 'a.jpg' is already in '/'",
        ),
        ({"schema_version": 1, "datasets": [{"name": "d" * 101}]}, "at most 100 characters"),
        ({"schema_version": 1, "organization": {"name": " "}}, "organization.name must not be"),
        (
            {"schema_version": 1, "api_keys": [{"role": "viewer", "rate_limit": -5}]},
            "rate_limit must be a whole number from 1",
        ),
        (
            {"schema_version": 1, "ids": {"state": [3, [0] * 624 + [624], None]}},
            "ids.state must be a random generator's state",
        ),
        # A record made by hand takes what the world makes it from: nothing is dropped.
        (
            {"schema_version": 1, "api_keys": [{"role": "owner", "is_active": False}]},
            "api_keys[0]: 'is_active' cannot be set on a record made by hand",
        ),
        (
            {"schema_version": 1, "invites": [{"email": "a@b.co", "status": "accepted"}]},
            "invites[0]: 'status' cannot be set on a record made by hand",
        ),
        (
            {
                "schema_version": 1,
                "ledger": [{"operation": "top_up", "amount": 5, "created_at": 9}],
            },
            "ledger[0]: 'created_at' cannot be set",
        ),
        (
            {"schema_version": 1, "datasets": [{"name": "d", "created_at": 5}]},
            "datasets[0]: 'created_at' cannot be set",
        ),
        (
            {
                "schema_version": 1,
                "datasets": [
                    {"name": "d", "exports": [{"name": "e", "error_message": "disk full"}]}
                ],
            },
            "'error_message' cannot be set",
        ),
    ],
)
def test_a_bad_scenario_is_a_clear_value_error(document: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        FakePictograph(scenario=document)


def test_unknown_names_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ready-to-train"):
        FakePictograph(scenario="no-such-scenario")
    with pytest.raises(ValueError, match="no scenario file"):
        FakePictograph(scenario=str(tmp_path / "missing.json"))
    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    with pytest.raises(ValueError, match="not valid JSON"):
        FakePictograph(scenario=broken)
    # A syntax error says where it is, as an editor would, in the words of the Python's
    # json module: since 3.13 (gh-113149) it names the trailing comma, at the comma.
    broken.write_text('{"schema_version": 1,\n "datasets": [{"name": "x",}]}')
    if sys.version_info >= (3, 13):
        where = "Illegal trailing comma before end of object at line 2, column 27"
    else:
        where = "double quotes at line 2, column 28"
    with pytest.raises(ValueError, match=where):
        FakePictograph(scenario=broken)


def test_a_clock_start_reads_alike_on_every_python() -> None:
    # A fraction of one digit and an offset without a colon: Python 3.10's fromisoformat
    # reads neither, 3.11's both; the fake reads them on every Python.
    document = {"schema_version": 1, "clock": {"start": "2030-01-01T00:00:00.5+0100"}}
    with FakePictograph(scenario=document) as fake, fake.client() as client:
        created = client.api_keys.create("now")
    assert created.created_at == datetime(2029, 12, 31, 23, 0, 0, 500000, tzinfo=timezone.utc)


def test_explicit_images_with_splits_tags_and_annotations(tmp_path: Path) -> None:
    box = {"name": "cat", "type": "bbox", "bounding_box": {"x": 1, "y": 2, "w": 3, "h": 4}}
    document = {
        "schema_version": 1,
        "clock": {"start": "2030-01-01T00:00:00Z", "elapsed_seconds": 60},
        "datasets": [
            {
                "name": "pets",
                "classes": [{"name": "cat", "type": "bbox"}, {"name": "dog", "type": "bbox"}],
                "images": [
                    {
                        "filename": "a.png",
                        "directory_path": "/indoor",
                        "status": "complete",
                        "split": "val",
                        "tags": ["sofa"],
                        "annotations": [{**box, "id": "a1"}],
                    },
                    {
                        "filename": "b.jpg",
                        "status": "complete",
                        "annotations": [{**box, "id": "b1", "name": "dog"}],
                    },
                    {"filename": "c.jpg", "status": "new"},
                ],
                "exports": [
                    {"name": "cats", "class_filter": ["cat"], "organize_by_split": True},
                    {"name": "todo", "status": "pending"},
                ],
            }
        ],
    }
    with FakePictograph(scenario=document) as fake:
        assert fake.clock.now().isoformat() == "2030-01-01T00:01:00+00:00"
        client = fake.client(max_retries=0)
        cats = client.exports.get("pets", "cats")
        assert (cats.status, cats.image_count, cats.annotation_count) == ("completed", 1, 1)
        assert client.exports.get("pets", "todo").status == "pending"
        assert client.exports.wait_for_completion("pets", "todo").image_count == 3
        archive = zipfile.ZipFile(client.exports.download("pets", "cats", tmp_path / "c.zip"))
        [annotation_file] = [n for n in archive.namelist() if "/annotations/" in n]
        assert annotation_file == "valid/annotations/indoor/a.png.json"
        saved = json.loads(archive.read(annotation_file))
        assert saved["tags"] == ["sofa"]
        assert saved["annotations"][0]["id"] == "a1"


def test_members_and_invites_can_be_written_by_hand() -> None:
    document = {
        "schema_version": 1,
        "organization": {"subscription_tier": "core"},
        "members": [
            {"email": "owner@example.com", "role": "owner", "full_name": "Olive Owner"},
            {"email": "ann@example.com", "role": "annotator"},
        ],
        "invites": [{"email": "new@example.com", "role": "viewer"}],
        "api_keys": [{"role": "owner", "name": "me"}],
    }
    with FakePictograph(scenario=document) as fake, fake.client(max_retries=0) as client:
        owner, annotator = client.organizations.list_members()
        assert (owner.full_name, annotator.role) == ("Olive Owner", "annotator")
        assert fake.world.default_key.created_by == owner.user_id
        [invite] = client.organizations.list_invites()
        assert (invite.email, invite.status, invite.invited_by) == (
            "new@example.com",
            "pending",
            owner.user_id,
        )
        assert client.organizations.me().subscription_tier == "core"
    with pytest.raises(ValueError, match="members needs at least one"):
        FakePictograph(scenario={"schema_version": 1, "members": []})


def test_keys_and_ledger_entries_can_be_written_by_hand() -> None:
    document = {
        "schema_version": 1,
        "balance_usd": 10,
        "api_keys": [{"role": "viewer", "name": "ci"}, {"role": "owner", "name": "me"}],
        "ledger": [{"operation": "top_up", "amount": 5_000_000, "description": "Gift"}],
    }
    with FakePictograph(scenario=document) as fake:
        assert fake.world.default_key.name == "me"
        assert fake.balance_usd == 15.0
        assert [e.description for e in fake.ledger] == ["Gift"]
    with pytest.raises(ValueError, match="owner"):
        FakePictograph(scenario={"schema_version": 1, "api_keys": [{"role": "viewer"}]})


# ── snapshots ──


def _build(fake: FakePictograph) -> None:
    """A world with a bit of everything a snapshot holds, some of it still in motion."""
    fake.add_dataset("signs", images=12, completed_images=9, classes=["stop", "yield"])
    fake.add_dataset("empty")
    dataset = fake.world.dataset(fake.organization_id, "signs")
    first = fake.world.dataset_images(dataset)[0]
    first.split, first.tags = "test", ["night"]
    fake.add_api_key("viewer")
    fake.top_up(2.5)
    client = fake.client(max_retries=0)
    client.exports.create("signs", "done", status_filter="complete", organize_by_split=True)
    client.exports.create("signs", "coco", format="coco", include_images=True)
    client.notifications.mark_read(client.notifications.list()[0].id)
    fake.faults.fail_export("disk full")
    client.exports.create("signs", "doomed", wait=False)
    fake.clock.advance(seconds=3)
    client.exports.create("signs", "later", wait=False)
    # Left armed for the snapshot to carry: no export takes it here.
    fake.faults.fail_export("again", optional=True)
    # People and keys: members, invites in every state, a key made through the API.
    fake.add_member("ada@example.com", "admin", full_name="Ada")
    client.organizations.invite("bob@example.com", role="viewer")
    client.organizations.revoke_invite(client.organizations.invite("eve@example.com").id)
    client.organizations.update(description="snapshots", is_public=True)
    created = client.api_keys.create("ci", role="member", rate_limit=50, expires_at="2027-01-01")
    client.api_keys.update(created.key_id, is_active=False)


def _session(fake: FakePictograph, tmp_path: Path) -> list[tuple[int, bytes]]:
    """Drive the same calls against a world; record every response body."""
    seen: list[tuple[int, bytes]] = []

    def record(response: httpx.Response) -> None:
        response.read()
        seen.append((response.status_code, response.content))

    client = fake.client(max_retries=0)
    client._transport._client.event_hooks["response"].append(record)
    client.datasets.list()
    client.exports.list()
    client.notifications.list()
    list(client.jobs.list(status="all"))
    zip_bytes = client.exports.download("signs", "coco", tmp_path / "coco.zip").read_bytes()
    seen.append((0, zip_bytes))
    with pytest.raises(ApiError):
        client.exports.wait_for_completion("signs", "doomed")
    client.exports.wait_for_completion("signs", "later")
    # The failure queued before the snapshot is waiting for this one.
    with pytest.raises(ApiError, match="again"):
        client.exports.create("signs", "after", status_filter="complete")
    client.exports.create("signs", "after-2", status_filter="complete")
    run = client.training.create("signs", "done", pipeline_type="yolox", name="r1")
    client.jobs.get(run.id)
    client.credits.balance()
    client.credits.history()
    client.notifications.list()
    client.notifications.mark_all_read()
    list(client.jobs.list(status="all"))
    client.models.list()
    client.organizations.me()
    client.organizations.list_members()
    client.organizations.list_invites()
    client.organizations.invite("carol@example.com")
    client.api_keys.list()
    client.api_keys.create("later")
    client.close()
    return seen


def test_a_snapshot_loads_into_a_world_that_answers_the_same(tmp_path: Path) -> None:
    with FakePictograph(seed=5) as original:
        _build(original)
        document = original.snapshot()
        expected = _session(original, tmp_path / "original")
    with FakePictograph(scenario=document) as restored:
        assert restored.api_key == original.api_key
        assert restored.clock.monotonic() == document["clock"]["elapsed_seconds"] > 0
        got = _session(restored, tmp_path / "restored")
    assert len(got) == len(expected) > 20
    assert got == expected


def test_save_scenario_writes_a_file_that_loads_back_to_the_same_snapshot(
    tmp_path: Path,
) -> None:
    with FakePictograph(seed=2, profile="current") as original:
        _build(original)
        path = original.save_scenario(tmp_path / "nested" / "saved.json")
        document = original.snapshot()
    assert path == tmp_path / "nested" / "saved.json"
    assert json.loads(path.read_text()) == document
    assert document["schema_version"] == SCHEMA_VERSION
    assert document["profile"] == "current"
    assert "content" not in document["datasets"][0]["images"][0]
    with FakePictograph(scenario=path) as restored:
        assert restored.profile == "current"
        assert restored.snapshot() == document
    with FakePictograph(scenario=str(path)) as again:
        assert again.snapshot() == document


def test_an_export_keeps_the_labels_it_was_taken_with_through_a_snapshot(
    tmp_path: Path,
) -> None:
    # Labels edited after the export stay out of it: the snapshot records what it kept.
    with FakePictograph(seed=3, profile="current") as original, original.client() as client:
        original.add_dataset("lot", images=3, completed_images=3, classes=["car"])
        original.add_export("lot", "v1")
        for image in client.images.list("lot"):
            client.annotations.save("lot", image.filename, [])
        client.images.set_split("lot", client.images.list("lot")[0].filename, "val")
        document = original.snapshot()
        quoted = client.training.quote("lot", "v1", pipeline_type="yolox")
        archive = client.exports.download("lot", "v1", tmp_path / "before.zip").read_bytes()
    with FakePictograph(scenario=document) as restored, restored.client() as client:
        assert restored.snapshot() == document
        again = client.training.quote("lot", "v1", pipeline_type="yolox")
        after = client.exports.download("lot", "v1", tmp_path / "after.zip").read_bytes()

    [export] = document["datasets"][0]["exports"]
    assert len(export["as_exported"]) == 3
    assert again == quoted
    assert quoted.class_support is not None
    assert [(c.name, c.support) for c in quoted.class_support.classes] == [("car", 6)]
    assert after == archive


@pytest.mark.parametrize("use_async", [False, True])
def test_an_export_keeps_an_image_deleted_for_good_through_a_snapshot(
    tmp_path: Path, use_async: bool
) -> None:
    # The snapshot named the deleted image among the export's and nothing more of it:
    # loading it was refused ("image_ids names images the dataset lacks").
    with FakePictograph(seed=3) as original, original.client() as client:
        original.add_dataset("lot", images=3, completed_images=3, classes=["car"])
        # Labels only: image bytes are not part of a snapshot.
        client.exports.create("lot", "v1")
        gone = client.images.list("lot")[0]
        client.batch.move("lot", [gone.id], target_directory_path="/old")
        if use_async:

            async def delete() -> None:
                async with original.async_client() as aclient:
                    await aclient.images.delete("lot", gone.id, permanent=True)

            asyncio.run(delete())
        else:
            client.images.delete("lot", gone.id, permanent=True)
        document = original.snapshot()
        archive = client.exports.download("lot", "v1", tmp_path / "before.zip").read_bytes()
        exported = client.exports.get("lot", "v1")
    [export] = document["datasets"][0]["exports"]
    assert list(export["removed"]) == [gone.id]
    assert export["removed"][gone.id]["directory_path"] == "/"
    with FakePictograph(scenario=document) as restored, restored.client() as client:
        assert restored.snapshot() == document
        # The download URL is signed afresh for each read.
        fresh = client.exports.get("lot", "v1").model_dump(exclude={"download_url"})
        assert fresh == exported.model_dump(exclude={"download_url"})
        after = client.exports.download("lot", "v1", tmp_path / "after.zip").read_bytes()
    assert after == archive
    with zipfile.ZipFile(tmp_path / "after.zip") as written:
        assert f"annotations/{gone.filename}.json" in written.namelist()


def test_a_snapshot_with_its_keys_sorted_answers_with_the_same_bytes(tmp_path: Path) -> None:
    # A document edited by hand, or written with sorted keys, is the same world: the
    # classes (colour given, colour drawn, with attributes) answer as they did.
    classes: list[dict[str, Any]] = [
        {"name": "owl", "type": "bbox"},
        {"name": "car", "type": "polygon", "color": "#112233"},
        {"name": "dog", "type": "bbox", "attributes": [{"name": "breed", "type": "text"}]},
    ]
    with FakePictograph(seed=3) as fake, fake.client(max_retries=0) as client:
        client.datasets.create("birds", classes=classes)
        client.datasets.get("birds")
        original = fake.calls.last.response_body
        snapshot = fake.snapshot()
    sorted_file = tmp_path / "sorted.json"
    sorted_file.write_text(json.dumps(snapshot, sort_keys=True), encoding="utf-8")
    for scenario in (snapshot, sorted_file):
        with FakePictograph(scenario=scenario) as again, again.client(max_retries=0) as client:
            client.datasets.get("birds")
            assert again.calls.last.response_body == original


def test_an_exported_image_deleted_for_good_keeps_its_bytes_through_a_snapshot(
    tmp_path: Path,
) -> None:
    """An image added by count is drawn from its blob: the export's archive holds the
    same bytes of it once it is gone, in the world and in one loaded from its snapshot
    (it came back a plain PNG of another size, and the export's file_size changed)."""
    with FakePictograph(seed=3) as original, original.client() as client:
        original.add_dataset("lot", images=2, completed_images=2, classes=["car"])
        client.exports.create("lot", "v1", include_images=True)
        gone = client.images.list("lot")[0]
        kept = client.images.download("lot", gone.filename, tmp_path / "gone.jpg").read_bytes()
        client.images.delete("lot", gone.id, permanent=True)
        document = original.snapshot()
        exported = client.exports.get("lot", "v1")
        archive = client.exports.download("lot", "v1", tmp_path / "before.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "before.zip") as written:
        assert written.read(f"images/{gone.filename}") == kept
    with FakePictograph(scenario=document) as restored, restored.client() as client:
        assert client.exports.get("lot", "v1").file_size == exported.file_size
        after = client.exports.download("lot", "v1", tmp_path / "after.zip").read_bytes()
    assert after == archive


def test_a_removed_image_must_be_one_the_export_names_and_the_dataset_lacks() -> None:
    with FakePictograph(seed=3) as original, original.client() as client:
        original.add_dataset("lot", images=2, completed_images=2, classes=["car"])
        original.add_export("lot", "v1")
        [kept, gone] = client.images.list("lot")
        client.images.delete("lot", gone.id, permanent=True)
        document = original.snapshot()
    export = document["datasets"][0]["exports"][0]
    [(image_id, fields)] = export["removed"].items()
    for bad, message in (
        ({"nope": fields}, "not an image the export names"),
        ({image_id: fields, kept.id: fields}, "in the dataset, not deleted"),
        ({image_id: {**fields, "content": "x"}}, "must be an object of exactly"),
        ({image_id: {**fields, "width": "7"}}, "width must be a whole number"),
        ({}, "image_ids names images the dataset lacks"),
    ):
        export["removed"] = bad
        with pytest.raises(ValueError, match=message):
            FakePictograph(scenario=document)


def test_as_exported_must_name_the_export_s_images_and_kept_fields() -> None:
    with FakePictograph(seed=3) as original, original.client() as client:
        original.add_dataset("lot", images=2, completed_images=2, classes=["car"])
        original.add_export("lot", "v1")
        client.images.set_split("lot", client.images.list("lot")[0].filename, "val")
        document = original.snapshot()
    export = document["datasets"][0]["exports"][0]
    [(image_id, fields)] = export["as_exported"].items()
    for bad, message in (
        ({"nope": fields}, "not an image the export names"),
        ({image_id: {"content": "x"}}, "must be an object of"),
        ({image_id: {"tags": "a"}}, "tags must be a list of strings"),
    ):
        export["as_exported"] = bad
        with pytest.raises(ValueError, match=message):
            FakePictograph(scenario=document)


def _moved_upload(fake: FakePictograph, picture: Path) -> tuple[str, dict[str, Any]]:
    """Upload ``picture`` to ``/`` of dataset ``ds``, move it to ``/moved`` and snapshot:
    the upload's path is free again, and the image that came there first lives on."""
    with fake.client(max_retries=0) as client:
        client.datasets.create("ds")
        first = client.images.upload("ds", picture)
        client.batch.move("ds", [first.id], target_directory_path="/moved")
    return first.id, fake.snapshot()


def test_an_upload_after_loading_gets_the_id_the_original_world_gives(tmp_path: Path) -> None:
    picture = write_image(tmp_path / "a.png")
    with FakePictograph(seed=1, profile="current") as original:
        moved, document = _moved_upload(original, picture)
        with original.client(max_retries=0) as client:
            expected = client.images.upload("ds", picture).id
    with FakePictograph(scenario=document) as restored, restored.client(max_retries=0) as client:
        again = client.images.upload("ds", picture)
        listed = {(i.id, i.directory_path, i.filename) for i in client.images.list("ds")}
        saved = restored.snapshot()
    assert again.id == expected != moved
    assert listed == {(moved, "/moved", "a.png"), (again.id, "/", "a.png")}
    assert document["datasets"][0]["registrations"] == {"/a.png": 1}
    assert saved["datasets"][0]["registrations"] == {"/a.png": 2}


async def test_an_async_upload_after_loading_gets_the_id_the_original_world_gives(
    tmp_path: Path,
) -> None:
    picture = write_image(tmp_path / "a.png")
    with FakePictograph(seed=1) as original:
        moved, document = _moved_upload(original, picture)
        with original.client(max_retries=0) as client:
            expected = client.images.upload("ds", picture).id
    with FakePictograph(scenario=document) as restored:
        async with restored.async_client(max_retries=0) as client:
            again = await client.images.upload("ds", picture)
            listed = [(i.id, i.directory_path) async for i in client.images.iter("ds")]
    assert again.id == expected != moved
    assert sorted(listed) == sorted([(moved, "/moved"), (again.id, "/")])


def test_a_snapshot_saved_without_registrations_never_reuses_an_image_s_id(
    tmp_path: Path,
) -> None:
    # Scenario files written before registrations were saved count uploads from 0 again.
    picture = write_image(tmp_path / "a.png")
    with FakePictograph(seed=1) as original:
        moved, document = _moved_upload(original, picture)
        with original.client(max_retries=0) as client:
            expected = client.images.upload("ds", picture).id
    document["datasets"][0].pop("registrations", None)
    with FakePictograph(scenario=document) as restored, restored.client(max_retries=0) as client:
        again = client.images.upload("ds", picture)
        assert client.images.get("ds", moved).directory_path == "/moved"
        assert len(client.images.list("ds")) == 2
    assert again.id == expected != moved


def test_a_display_name_survives_a_snapshot() -> None:
    with FakePictograph(seed=4) as original, original.client(max_retries=0) as client:
        original.add_dataset("lot", images=2)
        shown, plain = (i.id for i in client.images.list("lot"))
        client.batch.update("lot", [shown], display_name="pretty.jpg")
        document = original.snapshot()
    with FakePictograph(scenario=document) as restored, raw(restored) as http:
        names = {
            i: http.get(f"{DEV}/images/{i}/metadata").json()["data"]["display_name"]
            for i in (shown, plain)
        }
        listed = http.get(f"{DEV}/images/", params={"dataset": "lot"}).json()["data"]
        assert restored.snapshot() == document
    assert names == {shown: "pretty.jpg", plain: None}
    assert {i["id"]: i["display_name"] for i in listed} == names


def test_a_copy_keeps_sharing_its_source_s_file_through_a_snapshot(tmp_path: Path) -> None:
    def look(fake: FakePictograph, folder: Path) -> tuple[Any, ...]:
        with fake.client(max_retries=0) as client:
            images = sorted(client.images.list("lot"), key=lambda i: i.id)
            files = [
                client.images.download("lot", i.id, folder / f"{i.id}.jpg").read_bytes()
                for i in images
            ]
            sizes = [(i.id, i.file_size) for i in images]
            return sizes, files, client.datasets.delete("lot")

    with FakePictograph(seed=4) as original, original.client(max_retries=0) as client:
        original.add_dataset("lot", images=2)
        source = client.images.list("lot")[0]
        client.batch.copy("lot", [source.id], target_directory_path="/copies")
        document = original.snapshot()
        expected = look(original, tmp_path / "original")
    with FakePictograph(scenario=document) as restored:
        got = look(restored, tmp_path / "restored")
    _, files, summary = got
    assert got == expected
    # The copy's bytes are its source's, and deleting the dataset deletes that file once.
    assert len(set(files)) == 2
    assert summary["gcs_blobs_deleted"] == 2
    assert summary["images_deleted"] == 3


def test_a_snapshot_of_a_hand_written_scenario_loads_back_to_itself() -> None:
    with FakePictograph(scenario="ready-to-train") as fake:
        document = fake.snapshot()
    with FakePictograph(scenario=document) as copy:
        assert copy.snapshot() == document


def test_a_world_with_training_runs_cannot_be_snapshot_yet() -> None:
    with FakePictograph(scenario="ready-to-train") as fake:
        fake.client(max_retries=0).training.create(
            "road-signs", "road-signs-v1", pipeline_type="yolox", name="r", wait=False
        )
        with pytest.raises(ValueError, match="training runs"):
            fake.snapshot()


def test_a_world_with_two_organizations_cannot_be_snapshot() -> None:
    with FakePictograph() as fake:
        fake.world.add_organization(balance_usd=1)
        with pytest.raises(ValueError, match="one organization"):
            fake.snapshot()


def _export_twice_and_delete_the_newest(fake: FakePictograph) -> None:
    """Two exports and their notifications, the newest of each deleted: the document then
    holds numbers below the last ones the world gave."""
    fake.add_dataset("d", images=3, completed_images=3)
    with fake.client(max_retries=0) as client:
        client.exports.create("d", "a")
        client.exports.create("d", "b")
        newest = client.notifications.list()[0]
        client.exports.delete("d", "b")
        client.notifications.delete(newest.id)


def test_a_loaded_snapshot_numbers_new_exports_and_notifications_as_the_world_did() -> None:
    with FakePictograph(seed=1) as original:
        _export_twice_and_delete_the_newest(original)
        document = original.snapshot()
        with original.client(max_retries=0) as client:
            client.exports.create("d", "c")
        expected = original.snapshot()
    with FakePictograph(scenario=document) as restored:
        with restored.client(max_retries=0) as client:
            client.exports.create("d", "c")
        assert restored.snapshot() == expected
    assert document["ids"]["export_seq"] == 2
    assert document["ids"]["notification_seq"] == 2


def test_a_document_without_ids_numbers_new_notifications_after_its_own() -> None:
    # Written by hand, with no `ids` record and its notifications in any order: the feed
    # is newest first by time, not by number, and the highest number it holds is never
    # given again.
    def note(uuid: str, seq: int, at: float) -> dict[str, Any]:
        return {
            "id": uuid,
            "seq": seq,
            "type": "export_ready",
            "title": "Export ready",
            "created_at": at,
        }

    later = "00000000-0000-4000-8000-000000000001"
    earlier = "00000000-0000-4000-8000-000000000002"
    document = {
        "schema_version": SCHEMA_VERSION,
        "datasets": [{"name": "d", "synthetic_images": {"count": 3, "complete": 3}}],
        "notifications": [note(earlier, 5, 0.0), note(later, 2, 1.0)],
    }
    with FakePictograph(scenario=document) as fake, fake.client(max_retries=0) as client:
        client.exports.create("d", "v1")
        [ready, *loaded] = client.notifications.list()
        assert ready.type == "export_ready"
        assert [n.id for n in loaded] == [later, earlier]
        assert fake.snapshot()["ids"]["notification_seq"] == 6


async def test_an_async_client_after_loading_numbers_exports_as_the_world_did() -> None:
    with FakePictograph(seed=1) as original:
        _export_twice_and_delete_the_newest(original)
        document = original.snapshot()
        async with original.async_client(max_retries=0) as client:
            await client.exports.create("d", "c")
        expected = original.snapshot()
    with FakePictograph(scenario=document) as restored:
        async with restored.async_client(max_retries=0) as client:
            await client.exports.create("d", "c")
        assert restored.snapshot() == expected


@pytest.mark.parametrize("key", ["export_seq", "notification_seq"])
@pytest.mark.parametrize("value", [-1, 1.5, True, "2"])
def test_a_sequence_number_in_a_scenario_must_be_a_whole_number(key: str, value: Any) -> None:
    with FakePictograph(seed=1) as original:
        document = original.snapshot()
    document["ids"][key] = value
    with pytest.raises(ValueError, match=rf"ids\.{key} must be a whole number from 0"):
        FakePictograph(scenario=document)


def test_members_by_hand_take_over_the_world_s_own_keys() -> None:
    # The world's default key was its founding owner's, whom the scenario's members
    # replace: it becomes the scenario's founder's, so it still starts runs.
    document = {
        "schema_version": SCHEMA_VERSION,
        "members": [{"email": "ada@example.com", "role": "owner", "full_name": "Ada"}],
        "datasets": [
            {
                "name": "d",
                "synthetic_images": {"count": 5, "complete": 5},
                "exports": [{"name": "v1"}],
            }
        ],
    }
    with FakePictograph(scenario=document) as fake, fake.client(max_retries=0) as client:
        [key] = fake.snapshot()["api_keys"]
        [ada] = client.organizations.list_members()
        assert client.training.quote("d", "v1", pipeline_type="yolox").blocking == []
        assert client.training.create("d", "v1", pipeline_type="yolox", name="r").status
    assert key["created_by"] == ada.user_id


def _synthetic(*datasets: tuple[int, int]) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "datasets": [
            {
                "name": f"d{n}",
                "synthetic_images": {"count": count, "annotations_per_image": per_image},
            }
            for n, (count, per_image) in enumerate(datasets)
        ],
    }


@pytest.mark.parametrize(
    ("datasets", "says"),
    [
        (
            ((60_000, 0), (60_000, 0)),
            "ask for 120,000 synthetic images together, more than 100,000",
        ),
        (((20_000, 26),), "carry 520,000 annotations together, more than 500,000"),
        (((10_000, 30), (10_000, 30)), "carry 600,000 annotations together"),
    ],
)
def test_a_scenarios_synthetic_images_are_bounded_all_datasets_together(
    datasets: tuple[tuple[int, int], ...], says: str
) -> None:
    # A document of a few hundred bytes must not ask a load for gigabytes: refused first.
    with pytest.raises(ValueError, match=re.escape(says)):
        FakePictograph(scenario=_synthetic(*datasets))


def test_a_scenario_within_the_bounds_loads_and_the_sdk_reads_it() -> None:
    with FakePictograph(scenario=_synthetic((300, 3), (200, 0))) as fake:
        with fake.client(max_retries=0) as client:
            counts = {d.name: d.image_count for d in client.datasets.list()}
        assert counts == {"d0": 300, "d1": 200}


def test_a_rewound_id_generator_never_mints_an_id_the_document_holds() -> None:
    # The generator state of an older snapshot, pasted into a newer one by hand: the next
    # dataset would have been given the id of one the document holds, and replaced it.
    with FakePictograph(seed=1) as original:
        older = original.snapshot()
        with original.client(max_retries=0) as client:
            client.datasets.create("x")
        newer = original.snapshot()
    rewound = {**newer, "ids": older["ids"]}
    with FakePictograph(scenario=rewound) as loaded, loaded.client(max_retries=0) as client:
        x = client.datasets.get("x")
        y = client.datasets.create("y")
        assert y.id != x.id
        assert client.datasets.get(x.id).name == "x"
        assert sorted(d.name for d in client.datasets.list()) == ["x", "y"]


async def test_async_a_snapshot_without_its_generator_state_mints_fresh_ids() -> None:
    # With no `ids` the generator starts from the seed again, as the document's world did.
    with FakePictograph(seed=1) as original:
        async with original.async_client(max_retries=0) as client:
            await client.datasets.create("x")
        document = {k: v for k, v in original.snapshot().items() if k != "ids"}
    with FakePictograph(scenario=document) as loaded:
        async with loaded.async_client(max_retries=0) as client:
            x = await client.datasets.get("x")
            y = await client.datasets.create("y")
            assert y.id != x.id
            assert (await client.datasets.get(x.id)).name == "x"


def test_a_record_the_document_gives_no_id_never_draws_one_it_holds() -> None:
    # A dataset added to a snapshot by hand, with no id: it draws one from the seed, which
    # must not be the id another dataset of the document holds.
    with FakePictograph(seed=1) as original:
        with original.client(max_retries=0) as client:
            client.datasets.create("a")
        document = original.snapshot()
    document["datasets"].append({"name": "b"})
    with FakePictograph(scenario=document) as loaded, loaded.client(max_retries=0) as client:
        ids = {d.name: d.id for d in client.datasets.list()}
        assert len(set(ids.values())) == len(ids) == 2


@pytest.mark.parametrize("read", ["export", "dataset", "twice at one instant"])
def test_a_download_is_a_read_it_changes_neither_the_snapshot_nor_the_ids_after_it(
    read: str, tmp_path: Path
) -> None:
    """Downloading signs a URL: its token no longer comes from the world's id generator,
    so a snapshot after it is the one before it (but the key's `last_used_at`), and the
    next id minted is the one a world that read nothing mints."""

    def world(download: bool) -> tuple[dict[str, Any], str, list[str]]:
        with FakePictograph(seed=3) as fake:
            fake.add_dataset("birds", images=3, completed_images=3)
            fake.add_export("birds", "v1")
            client = fake.client()
            urls = []
            if download and read == "dataset":
                client.datasets.download("birds", tmp_path / "dataset")
            elif download:
                client.exports.download("birds", "v1", tmp_path / "v1.zip")
                if read == "twice at one instant":
                    client.exports.download("birds", "v1", tmp_path / "again.zip")
                urls = [c.path for c in fake.calls if c.path.startswith("/_storage/")]
            document = fake.snapshot()
            for key in document["api_keys"]:
                key.pop("last_used_at", None)
            return document, client.datasets.create("next").id, urls

    unread, unread_next, _ = world(download=False)
    after_read, read_next, urls = world(download=True)
    assert after_read == unread
    assert read_next == unread_next
    # Each download its own URL, two at one instant too.
    assert len(set(urls)) == len(urls) == {"export": 1, "twice at one instant": 2}.get(read, 0)


def test_the_docs_name_everything_a_snapshot_refuses() -> None:
    """Each kind of state `snapshot()` refuses is listed where the limits are written."""
    from pictograph_testing.scenarios import NOT_CAPTURED

    page = (Path(__file__).resolve().parent.parent / "docs" / "scenarios.md").read_text()
    limits = " ".join(page.split("**Limits of schema version 1.**")[1].split())
    missing = [what for _, what, _ in NOT_CAPTURED if what not in limits]
    assert not missing, missing
