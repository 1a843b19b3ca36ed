"""Bounds on what the fake takes in: JSON nesting and numbers, the clock, image files.

Each bound is declared here once; the parsers, the clock, the scenario loader and the
image checks read them, and ``docs/reliability.md`` lists them. A request beyond one
gets the API's 4xx before anything in the world changes.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone

__all__ = [
    "EARLIEST_START",
    "LATEST_INSTANT",
    "MAX_BALANCE_USD",
    "MAX_CLIENT_RETRIES",
    "MAX_CLIENT_TIMEOUT",
    "MAX_COORDINATE",
    "MAX_IMAGE_PIXELS",
    "MAX_IMAGE_SIDE",
    "MAX_JSON_DEPTH",
    "MAX_JSON_NUMBER",
    "MAX_NUMBER_DIGITS",
    "MAX_SCENARIO_ANNOTATIONS",
    "MAX_SCENARIO_COUNT",
    "MAX_SEED",
    "MAX_SPEED",
]

MAX_JSON_DEPTH = 32
"""Arrays and objects nested deeper than this are refused (a scenario needs 8)."""

MAX_JSON_NUMBER = sys.float_info.max
"""The largest magnitude a JSON number may have: what a float holds. NaN, Infinity and
numbers that overflow a float are refused, so every answer is strict JSON."""

MAX_NUMBER_DIGITS = len(str(int(MAX_JSON_NUMBER)))
"""The most digits (309) a whole number may have, in a JSON body or a query: as many as
:data:`MAX_JSON_NUMBER` has. Counted before the text is converted, because ``int()``
raises on text of more than 4,300 digits: such a number is refused for its size, never
taken for invalid JSON or left to fail inside the fake."""

EARLIEST_START = datetime(1970, 1, 1, tzinfo=timezone.utc)
"""The earliest instant a virtual clock may start at."""

LATEST_INSTANT = datetime(2200, 1, 1, tzinfo=timezone.utc)
"""The virtual clock never reaches this instant: starts and advances past it are
refused. It leaves centuries of room below ``datetime.max`` for every deadline and
expiry the world computes from the clock (TTLs, service caps, signed URLs)."""

MAX_COORDINATE = 1e9
"""The largest magnitude of an annotation's coordinate or size, in pixels: far beyond any
image, and small enough that what is computed from them (a polygon's enclosing box, a
box's area in a COCO export) stays a finite number, so every answer and every exported
file is strict JSON."""

MAX_CLIENT_TIMEOUT = 365 * 24 * 3600.0
"""The longest timeout, in seconds, a fake's client takes (a year: far beyond a test's)."""

MAX_CLIENT_RETRIES = 100
"""The most retries a fake's client takes."""

MAX_SPEED = 1_000_000.0
"""The fastest a clock may run by itself, in virtual seconds per real second: a virtual
day in under a tenth of a second. A clock that runs stops just short of
:data:`LATEST_INSTANT` (at this pace, about an hour and a half of real time from now)."""

MAX_IMAGE_SIDE = 16_384
"""The widest and tallest image taken, in pixels."""

MAX_IMAGE_PIXELS = 178_956_970
"""The most pixels an image may hold (Pillow's decompression-bomb limit)."""

MAX_BALANCE_USD = 1e9
"""The largest balance an organization may start with, in dollars (a fake's
``balance_usd``, ``--balance-usd``, a scenario's): a billion, and whole micro-dollars
that a ledger's sums hold exactly."""

MAX_SEED = 2**53
"""The largest seed: a snapshot writes it as a JSON number, exact up to 2**53, and a
world's seed must load back from its snapshot."""

MAX_SCENARIO_COUNT = 100_000
"""The most synthetic images a scenario may ask for, its datasets' together."""

MAX_SCENARIO_ANNOTATIONS = 500_000
"""The most annotations a scenario's synthetic images may carry, together (about 400 MiB
of world): with :data:`MAX_SCENARIO_COUNT`, what bounds the memory and time a document
of a few hundred bytes may ask a load for."""
