"""``/api/v1/developer/search`` and a dataset's ``/duplicates``: finding images by their
auto-tags, by a picture like theirs, and the near-duplicates of a dataset.

What the fake takes for an embedding and for auto-tags, and what each route costs, is
in :mod:`pictograph_testing.world.search`. Search replies are read at the root
(``results``), the near-duplicate scan under ``data``. Releases before 1.69.43 name a
directory ``folder_path`` in the query and read ``virtual_folder_path`` (and a scan's
``folder_path``); ``near_duplicates`` arrived with 1.35.0, read at the root before 1.61
and sent by name as ``datasets/by-name/{name}/duplicates`` before 1.69.44.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pictograph_testing.api.dialects import (
    DATASETS_BY_NAME,
    LEGACY_ENVELOPES,
    NEAR_DUPLICATES,
    VIRTUAL_FOLDER_PATHS,
    Wire,
)
from pictograph_testing.api.spec import Int, List, Num, Param, Str
from pictograph_testing.api.table import Bare, Data, endpoint
from pictograph_testing.api.wire import Call, Reply, reply
from pictograph_testing.world.images import directory_path
from pictograph_testing.world.search import (
    TAG_CATEGORIES,
    TAG_MAX_LENGTH,
    DuplicateScan,
    auto_tags,
)

if TYPE_CHECKING:
    from pictograph_testing.world.entities import Image

__all__ = [
    "DUPLICATE_NEIGHBORS_CAP",
    "DUPLICATE_PAIRS_CAP",
    "DUPLICATE_SAMPLE_CAP",
    "SEARCH_RESULTS_CAP",
]

SEARCH_RESULTS_CAP = 500
"""The most results one search answers (``limit`` above it is taken as it)."""
DUPLICATE_SAMPLE_CAP = 2000
"""The most source images one near-duplicate scan compares (``sample``)."""
DUPLICATE_NEIGHBORS_CAP = 50
"""The most near-duplicates one source keeps (``neighbors``)."""
DUPLICATE_PAIRS_CAP = 10000
"""The most near-duplicate pairs one scan clusters (``max_pairs``)."""


def _with_folder_names(payload: Any) -> Any:
    """``payload`` with the names releases before 1.69.43 read beside today's, however
    deep: ``virtual_folder_path`` for ``virtual_directory_path``, ``folder_path`` for a
    scan's ``directory_path``."""
    if isinstance(payload, list):
        return [_with_folder_names(item) for item in payload]
    if not isinstance(payload, dict):
        return payload
    out = {key: _with_folder_names(value) for key, value in payload.items()}
    for today, old in (
        ("virtual_directory_path", "virtual_folder_path"),
        ("directory_path", "folder_path"),
    ):
        if today in out and old not in out:
            out[old] = out[today]
    return out


_FOLDER_NAMES = {"folder_path": "directory_path"}
_FOLDER_SEARCH = Wire(
    VIRTUAL_FOLDER_PATHS,
    renames=_FOLDER_NAMES,
    rewrite=_with_folder_names,
    note="`folder_path` in the query; adds `virtual_folder_path`",
)
_FOLDER_ROWS = Wire(
    VIRTUAL_FOLDER_PATHS, rewrite=_with_folder_names, note="adds `virtual_folder_path`"
)


def _row(image: Image) -> dict[str, Any]:
    """What a search result says of an image (never where its file is stored)."""
    return {
        "id": image.id,
        "dataset_id": image.dataset_id,
        # The dataset id under its old name, which releases before 1.69.44 require.
        "project_id": image.dataset_id,
        "filename": image.filename,
        "virtual_directory_path": image.directory_path,
        "status": image.status,
        "annotation_count": len(image.annotations),
        "image_auto_tags": auto_tags(image),
    }


def _tags_param(category: str) -> Param:
    return Param(
        category,
        List(Str(not_blank=True, max_length=TAG_MAX_LENGTH), noun="tags"),
        description=f"Tags required under `image_auto_tags.{category}` (repeat for more).",
    )


@endpoint(
    "GET",
    "search/by-tags",
    summary="The organization's images holding every tag asked for, by category",
    sdk=("search.by_tag",),
    reply=Bare("TaggedImages"),
    query=(
        *(_tags_param(category) for category in TAG_CATEGORIES),
        Param("dataset_name", Str(not_blank=True), description="Only this dataset's images."),
        Param("limit", Int(minimum=1, cap=SEARCH_RESULTS_CAP), default=50),
        Param("offset", Int(minimum=0), default=0),
    ),
    wires=(_FOLDER_ROWS,),
)
def by_tags(call: Call) -> Reply:
    wanted = {category: call.args[category] or [] for category in TAG_CATEGORIES}
    named = call.args["dataset_name"]
    dataset = call.world.dataset(call.key.organization_id, named) if named is not None else None
    found = call.world.search.by_tags(call.key.organization_id, wanted, dataset)
    offset, limit = call.args["offset"], call.args["limit"]
    chunk = found[offset : offset + limit]
    return reply(
        {
            "results": [_row(image) for image in chunk],
            "count": len(chunk),
            "filters": {**{c: tags or None for c, tags in wanted.items()}, "dataset_name": named},
            "pagination": {"limit": limit, "offset": offset},
        }
    )


@endpoint(
    "GET",
    "search/similar",
    summary="Images like one image of a dataset, in its directory, most similar first",
    sdk=("search.by_similarity",),
    reply=Bare("SimilarImages"),
    query=(
        Param("image_id", Str(format="uuid"), required=True),
        Param("threshold", Num(minimum=0, maximum=1), default=0.6),
        Param("limit", Int(minimum=1, cap=SEARCH_RESULTS_CAP), default=50),
        Param(
            "directory_path",
            Str(),
            description="Search this directory of the image's dataset, not the image's own.",
        ),
    ),
    errors=(409,),
    wires=(_FOLDER_SEARCH,),
)
def similar(call: Call) -> Reply:
    source = call.world.image_service.get(call.key.organization_id, call.args["image_id"])
    directory = call.args["directory_path"]
    if directory is not None:
        directory = directory_path(directory, ("query", "directory_path"))
    threshold = call.args["threshold"]
    found = call.world.search.similar(source, directory, threshold, call.args["limit"])
    return reply(
        {
            "results": [{**_row(image), "similarity": score} for image, score in found],
            "count": len(found),
            "threshold": threshold,
            "query_image_id": source.id,
        }
    )


@endpoint(
    "GET",
    "datasets/{dataset}/duplicates",
    summary="A dataset's near-duplicate images, in clusters (keep one of each)",
    sdk=("datasets.near_duplicates",),
    reply=Data("NearDuplicatesResult"),
    query=(
        Param("threshold", Num(minimum=0.5, maximum=0.9999), default=0.92),
        Param("sample", Int(minimum=1, cap=DUPLICATE_SAMPLE_CAP), default=1000),
        Param("neighbors", Int(minimum=1, cap=DUPLICATE_NEIGHBORS_CAP), default=10),
        Param("max_pairs", Int(minimum=1, cap=DUPLICATE_PAIRS_CAP), default=2000),
        Param(
            "directory_path",
            Str(),
            description="Scan only this directory's images (not its subdirectories').",
        ),
    ),
    span=NEAR_DUPLICATES,
    wires=(
        Wire(
            LEGACY_ENVELOPES,
            hoist=True,
            renames=_FOLDER_NAMES,
            rewrite=_with_folder_names,
            note="the result at the root, with `virtual_folder_path` and `folder_path`",
        ),
        Wire(
            VIRTUAL_FOLDER_PATHS,
            renames=_FOLDER_NAMES,
            rewrite=_with_folder_names,
            note="`folder_path` in the query; adds `virtual_folder_path` and `folder_path`",
        ),
    ),
    aliases=(("datasets/by-name/{dataset}/duplicates", DATASETS_BY_NAME),),
)
def near_duplicates(call: Call) -> Reply:
    dataset = call.world.dataset(call.key.organization_id, call.path_args["dataset"])
    directory = call.args["directory_path"]
    scan = DuplicateScan(
        threshold=call.args["threshold"],
        sample=call.args["sample"],
        neighbors=call.args["neighbors"],
        max_pairs=call.args["max_pairs"],
        directory=None
        if directory is None
        else directory_path(directory, ("query", "directory_path")),
    )
    return reply({"data": call.world.search.near_duplicates(dataset, scan)})
