"""``/api/v1/developer/tasks``: the organization's annotation tasks, read-only.

Tasks are made in the web app (``fake.add_task`` in the fake); the SDK lists them newest
first and reads one task's per-annotator contributions. The resource arrived in SDK
1.69.59 with the same routes as today. Its ``Task`` named the dataset ``project_id`` and
``project`` until 1.69.62 read ``dataset_id`` and ``dataset`` (either key): both are
sent, so every release finds its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pictograph_testing.api.table import Data, Page, endpoint
from pictograph_testing.api.wire import Call, Reply, page, page_params, reply

if TYPE_CHECKING:
    from pictograph_testing.world.members import Member
    from pictograph_testing.world.tasks import Task

__all__: list[str] = []

PAGE_CAP = 100
"""The most tasks one page holds (the SDK: "backend cap: 100")."""


def _row(call: Call, task: Task) -> dict[str, Any]:
    """The ``Task`` object: its dataset under both names, its counts."""
    dataset = call.world.datasets.get(task.dataset_id)
    name = dataset.name if dataset is not None else None
    return {
        "id": task.id,
        "dataset_id": task.dataset_id,
        "project_id": task.dataset_id,
        "dataset": name,
        "project": name,
        "title": task.title,
        "kind": task.kind,
        "status": task.status,
        "created_at": call.iso(task.created_at),
        "image_count": len(task.image_ids),
        "assignee_count": len(task.assignees),
    }


@endpoint(
    "GET",
    "tasks",
    summary="The organization's annotation tasks, newest first",
    sdk=("tasks.list", "tasks.iter"),
    reply=Page("Task"),
    query=page_params(PAGE_CAP),
)
def list_tasks(call: Call) -> Reply:
    tasks = call.world.tasks.listing(call.key.organization_id)
    chunk, pagination = page(tasks, call.args["offset"], call.args["limit"])
    return reply({"data": [_row(call, t) for t in chunk], "pagination": pagination})


@endpoint(
    "GET",
    "tasks/{task_id}/contributions",
    summary="Who worked on a task's images: active time, images worked and completed, "
    "annotations (last saver credited)",
    sdk=("tasks.contributions",),
    reply=Data("TaskContributions"),
)
def contributions(call: Call) -> Reply:
    service = call.world.tasks
    task = service.find(call.key.organization_id, call.path_args["task_id"])
    people: dict[str, Member] = {
        m.user_id: m for m in call.world.people.roster(task.organization_id)
    }
    rows = []
    for share in service.contributions(task):
        person = people.get(share.user_id)
        rows.append(
            {
                "user_id": share.user_id,
                # Someone who has left the organization is still credited, unnamed.
                "full_name": _name(person),
                "email": person.email if person is not None else None,
                "avatar_url": None,
                "is_assignee": share.is_assignee,
                "active_seconds": share.active_seconds,
                "images_worked": share.images_worked,
                "images_completed": share.images_completed,
                "annotations_added": share.annotations_added,
            }
        )
    images = service.live_images(task)
    return reply(
        {
            "data": {
                "task_id": task.id,
                "contributors": rows,
                "contributor_count": len(rows),
                "total_images": len(task.image_ids),
                "images_complete": sum(1 for i in images if i.status == "complete"),
                "total_active_seconds": sum(r["active_seconds"] for r in rows),
            }
        }
    )


def _name(person: Member | None) -> str:
    if person is None:
        return "Former member"
    return person.full_name or person.email or person.user_id
