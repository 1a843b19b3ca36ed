"""English the fake's messages share: the one rule for "a" or "an" before a word."""

from __future__ import annotations

__all__ = ["article"]


def article(word: str) -> str:
    """``"an"`` before a word that starts with a vowel, else ``"a"``: messages name
    kinds and types generically ("an integer", "a delay fault", "An object detection")."""
    return "an" if word[:1].lower() in "aeiou" else "a"
