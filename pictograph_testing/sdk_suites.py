"""Run the SDK's own live, e2e and contract suites, unmodified, against a served fake.

The SDK's source distribution ships ``tests/live`` and ``tests/e2e`` (written for the
production API: a key in ``PICTOGRAPH_TEST_KEY``, a base URL in
``PICTOGRAPH_TEST_BASE_URL``) and ``tests/contract`` (every request the SDK would send,
bound against the route snapshot ``PICTOGRAPH_REST_ROUTES_SNAPSHOT`` names).
``scripts/sdk_suites.sh`` fetches the pinned release's sdist and calls :func:`main`,
which

* picks the live and e2e files whose SDK calls the fake all serves (read from each file's
  ``client.<resource>.<method>(`` calls and its folder's ``conftest.py``, judged by
  :func:`pictograph_testing.fidelity.verdicts`, which the route table drives),
* writes the route snapshot (:func:`pictograph_testing.fidelity.routes_snapshot`),
* starts ``pictograph-fake serve`` on a free loopback port for each xdist worker (tests
  of one worker never see what another's create), and
* runs one pytest over the sdist with this module as a plugin: it leaves out the
  contract's requests from methods the fake does not serve, and marks the SDK's tests
  that fail against the API too as strict expected failures (:data:`STALE`).

The exit status is pytest's: a failing test fails the run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pytest

__all__ = ["STALE", "Selection", "Stale", "main", "sdk_calls", "select_files", "served_methods"]

SUITES = ("tests/live", "tests/e2e")
"""The sdist's folders of tests against a running API."""

_BASE_URLS = "PICTOGRAPH_SUITES_BASE_URLS"
"""The servers' base URLs, one per xdist worker, space-separated."""
PROFILE = "current"
"""The API as served to the newest SDK (charge on success, today's pipelines)."""

SPEED = 600
"""Virtual seconds per real second: a training run of some virtual minutes ends in
seconds, while the tests' own short sleeps do not outrun anything they wait for."""

# A resource's name may hold digits (``sam3``): a call on it is a call all the same.
_CALL = re.compile(r"\b\w*client\.([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)\(")

_UNIT = (
    "expects CreditEstimate.unit 'per_minute'; the API says 'minute', as the SDK's own "
    "tests/live/test_credits_live.py expects since it was corrected (catalog.Operation.unit)"
)
_CLASS = (
    "saves class 'obj' into a dataset whose classes are 'thing' and 'shape'; the API refuses "
    "a name that is not a class of the dataset (catalog.ANNOTATION_NAMES_ARE_CLASSES)"
)


@dataclass(frozen=True)
class Stale:
    """An SDK test that fails against the API too: why, and the exception it fails with."""

    reason: str
    raises: str
    """``AssertionError`` or the name of an exception in ``pictograph.exceptions``."""


STALE: dict[str, Stale] = {
    # Each fails against the API too, so it must fail against the fake: they run as strict
    # expected failures (a pass, or another exception, fails the run).
    "tests/e2e/test_smoke.py::test_estimate_credit_cost_returns_estimate": Stale(
        _UNIT, "AssertionError"
    ),
    "tests/live/test_augment_live.py::test_augment_into_new_dataset": Stale(
        _CLASS, "ValidationError"
    ),
    "tests/live/test_augment_live.py::test_augment_in_place_appends_to_directory": Stale(
        _CLASS, "ValidationError"
    ),
    "tests/live/test_tile_live.py::test_tile_into_new_dataset": Stale(_CLASS, "ValidationError"),
    "tests/live/test_tile_live.py::test_tile_in_place_appends_to_directory": Stale(
        _CLASS, "ValidationError"
    ),
}
"""The SDK's tests that fail against the real API too, by node id, with the evidence."""


@dataclass(frozen=True)
class Selection:
    """One test file of a suite: the SDK methods it calls and those the fake lacks."""

    path: str
    """Relative to the sdist, e.g. ``tests/live/test_images_live.py``."""
    calls: frozenset[str]
    unserved: tuple[str, ...]

    @property
    def runs(self) -> bool:
        return not self.unserved


def sdk_calls(source: str) -> frozenset[str]:
    """The ``resource.method`` of every ``…client.<resource>.<method>(`` call in ``source``."""
    return frozenset(f"{resource}.{method}" for resource, method in _CALL.findall(source))


def served_methods() -> frozenset[str]:
    """The SDK methods that work against the fake: served, or client-side over served ones."""
    from pictograph_testing.fidelity import verdicts

    return frozenset(v.method for v in verdicts() if v.status in ("served", "client-side"))


def select_files(sdist: Path, served: frozenset[str] | None = None) -> list[Selection]:
    """Every test file of :data:`SUITES` in ``sdist``, with what it calls the fake lacks.

    A file's calls include its folder's ``conftest.py`` (the fixtures it may use).
    """
    served = served_methods() if served is None else served
    found: list[Selection] = []
    for suite in SUITES:
        folder = sdist / suite
        conftest = folder / "conftest.py"
        shared = sdk_calls(conftest.read_text()) if conftest.is_file() else frozenset()
        for path in sorted(folder.glob("test_*.py")):
            calls = sdk_calls(path.read_text()) | shared
            found.append(
                Selection(
                    path.relative_to(sdist).as_posix(),
                    calls,
                    tuple(sorted(calls - served)),
                )
            )
    return found


# ── the pytest plugin (``-p pictograph_testing.sdk_suites``) ──


def pytest_configure(config: pytest.Config) -> None:
    # The SDK's e2e fixture never closes its Client, so its sockets are collected at
    # exit, against any server; its `filterwarnings = error` would make that an error.
    config.addinivalue_line(
        "filterwarnings",
        r"ignore:Exception ignored in. <socket\.socket:pytest.PytestUnraisableExceptionWarning",
    )
    # Each xdist worker talks to a server of its own: tests of one worker list what the
    # other's create (a dataset listed twice would differ in between).
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    urls = os.environ.get(_BASE_URLS, "").split()
    if worker.startswith("gw") and worker[2:].isdigit() and urls:
        url = urls[int(worker[2:]) % len(urls)]
        os.environ["PICTOGRAPH_TEST_BASE_URL"] = os.environ["PICTOGRAPH_BASE_URL"] = url


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    import pictograph.exceptions
    import pytest

    served = served_methods()
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        label = _contract_label(item)
        if label is not None and label.split(".", 1)[1] not in served:
            dropped.append(item)
            continue
        stale = STALE.get(item.nodeid.split("[", 1)[0])
        if stale is not None:
            raises = (
                AssertionError
                if stale.raises == "AssertionError"
                else getattr(pictograph.exceptions, stale.raises)
            )
            item.add_marker(pytest.mark.xfail(strict=True, reason=stale.reason, raises=raises))
        kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _contract_label(item: pytest.Item) -> str | None:
    """``client.<resource>.<method>`` (or ``aio.…``) of a contract test's request."""
    callspec = getattr(item, "callspec", None)
    label = callspec.params.get("label") if callspec is not None else None
    return label if isinstance(label, str) else None


# ── the run ──


def _start_server(api_key: str) -> tuple[subprocess.Popen[str], str]:
    """Start ``pictograph-fake serve`` on a free loopback port; its process and base URL."""
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pictograph_testing.cli",
            "serve",
            "--port",
            "0",
            "--profile",
            PROFILE,
            "--speed",
            str(SPEED),
            "--api-key",
            api_key,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    first = server.stdout.readline()
    match = re.search(r"serving (http://\S+)", first)
    if match is None:
        server.kill()
        raise RuntimeError(f"pictograph-fake serve did not start: {first!r}")
    return server, match.group(1)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suites in the sdist folder given; pytest's exit status."""
    parser = argparse.ArgumentParser(prog="python -m pictograph_testing.sdk_suites")
    parser.add_argument("sdist", type=Path, help="the unpacked sdist (scripts/sdk_sdist.sh)")
    parser.add_argument("--workers", default="2", help="pytest-xdist workers (0: none)")
    parser.add_argument("pytest_args", nargs="*", help="passed on to pytest")
    args = parser.parse_args(argv)
    sdist: Path = args.sdist.resolve()
    from pictograph_testing.fidelity import routes_snapshot

    selections = select_files(sdist)
    for selection in selections:
        if not selection.runs:
            print(f"excluded {selection.path}: not served: {', '.join(selection.unserved)}")
    files = [s.path for s in selections if s.runs]
    print(f"running {len(files)} of {len(selections)} live/e2e files, and tests/contract")
    with tempfile.TemporaryDirectory(prefix="sdk-suites-") as scratch:
        snapshot = Path(scratch) / "rest-routes.json"
        snapshot.write_text(json.dumps(routes_snapshot()))
        api_key = "pk_live_sdk_suites_" + os.urandom(8).hex()
        started = [_start_server(api_key) for _ in range(max(1, int(args.workers)))]
        base_urls = [base_url for _, base_url in started]
        try:
            env = {
                **os.environ,
                "PICTOGRAPH_TEST_KEY": api_key,
                "PICTOGRAPH_TEST_BASE_URL": base_urls[0],
                # A few live tests build their own Client from the key alone.
                "PICTOGRAPH_BASE_URL": base_urls[0],
                # One server per xdist worker (see pytest_configure).
                _BASE_URLS: " ".join(base_urls),
                "PICTOGRAPH_REST_ROUTES_SNAPSHOT": str(snapshot),
                # Only the plugins named below: this package's own pytest plugin would
                # start fakes nobody asked for.
                "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            }
            workers = [] if args.workers == "0" else ["-p", "xdist.plugin", "-n", args.workers]
            command = [
                sys.executable,
                "-m",
                "pytest",
                "-p",
                "pictograph_testing.sdk_suites",
                *workers,
                "-p",
                "no:cacheprovider",
                # The sdist's addopts deselect live and e2e; an explicit -m opts in.
                "-m",
                "live or not live",
                "--tb=short",
                *files,
                "tests/contract",
                *args.pytest_args,
            ]
            return subprocess.run(command, cwd=sdist, env=env, check=False).returncode
        finally:
            for server, _ in started:
                server.terminate()
            for server, _ in started:
                server.wait(timeout=30)


if __name__ == "__main__":
    raise SystemExit(main())
