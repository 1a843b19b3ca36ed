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

__all__ = ["UnfitJson", "check", "object_or_none", "parse"]


class UnfitJson(ValueError):
    """JSON the fake refuses: ``message`` says what to fix, ``kind`` and ``summary`` fill
    the API's field error."""

    def __init__(
        self,
        template: str,
        kind: str,
        summary: str,
        *,
        subject: str = messages.REQUEST_BODY,
        **values: object,
    ) -> None:
        self.message = template.format(subject=subject, **values)
        super().__init__(self.message)
        self.kind = kind
        self.summary = summary
        self._template = template
        self._values = values

    def of(self, subject: str) -> UnfitJson:
        """The same refusal, said of ``subject`` ("The file") rather than a request body."""
        return UnfitJson(self._template, self.kind, self.summary, subject=subject, **self._values)


def _not_finite(value: object, subject: str = messages.REQUEST_BODY) -> UnfitJson:
    return UnfitJson(
        messages.NON_FINITE, "finite_number", "Input is not finite", subject=subject, value=value
    )


# The parser's hooks below know no subject: `parse` says the refusal of its own.
def _constant(name: str) -> Any:
    raise _not_finite(name)


def _float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _not_finite(messages.shown(text))
    return number


def _int(text: str) -> int:
    # JSON has no leading zeros: the text's length is its digits' (and a sign's). Counted
    # first, as int() raises on text of more than 4,300 digits.
    if len(text.lstrip("-")) <= MAX_NUMBER_DIGITS:
        number = int(text)
        if abs(number) <= MAX_JSON_NUMBER:
            return number
    raise _not_finite(messages.shown(text))


def parse(body: bytes | str, subject: str = messages.REQUEST_BODY) -> Any:
    """Parse ``body`` (UTF-8, -16 or -32) and :func:`check` it; raise :class:`UnfitJson`,
    whose message speaks of ``subject`` (a request body unless told)."""
    try:
        parsed = json.loads(body, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except UnfitJson as unfit:
        raise (unfit if subject == messages.REQUEST_BODY else unfit.of(subject)) from None
    except RecursionError:
        raise _too_deep(subject) from None
    except ValueError:  # UnicodeDecodeError is a ValueError
        raise UnfitJson(
            messages.BAD_JSON, "json_invalid", "JSON decode error", subject=subject
        ) from None
    check(parsed, subject)
    return parsed


def object_or_none(body: bytes) -> dict[str, Any] | None:
    """``body`` as :func:`parse` reads it, if that is a JSON object; else ``None``, for a
    route that refuses in words of its own what it cannot read (the gateway's)."""
    if not body:
        return None
    try:
        parsed = parse(body)
    except UnfitJson:
        return None
    return parsed if isinstance(parsed, dict) else None


def check(value: Any, subject: str = messages.REQUEST_BODY) -> None:
    """Refuse a parsed value holding lone surrogates, non-finite numbers or deep nesting,
    in words that speak of ``subject``.

    Iterative, so a value of any depth is walked without recursion; the walk stops at
    the first problem.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if LONE_SURROGATE.search(node):
                raise _surrogate(subject)
        elif isinstance(node, float):
            if not math.isfinite(node):
                raise _not_finite(node, subject)
        elif isinstance(node, (dict, list)):
            if depth >= MAX_JSON_DEPTH:
                raise _too_deep(subject)
            if isinstance(node, dict):
                for key, child in node.items():
                    if isinstance(key, str) and LONE_SURROGATE.search(key):
                        raise _surrogate(subject)
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in node)


def _surrogate(subject: str) -> UnfitJson:
    return UnfitJson(
        messages.LONE_SURROGATE, "string_unicode", "Invalid Unicode in string", subject=subject
    )


def _too_deep(subject: str) -> UnfitJson:
    return UnfitJson(
        messages.TOO_DEEP, "too_deep", "Nesting too deep", subject=subject, limit=MAX_JSON_DEPTH
    )
