"""Notifications through the real SDK: the events the fake emits, and reading the feed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest
from pictograph.exceptions import NotFoundError, ValidationError

from tests.conftest import DATASET, EXPORT

if TYPE_CHECKING:
    import pictograph
    from pictograph.models.training import TrainingRun

    from pictograph_testing import FakePictograph

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def _train(client: pictograph.Client, name: str, **config: object) -> TrainingRun:
    return client.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name=name, config=config or None
    )


def _events(fake: FakePictograph, client: pictograph.Client, count: int) -> list[str]:
    """Make ``count`` notifications (export_ready each); return their export names."""
    names = [f"e{n}" for n in range(count)]
    for name in names:
        client.exports.create(DATASET, name)
        fake.clock.advance(seconds=1)
    return names


# ── what emits them ──


def test_an_export_that_completes_notifies_export_ready(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    assert client.notifications.list() == []  # the fixture's export was added complete

    export = client.exports.create(DATASET, "v2")

    [ready] = client.notifications.list()
    assert ready.type == "export_ready"
    assert ready.title == "Export ready"
    assert ready.message == f"Export 'v2' of dataset '{DATASET}' is ready to download."
    assert ready.metadata == {
        "export_id": export.id,
        "dataset_id": export.dataset_id,
        "export_name": "v2",
    }
    assert ready.read is False
    assert ready.organization_id == fake.organization_id
    # It is dated when the export completed, on the virtual clock.
    assert ready.created_at > export.created_at


def test_a_failed_export_notifies_export_failed(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.faults.fail_export("disk full")
    client.exports.create(DATASET, "doomed", wait=False)
    fake.clock.advance(minutes=1)

    [failed] = client.notifications.list()
    assert failed.type == "export_failed"
    assert failed.message == "Export 'doomed' failed: disk full"


def test_a_completed_run_notifies_training_complete(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    run = _train(client, "Swift Falcon")

    [done] = client.notifications.list()
    assert done.type == "training_complete"
    assert done.title == "Training complete"
    assert done.message == "Your model 'Swift Falcon' is ready."
    assert done.metadata == {
        "run_id": run.id,
        "model_id": run.model_id,
        "dataset_id": run.dataset_id,
    }
    assert done.created_at == run.completed_at


def test_the_message_names_the_model_as_it_was_named(client: pictograph.Client) -> None:
    _train(client, "twin")
    _train(client, "twin")
    messages = [n.message for n in client.notifications.list()]
    assert messages == ["Your model 'twin (2)' is ready.", "Your model 'twin' is ready."]


def test_a_failed_run_notifies_training_failed(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    run = client.training.create(
        DATASET, EXPORT, pipeline_type="yolox", name="oom", config={"model_size": "x"}, wait=False
    )
    fake.clock.advance(minutes=5)

    [failed] = client.notifications.list()
    assert failed.type == "training_failed"
    assert failed.title == "Training failed"
    assert failed.message is not None
    assert failed.message.startswith("Training run 'oom' failed: CUDA out of memory")
    assert failed.metadata == {"run_id": run.id, "dataset_id": run.dataset_id}


def test_a_cancelled_run_is_not_news(fake: FakePictograph, client: pictograph.Client) -> None:
    run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="r", wait=False)
    client.training.cancel(run.id)
    fake.clock.advance(hours=1)
    assert client.notifications.list() == []
    assert client.notifications.unread_count() == 0


# ── reading the feed ──


def test_list_is_newest_first_and_pages(fake: FakePictograph, client: pictograph.Client) -> None:
    names = _events(fake, client, 4)

    listed = client.notifications.list()
    assert [n.metadata["export_name"] for n in listed if n.metadata] == names[::-1]
    page = client.notifications.list(limit=2, offset=1)
    assert [n.metadata["export_name"] for n in page if n.metadata] == ["e2", "e1"]
    assert client.notifications.list(offset=4) == []


def test_limit_is_capped_at_100(fake: FakePictograph) -> None:
    with httpx.Client(
        base_url=fake.base_url, transport=fake.transport(), headers={"X-API-Key": fake.api_key}
    ) as http:
        body = http.get("/api/v1/developer/notifications?limit=500&unread_only=false").json()
    assert body["notifications"] == []
    assert body["unread_count"] == 0
    assert body["pagination"]["limit"] == 100


def test_unread_only_count_and_mark_read(fake: FakePictograph, client: pictograph.Client) -> None:
    _events(fake, client, 3)
    newest, middle, oldest = client.notifications.list()
    assert client.notifications.unread_count() == 3

    client.notifications.mark_read(middle.id)
    client.notifications.mark_read(middle.id)  # idempotent

    assert client.notifications.unread_count() == 2
    assert [n.id for n in client.notifications.list(unread_only=True)] == [newest.id, oldest.id]
    assert [n.read for n in client.notifications.list()] == [False, True, False]


def test_mark_all_read_counts_what_it_marked(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _events(fake, client, 3)
    client.notifications.mark_read(client.notifications.list()[0].id)

    assert client.notifications.mark_all_read() == 2
    assert client.notifications.mark_all_read() == 0
    assert client.notifications.unread_count() == 0
    assert client.notifications.list(unread_only=True) == []


def test_delete(fake: FakePictograph, client: pictograph.Client) -> None:
    _events(fake, client, 2)
    newest, oldest = client.notifications.list()

    client.notifications.delete(newest.id)

    assert [n.id for n in client.notifications.list()] == [oldest.id]
    with pytest.raises(NotFoundError):
        client.notifications.delete(newest.id)
    with pytest.raises(NotFoundError):
        client.notifications.delete(UNKNOWN_ID)
    with pytest.raises(NotFoundError):
        client.notifications.mark_read(UNKNOWN_ID)


def test_the_kept_unread_count_follows_deletes(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _events(fake, client, 4)
    newest, second, third, oldest = client.notifications.list()
    client.notifications.mark_read(second.id)

    client.notifications.delete(newest.id)  # unread
    client.notifications.delete(second.id)  # read

    assert client.notifications.unread_count() == 2
    assert [n.id for n in client.notifications.list(unread_only=True)] == [third.id, oldest.id]
    assert client.notifications.mark_all_read() == 2


def test_the_feed_is_the_organizations_own(fake: FakePictograph, client: pictograph.Client) -> None:
    _events(fake, client, 1)
    [mine] = client.notifications.list()
    other = fake.world.add_organization(balance_usd=10)
    with fake.client(
        api_key=fake.world.add_api_key(other.id, role="owner").key, max_retries=0
    ) as outsider:
        assert outsider.notifications.list() == []
        assert outsider.notifications.unread_count() == 0
        assert outsider.notifications.mark_all_read() == 0
        with pytest.raises(NotFoundError):
            outsider.notifications.mark_read(mine.id)
        with pytest.raises(NotFoundError):
            outsider.notifications.delete(mine.id)
    # A viewer of the organization reads and acknowledges it.
    with fake.client(api_key=fake.add_api_key("viewer"), max_retries=0) as viewer:
        assert [n.id for n in viewer.notifications.list()] == [mine.id]
        viewer.notifications.mark_read(mine.id)
    assert client.notifications.unread_count() == 0


def test_each_notification_names_the_member_who_started_the_work(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # The work of a member's key is news to the whole organization, credited to them.
    colleague = fake.add_member("noah@example.com")
    with fake.client(api_key=fake.add_api_key("member", member=colleague)) as noah:
        noah.exports.create(DATASET, "v2")
        fake.clock.advance(seconds=1)
        _train(noah, "trained")
        fake.clock.advance(seconds=1)
        fake.faults.fail_export("disk full")
        noah.exports.create(DATASET, "doomed", wait=False)
        noah.training.create(
            DATASET,
            EXPORT,
            pipeline_type="yolox",
            name="oom",
            config={"model_size": "x"},
            wait=False,
        )
        fake.clock.advance(minutes=5)

    listed = client.notifications.list()
    assert sorted((n.type, n.title) for n in listed) == [
        ("export_failed", "Export failed"),
        ("export_ready", "Export ready"),
        ("training_complete", "Training complete"),
        ("training_failed", "Training failed"),
    ]
    assert {n.user_id for n in listed} == {colleague.user_id}


def test_a_notification_id_is_found_in_any_case(client: pictograph.Client) -> None:
    client.exports.create(DATASET, "v2")
    [ready] = client.notifications.list()

    client.notifications.mark_read(ready.id.upper())
    assert [n.read for n in client.notifications.list()] == [True]
    client.notifications.delete(ready.id.upper())
    assert client.notifications.list() == []


def test_an_unknown_notification_is_refused_with_its_id(client: pictograph.Client) -> None:
    for refused_call in (client.notifications.mark_read, client.notifications.delete):
        with pytest.raises(NotFoundError) as missing:
            refused_call(UNKNOWN_ID)
        assert missing.value.message == f"Notification '{UNKNOWN_ID}' not found"


def test_a_bad_unread_only_is_422(fake: FakePictograph, client: pictograph.Client) -> None:
    with httpx.Client(
        base_url=fake.base_url, transport=fake.transport(), headers={"X-API-Key": fake.api_key}
    ) as http:
        answer = http.get("/api/v1/developer/notifications?unread_only=maybe")
    assert answer.status_code == 422
    assert answer.json()["error"]["details"]["errors"][0]["loc"] == ["query", "unread_only"]
    with pytest.raises(ValidationError):
        client.notifications.list(limit=0)


async def test_async_feed(fake: FakePictograph, aclient: pictograph.AsyncClient) -> None:
    await aclient.exports.create(DATASET, "a1")
    fake.clock.advance(seconds=1)
    await aclient.exports.create(DATASET, "a2")
    newest, oldest = await aclient.notifications.list()
    assert newest.metadata is not None
    assert newest.metadata["export_name"] == "a2"

    assert await aclient.notifications.unread_count() == 2
    await aclient.notifications.mark_read(oldest.id)
    assert [n.id for n in await aclient.notifications.list(unread_only=True)] == [newest.id]
    assert await aclient.notifications.mark_all_read() == 1
    await aclient.notifications.delete(newest.id)
    with pytest.raises(NotFoundError):
        await aclient.notifications.delete(newest.id)
    assert [n.id for n in await aclient.notifications.list()] == [oldest.id]


async def test_async_a_notification_is_found_in_any_case_and_a_gone_one_is_named(
    aclient: pictograph.AsyncClient,
) -> None:
    await aclient.exports.create(DATASET, "v2")
    [ready] = await aclient.notifications.list()

    await aclient.notifications.mark_read(ready.id.upper())
    assert await aclient.notifications.unread_count() == 0
    await aclient.notifications.delete(ready.id.upper())
    with pytest.raises(NotFoundError) as missing:
        await aclient.notifications.delete(ready.id)
    assert missing.value.message == f"Notification '{ready.id}' not found"
