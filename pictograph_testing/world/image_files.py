"""Decode uploaded bytes as the service does before it keeps them as an image.

The SDK uploads jpg/jpeg/png/webp/bmp/tif/tiff/gif/heic files (its own list of supported
extensions); the service decodes each one and refuses what is not an image of those
formats, a truncated file, or one too large to decode. HEIC is recognised by its header
only (Pillow has no decoder for it); every other format is decoded in full.
"""

from __future__ import annotations

import io
import warnings
from typing import TYPE_CHECKING

from pictograph_testing.bounds import MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE
from pictograph_testing.world.errors import InvalidRequest, field_error

if TYPE_CHECKING:
    from PIL import Image as PILImage

__all__ = [
    "ACCEPTED_FORMATS",
    "UndecodableImage",
    "check_image_bytes",
    "decoded_size",
    "upright_size",
]

ACCEPTED_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "BMP", "TIFF", "GIF")
"""The Pillow formats taken (MPO: a JPEG with extra frames, as phones write them)."""
_HEIC_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"mif1", b"msf1", b"heif")
_NAMES = "JPEG, PNG, WebP, BMP, TIFF, GIF or HEIC"


class UndecodableImage(ValueError):
    """Bytes the service does not take as an image; the message says why (no filename)."""


_ORIENTATION = 0x0112
"""The EXIF tag holding the orientation."""
_QUARTER_TURNS = frozenset({5, 6, 7, 8})
"""EXIF orientations that turn the stored picture a quarter: its sides swap when shown."""


def upright_size(picture: PILImage.Image) -> tuple[int, int]:
    """``picture``'s (width, height) as it is displayed, its EXIF orientation applied.

    Every coordinate on the platform is a pixel of the upright image (the SDK reads an
    upload's size after ``ImageOps.exif_transpose``), so a phone photo stored sideways
    is measured as it is shown. Reads the header only.
    """
    width, height = picture.size
    try:
        orientation = picture.getexif().get(_ORIENTATION)
    except Exception:  # a broken EXIF block leaves the picture as stored, as Pillow does
        orientation = None
    if orientation in _QUARTER_TURNS:
        return height, width
    return width, height


def decoded_size(content: bytes) -> tuple[int, int] | None:
    """Decode ``content`` in full as the service does and return its (width, height).

    ``None``: a HEIC image, recognised by its header only. Raises :class:`UndecodableImage`
    for an empty file, one that is not an image of :data:`ACCEPTED_FORMATS`, a truncated
    or corrupt one, or one too large to decode.
    """
    if not content:
        raise UndecodableImage("the file is empty")
    if content[4:8] == b"ftyp" and content[8:12] in _HEIC_BRANDS:
        return None
    from PIL import Image as PILImage

    try:
        with warnings.catch_warnings():
            # Pillow warns above half of MAX_IMAGE_PIXELS (its own default): the bounds
            # below are the service's, checked before the pixels are decoded.
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(content)) as picture:
                kind = picture.format
                width, height = picture.size
                if kind not in ACCEPTED_FORMATS:
                    raise UndecodableImage(f"{kind} files are not taken")
                if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE:
                    raise UndecodableImage(
                        f"it is {width}x{height} pixels; each side may be at most "
                        f"{MAX_IMAGE_SIDE:,}"
                    )
                if width * height > MAX_IMAGE_PIXELS:
                    raise UndecodableImage(f"it holds more than {MAX_IMAGE_PIXELS:,} pixels")
                picture.load()  # a truncated or corrupt file fails here
                width, height = upright_size(picture)
    except UndecodableImage:
        raise
    except PILImage.DecompressionBombError:
        raise UndecodableImage(f"it holds more than {MAX_IMAGE_PIXELS:,} pixels") from None
    except Exception:  # Pillow raises many kinds for bytes that are not an image it reads
        raise UndecodableImage("it cannot be decoded (not an image, or truncated)") from None
    return width, height


def check_image_bytes(content: bytes, filename: str) -> tuple[int, int] | None:
    """Return the image's (width, height), or refuse with 422 saying why it is not one.

    ``None``: a HEIC image, whose size is not read.
    """
    try:
        return decoded_size(content)
    except UndecodableImage as exc:
        raise _refused(filename, str(exc)) from None


def _refused(filename: str, reason: str) -> InvalidRequest:
    return InvalidRequest(
        f"The uploaded file '{filename}' is not an image the API takes: {reason}. "
        f"Upload a {_NAMES} image.",
        errors=[field_error(("body", "filename"), "Invalid image file", "image_invalid")],
    )
