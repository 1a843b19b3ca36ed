"""Every resource module of the API, imported so that its endpoints are declared."""

from __future__ import annotations

from pictograph_testing.api import annotations as annotation_routes  # noqa: F401

# Training first: the order of declaration is the order of the document and the docs.
from pictograph_testing.api import (  # noqa: F401  # noqa: F401
    api_keys,
    auto_annotate,
    batch,
    comments,
    connectors,
    credits,
    datasets,
    deployments,
    directories,
    evaluations,
    explore,
    exports,
    images,
    jobs,
    models,
    notifications,
    organizations,
    predictions,
    retired,
    sam3,
    search,
    tasks,
    tools,
    training,
    video,
    webhooks,
    workflows,
)
from pictograph_testing.api.table import ENDPOINTS, RETIRED, Router

__all__ = ["ENDPOINTS", "ROUTER"]

ROUTER = Router(ENDPOINTS, RETIRED)
"""Dispatches every request under ``/api/v1/developer/``, and the few routes written in
full outside it (see ``api/app.py``)."""
