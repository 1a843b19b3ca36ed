"""Trained models: created when a run completes, versioned, renamed, pinned and deleted."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pictograph_testing.catalog import PIPELINES
from pictograph_testing.world.entities import ApiKey, Model, ModelVersion, TrainingRun
from pictograph_testing.world.errors import InvalidRequest, NotFound, field_error
from pictograph_testing.world.ids import by_id, canonical_id, distinct_ids, numbered_name
from pictograph_testing.world.ordered import SortedIndex, index_in

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from pictograph_testing.world.state import World

__all__ = [
    "UNBUILT_FORMATS",
    "WEIGHT_FORMATS",
    "ModelFile",
    "ModelRegistry",
    "slugify",
    "version_files",
]

WEIGHT_FORMATS = {
    "onnx": ("model.onnx", "onnxruntime"),
    "pytorch": ("model.pth", "pytorch"),
    "safetensors": ("model.safetensors", "pytorch"),
}
"""Formats every trained version has, with their file name and runtime."""
UNBUILT_FORMATS = frozenset({"pte", "engine"})
_NUMBERED = re.compile(r"(.*) \((\d+)\)", re.DOTALL)
"""A name ``_free_name`` numbers: ``wanted (n)``."""


class ModelFile:
    """One artifact of a model version as the files manifest lists it."""

    __slots__ = ("content_type", "format", "kind", "name", "runtime")

    def __init__(self, name: str, kind: str, fmt: str, content_type: str, runtime: str | None):
        self.name = name
        self.kind = kind
        self.format = fmt
        self.content_type = content_type
        self.runtime = runtime


def version_files() -> list[ModelFile]:
    files = [
        ModelFile(name, "weights", fmt, "application/octet-stream", runtime)
        for fmt, (name, runtime) in WEIGHT_FORMATS.items()
    ]
    files.append(ModelFile("config.json", "config", "json", "application/json", None))
    return files


_FILTERED_BY = ("dataset_id", "status", "model_type")
"""The fields :meth:`ModelRegistry.listing` filters by, each kept as an index (a dataset's
name is looked up first: it follows the dataset's renames, its id does not change)."""


class ModelRegistry:
    """The organization-scoped catalogue of trained models."""

    def __init__(self, world: World) -> None:
        self._world = world
        # Each organization's models by name (names are unique within one): kept in step
        # with `world.models` by `_file` and `_unfile`, the only places that change it.
        self._named: dict[str, dict[str, Model]] = {}
        # Per (organization, wanted name): every ``wanted (n)`` below this n is taken, so
        # the search for a free one starts there (a name freed below it lowers it).
        self._suffix_floor: dict[tuple[str, str], int] = {}
        # Each organization's models in listing order: created_at, then the order they
        # were filed in (models made at one instant, as runs ending together make them,
        # then append without a search; an order by id would insert each one mid-list).
        self._ordered: dict[str, SortedIndex[Model]] = {}
        # The same, per (organization, field, value) of each field a listing filters by;
        # none of them changes once a model is filed.
        self._filtered: dict[tuple[str, str, str | None], SortedIndex[Model]] = {}
        self._filed: dict[str, int] = {}
        self._filings = 0

    def _file(self, model: Model) -> None:
        self._world.models[model.id] = model
        self._filings += 1
        self._filed[model.id] = self._filings
        organization_id = model.organization_id
        index_in(self._ordered, organization_id, self._listing_key).add(model)
        for field_name in _FILTERED_BY:
            slot = (organization_id, field_name, getattr(model, field_name))
            index_in(self._filtered, slot, self._listing_key).add(model)
        named = self._named.get(organization_id)
        if named is None:
            named = self._named[organization_id] = {}
        named[model.name] = model

    def _unfile(self, model: Model) -> None:
        del self._world.models[model.id]
        self._world.catalog.model_deleted(model)
        self._ordered[model.organization_id].remove(model)
        for field_name in _FILTERED_BY:
            self._filtered[model.organization_id, field_name, getattr(model, field_name)].remove(
                model
            )
        del self._filed[model.id]
        named = self._named.get(model.organization_id, {})
        if named.get(model.name) is model:
            del named[model.name]
            self._freed(model.organization_id, model.name)

    def _listing_key(self, model: Model) -> tuple[float, int]:
        return (model.created_at, self._filed[model.id])

    def _freed(self, organization_id: str, name: str) -> None:
        numbered = _NUMBERED.fullmatch(name)
        if numbered is not None:
            floor = (organization_id, numbered[1])
            if floor in self._suffix_floor:
                self._suffix_floor[floor] = min(self._suffix_floor[floor], int(numbered[2]))

    def _rename(self, model: Model, name: str) -> None:
        named = self._named.setdefault(model.organization_id, {})
        if named.get(model.name) is model:
            del named[model.name]
            self._freed(model.organization_id, model.name)
        with self._world.catalog.model_changing(model):
            model.name = name
        named[name] = model
        self._world.deployments.model_renamed(model)

    def record_training(self, run: TrainingRun, at: float) -> str:
        """Turn a completed run into a model, or into a new version of its target model.

        The version reads its metrics from the run when they are first read.
        """
        world = self._world
        pipeline = PIPELINES[run.pipeline_type]
        target = world.models.get(run.version_of_model_id) if run.version_of_model_id else None
        number = len(target.versions) + 1 if target is not None else 1
        # Positional, as a catch-up makes one or two of these per run it ends (keywords
        # cost a dataclass's __init__ a dict of them, about three times the call).
        version = ModelVersion(
            # Drawn now, in its place in the sequence; formatted when first read.
            world.ids.uuid_bits(),  # id_drawn
            number,
            run,
            run.plan.variant.architecture,
            None,  # metrics_memo: read from the run when first asked for
            run.export_name,
            # The config and the classes are shared with the run: neither is ever changed
            # in place, and two containers fewer per completed run are less memory and
            # less for the garbage collector to walk.
            run.config,  # training_config
            run.classes,
            at,  # created_at
        )
        if target is not None:
            version.model_name = target.name
            target.versions.append(version)
            target.updated_at = at
            return target.id
        dataset = world.datasets.get(run.dataset_id)
        organization_id = run.organization_id
        version.model_name = name = self._free_name(organization_id, run.name)
        model = Model(
            world.ids.uuid(),  # id
            organization_id,
            name,
            pipeline.model_type,
            pipeline.name,  # pipeline_type
            run.dataset_id,
            dataset.name if dataset else None,  # dataset_name
            at,  # created_at
            at,  # updated_at
            [version],  # versions
        )
        self._file(model)
        return model.id

    def _free_name(self, organization_id: str, wanted: str, *, ignore: str | None = None) -> str:
        """``wanted``, or ``wanted (2)``, ``(3)``… when the organization already has it (the
        base shortened to keep the name within the limit: :func:`numbered_name`)."""
        named = self._named.get(organization_id, {})
        holder = named.get(wanted)
        if holder is None or holder.id == ignore:
            return wanted
        # A rename ignores its own model, which may hold a name below the floor.
        n = self._suffix_floor.get((organization_id, wanted), 2) if ignore is None else 2
        while (
            holder := named.get(candidate := numbered_name(wanted, n))
        ) is not None and holder.id != ignore:
            n += 1
        # The floor is kept only while the numbered names are `wanted (n)` in full: a
        # shortened one, once freed, is read back by `_freed` as another base's, so it
        # could not lower this floor again.
        if ignore is None and candidate == f"{wanted} ({n})":
            self._suffix_floor[organization_id, wanted] = n
        return candidate

    # ── reads ──

    def find(self, key: ApiKey, ref: str) -> Model:
        """Resolve a model segment: a UUID of the organization, else its unique name."""
        return self.of_organization(key.organization_id, ref)

    def of_organization(self, organization_id: str, ref: str) -> Model:
        """The organization's model with the id or name ``ref``, or 404."""
        model = by_id(self._world.models, ref)
        if model is not None and model.organization_id == organization_id:
            return model
        named = self._named.get(organization_id, {}).get(ref)
        if named is not None:
            return named
        raise NotFound(f"Model '{ref}' not found")

    def listing(
        self,
        key: ApiKey,
        *,
        name: str | None,
        dataset_name: str | None,
        status: str | None,
        model_type: str | None,
    ) -> Sequence[Model]:
        """The organization's models, newest first (then by id, descending), filtered.

        Unfiltered or by one field, a view (a page of it costs the page); by a name or
        several fields, a list of what the name, or the first field, picks out.
        """
        org_id = key.organization_id
        ordered = self._ordered.get(org_id)
        if ordered is None:
            return []
        dataset_id: str | None = None
        if dataset_name is not None:
            # The dataset the name names now, as the training listing reads it: a renamed
            # dataset's models are found by its new name, and a deleted one's by none.
            try:
                dataset_id = self._world.dataset(org_id, dataset_name).id
            except NotFound:
                return []
        candidates: Iterable[Model]
        if name is not None:
            named = self._named.get(org_id, {}).get(name)
            candidates = [named] if named is not None else []
        else:
            filters = zip(_FILTERED_BY, (dataset_id, status, model_type), strict=True)
            given = [(field_name, value) for field_name, value in filters if value is not None]
            if not given:
                return ordered.newest
            field_name, value = given[0]
            index = self._filtered.get((org_id, field_name, value))
            if index is None:
                return []
            if len(given) == 1:
                return index.newest
            candidates = index.newest
        return [
            m
            for m in candidates
            if (dataset_id is None or m.dataset_id == dataset_id)
            and (status is None or m.status == status)
            and (model_type is None or m.model_type == model_type)
        ]

    # ── writes ──

    def update(self, key: ApiKey, model: Model, changes: dict[str, Any]) -> Model:
        """Apply a PATCH: rename (unique), description, readme, visibility, license."""
        if "visibility" in changes and changes["visibility"] != model.visibility:
            key.require("admin", "change a model's visibility")
        new_name = changes.get("name")
        if new_name is not None and new_name != model.name:
            if self._free_name(model.organization_id, new_name, ignore=model.id) != new_name:
                # A 400, not a 409: the SDK's `models.update` documents this refusal so.
                raise InvalidRequest(
                    f"A model named '{new_name}' already exists in this organization; "
                    "choose another new_name",
                    status=400,
                )
            self._rename(model, new_name)
        for field_name in ("description", "readme", "license_id", "license_custom_text"):
            if field_name in changes:
                setattr(model, field_name, changes[field_name])
        if "visibility" in changes:
            # Explore lists a public, ready model from now on (and no longer a private one).
            self._world.catalog.model_visibility(model, changes["visibility"])
        model.updated_at = self._world.now()
        return model

    def delete(self, key: ApiKey, model: Model) -> None:
        """Remove ``model``; its live deployments are terminated with it."""
        self._world.deployments.model_deleted(model)
        self._unfile(model)

    def fork(self, key: ApiKey, organization: str, ref: str, name: str | None) -> Model:
        """Copy a public, ready model of any organization into the key's, as version 1.

        ``organization`` is the owner's slug; ``ref`` the model's slug or display name.
        One 404 for a model that does not exist, is private or is not ready; 400 when it
        has no ready version (no weights to import). A taken name gets ``" (2)"``...
        """
        source = self._world.catalog.model(organization, ref)
        return self._fork(key, source, f"{organization}/{ref}", name)

    def fork_by_id(self, key: ApiKey, model_id: str) -> Model:
        """:meth:`fork` of the public model whose id is ``model_id``, as SDK 1.5.0 to
        1.69.43 address it (``models/{id}/fork``), under its own name."""
        return self._fork(key, self._world.catalog.model_by_id(model_id), model_id, None)

    def _fork(self, key: ApiKey, source: Model | None, named: str, name: str | None) -> Model:
        """The copy of ``source`` (``named`` so by the caller) in the key's organization."""
        world = self._world
        if source is None:
            raise NotFound(f"Public model '{named}' not found")
        ready = [v for v in source.versions if v.status == "ready"]
        if not ready:
            raise InvalidRequest(f"Model '{named}' has no weights to import.", status=400)
        origin = source.current if source.current.status == "ready" else ready[-1]
        now = world.now()
        version = ModelVersion(
            id_drawn=world.ids.uuid(),
            number=1,
            run=None,
            architecture=origin.architecture,
            metrics_memo=dict(origin.metrics),
            export_name=origin.export_name,
            training_config=dict(origin.training_config),
            classes=list(origin.classes),
            created_at=now,
            precision=origin.precision,
            model_name=self._free_name(
                key.organization_id, name if name is not None else source.name
            ),
        )
        copy = Model(
            id=world.ids.uuid(),
            organization_id=key.organization_id,
            name=version.model_name,
            model_type=source.model_type,
            pipeline_type=source.pipeline_type,
            dataset_id=None,
            dataset_name=None,
            created_at=now,
            updated_at=now,
            versions=[version],
            description=source.description,
            readme=source.readme,
            license_id=source.license_id,
            license_custom_text=source.license_custom_text,
            forked_from_model_id=source.id,
        )
        self._file(copy)
        return copy

    def bulk_delete(self, key: ApiKey, model_ids: list[str]) -> tuple[list[str], list[str]]:
        if not model_ids:
            raise InvalidRequest(
                "model_ids must name at least one model.",
                errors=[field_error(("body", "model_ids"), "must not be empty", "too_short")],
            )
        succeeded: list[str] = []
        not_found: list[str] = []
        for model_id in distinct_ids(model_ids):
            model = self._world.models.get(canonical_id(model_id))
            if model is None or model.organization_id != key.organization_id:
                not_found.append(model_id)
                continue
            self.delete(key, model)
            succeeded.append(model_id)
        return succeeded, not_found

    def set_current_version(self, key: ApiKey, model: Model, version_id: str | None) -> Model:
        if version_id is None:
            model.pinned_version_id = None
        else:
            version = model.version(version_id)
            if version is None:
                raise NotFound(f"Version '{version_id}' not found for model '{model.name}'")
            if version.status != "ready":
                raise InvalidRequest(
                    f"Version '{version_id}' is {version.status}; only a ready version can be "
                    f"made current.",
                    status=400,
                )
            model.pinned_version_id = version.id
        model.updated_at = self._world.now()
        return model

    def file(self, model: Model, version: ModelVersion, name: str) -> ModelFile:
        for candidate in version_files():
            if candidate.name == name:
                return candidate
        raise NotFound(
            f"Model '{model.name}' version {version.label} has no file '{name}'; it has "
            + ", ".join(f.name for f in version_files())
        )


def slugify(name: str) -> str:
    """A name as its URL slug: lower-case words of letters and digits joined by ``-``."""
    return "-".join("".join(c if c.isalnum() else " " for c in name).lower().split())
