"""A polled run's reply, written by hand for speed, is the generic encoder's bytes.

``GET training/{run}`` is the hot path of every test that waits: its reply is joined
from pieces kept per run (see ``api.training.run_reply``). ``GET training/`` encodes the
same run with the general-purpose JSON encoder. At any instant, in any state, the two
must say the same thing in the same bytes.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pictograph_testing import FakePictograph
from pictograph_testing.api.spec import DOT_SEGMENTS
from pictograph_testing.api.wire import encode
from pictograph_testing.world.entities import TERMINAL
from tests.conftest import DATASET, EXPORT

# Quotes, backslashes and text outside ASCII: what JSON must escape or may pass through
# (a name the API takes: not blank, and not a path's `.` or `..`).
NAMES = st.text(alphabet='abcXYZ019 -_."\\é中🙂', min_size=1, max_size=30).filter(
    lambda name: bool(name.strip()) and name not in DOT_SEGMENTS
)
FATES = st.sampled_from(["completes", "oom", "preempted", "cancelled"])
# Seconds between polls: within the cold start, across epochs, past the end.
WAITS = st.lists(st.integers(min_value=0, max_value=150), min_size=1, max_size=8)


@given(name=NAMES, fate=FATES, waits=WAITS)
def test_a_polled_run_reads_byte_for_byte_as_its_listing_entry(
    name: str, fate: str, waits: list[int]
) -> None:
    with FakePictograph(seed=7) as fake:
        fake.add_dataset(DATASET, images=20, completed_images=20, classes=["a", "b"])
        fake.add_export(DATASET, EXPORT)
        if fate == "oom":
            fake.faults.fail_run(name, epoch=3, reason="oom")
        elif fate == "preempted":
            fake.faults.preempt_run(name, epoch=2)
        client = fake.client(max_retries=0)
        run = client.training.create(
            DATASET, EXPORT, pipeline_type="yolox", name=name, config={"epochs": 20}, wait=False
        )
        for step, seconds in enumerate(waits):
            fake.clock.advance(seconds)
            # Cancelled halfway, while it still can be (a finished run refuses).
            cancel = fate == "cancelled" and step == len(waits) // 2
            if cancel and client.training.get(run_id=run.id).status not in TERMINAL:
                client.training.cancel(run.id)
            polled = client.training.get(run_id=run.id)
            reply = fake.calls.last.response_body
            client.training.list()
            (entry,) = fake.calls.last.response_json()["data"]

            # The listing's entry, encoded by the encoder every other reply goes through.
            assert reply == encode({"data": entry})
            assert (polled.status, polled.name) == (entry["status"], name)
