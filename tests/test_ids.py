"""Seeded ids: UUIDs formatted by hand are the ones ``uuid.UUID`` would give, whenever formatted."""

from __future__ import annotations

import random
import uuid

from hypothesis import given
from hypothesis import strategies as st

from pictograph_testing.world.ids import IdFactory, uuid_text


def test_minted_uuids_are_the_canonical_version_4_uuids_of_the_same_random_bits() -> None:
    for seed in (0, 1, 7, 2**40 + 3):
        ids, bits = IdFactory(seed), random.Random(seed)
        for _ in range(2000):
            minted = ids.uuid()
            expected = uuid.UUID(int=bits.getrandbits(128), version=4)
            assert minted == str(expected)
            assert uuid.UUID(minted).version == 4
            assert uuid.UUID(minted).variant == uuid.RFC_4122


@given(seed=st.integers(min_value=0, max_value=2**64), draws=st.lists(st.booleans(), max_size=40))
def test_bits_drawn_now_and_formatted_later_are_the_uuid_of_that_draw(
    seed: int, draws: list[bool]
) -> None:
    # Each draw is either formatted at once or kept as bits and formatted at the end:
    # the ids, and every draw after them, are those of a factory formatting them all.
    eager, lazy = IdFactory(seed), IdFactory(seed)
    minted = [eager.uuid() for _ in draws]
    kept = [lazy.uuid_bits() if later else lazy.uuid() for later in draws]

    assert [uuid_text(k) if isinstance(k, int) else k for k in kept] == minted
    assert lazy.uuid() == eager.uuid()
    assert lazy.state() == eager.state()
