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
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tables import markdown_table

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

PerCall = dict[str, float]
"""One client's events per call, by the names of :data:`EVENTS`."""

_IDLE = "idle"
_WARM_UP = 300


def drive(calls: int) -> None:
    """Set up, warm up, and fork a child per client (and an idle one); print which
    process id counted which client, as JSON."""
    from bench_core import _world, polled_clients

    children: dict[str, int] = {}
    with _world() as fake:
        run_id, polled = polled_clients(fake)
        clients = {way: polled[way] for way in WAYS}
        for sdk in clients.values():
            for _ in range(_WARM_UP):
                sdk.training.get(run_id=run_id)
        for way in (_IDLE, *clients):
            child = os.fork()
            if child == 0:
                gc.collect()
                if way != _IDLE:
                    sdk = clients[way]
                    for _ in range(calls):
                        sdk.training.get(run_id=run_id)
                # No interpreter shutdown: the children differ only in their calls.
                os._exit(0)
            os.waitpid(child, 0)
            children[way] = child
    print(json.dumps(children))


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
    """Each client's events per call: its child's counts less the idle child's."""
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
    idle = counted[_IDLE]
    return {
        way: {event: (counted[way][event] - idle[event]) / calls for event in EVENTS}
        for way in WAYS
    }


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
        ]
    )


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


if __name__ == "__main__":
    main()
