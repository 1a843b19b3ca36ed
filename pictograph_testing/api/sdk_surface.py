"""The SDK's public methods that the fake does not serve, each with what it does instead.

Every public method of a resource reached from a ``pictograph.Client`` or a
``pictograph.AsyncClient`` (``client.models.fork`` is ``"models.fork"``) is in exactly one
of three places:

* **served**: the methods that the served endpoints of
  :data:`pictograph_testing.openapi.ROUTES` declare (``Route.sdk``), except those in
  :data:`CLIENT_SIDE`. A route may also name the client-side methods that reach it
  (``annotations.import_*`` on ``POST /annotations/bulk``). No served method is
  repeated here.
* :data:`CLIENT_SIDE`: methods that send no request of their own. They only compose
  other, served methods or work on local files, so they work against the fake. The value
  says what the method does instead.
* :data:`NOT_SERVED`: methods that send requests the fake answers with ``404``
  ``not_implemented_by_fake`` (see ``api/unserved.py``: the message names the route and
  these methods, and ``FakePictograph.unserved_calls`` records the call). The value
  gives those routes as the SDK sends them, relative to ``/api/v1/developer`` and without
  query strings. Several routes are joined with ``", "``, and a short note in parentheses
  says when a route is conditional, polled or paged. A route outside ``/api/v1/developer``
  is written in full (``/api/v1/...``), and signed URLs or other hosts are named as such.
  Only routes that the fake does not answer are listed. A lookup through a served route,
  such as a dataset, model, image or export name resolved to its id, is left out. A lookup
  through an unserved route is listed.

A method that only composes unserved methods (a ``wait_for_*`` poll, ``reply``,
``resolve``) is in :data:`NOT_SERVED` with the routes it ends up sending, because it does
not work against the fake either.

The route table's fidelity page and the SDK-surface test read these two mappings together
with the served endpoints' declared SDK methods. The test fails when a public SDK method is
in none of the three, or in more than one.

Written against ``pictograph`` 1.69.146. The async client has the same resources and
methods, except for five sync-only methods with no async twin: ``auto_annotate.dataset``,
``datasets.as_pytorch``, ``images.augment``, ``images.tile`` and ``models.load``. The
mappings are keyed by the union of the two.
"""

from __future__ import annotations

__all__ = ["CLIENT_SIDE", "NOT_SERVED"]

CLIENT_SIDE: dict[str, str] = {
    # annotations: parse local files, then save through served routes
    "annotations.import_coco": (
        "parses a COCO JSON file locally, then matches images with datasets.get and "
        "images.iter, adds missing classes with datasets.update and saves with "
        "annotations.bulk_save"
    ),
    "annotations.import_pascal_voc": (
        "parses Pascal VOC XML files locally, then matches images with datasets.get and "
        "images.iter, adds missing classes with datasets.update and saves with "
        "annotations.bulk_save"
    ),
    "annotations.import_yolo": (
        "parses YOLO label files locally, then matches images with datasets.get and "
        "images.iter, adds missing classes with datasets.update and saves with "
        "annotations.bulk_save"
    ),
    # datasets
    "datasets.as_pytorch": (
        "reads datasets.get(include_images=True), then returns a torch Dataset that fetches "
        "each item with images.download and annotations.get (needs torch; sync only)"
    ),
    # deployments: a static constructor, no request
    "deployments.connect": (
        "builds a DeploymentClient for the deployment's endpoint_url; it sends nothing "
        "itself. Its infer, infer_raw and open_stream go to the deployment's gateway, "
        "which the fake answers too (a stream's results socket in process; its WebRTC "
        "video is not simulated)"
    ),
    # images: local Pillow work between served downloads and uploads
    "images.augment": (
        "downloads each image and its annotations (datasets.get, images.iter, "
        "images.download, annotations.get), augments them locally, then uploads with "
        "images.upload and saves with annotations.save (sync only)"
    ),
    "images.tile": (
        "downloads each image and its annotations (datasets.get, images.iter, "
        "images.download, annotations.get), cuts tiles locally, then uploads with "
        "images.upload and saves with annotations.save (sync only)"
    ),
    # models
    "models.load": (
        "looks the model up with models.get_by_name, downloads its weights with "
        "models.download (and models.files / models.download_file), then builds an "
        "inference engine locally (sync only)"
    ),
    # workflows: a static constructor, no request
    "workflows.connect": (
        "builds a DeploymentClient for the workflow endpoint's endpoint_url and token; it "
        "sends nothing itself. Its open_stream goes to the endpoint on the gateway, which "
        "the fake answers (each frame through the workflow's graph)"
    ),
}

NOT_SERVED: dict[str, str] = {}
"""Empty for 1.69.146: the fake serves every method that sends a request. Kept for the
next release: a method it adds is listed here, with its routes, until it is served (the
SDK-surface test fails while it is in none of the three places), so that its calls are
named in the 404 ``not_implemented_by_fake`` and in ``FakePictograph.unserved_calls``."""
