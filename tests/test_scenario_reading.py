"""Scenarios: what a document leaves out, how files and names are read, and what is refused.

Each test pins a rule of ``pictograph_testing.scenarios`` a mutation run found no test
holding: the defaults a short hand-written scenario takes, the folders and names a lookup
accepts, and the messages a bad file gets.
"""

from __future__ import annotations

import math
import re
import types
from pathlib import Path
from typing import Any

import pytest
from pictograph.exceptions import ConflictError

from pictograph_testing import FakePictograph
from pictograph_testing.bounds import MAX_JSON_DEPTH
from pictograph_testing.scenarios import (
    SCHEMA_VERSION,
    UnknownScenario,
    available_scenarios,
    load_scenario,
    named_scenario,
    save_scenario,
)
from tests.image_files import write_image

BARE: dict[str, Any] = {"schema_version": SCHEMA_VERSION}


def _scenario(**parts: Any) -> dict[str, Any]:
    return {**BARE, **parts}


# ── what a hand-written scenario leaves out ──


def test_a_scenario_without_settings_takes_the_fake_s_own() -> None:
    # Seed 0, classic, $100: what a fake without a scenario takes.
    with FakePictograph(scenario=BARE) as fake, fake.client(max_retries=0) as client:
        assert (fake.seed, fake.profile, fake.balance_usd) == (0, "classic", 100.0)
        assert client.credits.balance().included_allowance_micro_usd == 100_000_000
    with FakePictograph() as plain, FakePictograph(scenario=BARE) as loaded:
        assert loaded.world.ids.uuid() == plain.world.ids.uuid()


def test_people_and_keys_by_hand_without_a_role_are_members() -> None:
    document = _scenario(
        members=[{"email": "owner@example.com", "role": "owner"}, {"email": "m@example.com"}],
        invites=[{"email": "new@example.com"}],
        api_keys=[{"role": "owner", "name": "me"}, {"name": "ci"}],
    )
    with FakePictograph(scenario=document) as fake, fake.client(max_retries=0) as client:
        assert [m.role for m in client.organizations.list_members()] == ["owner", "member"]
        assert [i.role for i in client.organizations.list_invites()] == ["member"]
        # The scenario's keys replace the world's own: these two and no other.
        keys = {k.name: k.role for k in client.api_keys.list()}
        assert keys == {"me": "owner", "ci": "member"}


def test_a_loaded_document_is_the_one_checked_whatever_the_caller_changes_after() -> None:
    document = _scenario(seed=4)
    scenario = load_scenario(document)
    document["seed"] = "not a seed"
    assert scenario.seed == 4
    # Any mapping will do, and what is kept is a plain dict.
    proxied = load_scenario(types.MappingProxyType(_scenario(seed=4)))
    assert type(proxied.document) is dict
    assert proxied.seed == 4


def test_a_document_s_own_name_names_the_scenario() -> None:
    assert load_scenario(_scenario(name="mine")).name == "mine"
    with pytest.raises(ValueError, match=re.escape("scenario 'mine', organization")):
        FakePictograph(scenario=_scenario(name="mine", organization={"subscription_tier": "x"}))


@pytest.mark.parametrize("version", [0, -1, 2])
def test_only_the_schema_version_this_release_reads_is_read(version: int) -> None:
    with pytest.raises(ValueError, match=f"has schema_version {version};"):
        load_scenario(_scenario(schema_version=version))


# ── files and folders ──


def _folder(tmp_path: Path, *names: str) -> Path:
    """A scenario folder holding a bare scenario under each name."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    for name in names:
        (folder / name).write_text('{"schema_version": 1}')
    return folder


def test_only_files_with_loadable_names_are_listed(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "mine.json", "two words.json", ".hidden.json", "notes.txt")
    # A folder named like a scenario is no scenario: listed as none, looked up as none.
    (folder / "folder.json").mkdir()
    listed = available_scenarios([folder])
    assert "mine" in listed
    assert not {"two words", ".hidden", "notes", "notes.txt", "folder"} & set(listed)
    with pytest.raises(UnknownScenario) as unknown:
        named_scenario("folder", directories=[folder])
    # The known names are the call's own folders' too.
    assert "mine" in unknown.value.known
    assert "'mine'" not in unknown.value.public  # names are listed bare, comma-separated
    assert re.search(r"known scenarios: .*\bmine\b", unknown.value.public)


def test_a_folder_given_twice_is_searched_and_named_once(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "mine.json")
    with pytest.raises(UnknownScenario) as unknown:
        FakePictograph(scenario="nope", scenario_dirs=[folder, folder])
    assert unknown.value.searched.count(folder) == 1
    assert str(unknown.value).count(str(folder)) == 1


@pytest.mark.parametrize(
    "name", ["ready-to-train/../ready-to-train", "ready-to-train\n", "r" * 101, ".ready"]
)
def test_a_name_is_refused_unless_all_of_it_is_a_name(name: str) -> None:
    # A name that only begins as one would reach outside its folder.
    with pytest.raises(ValueError, match="is not a scenario name"):
        named_scenario(name)


def test_a_path_to_a_folder_is_no_scenario_file(tmp_path: Path) -> None:
    (tmp_path / "folder.json").mkdir()
    with pytest.raises(ValueError, match=r"no scenario file at .*folder\.json"):
        FakePictograph(scenario=tmp_path / "folder.json")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1]", "must hold a JSON object"),
        ('"ready-to-train"', "must hold a JSON object"),
        ('{"schema_version": NaN}', "holds the number NaN"),
        ('{"schema_version": 1, "seed": -Infinity}', "holds the number -Infinity"),
        ('{"schema_version": 1, "name": "\\ud800"}', "The file holds text that is not valid"),
        # Deeper than Python's own stack reads: refused in words, not a RecursionError.
        ('{"x": ' + "[" * 100_000 + "]" * 100_000 + "}", "The file nests arrays and objects"),
    ],
)
def test_a_file_that_is_json_but_no_scenario_says_why(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=re.escape(message)) as refused:
        FakePictograph(scenario=path)
    # The file's fault, in the words of a file: no request was sent.
    assert "request body" not in str(refused.value)
    assert "send" not in str(refused.value)


def _nested(depth: int) -> list[object]:
    """A list ``depth`` lists deep."""
    nested: list[object] = []
    for _ in range(depth - 1):
        nested = [nested]
    return nested


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"schema_version": 1, "seed": math.nan}, "The document holds the number nan"),
        ({"schema_version": 1, "name": "\ud800"}, "The document holds text that is not valid"),
        (
            {"schema_version": 1, "description": _nested(MAX_JSON_DEPTH)},
            f"The document nests arrays and objects deeper than {MAX_JSON_DEPTH} levels",
        ),
    ],
)
def test_a_document_the_fake_cannot_hold_says_why_in_the_words_of_a_document(
    document: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as refused:
        FakePictograph(scenario=document)
    assert str(refused.value).startswith("scenario '<document>': ")
    # Given as a dict, the scenario came in no request body.
    assert "request body" not in str(refused.value)


def test_a_file_that_is_not_utf_8_says_so(tmp_path: Path) -> None:
    path = tmp_path / "latin.json"
    path.write_bytes('{"schema_version": 1, "name": "café"}'.encode("latin-1"))
    with pytest.raises(ValueError, match=r"not valid JSON: the file is not UTF-8") as refused:
        FakePictograph(scenario=path)
    assert "request body" not in str(refused.value)


# ── datasets written by hand ──


def test_a_dataset_by_hand_keeps_what_it_declares_and_defaults_the_rest() -> None:
    declared = {
        "name": "declared",
        "storage_class": "coldline",
        "cold_since": 5.0,
        "license_id": "cc-by-4.0",
        "star_count": 3,
        "auto_tags": ["outdoor"],
        "imported_from": "coco",
        "visibility": "public",
        "published_at": 7.0,
    }
    document = _scenario(datasets=[declared, {"name": "plain"}])
    with FakePictograph(scenario=document) as fake, fake.client(max_retries=0) as client:
        cold, plain = client.datasets.get("declared"), client.datasets.get("plain")
        assert (cold.storage_class, cold.is_public) == ("coldline", True)
        # What a dataset made without classes gets, as the API's own create gives it.
        assert plain.annotation_types == ["bbox"]
        assert [(c.name, c.type) for c in plain.classes] == [("object", "bbox")]
        assert (plain.storage_class, plain.is_public) == ("standard", False)
        assert [row.name for row in client.explore.datasets()] == ["declared"]
        saved = {d["name"]: d for d in fake.snapshot()["datasets"]}
    assert {k: saved["declared"][k] for k in declared} == declared
    assert [saved["plain"][k] for k in ("cold_since", "published_at", "license_id")] == [None] * 3


def test_images_exports_and_synthetic_images_by_hand_take_the_api_s_defaults() -> None:
    dataset = {
        "name": "d",
        "images": [{"filename": "A.PNG"}, {"filename": "b.jpeg"}],
        # Every image complete, each with the default two annotations.
        "synthetic_images": {"count": 2, "complete": 2},
        "exports": [{"name": "e"}],
    }
    with FakePictograph(scenario=_scenario(datasets=[dataset])) as fake:
        with fake.client(max_retries=0) as client:
            images = {i.filename: i for i in client.images.list("d")}
            export = client.exports.get("d", "e")
        saved = fake.snapshot()["datasets"][0]["exports"][0]
    # The type is the suffix's, whatever its case.
    assert images["A.PNG"].content_type == "image/png"
    assert images["b.jpeg"].content_type == "image/jpeg"
    synthetic = [i for name, i in images.items() if name not in ("A.PNG", "b.jpeg")]
    assert [(i.status, i.annotation_count) for i in synthetic] == [("complete", 2)] * 2
    assert (export.format, export.include_images, export.status) == (
        "pictograph",
        False,
        "completed",
    )
    assert (export.status_filter, export.class_filter, saved["job"]["organize_by_split"]) == (
        None,
        None,
        False,
    )


@pytest.mark.parametrize(("count", "complete"), [(2, 0), (2, 2), (0, 0)])
def test_synthetic_images_may_be_none_or_all_complete(count: int, complete: int) -> None:
    synthetic = {"count": count, "complete": complete}
    document = _scenario(datasets=[{"name": "d", "synthetic_images": synthetic}])
    with FakePictograph(scenario=document) as fake, fake.client(max_retries=0) as client:
        dataset = client.datasets.get("d")
        assert (dataset.image_count, dataset.completed_image_count) == (count, complete)


# ── snapshots ──


def test_a_snapshot_loads_back_with_the_fake_s_settings_and_time() -> None:
    with FakePictograph(seed=3, profile="current", balance_usd=12.5) as original:
        original.clock.advance(seconds=90)
        saved = original.snapshot()
        settings = (original.seed, original.profile, original.balance_usd, original.clock.now())
    assert (saved["seed"], saved["profile"], saved["balance_usd"]) == (3, "current", 12.5)
    with FakePictograph(scenario=saved) as loaded:
        assert (loaded.seed, loaded.profile, loaded.balance_usd, loaded.clock.now()) == settings
        assert loaded.snapshot() == saved


def test_images_with_and_without_ids_load_side_by_side() -> None:
    given = "0b8a5d2e-6f1c-4c3a-9d7e-2a4b6c8d0e1f"
    images = [{"id": given, "filename": "kept.jpg"}, {"filename": "minted.jpg"}]
    document = _scenario(datasets=[{"name": "d", "images": images}])
    with FakePictograph(scenario=document) as fake, fake.client(max_retries=0) as client:
        ids = {i.filename: i.id for i in client.images.list("d")}
    assert ids.keys() == {"kept.jpg", "minted.jpg"}
    assert ids["kept.jpg"] == given != ids["minted.jpg"]


def test_images_with_ids_keep_the_document_s_order_not_the_one_adding_gives() -> None:
    # Added at one instant, images fall in path order; a saved order is kept as saved.
    images = [
        {"id": "0b8a5d2e-6f1c-4c3a-9d7e-2a4b6c8d0e1f", "filename": "z.jpg"},
        {"id": "1c9b6e3f-7a2d-4d4b-8e8f-3b5c7d9e1f2a", "filename": "a.jpg"},
    ]
    document = _scenario(datasets=[{"name": "d", "images": images}])
    with FakePictograph(scenario=document) as fake, fake.client(max_retries=0) as client:
        listed = [i.filename for i in client.images.list("d")]
        saved = [i["filename"] for i in fake.snapshot()["datasets"][0]["images"]]
    assert saved == ["z.jpg", "a.jpg"]
    assert listed == ["a.jpg", "z.jpg"]  # newest first: the last in the saved order


def test_the_key_marked_default_and_the_exports_order_survive_a_snapshot(tmp_path: Path) -> None:
    keys = [{"role": "owner", "name": "first"}, {"role": "owner", "name": "mine", "default": True}]
    exports = [{"name": "zeta"}, {"name": "alpha"}]
    document = _scenario(api_keys=keys, datasets=[{"name": "d", "exports": exports}])
    with FakePictograph(scenario=document) as fake, fake.client(max_retries=0) as client:
        first = (fake.api_key, [e.name for e in client.exports.list()])
        path = save_scenario(fake.world, tmp_path / "saved" / "world.json")
    # Written as a text file is: whole lines.
    assert path.read_text(encoding="utf-8").endswith("}\n")
    with FakePictograph(scenario=path) as fake, fake.client(max_retries=0) as client:
        assert (fake.api_key, [e.name for e in client.exports.list()]) == first
    assert fake.world.default_key.name == "mine"


def test_a_dataset_by_hand_imported_from_another_counts_as_its_fork() -> None:
    with FakePictograph() as original:
        original.add_dataset("src")
        document = original.snapshot()
    source = document["datasets"][0]["id"]
    document["datasets"].append({"name": "copy", "imported_from": source})
    # A fork shares its source's files: the source cannot be frozen while it has one.
    fake = FakePictograph(scenario=document)
    with fake, fake.client(max_retries=0) as client, pytest.raises(ConflictError) as refused:
        client.datasets.freeze("src")
    assert "has forks (1 imported copy shares its files)" in refused.value.message


def test_without_a_key_marked_default_the_first_owner_key_is_the_fake_s() -> None:
    keys = [
        {"role": "viewer", "name": "ci", "default": False},
        {"role": "owner", "name": "first"},
        {"role": "owner", "name": "second", "default": False},
    ]
    with FakePictograph(scenario=_scenario(api_keys=keys)) as fake:
        assert fake.world.default_key.name == "first"
        [first] = [k for k in fake.world.api_keys.values() if k.name == "first"]
        assert fake.api_key == first.key


def test_a_loaded_snapshot_gives_a_path_an_image_left_a_new_id_as_the_world_did(
    tmp_path: Path,
) -> None:
    # An upload's id derives from how many uploads came to its path before: a snapshot
    # keeps the counts, so the loaded world never hands out a deleted image's id again
    # and goes on as the world it was taken from.
    picture = write_image(tmp_path / "a.png")
    with FakePictograph(seed=3) as fake, fake.client(max_retries=0) as client:
        client.datasets.create("lot", classes=[{"name": "x", "type": "bbox"}])
        gone = client.images.upload("lot", picture)
        client.images.delete("lot", gone.id, permanent=True)
        snapshot = fake.snapshot()
        again = client.images.upload("lot", picture)
    with FakePictograph(scenario=snapshot) as loaded, loaded.client(max_retries=0) as client:
        reloaded = client.images.upload("lot", picture)
    assert again.id != gone.id
    assert reloaded.id == again.id
