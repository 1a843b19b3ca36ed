"""Indexes the world keeps so a filtered page costs the page: each equals what it is kept
from, after any sequence of the operations that change it.

Each property drives the real SDK through a random sequence of writes and clock moves,
and after every step compares each filtered listing with the same filter applied to
everything the world holds, sorted as the API sorts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from hypothesis import example, given, settings
from hypothesis import strategies as st
from pictograph.models.job import JobStatusFilter
from pictograph.models.model import ModelType
from pictograph.models.training import PipelineType
from pictograph.resources.credits import UsageRange

from pictograph_testing import FakePictograph
from pictograph_testing.world.deployments import DEPLOYMENT_STATUSES
from pictograph_testing.world.exports import EXPORT_STATUSES
from pictograph_testing.world.webhooks import DELIVERY_STATUSES

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    import pictograph

    from pictograph_testing.webhooks import WebhookRequest
    from pictograph_testing.world.entities import Export

DATASETS = ("signs", "birds")

# create (a dataset, the status it starts in), advance (minutes), delete (which one)
export_steps = st.lists(
    st.one_of(
        st.tuples(st.just("create"), st.sampled_from(DATASETS), st.sampled_from(EXPORT_STATUSES)),
        st.tuples(st.just("advance"), st.integers(0, 30), st.just("")),
        st.tuples(st.just("delete"), st.integers(0, 20), st.just("")),
    ),
    max_size=12,
)


def _world() -> FakePictograph:
    fake = FakePictograph(seed=3)
    for name in DATASETS:
        fake.add_dataset(name, images=40, completed_images=40)
    return fake


def _expected_exports(fake: FakePictograph, dataset: str | None, status: str | None) -> list[str]:
    """The organization's exports, filtered and sorted newest first, from the whole world."""
    service = fake.world.export_service
    org_id = fake.world.default_org.id
    dataset_id = fake.world.dataset(org_id, dataset).id if dataset is not None else None

    def kept(export: Export) -> bool:
        return (
            export.organization_id == org_id
            and (dataset_id is None or export.dataset_id == dataset_id)
            and (status is None or export.status == status)
        )

    found = [e for e in fake.world.exports.values() if kept(e)]
    found.sort(key=lambda e: (e.created_at, service.job(e).seq), reverse=True)
    return [e.id for e in found]


def _listed_exports(
    client: pictograph.Client, dataset: str | None, status: str | None
) -> list[str]:
    return [e.id for e in client.exports.iter(dataset_name=dataset, status=status, page_size=3)]


@settings(max_examples=30, deadline=None)
@given(steps=export_steps)
def test_exports_listed_by_status_and_dataset_are_every_export_filtered(
    steps: list[tuple[str, str | int, str]],
) -> None:
    with _world() as fake:
        client = fake.client()
        made: list[tuple[str, str]] = []
        dataset: str | None  # a name to delete, then a filter (None: every dataset)
        for number, (action, argument, status) in enumerate(steps):
            if action == "create":
                assert isinstance(argument, str)
                fake.add_export(argument, f"e{number}", status=status)
                made.append((argument, f"e{number}"))
            elif action == "advance":
                assert isinstance(argument, int)
                fake.clock.advance(minutes=argument)
            elif made:
                assert isinstance(argument, int)
                dataset, name = made.pop(argument % len(made))
                client.exports.delete(dataset, name)
            for dataset in (None, *DATASETS):
                for wanted in (None, *EXPORT_STATUSES):
                    # The listing catches the world up first: then the world is read as is.
                    listed = _listed_exports(client, dataset, wanted)
                    assert listed == _expected_exports(fake, dataset, wanted)


async def test_exports_listed_by_status_async_follow_the_clock() -> None:
    with _world() as fake:
        fake.add_export("signs", "done", status="completed")
        fake.add_export("signs", "later", status="pending")
        client = fake.async_client()
        listed = await client.exports.list(status="pending")
        assert [e.name for e in listed] == ["later"]
        fake.clock.advance(hours=2)
        assert [e.name for e in await client.exports.list(status="pending")] == []
        completed = await client.exports.list(status="completed")
        assert [e.name for e in completed] == ["later", "done"]
        assert [e.id for e in completed] == _expected_exports(fake, None, "completed")


# end (exports ending), read one, read all, delete one
notification_steps = st.lists(
    st.one_of(
        st.tuples(st.just("end"), st.integers(1, 3)),
        st.tuples(st.just("read"), st.integers(0, 20)),
        st.tuples(st.just("read_all"), st.just(0)),
        st.tuples(st.just("delete"), st.integers(0, 20)),
    ),
    max_size=10,
)


def _expected_unread(fake: FakePictograph) -> list[str]:
    """The organization's unread notifications, newest first, from every notification."""
    org_id = fake.world.default_org.id
    unread = [n for n in fake.world.feeds.notifications.values() if n.organization_id == org_id]
    unread.sort(key=lambda n: (n.created_at, n.seq), reverse=True)
    return [n.id for n in unread if not n.read]


@settings(max_examples=30, deadline=None)
@given(steps=notification_steps)
def test_unread_notifications_are_every_notification_not_read(
    steps: list[tuple[str, int]],
) -> None:
    with _world() as fake:
        client = fake.client()
        ended = 0
        for action, argument in steps:
            if action == "end":
                for _ in range(argument):
                    ended += 1
                    fake.add_export("signs", f"e{ended}", status="pending")
                fake.clock.advance(hours=1)
            elif action == "read_all":
                before = client.notifications.unread_count()
                assert client.notifications.mark_all_read() == before
            else:
                every = client.notifications.list(limit=100)
                if every:
                    chosen = every[argument % len(every)].id
                    if action == "read":
                        client.notifications.mark_read(chosen)
                    else:
                        client.notifications.delete(chosen)
            # The listing catches the world up first: what it holds is then read as is.
            listed = client.notifications.list(unread_only=True, limit=100)
            expected = _expected_unread(fake)
            assert [n.id for n in listed] == expected
            assert client.notifications.unread_count() == len(expected)


async def test_unread_notifications_async_follow_reads() -> None:
    with _world() as fake:
        fake.add_export("signs", "first", status="pending")
        fake.add_export("signs", "second", status="pending")
        fake.clock.advance(hours=1)
        client = fake.async_client()
        unread = await client.notifications.list(unread_only=True)
        assert len(unread) == 2
        await client.notifications.mark_read(unread[0].id)
        left = await client.notifications.list(unread_only=True)
        assert [n.id for n in left] == [unread[1].id] == _expected_unread(fake)
        assert await client.notifications.unread_count() == 1


# create, archive, unarchive, delete (which of the datasets made), advance (minutes)
dataset_steps = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(("create", "archive", "unarchive", "delete")), st.integers(0, 9)),
        st.tuples(st.just("advance"), st.integers(0, 3)),
    ),
    max_size=12,
)


def _expected_datasets(fake: FakePictograph, *, archived: bool) -> list[str]:
    """The organization's datasets archived or not, newest first, from every dataset."""
    org_id = fake.world.default_org.id
    found = [d for d in fake.world.datasets.values() if d.organization_id == org_id]
    # Newest first; made at one instant, the later made first (filing order is id order
    # of `world.datasets`, which keeps insertion order).
    filed = {d.id: n for n, d in enumerate(fake.world.datasets.values())}
    found.sort(key=lambda d: (d.created_at, filed[d.id]), reverse=True)
    return [d.id for d in found if (d.archived_at is not None) == archived]


@settings(max_examples=30, deadline=None)
@given(steps=dataset_steps)
def test_datasets_listed_archived_or_not_are_every_dataset_filtered(
    steps: list[tuple[str, int]],
) -> None:
    with FakePictograph(seed=5) as fake:
        client = fake.client()
        made: list[str] = []
        for number, (action, argument) in enumerate(steps):
            if action == "create":
                made.append(client.datasets.create(f"d{number}").name)
            elif action == "advance":
                fake.clock.advance(minutes=argument)
            elif made:
                name = made[argument % len(made)]
                if action == "archive":
                    client.datasets.archive(name)
                elif action == "unarchive":
                    client.datasets.unarchive(name)
                else:
                    client.datasets.delete(name)
                    made.remove(name)
            for archived in (False, True):
                listed = [d.id for d in client.datasets.iter(archived=archived, page_size=2)]
                assert listed == _expected_datasets(fake, archived=archived)


async def test_datasets_listed_async_move_when_archived() -> None:
    with FakePictograph(seed=5) as fake:
        client = fake.async_client()
        await client.datasets.create("kept")
        await client.datasets.create("shelved")
        await client.datasets.archive("shelved")
        assert [d.name for d in await client.datasets.list()] == ["kept"]
        assert [d.name for d in await client.datasets.list(archived=True)] == ["shelved"]
        await client.datasets.unarchive("shelved")
        listed = [d.id for d in await client.datasets.list()]
        assert listed == _expected_datasets(fake, archived=False)
        assert len(listed) == 2


# start a run (optionally armed to fail), cancel one, evaluate the trained model
# (optionally armed to fail), cancel an evaluation, add an export, advance (minutes)
job_steps = st.lists(
    st.one_of(
        st.tuples(st.just("run"), st.booleans()),
        st.tuples(st.just("cancel"), st.integers(0, 9)),
        st.tuples(st.just("evaluate"), st.booleans()),
        st.tuples(st.just("cancel_evaluation"), st.integers(0, 9)),
        st.tuples(st.just("export"), st.sampled_from(EXPORT_STATUSES)),
        st.tuples(st.just("advance"), st.integers(0, 90)),
    ),
    max_size=10,
)
JOB_FILTERS: tuple[JobStatusFilter, ...] = (
    "active",
    "finished",
    "queued",
    "running",
    "completed",
    "failed",
    "cancelled",
)


@settings(max_examples=25, deadline=None)
@given(steps=job_steps)
# Evaluations ending every way (failed, completed, cancelled) and one still live.
@example(
    steps=[
        ("evaluate", True),
        ("evaluate", False),
        ("evaluate", False),
        ("cancel_evaluation", 2),
        ("advance", 90),
        ("evaluate", False),
        ("run", False),
    ]
)
def test_jobs_listed_by_status_are_every_job_filtered(steps: list[tuple[str, object]]) -> None:
    with FakePictograph(seed=9, gpu_workers={"a10g": 1}) as fake:
        fake.add_dataset("signs", images=40, completed_images=40)
        fake.add_export("signs", "v1")
        client = fake.client()
        # A model to evaluate (its run is one more completed job).
        client.training.create("signs", "v1", pipeline_type="yolox", name="base")
        runs: list[str] = []
        evaluations: list[str] = []
        for number, (action, argument) in enumerate(steps):
            if action == "run":
                if argument:
                    fake.faults.fail_run(f"r{number}", epoch=1)
                run = client.training.create(
                    "signs",
                    "v1",
                    pipeline_type="yolox",
                    gpu_type="a10g",
                    name=f"r{number}",
                    config={"epochs": 3},
                    wait=False,
                )
                runs.append(run.id)
            elif action == "cancel" and runs:
                chosen = runs[int(str(argument)) % len(runs)]
                if client.training.get(run_id=chosen).status in ("queued", "running"):
                    client.training.cancel(run_id=chosen)
            elif action == "evaluate":
                if argument:
                    fake.faults.fail_evaluation()
                evaluations.append(client.model_evaluations.create("base", "signs", "v1").id)
            elif action == "cancel_evaluation" and evaluations:
                chosen = evaluations[int(str(argument)) % len(evaluations)]
                if client.model_evaluations.get(chosen).status in ("pending", "running"):
                    client.model_evaluations.cancel(chosen)
            elif action == "export":
                fake.add_export("signs", f"e{number}", status=str(argument))
            elif action == "advance":
                fake.clock.advance(minutes=int(str(argument)))
            every = [(j.id, j.status) for j in client.jobs.list(status="all", page_size=100)]
            for wanted in JOB_FILTERS:
                listed = [(j.id, j.status) for j in client.jobs.list(status=wanted, page_size=7)]
                active = wanted == "active"
                expected = [
                    (i, s)
                    for i, s in every
                    if s == wanted
                    or (wanted in ("active", "finished") and (s in ("queued", "running")) == active)
                ]
                assert listed == expected, wanted


async def test_jobs_listed_by_status_async() -> None:
    with FakePictograph(seed=9) as fake:
        fake.add_dataset("signs", images=40, completed_images=40)
        fake.add_export("signs", "v1")
        fake.add_export("signs", "broken", status="failed")
        client = fake.async_client()
        run = await client.training.create(
            "signs", "v1", pipeline_type="yolox", name="r", config={"epochs": 2}, wait=False
        )
        await client.training.cancel(run_id=run.id)
        cancelled = [j.id async for j in client.jobs.list(status="cancelled")]
        failed = [j.name async for j in client.jobs.list(status="failed")]
        assert (cancelled, failed) == ([run.id], ["broken"])


# ── spend by operation: credits.usage_by_operation ──

USAGE_OPERATIONS = ("inference_image", "training_a10g")
# debit or credit (an operation, µUSD, seconds before now it is dated), or advance (hours)
ledger_steps = st.lists(
    st.one_of(
        st.tuples(
            st.sampled_from(("debit", "debit", "credit")),
            st.sampled_from(USAGE_OPERATIONS),
            st.integers(0, 5_000),
            st.sampled_from((0.0, 60.0, 3_600.0, 2 * 86_400.0, 40 * 86_400.0)),
        ),
        st.tuples(st.just("advance"), st.just(""), st.integers(0, 24 * 10), st.just(0.0)),
    ),
    min_size=2,
    max_size=14,
)


def _usage_from_the_ledger(fake: FakePictograph, since: float | None) -> dict[str, tuple[int, int]]:
    """Every debit of the organization dated at or after ``since``, summed per operation."""
    totals: dict[str, tuple[int, int]] = {}
    for entry in fake.world.ledgers[fake.world.default_org.id]:
        if entry.amount < 0 and (since is None or entry.created_at >= since):
            spent, count = totals.get(entry.operation, (0, 0))
            totals[entry.operation] = (spent - entry.amount, count + 1)
    return totals


@settings(max_examples=40, deadline=None)
@given(steps=ledger_steps)
# A debit dated exactly a window's length ago is in the window (the API's `>=`).
@example(steps=[("debit", "training_a10g", 9, 0.0), ("advance", "", 24, 0.0)])
def test_usage_by_operation_is_every_debit_in_the_window(
    steps: list[tuple[str, str, int, float]],
) -> None:
    windows: dict[UsageRange, float | None] = {
        "day": 86_400.0,
        "week": 7 * 86_400.0,
        "month": 30 * 86_400.0,
        "all": None,
    }
    with FakePictograph(seed=4, balance_usd=1_000) as fake:
        client = fake.client()
        world = fake.world
        fake.clock.advance(hours=24 * 50)  # room to date entries in the past
        for action, operation, amount, back in steps:
            if action == "advance":
                fake.clock.advance(hours=amount)
            else:
                with world.lock:
                    world.billing.post(
                        world.default_org,
                        operation,
                        -amount if action == "debit" else amount,
                        description="a step",
                        at=world.now() - back,  # out of order when dated back
                    )
            now = world.now()
            for window, length in windows.items():
                usage = client.credits.usage_by_operation(range=window)
                since = None if length is None else now - length
                expected = _usage_from_the_ledger(fake, since)
                got = {o.operation: (o.total_micro_usd, o.event_count) for o in usage.operations}
                assert got == expected, window
                assert usage.total_micro_usd == sum(spent for spent, _ in expected.values())
                assert usage.total_events == sum(count for _, count in expected.values())


# ── deployments: by model, name and status ──

DEPLOYMENT_NAMES = ("a", "b", "m1")
# create (a model, a name or None for the model's, fail when it would come up), pause,
# resume, delete (which one), rename (which one, to what), advance (minutes)
deployment_steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("create"),
            st.sampled_from(("m1", "m2")),
            st.sampled_from((None, "a", "b")),
            st.booleans(),
        ),
        st.tuples(
            st.sampled_from(("pause", "resume", "delete")),
            st.integers(0, 9),
            st.just(None),
            st.just(False),
        ),
        st.tuples(
            st.just("rename"), st.integers(0, 9), st.sampled_from(DEPLOYMENT_NAMES), st.just(False)
        ),
        st.tuples(st.just("advance"), st.integers(0, 20), st.just(None), st.just(False)),
    ),
    max_size=10,
)


def _trained(fake: FakePictograph, *names: str) -> pictograph.Client:
    fake.add_dataset("signs", images=40, completed_images=40)
    fake.add_export("signs", "v1")
    client = fake.client(max_retries=0)
    for name in names:
        client.training.create("signs", "v1", pipeline_type="yolox", name=name)
    return client


def _newest_matching(fake: FakePictograph, items: Iterable[Any], **wanted: str | None) -> list[str]:
    """The ids of the default organization's ``items`` whose fields equal every value given
    (``None``: any), newest (highest ``seq``) first: the scan a kept index must agree with."""
    org_id = fake.world.default_org.id
    found = [
        item
        for item in items
        if item.organization_id == org_id
        and all(value is None or getattr(item, field) == value for field, value in wanted.items())
    ]
    return [item.id for item in sorted(found, key=lambda item: item.seq, reverse=True)]


@settings(max_examples=25, deadline=None)
@given(steps=deployment_steps)
def test_deployments_listed_by_model_name_and_status_are_every_deployment_filtered(
    steps: list[tuple[str, str | int, str | None, bool]],
) -> None:
    from pictograph.exceptions import ConflictError

    with FakePictograph(seed=5) as fake:
        client = _trained(fake, "m1", "m2")
        m1 = client.models.get("m1").id
        made: list[str] = []
        for action, argument, name, fail in steps:
            try:
                if action == "create":
                    if fail:
                        # The create may be refused (a conflict), leaving it unfired.
                        fake.faults.fail_deployment(optional=True)
                    made.append(client.deployments.create(str(argument), name=name).deployment.id)
                elif action == "advance":
                    fake.clock.advance(minutes=int(argument))
                elif made:
                    chosen = made[int(argument) % len(made)]
                    if action == "pause":
                        client.deployments.pause(chosen)
                    elif action == "resume":
                        client.deployments.resume(chosen)
                    elif action == "delete":
                        client.deployments.delete(chosen)
                    else:
                        client.deployments.update(chosen, name=name)
            except ConflictError:
                pass  # a taken name, or a state the action does not apply to
            for model in (None, m1):
                for named in (None, *DEPLOYMENT_NAMES):
                    for wanted in (None, *DEPLOYMENT_STATUSES):
                        listed = client.deployments.list(
                            model=model, name=named, status=wanted, limit=100
                        )
                        expected = _newest_matching(
                            fake,
                            fake.world.deployments.deployments.values(),
                            model_id=model,
                            name=named,
                            status=wanted,
                        )
                        assert [d.id for d in listed] == expected, (model, named, wanted)
            # A name is free again once no live deployment holds it.
            live = {d.name for d in fake.world.deployments.deployments.values() if d.live}
            for free in set(DEPLOYMENT_NAMES) - live:
                fake.world.deployments._check_name_free(fake.world.default_org.id, free, None)


# ── model evaluations: by model and dataset ──


def test_evaluations_listed_by_model_and_dataset_are_every_evaluation_filtered() -> None:
    with FakePictograph(seed=6) as fake:
        client = _trained(fake, "m1", "m2")
        fake.add_dataset("birds", images=30, completed_images=30)
        fake.add_export("birds", "b1")
        model: str | None  # one evaluated, then a filter (None: every model)
        dataset: str | None  # likewise
        for model, dataset, export in [
            ("m1", "signs", "v1"),
            ("m2", "signs", "v1"),
            ("m1", "birds", "b1"),
            ("m1", "signs", "v1"),
            ("m2", "birds", "b1"),
        ]:
            client.model_evaluations.create(model, dataset, export)
            fake.clock.advance(minutes=1)
        every = sorted(fake.world.evaluations.evaluations.values(), key=lambda e: -e.seq)
        for model in (None, "m1", "m2"):
            for dataset in (None, "signs", "birds"):
                model_id = None if model is None else client.models.get(model).id
                dataset_id = None if dataset is None else client.datasets.get(dataset).id
                expected = [
                    e.id
                    for e in every
                    if (model_id is None or e.model_id == model_id)
                    and (dataset_id is None or e.dataset_id == dataset_id)
                ]
                listed = client.model_evaluations.iter(
                    model=model, dataset_name=dataset, page_size=2
                )
                assert [e.id for e in listed] == expected, (model, dataset)
                assert expected  # every combination above holds one


# ── webhook deliveries: by endpoint and status ──

HOOKS = ("https://hooks.example.com/a", "https://hooks.example.com/b")
# export (its events go to every endpoint), receiver (which one, answering 200 or 503),
# replay (which delivery), enable / disable (which endpoint), drop (delete the second
# endpoint, or make it again), advance (minutes: exports end, retries fall due)
delivery_steps = st.lists(
    st.one_of(
        st.tuples(st.just("export"), st.just(0)),
        st.tuples(st.sampled_from(("fail", "heal", "enable", "disable")), st.integers(0, 1)),
        st.tuples(st.just("replay"), st.integers(0, 9)),
        st.tuples(st.just("drop"), st.just(1)),
        st.tuples(st.just("advance"), st.sampled_from((1, 5, 30, 240, 600))),
    ),
    max_size=12,
)


def _answering(answers: dict[str, int], url: str) -> Callable[[WebhookRequest], int]:
    """A receiver at ``url`` that answers what ``answers`` holds for it at the time."""

    def receive(request: WebhookRequest) -> int:
        return answers[url]

    return receive


@settings(max_examples=30, deadline=None)
@given(steps=delivery_steps)
# Every status, through both ways to dead_letter (retries spent, an endpoint disabled),
# replays, and an endpoint deleted with its deliveries and made again.
@example(
    steps=[
        ("fail", 0),
        ("export", 0),
        ("advance", 5),
        ("advance", 600),
        ("advance", 600),
        ("fail", 1),
        ("export", 0),
        ("advance", 5),
        ("disable", 1),
        ("advance", 5),
        ("enable", 1),
        ("heal", 1),
        ("replay", 0),
        ("replay", 1),
        ("drop", 1),
        ("export", 0),
        ("advance", 5),
        ("drop", 1),
        ("export", 0),
        ("advance", 5),
    ]
)
def test_deliveries_listed_by_endpoint_and_status_are_every_delivery_filtered(
    steps: list[tuple[str, int]],
) -> None:
    from pictograph.exceptions import ConflictError

    answers = dict.fromkeys(HOOKS, 200)
    with FakePictograph(seed=8) as fake:
        fake.add_dataset("signs", images=40, completed_images=40)
        client = fake.client(max_retries=0)
        for url in HOOKS:
            client.webhooks.create(url, event_types=["export.ready"])
            fake.webhooks.route(url, _answering(answers, url))
        for number, (action, argument) in enumerate(steps):
            url = HOOKS[argument % len(HOOKS)]
            registered = {e.url for e in client.webhooks.list()}
            try:
                if action == "export":
                    client.exports.create("signs", f"e{number}", wait=False)
                elif action in ("fail", "heal"):
                    answers[url] = 503 if action == "fail" else 200
                elif action in ("enable", "disable") and url in registered:
                    client.webhooks.update(url, enabled=action == "enable")
                elif action == "replay":
                    every = client.webhooks.deliveries(limit=100)
                    if every:
                        client.webhooks.replay(every[argument % len(every)].id)
                elif action == "drop":
                    if url in registered:
                        client.webhooks.delete(url)
                    else:
                        client.webhooks.create(url, event_types=["export.ready"])
                elif action == "advance":
                    fake.clock.advance(minutes=argument)
            except ConflictError:
                pass  # a delivery not failed, or an endpoint disabled, cannot be replayed
            fake.webhooks.deliver()
            endpoints = {e.url: e.id for e in client.webhooks.list()}
            for hook in (None, *endpoints):
                endpoint_id = None if hook is None else endpoints[hook]
                for wanted in (None, *DELIVERY_STATUSES):
                    listed = client.webhooks.deliveries(endpoint=hook, status=wanted, limit=100)
                    expected = _newest_matching(
                        fake,
                        fake.world.webhooks.deliveries.values(),
                        endpoint_id=endpoint_id,
                        status=wanted,
                    )
                    assert [d.id for d in listed] == expected, (hook, wanted)


# ── models: by dataset, status and type ──

TRAINED: tuple[PipelineType, ...] = ("yolox", "classification")
TRAINED_TYPES: tuple[ModelType, ...] = ("object_detection", "classification")
# train (a dataset, a pipeline), delete (which one), rename (which one)
model_steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("train"),
            st.sampled_from(DATASETS),
            st.sampled_from(TRAINED),
        ),
        st.tuples(st.sampled_from(("delete", "rename")), st.integers(0, 9), st.just("")),
    ),
    max_size=10,
)


@settings(max_examples=25, deadline=None)
@given(steps=model_steps)
def test_models_listed_by_dataset_status_and_type_are_every_model_filtered(
    steps: list[tuple[str, str | int, PipelineType | Literal[""]]],
) -> None:
    with _world() as fake:
        dataset: str | None  # one set up, then a filter (None: every dataset)
        for dataset in DATASETS:
            fake.add_export(dataset, "v1")
        client = fake.client(max_retries=0)
        org_id = fake.world.default_org.id
        for number, (action, argument, pipeline) in enumerate(steps):
            models = [m.id for m in client.models.list(limit=100)]
            if action == "train":
                assert pipeline != ""
                client.training.create(
                    str(argument), "v1", pipeline_type=pipeline, name=f"m{number}"
                )
            elif models:
                chosen = models[int(argument) % len(models)]
                if action == "delete":
                    client.models.delete(model_id=chosen)
                else:
                    client.models.update(model_id=chosen, new_name=f"renamed-{number}")
            every = sorted(
                (m for m in fake.world.models.values() if m.organization_id == org_id),
                key=lambda m: (m.created_at, m.id),
                reverse=True,
            )
            for dataset in (None, *DATASETS):
                for status in (None, "ready", "failed"):
                    for model_type in (None, *TRAINED_TYPES):
                        listed = client.models.iter(
                            dataset_name=dataset,
                            status=status,
                            model_type=model_type,
                            page_size=4,
                        )
                        expected = [
                            m.id
                            for m in every
                            if (dataset is None or m.dataset_name == dataset)
                            and (status is None or m.status == status)
                            and (model_type is None or m.model_type == model_type)
                        ]
                        assert [m.id for m in listed] == expected, (dataset, status, model_type)
