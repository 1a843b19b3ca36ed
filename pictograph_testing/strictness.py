"""What a test must leave behind: every fault fired, every call served, no stray request.

At teardown (the plugin's fixtures; ``FakePictograph`` as a context manager or a
decorator when the body raised nothing), :func:`teardown_problems` lists:

- faults armed and never fired (``fake.faults.unfired``), unless armed ``optional=True``
  or the fake was made with ``assert_all_fired=False``: a fault with a typo in its
  target, or one the code under test never reaches, is a test that proves nothing;
- calls to routes the fake does not serve (``fake.unserved_calls``), unless
  ``assert_all_served=False``: the code under test got a 404 the real API would not send;
- with ``strict=True``, requests to a host that is neither an active fake's nor in
  ``allow_hosts`` (``fake.stray_calls``): each was refused with :class:`StrayRequest`
  instead of going to the network, as respx's ``assert_all_mocked`` does; strict or
  not, those to the real Pictograph's domain (another scheme or port of the fake's
  host, ``http://api.pictograph.io``), which would carry the fake's key there;
- with ``assert_streams_stopped=True``, streams still running (``fake.streams``): code
  that opens a stream must stop it, or it is billed until it ends idle.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pictograph_testing.docs_links import page

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    import httpx

    from pictograph_testing.fake import FakePictograph
    from pictograph_testing.faults import RequestFault, RunFailure
    from pictograph_testing.world.failures import JobFailure

__all__ = [
    "PICTOGRAPH_DOMAIN",
    "StrayCall",
    "StrayRequest",
    "TeardownCheckFailed",
    "host_allowed",
    "is_pictograph_host",
    "normalised_hosts",
    "outlived_message",
    "pictograph_message",
    "stray_message",
    "teardown_problems",
]


class TeardownCheckFailed(AssertionError):
    """A test left a fault unfired, called an unserved route, sent a stray request, or
    (when asked) left a stream running."""


class StrayRequest(AssertionError):
    """Raised in place of a request a strict fake keeps off the network."""


@dataclass(frozen=True)
class StrayCall:
    """One request a strict fake refused: it was for a host neither a fake nor allowed."""

    method: str
    url: str
    at: datetime
    """The virtual instant it was refused."""


def normalised_hosts(allow_hosts: Sequence[str]) -> tuple[str, ...]:
    """``allow_hosts`` as :func:`host_allowed` matches them: lower case, IPv6 unbracketed.

    Host names are case-insensitive, and an IPv6 literal is written bracketed in a URL
    (``"[::1]"``, ``"[::1]:8000"``) but is the same host as ``"::1"``, which is how httpx
    gives it. A leading ``[`` holding a ``:`` is such a literal, not a pattern's character
    class: no host name has a ``:`` in it.
    """
    normalised: list[str] = []
    for entry in allow_hosts:
        entry = entry.strip().lower()
        literal, closing, rest = entry[1:].partition("]")
        if entry.startswith("[") and closing and ":" in literal:
            entry = literal + rest
        normalised.append(entry)
    return tuple(normalised)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def host_allowed(url: httpx.URL, allow_hosts: Sequence[str]) -> bool:
    """Whether ``url``'s host is in ``allow_hosts`` (as :func:`normalised_hosts` gives them).

    Each entry is a host (``"example.com"``), a host and port (``"localhost:8000"``) or a
    shell-style pattern of either (``"*.internal"``).
    """
    # httpx lower-cases a host name but keeps an IPv6 literal as written ("FE80::1").
    host = url.host.lower()
    # httpx drops a scheme's default port (`https://h:443/` has none): an entry naming it
    # (`h:443`) means that port all the same.
    port = url.port if url.port is not None else _DEFAULT_PORTS.get(url.scheme)
    with_port = f"{host}:{port}" if port is not None else host
    return any(
        fnmatch.fnmatchcase(host, pattern) or fnmatch.fnmatchcase(with_port, pattern)
        for pattern in allow_hosts
    )


PICTOGRAPH_DOMAIN = "pictograph.io"
"""The real API's domain: while a fake is active, no request reaches a host in it (a
scheme, port or name of it other than the fake's), strict or not, unless allowed."""


def is_pictograph_host(url: httpx.URL) -> bool:
    """Whether ``url`` is on the real Pictograph's domain (``api.pictograph.io``, ...)."""
    host = url.host.lower().rstrip(".")
    return host == PICTOGRAPH_DOMAIN or host.endswith("." + PICTOGRAPH_DOMAIN)


def pictograph_message(method: str, url: httpx.URL, fake_url: str) -> str:
    """Say why a request to the real Pictograph was refused while a fake is active."""
    return (
        f"{method} {url} was refused: it is the real Pictograph's, and this test's "
        f"FakePictograph answers {fake_url}: the request would have reached the real API "
        "(with the fake's key). Point the code at the fake's base URL, or allow the host: "
        f"FakePictograph(allow_hosts=[{url.host!r}])"
    )


def outlived_message(method: str, url: httpx.URL) -> str:
    """Say why a client built for a fake was refused once no fake serves its host."""
    return (
        f"{method} {url} was refused: this client was built while a FakePictograph "
        f"served {url.host}, and no fake serves it now (that fake has stopped). It would "
        "have gone to the network with the fake's key. Build the client while the fake "
        "is active (in the test, not once for the session), or build a new one for the "
        "real API."
    )


def stray_message(method: str, url: httpx.URL, fake_url: str) -> str:
    """Say why a strict fake refused a request, and what to do about it."""
    return (
        f"{method} {url} was refused: this test's FakePictograph is strict and "
        f"{url.host!r} is neither the fake ({fake_url}) nor an allowed host. Point the "
        f"code at the fake, or allow the host: FakePictograph(allow_hosts=[{url.host!r}]), "
        f"@pytest.mark.pictograph(allow_hosts=[{url.host!r}]) or the ini option "
        "pictograph_allow_hosts"
    )


def teardown_problems(fake: FakePictograph) -> list[str]:
    """Each thing the test left wrong, said with what to do about it."""
    problems: list[str] = []
    if fake.assert_all_fired and (unfired := fake.faults.unfired):
        problems.append(
            _listed(
                f"{len(unfired)} fault(s) armed and never fired",
                [_fault_line(fault) for fault in unfired],
                "Arm a fault with optional=True if the test may not reach it, or turn the "
                "check off for the test with @pytest.mark.pictograph(assert_all_fired=False).",
            )
        )
    if fake.assert_all_served and (unserved := fake.unserved_calls):
        problems.append(
            _listed(
                f"{len(unserved)} call(s) to routes the fake does not serve (each was "
                "answered 404 not_implemented_by_fake, which the real API would not send)",
                [
                    f"{call.method} {call.path}"
                    + (f" (sent by {', '.join(call.sdk_methods)})" if call.sdk_methods else "")
                    for call in unserved
                ],
                f"{page('fidelity')} lists what the fake serves; if the test means to call them, "
                "use @pytest.mark.pictograph(assert_all_served=False) or "
                "FakePictograph(assert_all_served=False).",
            )
        )
    if fake.assert_streams_stopped and (running := [s for s in fake.streams if s.ended is None]):
        problems.append(
            _listed(
                f"{len(running)} stream(s) still running (assert_streams_stopped=True)",
                [f"{s.id} ({s.kind}, on {s.host_id})" for s in running],
                "Stop each one (stream.stop(), or open it in a with block).",
            )
        )
    if fake.stray_calls:
        problems.append(
            _listed(
                f"{len(fake.stray_calls)} request(s) to hosts that are neither the fake nor "
                "allowed (refused: strict=True, or the real Pictograph's)",
                [f"{call.method} {call.url}" for call in fake.stray_calls],
                "Point the code at the fake, or add the hosts to allow_hosts=[...].",
            )
        )
    return problems


def _listed(what: str, items: list[str], advice: str) -> str:
    """A teardown problem: what is wrong, one line per item, then what to do."""
    return "\n".join([f"{what}:", *(f"  - {item}" for item in items), f"  {advice}"])


def _fault_line(fault: RequestFault | RunFailure | JobFailure) -> str:
    # Each kind says why it did not fire: a request fault's target is what to check.
    from pictograph_testing.faults import RequestFault

    what = fault.describe()
    if isinstance(fault, RequestFault):
        what += f" for {fault.target()}"
    return f"{what}: {fault.why_unfired()}"
