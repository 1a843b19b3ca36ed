"""What a pytest-httpx, respx or moto user expects on day one, tried from a downstream project.

Each test writes a small project of its own (its code under test in ``myapp``, its tests
using only the public API and the plugin) and runs it in a pytester inner session:
strict teardown, one path convention, the user's modules on the fake's clock, and a
marker that takes every ``FakePictograph`` option.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator

import httpx
import pytest
import respx

from pictograph_testing import FakePictograph, FaultSpec, StrayRequest, TeardownCheckFailed

pytest_plugins = ["pytester"]

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""
UNUSED_PLUGINS = "-p no:hypothesispytest -p no:faker -p no:xdist -p no:anyio -p no:cacheprovider"

# The user's code: a polling loop and an asyncio loop that wait with the standard library.
JOBS = """
import asyncio
import time
from time import monotonic

import pictograph


def wait_for_run(run_id, *, timeout=7200.0, every=30.0):
    client = pictograph.Client()
    deadline = monotonic() + timeout
    while True:
        run = client.training.get(run_id)
        if run.status in ("completed", "failed", "cancelled"):
            return run.status
        if monotonic() > deadline:
            raise TimeoutError(f"run {run_id} still {run.status}")
        time.sleep(every)


async def wait_async(run_id, *, every=30.0):
    async with pictograph.AsyncClient() as client:
        while True:
            run = await client.training.get(run_id)
            if run.status in ("completed", "failed", "cancelled"):
                return run.status
            await asyncio.sleep(every)
"""


@pytest.fixture
def project(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> Iterator[pytest.Pytester]:
    pytester.makeini(INI)
    monkeypatch.setenv("PYTEST_ADDOPTS", UNUSED_PLUGINS)
    pytester.mkpydir("myapp")
    pytester.path.joinpath("myapp", "jobs.py").write_text(JOBS)
    monkeypatch.syspath_prepend(str(pytester.path))
    yield pytester
    for name in [m for m in sys.modules if m == "myapp" or m.startswith("myapp.")]:
        del sys.modules[name]


# ── strict by default where the anchors are ──


def test_a_fault_that_never_fires_fails_the_test_and_says_what_to_fix(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        """
        import pytest
        from pictograph_testing import FaultSpec

        def test_never_reached(pictograph_fake, pictograph_client):
            pictograph_fake.faults.fail_next("GET", "credits/history", status=503)
            pictograph_client.credits.balance()

        def test_optional_fault(pictograph_fake, pictograph_client):
            pictograph_fake.faults.fail_next("GET", "credits/history", optional=True)
            pictograph_client.credits.balance()

        @pytest.mark.pictograph(assert_all_fired=False)
        def test_opted_out(pictograph_fake):
            pictograph_fake.faults.fail_next("GET", "credits/balance")

        @pytest.mark.pictograph(faults=[FaultSpec.fail_run(epoch=2)])
        def test_run_failure_never_used(pictograph_client):
            pictograph_client.credits.balance()

        def test_fired(pictograph_fake, pictograph_client):
            pictograph_fake.faults.fail_next("GET", "credits/balance", status=400)
            with pytest.raises(Exception):
                pictograph_client.credits.balance()
        """
    )
    result = project.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=5, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*1 fault(s) armed and never fired:*",
            "*injected 503 before the handler for GET /api/v1/developer/credits/history*",
            "*optional=True*assert_all_fired=False*",
            "*fail (oom) the next run at epoch 2*",
        ]
    )


def test_every_job_failure_left_unfired_fails_the_test_with_a_hint_of_its_own(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        """
        import pytest
        from pictograph_testing import FaultSpec

        @pytest.mark.pictograph(faults=[FaultSpec.fail_export("disk full")])
        def test_export_never_made(pictograph_client):
            pictograph_client.credits.balance()

        def test_evaluation_never_made(pictograph_fake):
            pictograph_fake.faults.fail_evaluation(times=2)

        @pytest.mark.pictograph(faults=[{"kind": "deployment_failure"}])
        def test_deployment_never_made(pictograph_fake):
            pass

        @pytest.mark.pictograph(
            faults=[
                FaultSpec.fail_export(optional=True),
                FaultSpec.fail_evaluation(optional=True),
                {"kind": "deployment_failure", "optional": True},
            ]
        )
        def test_optional_job_failures(pictograph_fake):
            pictograph_fake.faults.fail_deployment(optional=True)

        @pytest.mark.pictograph(faults=[FaultSpec.fail_run(epoch=3)])
        def test_run_never_made(pictograph_fake):
            pass
        """
    )
    result = project.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=5, errors=4)
    result.stdout.fnmatch_lines(
        [
            "*fail the next 1 export(s): no export was created while it was armed*",
            "*Arm a fault with optional=True if the test may not reach it*",
            "*fail the next 2 evaluation(s): no evaluation was created while it was armed*",
            "*fail the next 1 deployment(s): no deployment was created while it was armed*",
            "*fail (oom) the next run at epoch 3: no run was created while it was armed*",
        ]
    )
    # A job or run fault has no method or path to check.
    assert "Check the method and path" not in result.stdout.str()


def test_a_failing_test_is_not_buried_under_teardown_errors(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        def test_fails(pictograph_fake):
            pictograph_fake.faults.fail_next("GET", "credits/balance")
            assert 1 == 2
        """
    )
    result = project.runpytest_inprocess()
    result.assert_outcomes(failed=1)
    assert "never fired" not in result.stdout.str()


def test_a_call_to_a_route_the_fake_does_not_serve_fails_the_test(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        """
        import pytest
        import pictograph

        STUDIO = "/api/v1/developer/annotation-studio/sessions"  # no route serves it

        def test_unserved(pictograph_client):
            with pytest.raises(pictograph.NotFoundError):
                pictograph_client._transport.request("GET", STUDIO)

        @pytest.mark.pictograph(assert_all_served=False)
        def test_allowed(pictograph_client):
            with pytest.raises(pictograph.NotFoundError):
                pictograph_client._transport.request("GET", STUDIO)
        """
    )
    result = project.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*1 call(s) to routes the fake does not serve*",
            "*GET /api/v1/developer/annotation-studio/sessions*",
        ]
    )


def test_strict_refuses_other_hosts_unless_allowed(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        import httpx
        import pytest
        import respx
        from pictograph_testing import StrayRequest

        @pytest.mark.pictograph(strict=True)
        def test_stray(pictograph_fake):
            with pytest.raises(StrayRequest, match="allow_hosts=\\\\['example.com'\\\\]"):
                httpx.get("https://example.com/ping")

        @pytest.mark.pictograph(strict=True, allow_hosts=["*.example.com"])
        def test_allowed(pictograph_fake, pictograph_client):
            with respx.mock:
                respx.get("https://hooks.example.com/ping").respond(204)
                assert httpx.get("https://hooks.example.com/ping").status_code == 204
            assert pictograph_client.credits.balance() is not None
            assert pictograph_fake.stray_calls == []

        def test_not_strict_by_default(pictograph_fake):
            with respx.mock:
                respx.get("https://example.com/ping").respond(200)
                assert httpx.get("https://example.com/ping").status_code == 200
        """
    )
    result = project.runpytest_inprocess("-p", "no:randomly")
    # The stray request was refused in the test and is reported again at teardown.
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*1 request(s) to hosts that are neither the fake nor allowed*"])


def test_allowed_hosts_match_in_any_case_and_ipv6_bracketed_or_not() -> None:
    allowed = ["Example.COM", "[::1]", "[fe80::1]:8080", "*.Internal"]
    with FakePictograph(strict=True, allow_hosts=allowed) as fake, respx.mock:
        for url in (
            "https://example.com/",
            "https://EXAMPLE.com/",
            "http://[::1]:1/",
            "http://[::1]/",
            "http://[FE80::1]:8080/",
            "https://jobs.internal/",
        ):
            respx.get(url).respond(204)
            assert httpx.get(url).status_code == 204, url
        for url in ("http://[fe80::1]:9090/", "https://example.org/"):
            with pytest.raises(StrayRequest):
                httpx.get(url)
        assert [call.url for call in fake.stray_calls] == [
            "http://[fe80::1]:9090/",
            "https://example.org/",
        ]
        fake.stray_calls.clear()
    assert fake.allow_hosts == ("example.com", "::1", "fe80::1:8080", "*.internal")


def test_an_allowed_pattern_may_start_with_a_character_class() -> None:
    """A leading ``[`` with no ``:`` inside is a pattern's character class, not an IPv6
    literal's bracket: it is kept as written and matches as a pattern."""
    with FakePictograph(strict=True, allow_hosts=["[ab]*.internal"]) as fake, respx.mock:
        respx.get("https://a1.internal/").respond(204)
        assert httpx.get("https://a1.internal/").status_code == 204
        with pytest.raises(StrayRequest):
            httpx.get("https://c1.internal/")
        fake.stray_calls.clear()
    assert fake.allow_hosts == ("[ab]*.internal",)


def test_an_allowed_host_and_port_may_name_the_schemes_default_port() -> None:
    """httpx drops a default port from the URL; ``example.com:443`` still names it."""
    with (
        FakePictograph(strict=True, allow_hosts=["example.com:443", "plain.test:80"]) as fake,
        respx.mock,
    ):
        respx.get("https://example.com/ping").respond(204)
        respx.get("http://plain.test/ping").respond(204)
        assert httpx.get("https://example.com/ping").status_code == 204
        assert httpx.get("https://example.com:443/ping").status_code == 204
        assert httpx.get("http://plain.test/ping").status_code == 204
        # The default port of the scheme used, not of the other one.
        for refused in ("http://example.com/ping", "https://plain.test/ping"):
            with pytest.raises(StrayRequest):
                httpx.get(refused)
        assert [str(call.url) for call in fake.stray_calls] == [
            "http://example.com/ping",
            "https://plain.test/ping",
        ]
        fake.stray_calls.clear()


def test_strict_from_the_ini_file(project: pytest.Pytester) -> None:
    project.makeini(INI + "pictograph_strict = true\npictograph_allow_hosts = localhost:9\n")
    project.makepyfile(
        """
        import httpx
        import pytest
        from pictograph_testing import StrayRequest

        def test_strict(pictograph_fake):
            assert pictograph_fake.strict
            assert pictograph_fake.allow_hosts == ("localhost:9",)
            with pytest.raises(StrayRequest):
                httpx.get("https://example.com/")
            pictograph_fake.stray_calls.clear()
        """
    )
    project.runpytest_inprocess().assert_outcomes(passed=1)


def test_the_context_manager_and_the_decorator_check_on_the_way_out() -> None:
    with pytest.raises(TeardownCheckFailed, match="never fired"), FakePictograph() as fake:
        fake.faults.fail_next("POST", "training/", status=503)

    def body_that_raises() -> None:
        with FakePictograph() as fake:
            fake.faults.fail_next("POST", "training/", status=503)
            raise KeyError("the body's own error wins")

    with pytest.raises(KeyError):
        body_that_raises()

    @FakePictograph(faults=[FaultSpec.delay_next(5, "GET", "credits/balance")])
    def decorated(pictograph_fake: FakePictograph) -> None:
        assert len(pictograph_fake.faults.unfired) == 1

    with pytest.raises(TeardownCheckFailed, match="delayed 5s for GET"):
        decorated()  # the decorator supplies the fake

    with FakePictograph(strict=True) as fake:
        fake.client().credits.balance()
    assert not fake.active


# ── one path convention ──


def test_paths_are_relative_or_full_everywhere_and_a_wrong_one_is_an_error(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        """
        import pytest

        def test_paths(pictograph_fake, pictograph_client):
            pictograph_fake.faults.fail_next("GET", "/api/v1/developer/credits/balance",
                                             status=503)
            pictograph_client.credits.balance()  # the SDK retries the 503
            calls = pictograph_fake.calls
            assert len(calls.filter("GET", "credits/balance")) == 2
            relative = [c.request_id for c in calls.filter("GET", "credits/balance")]
            full = calls.filter("GET", "/api/v1/developer/credits/balance")
            assert relative == [c.request_id for c in full]
            calls.assert_called("GET", "credits/balance", times=2)

            pictograph_fake.add_dataset("birds", images=2)
            dataset = pictograph_client.datasets.list()[0]
            pictograph_client.datasets.get(dataset.id)
            calls.assert_called("GET", "datasets/{dataset_id}", times=1)

            with pytest.raises(ValueError, match="no route GET /api/v1/developer/credit/bal"):
                calls.filter("GET", "credit/balance")
            with pytest.raises(ValueError, match="Did you mean 'POST /api/v1/developer/training/'"):
                pictograph_fake.faults.fail_next("POST", "trainings")
            with pytest.raises(ValueError, match="no route"):
                pictograph_fake.faults.delay_next(3, "GET", "/api/v1/developer/nothing/here")
        """
    )
    project.runpytest_inprocess().assert_outcomes(passed=1)


def test_the_marker_checks_fault_paths_before_the_test(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        import pytest
        from pictograph_testing import FaultSpec

        @pytest.mark.pictograph(faults=[FaultSpec.fail_next("GET", "credit/balance")])
        def test_typo(pictograph_fake):
            pass
        """
    )
    result = project.runpytest_inprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*no route GET /api/v1/developer/credit/balance*"])


# ── the user's modules on the fake's clock ──


def test_the_users_polling_loops_run_on_the_fakes_clock(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        import time
        import pytest
        from myapp import jobs

        def start_run(fake, client):
            fake.add_dataset("birds", images=40, completed_images=40)
            fake.add_export("birds", "v1")
            return client.training.create(
                "birds", "v1", pipeline_type="yolox", name="r", wait=False
            ).id

        @pytest.mark.pictograph(clock_modules=["myapp.jobs"])
        def test_sync_loop(pictograph_fake, pictograph_client):
            run_id = start_run(pictograph_fake, pictograph_client)
            began = pictograph_fake.clock.monotonic()
            assert jobs.wait_for_run(run_id) == "completed"
            assert pictograph_fake.clock.monotonic() - began > 60

        @pytest.mark.pictograph(clock_modules=["myapp.jobs"])
        async def test_async_loop(pictograph_fake, pictograph_client):
            run_id = start_run(pictograph_fake, pictograph_client)
            assert await jobs.wait_async(run_id) == "completed"

        def test_injection(pictograph_fake, pictograph_client):
            run_id = start_run(pictograph_fake, pictograph_client)
            clock = pictograph_fake.clock
            while pictograph_client.training.get(run_id).status != "completed":
                clock.sleep(30)
            assert clock.time() == clock.now().timestamp()

        def test_uncoupled_afterwards():
            assert jobs.time is time and jobs.monotonic is time.monotonic
        """
    )
    project.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=4)


def test_clock_modules_from_the_ini_file_and_in_python(project: pytest.Pytester) -> None:
    project.makeini(INI + "pictograph_clock_modules = myapp.jobs\n")
    project.makepyfile(
        """
        from myapp import jobs

        def test_coupled(pictograph_fake):
            before = pictograph_fake.clock.monotonic()
            jobs.time.sleep(3600)
            assert pictograph_fake.clock.monotonic() == before + 3600
        """
    )
    project.runpytest_inprocess().assert_outcomes(passed=1)

    import myapp.jobs  # type: ignore[import-not-found]

    with FakePictograph(clock_modules=["myapp.jobs"]) as fake:
        myapp.jobs.time.sleep(90)
        assert myapp.jobs.monotonic() == fake.clock.monotonic() == 90
    assert myapp.jobs.time is time
    with pytest.raises(ValueError, match=r"cannot import 'myapp\.nowhere'"):
        FakePictograph(clock_modules=["myapp.nowhere"]).start()
    assert myapp.jobs.time is time


# ── the marker takes every option ──


def test_the_marker_takes_every_option_typed(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        from datetime import datetime, timezone
        import pytest
        from pictograph_testing import FaultSpec

        START = datetime(2027, 1, 4, 9, 0, tzinfo=timezone.utc)

        @pytest.mark.pictograph(api_key="pk_live_mine", start=START, sdk_version="1.60.0",
                                journal_limit=5, seed=4, balance_usd=12.5)
        def test_options(pictograph_fake):
            assert pictograph_fake.api_key == "pk_live_mine"
            assert pictograph_fake.clock.now() == START
            assert pictograph_fake.sdk_version == "1.60.0"
            assert pictograph_fake.seed == 4 and pictograph_fake.balance_usd == 12.5

        @pytest.mark.pictograph(faults=[
            FaultSpec.fail_next("GET", "credits/balance", status=400),
            {"kind": "delay", "seconds": 2, "method": "GET", "path": "credits/history",
             "optional": True},
        ])
        def test_faults(pictograph_client, pictograph_fake):
            with pytest.raises(Exception):
                pictograph_client.credits.balance()
            assert len(pictograph_fake.faults.pending) == 1

        @pytest.mark.pictograph(seed="4")
        def test_wrong_type(pictograph_fake):
            pass

        @pytest.mark.pictograph(faults=[("GET", "credits/balance")])
        def test_tuple_fault(pictograph_fake):
            pass

        @pytest.mark.pictograph(seed=3)
        def test_no_fixture():
            pass
        """
    )
    result = project.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=3, errors=3)
    out = result.stdout.str()
    assert "@pytest.mark.pictograph(seed=...) must be int, got '4'" in out
    assert "a fault is a FaultSpec (FaultSpec.fail_next(" in out
    assert "test_no_fixture sets up the pictograph_fake fixture, but the test used no" in out


def test_the_marker_help_lists_every_option(project: pytest.Pytester) -> None:
    result = project.runpytest_inprocess("--markers")
    text = result.stdout.str()
    for option in (
        "api_key: str",
        "speed: float",
        "start: datetime",
        "strict: bool",
        "clock_modules: list[str]",
        "faults: list[FaultSpec | dict]",
    ):
        assert option in text


def test_the_fixture_help_says_what_teardown_checks(project: pytest.Pytester) -> None:
    text = project.runpytest_inprocess("--fixtures", "-v").stdout.str()
    assert "arm it with" in text
    assert "``optional=True``" in text
    assert "``.async_sleep`` for" in text
