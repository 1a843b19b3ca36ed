"""Instruction benchmark: the fake's per-call cost counted, not timed, under cachegrind.

Run with ``python benchmarks/bench_instructions.py`` (``--quick`` for fewer calls;
``--markdown`` prints the section of ``docs/benchmarks.md``). Needs ``valgrind`` (Debian's
package; ``scripts/bench_instructions.sh`` installs it with apt-get when it is missing).

The CPU-time ratio of ``bench_core.py`` is the target's figure, but on a shared virtual
machine it moves by several hundredths from run to run. Counts move by well under a
percent (memory layout and the hash seed differ between runs; the ratios agree to the
third decimal), and not at all with what else the machine is doing. One process under
cachegrind sets up ``bench_core``'s world and its three clients (the hand-over floor,
the fake's bookkeeping alone, the fake), warms each up, then forks a child per client
and one that makes no call: each child polls a running run ``calls`` times with its
client and exits, so its counts less the idle child's, divided by ``calls``, are what
one ``client.training.get`` costs, SDK and all: instructions, first-level instruction
and data cache misses, and mispredicted branches (cachegrind's simulated caches and
predictor, not this machine's).

It also splits the fake's own work (its count less the floor's) into the steps of its
answer (:data:`PIECES`): a child per step calls that step alone ``calls`` times, on the
request and the ``Call`` of a real poll, and its counts less those of a child that calls a
do-nothing function as often are the step's. Two steps are layers, counted less what they
call (:data:`LAYERS`): the transport (less the floor's and the API's answer) and the
handing back of the answer. What the steps leave is the routing, the lock and the calls
between them.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tables import markdown_table

if TYPE_CHECKING:
    import httpx
    import pictograph

    from pictograph_testing import FakePictograph
    from pictograph_testing.api.wire import Call, Reply

HERE = Path(__file__).resolve().parent

HEADING = "Instructions: the per-call cost counted under cachegrind"
"""The section this script writes in docs/benchmarks.md (``--markdown``)."""

WAYS = {
    "hand_over": "hand-over floor",
    "bookkeeping": "the fake's bookkeeping alone",
    "fake": "the fake",
}
"""The clients counted (as ``bench_core`` builds them), in the table's order."""

EVENTS = {
    "Ir": "instructions",
    "I1mr": "L1 instruction misses",
    "D1": "L1 data misses",
    "Bm": "mispredicted branches",
}
"""What is reported per call: cachegrind's events, the data misses summed over reads
and writes, the mispredicts over conditional and indirect branches."""

PIECES = {
    "transport": (
        "the transport: target and header map read, the new target string hashed, "
        "response built (beyond the floor's)"
    ),
    "request_id": "the request id",
    "catch_up": "the world caught up to the clock",
    "authenticate": "the API key let in",
    "call": "the `Call` the handler gets",
    "find": "the run found by its id",
    "run_reply": "the running run's reply, encoded (its snapshot and `Reply` too)",
    "journal": "the journal entry",
    "response": "the status, headers and body handed back",
}
"""The steps of the fake's answer to a poll, in the order a request takes them (see
:func:`pieces`); what they leave of the fake's own work is the routing, the lock and the
calls between them."""

LAYERS = {
    "transport": ("fake_transport", ("floor_transport", "handle")),
    "response": ("handle", ("locked",)),
}
"""The steps counted as one layer of the answer less what it calls: the fake's transport
less the floor's and the API's ``handle``; ``handle`` less the locked answer inside it.
Every other step is a call of its own."""

PerCall = dict[str, float]
"""One client's (or piece's) events per call, by the names of :data:`EVENTS`."""

_IDLE = "idle"
_NOTHING = "nothing"
"""A child that calls a function that does nothing, as often as a piece is called: what
each piece's counts are less (the loop and the call), where a client's are less the
idle child's."""
_WARM_UP = 300

Step = Callable[[], object]
"""One thing a child does ``calls`` times: a client's poll, or one piece of the fake's."""


def pieces(
    fake: FakePictograph, run_id: str, polled: dict[str, pictograph.Client]
) -> dict[str, Step]:
    """A call per step of :data:`PIECES` (and per layer :data:`LAYERS` reads), each doing
    that alone for ``GET training/{run_id}``, on the request and the ``Call`` the fake's
    own client sends and makes (``polled``: :func:`bench_core.polled_clients`'s)."""
    # Imported here, as bench_core is: the process that runs cachegrind needs neither.
    from pictograph_testing.api.training import run_reply
    from pictograph_testing.api.wire import Call
    from pictograph_testing.transport import FakeTransport

    transport = polled["fake"]._transport._client._transport
    assert isinstance(transport, FakeTransport)
    floor = polled["hand_over"]._transport._client._transport
    api = fake.api
    requests: list[httpx.Request] = []
    calls: list[Call] = []

    def kept_request(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return FakeTransport.handle_request(transport, request)

    transport.handle_request = kept_request  # type: ignore[method-assign]
    polled["fake"].training.get(run_id=run_id)
    del transport.handle_request
    request = requests[0]
    target = transport._target(request)
    # The API looks headers up by lower-case name, as in the transport's own map.
    headers = dict(request.headers)
    slot = ("GET", target, headers.get("user-agent"))
    routed = api._routed[slot]
    path, sdk, dialect, ((served, path_args),) = routed

    def kept_call(call: Call) -> Reply:
        calls.append(call)
        return served(call)

    api._routed[slot] = (path, sdk, dialect, ((kept_call, path_args),))
    polled["fake"].training.get(run_id=run_id)
    api._routed[slot] = routed
    call = calls[0]
    world = call.world
    run = world.runs[run_id]
    answer = run_reply(call, run)
    steps: dict[str, Step] = {
        "fake_transport": functools.partial(transport.handle_request, request),
        "floor_transport": functools.partial(floor.handle_request, request),
        "handle": functools.partial(api.handle, "GET", target, headers, b""),
        "locked": functools.partial(api._locked, "GET", target, headers, b"", None),
        "request_id": api._request_id,
        "catch_up": world.catch_up,
        "authenticate": functools.partial(world.authenticate, headers["x-api-key"], call.now),
        "call": functools.partial(
            Call,
            call.method,
            call.path_args,
            call.raw_query,
            call.body,
            call.key,
            world,
            call.now,
            call.base_url,
            call.cache,
            call.sdk,
            call.client,
        ),
        "find": functools.partial(world.training.find, call.key, run_id),
        "run_reply": functools.partial(run_reply, call, run),
        "journal": functools.partial(
            api._journal, "GET", target, b"", answer, None, "req_0000000000000001"
        ),
    }
    counted = set(PIECES) - set(LAYERS) | {
        n for whole, less in LAYERS.values() for n in (whole, *less)
    }
    assert steps.keys() == counted
    return steps


def drive(calls: int) -> None:
    """Set up, warm up, and fork a child per client, per piece, and an idle one and one
    that calls nothing; print which process id counted which, as JSON."""
    from bench_core import _world, polled_clients

    children: dict[str, int] = {}
    with _world() as fake:
        run_id, polled = polled_clients(fake)
        clients = {way: polled[way] for way in WAYS}
        steps = pieces(fake, run_id, polled)
        steps[_NOTHING] = _nothing
        for sdk in clients.values():
            for _ in range(_WARM_UP):
                sdk.training.get(run_id=run_id)
        for step in steps.values():
            for _ in range(_WARM_UP):
                step()
        for name in (_IDLE, *clients, *steps):
            child = os.fork()
            if child == 0:
                gc.collect()
                if name in clients:
                    sdk = clients[name]
                    for _ in range(calls):
                        sdk.training.get(run_id=run_id)
                elif name in steps:
                    step = steps[name]
                    for _ in range(calls):
                        step()
                # No interpreter shutdown: the children differ only in their calls.
                os._exit(0)
            os.waitpid(child, 0)
            children[name] = child
    print(json.dumps(children))


def _nothing() -> None:
    return None


def _totals(out: Path) -> dict[str, int]:
    """One cachegrind output file's totals, summed as :data:`EVENTS` names them."""
    names: list[str] = []
    totals: list[int] = []
    for line in out.read_text().splitlines():
        if line.startswith("events:"):
            names = line.split()[1:]
        elif line.startswith("summary:"):
            totals = [int(value) for value in line.split()[1:]]
    raw = dict(zip(names, totals, strict=True))
    return {
        "Ir": raw["Ir"],
        "I1mr": raw["I1mr"],
        "D1": raw["D1mr"] + raw["D1mw"],
        "Bm": raw["Bcm"] + raw["Bim"],
    }


def count(calls: int) -> dict[str, PerCall]:
    """Each client's and step's events per call: a client's child's counts less the idle
    child's, a step's less those of the child that calls nothing (a layer's, of
    :data:`LAYERS`, less those of what it calls as well)."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit(
            "valgrind is not installed: `apt-get install valgrind` (Debian's package), or "
            "run scripts/bench_instructions.sh, which does"
        )
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent), str(HERE)])}
    with tempfile.TemporaryDirectory() as scratch:
        done = subprocess.run(
            [
                valgrind,
                "--tool=cachegrind",
                "--cache-sim=yes",
                "--branch-sim=yes",
                f"--cachegrind-out-file={scratch}/cachegrind.%p",
                sys.executable,
                str(Path(__file__).resolve()),
                "--drive",
                str(calls),
            ],
            capture_output=True,
            text=True,
            env=environment,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"cachegrind failed (exit {done.returncode}):\n{done.stderr}")
        children: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
        counted = {
            way: _totals(Path(scratch) / f"cachegrind.{pid}") for way, pid in children.items()
        }
    per_call = {
        name: {
            event: (counted[name][event] - counted[_IDLE if name in WAYS else _NOTHING][event])
            / calls
            for event in EVENTS
        }
        for name in counted
        if name not in (_IDLE, _NOTHING)
    }
    for step, (whole, less) in LAYERS.items():
        per_call[step] = {
            event: per_call[whole][event] - sum(per_call[name][event] for name in less)
            for event in EVENTS
        }
    return per_call


def _ratio(counted: dict[str, PerCall], way: str, event: str) -> float:
    return counted[way][event] / counted["hand_over"][event]


def markdown(counted: dict[str, PerCall], calls: int) -> str:
    """The figures as the section of docs/benchmarks.md."""
    rows = []
    for event, label in EVENTS.items():
        floor = counted["hand_over"][event]
        rows.append(
            [
                label,
                f"{floor:,.0f}",
                f"{counted['bookkeeping'][event]:,.0f} "
                f"({_ratio(counted, 'bookkeeping', event):.3f}x)",
                f"{counted['fake'][event]:,.0f} (**{_ratio(counted, 'fake', event):.3f}x**)",
            ]
        )
    own = counted["fake"]["Ir"] - counted["hand_over"]["Ir"]
    kept = counted["bookkeeping"]["Ir"] - counted["hand_over"]["Ir"]
    return "\n\n".join(
        [
            f"## {HEADING}",
            "`python benchmarks/bench_instructions.py`: one process under cachegrind sets "
            "up the core benchmark's world and its three clients (the hand-over floor, the "
            "fake's bookkeeping alone, the fake) and warms each up, then forks a child per "
            f"client, which polls a running run {calls:,} times, and one that makes no "
            "call. A client's counts less the idle child's, per call, are one "
            "`training.get`, SDK and all. Counts move by under a percent from run to run "
            "(the ratios agree to the third decimal) and not with the machine's load, "
            "where times do; the caches and branch predictor are "
            "cachegrind's simulated ones, not this machine's.",
            markdown_table(
                ("per call", WAYS["hand_over"], WAYS["bookkeeping"], WAYS["fake"]), rows
            ),
            f"The fake's own work is {own:,.0f} instructions a call, {kept:,.0f} of them "
            "its bookkeeping (transport, lock, request id, journal, response). Against the "
            f"floor its instructions rise {_ratio(counted, 'fake', 'Ir') - 1:.1%} and its "
            f"misses of the instruction cache {_ratio(counted, 'fake', 'I1mr') - 1:.1%}: "
            "code the SDK does not run must be fetched into the cache on every call, and a "
            "time ratio pays for those misses as well as for the instructions.",
            "Each step of the fake's answer, counted alone: another child per step calls "
            f"it {calls:,} times on the request and the `Call` of a poll, less a child that "
            "calls a function that does nothing as often; the transport is the fake's less "
            "the floor's and less the API's answer, and the response is the API's answer "
            "less the part of it under the lock. Alone, a step's code does not share the "
            "cache with the SDK's, so only its instructions are shown. The rest of the "
            "fake's own work is what the steps leave: routing, the lock, and the calls "
            "between them. (The API's answer is counted on one target string, whose hash "
            "Python then keeps; a request's target is a new string, hashed once to route "
            "it, which the transport's row holds.)",
            markdown_table(("step", "instructions", "of the fake's own work"), _step_rows(counted)),
        ]
    )


def _steps(counted: dict[str, PerCall]) -> list[tuple[str, float]]:
    """Each step's label and instructions, then the rest's, then the fake's own work in
    all (its count less the floor's), which they add up to."""
    own = counted["fake"]["Ir"] - counted["hand_over"]["Ir"]
    steps = [(label, counted[name]["Ir"]) for name, label in PIECES.items()]
    steps.append(("the rest: routing, the lock, the calls between", own - sum(n for _, n in steps)))
    steps.append(("the fake's own work", own))
    return steps


def _step_rows(counted: dict[str, PerCall]) -> list[list[str]]:
    """The steps' rows of the markdown: instructions, and their share of the own work."""
    *steps, (total, own) = _steps(counted)
    rows = [[label, f"{n:,.0f}", f"{n / own:.0%}"] for label, n in steps]
    rows.append([f"**{total}**", f"**{own:,.0f}**", "100%"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls (for CI)")
    parser.add_argument(
        "--markdown", action="store_true", help="print the section of docs/benchmarks.md"
    )
    parser.add_argument("--drive", type=int, metavar="CALLS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive is not None:
        drive(args.drive)
        return
    calls = 1000 if args.quick else 3000
    counted = count(calls)
    if args.markdown:
        print(markdown(counted, calls))
        return
    print("pictograph-testing instruction benchmark (cachegrind, per training.get call)")
    for event, label in EVENTS.items():
        figures = ", ".join(
            f"{WAYS[way]} {counted[way][event]:,.0f}"
            + ("" if way == "hand_over" else f" ({_ratio(counted, way, event):.3f}x)")
            for way in WAYS
        )
        print(f"  {label}: {figures}")
    print("  the fake's own work, step by step (instructions):")
    steps = _steps(counted)
    own = steps[-1][1]
    for label, n in steps:
        print(f"    {label}: {n:,.0f} ({n / own:.0%})")


if __name__ == "__main__":
    main()
