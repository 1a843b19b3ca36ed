"""The world's agenda lets a request skip the catch-up until something is due: skipping
must never change what anybody sees.

Each property drives two worlds of the same seed through the same random sequence of
SDK calls and clock moves. One keeps its agenda; the other forgets it before every call
(its catch-up then asks every service, as if nothing were known). Every answer, byte for
byte, and the whole state after every step must be the same in both.
"""

from __future__ import annotations

import contextlib
import math
from typing import TYPE_CHECKING, Any

import pictograph
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pictograph_testing import FakePictograph

from .invariants import state_digest
from .test_workflows import detection_graph

if TYPE_CHECKING:
    from collections.abc import Callable

DATASET, EXPORT = "signs", "v1"

steps = st.lists(
    st.one_of(
        st.tuples(st.just("train"), st.integers(1, 40)),
        st.tuples(st.just("cancel"), st.integers(0, 6)),
        st.tuples(st.just("export"), st.integers(0, 3)),
        st.tuples(st.just("evaluate"), st.integers(0, 6)),
        st.tuples(st.just("invite"), st.integers(0, 3)),
        st.tuples(st.just("rotate"), st.just(0)),
        st.tuples(st.just("advance"), st.sampled_from([0, 1, 7, 30, 90, 600, 6_000, 12_000])),
        st.tuples(st.just("read"), st.just(0)),
    ),
    min_size=1,
    max_size=14,
)


JUNE_FIRST = 20 * 86400 - 12 * 3600
"""Virtual seconds from the clock's start (2026-05-12T12:00Z) to the next month's."""


def _world() -> FakePictograph:
    fake = FakePictograph(seed=11, balance_usd=5_000, gpu_workers={"a10g": 1})
    fake.add_dataset(DATASET, images=60, completed_images=60, classes=["stop", "yield"])
    fake.add_export(DATASET, EXPORT)
    return fake


def _step(
    client: pictograph.Client, fake: FakePictograph, action: str, number: int, at: int
) -> None:
    """One step; a refusal is an answer like any other (both worlds must refuse alike)."""
    calls: dict[str, Callable[[], Any]] = {
        "train": lambda: client.training.create(
            DATASET,
            EXPORT,
            pipeline_type="yolox",
            name=f"r{at}",
            gpu_type="a10g",
            config={"epochs": number},
            wait=False,
        ),
        "cancel": lambda: client.training.cancel(f"r{number}"),
        "export": lambda: client.exports.create(DATASET, f"e{at}", wait=False),
        "evaluate": lambda: client.model_evaluations.create(f"r{number}", DATASET, EXPORT),
        "invite": lambda: client.organizations.invite(f"person{number}@example.com"),
        "rotate": lambda: [
            client.webhooks.rotate_secret(hook.id) for hook in client.webhooks.list()
        ],
        "read": lambda: (
            client.jobs.list(),
            client.training.list(),
            client.model_evaluations.list(),
            client.organizations.list_invites(),
        ),
    }
    if action == "advance":
        fake.clock.advance(minutes=number)
        return
    with contextlib.suppress(pictograph.PictographError):
        calls[action]()


@settings(max_examples=60, deadline=None)
@given(steps=steps)
def test_the_agenda_never_changes_an_answer(steps: list[tuple[str, int]]) -> None:
    with _world() as kept, _world() as forgetful:
        clients = kept.client(max_retries=0), forgetful.client(max_retries=0)
        for client in clients:
            client.webhooks.create(
                "https://hooks.example.com/in",
                event_types=["training_run.completed", "evaluation.completed"],
            )
        for at, (action, number) in enumerate(steps):
            _step(clients[0], kept, action, number, at)
            forgetful.world.agenda.due = -math.inf  # ask every service on the next call
            _step(clients[1], forgetful, action, number, at)
            assert state_digest(kept.world) == state_digest(forgetful.world), (at, action)
        answers = [[(c.status, c.response_body) for c in fake.calls] for fake in (kept, forgetful)]
        assert answers[0] == answers[1]


def _trained(fake: FakePictograph, client: pictograph.Client) -> str:
    """A completed run's model name, with nothing left planned on the clock but the
    month's start, when its charge comes back."""
    client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="m", config={"epochs": 2})
    assert fake.world.agenda.due == fake.world.resets.next_event == JUNE_FIRST
    return "m"


def _event_seen(fake: FakePictograph, client: pictograph.Client, service: str) -> None:
    """Plan one event of ``service`` with nothing else planned, move the clock just past
    it, and see it happened, on the very first request."""
    if service == "training":
        run = client.training.create(
            DATASET, EXPORT, pipeline_type="yolox", name="r", config={"epochs": 2}, wait=False
        )
        fake.clock.advance(seconds=fake.world.agenda.due - fake.clock.monotonic())
        assert client.training.get(run_id=run.id).status == "completed"
    elif service == "exports":
        client.exports.create(DATASET, "fresh", wait=False)
        fake.clock.advance(hours=1)
        assert client.exports.get(DATASET, "fresh").status == "completed"
    elif service == "evaluations":
        evaluation = client.model_evaluations.create(_trained(fake, client), DATASET, EXPORT)
        fake.clock.advance(hours=1)
        assert client.model_evaluations.get(evaluation.id).status == "completed"
    elif service == "deployments":
        created = client.deployments.create(_trained(fake, client), gpu_type="t4")
        fake.clock.advance(hours=1)
        assert client.deployments.get(created.deployment.id).status == "active"
    elif service == "workflow_runs":
        client.workflows.create("Lot", detection_graph(_trained(fake, client), DATASET))
        started = client.workflows.run("Lot")
        assert fake.world.agenda.due == fake.world.workflow_runs.next_event < JUNE_FIRST
        fake.clock.advance(seconds=fake.world.agenda.due - fake.clock.monotonic())
        assert client.workflows.get_run(started.run_id).status == "completed"
    elif service == "resets":
        _trained(fake, client)
        spent = client.credits.balance()
        assert spent.period_spend_micro_usd > 0
        fake.clock.advance(seconds=JUNE_FIRST - fake.clock.monotonic())
        reset = client.credits.balance()
        assert reset.period_spend_micro_usd == 0
        assert reset.recent_history[0].operation == "monthly_reset"
        assert reset.recent_history[0].amount == spent.period_spend_micro_usd
    else:
        invite = client.organizations.invite("someone@example.com")
        fake.clock.advance(hours=8 * 24)
        assert [i.status for i in client.organizations.list_invites() if i.id == invite.id] == [
            "expired"
        ]


@pytest.mark.parametrize(
    "service",
    ["training", "exports", "evaluations", "deployments", "members", "resets", "workflow_runs"],
)
def test_each_timed_service_plans_on_the_agenda(service: str) -> None:
    with _world() as fake:
        _event_seen(fake, fake.client(max_retries=0), service)


@pytest.mark.parametrize("minutes", [0, 29, 31])
def test_a_run_ends_on_the_first_request_after_its_end(minutes: int) -> None:
    """The agenda holds the run's end: the first request after it sees the run completed."""
    with _world() as fake:
        client = fake.client()
        run = client.training.create(
            DATASET, EXPORT, pipeline_type="yolox", name="r", config={"epochs": 10}, wait=False
        )
        due = fake.world.agenda.due
        assert fake.world.training.next_event == due
        fake.clock.advance(seconds=due - fake.clock.monotonic() + (minutes - 30))
        seen = client.training.get(run_id=run.id).status
        assert seen == ("completed" if minutes > 30 else "running")


@pytest.mark.parametrize("cancelled", [(), (0,), (1, 2), (0, 1, 2, 3)])
def test_workflow_runs_end_in_time_order_past_cancelled_ones(cancelled: tuple[int, ...]) -> None:
    """Runs on two GPUs end in the order of their ends, not the order they started; a
    run cancelled before its end leaves nothing behind that moves the others."""
    worlds = _world(), _world()
    runs: list[list[str]] = [[], []]
    with worlds[0] as kept, worlds[1] as forgetful:
        clients = kept.client(max_retries=0), forgetful.client(max_retries=0)
        steps: list[Callable[[pictograph.Client, list[str]], object]] = [
            lambda c, _: c.workflows.create("Lot", detection_graph("m", DATASET)),
            *(
                lambda c, started, gpu=gpu: started.append(c.workflows.run("Lot", gpu=gpu).run_id)
                for gpu in ("t4", "l4", "t4", "l4")
            ),
            *(lambda c, started, i=i: c.workflows.cancel_run(started[i]) for i in cancelled),
            lambda c, started: [c.workflows.get_run(run_id) for run_id in started],
        ]
        for fake, client in zip(worlds, clients, strict=True):
            # Not waited on: the SDK's sleeps follow one fake's clock, and two are active.
            client.training.create(
                DATASET, EXPORT, pipeline_type="yolox", name="m", config={"epochs": 2}, wait=False
            )
            fake.clock.advance(hours=2)
            assert client.training.get("m").status == "completed"
        for step in steps:
            for fake, client, started in zip(worlds, clients, runs, strict=True):
                if fake is forgetful:
                    fake.world.agenda.due = -math.inf
                step(client, started)
            assert state_digest(kept.world) == state_digest(forgetful.world)
        for minutes in (1, 1, 5, 60):
            for fake, client in zip(worlds, clients, strict=True):
                fake.clock.advance(minutes=minutes)
                if fake is forgetful:
                    fake.world.agenda.due = -math.inf
                client.workflows.list_runs("Lot")
            assert state_digest(kept.world) == state_digest(forgetful.world)
        answers = [[(c.status, c.response_body) for c in fake.calls] for fake in worlds]
        assert answers[0] == answers[1]
        ended = [clients[0].workflows.get_run(run_id) for run_id in runs[0]]
        assert [r.status for r in ended] == [
            "cancelled" if i in cancelled else "completed" for i in range(4)
        ]
        completed = [r for r in ended if r.status == "completed"]
        by_end = sorted(completed, key=lambda r: (r.completed_at, r.created_at))
        # The L4 runs (0.6 of a T4's time) end first: the order of ends, not of starts.
        assert [r.id for r in by_end] == [r.id for r in completed if r.compute.gpu == "l4"] + [
            r.id for r in completed if r.compute.gpu == "t4"
        ]
        assert [r.id for r in clients[1].workflows.list_runs("Lot")] == runs[1][::-1]
