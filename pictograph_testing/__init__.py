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
    from pictograph_testing.catalog import GPU_TIERS, PIPELINES, PROFILES, ProfileName
    from pictograph_testing.clock import VirtualClock
    from pictograph_testing.fake import FakeOrganization, FakePictograph
    from pictograph_testing.faults import FaultSpec
    from pictograph_testing.server import FakeServer
    from pictograph_testing.strictness import StrayRequest, TeardownCheckFailed
    from pictograph_testing.transport import FakeTransport
    from pictograph_testing.webhooks import Receiver, WebhookRequest
    from pictograph_testing.world.entities import Role, Visibility
    from pictograph_testing.world.members import MemberRole
    from pictograph_testing.world.streams import Camera, StreamView
    from pictograph_testing.world.tasks import TaskKind
    from pictograph_testing.world.training import FailureReason, RunView
    from pictograph_testing.world.video_files import mp4_header

__all__ = [
    "GPU_TIERS",
    "PIPELINES",
    "PROFILES",
    "AsyncClientUnavailable",
    "Camera",
    "FailureReason",
    "FakeOrganization",
    "FakePictograph",
    "FakeServer",
    "FakeTransport",
    "FaultSpec",
    "MemberRole",
    "ProfileName",
    "Receiver",
    "Role",
    "RunView",
    "StrayRequest",
    "StreamView",
    "TaskKind",
    "TeardownCheckFailed",
    "UnservedCall",
    "VirtualClock",
    "Visibility",
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
    "ProfileName": "pictograph_testing.catalog",
    "VirtualClock": "pictograph_testing.clock",
    "FakeOrganization": "pictograph_testing.fake",
    "FakePictograph": "pictograph_testing.fake",
    "FaultSpec": "pictograph_testing.faults",
    "FakeServer": "pictograph_testing.server",
    "StrayRequest": "pictograph_testing.strictness",
    "TeardownCheckFailed": "pictograph_testing.strictness",
    "FakeTransport": "pictograph_testing.transport",
    "Receiver": "pictograph_testing.webhooks",
    "WebhookRequest": "pictograph_testing.webhooks",
    "Role": "pictograph_testing.world.entities",
    "Visibility": "pictograph_testing.world.entities",
    "MemberRole": "pictograph_testing.world.members",
    "Camera": "pictograph_testing.world.streams",
    "StreamView": "pictograph_testing.world.streams",
    "TaskKind": "pictograph_testing.world.tasks",
    "FailureReason": "pictograph_testing.world.training",
    "RunView": "pictograph_testing.world.training",
    "mp4_header": "pictograph_testing.world.video_files",
}


# Hidden from type checkers: a module `__getattr__` would make every name, misspelt or
# not, an `Any` to them; they read the real names from the imports above instead.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        home = _HOMES.get(name)
        if home is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        globals()[name] = value  # the next read is a plain global
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})
