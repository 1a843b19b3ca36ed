"""Routes the fake does not serve say so: 404 ``not_implemented_by_fake``, and a record.

A real 404 (an unknown id on a served route) and a route retired in the caller's release
keep the API's own answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
import pictograph
import pytest
from pictograph.exceptions import NotFoundError

from pictograph_testing.server import FakeServer
from tests.conftest import DATASET
from tests.image_files import raw

if TYPE_CHECKING:
    from pictograph_testing import FakePictograph

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
PREFIX = "/api/v1/developer"


# An API path no route of the fake serves (the annotation studio's sessions are the web
# app's, not the SDK's), sent through the SDK's own transport as any SDK method would be.
STUDIO = "/api/v1/developer/annotation-studio/sessions"


def test_an_unserved_route_says_the_fake_does_not_implement_it(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.assert_all_served = False  # unserved routes are what this test calls
    with pytest.raises(NotFoundError) as refused:
        client._transport.request("GET", STUDIO)
    error = refused.value
    assert error.code == "not_implemented_by_fake"
    assert f"pictograph-testing does not implement GET {STUDIO} yet;" in str(error)
    assert "sent by" not in str(error)  # no SDK method sends it
    assert "https://pictograph-testing.github.io/pictograph-testing/fidelity/" in str(error)
    details = error.response["error"]["details"]
    assert details["sdk_methods"] == []

    [call] = fake.unserved_calls
    assert (call.method, call.path) == ("GET", STUDIO)
    assert call.sdk_methods == ()
    assert call.at == fake.clock.now()
    # The journal holds it too, marked, under the same request id.
    [journaled] = fake.calls.filter(where=lambda c: c.unserved)
    assert journaled.request_id == call.request_id == error.request_id
    assert "[not served by the fake]" in repr(journaled)


async def test_unserved_calls_from_the_async_client(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    fake.assert_all_served = False  # unserved routes are what this test calls
    with pytest.raises(NotFoundError, match=f"does not implement POST {STUDIO}"):
        await aclient._transport.request("POST", STUDIO, json={"dataset": "road-signs"})
    assert [(c.method, c.path) for c in fake.unserved_calls] == [("POST", STUDIO)]


def test_real_404s_keep_the_apis_answer(fake: FakePictograph, client: pictograph.Client) -> None:
    with pytest.raises(NotFoundError) as missing:
        client.training.get(run_id=UNKNOWN_ID)
    assert missing.value.code == "not_found"
    with pytest.raises(NotFoundError) as no_key:
        client.api_keys.get(UNKNOWN_ID)
    assert no_key.value.code == "not_found"
    assert fake.unserved_calls == ()
    assert not fake.calls.filter(where=lambda c: c.unserved)


def test_a_retired_route_is_the_apis_no_route_and_a_collection_without_its_slash_is_served(
    fake: FakePictograph,
) -> None:
    fake.assert_all_served = False  # unserved routes are what this test calls
    # `datasets/by-name/...` is served to SDK 1.61.0 to 1.69.43 only.
    with httpx.Client(
        transport=fake.transport(),
        base_url=fake.base_url,
        headers={"X-API-Key": fake.api_key, "User-Agent": "pictograph-python/1.69.146"},
    ) as http:
        answer = http.get("/api/v1/developer/datasets/by-name/road-signs")
        unknown = http.get("/api/v1/developer/no-such-thing")
        bare = http.get("/api/v1/api-keys")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
    assert "No route" in answer.json()["error"]["message"]
    assert unknown.json()["error"]["code"] == "not_implemented_by_fake"
    assert unknown.json()["error"]["details"]["sdk_methods"] == []
    # A collection without its '/' is answered directly, as with it: no redirect.
    assert bare.status_code == 200
    assert [k["name"] for k in bare.json()["api_keys"]] == [fake.world.default_key.name]
    assert [c.path for c in fake.unserved_calls] == ["/api/v1/developer/no-such-thing"]


def test_an_id_sent_empty_is_the_apis_no_route_not_a_gap_of_the_fake(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # The route exists; the id is missing: the API's own 404, and no teardown failure.
    fake.add_dataset("lot", images=1)
    calls: list[Callable[[], object]] = [
        lambda: client.tasks.contributions(""),
        lambda: client.annotation_comments.resolve(""),
        lambda: client.annotations.get("lot", ""),
    ]
    for call in calls:
        with pytest.raises(NotFoundError) as missing:
            call()
        assert missing.value.code == "not_found"
        assert "No route" in str(missing.value)
    with raw(fake) as http:
        assert http.get("/api/v1/developer/tools/vision/model/").json()["error"]["code"] == (
            "not_found"
        )
        # An unknown collection with nothing in its last segment is still a gap.
        unknown = http.get("/api/v1/developer/no-such-thing/")
    assert unknown.json()["error"]["code"] == "not_implemented_by_fake"
    assert [c.path for c in fake.unserved_calls] == ["/api/v1/developer/no-such-thing/"]
    fake.assert_all_served = False  # the gap was called on purpose


@pytest.mark.parametrize("path", ["/api/v1", "/api/v1/", "/api/v1/developer", "/api/v1/developer/"])
def test_the_apis_roots_are_its_own_404s_not_gaps_of_the_fake(
    fake: FakePictograph, path: str
) -> None:
    # No route lies at the roots themselves: the API answers them with its own 404.
    with raw(fake) as http:
        answer = http.get(path)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
    assert fake.unserved_calls == ()


async def test_async_an_id_sent_empty_is_the_apis_no_route(
    fake: FakePictograph, aclient: pictograph.AsyncClient
) -> None:
    with pytest.raises(NotFoundError) as missing:
        await aclient.annotation_comments.resolve("")
    assert missing.value.code == "not_found"
    assert fake.unserved_calls == ()


def test_the_server_lists_unserved_calls() -> None:
    with (
        FakeServer(seed=3) as server,
        httpx.Client(base_url=server.base_url, headers={"X-API-Key": server.api_key}) as http,
        server.control() as control,
    ):
        assert http.get(STUDIO).status_code == 404
        listed = control.get("/unserved").json()["unserved_calls"]
        journal = control.get("/journal").json()["calls"]
        info = control.get("/").json()
    assert [(c["method"], c["path"], c["sdk_methods"]) for c in listed] == [("GET", STUDIO, [])]
    # When, on the world's clock, and which request: what the journal says of the call.
    assert (listed[0]["at"], listed[0]["request_id"]) == (
        journal[0]["at"],
        journal[0]["request_id"],
    )
    assert journal[0]["unserved"] is True
    assert info["unserved_calls"] == 1


def test_either_spelling_of_a_route_is_answered_directly_and_only_a_route_is(
    fake: FakePictograph,
) -> None:
    # Explore arrived in 1.69.124: an older release's `GET /public/datasets` is no route
    # in either spelling; `/training` is `/training/`, and `datasets/<name>/` its dataset.
    with httpx.Client(
        transport=fake.transport(),
        base_url=fake.base_url,
        headers={"X-API-Key": fake.api_key, "User-Agent": "pictograph-python/1.69.100"},
    ) as http:
        public = http.get("/api/v1/developer/public/datasets/")
        training = http.get("/api/v1/developer/training")
        with_slash = http.get("/api/v1/developer/training/")
        dataset = http.get(f"/api/v1/developer/datasets/{DATASET}/")
    assert public.status_code == 404
    assert public.json()["error"]["message"] == "No route GET /api/v1/developer/public/datasets/."
    assert training.status_code == with_slash.status_code == dataset.status_code == 200
    assert training.json()["data"] == with_slash.json()["data"]
    assert dataset.json()["data"]["name"] == DATASET
    assert fake.unserved_calls == ()


def test_one_final_slash_is_optional_not_two(fake: FakePictograph) -> None:
    # `datasets//` is a dataset sent empty, not the collection: nothing is created.
    fake.assert_all_served = False  # POST to a dataset is no route: the fake cannot tell
    with raw(fake) as http:
        listed = http.get("/api/v1/developer/datasets//")
        created = http.get("/api/v1/developer/jobs//")
        made = http.post("/api/v1/developer/datasets//", json={"name": "via-two-slashes"})
    assert listed.status_code == created.status_code == 404
    assert listed.json()["error"]["code"] == "not_found"
    assert made.status_code == 404
    assert [d.name for d in fake.client().datasets.list()] == [DATASET]


def test_faults_filters_allow_and_replays_take_either_spelling(fake: FakePictograph) -> None:
    fake.faults.fail_next("POST", "training")  # armed without the slash the SDK sends
    fake.faults.fail_next("GET", "datasets/{dataset}/")
    with fake.client(max_retries=0) as client:
        with pytest.raises(pictograph.exceptions.ServerError):
            client.training.create(DATASET, "v1", pipeline_type="yolox", name="r", wait=False)
        with pytest.raises(pictograph.exceptions.ServerError):
            client.datasets.get(DATASET)
    assert not fake.faults.armed
    creates = [c.index for c in fake.calls.filter("POST", "training")]
    assert creates == [c.index for c in fake.calls.filter("POST", "training/")] == [0]
    assert len(fake.calls.filter("GET", "datasets/{dataset}/")) == 1
    with raw(fake) as http:
        allow = {
            http.request("OPTIONS", f"/api/v1/developer/credits/balance{end}").headers["allow"]
            for end in ("", "/")
        }
        key = {"Idempotency-Key": "one-request"}
        first = http.post("/api/v1/developer/datasets", json={"name": "a"}, headers=key)
        again = http.post("/api/v1/developer/datasets/", json={"name": "a"}, headers=key)
        gateway, storage = http.get("/_gateway"), http.get("/_storage")
    assert allow == {"GET, HEAD"}
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    # The fake's own roots, without their '/', answer as with it: no gap of the fake.
    assert (gateway.status_code, storage.status_code) == (404, 404)
    assert fake.unserved_calls == ()


@pytest.mark.parametrize("path", ["/api/v1/developer", "/v1", "/api/v1"])
def test_a_base_url_with_a_path_is_pointed_at_not_blamed_on_the_fake(
    fake: FakePictograph, path: str
) -> None:
    """`Client(base_url="https://api.pictograph.io/api/v1/developer")`: every path holds
    the API's prefix twice. The 404 says the base URL has a path; it is no gap of the
    fake (none is listed, and a strict teardown has nothing to report)."""
    with (
        pictograph.Client(api_key=fake.api_key, base_url=fake.base_url + path) as client,
        pytest.raises(NotFoundError, match="the client's base URL holds a path") as refused,
    ):
        client.credits.balance()
    assert f"comes after '{path}'" in str(refused.value)
    assert fake.unserved_calls == ()


async def test_async_a_base_url_with_a_path_is_pointed_at(fake: FakePictograph) -> None:
    base_url = fake.base_url + "/api/v1/developer"
    async with pictograph.AsyncClient(api_key=fake.api_key, base_url=base_url) as client:
        with pytest.raises(NotFoundError, match="the client's base URL holds a path"):
            await client.credits.balance()
    assert fake.unserved_calls == ()
