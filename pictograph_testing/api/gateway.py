"""The inference gateway: a deployment's own endpoint, ``POST {endpoint_url}``.

The gateway is not the API: it takes the deployment's ``pk_deploy_`` bearer token, not an
API key, and answers errors as a flat ``{"error": "<slug>", "detail": "..."}``, which the
SDK's ``DeploymentClient`` turns into its typed errors with the slug as ``code``. Its
answer is the engine's, passed through: ``{"model_type", "predictions"}`` (and ``tags``
from a classifier), with the headers PRT sends (``X-Pictograph-Engine: prt``,
``X-Pictograph-Device: cuda``, ``Server-Timing``).

Where it lives: beside the default API host (``https://api.pictograph.io``) it is
``https://workflows.pictograph.io``, as in production; beside any other base URL (the
offline server's, a test's own) it is that URL's ``/_gateway`` path, so one host serves
both. Either way its paths are ``/{region}/{deployment_id}/predict`` and
``/{region}/ping``. A workflow's endpoint is there too, at ``/{region}/{endpoint_id}``:
it takes streams only, so its ``/predict`` is refused (``predict_unavailable``). Both take
streams on their ``/sessions`` (:mod:`.stream_calls`).
"""

from __future__ import annotations

import base64
import binascii
import math
from typing import TYPE_CHECKING, Any

import httpx

from pictograph_testing.api import stream_calls, strict_json
from pictograph_testing.api.errors import gateway_error_body
from pictograph_testing.api.route_paths import GATEWAY_PREFIX
from pictograph_testing.api.wire import Reply, encode, reply
from pictograph_testing.catalog import DEPLOYMENT_REGIONS
from pictograph_testing.hosts import host_key
from pictograph_testing.wording import counted
from pictograph_testing.world.deployments import (
    INFERENCE_OPTIONS,
    engine_timings,
    inference_option_problem,
)
from pictograph_testing.world.predictions import UnreadableImage, decoded_image_size, predict
from pictograph_testing.world.storage import STORAGE_PREFIX
from pictograph_testing.world.stream_hosts import DeploymentHost, WorkflowHost

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pictograph_testing.world.deployments import Deployment
    from pictograph_testing.world.entities import Model
    from pictograph_testing.world.predictions import Prediction
    from pictograph_testing.world.state import World
    from pictograph_testing.world.streams import StreamHost
    from pictograph_testing.world.workflow_endpoints import WorkflowEndpoints

__all__ = [
    "GATEWAY_PREFIX",
    "MAX_REQUEST_BYTES",
    "PUBLIC_API",
    "PUBLIC_GATEWAY",
    "answer",
    "endpoint_url",
    "gateway_url",
    "holds_endpoint",
    "served_host",
]

PUBLIC_API = "https://api.pictograph.io"
PUBLIC_GATEWAY = "https://workflows.pictograph.io"
MAX_REQUEST_BYTES = 64 * 1024 * 1024
"""The largest request a deployment takes (64 MiB)."""
_REGIONS = frozenset(r for r, _, _ in DEPLOYMENT_REGIONS)
_NO_NETWORK = (
    "pictograph-testing fetches no image URL from the network: send the bytes, or a signed "
    "URL this fake handed out."
)


def gateway_url(base_url: str) -> str:
    """Where the gateway answers, for an API at ``base_url`` (see the module docstring)."""
    base = base_url.rstrip("/")
    return PUBLIC_GATEWAY if base == PUBLIC_API else base + GATEWAY_PREFIX


def endpoint_url(base_url: str, region: str, endpoint_id: str, action: str = "predict") -> str:
    """An endpoint's URL: its region's gateway, its id, and ``/predict`` (a deployment's
    ``endpoint_url``) or ``/sessions`` (a workflow's, where its streams open)."""
    return f"{gateway_url(base_url)}/{region}/{endpoint_id}/{action}"


def holds_endpoint(world: World, path: str) -> bool:
    """Whether the endpoint a gateway ``path`` names (``/us-east/<id>/...``, below the
    gateway) is one of ``world``'s deployments or workflow endpoints."""
    parts = path.strip("/").split("/")
    if len(parts) < 2:
        return False
    endpoint_id = parts[1].lower()
    if endpoint_id in world.deployments.deployments:
        return True
    workflows: WorkflowEndpoints | None = world.built("workflow_endpoints")
    return workflows is not None and workflows.at(endpoint_id) is not None


def answer(
    world: World, base_url: str, method: str, path: str, headers: Mapping[str, str], body: bytes
) -> Reply:
    """Answer one gateway request; ``path`` is below the gateway (``/us-east/<id>/predict``)."""
    parts = path.strip("/").split("/")
    if len(parts) == 2 and parts[1] == "ping" and parts[0] in _REGIONS:
        return reply({"region": parts[0], "ok": True})
    action = parts[2] if len(parts) >= 3 else None
    if not (action == "predict" and len(parts) == 3) and not (
        action == "sessions" and len(parts) <= 5
    ):
        return _error(404, "not_found", "The gateway has no such route.")
    now = world.catch_up()
    served = _served(world, parts[0], parts[1], headers, action)
    if isinstance(served, Reply):
        return served
    if action == "sessions" and len(parts) > 3:
        # A stream's own calls: it ends with its host's containers, so they are answered
        # (410, once it ended) whatever the host's state.
        return stream_calls.answer(world, served, method, parts[3:], body, now)
    status = served.status
    if status == "provisioning" and isinstance(served, WorkflowHost) and served.endpoint.updating:
        return _updating(served.endpoint.up_at, now)
    if status != "active":
        return Reply(
            409,
            gateway_error_body(
                "deployment_not_active",
                f"The {served.what} is not active (status: {status}).",
                status=status,
            ),
        )
    if action == "sessions":
        # Its paths are the SDK's to join to the gateway's origin: from the host's root.
        sessions = f"{httpx.URL(gateway_url(base_url)).path.rstrip('/')}/{parts[0]}/{served.id}"
        return stream_calls.open_stream(world, served, f"{sessions}/sessions", method, body, now)
    assert isinstance(served, DeploymentHost)  # a workflow endpoint refused its predict
    deployment = served.deployment
    if method != "POST":
        return _error(405, "method_not_allowed", "POST an image to the endpoint.")
    wait = world.deployments.admit_request(deployment, now)
    if wait is not None:
        ceiling = deployment.rate_limit_rpm
        assert ceiling is not None  # only a ceiling holds a request back
        refused = _error(
            429,
            "rate_limited",
            f"The deployment's ceiling of {counted(ceiling, 'request')} a minute was reached.",
        )
        refused.headers = (("retry-after", str(int(wait))),)
        return refused
    try:
        answered = _predict(world, base_url, deployment, body)
    except _Refused as refusal:
        world.deployments.record_request(deployment, now, len(body), 0.0, ok=False)
        return refusal.reply
    content, timing = answered
    world.deployments.record_request(deployment, now, len(body) + len(content), timing[2], ok=True)
    return Reply(
        200,
        content,
        headers=(
            ("x-pictograph-engine", "prt"),
            ("x-pictograph-device", "cuda"),
            (
                "server-timing",
                f"decode;dur={timing[0]:.3f}, infer;dur={timing[1]:.3f}, total;dur={timing[2]:.3f}",
            ),
        ),
    )


def served_host(world: World, path: str, headers: Mapping[str, str]) -> StreamHost | Reply:
    """What answers a stream's ``path`` (below the gateway: ``/{region}/{id}/sessions/...``)
    to a caller with these headers: a deployment or a workflow endpoint, or the refusal."""
    parts = path.strip("/").split("/")
    if len(parts) < 3 or parts[2] != "sessions":
        return _error(404, "not_found", "The gateway has no such route.")
    return _served(world, parts[0], parts[1], headers, parts[2])


def _served(
    world: World, region: str, endpoint_id: str, headers: Mapping[str, str], action: str
) -> DeploymentHost | WorkflowHost | Reply:
    """What answers at ``/{region}/{endpoint_id}`` to the caller's bearer token (a live
    deployment, or a workflow's endpoint for its streams), or the refusal: no such
    endpoint, another region, another token, a workflow endpoint's predict."""
    deployment = world.deployments.deployments.get(endpoint_id.lower())
    if deployment is None or not deployment.live:
        workflows: WorkflowEndpoints | None = world.built("workflow_endpoints")
        endpoint = workflows.at(endpoint_id.lower()) if workflows is not None else None
        if endpoint is None:
            return _error(404, "deployment_not_found", "No deployment answers at this endpoint.")
        if region != endpoint.region:
            return _wrong_region(region, endpoint.region, "workflow endpoint")
        if action != "sessions":
            return _predict_unavailable()
        if not _bearer_is(headers, endpoint.auth_token):
            return _error(401, "unauthorized", "The workflow endpoint refused the bearer token.")
        return WorkflowHost(world, endpoint, world.workflows.workflows[endpoint.workflow_id])
    if region != deployment.region:
        return _wrong_region(region, deployment.region)
    if not _bearer_is(headers, deployment.auth_token):
        return _error(401, "unauthorized", "The deployment refused the bearer token.")
    return DeploymentHost(world, deployment)


def _updating(up_at: float | None, now: float) -> Reply:
    """409 ``endpoint_updating``: a workflow's endpoint deployed again after a save, with
    the seconds until it is up (an open the SDK tries again)."""
    wait = max(1, math.ceil((up_at if up_at is not None else now) - now))
    refused = _error(
        409,
        "endpoint_updating",
        f"The workflow's endpoint is being deployed again after a save; retry in {wait} s.",
    )
    refused.headers = (("retry-after", str(wait)),)
    return refused


def _bearer_is(headers: Mapping[str, str], token: str) -> bool:
    sent = headers.get("authorization", "")
    return sent.startswith("Bearer ") and sent[7:].strip() == token


class _Refused(Exception):
    def __init__(self, status: int, slug: str, detail: str) -> None:
        super().__init__(detail)
        self.reply = _error(status, slug, detail)


def _error(status: int, slug: str, detail: str) -> Reply:
    return Reply(status, gateway_error_body(slug, detail))


def _wrong_region(region: str, served_in: str, what: str = "deployment") -> Reply:
    return _error(421, "wrong_region", f"The {what} runs in {served_in}, not {region}.")


def _predict_unavailable() -> Reply:
    """A workflow endpoint's answer to a predict: it takes streams, never a single image."""
    return _error(
        409,
        "predict_unavailable",
        "A workflow endpoint takes streams, never a single image: open a stream on its "
        "/sessions (workflows.connect), or run the workflow on images (workflows.run).",
    )


def _predict(
    world: World, base_url: str, deployment: Deployment, body: bytes
) -> tuple[bytes, tuple[float, float, float]]:
    """The engine's answer to one request, and its timings (decode, infer, total ms)."""
    if len(body) > MAX_REQUEST_BYTES:
        raise _Refused(413, "request_too_large", "The request is larger than 64 MiB.")
    request = _request(body)
    # An option sent as null is not sent, nor is an empty class filter: the deployment's
    # default stands (the SDK: "None or [] returns every class the deployment is
    # configured to return").
    given = {
        name: value
        for name, value in request.items()
        if value is not None and not (name == "class_filter" and value == [])
    }
    options = {**deployment.inference_config, **given}
    confidence, top_k = _options(options)
    class_filter = options.get("class_filter")
    image = _image_bytes(world, base_url, request["image"])
    model = world.models.get(deployment.model_id)
    version = model.version(deployment.version_id) if model is not None else None
    if model is None or version is None:
        raise _Refused(
            503, "deployment_unavailable", "The deployment's model was deleted; deploy another."
        )
    try:
        width, height = decoded_image_size(image)
        found = predict(
            world,
            model,
            version,
            image,
            confidence=confidence,
            top_k=top_k,
            organization_id=deployment.organization_id,
        )
    except UnreadableImage as exc:
        raise _Refused(400, "could_not_decode_image", str(exc)) from None
    if class_filter:
        found = [p for p in found if p.name in class_filter]
    content = encode(_engine_payload(model, found))
    return content, engine_timings(deployment, width, height)


def _request(body: bytes) -> dict[str, Any]:
    parsed = strict_json.object_or_none(body)
    image = parsed.get("image") if parsed is not None else None
    if (
        parsed is None
        or not isinstance(image, dict)
        or image.get("type") not in ("base64", "url")
        or not isinstance(image.get("value"), str)
    ):
        raise _Refused(
            400,
            "invalid_request_body",
            'Send JSON: {"image": {"type": "base64" | "url", "value": "..."}, "confidence"?, '
            '"class_filter"?, "top_k"?}.',
        )
    return parsed


def _options(options: Mapping[str, Any]) -> tuple[float, int | None]:
    for name in INFERENCE_OPTIONS:
        problem = inference_option_problem(name, options.get(name))
        if problem is not None:
            raise _Refused(400, "invalid_option", f"{problem}.")
    top_k: int | None = options.get("top_k")
    return float(options.get("confidence", 0.5)), top_k


def _image_bytes(world: World, base_url: str, image: Mapping[str, Any]) -> bytes:
    value: str = image["value"]
    if image["type"] == "base64":
        try:
            content = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise _Refused(
                400, "could_not_decode_image", "The image is not valid base64."
            ) from None
        if not content:
            raise _Refused(400, "no_image_provided", "The image is empty.")
        return content
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as exc:
        raise _Refused(400, "no_image_provided", f"The image URL is not valid: {exc}") from None
    own = httpx.URL(base_url)
    mount = own.path.rstrip("/")
    if host_key(url) == host_key(own) and url.path.startswith(mount + STORAGE_PREFIX):
        token = url.path[len(mount + STORAGE_PREFIX) :].split("/", 1)[0]
        blob = world.storage.resolve(token)
        if blob is not None and world.now() < blob.expires_at:
            fetched = blob.produce()
            if fetched is not None:
                return fetched
    raise _Refused(400, "no_image_provided", _NO_NETWORK)


def _engine_payload(model: Model, found: list[Prediction]) -> dict[str, Any]:
    """What the engine answers: the single-image dispatch's shape, passed through."""
    if model.model_type == "classification":
        return {
            "model_type": model.model_type,
            "predictions": [{"class": p.name, "confidence": p.score} for p in found],
            "tags": [p.name for p in found],
        }
    predictions: list[dict[str, Any]] = []
    for index, found_one in enumerate(found, start=1):
        entry: dict[str, Any] = {"id": f"p{index}", **found_one.annotation()}
        entry["attributes"] = ["auto-annotate"]
        if found_one.kind == "keypoint":
            entry["instance_id"] = index
        predictions.append(entry)
    return {"model_type": model.model_type, "predictions": predictions}
