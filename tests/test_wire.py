"""Wire details that hold across resources: the fast run encoding and the error envelope."""

from __future__ import annotations

import json

import httpx
import pytest

from pictograph_testing import FakePictograph
from tests.conftest import DATASET, EXPORT


def _http(fake: FakePictograph) -> httpx.Client:
    return httpx.Client(
        base_url=fake.base_url, transport=fake.transport(), headers={"X-API-Key": fake.api_key}
    )


def _runs_in_every_state(fake: FakePictograph) -> list[str]:
    """Create runs that end up queued, cold-starting, running, completed, OOM, cancelled."""
    with fake.client(max_retries=0) as client:

        def start(name: str, **config: object) -> str:
            return client.training.create(
                DATASET, EXPORT, pipeline_type="yolox", name=name, config=config, wait=False
            ).id

        ids = [start("done", epochs=5), start("oom", model_size="x"), start("gone")]
        client.training.cancel(ids[2])  # cancelled during its cold start
        ids.append(start("long", epochs=400))
        fake.clock.advance(minutes=10)
        ids.append(start("cold"))
        ids.append(start("waiting"))  # the fourth a10g worker is taken: it queues
    return ids


def test_a_polled_run_is_the_same_object_as_in_a_listing(fake: FakePictograph) -> None:
    ids = _runs_in_every_state(fake)
    with _http(fake) as http:
        listed = {r["id"]: r for r in http.get("/api/v1/developer/training/").json()["data"]}
        statuses = set()
        for run_id in ids:
            single = http.get(f"/api/v1/developer/training/{run_id}").json()["data"]
            assert single == listed[run_id]
            statuses.add(single["status"])
    assert statuses == {"completed", "failed", "cancelled", "running", "queued"}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("GET", "/api/v1/developer/training/nope", None, 404, "not_found"),
        ("POST", "/api/v1/developer/training/", b"{not json", 422, "validation_error"),
        ("POST", "/api/v1/developer/training/", b"[1, 2]", 422, "validation_error"),
        ("POST", "/api/v1/developer/training/", b"", 422, "validation_error"),
        ("GET", "/api/v1/developer/training/?limit=zero", None, 422, "validation_error"),
        (
            "GET",
            "/api/v1/developer/credits/estimate?operation=bogus",
            None,
            400,
            "unknown_operation",
        ),
        ("GET", "/api/v1/developer/models/?status=lost", None, 422, "validation_error"),
    ],
)
def test_every_error_has_the_envelope_and_the_legacy_detail(
    fake: FakePictograph, method: str, path: str, body: bytes | None, status: int, code: str
) -> None:
    with _http(fake) as http:
        response = http.request(method, path, content=body)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"]
    payload = response.json()
    assert payload["error"]["code"] == code
    assert payload["error"]["message"]
    assert "Traceback" not in response.text
    legacy = payload["detail"]
    if isinstance(legacy, list):
        assert legacy == payload["error"]["details"]["errors"]
        assert all({"loc", "msg", "type"} <= set(item) for item in legacy)
    else:
        assert legacy == payload["error"]["message"]


def test_a_refused_request_changes_nothing(fake: FakePictograph) -> None:
    client = fake.client(max_retries=0)
    before = (client.training.list(), fake.ledger)
    with _http(fake) as http:
        response = http.post(
            "/api/v1/developer/training/",
            content=json.dumps(
                {
                    "dataset_name": DATASET,
                    "export_name": EXPORT,
                    "pipeline_type": "yolox",
                    "name": "r",
                    "config": {"epochs": -3},
                }
            ),
        )
    assert response.status_code == 400
    assert response.json()["error"]["details"]["errors"][0]["loc"] == ["body", "config", "epochs"]
    assert client.training.list() == before[0]
    assert fake.ledger == before[1]
