"""Checks of what a test passes the world builders (``FakePictograph.add_*``).

Each check refuses a value of the wrong type (``TypeError``) or out of its range
(``ValueError``), naming the argument and what it takes, before anything is built from
it: a builder refused leaves the world as it was. Names follow the API's own rule for
them (:data:`~pictograph_testing.api.spec.NAME`), so a world a test builds holds only
what the API could have made.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from pictograph_testing.api.spec import NAME

if TYPE_CHECKING:
    from pictograph_testing.world.members import Member

__all__ = [
    "api_name",
    "member_of",
    "members_of",
    "real",
    "sendable",
    "strings",
    "text",
    "whole",
]


def whole(name: str, value: object, *, low: int = 0, high: int | None = None) -> int:
    """``value`` as a whole number from ``low`` (to ``high``); ``True`` is no count."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a whole number, got {value!r:.60}")
    if value < low or (high is not None and value > high):
        bound = f"from {low:,} to {high:,}" if high is not None else f"of {low:,} or more"
        raise ValueError(f"{name} must be a whole number {bound}, got {value!r:.60}")
    return value


def real(name: str, value: object, *, above: float, high: float) -> float:
    """``value`` as a finite number over ``above``, up to ``high``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {value!r:.60}")
    if not math.isfinite(value) or not above < value <= high:
        raise ValueError(f"{name} must be a number over {above:g}, up to {high:g}, got {value!r}")
    return float(value)


def text(name: str, value: object) -> str:
    """``value`` as a string."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {value!r:.60}")
    return value


def api_name(name: str, value: object) -> str:
    """``value`` as a name the API takes (1 to 255 characters, not blank, not ``.``)."""
    problem = NAME.constraint(name, text(name, value), (name,))
    if problem is not None:
        raise ValueError(problem.message)
    return str(value)


def strings(name: str, value: object) -> list[str]:
    """``value`` as a list of strings; a lone string (a list forgotten) is refused, not
    read as its letters."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, set, frozenset)):
        raise TypeError(f"{name} must be a list of strings, got {value!r:.60}")
    for item in value:
        text(f"each of {name}", item)
    return list(value)


def sendable(name: str, value: object) -> str:
    """``value`` as a header's value a client can send: a string of printable ASCII, no
    spaces."""
    value = text(name, value)
    if not value.isascii() or not value.isprintable() or any(c.isspace() for c in value):
        raise ValueError(
            f"{name} must be printable ASCII without spaces (a client sends it in a header), "
            f"got {value!r:.60}"
        )
    return value


def member_of(name: str, value: object, organization_id: str) -> Member:
    """``value`` as a member (from ``add_member``) of that organization."""
    from pictograph_testing.world.members import Member

    if not isinstance(value, Member):
        raise TypeError(f"{name} must be a member from add_member, got {value!r:.60}")
    if value.organization_id != organization_id:
        raise ValueError(f"{name} ({value.email}) is not a member of that organization")
    return value


def members_of(name: str, value: object, organization_id: str) -> list[Member]:
    """``value`` as a list of members (from ``add_member``) of that organization."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a list of members from add_member, got {value!r:.60}")
    return [member_of(f"each of {name}", member, organization_id) for member in value]
