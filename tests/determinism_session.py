"""A broad session through the real SDK, printed as the journal of what the fake answered.

``python -m tests.determinism_session`` prints one JSON line per call (method, target,
status, request id, virtual time, fault and the response body's bytes), then every
webhook body the receiver got. ``tests/test_determinism.py`` runs it in processes with
different ``PYTHONHASHSEED`` values: the same seed and calls must give the same bytes
whatever the process (string hashing, set order, addresses, the wall clock).

The session leaves the client nothing to pick at random either, so every byte printed is
the fake's: annotations carry their own ids (the SDK would draw a UUID), and nothing
runs in a thread pool (whose request order is the scheduler's).
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pictograph import BBoxAnnotation, BoundingBox, PolygonAnnotation
from pictograph.models.annotation import PolygonGeometry
from pictograph.models.common import Point
from PIL import Image as PILImage

from pictograph_testing import FakePictograph

if TYPE_CHECKING:
    import pictograph

    from pictograph_testing import WebhookRequest

HOOK = "https://hooks.example.com/pictograph"
ODD_HOOK = "https://hooks.example.com/odd"
CLASSES = ["stop", "yield", "speed_limit", "pedestrian", "bike", "Zebra", "arrow"]
TAGS = ["zeta", "alpha", "Mid", "beta", "b", "a"]


def _picture(shade: int) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (64, 48), (shade % 256, 120, 40)).save(out, format="PNG")
    return out.getvalue()


def _annotations(prefix: str) -> list[Any]:
    box = BoundingBox(x=1, y=2, w=30, h=40)
    triangle = [[Point(x=1, y=2), Point(x=29, y=2), Point(x=15, y=28)]]
    return [
        BBoxAnnotation(id=f"{prefix}-1", name="yield", bounding_box=box),
        BBoxAnnotation(id=f"{prefix}-2", name="stop", bounding_box=box, confidence=0.4),
        PolygonAnnotation(id=f"{prefix}-3", name="bike", polygon=PolygonGeometry(paths=triangle)),
    ]


def _datasets(client: pictograph.Client, files: Path) -> list[str]:
    """Datasets, images, annotations and batch operations; the road-signs image ids."""
    client.datasets.create(
        "made",
        annotation_types=["polygon", "bbox", "keypoint"],
        classes=[{"name": n, "type": "bbox"} for n in ("b", "a", "c", "Aa", "ab")],
    )
    client.datasets.update(
        "made",
        classes=[{"name": n, "type": t} for n in ("q", "p", "z") for t in ("polygon", "bbox")],
    )
    client.datasets.list()
    client.datasets.insights("road-signs")
    client.datasets.archive("made")
    client.datasets.unarchive("made")

    for n, name in enumerate(["z.png", "a.png", "B.png", "b.png"]):
        (files / name).write_bytes(_picture(30 * n))
    client.images.upload("road-signs", files / "z.png", directory_path="/x/y")
    client.images.bulk_upload(
        "road-signs", [files / n for n in ("a.png", "B.png", "b.png")], max_workers=1
    )
    tree = files / "tree"
    for label in ("yield", "stop", "Zebra"):
        (tree / label).mkdir(parents=True)
        for k in range(2):
            (tree / label / f"{label}-{k}.png").write_bytes(_picture(k + len(label)))
    client.images.upload_from_directory("tree", tree, parallel=False, max_workers=1)

    ids = [image.id for image in client.images.list("road-signs", limit=100)]
    client.images.bulk_tag("road-signs", ids[:6], TAGS)
    client.images.bulk_tag("road-signs", ids[:2], ["alpha"], add=False)
    client.images.get("road-signs", ids[1])
    client.images.assign_splits("road-signs", 60, 20, 20, seed=3)
    client.images.set_split("road-signs", ids[2], "val")
    client.images.review("road-signs", ids[3], "request_changes", note="redo")
    client.images.delete("road-signs", ids[5])

    client.annotations.save("road-signs", ids[6], _annotations("six"))
    client.annotations.bulk_save({ids[7]: _annotations("seven"), ids[8]: _annotations("eight")})
    client.annotations.rename_class("road-signs", "arrow", "arrows")
    client.annotations.merge_class("road-signs", "pedestrian", "bike")
    client.annotations.delete_class("road-signs", "Zebra", delete_annotations=True)
    client.annotations.delete("road-signs", ids[9])
    client.datasets.insights("road-signs")

    client.batch.update("road-signs", ids[12:15], status="complete")
    client.batch.move("road-signs", ids[15:17], target_directory_path="/moved")
    client.batch.copy(
        "road-signs", ids[17:19], target_directory_path="/copied", copy_annotations=True
    )
    client.batch.copy_to_dataset("road-signs", ids[19:22], "made")
    client.batch.delete("road-signs", ids[22:24])
    client.datasets.insights("made")
    return ids


def _exports(client: pictograph.Client, files: Path) -> None:
    client.exports.create(
        "road-signs",
        "split",
        class_filter=["yield", "stop", "bike", "speed_limit"],
        organize_by_split=True,
    )
    client.exports.create("road-signs", "coco", format="coco")
    client.exports.create("road-signs", "yolo", format="yolo")
    client.exports.create("made", "later", wait=False)
    client.exports.wait_for_completion("made", "later")
    client.exports.list()
    for dataset, name in (("road-signs", "split"), ("road-signs", "coco"), ("made", "later")):
        client.exports.download(dataset, name, files / f"{name}.zip")


def _training(fake: FakePictograph, client: pictograph.Client, files: Path) -> None:
    """Training, models, evaluations, deployments and jobs."""
    client.training.quote("road-signs", "v1", pipeline_type="yolox", gpu_type="a100")
    client.training.create(
        "road-signs",
        "v1",
        pipeline_type="yolox",
        name="detector",
        config={"epochs": 5, "class_overrides": {"bike": "yield", "Zebra": "stop"}},
    )
    segmenter = client.training.create(
        "road-signs", "split", pipeline_type="rfdetr_segmentation", name="segmenter", wait=False
    )
    cancelled = client.training.create(
        "road-signs", "v1", pipeline_type="sm_pytorch", name="cancelled", wait=False
    )
    fake.clock.advance(minutes=3)
    client.training.list()
    client.training.cancel(run_id=cancelled.id)
    client.training.bulk_cancel([cancelled.id])
    client.training.wait_for_completion(run_id=segmenter.id)
    list(client.jobs.list(status="all"))

    for model in client.models.list():
        client.models.get(model_id=model.id)
        client.models.files(model_id=model.id)
        client.models.versions(model_id=model.id)
        client.models.download(model_id=model.id, output_path=files / f"{model.id}.onnx")
    client.models.update("detector", description="signs", visibility="public")
    client.models.predict("detector", image=_picture(3), confidence=0.05)

    evaluation = client.model_evaluations.evaluate("detector", "road-signs", "v1")
    client.model_evaluations.evaluate("segmenter", "road-signs", "split")
    client.model_evaluations.report(evaluation.id)
    client.model_evaluations.list()

    created = client.deployments.create("detector", gpu_type="t4", min_containers=1)
    client.deployments.wait_until_active(created.deployment)
    client.deployments.update(created.deployment.id, max_containers=3)
    fake.clock.advance(hours=1)
    client.deployments.pause(created.deployment.id)
    client.deployments.list()


def _account(fake: FakePictograph, client: pictograph.Client) -> None:
    """Credits, people, API keys, webhooks and notifications."""
    client.credits.balance()
    client.credits.history(limit=100)
    client.credits.usage_by_operation(range="all")

    fake.add_member("zed@example.com", "admin")
    fake.add_member("amy@example.com")
    invite = client.organizations.invite("bob@example.com", role="admin")
    client.organizations.list_invites()
    members = client.organizations.list_members()
    client.organizations.update_member_role(members[-1].id, role="viewer")
    client.organizations.revoke_invite(invite.id)

    key = client.api_keys.create("ci", rate_limit=10)
    client.api_keys.list()
    client.api_keys.update(key.key_id, name="ci-2", is_active=False)

    client.webhooks.test(ODD_HOOK)
    client.webhooks.deliveries(limit=100)
    notifications = client.notifications.list(limit=100)
    client.notifications.mark_read(notifications[0].id)
    client.notifications.unread_count()


def session() -> list[str]:
    """Run the session; return the journal's lines, then the webhook bodies received."""
    received: list[bytes] = []

    def receiver(request: WebhookRequest) -> int:
        received.append(request.body)
        return 500 if len(received) % 3 == 0 else 204  # some deliveries are retried

    with (
        tempfile.TemporaryDirectory() as folder,
        FakePictograph(seed=7, balance_usd=500) as fake,
        fake.client(max_retries=0) as client,
    ):
        fake.add_dataset(
            "road-signs",
            images=40,
            completed_images=30,
            classes=CLASSES,
            annotation_types=["bbox", "polygon"],
        )
        fake.add_export("road-signs", "v1")
        client.webhooks.create(HOOK, auth_headers={"X-B": "2", "X-A": "1"})
        fake.webhooks.route(HOOK, receiver)
        client.webhooks.create(ODD_HOOK, event_types=["credits.low"])  # tested only
        # A receiver answering something that is not a status: the API names it.
        fake.webhooks.route(ODD_HOOK, lambda request: object())

        files = Path(folder)
        _datasets(client, files)
        _exports(client, files)
        _training(fake, client, files)
        _account(fake, client)
        fake.clock.advance(hours=30)  # every retry is due
        client.webhooks.deliveries(limit=100)

        lines = [
            json.dumps(
                [
                    call.method,
                    call.target,
                    call.status,
                    call.request_id,
                    call.elapsed,
                    call.fault,
                    call.idempotency_key,
                    call.response_body.decode("latin-1"),
                ]
            )
            for call in fake.calls
        ]
    return lines + [body.decode("latin-1") for body in received]


if __name__ == "__main__":
    sys.stdout.write("\n".join(session()) + "\n")
