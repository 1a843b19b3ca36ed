"""Signed storage URLs: tokens that name a blob for an hour, fetched without an API key."""

from __future__ import annotations

import hashlib
import heapq
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from pictograph_testing.catalog import MAX_IMAGE_BYTES

if TYPE_CHECKING:
    from collections.abc import Callable

    from pictograph_testing.world.state import World

__all__ = [
    "EXPIRED_URL_MEMORY_SECONDS",
    "SIGNED_URL_TTL_SECONDS",
    "STORAGE_PREFIX",
    "UNREGISTERED_UPLOAD_TTL_SECONDS",
    "BlobStore",
    "SignedBlob",
    "SignedUpload",
]

SIGNED_URL_TTL_SECONDS = 3600.0
STORAGE_PREFIX = "/_storage/"
EXPIRED_URL_MEMORY_SECONDS = 24 * 3600.0
"""How long an expired signed URL still answers 403 ``Request has expired``; after that
it is forgotten (404), so that the URLs a long session signs do not pile up."""
UNREGISTERED_UPLOAD_TTL_SECONDS = 24 * 3600.0
"""How long bytes PUT to a signed URL wait to be registered before they are dropped."""


@dataclass
class SignedUpload:
    """A signed PUT URL: where the bytes are bound, and the bytes once they arrive."""

    key: tuple[str, str, str]
    """(dataset id, directory path, filename) the upload is for."""
    content_type: str
    expires_at: float
    content: bytes | None = None
    kept_until: float = 0.0
    """Once its bytes arrive: when they are dropped if no image registers them."""
    max_bytes: int = MAX_IMAGE_BYTES
    """The most bytes the URL takes (an image's limit unless signed for more)."""
    what: str = "an image"
    """What the URL is for, as a refusal of too many bytes names it."""
    token: str = ""
    """The URL's token: which upload of several to one path this is."""


@dataclass(frozen=True)
class SignedBlob:
    filename: str
    content_type: str
    produce: Callable[[], bytes | None]
    """The bytes, made when fetched; ``None`` once what was signed is deleted."""
    expires_at: float


class BlobStore:
    """Mint and resolve signed-URL tokens; the bytes are produced when fetched."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._blobs: dict[str, SignedBlob] = {}
        self._uploads: dict[str, SignedUpload] = {}
        # Per path, the uploads whose bytes arrived, the latest PUT last: two signed URLs
        # may name one path (a bulk upload of two files of one name), and each keeps its
        # own bytes until one is registered.
        self._received: dict[tuple[str, str, str], list[SignedUpload]] = {}
        self._made: dict[tuple[str, str], bytes] = {}
        # How many URLs were signed for each thing at the current virtual instant: what
        # tells their tokens apart (see `sign`); only the current instant's are kept.
        self._signing_instant = -1.0
        self._signed_now: dict[str, int] = {}
        # When to forget each token, and each upload nobody registered: heaps, trimmed
        # whenever something is added, so memory follows the virtual clock with no scan.
        self._forget_tokens: list[tuple[float, str]] = []
        self._forget_received: list[tuple[float, tuple[str, str, str], str]] = []

    def sign(
        self, name: str, filename: str, content_type: str, produce: Callable[[], bytes | None]
    ) -> str:
        """Return the path (under :data:`STORAGE_PREFIX`) of a new signed URL for the
        thing ``name`` names (``"export/<id>"``), one per call, as a download asks.

        Its token derives from the seed, ``name``, the virtual instant and how many were
        signed for ``name`` at that instant: a download is a read, and draws no id from
        the world's generator (the ids minted after it, and a snapshot, are the same
        whether or not anything was downloaded).
        """
        now = self._world.now()
        if now != self._signing_instant:
            self._signing_instant = now
            self._signed_now.clear()
        count = self._signed_now.get(name, 0)
        self._signed_now[name] = count + 1
        seed = self._world.seed
        token = hashlib.sha256(f"{seed}/{name}/{now!r}/{count}".encode()).hexdigest()[:40]
        expires_at = now + SIGNED_URL_TTL_SECONDS
        self._blobs[token] = SignedBlob(filename, content_type, produce, expires_at)
        self._remember(token, expires_at)
        return f"{STORAGE_PREFIX}{token}/{quote(filename, safe='')}"

    def sign_lasting(
        self,
        name: str,
        filename: str,
        content_type: str,
        produce: Callable[[], bytes | None],
        expires_at: float,
    ) -> str:
        """Return the path of the one signed URL for ``name``, valid until ``expires_at``.

        For a URL a read reports (an export's ``download_url`` on get and list): the same
        URL every time, minted on the first read, so reading draws no id and keeps no
        more than one token per thing named.
        """
        token = hashlib.sha256(f"{self._world.seed}/{name}".encode()).hexdigest()[:40]
        if token not in self._blobs:
            self._blobs[token] = SignedBlob(filename, content_type, produce, expires_at)
            self._remember(token, expires_at)
        return f"{STORAGE_PREFIX}{token}/{quote(filename, safe='')}"

    def _remember(self, token: str, expires_at: float) -> None:
        self.forget_expired()
        heapq.heappush(self._forget_tokens, (expires_at + EXPIRED_URL_MEMORY_SECONDS, token))

    def forget_expired(self) -> None:
        """Drop the URLs expired long enough ago, and bytes left unregistered too long."""
        now = self._world.now()
        tokens = self._forget_tokens
        while tokens and tokens[0][0] <= now:
            _, token = heapq.heappop(tokens)
            self._blobs.pop(token, None)
            self._uploads.pop(token, None)
        received = self._forget_received
        while received and received[0][0] <= now:
            forget_at, key, token = heapq.heappop(received)
            # Bytes PUT again since have a later deadline of their own.
            for slot in self._received.get(key, ()):
                if slot.token == token and slot.kept_until == forget_at:
                    self._drop(slot)
                    break

    def held(self) -> int:
        """Signed URLs and unregistered uploads held (what expiry keeps bounded)."""
        return len(self._blobs) + len(self._uploads) + sum(map(len, self._received.values()))

    def resolve(self, token: str) -> SignedBlob | None:
        return self._blobs.get(token)

    def sign_upload(
        self,
        key: tuple[str, str, str],
        content_type: str,
        *,
        ttl_seconds: float = 900.0,
        max_bytes: int = MAX_IMAGE_BYTES,
        what: str = "an image",
    ) -> str:
        """Return the path of a signed PUT URL for one image's bytes (15 minutes), or for
        ``what`` of at most ``max_bytes``."""
        token = self._world.ids.hex(40)
        expires_at = self._world.now() + ttl_seconds
        self._uploads[token] = SignedUpload(
            key, content_type, expires_at, max_bytes=max_bytes, what=what, token=token
        )
        self._remember(token, expires_at)
        # Percent-encoded, as signed URLs are: a name may hold '?', '#', spaces or NUL.
        return f"{STORAGE_PREFIX}{token}/{quote(key[2], safe='')}"

    def upload_slot(self, token: str) -> SignedUpload | None:
        return self._uploads.get(token)

    def receive(self, slot: SignedUpload, content: bytes) -> None:
        """Keep bytes PUT to a signed URL until the image is registered (or for a day)."""
        self.forget_expired()
        slot.content = content
        slot.kept_until = self._world.now() + UNREGISTERED_UPLOAD_TTL_SECONDS
        self._drop(slot)
        self._received.setdefault(slot.key, []).append(slot)  # the latest PUT last
        heapq.heappush(self._forget_received, (slot.kept_until, slot.key, slot.token))

    def received(self, key: tuple[str, str, str], size: int | None = None) -> SignedUpload | None:
        """The bytes received for (dataset id, directory, filename), if any; kept.

        ``size``: the register's ``file_size``. Of several uploads to the path, the first
        of that many bytes, so a file registers with its own bytes whatever order the
        PUTs came in; else (or with no size) the latest PUT, as storage keeps the last
        write to a path.
        """
        slots = self._received.get(key)
        if not slots:
            return None
        if size is not None:
            for slot in slots:
                if slot.content is not None and len(slot.content) == size:
                    return slot
        return slots[-1]

    def take_upload(
        self, key: tuple[str, str, str], slot: SignedUpload | None = None
    ) -> SignedUpload | None:
        """Consume ``slot`` (else the latest upload) of (dataset id, directory, filename)."""
        slots = self._received.get(key, [])
        taken = slot if slot is not None else (slots[-1] if slots else None)
        if taken is not None:
            self._drop(taken)
        return taken

    def _drop(self, slot: SignedUpload) -> None:
        """Forget ``slot`` among the uploads to its path (the path too, once none is left)."""
        kept = [u for u in self._received.get(slot.key, ()) if u is not slot]
        if kept:
            self._received[slot.key] = kept
        else:
            self._received.pop(slot.key, None)

    def made(self, key: tuple[str, str]) -> bool:
        """Whether the artifact ``key`` names has been made (a read that sized it has not)."""
        return key in self._made

    def cached(self, key: tuple[str, str], produce: Callable[[], bytes]) -> bytes:
        """Make an artifact once: like stored files, it never changes after it is written."""
        blob = self._made.get(key)
        if blob is None:
            blob = self._made[key] = produce()
        return blob
