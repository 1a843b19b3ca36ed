"""Seeded identifiers and generated names: the same seed and calls give the same ids."""

from __future__ import annotations

import itertools
import random
import uuid
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from pictograph_testing.catalog import NAME_LIMIT

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

__all__ = [
    "IdFactory",
    "IdState",
    "by_id",
    "canonical_id",
    "distinct_ids",
    "numbered_name",
    "splitmix64",
    "suffixed_name",
    "uuid_text",
]

_MASK64 = (1 << 64) - 1
# RFC 4122 version 4: the version nibble is 4, the variant's two top bits are 10.
_UUID_KEEP = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID_SET = (4 << 76) | (0x8000 << 48)


def uuid_text(bits: int) -> str:
    """Format :meth:`IdFactory.uuid_bits` as the canonical, lowercase, dashed UUID."""
    # What str(uuid.UUID(int=...)) gives, without building the object (a quarter of the
    # cost). `bytes.hex` formats in half the time of a 128-bit `format`, and puts the
    # three dashes of the middle fields itself: three slices of bytes, where cutting
    # the hex text took five.
    raw = bits.to_bytes(16, "big")
    return f"{raw[:4].hex()}-{raw[4:10].hex('-', 2)}-{raw[10:].hex()}"


def canonical_id(ref: str) -> str:
    """``ref`` as a stored id when it is a dashed UUID in any case, else ``ref`` unchanged.

    The SDK sends any-case 8-4-4-4-12 strings as ids (``_resolve.looks_like_id``), and a
    UUID names the same row whatever its case; ids are stored lowercase. Anything else
    (a name) is left as sent, for a lookup by name.
    """
    if len(ref) != 36:
        return ref
    try:
        return str(uuid.UUID(ref))
    except ValueError:
        return ref


_Row = TypeVar("_Row")


def by_id(table: Mapping[str, _Row], ref: str) -> _Row | None:
    """The row ``ref`` names as an id in any case: looked up as sent first, so the usual
    lowercase id costs one lookup (every poll finds its run this way), and parsed as a
    UUID only when that misses."""
    found = table.get(ref)
    return found if found is not None else table.get(canonical_id(ref))


def distinct_ids(refs: Iterable[str]) -> list[str]:
    """Each id of a bulk request once, as first sent: one UUID sent again in another case
    (or with spaces around it) is the same id, collapsed like any duplicate."""
    first: dict[str, str] = {}
    for ref in refs:
        first.setdefault(canonical_id(ref.strip()), ref)
    return list(first.values())


def numbered_name(name: str, n: int) -> str:
    """``name (n)``: what a taken name becomes to tell a new one apart."""
    return suffixed_name(name, f" ({n})")


def suffixed_name(name: str, suffix: str) -> str:
    """``name`` with ``suffix``, ``name`` shortened so the whole stays within
    :data:`~pictograph_testing.catalog.NAME_LIMIT`: the API never hands out a name it would
    refuse when sent back (a rename to itself, a deployment named after its model)."""
    return name[: NAME_LIMIT - len(suffix)] + suffix


def splitmix64(value: int) -> int:
    """Mix an integer into a well-spread 64-bit one (stable across processes)."""
    z = (value + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


class _Words(NamedTuple):
    """Names with how common they are: what a seeded pick draws from."""

    names: tuple[str, ...]
    cumulative: tuple[float, ...]

    @classmethod
    def weighted(cls, table: Mapping[str, float]) -> _Words:
        return cls(tuple(table), tuple(itertools.accumulate(table.values())))

    def pick(self, rng: random.Random) -> str:
        # The draw faker's `random_element` makes on the same table, so a seed names
        # the same people and companies it did when a Faker made them.
        return rng.choices(self.names, cum_weights=self.cumulative)[0]


class _Vocabulary(NamedTuple):
    first_names: _Words
    last_names: _Words
    company_suffixes: tuple[str, ...]


@lru_cache(maxsize=1)
def _vocabulary() -> _Vocabulary:
    # faker's en_US name data (names weighted by how common they are), read once per
    # process. A name is then a few seeded picks, a few microseconds; seeding a Faker
    # and running its format templates cost about 0.1 ms a name, twice a world.
    from faker.providers.company.en_US import Provider as Company
    from faker.providers.person.en_US import Provider as Person

    return _Vocabulary(
        first_names=_Words.weighted(Person.first_names),
        last_names=_Words.weighted(Person.last_names),
        company_suffixes=tuple(Company.company_suffixes),
    )


def _company(words: _Vocabulary, rng: random.Random) -> str:
    # The three shapes of faker's en_US company names, equally likely as there.
    last = words.last_names
    shape = rng.randrange(3)
    if shape == 0:
        return f"{last.pick(rng)} {rng.choice(words.company_suffixes)}"
    if shape == 1:
        return f"{last.pick(rng)}-{last.pick(rng)}"
    return f"{last.pick(rng)}, {last.pick(rng)} and {last.pick(rng)}"


def _person(words: _Vocabulary, rng: random.Random) -> str:
    return f"{words.first_names.pick(rng)} {words.last_names.pick(rng)}"


class IdState(NamedTuple):
    """Where an :class:`IdFactory` is in its sequence: enough to carry on exactly there."""

    rng: tuple[Any, ...]
    """The generator's ``random.Random.getstate()``."""
    names: int
    """How many names it has generated."""


class IdFactory:
    """Mint canonical UUIDs, secrets and names from one seed, in call order."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        # Seeding runs the generator's whole seeding routine; a fake per test seeds the
        # same few seeds again and again, so each seed's state is kept and copied in.
        self._rng = random.Random.__new__(random.Random)
        self._rng.setstate(_seeded(seed))
        # Bound once: a completed run mints four ids (``restore`` reseeds this same rng).
        self._bits = self._rng.getrandbits
        self._names = 0
        self._taken: frozenset[str] = frozenset()

    def state(self) -> IdState:
        """Return where the sequence is, for :meth:`restore` (a snapshot keeps it)."""
        return IdState(self._rng.getstate(), self._names)

    def restore(self, state: IdState) -> None:
        """Continue the sequence from ``state``, as taken by :meth:`state`."""
        self._rng.setstate(state.rng)
        self._names = state.names

    def reserve(self, taken: Iterable[str]) -> None:
        """Never mint an id of ``taken``: those a loaded scenario holds already.

        A snapshot's generator state continues past every id it minted, but a document
        edited by hand may not (a state copied from an older snapshot, or none): a draw
        that repeats a held id is drawn again, rather than overwrite what holds it.
        """
        self._taken = frozenset(taken)

    def uuid(self) -> str:
        """Return a canonical, lowercase, dashed version-4 UUID."""
        return uuid_text(self.uuid_bits())

    def uuid_bits(self) -> int:
        """Draw the next version-4 UUID as its 128 bits; :func:`uuid_text` formats them.

        The draw is the one :meth:`uuid` makes: what is drawn after it is the same
        whenever the bits are formatted (a catch-up formats no id no one has read).
        """
        bits = (self._bits(128) & _UUID_KEEP) | _UUID_SET
        while self._taken and uuid_text(bits) in self._taken:
            bits = (self._bits(128) & _UUID_KEEP) | _UUID_SET
        return bits

    def hex(self, length: int = 32) -> str:
        """Return ``length`` lowercase hex characters."""
        return f"{self._bits(4 * length):0{length}x}"

    def noise_seed(self) -> int:
        return self._bits(64)

    def company(self) -> str:
        """Return a realistic organization name (faker's en_US data, seeded per call)."""
        return self._named(_company)

    def person(self) -> str:
        """Return a realistic person's full name (faker's en_US data, seeded per call)."""
        return self._named(_person)

    def _named(self, make: Callable[[_Vocabulary, random.Random], str]) -> str:
        # Seeded per call from the seed and a counter, so one world's names do not
        # depend on what other worlds in the process generated before it.
        self._names += 1
        return _name(make, self._seed, self._names)


@lru_cache(maxsize=64)
def _seeded(seed: int) -> tuple[Any, ...]:
    """The state ``random.Random(seed)`` starts in."""
    return random.Random(seed).getstate()


@lru_cache(maxsize=1024)
def _name(make: Callable[[_Vocabulary, random.Random], str], seed: int, count: int) -> str:
    # Kept: every world of a seed names its first organization and owner alike, and a
    # fake per test would otherwise seed a generator for each.
    return make(_vocabulary(), random.Random(splitmix64(seed * 1_000_003 + count)))
