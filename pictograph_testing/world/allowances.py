"""The monthly allowance: it resets at the start of every calendar month (UTC).

An organization's spendable balance is its plan's allowance plus its overage budget
plus its ledger. When a month begins, what it spent of those in the month before comes
back as one positive ``monthly_reset`` entry dated at midnight UTC on the first, so the
period starts whole again (``credits.balance``'s ``period_start`` and
``credits_reset_at`` are these same boundaries). An organization that spent nothing
gets no entry.

Each month's start is an event on the world's agenda, spent or not, from the first
catch-up that has anything to do (or the first debit, whichever builds this first): a
debit posted while another service catches up (a deployment's meter across a long clock
move) must find the next boundary already planned, or that service would run past it
before the reset is posted.

A month's start comes before anything dated at it or after: an entry posted at or past a
start not yet reset (a deployment's meter catching up across it, its tick falling on
midnight) has the reset posted first, so it counts in the new period however the clock
was moved. A ledger loaded as it was (a scenario's, a snapshot's) holds its own months'
resets: the first start after its last entry is the next to reset, even where the world
loaded it with its clock past that start (a snapshot loaded with another ``start``).

A pre-charge of a run still under way is not given back: it is held for the run, whose
own refund returns the part it did not use when it ends. Giving it back at the reset too
would return that part twice and lift the balance above the allowance and budget.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pictograph_testing.world.state import World

__all__ = ["MONTHLY_RESET", "MonthlyResets", "month_start", "next_month_start"]

MONTHLY_RESET = "monthly_reset"
"""The ledger operation of the allowance coming back at a month's start."""


def month_start(moment: datetime) -> datetime:
    """Midnight UTC on the first of ``moment``'s month: the billing period it falls in."""
    utc = moment.astimezone(timezone.utc)
    return datetime(utc.year, utc.month, 1, tzinfo=timezone.utc)


def next_month_start(moment: datetime) -> datetime:
    """Midnight UTC on the first of the month after ``moment``'s: when the period resets."""
    start = month_start(moment)
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return datetime(year, month, 1, tzinfo=timezone.utc)


class MonthlyResets:
    """Give every organization that spent its allowance back when a month begins."""

    def __init__(self, world: World) -> None:
        self._world = world
        # Insertion-ordered (not a set): the entries of one boundary are posted, and their
        # ids drawn, in the order the organizations first spent, whatever the hash seed.
        self._spent: dict[str, None] = {}
        # The first month start after the world was last known quiet: its next event if
        # one is due (built by a catch-up, that is where it starts), else the clock.
        quiet = min(world.agenda.due, world.clock.monotonic())
        self._next = self._boundary_after(max(quiet, 0.0))
        world.agenda.expect(self._next)
        self._planned = self._next
        """The first start planned when built: a loaded ledger never moves the next later."""
        self._resetting = False
        self._loaded_until: float | None = None

    @property
    def next_event(self) -> float:
        """The next month's start."""
        return self._next

    def spent(self, organization_id: str) -> None:
        """Note that an organization's balance went below its allowance: the next month
        start gives it back (the boundary is planned already, see the module)."""
        self._spent[organization_id] = None

    def moved(self, old_id: str, new_id: str) -> None:
        """An organization now goes by ``new_id`` (see ``World.replace_organization``)."""
        if old_id in self._spent:
            del self._spent[old_id]
            self._spent[new_id] = None

    def period(self) -> tuple[float, float]:
        """The billing period the ledger is in (caught up to the clock): its start and
        when it resets, in virtual seconds; what ``credits.balance`` reports, so its
        ``period_start`` never runs ahead of the reset (a clock a hair short of midnight
        reads as midnight to the microsecond)."""
        clock = self._world.clock
        resets_at = clock.start + timedelta(seconds=self._next)
        begins = month_start(resets_at - timedelta(days=1))
        return (begins - clock.start).total_seconds(), self._next

    def reach(self, at: float) -> None:
        """Reset at the month starts up to ``at`` before an entry dated ``at`` is posted
        (see the module): a service catching up posts in time order, this first."""
        if self._next <= at and not self._resetting:
            self.advance_to(at)

    def loaded(self, at: float) -> None:
        """A ledger entry dated ``at`` was loaded as it was: the month starts up to it are
        the document's own history, so the next to reset is the first after the last."""
        last = at if self._loaded_until is None else max(self._loaded_until, at)
        self._loaded_until = last
        self._next = min(self._boundary_after(last), self._planned)
        self._world.agenda.expect(self._next)

    def advance_to(self, now: float) -> None:
        """Reset every organization that spent, at each month's start up to ``now``."""
        self._resetting = True
        try:
            self._reset_up_to(now)
        finally:
            self._resetting = False

    def _reset_up_to(self, now: float) -> None:
        world = self._world
        billing = world.billing
        while self._next <= now:
            at = self._next
            billing.carry_holds(at)
            spent, self._spent = self._spent, {}
            for organization_id in spent:
                org = world.organizations.get(organization_id)
                if org is None:
                    continue
                whole = org.allowance_micro_usd + org.budget_micro_usd
                back = whole - billing.spendable(org) - billing.held(org.id)
                if back > 0:
                    billing.post(
                        org,
                        MONTHLY_RESET,
                        back,
                        description="Monthly allowance reset",
                        at=at,
                    )
                if billing.spendable(org) < whole:
                    # Still below (a pre-charge held across the boundary): the run's
                    # refund may not make it whole, so the next month looks again.
                    self._spent[organization_id] = None
            # Planned whether or not anyone has spent since (see the module).
            self._next = self._boundary_after(at)

    def _boundary_after(self, at: float) -> float:
        clock = self._world.clock
        moment = clock.start + timedelta(seconds=at)
        return (next_month_start(moment) - clock.start).total_seconds()
