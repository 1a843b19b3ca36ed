"""``--pictograph-report=DIR``: an HTML report of the world for every failing test.

Registered by the plugin only when the option is given. A test that used the
``pictograph_fake`` fixture (directly, or through a client or clock fixture) and failed
gets ``DIR/<test id>.html``: the world at the instant it failed. The failure's report
gains a "pictograph report" section naming the file. Each file is named after its test
id alone, so parallel workers (pytest-xdist) never write the same one.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

import pytest

from pictograph_testing.picture import write_report
from pictograph_testing.pytest_plugin import fake_of

if TYPE_CHECKING:
    from collections.abc import Generator
    from pathlib import Path

__all__ = ["SECTION", "ReportOnFailure", "report_name"]

SECTION = "pictograph report"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_LONGEST = 120


def report_name(nodeid: str) -> str:
    """A file name for a test id: readable, safe on every file system, one per id."""
    readable = _UNSAFE.sub("_", nodeid).strip("_.") or "test"
    if len(readable) > _LONGEST or readable != nodeid:
        # Two ids may clean up to the same text: a short digest keeps them apart.
        digest = hashlib.sha256(nodeid.encode()).hexdigest()[:8]
        readable = f"{readable[:_LONGEST]}-{digest}"
    return f"{readable}.html"


class ReportOnFailure:
    """The hooks behind ``--pictograph-report``: write a report when a test fails."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if report.when in ("call", "teardown") and report.failed:
            fake = fake_of(item)
            if fake is not None:
                target = self.directory / report_name(item.nodeid)
                try:
                    path = write_report(fake, target, title=item.nodeid)
                except (OSError, ValueError) as exc:
                    # A report that cannot be written (a full disk, a folder taken away
                    # since the run began, text that cannot be encoded) is this test's
                    # lost report, not the run's end.
                    report.sections.append((SECTION, f"could not write {target}: {exc}"))
                else:
                    report.sections.append((SECTION, f"the world when it failed: {path}"))
        return report
