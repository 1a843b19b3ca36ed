"""Named world states: JSON documents a fake loads with one call, and snapshots of worlds.

A scenario names the fake's settings (profile, seed, balance, clock) and what the
default organization holds: its members and invites, datasets with their images (status,
split, tags, annotations; never bytes) and exports, API keys, ledger entries and
notifications.
Hand-written scenarios say only what matters and let the fake mint the rest; a
snapshot (:func:`snapshot`) records every id, timestamp and the id generator's state, so
the world it loads into answers exactly as the one it was taken from. The format is
described in ``fixtures/README.md``.

A name is looked up in the folders given to the call (``scenario_dirs=``), then in those
registered for the process (:func:`register_dir`; the pytest plugin registers its ini
option ``pictograph_scenario_dirs``), then in the package's own.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pictograph_testing.api import strict_json
from pictograph_testing.catalog import MICRO_USD, PLANS
from pictograph_testing.clock import DEFAULT_START, format_timestamp
from pictograph_testing.scenario_checks import check_document, start_of
from pictograph_testing.scenario_registry import (
    register_dir,
    registered_dirs,
    scenario_folder,
    unregister_dir,
)
from pictograph_testing.world.annotations import canonical_annotations
from pictograph_testing.world.datasets import canonical_class
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
from pictograph_testing.world.exports import ExportJob, changed_since, removed_since
from pictograph_testing.world.feeds import Notification
from pictograph_testing.world.ids import IdState, canonical_id
from pictograph_testing.world.images import split_path
from pictograph_testing.world.members import Invite, Member

if TYPE_CHECKING:
    import sys
    from collections.abc import Sequence
    from datetime import datetime

    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable

    from pictograph_testing.world.state import World

__all__ = [
    "NOT_CAPTURED",
    "SCHEMA_VERSION",
    "Scenario",
    "UnknownScenario",
    "available_scenarios",
    "fake_settings",
    "load_scenario",
    "looks_like_path",
    "named_scenario",
    "register_dir",
    "save_scenario",
    "scenario_folder",
    "scenario_folders",
    "snapshot",
    "unregister_dir",
]

SCHEMA_VERSION = 1
# Scenarios ship inside the package when it is built (read as its resources: a folder,
# or a folder inside a zip the package is imported from), and sit in the repository's
# `fixtures/` in a checkout: look in both, the package first.
SCENARIO_DIRECTORIES: tuple[Path | Traversable, ...] = (
    resources.files(__package__ or "pictograph_testing") / "fixtures",
    Path(__file__).resolve().parent.parent / "fixtures",
)

_TOP_LEVEL = frozenset(
    {
        "schema_version",
        "name",
        "description",
        "profile",
        "seed",
        "balance_usd",
        "clock",
        "organization",
        "api_keys",
        "ledger",
        "datasets",
        "notifications",
        "pending_export_failures",
        "ids",
        "members",
        "invites",
    }
)
_DATASET_EXTRAS = frozenset(
    {
        "images",
        "synthetic_images",
        "exports",
        "registrations",
        "directory_generations",
        "directories",
    }
)

_IMAGE_EXTRAS = frozenset({"blob"})
_EXPORT_EXTRAS = frozenset({"organize_by_split", "job", "as_exported", "removed"})
_IMAGE_TYPES = {".png": "image/png", ".webp": "image/webp", ".gif": "image/gif"}
_DEFAULT_SIZE = (640, 480)
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")
"""A scenario name: one file name in a scenario folder, without ``.json``."""
_SPLITS = ("train", "val", "test", None)


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario document: the settings it gives a fake, and what it builds."""

    name: str
    document: dict[str, Any]

    @property
    def seed(self) -> int:
        return int(self.document.get("seed", 0))

    @property
    def profile(self) -> str:
        return str(self.document.get("profile", "classic"))

    @property
    def balance_usd(self) -> float:
        return float(self.document.get("balance_usd", 100.0))

    @property
    def start(self) -> datetime:
        return start_of(self.document)

    def apply(self, world: World, *, balance_usd: float | None = None) -> None:
        """Build the scenario into a world freshly made with this scenario's settings.

        ``balance_usd``, given beside the scenario, is the organization's allowance
        whatever the scenario's organization says (an argument given beside it wins);
        a scenario with no organization of its own keeps the world's, made with it.
        """
        document = self.document
        if balance_usd is not None and "organization" in document:
            allowance = {"allowance_micro_usd": round(balance_usd * MICRO_USD)}
            document = {
                **document,
                "organization": {**document.get("organization", {}), **allowance},
            }
        with world.lock:
            try:
                _Builder(world, self.name).build(document)
            except ApiRefusal as refusal:
                raise ValueError(f"scenario {self.name!r}: {refusal.message}") from None
            except (KeyError, TypeError, AttributeError) as exc:
                raise ValueError(
                    f"scenario {self.name!r}: a required key is missing or a value has the "
                    f"wrong shape ({type(exc).__name__}: {exc})"
                ) from None


class UnknownScenario(ValueError):
    """No registered folder holds a scenario of that name.

    The message names the folders searched and how to register one; :attr:`public` says
    only what the known names are (the server answers that over HTTP, where the folders
    of its machine are none of the caller's business).
    """

    def __init__(
        self, name: str, known: Sequence[str], searched: Sequence[Path | Traversable]
    ) -> None:
        self.name = name
        self.known = tuple(known)
        self.searched = tuple(searched)
        self.public = f"unknown scenario {name!r}; known scenarios: {', '.join(known) or 'none'}"
        folders = ", ".join(str(folder) for folder in searched) or "none"
        super().__init__(
            f"{self.public}. Looked for {name}.json in: {folders}. Register a folder of your "
            "own with the ini option pictograph_scenario_dirs, "
            "pictograph_testing.scenarios.register_dir(path) or scenario_dirs=[...]; "
            "or pass a path to the file (one ending in .json)"
        )


def scenario_folders(
    directories: Sequence[str | os.PathLike[str]] = (),
) -> list[Path | Traversable]:
    """The folders a scenario name is looked up in, in order.

    ``directories`` (a call's own ``scenario_dirs``) first, each of which must be a folder
    (a ``ValueError`` otherwise), then the registered folders, then those of the package's
    own that exist (in a checkout or in the installed package).
    """
    found: list[Path | Traversable] = []
    for folder in _search_path(directories):
        if folder not in found and folder.is_dir():
            found.append(folder)
    return found


def available_scenarios(directories: Sequence[str | os.PathLike[str]] = ()) -> list[str]:
    """List the scenario names :func:`load_scenario` knows, sorted.

    ``directories`` are the user's own scenario folders, searched before the registered
    ones (:func:`register_dir`) and the package's.
    """
    names: set[str] = set()
    for directory in scenario_folders(directories):
        # Files only, as a load reads them: a folder named `x.json` is no scenario `x`.
        names.update(
            p.name.removesuffix(".json")
            for p in directory.iterdir()
            if p.name.endswith(".json")
            and _NAME.fullmatch(p.name.removesuffix(".json"))
            and p.is_file()
        )
    return sorted(names)


def load_scenario(
    ref: str | os.PathLike[str] | Mapping[str, Any],
    *,
    directories: Sequence[str | os.PathLike[str]] = (),
) -> Scenario:
    """Read a scenario: a name, a path to a JSON file, or a document.

    A name is looked up in ``directories`` (the user's scenario folders), then in the
    registered folders (:func:`register_dir`), then in the package's ``fixtures/``; a
    string ending in ``.json`` or holding a path separator, or any ``os.PathLike``, is
    read as a file, a relative one from the current directory (the pytest plugin reads
    the marker's and the ini's from the rootdir). Paths come from the caller's own code
    or command line: the server loads by name only (:func:`named_scenario`).
    """
    if not isinstance(ref, (str, os.PathLike)):
        if not isinstance(ref, Mapping):
            raise TypeError(
                "scenario must be a name, a path to a JSON file or a scenario document (a "
                f"dict), got {ref!r:.60}"
            )
        return _parsed(dict(ref), "<document>")
    text = os.fspath(ref)
    if looks_like_path(ref):
        path = Path(text).expanduser()
        if not path.is_file():
            where = (
                "" if path.is_absolute() else f" (read from the current directory, {Path.cwd()})"
            )
            raise ValueError(f"no scenario file at {path.absolute()}{where}")
        return _parsed(_read(path), path.stem)
    return named_scenario(text, directories=directories)


def looks_like_path(ref: str | os.PathLike[str]) -> bool:
    """Whether ``ref`` names a file rather than a scenario: an ``os.PathLike``, or a
    string ending in ``.json`` or holding a path separator."""
    if isinstance(ref, os.PathLike):
        return True
    return ref.endswith(".json") or "/" in ref or os.sep in ref


def named_scenario(name: str, *, directories: Sequence[str | os.PathLike[str]] = ()) -> Scenario:
    """Read the scenario called ``name`` from the registered folders, never from a path.

    A name is letters, digits, ``-``, ``_`` and ``.`` (not first), so it cannot leave
    its folder; an unknown one is refused with :class:`UnknownScenario` (a
    ``ValueError``), which lists the known names and the folders searched.
    """
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"{name!r} is not a scenario name: a name is letters, digits, '-', '_' and '.' "
            "(not first), at most 100 characters"
        )
    searched = scenario_folders(directories)
    for directory in searched:
        path = directory / f"{name}.json"
        if path.is_file():
            return _parsed(_read(path), name)
    raise UnknownScenario(name, available_scenarios(directories), searched)


_FILE = "The file"
"""What a scenario file's JSON refusals speak of (``strict_json``'s ``subject``)."""


def _where(raw: bytes, refusal: ValueError) -> str:
    """What is wrong with a file's JSON, and where: the line and column of a syntax error,
    the byte that is not UTF-8; else the strict parser's words (NaN, nesting too deep, a
    lone surrogate), said of the file."""
    try:
        json.loads(raw)
    except json.JSONDecodeError as exc:
        return f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
    except UnicodeDecodeError as exc:
        return f"the file is not UTF-8 ({exc.reason} at byte {exc.start})"
    except (ValueError, RecursionError):
        pass  # the strict parser's words say it (nested past Python's own stack, too)
    return str(refusal)


def _search_path(directories: Sequence[str | os.PathLike[str]]) -> list[Path | Traversable]:
    return [
        *(scenario_folder(d) for d in directories),
        *registered_dirs(),
        *SCENARIO_DIRECTORIES,
    ]


def _read(path: Path | Traversable) -> dict[str, Any]:
    raw = path.read_bytes()
    try:
        document = strict_json.parse(raw, _FILE)
    except ValueError as exc:  # UnfitJson included: too deep, NaN, lone surrogates
        raise ValueError(f"scenario file {path} is not valid JSON: {_where(raw, exc)}") from None
    if not isinstance(document, dict):
        raise ValueError(f"scenario file {path} must hold a JSON object")
    return document


def _parsed(document: dict[str, Any], name: str) -> Scenario:
    version = document.get("schema_version")
    # The integer itself: `true` and `1.0` compare equal to 1 in Python, not in the format.
    if type(version) is not int or version != SCHEMA_VERSION:
        raise ValueError(
            f"scenario {name!r} has schema_version {version!r}; this version of "
            f"pictograph-testing reads schema_version {SCHEMA_VERSION}"
        )
    _only(document, _TOP_LEVEL, f"scenario {name!r}")
    # Whole or not at all: every record is checked before the first is built.
    check_document(document, name)
    return Scenario(str(document.get("name", name)), document)


def _only(document: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(document) - allowed)
    if unknown:
        raise ValueError(
            f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )


def _field_names(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(cls))


def _values(entity: Any, *, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """An entity's dataclass fields as JSON values (tuples become lists)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(entity):
        if f.name in skip:
            continue
        value = getattr(entity, f.name)
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


# ── building a world from a document ──


class _Builder:
    """Apply one scenario document to one world, in the document's order."""

    def __init__(self, world: World, name: str) -> None:
        self.world = world
        self.name = name

    def build(self, document: Mapping[str, Any]) -> None:
        world = self.world
        # Before anything is built: a record the document gives no id draws one, and it
        # must not be one another record of the document holds.
        world.ids.reserve(_uuids_in(document))
        elapsed = float((document.get("clock") or {}).get("elapsed_seconds", 0.0))
        if elapsed:
            world.clock.advance(elapsed)
        if "organization" in document:
            self._organization(document["organization"])
        # Before the keys: keys the scenario mints are its founding owner's.
        if "members" in document:
            self._members(document["members"])
        for invite in document.get("invites", []):
            self._invite(invite)
        if "api_keys" in document:
            self._api_keys(document["api_keys"])
        for entry in document.get("ledger", []):
            self._ledger_entry(entry)
        for dataset in document.get("datasets", []):
            self._dataset(dataset)
        for entry in document.get("notifications", []):
            self._notification(entry)
        failures = document.get("pending_export_failures", [])
        for message in failures:
            world.export_service.fail_next(str(message))
        if "ids" in document:
            self._ids(document["ids"])

    def _where(self, what: str) -> str:
        return f"scenario {self.name!r}, {what}"

    def _organization(self, record: Mapping[str, Any]) -> None:
        world = self.world
        _only(record, _field_names(Organization), self._where("organization"))
        tier = record.get("subscription_tier", world.default_org.subscription_tier)
        if tier not in PLANS:
            raise ValueError(
                self._where(
                    f"organization: unknown subscription_tier {tier!r}; one of {list(PLANS)}"
                )
            )
        old = world.default_org
        world.replace_organization(old, Organization(**{**_values(old), **record}))

    def _members(self, records: list[Mapping[str, Any]]) -> None:
        """The organization's members: exact (with ``id``) or minted (email and role)."""
        people = self.world.people
        org = self.world.default_org
        people.clear(org.id)
        for record in records:
            _only(record, _field_names(Member) - {"organization_id"}, self._where("members"))
            if "id" in record:
                people.adopt_member(Member(organization_id=org.id, **record))
            else:
                people.add(
                    org.id, record["email"], record.get("role", "member"), record.get("full_name")
                )
        founder = people.founder(org.id)
        if founder is None:
            raise ValueError(self._where("members needs at least one member (an owner)"))
        # The world's own keys were made by the owner these members replace: they become
        # the scenario's founder's, as the keys it mints are (else no key could train).
        for key in self.world.api_keys.values():
            if key.organization_id == org.id and not people.is_member(org.id, key.created_by):
                key.created_by = founder.user_id

    def _invite(self, record: Mapping[str, Any]) -> None:
        """One invite: exact (with ``id``) or a pending one sent now by the founder."""
        world = self.world
        org = world.default_org
        _only(record, _field_names(Invite) - {"organization_id"}, self._where("invites"))
        if "id" in record:
            world.people.adopt_invite(Invite(organization_id=org.id, **record))
            return
        world.people.invite(org.id, record["email"], record.get("role", "member"), by=None)

    def _api_keys(self, records: list[Mapping[str, Any]]) -> None:
        world = self.world
        org = world.default_org
        allowed = _field_names(ApiKey) - {"organization_id"} | {"default"}
        world.remove_api_keys(org.id)
        marked: ApiKey | None = None
        owners: list[ApiKey] = []
        for record in records:
            _only(record, allowed, self._where("api_keys"))
            fields = {k: v for k, v in record.items() if k != "default"}
            if "key" in fields:
                key = ApiKey(organization_id=org.id, **fields)
                world.adopt_api_key(key)
            else:
                key = world.add_api_key(
                    org.id,
                    role=fields.get("role", "member"),
                    name=fields.get("name"),
                    rate_limit=fields.get("rate_limit"),
                    expires_at=fields.get("expires_at"),
                )
            if record.get("default"):
                marked = key
            if key.role == "owner":
                owners.append(key)
        # The fake's own clients use the key marked default, else the first owner key.
        default = marked or (owners[0] if owners else None)
        if default is None:
            raise ValueError(self._where("api_keys needs an owner key (or one marked default)"))
        world.use_default_key(default)

    def _ledger_entry(self, record: Mapping[str, Any]) -> None:
        world = self.world
        org = world.default_org
        _only(record, _field_names(LedgerEntry) - {"organization_id"}, self._where("ledger"))
        if "id" in record:
            world.billing.adopt(LedgerEntry(organization_id=org.id, **record))
            return
        world.billing.post(
            org,
            str(record["operation"]),
            int(record["amount"]),
            description=str(record.get("description", record["operation"])),
            metadata=record.get("metadata"),
        )

    def _directory(self, dataset: Dataset, record: Mapping[str, Any]) -> None:
        """A directory kept as it was (an empty one too), before the images that sit in it."""
        self.world.directory_service.adopt(
            Directory(organization_id=dataset.organization_id, dataset_id=dataset.id, **record)
        )

    def _dataset(self, record: Mapping[str, Any]) -> None:
        world = self.world
        org = world.default_org
        fields = _field_names(Dataset) - {"organization_id", "image_ids"}
        _only(record, fields | _DATASET_EXTRAS, self._where(f"dataset {record.get('name')!r}"))
        own = {k: v for k, v in record.items() if k in fields}
        if "id" in own:
            if isinstance(own.get("classes"), list):
                own["classes"] = [
                    canonical_class(c) if isinstance(c, dict) else c for c in own["classes"]
                ]
            dataset = Dataset(organization_id=org.id, **own)
            world.dataset_service.adopt(dataset)
        else:
            dataset = world.dataset_service.create(
                org.id,
                str(own["name"]),
                annotation_types=own.get("annotation_types", ["bbox"]),
                classes=own.get("classes", [{"name": "object", "type": "bbox"}]),
                description=own.get("description"),
                readme=own.get("readme"),
                within_plan=False,  # a world set up as written, as fake.add_dataset does
            )
            if own.get("storage_class", "standard") != "standard":
                # Declared cold by hand: frozen before the world began, unless it says when.
                dataset.storage_class = str(own["storage_class"])
                dataset.cold_since = own.get("cold_since", world.now())
                world.cold_storage.mark(dataset)
            dataset.license_id = own.get("license_id")
            dataset.star_count = int(own.get("star_count", 0))
            dataset.auto_tags = [str(tag) for tag in own.get("auto_tags", [])]
            dataset.imported_from = own.get("imported_from")
            world.catalog.fork_made(dataset)
            if own.get("visibility", "private") == "public":
                # Declared public by hand: published when the world began, unless it says when.
                dataset.visibility = "public"
                dataset.published_at = own.get("published_at", world.now())
                world.catalog.adopt_dataset(dataset)
        for entry in record.get("directories", []):
            self._directory(dataset, entry)
        for image in record.get("images", []):
            self._image(dataset, image)
        if "images" in record and all("id" in i for i in record["images"]):
            # Saved order is the dataset's order, whatever order adding them gives.
            world.image_service.restore_order(dataset, [str(i["id"]) for i in record["images"]])
        if "registrations" in record:
            # An upload's id derives from how many came to its path before it: without
            # the counts, the next upload to a path an image has left gets that image's id.
            world.image_service.restore_registrations(
                dataset, {split_path(path): int(n) for path, n in record["registrations"].items()}
            )
        if "directory_generations" in record:
            # So does a directory's: a path made again gets the id the original gives.
            world.directory_service.restore_generations(
                dataset, {str(path): int(n) for path, n in record["directory_generations"].items()}
            )
        synthetic = record.get("synthetic_images")
        if synthetic is not None:
            _only(
                synthetic,
                frozenset({"count", "complete", "annotations_per_image"}),
                self._where(f"dataset {dataset.name!r} synthetic_images"),
            )
            count = int(synthetic.get("count", 0))
            complete = int(synthetic.get("complete", 0))
            if not 0 <= complete <= count:
                raise ValueError(
                    self._where(f"dataset {dataset.name!r}: complete must be 0..count")
                )
            world.dataset_service.add_synthetic_images(
                dataset,
                count,
                completed=complete,
                annotations_per_image=int(synthetic.get("annotations_per_image", 2)),
            )
        for export in record.get("exports", []):
            self._export(dataset, export)

    def _image(self, dataset: Dataset, record: Mapping[str, Any]) -> None:
        world = self.world
        fields = _field_names(Image) - {"organization_id", "dataset_id", "content"}
        _only(record, fields | _IMAGE_EXTRAS, self._where(f"an image of dataset {dataset.name!r}"))
        blob = record.get("blob")
        record = {k: v for k, v in record.items() if k not in _IMAGE_EXTRAS}
        filename = str(record["filename"])
        width, height = _DEFAULT_SIZE
        values: dict[str, Any] = {
            "id": None,
            "directory_path": "/",
            "content_type": _IMAGE_TYPES.get(Path(filename).suffix.lower(), "image/jpeg"),
            "file_size": 0,
            "width": width,
            "height": height,
            "created_at": world.now(),
            **record,
        }
        if values["id"] is None:
            values["id"] = world.ids.uuid()
        # The SDK parses both as strict literals: a typo here would surface as a 500 later.
        if values.get("status", "new") not in IMAGE_STATUSES:
            raise ValueError(
                self._where(f"image {filename!r}: status must be one of {IMAGE_STATUSES}")
            )
        if values.get("split") not in _SPLITS:
            raise ValueError(self._where(f"image {filename!r}: split must be one of {_SPLITS}"))
        # Stored as the API stores them: canonical (defaults filled in, boxes computed).
        values["annotations"] = canonical_annotations(
            values.get("annotations", []),
            dataset.class_names,
            loc=("annotations",),
            new_id=world.ids.uuid,
            dataset_name=dataset.name,
        )
        image = Image(organization_id=dataset.organization_id, dataset_id=dataset.id, **values)
        world.image_service.add(dataset, image, blob=None if blob is None else str(blob))

    def _export(self, dataset: Dataset, record: Mapping[str, Any]) -> None:
        world = self.world
        fields = _field_names(Export) - {"organization_id", "dataset_id", "dataset_name"}
        _only(
            record,
            fields | _EXPORT_EXTRAS,
            self._where(f"export {record.get('name')!r} of dataset {dataset.name!r}"),
        )
        if "id" not in record:
            world.export_service.create(
                dataset,
                str(record["name"]),
                export_format=str(record.get("format", "pictograph")),
                include_images=bool(record.get("include_images", False)),
                status_filter=record.get("status_filter"),
                class_filter=record.get("class_filter"),
                organize_by_split=bool(record.get("organize_by_split", False)),
                status=str(record.get("status", "completed")),
            )
            return
        own = {k: v for k, v in record.items() if k in fields}
        export = Export(
            organization_id=dataset.organization_id,
            dataset_id=dataset.id,
            dataset_name=dataset.name,
            **own,
        )
        lifecycle = dict(record.get("job") or {})
        _only(
            lifecycle,
            _field_names(ExportJob) - {"contents"},
            self._where(f"export {export.name!r} job"),
        )
        # Checked (scenario_checks): image ids of the export, to the fields it kept.
        world.export_service.adopt(
            export, record.get("as_exported"), record.get("removed"), **lifecycle
        )

    def _notification(self, record: Mapping[str, Any]) -> None:
        _only(
            record,
            _field_names(Notification) - {"organization_id"},
            self._where("notifications"),
        )
        self.world.feeds.adopt(Notification(organization_id=self.world.default_org.id, **record))

    def _ids(self, record: Mapping[str, Any]) -> None:
        state = record["state"]
        rng = (int(state[0]), tuple(int(v) for v in state[1]), state[2])
        self.world.ids.restore(IdState(rng, int(record.get("names", 0))))
        # At least the numbers the document's own exports and notifications carry.
        exports, feeds = self.world.export_service, self.world.feeds
        exports.seq = max(exports.seq, record.get("export_seq", 0))
        feeds.seq = max(feeds.seq, record.get("notification_seq", 0))


def _uuids_in(document: Any) -> set[str]:
    """Every canonical UUID a document holds, anywhere in it: the ids its records keep."""
    found: set[str] = set()
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            # An id as the world stores it (`canonical_id` leaves it as it is; so it does
            # other text of that length, which no minted id can ever equal).
            if len(node) == _UUID_LENGTH and canonical_id(node) == node:
                found.add(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


_UUID_LENGTH = 36


# ── snapshots ──


NOT_CAPTURED: tuple[tuple[str, str, str], ...] = (
    ("comments", "annotation comments", "commenting"),
    ("tasks", "annotation tasks", "adding tasks"),
    ("public_imports", "public-dataset imports", "importing"),
    ("connector_imports", "connector sources or imports", "registering a source"),
    ("videos", "videos or their frame extractions", "uploading a video"),
    ("auto_annotation", "auto-annotate jobs or SAM3 sessions", "auto-annotating"),
    ("workflows", "workflows or their runs", "making one"),
    ("streams", "cameras or streams", "adding a camera"),
)
"""The world's services (built on first use) a snapshot refuses while they hold anything:
(service, what it holds, what to take the snapshot before)."""


def snapshot(world: World) -> dict[str, Any]:
    """Capture the world's default organization as an exact scenario document.

    Loading it gives a world that answers the same calls with the same bytes (bar
    ``X-Request-Id``). Training runs, trained models and webhook endpoints are not part of
    schema version 1: a world holding any is refused with ``ValueError``, as are worlds with
    more than one organization. Image bytes are not kept (images come back as if added by count).
    """
    with world.lock:
        now = world.catch_up()
        if world.deployments.deployments:
            raise ValueError(
                "snapshot() cannot capture deployments yet (their engines, meters and "
                f"tokens are not part of scenario schema_version {SCHEMA_VERSION}): take the "
                "snapshot before deploying"
            )
        pool = world.inference_pool
        ran_models = world.evaluations.evaluations or pool.used_today or pool.spent_day
        if world.runs or world.models or ran_models:
            raise ValueError(
                "snapshot() cannot capture training runs, trained models, evaluations or "
                "hosted inference yet (scenario "
                f"schema_version {SCHEMA_VERSION} holds datasets, images, exports, API keys, "
                "the ledger and notifications): take the snapshot before training"
            )
        if len(world.organizations) != 1:
            raise ValueError("snapshot() captures a world with exactly one organization")
        for service, what, before in NOT_CAPTURED:
            built = world.built(service)
            if built is not None and built.holds_state:
                # Refused, not left out: a loaded snapshot must answer as the world did.
                raise ValueError(
                    f"snapshot() cannot capture {what} yet (not part of scenario "
                    f"schema_version {SCHEMA_VERSION}): take the snapshot before {before}"
                )
        if world.webhooks.holds_state:
            raise ValueError(
                "snapshot() cannot capture webhook endpoints or deliveries yet (their signing "
                f"secrets and retry schedules are not part of schema_version {SCHEMA_VERSION}): "
                "take the snapshot before registering webhooks"
            )
        org = world.default_org
        keys = []
        for key in world.api_keys.values():
            if key.organization_id == org.id:
                entry = _values(key, skip=frozenset({"organization_id"}))
                if key is world.default_key:
                    entry["default"] = True
                keys.append(entry)
        datasets = [
            _dataset_document(world, d)
            for d in world.datasets.values()
            if d.organization_id == org.id
        ]
        ids = world.ids.state()
        return {
            "schema_version": SCHEMA_VERSION,
            "description": "A snapshot of a pictograph-testing world.",
            "profile": world.profile.name,
            "seed": world.seed,
            "balance_usd": org.allowance_micro_usd / 1_000_000,
            "clock": {"start": format_timestamp(world.clock.start), "elapsed_seconds": now},
            "organization": _values(org),
            "api_keys": keys,
            "ledger": [
                _values(e, skip=frozenset({"organization_id"})) for e in world.ledgers[org.id]
            ],
            "datasets": datasets,
            "notifications": [
                _values(n, skip=frozenset({"organization_id"}))
                for n in world.feeds.notifications.values()
                if n.organization_id == org.id
            ],
            "pending_export_failures": list(world.export_service.failures.messages),
            "members": [
                _values(m, skip=frozenset({"organization_id"})) for m in world.people.roster(org.id)
            ],
            "invites": [
                _values(i, skip=frozenset({"organization_id"}))
                for i in reversed(world.people.sent(org.id))
            ],
            "ids": {
                "state": [ids.rng[0], list(ids.rng[1]), ids.rng[2]],
                "names": ids.names,
                # The last numbers given: a deleted export or notification took its own
                # out of the document, and the next one must not be given it again.
                "export_seq": world.export_service.seq,
                "notification_seq": world.feeds.seq,
            },
        }


def _dataset_document(world: World, dataset: Dataset) -> dict[str, Any]:
    document = _values(dataset, skip=frozenset({"organization_id", "image_ids"}))
    service = world.image_service
    document["images"] = [_image_document(world, world.images[i]) for i in dataset.image_ids]
    directories = world.directory_service.of_dataset(dataset)
    if directories:
        # Rows of their own: an empty directory, and a renamed one's id, are kept.
        document["directories"] = [
            _values(d, skip=frozenset({"organization_id", "dataset_id"})) for d in directories
        ]
    registrations = service.registrations(dataset)
    if registrations:
        document["registrations"] = {
            _path_of(directory, filename): count
            for (directory, filename), count in sorted(registrations.items())
        }
    generations = world.directory_service.generations(dataset)
    if generations:
        document["directory_generations"] = dict(sorted(generations.items()))
    exports = sorted(
        (e for e in world.exports.values() if e.dataset_id == dataset.id),
        key=lambda e: world.export_service.job(e).seq,
    )
    document["exports"] = []
    for export in exports:
        entry = _values(export, skip=frozenset({"organization_id", "dataset_id", "dataset_name"}))
        job = world.export_service.job(export)
        entry["job"] = _values(job, skip=frozenset({"contents"}))
        # Labels edited since the export: it keeps them as they were when it was taken.
        as_exported = changed_since(job, world, export)
        if as_exported:
            entry["as_exported"] = as_exported
        # Images deleted for good since: the export still holds them, the world does not.
        removed = removed_since(job, world)
        if removed:
            entry["removed"] = removed
        document["exports"].append(entry)
    return document


def _image_document(world: World, image: Image) -> dict[str, Any]:
    document = _values(image, skip=frozenset({"organization_id", "dataset_id", "content"}))
    blob = world.image_service.blob(image)
    if blob != image.id:
        # A copy draws its bytes (and so its file_size) from its source's file, and a
        # dataset's deletion counts the files it shares: the copy keeps pointing there.
        document["blob"] = blob
    return document


def _path_of(directory: str, filename: str) -> str:
    """``/dir/file.png`` (``/file.png`` at the root): the key :func:`split_path` reads."""
    return f"{directory.rstrip('/')}/{filename}"


def save_scenario(world: World, path: str | os.PathLike[str]) -> Path:
    """Write :func:`snapshot` of the world to ``path`` as indented JSON; return the path."""
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(snapshot(world), indent=2, ensure_ascii=False, sort_keys=False)
    target.write_text(text + "\n", encoding="utf-8")
    return target


def fake_settings(
    scenario: Scenario | None,
    *,
    seed: int | None,
    profile: str | None,
    balance_usd: float | None,
    start: datetime | None,
) -> tuple[int, str, float, datetime]:
    """Pick a fake's seed, profile, balance and start: each argument given, else the scenario's."""
    return (
        seed if seed is not None else scenario.seed if scenario else 0,
        profile if profile is not None else scenario.profile if scenario else "classic",
        balance_usd if balance_usd is not None else scenario.balance_usd if scenario else 100.0,
        start if start is not None else scenario.start if scenario else DEFAULT_START,
    )
