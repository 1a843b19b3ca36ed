"""Videos: a temporary upload, its probe, and jobs that extract its frames into a dataset.

``video.upload`` asks for a signed URL and PUTs the file to it; the bytes wait in the
organization's temporary storage under the ``gcs_path`` the first reply named (for a day,
as unregistered uploads do). ``probe`` reads the file's container header (see
:mod:`.video_files`: the fake decodes no codec), or the metadata a test registered with
``fake.add_video`` for a video it has no file for.

An extraction takes ``floor(duration_seconds * sample_fps)`` frames (the count the SDK
documents, a frame every ``1 / sample_fps`` seconds), capped by the room left under the
organization's plan's image limit (the job then completes with fewer, and a
``warning``). It is ``processing`` on the virtual clock, its frames counted out as time
passes, and ends ``complete`` with every frame added at once to
``{parent_directory_path}/{directory_name}`` as a JPEG image the size of the video's
frames (made on demand, as generated images are), or ``failed`` with nothing added.
The uploaded video is deleted once its frames are in, as the service deletes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pictograph_testing.catalog import MAX_VIDEO_BYTES, PLANS
from pictograph_testing.world.agenda import LiveJobs
from pictograph_testing.world.entities import Image
from pictograph_testing.world.errors import (
    Conflict,
    DatasetCold,
    ImageLimitExceeded,
    InvalidRequest,
    NotFound,
    field_error,
    under_way,
)
from pictograph_testing.world.failures import FailureQueue
from pictograph_testing.world.images import check_directory_name, check_filename, directory_path
from pictograph_testing.world.job_kinds import VIDEO_JOB, JobOrder, job_order
from pictograph_testing.world.video_files import UnreadableVideo, VideoHeader, read_video_header

if TYPE_CHECKING:
    from pictograph_testing.world.entities import ApiKey, Dataset
    from pictograph_testing.world.state import World

__all__ = [
    "DEFAULT_FAILURE",
    "EXTRACT_SECONDS",
    "SECONDS_PER_FRAME",
    "FrameExtraction",
    "Video",
    "VideoService",
    "extraction_order",
    "frame_filename",
    "temporary_path",
]

EXTRACT_SECONDS = 3.0
"""How long an extraction takes before its first frame; each frame adds
:data:`SECONDS_PER_FRAME`."""
SECONDS_PER_FRAME = 0.05
DEFAULT_FAILURE = "Decoding the video failed; upload it again."
"""The reason an extraction fails with when a test arms a failure without one."""
UPLOAD_URL_SECONDS = 3600.0
"""How long a video's signed upload URL is valid (an image's is 15 minutes)."""
_DURATION_ROUNDING = 5e-7
"""The most a probed duration (rounded to the microsecond) falls short of the video's."""


@dataclass
class Video:
    """An uploaded (or registered) video in an organization's temporary storage."""

    gcs_path: str
    organization_id: str
    filename: str
    content_type: str
    created_at: float
    header: VideoHeader | None = None
    """What it was registered with (``fake.add_video``), else read from its bytes."""
    deleted_at: float | None = None
    """When extracting its frames deleted it."""


@dataclass
class FrameExtraction:
    """One frame-extraction job: ``processing`` until ``ends_at``, then how it ended."""

    id: str
    organization_id: str
    dataset_id: str
    dataset_name: str
    gcs_path: str
    filename: str
    """The video's own name (the job's name in the jobs feed)."""
    directory_path: str
    sample_fps: float
    header: VideoHeader
    requested_frames: int
    total_frames: int
    created_at: float
    ends_at: float
    status: str = "processing"
    error: str | None = None
    warning: str | None = None
    image_ids: list[str] = field(default_factory=list)
    completed_at: float | None = None
    seq: int = 0
    """Its place among the world's extractions (the jobs feed's order among equals)."""
    runs_before: int = 0
    """The training runs created before it: a run created at the same instant sorts below."""


def extraction_order(job: FrameExtraction) -> JobOrder:
    """Where an extraction stands in the jobs feed (newest last): it rises with ``seq``."""
    return job_order(VIDEO_JOB, job.created_at, job.runs_before, job.seq)


def temporary_path(organization_id: str, token: str, filename: str) -> str:
    """Where an upload waits: under the organization's prefix, as the API names it
    (``{organization}/temp/videos/{token}_{filename}``)."""
    return f"{organization_id}/temp/videos/{token}_{filename}"


def frame_filename(index: int) -> str:
    """The name of the ``index``-th frame taken (from 1): ordered as the frames are."""
    return f"frame_{index:06d}.jpg"


class VideoService:
    """Keep the organizations' temporary videos and their extraction jobs."""

    def __init__(self, world: World) -> None:
        self._world = world
        self.videos: dict[str, Video] = {}
        """Every video by ``gcs_path`` (deleted ones too: a 404 then says why)."""
        self.extractions: dict[str, FrameExtraction] = {}
        self._of_organization: dict[str, list[FrameExtraction]] = {}
        """Each organization's extractions, oldest first (the jobs feed reads them)."""
        self._live: LiveJobs[FrameExtraction] = LiveJobs(world.agenda)
        self.failures = FailureQueue("video extraction", DEFAULT_FAILURE)
        """The failures armed for the next extractions (``fake.faults.fail_video_extraction``)."""

    @property
    def holds_state(self) -> bool:
        """Whether any video was uploaded or registered (a snapshot cannot keep one yet)."""
        return bool(self.videos)

    # ── uploads ──

    def sign_upload(self, key: ApiKey, filename: str, content_type: str) -> tuple[Video, str]:
        """Make a temporary path for a video and a signed URL to PUT its bytes to."""
        check_filename(filename, ("body", "filename"))
        kind, _, subtype = content_type.partition("/")
        if kind != "video" or not subtype:
            raise InvalidRequest(
                f"Invalid content_type '{content_type}': a video's MIME type, such as "
                "'video/mp4' or 'video/quicktime'.",
                errors=[
                    field_error(
                        ("body", "content_type"), "Content type must be video/*", "value_error"
                    )
                ],
            )
        world = self._world
        token = world.ids.hex(32)
        video = Video(
            gcs_path=temporary_path(key.organization_id, token, filename),
            organization_id=key.organization_id,
            filename=filename,
            content_type=content_type,
            created_at=world.now(),
        )
        self.videos[video.gcs_path] = video
        url = world.storage.sign_upload(
            _slot(video),
            content_type,
            ttl_seconds=UPLOAD_URL_SECONDS,
            max_bytes=MAX_VIDEO_BYTES,
            what="a video",
        )
        return video, url

    def register(
        self,
        organization_id: str,
        filename: str,
        header: VideoHeader,
        *,
        content_type: str = "video/mp4",
    ) -> Video:
        """Put a video with known metadata in temporary storage, with no bytes to read."""
        world = self._world
        video = Video(
            gcs_path=temporary_path(organization_id, world.ids.hex(32), filename),
            organization_id=organization_id,
            filename=filename,
            content_type=content_type,
            created_at=world.now(),
            header=header,
        )
        self.videos[video.gcs_path] = video
        return video

    def get(self, key: ApiKey, gcs_path: str) -> Video:
        """The organization's video at ``gcs_path``, or 404 (another's is none of its)."""
        video = self.videos.get(gcs_path.strip().removeprefix("/"))
        if video is None or video.organization_id != key.organization_id:
            raise NotFound(
                f"Video '{gcs_path}' not found: pass the gcs_path video.upload returned."
            )
        if video.deleted_at is not None:
            raise NotFound(
                f"Video '{gcs_path}' was deleted once its frames were extracted: upload it "
                "again to probe or extract it."
            )
        return video

    def probe(self, key: ApiKey, gcs_path: str) -> VideoHeader:
        """What the video states of itself; 404 before its bytes arrive, 422 if unreadable."""
        video = self.get(key, gcs_path)
        if video.header is not None:
            return video.header
        slot = self._world.storage.received(_slot(video))
        if slot is None or slot.content is None:
            raise NotFound(
                f"No uploaded bytes at '{video.gcs_path}': PUT the file to the upload_url "
                "from video/upload-url first (uploads are kept for a day)."
            )
        try:
            return read_video_header(slot.content)
        except UnreadableVideo as reason:
            raise InvalidRequest(
                f"Could not read '{video.filename}' as a video: {reason}. The fake reads "
                "the header of an MP4 or QuickTime file; register another kind with "
                "fake.add_video(...).",
                errors=[field_error(("body", "gcs_path"), "Unreadable video", "value_error")],
            ) from None

    # ── extraction ──

    def extract(
        self,
        key: ApiKey,
        dataset: Dataset,
        gcs_path: str,
        *,
        directory_name: str,
        parent_directory_path: str,
        sample_fps: float,
    ) -> FrameExtraction:
        """Start extracting the video's frames into a new directory of ``dataset``.

        Refused, with nothing started: a dataset in cold storage (409), a directory that
        exists already or another extraction is filling (409), a rate above the video's
        own or one that takes no frame (422), an organization with no room left for an
        image (402).
        """
        world = self._world
        check_directory_name(directory_name, ("body", "directory_name"))
        parent = directory_path(parent_directory_path, ("body", "parent_directory_path"))
        target = f"{parent.rstrip('/')}/{directory_name}"
        header = self.probe(key, gcs_path)
        video = self.get(key, gcs_path)
        if sample_fps > header.native_fps:
            raise InvalidRequest(
                f"sample_fps {sample_fps:g} is above the video's own frame rate "
                f"({header.native_fps:g} fps): pass at most {header.native_fps:g}.",
                errors=[
                    field_error(
                        ("body", "sample_fps"), "Above the video's frame rate", "value_error"
                    )
                ],
            )
        # The probed duration is rounded to the microsecond: within that rounding, a count
        # short of a whole frame is that frame (every frame at the native rate is 300 of a
        # 300-frame clip at 29.97 fps, not 299), and never more than the video holds.
        requested = min(
            math.floor((header.duration_seconds + _DURATION_ROUNDING) * sample_fps),
            header.frame_count,
        )
        if requested < 1:
            # The count the SDK documents would be no frame at all: a job with nothing to do.
            shortest = 1 / header.duration_seconds
            raise InvalidRequest(
                f"sample_fps {sample_fps:g} takes no frame of a {header.duration_seconds:g} s "
                f"video (floor(duration_seconds x sample_fps) = 0): pass at least "
                f"{math.ceil(shortest * 1000) / 1000:g}.",
                errors=[field_error(("body", "sample_fps"), "Takes no frame", "value_error")],
            )
        world.cold_storage.require_warm(dataset, "a frame extraction")
        if self._directory_exists(dataset, target) or any(
            job.dataset_id == dataset.id and job.directory_path == target
            for job in self._live.jobs.values()
        ):
            raise Conflict(
                f"Directory '{target}' already exists in dataset '{dataset.name}': extract "
                "the frames into a new directory_name."
            )
        org = world.organizations[key.organization_id]
        limit = PLANS[org.subscription_tier].max_images
        promised = world.images_promised(key.organization_id)
        room = limit - world.images_of(key.organization_id) - promised
        if room <= 0:
            raise ImageLimitExceeded(
                f"The organization has {limit - room} images{under_way(promised)}, its "
                f"'{org.subscription_tier}' plan's limit of {limit}: delete images or upgrade "
                "the plan before extracting frames.",
                details={
                    "current_images": limit - room,
                    "additional_images": requested,
                    "max_images": limit,
                },
            )
        total = min(requested, room)
        now = world.now()
        job = FrameExtraction(
            id=world.ids.uuid(),
            organization_id=key.organization_id,
            dataset_id=dataset.id,
            dataset_name=dataset.name,
            gcs_path=video.gcs_path,
            filename=video.filename,
            directory_path=target,
            sample_fps=sample_fps,
            header=header,
            requested_frames=requested,
            total_frames=total,
            created_at=now,
            ends_at=now + round(EXTRACT_SECONDS + SECONDS_PER_FRAME * total, 3),
            seq=len(self.extractions),
            runs_before=len(world.runs),
        )
        failure = self.failures.take()
        if failure is not None:
            job.error = failure
        self.extractions[job.id] = job
        self._of_organization.setdefault(job.organization_id, []).append(job)
        self._live.start(job)
        return job

    def of_organization(self, organization_id: str) -> list[FrameExtraction]:
        """The organization's extractions, oldest first (read only)."""
        return self._of_organization.get(organization_id, [])

    def live(self, organization_id: str) -> list[FrameExtraction]:
        """The organization's extractions still processing."""
        return [j for j in self._live.jobs.values() if j.organization_id == organization_id]

    def job(self, key: ApiKey, job_id: str) -> FrameExtraction:
        """The organization's extraction with this id, or 404 (another's is none of its)."""
        job = self.extractions.get(job_id.strip().lower())
        if job is None or job.organization_id != key.organization_id:
            raise NotFound(f"Extraction job '{job_id}' not found")
        return job

    def frames_extracted(self, job: FrameExtraction) -> int:
        """The frames taken so far: a share of them while processing, then all that were kept."""
        if job.status != "processing":
            return len(job.image_ids)
        span = job.ends_at - job.created_at
        share = min(1.0, (self._world.now() - job.created_at) / span) if span > 0 else 1.0
        return min(job.total_frames - 1, math.floor(job.total_frames * share))

    def progress(self, job: FrameExtraction) -> int:
        """0-100: the frames taken over those to take (100 once complete)."""
        if job.status == "complete":
            return 100
        if job.status == "failed" or not job.total_frames:
            return 0
        return min(99, math.floor(100 * self.frames_extracted(job) / job.total_frames))

    def _directory_exists(self, dataset: Dataset, path: str) -> bool:
        try:
            self._world.directory_service.at(dataset, path)
        except NotFound:
            return False
        return True

    def promised(self, organization_id: str) -> int:
        """The frames the organization's extractions under way will add (at their end)."""
        return sum(job.total_frames for job in self.live(organization_id))

    # ── the clock ──

    @property
    def next_event(self) -> float:
        """When an extraction ends next, at the earliest (for the world's agenda)."""
        return self._live.next_event

    def advance_to(self, now: float) -> None:
        """End, in time order, every extraction due at or before ``now``."""
        for job in self._live.take_due(now):
            self._end(job)

    def _end(self, job: FrameExtraction) -> None:
        world = self._world
        dataset = world.datasets.get(job.dataset_id)
        if job.error is not None:
            return self._fail(job, job.error)
        if dataset is None:
            return self._fail(job, f"Dataset '{job.dataset_name}' was deleted meanwhile.")
        try:
            world.cold_storage.require_warm(dataset, "the extracted frames")
        except DatasetCold as refusal:
            return self._fail(job, refusal.message)
        if self._directory_exists(dataset, job.directory_path):
            return self._fail(
                job,
                f"Directory '{job.directory_path}' was made in dataset '{dataset.name}' "
                "meanwhile; extract the frames into a new directory_name.",
            )
        org = world.organizations[job.organization_id]
        limit = PLANS[org.subscription_tier].max_images
        kept = min(job.total_frames, max(0, limit - world.images_of(job.organization_id)))
        if kept < job.requested_frames:
            job.warning = (
                f"Extraction was truncated to {kept} of {job.requested_frames} frames to fit "
                f"the organization's '{org.subscription_tier}' plan limit of {limit} images."
            )
        width, height = job.header.width, job.header.height
        for index in range(1, kept + 1):
            image = Image(
                id=world.ids.uuid(),
                organization_id=job.organization_id,
                dataset_id=dataset.id,
                filename=frame_filename(index),
                directory_path=job.directory_path,
                content_type="image/jpeg",
                file_size=0,
                width=width,
                height=height,
                created_at=job.ends_at,
            )
            world.image_service.add(dataset, image)
            job.image_ids.append(image.id)
        if not kept:
            # No frame made the directory: it is made all the same, as the job names it.
            world.directory_service.ensure(dataset, job.directory_path, created_by=None)
        dataset.updated_at = job.ends_at
        job.status = "complete"
        job.completed_at = job.ends_at
        video = self.videos.get(job.gcs_path)
        if video is not None and video.deleted_at is None:
            # The service deletes the temporary upload once its frames are in.
            video.deleted_at = job.ends_at
            world.storage.take_upload(_slot(video))
        return None

    def _fail(self, job: FrameExtraction, reason: str) -> None:
        job.status = "failed"
        job.error = reason
        job.completed_at = job.ends_at


def _slot(video: Video) -> tuple[str, str, str]:
    """Where the video's bytes wait in storage: no dataset id is ``video``, so the key is
    never an image upload's (whose signed URL, like this one, ends with the filename)."""
    return ("video", video.gcs_path, video.filename)
