"""What a probe reads of an uploaded file's container header, through the real SDK.

The files are built here box by box, as cameras, ffmpeg and streaming writers lay
them out (media before the header, 64-bit and to-the-end box sizes, version 1 times,
an audio track first, NTSC rates), and as they arrive broken: a header cut short or
stating no duration, no frames or no frame size is a 422 that says so, never a 500.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

import pytest
from pictograph.exceptions import ValidationError
from pictograph.models.video import VideoMetadata

from pictograph_testing import FakePictograph, mp4_header
from pictograph_testing.world.video_files import MAX_VIDEO_SIDE

if TYPE_CHECKING:
    from pathlib import Path

    import pictograph

FTYP = struct.pack(">I4s", 24, b"ftyp") + b"isom" + bytes(4) + b"isomiso2"


def _box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def _times(kind: bytes, timescale: int, duration: int, *, version: int = 0) -> bytes:
    """An ``mvhd`` or ``mdhd``: its times, then the fields a probe does not read."""
    if version == 1:
        times = struct.pack(">B3xQQIQ", 1, 0, 0, timescale, duration)
    else:
        times = struct.pack(">4xIIII", 0, 0, timescale, duration)
    return _box(kind, times, bytes(4))


def _tkhd(width: int, height: int, *, version: int = 0) -> bytes:
    times = bytes(32 if version == 1 else 20)
    size = struct.pack(">II", width << 16, height << 16)
    return _box(b"tkhd", struct.pack(">B3x", version), times, bytes(8 + 8 + 36), size)


def _stts(*entries: tuple[int, int], count: int | None = None) -> bytes:
    """A time-to-sample table: (frames, ticks each) entries; ``count`` states another number."""
    stated = len(entries) if count is None else count
    return _box(b"stts", struct.pack(">4xI", stated), *(struct.pack(">II", *e) for e in entries))


def _trak(
    *,
    width: int = 320,
    height: int = 240,
    timescale: int = 30_000,
    duration: int = 120_000,
    stts: bytes | None = None,
    handler: bytes = b"vide",
    version: int = 0,
    mdhd: bytes | None = None,
) -> bytes:
    """A track (a 4-second 30 fps video's by default), its ``stts`` the last box in it."""
    table = _stts((120, 1000)) if stts is None else stts
    media = _times(b"mdhd", timescale, duration, version=version) if mdhd is None else mdhd
    hdlr = _box(b"hdlr", struct.pack(">4xI4s12x", 0, handler), b"\x00")
    minf = _box(b"minf", _box(b"stbl", table))
    return _box(b"trak", _tkhd(width, height, version=version), _box(b"mdia", media, hdlr, minf))


def _moov(*traks: bytes, timescale: int = 1000, duration: int = 4000, version: int = 0) -> bytes:
    return _box(b"moov", _times(b"mvhd", timescale, duration, version=version), *traks)


def _mp4(*traks: bytes) -> bytes:
    """A file whose header is last, so a track's last box ends the file."""
    return FTYP + _box(b"mdat", bytes(64)) + _moov(*(traks or (_trak(),)))


def _probe(client: pictograph.Client, tmp_path: Path, content: bytes) -> VideoMetadata:
    path = tmp_path / "clip.mp4"
    path.write_bytes(content)
    return client.video.probe(client.video.upload(path).gcs_path)


FOUR_SECONDS = VideoMetadata(
    duration_seconds=4.0, native_fps=30.0, width=320, height=240, frame_count=120
)


# ── how writers lay a file out ──


def test_the_built_file_probes_as_the_sdk_reports_it(
    client: pictograph.Client, tmp_path: Path
) -> None:
    assert _probe(client, tmp_path, _mp4()) == FOUR_SECONDS


def test_an_audio_track_before_the_video_is_passed_over(
    client: pictograph.Client, tmp_path: Path
) -> None:
    audio = _trak(width=0, height=0, handler=b"soun", timescale=48_000, duration=192_000)
    assert _probe(client, tmp_path, _mp4(audio, _trak())) == FOUR_SECONDS


def test_64_bit_box_sizes_are_read(client: pictograph.Client, tmp_path: Path) -> None:
    # A size of 1 states the size in the 8 bytes after the type: the media first, then
    # the header, then an empty 64-bit media box that ends exactly at the end of the file.
    def large(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I4sQ", 1, kind, 16 + len(payload)) + payload

    content = FTYP + large(b"mdat", bytes(100)) + _moov(_trak()) + large(b"mdat", b"")
    assert _probe(client, tmp_path, content) == FOUR_SECONDS


def test_a_header_whose_size_is_zero_runs_to_the_end_of_the_file(
    client: pictograph.Client, tmp_path: Path
) -> None:
    moov = _moov(_trak())
    to_the_end = struct.pack(">I", 0) + moov[4:]
    assert _probe(client, tmp_path, FTYP + _box(b"mdat", bytes(8)) + to_the_end) == FOUR_SECONDS


def test_a_file_cut_short_in_its_media_after_the_header_probes(
    client: pictograph.Client, tmp_path: Path
) -> None:
    # A download cut off in the media data: the header before it is whole.
    cut = struct.pack(">I4s", 8 + 1_000_000, b"mdat") + bytes(100)
    assert _probe(client, tmp_path, FTYP + _moov(_trak()) + cut) == FOUR_SECONDS


def test_a_recording_cut_off_before_its_header_says_the_header_is_missing(
    client: pictograph.Client, tmp_path: Path
) -> None:
    # The writer puts the header last: a recording stopped mid-media has none.
    cut = struct.pack(">I4s", 8 + 1_000_000, b"mdat") + bytes(100)
    with pytest.raises(ValidationError, match=r"no 'moov' box \(the header is missing"):
        _probe(client, tmp_path, FTYP + cut)


def test_version_1_headers_are_read(client: pictograph.Client, tmp_path: Path) -> None:
    # 64-bit times, as writers use for long or finely timed videos.
    trak = _trak(version=1)
    content = FTYP + _box(b"mdat", bytes(8)) + _moov(trak, version=1)
    assert _probe(client, tmp_path, content) == FOUR_SECONDS


def test_ntsc_rates_are_frames_over_the_duration_to_the_microsecond(
    client: pictograph.Client, tmp_path: Path
) -> None:
    # 7 frames of NTSC film (24000/1001 fps): 0.2919583... s. The rate is the frames
    # over the duration itself, not over its rounding.
    film = _trak(timescale=24_000, duration=7 * 1001, stts=_stts((7, 1001)))
    assert _probe(client, tmp_path, _mp4(film)) == VideoMetadata(
        duration_seconds=0.291958, native_fps=23.976024, width=320, height=240, frame_count=7
    )
    # mp4_header keeps 29.97 fps to a thousandth (29970/1000), in the track's own times.
    clip = mp4_header(duration_seconds=10, fps=29.97, width=64, height=48)
    assert _probe(client, tmp_path, clip) == VideoMetadata(
        duration_seconds=10.01001, native_fps=29.97, width=64, height=48, frame_count=300
    )
    # 8.03 fps is 8030/1000 (8.03 x 1000 is 8029.999... in floating point).
    odd = mp4_header(duration_seconds=10, fps=8.03, width=64, height=48)
    assert _probe(client, tmp_path, odd).native_fps == 8.03


def test_a_track_without_a_duration_of_its_own_takes_the_movies(
    client: pictograph.Client, tmp_path: Path
) -> None:
    undated = _trak(mdhd=_times(b"mdhd", 30_000, 0))
    content = FTYP + _box(b"mdat", bytes(8)) + _moov(undated, timescale=600, duration=2400)
    assert _probe(client, tmp_path, content) == FOUR_SECONDS


def test_the_largest_frame_a_header_may_state_is_read(
    client: pictograph.Client, tmp_path: Path
) -> None:
    side = MAX_VIDEO_SIDE
    assert side == 16_384
    wide = _probe(client, tmp_path, _mp4(_trak(width=side, height=side)))
    assert (wide.width, wide.height) == (side, side)


# ── broken headers ──


@pytest.mark.parametrize(
    ("trak", "message"),
    [
        pytest.param(_trak(duration=0), "the video track states no duration", id="no-duration"),
        pytest.param(_trak(stts=_stts()), "the video track has no frames", id="no-frames"),
        pytest.param(_trak(width=0), "the video track states a frame size of 0x240", id="no-width"),
        pytest.param(
            _trak(height=0), "the video track states a frame size of 320x0", id="no-height"
        ),
        pytest.param(
            _trak(mdhd=_box(b"mdhd", bytes(16))), "the 'mdhd' box is cut short", id="mdhd-v0"
        ),
        pytest.param(
            _trak(mdhd=_box(b"mdhd", b"\x01", bytes(33))),
            "the 'mdhd' box is cut short",
            id="mdhd-v1",
        ),
        pytest.param(
            _trak(stts=_box(b"stts", bytes(4))), "the 'stts' box is cut short", id="stts-empty"
        ),
        pytest.param(
            _trak(stts=_stts((120, 1000), count=2)),
            "the 'stts' box is cut short",
            id="stts-entries",
        ),
    ],
)
def test_a_broken_header_is_a_422_that_says_what_is_wrong(
    client: pictograph.Client, tmp_path: Path, trak: bytes, message: str
) -> None:
    # The track is the header's last box and the header the file's: nothing after a
    # box cut short to read on into.
    content = FTYP + _box(b"mdat", bytes(8)) + _moov(trak, duration=0)
    with pytest.raises(ValidationError, match=f"Could not read 'clip.mp4' as a video: {message}"):
        _probe(client, tmp_path, content)


# ── mp4_header and fake.add_video ──


def test_mp4_header_puts_the_media_given_after_the_header(
    client: pictograph.Client, tmp_path: Path
) -> None:
    bare = mp4_header(duration_seconds=4, fps=30, width=320, height=240)
    padded = mp4_header(duration_seconds=4, fps=30, width=320, height=240, mdat=bytes(1000))
    assert len(padded) == len(bare) + 1000
    assert padded.startswith(bare[:-8])
    assert _probe(client, tmp_path, padded) == FOUR_SECONDS


def test_add_video_states_what_a_probe_reads(
    fake: FakePictograph, client: pictograph.Client
) -> None:
    film = fake.add_video(duration_seconds=10, fps=23.976, width=64, height=48)
    assert client.video.probe(film.gcs_path).native_fps == 23.976
    # A video shorter than a frame still holds one.
    blink = fake.add_video(duration_seconds=0.01, fps=30)
    assert client.video.probe(blink.gcs_path).frame_count == 1
    side = fake.add_video(duration_seconds=1, width=MAX_VIDEO_SIDE, height=MAX_VIDEO_SIDE)
    assert client.video.probe(side.gcs_path).width == MAX_VIDEO_SIDE


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"duration_seconds": True}, "duration_seconds must be a number above 0"),
        ({"fps": "30"}, "fps must be a number above 0"),
        ({"fps": float("inf")}, "fps must be finite"),
        ({"duration_seconds": float("inf")}, "duration_seconds must be finite"),
        ({"width": True}, "width must be a whole number of pixels"),
        ({"height": 2.5}, "height must be a whole number of pixels"),
        ({"width": MAX_VIDEO_SIDE + 1}, "width must be a whole number of pixels, 1 to 16384"),
    ],
)
def test_add_video_refuses_what_no_video_has(
    fake: FakePictograph, options: dict[str, object], message: str
) -> None:
    settings: dict[str, object] = {"duration_seconds": 3, **options}
    with pytest.raises(ValueError, match=message):
        fake.add_video(**settings)  # type: ignore[arg-type]
