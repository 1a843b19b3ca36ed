"""Server benchmark: the offline server's sustained request rate for ``training.get``.

Run with ``python benchmarks/bench_server.py`` (``--quick`` for fewer calls; CI runs
that). It starts ``pictograph-fake serve --port 0 --speed 0`` as a subprocess on
127.0.0.1 (the server on one core, this client on the other: a 2-core machine's fair
split), starts a run and lets it reach ``running``, then polls it sequentially over one
keep-alive connection:

- with the real SDK: ``pictograph.Client(base_url=...).training.get(run_id=...)``, which
  parses every answer into a ``TrainingRun``;
- with a plain ``httpx.Client``: the same ``GET``, body read but not parsed (the floor a
  client can reach over loopback).

Every loop is bounded (a fixed number of calls); the server stops when the benchmark
ends, whatever happens. Figures are requests per second, median of the rounds.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import httpx
import pictograph
from tables import markdown_table

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

DEV = "/api/v1/developer"
START_TIMEOUT = 30.0


class Served(NamedTuple):
    """A server running in a subprocess, as it printed itself at start."""

    base_url: str
    api_key: str
    control_key: str
    pid: int


@contextlib.contextmanager
def serving(*options: str) -> Iterator[Served]:
    """Run the server in a subprocess (``options`` added to its command line)."""
    script = Path(sys.executable).parent / "pictograph-fake"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "pictograph_testing.cli"]
    process = subprocess.Popen(
        [
            *command,
            "serve",
            "--port",
            "0",
            "--speed",
            "0",
            "--scenario",
            "ready-to-train",
            *options,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        printed = {}
        for _ in range(5):  # the five lines it prints at start; "" if it died
            name, _, value = (
                process.stdout.readline().strip().removeprefix("export ").partition("=")
            )
            printed[name] = value
        base_url, key = printed["PICTOGRAPH_BASE_URL"], printed["PICTOGRAPH_API_KEY"]
        control_key = printed["PICTOGRAPH_FAKE_CONTROL_KEY"]
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base_url}/_fake/clock").status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer at {base_url}")
            time.sleep(0.05)
        yield Served(base_url, key, control_key, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _rate(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return calls / (time.perf_counter() - start)


def bench(rounds: int, calls: int) -> dict[str, float]:
    """Median requests per second with the real SDK and with a plain keep-alive client."""
    with contextlib.ExitStack() as stack:
        base_url, key, control_key, _ = stack.enter_context(serving())
        client = stack.enter_context(
            pictograph.Client(api_key=key, base_url=base_url, max_retries=0)
        )
        plain = stack.enter_context(httpx.Client(base_url=base_url, headers={"X-API-Key": key}))
        run = client.training.create(
            "road-signs", "road-signs-v1", pipeline_type="yolox", name="bench", wait=False
        )
        plain.post(
            "/_fake/clock/advance",
            json={"minutes": 3},
            headers={"X-Fake-Control-Key": control_key},
        )
        assert client.training.get(run_id=run.id).status == "running"
        path = f"{DEV}/training/{run.id}"

        def sdk_get() -> object:
            return client.training.get(run_id=run.id)

        def plain_get() -> object:
            answer = plain.get(path)
            answer.raise_for_status()
            return answer.content

        for fn in (sdk_get, plain_get):
            _rate(fn, max(1, calls // 10))  # warm up the connections
        sdk_rates, plain_rates = [], []
        for _ in range(rounds):  # interleaved, so drift hits both alike
            sdk_rates.append(_rate(sdk_get, calls))
            plain_rates.append(_rate(plain_get, calls))
    return {"sdk": statistics.median(sdk_rates), "plain": statistics.median(plain_rates)}


def _parser() -> str:
    try:
        import httptools  # type: ignore[import-not-found,unused-ignore]  # noqa: F401
    except ImportError:
        return "h11 (pure Python; `pip install httptools` is faster)"
    return "httptools"


HEADING = "The offline server"
"""The section this script writes in docs/benchmarks.md (``--markdown``)."""


def markdown(figures: dict[str, float], *, rounds: int, calls: int) -> str:
    """The figures as the section of docs/benchmarks.md."""
    rows = [
        [
            "the real SDK (`pictograph.Client(base_url=...)`, each answer parsed into a "
            "`TrainingRun`)",
            f"{figures['sdk']:,.0f} req/s",
            f"{1e6 / figures['sdk']:,.0f} µs",
        ],
        [
            "a plain keep-alive `httpx.Client` (body read, not parsed)",
            f"{figures['plain']:,.0f} req/s",
            f"{1e6 / figures['plain']:,.0f} µs",
        ],
    ]
    return "\n\n".join(
        [
            f"## {HEADING}",
            "`python benchmarks/bench_server.py` starts `pictograph-fake serve --port 0 "
            "--speed 0` as a subprocess on 127.0.0.1 (the server on one core, the client on "
            "the other), lets a run reach `running`, and polls it sequentially over one "
            f"keep-alive connection, interleaving the two clients: the median of {rounds} "
            f"rounds of {calls:,} calls. Server: uvicorn with the {_parser()} HTTP parser. "
            f"The SDK's share of each call: {1 - figures['sdk'] / figures['plain']:.0%}; "
            "nearly all the rest is HTTP on both sides. The listening socket is made with "
            "`IPPROTO_TCP` so that asyncio sets `TCP_NODELAY` on each connection (without "
            "it every answer waited for a delayed ACK).",
            markdown_table(("`training.get` over loopback", "sustained rate", "per call"), rows),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls (for CI)")
    parser.add_argument(
        "--markdown", action="store_true", help="print the section of docs/benchmarks.md"
    )
    args = parser.parse_args()
    rounds, calls = (3, 300) if args.quick else (5, 2000)
    figures = bench(rounds, calls)
    if args.markdown:
        print(markdown(figures, rounds=rounds, calls=calls))
        return
    print(f"server: uvicorn, HTTP parser {_parser()}; {rounds} rounds x {calls} calls, loopback")
    for label, key in (
        ("training.get with the real SDK", "sdk"),
        ("GET with a plain keep-alive httpx", "plain"),
    ):
        rate = figures[key]
        print(f"  {label:<36} {rate:>7.0f} req/s  ({1e6 / rate:>5.0f} µs per call)")
    print(f"  the SDK's share of each call: {1 - figures['sdk'] / figures['plain']:.0%}")


if __name__ == "__main__":
    main()
