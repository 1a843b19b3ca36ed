"""Soak benchmark: memory stays flat over a long session once the fake's caps fill.

Run with ``python benchmarks/bench_soak.py`` (100,000 requests per mode; ``--quick``:
10,000 with a 2,000-call journal and a faster clock, for CI). Two modes, each a fresh
world (``ready-to-train``) driven by the real SDK in rounds of mixed requests:

- a balance read and a dataset read (GETs);
- a training quote (a POST: the SDK sends an ``Idempotency-Key``, so every quote leaves
  a stored answer behind for 24 virtual hours);
- an image upload (signed upload URL, PUT, register), then its permanent delete;
- an image download (a signed URL, then its bytes).

``in process`` runs them on a ``FakePictograph``; ``server`` on ``pictograph-fake serve``
in a subprocess (RSS measured on that process only). Every 1,000 requests the virtual
clock moves on (an hour; 6 with ``--quick``), so idempotency answers (24 h), signed URLs
(an hour, forgotten a day after) and unregistered uploads expire, and the journal (10,000
calls) fills. The figure that matters is the RSS growth per 1,000 requests over the
second half of the run, when every cap is full: about zero.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pictograph
from PIL import Image as PILImage

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_server import serving
from tables import markdown_table

from pictograph_testing import FakePictograph
from pictograph_testing.journal import JOURNAL_LIMIT

if TYPE_CHECKING:
    from collections.abc import Callable

DATASET, EXPORT = "road-signs", "road-signs-v1"
CHECKPOINT = 1000
"""Requests between two RSS readings (and two clock moves)."""


def rss_kib(pid: int | str = "self") -> int:
    """The resident set size of a process, in KiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc: this benchmark needs Linux")


def one_round(client: pictograph.Client, image: Path, out: Path) -> None:
    """One round of mixed calls through the real SDK (about a dozen requests)."""
    client.credits.balance()
    client.datasets.get(DATASET)
    client.training.quote(DATASET, EXPORT, pipeline_type="yolox")
    uploaded = client.images.upload(DATASET, image, directory_path="/soak")
    client.images.delete(DATASET, uploaded.id, permanent=True)
    first = client.images.list(DATASET, limit=1)[0]
    client.images.download(DATASET, first.id, out)


def soak(
    client: pictograph.Client,
    requests: int,
    answered: Callable[[], int],
    advance_hours: Callable[[float], object],
    rss: Callable[[], int],
    hours_per_checkpoint: float,
    workdir: Path,
) -> list[tuple[int, int]]:
    """Run rounds until ``requests`` were answered; return (requests, RSS KiB) readings."""
    image = workdir / "soak.png"
    PILImage.new("RGB", (64, 48), (200, 30, 30)).save(image)
    out = workdir / "down.bin"
    readings = [(answered(), rss())]
    next_checkpoint = CHECKPOINT
    while True:
        one_round(client, image, out)
        done = answered()
        if done >= next_checkpoint:
            advance_hours(hours_per_checkpoint)
            gc.collect()
            readings.append((done, rss()))
            next_checkpoint += CHECKPOINT
            if done >= requests:
                return readings


def in_process(
    requests: int, hours: float, journal_limit: int, workdir: Path
) -> list[tuple[int, int]]:
    with (
        FakePictograph(scenario="ready-to-train", journal_limit=journal_limit) as fake,
        fake.client(max_retries=0) as client,
    ):
        readings = soak(
            client,
            requests,
            lambda: fake.api.journal.total,
            lambda h: fake.clock.advance(hours=h),
            rss_kib,
            hours,
            workdir,
        )
        print(
            f"  caps at the end: journal {len(fake.calls):,} kept, {fake.calls.dropped:,} "
            f"dropped; idempotency {len(fake.api.idempotency):,} answers; "
            f"storage {fake.world.storage.held():,} URLs and uploads; "
            f"{len(fake.world.images):,} images",
            # Beside the figures, not in them: --markdown's output is the page's section.
            file=sys.stderr,
        )
    return readings


def over_the_server(
    requests: int, hours: float, journal_limit: int, workdir: Path
) -> list[tuple[int, int]]:
    with contextlib.ExitStack() as stack:
        served = serving("--journal-limit", str(journal_limit))
        base_url, key, control_key, pid = stack.enter_context(served)
        control = stack.enter_context(
            httpx.Client(
                base_url=f"{base_url}/_fake",
                headers={"X-Fake-Control-Key": control_key, "Content-Type": "application/json"},
            )
        )
        client = stack.enter_context(
            pictograph.Client(api_key=key, base_url=base_url, max_retries=0)
        )

        def answered() -> int:
            return int(control.get("/").json()["calls"])

        def advance(h: float) -> None:
            control.post("/clock/advance", json={"hours": h}).raise_for_status()

        return soak(client, requests, answered, advance, lambda: rss_kib(pid), hours, workdir)


HEADING = "Soak"
"""The section this script writes in docs/benchmarks.md (``--markdown``)."""


def _per_thousand(a: tuple[int, int], b: tuple[int, int]) -> float:
    """RSS growth in KiB per 1,000 requests between two readings."""
    return (b[1] - a[1]) * CHECKPOINT / max(1, b[0] - a[0])


def markdown_row(label: str, readings: list[tuple[int, int]], seconds: float) -> list[str]:
    """One mode's figures as a row of the table in docs/benchmarks.md."""
    first, mid, last = readings[0], readings[len(readings) // 2], readings[-1]
    return [
        label,
        f"{first[1] / 1024:.1f} → {last[1] / 1024:.1f} MiB",
        f"{_per_thousand(first, mid):+,.0f} KiB",
        f"{_per_thousand(mid, last):+,.0f} KiB",
        f"{last[0] / seconds:,.0f} req/s",
    ]


def markdown(rows: list[list[str]], *, requests: int, hours: float, journal: int) -> str:
    """The figures as the section of docs/benchmarks.md."""
    return "\n\n".join(
        [
            f"## {HEADING}",
            "`python benchmarks/bench_soak.py` drives a `ready-to-train` world with the real "
            f"SDK for {requests:,} requests in process and {requests:,} against "
            "`pictograph-fake serve` in a subprocess, in rounds of mixed calls: a balance and "
            "a dataset read, a training quote (a POST with an `Idempotency-Key`, whose answer "
            "is stored), an image upload through a signed URL and its permanent delete, and "
            f"an image download through a signed URL. Every {CHECKPOINT:,} requests it reads "
            "the resident set size (of the server's process, in server mode) and moves the "
            f"virtual clock on {hours:g} hour(s), so that idempotency answers (24 h), signed "
            f"URLs and the journal ({journal:,} calls) reach their caps "
            "([limits](reliability.md#limits)). The figure to read is RSS growth per 1,000 "
            "requests once the caps are full (the second half).",
            markdown_table(
                (
                    f"{requests:,} requests a mode",
                    "RSS",
                    "growth per 1,000 requests, first half",
                    "second half",
                    "rate",
                ),
                rows,
            ),
        ]
    )


def report(label: str, readings: list[tuple[int, int]], seconds: float) -> None:
    total = readings[-1][0]
    print(f"{label}: {total:,} requests in {seconds:.1f} s ({total / seconds:,.0f} req/s)")
    step = max(1, len(readings) // 10)
    shown = readings[::step]
    if shown[-1] != readings[-1]:
        shown.append(readings[-1])
    print("  " + "  ".join(f"{n // 1000:>4}k:{kib / 1024:6.1f}MiB" for n, kib in shown))
    middle = len(readings) // 2
    first, mid, last = readings[0], readings[middle], readings[-1]
    print(
        f"  RSS growth per 1,000 requests: {_per_thousand(first, mid):+.1f} KiB while the caps "
        f"fill (first half), {_per_thousand(mid, last):+.1f} KiB after (second half: "
        f"{(last[1] - mid[1]) / 1024:+.1f} MiB over {last[0] - mid[0]:,} requests)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="10,000 requests a mode, smaller caps (for CI)"
    )
    parser.add_argument("--mode", choices=("both", "in-process", "server"), default="both")
    parser.add_argument(
        "--markdown", action="store_true", help="print the section of docs/benchmarks.md"
    )
    args = parser.parse_args()
    # --quick fills every cap within its first third: a 2,000-call journal, 12 virtual
    # hours per 1,000 requests (idempotency answers expire after two readings).
    requests, hours, journal = (
        (10_000, 12.0, 2_000) if args.quick else (100_000, 1.0, JOURNAL_LIMIT)
    )
    if not args.markdown:
        print(
            f"soak: {requests:,} mixed SDK requests per mode; the clock moves {hours:g} virtual "
            f"hours every {CHECKPOINT:,} requests; the journal keeps {journal:,} calls"
        )
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        runs: list[tuple[str, Callable[[int, float, int, Path], list[tuple[int, int]]]]] = []
        if args.mode in ("both", "in-process"):
            runs.append(("in process", in_process))
        if args.mode in ("both", "server"):
            runs.append(("server", over_the_server))
        for label, run in runs:
            started = time.perf_counter()
            readings = run(requests, hours, journal, workdir)
            seconds = time.perf_counter() - started
            if args.markdown:
                rows.append(markdown_row(label, readings, seconds))
            else:
                report(label, readings, seconds)
    if args.markdown:
        print(markdown(rows, requests=requests, hours=hours, journal=journal))


if __name__ == "__main__":
    main()
