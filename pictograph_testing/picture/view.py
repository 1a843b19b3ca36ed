"""The world at one virtual instant, as plain values: what the dashboard and reports draw.

:func:`picture_of` reads a fake through its public surface (its world's entities, its
ledger, its journal) under the world lock and copies out what a picture needs; nothing
here writes to the world, so drawing it never changes what a test sees. Times are
virtual seconds since the clock's start, like the world's own.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pictograph_testing.catalog import GPU_TIERS, MICRO_USD
from pictograph_testing.clock import format_timestamp
from pictograph_testing.world.entities import TERMINAL
from pictograph_testing.world.training import run_state

if TYPE_CHECKING:
    from pictograph_testing.fake import FakePictograph
    from pictograph_testing.world.entities import LedgerEntry, TrainingRun
    from pictograph_testing.world.state import World
    from pictograph_testing.world.streams import Streams
    from pictograph_testing.world.workflow_endpoints import WorkflowEndpoints

__all__ = [
    "DATASET_COLUMNS",
    "DEPLOYMENT_COLUMNS",
    "EXPORT_COLUMNS",
    "JOURNAL_TAIL",
    "MODEL_COLUMNS",
    "OUTCOMES",
    "RUN_COLUMNS",
    "STREAM_COLUMNS",
    "WEBHOOK_COLUMNS",
    "Attempt",
    "BalancePoint",
    "JournalLine",
    "Lane",
    "Picture",
    "Row",
    "RunBar",
    "clock_text",
    "dollars",
    "ledger_kind",
    "picture_of",
]

JOURNAL_TAIL = 200
"""The newest calls a picture shows (the journal itself may keep many more)."""

OUTCOMES = (
    "queued",
    "running",
    "completed",
    "oom",
    "service_cap",
    "injected",
    "cancelled",
    "preempted",
)
"""How an attempt on a worker ended (or that it has not): the timeline's colours.

``oom`` and ``service_cap`` are the failures the run's plan foresaw; ``injected`` is a
failure a test armed; ``preempted`` an attempt a preemption cut short (the run requeued).
"""

_SAME_INSTANT = 1e-6


@dataclass(frozen=True)
class Attempt:
    """One stay of a run in its tier: queued, on a worker, ended (or still live)."""

    queued_at: float
    assigned_at: float | None
    """When a worker took it; ``None`` while (or if it only ever was) waiting."""
    started_at: float | None
    """When training began, after the cold start; ``None`` before that."""
    ended_at: float | None
    """``None`` while the attempt is live."""
    outcome: str
    """One of :data:`OUTCOMES`."""


@dataclass(frozen=True)
class RunBar:
    """One run on the timeline: its attempts and what a hover shows."""

    run_id: str
    name: str
    tier: str
    lane: int | None
    """The worker of its tier it ran on (0-based); ``None``: it never reached one."""
    status: str
    outcome: str
    """The last attempt's outcome."""
    progress: int
    epoch: int
    epochs: int
    pipeline: str
    created_at: float
    ended_at: float | None
    error: str | None
    attempts: tuple[Attempt, ...]


@dataclass(frozen=True)
class Lane:
    """One row of the timeline: a worker of a tier, or the tier's queue (``worker`` None)."""

    tier: str
    worker: int | None
    bars: tuple[RunBar, ...]

    @property
    def label(self) -> str:
        return f"{self.tier} queue" if self.worker is None else f"{self.tier} #{self.worker + 1}"


@dataclass(frozen=True)
class BalancePoint:
    """The balance after one ledger entry (or the opening balance, ``kind`` ``opening``)."""

    at: float
    balance_micro_usd: int
    amount_micro_usd: int
    kind: str
    """``opening``, ``pre-charge``, ``refund``, ``charge`` or ``top-up``."""
    operation: str
    description: str


@dataclass(frozen=True)
class JournalLine:
    """One call the fake answered, as the journal tail lists it."""

    index: int
    at: float
    method: str
    path: str
    status: int
    fault: str | None
    request_id: str


@dataclass(frozen=True)
class Row:
    """One line of a small table: cells in the table's column order."""

    cells: tuple[str, ...]


@dataclass(frozen=True)
class Picture:
    """Everything a dashboard or report draws, copied out of one world at one instant."""

    now: float
    now_text: str
    seed: int
    profile: str
    organization: str
    balance_micro_usd: int
    lanes: tuple[Lane, ...]
    balance: tuple[BalancePoint, ...]
    runs: tuple[Row, ...]
    models: tuple[Row, ...]
    datasets: tuple[Row, ...]
    exports: tuple[Row, ...]
    deployments: tuple[Row, ...]
    streams: tuple[Row, ...]
    webhooks: tuple[Row, ...]
    journal: tuple[JournalLine, ...]
    journal_total: int
    next_event_in: float | None
    """Virtual seconds until the next run ends or starts training; ``None``: nothing due."""
    faults: tuple[str, ...]
    """What is armed, in words."""

    @property
    def bars(self) -> tuple[RunBar, ...]:
        """Every run on the timeline, in creation order."""
        found = [bar for lane in self.lanes for bar in lane.bars]
        return tuple(sorted(found, key=lambda bar: (bar.created_at, bar.run_id)))


RUN_COLUMNS = ("name", "tier", "status", "progress", "epoch", "created", "ended", "error")
MODEL_COLUMNS = ("name", "status", "pipeline", "versions", "created")
DATASET_COLUMNS = ("name", "images", "created")
EXPORT_COLUMNS = ("dataset", "name", "status", "images", "created")
DEPLOYMENT_COLUMNS = ("name", "model", "status", "gpu", "created")
STREAM_COLUMNS = ("stream", "on", "source", "opened", "ended", "frames")
WEBHOOK_COLUMNS = ("url", "events", "enabled", "deliveries", "created")


def picture_of(fake: FakePictograph, *, journal_tail: int = JOURNAL_TAIL) -> Picture:
    """Copy what the dashboard shows out of ``fake``, caught up to its clock."""
    world = fake.world
    with world.lock:
        now = world.catch_up()
        org = world.default_org
        bars = [_bar(run, now) for run in sorted(world.runs.values(), key=lambda r: r.seq)]
        lanes = _lanes(bars, fake.world.training.worker_counts())
        ledger = tuple(world.ledgers[org.id])
        balance = _balance(ledger, world.billing.spendable(org))
        calls = fake.calls
        tail = calls[-journal_tail:] if journal_tail else calls[:0]
        journal = tuple(
            JournalLine(
                call.index,
                call.elapsed,
                call.method,
                call.path,
                call.status,
                call.fault,
                call.request_id,
            )
            for call in tail
        )
        faults = fake.faults.described
        return Picture(
            now=now,
            now_text=format_timestamp(fake.clock.now()),
            seed=world.seed,
            profile=world.profile.name,
            organization=org.name,
            balance_micro_usd=world.billing.spendable(org),
            lanes=lanes,
            balance=balance,
            runs=tuple(_run_row(bar) for bar in bars),
            models=_models(world),
            datasets=_datasets(world),
            exports=_exports(world),
            deployments=_deployments(world),
            streams=_streams(world, now),
            webhooks=_webhooks(world),
            journal=journal,
            journal_total=fake.api.journal.total,
            next_event_in=_next_event(world, now),
            faults=faults,
        )


# ── the timeline ──


def _bar(run: TrainingRun, now: float) -> RunBar:
    view = run_state(run, now)
    cold = GPU_TIERS[run.gpu_type].cold_start_seconds
    attempts: list[Attempt] = []
    queued: float | None = None
    started: float | None = None
    # The history lists, per attempt, `queued`, then (when training began) `running`
    # with its start, then the terminal status or, after a preemption, the next `queued`.
    for status, at in run.history:
        if status == "queued":
            if queued is not None:
                attempts.append(_ended(queued, started, at, "preempted", cold, bool(attempts)))
            queued, started = at, None
        elif status == "running":
            started = at
        elif status in TERMINAL:
            begun = queued if queued is not None else run.created_at
            outcome = _outcome(run, status, started, at)
            # The run keeps the worker it was given when it ends: a cancel in the cold
            # start ended on that worker, not in the queue.
            attempts.append(
                _ended(begun, started, at, outcome, cold, bool(attempts), run.assigned_at)
            )
            queued = None
    if queued is not None:  # the live attempt
        began = run.started_at
        live_start = began if began is not None and now >= began else None
        outcome = "running" if run.assigned_at is not None else "queued"
        attempts.append(Attempt(queued, run.assigned_at, live_start, None, outcome))
    last = attempts[-1] if attempts else Attempt(run.created_at, None, None, None, "queued")
    return RunBar(
        run_id=run.id,
        name=run.name,
        tier=run.gpu_type,
        lane=None,
        status=view.status,
        outcome=last.outcome,
        progress=view.progress,
        epoch=view.epoch,
        epochs=run.plan.epochs,
        pipeline=run.pipeline_type,
        created_at=run.created_at,
        ended_at=run.completed_at if run.terminal else None,
        error=run.error_message,
        attempts=tuple(attempts) or (last,),
    )


def _ended(
    queued: float,
    started: float | None,
    at: float,
    outcome: str,
    cold: float,
    requeued: bool,
    held: float | None = None,
) -> Attempt:
    if started is not None:
        assigned: float | None = started - cold
    elif held is not None and queued <= held <= at:
        assigned = held  # ended in its cold start, on the worker it was given then
    else:
        # A requeued run takes the worker it freed at once; a first attempt that ended
        # before training began, with no worker recorded, was waiting.
        assigned = queued if requeued else None
    return Attempt(queued, assigned, started, at, outcome)


def _outcome(run: TrainingRun, status: str, started: float | None, at: float) -> str:
    if status != "failed":
        return status
    plan = run.plan
    # A failure the plan foresaw ends the run exactly at the plan's end; an injected
    # one strikes halfway through an earlier epoch.
    if (
        plan.outcome != "completed"
        and started is not None
        and abs(at - started - plan.running_seconds) < _SAME_INSTANT
    ):
        return plan.outcome
    return "injected"


def _lanes(bars: list[RunBar], workers: dict[str, int]) -> tuple[Lane, ...]:
    """Put each run on a worker lane of its tier: the lowest free when it was assigned."""
    lanes: list[Lane] = []
    for tier, count in workers.items():
        free_at = [float("-inf")] * count
        placed: list[list[RunBar]] = [[] for _ in range(count)]
        mine = [bar for bar in bars if bar.tier == tier]
        on_worker = sorted(
            (bar for bar in mine if _assigned(bar) is not None),
            key=lambda bar: _assigned(bar) or 0.0,
        )
        for bar in on_worker:
            begin = _assigned(bar)
            assert begin is not None
            end = bar.ended_at if bar.ended_at is not None else float("inf")
            fits = [i for i in range(count) if free_at[i] <= begin + _SAME_INSTANT]
            # The simulation never runs more than `count` at once; a loaded scenario
            # might, and then the run goes where the earliest one ended.
            lane = fits[0] if fits else min(range(count), key=lambda i: free_at[i])
            free_at[lane] = end
            placed[lane].append(_on_lane(bar, lane))
        waiting = [bar for bar in mine if _assigned(bar) is None]
        lanes.extend(Lane(tier, worker, tuple(placed[worker])) for worker in range(count))
        if waiting:
            lanes.append(Lane(tier, None, tuple(waiting)))
    return tuple(lanes)


def _assigned(bar: RunBar) -> float | None:
    return next((a.assigned_at for a in bar.attempts if a.assigned_at is not None), None)


def _on_lane(bar: RunBar, lane: int) -> RunBar:
    return replace(bar, lane=lane)


def _next_event(world: World, now: float) -> float | None:
    """Seconds until a live run next changes: training begins, or it ends."""
    soonest: float | None = None
    for run in world.runs.values():
        if run.terminal:
            continue
        for moment in (run.started_at, run.ends_at):
            if moment is not None and moment > now and (soonest is None or moment < soonest):
                soonest = moment
    return None if soonest is None else soonest - now


# ── credits ──


def ledger_kind(operation: str) -> str:
    """What a ledger entry does to the balance, in the words of the chart's legend."""
    if operation == "top_up":
        return "top-up"
    if "refund" in operation:
        return "refund"
    if operation.endswith("_per_minute"):
        return "pre-charge"
    return "charge"


def _balance(ledger: tuple[LedgerEntry, ...], spendable: int) -> tuple[BalancePoint, ...]:
    opening = ledger[0].balance_after - ledger[0].amount if ledger else spendable
    points = [BalancePoint(0.0, opening, 0, "opening", "", "opening balance")]
    points.extend(
        BalancePoint(
            entry.created_at,
            entry.balance_after,
            entry.amount,
            ledger_kind(entry.operation),
            entry.operation,
            entry.description,
        )
        for entry in ledger
    )
    return tuple(points)


def dollars(micro_usd: int) -> str:
    """``$12.34`` (``-$0.50``): micro-USD as the ledger table shows it."""
    sign = "-" if micro_usd < 0 else ""
    return f"{sign}${abs(micro_usd) / MICRO_USD:,.2f}"


def clock_text(seconds: float) -> str:
    """``+1h02m03s``: virtual seconds since the start, as the tables show them."""
    whole = round(seconds)
    hours, rest = divmod(abs(whole), 3600)
    minutes, secs = divmod(rest, 60)
    sign = "-" if whole < 0 else "+"
    return f"{sign}{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{sign}{minutes}m{secs:02d}s"


# ── the tables ──


def _run_row(bar: RunBar) -> Row:
    return Row(
        (
            bar.name,
            bar.tier,
            bar.status,
            f"{bar.progress}%",
            f"{bar.epoch}/{bar.epochs}",
            clock_text(bar.created_at),
            clock_text(bar.ended_at) if bar.ended_at is not None else "",
            bar.error or "",
        )
    )


def _models(world: World) -> tuple[Row, ...]:
    return tuple(
        Row(
            (
                model.name,
                model.status,
                model.pipeline_type,
                str(len(model.versions)),
                clock_text(model.created_at),
            )
        )
        for model in sorted(world.models.values(), key=lambda m: (m.created_at, m.id))
    )


def _datasets(world: World) -> tuple[Row, ...]:
    return tuple(
        Row((dataset.name, str(len(dataset.image_ids)), clock_text(dataset.created_at)))
        for dataset in sorted(world.datasets.values(), key=lambda d: (d.created_at, d.id))
    )


def _exports(world: World) -> tuple[Row, ...]:
    return tuple(
        Row(
            (
                export.dataset_name,
                export.name,
                export.status,
                str(export.image_count),
                clock_text(export.created_at),
            )
        )
        for export in sorted(world.exports.values(), key=lambda e: (e.created_at, e.id))
    )


def _deployments(world: World) -> tuple[Row, ...]:
    return tuple(
        Row(
            (
                deployment.name,
                deployment.model_name,
                deployment.status,
                deployment.gpu_type,
                clock_text(deployment.created_at),
            )
        )
        for deployment in sorted(world.deployments.deployments.values(), key=lambda d: d.seq)
    )


def _streams(world: World, now: float) -> tuple[Row, ...]:
    streams: Streams | None = world.built("streams")
    if streams is None:
        return ()
    endpoints: WorkflowEndpoints | None = world.built("workflow_endpoints")
    rows = []
    for view in streams.views(now):
        deployment = world.deployments.deployments.get(view.host_id)
        endpoint = endpoints.at(view.host_id) if endpoints is not None else None
        if deployment is not None:
            on = deployment.name
        elif endpoint is not None:
            on = world.workflows.workflows[endpoint.workflow_id].name
        else:
            on = "(deleted)"
        rows.append(
            Row(
                (
                    view.id,
                    on,
                    view.kind,  # never the camera's URL: it may hold a password
                    clock_text(view.opened_at),
                    f"{view.ended} at {clock_text(view.ended_at)}"
                    if view.ended is not None and view.ended_at is not None
                    else "",
                    str(view.frames_sent),
                )
            )
        )
    return tuple(rows)


def _webhooks(world: World) -> tuple[Row, ...]:
    counts: dict[str, int] = {}
    for delivery in world.webhooks.deliveries.values():
        counts[delivery.endpoint_id] = counts.get(delivery.endpoint_id, 0) + 1
    return tuple(
        Row(
            (
                endpoint.url,
                ", ".join(endpoint.event_types) or "all",
                "yes" if endpoint.enabled else "no",
                str(counts.get(endpoint.id, 0)),
                clock_text(endpoint.created_at),
            )
        )
        for endpoint in sorted(
            world.webhooks.endpoints.values(), key=lambda e: (e.created_at, e.id)
        )
    )
