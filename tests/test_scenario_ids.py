"""Two records of one id in a scenario are refused, naming both, before anything loads.

The world keeps datasets, images, exports, API keys, ledger entries and notifications
each in one table by id: a hand-edited snapshot that gave two of them one id used to load,
one record silently replacing (or mixing with) the other, so the SDK then saw datasets
that each held the other's images. Likewise an exact ledger entry whose
``balance_after`` does not follow from the entry before it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import pytest

from pictograph_testing import FakePictograph


@pytest.fixture(scope="module")
def saved() -> dict[str, Any]:
    with FakePictograph(seed=3) as fake:
        fake.add_dataset("birds", images=3, completed_images=3)
        fake.add_dataset("fish", images=2, completed_images=2)
        fake.add_export("birds", "birds-v1")
        fake.add_export("fish", "fish-v1")
        fake.add_api_key("viewer")
        return fake.snapshot()


def _same_image_id(document: dict[str, Any]) -> None:
    birds, fish = document["datasets"]
    old, new = fish["images"][0]["id"], birds["images"][0]["id"]
    fish["images"][0]["id"] = new
    export = fish["exports"][0]
    export["image_ids"] = [new if i == old else i for i in export["image_ids"]]


def _ledger(document: dict[str, Any]) -> None:
    entry = {
        "id": "entry-1",
        "operation": "top_up",
        "amount": 5,
        "balance_after": 100_000_005,
        "description": "Top-up",
        "metadata": None,
        "created_at": 0.0,
    }
    second = {**entry, "balance_after": 100_000_010}
    document["ledger"] = [entry, second]


CLASHES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    (
        "datasets",
        lambda d: d["datasets"][1].update(id=d["datasets"][0]["id"]),
        "datasets[1].id {} is also datasets[0]'s",
    ),
    ("images", _same_image_id, "datasets[1].images[0].id {} is also datasets[0].images[0]'s"),
    (
        "exports",
        lambda d: d["datasets"][1]["exports"][0].update(id=d["datasets"][0]["exports"][0]["id"]),
        "datasets[1].exports[0].id {} is also datasets[0].exports[0]'s",
    ),
    (
        "api keys",
        lambda d: d["api_keys"][1].update(key_id=d["api_keys"][0]["key_id"]),
        "api_keys[1].key_id {} is also api_keys[0]'s",
    ),
    ("ledger", _ledger, "ledger[1].id {} is also ledger[0]'s"),
]


@pytest.mark.parametrize(("part", "clash", "message"), CLASHES, ids=[c[0] for c in CLASHES])
def test_two_records_of_one_id_are_refused_naming_both(
    saved: dict[str, Any], part: str, clash: Callable[[dict[str, Any]], None], message: str
) -> None:
    document = copy.deepcopy(saved)
    clash(document)
    pattern = re.escape(message).replace(r"\{\}", "'[^']+'")
    with pytest.raises(ValueError, match=pattern + ": each [a-z_]+ names one record"):
        FakePictograph(scenario=document)


def test_notifications_of_one_id_are_refused() -> None:
    note = {
        "id": "n-1",
        "seq": 1,
        "type": "export_completed",
        "title": "Export ready",
        "message": "",
        "metadata": {},
        "user_id": None,
        "read": False,
        "created_at": 0.0,
    }
    document = {"schema_version": 1, "notifications": [note, {**note, "seq": 2}]}
    with pytest.raises(ValueError, match=re.escape("notifications[1].id 'n-1' is also")):
        FakePictograph(scenario=document)


def test_the_snapshot_itself_loads_and_answers_alike(saved: dict[str, Any]) -> None:
    with FakePictograph(scenario=copy.deepcopy(saved)) as fake:
        client = fake.client()
        counts = {d.name: d.image_count for d in client.datasets.list()}
        exports = sorted(e.name for e in client.exports.list())
    assert counts == {"birds": 3, "fish": 2}
    assert exports == ["birds-v1", "fish-v1"]


def _entry(entry_id: str, amount: int, balance_after: int) -> dict[str, Any]:
    return {
        "id": entry_id,
        "operation": "top_up" if amount > 0 else "training_a100_per_minute",
        "amount": amount,
        "balance_after": balance_after,
        "description": "",
        "metadata": None,
        "created_at": 0.0,
    }


@pytest.mark.parametrize(
    ("ledger", "message"),
    [
        # The first entry starts from the allowance plus the budget ($100 + $0).
        ([_entry("a", -5, 77)], "ledger[0].balance_after must be 99999995"),
        ([_entry("a", -5, 99_999_995), _entry("b", 10, 5)], "ledger[1].balance_after must be"),
    ],
)
def test_an_exact_ledger_entry_must_follow_from_the_one_before(
    saved: dict[str, Any], ledger: list[dict[str, Any]], message: str
) -> None:
    document = {**copy.deepcopy(saved), "ledger": ledger}
    with pytest.raises(ValueError, match=re.escape(message)):
        FakePictograph(scenario=document)


def test_a_consistent_exact_ledger_loads_and_reads_back(saved: dict[str, Any]) -> None:
    ledger = [_entry("a", -5, 99_999_995), _entry("b", 10, 100_000_005)]
    with FakePictograph(scenario={**copy.deepcopy(saved), "ledger": ledger}) as fake:
        balance = fake.client().credits.balance()
    assert balance.included_remaining_micro_usd == 100_000_005
    assert [e.balance_after for e in balance.recent_history] == [100_000_005, 99_999_995]
