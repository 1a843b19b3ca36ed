"""``/api/v1/developer/directories``: a dataset's virtual directories.

A directory is addressed by its dataset (a name or an id, one segment) and its path,
whose ``/`` are kept (``directories/road-signs/train/cars/stats``). The reads (list and
tree) answer bare arrays, create and rename ``{"data": ...}``.

The directories resource arrived in SDK 1.69.43, calling id-addressed paths
(``directories/list/{id}``, ``directories/tree/{id}``, ``directories/{id}/stats``...)
that the API never served; the sync client calls the paths below from 1.69.44, the async
one from 1.69.48. The old paths are declared ``unrouted``: the API's own "No route" 404,
not a gap of the fake. So are the ``folders/...`` paths of the releases before (the API
renamed the resource with 1.69.43). So is the root (``directory_path="/"`` or ``""``, sent as an
empty segment or none): it is the dataset itself, no directory to count, rename or
delete.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pictograph_testing.api.dialects import (
    DIRECTORY_IDS,
    DIRECTORY_IDS_CREATE,
    FOLDERS,
    Wire,
)
from pictograph_testing.api.spec import EXAMPLE_DATASET, Bool, Field, Obj, Param, Str
from pictograph_testing.api.table import Bare, Data, endpoint
from pictograph_testing.api.wire import Call, Reply, reply
from pictograph_testing.world.images import directory_path

if TYPE_CHECKING:
    from pictograph_testing.world.entities import Dataset, Directory

__all__: list[str] = []


def _dataset(call: Call) -> Dataset:
    return call.world.dataset(call.key.organization_id, call.path_args["dataset"])


def _directory(call: Call) -> tuple[Dataset, Directory]:
    dataset = _dataset(call)
    path = directory_path(call.path_args["path"], ("path", "directory_path"))
    return dataset, call.world.directory_service.at(dataset, path)


def _row(call: Call, directory: Directory, counts: tuple[int, int]) -> dict[str, Any]:
    """The ``Directory`` object, in every reply that has one.

    The API's reads still send the dataset and the path under their legacy names
    (``project_id``, ``full_path``) and its writes under the canonical ones
    (``dataset_id``, ``directory_path``); both are sent everywhere, as an image's
    ``project_id`` is, so a reader of either finds its key.
    """
    rows = call.world.directory_service
    dataset = call.world.datasets[directory.dataset_id]
    parent = directory.parent_path
    return {
        "id": directory.id,
        "dataset_id": directory.dataset_id,
        "project_id": directory.dataset_id,
        "organization_id": directory.organization_id,
        "name": directory.name,
        "parent_directory_id": rows.at(dataset, parent).id if parent != "/" else None,
        "full_path": directory.path,
        "directory_path": directory.path,
        "image_count": counts[0],
        "nested_image_count": counts[1],
        "created_by": directory.created_by,
        "created_at": call.iso(directory.created_at),
        "updated_at": call.iso(directory.updated_at),
    }


def _written(call: Call, dataset: Dataset, directory: Directory) -> Reply:
    counts = call.world.directory_service.image_counts(dataset)[directory.path]
    return reply({"data": _row(call, directory, counts)})


@endpoint(
    "GET",
    "directories/{dataset}",
    summary="A dataset's directories: all of them, or the children of one",
    sdk=("directories.list",),
    reply=Bare("DirectoryList"),
    query=(
        Param(
            "parent_path",
            Str(),
            description="Only the directories directly in this one ('' or '/': the top level).",
        ),
    ),
    unrouted=(
        ("directories/list/{dataset_id:uuid}", DIRECTORY_IDS),
        ("folders/list/{dataset_id}", (FOLDERS,)),
    ),
)
def list_directories(call: Call) -> Reply:
    dataset = _dataset(call)
    service = call.world.directory_service
    parent = call.args["parent_path"]
    if parent is None:
        rows = service.of_dataset(dataset)
    else:
        rows = service.children(dataset, directory_path(parent, ("query", "parent_path")))
    counts = service.image_counts(dataset)
    return reply([_row(call, d, counts[d.path]) for d in rows])


@endpoint(
    "GET",
    "directories/{dataset}/tree",
    summary="A dataset's directories as a tree, children nested",
    sdk=("directories.tree",),
    reply=Bare("DirectoryTree"),
    unrouted=(
        ("directories/tree/{dataset_id:uuid}", DIRECTORY_IDS),
        ("folders/tree/{dataset_id}", (FOLDERS,)),
    ),
)
def tree(call: Call) -> Reply:
    dataset = _dataset(call)
    service = call.world.directory_service
    counts = service.image_counts(dataset)
    nodes: dict[str, dict[str, Any]] = {}
    top: list[dict[str, Any]] = []
    # Parents come before their children, so each child finds its parent's node.
    for directory in service.of_dataset(dataset):
        own, nested = counts[directory.path]
        node: dict[str, Any] = {
            "id": directory.id,
            "name": directory.name,
            "full_path": directory.path,
            "image_count": own,
            "nested_image_count": nested,
            "children": [],
        }
        nodes[directory.path] = node
        parent = nodes.get(directory.parent_path)
        (top if parent is None else parent["children"]).append(node)
    return reply(top)


@endpoint(
    "GET",
    "directories/{dataset}/{path...}/stats",
    summary="Image totals of a directory, with or without its subdirectories",
    sdk=("directories.stats",),
    reply=Bare("DirectoryStats"),
    query=(Param("include_subdirectories", Bool(), default=True),),
    unrouted=(
        ("directories/{directory_id:uuid}/stats", DIRECTORY_IDS),
        ("folders/{folder_id}/stats", (FOLDERS,)),
        ("directories/{dataset}//stats", ()),
        ("directories/{dataset}/stats", ()),
    ),
)
def stats(call: Call) -> Reply:
    dataset, directory = _directory(call)
    counted, tally = call.world.directory_service.stats(
        dataset, directory, include_subdirectories=call.args["include_subdirectories"]
    )
    return reply(
        {
            "total_directories": counted,
            "total_images": tally.live,
            "total_size_bytes": tally.live_bytes,
            # Keyed by the images' review stage, whatever the name says.
            "directories_by_status": tally.by_status(),
        }
    )


@endpoint(
    "DELETE",
    "directories/{dataset}/{path...}",
    summary="Delete an empty directory, or move its images to its parent first (cascade)",
    sdk=("directories.delete",),
    reply=Bare("DirectoryDeleted"),
    query=(Param("cascade", Bool(), default=False),),
    role="member",
    action="delete directories",
    errors=(400, 403, 409),
    unrouted=(
        ("directories/{directory_id:uuid}", DIRECTORY_IDS),
        ("folders/{folder_id}", (FOLDERS,)),
        ("directories/{dataset}/", ()),
        ("directories/{dataset}", ()),
    ),
)
def delete(call: Call) -> Reply:
    dataset, directory = _directory(call)
    moved = call.world.directory_service.delete(dataset, directory, cascade=call.args["cascade"])
    return reply({"success": True, "directory_id": directory.id, "images_moved": moved})


@endpoint(
    "POST",
    "directories/",
    summary="Create a directory (and its parents); an existing one is returned",
    sdk=("directories.create",),
    reply=Data("Directory"),
    body=Obj(
        {
            "dataset": Field(Str(min_length=1, example=EXAMPLE_DATASET), required=True),
            "directory_path": Field(Str(min_length=1, example="/train/positive"), required=True),
        }
    ),
    role="member",
    action="create directories",
    errors=(403,),
    wires=(
        Wire(
            DIRECTORY_IDS_CREATE,
            renames={"dataset_id": "dataset"},
            note="the dataset as `dataset_id`",
        ),
    ),
    unrouted=(("folders/", (FOLDERS,)),),
)
def create(call: Call) -> Reply:
    body = call.fields()
    world = call.world
    dataset = world.dataset(call.key.organization_id, body["dataset"])
    directory = world.directory_service.create(
        dataset, body["directory_path"], created_by=call.key.created_by
    )
    return _written(call, dataset, directory)


@endpoint(
    "PATCH",
    "directories/{dataset}/{path...}/rename",
    summary="Rename a directory: its subdirectories and images move with it",
    sdk=("directories.rename",),
    reply=Data("Directory"),
    body=Obj({"new_name": Field(Str(), required=True)}),
    role="member",
    action="rename directories",
    errors=(403, 409),
    unrouted=(
        ("directories/{directory_id:uuid}/rename", DIRECTORY_IDS),
        ("folders/{folder_id}/rename", (FOLDERS,)),
        ("directories/{dataset}//rename", ()),
        ("directories/{dataset}/rename", ()),
    ),
)
def rename(call: Call) -> Reply:
    dataset, directory = _directory(call)
    renamed = call.world.directory_service.rename(dataset, directory, call.fields()["new_name"])
    return _written(call, dataset, renamed)
