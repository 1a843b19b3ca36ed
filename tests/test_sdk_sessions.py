"""Long random sessions through the real SDK, across every resource a user touches.

A hypothesis state machine drives one world through ``pictograph.Client``: datasets,
images, annotations and classes, directories, cold storage, batch operations, exports,
training, models, hosted predictions, deployments, evaluations, webhooks, API keys, the
organization, notifications, credits and the clock, with names drawn from small pools so
that steps collide (a name taken, a dataset gone or cold, a directory renamed, a model
not trained yet). After every step no answer is a 5xx, nothing is in ``server_errors``,
and a refused call leaves the world's digest as it was. At teardown the same steps
replay on two fresh fakes of the same seed: through the sync client every response
(status, headers and body) is byte-identical to the first session's, and through the
async client (``pictograph.aio``) too, with every outcome the same.

``tests/test_properties.py`` holds the money and run-lifecycle invariants of training
alone; this machine is for breadth.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pydantic
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule
from pictograph import BBoxAnnotation, BoundingBox
from pictograph.exceptions import ApiError, PictographError, PollTimeoutError
from PIL import Image as PILImage

from pictograph_testing import FakePictograph
from tests.invariants import state_digest

# Three sessions per example, each of dozens of SDK calls: run by scripts/test_slow.sh.
pytestmark = pytest.mark.slow

DATASETS = ("signs", "made", "Other")
NAMES = ("a", "b", "signs", "x y")
CLASSES = ("stop", "yield", "bike", "new")
IMAGES = ("img-00001.jpg", "img-00002.jpg", "img-00003.jpg", "p0.png", "a/p1.png", "nope.png")
DIRECTORIES = ("/a", "/a/b", "/m", "/x", "/x/b")
"""Where uploads, moves and copies put images, and what directory steps name (a rename
to ``x`` makes ``/x`` of ``/a``)."""
EXPORTS = ("v1", "v2", "coco")
NOBODY = "00000000-0000-0000-0000-000000000000"
"""An id no resource has: what an action sends when it has none of its kind yet."""


def _picture(n: int) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (32 + 8 * n, 24), (40 * n, 100, 10)).save(out, format="PNG")
    return out.getvalue()


PICTURES = tuple(_picture(n) for n in range(3))
# The SDK uploads from files: the pictures are written once, for every session to read.
_FOLDER = tempfile.TemporaryDirectory(prefix="pictograph-sessions-")
FILES = Path(_FOLDER.name)
for _n, _bytes in enumerate(PICTURES):
    (FILES / f"p{_n}.png").write_bytes(_bytes)

Pool = dict[str, list[str]]
"""Ids the session has seen, by kind: what later steps name."""
Action = Callable[..., Any]
ACTIONS: dict[str, tuple[Action, dict[str, st.SearchStrategy[Any]]]] = {}


def action(**arguments: st.SearchStrategy[Any]) -> Callable[[Action], Action]:
    """Declare a step: ``fn(client, pool, files, **arguments)``, sync or async alike."""

    def declare(fn: Action) -> Action:
        ACTIONS[fn.__name__] = (fn, arguments)
        return fn

    return declare


def _first(pool: Pool, kind: str) -> str:
    return (pool.get(kind) or [NOBODY])[0]


def _last(pool: Pool, kind: str) -> str:
    return (pool.get(kind) or [NOBODY])[-1]


@action(
    name=st.sampled_from(DATASETS),
    classes=st.lists(st.sampled_from(CLASSES), max_size=3, unique=True),
    types=st.sampled_from([None, ["bbox"], ["bbox", "polygon"]]),
)
def dataset_create(
    c: Any, pool: Pool, files: Path, name: str, classes: list[str], types: Any
) -> Any:
    listed = [{"name": k, "type": "bbox"} for k in classes] or None
    return c.datasets.create(name, annotation_types=types, classes=listed)


@action(
    name=st.sampled_from(DATASETS),
    new_name=st.none() | st.sampled_from([*DATASETS, "renamed"]),
    description=st.sampled_from(["", "d", "é" * 3]),
    classes=st.none() | st.lists(st.sampled_from(CLASSES), max_size=3, unique=True),
)
def dataset_update(
    c: Any, pool: Pool, files: Path, name: str, new_name: Any, description: str, classes: Any
) -> Any:
    listed = None if classes is None else [{"name": k, "type": "bbox"} for k in classes]
    return c.datasets.update(name, new_name=new_name, description=description, classes=listed)


@action(
    name=st.sampled_from(DATASETS),
    verb=st.sampled_from(["archive", "unarchive", "delete", "get", "insights"]),
)
def dataset_verb(c: Any, pool: Pool, files: Path, name: str, verb: str) -> Any:
    return getattr(c.datasets, verb)(name)


@action(archived=st.booleans(), limit=st.integers(1, 3), offset=st.integers(0, 3))
def dataset_list(c: Any, pool: Pool, files: Path, archived: bool, limit: int, offset: int) -> Any:
    return c.datasets.list(archived=archived, limit=limit, offset=offset)


@action(
    dataset=st.sampled_from(DATASETS),
    picture=st.integers(0, 2),
    directory=st.sampled_from(["/", *DIRECTORIES]),
    filename=st.sampled_from(["p0.png", "p1.png", "p2.png"]),
)
def image_upload(
    c: Any, pool: Pool, files: Path, dataset: str, picture: int, directory: str, filename: str
) -> Any:
    return c.images.upload(
        dataset, files / f"p{picture}.png", directory_path=directory, filename=filename
    )


@action(
    dataset=st.sampled_from(DATASETS),
    split=st.none() | st.sampled_from(["train", "val", "test"]),
    status=st.none() | st.sampled_from(["new", "complete"]),
    directory=st.none() | st.sampled_from(["/", *DIRECTORIES]),
    offset=st.integers(0, 3),
)
def image_list(
    c: Any,
    pool: Pool,
    files: Path,
    dataset: str,
    split: Any,
    status: Any,
    directory: Any,
    offset: int,
) -> Any:
    return c.images.list(
        dataset, directory_path=directory, status=status, split=split, limit=3, offset=offset
    )


@action(
    dataset=st.sampled_from(DATASETS),
    image=st.sampled_from(IMAGES),
    verb=st.sampled_from(["get", "split", "review", "delete", "annotations", "save", "clear"]),
    split=st.sampled_from(["train", "val", None]),
    approve=st.booleans(),
    label=st.sampled_from(CLASSES),
    x=st.integers(0, 3),
)
def image_verb(
    c: Any,
    pool: Pool,
    files: Path,
    dataset: str,
    image: str,
    verb: str,
    split: Any,
    approve: bool,
    label: str,
    x: int,
) -> Any:
    if verb == "get":
        return c.images.get(dataset, image)
    if verb == "split":
        return c.images.set_split(dataset, image, split)
    if verb == "review":
        return c.images.review(dataset, image, "approve" if approve else "request_changes")
    if verb == "delete":
        return c.images.delete(dataset, image, permanent=approve)
    if verb == "annotations":
        return c.annotations.get(dataset, image)
    if verb == "save":
        # Ids of the session's own: the SDK would draw a random one for each.
        box = BoundingBox(x=x, y=2, w=10, h=12)
        saved = [BBoxAnnotation(id=f"{dataset}-{image}-{x}", name=label, bounding_box=box)]
        return c.annotations.save(dataset, image, saved)
    return c.annotations.delete(dataset, image)


@action(
    dataset=st.sampled_from(DATASETS),
    verb=st.sampled_from(["rename_class", "merge_class", "delete_class"]),
    source=st.sampled_from(CLASSES),
    target=st.sampled_from([*CLASSES, "fresh"]),
)
def class_verb(
    c: Any, pool: Pool, files: Path, dataset: str, verb: str, source: str, target: str
) -> Any:
    if verb == "delete_class":
        return c.annotations.delete_class(dataset, source, delete_annotations=target == "fresh")
    return getattr(c.annotations, verb)(dataset, source, target)


@action(
    dataset=st.sampled_from(DATASETS),
    tags=st.lists(st.sampled_from(["t1", "T1", "t2"]), min_size=1, max_size=2),
    add=st.booleans(),
    train=st.integers(0, 100),
    seed=st.integers(0, 3),
)
def image_tags_and_splits(
    c: Any, pool: Pool, files: Path, dataset: str, tags: list[str], add: bool, train: int, seed: int
) -> Any:
    if seed == 3:
        return c.images.assign_splits(dataset, train, 100 - train, 0, seed=seed)
    return c.images.bulk_tag(dataset, (pool.get("images") or [NOBODY])[:3], tags, add=add)


@action(
    dataset=st.sampled_from(DATASETS),
    verb=st.sampled_from(["update", "move", "copy", "delete", "copy_to_dataset"]),
    start=st.integers(0, 8),
    other=st.sampled_from(DATASETS),
    into=st.sampled_from(DIRECTORIES),
)
def batch_verb(
    c: Any, pool: Pool, files: Path, dataset: str, verb: str, start: int, other: str, into: str
) -> Any:
    ids = pool.get("images", [])[start : start + 2]
    if verb == "update":
        return c.batch.update(dataset, ids, status="complete")
    if verb == "move":
        return c.batch.move(dataset, ids, target_directory_path=into)
    if verb == "copy":
        return c.batch.copy(dataset, ids, target_directory_path=into, copy_annotations=True)
    if verb == "delete":
        return c.batch.delete(dataset, ids)
    return c.batch.copy_to_dataset(dataset, ids, other)


@action(
    dataset=st.sampled_from(DATASETS),
    path=st.sampled_from(DIRECTORIES),
    verb=st.sampled_from(["create", "list", "children", "tree", "stats", "rename", "delete"]),
    new_name=st.sampled_from(["a", "b", "x", "m"]),
    flag=st.booleans(),
)
def directory_verb(
    c: Any, pool: Pool, files: Path, dataset: str, path: str, verb: str, new_name: str, flag: bool
) -> Any:
    if verb == "create":
        return c.directories.create(dataset, path)
    if verb == "list":
        return c.directories.list(dataset)
    if verb == "children":
        return c.directories.list(dataset, parent_path="" if flag else "/a")
    if verb == "tree":
        return c.directories.tree(dataset)
    if verb == "stats":
        return c.directories.stats(dataset, path, include_subdirectories=flag)
    if verb == "rename":
        return c.directories.rename(dataset, path, new_name)
    return c.directories.delete(dataset, path, cascade=flag)


@action(
    # Mostly the dataset with images, so that moves take time and collide.
    dataset=st.sampled_from(["signs", "signs", *DATASETS]),
    verb=st.sampled_from(["status", "freeze", "restore", "wait", "download", "bundle", "all"]),
    image=st.sampled_from(IMAGES),
    timeout=st.sampled_from([5.0, 600.0]),
)
def storage_verb(
    c: Any, pool: Pool, files: Path, dataset: str, verb: str, image: str, timeout: float
) -> Any:
    if verb == "status":
        return c.datasets.storage_status(dataset)
    if verb in ("freeze", "restore"):
        return getattr(c.datasets, verb)(dataset)
    if verb == "wait":
        # Five seconds: a move under way outlasts it (a PollTimeoutError, refused).
        return c.datasets.wait_for_storage(dataset, timeout=timeout)
    out = files / "out"
    if verb == "download":
        return c.images.download(dataset, image, out / "one")
    if verb == "bundle":
        return c.images.download_bundle(dataset, image, out / "one.zip")
    # Images only: the async client fetches the annotation files through the API in
    # an order of its own (asyncio.as_completed over a set), so no two replays read
    # them alike; the image files come from the storage host, off the recorded client.
    return c.datasets.download(dataset, out / "all", mode="images_only", max_workers=1)


@action(
    dataset=st.sampled_from(DATASETS),
    name=st.sampled_from(EXPORTS),
    form=st.sampled_from(["pictograph", "coco", "yolo"]),
    classes=st.none() | st.lists(st.sampled_from(CLASSES), max_size=2),
    status=st.none() | st.sampled_from(["complete", "all"]),
)
def export_create(
    c: Any, pool: Pool, files: Path, dataset: str, name: str, form: str, classes: Any, status: Any
) -> Any:
    return c.exports.create(
        dataset, name, format=form, class_filter=classes, status_filter=status, wait=False
    )


@action(
    dataset=st.sampled_from(DATASETS),
    name=st.sampled_from(EXPORTS),
    verb=st.sampled_from(["get", "delete", "list"]),
)
def export_verb(c: Any, pool: Pool, files: Path, dataset: str, name: str, verb: str) -> Any:
    if verb == "list":
        return c.exports.list(dataset_name=dataset)
    return getattr(c.exports, verb)(dataset, name)


@action(
    # Mostly the dataset and export that can train, so that models come of it.
    dataset=st.sampled_from(["signs", "signs", *DATASETS]),
    export=st.sampled_from(["v1", "v1", *EXPORTS]),
    name=st.sampled_from(NAMES),
    pipeline=st.sampled_from(["yolox", "classification", "rfdetr_detection"]),
    gpu=st.sampled_from(["a10g", "a100"]),
    epochs=st.integers(1, 3),
    quote=st.booleans(),
)
def training_create(
    c: Any,
    pool: Pool,
    files: Path,
    dataset: str,
    export: str,
    name: str,
    pipeline: str,
    gpu: str,
    epochs: int,
    quote: bool,
) -> Any:
    config = {"epochs": epochs}
    if quote:
        return c.training.quote(
            dataset, export, pipeline_type=pipeline, gpu_type=gpu, config=config
        )
    return c.training.create(
        dataset, export, pipeline_type=pipeline, name=name, gpu_type=gpu, config=config, wait=False
    )


@action(name=st.sampled_from(NAMES), verb=st.sampled_from(["get", "cancel", "list", "bulk_cancel"]))
def training_verb(c: Any, pool: Pool, files: Path, name: str, verb: str) -> Any:
    if verb == "list":
        return c.training.list(limit=5)
    if verb == "bulk_cancel":
        return c.training.bulk_cancel((pool.get("runs") or [NOBODY])[:2])
    return getattr(c.training, verb)(name)


@action(
    name=st.sampled_from(NAMES),
    verb=st.sampled_from(["get", "versions", "files", "delete", "update", "list", "predict"]),
    new_name=st.sampled_from(NAMES),
    confidence=st.sampled_from([0.05, 0.5, 0.95, 0.0]),
    picture=st.integers(0, 2),
)
def model_verb(
    c: Any,
    pool: Pool,
    files: Path,
    name: str,
    verb: str,
    new_name: str,
    confidence: float,
    picture: int,
) -> Any:
    if verb == "list":
        return c.models.list()
    if verb == "update":
        return c.models.update(name, new_name=new_name, description="d", visibility="public")
    if verb == "predict":
        return c.models.predict(name, image=PICTURES[picture], confidence=confidence)
    return getattr(c.models, verb)(name)


@action(
    model=st.sampled_from(NAMES),
    verb=st.sampled_from(["create", "list", "get", "pause", "resume", "update", "delete", "quote"]),
    low=st.integers(0, 2),
    high=st.integers(0, 3),
)
def deployment_verb(
    c: Any, pool: Pool, files: Path, model: str, verb: str, low: int, high: int
) -> Any:
    if verb == "create":
        return c.deployments.create(model, min_containers=low, max_containers=high)
    if verb == "list":
        return c.deployments.list()
    if verb == "quote":
        return c.deployments.quote(min_containers=low, max_containers=high)
    if verb == "update":
        return c.deployments.update(
            _first(pool, "deployments"), min_containers=low, max_containers=high
        )
    return getattr(c.deployments, verb)(_last(pool, "deployments"))


@action(
    model=st.sampled_from(NAMES),
    dataset=st.sampled_from(["signs", *DATASETS]),
    export=st.sampled_from(EXPORTS),
    verb=st.sampled_from(["create", "list", "get", "report", "cancel"]),
    iou=st.sampled_from([0.5, 0.0, 1.0]),
)
def evaluation_verb(
    c: Any, pool: Pool, files: Path, model: str, dataset: str, export: str, verb: str, iou: float
) -> Any:
    if verb == "create":
        return c.model_evaluations.create(model, dataset, export, iou_threshold=iou)
    if verb == "list":
        return c.model_evaluations.list()
    return getattr(c.model_evaluations, verb)(_last(pool, "evaluations"))


@action(
    url=st.sampled_from(["https://hooks.example.com/a", "https://hooks.example.com/b", "http://x"]),
    verb=st.sampled_from(
        ["create", "list", "get", "test", "deliveries", "rotate_secret", "update", "delete"]
    ),
    events=st.none()
    | st.lists(st.sampled_from(["training.completed", "credits.low", "x"]), max_size=2),
)
def webhook_verb(c: Any, pool: Pool, files: Path, url: str, verb: str, events: Any) -> Any:
    if verb == "create":
        return c.webhooks.create(url, event_types=events)
    if verb == "list":
        return c.webhooks.list()
    if verb == "deliveries":
        return c.webhooks.deliveries(limit=5)
    if verb == "update":
        return c.webhooks.update(_first(pool, "webhooks"), event_types=events, enabled=bool(events))
    return getattr(c.webhooks, verb)(_last(pool, "webhooks"))


@action(
    name=st.sampled_from(NAMES),
    verb=st.sampled_from(
        ["create", "list", "update", "delete", "me", "invite", "members", "rename"]
    ),
    role=st.sampled_from(["member", "viewer", "admin"]),
    rate_limit=st.none() | st.integers(0, 3),
)
def account_verb(
    c: Any, pool: Pool, files: Path, name: str, verb: str, role: str, rate_limit: Any
) -> Any:
    if verb == "create":
        return c.api_keys.create(name, role=role, rate_limit=rate_limit)
    if verb == "list":
        return c.api_keys.list()
    if verb == "update":
        return c.api_keys.update(_last(pool, "api_keys"), name=name, rate_limit=rate_limit)
    if verb == "delete":
        return c.api_keys.delete(_last(pool, "api_keys"))
    if verb == "me":
        return c.organizations.me()
    if verb == "invite":
        return c.organizations.invite(f"{name.replace(' ', '.')}@example.com", role=role)
    if verb == "members":
        return c.organizations.list_members()
    return c.organizations.update(description=name)


@action(
    verb=st.sampled_from(
        ["balance", "history", "usage", "estimate", "notifications", "read_all", "unread", "job"]
    )
)
def ledger_and_feeds(c: Any, pool: Pool, files: Path, verb: str) -> Any:
    if verb == "balance":
        return c.credits.balance()
    if verb == "history":
        return c.credits.history(limit=5)
    if verb == "usage":
        return c.credits.usage_by_operation(range="all")
    if verb == "estimate":
        return c.credits.estimate("training_a10g", quantity=3)
    if verb == "notifications":
        return c.notifications.list(limit=5)
    if verb == "read_all":
        return c.notifications.mark_all_read()
    if verb == "unread":
        return c.notifications.unread_count()
    return c.jobs.get(_first(pool, "runs"))


CREATED = {
    "deployment_verb": "deployments",
    "evaluation_verb": "evaluations",
    "webhook_verb": "webhooks",
    "account_verb": "api_keys",
}
"""The actions whose ``create`` gives an id later steps name, and the pool it goes to."""


def _created_id(value: Any) -> str | None:
    inner = getattr(value, "deployment", None) or getattr(value, "endpoint", None) or value
    found = getattr(value, "key_id", None) or getattr(inner, "id", None)
    return None if found is None else str(found)


Step = tuple[str, dict[str, Any]]
Seen = tuple[int, list[tuple[str, str]], bytes]


class Session:
    """One fresh world of ``seed`` and an SDK client on it, sync or async, recording
    every response it reads exactly."""

    def __init__(self, seed: int, files: Path, *, use_async: bool) -> None:
        self.fake = FakePictograph(seed=seed, balance_usd=100.0).start()
        self.fake.add_dataset("signs", images=8, completed_images=6, classes=list(CLASSES[:3]))
        self.fake.add_export("signs", "v1")
        self.files = files
        self.seen: list[Seen] = []
        self.pool: Pool = {}
        self.loop = asyncio.new_event_loop() if use_async else None
        self.client: Any
        if use_async:
            self.client = self.fake.async_client(max_retries=0)

            async def read_async(response: httpx.Response) -> None:
                await response.aread()
                self._record(response)

            self.client._transport._client.event_hooks["response"].append(read_async)
        else:
            self.client = self.fake.client(max_retries=0)

            def read(response: httpx.Response) -> None:
                response.read()
                self._record(response)

            self.client._transport._client.event_hooks["response"].append(read)

    def _record(self, response: httpx.Response) -> None:
        self.seen.append((response.status_code, response.headers.multi_items(), response.content))

    def perform(self, step: Step) -> str:
        """Carry out one step; its outcome in words (the same words for either client)."""
        name, args = step
        if name == "advance":
            self.fake.clock.advance(seconds=args["seconds"])
            return "advanced"
        fn, _ = ACTIONS[name]
        try:
            value = fn(self.client, self.pool, self.files, **args)
            if inspect.isawaitable(value):
                assert self.loop is not None
                value = self.loop.run_until_complete(value)
        except pydantic.ValidationError as unreadable:
            # A ValueError too, but the SDK's own: it could not read the fake's answer.
            raise AssertionError(
                f"{name} {args}: the SDK could not read the answer"
            ) from unreadable
        except PollTimeoutError as late:
            # Not a refusal: the wait polled, and its virtual time passed, until it gave up.
            return f"timed out {late.message}"
        except PictographError as refused:
            status = getattr(refused, "status_code", None)
            return f"refused {status} {getattr(refused, 'code', None)} {refused.message}"
        except (ValueError, TypeError):
            return "refused by the SDK before sending"  # the message differs between clients
        self._remember(name, args, value)
        return "done " + type(value).__name__

    def _remember(self, name: str, args: dict[str, Any], value: Any) -> None:
        world = self.fake.world
        self.pool["images"] = list(world.images)
        self.pool["runs"] = list(world.runs)
        kind = CREATED.get(name)
        created = _created_id(value) if args.get("verb") == "create" else None
        if kind is not None and created is not None:
            self.pool.setdefault(kind, []).append(created)

    def close(self) -> None:
        try:
            if self.loop is not None:
                self.loop.run_until_complete(self.client.aclose())
            else:
                self.client.close()
        finally:
            if self.loop is not None:
                self.loop.close()
            self.fake.stop()


class SdkSessionMachine(RuleBasedStateMachine):
    """Random sessions over the SDK; each step checked as it goes, the whole replayed."""

    def __init__(self) -> None:
        super().__init__()
        self.session: Session | None = None
        self.seed = 0
        self.steps: list[Step] = []
        self.outcomes: list[str] = []

    @initialize(seed=st.integers(0, 2**16))
    def build(self, seed: int) -> None:
        self.seed = seed
        self.session = Session(seed, FILES, use_async=False)

    @rule(data=st.data(), name=st.sampled_from(sorted(ACTIONS)))
    def call(self, data: st.DataObject, name: str) -> None:
        args = {key: data.draw(values, label=key) for key, values in ACTIONS[name][1].items()}
        self._step((name, args))

    @rule(seconds=st.sampled_from([5, 15, 60, 600, 3600]))
    def advance(self, seconds: int) -> None:
        # 15 s: into a freeze (10 s and more) or a restore (30 s and more), not through it.
        self._step(("advance", {"seconds": seconds}))

    def _step(self, step: Step) -> None:
        assert self.session is not None
        fake = self.session.fake
        # What time alone brings (a run's end, a webhook attempt now due) happens at the
        # next request whatever it is: brought about first, it is not the step's change.
        with fake.world.lock:
            fake.world.catch_up()
        if fake.api.courier is not None:
            fake.api.courier.deliver_due()
        before = state_digest(fake.world)
        answered = len(self.session.seen)
        outcome = self.session.perform(step)
        self.steps.append(step)
        self.outcomes.append(outcome)
        assert not fake.server_errors, (step, fake.server_errors)
        statuses = [status for status, _, _ in self.session.seen[answered:]]
        assert all(status < 500 for status in statuses), (step, statuses)
        if outcome.startswith("refused"):
            assert state_digest(fake.world) == before, f"{step} was refused and changed the world"

    def teardown(self) -> None:
        if self.session is None:
            return
        first = self.session.seen
        self.session.close()
        for use_async in (False, True):
            again = Session(self.seed, FILES, use_async=use_async)
            try:
                replayed = [again.perform(step) for step in self.steps]
                assert replayed == self.outcomes, "async" if use_async else "sync"
                for n, (one, other) in enumerate(zip(first, again.seen, strict=True)):
                    assert one == other, (
                        f"response {n} differs ({'async' if use_async else 'sync'})"
                    )
            finally:
                again.close()


TestSdkSessions = SdkSessionMachine.TestCase
# A quarter of the profile's budget: each example is three sessions of the SDK.
assert settings.default is not None
TestSdkSessions.settings = settings(
    settings.default, max_examples=max(settings.default.max_examples // 4, 1)
)


@pytest.mark.parametrize("use_async", [False, True])
def test_a_refused_prediction_leaves_the_world_as_it_was(use_async: bool) -> None:
    # The refusal reads the model's version id first: a formatted id is the id it was
    # drawn as, not a change of the world.
    with FakePictograph(seed=1, balance_usd=100.0) as fake:
        fake.add_dataset("signs", images=8, completed_images=6, classes=["stop", "yield"])
        fake.add_export("signs", "v1")
        with fake.client(max_retries=0) as client:
            client.training.create("signs", "v1", pipeline_type="yolox", name="a")
        before = state_digest(fake.world)
        if use_async:
            aclient = fake.async_client(max_retries=0)
            predict = aclient.models.predict("a", image=PICTURES[0], confidence=0.0)
            with pytest.raises(ApiError) as refused:
                asyncio.run(predict)
        else:
            with pytest.raises(ApiError) as refused:
                fake.client(max_retries=0).models.predict("a", image=PICTURES[0], confidence=0.0)
        assert refused.value.status_code == 422
        assert state_digest(fake.world) == before
