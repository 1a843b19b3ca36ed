"""What the fake answers the real SDK, held to the OpenAPI document it publishes.

Each answer in a fake's journal is matched to its operation (signed storage URLs too),
its status must be one the operation declares, and a JSON body must validate against
the schema declared for that status. The calls here are the ones whose answers the
document once left out: refusals a handler raises, statuses any route can answer, a
pipeline the API still sends, signed URLs as the fake mints them.
"""

from __future__ import annotations

import datetime
import json
from typing import TYPE_CHECKING

import httpx
import pictograph
import pytest

schemathesis = pytest.importorskip("schemathesis")

from pictograph_testing import FakePictograph  # noqa: E402
from pictograph_testing.api.app import MAX_BODY_BYTES  # noqa: E402
from pictograph_testing.catalog import MAX_IMAGE_BYTES  # noqa: E402
from pictograph_testing.openapi import openapi_document  # noqa: E402
from tests.image_files import write_image  # noqa: E402
from tests.test_workflows import detection_graph  # noqa: E402

if TYPE_CHECKING:
    from pathlib import Path

    from pictograph_testing.journal import Call

DOCUMENT = schemathesis.openapi.from_dict(openapi_document())
SIGNS = "road-signs"


def disagreements(calls: list[Call]) -> list[str]:
    """What each answer does that its operation in the document does not say."""
    found = []
    for call in calls:
        operation = DOCUMENT.find_operation_by_path(call.method, call.path)
        if operation is None:
            found.append(f"{call.method} {call.path}: no operation")
            continue
        declared = operation.definition.raw["responses"]
        if str(call.status) not in declared:
            found.append(f"{call.method} {call.path}: {call.status} not in {sorted(declared)}")
            continue
        if "application/json" not in declared[str(call.status)].get("content", {}):
            continue
        response = httpx.Response(
            call.status,
            content=call.response_body,
            headers={"content-type": "application/json"},
            request=httpx.Request(call.method, "https://api.pictograph.io" + call.target),
        )
        response.read()
        response.elapsed = datetime.timedelta(0)
        try:
            operation.validate_response(response)
        except Exception as failure:  # schemathesis raises a group of its checks' failures
            found.append(f"{call.method} {call.path} {call.status}: {failure}")
    return found


def _answered(fake: FakePictograph, status: int) -> Call:
    return next(call for call in fake.calls if call.status == status)


def test_refusals_handlers_raise_are_declared(tmp_path: Path) -> None:
    with FakePictograph(seed=1) as fake:
        fake.add_dataset(SIGNS, images=20, completed_images=12, classes=["stop_sign", "yield"])
        fake.add_export(SIGNS, "v1")
        client = fake.client(max_retries=0)
        client.training.create(SIGNS, "v1", pipeline_type="yolox", name="signs")
        names = [image.filename for image in client.images.list(SIGNS)][:2]
        with pytest.raises(pictograph.ConflictError):  # no embedding map yet
            client.images.assign_splits(SIGNS, mode="embedding")
        classes = [{"name": "stop_sign"}]
        with pytest.raises(pictograph.ValidationError, match=r"(?i)sahi"):
            client.auto_annotate.batch(SIGNS, names, classes, model="signs", sahi=True)
        with pytest.raises(pictograph.ValidationError, match=r"(?i)sahi"):
            client.auto_annotate.quote(
                dataset_name=SIGNS, image_filenames=names, classes=classes, model="signs", sahi=True
            )
        client.workflows.create("Signs", detection_graph("signs", SIGNS))
        run = client.workflows.wait_for_run(client.workflows.run("Signs").run_id)
        page = client.workflows.run_log(run.id, stream="frames", order="desc", limit=2)
        with pytest.raises(pictograph.ValidationError, match="cursor"):
            client.workflows.run_log(run.id, stream="frames", order="asc", cursor=page.next_cursor)
        assert {c.status for c in fake.calls} >= {200, 400, 409}
        assert disagreements(list(fake.calls)) == []


def test_training_and_credit_refusals_are_declared() -> None:
    # A quote of an export still being made (400), a run the balance cannot start (402)
    # and an estimate of an operation there is none of (400).
    with FakePictograph(seed=1, profile="current", balance_usd=1.5) as fake:
        fake.add_dataset(SIGNS, images=20, completed_images=12, classes=["stop_sign", "yield"])
        fake.add_export(SIGNS, "v1")
        fake.add_export(SIGNS, "pending", status="pending")
        client = fake.client(max_retries=0)
        with pytest.raises(pictograph.ValidationError):
            client.training.quote(SIGNS, "pending", pipeline_type="yolox")
        with pytest.raises(pictograph.PaymentRequiredError):
            client.training.create(SIGNS, "v1", pipeline_type="yolox", name="signs")
        with pytest.raises(pictograph.ValidationError):
            client.credits.estimate("bogus")
        assert [(c.path.rsplit("/", 2)[-2:], c.status) for c in fake.calls] == [
            (["training", "quote"], 400),
            (["training", ""], 402),
            (["credits", "estimate"], 400),
        ]
        assert disagreements(list(fake.calls)) == []


def test_a_body_over_the_limit_and_a_rate_limit_are_declared_on_every_route() -> None:
    with FakePictograph(seed=1) as fake:
        http = httpx.Client(
            transport=fake.transport(),
            base_url=str(fake.url),
            headers={"X-API-Key": fake.api_key},
        )
        too_big = json.dumps({"name": "x", "description": "a" * MAX_BODY_BYTES}).encode()
        answer = http.post(
            "/api/v1/developer/datasets/",
            content=too_big,
            headers={"content-type": "application/json"},
        )
        assert answer.status_code == 413
        client = fake.client(max_retries=0)
        fake.faults.rate_limit(1, per_seconds=60)
        client.credits.balance()
        with pytest.raises(pictograph.RateLimitError):
            client.credits.balance()
        assert _answered(fake, 429).path == "/api/v1/developer/credits/balance"
        assert disagreements(list(fake.calls)) == []


def test_a_pipeline_the_sdks_models_no_longer_name_is_a_reply_the_document_takes() -> None:
    """The classic profile still trains (and sends) detectron2 runs, which SDKs from
    1.8.1 on fail to read: the document describes the API, so its replies take them."""
    with FakePictograph(seed=1, profile="classic") as fake:
        fake.add_dataset(SIGNS, images=20, completed_images=12, classes=["stop", "yield"])
        fake.add_export(SIGNS, "v1")
        with pytest.raises(pictograph.ServerError):
            fake.client(max_retries=0).training.create(
                SIGNS,
                "v1",
                # A pipeline the fake serves and the SDK's Literal does not list.
                pipeline_type="detectron2",  # type: ignore[arg-type]
                name="d2",
                wait=False,
            )
        answered = fake.calls.last
        assert json.loads(answered.response_body)["data"]["pipeline_type"] == "detectron2"
        assert disagreements([answered]) == []


def test_signed_urls_as_minted_and_answered_are_the_documents(tmp_path: Path) -> None:
    image = write_image(tmp_path / "r3.png", (8, 8))
    with FakePictograph(seed=1) as fake:
        fake.add_dataset(SIGNS, images=2, completed_images=2, classes=["stop"])
        fake.add_export(SIGNS, "v1")
        client = fake.client(max_retries=0)
        client.images.upload(SIGNS, str(image))
        client.exports.download(SIGNS, "v1", str(tmp_path / "v1.zip"))
        storage = [call for call in fake.calls if call.path.startswith("/_storage/")]
        assert {call.method for call in storage} == {"GET", "PUT"}
        put = next(call for call in storage if call.method == "PUT")
        # A PUT over what the signed URL takes: storage's own 413.
        slot = fake.world.storage.upload_slot(put.path.split("/")[2])
        limit = MAX_IMAGE_BYTES if slot is None else slot.max_bytes
        storage_http = httpx.Client(transport=fake.transport(), base_url=str(fake.url))
        over = storage_http.put(put.target, content=b"\0" * (limit + 1))
        assert over.status_code == 413
        assert disagreements([c for c in fake.calls if c.path.startswith("/_storage/")]) == []
