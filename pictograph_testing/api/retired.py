"""Routes some releases call that today's API serves under no path at all.

Each is the API's own "No route" 404, whoever calls it, and is listed with the calls
that failed against the API (``dialects.SDK_DEFECTS``); none is a gap of the fake.
"""

from __future__ import annotations

from pictograph_testing.api.dialects import STORAGE_CONNECTIONS
from pictograph_testing.api.table import retired

__all__: list[str] = []

# `client.storage` (SDK 1.65.0 to 1.69.42): connections to a bucket of the organization's
# own, browsed and imported from. SDK 1.69.43 removed the resource with the API's.
retired(
    STORAGE_CONNECTIONS,
    ("POST", "storage-connections"),
    ("GET", "storage-connections"),
    ("GET", "storage-connections/{connection}"),
    ("DELETE", "storage-connections/{connection}"),
    ("GET", "storage-connections/{connection}/browse"),
    ("POST", "storage-connections/{connection}/import"),
    ("GET", "storage-connections/imports/{job}"),
    ("POST", "storage-connections/imports/{job}/cancel"),
)
