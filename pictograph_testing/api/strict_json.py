"""Parse JSON the fake can hold: nothing deeper, larger or stranger than it can answer with.

``json.loads`` reads UTF-8, UTF-16 and UTF-32 (it detects which), lets lone surrogates
through (``"\\ud800"`` escapes, and raw ones in UTF-16/32 text), takes ``NaN`` and
``Infinity``, and numbers that overflow a float. Any of these, stored, breaks a later
answer: text that cannot be encoded, or bare ``NaN`` tokens strict parsers reject. Every
body the fake parses, on the API's routes and the control routes alike, comes through
:func:`parse`, which refuses all of them, and nesting past
:data:`~pictograph_testing.bounds.MAX_JSON_DEPTH`, before anything reads the value.
"""

from __future__ import annotations

import json
import math
from typing import Any

from pictograph_testing.api import messages
from pictograph_testing.bounds import MAX_JSON_DEPTH, MAX_JSON_NUMBER, MAX_NUMBER_DIGITS
from pictograph_testing.world.errors import LONE_SURROGATE

__all__ = ["UnfitJson", "check", "parse"]


class UnfitJson(ValueError):
    """JSON the fake refuses: ``message`` says what to fix, ``kind`` and ``summary`` fill
    the API's field error."""

    def __init__(self, message: str, kind: str, summary: str) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.summary = summary


def _constant(name: str) -> Any:
    raise UnfitJson(messages.NON_FINITE.format(value=name), "finite_number", "Input is not finite")


def _float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise UnfitJson(
            messages.NON_FINITE.format(value=messages.shown(text)),
            "finite_number",
            "Input is not finite",
        )
    return number


def _int(text: str) -> int:
    # JSON has no leading zeros: the text's length is its digits' (and a sign's). Counted
    # first, as int() raises on text of more than 4,300 digits.
    if len(text.lstrip("-")) <= MAX_NUMBER_DIGITS:
        number = int(text)
        if abs(number) <= MAX_JSON_NUMBER:
            return number
    raise UnfitJson(
        messages.NON_FINITE.format(value=messages.shown(text)),
        "finite_number",
        "Input is not finite",
    )


def parse(body: bytes | str) -> Any:
    """Parse ``body`` (UTF-8, -16 or -32) and :func:`check` it; raise :class:`UnfitJson`."""
    try:
        parsed = json.loads(body, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except UnfitJson:
        raise
    except RecursionError:
        raise _too_deep() from None
    except ValueError:  # UnicodeDecodeError is a ValueError
        raise UnfitJson(messages.BAD_JSON, "json_invalid", "JSON decode error") from None
    check(parsed)
    return parsed


def check(value: Any) -> None:
    """Refuse a parsed value holding lone surrogates, non-finite numbers or deep nesting.

    Iterative, so a value of any depth is walked without recursion; the walk stops at
    the first problem.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if LONE_SURROGATE.search(node):
                raise _surrogate()
        elif isinstance(node, float):
            if not math.isfinite(node):
                raise UnfitJson(
                    messages.NON_FINITE.format(value=node), "finite_number", "Input is not finite"
                )
        elif isinstance(node, (dict, list)):
            if depth >= MAX_JSON_DEPTH:
                raise _too_deep()
            if isinstance(node, dict):
                for key, child in node.items():
                    if isinstance(key, str) and LONE_SURROGATE.search(key):
                        raise _surrogate()
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in node)


def _surrogate() -> UnfitJson:
    return UnfitJson(messages.LONE_SURROGATE, "string_unicode", "Invalid Unicode in string")


def _too_deep() -> UnfitJson:
    return UnfitJson(messages.TOO_DEEP.format(limit=MAX_JSON_DEPTH), "too_deep", "Nesting too deep")
