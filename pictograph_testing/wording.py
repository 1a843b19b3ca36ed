"""English the fake's messages share: "a" or "an" before a word, and a count with its noun."""

from __future__ import annotations

__all__ = ["article", "counted"]

# A tuple, not the string "aeiou": the empty string is in every string.
_VOWELS = ("a", "e", "i", "o", "u")


def article(word: str) -> str:
    """``"an"`` before a word that starts with a vowel, else ``"a"``: messages name
    kinds and types generically ("an integer", "a delay fault", "An object detection")."""
    return "an" if word[:1].lower() in _VOWELS else "a"


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``count`` and its noun, singular for one: "1 request", "60 requests", "2 classes"
    (``plural`` for a noun that does not take an "s")."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
