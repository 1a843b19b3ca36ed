"""``/api/v1/developer/video``: upload a video, probe it, extract its frames into a dataset.

Every reply is a bare object (the SDK validates the body itself, no ``data`` envelope).
The world's side, and what the fake reads of a video, is in
:mod:`pictograph_testing.world.videos`.

Every release since 1.0.0 calls these routes. Releases before 1.69.43 name the target
``folder_name`` under ``parent_folder_path`` and read the frames' directory as
``folder_path`` (the API renamed folders directories with 1.69.43); their wire renames
the one and adds the other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pictograph_testing.api.dialects import FOLDERS, Wire
from pictograph_testing.api.spec import EXAMPLE_DATASET, Field, Num, Obj, Str
from pictograph_testing.api.table import Bare, endpoint
from pictograph_testing.api.wire import Call, Reply, reply

if TYPE_CHECKING:
    from pictograph_testing.world.video_files import VideoHeader
    from pictograph_testing.world.videos import FrameExtraction

__all__ = ["MIN_SAMPLE_FPS", "extraction_payload", "metadata_payload"]

MIN_SAMPLE_FPS = 0.01
"""The lowest sampling rate taken: the extraction runner's own floor (the SDK's
``pictograph._video.MIN_SAMPLE_FPS``)."""
BUCKET = "pictograph-testing"
"""The bucket a ``gcs_uri`` names (the one old releases' image uploads name too)."""


def _with_folder_path(job: dict[str, Any]) -> dict[str, Any]:
    return {**job, "folder_path": job["directory_path"]}


_FOLDER_PATH = Wire(FOLDERS, rewrite=_with_folder_path, note="reads `folder_path`")


@endpoint(
    "POST",
    "video/upload-url",
    summary="A temporary storage path for a video, and a signed URL to PUT its bytes to",
    sdk=("video.upload",),
    reply=Bare("VideoUploadInfo"),
    body=Obj(
        {
            "filename": Field(Str(not_blank=True, example="clip.mp4"), required=True),
            "content_type": Field(Str(example="video/mp4")),
        }
    ),
    role="member",
    action="upload videos",
    errors=(403,),
)
def upload_url(call: Call) -> Reply:
    body = call.fields()
    # Only a type left out is the default: a blank one is refused, as any not video/*
    # (signed as video/mp4, the upload it names would then fail on the type it sends).
    content_type = body.get("content_type")
    if content_type is None:
        content_type = "video/mp4"
    video, path = call.world.videos.sign_upload(call.key, body["filename"], content_type)
    return reply(
        {
            "upload_url": call.base_url + path,
            "gcs_path": video.gcs_path,
            "gcs_uri": f"gs://{BUCKET}/{video.gcs_path}",
        }
    )


@endpoint(
    "POST",
    "video/probe",
    summary="An uploaded video's duration, frame rate, frame size and frame count",
    sdk=("video.probe",),
    reply=Bare("VideoMetadata"),
    body=Obj({"gcs_path": Field(Str(not_blank=True), required=True)}),
)
def probe(call: Call) -> Reply:
    header = call.world.videos.probe(call.key, call.fields()["gcs_path"])
    return reply(metadata_payload(header))


@endpoint(
    "POST",
    "video/extract-frames",
    summary="Extract an uploaded video's frames into a new directory of a dataset (a job)",
    sdk=("video.extract_frames",),
    reply=Bare("VideoExtractionJob"),
    status=202,
    body=Obj(
        {
            "dataset_name": Field(Str(not_blank=True, example=EXAMPLE_DATASET), required=True),
            "gcs_path": Field(Str(not_blank=True), required=True),
            "directory_name": Field(Str(not_blank=True, example="clip-frames"), required=True),
            "sample_fps": Field(Num(minimum=MIN_SAMPLE_FPS)),
            "parent_directory_path": Field(Str()),
        }
    ),
    role="member",
    action="upload images",
    errors=(402, 403, 409),
    wires=(
        Wire(
            FOLDERS,
            renames={
                "folder_name": "directory_name",
                "parent_folder_path": "parent_directory_path",
            },
            rewrite=_with_folder_path,
            note="`folder_name` and `parent_folder_path`; reads `folder_path`",
        ),
    ),
)
def extract_frames(call: Call) -> Reply:
    body = call.fields()
    world = call.world
    dataset = world.dataset(call.key.organization_id, body["dataset_name"])
    sample_fps = body.get("sample_fps")
    parent = body.get("parent_directory_path")
    job = world.videos.extract(
        call.key,
        dataset,
        body["gcs_path"],
        directory_name=body["directory_name"],
        parent_directory_path=parent if parent is not None else "/",
        sample_fps=float(sample_fps) if sample_fps is not None else 1.0,
    )
    return reply(extraction_payload(call, job), status=202)


@endpoint(
    "GET",
    "video/extract-frames/{job_id}",
    summary="A frame-extraction job's progress, and its frames' image ids once complete",
    sdk=("video.get_extraction", "video.wait_for_extraction"),
    reply=Bare("VideoExtractionJob"),
    wires=(_FOLDER_PATH,),
)
def get_extraction(call: Call) -> Reply:
    job = call.world.videos.job(call.key, call.path_args["job_id"])
    return reply(extraction_payload(call, job))


def metadata_payload(header: VideoHeader) -> dict[str, Any]:
    """A ``VideoMetadata``: what the probe read (or a test registered)."""
    return {
        "duration_seconds": header.duration_seconds,
        "native_fps": header.native_fps,
        "width": header.width,
        "height": header.height,
        "frame_count": header.frame_count,
    }


def extraction_payload(call: Call, job: FrameExtraction) -> dict[str, Any]:
    """A ``VideoExtractionJob`` as it stands on the clock now.

    The id goes under ``job`` too, as today's API sends it beside ``job_id``;
    ``directory_path`` and ``image_ids`` only once the job is complete (the ids are many,
    and the job is polled).
    """
    videos = call.world.videos
    complete = job.status == "complete"
    return {
        "job_id": job.id,
        "job": job.id,
        "status": job.status,
        "progress": videos.progress(job),
        "frames_extracted": videos.frames_extracted(job),
        "total_frames": job.total_frames,
        "error": job.error if job.status == "failed" else None,
        "directory_path": job.directory_path if complete else None,
        "warning": job.warning,
        "image_ids": list(job.image_ids) if complete else None,
        "dataset_name": job.dataset_name,
        "sample_fps": job.sample_fps,
        "created_at": call.iso(job.created_at),
        "completed_at": call.iso(job.completed_at),
    }
