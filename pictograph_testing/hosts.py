"""What identifies a host of the fake: one spelling, for every layer that compares hosts.

Its own module, importing nothing at run time: the API layer (a deployment's endpoint
reading an image URL on the fake's storage) and the interception (respx routes per host)
both compare hosts, and the API must not load respx to do so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

__all__ = ["HostKey", "host_key"]

HostKey = tuple[str, str, "int | None"]


def host_key(url: httpx.URL) -> HostKey:
    """What identifies a fake's host: scheme, host and explicit port (as ``owns`` compares)."""
    return (url.scheme, url.host, url.port)
