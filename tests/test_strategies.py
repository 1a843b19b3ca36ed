"""Hypothesis strategies: valid requests are accepted, invalid ones refused for the reason named."""

from __future__ import annotations

import asyncio
import functools
import json
import re
import textwrap
from typing import Any

import httpx
import pictograph
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample
from pictograph.exceptions import ValidationError

from pictograph_testing import FakePictograph, ProfileName
from pictograph_testing import strategies as pst
from pictograph_testing.catalog import PIPELINES, PROFILES
from pictograph_testing.pytest_plugin import GIVEN_RECIPE

pytest_plugins = ["pytester"]

DATASET, EXPORT = "signs", "v1"
EVERY_KIND = ("bbox", "polygon", "keypoint")
"""Labels of every kind a pipeline learns from: under ``current`` a run trains only
classes its export labels in a kind its pipeline learns from, and a draw may be any."""
CHECKS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@functools.cache
def _world(profile: ProfileName) -> FakePictograph:
    """One fake per profile for the whole module: quotes and refusals change nothing."""
    fake = FakePictograph(seed=3, profile=profile, balance_usd=1000.0)
    fake.add_dataset(
        DATASET, images=20, completed_images=20, classes=["a", "b"], annotation_types=EVERY_KIND
    )
    fake.add_export(DATASET, EXPORT)
    return fake


@functools.cache
def _client(profile: ProfileName) -> pictograph.Client:
    return _world(profile).client(max_retries=0)


def _post(profile: ProfileName, body: dict[str, Any], *, path: str = "") -> httpx.Response:
    fake = _world(profile)
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
        return http.post(
            f"/api/v1/developer/training/{path}", json=body, headers={"X-API-Key": fake.api_key}
        )


# ── choices follow the catalog ──


@given(profile=pst.profiles(), data=st.data())
def test_pipelines_and_gpus_are_the_profiles(profile: ProfileName, data: st.DataObject) -> None:
    pipeline = data.draw(pst.pipelines(profile))
    gpu = data.draw(pst.gpu_types(profile))
    assert pipeline in PROFILES[profile].pipelines
    assert gpu in PROFILES[profile].gpu_types
    assert data.draw(pst.model_sizes(pipeline)) in PIPELINES[pipeline].variants


@given(gpu=pst.gpu_types("current", auto=False))
def test_auto_can_be_left_out(gpu: str) -> None:
    assert gpu != "auto"


def test_unknown_names_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="unknown profile 'nope'"):
        pst.pipelines("nope")
    with pytest.raises(ValueError, match="unknown pipeline 'nope'"):
        pst.training_configs("nope")


# ── valid requests are accepted ──


@pytest.mark.parametrize("profile", sorted(PROFILES))
@CHECKS
@given(data=st.data())
def test_every_valid_request_is_quoted(profile: ProfileName, data: st.DataObject) -> None:
    # Every value the API takes (sdk_version=None), detectron2 included: posted as JSON,
    # not through the SDK, which cannot parse a classic detectron2 quote since 1.8.1.
    request = data.draw(
        pst.create_requests(profile, dataset=DATASET, export=EXPORT, sdk_version=None)
    )
    del request["name"]  # a quote takes create's arguments but the name

    response = _post(profile, request, path="quote")

    assert response.status_code == 200, response.text
    quote = response.json()["data"]
    assert quote["pipeline_type"] == request["pipeline_type"]
    assert quote["epochs"] == request["config"].get("epochs", PROFILES[profile].default_epochs)


@CHECKS
@given(request=pst.create_requests("current", dataset=DATASET, export=EXPORT, max_epochs=5))
def test_a_valid_request_creates_a_run(request: dict[str, Any]) -> None:
    with FakePictograph(seed=1, profile="current") as fake:
        fake.add_dataset(DATASET, images=6, completed_images=6, annotation_types=EVERY_KIND)
        fake.add_export(DATASET, EXPORT)
        run = fake.client(max_retries=0).training.create(**request, wait=False)

    assert run.name == request["name"]
    assert run.status in ("pending", "queued")


@pytest.mark.parametrize("profile", sorted(PROFILES))
@CHECKS
@given(data=st.data())
def test_default_draws_are_what_the_installed_sdk_sends_and_parses(
    profile: ProfileName, data: st.DataObject
) -> None:
    request = data.draw(pst.create_requests(profile, dataset=DATASET, export=EXPORT, max_epochs=3))

    with FakePictograph(seed=2, profile=profile, balance_usd=1000.0) as fake:
        fake.add_dataset(DATASET, images=6, completed_images=6, annotation_types=EVERY_KIND)
        fake.add_export(DATASET, EXPORT)
        client = fake.client(max_retries=0)
        quoted = client.training.quote(**{k: v for k, v in request.items() if k != "name"})
        run = client.training.create(**request, wait=False)
        listed = client.training.list()

    assert quoted.pipeline_type == run.pipeline_type == request["pipeline_type"]
    assert [r.id for r in listed] == [run.id]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=pst.create_requests(dataset=DATASET, export=EXPORT, max_epochs=3))
def test_default_draws_parse_in_the_async_client(request: dict[str, Any]) -> None:
    async def create(fake: FakePictograph) -> pictograph.TrainingRun:
        async with fake.async_client(max_retries=0) as client:
            run = await client.training.create(**request, wait=False)
            return await client.training.get(run.id)

    with FakePictograph(seed=2, balance_usd=1000.0) as fake:
        fake.add_dataset(DATASET, images=6, completed_images=6, annotation_types=EVERY_KIND)
        fake.add_export(DATASET, EXPORT)
        fetched = asyncio.run(create(fake))

    assert fetched.pipeline_type == request["pipeline_type"]


def test_a_release_draws_what_its_models_parse() -> None:
    # detectron2: taken from every release under classic, parsed by releases before 1.8.1.
    assert find(pst.pipelines("classic", sdk_version="1.8.0"), lambda p: p == "detectron2")
    with pytest.raises(NoSuchExample):  # the installed SDK's (1.69) never
        find(pst.pipelines("classic"), lambda p: p == "detectron2")
    assert find(
        pst.run_payloads("classic", sdk_version=None),
        lambda r: r["pipeline_type"] == "detectron2",
        settings=settings(max_examples=500, database=None),
    )


RELEASES = [("classic", "1.8.0"), ("classic", "1.60.0"), ("current", "1.60.0")]
RELEASES += [("current", "1.67.3"), ("current", "1.67.16")]


@functools.cache
def _release_world(profile: ProfileName, release: str) -> FakePictograph:
    fake = FakePictograph(seed=3, profile=profile, balance_usd=1000.0, sdk_version=release)
    fake.add_dataset(
        DATASET, images=20, completed_images=20, classes=["a", "b"], annotation_types=EVERY_KIND
    )
    fake.add_export(DATASET, EXPORT)
    return fake


@pytest.mark.parametrize(("profile", "release"), RELEASES)
@CHECKS
@given(data=st.data())
def test_a_release_draws_only_what_its_api_takes(
    profile: ProfileName, release: str, data: st.DataObject
) -> None:
    # The fake answers in the release's dialect and refuses values its API did not take
    # (rfdetr_keypoint before 1.67.16, gpu auto before 1.67.3).
    request = data.draw(
        pst.create_requests(profile, dataset=DATASET, export=EXPORT, sdk_version=release)
    )
    del request["name"]
    fake = _release_world(profile, release)

    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
        response = http.post(
            "/api/v1/developer/training/quote", json=request, headers={"X-API-Key": fake.api_key}
        )

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("profile", "pipeline", "sdk_version", "says"),
    [
        ("current", "detectron2", pst.INSTALLED, "not one the 'current' profile trains that SDK"),
        ("classic", "rfdetr_keypoint", None, "not one the 'classic' profile trains: choose"),
        ("classic", "detectron2", pst.INSTALLED, "not one the 'classic' profile trains that SDK"),
        ("current", "no-such-pipeline", None, "unknown pipeline 'no-such-pipeline'"),
    ],
)
def test_a_pipeline_a_request_could_not_use_is_refused_when_the_strategy_is_made(
    profile: ProfileName, pipeline: str, sdk_version: str | None, says: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        pst.create_requests(profile, pipeline=pipeline, sdk_version=sdk_version)


def test_batch_sizes_are_bounded_below_the_api_s_unless_asked() -> None:
    high = pst.CONFIG_LIMITS["batch_size"][1]
    with pytest.raises(NoSuchExample):
        find(pst.training_configs("yolox"), lambda c: c.get("batch_size", 0) > 64)
    big = find(
        pst.training_configs("yolox", max_batch_size=high),
        lambda c: c.get("batch_size", 0) > 64,
        settings=settings(database=None, max_examples=500),
    )
    assert 64 < big["batch_size"] <= high


def test_an_sdk_version_that_is_not_a_release_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="sdk_version='latest' is not an SDK release"):
        pst.create_requests(sdk_version="latest")
    with pytest.raises(ValueError, match="unknown profile 'nope'"):
        pst.run_payloads("nope")


# ── invalid requests are refused, naming the field ──


@pytest.mark.parametrize("pipeline", sorted(PROFILES["classic"].pipelines))
@CHECKS
@given(data=st.data())
def test_every_invalid_config_is_refused_naming_its_field(
    pipeline: str, data: st.DataObject
) -> None:
    bad = data.draw(pst.invalid_training_configs(pipeline))

    with pytest.raises(ValidationError) as refused:
        _client("classic").training.quote(
            DATASET,
            EXPORT,
            # The classic profile's pipelines include detectron2, which the SDK's Literal lacks.
            pipeline_type=pipeline,  # type: ignore[arg-type]
            config=bad.value,
        )

    assert refused.value.status_code == 400
    located = {".".join(map(str, e["loc"][1:])) for e in refused.value.field_errors}
    assert bad.field in located


@pytest.mark.parametrize("profile", sorted(PROFILES))
@CHECKS
@given(data=st.data())
def test_every_invalid_create_body_is_refused_naming_its_field(
    profile: ProfileName, data: st.DataObject
) -> None:
    bad = data.draw(pst.invalid_create_requests(profile, dataset=DATASET, export=EXPORT))
    runs_before = len(_client(profile).training.list())

    response = _post(profile, bad.value)

    assert response.status_code in (400, 422), response.text
    body = response.json()
    located = {".".join(map(str, e["loc"][1:])) for e in body.get("detail") or []}
    assert bad.field in located, json.dumps(body)
    assert len(_client(profile).training.list()) == runs_before


# ── run payloads ──


@given(payload=pst.run_payloads())
def test_run_payloads_parse_as_the_sdks_training_run(payload: dict[str, Any]) -> None:
    run = pictograph.TrainingRun.model_validate(payload)

    assert run.status == payload["status"]
    if run.status == "completed":
        assert run.model_id is not None
        assert run.progress == 100
        assert run.completed_at is not None
    if run.status == "failed":
        assert run.error_message
    if run.status in ("pending", "queued"):
        assert run.started_at is None
        assert run.current_epoch == 0
    if run.started_at is not None and run.completed_at is not None:
        assert run.started_at <= run.completed_at
    assert 0 <= run.current_epoch <= (run.total_epochs or 0)
    for warning in run.warnings or []:
        assert warning.code == "classes_not_trained"
        assert warning.classes
        assert warning.message.startswith(f"{len(warning.classes)} class")


def _as_the_fake_sends_a_run(payload: dict[str, Any]) -> None:
    """What holds of every run the fake sends: ``current_epoch`` is the epoch in progress
    (the one reached, once ended), from 1 once training started; the metrics are the last
    finished epoch's; every ended run says how long it trained."""
    epoch, metrics = payload["current_epoch"], payload["metrics"]
    if payload["started_at"] is None:
        assert (epoch, metrics) == (0, {})
    elif payload["status"] == "completed":
        assert epoch == payload["total_epochs"] == metrics["epoch"]
    else:
        assert 1 <= epoch <= payload["total_epochs"]
        assert metrics.get("epoch", 0) == epoch - 1
        assert bool(metrics) == (epoch > 1)
    ended = payload["status"] in ("completed", "failed", "cancelled")
    assert isinstance(payload["training_time_seconds"], int) == ended


def test_the_fake_s_own_runs_keep_what_drawn_payloads_are_held_to() -> None:
    with FakePictograph(seed=2, profile="current") as fake, fake.client(max_retries=0) as sdk:
        fake.add_dataset(DATASET, images=10, completed_images=10)
        fake.add_export(DATASET, EXPORT)
        seen = []

        def read(run_id: str) -> None:
            seen.append(json.loads(fake.calls.last.response_body)["data"])
            assert seen[-1]["id"] == run_id

        cancelled = sdk.training.create(
            DATASET, EXPORT, pipeline_type="yolox", name="c", wait=False
        )
        sdk.training.cancel(run_id=cancelled.id)
        read(cancelled.id)
        fake.faults.fail_run(epoch=2)
        failed = sdk.training.create(DATASET, EXPORT, pipeline_type="yolox", name="f", wait=False)
        running = sdk.training.create(DATASET, EXPORT, pipeline_type="yolox", name="r", wait=False)
        for _ in range(6):
            fake.clock.advance(seconds=40)
            for run in (failed, running):
                sdk.training.get(run_id=run.id)
                read(run.id)
        sdk.training.wait_for_completion(running.id)
        read(running.id)
    statuses = {(p["status"], p["started_at"] is None) for p in seen}
    assert {("cancelled", True), ("failed", False), ("running", False)} <= statuses
    assert ("completed", False) in statuses
    for payload in seen:
        _as_the_fake_sends_a_run(payload)


@CHECKS
@given(payload=pst.run_payloads())
def test_run_payloads_are_runs_as_the_fake_sends_them(payload: dict[str, Any]) -> None:
    _as_the_fake_sends_a_run(payload)


def test_run_payloads_shrink_to_the_simplest_run() -> None:
    simplest = find(pst.run_payloads(), lambda p: True, settings=settings(database=None))
    assert (simplest["pipeline_type"], simplest["total_epochs"], simplest["status"]) == (
        "classification",
        1,
        "pending",
    )
    assert simplest["created_at"] == "2026-05-12T12:00:00Z"


def test_current_payloads_may_warn_of_classes_left_out_and_classic_ones_never() -> None:
    warned = find(pst.run_payloads(), lambda p: p["warnings"] is not None)
    [warning] = pictograph.TrainingRun.model_validate(warned).warnings or []
    assert {c["reason"] for c in warning.classes} <= {"no_training_data", "not_in_train_split"}
    assert warned["pipeline_type"] != "rfdetr_keypoint"  # it refuses to leave one out
    with pytest.raises(NoSuchExample):
        find(pst.run_payloads("classic"), lambda p: p["warnings"] is not None)


@given(payload=pst.run_payloads(status="running"))
def test_run_payloads_can_fix_the_status(payload: dict[str, Any]) -> None:
    assert payload["status"] == "running"
    assert payload["eta_seconds"] is not None


@given(payload=pst.run_payloads(profile="classic"))
def test_classic_payloads_use_the_classic_pipelines_the_sdk_parses(
    payload: dict[str, Any],
) -> None:
    assert payload["pipeline_type"] in PROFILES["classic"].pipelines
    assert pictograph.TrainingRun.model_validate(payload).pipeline_type == payload["pipeline_type"]


def test_an_unknown_status_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown run status"):
        pst.run_payloads(status="paused")


# ── a fake per example ──


def _inner_session(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """An inner pytest run of the plugin with hypothesis, without the plugins whose own
    fixtures or workers would get in its way."""
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:faker -p no:xdist -p no:cacheprovider")


def test_the_recipe_the_hint_shows_passes_as_written(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _inner_session(pytester, monkeypatch)
    pytester.makepyfile(
        "from hypothesis import given, settings\n"
        "from pictograph_testing import FakePictograph, strategies as pst\n\n"
        "@settings(max_examples=40, deadline=None)\n" + textwrap.dedent(GIVEN_RECIPE)
    )

    result = pytester.runpytest_inprocess()

    result.assert_outcomes(passed=1)


def test_given_with_the_fixture_fails_with_a_hint_to_make_a_fake_per_example(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _inner_session(pytester, monkeypatch)
    pytester.makepyfile(
        """
        from hypothesis import given, strategies as st
        from pictograph_testing import strategies as pst

        @given(request=pst.create_requests(dataset="signs", export="v1"))
        def test_shared(pictograph_fake, request):
            pass

        @given(n=st.integers())
        def test_other_fixture(tmp_path, n):
            pass
        """
    )

    result = pytester.runpytest_inprocess()

    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*FailedHealthCheck*",
            "*- pictograph_testing: a fake per example -*",
            "*with FakePictograph(profile='current') as fake:*",
            "*pictograph-testing.github.io/pictograph-testing/strategies/*",
        ]
    )
    assert (
        result.stdout.str().count("pictograph_testing: a fake per example") == 1
    )  # not for tmp_path's test


def test_given_with_a_live_client_is_told_to_share_it_not_to_make_a_fake(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _inner_session(pytester, monkeypatch)
    monkeypatch.setenv("LIVE_KEY", "pk_live_" + "1" * 32)
    pytester.makepyfile(
        """
        from hypothesis import given, strategies as st

        @given(n=st.integers())
        def test_shared(pictograph_client, n):
            pass
        """
    )

    result = pytester.runpytest_inprocess(
        "--pictograph-live",
        "--pictograph-live-key-env=LIVE_KEY",
        "--pictograph-live-base-url=https://live.example.test",
    )

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- pictograph_testing: one live client -*",
            "*share: say so with @settings(suppress_health_check=?HealthCheck.function_scoped*",
        ]
    )
    assert "with FakePictograph(profile='current')" not in result.stdout.str()


def test_another_health_check_of_a_test_with_the_fixture_gets_no_hint(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The hint is for the function-scoped fixture check alone; a test that suppressed it
    # and fails another check is told nothing about making a fake per example.
    _inner_session(pytester, monkeypatch)
    pytester.makepyfile(
        """
        from hypothesis import HealthCheck, given, settings, strategies as st

        @settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(n=st.integers().filter(lambda n: False))
        def test_filters_everything(pictograph_fake, n):
            pass
        """
    )

    result = pytester.runpytest_inprocess()

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*FailedHealthCheck*"])
    assert "a fake per example" not in result.stdout.str()
