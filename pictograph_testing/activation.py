"""Which fakes are active, and the SDK coupling that follows the innermost one.

While any fake is active: the SDK is coupled to the active fakes (its clock, jitter and
idempotency keys to the innermost one, its signed-URL transfers and respx's routes to
the fake owning a host, its client construction to skip TLS for them: see :mod:`._sdk`),
and ``PICTOGRAPH_API_KEY`` and ``PICTOGRAPH_BASE_URL`` name the innermost fake, so a
``pictograph.Client()`` built by the code under test reaches it.
The environment is restored when the last fake stops, and the coupling removed then,
unless it is held (:func:`hold`): the pytest plugin holds the coupling from one test's
fake to the next, as putting it in place costs more than the rest of a fake's set-up,
and releases it before a test that uses no fake of the plugin's. With no fake
active the coupling changes nothing: every lookup finds no fake and falls back on the
SDK's own behaviour.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TYPE_CHECKING

from pictograph_testing._sdk import SdkCoupling
from pictograph_testing._sdk.client_build import sdk_environment

if TYPE_CHECKING:
    import random
    from collections.abc import Callable
    from types import ModuleType

    import httpx

    from pictograph_testing.clock import VirtualClock
    from pictograph_testing.fake import FakePictograph
    from pictograph_testing.transport import FakeTransport

__all__ = [
    "activate",
    "active_fake",
    "coupling",
    "deactivate",
    "hold",
    "point_at_live",
    "release",
    "serves",
    "undo_stale_environment",
]

# A plain list, not a context variable: the SDK's upload thread pool must see the fake
# that the test's thread activated.
_stack: list[FakePictograph] = []
_lock = threading.Lock()
# The thread each active fake was started in (by the fake's id).
_started_in: dict[int, int] = {}
# What each active fake's `clock_modules` replaced, to put back when it stops.
_coupled: dict[int, list[tuple[ModuleType, str, object]]] = {}
# Whether the coupling stays in place when the last fake stops (see `hold`).
_held = False


def active_fake() -> FakePictograph | None:
    """The innermost active fake, or ``None``."""
    return _stack[-1] if _stack else None


def _clock() -> VirtualClock | None:
    fake = active_fake()
    return fake.clock if fake is not None else None


def _jitter() -> random.Random | None:
    fake = active_fake()
    return fake.jitter if fake is not None else None


def _keys() -> random.Random | None:
    fake = active_fake()
    return fake.idempotency_keys if fake is not None else None


def _owner(url: httpx.URL) -> FakeTransport | None:
    innermost = None
    for fake in reversed(_stack):
        if not fake.owns(url):
            continue
        if innermost is None:
            innermost = fake  # the innermost fake on the host answers, by default
            if len(_stack) == 1:
                break
        if fake.signed(url) or fake.holds_endpoint(url):
            # Nested fakes share a host: a signed transfer goes to the fake that minted
            # it (an outer fake's own client uploads while an inner one is active), and a
            # deployment's call to the fake whose world holds the deployment.
            return fake.transport_for(url)
    return innermost.transport_for(url) if innermost is not None else None


def serves(url: httpx.URL) -> bool:
    """Whether an active fake answers requests to ``url``'s host."""
    return any(fake.owns(url) for fake in _stack)


def _refuse(request: httpx.Request) -> str | None:
    # The innermost fake decides: a strict test keeps its requests off the network.
    fake = active_fake()
    return fake.refuse_stray(request) if fake is not None else None


coupling = SdkCoupling(
    clock=_clock, jitter=_jitter, keys=_keys, owner=_owner, serves=serves, refuse=_refuse
)
"""The one coupling of the SDK to the active fakes, installed while the stack is not empty."""

_KEY_VARIABLE = "PICTOGRAPH_API_KEY"
_URL_VARIABLE = "PICTOGRAPH_BASE_URL"
_VARIABLES = (_KEY_VARIABLE, _URL_VARIABLE)
# The values the environment had when the outermost active fake started.
_saved_environment: dict[str, str | None] = {}
# Every value (``None``: unset) the active fakes gave each variable since the outermost
# started; moved to `_stale` when it stops.
_written: dict[str, set[str | None]] = {}
# For each variable the last outermost fake to stop put back: the value put back, and
# the values fakes had given it, which only a stale write can bring back.
_stale: dict[str, tuple[str | None, set[str | None]]] = {}


def _point_environment() -> None:
    """Make ``PICTOGRAPH_*`` name the innermost fake (saving what they were first)."""
    fake = active_fake()
    if fake is None:
        return
    if not _saved_environment:
        _saved_environment.update({n: _variable(n) for n in _VARIABLES})
        # The SDK reads its settings in any case (`pictograph_base_url` too): another
        # spelling of either name is put aside while fakes run, so it cannot lead away.
        for name in _other_spellings():
            _saved_environment[name] = os.environ.pop(name)
            _written[name] = {None}
    _point(_KEY_VARIABLE, fake.api_key)
    # The default base URL too: without the variable the SDK's command line reads a base
    # URL from the user's config file (`pictograph login --base-url`), a staging one say.
    _point(_URL_VARIABLE, fake.base_url)


def _point(name: str, value: str | None) -> None:
    """Give a variable a fake's value, and remember it was a fake's."""
    written = _written.get(name)
    if written is None:
        _written[name] = {value}
    else:
        written.add(value)
    _set_variable(name, value)


def _other_spellings() -> list[str]:
    """Names in the environment that spell ``PICTOGRAPH_*`` in another case."""
    # Looked for as each test's fake starts: `sdk_environment` searches the encoded
    # table, where iterating os.environ would decode every name.
    return [
        name
        for name, _ in sdk_environment()
        if name.upper() in _VARIABLES and name not in _VARIABLES
    ]


def _restore_environment() -> None:
    """Put back the values ``PICTOGRAPH_*`` had when the outermost fake started."""
    for name, value in _saved_environment.items():
        _set_variable(name, value)
        # The last outermost stop's only: what is kept stays as small as one stop's.
        _stale[name] = (value, _written.pop(name, set()))
    _saved_environment.clear()


def point_at_live(base_url: str | None, api_key: str | None) -> Callable[[], None]:
    """Make ``PICTOGRAPH_*`` name a live API for a ``--pictograph-live`` session, so a
    ``pictograph.Client()`` built by the code under test goes where the fixtures' clients
    go, with their key; return what puts the environment back.

    ``None`` leaves a variable as it is (the SDK's default base URL, or the key already
    in ``PICTOGRAPH_API_KEY``). Another spelling of a name set is put aside meanwhile, as
    while a fake is active. A fake started during the session saves and restores these
    values in turn.
    """
    wanted = {_URL_VARIABLE: base_url, _KEY_VARIABLE: api_key}
    saved: dict[str, str | None] = {}
    for name in _other_spellings():
        if wanted.get(name.upper()) is not None:
            saved[name] = os.environ.pop(name)
    for name, value in wanted.items():
        if value is not None:
            saved[name] = os.environ.get(name)
            _set_variable(name, value)

    def restore() -> None:
        for name, value in saved.items():
            _set_variable(name, value)

    return restore


def undo_stale_environment() -> list[str]:
    """Put back what ``PICTOGRAPH_*`` held before the fakes, where a fake's value is back.

    Fakes put the variables back as the outermost stops; something that ran after that
    and restored what it saw while a fake was active (monkeypatch's undo of a test's
    ``delenv``, whose fixture was set up before the fake's) writes the fake's key back,
    where every later ``Client()`` would find it. A value of the test's own, a variable
    unset, or the variables while a fake is active, are left as they are. Returns the
    names put back.
    The pytest plugin calls this once a test's teardown is over.
    """
    with _lock:
        if _stack or not _stale:
            return []
        undone = []
        for name, (value, written) in _stale.items():
            now = _variable(name)
            # An unset variable is left unset: monkeypatch's undo of a fixture set up
            # before the fake deletes what it added, as it should, and a fake unsets too.
            if now is not None and now != value and now in written:
                _set_variable(name, value)
                undone.append(name)
        _stale.clear()
        return undone


_FS_ENCODING = sys.getfilesystemencoding()


def _variable(name: str) -> str | None:
    """``os.environ.get(name)``, read where POSIX CPython keeps the environment encoded.

    A fake's start and stop read these variables six times: through the mapping each
    read runs three Python-level functions (about 0.8 µs), in its table one lookup
    (0.02 µs). The table is the mapping's own, kept in step with every write through
    ``os.environ`` (``monkeypatch.setenv`` among them).
    """
    table = getattr(os.environ, "_data", None)
    if os.name != "posix" or not isinstance(table, dict):
        return os.environ.get(name)
    value = table.get(name.encode(_FS_ENCODING, "surrogateescape"))
    return None if value is None else value.decode(_FS_ENCODING, "surrogateescape")


def _set_variable(name: str, value: str | None) -> None:
    # Read first: a lookup costs less than the putenv (or unsetenv) a change makes.
    if _variable(name) != value:
        if value is None:
            del os.environ[name]
        else:
            os.environ[name] = value


def activate(fake: FakePictograph) -> None:
    """Make ``fake`` the innermost active fake; couple the SDK on the first activation."""
    with _lock:
        if fake in _stack:
            raise RuntimeError("this FakePictograph is already active")
        thread = threading.get_ident()
        if any(_started_in[id(other)] != thread for other in _stack):
            # One process, one innermost fake: the SDK's clock, PICTOGRAPH_* and the
            # interception of its own clients follow it in every thread, so a second
            # fake in another thread would take over the first's clients and clock.
            raise RuntimeError(
                "another thread has a FakePictograph active: fakes are process-wide (the "
                "SDK's clock, PICTOGRAPH_* and the interception of Client() follow the "
                "innermost one in every thread), so they cannot run side by side in "
                "threads. Start them one after another, or in separate processes "
                "(pytest-xdist); threads of one test share its fake."
            )
        _stack.append(fake)
        _started_in[id(fake)] = thread
        if len(_stack) == 1:
            coupling.install()
        for host in fake.host_keys:
            coupling.route(host)
        if fake.clock_modules:
            try:
                _coupled[id(fake)] = coupling.couple_modules(fake.clock_modules)
            except ValueError:
                _stack.remove(fake)
                del _started_in[id(fake)]
                for host in fake.host_keys:
                    coupling.unroute(host)
                _uncouple_if_idle()
                raise
        _point_environment()


def deactivate(fake: FakePictograph) -> None:
    """Deactivate ``fake``; uncouple the SDK when no fake is left active."""
    with _lock:
        if fake not in _stack:
            raise RuntimeError("this FakePictograph is not active")
        _stack.remove(fake)
        del _started_in[id(fake)]
        coupling.uncouple_modules(_coupled.pop(id(fake), []))
        for host in fake.host_keys:
            # Held, a host's route stays (answering nothing while no fake serves it):
            # the next fake most often serves the same hosts.
            coupling.unroute(host, keep_route=_held)
        if _stack:
            _point_environment()
        else:
            # Restored as each outermost fake stops, held or not: a test's own setting of
            # a variable (monkeypatch's, undone after the fake stops) then finds what it
            # set, and puts back what it found.
            _restore_environment()
        _uncouple_if_idle()


def hold() -> None:
    """Keep the SDK coupled when the last fake stops, until :func:`release`.

    For a run of fakes in quick succession (a fixture's, one per test): each then
    activates and deactivates without putting the coupling in place and taking it out.
    """
    global _held
    with _lock:
        _held = True


def release() -> None:
    """Undo :func:`hold`: uncouple the SDK now if no fake is active, else when the last stops."""
    global _held
    with _lock:
        _held = False
        _uncouple_if_idle()


def _uncouple_if_idle() -> None:
    """Uncouple the SDK if no fake is active and nothing holds it (under ``_lock``)."""
    if not _stack and not _held:
        coupling.uninstall()
        _restore_environment()
