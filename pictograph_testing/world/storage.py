"""Signed storage URLs: tokens that name a blob for an hour, fetched without an API key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from collections.abc import Callable

    from pictograph_testing.world.state import World

__all__ = ["SIGNED_URL_TTL_SECONDS", "STORAGE_PREFIX", "BlobStore", "SignedBlob"]

SIGNED_URL_TTL_SECONDS = 3600.0
STORAGE_PREFIX = "/_storage/"


@dataclass
class SignedUpload:
    """A signed PUT URL: where the bytes are bound, and the bytes once they arrive."""

    key: tuple[str, str, str]
    """(dataset id, directory path, filename) the upload is for."""
    content_type: str
    expires_at: float
    content: bytes | None = None


@dataclass(frozen=True)
class SignedBlob:
    filename: str
    content_type: str
    produce: Callable[[], bytes]
    expires_at: float


class BlobStore:
    """Mint and resolve signed-URL tokens; the bytes are produced when fetched."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._blobs: dict[str, SignedBlob] = {}
        self._uploads: dict[str, SignedUpload] = {}
        self._received: dict[tuple[str, str, str], SignedUpload] = {}
        self._made: dict[tuple[str, str], bytes] = {}

    def sign(self, filename: str, content_type: str, produce: Callable[[], bytes]) -> str:
        """Return the path (under :data:`STORAGE_PREFIX`) of a new signed URL."""
        token = self._world.ids.hex(40)
        self._blobs[token] = SignedBlob(
            filename, content_type, produce, self._world.now() + SIGNED_URL_TTL_SECONDS
        )
        return f"{STORAGE_PREFIX}{token}/{quote(filename, safe='')}"

    def resolve(self, token: str) -> SignedBlob | None:
        return self._blobs.get(token)

    def sign_upload(
        self, key: tuple[str, str, str], content_type: str, *, ttl_seconds: float = 900.0
    ) -> str:
        """Return the path of a signed PUT URL for one image's bytes (15 minutes)."""
        token = self._world.ids.hex(40)
        self._uploads[token] = SignedUpload(key, content_type, self._world.now() + ttl_seconds)
        # Percent-encoded, as signed URLs are: a name may hold '?', '#', spaces or NUL.
        return f"{STORAGE_PREFIX}{token}/{quote(key[2], safe='')}"

    def upload_slot(self, token: str) -> SignedUpload | None:
        return self._uploads.get(token)

    def receive(self, slot: SignedUpload, content: bytes) -> None:
        """Keep bytes PUT to a signed URL until the image is registered."""
        slot.content = content
        self._received[slot.key] = slot

    def received(self, key: tuple[str, str, str]) -> SignedUpload | None:
        """The bytes received for (dataset id, directory, filename), if any; kept."""
        return self._received.get(key)

    def take_upload(self, key: tuple[str, str, str]) -> SignedUpload | None:
        """The bytes received for (dataset id, directory, filename), if any; consumed."""
        return self._received.pop(key, None)

    def cached(self, key: tuple[str, str], produce: Callable[[], bytes]) -> bytes:
        """Make an artifact once: like stored files, it never changes after it is written."""
        blob = self._made.get(key)
        if blob is None:
            blob = self._made[key] = produce()
        return blob
