"""Pictures of the world: ``fake.report(path)``, the view behind it, and ``--pictograph-report``."""

from __future__ import annotations

import io
import itertools
from typing import TYPE_CHECKING, Any

import pytest

from pictograph_testing import FakePictograph
from pictograph_testing.catalog import GPU_TIERS, SERVICE_CAP_SECONDS
from pictograph_testing.demo import run_demo
from pictograph_testing.picture.pytest_report import report_name
from pictograph_testing.picture.view import dollars, picture_of
from tests.conftest import create_past_the_cap
from tests.picture_reading import DrawnPage

if TYPE_CHECKING:
    from pathlib import Path

    import pictograph

pytest_plugins = ["pytester"]

DATASET = "road-signs"
EXPORT = "road-signs-v1"
A10G_COLD_START = GPU_TIERS["a10g"].cold_start_seconds


def start(client: pictograph.Client, name: str, **options: Any) -> None:
    options.setdefault("pipeline_type", "yolox")
    client.training.create(DATASET, EXPORT, name=name, wait=False, **options)


def busy_world(fake: FakePictograph) -> pictograph.Client:
    """Runs that end every way a run can: completed, OOM, injected, preempted, cancelled."""
    client = fake.client()
    start(client, "done")
    start(client, "oom", config={"model_size": "x"})
    fake.faults.fail_run("broken", epoch=2)
    start(client, "broken")
    fake.faults.preempt_run("bumped", epoch=3)
    start(client, "bumped")
    start(client, "waits")
    start(client, "dropped")
    client.training.cancel("dropped")  # the sixth a10g run: still waiting for a worker
    fake.clock.advance(minutes=3)
    start(client, "fast", gpu_type="a100")
    fake.clock.advance(minutes=5)
    return client


def test_the_view_puts_each_run_on_a_worker_of_its_tier() -> None:
    with FakePictograph(scenario="ready-to-train") as fake:
        busy_world(fake)
        picture = picture_of(fake)

    labels = [lane.label for lane in picture.lanes]
    workers = [f"{tier} #{n + 1}" for tier, spec in GPU_TIERS.items() for n in range(spec.workers)]
    assert labels == [*workers[:4], "a10g queue", *workers[4:]]
    outcome = {bar.name: bar.outcome for bar in picture.bars}
    assert outcome == {
        "done": "completed",
        "oom": "oom",
        "broken": "injected",
        "bumped": "completed",
        "waits": "completed",
        "dropped": "cancelled",
        "fast": "completed",
    }
    bumped = next(bar for bar in picture.bars if bar.name == "bumped")
    assert [a.outcome for a in bumped.attempts] == ["preempted", "completed"]
    # Four a10g workers, five a10g runs at once: the fifth took the first worker freed,
    # the one the run out of memory left.
    bars = {bar.name: bar for bar in picture.bars}
    assert bars["waits"].attempts[0].assigned_at == bars["oom"].ended_at
    assert bars["waits"].lane == bars["oom"].lane
    dropped = next(bar for bar in picture.bars if bar.name == "dropped")
    assert dropped.lane is None  # cancelled while it waited for a worker
    for lane in picture.lanes:
        spans = sorted(
            (bar.attempts[0].assigned_at or 0.0, bar.ended_at or picture.now) for bar in lane.bars
        )
        if lane.worker is not None:
            assert all(end <= begin for (_, end), (begin, _) in itertools.pairwise(spans))


def test_a_run_cancelled_in_its_cold_start_is_drawn_on_its_worker() -> None:
    """It held the tier's one worker from the start: not a queue lane's waiting bar."""
    with FakePictograph(scenario="ready-to-train") as fake:
        client = fake.client()
        client.training.create(
            "road-signs",
            "road-signs-v1",
            pipeline_type="yolox",
            name="solo",
            gpu_type="h100",
            wait=False,
        )
        fake.clock.advance(seconds=20)  # on the worker, in its cold start
        client.training.cancel("solo")
        fake.clock.advance(seconds=60)
        (bar,) = picture_of(fake).bars
    assert bar.outcome == "cancelled"
    assert bar.lane is not None
    assert bar.attempts[0].assigned_at == 0.0


def test_a_run_past_the_service_cap_is_drawn_as_such() -> None:
    with FakePictograph() as fake:
        create_past_the_cap(fake, fake.client())
        fake.clock.advance(seconds=A10G_COLD_START + SERVICE_CAP_SECONDS + 1)
        (bar,) = picture_of(fake).bars
    assert (bar.status, bar.outcome) == ("failed", "service_cap")
    assert bar.error is not None
    assert "2-hour limit" in bar.error


def test_the_report_shows_the_runs_the_ledger_and_the_journal(tmp_path: Path) -> None:
    with FakePictograph(scenario="ready-to-train") as fake:
        busy_world(fake)
        path = fake.report(tmp_path / "world.html")
        ledger = fake.ledger
        calls = list(fake.calls)
        runs = {run.name: run for run in fake.world.runs.values()}

    page = DrawnPage(path.read_text(encoding="utf-8"))
    assert set(page.runs) == set(runs)
    for name, run in runs.items():
        assert page.runs[name]["data-run-id"] == run.id
        assert page.runs[name]["data-status"] == run.status
    assert page.runs["oom"]["data-outcome"] == "oom"
    assert page.runs["broken"]["data-outcome"] == "injected"
    assert page.runs["dropped"]["lane"] == "a10g:"
    assert page.runs["fast"]["lane"] == "a100:0"
    assert [row["operation"] for row in page.rows("ledger")] == [e.operation for e in ledger]
    assert [row["amount"] for row in page.rows("ledger")] == [dollars(e.amount) for e in ledger]
    assert [row["balance"] for row in page.rows("ledger")] == [
        dollars(e.balance_after) for e in ledger
    ]
    kinds = [entry["data-kind"] for entry in page.entries]
    assert kinds[0] == "opening"
    assert {"pre-charge", "refund"} <= set(kinds)
    assert len(page.entries) == len(ledger) + 1
    journal = page.rows("journal")
    assert [int(row["#"]) for row in journal] == [call.index for call in reversed(calls)]
    assert [(row["method"], row["path"], row["status"]) for row in journal][-1] == (
        calls[0].method,
        calls[0].path,
        str(calls[0].status),
    )
    assert {row["request id"] for row in journal} == {call.request_id for call in calls}
    assert {row["name"] for row in page.rows("runs")} == set(runs)
    assert [row["name"] for row in page.rows("models")] == ["done", "waits", "bumped", "fast"]
    assert page.external == []  # self-contained: nothing fetched from anywhere


def test_the_report_names_an_injected_request_fault_in_the_journal(tmp_path: Path) -> None:
    with FakePictograph(scenario="ready-to-train") as fake:
        client = fake.client(max_retries=0)
        fake.faults.fail_next("GET", "credits/balance", status=503)
        with pytest.raises(Exception, match="503"):
            client.credits.balance()
        page = DrawnPage(fake.report(tmp_path / "fault.html").read_text(encoding="utf-8"))
    (row,) = page.rows("journal")
    assert row["status"] == "503"
    assert "503" in row["fault"]


def test_the_armed_list_shows_every_kind_of_fault() -> None:
    with FakePictograph(scenario="ready-to-train") as fake:
        fake.faults.fail_export(optional=True)
        fake.faults.fail_evaluation(optional=True)
        fake.faults.fail_deployment(optional=True)
        fake.faults.rate_limit(5)
        fake.faults.exhaust_inference_pool()
        # The dashboard's "armed" list is the picture's, in the words the control route uses.
        assert picture_of(fake).faults == (
            "fail the next 1 export(s)",
            "fail the next 1 evaluation(s)",
            "fail the next 1 deployment(s)",
            "rate limit 5 per 60s",
            "hosted inference capacity spent for the day",
        )


def test_the_same_world_gives_the_same_report_bytes(tmp_path: Path) -> None:
    written = []
    for name in ("first", "second"):
        with FakePictograph(scenario="ready-to-train") as fake:
            busy_world(fake)
            written.append(fake.report(tmp_path / f"{name}.html").read_bytes())
    assert written[0] == written[1]
    assert b"<svg" in written[0]


def test_an_empty_world_still_has_its_lanes_and_opening_balance(tmp_path: Path) -> None:
    with FakePictograph() as fake:
        page = DrawnPage(fake.report(tmp_path / "empty.html").read_text(encoding="utf-8"))
    assert len(page.lanes) == sum(spec.workers for spec in GPU_TIERS.values())
    assert [entry["data-kind"] for entry in page.entries] == ["opening"]
    assert page.rows("runs") == [{"name": "none yet"}] or page.tables["runs"][1] == ["none yet"]


def test_report_names_are_safe_and_one_per_test_id() -> None:
    plain = report_name("tests/test_x.py::test_y")
    assert plain.endswith(".html")
    assert "/" not in plain
    assert ":" not in plain
    assert report_name("t.py::test[a/b]") != report_name("t.py::test[a_b]")
    assert len(report_name("t.py::test[" + "x" * 500 + "]")) < 160


def test_the_demo_ends_with_its_report(tmp_path: Path) -> None:
    out = io.StringIO()
    target = tmp_path / "demo.html"
    run_demo(seed=1, out=out, report=target)
    assert f"report: {target}" in out.getvalue()
    page = DrawnPage(target.read_text(encoding="utf-8"))
    assert page.runs
    assert page.rows("ledger")


# ── --pictograph-report, in an inner session ──

DOWNSTREAM = """
import pictograph
import pytest

def train(client):
    client.training.create("road-signs", "road-signs-v1", pipeline_type="yolox",
                           name="nightly", wait=False)

@pytest.mark.pictograph(scenario="ready-to-train")
def test_training_finishes_in_a_minute(pictograph_client, pictograph_clock):
    train(pictograph_client)
    pictograph_clock.advance(minutes=1)
    run = pictograph_client.training.get("nightly")
    assert run.status == "completed", run.status

@pytest.mark.pictograph(scenario="ready-to-train")
def test_that_passes(pictograph_client):
    pictograph_client.credits.balance()

def test_without_a_fake():
    assert 1 == 2
"""


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    monkeypatch.setenv(
        "PYTEST_ADDOPTS",
        "-p no:hypothesispytest -p no:faker -p no:xdist -p no:anyio -p no:cacheprovider",
    )
    return pytester


def test_a_report_folder_that_is_a_file_is_a_usage_error(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_downstream=DOWNSTREAM)
    (inner.path / "reports").write_text("not a folder")
    result = inner.runpytest_inprocess("--pictograph-report=reports")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--pictograph-report: *reports is a file; give a folder*"])


def test_a_report_that_cannot_be_written_fails_only_its_test(inner: pytest.Pytester) -> None:
    """The folder is taken away (here: replaced by a file) after the run began."""
    inner.makepyfile(
        test_downstream="""
def test_the_folder_goes():
    import pathlib
    pathlib.Path("reports").write_text("taken")
"""
        + DOWNSTREAM
    )
    result = inner.runpytest_inprocess("--pictograph-report=reports", "-p", "no:randomly")
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(["*- pictograph report -*", "could not write *"])


def test_a_failing_test_that_used_a_fake_gets_a_report(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_downstream=DOWNSTREAM)
    result = inner.runpytest_inprocess("--pictograph-report=reports")
    result.assert_outcomes(passed=1, failed=2)
    reports = sorted((inner.path / "reports").iterdir())
    name = report_name("test_downstream.py::test_training_finishes_in_a_minute")
    assert [path.name for path in reports] == [name]
    result.stdout.fnmatch_lines(["*- pictograph report -*", f"the world when it failed: *{name}"])
    page = DrawnPage(reports[0].read_text(encoding="utf-8"))
    assert page.runs["nightly"]["data-status"] == "running"
    assert [row["operation"] for row in page.rows("ledger")] == ["training_a10g_per_minute"]
    paths = [row["path"] for row in page.rows("journal")]
    assert paths == [
        "/api/v1/developer/training/nightly",
        "/api/v1/developer/training/",
    ]


def test_a_fake_asked_for_at_run_time_gets_a_report_too(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        test_downstream="""
        import pictograph

        def test_asks_at_run_time(request):
            fake = request.getfixturevalue("pictograph_fake")
            fake.add_dataset("road-signs", images=1)
            with pictograph.Client() as client:
                assert client.datasets.list() == []
        """
    )
    result = inner.runpytest_inprocess("--pictograph-report=reports")
    result.assert_outcomes(failed=1)
    name = report_name("test_downstream.py::test_asks_at_run_time")
    assert [path.name for path in (inner.path / "reports").iterdir()] == [name]
    result.stdout.fnmatch_lines([f"the world when it failed: *{name}"])
    page = DrawnPage((inner.path / "reports" / name).read_text(encoding="utf-8"))
    assert [row["path"] for row in page.rows("journal")] == ["/api/v1/developer/datasets/"]


def test_without_the_option_no_report_is_written(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_downstream=DOWNSTREAM)
    inner.runpytest_inprocess().assert_outcomes(passed=1, failed=2)
    assert not (inner.path / "reports").exists()


PARALLEL = """
import pytest

@pytest.mark.parametrize("n", range(4))
def test_each_fails_with_its_own_world(pictograph_client, pictograph_fake, n):
    pictograph_fake.add_dataset(f"set-{n}", images=1)
    assert pictograph_client.datasets.list() == []
"""


def test_parallel_workers_write_one_report_per_test(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    # Only the two plugins this needs: loading every installed one costs seconds per worker.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:cacheprovider")
    pytester.makepyfile(test_parallel=PARALLEL)
    result = pytester.runpytest_subprocess(
        "-p",
        "xdist.plugin",
        "-p",
        "pictograph_testing.pytest_plugin",
        "-n",
        "2",
        "--pictograph-report=reports",
    )
    result.assert_outcomes(failed=4)
    reports = sorted((pytester.path / "reports").iterdir())
    assert [path.name for path in reports] == sorted(
        report_name(f"test_parallel.py::test_each_fails_with_its_own_world[{n}]") for n in range(4)
    )
    for n in range(4):
        path = (
            pytester.path
            / "reports"
            / report_name(f"test_parallel.py::test_each_fails_with_its_own_world[{n}]")
        )
        page = DrawnPage(path.read_text(encoding="utf-8"))
        assert [row["name"] for row in page.rows("datasets")] == [f"set-{n}"]
    assert result.stdout.str().count("the world when it failed:") == 4


def test_a_test_failed_by_its_teardown_checks_gets_its_calls_and_its_report(
    inner: pytest.Pytester,
) -> None:
    # The test passes, then its teardown finds a fault armed on a route it never called:
    # that error shows the calls made (the fake is gone by then) and writes the report.
    inner.makepyfile(
        test_unfired="""
        def test_fault_on_the_wrong_route(pictograph_fake, pictograph_client):
            pictograph_fake.faults.fail_next("GET", "credits/history", status=503)
            pictograph_client.credits.balance()
        """
    )
    result = inner.runpytest_inprocess("--pictograph-report=reports", "-p", "no:randomly")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_fault_on_the_wrong_route*",
            "*pictograph calls*",
            "Calls the fake answered (1):",
            "*GET /api/v1/developer/credits/balance -> 200",
            "*pictograph report*",
            "the world when it failed: *reports*test_fault_on_the_wrong_route*.html",
        ]
    )
    [written] = (inner.path / "reports").iterdir()
    assert "credits/balance" in written.read_text()


def test_the_next_event_button_moves_the_clock_past_the_event_however_near() -> None:
    """Rounded up to the millisecond: an event 5.7e-14 s away (float noise) read 0.000,
    and a button that moved the clock by that moved nothing, for ever."""
    import dataclasses
    import re

    from pictograph_testing.picture.render import world_sections

    with FakePictograph(scenario="ready-to-train") as fake:
        picture = picture_of(fake)

    def shown(seconds: float) -> str:
        page = world_sections(dataclasses.replace(picture, next_event_in=seconds))
        found = re.search(r'data-next-event="([^"]*)"', page)
        assert found is not None
        return found.group(1)

    assert shown(5.7e-14) == "0.001"
    assert shown(116.0) == "116.000"
    assert shown(116.00000000000006) == "116.001"
    assert shown(45.0004) == "45.001"


def test_control_characters_in_names_leave_the_page_well_formed(tmp_path: Path) -> None:
    """The API takes a run named with terminal escapes; the report's SVG stays XML."""
    import re
    import xml.etree.ElementTree as ElementTree

    with FakePictograph(seed=3) as fake:
        fake.add_dataset("signs", images=12, completed_images=12)
        fake.add_export("signs", "v1")
        name = "nightly\x1b[31m\x0b\x00"
        run = fake.client(max_retries=0).training.create(
            "signs", "v1", pipeline_type="yolox", name=name, wait=False
        )
        assert run.name == name
        page = fake.report(tmp_path / "r.html").read_text()
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", page)
    svgs = re.findall(r"<svg.*?</svg>", page, re.S)
    assert svgs
    for svg in svgs:
        ElementTree.fromstring(svg)
    assert "nightly\ufffd[31m" in page


def test_a_dataset_name_that_is_not_unicode_is_refused_before_it_breaks_a_report() -> None:
    import os

    with FakePictograph(seed=3) as fake, pytest.raises(ValueError, match="lone surrogate"):
        fake.add_dataset(os.fsdecode(b"photos-\xff"))


def test_reports_go_where_the_run_started_when_a_test_changes_folder(
    inner: pytest.Pytester,
) -> None:
    # `--pictograph-report=reports` is read from where pytest was run, as its other
    # paths are: not from the folder a test moved to before it failed.
    (inner.path / "elsewhere").mkdir()
    inner.makepyfile(
        test_moves="""
        def test_fails_elsewhere(monkeypatch, pictograph_client):
            monkeypatch.chdir("elsewhere")
            assert pictograph_client.datasets.list() == ["a dataset"]
        """
    )
    result = inner.runpytest_inprocess("--pictograph-report=reports")
    result.assert_outcomes(failed=1)
    name = report_name("test_moves.py::test_fails_elsewhere")
    assert [path.name for path in (inner.path / "reports").iterdir()] == [name]
    assert not (inner.path / "elsewhere" / "reports").exists()
