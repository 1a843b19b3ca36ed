"""The ways into a fake: its SDK clients, its httpx transport, and a base URL with a path."""

from __future__ import annotations

from typing import Any

import httpx
import pictograph
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pictograph_testing import FakePictograph
from tests.conftest import DATASET, EXPORT
from tests.image_files import raw


def test_fake_clients_are_the_real_sdk_classes(fake: FakePictograph) -> None:
    with fake.client() as client:
        assert type(client) is pictograph.Client
        assert client.credits.balance().included_allowance_micro_usd == 100_000_000


async def test_fake_async_clients_are_the_real_sdk_classes(fake: FakePictograph) -> None:
    async with fake.async_client() as client:
        assert type(client) is pictograph.AsyncClient
        balance = await client.credits.balance()
        assert balance.included_allowance_micro_usd == 100_000_000


def test_the_sdk_sends_its_own_headers(fake: FakePictograph) -> None:
    seen: list[httpx.Request] = []
    with fake.client() as client:
        client._transport._client.event_hooks["request"].append(seen.append)
        client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="r", wait=False)
    request = seen[0]
    assert request.headers["x-api-key"] == fake.api_key
    assert request.headers["user-agent"] == f"pictograph-python/{pictograph.__version__}"
    assert len(request.headers["idempotency-key"]) == 32


def test_each_client_sends_its_own_key_and_keeps_its_headers_to_itself(
    fake: FakePictograph,
) -> None:
    other = fake.add_api_key(role="viewer")
    first, second, third = fake.client(), fake.client(api_key=other), fake.client()
    # A header one client gains is its own, whichever key the next one is made with.
    first._transport._client.headers["X-Trace"] = "first"
    seen: list[httpx.Request] = []
    for client in (first, second, third, fake.client(api_key=other)):
        client._transport._client.event_hooks["request"].append(seen.append)
        client.credits.balance()
        client.close()
    assert [r.headers["x-api-key"] for r in seen] == [fake.api_key, other, fake.api_key, other]
    assert [r.headers.get("x-trace") for r in seen] == ["first", None, None, None]
    # The key sits where the SDK puts it, among the same headers in the same order.
    assert [name for name, _ in seen[1].headers.items()] == [
        name for name, _ in seen[2].headers.items()
    ]


def test_the_transport_serves_plain_httpx_sync(fake: FakePictograph) -> None:
    with httpx.Client(
        base_url=fake.base_url,
        transport=fake.transport(),
        headers={"X-API-Key": fake.api_key},
    ) as http:
        response = http.get("/api/v1/developer/credits/balance")
    assert response.status_code == 200
    assert response.headers["x-request-id"].startswith("req_")
    assert response.json()["included_allowance_micro_usd"] == 100_000_000


async def test_the_transport_serves_plain_httpx_async(fake: FakePictograph) -> None:
    async with httpx.AsyncClient(
        base_url=fake.base_url,
        transport=fake.transport(),
        headers={"X-API-Key": fake.api_key},
    ) as http:
        response = await http.get("/api/v1/developer/training/")
    assert response.status_code == 200
    assert response.json()["data"] == []


def test_missing_and_unknown_keys_are_refused(fake: FakePictograph) -> None:
    with httpx.Client(base_url=fake.base_url, transport=fake.transport()) as http:
        missing = http.get("/api/v1/developer/credits/balance")
        unknown = http.get(
            "/api/v1/developer/credits/balance", headers={"X-API-Key": "pk_live_nope"}
        )
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "unauthorized"
    assert "X-API-Key" in missing.json()["detail"]
    assert unknown.status_code == 401
    with (
        fake.client(api_key="pk_live_nope") as client,
        pytest.raises(pictograph.exceptions.AuthError),
    ):
        client.credits.balance()


def test_unknown_routes_are_404_never_a_redirect(fake: FakePictograph) -> None:
    fake.assert_all_served = False  # unserved routes are what this test calls
    with httpx.Client(
        base_url=fake.base_url, transport=fake.transport(), headers={"X-API-Key": fake.api_key}
    ) as http:
        for path, code in (
            # Served to SDK 1.61.0 to 1.69.43 only: the API's own 404 for the newest.
            ("/api/v1/developer/datasets/by-name/road-signs", "not_found"),
            ("/api/v1/developer/nothing-here", "not_implemented_by_fake"),
            ("/elsewhere", "not_implemented_by_fake"),
            ("/api/v1/developer/credits/nope", "not_implemented_by_fake"),
        ):
            response = http.get(path)
            assert response.status_code == 404, path
            body = response.json()
            assert body["error"]["code"] == code, path
            assert body["detail"] == body["error"]["message"]
    assert fake.server_errors == []


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("api.example.com", "absolute http"),
        ("ftp://api.example.com", "absolute http"),
        ("https://api.example.com:99999", "port must be 1 to 65535"),
        ("https://api.example.com:0", "port must be 1 to 65535"),
        ("https:///v1", "absolute http"),
    ],
)
def test_a_base_url_no_client_can_reach_is_refused(base_url: str, message: str) -> None:
    # Not a fake that answers every call "not implemented" for a URL it never served.
    with pytest.raises(ValueError, match=message):
        FakePictograph(base_url=base_url)


def test_a_base_url_may_name_the_highest_port() -> None:
    assert FakePictograph(base_url="http://127.0.0.1:65535/").url.port == 65535


def test_a_base_url_with_a_path_prefix_is_honoured() -> None:
    with FakePictograph(base_url="http://127.0.0.1:8123/prefix") as fake:
        fake.add_dataset(DATASET, images=10, completed_images=10)
        fake.add_export(DATASET, EXPORT)
        with fake.client(max_retries=0) as client:
            run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="r")
            assert run.status == "completed"
            assert run.model_id is not None
            assert client.models.get(model_id=run.model_id).name == "r"


def test_an_inactive_fake_still_answers_its_clients() -> None:
    fake = FakePictograph()
    assert not fake.active
    with fake.client() as client:
        assert client.credits.estimate("training_a100", quantity=60).total_micro_usd == 2_000_000


_KEY = "pk_live_" + "7" * 32
# Headers a caller may send beside the key: other names, the key again (the first value
# counts, as the API reads it), values that are not ASCII (httpx guesses their encoding)
# or hold what looks like a separator.
_extra_headers = st.lists(
    st.tuples(
        st.sampled_from(["X-API-Key", "x-api-key", "Accept", "X-Trace", "User-Agent"]),
        st.one_of(st.just(_KEY), st.text(st.sampled_from("ab\x00, é"), max_size=4)),
    ),
    max_size=3,
)


@settings(max_examples=40, deadline=None)
@given(extra=_extra_headers)
def test_headers_are_read_as_the_api_reads_them(extra: list[tuple[str, str]]) -> None:
    with FakePictograph(api_key=_KEY) as fake:
        sent = [("X-API-Key", _KEY), *extra]
        try:
            # httpx takes str names with bytes values at run time; its types say one or the other.
            headers = httpx.Headers([(n, v.encode("latin-1")) for n, v in sent])  # type: ignore[arg-type]
        except (httpx.LocalProtocolError, ValueError):
            return  # httpx itself refuses to send these
        # The key is sent first: later ones, whatever they hold, do not count.
        expected = 200 if headers.get_list("x-api-key")[0] == _KEY else 401
        with httpx.Client(base_url=fake.base_url, transport=fake.transport()) as http:
            response = http.get("/api/v1/developer/credits/balance", headers=headers)
        assert response.status_code == expected


def test_a_path_that_only_begins_with_the_mounts_letters_is_not_under_it() -> None:
    # Mounted at /proxy, `/proxyx/api/...` is another path: a 404 for a path the API's
    # prefix comes after something else in (a client's base URL with a wrong path), not
    # a 400 quoting `x/api/...`, which the client never sent.
    with FakePictograph(
        seed=1, base_url="https://api.example.com/proxy", assert_all_served=False
    ) as fake:
        with fake.client(max_retries=0) as client:
            assert client.credits.balance().included_allowance_micro_usd > 0
        with httpx.Client(transport=fake.transport(), base_url="https://api.example.com") as http:
            answer = http.get(
                "/proxyx/api/v1/developer/credits/balance", headers={"X-API-Key": fake.api_key}
            )
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "not_found"
        message = answer.json()["error"]["message"]
        assert "/proxyx/api/v1/developer/credits/balance" in message
        assert "comes after '/proxyx': the client's base URL holds a path" in message
        assert fake.unserved_calls == ()


async def _get(fake: FakePictograph, use_async: bool, path: str, **options: Any) -> httpx.Response:
    """GET ``path`` with the fake's key through its transport in plain httpx, sync or async."""
    if use_async:
        async with httpx.AsyncClient(
            base_url=fake.base_url, transport=fake.transport(), headers={"X-API-Key": fake.api_key}
        ) as ahttp:
            return await ahttp.get(path, **options)
    with raw(fake) as http:
        return http.get(path, **options)


_BALANCE = "/api/v1/developer/credits/balance"


@pytest.mark.parametrize(
    ("error", "raised"),
    [
        ("connect", httpx.ConnectError),
        ("connect_timeout", httpx.ConnectTimeout),
        ("read_timeout", httpx.ReadTimeout),
        ("read_error", httpx.ReadError),
    ],
)
@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_an_injected_transport_error_is_the_httpx_error_it_names(
    fake: FakePictograph, error: Any, raised: type[httpx.TransportError], use_async: bool
) -> None:
    # The SDK reads every one as a NetworkError; a plain httpx caller (a retry policy
    # of its own) tells a connection never opened from one lost mid-answer by the type.
    fake.faults.fail_next("GET", "credits/balance", error=error)
    with pytest.raises(httpx.TransportError) as caught:
        await _get(fake, use_async, _BALANCE)
    assert type(caught.value) is raised
    assert "injected by pictograph-testing" in str(caught.value)
    assert caught.value.request.url.path == _BALANCE
    # Raised in place of the fake's own fault: a traceback shows the httpx error alone.
    assert caught.value.__suppress_context__


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
async def test_a_url_with_no_path_is_asked_for_the_root(
    fake: FakePictograph, use_async: bool
) -> None:
    # `https://host` and `https://host?q` carry no path on the wire but `/`, as HTTP
    # sends them: the fake answers for `/`, never for an empty target.
    fake.assert_all_served = False  # the root is not a route of the API
    bare = await _get(fake, use_async, fake.base_url)
    queried = await _get(fake, use_async, fake.base_url, params={"page": "2"})
    for answer in (bare, queried):
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "not_implemented_by_fake"
        assert "does not implement GET / yet" in answer.json()["error"]["message"]
    assert {c.path for c in fake.unserved_calls} == {"/"}


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize(("delay", "answered"), [(3, True), (6, False)])
async def test_an_injected_delay_meets_the_clients_read_timeout_not_its_others(
    fake: FakePictograph, use_async: bool, delay: int, answered: bool
) -> None:
    # httpx waits for an answer as long as its read timeout; its connect, write and pool
    # timeouts are spent before the request is sent, so a shorter one never cuts it off.
    timeout = httpx.Timeout(1.0, read=5.0)
    fake.faults.delay_next(delay, "GET", "credits/balance")
    if answered:
        answer = await _get(fake, use_async, _BALANCE, timeout=timeout)
        assert answer.status_code == 200
        assert fake.calls.last.fault == f"delayed {delay}s"
    else:
        with pytest.raises(httpx.ReadTimeout):
            await _get(fake, use_async, _BALANCE, timeout=timeout)
        assert fake.calls.last.fault == f"delayed {delay}s: timed out"
    assert fake.clock.monotonic() == pytest.approx(min(delay, 5.0))
