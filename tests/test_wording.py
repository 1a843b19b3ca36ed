"""The English the fake's messages share."""

from __future__ import annotations

import pytest

from pictograph_testing.wording import article, counted


@pytest.mark.parametrize(
    ("count", "noun", "plural", "words"),
    [
        (1, "request", None, "1 request"),
        (60, "request", None, "60 requests"),
        (0, "item", None, "0 items"),
        (1, "class", "classes", "1 class"),
        (2, "class", "classes", "2 classes"),
    ],
)
def test_a_count_takes_its_noun_in_the_singular_only_for_one(
    count: int, noun: str, plural: str | None, words: str
) -> None:
    assert counted(count, noun, plural) == words


@pytest.mark.parametrize(
    ("word", "before"),
    [("integer", "an"), ("Object", "an"), ("delay", "a"), ("", "a")],
)
def test_an_article_follows_the_words_first_letter(word: str, before: str) -> None:
    assert article(word) == before
