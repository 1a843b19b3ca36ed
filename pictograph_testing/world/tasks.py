"""Annotation tasks and who worked on them (no HTTP here).

A task assigns a frozen set of a dataset's images to members of its organization, to
annotate or to review. The API only reads tasks (they are made in the web app), so the
fake makes them with :meth:`TaskService.add` (``fake.add_task``).

Each task's contributions are computed, never stored, from two records:

- **Who saved what.** Every save of an image's annotations (``annotations.save``,
  ``bulk_save``, ``delete``) is recorded against the member whose API key sent it, in
  the order of the saves. As the API documents, ``images_completed`` and
  ``annotations_added`` credit the LAST saver of each image (there is no per-shape
  authorship), and ``images_worked`` counts each image a person saved at least once.
- **Active editing time.** The app measures it in its editor, which the fake has not:
  a test records it with :meth:`TaskService.track` (``fake.track_task_time``). An
  image a person spent time on counts among their ``images_worked`` too.

Reading a task's contributions costs O(its images); a page of tasks costs the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, get_args

from pictograph_testing.world.errors import NotFound
from pictograph_testing.world.ordered import NewestFirst

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pictograph_testing.world.entities import Dataset, Image
    from pictograph_testing.world.members import Member
    from pictograph_testing.world.state import World

__all__ = [
    "TASK_KINDS",
    "TASK_STATUSES",
    "Contribution",
    "Task",
    "TaskKind",
    "TaskService",
    "TaskStatus",
]

TaskKind = Literal["annotate", "review"]
TASK_KINDS: tuple[TaskKind, ...] = get_args(TaskKind)
TaskStatus = Literal["open", "done"]
TASK_STATUSES: tuple[TaskStatus, ...] = get_args(TaskStatus)


@dataclass
class Task:
    """One assignment of a dataset's images to members of its organization."""

    id: str
    organization_id: str
    dataset_id: str
    title: str
    kind: TaskKind
    status: TaskStatus
    created_at: float
    image_ids: tuple[str, ...]
    """Frozen when the task is made: images added to the dataset later are not in it."""
    assignees: tuple[str, ...]
    """The assignees' user ids, in the order they were named."""
    active_seconds: dict[str, dict[str, int]] = field(default_factory=dict)
    """Measured editing time: seconds per image id, per user id."""


@dataclass
class Contribution:
    """One person's share of a task's work (a ``TaskContribution`` on the wire)."""

    user_id: str
    is_assignee: bool
    active_seconds: int = 0
    images_worked: int = 0
    images_completed: int = 0
    annotations_added: int = 0


class TaskService:
    """Keep every organization's tasks, newest first, and every image's savers."""

    def __init__(self, world: World) -> None:
        self._world = world
        self.tasks: dict[str, Task] = {}
        self._by_org: dict[str, list[Task]] = {}
        self._savers: dict[str, list[str]] = {}
        """Per image id, the user ids that saved its annotations, each once, last saver last."""

    @property
    def holds_state(self) -> bool:
        """Whether any task was made (a snapshot cannot keep one yet). Who saved what is
        not kept either: a task made after loading a snapshot credits the saves since."""
        return bool(self.tasks)

    # ── the web app's side ──

    def add(
        self,
        dataset: Dataset,
        *,
        title: str,
        kind: TaskKind,
        images: Sequence[Image],
        assignees: Sequence[Member],
    ) -> Task:
        """Make a task on ``images`` of ``dataset`` for ``assignees`` (members of its org)."""
        if kind not in TASK_KINDS:
            raise ValueError(f"kind must be one of {TASK_KINDS}, got {kind!r}")
        if not title.strip():
            raise ValueError("a task needs a title")
        for image in images:
            if image.dataset_id != dataset.id:
                raise ValueError(f"image {image.path!r} is not in dataset {dataset.name!r}")
        for member in assignees:
            if member.organization_id != dataset.organization_id:
                raise ValueError(f"{member.email} is not a member of the dataset's organization")
        task = Task(
            id=self._world.ids.uuid(),
            organization_id=dataset.organization_id,
            dataset_id=dataset.id,
            title=title,
            kind=kind,
            status="open",
            created_at=self._world.now(),
            image_ids=tuple(dict.fromkeys(image.id for image in images)),
            assignees=tuple(dict.fromkeys(member.user_id for member in assignees)),
        )
        self.tasks[task.id] = task
        self._by_org.setdefault(task.organization_id, []).append(task)
        return task

    def track(self, task: Task, user_id: str, image: Image, seconds: int) -> None:
        """Add ``seconds`` of measured editing time by ``user_id`` on one of the task's images."""
        if image.id not in task.image_ids:
            raise ValueError(f"image {image.path!r} is not one of task {task.title!r}'s images")
        if seconds < 0:
            raise ValueError(f"seconds must be 0 or more, got {seconds}")
        per_image = task.active_seconds.setdefault(user_id, {})
        per_image[image.id] = per_image.get(image.id, 0) + seconds

    def record_save(self, image: Image, user_id: str) -> None:
        """Note that ``user_id`` saved the image's annotations (now its last saver)."""
        savers = self._savers.setdefault(image.id, [])
        if user_id in savers:
            savers.remove(user_id)
        savers.append(user_id)

    # ── reads ──

    def listing(self, organization_id: str) -> NewestFirst[Task]:
        """The organization's tasks, newest first (a view: a page of it costs the page)."""
        return NewestFirst(self._by_org.get(organization_id, []))

    def find(self, organization_id: str, task_id: str) -> Task:
        """The organization's task with that id; another organization's is a 404 too."""
        task = self.tasks.get(task_id.strip().lower())
        if task is None or task.organization_id != organization_id:
            raise NotFound(f"Task '{task_id}' not found")
        return task

    def live_images(self, task: Task) -> list[Image]:
        """The task's images still in the world (a deleted image has no state to credit)."""
        images = self._world.images
        return [images[i] for i in task.image_ids if i in images]

    def contributions(self, task: Task) -> list[Contribution]:
        """Every assignee, then every other person who worked on the task's images.

        Ordered by active time, then images worked, most first; ties keep assignees in
        the order they were named, then other people in the order they first appear.
        """
        shares: dict[str, Contribution] = {
            user_id: Contribution(user_id, is_assignee=True) for user_id in task.assignees
        }

        def share(user_id: str) -> Contribution:
            found = shares.get(user_id)
            if found is None:
                found = shares[user_id] = Contribution(user_id, is_assignee=False)
            return found

        worked: dict[str, set[str]] = {}
        for user_id, per_image in task.active_seconds.items():
            share(user_id).active_seconds = sum(per_image.values())
            worked.setdefault(user_id, set()).update(i for i, s in per_image.items() if s > 0)
        # Work done stays credited, as tracked time does, on an image deleted since (it
        # still counts in `total_images`); what a saver's work left there is read from
        # the images that remain.
        for image_id in task.image_ids:
            for user_id in self._savers.get(image_id, ()):
                worked.setdefault(user_id, set()).add(image_id)
        for image in self.live_images(task):
            savers = self._savers.get(image.id, [])
            if savers:
                last = share(savers[-1])
                last.annotations_added += len(image.annotations)
                if image.status == "complete":
                    last.images_completed += 1
        for user_id, image_ids in worked.items():
            share(user_id).images_worked = len(image_ids)
        order = list(shares.values())
        order.sort(key=lambda c: (-c.active_seconds, -c.images_worked))
        return order
