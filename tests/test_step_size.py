"""How the clock was moved never changes the world.

Each property builds two worlds of the same seed and drives them through the same set-up
with the real SDK: runs of several lengths on several GPU tiers (some failing), exports,
evaluations, deployments warm and scaled to zero, webhook endpoints (one whose receiver
keeps failing, one whose secret was rotated), an invite, a balance that may run low.
Then world A's clock moves once, by days to months across month starts, and world B's
by many small steps covering the same span, each followed by a cheap read so that the
world catches up (and the courier sends what is due) in between. Everything that
happened in them must be the same: the ledger entry by entry, every run, export,
evaluation and deployment, the notifications, the webhook deliveries and every attempt
the receivers got, and the answers to a final set of reads.

What is compared is what the SDK and the receivers see, not the whole object graph
(``state_digest``): world B answered many more requests, and a request leaves traces
that are bookkeeping, not the world (each key's ``last_used_at``, the journal and its
request ids, the per-minute rate windows). Every id the world drew is compared: a read
that drew one would shift every id after it.
"""

from __future__ import annotations

import contextlib
from dataclasses import astuple, dataclass
from typing import TYPE_CHECKING, Any

import pictograph
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pictograph.models.training import GpuType

from pictograph_testing import FakePictograph, ProfileName

from .invariants import state_digest

if TYPE_CHECKING:
    from collections.abc import Callable

    from pictograph_testing.webhooks import WebhookRequest

DATASET, EXPORT = "signs", "v1"
SINK = "https://hooks.example.com/in"
"""An endpoint with no route: every attempt to it succeeds."""
BROKEN = "https://broken.example.com/in"
"""An endpoint whose receiver always answers 500: retried, then disabled."""
DAY = 86_400
WORKERS = {"a10g": 1, "h100": 1}
"""Few workers: runs queue behind each other, and start when another ends."""
JUNE_FIRST = 20 * DAY - 12 * 3600
"""Virtual seconds from the clock's start (2026-05-12T12:00Z) to the next month's."""


@dataclass(frozen=True)
class Plan:
    """One set-up and one span of virtual time, moved at once or in ``steps``."""

    profile: ProfileName
    balance_usd: float
    lead: int
    """Virtual seconds the clock moves before the set-up (some put it just before a
    month's start, so that what it started is under way when the month begins)."""
    runs: tuple[tuple[int, GpuType, str], ...]
    """(epochs, GPU tier, fate) per run, created in order without waiting; the fate is
    ``ok``, ``fail`` (mid-run) or ``preempt`` (back to the queue, then run again)."""
    exports: int
    evaluations: int
    job_faults: bool
    """The first export, evaluation and deployment created fail."""
    warm: bool
    """A deployment with one warm container (billed all the time)."""
    cold: bool
    """A deployment scaled to zero (billed only while awake)."""
    rotate: bool
    broken: bool
    seconds: int
    steps: int
    read: str
    """What world B reads after each step (each catches the world up)."""


READS: dict[str, Callable[[pictograph.Client], object]] = {
    "balance": lambda client: client.credits.balance(),
    "deployments": lambda client: client.deployments.list(),
    "jobs": lambda client: client.jobs.list(),
    "runs": lambda client: client.training.list(),
    "unread": lambda client: client.notifications.unread_count(),
}
"""Cheap reads, one of which world B makes after each step."""

plans = st.builds(
    Plan,
    profile=st.sampled_from(["classic", "current"]),
    balance_usd=st.sampled_from([4.0, 12.0, 60.0]),
    lead=st.sampled_from([0, JUNE_FIRST - 1800, JUNE_FIRST - 5 * 3600]),
    runs=st.lists(
        st.tuples(
            st.sampled_from([1, 5, 30, 80]),
            st.sampled_from(["a10g", "a100", "h100"]),
            st.sampled_from(["ok", "fail", "preempt"]),
        ),
        max_size=4,
    ).map(tuple),
    exports=st.integers(0, 2),
    evaluations=st.integers(0, 2),
    job_faults=st.booleans(),
    warm=st.booleans(),
    cold=st.booleans(),
    rotate=st.booleans(),
    broken=st.booleans(),
    seconds=st.sampled_from([DAY // 2, 3 * DAY, 21 * DAY, 50 * DAY]),
    steps=st.integers(2, 40),
    read=st.sampled_from(sorted(READS)),
)


def _failing(request: WebhookRequest) -> int:
    return 500


def _set_up(fake: FakePictograph, plan: Plan) -> pictograph.Client:
    """Build the world of ``plan`` through the SDK; a refusal (402, say) is part of it."""
    fake.clock.advance(seconds=plan.lead)
    fake.add_dataset(DATASET, images=30, completed_images=30, classes=["stop", "yield"])
    fake.add_export(DATASET, EXPORT)
    client = fake.client(max_retries=0)
    client.webhooks.create(SINK)
    if plan.broken:
        client.webhooks.create(BROKEN)
        fake.webhooks.route(BROKEN, _failing)
    suppress = contextlib.suppress(pictograph.PictographError)
    with suppress:  # a model to evaluate and deploy (it may not be affordable)
        client.training.create(
            DATASET, EXPORT, pipeline_type="yolox", name="base", config={"epochs": 2}
        )
    if plan.rotate:
        client.webhooks.rotate_secret(client.webhooks.list()[0].id)
    if plan.job_faults:
        fake.faults.fail_export(optional=True)
        fake.faults.fail_evaluation(optional=True)
        fake.faults.fail_deployment(optional=True)
    for n, (epochs, gpu, fate) in enumerate(plan.runs):
        if fate == "fail":
            fake.faults.fail_run(f"r{n}", epoch=max(1, epochs // 2), optional=True)
        elif fate == "preempt":
            fake.faults.preempt_run(f"r{n}", epoch=max(1, epochs // 2), optional=True)
        with suppress:
            client.training.create(
                DATASET,
                EXPORT,
                pipeline_type="yolox",
                name=f"r{n}",
                gpu_type=gpu,
                config={"epochs": epochs},
                wait=False,
            )
    for n in range(plan.exports):
        with suppress:
            client.exports.create(DATASET, f"e{n}", wait=False)
    for _ in range(plan.evaluations):
        with suppress:
            client.model_evaluations.create("base", DATASET, EXPORT)
    for name, wanted, warm in (("warm", plan.warm, 1), ("cold", plan.cold, 0)):
        if wanted:
            with suppress:
                client.deployments.create("base", name=name, gpu_type="t4", min_containers=warm)
    client.organizations.invite("someone@example.com")
    return client


def _seen(fake: FakePictograph, client: pictograph.Client) -> dict[str, Any]:
    """Everything the SDK and the receivers can see of the world, as plain values."""
    dump = _dump
    seen: dict[str, Any] = {
        "balance": dump(client.credits.balance()),
        "ledger": [dump(entry) for entry in client.credits.iter()],
        "runs": [dump(run) for run in client.training.iter()],
        "exports": [dump(export) for export in client.exports.iter()],
        "evaluations": [dump(evaluation) for evaluation in client.model_evaluations.iter()],
        "deployments": [dump(deployment) for deployment in client.deployments.iter()],
        "notifications": [dump(note) for note in client.notifications.list(limit=100)],
        "unread": client.notifications.unread_count(),
        "jobs": [dump(job) for job in client.jobs.list(status="all")],
        "invites": [dump(invite) for invite in client.organizations.list_invites()],
        "endpoints": [dump(endpoint) for endpoint in client.webhooks.list()],
        "deliveries": [dump(delivery) for delivery in client.webhooks.deliveries(limit=100)],
        "models": [dump(model) for model in client.models.list(limit=100)],
    }
    seen["sent"] = [
        (*astuple(sent.request), sent.status_code, sent.error, sent.delivery_id)
        for sent in fake.webhooks.sent
    ]
    return seen


def _dump(value: Any) -> Any:
    """A model as its fields (pydantic's dump), anything else as it is."""
    model_dump = getattr(value, "model_dump", None)
    return model_dump(mode="json") if model_dump is not None else value


def _moved(plan: Plan, *, stepwise: bool) -> dict[str, Any]:
    with FakePictograph(
        seed=7, profile=plan.profile, balance_usd=plan.balance_usd, gpu_workers=WORKERS
    ) as fake:
        client = _set_up(fake, plan)
        if stepwise:
            # Uneven steps (no step lands on a round instant), covering the same span.
            cuts = sorted({plan.seconds * k * k // plan.steps**2 for k in range(1, plan.steps)})
            moved = 0
            for cut in [*cuts, plan.seconds]:
                fake.clock.advance(seconds=cut - moved)
                moved = cut
                READS[plan.read](client)  # the world catches up; the courier sends
        else:
            fake.clock.advance(seconds=plan.seconds)
        seen = _seen(fake, client)
        seen["digest"] = state_digest(fake.world)
        client.close()
        return seen


def _assert_same(one: dict[str, Any], other: dict[str, Any]) -> None:
    for part in one:
        assert one[part] == other[part], part


@settings(max_examples=20)
@given(plan=plans)
def test_one_long_clock_move_and_many_short_ones_leave_the_same_world(plan: Plan) -> None:
    _assert_same(_moved(plan, stepwise=False), _moved(plan, stepwise=True))


@pytest.mark.slow  # the wider budget: scripts/test_slow.sh
@settings(max_examples=400)
@given(plan=plans)
def test_the_world_never_depends_on_how_its_clock_was_moved(plan: Plan) -> None:
    _assert_same(_moved(plan, stepwise=False), _moved(plan, stepwise=True))
