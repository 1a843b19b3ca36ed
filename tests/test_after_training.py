"""The journey after training, end to end: train, evaluate, deploy, predict, get told, pause.

One flow through the real SDK (sync and async), the user's webhook receiver verifying
each delivery, the ledger holding each charge, and the same seed giving the same bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import io
from dataclasses import dataclass, field

from PIL import Image

from pictograph_testing import FakePictograph, WebhookRequest

URL = "https://hooks.example.com/pictograph"
EVENTS = ["training_run.completed", "evaluation.completed", "deployment.active"]


@dataclass
class Receiver:
    """A user's receiver: a plain callable that checks the signature as the SDK says."""

    secret: str = ""
    bodies: list[bytes] = field(default_factory=list)

    def __call__(self, request: WebhookRequest) -> int:
        header = request.header("X-Pictograph-Signature") or ""
        pairs = [part.split("=", 1) for part in header.split(",")]
        t = next(value for name, value in pairs if name == "t")
        signed = f"{t}.".encode() + request.body
        expected = hmac.new(self.secret.encode(), signed, hashlib.sha256).hexdigest()
        if not any(hmac.compare_digest(expected, v) for name, v in pairs if name == "v1"):
            return 401
        self.bodies.append(request.body)
        return 204


@dataclass(frozen=True)
class Journey:
    events: list[str]
    webhook_bodies: list[bytes]
    prediction: str
    metrics: str
    operations: list[str]
    replies: list[bytes]


def _picture() -> bytes:
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 120, 40)).save(picture, format="PNG")
    return picture.getvalue()


def _world(seed: int) -> FakePictograph:
    fake = FakePictograph(seed=seed, balance_usd=100)
    fake.add_dataset("road-signs", images=20, completed_images=12, classes=["stop", "yield"])
    fake.add_export("road-signs", "v1")
    return fake


def _journey(seed: int) -> Journey:
    receiver = Receiver()
    with _world(seed) as fake, fake.client() as client:
        hook = client.webhooks.create(URL, event_types=EVENTS)
        receiver.secret = hook.secret
        fake.webhooks.route(URL, receiver)

        run = client.training.create("road-signs", "v1", pipeline_type="yolox", name="signs")
        assert run.status == "completed"
        evaluation = client.model_evaluations.evaluate("signs", "road-signs", "v1")
        assert evaluation.status == "completed"
        created = client.deployments.create("signs", gpu_type="t4", min_containers=1)
        deployment = client.deployments.wait_until_active(created.deployment)
        assert deployment.status == "active"
        with client.deployments.connect(
            deployment, created.auth_token, task="object_detection"
        ) as endpoint:
            result = endpoint.infer(_picture())
        fake.clock.advance(hours=1)
        assert client.deployments.pause(deployment.id).status == "paused"
        return Journey(
            events=[s.request.event_type or "" for s in fake.webhooks.sent],
            webhook_bodies=list(receiver.bodies),
            prediction=result.model_dump_json(),
            metrics=client.model_evaluations.get(evaluation.id).model_dump_json(),
            operations=[e.operation for e in fake.ledger],
            replies=[call.response_body for call in fake.calls],
        )


def test_the_journey_charges_each_step_and_tells_the_receiver() -> None:
    journey = _journey(seed=7)

    assert journey.events == EVENTS
    assert len(journey.webhook_bodies) == 3  # every delivery verified
    operations = journey.operations
    # Training (classic: pre-charge then refund), the evaluation, the deployment's meter.
    assert operations[:3] == ["training_a10g_per_minute", "training_refund_a10g", "inference_t4"]
    assert set(operations[3:]) == {"deployment_t4"}
    # Twelve five-minute meter posts over the hour it was active, the last at pause.
    assert len(operations[3:]) == 12


def test_the_same_seed_gives_the_same_bytes() -> None:
    first, again = _journey(seed=11), _journey(seed=11)

    assert first.webhook_bodies == again.webhook_bodies
    assert first.prediction == again.prediction
    assert first.metrics == again.metrics
    assert first.replies == again.replies
    assert _journey(seed=12).replies != first.replies


async def test_the_async_client_walks_the_same_journey() -> None:
    receiver = Receiver()
    with _world(seed=7) as fake:
        async with fake.async_client() as client:
            hook = await client.webhooks.create(URL, event_types=EVENTS)
            receiver.secret = hook.secret
            fake.webhooks.route(URL, receiver)
            await client.training.create("road-signs", "v1", pipeline_type="yolox", name="signs")
            evaluation = await client.model_evaluations.evaluate("signs", "road-signs", "v1")
            created = await client.deployments.create("signs", gpu_type="t4", min_containers=1)
            deployment = await client.deployments.wait_until_active(created.deployment)
            # The async client connects with the SDK's one (sync) DeploymentClient.
            with client.deployments.connect(
                deployment, created.auth_token, task="object_detection"
            ) as endpoint:
                result = endpoint.infer(_picture())
            fake.clock.advance(hours=1)
            paused = await client.deployments.pause(deployment.id)

    assert evaluation.status == "completed"
    assert paused.status == "paused"
    assert [s.request.event_type for s in fake.webhooks.sent] == EVENTS
    assert len(receiver.bodies) == 3
    sync = _journey(seed=7)
    assert result.model_dump_json() == sync.prediction
    assert [e.operation for e in fake.ledger] == sync.operations
