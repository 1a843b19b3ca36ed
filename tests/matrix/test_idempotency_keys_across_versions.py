"""Every release's Idempotency-Keys: the fake's seeded ones while coupled, its own otherwise.

Every release draws its keys with ``pictograph._http.idempotency.generate_key()``
(``uuid4().hex``) from its transports' ``request``; the coupling seeds what it draws
(see ``pictograph_testing._sdk.idempotency``). Here, through each release's sync client,
and its async one from 1.16.0: two fresh fakes of one seed are sent the same keys and
keep the same journal, a retry resends its write's key, and with no fake active the
release's own generator runs.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pictograph
import pytest

from pictograph_testing import FakePictograph
from pictograph_testing._sdk.layout import optional_module
from tests.conftest import Sent, is_uuid4_hex, keys_of

DATASET = "road-signs"
EXPORT = "road-signs-20260512-120000"
HAS_ASYNC = optional_module("pictograph.aio") is not None


def _ready(seed: int) -> FakePictograph:
    fake = FakePictograph(seed=seed)
    fake.add_dataset(DATASET, images=20, completed_images=12, classes=["stop_sign", "yield"])
    fake.add_export(DATASET, EXPORT)
    return fake


def _train(client: Any, name: str) -> None:
    client.training.create(DATASET, EXPORT, pipeline_type="yolox", name=name, wait=False)


async def _session(seed: int, sent: Sent) -> tuple[list[str | None], list[object]]:
    sent.clear()
    with _ready(seed) as fake:
        with fake.client(max_retries=0) as own, pictograph.Client(max_retries=0) as built:
            _train(own, "own")
            _train(built, "built")
        if HAS_ASYNC:
            async with fake.async_client(max_retries=0) as own_async:
                await own_async.training.create(
                    DATASET, EXPORT, pipeline_type="yolox", name="own-async", wait=False
                )
            async with pictograph.AsyncClient(max_retries=0) as built_async:
                await built_async.training.create(
                    DATASET, EXPORT, pipeline_type="yolox", name="built-async", wait=False
                )
        return keys_of(sent), list(fake.api.journal)


async def test_one_seed_sends_the_same_keys_and_keeps_the_same_journal(sent_keys: Sent) -> None:
    keys, journal = await _session(3, sent_keys)
    again, replayed = await _session(3, sent_keys)
    other, _ = await _session(4, sent_keys)

    assert len(keys) == (4 if HAS_ASYNC else 2)
    assert all(is_uuid4_hex(key) for key in keys), keys
    assert len(set(keys)) == len(keys)
    assert (again, replayed) == (keys, journal)
    assert not set(other) & set(keys)


@pytest.mark.parametrize("way", ["sync", "async"])
async def test_a_retry_resends_its_writes_key(sent_keys: Sent, way: str) -> None:
    if way == "async" and not HAS_ASYNC:
        pytest.skip("no AsyncClient before 1.16.0")
    with _ready(1) as fake:
        fake.faults.fail_next("POST", "training/", status=503, after=True)
        if way == "sync":
            with pictograph.Client(max_retries=1) as client:
                _train(client, "r")
        else:
            async with pictograph.AsyncClient(max_retries=1) as aclient:
                await aclient.training.create(
                    DATASET, EXPORT, pipeline_type="yolox", name="r", wait=False
                )
        assert len(fake.world.runs) == 1
    first, retry = keys_of(sent_keys)
    assert is_uuid4_hex(first)
    assert retry == first


def test_with_no_fake_active_the_release_draws_its_own_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with _ready(1):
        pass  # coupled once, and uncoupled again
    drawn = uuid.UUID(int=7, version=4)
    monkeypatch.setattr(uuid, "uuid4", lambda: drawn)
    sent: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers.get("Idempotency-Key"))
        return httpx.Response(200, json={"data": {}})

    client = pictograph.Client(api_key="pk_test", base_url="https://elsewhere.example")
    client._transport._client = httpx.Client(
        base_url="https://elsewhere.example", transport=httpx.MockTransport(answer)
    )
    client._transport.request("POST", "/x", json={})
    assert sent == [drawn.hex]
