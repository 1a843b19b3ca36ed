"""Videos on every release (the resource is in 1.0.0): a clip uploaded, probed and its
frames extracted into a dataset, sync and async. Releases before 1.69.43 name the target
``folder_name`` under ``parent_folder_path`` and read ``folder_path``."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

import pytest

from pictograph_testing import mp4_header
from pictograph_testing._sdk.layout import sdk_version
from tests.matrix.conftest import DATASET

if TYPE_CHECKING:
    from pathlib import Path

    import pictograph

    from pictograph_testing import FakePictograph


def _clip(tmp_path: Path) -> Path:
    path = tmp_path / "clip.mp4"
    path.write_bytes(mp4_header(duration_seconds=3, fps=25, width=96, height=64))
    return path


def _into(video: Any, name: str) -> dict[str, Any]:
    """The target directory as this release names it."""
    parameters = inspect.signature(video.extract_frames).parameters
    if "directory_name" in parameters:
        return {"directory_name": name, "parent_directory_path": "/clips"}
    return {"folder_name": name, "parent_folder_path": "/clips"}


def _where(job: Any) -> str | None:
    return getattr(job, "directory_path", None) or getattr(job, "folder_path", None)


def test_a_clip_is_uploaded_probed_and_its_frames_extracted(
    world: FakePictograph, sdk: pictograph.Client, tmp_path: Path
) -> None:
    info = sdk.video.upload(_clip(tmp_path))
    metadata = sdk.video.probe(info.gcs_path)
    assert (metadata.frame_count, metadata.native_fps, metadata.width) == (75, 25.0, 96)
    job = sdk.video.extract_frames(DATASET, info.gcs_path, sample_fps=2.0, **_into(sdk.video, "a"))
    assert (job.status, job.total_frames, _where(job)) == ("complete", 6, "/clips/a")
    assert sdk.datasets.get(DATASET).image_count == 26


async def test_async_a_clip_is_uploaded_probed_and_its_frames_extracted(
    world: FakePictograph, async_sdk: pictograph.AsyncClient, tmp_path: Path
) -> None:
    if not hasattr(async_sdk, "video"):
        pytest.skip(f"pictograph {sdk_version()}'s AsyncClient has no video")
    info = await async_sdk.video.upload(_clip(tmp_path))
    assert (await async_sdk.video.probe(info.gcs_path)).frame_count == 75
    job = await async_sdk.video.extract_frames(
        DATASET, info.gcs_path, wait=False, **_into(async_sdk.video, "b")
    )
    assert job.status == "processing"
    done = await async_sdk.video.wait_for_extraction(job.job_id)
    assert (done.status, done.total_frames, _where(done)) == ("complete", 3, "/clips/b")
