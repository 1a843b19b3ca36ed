"""Videos through the real SDK (sync and async): ``video.upload``, ``probe``,
``extract_frames``, ``get_extraction`` and ``wait_for_extraction``."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from pictograph.exceptions import (
    ApiError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PaymentRequiredError,
    PollTimeoutError,
    ValidationError,
)
from pictograph.models.video import VideoExtractionJob, VideoMetadata
from PIL import Image as PILImage

from pictograph_testing import FakePictograph
from pictograph_testing.world.video_files import mp4_header
from pictograph_testing.world.videos import EXTRACT_SECONDS, SECONDS_PER_FRAME
from tests.conftest import DATASET, EXPORT
from tests.image_files import raw

if TYPE_CHECKING:
    from pathlib import Path

    import pictograph

pytestmark = pytest.mark.usefixtures("no_real_waiting")


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    """A 4-second 30 fps 320x240 MP4 (its header: the fake decodes no codec)."""
    path = tmp_path / "clip.mp4"
    path.write_bytes(mp4_header(duration_seconds=4, fps=30, width=320, height=240))
    return path


def _extracted_after(frames: int) -> float:
    return EXTRACT_SECONDS + SECONDS_PER_FRAME * frames


# ── upload and probe ──


def test_an_uploaded_mp4_probes_as_its_header_says(
    fake: FakePictograph, client: pictograph.Client, clip: Path
) -> None:
    info = client.video.upload(clip)
    # Under the organization's prefix, as the SDK's own tests show the API's paths.
    assert info.gcs_path.startswith(f"{fake.organization_id}/temp/videos/")
    assert info.gcs_path.endswith("_clip.mp4")
    assert info.gcs_uri == f"gs://pictograph-testing/{info.gcs_path}"
    # The bytes went to the signed URL, without the API key.
    [put] = fake.calls.filter(method="PUT")
    assert put.status == 200
    assert client.video.probe(info.gcs_path) == VideoMetadata(
        duration_seconds=4.0, native_fps=30.0, width=320, height=240, frame_count=120
    )


def test_a_video_over_an_images_25_mib_uploads(
    tmp_path: Path,
) -> None:
    # A signed URL for a video takes what the API takes for one (1 GB), not an image's
    # 25 MiB: 26 MiB of media after the header.
    big = tmp_path / "long.mp4"
    media = bytes(26 * 1024 * 1024)
    big.write_bytes(mp4_header(duration_seconds=60, fps=25, width=1280, height=720, mdat=media))
    expected = VideoMetadata(
        duration_seconds=60.0, native_fps=25.0, width=1280, height=720, frame_count=1500
    )
    with FakePictograph(seed=1) as fake, fake.client(max_retries=0) as client:
        assert client.video.probe(client.video.upload(big).gcs_path) == expected
        [put] = fake.calls.filter(method="PUT")
        assert (put.status, put.body_size) == (200, big.stat().st_size)


def test_a_real_mp4_probes_as_opencv_reads_it(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    cv2 = pytest.importorskip("cv2")
    numpy = pytest.importorskip("numpy")
    path = tmp_path / "real.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (160, 96))
    for shade in range(50):
        writer.write(numpy.full((96, 160, 3), shade * 5, numpy.uint8))
    writer.release()
    capture = cv2.VideoCapture(str(path))
    expected = (
        int(capture.get(cv2.CAP_PROP_FRAME_COUNT)),
        capture.get(cv2.CAP_PROP_FPS),
        int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
        int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
    )
    capture.release()
    metadata = client.video.probe(client.video.upload(path).gcs_path)
    assert (metadata.frame_count, metadata.native_fps, metadata.width, metadata.height) == (
        expected
    )
    assert metadata.duration_seconds == pytest.approx(expected[0] / expected[1])


def test_what_is_not_an_mp4_is_a_422_that_says_what_could_not_be_read(
    client: pictograph.Client, tmp_path: Path
) -> None:
    webm = tmp_path / "clip.webm"
    webm.write_bytes(b"\x1aE\xdf\xa3" + bytes(60))
    info = client.video.upload(webm, content_type="video/webm")
    with pytest.raises(ValidationError, match=r"Could not read 'clip\.webm' as a video: it is not"):
        client.video.probe(info.gcs_path)
    # An MP4 cut short before its header ends.
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(mp4_header(duration_seconds=1, fps=10, width=64, height=64)[:60])
    with pytest.raises(ValidationError, match="'moov' box is cut short"):
        client.video.probe(client.video.upload(cut).gcs_path)
    with pytest.raises(ValidationError, match="Could not read"):
        client.video.extract_frames(DATASET, info.gcs_path, directory_name="frames")


def test_an_upload_is_a_video_and_a_probe_needs_its_bytes(
    fake: FakePictograph, client: pictograph.Client, clip: Path
) -> None:
    with pytest.raises(ValidationError, match="a video's MIME type"):
        client.video.upload(clip, content_type="image/png")
    # A blank type is no video's either (it was signed as video/mp4, and the SDK's PUT of
    # the blank type it sent then failed with a bare 403).
    with pytest.raises(ValidationError, match="Invalid content_type '': a video's MIME type"):
        client.video.upload(clip, content_type="")
    # A path from upload-url whose bytes were never PUT (the SDK always PUTs them).
    with httpx.Client(
        transport=fake.transport(), base_url=fake.base_url, headers={"X-API-Key": fake.api_key}
    ) as http:
        answer = http.post(
            "/api/v1/developer/video/upload-url",
            json={"filename": "later.mp4", "content_type": "video/mp4"},
        )
        assert answer.status_code == 200
        unsent = answer.json()["gcs_path"]
        missing = http.post("/api/v1/developer/video/upload-url", json={"content_type": "x"})
        assert missing.status_code == 422
        assert "filename" in missing.json()["error"]["message"]
    with pytest.raises(NotFoundError, match=r"No uploaded bytes .* PUT the file"):
        client.video.probe(unsent)
    with pytest.raises(NotFoundError, match=r"pass the gcs_path video\.upload returned"):
        client.video.probe("somewhere/else.mp4")


def test_another_organizations_video_and_job_are_404s(
    fake: FakePictograph, client: pictograph.Client, clip: Path
) -> None:
    info = client.video.upload(clip)
    job = client.video.extract_frames(DATASET, info.gcs_path, directory_name="f", wait=False)
    other = fake.add_organization()
    other.add_dataset("theirs")
    with other.client(max_retries=0) as theirs:
        with pytest.raises(NotFoundError):
            theirs.video.probe(info.gcs_path)
        with pytest.raises(NotFoundError):
            theirs.video.extract_frames("theirs", info.gcs_path, directory_name="f")
        with pytest.raises(NotFoundError, match="Extraction job"):
            theirs.video.get_extraction(job.job_id)


# ── extraction ──


def test_extracted_frames_are_images_of_the_dataset(
    fake: FakePictograph, client: pictograph.Client, clip: Path, tmp_path: Path
) -> None:
    info = client.video.upload(clip)
    before = fake.world.now()
    job = client.video.extract_frames(
        DATASET, info.gcs_path, directory_name="clip", parent_directory_path="/videos"
    )
    # floor(duration * sample_fps) frames, the count the SDK documents.
    assert (job.status, job.progress, job.total_frames, job.frames_extracted) == (
        "complete",
        100,
        4,
        4,
    )
    assert job.directory_path == "/videos/clip"
    assert job.warning is None
    # wait=True polled on the virtual clock, every 3 s until the job ended.
    assert fake.world.now() - before >= _extracted_after(4)
    frames = client.images.list(DATASET, directory_path="/videos/clip")
    assert sorted(i.id for i in frames) == sorted(job.image_ids or [])
    assert sorted(i.filename for i in frames) == [f"frame_00000{n}.jpg" for n in range(1, 5)]
    assert {(i.width, i.height) for i in frames} == {(320, 240)}
    first = next(i for i in frames if i.filename == "frame_000001.jpg")
    saved = client.images.download(DATASET, first.id, tmp_path / "frame.jpg")
    with PILImage.open(saved) as picture:
        assert (picture.format, picture.size) == ("JPEG", (320, 240))
    assert client.datasets.get(DATASET).image_count == 24
    # The temporary upload is deleted once the frames are in.
    with pytest.raises(NotFoundError, match="deleted once its frames were extracted"):
        client.video.probe(info.gcs_path)


def test_an_extraction_counts_its_frames_out_on_the_clock(
    fake: FakePictograph, client: pictograph.Client, clip: Path
) -> None:
    info = client.video.upload(clip)
    job = client.video.extract_frames(
        DATASET, info.gcs_path, directory_name="clip", sample_fps=30, wait=False
    )
    assert isinstance(job, VideoExtractionJob)
    assert (job.status, job.total_frames, job.frames_extracted, job.image_ids) == (
        "processing",
        120,
        0,
        None,
    )
    fake.clock.advance(_extracted_after(120) / 2)
    halfway = client.video.get_extraction(job.job_id)
    assert halfway.status == "processing"
    assert 0 < halfway.frames_extracted < 120
    assert 0 < halfway.progress < 100
    assert halfway.directory_path is None
    assert client.images.list(DATASET, directory_path="/clip") == []
    with pytest.raises(PollTimeoutError, match="did not complete within 1s"):
        client.video.wait_for_extraction(job.job_id, timeout=1, poll_interval=0.5)
    done = client.video.wait_for_extraction(job.job_id, poll_interval=0.5)
    assert (done.status, done.frames_extracted, len(done.image_ids or [])) == ("complete", 120, 120)
    assert client.video.get_extraction(job.job_id) == done


def test_a_fractional_rate_takes_floor_duration_times_rate(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    video = fake.add_video(duration_seconds=10, fps=29.97, width=1920, height=1080)
    assert client.video.probe(video.gcs_path) == VideoMetadata(
        duration_seconds=round(300 / 29.97, 6),
        native_fps=29.97,
        width=1920,
        height=1080,
        frame_count=300,
    )
    job = client.video.extract_frames(DATASET, video.gcs_path, directory_name="f", sample_fps=0.25)
    assert job.total_frames == math.floor(300 / 29.97 * 0.25) == 2


@pytest.mark.parametrize(("fps", "frames"), [(29.97, 300), (23.976, 240), (59.94, 599), (30, 300)])
def test_every_frame_at_the_native_rate_is_every_frame_the_probe_counts(
    fake: FakePictograph, client: pictograph.Client, fps: float, frames: int
) -> None:
    """The probed duration is rounded to the microsecond: an NTSC rate's floor of it times
    the rate falls a hair short of the last frame, which is taken all the same."""
    video = fake.add_video(duration_seconds=10, fps=fps, width=64, height=48)
    probed = client.video.probe(video.gcs_path)
    assert probed.frame_count == frames
    job = client.video.extract_frames(
        DATASET, video.gcs_path, directory_name="f", sample_fps=probed.native_fps
    )
    assert job.total_frames == frames


def test_bad_extraction_requests_are_refused_and_change_nothing(
    fake: FakePictograph, client: pictograph.Client, clip: Path
) -> None:
    info = client.video.upload(clip)
    client.directories.create(DATASET, "/taken")
    before = client.datasets.get(DATASET).image_count
    refusals: list[tuple[type[Exception], str, dict[str, object]]] = [
        (ValidationError, "sample_fps", {"sample_fps": 0}),
        (ValidationError, r"above the video's own frame rate \(30 fps\)", {"sample_fps": 31}),
        # floor(4 s x 0.2) = 0: no frame to take.
        (ValidationError, "takes no frame of a 4 s video .* at least 0.25", {"sample_fps": 0.2}),
        (ValidationError, "Invalid directory name", {"directory_name": "a/b"}),
        (ValidationError, "directory_path", {"parent_directory_path": "../up"}),
        (ConflictError, "Directory '/taken' already exists", {"directory_name": "taken"}),
    ]
    for error, message, change in refusals:
        options: dict[str, object] = {"directory_name": "frames", **change}
        with pytest.raises(error, match=message):
            client.video.extract_frames(DATASET, info.gcs_path, **options)  # type: ignore[arg-type]
    with pytest.raises(NotFoundError, match="Dataset 'nope' not found"):
        client.video.extract_frames("nope", info.gcs_path, directory_name="frames")
    with pytest.raises(NotFoundError, match="Extraction job 'nope' not found"):
        client.video.get_extraction("nope")
    viewer = fake.client(api_key=fake.add_api_key("viewer"), max_retries=0)
    with pytest.raises(ForbiddenError, match="'member' or higher"):
        viewer.video.upload(clip)
    with pytest.raises(ForbiddenError, match="'member' or higher"):
        viewer.video.extract_frames(DATASET, info.gcs_path, directory_name="frames")
    # A viewer may read what a member started (and probe, which changes nothing).
    assert viewer.video.probe(info.gcs_path).frame_count == 120
    assert client.datasets.get(DATASET).image_count == before
    assert [d.full_path for d in client.directories.list(DATASET)] == ["/taken"]
    # The same directory cannot be filled by two extractions at once.
    client.video.extract_frames(DATASET, info.gcs_path, directory_name="frames", wait=False)
    with pytest.raises(ConflictError, match="'/frames' already exists"):
        client.video.extract_frames(DATASET, info.gcs_path, directory_name="frames", wait=False)


def test_an_extraction_is_truncated_to_the_plans_image_limit(
    fake: FakePictograph, client: pictograph.Client, clip: Path
) -> None:
    # The free plan holds 1,000 images; the organization has 20, then 975 more.
    fake.organization.subscription_tier = "free"
    fake.add_dataset("bulk", images=975)
    info = client.video.upload(clip)
    job = client.video.extract_frames(DATASET, info.gcs_path, directory_name="f", sample_fps=2)
    assert (job.status, job.total_frames, len(job.image_ids or [])) == ("complete", 5, 5)
    assert job.warning is not None
    assert "truncated to 5 of 8 frames" in job.warning
    again = fake.add_video(duration_seconds=2)
    with pytest.raises(PaymentRequiredError) as refusal:
        client.video.extract_frames(DATASET, again.gcs_path, directory_name="g")
    assert refusal.value.code == "image_limit_exceeded"


def test_a_failed_extraction_adds_nothing_and_keeps_the_video(
    fake: FakePictograph, client: pictograph.Client, clip: Path
) -> None:
    info = client.video.upload(clip)
    fake.faults.fail_video_extraction("unsupported codec")
    with pytest.raises(ApiError, match="failed: unsupported codec") as failure:
        client.video.extract_frames(DATASET, info.gcs_path, directory_name="f")
    assert failure.value.code == "job_failed"
    assert client.images.list(DATASET, directory_path="/f") == []
    assert client.video.probe(info.gcs_path).frame_count == 120
    # A dataset deleted while its frames were extracted fails the job too.
    fake.add_dataset("brief")
    job = client.video.extract_frames("brief", info.gcs_path, directory_name="f", wait=False)
    client.datasets.delete("brief")
    with pytest.raises(ApiError, match="Dataset 'brief' was deleted meanwhile"):
        client.video.wait_for_extraction(job.job_id)


def test_a_registered_video_needs_no_file(fake: FakePictograph, client: pictograph.Client) -> None:
    other = fake.add_organization()
    video = other.add_video(duration_seconds=3, fps=24, width=640, height=360, filename="a.webm")
    with other.client(max_retries=0) as theirs:
        assert theirs.video.probe(video.gcs_path).frame_count == 72
    with pytest.raises(NotFoundError):
        client.video.probe(video.gcs_path)
    with pytest.raises(ValueError, match="fps must be a number above 0"):
        fake.add_video(duration_seconds=3, fps=0)
    with pytest.raises(ValueError, match="width must be a whole number"):
        fake.add_video(duration_seconds=3, width=0)


async def test_a_registered_video_is_an_hd_clip_at_30_fps_under_its_own_name(
    fake: FakePictograph, client: pictograph.Client, aclient: pictograph.AsyncClient
) -> None:
    """What ``add_video`` gives unless told: 1280 x 720 at 30 frames a second, stored
    under the file name given."""
    video = fake.add_video(duration_seconds=2, filename="dashcam.webm")
    assert video.filename == "dashcam.webm"
    assert video.gcs_path.endswith("_dashcam.webm")
    probed = await aclient.video.probe(video.gcs_path)
    assert (probed.native_fps, probed.width, probed.height, probed.frame_count) == (
        30.0,
        1280,
        720,
        60,
    )
    assert client.video.probe(video.gcs_path) == probed


def test_extractions_are_jobs_of_the_jobs_feed(
    fake: FakePictograph, client: pictograph.Client, clip: Path
) -> None:
    info = client.video.upload(clip)
    first = client.video.extract_frames(DATASET, info.gcs_path, directory_name="a")
    fake.faults.fail_video_extraction("bad codec")
    failed = client.video.extract_frames(
        DATASET, fake.add_video(duration_seconds=1).gcs_path, directory_name="b", wait=False
    )
    running = client.video.extract_frames(
        DATASET, fake.add_video(duration_seconds=2).gcs_path, directory_name="c", wait=False
    )
    fake.clock.advance(_extracted_after(1))
    [active] = client.jobs.list(type="video_extract")
    assert (active.id, active.type, active.status, active.cancel_path) == (
        running.job_id,
        "video_extract",
        "running",
        None,
    )
    assert active.detail["total_frames"] == 2
    listed = client.jobs.list(status="all", type="video_extract")
    assert [j.id for j in listed] == [running.job_id, failed.job_id, first.job_id]
    assert [j.id for j in client.jobs.list(status="failed")] == [failed.job_id]
    assert client.jobs.get(failed.job_id).error == "bad codec"
    done = client.jobs.get(first.job_id)
    assert (done.status, done.progress, done.name) == ("completed", 100.0, "clip.mp4")
    assert client.jobs.wait(running.job_id).status == "completed"
    assert [j.id for j in client.jobs.list(type="video_extract")] == []


async def test_the_async_client_uploads_probes_and_extracts(
    fake: FakePictograph, aclient: pictograph.AsyncClient, clip: Path
) -> None:
    info = await aclient.video.upload(clip)
    assert (await aclient.video.probe(info.gcs_path)).frame_count == 120
    job = await aclient.video.extract_frames(DATASET, info.gcs_path, directory_name="a", wait=False)
    assert job.status == "processing"
    assert (await aclient.video.get_extraction(job.job_id)).status == "processing"
    done = await aclient.video.wait_for_extraction(job.job_id)
    assert (done.status, done.directory_path, len(done.image_ids or [])) == ("complete", "/a", 4)
    second = fake.add_video(duration_seconds=2)
    waited = await aclient.video.extract_frames(DATASET, second.gcs_path, directory_name="b")
    assert (waited.status, waited.total_frames) == ("complete", 2)
    fake.faults.fail_video_extraction()
    third = fake.add_video(duration_seconds=2)
    with pytest.raises(ApiError, match="Decoding the video failed"):
        await aclient.video.extract_frames(DATASET, third.gcs_path, directory_name="c")


def test_releases_before_1_69_43_send_folder_names_and_read_folder_path(
    fake: FakePictograph,
) -> None:
    video = fake.add_video(duration_seconds=2)
    with httpx.Client(
        transport=fake.transport(),
        base_url=fake.base_url,
        headers={"X-API-Key": fake.api_key, "User-Agent": "pictograph-python/1.55.0"},
    ) as http:
        started = http.post(
            "/api/v1/developer/video/extract-frames",
            json={
                "dataset_name": DATASET,
                "gcs_path": video.gcs_path,
                "folder_name": "old",
                "sample_fps": 1.0,
                "parent_folder_path": "/clips",
            },
        )
        assert started.status_code == 202, started.text
        fake.clock.advance(_extracted_after(2))
        done = http.get(f"/api/v1/developer/video/extract-frames/{started.json()['job_id']}")
    assert (done.json()["status"], done.json()["folder_path"]) == ("complete", "/clips/old")


# ── rules a mutation run of the video service found untested ──


def _instant(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _job(fake: FakePictograph, job_id: str) -> dict[str, Any]:
    """What the fake answered the SDK's last read of the job (the wire's own fields)."""
    [*_, read] = fake.calls.filter(path=f"/api/v1/developer/video/extract-frames/{job_id}")
    answer: dict[str, Any] = read.response_json()
    return answer


def test_an_extraction_takes_three_seconds_and_a_twentieth_of_one_a_frame(
    fake: FakePictograph, client: pictograph.Client, clip: Path
) -> None:
    fake.clock.advance(100)  # the job's clock is its own, not the fake's
    info = client.video.upload(clip)
    job = client.video.extract_frames(
        DATASET, info.gcs_path, directory_name="clip", sample_fps=30, wait=False
    )
    # 120 frames: 3 s + 120 x 0.05 s = 9 s. Two seconds in, floor(120 x 2/9) = 26 frames.
    fake.clock.advance(2)
    early = client.video.get_extraction(job.job_id)
    assert (early.status, early.frames_extracted, early.progress) == ("processing", 26, 21)
    fake.clock.advance(6.99)
    assert client.video.get_extraction(job.job_id).status == "processing"
    fake.clock.advance(0.01)
    done = client.video.get_extraction(job.job_id)
    assert (done.status, done.frames_extracted, done.progress) == ("complete", 120, 100)


def test_a_job_read_long_after_it_ended_is_dated_when_it_ended(
    fake: FakePictograph, client: pictograph.Client, clip: Path
) -> None:
    info = client.video.upload(clip)
    job = client.video.extract_frames(DATASET, info.gcs_path, directory_name="f", wait=False)
    fake.faults.fail_video_extraction("bad codec")
    failed = client.video.extract_frames(
        DATASET, fake.add_video(duration_seconds=2).gcs_path, directory_name="g", wait=False
    )
    fake.clock.advance(hours=1)
    ended = fake.clock.start + timedelta(seconds=3.2)  # 4 frames
    assert client.jobs.get(job.job_id).completed_at == ended
    client.video.get_extraction(job.job_id)
    assert _instant(_job(fake, job.job_id)["completed_at"]) == ended
    frames = client.images.list(DATASET, directory_path="/f")
    assert {f.created_at for f in frames} == {ended}
    assert client.datasets.get(DATASET).updated_at == ended
    assert client.jobs.get(failed.job_id).completed_at == fake.clock.start + timedelta(seconds=3.1)


def test_an_extraction_job_reads_its_frames_so_far_and_its_last_change(
    fake: FakePictograph, client: pictograph.Client, clip: Path
) -> None:
    info = client.video.upload(clip)
    job = client.video.extract_frames(DATASET, info.gcs_path, directory_name="f", wait=False)
    fake.clock.advance(1.6)  # half of its 3.2 s: 2 of its 4 frames

    running = client.jobs.get(job.job_id)
    assert running.progress == 50.0
    assert running.detail == {
        "dataset_name": DATASET,
        "directory_path": "/f",
        "sample_fps": 1.0,
        "frames_extracted": 2,
        "total_frames": 4,
    }
    # Nothing about it changes on the wire until it ends.
    assert running.created_at is not None
    assert running.updated_at == running.created_at
    with raw(fake) as http:
        wire = http.get(f"/api/v1/developer/jobs/{job.job_id}").json()["data"]
    assert isinstance(wire["progress"], float)  # the jobs feed's progress is a float

    fake.clock.advance(2)
    done = client.jobs.get(job.job_id)
    assert done.completed_at == running.created_at + timedelta(seconds=3.2)
    assert done.updated_at == done.completed_at


def test_a_failed_job_extracted_nothing_and_says_why_only_once_it_failed(
    fake: FakePictograph, client: pictograph.Client, clip: Path
) -> None:
    info = client.video.upload(clip)
    fake.faults.fail_video_extraction("bad codec")
    job = client.video.extract_frames(DATASET, info.gcs_path, directory_name="f", wait=False)
    fake.clock.advance(2)
    running = client.video.get_extraction(job.job_id)
    assert (running.status, running.error, running.frames_extracted) == ("processing", None, 2)
    fake.clock.advance(2)
    failed = client.video.get_extraction(job.job_id)
    assert (failed.status, failed.error) == ("failed", "bad codec")
    assert (failed.frames_extracted, failed.progress, failed.total_frames) == (0, 0, 4)
    failed_job = client.jobs.get(job.job_id)
    assert failed_job.detail["frames_extracted"] == 0
    # As a job, a failed extraction has no progress.
    assert (failed_job.status, failed_job.progress, failed_job.error) == (
        "failed",
        None,
        "bad codec",
    )
    # Nothing was made under its name: the same directory takes the next try.
    again = client.video.extract_frames(DATASET, info.gcs_path, directory_name="f")
    assert (again.status, again.directory_path) == ("complete", "/f")


def test_the_extraction_reply_is_the_apis(
    fake: FakePictograph, client: pictograph.Client, clip: Path
) -> None:
    info = client.video.upload(clip)
    job = client.video.extract_frames(
        DATASET, info.gcs_path, directory_name="f", sample_fps=2, wait=False
    )
    [started] = fake.calls.filter(method="POST", path="/api/v1/developer/video/extract-frames")
    assert started.status == 202
    sent = started.response_json()
    assert (sent["job_id"], sent["job"]) == (job.job_id, job.job_id)
    assert (sent["dataset_name"], sent["sample_fps"]) == (DATASET, 2.0)
    assert (_instant(sent["created_at"]), sent["completed_at"]) == (fake.clock.start, None)
    client.video.wait_for_extraction(job.job_id)
    # 8 frames: 3 s + 8 x 0.05 s.
    ended = fake.clock.start + timedelta(seconds=3.4)
    assert _instant(_job(fake, job.job_id)["completed_at"]) == ended


def test_a_job_is_found_by_its_id_in_any_case(client: pictograph.Client, clip: Path) -> None:
    info = client.video.upload(clip)
    job = client.video.extract_frames(DATASET, info.gcs_path, directory_name="f", wait=False)
    assert client.video.get_extraction(job.job_id.upper()).job_id == job.job_id
    assert client.video.get_extraction(f" {job.job_id} ").job_id == job.job_id


def test_a_path_is_found_with_a_leading_slash_or_padding(
    client: pictograph.Client, clip: Path
) -> None:
    info = client.video.upload(clip)
    assert client.video.probe(f"/{info.gcs_path}").frame_count == 120
    assert client.video.probe(f" {info.gcs_path} ").frame_count == 120


def test_extractions_and_a_run_made_at_one_instant_list_newest_first(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    run = client.training.create(DATASET, EXPORT, pipeline_type="yolox", name="r", wait=False)
    first, second = (
        client.video.extract_frames(
            DATASET, fake.add_video(duration_seconds=2).gcs_path, directory_name=name, wait=False
        )
        for name in ("a", "b")
    )
    expected = [second.job_id, first.job_id, run.id]
    assert [j.id for j in client.jobs.list()] == expected
    assert [j.id for j in client.jobs.list(status="all")][:3] == expected


def test_the_frames_a_refused_rate_is_told_to_pass_take_a_frame(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    video = fake.add_video(duration_seconds=3)
    with pytest.raises(ValidationError, match=r"pass at least 0\.334") as refusal:
        client.video.extract_frames(DATASET, video.gcs_path, directory_name="f", sample_fps=0.3)
    least = float(str(refusal.value).split("pass at least ")[1].split()[0].rstrip("."))
    job = client.video.extract_frames(DATASET, video.gcs_path, directory_name="f", sample_fps=least)
    assert job.total_frames == 1


def test_a_rate_below_the_runners_floor_is_refused_on_a_long_video(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    # floor(1000 s x 0.005) = 5 frames, but 0.01 fps is the least the runner takes.
    video = fake.add_video(duration_seconds=1000)
    with pytest.raises(ValidationError, match="sample_fps"):
        client.video.extract_frames(DATASET, video.gcs_path, directory_name="f", sample_fps=0.005)
    assert client.images.list(DATASET, directory_path="/f") == []


def test_another_datasets_directory_of_the_name_is_no_conflict(
    fake: FakePictograph, client: pictograph.Client, clip: Path
) -> None:
    fake.add_dataset("other")
    video = fake.add_video(duration_seconds=2)
    client.video.extract_frames("other", video.gcs_path, directory_name="f", wait=False)
    job = client.video.extract_frames(
        DATASET, client.video.upload(clip).gcs_path, directory_name="f"
    )
    assert (job.status, job.directory_path) == ("complete", "/f")


def test_a_directory_made_meanwhile_fails_the_extraction(
    client: pictograph.Client, clip: Path
) -> None:
    info = client.video.upload(clip)
    job = client.video.extract_frames(DATASET, info.gcs_path, directory_name="f", wait=False)
    client.directories.create(DATASET, "/f")
    with pytest.raises(ApiError, match="Directory '/f' was made in dataset 'road-signs' meanwhile"):
        client.video.wait_for_extraction(job.job_id)
    assert client.images.list(DATASET, directory_path="/f") == []


def test_a_dataset_in_cold_storage_takes_no_frames(
    fake: FakePictograph, client: pictograph.Client, clip: Path
) -> None:
    info = client.video.upload(clip)
    job = client.video.extract_frames(DATASET, info.gcs_path, directory_name="f", wait=False)
    client.datasets.freeze(DATASET)
    with pytest.raises(ApiError, match="moving to cold storage, and the extracted frames"):
        client.video.wait_for_extraction(job.job_id)
    with pytest.raises(ConflictError) as refusal:
        client.video.extract_frames(DATASET, info.gcs_path, directory_name="g")
    assert refusal.value.code == "dataset_cold"
    assert "a frame extraction needs its image files" in str(refusal.value)


def test_extractions_under_way_hold_the_plans_room(
    fake: FakePictograph, client: pictograph.Client, clip: Path
) -> None:
    # The free plan holds 1,000 images: 20 + 972 + 3 leave room for 5 of the 8 frames.
    fake.organization.subscription_tier = "free"
    fake.add_dataset("bulk", images=972)
    fake.add_dataset("spare", images=3)
    info = client.video.upload(clip)
    first = client.video.extract_frames(
        DATASET, info.gcs_path, directory_name="a", sample_fps=2, wait=False
    )
    assert first.total_frames == 5
    short = fake.add_video(duration_seconds=2)
    with pytest.raises(PaymentRequiredError) as refusal:
        client.video.extract_frames(DATASET, short.gcs_path, directory_name="b", wait=False)
    assert "(5 of them still to come from imports and extractions under way)" in str(refusal.value)
    # The 5 frames still to come hold their room: 3 images deleted make room for 3.
    client.datasets.delete("spare")
    second = client.video.extract_frames(DATASET, short.gcs_path, directory_name="b", wait=False)
    assert (second.total_frames, second.warning) == (2, None)


def test_an_organization_over_its_limit_is_told_its_count(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    fake.organization.subscription_tier = "free"
    fake.add_dataset("bulk", images=990)  # 1,010 images: the plan was downgraded
    video = fake.add_video(duration_seconds=3)
    with pytest.raises(PaymentRequiredError) as refusal:
        client.video.extract_frames(DATASET, video.gcs_path, directory_name="f")
    assert refusal.value.response["error"]["details"] == {
        "current_images": 1010,
        "additional_images": 3,
        "max_images": 1000,
    }
    assert "The organization has 1010 images, its 'free' plan's limit of 1000" in str(refusal.value)


def test_room_for_one_frame_takes_one_and_the_job_takes_its_time(
    fake: FakePictograph, client: pictograph.Client, clip: Path
) -> None:
    fake.organization.subscription_tier = "free"
    fake.add_dataset("bulk", images=979)  # 999 images
    info = client.video.upload(clip)
    job = client.video.extract_frames(
        DATASET, info.gcs_path, directory_name="f", sample_fps=2, wait=False
    )
    assert job.total_frames == 1
    # 3 s + 1 frame's 0.05 s, not the 8 frames asked for.
    fake.clock.advance(3.05)
    done = client.video.get_extraction(job.job_id)
    assert (done.status, len(done.image_ids or [])) == ("complete", 1)
    assert done.warning is not None
    assert "truncated to 1 of 8 frames" in done.warning


def test_images_added_meanwhile_leave_fewer_frames_or_none(
    fake: FakePictograph, client: pictograph.Client, clip: Path
) -> None:
    fake.organization.subscription_tier = "free"
    fake.add_dataset("bulk", images=975)  # 995 images: room for the 4 frames
    info = client.video.upload(clip)
    some = client.video.extract_frames(DATASET, info.gcs_path, directory_name="some", wait=False)
    fake.add_dataset("late", images=3)
    done = client.video.wait_for_extraction(some.job_id)
    assert (done.status, len(done.image_ids or [])) == ("complete", 2)
    assert done.warning is not None
    assert "truncated to 2 of 4 frames" in done.warning
    # At the limit when it ends: complete with no frame, its directory made all the same.
    client.datasets.delete("late")
    video = fake.add_video(duration_seconds=3)
    none = client.video.extract_frames(DATASET, video.gcs_path, directory_name="none", wait=False)
    fake.add_dataset("later", images=3 + 2)
    ended = client.video.wait_for_extraction(none.job_id)
    assert (ended.status, ended.image_ids, ended.directory_path) == ("complete", [], "/none")
    assert "/none" in [d.full_path for d in client.directories.list(DATASET)]


def test_a_video_with_a_name_no_file_may_have_is_refused(
    client: pictograph.Client, tmp_path: Path
) -> None:
    odd = tmp_path / "take\\1.mp4"
    odd.write_bytes(mp4_header(duration_seconds=1, fps=10, width=64, height=48))
    with pytest.raises(ValidationError, match="Invalid filename"):
        client.video.upload(odd)


def test_a_snapshot_refuses_a_world_with_a_video(
    fake: FakePictograph, client: pictograph.Client, clip: Path
) -> None:
    fake.snapshot()  # no video yet: the world is captured
    client.video.upload(clip)
    with pytest.raises(ValueError, match="cannot capture videos or their frame extractions"):
        fake.snapshot()


def test_a_videos_upload_url_is_signed_for_an_hour(
    fake: FakePictograph, client: pictograph.Client, clip: Path
) -> None:
    # A large video takes longer to send than an image's 15 minutes.
    with httpx.Client(
        transport=fake.transport(), base_url=fake.base_url, headers={"X-API-Key": fake.api_key}
    ) as http:
        slow, late = (
            http.post(
                "/api/v1/developer/video/upload-url",
                json={"filename": "clip.mp4", "content_type": "video/mp4"},
            ).json()
            for _ in range(2)
        )
        fake.clock.advance(minutes=59)
        headers = {"Content-Type": "video/mp4"}
        sent = http.put(slow["upload_url"], content=clip.read_bytes(), headers=headers)
        assert sent.status_code == 200
        fake.clock.advance(minutes=1)
        expired = http.put(late["upload_url"], content=clip.read_bytes(), headers=headers)
        assert expired.status_code == 403
        assert "Request has expired" in expired.text
    assert client.video.probe(slow["gcs_path"]).frame_count == 120


@pytest.mark.parametrize("blank", ["dataset_name", "gcs_path"])
def test_a_blank_name_or_path_is_a_422_naming_it(
    fake: FakePictograph, client: pictograph.Client, blank: str
) -> None:
    video = fake.add_video(duration_seconds=2)
    target: dict[str, str] = {"dataset_name": DATASET, "gcs_path": video.gcs_path, blank: " "}
    with pytest.raises(ValidationError, match=blank):
        client.video.extract_frames(target["dataset_name"], target["gcs_path"], directory_name="f")
    if blank == "gcs_path":
        with pytest.raises(ValidationError, match=blank):
            client.video.probe("")


def test_what_a_request_leaves_out_takes_the_sdks_defaults(
    fake: FakePictograph, clip: Path
) -> None:
    # The SDK always sends them; a request of another client may leave them out.
    with httpx.Client(
        transport=fake.transport(), base_url=fake.base_url, headers={"X-API-Key": fake.api_key}
    ) as http:
        signed = http.post("/api/v1/developer/video/upload-url", json={"filename": "clip.mp4"})
        assert signed.status_code == 200, signed.text
        upload = signed.json()
        sent = http.put(
            upload["upload_url"],
            content=clip.read_bytes(),
            headers={"Content-Type": "video/mp4"},
        )
        assert sent.status_code == 200, sent.text
        started = http.post(
            "/api/v1/developer/video/extract-frames",
            json={"dataset_name": DATASET, "gcs_path": upload["gcs_path"], "directory_name": "c"},
        )
        assert started.status_code == 202, started.text
        # 1 frame a second of the 4-second clip, into a directory at the root.
        assert (started.json()["total_frames"], started.json()["sample_fps"]) == (4, 1.0)
        fake.clock.advance(_extracted_after(4))
        done = http.get(f"/api/v1/developer/video/extract-frames/{started.json()['job_id']}")
    assert (done.json()["status"], done.json()["directory_path"]) == ("complete", "/c")


def test_the_openapi_document_answers_an_extraction_with_a_202(fake: FakePictograph) -> None:
    operation = fake.openapi()["paths"]["/api/v1/developer/video/extract-frames"]["post"]
    assert "202" in operation["responses"]
    assert "200" not in operation["responses"]
