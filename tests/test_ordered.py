"""The newest-first views and sorted indexes that let a page cost the page."""

from __future__ import annotations

import pytest

from pictograph_testing.world.ordered import NewestFirst, NewestLookedUp, SortedIndex, index_in


@pytest.mark.parametrize("size", [0, 1, 2, 7])
def test_a_view_reads_like_the_reversed_list(size: int) -> None:
    items = list(range(size))
    view = NewestFirst(items)
    backwards = items[::-1]

    assert len(view) == size
    assert list(view) == backwards
    for start in range(-size - 2, size + 3):
        for stop in range(-size - 2, size + 3):
            assert view[start:stop] == backwards[start:stop]
            assert view[start:stop:2] == backwards[start:stop:2]
    for index in range(-size, size):
        assert view[index] == backwards[index]
    with pytest.raises(IndexError):
        view[size]


def test_a_view_follows_its_list_as_it_grows() -> None:
    items = [1, 2]
    view = NewestFirst(items)
    items.append(3)

    assert view[:2] == [3, 2]


def test_a_sorted_index_keeps_order_through_adds_and_removes() -> None:
    index: SortedIndex[tuple[int, str]] = SortedIndex(lambda pair: pair[0])
    pairs = [(3, "a"), (1, "b"), (3, "c"), (2, "d"), (5, "e"), (1, "f")]
    for pair in pairs:
        index.add(pair)

    assert index.oldest == sorted(pairs, key=lambda pair: pair[0])  # stable: ties in order
    index.remove(pairs[2])
    index.remove((9, "never filed"))
    assert [p[1] for p in index.newest] == ["e", "a", "d", "f", "b"]
    assert len(index) == 5


def test_a_sorted_index_removes_many_in_one_pass_and_keeps_its_keys() -> None:
    index: SortedIndex[tuple[int, str]] = SortedIndex(lambda pair: pair[0])
    for pair in [(4, "a"), (1, "b"), (3, "c"), (2, "d")]:
        index.add(pair)

    index.remove_where(lambda pair: pair[1] in "ac")
    assert index.oldest == [(1, "b"), (2, "d")]
    index.add((0, "e"))  # found by a search over the keys kept: it lands first
    index.remove((1, "b"))
    assert [p[1] for p in index.newest] == ["d", "e"]


def test_index_in_makes_an_index_once_and_hands_back_the_same_one() -> None:
    indexes: dict[str, SortedIndex[int]] = {}

    first = index_in(indexes, "org", lambda n: n)
    first.add(2)
    again = index_in(indexes, "org", lambda n: -n)  # the key of the index already made
    again.add(1)

    assert again is first
    assert first.oldest == [1, 2]
    assert list(indexes) == ["org"]


@pytest.mark.parametrize("size", [0, 1, 2, 7])
def test_a_view_reads_backwards_slices_like_the_reversed_list(size: int) -> None:
    items = list(range(size))
    view = NewestFirst(items)
    backwards = items[::-1]

    assert view[::-1] == items
    for start in range(-size - 2, size + 3):
        for stop in range(-size - 2, size + 3):
            assert view[start:stop:-1] == backwards[start:stop:-1]
            assert view[start:stop:-2] == backwards[start:stop:-2]


def test_a_looked_up_view_reads_the_keys_newest_first_from_its_table() -> None:
    keys = ["a", "b", "c"]
    table = {"a": 1, "b": 2, "c": 3, "elsewhere": 4}
    view: NewestLookedUp[str, int] = NewestLookedUp(keys, table)

    assert len(view) == 3  # the keys it names, not the whole table
    assert list(view) == [3, 2, 1]
    assert (view[0], view[-1]) == (3, 1)
    assert view[1:] == [2, 1]
    keys.append("elsewhere")
    assert (len(view), view[:2]) == (4, [4, 3])


def test_an_index_removes_the_very_item_named_not_an_equal_one() -> None:
    index: SortedIndex[list[int]] = SortedIndex(lambda item: item[0])
    first, twin = [1], [1]
    index.add(first)
    index.add(twin)

    index.remove(twin)
    assert len(index) == 1
    assert index.oldest[0] is first


def test_an_index_s_views_follow_it_through_adds_and_removes() -> None:
    index: SortedIndex[int] = SortedIndex(lambda n: n)
    for n in (1, 2, 3, 4):
        index.add(n)
    newest, oldest = index.newest, index.oldest

    index.add(5)
    assert newest[0] == 5
    index.remove_where(lambda n: n % 2 == 0)
    assert list(newest) == [5, 3, 1]
    assert oldest == [1, 3, 5]
    index.remove(3)
    assert list(newest) == [5, 1]
