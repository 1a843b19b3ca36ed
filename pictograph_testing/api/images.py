"""``/api/v1/developer/images``: not served yet (every route answers 404)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pictograph_testing.world.errors import NotFound

if TYPE_CHECKING:
    from pictograph_testing.api.wire import Call, Reply

__all__ = ["route"]


def route(call: Call) -> Reply:
    raise NotFound(f"No images route {call.method} /images/{'/'.join(call.segments)}")
