"""Same seed and same calls give byte-identical responses."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pictograph
import pytest

from pictograph_testing import FakePictograph, ProfileName


def _scenario(seed: int, profile: ProfileName = "classic") -> list[tuple[int, str, bytes]]:
    """Drive a mixed session through the SDK and record every response exactly."""
    seen: list[tuple[int, str, bytes]] = []

    def record(response: httpx.Response) -> None:
        response.read()
        seen.append((response.status_code, response.headers["x-request-id"], response.content))

    with FakePictograph(seed=seed, profile=profile) as fake:
        fake.add_dataset(
            "road-signs",
            images=40,
            completed_images=30,
            classes=["stop", "yield"],
            annotation_types=["bbox", "polygon"],
        )
        fake.add_export("road-signs", "v1")
        client = fake.client(max_retries=0)
        client._transport._client.event_hooks["response"].append(record)
        first = client.training.create("road-signs", "v1", pipeline_type="yolox", name="a")
        second = client.training.create(
            "road-signs", "v1", pipeline_type="rfdetr_detection", name="b", wait=False
        )
        client.training.quote("road-signs", "v1", pipeline_type="sm_pytorch")
        fake.clock.advance(minutes=4)
        client.training.get(second.id)
        client.training.list(limit=10)
        client.training.cancel(second.id)
        with contextlib.suppress(pictograph.exceptions.NotFoundError):
            client.training.create("road-signs", "missing", pipeline_type="yolox", name="c")
        client.credits.balance()
        client.credits.history(limit=5)
        client.credits.usage_by_operation(range="all")
        client.credits.estimate("training_a100", quantity=12)
        assert first.model_id is not None
        client.models.list()
        client.models.versions(model_id=first.model_id)
        client.models.files(model_id=first.model_id)
        client.close()
    return seen


def test_same_seed_same_calls_give_identical_bytes() -> None:
    first = _scenario(seed=7)
    second = _scenario(seed=7)
    # Sixteen calls, plus the polls of the first create's wait.
    assert len(first) > 16
    assert first == second


def test_same_seed_is_identical_under_the_current_profile_too() -> None:
    assert _scenario(seed=3, profile="current") == _scenario(seed=3, profile="current")


def test_another_seed_gives_other_ids() -> None:
    # Bodies without ids (errors, estimates, usage) may coincide; the rest must not.
    bodies = {body for _, _, body in _scenario(seed=7) if b'"id"' in body}
    others = {body for _, _, body in _scenario(seed=8) if b'"id"' in body}
    assert bodies
    assert not bodies & others


def _journal_in_a_process(hash_seed: str) -> subprocess.Popen[bytes]:
    """Start ``tests/determinism_session.py`` in a process of its own with that hash seed."""
    repo = Path(__file__).resolve().parents[1]
    path = os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, "-m", "tests.determinism_session"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=repo,
        env={**os.environ, "PYTHONPATH": path, "PYTHONHASHSEED": hash_seed},
    )


@pytest.mark.slow
def test_a_broad_session_gives_the_same_bytes_in_processes_with_other_hash_seeds() -> None:
    # The session reaches every resource the SDK has, in two processes at once: string
    # hashes and set order differ between them (the hash seed), and so do addresses and
    # the wall clock.
    processes = [_journal_in_a_process(seed) for seed in ("0", "4242")]
    try:
        outputs = [process.communicate(timeout=120) for process in processes]
    finally:
        for process in processes:
            process.kill()  # nothing to do once it has ended
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr.decode()
    first, second = (stdout.decode("latin-1").splitlines() for stdout, _ in outputs)

    assert len(first) > 300
    differing = [n for n, (a, b) in enumerate(zip(first, second, strict=False)) if a != b]
    assert not differing, (
        f"line {differing[0]} differs:\n{first[differing[0]]}\n{second[differing[0]]}"
    )
    assert first == second


async def _gathered_uploads(folder: Path) -> list[tuple[str, str, int, str, str | None]]:
    """Twelve uploads gathered through the async client, as its journal records them."""
    from tests.image_files import write_image

    files = [write_image(folder / f"{n:02}.png") for n in range(12)]
    with FakePictograph(seed=4) as fake:
        fake.add_dataset("lot")
        async with fake.async_client(max_retries=0) as client:
            await asyncio.gather(*(client.images.upload("lot", f) for f in files))
        return [(c.method, c.target, c.status, c.request_id, c.idempotency_key) for c in fake.calls]


async def test_gathered_async_uploads_reach_the_fake_in_the_same_order_every_time(
    tmp_path: Path,
) -> None:
    # The SDK reads each file through asyncio.to_thread: on threads, the uploads reached
    # the fake in the order the reads happened to finish, so every run's journal differed.
    first = await _gathered_uploads(tmp_path / "a")
    again = await _gathered_uploads(tmp_path / "b")
    assert len(first) == 36  # signed URL, PUT and register for each
    assert first == again
