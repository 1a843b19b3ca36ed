"""pictograph-testing: a stateful, deterministic in-memory fake of the Pictograph API.

The real ``pictograph`` SDK runs against it unmodified::

    from pictograph_testing import FakePictograph

    with FakePictograph(seed=1) as fake:
        fake.add_dataset("road-signs", images=20, completed_images=12)
        fake.add_export("road-signs", "v1")
        run = fake.client().training.create(
            "road-signs", "v1", pipeline_type="yolox", name="run-1", wait=True
        )
        assert run.status == "completed"

Every public name is imported on first use (PEP 562), so importing the package, as the
pytest plugin does in every run of a project that installs it, costs next to nothing
until a test touches the fake.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pictograph_testing._sdk.layout import AsyncClientUnavailable
    from pictograph_testing.api.unserved import UnservedCall
    from pictograph_testing.catalog import GPU_TIERS, PIPELINES, PROFILES
    from pictograph_testing.clock import VirtualClock
    from pictograph_testing.fake import FakeOrganization, FakePictograph
    from pictograph_testing.faults import FaultSpec
    from pictograph_testing.strictness import StrayRequest, TeardownCheckFailed
    from pictograph_testing.transport import FakeTransport
    from pictograph_testing.webhooks import WebhookRequest
    from pictograph_testing.world.streams import Camera, StreamView
    from pictograph_testing.world.training import RunView
    from pictograph_testing.world.video_files import mp4_header

__all__ = [
    "GPU_TIERS",
    "PIPELINES",
    "PROFILES",
    "AsyncClientUnavailable",
    "Camera",
    "FakeOrganization",
    "FakePictograph",
    "FakeTransport",
    "FaultSpec",
    "RunView",
    "StrayRequest",
    "StreamView",
    "TeardownCheckFailed",
    "UnservedCall",
    "VirtualClock",
    "WebhookRequest",
    "mp4_header",
]
__version__ = "0.1.0"

# Where each public name lives: the module is imported when the name is first read.
_HOMES = {
    "AsyncClientUnavailable": "pictograph_testing._sdk.layout",
    "UnservedCall": "pictograph_testing.api.unserved",
    "GPU_TIERS": "pictograph_testing.catalog",
    "PIPELINES": "pictograph_testing.catalog",
    "PROFILES": "pictograph_testing.catalog",
    "VirtualClock": "pictograph_testing.clock",
    "FakeOrganization": "pictograph_testing.fake",
    "FakePictograph": "pictograph_testing.fake",
    "FaultSpec": "pictograph_testing.faults",
    "StrayRequest": "pictograph_testing.strictness",
    "TeardownCheckFailed": "pictograph_testing.strictness",
    "FakeTransport": "pictograph_testing.transport",
    "WebhookRequest": "pictograph_testing.webhooks",
    "RunView": "pictograph_testing.world.training",
    "Camera": "pictograph_testing.world.streams",
    "StreamView": "pictograph_testing.world.streams",
    "mp4_header": "pictograph_testing.world.video_files",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # the next read is a plain global
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
