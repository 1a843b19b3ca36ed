"""Which fakes are active, and the SDK couplings that follow the innermost one."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from pictograph_testing._sdk_http import SdkTransferRouting
from pictograph_testing._sdk_time import SdkClockCoupling

if TYPE_CHECKING:
    import random

    import httpx

    from pictograph_testing.clock import VirtualClock
    from pictograph_testing.fake import FakePictograph

__all__ = ["activate", "active_fake", "deactivate"]

# A plain list, not a context variable: the SDK's upload thread pool must see the fake
# that the test's thread activated.
_stack: list[FakePictograph] = []
_lock = threading.Lock()


def active_fake() -> FakePictograph | None:
    """The innermost active fake, or ``None``."""
    return _stack[-1] if _stack else None


def _clock() -> VirtualClock | None:
    fake = active_fake()
    return fake.clock if fake is not None else None


def _jitter() -> random.Random | None:
    fake = active_fake()
    return fake.jitter if fake is not None else None


def _owner(url: httpx.URL) -> httpx.BaseTransport | None:
    for fake in reversed(_stack):
        if fake.owns(url):
            return fake.transport()
    return None


_clock_coupling = SdkClockCoupling(_clock, _jitter)
_transfer_routing = SdkTransferRouting(_owner)


def activate(fake: FakePictograph) -> None:
    """Make ``fake`` the innermost active fake; couple the SDK on the first activation."""
    with _lock:
        if fake in _stack:
            raise RuntimeError("this FakePictograph is already active")
        _stack.append(fake)
        if len(_stack) == 1:
            _clock_coupling.install()
            _transfer_routing.install()


def deactivate(fake: FakePictograph) -> None:
    """Deactivate ``fake``; uncouple the SDK when no fake is left active."""
    with _lock:
        if fake not in _stack:
            raise RuntimeError("this FakePictograph is not active")
        _stack.remove(fake)
        if not _stack:
            _transfer_routing.uninstall()
            _clock_coupling.uninstall()
