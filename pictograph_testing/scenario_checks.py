"""Check a scenario document whole, before anything of it is built.

A scenario either loads whole or not at all: :func:`check_document` walks every record
against the entity it becomes (the dataclass field types of ``world.state`` and the
export and notification records), the bounds of :mod:`pictograph_testing.bounds`, and
the rules the API applies to the same values (class definitions, annotations, image
statuses and splits), and raises ``ValueError`` naming the first problem. Only then does
:class:`~pictograph_testing.scenarios.Scenario` build anything.
"""

from __future__ import annotations

import dataclasses
import functools
import random
import types
import typing
from typing import TYPE_CHECKING, Any, Literal, get_args, get_origin

from pictograph_testing.api import strict_json
from pictograph_testing.bounds import (
    EARLIEST_START,
    LATEST_INSTANT,
    MAX_BALANCE_USD,
    MAX_SCENARIO_ANNOTATIONS,
    MAX_SCENARIO_COUNT,
    MAX_SEED,
)
from pictograph_testing.catalog import NAME_LIMIT, PROFILES
from pictograph_testing.world.annotations import canonical_annotations
from pictograph_testing.world.cold_storage import STORAGE_CLASSES, STORAGE_STATES
from pictograph_testing.world.datasets import check_annotation_types, check_classes
from pictograph_testing.world.entities import (
    IMAGE_STATUSES,
    ApiKey,
    Dataset,
    Directory,
    Export,
    Image,
    LedgerEntry,
    Organization,
)
from pictograph_testing.world.errors import ApiRefusal
from pictograph_testing.world.exports import (
    EXPORT_FORMATS,
    EXPORT_STATUSES,
    KEPT,
    REMOVED,
    ExportJob,
)
from pictograph_testing.world.feeds import Notification
from pictograph_testing.world.images import check_filename, directory_path, split_path
from pictograph_testing.world.members import Invite, Member, check_invite_role, checked_email

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

__all__ = ["MAX_SAFE_INTEGER", "check_document", "start_of"]

MAX_SAFE_INTEGER = 2**53
"""The largest whole number a scenario may hold (what every JSON parser reads exactly)."""

_SPLITS = ("train", "val", "test", None)
_NOT_TIMES = frozenset({"confidence"})

# What a record made by hand is made from (``scenarios._Builder``): the API's own calls
# take these, and the world fills in the rest as they do.
_MEMBER_BY_HAND = frozenset({"email", "role", "full_name"})
_INVITE_BY_HAND = frozenset({"email", "role"})
_KEY_BY_HAND = frozenset({"role", "name", "rate_limit", "expires_at"})
_ENTRY_BY_HAND = frozenset({"operation", "amount", "description", "metadata"})
_DATASET_BY_HAND = frozenset(
    {
        "name",
        "annotation_types",
        "classes",
        "description",
        "readme",
        "storage_class",
        "storage_state",  # only `idle` by hand, which `storage` says in its own words
        "cold_since",
        "license_id",
        "star_count",
        "auto_tags",
        "imported_from",
        "visibility",
        "published_at",
    }
)
_EXPORT_BY_HAND = frozenset(
    {"name", "format", "include_images", "status_filter", "class_filter", "status"}
)
_EXACT_KEY: dict[type, str] = {ApiKey: "key"}


class _Problem(ValueError):
    pass


def start_of(document: Mapping[str, Any]) -> datetime:
    """The instant a document's clock starts at (``clock.start``), checked."""
    from pictograph_testing.clock import DEFAULT_START, parse_timestamp

    clock = document.get("clock") or {}
    text = clock.get("start") if isinstance(clock, dict) else None
    if text is None:
        return DEFAULT_START
    if not isinstance(text, str):
        raise _Problem(f"clock.start must be an ISO-8601 timestamp, got {text!r}")
    try:
        moment = parse_timestamp(text)
    except ValueError:
        raise _Problem(f"clock.start must be an ISO-8601 timestamp, got {text!r}") from None
    if not EARLIEST_START <= moment < LATEST_INSTANT:
        raise _Problem(
            f"clock.start must be from {EARLIEST_START.date()} and before "
            f"{LATEST_INSTANT.date()}, got {text!r}"
        )
    return moment


def check_document(document: Mapping[str, Any], name: str) -> None:
    """Raise ``ValueError`` (``scenario 'name': where: what``) unless the whole document
    can be built into a world that answers every route."""
    try:
        # Said of the document: a scenario given as a dict was sent in no request body.
        strict_json.check(dict(document), "The document")
        _Checker(start_of(document)).document(document)
    except (_Problem, strict_json.UnfitJson) as problem:
        raise ValueError(f"scenario {name!r}: {problem}") from None


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _required(cls: type) -> frozenset[str]:
    return frozenset(
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    )


def _fits(value: Any, hint: Any) -> bool:
    """Whether a JSON value has the shape a field of type ``hint`` holds."""
    if hint is Any:
        return True
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, arm) for arm in get_args(hint))
    if origin is Literal:
        return any(value == arm and type(value) is type(arm) for arm in get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin in (list, tuple):
        args = [a for a in get_args(hint) if a is not Ellipsis]
        return isinstance(value, list) and all(_fits(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(isinstance(k, str) for k in value)
    return False


class _Checker:
    """Walk one document; ``start`` bounds its times."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        # Virtual seconds a time may take: none before the earliest start, none at or
        # after the latest instant.
        self.earliest = (EARLIEST_START - start).total_seconds()
        self.latest = (LATEST_INSTANT - start).total_seconds()
        # Synthetic images and their annotations asked for so far, all datasets together.
        self.synthetic_images = 0
        self.synthetic_annotations = 0

    # ── the parts ──

    def document(self, document: Mapping[str, Any]) -> None:
        for key in ("name", "description"):
            if key in document and not isinstance(document[key], str):
                raise _Problem(f"{key} must be a string")
        profile = document.get("profile", "classic")
        if not isinstance(profile, str) or profile not in PROFILES:
            raise _Problem(f"profile must be one of {', '.join(sorted(PROFILES))}")
        self.whole(document.get("seed", 0), "seed", low=0, high=MAX_SEED)
        self.number(document.get("balance_usd", 100.0), "balance_usd", low=0, high=MAX_BALANCE_USD)
        clock = self.mapping(document.get("clock", {}), "clock", {"start", "elapsed_seconds"})
        elapsed = clock.get("elapsed_seconds", 0.0)
        self.number(elapsed, "clock.elapsed_seconds", low=0, high=self.latest)
        if elapsed >= self.latest:
            raise _Problem("clock.elapsed_seconds takes the clock past its latest instant")
        if "organization" in document:
            organization = document["organization"]
            self.record(organization, Organization, "organization", full=False)
            if "name" in organization and not organization["name"].strip():
                raise _Problem("organization.name must not be blank")
            # As balance_usd: an allowance or budget below zero reads back as overspent.
            for key in ("allowance_micro_usd", "budget_micro_usd"):
                if key in organization:
                    self.whole(organization[key], f"organization.{key}", low=0, high=10**15)
        if "members" in document:
            self.members(self.items(document["members"], "members"))
        invites = self.items(document.get("invites", []), "invites")
        for i, invite in enumerate(invites):
            self.person(invite, Invite, f"invites[{i}]")
        self.unique(invites, "invites", "id")
        # One pending invite per address (the API answers 409 to a second one).
        _unique(
            (
                (f"invites[{i}]", {"email": str(invite["email"]).strip().lower()})
                for i, invite in enumerate(invites)
                if invite.get("status", "pending") == "pending"
            ),
            "email",
            what="pending invite",
        )
        keys = self.items(document.get("api_keys", []), "api_keys")
        for i, entry in enumerate(keys):
            self.api_key(entry, f"api_keys[{i}]")
        texts = [k.get("key") for k in keys if "key" in k]
        if len(set(texts)) != len(texts):
            raise _Problem("api_keys: two keys have the same text")
        self.unique(keys, "api_keys", "key_id")
        marked = [i for i, k in enumerate(keys) if k.get("default")]
        if len(marked) > 1:
            raise _Problem(
                f"api_keys[{marked[0]}] and api_keys[{marked[1]}] are both marked default: "
                "the fake's own clients use one key, so mark one"
            )
        ledger = self.items(document.get("ledger", []), "ledger")
        for i, entry in enumerate(ledger):
            self.ledger_entry(entry, f"ledger[{i}]")
        self.unique(ledger, "ledger", "id")
        self.balances(ledger, document.get("organization", {}))
        names: set[str] = set()
        datasets = self.items(document.get("datasets", []), "datasets")
        for i, dataset in enumerate(datasets):
            self.dataset(dataset, f"datasets[{i}]")
            if dataset["name"] in names:
                raise _Problem(f"datasets[{i}]: a dataset named {dataset['name']!r} already exists")
            names.add(dataset["name"])
        # The world keeps datasets, images and exports each in one table by id: two
        # records of one id would leave one of them (or a mix of both) behind.
        self.unique(datasets, "datasets", "id")
        for part in ("images", "exports"):
            _unique(
                (
                    (f"datasets[{i}].{part}[{j}]", record)
                    for i, dataset in enumerate(datasets)
                    for j, record in enumerate(dataset.get(part, []))
                ),
                "id",
            )
        notes = self.items(document.get("notifications", []), "notifications")
        for i, note in enumerate(notes):
            self.record(note, Notification, f"notifications[{i}]", skip={"organization_id"})
        self.unique(notes, "notifications", "id")
        failures = document.get("pending_export_failures", [])
        if not isinstance(failures, list) or not all(isinstance(f, str) for f in failures):
            raise _Problem("pending_export_failures must be a list of strings")
        if "ids" in document:
            self.ids(document["ids"])

    def members(self, records: list[dict[str, Any]]) -> None:
        """The roster that replaces the founder's: each member whole, one an owner."""
        for i, member in enumerate(records):
            self.person(member, Member, f"members[{i}]")
        if not any(m.get("role", "member") == "owner" for m in records):
            raise _Problem("members needs at least one member whose role is 'owner'")
        for key in ("id", "user_id", "email"):
            self.unique(records, "members", key)

    def person(self, record: dict[str, Any], cls: type, where: str) -> None:
        """A member or an invite: exact (with ``id``, every field) or by hand (an email)."""
        full = "id" in record
        by_hand_invite = cls is Invite and not full
        if by_hand_invite and isinstance(record.get("role"), str):
            # The API's own words: an owner is promoted once the invite is accepted.
            self.refusal(f"{where}.role", check_invite_role, record["role"], no_location=True)
        by_hand = _INVITE_BY_HAND if cls is Invite else _MEMBER_BY_HAND
        self.record(record, cls, where, skip={"organization_id"}, full=full, by_hand=by_hand)
        email = record.get("email")
        if not full and email is None:
            raise _Problem(f"{where}: a required key is missing: 'email'")
        if email is not None:
            self.refusal(f"{where}.email", lambda: checked_email(email), no_location=True)

    def unique(self, records: list[dict[str, Any]], where: str, key: str) -> None:
        """Each record's ``key`` names one record only: the world indexes them by it."""
        _unique(((f"{where}[{i}]", r) for i, r in enumerate(records)), key)

    def api_key(self, record: Any, where: str) -> None:
        self.record(
            record,
            ApiKey,
            where,
            skip={"organization_id"},
            extra={"default": bool},
            full="key" in record if isinstance(record, dict) else False,
            by_hand=_KEY_BY_HAND,
        )
        if "key" in record and not record["key"].strip():
            raise _Problem(f"{where}.key must not be blank")
        if record.get("rate_limit") is not None:
            self.whole(record["rate_limit"], f"{where}.rate_limit", low=1)

    def ledger_entry(self, record: Any, where: str) -> None:
        full = isinstance(record, dict) and "id" in record
        self.record(
            record, LedgerEntry, where, skip={"organization_id"}, full=full, by_hand=_ENTRY_BY_HAND
        )
        if not full:
            for key in ("operation", "amount"):
                if key not in record:
                    raise _Problem(f"{where}: a required key is missing: {key!r}")

    def balances(self, ledger: list[dict[str, Any]], organization: dict[str, Any]) -> None:
        """Each exact entry's ``balance_after`` is the one before it plus its amount, as the
        ledger writes it (``credits.balance()`` and ``history()`` read it from the last).

        Before the first entry the balance is the allowance plus the budget, when the
        document gives the allowance (a snapshot does); else the fake's arguments may set
        it, and the first entry is taken as written.
        """
        balance: int | None = None
        if "allowance_micro_usd" in organization:
            balance = organization["allowance_micro_usd"] + organization.get("budget_micro_usd", 0)
        for i, entry in enumerate(ledger):
            after = entry.get("balance_after")
            if after is None:  # by hand: computed on loading
                balance = None if balance is None else balance + entry["amount"]
                continue
            if balance is not None and after != balance + entry["amount"]:
                raise _Problem(
                    f"ledger[{i}].balance_after must be {balance + entry['amount']} (the "
                    f"balance before it, {balance}, plus its amount, {entry['amount']}), "
                    f"got {after}"
                )
            balance = after

    def dataset(self, record: Any, where: str) -> None:
        full = isinstance(record, dict) and "id" in record
        self.record(
            record,
            Dataset,
            where,
            skip={"organization_id", "image_ids"},
            extra={
                "images": list,
                "synthetic_images": dict,
                "exports": list,
                "registrations": dict,
                "directory_generations": dict,
                "directories": list,
            },
            full=full,
            by_hand=_DATASET_BY_HAND,
        )
        if "name" not in record or not record["name"].strip():
            raise _Problem(f"{where}: a required key is missing or blank: 'name'")
        if len(record["name"]) > NAME_LIMIT:
            raise _Problem(f"{where}.name must have at most {NAME_LIMIT} characters")
        self.storage(record, where, full=full)
        self.publication(record, where)
        self.registrations(record.get("registrations", {}), f"{where}.registrations")
        self.generations(record.get("directory_generations", {}), f"{where}.directory_generations")
        self.directories(record.get("directories", []), f"{where}.directories")
        self.refusal(where, check_annotation_types, record.get("annotation_types", ["bbox"]))
        self.refusal(where, check_classes, record.get("classes", []))
        classes = [c["name"] for c in record.get("classes", [])]
        ids: set[str] = set()
        paths: set[tuple[str, str]] = set()
        for i, image in enumerate(record.get("images", [])):
            self.image(image, f"{where}.images[{i}]", classes, record["name"])
            if "id" in image:
                if image["id"] in ids:
                    raise _Problem(f"{where}.images[{i}]: the id {image['id']!r} comes twice")
                ids.add(image["id"])
            # One image a path, as the API answers 409 to a second one.
            path = (image.get("directory_path", "/"), image["filename"])
            if path in paths:
                raise _Problem(
                    f"{where}.images[{i}]: an image {path[1]!r} is already in {path[0]!r}"
                )
            paths.add(path)
        synthetic = record.get("synthetic_images")
        if synthetic is not None:
            allowed = {"count", "complete", "annotations_per_image"}
            self.mapping(synthetic, f"{where}.synthetic_images", allowed)
            count = synthetic.get("count", 0)
            self.whole(count, f"{where}.synthetic_images.count", low=0, high=MAX_SCENARIO_COUNT)
            complete = synthetic.get("complete", 0)
            self.whole(complete, f"{where}.synthetic_images.complete", low=0)
            if complete > count:
                raise _Problem(f"{where}.synthetic_images: complete must be 0..count")
            per_image = synthetic.get("annotations_per_image", 2)
            self.whole(
                per_image, f"{where}.synthetic_images.annotations_per_image", low=0, high=100
            )
            self.synthetic_images += count
            self.synthetic_annotations += count * per_image
            if self.synthetic_images > MAX_SCENARIO_COUNT:
                raise _Problem(
                    f"{where}.synthetic_images: the datasets ask for "
                    f"{self.synthetic_images:,} synthetic images together, more than "
                    f"{MAX_SCENARIO_COUNT:,}"
                )
            if self.synthetic_annotations > MAX_SCENARIO_ANNOTATIONS:
                raise _Problem(
                    f"{where}.synthetic_images: the datasets' synthetic images carry "
                    f"{self.synthetic_annotations:,} annotations together, more than "
                    f"{MAX_SCENARIO_ANNOTATIONS:,}: ask for fewer images or fewer "
                    "annotations_per_image"
                )
        exports: set[str] = set()
        for i, export in enumerate(self.items(record.get("exports", []), f"{where}.exports")):
            self.export(export, f"{where}.exports[{i}]", ids)
            if export["name"] in exports:
                raise _Problem(
                    f"{where}.exports[{i}]: an export named {export['name']!r} comes twice"
                )
            exports.add(export["name"])

    def directories(self, records: list[Any], where: str) -> None:
        """Directory rows (``snapshot()`` saves them): each path canonical, below the root,
        once; each id once."""
        ids: set[str] = set()
        paths: set[str] = set()
        for i, record in enumerate(records):
            at = f"{where}[{i}]"
            self.record(record, Directory, at, skip={"organization_id", "dataset_id"})
            path = record["path"]
            try:
                canonical = directory_path(path, ("scenario",))
            except ApiRefusal as refusal:
                raise _Problem(f"{at}: {refusal.message}") from None
            if canonical != path or path == "/":
                raise _Problem(f"{at}: a path is '/directory/sub', below the root, as saved")
            if path in paths or record["id"] in ids:
                raise _Problem(f"{at}: the path {path!r} or the id {record['id']!r} comes twice")
            paths.add(path)
            ids.add(record["id"])

    def storage(self, record: dict[str, Any], where: str, *, full: bool) -> None:
        """Where a dataset's files are kept, and a freeze or restore under way (a snapshot's)."""
        kept = record.get("storage_class", "standard")
        state = record.get("storage_state", "idle")
        if kept not in STORAGE_CLASSES:
            raise _Problem(f"{where}.storage_class must be one of {STORAGE_CLASSES}, got {kept!r}")
        if state not in STORAGE_STATES:
            raise _Problem(f"{where}.storage_state must be one of {STORAGE_STATES}, got {state!r}")
        under_way = ("storage_state", "storage_job_id", "storage_until", "restore_quote")
        if not full and any(key in record for key in under_way):
            raise _Problem(
                f"{where}: a freeze or restore under way is a snapshot's (with the dataset's "
                "id); by hand, give storage_class (and cold_since) only"
            )
        if state != "idle" and record.get("storage_until") is None:
            raise _Problem(f"{where}: a dataset {state} needs storage_until, when that ends")
        if (state, kept) in (("freezing", "coldline"), ("restoring", "standard")):
            was = "standard" if state == "freezing" else "coldline"
            raise _Problem(f"{where}: a dataset {state} is still {was!r} until that ends")
        if kept == "standard" and record.get("cold_since") is not None:
            raise _Problem(f"{where}.cold_since is for a dataset in 'coldline' storage")

    def publication(self, record: dict[str, Any], where: str) -> None:
        """Whether a dataset is in Explore, since when, and with how many stars."""
        if record.get("star_count", 0) < 0:
            raise _Problem(f"{where}.star_count must be 0 or more, got {record['star_count']}")
        public = record.get("visibility", "private") == "public"
        if not public and record.get("published_at") is not None:
            raise _Problem(f"{where}.published_at is for a public dataset (visibility 'public')")

    def registrations(self, record: dict[str, Any], where: str) -> None:
        """Uploads registered so far, by path (``/dir/file.png``): a count of at least 1."""
        for path, count in record.items():
            at = f"{where}[{path!r}]"
            directory, filename = split_path(path)
            try:
                canonical = directory_path(directory, ("scenario",)).rstrip("/")
                canonical += "/" + check_filename(filename, ("scenario",))
            except ApiRefusal as refusal:
                raise _Problem(f"{at}: {refusal.message}") from None
            # Counts are looked up by the canonical path: any other spelling would never
            # be found, and the ids it was saved to protect would be handed out again.
            if canonical != path:
                raise _Problem(f"{at}: a path is '/directory/filename', as snapshot() saves")
            self.whole(count, at, low=1)

    def generations(self, record: dict[str, Any], where: str) -> None:
        """Directories made so far, by canonical path (``/a/b``): a count of at least 1."""
        for path, count in record.items():
            at = f"{where}[{path!r}]"
            try:
                canonical = directory_path(path, ("scenario",)).rstrip("/")
            except ApiRefusal as refusal:
                raise _Problem(f"{at}: {refusal.message}") from None
            if canonical != path or path == "":
                raise _Problem(f"{at}: a directory's path is '/a/b', as snapshot() saves")
            self.whole(count, at, low=1)

    def image(self, record: Any, where: str, classes: list[str], dataset: str) -> None:
        self.record(
            record,
            Image,
            where,
            skip={"organization_id", "dataset_id", "content"},
            extra={"blob": str},
            full=False,
        )
        if "filename" not in record or not record["filename"].strip():
            raise _Problem(f"{where}: a required key is missing or blank: 'filename'")
        if "blob" in record and not record["blob"].strip():
            raise _Problem(f"{where}.blob must not be blank")
        if record.get("status", "new") not in IMAGE_STATUSES:
            raise _Problem(f"{where}.status must be one of {', '.join(IMAGE_STATUSES)}")
        if record.get("split") not in _SPLITS:
            raise _Problem(f"{where}.split must be one of train, val, test or null")
        for side in ("width", "height"):
            value = record.get(side)
            if value is not None:
                self.whole(value, f"{where}.{side}", low=1, high=1_000_000)
        self.whole(record.get("file_size", 0), f"{where}.file_size", low=0)
        directory = record.get("directory_path", "/")
        if not directory.startswith("/"):
            raise _Problem(f"{where}.directory_path must start with '/'")
        self.refusal(where, check_filename, record["filename"])
        try:
            canonical = directory_path(directory, ("scenario",))
        except ApiRefusal as refusal:
            raise _Problem(f"{where}: {refusal.message}") from None
        if canonical != directory:
            # Stored as written, `/night/` would hide the image from `/night`'s listing.
            raise _Problem(f"{where}.directory_path must be written {canonical!r}")
        if "annotations" in record:
            self.refusal(
                where,
                canonical_annotations,
                record["annotations"],
                classes,
                loc=("annotations",),
                new_id=lambda: "",
                dataset_name=dataset,
            )

    def export(self, record: Any, where: str, images: set[str]) -> None:
        full = isinstance(record, dict) and "id" in record
        self.record(
            record,
            Export,
            where,
            skip={"organization_id", "dataset_id", "dataset_name"},
            extra={"organize_by_split": bool, "job": dict, "as_exported": dict, "removed": dict},
            full=full,
            by_hand=_EXPORT_BY_HAND,
        )
        self.as_exported(record.get("as_exported", {}), f"{where}.as_exported", record)
        removed = record.get("removed", {})
        self.removed(removed, f"{where}.removed", record, images)
        if "name" not in record or not record["name"].strip():
            raise _Problem(f"{where}: a required key is missing or blank: 'name'")
        if record.get("status", "completed") not in EXPORT_STATUSES:
            raise _Problem(f"{where}.status must be one of {', '.join(EXPORT_STATUSES)}")
        if record.get("format", "pictograph") not in EXPORT_FORMATS:
            raise _Problem(f"{where}.format must be one of {', '.join(EXPORT_FORMATS)}")
        self.whole(record.get("annotation_count", 0), f"{where}.annotation_count", low=0)
        if full:
            missing = [i for i in record["image_ids"] if i not in images and i not in removed]
            if missing:
                raise _Problem(f"{where}.image_ids names images the dataset lacks: {missing[:3]}")
            if "job" not in record:
                raise _Problem(f"{where}.job is required with an export's id")
            self.record(record["job"], ExportJob, f"{where}.job", skip={"contents"})
            job = record["job"]
            self.whole(job["seq"], f"{where}.job.seq", low=0)
            self.whole(job["runs_before"], f"{where}.job.runs_before", low=0)

    def removed(
        self, record: dict[str, Any], where: str, export: dict[str, Any], images: set[str]
    ) -> None:
        """Images of the export deleted for good since: by image id, every field of
        :data:`~pictograph_testing.world.exports.REMOVED` as the export froze it."""
        named = set(export.get("image_ids") or ())
        for image_id, fields in record.items():
            at = f"{where}[{image_id!r}]"
            if image_id not in named:
                raise _Problem(f"{at}: not an image the export names")
            if image_id in images:
                raise _Problem(f"{at}: the image is in the dataset, not deleted")
            # `blob` is optional: snapshots saved before it was kept lack it.
            if not isinstance(fields, dict) or set(fields) - {"blob"} != set(REMOVED) - {"blob"}:
                raise _Problem(f"{at} must be an object of exactly {', '.join(REMOVED)}")
            if not isinstance(fields.get("blob"), (str, type(None))):
                raise _Problem(f"{at}.blob must be a string or null")
            for name in ("filename", "directory_path", "status", "content_type"):
                if not isinstance(fields[name], str):
                    raise _Problem(f"{at}.{name} must be a string")
            if not isinstance(fields["split"], (str, type(None))):
                raise _Problem(f"{at}.split must be a string or null")
            for name in ("width", "height"):
                value = fields[name]
                if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                    raise _Problem(f"{at}.{name} must be a whole number or null")
            if not isinstance(fields["tags"], list) or not all(
                isinstance(t, str) for t in fields["tags"]
            ):
                raise _Problem(f"{at}.tags must be a list of strings")
            if not isinstance(fields["annotations"], list) or not all(
                isinstance(a, dict) for a in fields["annotations"]
            ):
                raise _Problem(f"{at}.annotations must be a list of objects")

    def as_exported(self, record: dict[str, Any], where: str, export: dict[str, Any]) -> None:
        """Labels the export kept that its images changed since: by image id, fields of
        :data:`~pictograph_testing.world.exports.KEPT` with their JSON types."""
        named = set(export.get("image_ids") or ())
        for image_id, fields in record.items():
            at = f"{where}[{image_id!r}]"
            if image_id not in named:
                raise _Problem(f"{at}: not an image the export names")
            if not isinstance(fields, dict) or not set(fields) <= set(KEPT):
                raise _Problem(f"{at} must be an object of {', '.join(KEPT)}")
            for name in ("filename", "directory_path", "status"):
                if name in fields and not isinstance(fields[name], str):
                    raise _Problem(f"{at}.{name} must be a string")
            if "split" in fields and not isinstance(fields["split"], (str, type(None))):
                raise _Problem(f"{at}.split must be a string or null")
            tags = fields.get("tags", [])
            if not isinstance(tags, list) or not all(
                isinstance(t, str) and t.strip() for t in tags
            ):
                raise _Problem(f"{at}.tags must be a list of strings, none blank")
            annotations = fields.get("annotations", [])
            if not isinstance(annotations, list) or not all(
                isinstance(a, dict) for a in annotations
            ):
                raise _Problem(f"{at}.annotations must be a list of objects")

    def ids(self, record: Any) -> None:
        self.mapping(record, "ids", {"state", "names", "export_seq", "notification_seq"})
        for name in ("names", "export_seq", "notification_seq"):
            self.whole(record.get(name, 0), f"ids.{name}", low=0)
        state = record.get("state")
        try:
            if not isinstance(state, list) or len(state) != 3 or not isinstance(state[1], list):
                raise TypeError
            random.Random().setstate((state[0], tuple(state[1]), state[2]))
            # All-zero keys are a state the generator never leaves: one id forever.
            if not any(state[1][:-1]):
                raise ValueError
        except (TypeError, ValueError, OverflowError):
            raise _Problem(
                "ids.state must be a random generator's state, as snapshot() saves"
            ) from None

    # ── the values ──

    def record(
        self,
        record: Any,
        cls: type,
        where: str,
        *,
        skip: set[str] | frozenset[str] = frozenset(),
        extra: dict[str, type] | None = None,
        full: bool = True,
        by_hand: frozenset[str] | None = None,
    ) -> None:
        """Check a record against the dataclass it becomes: known keys, each of its
        field's type, times on the clock and whole numbers within bounds; with ``full``,
        every field without a default present. A record made by hand (not ``full``)
        takes only the keys ``by_hand`` names, the ones the world makes it from: any
        other would be dropped without a word."""
        hints = {k: v for k, v in _hints(cls).items() if k not in skip}
        extra = extra or {}
        self.mapping(record, where, set(hints) | set(extra))
        if full:
            missing = sorted((_required(cls) - skip) - set(record))
            if missing:
                raise _Problem(
                    f"{where}: a required key is missing: {', '.join(map(repr, missing))}"
                )
        elif by_hand is not None and isinstance(record, dict):
            ignored = sorted(set(record) - by_hand - set(extra))
            if ignored:
                raise _Problem(
                    f"{where}: {', '.join(map(repr, ignored))} cannot be set on a record made "
                    f"by hand, which takes {', '.join(sorted(by_hand))}; an exact record "
                    f"(with its {_EXACT_KEY.get(cls, 'id')!r} and every field) takes them all"
                )
        for key, value in record.items():
            at = f"{where}.{key}"
            if key in extra:
                if not isinstance(value, extra[key]) or (
                    extra[key] is not bool and isinstance(value, bool)
                ):
                    raise _Problem(f"{at} must be a {extra[key].__name__}")
                continue
            hint = hints[key]
            if not _fits(value, hint):
                raise _Problem(f"{at} must be {_describe(hint)}, got {value!r:.60}")
            self.bounded(value, at, key)

    def bounded(self, value: Any, where: str, key: str) -> None:
        """Whole numbers within the safe range; fractional fields are times on the clock."""
        if isinstance(value, bool) or value is None:
            return
        if isinstance(value, float) or (key.endswith("_at") and isinstance(value, int)):
            self.number(value, where, low=self.earliest, high=self.latest)
        elif isinstance(value, int):
            self.whole(value, where, low=-MAX_SAFE_INTEGER)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self.bounded(item, f"{where}[{i}]", key)

    def whole(
        self, value: Any, where: str, *, low: float = 0, high: float = MAX_SAFE_INTEGER
    ) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _Problem(
                f"{where} must be a whole number from {low:g} to {high:g}, got {value!r:.60}"
            )

    def number(self, value: Any, where: str, *, low: float, high: float) -> None:
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not (low <= value <= high)
        ):
            raise _Problem(f"{where} must be a number from {low:g} to {high:g}, got {value!r:.60}")

    def mapping(self, value: Any, where: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _Problem(f"{where} must be an object")
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise _Problem(
                f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; "
                f"allowed: {', '.join(sorted(allowed))}"
            )
        return value

    def items(self, value: Any, where: str) -> list[dict[str, Any]]:
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise _Problem(f"{where} must be a list of objects")
        return value

    def refusal(
        self, where: str, rule: Any, *args: Any, no_location: bool = False, **kwargs: Any
    ) -> None:
        """Run one of the API's own checks on a value; its refusal becomes the problem."""
        try:
            if kwargs or no_location:
                rule(*args, **kwargs)
            else:  # the field checks take the field's location last
                rule(*args, ("scenario",))
        except ApiRefusal as refusal:
            raise _Problem(f"{where}: {refusal.message}") from None


def _unique(
    located: Iterable[tuple[str, dict[str, Any]]], key: str, *, what: str = "record"
) -> None:
    """Raise unless no two records (each with where it is) share a value of ``key``."""
    seen: dict[Any, str] = {}
    for where, record in located:
        value = record.get(key)
        if value is None:
            continue
        if value in seen:
            raise _Problem(
                f"{where}.{key} {value!r} is also {seen[value]}'s: each {key} names one {what}"
            )
        seen[value] = where


def _describe(hint: Any) -> str:
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in get_args(hint))
    if origin is Literal:
        return "one of " + ", ".join(map(repr, get_args(hint)))
    if origin in (list, tuple):
        return f"a list of {_describe(get_args(hint)[0])}"
    if origin is dict:
        return "an object"
    names = {
        str: "a string",
        int: "a whole number",
        float: "a number",
        bool: "true or false",
        type(None): "null",
    }
    return names.get(hint, str(hint))
