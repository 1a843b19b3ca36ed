"""Explore: the public catalog of every organization's published datasets and models.

A dataset or a model is public once its organization publishes it (``visibility``);
Explore lists the public datasets and the public, ready models of every organization,
newest first, most starred first or by name. Each order is an index of the public items
alone, kept as they are published, withdrawn, renamed and deleted: a page costs the
page (or, filtered, the public items), never a walk over the world's datasets or models.

A public item is addressed from another organization by its qualified public name: the
organization's slug and the item's slug or display name (``acme/road-signs``).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from pictograph_testing.world.ids import by_id
from pictograph_testing.world.models import slugify
from pictograph_testing.world.ordered import SortedIndex

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from pictograph_testing.world.entities import Dataset, Model, Organization
    from pictograph_testing.world.state import World

__all__ = ["DATASET_SORTS", "MODEL_SORTS", "PublicCatalog"]

DATASET_SORTS = ("recent", "popular", "trending", "alphabetical")
"""Explore's orders of datasets. The fake keeps no history of stars, so ``trending``
(most starred this week) orders as ``popular`` does."""
MODEL_SORTS = ("recent", "popular", "alphabetical")


class _Published(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def organization_id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def published_at(self) -> float | None: ...

    @property
    def star_count(self) -> int: ...


T = TypeVar("T", bound=_Published)


class _Shelf(Generic[T]):
    """The public items of one kind, in each of Explore's orders and by organization."""

    def __init__(self) -> None:
        # Publication order: the tie-break of every order, and which of two items that
        # answer to one public name is found (the first published).
        self._seq: dict[str, int] = {}
        self._published = 0
        self._orders: dict[str, SortedIndex[T]] = {
            "recent": SortedIndex(self._recent),
            "popular": SortedIndex(self._popular),
            "alphabetical": SortedIndex(self._alphabetical),
        }
        # Each item by its organization and by each name it answers to (its display
        # name and its slug): a qualified public name is found without a walk.
        self._refs: dict[tuple[str, str], dict[str, T]] = {}

    def _recent(self, item: T) -> tuple[float, int]:
        return (item.published_at or 0.0, self._seq[item.id])

    def _popular(self, item: T) -> tuple[int, float, int]:
        return (item.star_count, item.published_at or 0.0, self._seq[item.id])

    def _alphabetical(self, item: T) -> tuple[str, str, int]:
        # Read oldest first: A to Z, then the first published of two alike.
        return (item.name.casefold(), item.name, self._seq[item.id])

    def holds(self, item: T) -> bool:
        return item.id in self._seq

    def add(self, item: T) -> None:
        if self.holds(item):
            return
        self._published += 1
        self._seq[item.id] = self._published
        for index in self._orders.values():
            index.add(item)
        self._file_refs(item)

    def discard(self, item: T) -> None:
        if not self.holds(item):
            return
        for index in self._orders.values():
            index.remove(item)
        self._unfile_refs(item)
        del self._seq[item.id]

    @staticmethod
    def _ref_keys(item: T) -> set[tuple[str, str]]:
        """The keys ``item`` is found by in its organization: its display name and slug."""
        return {(item.organization_id, item.name), (item.organization_id, slugify(item.name))}

    def _file_refs(self, item: T) -> None:
        for key in self._ref_keys(item):
            self._refs.setdefault(key, {})[item.id] = item

    def _unfile_refs(self, item: T) -> None:
        for key in self._ref_keys(item):
            filed = self._refs[key]
            del filed[item.id]
            if not filed:
                del self._refs[key]

    @contextmanager
    def changing(self, item: T, *orders: str) -> Iterator[None]:
        """Keep ``item`` in ``orders`` while what they sort it by changes (a rename, stars):
        it is taken out by its old key and filed again by its new one."""
        if not self.holds(item):
            yield
            return
        for order in orders:
            self._orders[order].remove(item)
        self._unfile_refs(item)  # a rename changes the names it answers to
        try:
            yield
        finally:
            for order in orders:
                self._orders[order].add(item)
            self._file_refs(item)

    def ordered(self, sort: str) -> Sequence[T]:
        """Every public item in ``sort``'s order, as a view (a page of it costs the page)."""
        if sort == "alphabetical":
            return self._orders["alphabetical"].oldest
        # ``trending`` orders as ``popular`` (see DATASET_SORTS).
        return self._orders["recent" if sort == "recent" else "popular"].newest

    def named(self, organization_id: str, ref: str) -> T | None:
        """The organization's public item whose display name or slug is ``ref``."""
        found = self._refs.get((organization_id, ref), {}).values()
        # A display name beats a slug; of two alike, the first published.
        return min(found, key=lambda item: (item.name != ref, self._seq[item.id]), default=None)


class PublicCatalog:
    """What Explore lists, kept in step with publication, renames and deletions."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._datasets: _Shelf[Dataset] = _Shelf()
        self._models: _Shelf[Model] = _Shelf()
        self._forks: dict[str, int] = {}
        """How many live datasets were imported from each dataset (by its id): its forks,
        which share its files."""

    # ── reads ──

    def owner(self, slug: str) -> Organization | None:
        """The organization a qualified public name's first part names (the first made)."""
        return self._world.organization_by_slug(slug)

    def dataset(self, organization: str, ref: str) -> Dataset | None:
        """The public dataset ``organization/ref`` names (slug or display name), if any."""
        owner = self.owner(organization)
        return self._datasets.named(owner.id, ref) if owner is not None else None

    def model(self, organization: str, ref: str) -> Model | None:
        """The public, ready model ``organization/ref`` names (slug or display name), if any."""
        owner = self.owner(organization)
        return self._models.named(owner.id, ref) if owner is not None else None

    def model_by_id(self, ref: str) -> Model | None:
        """The public, ready model whose id is ``ref`` (in any case), if any."""
        model = by_id(self._world.models, ref)
        return model if model is not None and self._models.holds(model) else None

    def datasets(
        self, *, sort: str, search: str | None, class_name: str | None
    ) -> Sequence[Dataset]:
        """The public datasets in ``sort``'s order: all (a view), or those that match.

        ``search`` matches a dataset's name or slug, or what its images show (its auto
        tags), case aside; ``class_name`` keeps the datasets with a class of that name.
        """
        ordered = self._datasets.ordered(sort)
        if not search and not class_name:
            return ordered
        return _matching(ordered, _dataset_test(search, class_name))

    def models(self, *, sort: str, search: str | None, model_type: str | None) -> Sequence[Model]:
        """The public, ready models in ``sort``'s order: all (a view), or those that match."""
        ordered = self._models.ordered(sort)
        if not search and not model_type:
            return ordered
        wanted = search.casefold() if search else None

        def test(model: Model) -> bool:
            return (model_type is None or model.model_type == model_type) and (
                wanted is None or wanted in model.name.casefold() or wanted in slugify(model.name)
            )

        return _matching(ordered, test)

    # ── datasets ──

    def publish_dataset(self, dataset: Dataset) -> None:
        """List ``dataset`` (made public now) in Explore; nothing changes if it is listed."""
        if dataset.visibility == "public" and self._datasets.holds(dataset):
            return
        dataset.visibility = "public"
        dataset.published_at = self._world.now()
        self._datasets.add(dataset)

    def withdraw_dataset(self, dataset: Dataset) -> None:
        """Take ``dataset`` out of Explore: private again (imports made of it stay)."""
        self._datasets.discard(dataset)
        dataset.visibility = "private"
        dataset.published_at = None

    def adopt_dataset(self, dataset: Dataset) -> None:
        """List a dataset made public elsewhere (a scenario's), as it was published, and
        count it as a fork of the one it was imported from."""
        self.fork_made(dataset)
        if dataset.visibility == "public":
            self._datasets.add(dataset)

    def fork_made(self, dataset: Dataset) -> None:
        """Count ``dataset`` as a fork of the one it was imported from, if any."""
        source = dataset.imported_from
        if source is not None:
            self._forks[source] = self._forks.get(source, 0) + 1

    def forks(self, dataset: Dataset) -> int:
        """How many live datasets were imported from ``dataset``."""
        return self._forks.get(dataset.id, 0)

    def dataset_changing(self, dataset: Dataset) -> Any:
        """A context in which the dataset's name or stars may change (kept in order)."""
        return self._datasets.changing(dataset, "alphabetical", "popular")

    def dataset_deleted(self, dataset: Dataset) -> None:
        self._datasets.discard(dataset)
        source = dataset.imported_from
        if source is not None and self._forks.get(source, 0) > 0:
            self._forks[source] -= 1

    # ── models ──

    def model_visibility(self, model: Model, visibility: str) -> None:
        """Set the model's visibility; a public, ready model is listed from now on."""
        if visibility == model.visibility:
            return
        if visibility == "public":
            model.visibility = "public"
            model.published_at = self._world.now()
            self.adopt_model(model)
        else:
            self._models.discard(model)
            model.visibility = "private"
            model.published_at = None

    def adopt_model(self, model: Model) -> None:
        """List a model that is public and ready (a model's status never changes after)."""
        if model.visibility == "public" and model.status == "ready":
            self._models.add(model)

    def model_changing(self, model: Model) -> Any:
        """A context in which the model's name or stars may change (kept in order)."""
        return self._models.changing(model, "alphabetical", "popular")

    def model_deleted(self, model: Model) -> None:
        self._models.discard(model)


def _dataset_test(search: str | None, class_name: str | None) -> Callable[[Dataset], bool]:
    wanted = search.casefold() if search else None
    wanted_class = class_name.casefold() if class_name else None

    def test(dataset: Dataset) -> bool:
        if wanted_class is not None and not any(
            str(c.get("name", "")).casefold() == wanted_class for c in dataset.classes
        ):
            return False
        return (
            wanted is None
            or wanted in dataset.name.casefold()
            or wanted in slugify(dataset.name)
            or any(wanted in tag.casefold() for tag in dataset.auto_tags)
        )

    return test


def _matching(items: Sequence[T], test: Callable[[T], bool]) -> list[T]:
    """The public items ``test`` keeps, in order: a pass over the public ones alone."""
    return [item for item in items if test(item)]
