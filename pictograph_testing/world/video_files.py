"""Read a video's duration, frame rate and size from its container header, as a probe does.

The service runs ``ffprobe``; the fake decodes no codec (that would take a video stack
it does not depend on). It reads what an ISO base media file (MP4, QuickTime ``.mov``,
M4V) states in its ``moov`` box: the first video track's size (``tkhd``), its duration
(``mdhd``, else the movie's ``mvhd``) and its frame count (the sample counts of its
``stts`` table), so a real MP4 a camera or ffmpeg wrote probes as ``ffprobe`` would
report it. Anything else (WebM, AVI, bytes that are no video, a header with no video
track) is refused with what could not be read. :func:`mp4_header` writes the smallest
such file, for tests that need a file to upload.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = [
    "MAX_VIDEO_SIDE",
    "UnreadableVideo",
    "VideoHeader",
    "mp4_header",
    "read_video_header",
    "video_header",
]

MAX_VIDEO_SIDE = 16_384
"""The widest and tallest frame a header may state (larger is a corrupt header)."""
_FIRST_BOXES = frozenset(
    {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid", b"styp"}
)
"""The boxes an ISO base media file starts with (QuickTime's may lack ``ftyp``)."""
_FORMATS = "an MP4 or QuickTime file (ISO base media: a 'moov' box)"


class UnreadableVideo(ValueError):
    """Bytes whose header does not state a video; the message says what was missing."""


@dataclass(frozen=True)
class VideoHeader:
    """What a probe reports of a video: ``VideoMetadata``'s fields."""

    duration_seconds: float
    native_fps: float
    width: int
    height: int
    frame_count: int


def _boxes(data: bytes, start: int, end: int) -> dict[bytes, list[tuple[int, int]]]:
    """The boxes between ``start`` and ``end``: type -> [(payload start, payload end)]."""
    found: dict[bytes, list[tuple[int, int]]] = {}
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1:
            if at + 16 > end:
                raise UnreadableVideo(f"the '{kind.decode('latin-1')}' box is cut short")
            (size,) = struct.unpack_from(">Q", data, at + 8)
            header = 16
        elif size == 0:  # to the end of its container
            size = end - at
        if size < header or at + size > end:
            # The media data of a file cut short may run past the end; the header may not.
            if kind == b"mdat":
                break
            raise UnreadableVideo(f"the '{kind.decode('latin-1')}' box is cut short")
        found.setdefault(kind, []).append((at + header, at + size))
        at += size
    return found


def _one(data: bytes, boxes: dict[bytes, list[tuple[int, int]]], kind: bytes) -> tuple[int, int]:
    spans = boxes.get(kind)
    if not spans:
        raise UnreadableVideo(f"no '{kind.decode()}' box")
    return spans[0]


def _times(data: bytes, start: int, end: int, kind: str) -> tuple[int, int]:
    """(timescale, duration) of an ``mvhd`` or ``mdhd`` payload (version 0 or 1)."""
    if end - start < 4:
        raise UnreadableVideo(f"the '{kind}' box is cut short")
    version = data[start]
    layout, length = (">QQIQ", 32) if version == 1 else (">IIII", 16)
    if end - start < 4 + length:
        raise UnreadableVideo(f"the '{kind}' box is cut short")
    _, _, timescale, duration = struct.unpack_from(layout, data, start + 4)
    return timescale, duration


def _size(data: bytes, start: int, end: int) -> tuple[int, int]:
    """(width, height) of a ``tkhd`` payload: 16.16 fixed-point numbers at its end."""
    version = data[start] if end > start else 0
    offset = start + 4 + (32 if version == 1 else 20) + 8 + 8 + 36
    if offset + 8 > end:
        raise UnreadableVideo("the 'tkhd' box is cut short")
    width, height = struct.unpack_from(">II", data, offset)
    return width >> 16, height >> 16


def _frames(data: bytes, start: int, end: int) -> int:
    """The samples an ``stts`` table counts: one per frame of a video track."""
    if end - start < 8:
        raise UnreadableVideo("the 'stts' box is cut short")
    (entries,) = struct.unpack_from(">I", data, start + 4)
    if start + 8 + 8 * entries > end:
        raise UnreadableVideo("the 'stts' box is cut short")
    return sum(struct.unpack_from(">I", data, start + 8 + 8 * i)[0] for i in range(entries))


def read_video_header(data: bytes) -> VideoHeader:
    """Read the first video track of an ISO base media file; :class:`UnreadableVideo` else."""
    if not data:
        raise UnreadableVideo("the file is empty")
    if len(data) < 8 or data[4:8] not in _FIRST_BOXES:
        raise UnreadableVideo(f"it is not {_FORMATS}")
    top = _boxes(data, 0, len(data))
    if b"moov" not in top:
        if b"ftyp" in top or b"mdat" in top:
            raise UnreadableVideo("no 'moov' box (the header is missing or at a cut-off end)")
        raise UnreadableVideo(f"it is not {_FORMATS}")
    moov = _boxes(data, *_one(data, top, b"moov"))
    movie_scale, movie_duration = _times(data, *_one(data, moov, b"mvhd"), "mvhd")
    for trak in moov.get(b"trak", []):
        track = _boxes(data, *trak)
        media = _boxes(data, *_one(data, track, b"mdia"))
        handler_start, handler_end = _one(data, media, b"hdlr")
        if handler_end - handler_start < 12 or data[handler_start + 8 : handler_start + 12] != (
            b"vide"
        ):
            continue
        width, height = _size(data, *_one(data, track, b"tkhd"))
        scale, duration = _times(data, *_one(data, media, b"mdhd"), "mdhd")
        if not scale or not duration:
            scale, duration = movie_scale, movie_duration
        table = _boxes(data, *_one(data, _boxes(data, *_one(data, media, b"minf")), b"stbl"))
        frames = _frames(data, *_one(data, table, b"stts"))
        if not scale or not duration:
            raise UnreadableVideo("the video track states no duration")
        if not frames:
            raise UnreadableVideo("the video track has no frames")
        if not 0 < width <= MAX_VIDEO_SIDE or not 0 < height <= MAX_VIDEO_SIDE:
            raise UnreadableVideo(f"the video track states a frame size of {width}x{height}")
        seconds = duration / scale
        return VideoHeader(
            duration_seconds=round(seconds, 6),
            native_fps=round(frames / seconds, 6),
            width=width,
            height=height,
            frame_count=frames,
        )
    raise UnreadableVideo("it has no video track")


def video_header(*, duration_seconds: float, fps: float, width: int, height: int) -> VideoHeader:
    """What a probe reads of ``round(duration_seconds * fps)`` frames of ``width`` x
    ``height`` at ``fps`` (as of :func:`mp4_header`'s file); ``ValueError`` for values
    no video has."""
    for name, value in (("duration_seconds", duration_seconds), ("fps", fps)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{name} must be a number above 0, got {value!r}")
        if value == float("inf"):
            raise ValueError(f"{name} must be finite, got {value!r}")
    for name, side in (("width", width), ("height", height)):
        if isinstance(side, bool) or not isinstance(side, int) or not 0 < side <= MAX_VIDEO_SIDE:
            raise ValueError(f"{name} must be a whole number of pixels, 1 to {MAX_VIDEO_SIDE}")
    frames = max(1, round(duration_seconds * fps))
    return VideoHeader(
        duration_seconds=round(frames / fps, 6),
        native_fps=round(float(fps), 6),
        width=width,
        height=height,
        frame_count=frames,
    )


def _box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def mp4_header(
    *, duration_seconds: float, fps: float, width: int, height: int, mdat: bytes = b""
) -> bytes:
    """The smallest MP4 header that :func:`read_video_header` reads as
    ``round(duration_seconds * fps)`` frames of ``width`` x ``height`` at ``fps``.

    It holds no picture and names no codec (a player cannot open it): a file to upload
    where a test needs one. ``fps`` is kept to a thousandth (29.97 is 29970/1000).
    """
    frames = video_header(
        duration_seconds=duration_seconds, fps=fps, width=width, height=height
    ).frame_count
    timescale, delta = round(fps * 1000), 1000
    media_duration = frames * delta
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = _box(
        b"mvhd",
        struct.pack(">4xIIII", 0, 0, 1000, round(frames / fps * 1000)),
        struct.pack(">IH10x", 0x10000, 0x100),
        matrix,
        bytes(24),
        struct.pack(">I", 2),
    )
    tkhd = _box(
        b"tkhd",
        struct.pack(">I", 3),  # version 0, enabled and in the movie
        struct.pack(">IIIII", 0, 0, 1, 0, round(frames / fps * 1000)),
        bytes(8),
        struct.pack(">hhh2x", 0, 0, 0),
        matrix,
        struct.pack(">II", width << 16, height << 16),
    )
    mdhd = _box(b"mdhd", struct.pack(">4xIIIIH2x", 0, 0, timescale, media_duration, 0x55C4))
    hdlr = _box(b"hdlr", struct.pack(">4xI4s12x", 0, b"vide"), b"VideoHandler\x00")
    stts = _box(b"stts", struct.pack(">4xIII", 1, frames, delta))
    stbl = _box(b"stbl", stts)
    minf = _box(b"minf", stbl)
    trak = _box(b"trak", tkhd, _box(b"mdia", mdhd, hdlr, minf))
    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isomiso2mp41")
    return ftyp + _box(b"moov", mvhd, trak) + _box(b"mdat", mdat)
