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
"""

from __future__ import annotations

from pictograph_testing._sdk.layout import AsyncClientUnavailable
from pictograph_testing.api.unserved import UnservedCall
from pictograph_testing.catalog import GPU_TIERS, PIPELINES, PROFILES
from pictograph_testing.clock import VirtualClock
from pictograph_testing.fake import FakeOrganization, FakePictograph
from pictograph_testing.faults import FaultSpec
from pictograph_testing.strictness import StrayRequest, TeardownCheckFailed
from pictograph_testing.transport import FakeTransport
from pictograph_testing.webhooks import WebhookRequest
from pictograph_testing.world.training import RunView

__all__ = [
    "GPU_TIERS",
    "PIPELINES",
    "PROFILES",
    "AsyncClientUnavailable",
    "FakeOrganization",
    "FakePictograph",
    "FakeTransport",
    "FaultSpec",
    "RunView",
    "StrayRequest",
    "TeardownCheckFailed",
    "UnservedCall",
    "VirtualClock",
    "WebhookRequest",
]
__version__ = "0.1.0"
