"""Status faults on a deployment's endpoint answer as the endpoint does: its flat
``{"error": "<slug>", "detail"}``, whose slug the SDK's ``DeploymentClient`` makes the
error's ``code`` and whose retryable refusals its stream open tries again. ``code=`` names
the slug (or an API error's code). The SDK's deployment client is sync only."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from pictograph import DeploymentClient
from pictograph.exceptions import (
    ConflictError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
)

from pictograph_testing import FakePictograph
from pictograph_testing.faults import FaultSpec
from tests.test_deployments import _png
from tests.test_streams import CAMERA, _deployed, _endpoint, _gateway_calls

if TYPE_CHECKING:
    import pictograph

ENDPOINTS = "/_gateway/**/predict"
"""Every deployment's predict, as the journal shows its path."""
OPENS = "/_gateway/**/sessions"


@pytest.fixture
def deployed(client: pictograph.Client) -> tuple[str, str]:
    """The model's deployment, active: its endpoint's URL and its token."""
    deployment, token = _deployed(client, min_containers=1)
    assert deployment.endpoint_url is not None
    return deployment.endpoint_url, token


def _predict_client(deployed: tuple[str, str], **options: Any) -> DeploymentClient[Any]:
    url, token = deployed
    return DeploymentClient(url, token, **options)


@pytest.mark.parametrize(
    ("status", "code", "raised"),
    [
        (503, "overloaded", ServerError),
        (504, "inference_timeout", ServerError),
        (502, "deployment_unreachable", ServerError),
        (429, "rate_limited", RateLimitError),
    ],
)
def test_a_status_on_an_endpoint_is_answered_in_its_words(
    fake: FakePictograph,
    deployed: tuple[str, str],
    status: int,
    code: str,
    raised: type[Exception],
) -> None:
    fake.faults.fail_next("POST", ENDPOINTS, status=status)
    with _predict_client(deployed, max_retries=0) as endpoint, pytest.raises(raised) as caught:
        endpoint.infer(_png())
    assert (caught.value.status_code, caught.value.code) == (status, code)  # type: ignore[attr-defined]
    answered = fake.calls.last
    assert answered.path.endswith("/predict")
    assert json.loads(answered.response_body) == {
        "error": code,
        "detail": caught.value.message,  # type: ignore[attr-defined]
        "injected": True,
        **({"retry_after": 1} if status == 429 else {}),
    }


def test_a_named_code_is_the_errors_code_and_its_retry_after_is_waited_out(
    fake: FakePictograph, deployed: tuple[str, str]
) -> None:
    fake.faults.fail_next(
        "POST", ENDPOINTS, status=503, code="deployment_starting", retry_after=20, times=2
    )
    with _predict_client(deployed, max_retries=0) as single_shot, pytest.raises(ServerError) as no:
        single_shot.infer(_png())
    assert no.value.code == "deployment_starting"
    assert "min_containers=1" in str(no.value)  # the SDK's own fix for that slug
    before = fake.clock.monotonic()
    with _predict_client(deployed, max_retries=2) as patient:
        result = patient.infer(_png())
    # The second failure's Retry-After, waited out on the virtual clock, then an answer.
    assert fake.clock.monotonic() - before >= 20
    assert result.model_type == "object_detection"
    assert [c.status for c in fake.calls.filter("POST", ENDPOINTS)] == [503, 503, 200]


def test_a_stream_open_is_tried_again_past_the_refusals_the_sdk_retries(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_camera(CAMERA, fps=10, frames=5, width=64, height=48)
    # A workflow's endpoint redeploying after a save, then streams briefly unavailable.
    fake.faults.fail_next("POST", OPENS, status=409, code="endpoint_updating", retry_after=2)
    fake.faults.fail_next("POST", OPENS, status=503, retry_after=1)
    with _endpoint(client) as endpoint, endpoint.open_stream(CAMERA) as stream:
        assert len(list(stream.frames())) == 5
    assert [(method, path, status) for method, path, status in _gateway_calls(fake)][:3] == [
        ("POST", "/", 409),
        ("POST", "/", 503),
        ("POST", "/", 201),
    ]
    refused = [c for c in fake.calls.filter("POST", OPENS) if c.status >= 400]
    assert [json.loads(c.response_body)["error"] for c in refused] == [
        "endpoint_updating",
        "sessions_unavailable",
    ]


def test_a_refusal_the_open_does_not_retry_reaches_the_caller_at_once(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.add_camera(CAMERA, fps=10, frames=5, width=64, height=48)
    fake.faults.fail_next("POST", OPENS, status=409, code="deployment_not_active")
    with _endpoint(client) as endpoint, pytest.raises(ConflictError) as caught:
        endpoint.open_stream(CAMERA)
    assert caught.value.code == "deployment_not_active"
    assert [status for _, _, status in _gateway_calls(fake)] == [409]


def test_a_code_on_an_api_route_is_its_envelopes_code(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.faults.fail_next("GET", "credits/balance", status=503, code="maintenance")
    with pytest.raises(ServerError) as caught:
        client.credits.balance()
    assert caught.value.code == "maintenance"
    envelope = json.loads(fake.calls.last.response_body)["error"]
    assert (envelope["code"], envelope["details"]) == ("maintenance", {"injected": True})
    assert fake.faults.unfired == ()


def test_a_code_after_the_handler_is_the_endpoints_too(
    fake: FakePictograph, deployed: tuple[str, str]
) -> None:
    fake.faults.fail_next("POST", ENDPOINTS, status=504, after=True)
    with _predict_client(deployed, max_retries=0) as endpoint, pytest.raises(ServerError) as caught:
        endpoint.infer(_png())
    assert caught.value.code == "inference_timeout"
    assert fake.calls.last.fault == "injected 504 after the handler"


def test_a_spec_names_a_code(fake: FakePictograph, deployed: tuple[str, str]) -> None:
    armed = fake.faults.arm(
        FaultSpec.fail_next("POST", ENDPOINTS, status=503, code="warming_up", retry_after=1)
    )
    assert armed == "injected 503 warming_up before the handler"
    with _predict_client(deployed, max_retries=0) as endpoint, pytest.raises(ServerError) as caught:
        endpoint.infer(_png())
    assert caught.value.code == "warming_up"


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"error": "read_error", "code": "overloaded"}, "give a status"),
        ({"status": 503, "code": "Overloaded!"}, "lower case, digits and underscores"),
        ({"status": 503, "code": ""}, "lower case, digits and underscores"),
        ({"status": 503, "code": 503}, "code must be a string"),
    ],
)
def test_a_code_that_cannot_be_sent_is_refused(
    fake: FakePictograph, options: dict[str, Any], says: str
) -> None:
    with pytest.raises(ValueError, match=says):
        fake.faults.fail_next("POST", ENDPOINTS, **options)
    assert fake.faults.pending == ()


def test_a_fault_may_name_the_endpoints_url(
    fake: FakePictograph, deployed: tuple[str, str]
) -> None:
    url, _ = deployed
    fake.faults.fail_next("POST", url, status=503, code="deployment_starting")
    with _predict_client(deployed, max_retries=0) as endpoint, pytest.raises(ServerError) as caught:
        endpoint.infer(_png())
    assert caught.value.code == "deployment_starting"
    # A pattern on the gateway's URL, and the API's own URL, name what their paths name.
    fake.faults.fail_next("POST", f"{fake.gateway_url}/**/predict", status=504)
    fake.faults.fail_next("GET", f"{fake.base_url}/api/v1/developer/credits/balance?x=1")
    with _predict_client(deployed, max_retries=0) as endpoint, pytest.raises(ServerError) as late:
        endpoint.infer(_png())
    assert late.value.code == "inference_timeout"
    with fake.client(max_retries=0) as sdk, pytest.raises(ServerError):
        sdk.credits.balance()
    assert fake.faults.unfired == ()


def test_an_endpoint_url_below_another_base_url_is_found_there() -> None:
    with FakePictograph(seed=1, base_url="http://localhost:8123/pictograph") as fake:
        fake.add_dataset("signs", images=20, completed_images=12, classes=["a", "b"])
        fake.add_export("signs", "v1")
        with fake.client(max_retries=0) as client:
            client.training.create("signs", "v1", pipeline_type="yolox", name="m")
            created = client.deployments.create("m", gpu_type="t4", min_containers=1)
            deployment = client.deployments.wait_until_active(created.deployment)
        url = deployment.endpoint_url
        assert url is not None
        assert url.startswith("http://localhost:8123/pictograph/_gateway/")
        fake.faults.fail_next("POST", url, status=503)
        with (
            DeploymentClient(url, created.auth_token, max_retries=0) as endpoint,
            pytest.raises(ServerError) as caught,
        ):
            endpoint.infer(_png())
    assert caught.value.code == "overloaded"


@pytest.mark.parametrize(
    "url",
    ["https://example.com/us-east/x/predict", "https://api.pictograph.io.example.com/api/v1/"],
)
def test_a_url_not_of_this_fake_is_refused(fake: FakePictograph, url: str) -> None:
    with pytest.raises(ValueError, match="is not a URL of this fake: its API is at"):
        fake.faults.fail_next("POST", url, status=503)


def test_a_cold_start_is_a_delay_on_the_endpoint(
    fake: FakePictograph, deployed: tuple[str, str]
) -> None:
    """A scaled-to-zero deployment's first request waits while its container starts: a
    delay on its endpoint, waited out on the virtual clock within the SDK's 150 s
    timeout, and a timeout past it."""
    url, _ = deployed
    fake.faults.delay_next(90, "POST", url)
    before = fake.clock.monotonic()
    with _predict_client(deployed, max_retries=0) as endpoint:
        assert endpoint.infer(_png()).model_type == "object_detection"
    assert fake.clock.monotonic() - before == pytest.approx(90)
    fake.faults.delay_next(200, "POST", url)
    with _predict_client(deployed, max_retries=0) as endpoint, pytest.raises(RequestTimeoutError):
        endpoint.infer(_png())
    assert fake.calls.last.status == 0  # the client gave up: no answer reached it
    assert fake.clock.monotonic() - before == pytest.approx(90 + 150)  # its timeout


def test_the_calls_read_a_url_of_the_fake_as_its_faults_do(
    fake: FakePictograph, client: pictograph.Client, deployed: tuple[str, str]
) -> None:
    # The endpoint's URL a fault was armed on finds its calls in the journal too.
    url, _ = deployed
    fake.faults.fail_next("POST", url, status=503, retry_after=1)
    with _predict_client(deployed, max_retries=1) as endpoint:
        endpoint.infer(_png())
    answered = fake.calls.assert_called("POST", url, times=2)
    assert [c.status for c in answered] == [503, 200]
    assert [c.index for c in answered] == [c.index for c in fake.calls.filter("POST", ENDPOINTS)]
    client.credits.balance()
    assert fake.calls.filter("GET", fake.base_url + "/api/v1/developer/credits/balance?x=1")
    with pytest.raises(ValueError, match="is not a URL of this fake: its API is at"):
        fake.calls.filter("GET", "https://elsewhere.example.com/api/v1/developer/credits/balance")
