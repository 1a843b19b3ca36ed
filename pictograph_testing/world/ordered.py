"""Newest-first views of append-ordered lists: a page costs O(page), not O(world)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar, overload

__all__ = ["NewestFirst", "NewestLookedUp", "SortedIndex", "by_seq", "index_in"]

T = TypeVar("T")
K = TypeVar("K")


class NewestFirst(Sequence[T], Generic[T]):
    """A list read backwards, without copying it: ``view[0]`` is its last item.

    The view follows the list as it grows; slicing copies only the slice.
    """

    __slots__ = ("_items",)

    def __init__(self, items: list[T]) -> None:
        self._items = items

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        size = len(self._items)
        if isinstance(index, slice):
            start, stop, step = index.indices(size)
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            if stop <= start:
                return []
            # Items start..stop-1 of the reversed list are size-stop..size-start-1 of the list.
            chunk = self._items[size - stop : size - start]
            chunk.reverse()
            return chunk
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError("index out of range")
        return self._items[size - 1 - index]


class NewestLookedUp(Sequence[T], Generic[K, T]):
    """Items named by a list of keys, newest first, looked up as they are read: a page
    looks up only its own keys, and neither list nor table is copied."""

    __slots__ = ("_keys", "_table")

    def __init__(self, keys: list[K], table: Mapping[K, T]) -> None:
        self._keys = NewestFirst(keys)
        self._table = table

    def __len__(self) -> int:
        return len(self._keys)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            table = self._table
            return [table[key] for key in self._keys[index]]
        return self._table[self._keys[index]]


class SortedIndex(Generic[T]):
    """Items kept sorted by a key that never changes once filed (oldest first).

    Filing and removing cost O(log n) to find the place (plus a memmove); ``newest``
    is a :class:`NewestFirst` view of the items. Each item's key is computed once and
    kept beside it, so a search compares keys without calling ``key`` again.
    """

    __slots__ = ("_items", "_key", "_keys")

    def __init__(self, key: Callable[[T], Any]) -> None:
        self._key = key
        self._items: list[T] = []
        self._keys: list[Any] = []

    def add(self, item: T) -> None:
        items, keys = self._items, self._keys
        key = self._key(item)
        # Most items are the newest yet: append without a search.
        if not keys or keys[-1] <= key:
            items.append(item)
            keys.append(key)
        else:
            place = bisect_right(keys, key)
            items.insert(place, item)
            keys.insert(place, key)

    def remove(self, item: T) -> None:
        """Remove ``item`` (the very object); nothing happens if it is not filed."""
        items, keys = self._items, self._keys
        key = self._key(item)
        place = bisect_left(keys, key)
        while place < len(keys) and keys[place] == key:
            if items[place] is item:
                del items[place]
                del keys[place]
                return
            place += 1

    def remove_where(self, gone: Callable[[T], bool]) -> None:
        """Remove every item ``gone`` is true of, in one pass (many at once cost O(n),
        where :meth:`remove` one by one would cost O(n) each)."""
        pairs = zip(self._items, self._keys, strict=True)
        kept = [(item, key) for item, key in pairs if not gone(item)]
        self._items[:] = [item for item, _ in kept]
        self._keys[:] = [key for _, key in kept]

    def __len__(self) -> int:
        return len(self._items)

    @property
    def oldest(self) -> list[T]:
        """The items oldest first (read only)."""
        return self._items

    @property
    def newest(self) -> NewestFirst[T]:
        return NewestFirst(self._items)


def index_in(indexes: dict[K, SortedIndex[T]], name: K, key: Callable[[T], Any]) -> SortedIndex[T]:
    """The index ``indexes`` holds under ``name``, made (sorted by ``key``) the first time.

    Unlike ``setdefault``, it builds no index when one is already there (filing is hot).
    """
    index = indexes.get(name)
    if index is None:
        index = indexes[name] = SortedIndex(key)
    return index


class _Sequenced(Protocol):
    @property
    def seq(self) -> int: ...


def by_seq(item: _Sequenced) -> int:
    """The key of an index kept in creation order: the item's ``seq``."""
    return item.seq
