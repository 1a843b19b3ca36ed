"""The request journal: every call recorded, filters, and failures that show what happened."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import httpx
import pictograph
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pictograph_testing import FakePictograph
from pictograph_testing.api.route_paths import other_spelling
from pictograph_testing.journal import path_matcher
from tests.conftest import DATASET, EXPORT
from tests.image_files import raw

TRAINING = "/api/v1/developer/training/"


def _train(client: pictograph.Client, name: str = "r1") -> pictograph.TrainingRun:
    return client.training.create(DATASET, EXPORT, pipeline_type="yolox", name=name, wait=False)


def test_every_call_is_recorded_with_its_request_and_answer(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    client.credits.balance()
    run = _train(client)
    fake.clock.advance(minutes=2)
    client.training.get(run.id)

    assert len(fake.calls) == 3
    balance, create, get = fake.calls
    assert (balance.method, balance.path, balance.status) == (
        "GET",
        "/api/v1/developer/credits/balance",
        200,
    )
    assert create.method == "POST"
    assert create.path == TRAINING
    assert create.json()["pipeline_type"] == "yolox"
    assert create.response_json()["data"]["id"] == run.id
    assert get.elapsed == 120.0
    assert get.at == fake.clock.start + timedelta(minutes=2)
    assert get.request_id.startswith("req_")
    assert [c.index for c in fake.calls] == [0, 1, 2]


async def test_each_call_keeps_the_idempotency_key_it_sent(
    fake: FakePictograph, client: pictograph.Client, aclient: pictograph.AsyncClient
) -> None:
    # Lost twice (a dropped connection, then a 503 after the work), sent three times with
    # one key; a read sends none.
    fake.faults.fail_next("POST", "training/", error="read_error", after=True)
    fake.faults.fail_next("POST", "training/", status=503, after=True)
    with fake.client() as retrying:  # the SDK's own retries
        _train(retrying)
    client.credits.balance()
    await aclient.training.create(DATASET, EXPORT, pipeline_type="yolox", name="r2", wait=False)
    with httpx.Client(transport=fake.transport(), base_url=fake.base_url) as http:
        http.post(TRAINING, headers={"X-API-Key": fake.api_key, "Idempotency-Key": "mine-1"})

    creates = fake.calls.filter("POST", "training/")
    assert [c.status for c in creates] == [0, 503, 200, 200, 422]
    first, second, third, other, raw = creates
    assert first.idempotency_key is not None
    assert first.idempotency_key == second.idempotency_key == third.idempotency_key
    assert other.idempotency_key not in (None, first.idempotency_key)
    assert raw.idempotency_key == "mine-1"
    assert fake.calls.filter("GET", "credits/balance").last.idempotency_key is None


def test_query_and_params_are_kept(fake: FakePictograph, client: pictograph.Client) -> None:
    client.training.list(status="completed", limit=5)

    call = fake.calls.last
    assert call.path == TRAINING
    assert call.params["status"] == "completed"
    assert "limit=5" in call.query
    assert call.target.startswith(TRAINING + "?")


def test_refusals_are_recorded_with_their_status(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    with pytest.raises(pictograph.exceptions.NotFoundError):
        client.training.get("no-such-run")

    fake.calls.assert_called(method="GET", status=404, times=1)
    assert fake.calls.last.response_json()["error"]


def test_filter_is_truthy_and_sized(fake: FakePictograph, client: pictograph.Client) -> None:
    _train(client)
    client.training.get("r1")
    client.training.get("r1")

    assert fake.calls.filter(method="POST", path=TRAINING)
    assert not fake.calls.filter(method="DELETE")
    assert len(fake.calls.filter(method="get")) == 2  # methods match in any case
    assert len(fake.calls.filter(path=TRAINING + "*")) == 3  # '*' is one segment
    assert len(fake.calls.filter(path="/api/**")) == 3  # '**' crosses segments
    assert len(fake.calls.filter(path=re.compile(r".*/training/r1"))) == 2
    assert fake.calls.filter(json={"pipeline_type": "yolox", "name": "r1"})
    assert not fake.calls.filter(json={"pipeline_type": "detectron2"})
    assert (
        len(fake.calls.filter(where=lambda call: call.status == 200 and call.method == "GET")) == 2
    )
    assert fake.calls.filter(method="GET").filter(path=TRAINING + "r1").last.index == 2


def test_params_match_on_the_values_given(fake: FakePictograph, client: pictograph.Client) -> None:
    client.training.list(status="completed")
    client.training.list(status="failed")

    assert len(fake.calls.filter(params={"status": "failed"})) == 1
    assert not fake.calls.filter(params={"status": "running"})


def test_first_last_and_slices(fake: FakePictograph, client: pictograph.Client) -> None:
    client.credits.balance()
    _train(client)

    assert fake.calls.first.path.endswith("/credits/balance")
    assert fake.calls.last.method == "POST"
    assert fake.calls[-1].index == 1
    assert [c.index for c in fake.calls[:1]] == [0]
    with pytest.raises(IndexError):
        fake.calls[5]


def test_the_journal_is_live_and_can_be_cleared(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    calls = fake.calls
    client.credits.balance()
    assert len(calls) == 1

    calls.clear()
    client.credits.balance()

    assert len(fake.calls) == 1
    assert fake.calls.last.index == 0


def test_assert_called_returns_the_matches(fake: FakePictograph, client: pictograph.Client) -> None:
    _train(client)

    found = fake.calls.assert_called(method="POST", path=TRAINING, times=1)

    assert found.last.json()["name"] == "r1"


def test_a_failed_assertion_lists_the_calls_seen(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    client.credits.balance()
    _train(client)

    with pytest.raises(AssertionError) as failure:
        fake.calls.assert_called(method="POST", path="/api/v1/developer/datasets/")

    message = str(failure.value)
    assert "expected a call matching method='POST', path='/api/v1/developer/datasets/'" in message
    assert "0 matched" in message
    assert "GET /api/v1/developer/credits/balance -> 200" in message
    assert f"POST {TRAINING} -> 200" in message


def test_a_wrong_count_marks_the_matching_calls(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    client.credits.balance()
    _train(client)

    with pytest.raises(AssertionError) as failure:
        fake.calls.assert_called(method="POST", times=2)

    lines = str(failure.value).splitlines()
    assert lines[0] == "expected exactly 2 calls matching method='POST'; 1 matched."
    assert [line for line in lines if line.startswith(" *")] == [
        f" * #1    +0.0s  POST {TRAINING} -> 200"
    ]


def test_assert_not_called_lists_the_offenders(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    _train(client)

    fake.calls.assert_not_called(method="DELETE")
    with pytest.raises(AssertionError, match=r"expected no call matching method='POST'; 1 matched"):
        fake.calls.assert_not_called(method="POST")


def test_a_poll_loop_folds_into_one_line(fake: FakePictograph, client: pictograph.Client) -> None:
    run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="r1", wait=True)

    with pytest.raises(AssertionError) as failure:
        fake.calls.assert_called(method="DELETE")

    message = str(failure.value)
    polls = len(fake.calls) - 1
    assert f"GET {TRAINING}{run.id} -> 200  (x{polls})" in message
    assert len(message.splitlines()) == 4  # the summary, a header, the create, the polls


def test_last_of_nothing_says_what_was_seen(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    client.credits.balance()

    with pytest.raises(AssertionError, match="none matched method='POST'") as failure:
        _ = fake.calls.filter(method="POST").last
    assert "GET /api/v1/developer/credits/balance" in str(failure.value)

    with pytest.raises(AssertionError, match="the fake answered none"):
        _ = FakePictograph().calls.last


def test_reprs_read_as_requests(fake: FakePictograph, client: pictograph.Client) -> None:
    client.credits.balance()

    assert repr(fake.calls.last) == "<Call #0 GET /api/v1/developer/credits/balance -> 200>"
    assert "GET /api/v1/developer/credits/balance -> 200" in repr(fake.calls)


def test_percent_encoded_paths_match_decoded(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    with pytest.raises(pictograph.exceptions.NotFoundError):
        client.training.get("a run")

    call = fake.calls.last
    assert call.path == TRAINING + "a run"
    assert "%20" in call.target
    assert fake.calls.filter(path=TRAINING + "a run")


def test_the_journal_reads_while_other_threads_make_calls() -> None:
    # A test reading `fake.calls` while worker threads still call the fake: each read
    # is one consistent instant, never "deque mutated during iteration", and an index
    # always belongs to its call, even as the journal drops its oldest.
    with FakePictograph(seed=1, journal_limit=50) as fake:
        client = fake.client(max_retries=0)
        done = threading.Event()
        problems: list[str] = []

        def call() -> None:
            while not done.is_set():
                client.credits.balance()

        def read() -> None:
            try:
                for _ in range(300):
                    calls = list(fake.calls)
                    indexes = [c.index for c in calls]
                    if indexes != list(range(indexes[0], indexes[0] + len(indexes))):
                        problems.append(f"indexes out of step: {indexes[:3]}...")
                    fake.calls.filter(method="GET", path="credits/balance")
                    _ = fake.calls[-1]
            except Exception as exc:  # what the test is about: record, then assert
                problems.append(repr(exc))
            finally:
                done.set()

        client.credits.balance()
        workers = [threading.Thread(target=call) for _ in range(2)]
        reader = threading.Thread(target=read)
        for thread in (*workers, reader):
            thread.start()
        for thread in (reader, *workers):
            thread.join()

    assert problems == []


def test_params_match_a_flag_as_the_sdk_passed_it(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    client.datasets.list(archived=True)

    assert fake.calls.last.params["archived"] == "true"  # as httpx writes it
    fake.calls.assert_called("GET", "datasets/", params={"archived": True}, times=1)
    fake.calls.assert_not_called(params={"archived": False})


async def test_params_match_a_flag_from_the_async_client(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    await aclient.datasets.list(archived=True)

    fake.calls.assert_called("GET", "datasets/", params={"archived": True, "limit": 100})


def test_head_requests_filter_by_the_get_route(fake: FakePictograph) -> None:
    # The SDK sends no HEAD; a health check or a proxy might. It is served wherever GET is.
    answer = httpx.head(
        f"{fake.base_url}/api/v1/developer/credits/balance", headers={"X-API-Key": fake.api_key}
    )

    assert answer.status_code == 200
    fake.calls.assert_called("HEAD", "credits/balance", times=1)
    fake.calls.assert_not_called("GET", "credits/balance")
    with pytest.raises(ValueError, match=r"no route GET .*credits/balanse"):
        fake.calls.filter("HEAD", "credits/balanse")


def test_a_failure_cuts_a_long_target_to_one_readable_line(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    with pytest.raises(pictograph.exceptions.ValidationError):
        # Deliberately a status the SDK's Literal refuses, and too long: the fake must refuse it.
        client.training.list(status="x" * 5000)  # type: ignore[arg-type]

    with pytest.raises(AssertionError) as failure:
        fake.calls.assert_called("POST", "training/")

    message = str(failure.value)
    assert len(message) < 600
    assert f"GET {TRAINING}?" in message
    assert "... (4,8" in message
    assert message.endswith("more characters) -> 422 validation_error")
    assert len(fake.calls.last.target) > 5000  # the journal keeps it whole


def test_a_chained_filter_names_every_step_and_lists_every_call(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    client.credits.balance()
    _train(client)

    with pytest.raises(AssertionError) as failure:
        _ = fake.calls.filter(method="POST").filter(status=201).last
    message = str(failure.value)
    assert "none matched method='POST', then status=201." in message
    assert "Calls the fake answered (2; * = matched):" in message
    assert "GET /api/v1/developer/credits/balance -> 200" in message

    with pytest.raises(AssertionError) as failure:
        fake.calls.filter(method="GET").assert_called(path=TRAINING)
    message = str(failure.value)
    assert "matching method='GET', then path=" in message
    assert f"POST {TRAINING} -> 200" in message  # not just the GET calls

    with pytest.raises(AssertionError, match=r"none matched \[5:\]\.\nCalls the fake answered \(2"):
        _ = fake.calls[5:].first


def test_a_name_with_a_slash_stays_one_segment(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # The SDK sends dataset "signs/2026 ü" as signs%2F2026%20%C3%BC: one segment, which
    # placeholders, '*' and faults on the route must match like any other name.
    fake.add_dataset("signs/2026 ü", images=2, completed_images=2, classes=["stop"])
    fake.faults.fail_next("GET", "datasets/{dataset}", status=503)
    with pytest.raises(pictograph.exceptions.PictographError):
        client.datasets.get("signs/2026 ü")
    client.datasets.get("signs/2026 ü")

    call = fake.calls.last
    assert call.path == "/api/v1/developer/datasets/signs%2F2026 ü"
    assert call.target == "/api/v1/developer/datasets/signs%2F2026%20%C3%BC"
    fake.calls.assert_called("GET", "datasets/{dataset}", times=2)
    fake.calls.assert_called("GET", "datasets/*", status=200, times=1)
    fake.calls.assert_called(path="datasets/signs%2F2026 ü", fault=True, times=1)


async def test_a_name_with_a_slash_from_the_async_client(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    fake.add_dataset("a/b", images=1, completed_images=1, classes=["stop"])

    await aclient.datasets.get("a/b")

    fake.calls.assert_called("GET", "datasets/{dataset}", status=200, times=1)


# ── globs ──

_GLOB_PIECES = ("a", "b", "/", "ab/", "/a", "*", "**", "{run}")


def _regex_of(glob: str) -> re.Pattern[str]:
    """What a glob means, as a regex (which backtracks for ever on some: the oracle only)."""
    pieces = re.split(r"(\*\*|\*|\{run\})", glob)
    return re.compile(
        "".join(
            ".*"
            if p == "**"
            else "[^/]*"
            if p == "*"
            else "[^/]+"
            if p == "{run}"
            else re.escape(p)
            for p in pieces
        )
    )


@given(
    glob=st.lists(st.sampled_from(_GLOB_PIECES), min_size=1, max_size=6).map("".join),
    candidate=st.text(alphabet="ab/", max_size=10),
)
def test_a_glob_matches_what_its_regex_matches(glob: str, candidate: str) -> None:
    # In either spelling of the path, with or without its final '/'.
    matcher = path_matcher(glob)
    assert matcher is not None
    other = other_spelling(candidate)
    spellings = (candidate,) if other is None else (candidate, other)
    expected = any(_regex_of(glob).fullmatch(s) is not None for s in spellings)
    assert matcher(candidate) is expected


def test_a_glob_of_many_double_stars_answers_on_a_long_path(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # As a regex, `.*/.*/...` on a deep path that does not match backtracks for hours.
    deep = "/".join(["x"] * 60)
    glob = "**/" * 12 + "balance"
    matcher = path_matcher(glob)
    assert matcher is not None
    assert not matcher(deep + "/nope")
    assert matcher(deep + "/balance")
    client.credits.balance()
    assert len(fake.calls.filter(path="/**/**/**/balance")) == 1
    fake.faults.fail_next("GET", "/**/**/**/balance", status=503)
    with pytest.raises(pictograph.exceptions.ServerError), fake.client(max_retries=0) as once:
        once.credits.balance()


def test_times_zero_and_the_status_bounds_are_criteria(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    """``times`` is 0 or more and ``status`` 100 to 599 (or 0): the bounds themselves are
    criteria, which match what they say."""
    client.credits.balance()
    assert len(fake.calls.assert_called("GET", "credits/history", times=0)) == 0
    with pytest.raises(AssertionError, match="expected exactly 0 calls"):
        fake.calls.assert_called("GET", "credits/balance", times=0)
    assert not fake.calls.filter(status=599)
    assert not fake.calls.filter(status=100)
    fake.calls.assert_not_called(status=599)


# ── how a filter or a fault names a route (api/route_paths.py) ──


def test_a_method_in_any_case_names_its_routes(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.faults.fail_next("get", "credits/balance", status=503)
    with pytest.raises(pictograph.ServerError):
        client.credits.balance()
    assert len(fake.calls.filter("get", "credits/balance")) == 1


def test_either_spelling_of_a_route_names_it(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # The API answers a route with or without its final '/': a filter takes either.
    client.training.list()
    client.credits.balance()
    assert [c.path for c in fake.calls.filter("GET", "training")] == ["/api/v1/developer/training/"]
    assert len(fake.calls.filter("GET", "credits/balance/")) == 1


def test_a_path_the_api_lacks_is_refused_naming_the_three_nearest_routes(
    fake: FakePictograph,
) -> None:
    with pytest.raises(ValueError, match="no route GET") as refused:
        fake.calls.filter("GET", "credit/balance")
    assert (
        "Did you mean 'GET /api/v1/developer/credits/balance' or "
        "'GET /api/v1/developer/credits/estimate' or "
        "'GET /api/v1/developer/credits/history'?"
    ) in str(refused.value)


def test_one_star_keeps_within_a_segment_two_cross_them(fake: FakePictograph) -> None:
    assert len(fake.calls.filter("GET", "credits**history")) == 0
    # `credits*history` would need its star to take the '/' of credits/history.
    with pytest.raises(ValueError, match="no route GET"):
        fake.calls.filter("GET", "credits*history")


def test_a_pattern_may_name_a_route_by_its_other_path_or_a_typed_placeholder(
    fake: FakePictograph,
) -> None:
    # training/by-name/{run} is another path of a run's route (SDKs 1.61-1.69.43).
    assert len(fake.calls.filter("GET", "training/by-name/*")) == 0
    # A template as the route table writes it (docs/routes.md), its placeholder typed:
    # only an image's id reaches GET images/{image:uuid}.
    assert len(fake.calls.filter("GET", "images/{image:uuid}")) == 0


def test_an_encoded_slash_in_either_case_stays_inside_its_segment() -> None:
    with FakePictograph(seed=1) as fake:
        fake.add_dataset("a/b", images=2, completed_images=2)
        with raw(fake) as http:
            # Another client than the SDK may encode the slash in lower case.
            found = http.get("/api/v1/developer/datasets/a%2fb")
        assert found.status_code == 200
        assert fake.calls.last.path == "/api/v1/developer/datasets/a%2Fb"
        assert len(fake.calls.filter("GET", "datasets/{dataset}")) == 1


def test_one_final_slash_is_optional_two_name_no_route(fake: FakePictograph) -> None:
    with pytest.raises(ValueError, match="no route GET /api/v1/developer/training//"):
        fake.calls.filter("GET", "training//")
    with raw(fake) as http:
        answer = http.get("/api/v1/developer/training//")
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "not_found")


def test_an_idempotency_key_replays_across_a_routes_two_spellings(fake: FakePictograph) -> None:
    body = {"dataset_name": DATASET, "export_name": EXPORT, "pipeline_type": "yolox", "name": "r"}
    headers = {"Idempotency-Key": "create-r"}
    with raw(fake) as http:
        first = http.post("/api/v1/developer/training/", json=body, headers=headers)
        again = http.post("/api/v1/developer/training", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["data"]["id"] == first.json()["data"]["id"]
    assert again.headers["idempotent-replayed"] == "true"


def test_a_base_urls_own_path_is_answered_as_a_hosts_root_is() -> None:
    answers = []
    for base_url, target in (
        ("http://localhost:8123/pictograph", "/pictograph"),
        ("http://localhost:8123", "/"),
    ):
        with (
            FakePictograph(seed=1, base_url=base_url, assert_all_served=False) as fake,
            httpx.Client(transport=fake.transport(), base_url="http://localhost:8123") as http,
        ):
            answer = http.get(target, headers={"X-API-Key": fake.api_key})
            answers.append((answer.status_code, answer.json()["error"]["code"]))
            assert fake.calls.last.path == target  # the journal shows the path as sent
            if target != "/":
                # A path beside the mount is no part of it: not below, and not routed.
                beside = f"{target}x/api/v1/developer/credits/balance"
                assert http.get(beside).status_code == 404
                assert fake.calls.last.path == beside
    assert answers[0] == answers[1]
    assert answers[0][0] == 404
