"""Seeded ids: UUIDs formatted by hand are the ones ``uuid.UUID`` would give."""

from __future__ import annotations

import random
import uuid

from pictograph_testing.world.ids import IdFactory


def test_minted_uuids_are_the_canonical_version_4_uuids_of_the_same_random_bits() -> None:
    for seed in (0, 1, 7, 2**40 + 3):
        ids, bits = IdFactory(seed), random.Random(seed)
        for _ in range(2000):
            minted = ids.uuid()
            expected = uuid.UUID(int=bits.getrandbits(128), version=4)
            assert minted == str(expected)
            assert uuid.UUID(minted).version == 4
            assert uuid.UUID(minted).variant == uuid.RFC_4122
