"""The dashboard and the reports in a real browser (Debian's chromium, through playwright)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from pictograph.exceptions import ApiError

from pictograph_testing import FakePictograph
from pictograph_testing.catalog import GPU_TIERS
from pictograph_testing.picture.view import picture_of
from pictograph_testing.server import FakeServer
from tests.browser.conftest import screenshot
from tests.picture_reading import DrawnPage

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from playwright.sync_api import Page

    from tests.browser.conftest import ConsoleErrors

DATASET = "road-signs"
EXPORT = "road-signs-v1"


@pytest.fixture
def server() -> Iterator[FakeServer]:
    """A served world with six runs: four on the a10g workers, one waiting, one on an a100."""
    with FakeServer(scenario="ready-to-train") as served:
        with served.client() as client:
            for n in range(5):
                client.training.create(
                    DATASET, EXPORT, pipeline_type="yolox", name=f"run-{n}", wait=False
                )
            client.training.create(
                DATASET,
                EXPORT,
                pipeline_type="yolox",
                name="big",
                gpu_type="a100",
                config={"epochs": 200},
                wait=False,
            )
        with served.control() as control:
            control.post("/clock/advance", json={"minutes": 2})
        yield served


def open_dashboard(page: Page, server: FakeServer, *, with_key: bool = True) -> None:
    fragment = f"#key={server.control_key}" if with_key else ""
    page.goto(f"{server.base_url}/_fake/ui{fragment}")
    page.wait_for_selector("#timeline")


def drawn(page: Page) -> DrawnPage:
    return DrawnPage(page.inner_html("#live"))


def test_the_page_draws_each_run_on_its_worker(
    page: Page, server: FakeServer, console: ConsoleErrors
) -> None:
    open_dashboard(page, server)
    picture = picture_of(server.fake)
    shown = drawn(page)

    workers = sum(spec.workers for spec in GPU_TIERS.values())
    assert page.locator("#timeline g.lane").count() == workers + 1  # and the a10g queue
    for bar in picture.bars:
        assert shown.runs[bar.name]["data-run-id"] == bar.run_id
        assert shown.runs[bar.name]["data-status"] == bar.status
        assert shown.runs[bar.name]["lane"] == f"{bar.tier}:{'' if bar.lane is None else bar.lane}"
    assert shown.runs["run-4"]["lane"] == "a10g:"  # the fifth a10g run waits for a worker
    assert shown.runs["big"]["lane"] == "a100:0"
    assert page.locator("#timeline g.run rect").count() >= len(picture.bars)
    hover = page.locator('#timeline g.run[data-name="big"] title').text_content() or ""
    assert "yolox on a100: running" in hover
    screenshot(page, "dashboard")
    assert console == []


def test_advancing_ten_minutes_grows_the_bars_and_completes_a_run(
    page: Page, server: FakeServer, console: ConsoleErrors
) -> None:
    open_dashboard(page, server)
    before = drawn(page).runs
    assert before["run-0"]["data-status"] == "running"

    page.get_by_role("button", name="+10 min").click()
    page.wait_for_selector('#timeline g.run[data-name="run-0"][data-status="completed"]')

    after = drawn(page).runs
    assert float(after["big"]["data-end"]) == pytest.approx(float(before["big"]["data-end"]) + 600)
    assert after["run-0"]["data-outcome"] == "completed"
    assert after["run-4"]["data-status"] in ("running", "completed")
    assert after["run-4"]["lane"].startswith("a10g:")
    assert after["run-4"]["lane"] != "a10g:"  # it got a worker when one came free
    assert "now" in page.inner_text("#status")
    assert server.fake.run("run-0").status == "completed"
    screenshot(page, "dashboard-after-10-min")
    assert console == []


def test_a_fault_armed_from_the_page_fails_the_next_sdk_request(
    page: Page, server: FakeServer, console: ConsoleErrors
) -> None:
    open_dashboard(page, server)
    page.select_option("#fault-kind", "status")
    page.fill("#fault-value", "503")
    page.get_by_role("button", name="arm", exact=True).click()
    page.wait_for_selector("#armed li")
    assert "armed" in page.inner_text("#status")

    with server.client(max_retries=0) as client, pytest.raises(ApiError) as caught:
        client.credits.balance()
    assert caught.value.status_code == 503

    page.wait_for_selector("#journal td:text-is('503')")
    (row,) = [r for r in drawn(page).rows("journal") if r["status"] == "503"]
    assert row["path"] == "/api/v1/developer/credits/balance"
    assert "503" in row["fault"]
    screenshot(page, "dashboard-fault")
    assert console == []


def test_without_the_key_the_page_shows_the_world_and_refuses_every_control(
    page: Page, server: FakeServer
) -> None:
    open_dashboard(page, server, with_key=False)
    before = server.fake.clock.monotonic()
    for button in ("+10 min", "pause", "reset", "arm"):
        page.get_by_role("button", name=button, exact=True).click()
        page.wait_for_selector("#status.error")
        assert "401" in page.inner_text("#status")
        page.evaluate("document.getElementById('status').className = ''")
    assert server.fake.clock.monotonic() == before
    assert not server.fake.faults.pending
    assert len(drawn(page).runs) == 6  # the world itself is on show


def test_the_journal_filter_hides_the_other_calls(page: Page, server: FakeServer) -> None:
    with server.client() as client:
        client.credits.balance()
    open_dashboard(page, server)
    rows = page.locator("#journal tbody tr")
    total = rows.count()
    page.fill("#journal-filter", "credits")
    visible = [row for row in rows.all() if row.is_visible()]
    assert len(visible) == 1
    assert total > 1


def test_a_report_opens_without_console_errors(
    page: Page, console: ConsoleErrors, tmp_path: Path
) -> None:
    with FakePictograph(scenario="ready-to-train") as fake:
        client = fake.client()
        fake.faults.fail_run("broken", epoch=2)
        for name in ("done", "broken", "other"):
            client.training.create(DATASET, EXPORT, pipeline_type="yolox", name=name, wait=False)
        fake.clock.advance(minutes=8)
        client.training.get("done")
        path = fake.report(tmp_path / "report.html")
    page.goto(path.as_uri())
    page.wait_for_selector("#timeline")
    assert page.locator('#timeline g.run[data-outcome="injected"]').count() == 1
    assert page.locator("#ledger tbody tr").count() == len(fake.ledger)
    rows = page.locator("#journal tbody tr")
    assert rows.count() == len(fake.calls) == 4
    page.fill("#journal-filter", "training/done")
    assert [row.is_visible() for row in rows.all()] == [True, False, False, False]
    page.fill("#journal-filter", "")
    screenshot(page, "report")
    assert console == []
