"""Annotation tasks through the real SDK: newest first, paged, and each task's
contributions computed from who saved which image's annotations (the last saver
credited) and the editing time the app measured."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest
from pictograph import BBoxAnnotation, BoundingBox
from pictograph.exceptions import NotFoundError

from tests.conftest import DATASET

if TYPE_CHECKING:
    import pictograph

    from pictograph_testing import FakePictograph
    from pictograph_testing.world.members import Member

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
BOX = BoundingBox(x=1, y=2, w=30, h=40)


def _save(fake: FakePictograph, member: Member, filename: str, boxes: int) -> None:
    with fake.client(api_key=fake.add_api_key("member", member=member)) as sdk:
        sdk.annotations.save(
            DATASET,
            filename,
            [BBoxAnnotation(id=f"b{n}", name="stop_sign", bounding_box=BOX) for n in range(boxes)],
        )


def test_tasks_list_newest_first_with_their_dataset_and_counts(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    ann = fake.add_member("ann@example.com", "annotator", full_name="Ann Lee")
    first = fake.add_task(DATASET, assignees=[ann], images=8, title="Label the signs")
    fake.clock.advance(60)
    second = fake.add_task(DATASET, images=["img-00001.jpg"], kind="review", title="Check one")
    listed = client.tasks.list()
    assert [t.id for t in listed] == [second.id, first.id]
    newest, oldest = listed
    assert (oldest.title, oldest.kind, oldest.status) == ("Label the signs", "annotate", "open")
    assert (oldest.image_count, oldest.assignee_count) == (8, 1)
    assert (newest.kind, newest.image_count, newest.assignee_count) == ("review", 1, 0)
    dataset = client.datasets.get(DATASET)
    assert (oldest.dataset_id, oldest.dataset) == (dataset.id, DATASET)
    assert newest.created_at > oldest.created_at
    assert [t.id for t in client.tasks.list(limit=1, offset=1)] == [first.id]


def test_iter_pages_every_task_and_a_page_holds_at_most_100(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    made = [fake.add_task(DATASET, images=1, title=f"batch {n}") for n in range(105)]
    assert [t.id for t in client.tasks.iter(page_size=40)] == [t.id for t in reversed(made)]
    assert len(client.tasks.list(limit=500)) == 100
    assert [t.title for t in client.tasks.iter(max_total=2)] == ["batch 104", "batch 103"]


def test_contributions_credit_the_last_saver_and_the_measured_time(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    complete = [i.filename for i in client.images.list(DATASET, status="complete")]
    ann = fake.add_member("ann@example.com", "annotator", full_name="Ann Lee")
    bo = fake.add_member("bo@example.com", "annotator", full_name="Bo Park")
    cy = fake.add_member("cy@example.com", "annotator", full_name="Cy Diaz")
    task = fake.add_task(DATASET, assignees=[ann, cy], images=complete[:4])
    _save(fake, ann, complete[0], 2)
    _save(fake, ann, complete[1], 3)
    # Bo, not an assignee, saves one of Ann's images after her: the image is Bo's now.
    _save(fake, bo, complete[1], 1)
    _save(fake, bo, complete[2], 4)
    # An image outside the task credits nobody.
    _save(fake, ann, complete[5], 7)
    fake.track_task_time(task, ann, complete[0], 90)
    fake.track_task_time(task, ann, complete[3], 30)

    report = client.tasks.contributions(task.id)

    assert report.task_id == task.id
    assert (report.total_images, report.images_complete) == (4, 4)
    shares = {c.full_name: c for c in report.contributors}
    assert [c.full_name for c in report.contributors] == ["Ann Lee", "Bo Park", "Cy Diaz"]
    assert report.contributor_count == 3
    first = shares["Ann Lee"]
    assert (first.is_assignee, first.email) == (True, "ann@example.com")
    assert (first.active_seconds, first.active_minutes) == (120, 2.0)
    # complete[0] and [1] saved, [3] timed: three images; only [0] is still hers.
    assert (first.images_worked, first.images_completed, first.annotations_added) == (3, 1, 2)
    second = shares["Bo Park"]
    assert (second.is_assignee, second.active_seconds) == (False, 0)
    assert (second.images_worked, second.images_completed, second.annotations_added) == (2, 2, 5)
    idle = shares["Cy Diaz"]
    assert idle.is_assignee
    assert (idle.active_seconds, idle.images_worked, idle.annotations_added) == (0, 0, 0)
    assert report.total_active_seconds == 120


def test_emptying_an_image_is_its_last_save(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    filename = client.images.list(DATASET, status="complete")[0].filename
    ann = fake.add_member("ann@example.com", "annotator", full_name="Ann Lee")
    task = fake.add_task(DATASET, assignees=[ann], images=[filename])
    _save(fake, ann, filename, 2)
    client.annotations.delete(DATASET, filename)
    report = client.tasks.contributions(task.id)
    founder = next(c for c in report.contributors if not c.is_assignee)
    assert (founder.images_completed, founder.annotations_added) == (1, 0)
    ann_share = next(c for c in report.contributors if c.is_assignee)
    assert (ann_share.images_worked, ann_share.images_completed) == (1, 0)


def test_a_bulk_save_credits_its_saver_as_a_save_does(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    image = client.images.list(DATASET, status="complete")[0]
    ann = fake.add_member("ann@example.com", "annotator", full_name="Ann Lee")
    task = fake.add_task(DATASET, assignees=[ann], images=[image.filename])
    with fake.client(api_key=fake.add_api_key("member", member=ann)) as sdk:
        boxes = [BBoxAnnotation(id=f"b{n}", name="stop_sign", bounding_box=BOX) for n in range(3)]
        sdk.annotations.bulk_save({image.id: boxes})
    share = next(c for c in client.tasks.contributions(task.id).contributors if c.is_assignee)
    assert (share.images_worked, share.images_completed, share.annotations_added) == (1, 1, 3)


def test_work_on_an_image_deleted_since_stays_credited_as_time_does(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # A saver's image and a timed image are both work done: a permanent delete drops
    # neither (it dropped the saver's, and kept the timed one's and the task's count).
    first, second = [i.filename for i in client.images.list(DATASET, status="complete")][:2]
    ann = fake.add_member("ann@example.com", "annotator", full_name="Ann Lee")
    bo = fake.add_member("bo@example.com", "annotator", full_name="Bo Park")
    task = fake.add_task(DATASET, assignees=[ann], images=[first, second])
    fake.track_task_time(task, ann, first, 60)
    _save(fake, bo, first, 2)
    client.batch.delete(DATASET, [client.images.get(DATASET, first).id], permanent=True)

    report = client.tasks.contributions(task.id)

    shares = {c.full_name: c for c in report.contributors}
    assert report.total_images == 2
    assert (shares["Ann Lee"].images_worked, shares["Ann Lee"].active_seconds) == (1, 60)
    # Bo's save counts as work; what it left on the image went with the image.
    assert (shares["Bo Park"].images_worked, shares["Bo Park"].annotations_added) == (1, 0)


def test_an_unknown_or_another_organizations_task_is_a_404(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    other = fake.add_organization()
    other.add_dataset("elsewhere", images=2)
    theirs = other.add_task("elsewhere")
    for task_id in (UNKNOWN_ID, theirs.id):
        with pytest.raises(NotFoundError, match=f"Task '{task_id}' not found"):
            client.tasks.contributions(task_id)
    assert client.tasks.list() == []
    with other.client() as them:
        assert [t.id for t in them.tasks.list()] == [theirs.id]


async def test_the_async_client_lists_pages_and_reads_contributions(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    ann = fake.add_member("ann@example.com", "annotator", full_name="Ann Lee")
    tasks = [fake.add_task(DATASET, assignees=[ann], images=2, title=f"t{n}") for n in range(3)]
    assert [t.title for t in await aclient.tasks.list(limit=2)] == ["t2", "t1"]
    assert [t.id async for t in aclient.tasks.iter(page_size=2)] == [t.id for t in tasks[::-1]]
    fake.track_task_time(tasks[0], ann, "img-00001.jpg", 45)
    report = await aclient.tasks.contributions(tasks[0].id)
    assert [(c.full_name, c.active_seconds, c.images_worked) for c in report.contributors] == [
        ("Ann Lee", 45, 1)
    ]
    with pytest.raises(NotFoundError):
        await aclient.tasks.contributions(UNKNOWN_ID)


def test_bad_paging_is_a_422_that_names_the_parameter(fake: FakePictograph) -> None:
    # The SDK sends whatever it is given; these are the values the API refuses.
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as raw:
        headers = {"X-API-Key": fake.api_key}
        refused = raw.get("/api/v1/developer/tasks", params={"limit": 0}, headers=headers)
        assert refused.status_code == 422
        assert "limit" in refused.text
        refused = raw.get("/api/v1/developer/tasks", params={"offset": -1}, headers=headers)
        assert refused.status_code == 422
        assert "offset" in refused.text


def test_add_task_refuses_what_the_app_would_not_make(fake: FakePictograph) -> None:
    stranger = fake.add_organization().add_member("zed@example.com")
    with pytest.raises(ValueError, match="not a member"):
        fake.add_task(DATASET, assignees=[stranger])
    with pytest.raises(ValueError, match="not found"):
        fake.add_task("no-such-dataset")
    with pytest.raises(ValueError, match="kind must be one of"):
        fake.add_task(DATASET, kind="grade")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"images \(a count, or image paths\) must be a list"):
        fake.add_task(DATASET, images=True)  # True is no count
    with pytest.raises(ValueError, match="images must be a whole number of 0 or more"):
        fake.add_task(DATASET, images=-1)
    assert fake.world.tasks.tasks == {}


async def test_a_task_is_titled_after_its_dataset_unless_given_a_title(
    fake: FakePictograph, client: pictograph.Client, aclient: pictograph.AsyncClient
) -> None:
    fake.add_task(DATASET)
    assert [(t.title, t.kind) for t in await aclient.tasks.list()] == [
        (f"Label {DATASET}", "annotate")
    ]
    fake.add_task(DATASET, title="Signs, again")
    assert [t.title for t in client.tasks.list()] == ["Signs, again", f"Label {DATASET}"]


# ── rules a mutation run of the task service found untested ──


def test_a_task_names_each_image_and_assignee_once_and_needs_a_title(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    ann = fake.add_member("ann@example.com", "annotator", full_name="Ann Lee")
    task = fake.add_task(
        DATASET, assignees=[ann, ann], images=["img-00001.jpg", "img-00001.jpg", "img-00002.jpg"]
    )
    (listed,) = client.tasks.list()
    assert (listed.id, listed.image_count, listed.assignee_count) == (task.id, 2, 1)
    with pytest.raises(ValueError, match="a task needs a title"):
        fake.add_task(DATASET, title="   ")


def test_measured_time_adds_up_and_a_zero_is_no_work(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    ann = fake.add_member("ann@example.com", "annotator", full_name="Ann Lee")
    task = fake.add_task(DATASET, assignees=[ann], images=["img-00001.jpg", "img-00002.jpg"])
    fake.track_task_time(task, ann, "img-00001.jpg", 40)
    fake.track_task_time(task, ann, "img-00001.jpg", 20)
    fake.track_task_time(task, ann, "img-00002.jpg", 0)
    (share,) = client.tasks.contributions(task.id).contributors
    assert (share.active_seconds, share.images_worked) == (60, 1)
    with pytest.raises(ValueError, match="is not one of task"):
        fake.track_task_time(task, ann, "img-00003.jpg", 10)


def test_contributors_rank_by_measured_time_before_images_worked(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    complete = [i.filename for i in client.images.list(DATASET, status="complete")]
    ann = fake.add_member("ann@example.com", "annotator", full_name="Ann Lee")
    bo = fake.add_member("bo@example.com", "annotator", full_name="Bo Park")
    task = fake.add_task(DATASET, assignees=[ann, bo], images=complete[:3])
    for filename in complete[:3]:
        _save(fake, ann, filename, 1)  # three images worked, no time measured
    fake.track_task_time(task, bo, complete[0], 5)  # one image, five seconds
    report = client.tasks.contributions(task.id)
    assert [(c.full_name, c.images_worked) for c in report.contributors] == [
        ("Bo Park", 1),
        ("Ann Lee", 3),
    ]


async def test_a_task_is_found_by_its_id_in_any_case(
    fake: FakePictograph, client: pictograph.Client, aclient: pictograph.AsyncClient
) -> None:
    task = fake.add_task(DATASET, images=2)
    assert client.tasks.contributions(task.id.upper()).task_id == task.id
    assert (await aclient.tasks.contributions(f" {task.id.upper()} ")).task_id == task.id
