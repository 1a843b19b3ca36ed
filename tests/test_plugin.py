"""The pytest plugin, run in pytester's inner sessions: fixtures, marker, ini options, live mode."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pictograph_testing.server import FakeServer

pytest_plugins = ["pytester"]

# Inner sessions start from a clean slate: no asyncio mode or warnings policy of ours.
INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""


# Plugins the inner sessions do not need: hypothesis's alone re-imports itself per run.
UNUSED_PLUGINS = "-p no:hypothesispytest -p no:faker -p no:xdist -p no:anyio -p no:cacheprovider"


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makeini(INI)
    monkeypatch.setenv("PYTEST_ADDOPTS", UNUSED_PLUGINS)
    return pytester


def test_fixtures_give_each_test_a_fresh_active_fake(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import os
        import pictograph
        from pictograph_testing import activation

        def test_first(pictograph_fake, pictograph_client):
            assert pictograph_fake.active
            assert isinstance(pictograph_client, pictograph.Client)
            pictograph_client.credits.balance()
            assert len(pictograph_fake.calls) == 1
            assert os.environ["PICTOGRAPH_API_KEY"] == pictograph_fake.api_key

        def test_second(pictograph_fake):
            assert not pictograph_fake.calls  # nothing from the first test

        def test_after():
            assert activation.active_fake() is None
            assert os.environ.get("PICTOGRAPH_API_KEY") != "unset by the plugin"
        """
    )
    inner.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=3)


def test_a_base_url_in_the_environment_in_any_case_does_not_lead_away(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDK reads its settings whatever their case: a lower-case base URL (a closed
    port here) is put aside while a fake runs, and back after."""
    monkeypatch.setenv("pictograph_base_url", "http://127.0.0.1:9")
    monkeypatch.setenv("Pictograph_Api_Key", "pk_live_elsewhere")
    inner.makepyfile(
        """
        import os
        import pictograph

        def test_own_client(pictograph_fake):
            with pictograph.Client() as client:
                client.credits.balance()
            assert pictograph_fake.calls.last.target == "/api/v1/developer/credits/balance"
            assert "pictograph_base_url" not in os.environ

        def test_after():
            assert os.environ["pictograph_base_url"] == "http://127.0.0.1:9"
            assert os.environ["Pictograph_Api_Key"] == "pk_live_elsewhere"
        """
    )
    inner.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=2)


def test_a_base_url_a_later_test_sets_in_another_case_does_not_lead_away(
    inner: pytest.Pytester,
) -> None:
    """A fixture of the second test sets `pictograph_base_url` (a closed port) before the
    fake: it is put aside for that test too, and gone once monkeypatch undoes it."""
    inner.makepyfile(
        """
        import os
        import pictograph
        import pytest

        @pytest.fixture
        def staging(monkeypatch):
            monkeypatch.setenv("pictograph_base_url", "http://127.0.0.1:9")

        @pytest.mark.parametrize("n", [1, 2])
        def test_own_client(staging, pictograph_fake, n):
            with pictograph.Client(max_retries=0) as client:
                client.credits.balance()
            assert pictograph_fake.calls.last.status == 200

        def test_after():
            assert "pictograph_base_url" not in os.environ
        """
    )
    inner.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=3)


def test_another_spelling_set_in_place_of_a_removed_name_is_put_aside(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The environment keeps its size (one name out, `pictograph_base_url` in): the
    other spelling is put aside all the same."""
    monkeypatch.setenv("SPARE_VARIABLE", "1")
    inner.makepyfile(
        """
        import pictograph
        import pytest

        def test_first(pictograph_fake):
            pass

        @pytest.fixture
        def swapped(monkeypatch):
            monkeypatch.delenv("SPARE_VARIABLE")
            monkeypatch.setenv("pictograph_base_url", "http://127.0.0.1:9")

        def test_own_client(swapped, pictograph_fake):
            with pictograph.Client(max_retries=0) as client:
                client.credits.balance()
            assert pictograph_fake.calls.last.status == 200
        """
    )
    inner.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=2)


def test_a_value_a_fixture_sets_with_monkeypatch_is_undone_as_it_expects(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fixture set up before the fake monkeypatches the key and base URL: the fake's
    values are taken out before monkeypatch undoes its own, so none leaks onwards."""
    monkeypatch.delenv("PICTOGRAPH_API_KEY", raising=False)
    monkeypatch.delenv("PICTOGRAPH_BASE_URL", raising=False)
    inner.makepyfile(
        """
        import os
        import pytest

        @pytest.fixture
        def staging(monkeypatch):
            monkeypatch.setenv("PICTOGRAPH_API_KEY", "pk_staging_from_monkeypatch")
            monkeypatch.setenv("PICTOGRAPH_BASE_URL", "https://staging.example.test")

        def test_with_staging(staging, pictograph_fake):
            assert os.environ["PICTOGRAPH_API_KEY"] == pictograph_fake.api_key
            assert os.environ["PICTOGRAPH_BASE_URL"] == pictograph_fake.base_url

        def test_next_with_a_fake(pictograph_fake):
            assert os.environ["PICTOGRAPH_API_KEY"] == pictograph_fake.api_key

        def test_without_a_fake():
            assert "PICTOGRAPH_API_KEY" not in os.environ
            assert "PICTOGRAPH_BASE_URL" not in os.environ
        """
    )
    inner.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=3)
    assert "PICTOGRAPH_API_KEY" not in os.environ


def test_a_change_a_test_makes_with_monkeypatch_while_its_fake_runs_leaks_nothing(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`monkeypatch` set up before the fake, and the test removes or replaces the key
    (an app checked without one): monkeypatch's undo, after the fake stopped, would put
    the fake's key back for every later test; the shell's values are back instead."""
    monkeypatch.delenv("PICTOGRAPH_API_KEY", raising=False)
    monkeypatch.delenv("PICTOGRAPH_BASE_URL", raising=False)
    inner.makepyfile(
        """
        import os
        from pictograph_testing import FakePictograph

        def test_without_a_key(monkeypatch, pictograph_client):
            monkeypatch.delenv("PICTOGRAPH_API_KEY")

        def test_with_a_key_of_its_own(monkeypatch, pictograph_fake):
            monkeypatch.setenv("PICTOGRAPH_API_KEY", "pk_live_mine")

        def test_with_a_fake_of_its_own(monkeypatch):
            with FakePictograph(seed=7):
                monkeypatch.delenv("PICTOGRAPH_API_KEY")

        def test_without_a_fake():
            assert "PICTOGRAPH_API_KEY" not in os.environ
            assert "PICTOGRAPH_BASE_URL" not in os.environ
        """
    )
    inner.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=4)
    assert "PICTOGRAPH_API_KEY" not in os.environ


def test_the_shells_timeout_and_retries_do_not_change_the_fixtures_clients(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fake's clients take the SDK's own defaults: `PICTOGRAPH_MAX_RETRIES=0` left in
    the shell would make an armed 503 fail a test that retries it away anywhere else."""
    monkeypatch.setenv("PICTOGRAPH_MAX_RETRIES", "0")
    monkeypatch.setenv("PICTOGRAPH_TIMEOUT", "not a number")
    inner.makepyfile(
        """
        import pytest

        UNAVAILABLE = {"kind": "status", "status": 503, "path": "credits/balance"}

        @pytest.mark.pictograph(faults=[UNAVAILABLE])
        def test_retried(pictograph_client, pictograph_fake):
            pictograph_client.credits.balance()
            assert [c.status for c in pictograph_fake.calls] == [503, 200]

        async def test_async_retried(pictograph_fake):
            pictograph_fake.faults.fail_next("GET", "credits/balance", status=503)
            async with pictograph_fake.async_client() as client:
                await client.credits.balance()
            assert [c.status for c in pictograph_fake.calls] == [503, 200]
        """
    )
    inner.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=2)


def test_the_client_fixture_alone_brings_its_fake(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        def test_client_only(pictograph_client, request):
            pictograph_client.credits.balance()
            fake = request.getfixturevalue("pictograph_fake")
            fake.calls.assert_called(path="/api/v1/developer/credits/balance", times=1)
        """
    )
    inner.runpytest_inprocess().assert_outcomes(passed=1)


def test_code_building_its_own_client_is_intercepted(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import pictograph

        def train_detector(dataset, export):
            with pictograph.Client() as client:
                return client.training.create(dataset, export, pipeline_type="yolox", name="d")

        def test_my_training_job(pictograph_fake):
            pictograph_fake.add_dataset("road-signs", images=10, completed_images=10)
            pictograph_fake.add_export("road-signs", "v1")
            result = train_detector("road-signs", "v1")
            assert result.status == "completed"
            assert pictograph_fake.calls.filter(method="POST", path="/api/v1/developer/training/")
        """
    )
    inner.runpytest_inprocess().assert_outcomes(passed=1)


def test_the_async_client_completes_a_wait_instantly(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import time
        import pictograph

        async def test_async_wait(pictograph_fake, pictograph_async_client):
            assert isinstance(pictograph_async_client, pictograph.AsyncClient)
            pictograph_fake.add_dataset("d", images=10, completed_images=10)
            pictograph_fake.add_export("d", "v1")
            run = await pictograph_async_client.training.create(
                "d", "v1", pipeline_type="yolox", name="r", config={"epochs": 100}, wait=True
            )
            assert run.status == "completed"
            # Minutes went by on the virtual clock, in a handful of polls' real time.
            assert pictograph_fake.clock.monotonic() > 300

        def test_in_a_sync_test(pictograph_async_client):
            import asyncio
            balance = asyncio.run(pictograph_async_client.credits.balance())
            assert balance.included_remaining_micro_usd > 0
        """
    )
    inner.runpytest_inprocess().assert_outcomes(passed=2)


def test_the_clock_fixture_is_the_fakes(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        def test_clock(pictograph_fake, pictograph_clock):
            assert pictograph_clock is pictograph_fake.clock
            pictograph_clock.advance(minutes=5)
            assert pictograph_fake.clock.monotonic() == 300
        """
    )
    inner.runpytest_inprocess().assert_outcomes(passed=1)


# ── marker and ini options ──


def test_the_marker_sets_up_the_fake(inner: pytest.Pytester) -> None:
    scenario = inner.path / "two-datasets.json"
    scenario.write_text(
        json.dumps(
            {
                "schema_version": 1,
                "datasets": [
                    {"name": "cats", "synthetic_images": {"count": 6, "complete": 6}},
                    {"name": "dogs", "synthetic_images": {"count": 2, "complete": 1}},
                ],
            }
        )
    )
    inner.makepyfile(
        f"""
        import pytest

        @pytest.mark.pictograph(profile="current", balance_usd=7.5, seed=42)
        def test_settings(pictograph_fake):
            assert pictograph_fake.profile == "current"
            assert pictograph_fake.balance_usd == 7.5
            assert pictograph_fake.seed == 42

        @pytest.mark.pictograph(scenario={str(scenario)!r})
        def test_scenario(pictograph_client):
            names = sorted(d.name for d in pictograph_client.datasets.list())
            assert names == ["cats", "dogs"]

        @pytest.mark.pictograph(base_url="http://fake.local:8080")
        def test_base_url(pictograph_fake):
            import os, pictograph
            assert os.environ["PICTOGRAPH_BASE_URL"] == "http://fake.local:8080"
            with pictograph.Client() as client:
                client.credits.balance()
            assert pictograph_fake.calls.last.target == "/api/v1/developer/credits/balance"
        """
    )
    inner.runpytest_inprocess().assert_outcomes(passed=3)


def test_ini_options_are_suite_defaults_and_markers_override_them(
    inner: pytest.Pytester,
) -> None:
    inner.makeini(
        INI
        + """
pictograph_profile = current
pictograph_seed = 9
pictograph_balance_usd = 3.25
"""
    )
    inner.makepyfile(
        """
        import pytest

        def test_defaults(pictograph_fake):
            assert (pictograph_fake.profile, pictograph_fake.seed) == ("current", 9)
            assert pictograph_fake.balance_usd == 3.25

        @pytest.mark.pictograph(seed=1)
        class TestNested:
            def test_class_marker(self, pictograph_fake):
                assert (pictograph_fake.profile, pictograph_fake.seed) == ("current", 1)

            @pytest.mark.pictograph(profile="classic")
            def test_nearest_marker_wins(self, pictograph_fake):
                assert (pictograph_fake.profile, pictograph_fake.seed) == ("classic", 1)
                assert pictograph_fake.balance_usd == 3.25
        """
    )
    inner.runpytest_inprocess().assert_outcomes(passed=3)


def test_a_module_marker_applies_to_every_test(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.pictograph(profile="current")

        def test_one(pictograph_fake):
            assert pictograph_fake.profile == "current"
        """
    )
    inner.runpytest_inprocess().assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("option", "kind", "value"), [("seed", "int", "many"), ("strict", "bool", "maybe")]
)
def test_a_bad_ini_value_is_a_usage_error(
    inner: pytest.Pytester, option: str, kind: str, value: str
) -> None:
    inner.makeini(INI + f"pictograph_{option} = {value}\n")
    inner.makepyfile("def test_x(): pass")
    result = inner.runpytest_inprocess()
    # pytest converts the value by the option's declared type; the plugin names the option.
    result.stderr.fnmatch_lines(
        [f"*ini option pictograph_{option} must be of type {kind}: *'{value}'*"]
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_pyproject_toml_takes_typed_values_natively_and_strings_in_ini_options(
    inner: pytest.Pytester,
) -> None:
    (inner.path / "tox.ini").unlink()  # so pyproject.toml is the only config file
    inner.makepyfile(
        """
        def test_defaults(pictograph_fake):
            assert pictograph_fake.strict is True
            assert (pictograph_fake.seed, pictograph_fake.balance_usd) == (3, 20.0)
            assert pictograph_fake.profile == "current"
            assert pictograph_fake.allow_hosts == ("localhost:9",)
        """
    )
    settings = """
        asyncio_default_fixture_loop_scope = "function"
        pictograph_strict = {strict}
        pictograph_balance_usd = {balance}
        pictograph_seed = {seed}
        pictograph_profile = "current"
        pictograph_allow_hosts = ["localhost:9"]
    """
    # pytest's ini-compatible table: strings, as in an ini file.
    inner.makepyprojecttoml(
        "[tool.pytest.ini_options]" + settings.format(strict='"true"', balance='"20"', seed='"3"')
    )
    inner.runpytest_inprocess().assert_outcomes(passed=1)
    if pytest.version_tuple >= (9,):
        # pytest 9's native table: TOML values, checked against each option's type.
        inner.makepyprojecttoml(
            "[tool.pytest]" + settings.format(strict="true", balance="20", seed="3")
        )
        inner.runpytest_inprocess().assert_outcomes(passed=1)


@pytest.mark.skipif(
    pytest.version_tuple < (9,), reason="the native [tool.pytest] table is pytest 9's"
)
def test_a_wrongly_typed_toml_value_names_the_option(inner: pytest.Pytester) -> None:
    (inner.path / "tox.ini").unlink()
    inner.makepyprojecttoml('[tool.pytest]\npictograph_seed = "many"\n')
    inner.makepyfile("def test_x(): pass")
    result = inner.runpytest_inprocess()
    result.stderr.fnmatch_lines(["*ini option pictograph_seed must be of type int: *'many'*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_an_unknown_marker_setting_fails_the_test_with_the_choices(
    inner: pytest.Pytester,
) -> None:
    inner.makepyfile(
        """
        import pytest

        @pytest.mark.pictograph(profle="current")
        def test_typo(pictograph_fake):
            pass
        """
    )
    result = inner.runpytest_inprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown setting(s) profle; it takes profile, balance_usd*"])


def test_a_marker_mistake_fails_set_up_with_what_to_fix_and_no_plugin_traceback(
    inner: pytest.Pytester,
) -> None:
    inner.makepyfile(
        """
        import pytest

        @pytest.mark.pictograph(balance_usd="20")
        def test_a_string_for_a_number(pictograph_fake):
            pass

        @pytest.mark.pictograph("current")
        def test_positional(pictograph_fake):
            pass

        @pytest.mark.pictograph(scenario_dirs=[3])
        def test_a_number_for_a_folder(pictograph_fake):
            pass

        @pytest.mark.pictograph(allow_hosts=[1])
        def test_a_number_for_a_host(pictograph_fake):
            pass

        @pytest.mark.pictograph(gpu_workers={"a100": "2"})
        def test_a_string_for_a_worker_count(pictograph_fake):
            pass

        @pytest.mark.pictograph(rate_limit=0)
        def test_no_requests_allowed(pictograph_fake):
            pass

        @pytest.mark.pictograph(profile="nope")
        def test_an_unknown_profile(pictograph_fake):
            pass

        @pytest.mark.pictograph(allow_hosts=None)
        def test_none_for_a_list(pictograph_fake):
            pass

        @pytest.mark.pictograph(clock_modules=None)
        def test_none_for_modules(pictograph_fake):
            pass

        @pytest.mark.pictograph(seed=None, profile=None)
        def test_none_for_a_setting_whose_default_is_none(pictograph_fake):
            assert pictograph_fake.seed == 0
        """
    )

    result = inner.runpytest_inprocess("-p", "no:randomly")

    result.assert_outcomes(errors=9, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*pictograph_fake could not be set up: *(balance_usd=...) must be int or float,"
            " got '20'",
            "*pictograph_fake could not be set up: *takes keywords only*got positional*",
            "*pictograph_fake could not be set up: *(scenario_dirs=...) must be a list of*",
            "*pictograph_fake could not be set up: allow_hosts must be a list of host names*",
            "*pictograph_fake could not be set up: a tier needs a whole number of workers*"
            "'2' for a100*",
            "*pictograph_fake could not be set up: rate_limit (requests per minute): *got 0",
            "*pictograph_fake could not be set up: unknown profile 'nope'*",
            "*pictograph_fake could not be set up: *(allow_hosts=...) must be list or tuple,"
            " got None",
            "*pictograph_fake could not be set up: *(clock_modules=...) must be list or tuple,"
            " got None",
        ]
    )
    # The test's mistake, said once: no traceback through the plugin, no chained error.
    output = result.stdout.str()
    assert "pytest_plugin.py" not in output
    assert "During handling of the above exception" not in output
    assert "UsageError" not in output


def test_the_marker_works_with_a_fixture_asked_for_at_run_time(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import pytest

        @pytest.mark.pictograph(balance_usd=5)
        def test_dynamic(request):
            fake = request.getfixturevalue("pictograph_fake")
            assert fake.balance_usd == 5

        @pytest.mark.pictograph(seed=2)
        def test_dynamic_client(request):
            request.getfixturevalue("pictograph_client").credits.balance()

        @pytest.mark.pictograph(balance_usd=5)
        def test_unused():
            pass

        @pytest.mark.pictograph(balance_usd=5)
        def test_unused_and_failing():
            assert False, "the test's own failure"

        @pytest.mark.pictograph(balance_usd=5)
        def test_unused_and_skipped():
            pytest.skip("skipped in the body")
        """
    )
    result = inner.runpytest_inprocess("-p", "no:randomly")
    # The unused marker is an error at teardown, whether the test passed or failed.
    result.assert_outcomes(passed=3, failed=1, skipped=1, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_unused *",
            "*@pytest.mark.pictograph(...) on test_unused sets up the pictograph_fake fixture, "
            "but the test used no pictograph fixture*request.getfixturevalue*",
            "*ERROR at teardown of test_unused_and_failing *",
        ]
    )
    assert "test_unused_and_skipped sets up" not in result.stdout.str()


def test_the_marker_is_registered_for_strict_markers(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import pytest

        @pytest.mark.pictograph(seed=1)
        @pytest.mark.pictograph_fake_only
        def test_marked(pictograph_fake):
            pass
        """
    )
    inner.runpytest_inprocess("--strict-markers").assert_outcomes(passed=1)


def test_the_plugin_can_be_turned_off(inner: pytest.Pytester) -> None:
    inner.makepyfile("def test_x(pictograph_fake): pass")
    result = inner.runpytest_inprocess("-p", "no:pictograph_testing")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'pictograph_fake' not found*"])


@pytest.mark.slow  # a subprocess: scripts/test_slow.sh
def test_the_fixture_without_the_plugins_hooks_says_what_to_load(inner: pytest.Pytester) -> None:
    # The fixture taken into a conftest on its own, the plugin turned off: it has no
    # test to read its markers from, and says so instead of failing somewhere deeper.
    inner.makeconftest("from pictograph_testing.pytest_plugin import pictograph_fake  # noqa")
    inner.makepyfile("def test_x(pictograph_fake): pass")
    # In a process of its own: in this one, this test is the running one.
    result = inner.runpytest_subprocess("-p", "no:pictograph_testing")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*RuntimeError: pictograph_fake is set up for a test that*"])


# ── live mode ──

LIVE_TESTS = """
import pytest

def test_contract(pictograph_client, pictograph_live):
    assert pictograph_live
    pictograph_client.credits.balance()

async def test_async_contract(pictograph_async_client):
    await pictograph_async_client.credits.balance()

def test_needs_the_fake(pictograph_fake):
    pass

def test_needs_the_clock(pictograph_clock):
    pass

@pytest.mark.pictograph_fake_only
def test_marked_fake_only(pictograph_client):
    pass

@pytest.mark.pictograph(seed=3)
def test_seeded(pictograph_client):
    pass

@pytest.mark.pictograph(profile="current")
def test_profile_only(pictograph_client):
    pictograph_client.credits.balance()

def test_without_fixtures():
    pass
"""


def test_live_without_a_key_skips_instead_of_failing(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MY_PICTOGRAPH_KEY", raising=False)
    inner.makepyfile(LIVE_TESTS)

    result = inner.runpytest_inprocess(
        "--pictograph-live", "--pictograph-live-key-env=MY_PICTOGRAPH_KEY", "-rs"
    )

    result.assert_outcomes(passed=1, skipped=7)
    result.stdout.fnmatch_lines(
        [
            "pictograph: live against the SDK's default API with NO key*$MY_PICTOGRAPH_KEY",
            "*needs an API key in $MY_PICTOGRAPH_KEY, and none is set*",
            "*uses pictograph_fake: needs the fake*--pictograph-live run*",
            "*uses pictograph_clock, pictograph_fake: needs the fake*",
            "*marked pictograph_fake_only*",
            "*its pictograph marker sets seed: the real API cannot be seeded*",
        ]
    )


@pytest.mark.parametrize(
    "environment",
    [
        {"PICTOGRAPH_BASE_URL": "https://staging.example.test"},
        # The SDK reads `pictograph_base_url` as it reads `PICTOGRAPH_BASE_URL`; an
        # empty value, in either case, is none.
        {"PICTOGRAPH_BASE_URL": "", "pictograph_base_url": "https://staging.example.test"},
    ],
    ids=["upper-case", "another-case"],
)
def test_the_live_header_names_the_base_url_the_sdk_reads_from_the_environment(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    monkeypatch.delenv("MY_PICTOGRAPH_KEY", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    inner.makepyfile("def test_nothing():\n    pass\n")

    result = inner.runpytest_inprocess(
        "--pictograph-live", "--pictograph-live-key-env=MY_PICTOGRAPH_KEY"
    )

    result.stdout.fnmatch_lines(
        [
            "pictograph: live against https://staging.example.test (from $PICTOGRAPH_BASE_URL)"
            " with NO key*"
        ]
    )


def test_live_with_a_key_yields_real_clients(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No network here: the "real API" is a fake on its own host, started for the session
    # in the inner conftest; the client fixtures know nothing of it.
    inner.makeconftest(
        """
        import pytest
        from pictograph_testing import FakePictograph

        LIVE = FakePictograph(seed=5, base_url="https://live.example.test")

        @pytest.fixture(autouse=True, scope="session")
        def live_api():
            with LIVE:
                yield LIVE

        @pytest.fixture(autouse=True)
        def key_is_the_live_one(pictograph_live):
            yield
            assert LIVE.calls, "the client fixtures talked to something else"
        """
    )
    inner.makepyfile(LIVE_TESTS.replace("def test_without_fixtures", "def _unused"))
    monkeypatch.setenv("LIVE_KEY", "to be replaced")
    # The key must be readable when the run configures: use the live fake's own key.
    from pictograph_testing import FakePictograph

    monkeypatch.setenv("LIVE_KEY", FakePictograph(seed=5).api_key)

    result = inner.runpytest_inprocess(
        "--pictograph-live",
        "--pictograph-live-key-env=LIVE_KEY",
        "--pictograph-live-base-url=https://live.example.test",
        "-rs",
    )

    result.assert_outcomes(passed=3, skipped=4)
    result.stdout.fnmatch_lines(
        ["pictograph: live against https://live.example.test with a key from $LIVE_KEY"]
    )


def test_live_a_client_the_code_under_test_builds_goes_where_the_fixtures_go(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A served fake stands in for a staging API. The shell holds another key (say a
    # production one) and no base URL: `pictograph.Client()` must not take them.
    inner.makepyfile(
        """
        import os
        import pictograph

        def test_own_client(pictograph_client):
            with pictograph.Client(max_retries=0) as own:
                assert own.credits.balance() == pictograph_client.credits.balance()
        """
    )
    with FakeServer(seed=5) as served:
        monkeypatch.setenv("STAGING_KEY", served.api_key)
        monkeypatch.setenv("PICTOGRAPH_API_KEY", "pk_live_" + "0" * 32)
        monkeypatch.delenv("PICTOGRAPH_BASE_URL", raising=False)
        result = inner.runpytest_inprocess(
            "--pictograph-live",
            "--pictograph-live-key-env=STAGING_KEY",
            f"--pictograph-live-base-url={served.base_url}",
        )
        own_calls = len(served.fake.calls.filter("GET", "credits/balance"))
    result.assert_outcomes(passed=1)
    assert own_calls == 2
    # Put back once the session ended.
    assert os.environ["PICTOGRAPH_API_KEY"] == "pk_live_" + "0" * 32
    assert "PICTOGRAPH_BASE_URL" not in os.environ


def test_live_a_marker_the_fake_would_refuse_fails_as_in_process(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_PICTOGRAPH_KEY", "pk_live_x")
    inner.makepyfile(
        """
        import pytest

        @pytest.mark.pictograph(profle="current")
        def test_misspelt(pictograph_live):
            pass

        @pytest.mark.pictograph(profile=3)
        def test_wrong_type(pictograph_live):
            pass

        @pytest.mark.pictograph(profile="nonsense")
        def test_unknown_profile(pictograph_live):
            pass

        @pytest.mark.pictograph(seed=None, profile="current")
        def test_sets_nothing_the_api_lacks(pictograph_live):
            # Live, the marker sets up no fake: no complaint that none was used.
            assert pictograph_live
        """
    )

    result = inner.runpytest_inprocess(
        "--pictograph-live", "--pictograph-live-key-env=MY_PICTOGRAPH_KEY"
    )

    result.assert_outcomes(passed=1, errors=3)
    result.stdout.fnmatch_lines_random(
        [
            "*pictograph_fake could not be set up: *unknown setting(s) profle*",
            "*pictograph_fake could not be set up: *(profile=...) must be str, got 3*",
            "*pictograph_fake could not be set up: *nonsense*",
        ]
    )


def test_the_live_header_names_the_ini_options_that_only_set_up_the_fake(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MY_PICTOGRAPH_KEY", raising=False)
    inner.makeini(INI + "pictograph_balance_usd = 0.01\npictograph_strict = true\n")
    inner.makepyfile("def test_nothing():\n    pass\n")

    live = inner.runpytest_inprocess(
        "--pictograph-live", "--pictograph-live-key-env=MY_PICTOGRAPH_KEY"
    )
    in_process = inner.runpytest_inprocess()

    live.stdout.fnmatch_lines(
        ["pictograph: ini pictograph_balance_usd set up the fake only: the live API ignores them"]
    )
    assert "ini pictograph_" not in in_process.stdout.str()


def test_live_options_without_live_are_named_in_the_header(inner: pytest.Pytester) -> None:
    # Kept in addopts, they are no mistake; but a run meant to be live that passes on the
    # fake says so where it starts.
    inner.makepyfile("def test_nothing():\n    pass\n")

    both = inner.runpytest_inprocess(
        "--pictograph-live-base-url=https://staging.example.test",
        "--pictograph-live-key-env=STAGING_KEY",
    )
    default_key_env = inner.runpytest_inprocess("--pictograph-live-key-env=PICTOGRAPH_API_KEY")
    plain = inner.runpytest_inprocess()

    both.assert_outcomes(passed=1)
    both.stdout.fnmatch_lines(
        [
            "pictograph: --pictograph-live-base-url and --pictograph-live-key-env given "
            "without --pictograph-live: on the fake"
        ]
    )
    assert "given without --pictograph-live" not in default_key_env.stdout.str()
    assert "pictograph:" not in plain.stdout.str()


@pytest.mark.parametrize("url", ["127.0.0.1:18765", "ftp://example.test", "https://"])
def test_a_live_base_url_that_is_no_http_url_is_a_usage_error(
    inner: pytest.Pytester, url: str
) -> None:
    inner.makepyfile("def test_nothing():\n    pass\n")

    result = inner.runpytest_inprocess("--pictograph-live", f"--pictograph-live-base-url={url}")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--pictograph-live-base-url must be an http or https URL*"])


def test_without_live_the_same_tests_run_on_the_fake(inner: pytest.Pytester) -> None:
    inner.makepyfile(LIVE_TESTS.replace("assert pictograph_live", "assert not pictograph_live"))
    inner.runpytest_inprocess().assert_outcomes(passed=8)


ASYNC_LIVE_TESTS = """
import asyncio

import pytest

async def test_reads(pictograph_async_client):
    await pictograph_async_client.credits.balance()
    # Two at once: the pool holds two connections, both open when the test ends.
    await asyncio.gather(
        pictograph_async_client.credits.balance(),
        pictograph_async_client.datasets.list(),
    )

async def test_reads_again(pictograph_async_client):
    await pictograph_async_client.credits.balance()

async def test_unused(pictograph_async_client):
    pass

@pytest.mark.asyncio(loop_scope="module")
async def test_on_a_loop_that_outlives_it(pictograph_async_client):
    # The loop is still open at the teardown, which closes the client on it.
    await pictograph_async_client.credits.balance()

def test_on_a_loop_of_its_own(pictograph_async_client):
    # The loop is closed before the teardown: it closed the client as it shut down.
    asyncio.run(pictograph_async_client.credits.balance())
"""


def test_the_live_async_client_closes_its_sockets_on_its_loop(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A served fake stands in for the real API: real sockets, on loopback. With warnings
    # as errors, a connection left open when its test's loop closes (a ResourceWarning
    # when it is collected) fails the run.
    inner.makeini(INI + "filterwarnings = error\n")
    inner.makepyfile(ASYNC_LIVE_TESTS)
    with FakeServer(seed=5) as served:
        monkeypatch.setenv("SERVED_KEY", served.api_key)
        result = inner.runpytest_subprocess(
            "--pictograph-live",
            "--pictograph-live-key-env=SERVED_KEY",
            f"--pictograph-live-base-url={served.base_url}",
            "-W",
            "error::ResourceWarning",
        )
        calls = len(served.fake.calls)
    result.assert_outcomes(passed=5)
    assert "ResourceWarning" not in result.stdout.str() + result.stderr.str()
    assert calls == 6


# ── the shipped contract suite ──

CONTRACT_SUITE = Path(__file__).parent / "contract"

# A stand-in for the real API, for the live run below: a fake on a host of its own,
# started by a plugin the inner session loads. The client fixtures know nothing of it.
STAND_IN_API = """
import pytest
from pictograph_testing import FakePictograph

API = FakePictograph(seed=11, profile="current", base_url="https://live.example.test")
API.add_dataset("acct-signs", images=8, completed_images=8)
API.add_export("acct-signs", "acct-v1")

def pytest_configure(config):
    API.start()

def pytest_unconfigure(config):
    API.stop()

def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"stand-in API answered {len(API.calls)} calls")
"""


def test_the_contract_suite_is_skipped_not_failed_without_a_live_key(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_KEY_HERE", raising=False)

    result = inner.runpytest_inprocess(
        str(CONTRACT_SUITE), "--pictograph-live", "--pictograph-live-key-env=NO_KEY_HERE"
    )

    outcomes = result.parseoutcomes()
    assert outcomes.get("skipped", 0) > 10
    assert set(outcomes) <= {"skipped"}
    assert result.ret == pytest.ExitCode.OK


def test_the_contract_suite_runs_live_with_a_key(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    inner.makepyfile(stand_in_api=STAND_IN_API)
    inner.syspathinsert()
    from pictograph_testing import FakePictograph

    monkeypatch.setenv("ACCOUNT_KEY", FakePictograph(seed=11).api_key)
    monkeypatch.setenv("PICTOGRAPH_CONTRACT_DATASET", "acct-signs")
    monkeypatch.setenv("PICTOGRAPH_CONTRACT_EXPORT", "acct-v1")
    monkeypatch.delenv("PICTOGRAPH_BASE_URL", raising=False)
    monkeypatch.setenv("PICTOGRAPH_API_KEY", "pk_live_before_the_session")

    result = inner.runpytest_inprocess(
        str(CONTRACT_SUITE),
        "-p",
        "stand_in_api",
        "--pictograph-live",
        "--pictograph-live-key-env=ACCOUNT_KEY",
        "--pictograph-live-base-url=https://live.example.test",
    )

    outcomes = result.parseoutcomes()
    assert outcomes["skipped"] == 2  # the two fake-only tests
    assert "failed" not in outcomes
    assert outcomes["passed"] >= 15
    result.stdout.fnmatch_lines(["stand-in API answered * calls"])
    # The stand-in, started after the live run pointed PICTOGRAPH_* at the live API and
    # stopped before that is undone, leaves the environment as the session found it.
    assert "PICTOGRAPH_BASE_URL" not in os.environ
    assert os.environ["PICTOGRAPH_API_KEY"] == "pk_live_before_the_session"


def test_an_ini_scenario_path_is_found_beside_the_ini_file(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    (inner.path / "worlds").mkdir()
    (inner.path / "worlds" / "one.json").write_text(
        json.dumps(
            {
                "schema_version": 1,
                "datasets": [{"name": "cats", "synthetic_images": {"count": 3, "complete": 3}}],
            }
        )
    )
    inner.makeini(INI + "pictograph_scenario = worlds/one.json\n")
    (inner.path / "sub").mkdir()
    (inner.path / "sub" / "test_x.py").write_text(
        "def test_x(pictograph_client):\n"
        "    assert [d.name for d in pictograph_client.datasets.list()] == ['cats']\n"
    )
    monkeypatch.chdir(inner.path / "sub")  # run from elsewhere than the ini file's folder

    inner.runpytest_inprocess(str(inner.path)).assert_outcomes(passed=1)


def test_live_runs_skip_tests_whose_marker_arms_faults(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_PICTOGRAPH_KEY", "pk_live_x")
    inner.makepyfile(
        """
        import pytest

        @pytest.mark.pictograph(faults=[{"kind": "status", "status": 503}])
        def test_retries(pictograph_client):
            pictograph_client.credits.balance()

        @pytest.mark.pictograph(rate_limit=5)
        def test_throttled(pictograph_client):
            pictograph_client.credits.balance()
        """
    )

    result = inner.runpytest_inprocess(
        "--pictograph-live", "--pictograph-live-key-env=MY_PICTOGRAPH_KEY", "-rs"
    )

    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(
        [
            "*its pictograph marker sets faults: the real API cannot be seeded or made to fail*",
            "*its pictograph marker sets rate_limit: *",
        ]
    )


def test_the_marker_arms_faults_in_the_inner_session(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import pytest

        @pytest.mark.pictograph(faults=[{"kind": "status", "path": "credits/*", "status": 503}])
        def test_retried(pictograph_fake, pictograph_client):
            pictograph_client.credits.balance()
            assert [c.status for c in pictograph_fake.calls] == [503, 200]

        @pytest.mark.pictograph(faults=[{"kind": "nonsense"}])
        def test_bad_spec(pictograph_fake):
            pass
        """
    )

    result = inner.runpytest_inprocess()

    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*fault kind must be one of*"])


def test_pytest_httpx_mocks_other_hosts_and_the_fake_keeps_its_own(inner: pytest.Pytester) -> None:
    # In either fixture order, first in the session or after a test whose fake's coupling
    # is held: httpx_mock answers example.com, the fake its own host; and once the test is
    # over, neither patch is left behind for the next.
    inner.makepyfile(
        """
        import httpx
        import pictograph
        import pytest

        def use_both(httpx_mock, fake):
            httpx_mock.add_response(url="https://example.com/z", json={"from": "httpx_mock"})
            assert httpx.get("https://example.com/z").json() == {"from": "httpx_mock"}
            with pictograph.Client(max_retries=0) as client:
                client.credits.balance()
            assert len(fake.calls) == 1

        def test_mock_first_in_the_session(httpx_mock, pictograph_fake):
            use_both(httpx_mock, pictograph_fake)

        def test_the_next_fake_still_answers(pictograph_fake):
            with pictograph.Client(max_retries=0) as client:
                client.credits.balance()
            assert len(pictograph_fake.calls) == 1

        def test_mock_first_while_held(httpx_mock, pictograph_fake):
            use_both(httpx_mock, pictograph_fake)

        def test_fake_first_while_held(pictograph_fake, httpx_mock):
            use_both(httpx_mock, pictograph_fake)

        async def test_async(pictograph_fake, httpx_mock):
            httpx_mock.add_response(url="https://example.com/a", status_code=201)
            async with httpx.AsyncClient() as http:
                assert (await http.get("https://example.com/a")).status_code == 201
            async with pictograph.AsyncClient(max_retries=0) as client:
                await client.credits.balance()
            assert len(pictograph_fake.calls) == 1

        def test_after_them_httpx_is_itself_again():
            assert httpx.HTTPTransport.handle_request.__module__ == "httpx._transports.default"
            assert httpx.AsyncHTTPTransport.handle_async_request.__module__ == (
                "httpx._transports.default"
            )
        """
    )

    inner.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=6)


FAILING_TRAINING = """
import pictograph
import pytest

def test_training_without_credit(pictograph_fake, pictograph_client):
    pictograph_fake.add_dataset("road-signs", images=10, completed_images=10)
    pictograph_fake.add_export("road-signs", "v1")
    for _ in range(3):
        pictograph_client.credits.balance()
    pictograph_client.training.create(
        "road-signs", "v1", pipeline_type="yolox", name="d", wait=False
    )

def test_no_fake_no_section():
    assert False
"""


def test_a_failing_test_reports_the_calls_the_fake_answered(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        FAILING_TRAINING.replace(
            "def test_training", "@pytest.mark.pictograph(balance_usd=0)\ndef test_training"
        )
    )
    result = inner.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(failed=2)
    text = result.stdout.str()
    # One section, for the test that used the fake: polls folded, the refusal's code named.
    assert text.count("pictograph calls") == 1
    result.stdout.fnmatch_lines(
        [
            "*- pictograph calls -*",
            "Calls the fake answered (4):",
            "*#0-2 *GET /api/v1/developer/credits/balance -> 200  (x3)",
            "*#3 *POST /api/v1/developer/training/ -> 402 insufficient_credits",
        ]
    )


def test_a_show_calls_value_that_is_no_truth_value_is_a_usage_error_naming_it(
    inner: pytest.Pytester,
) -> None:
    inner.makeini(INI + "pictograph_show_calls = perhaps\n")
    inner.makepyfile("def test_nothing(): pass")
    result = inner.runpytest_inprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ini option pictograph_show_calls: *perhaps*"])


def test_the_calls_section_can_be_turned_off(inner: pytest.Pytester) -> None:
    inner.makeini(INI + "pictograph_show_calls = false\n")
    inner.makepyfile(
        FAILING_TRAINING.replace(
            "def test_training", "@pytest.mark.pictograph(balance_usd=0)\ndef test_training"
        )
    )
    result = inner.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(failed=2)
    assert "pictograph calls" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*PaymentRequiredError*"])


def test_a_teardown_check_reports_the_problem_not_the_plugins_source(
    inner: pytest.Pytester,
) -> None:
    # The test passed but left a fault unfired, and its code swallowed a refused request:
    # the error says so in a few lines, without the hook's, fixture's and verify's source.
    inner.makepyfile(
        """
        import httpx
        import pytest

        @pytest.mark.pictograph(strict=True)
        def test_best_effort_notice(pictograph_fake, pictograph_client):
            pictograph_fake.faults.fail_next("GET", "credits/history", status=503)
            pictograph_client.credits.balance()
            try:
                httpx.post("https://hooks.example.com/notify", json={})
            except Exception:
                pass  # a notice is best-effort
        """
    )
    result = inner.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_best_effort_notice*",
            "E   *TeardownCheckFailed: 1 fault(s) armed and never fired:*",
            "*- POST https://hooks.example.com/notify*",
        ]
    )
    report = result.stdout.str()
    for source in ("def pytest_runtest_teardown", "fake.verify()", "def verify(self)"):
        assert source not in report


def test_the_settings_that_take_none_are_those_whose_default_is_none() -> None:
    import inspect

    from pictograph_testing import FakePictograph
    from pictograph_testing.pytest_plugin import SETTINGS, TAKES_NONE

    defaults = inspect.signature(FakePictograph.__init__).parameters
    assert {name for name in SETTINGS if defaults[name].default is None} == TAKES_NONE


# ── the plugin among pytest's own machinery: reruns, doctests, nested sessions ──


RERUN_ONCE = """
import pytest
from _pytest.runner import runtestprotocol

@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    # What pytest-rerunfailures does for a test that failed: the same item, run again.
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    for _ in range(2):
        item._initrequest()
        runtestprotocol(item, nextitem=nextitem, log=True)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True
"""


def test_a_rerun_is_checked_on_its_own_outcome_not_the_last_runs(inner: pytest.Pytester) -> None:
    """The first run passes (a fixture's teardown fails); the rerun fails in set-up, so
    its body never runs: no teardown check of a fault it never had the chance to fire."""
    inner.makeconftest(RERUN_ONCE)
    inner.makepyfile(
        """
        import pytest

        runs = []

        @pytest.fixture
        def flaky(pictograph_fake):
            runs.append(1)
            if len(runs) == 2:
                raise ConnectionError("unavailable in set-up, run 2")
            yield
            if len(runs) == 1:
                raise ConnectionError("cleanup failed, run 1")

        @pytest.mark.pictograph(
            faults=[{"kind": "status", "method": "GET", "path": "credits/balance", "status": 503}]
        )
        def test_balance_survives_a_503(flaky, pictograph_client):
            assert pictograph_client.credits.balance() is not None
        """
    )
    result = inner.runpytest_inprocess("-p", "no:randomly")
    report = result.stdout.str()
    assert "unavailable in set-up, run 2" in report
    assert "cleanup failed, run 1" in report
    assert "TeardownCheckFailed" not in report
    assert "never fired" not in report


def test_a_doctests_teardown_check_is_its_message_alone(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        billing='''
        import pictograph

        def balance_usd():
            """The account's included allowance, in dollars.

            >>> fake = getfixture("pictograph_fake")
            >>> _ = fake.faults.fail_next("GET", "credits/history", status=503)
            >>> balance_usd() > 0
            True
            """
            balance = pictograph.Client().credits.balance()
            return balance.included_allowance_micro_usd / 1e6
        '''
    )
    result = inner.runpytest_inprocess("-p", "no:randomly", "--doctest-modules", "billing.py")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*TeardownCheckFailed: 1 fault(s) armed and never fired*"])
    errors = result.stdout.str().partition("= ERRORS =")[2]
    for frame in ("pytest_plugin.py:", "fake.py:", "_pytest/", "pluggy/"):
        assert frame not in errors


def test_indirect_parameters_of_the_fake_are_refused_by_name(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("pictograph_fake", [{"balance_usd": 0.01}], indirect=True)
        def test_a_tiny_balance(pictograph_fake):
            assert pictograph_fake.balance_usd == 0.01
        """
    )
    result = inner.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*pictograph_fake takes no parameter (indirect parametrization)*pytest.mark.pictograph*"]
    )


def test_a_nested_session_keeps_the_scenario_folders_it_found_registered(
    inner: pytest.Pytester, tmp_path: Path
) -> None:
    """A folder registered before a nested session whose ini names it too stays
    registered after it (register_dir: "for the rest of the process")."""
    from pictograph_testing import scenario_registry

    folder = scenario_registry.register_dir(tmp_path)
    try:
        inner.makeini(INI + f"pictograph_scenario_dirs =\n    {folder}\n")
        inner.makepyfile("def test_inner(pictograph_fake):\n    pass\n")
        inner.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=1)
        assert folder in scenario_registry.registered_dirs()
    finally:
        scenario_registry.unregister_dir(folder)


def test_a_nested_session_stopped_by_pytest_exit_leaves_no_test_of_its_own_running(
    inner: pytest.Pytester,
) -> None:
    """The test running the nested session gets its own marker's fake, and its use."""
    inner.makeconftest('pytest_plugins = ["pytester"]\n')
    inner.makepyfile(
        """
        import pytest

        @pytest.mark.pictograph(balance_usd=42)
        def test_my_plugin_aborts_its_run(pytester, request):
            pytester.makepyfile(
                '''
                import pytest

                @pytest.mark.pictograph(balance_usd=1)
                def test_inner(pictograph_fake):
                    pytest.exit("my plugin aborts")
                '''
            )
            assert pytester.runpytest("-p", "no:randomly").ret == pytest.ExitCode.INTERRUPTED
            assert request.getfixturevalue("pictograph_fake").balance_usd == 42
        """
    )
    inner.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=1)


def test_a_fake_first_used_in_a_nested_session_works_after_it(inner: pytest.Pytester) -> None:
    """pytester drops the modules a nested session imported: the fake's, the first time a
    nested test uses it. The next test imports them again, and they work as the first."""
    inner.makeconftest('pytest_plugins = ["pytester"]\n')
    inner.makepyfile(
        """
        def test_1_my_plugin(pytester):
            pytester.makepyfile(
                '''
                def test_inner(pictograph_client):
                    assert pictograph_client.credits.balance() is not None
                '''
            )
            pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1)

        def test_2_uses_the_fake(pictograph_client):
            assert pictograph_client.credits.balance() is not None
        """
    )
    # A process of its own: in this one the fake's modules are imported already.
    inner.runpytest_subprocess("-p", "no:randomly").assert_outcomes(passed=2)


# ── what a mutation round of the plugin found unheld ──


def test_the_marker_takes_every_type_its_settings_are_documented_to_take(
    inner: pytest.Pytester,
) -> None:
    """A scenario as a snapshot or a path object, folders and faults as tuples, a whole
    number for a speed: each is a value the marker takes, not a mistake."""
    (inner.path / "worlds").mkdir()
    world = {
        "schema_version": 1,
        "datasets": [{"name": "cats", "synthetic_images": {"count": 2, "complete": 2}}],
    }
    (inner.path / "worlds" / "cats.json").write_text(json.dumps(world))
    inner.makepyfile(
        f"""
        import pathlib
        import pytest

        @pytest.mark.pictograph(scenario={world!r})
        def test_a_snapshot(pictograph_client):
            assert [d.name for d in pictograph_client.datasets.list()] == ["cats"]

        @pytest.mark.pictograph(scenario=pathlib.Path("worlds/cats.json"))
        def test_a_path_object(pictograph_client):
            assert [d.name for d in pictograph_client.datasets.list()] == ["cats"]

        @pytest.mark.pictograph(scenario="cats", scenario_dirs=("worlds",))
        def test_folders_in_a_tuple(pictograph_client):
            assert [d.name for d in pictograph_client.datasets.list()] == ["cats"]

        @pytest.mark.pictograph(
            faults=({{"kind": "status", "status": 503, "path": "credits/balance"}},)
        )
        def test_faults_in_a_tuple(pictograph_fake, pictograph_client):
            pictograph_client.credits.balance()
            assert [c.status for c in pictograph_fake.calls] == [503, 200]

        @pytest.mark.pictograph(speed=2)
        def test_a_whole_number_speed(pictograph_fake):
            pass
        """
    )
    inner.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=5)


def test_a_bool_is_no_number_and_a_number_no_bool_and_unknown_settings_are_sorted(
    inner: pytest.Pytester,
) -> None:
    # `True` is an int to Python and `1` is truthy: the marker still says what it wanted.
    inner.makepyfile(
        """
        import pytest

        @pytest.mark.pictograph(seed=True)
        def test_a_bool_for_a_seed(pictograph_fake):
            pass

        @pytest.mark.pictograph(strict=1)
        def test_a_number_for_strict(pictograph_fake):
            pass

        @pytest.mark.pictograph(sped=1, profle="current", seeds=2, balanse=3, strikt=True)
        def test_misspelt(pictograph_fake):
            pass
        """
    )
    result = inner.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(
        [
            "*pictograph_fake could not be set up: *(seed=...) must be int, got True",
            "*pictograph_fake could not be set up: *(strict=...) must be bool, got 1",
            "*unknown setting(s) balanse, profle, seeds, sped, strikt; it takes*",
        ]
    )


def test_a_test_marker_wins_over_its_class_marker_for_the_same_setting(
    inner: pytest.Pytester,
) -> None:
    inner.makepyfile(
        """
        import pytest

        @pytest.mark.pictograph(seed=1, balance_usd=4)
        class TestNested:
            @pytest.mark.pictograph(seed=2)
            def test_nearest(self, pictograph_fake):
                assert (pictograph_fake.seed, pictograph_fake.balance_usd) == (2, 4)
        """
    )
    inner.runpytest_inprocess().assert_outcomes(passed=1)


def test_a_class_or_module_marker_asks_nothing_of_a_test_that_uses_no_fixture(
    inner: pytest.Pytester,
) -> None:
    """Only a test's own marker is an error unused: a module's or class's is shared by
    tests that need no fake beside those that do."""
    inner.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.pictograph(seed=3)

        def test_with_a_fake(pictograph_fake):
            assert pictograph_fake.seed == 3

        def test_without_one():
            pass

        @pytest.mark.pictograph(profile="current")
        class TestPlain:
            def test_without_one_either(self):
                pass
        """
    )
    inner.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=3)


def test_an_unused_marker_is_not_blamed_for_a_test_that_never_ran(
    inner: pytest.Pytester,
) -> None:
    # Set-up failed before the test could ask for a fake: that failure is the whole story.
    inner.makepyfile(
        """
        import pytest

        @pytest.fixture
        def database():
            raise ConnectionError("no database in set-up")

        @pytest.mark.pictograph(seed=1)
        def test_set_up_fails(database, request):
            request.getfixturevalue("pictograph_fake")
        """
    )
    result = inner.runpytest_inprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ConnectionError: no database in set-up"])
    assert "used no pictograph fixture" not in result.stdout.str()


def test_live_fixtures_asked_for_at_run_time_are_skipped_as_parameters_are(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Collection sees no fixture in these signatures: the fixtures skip the test themselves.
    monkeypatch.delenv("MY_PICTOGRAPH_KEY", raising=False)
    inner.makepyfile(
        """
        def test_fake_at_run_time(request):
            request.getfixturevalue("pictograph_fake")

        def test_client_at_run_time(request):
            request.getfixturevalue("pictograph_client")

        def test_async_client_at_run_time(request):
            request.getfixturevalue("pictograph_async_client")
        """
    )
    result = inner.runpytest_inprocess(
        "-p",
        "no:randomly",
        "--pictograph-live",
        "--pictograph-live-key-env=MY_PICTOGRAPH_KEY",
        "-rs",
    )
    result.assert_outcomes(skipped=3)
    result.stdout.fnmatch_lines(
        [
            "SKIPPED * uses pictograph_fake, which a --pictograph-live run does not have",
            "SKIPPED * --pictograph-live needs an API key in $MY_PICTOGRAPH_KEY, and none is set",
            "SKIPPED * --pictograph-live needs an API key in $MY_PICTOGRAPH_KEY, and none is set",
        ]
    )


@pytest.mark.parametrize("key", [None, ""], ids=["unset", "empty"])
def test_live_without_a_key_a_client_test_is_skipped_before_its_other_fixtures_run(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, key: str | None
) -> None:
    """Skipped at collection, not by the client fixture: a fixture set up before it that
    needs the live account (here, its dataset) never runs. An empty key is no key."""
    if key is None:
        monkeypatch.delenv("MY_PICTOGRAPH_KEY", raising=False)
    else:
        monkeypatch.setenv("MY_PICTOGRAPH_KEY", key)
    inner.makepyfile(
        """
        import pytest

        @pytest.fixture
        def contract_dataset():
            pytest.fail("PICTOGRAPH_CONTRACT_DATASET names no dataset")

        def test_reads_the_dataset(contract_dataset, pictograph_client):
            pass
        """
    )
    result = inner.runpytest_inprocess(
        "--pictograph-live", "--pictograph-live-key-env=MY_PICTOGRAPH_KEY", "-rs"
    )
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        [
            "pictograph: live against * with NO key (client tests will be skipped) from "
            "$MY_PICTOGRAPH_KEY",
            "SKIPPED * --pictograph-live needs an API key in $MY_PICTOGRAPH_KEY, and none is set",
        ]
    )


def test_an_empty_live_key_env_option_means_the_default_variable(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PICTOGRAPH_API_KEY", "pk_live_" + "2" * 32)
    inner.makepyfile("def test_nothing():\n    pass\n")
    result = inner.runpytest_inprocess("--pictograph-live", "--pictograph-live-key-env=")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["pictograph: live against * with a key from $PICTOGRAPH_API_KEY"])


def test_live_the_marker_settings_the_real_api_takes_do_not_skip_a_test(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Where named scenarios are looked up and how long the journal is seed no world.
    monkeypatch.delenv("MY_PICTOGRAPH_KEY", raising=False)
    (inner.path / "worlds").mkdir()
    inner.makepyfile(
        """
        import pytest

        @pytest.mark.pictograph(scenario_dirs=["worlds"])
        def test_scenario_folders(pictograph_live):
            assert pictograph_live

        @pytest.mark.pictograph(journal_limit=50)
        def test_journal_limit(pictograph_live):
            assert pictograph_live
        """
    )
    result = inner.runpytest_inprocess(
        "--pictograph-live", "--pictograph-live-key-env=MY_PICTOGRAPH_KEY"
    )
    result.assert_outcomes(passed=2)


def test_live_a_conftest_that_starts_a_fake_at_configure_leaves_the_environment_as_found(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A conftest's hooks run before an installed plugin's: the plugin's configure goes
    first and its unconfigure last all the same, so the stand-in API starts on the live
    environment and stops before it is undone."""
    inner.makeconftest(STAND_IN_API)
    inner.makepyfile(
        """
        def test_reads(pictograph_client):
            pictograph_client.credits.balance()
        """
    )
    from pictograph_testing import FakePictograph

    monkeypatch.setenv("ACCOUNT_KEY", FakePictograph(seed=11).api_key)
    monkeypatch.delenv("PICTOGRAPH_BASE_URL", raising=False)
    monkeypatch.setenv("PICTOGRAPH_API_KEY", "pk_live_before_the_session")

    result = inner.runpytest_inprocess(
        "--pictograph-live",
        "--pictograph-live-key-env=ACCOUNT_KEY",
        "--pictograph-live-base-url=https://live.example.test",
    )

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["stand-in API answered 1 calls"])
    assert "PICTOGRAPH_BASE_URL" not in os.environ
    assert os.environ["PICTOGRAPH_API_KEY"] == "pk_live_before_the_session"


HTTPX_IS_ITSELF = 'httpx.HTTPTransport.handle_request.__module__ == "httpx._transports.default"'


def test_the_sdk_is_uncoupled_once_the_last_test_is_over(inner: pytest.Pytester) -> None:
    # What runs after the tests (a conftest's session hooks) finds httpx as it was.
    inner.makeconftest(
        f"""
        import httpx

        def pytest_sessionfinish(session):
            assert {HTTPX_IS_ITSELF}, "httpx still coupled to a fake"
        """
    )
    inner.makepyfile("def test_last(pictograph_fake):\n    pass\n")
    result = inner.runpytest_inprocess()
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK


def test_a_nested_session_stopped_by_pytest_exit_leaves_the_sdk_uncoupled(
    inner: pytest.Pytester,
) -> None:
    """The stopped test's teardown never ran: its session's end lets the coupling go."""
    inner.makeconftest('pytest_plugins = ["pytester"]\n')
    inner.makepyfile(
        f"""
        import httpx
        import pytest

        def test_my_plugin_aborts_its_run(pytester):
            pytester.makepyfile(
                '''
                import pytest

                def test_inner(pictograph_fake):
                    pytest.exit("my plugin aborts")
                '''
            )
            assert pytester.runpytest("-p", "no:randomly").ret == pytest.ExitCode.INTERRUPTED
            assert {HTTPX_IS_ITSELF}
        """
    )
    inner.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=1)


def test_every_scalar_and_list_ini_option_reaches_the_fake(inner: pytest.Pytester) -> None:
    inner.makeini(
        INI
        + """
pictograph_base_url = http://fake.local:8080
pictograph_sdk_version = 1.69.146
pictograph_clock_modules =
    app_jobs
"""
    )
    inner.makepyfile(
        app_jobs="import time\n\ndef now():\n    return time.monotonic()\n",
        test_defaults="""
        import app_jobs

        def test_defaults(pictograph_fake, pictograph_clock):
            assert pictograph_fake.base_url == "http://fake.local:8080"
            assert pictograph_fake.sdk_version == "1.69.146"
            assert pictograph_fake.clock_modules == ("app_jobs",)
            pictograph_clock.advance(minutes=5)
            assert app_jobs.now() == pictograph_clock.monotonic() == 300
        """,
    )
    inner.syspathinsert()
    inner.runpytest_inprocess().assert_outcomes(passed=1)


def test_ini_values_in_pyproject_strings_are_read_without_their_spaces(
    inner: pytest.Pytester,
) -> None:
    # TOML strings and lists keep the spaces an ini file's lines lose; blank entries go.
    (inner.path / "tox.ini").unlink()
    inner.makepyprojecttoml(
        """
        [tool.pytest.ini_options]
        asyncio_default_fixture_loop_scope = "function"
        pictograph_profile = " current "
        pictograph_scenario = ""
        pictograph_clock_modules = [" app_jobs ", ""]
        """
    )
    inner.makepyfile(
        app_jobs="import time\n",
        test_defaults="""
        def test_defaults(pictograph_fake):
            assert pictograph_fake.profile == "current"
            assert pictograph_fake.clock_modules == ("app_jobs",)
        """,
    )
    inner.syspathinsert()
    inner.runpytest_inprocess().assert_outcomes(passed=1)


def test_a_rerun_does_not_inherit_the_last_runs_use_of_the_fake_or_its_failed_checks(
    inner: pytest.Pytester,
) -> None:
    """Run 1 of each test asks for the fake; run 2 does not. The first test's marker is
    unused by its run 2; the second's run 2 fails with no calls section of run 1's fake."""
    inner.makeconftest(RERUN_ONCE)
    inner.makepyfile(
        """
        import pytest

        marked_runs = []
        checked_runs = []

        @pytest.mark.pictograph(seed=1)
        def test_marked(request):
            marked_runs.append(1)
            if len(marked_runs) == 1:
                request.getfixturevalue("pictograph_fake")

        def test_checked(request):
            checked_runs.append(1)
            if len(checked_runs) == 1:
                fake = request.getfixturevalue("pictograph_fake")
                fake.faults.fail_next("GET", "credits/history", status=503)
                return
            assert False, "run 2 fails on its own"
        """
    )
    result = inner.runpytest_inprocess("-p", "no:randomly")
    report = result.stdout.str()
    result.stdout.fnmatch_lines(
        ["*@pytest.mark.pictograph(...) on test_marked sets up the pictograph_fake fixture*"]
    )
    # Run 2's teardown alone (the summary repeats the words, whole where CI is set).
    assert report.count("ERROR at teardown of test_marked") == 1
    assert "run 2 fails on its own" in report
    # Run 1's teardown check failure alone shows the calls of its fake.
    assert report.count("- pictograph calls -") == 1


def test_a_fixture_failing_after_the_fake_stopped_shows_no_calls_of_it(
    inner: pytest.Pytester,
) -> None:
    # `fake_of` names a test's fake while it is set up (or its checks failed): once it
    # stopped, a later failure of the test's other fixtures is not about it.
    inner.makepyfile(
        """
        import pytest

        @pytest.fixture
        def cleanup():
            yield
            raise RuntimeError("cleanup failed")

        def test_reads(cleanup, pictograph_client):
            pictograph_client.credits.balance()
        """
    )
    result = inner.runpytest_inprocess()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*RuntimeError: cleanup failed"])
    assert "pictograph calls" not in result.stdout.str()


def test_a_marker_path_or_folder_under_the_home_folder_is_read_from_there(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `~` is the user's home, as in a shell, not a folder named "~" under the rootdir.
    home = inner.path / "home"
    (home / "worlds").mkdir(parents=True)
    world = {
        "schema_version": 1,
        "datasets": [{"name": "cats", "synthetic_images": {"count": 2, "complete": 2}}],
    }
    (home / "worlds" / "cats.json").write_text(json.dumps(world))
    monkeypatch.setenv("HOME", str(home))
    inner.makepyfile(
        """
        import pytest

        @pytest.mark.pictograph(scenario="~/worlds/cats.json")
        def test_a_path(pictograph_client):
            assert [d.name for d in pictograph_client.datasets.list()] == ["cats"]

        @pytest.mark.pictograph(scenario="cats", scenario_dirs=["~/worlds"])
        def test_a_folder(pictograph_client):
            assert [d.name for d in pictograph_client.datasets.list()] == ["cats"]
        """
    )
    inner.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=2)


def test_live_clients_go_to_the_live_base_url_whatever_the_environment_says_meanwhile(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No network: the "real API" is a fake on its own host; a second fake, started
    # after it, points PICTOGRAPH_BASE_URL at its own host while the tests run.
    inner.makeconftest(
        """
        import pytest
        from pictograph_testing import FakePictograph

        LIVE = FakePictograph(seed=5, base_url="https://live.example.test")
        OTHER = FakePictograph(seed=6, base_url="https://other.example.test")

        @pytest.fixture(autouse=True, scope="session")
        def apis():
            with LIVE, OTHER:
                yield

        @pytest.fixture(autouse=True)
        def only_the_live_api(pictograph_live):
            yield
            assert LIVE.calls and not OTHER.calls
        """
    )
    inner.makepyfile(
        """
        def test_sync(pictograph_client):
            pictograph_client.credits.balance()

        async def test_async(pictograph_async_client):
            await pictograph_async_client.credits.balance()
        """
    )
    from pictograph_testing import FakePictograph

    monkeypatch.setenv("LIVE_KEY", FakePictograph(seed=5).api_key)
    result = inner.runpytest_inprocess(
        "--pictograph-live",
        "--pictograph-live-key-env=LIVE_KEY",
        "--pictograph-live-base-url=https://live.example.test",
    )
    result.assert_outcomes(passed=2)


def test_a_missing_absolute_scenario_path_is_named_without_the_rootdir_hint(
    inner: pytest.Pytester,
) -> None:
    # The rootdir is where a relative path is read from: an absolute one never was.
    missing = inner.path / "worlds" / "gone.json"
    inner.makepyfile(
        f"""
        import pytest

        @pytest.mark.pictograph(scenario={str(missing)!r})
        def test_gone(pictograph_fake):
            pass
        """
    )
    result = inner.runpytest_inprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [f"*pictograph_fake could not be set up: no scenario file at {missing}"]
    )
    assert "read from the rootdir" not in result.stdout.str()
