"""Faults on demand: failed and slow requests, dropped connections, failing runs, rate limits.

Every fault is armed on one fake, fires deterministically (in request order, on the
virtual clock) and shows in the request journal (``Call.fault``)::

    fake.faults.fail_next("POST", "training/", status=503)            # before the handler
    fake.faults.fail_next("POST", "training/", status=503, after=True)  # work done, answer lost
    fake.faults.fail_next("GET", "training/*", error="read_timeout")  # httpx.ReadTimeout
    fake.faults.fail_next(status=429, retry_after=2, times=3)
    fake.faults.delay_next(12.5, "GET", "credits/balance")
    fake.faults.fail_run(epoch=7, reason="oom")      # the next run created dies in epoch 7
    fake.faults.preempt_run("nightly", epoch=3)      # preempted, requeued, starts over
    fake.faults.cancel_run(epoch=2)                  # cancelled by someone else in epoch 2
    fake.faults.fail_export("disk full")             # the next export ends `failed`
    fake.faults.rate_limit(10, per_seconds=60)       # per API key, 429 with Retry-After
    fake.faults.fail_evaluation("worker lost")      # the next model evaluation ends `failed`
    fake.faults.fail_deployment("no GPU")            # the next deployment ends `failed`
    fake.faults.fail_public_import("disk full")      # the next public-dataset import too
    fake.faults.fail_video_extraction("bad codec")   # the next video frame extraction too
    fake.faults.exhaust_inference_pool()             # models.predict: 429 until 00:00 UTC

A path is relative to ``/api/v1/developer/`` (``"credits/balance"``) or written in full
(``"/api/v1/developer/credits/balance"``), as in ``fake.calls.filter``; it is matched
against the whole path (percent-decoded, no query, without a base URL's own path
prefix). One the API has no route for, or a pattern that matches no route, is a
``ValueError`` at arming, not a fault that never fires. ``*`` matches within one segment
and ``**`` across segments, a route template's ``{placeholder}`` like ``*``; a compiled
regular expression must match the whole path. No method or path matches all.

A fault armed and never fired fails the test at teardown (the plugin's fixtures, and
``FakePictograph`` as a context manager or decorator): pass ``optional=True`` for one the
test may not reach.

A fault *before* the handler means the API did nothing: a retry acts afresh. A fault
*after* it (``after=True``) means the work was done and only the answer was lost: a
retry that carries the same ``Idempotency-Key`` gets the stored answer replayed, and one
without it acts twice. Transport errors surface from the fake's httpx transport as the
httpx exceptions a network would raise, which the SDK maps to ``NetworkError`` and
``RequestTimeoutError``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from pictograph_testing.api.route_paths import (
    API_PREFIX,
    GATEWAY_PREFIX,
    api_path,
    below_mount,
    journal_path,
)
from pictograph_testing.journal import path_matcher
from pictograph_testing.wording import article
from pictograph_testing.world.failures import FailureQueue, JobFailure
from pictograph_testing.world.training import (
    FAILURE_REASONS,
    FailureReason,
    RunFailure,
    TrainingService,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from pictograph_testing.world.state import World

__all__ = [
    "TRANSPORT_ERRORS",
    "FaultSpec",
    "Faults",
    "Intercept",
    "JobFailure",
    "RateLimit",
    "Refusal",
    "RequestFault",
    "RunFailure",
    "TransportFault",
]

TransportError = Literal["connect", "connect_timeout", "read_timeout", "read_error"]
TRANSPORT_ERRORS: dict[str, str] = {
    "connect": "ConnectError",
    "connect_timeout": "ConnectTimeout",
    "read_timeout": "ReadTimeout",
    "read_error": "ReadError",
}
"""The transport errors a fault can raise, and the httpx exception each one is."""
# A connection that never opened cannot have carried a request to the handler.
_BEFORE_ONLY = frozenset({"connect", "connect_timeout"})
_STATUS_CODES = {
    408: ("request_timeout", "The request timed out before the server could answer it."),
    429: ("rate_limited", "Rate limit exceeded."),
    500: ("internal_error", "Internal server error."),
    502: ("bad_gateway", "Bad gateway: the upstream service did not answer."),
    503: ("service_unavailable", "Service temporarily unavailable; retry shortly."),
    504: ("gateway_timeout", "Gateway timeout: the upstream service took too long."),
}
_GATEWAY_CODES = {
    429: "rate_limited",
    500: "inference_failed",
    502: "deployment_unreachable",
    503: "overloaded",
    504: "inference_timeout",
}
"""The error slug a deployment's endpoint (the inference gateway) answers a status with,
in the SDK's words for it (``pictograph.resources._gateway``)."""
_STREAM_CODES = {**_GATEWAY_CODES, 503: "sessions_unavailable", 504: "session_timeout"}
"""The same, for a stream's calls (``/sessions``), whose 503 the SDK's open retries."""
_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")
_JOB_FAILURES: dict[str, str] = {
    "export_failure": "export_service",
    "evaluation_failure": "evaluations",
    "deployment_failure": "deployments",
    "public_import_failure": "public_imports",
    "video_extraction_failure": "videos",
}
"""Each kind of job failure, and the world service whose next jobs it fails (each keeps
a :class:`~pictograph_testing.world.failures.FailureQueue` as ``failures``)."""
_SPEC_OPTIONS: dict[str, frozenset[str]] = {
    "status": frozenset(
        {
            "method",
            "path",
            "status",
            "code",
            "times",
            "after",
            "retry_after",
            "message",
            "optional",
        }
    ),
    "error": frozenset({"method", "path", "error", "times", "after", "optional"}),
    "delay": frozenset({"method", "path", "seconds", "times", "optional"}),
    "run_failure": frozenset({"run", "epoch", "reason", "message", "optional"}),
    "preemption": frozenset({"run", "epoch", "optional"}),
    "cancellation": frozenset({"run", "epoch", "optional"}),
    **dict.fromkeys(_JOB_FAILURES, frozenset({"message", "times", "optional"})),
    "rate_limit": frozenset({"requests", "per_seconds"}),
    "inference_pool": frozenset(),
}
"""Each fault kind a spec (marker, control route) may name, and the arguments it takes."""
_POOL_SPENT = "hosted inference capacity spent for the day"


class TransportFault(Exception):
    """An injected transport error; the adapter raises its own kind (httpx's, in process)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass
class RequestFault:
    """One armed request fault; ``remaining`` counts the matching requests it still hits."""

    method: str | None
    path: str | re.Pattern[str] | None
    remaining: int
    status: int | None = None
    error: str | None = None
    delay: float = 0.0
    after: bool = False
    retry_after: float | str | None = None
    message: str | None = None
    optional: bool = False
    """Whether a test may end without it firing (strict teardown does not ask for it)."""
    code: str | None = None
    """The error code its answer carries (the envelope's ``code``, or a deployment
    endpoint's error slug); ``None``: the one its status has."""
    fired: int = 0
    """How many requests it has hit so far."""
    _match: Callable[[str], bool] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._match = path_matcher(self.path)

    def matches(self, method: str, path: str) -> bool:
        """Whether a request (upper-case method, decoded path) is one this fault hits."""
        if self.method is not None and self.method != method:
            return False
        return self._match is None or self._match(path)

    def describe(self) -> str:
        """Say what the fault does, for the journal: ``injected 503 after the handler``."""
        if self.error is not None:
            what = f"injected {TRANSPORT_ERRORS[self.error]}"
        elif self.status is not None:
            what = f"injected {self.status}" + (f" {self.code}" if self.code else "")
        else:
            return f"delayed {self.delay:g}s"
        return what + (" after the handler" if self.after else " before the handler")

    def why_unfired(self) -> str:
        """Say why strict teardown found it unfired."""
        return "no request matched its method and path (fake.calls lists the calls made)"

    def target(self) -> str:
        """Say which requests it hits: ``POST /api/v1/developer/training/``."""
        method = self.method or "any method"
        if self.path is None:
            return f"{method} on any path"
        path = self.path.pattern if isinstance(self.path, re.Pattern) else self.path
        return f"{method} {path}"


@dataclass
class RateLimit:
    """At most ``requests`` per API key in each window of ``per_seconds`` virtual seconds.

    Windows are fixed and aligned with the clock's start, so the same calls at the same
    virtual instants are always limited the same way.
    """

    requests: int
    per_seconds: float
    _windows: dict[str, tuple[int, int]] = field(default_factory=dict, repr=False)

    def describe(self) -> str:
        """Say what it allows: ``rate limit 10 per 60s``."""
        return f"rate limit {self.requests} per {self.per_seconds:g}s"

    def admit(self, key: str, now: float) -> int | None:
        """Count one request of ``key``; return the seconds to wait if it is over budget."""
        window = int(now // self.per_seconds)
        start, used = self._windows.get(key, (window, 0))
        if start != window:
            used = 0
        if used >= self.requests:
            self._windows[key] = (window, used)
            return max(1, math.ceil((window + 1) * self.per_seconds - now))
        self._windows[key] = (window, used + 1)
        return None


class Refusal(NamedTuple):
    """An error answer a fault sends: status, envelope code, message, details, headers."""

    status: int
    code: str
    message: str
    details: dict[str, Any]
    headers: tuple[tuple[str, str], ...]
    gateway: bool = False
    """Sent by a deployment's endpoint: a flat ``{"error": code, "detail": message}``,
    not the API's envelope."""


class Intercept(NamedTuple):
    """What the armed faults make of one request (see :meth:`Faults.intercept`)."""

    fault: RequestFault | None
    """The request fault that hit it, if one did."""
    refusal: Refusal | None
    """An answer to send instead of handling the request (a fault before the handler)."""
    label: str | None
    """What happened, for the journal."""


_PASS = Intercept(None, None, None)


class Faults:
    """The faults armed on one fake: ``fake.faults``.

    All state lives here and in the world (run failures); every method is safe to call
    while other threads make requests.
    """

    def __init__(self, world: World, mount: str = "", urls: tuple[str, str] = ("", "")) -> None:
        self._world = world
        self._mount = mount
        # The API's base URL and its deployments' gateway's: a fault may name a URL.
        self._base_url, self._gateway_url = urls
        self._requests: list[RequestFault] = []
        # Every request fault armed since the last clear, fired or not: what teardown asks.
        self._armed_requests: list[RequestFault] = []
        self._optional_runs: list[RunFailure] = []
        # Every job failure armed here since the last clear (a scenario's are the world's).
        self._armed_jobs: list[JobFailure] = []
        self._rate_limit: RateLimit | None = None
        self.armed = False
        """True while any request fault or a rate limit is armed: the API's one check."""

    # ── request faults ──

    def fail_next(
        self,
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        *,
        status: int | None = None,
        error: TransportError | None = None,
        times: int = 1,
        after: bool = False,
        retry_after: float | str | None = None,
        message: str | None = None,
        optional: bool = False,
        code: str | None = None,
    ) -> RequestFault:
        """Make the next ``times`` matching requests fail with ``status`` or ``error``.

        ``status`` is any 4xx or 5xx (503 when neither is given), answered with the API's
        error envelope, or on a deployment's endpoint (a path under ``/_gateway/``, as
        the journal shows it) with the endpoint's own flat error; ``code`` names the
        error's code there (``"deployment_starting"``, ``"endpoint_updating"``), else
        the status's own (a 503 is ``overloaded`` from an endpoint, and
        ``sessions_unavailable`` from a stream's calls). A 429 carries ``Retry-After``
        (``retry_after`` seconds, 1 unless given; any status sends it when given; a
        string is sent as the header's text, so it must be printable ASCII, such as an
        HTTP-date). ``error`` is one of ``connect``,
        ``connect_timeout``, ``read_timeout`` or ``read_error``, raised as the httpx
        exception of that name. ``after=True`` lets the handler run first (not for
        connect errors: a connection that never opened carried no request).
        ``optional=True``: the test may end without the fault firing (otherwise the
        plugin and ``FakePictograph`` as a context manager fail the test at teardown).
        """
        if status is not None and error is not None:
            raise ValueError("give status or error, not both")
        _check(after, bool, "after", "true or false")
        _check(optional, bool, "optional", "true or false")
        _check(message, (str, type(None)), "message", "a string")
        _check(code, (str, type(None)), "code", "a string")
        if code is not None and error is not None:
            raise ValueError("code names the error a status answers with; give a status")
        if error is not None and (retry_after is not None or message is not None):
            # As a FaultSpec of kind "error" refuses them: nothing would carry them.
            raise ValueError(
                "retry_after and message go in a status's answer; a transport error "
                f"({error}) sends no answer: give a status, or leave them out"
            )
        if code is not None and not _CODE.fullmatch(code):
            raise ValueError(
                "code must be an error code in lower case, digits and underscores, such as "
                f"'overloaded' or 'deployment_starting', got {code!r:.80}"
            )
        if error is not None and error not in TRANSPORT_ERRORS:
            raise ValueError(
                f"unknown transport error {error!r}; choose one of {', '.join(TRANSPORT_ERRORS)}"
            )
        if error in _BEFORE_ONLY and after:
            raise ValueError(f"a {error} error happens before any request reaches the handler")
        if error is None:
            status = 503 if status is None else status
            if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
                raise ValueError(f"status must be a 4xx or 5xx code, got {status!r}")
            if status == 429 and retry_after is None:
                retry_after = 1
        if isinstance(retry_after, str):
            retry_after = _header_text(retry_after, "retry_after")
        elif retry_after is not None:
            _seconds(retry_after, "retry_after", allow_zero=True)
        return self._arm(
            RequestFault(
                *self._target(method, path, times),
                status=status,
                error=error,
                after=after,
                retry_after=retry_after,
                message=message,
                optional=optional,
                code=code,
            )
        )

    def delay_next(
        self,
        seconds: float,
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        *,
        times: int = 1,
        optional: bool = False,
    ) -> RequestFault:
        """Answer the next ``times`` matching requests ``seconds`` later on the virtual clock.

        The request is handled when it arrives and answered after the delay. A delay at
        or past the client's read timeout ends in ``httpx.ReadTimeout`` once the timeout
        has passed, with the work done (so a retry meets ``Idempotency-Key`` replay).
        """
        delay = _seconds(seconds, "seconds")
        # Refused now: a request that met it would move the clock past its last instant.
        self._world.clock.check_reachable(delay)
        _check(optional, bool, "optional", "true or false")
        return self._arm(
            RequestFault(*self._target(method, path, times), delay=delay, optional=optional)
        )

    @property
    def pending(self) -> tuple[RequestFault, ...]:
        """The request faults still armed, oldest first."""
        with self._world.lock:
            return tuple(self._requests)

    @property
    def unfired(self) -> tuple[RequestFault | RunFailure | JobFailure, ...]:
        """The faults armed and not optional that have not fired yet, oldest first.

        Request faults that hit no request, run failures still waiting for the run they
        name (or the next run) to be created, and export, evaluation, deployment and
        public-import failures no job has taken. Strict teardown fails a test that leaves
        any: arm with ``optional=True`` for a fault the test may not reach.
        """
        with self._world.lock:
            requests = [f for f in self._armed_requests if f.fired == 0 and not f.optional]
            runs = [f for f in self._waiting_runs() if not any(f is o for o in self._optional_runs)]
            jobs = [f for f in self._armed_jobs if f.fired == 0 and not f.optional]
            return (*requests, *runs, *jobs)

    @property
    def described(self) -> tuple[str, ...]:
        """Every fault armed and still to strike, in words, as :meth:`arm` answered.

        Request faults, run failures, export, evaluation, deployment and public-import
        failures (a scenario's too), the rate limit, and a spent inference pool: what
        ``GET /_fake/faults`` and the dashboard list.
        """
        with self._world.lock:
            world = self._world
            armed: list[str] = [f.describe() for f in self._requests]
            armed += [f.describe() for f in self._waiting_runs()]
            for service in _JOB_FAILURES.values():
                # A service never built has nothing armed: listing must not build it.
                built = world.built(service)
                if built is not None:
                    armed += [f.describe() for f in built.failures.armed]
            if self._rate_limit is not None:
                armed.append(self._rate_limit.describe())
            pool = world.built("inference_pool")
            if pool is not None and pool.spent_by_test:
                armed.append(_POOL_SPENT)
            return tuple(armed)

    # ── run failures ──

    def fail_run(
        self,
        run: str | None = None,
        *,
        epoch: int = 1,
        reason: FailureReason = "oom",
        message: str | None = None,
        optional: bool = False,
    ) -> RunFailure:
        """Make a run fail during ``epoch``.

        ``reason`` is ``oom``, ``preemption`` or ``data_error``; ``message`` the run's
        ``error_message`` (a realistic one per reason unless given). ``run`` is a live
        run's id or name, or the name of a run still to be created; ``None`` means the
        next run created. An epoch past the run's last strikes in its last; one the run
        has already passed strikes at once. The run is billed as any failed run
        (prepaid: refunded what it did not use; charge-on-success: free).
        ``optional=True``: the test may end before the run is created.
        """
        if reason not in FAILURE_REASONS:
            raise ValueError(
                f"unknown failure reason {reason!r}; choose one of {', '.join(FAILURE_REASONS)}"
            )
        _check(message, (str, type(None)), "message", "a string")
        _check(run, (str, type(None)), "run", "a run id or name")
        return self._arm_run(RunFailure(reason, _epoch(epoch), message, target=run), optional)

    def preempt_run(
        self, run: str | None = None, *, epoch: int = 1, optional: bool = False
    ) -> RunFailure:
        """Preempt a run during ``epoch``: it goes back to ``queued`` and starts over.

        The preempted attempt is not billed. ``run`` and ``optional`` are as for
        :meth:`fail_run`.
        """
        _check(run, (str, type(None)), "run", "a run id or name")
        return self._arm_run(
            RunFailure("preemption", _epoch(epoch), requeue=True, target=run), optional
        )

    def cancel_run(
        self, run: str | None = None, *, epoch: int = 1, optional: bool = False
    ) -> RunFailure:
        """Cancel a run during ``epoch``, as someone else's cancel (the web app, another
        process) would while the test's code waits on it: it ends ``cancelled``, billed as
        any cancelled run, and a wait on it raises ``ApiError`` with ``code="job_cancelled"``.

        ``run`` and ``optional`` are as for :meth:`fail_run`.
        """
        _check(run, (str, type(None)), "run", "a run id or name")
        return self._arm_run(
            RunFailure("cancellation", _epoch(epoch), cancel=True, target=run), optional
        )

    def fail_export(
        self, message: str | None = None, *, times: int = 1, optional: bool = False
    ) -> JobFailure:
        """Make the next ``times`` exports created end ``failed`` with ``message``.

        ``optional=True``: the test may end before an export is created.
        """
        return self._fail_jobs("export_failure", message, times, optional)

    def fail_evaluation(
        self, message: str | None = None, *, times: int = 1, optional: bool = False
    ) -> JobFailure:
        """Make the next ``times`` model evaluations created end ``failed`` with ``message``.

        The failure strikes when the evaluation would have completed: it runs (and is
        not billed), then fails, and its ``evaluation_failed`` notification is written.
        ``optional=True``: the test may end before an evaluation is created.
        """
        return self._fail_jobs("evaluation_failure", message, times, optional)

    def fail_deployment(
        self, message: str | None = None, *, times: int = 1, optional: bool = False
    ) -> JobFailure:
        """Make the next ``times`` deployments created end ``failed`` with ``message`` when
        their server would have come up (a ``deployment_failed`` notification follows).

        ``optional=True``: the test may end before a deployment is created.
        """
        return self._fail_jobs("deployment_failure", message, times, optional)

    def fail_public_import(
        self, message: str | None = None, *, times: int = 1, optional: bool = False
    ) -> JobFailure:
        """Make the next ``times`` imports of a public dataset end ``failed`` with
        ``message`` when their images would have been copied (the copy they made, still
        empty, goes with them).

        ``optional=True``: the test may end before an import is started.
        """
        return self._fail_jobs("public_import_failure", message, times, optional)

    def fail_video_extraction(
        self, message: str | None = None, *, times: int = 1, optional: bool = False
    ) -> JobFailure:
        """Make the next ``times`` video frame extractions end ``failed`` with ``message``
        when their frames would have been added (none are; the uploaded video stays).

        ``optional=True``: the test may end before an extraction is started.
        """
        return self._fail_jobs("video_extraction_failure", message, times, optional)

    def _fail_jobs(self, kind: str, message: str | None, times: int, optional: bool) -> JobFailure:
        """Arm the next ``times`` jobs of one service to fail (its own message if ``None``)."""
        _check(message, (str, type(None)), "message", "a string")
        _check(optional, bool, "optional", "true or false")
        _count(times, "times")
        with self._world.lock:
            queue: FailureQueue = getattr(self._world, _JOB_FAILURES[kind]).failures
            failure = queue.arm(message, count=times, optional=optional)
            self._armed_jobs.append(failure)
        return failure

    def exhaust_inference_pool(self) -> None:
        """Spend today's shared hosted-inference capacity (the virtual UTC day's).

        ``models.predict`` then answers 429 ``inference_capacity_exhausted`` with a
        ``Retry-After`` of the seconds to the next 00:00 UTC, as the real service does
        when the day's CPU pool is used up, until the virtual clock passes midnight.
        """
        with self._world.lock:
            self._world.inference_pool.exhaust()

    @property
    def pending_run_failures(self) -> tuple[RunFailure, ...]:
        """Run failures armed for runs not created yet."""
        with self._world.lock:
            return self._world.training.armed_failures

    # ── rate limiting ──

    def rate_limit(self, requests: int | None, *, per_seconds: float = 60.0) -> RateLimit | None:
        """Allow each API key ``requests`` requests per ``per_seconds`` virtual seconds.

        Over budget, a request is refused with 429 ``rate_limited`` and ``Retry-After``
        (the seconds until the window turns), as the real API does; the SDK waits that
        long on the virtual clock and retries. ``None`` lifts the limit.
        """
        limit = None
        if requests is not None:
            limit = RateLimit(_count(requests, "requests"), _seconds(per_seconds, "per_seconds"))
        with self._world.lock:
            self._rate_limit = limit
            self._refresh()
        return limit

    # ── arming from data (pytest marker, control route) ──

    def arm(self, spec: Mapping[str, Any]) -> str:
        """Arm one fault described as JSON; return what was armed, in words.

        ``spec["kind"]`` picks the method: ``status`` / ``error`` (:meth:`fail_next`),
        ``delay`` (:meth:`delay_next`), ``run_failure`` (:meth:`fail_run`),
        ``preemption`` (:meth:`preempt_run`), ``cancellation`` (:meth:`cancel_run`),
        ``export_failure`` (:meth:`fail_export`),
        ``evaluation_failure`` (:meth:`fail_evaluation`), ``deployment_failure``
        (:meth:`fail_deployment`), ``rate_limit`` (:meth:`rate_limit`) or
        ``inference_pool`` (:meth:`exhaust_inference_pool`); the other keys are that
        method's arguments. The words are those :attr:`described` lists the fault with.
        Raise ``ValueError`` on anything else.
        """
        if not isinstance(spec, dict):
            raise ValueError(
                f"a fault is a FaultSpec (FaultSpec.fail_next('POST', 'training/', "
                "status=503)) or a dict like {'kind': 'status', 'method': 'POST', 'path': "
                f"'training/', 'status': 503}}; got {type(spec).__name__} {spec!r}"
            )
        options = dict(spec)
        kind = options.pop("kind", None)
        if kind not in _SPEC_OPTIONS:
            raise ValueError(f"fault kind must be one of {', '.join(_SPEC_OPTIONS)}; got {kind!r}")
        allowed = _SPEC_OPTIONS[kind]
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise ValueError(
                f"{article(kind)} {kind} fault takes {', '.join(sorted(allowed)) or 'nothing'}; "
                f"unknown: {', '.join(unknown)}"
            )
        try:
            if kind in _JOB_FAILURES:
                return self._fail_jobs(
                    kind,
                    options.get("message"),
                    options.get("times", 1),
                    options.get("optional", False),
                ).describe()
            if kind == "status":
                return self.fail_next(**options).describe()
            if kind == "error":
                if "error" not in options:
                    raise ValueError("an error fault needs 'error'")
                return self.fail_next(**options).describe()
            if kind == "delay":
                return self.delay_next(**options).describe()
            if kind == "run_failure":
                return self.fail_run(**options).describe()
            if kind == "preemption":
                return self.preempt_run(**options).describe()
            if kind == "cancellation":
                return self.cancel_run(**options).describe()
            if kind == "inference_pool":
                self.exhaust_inference_pool()
                return _POOL_SPENT
            limit = self.rate_limit(**options)
        except TypeError as wrong:
            raise ValueError(
                f"{article(kind)} {kind} fault's arguments do not fit: {wrong}"
            ) from None
        return limit.describe() if limit is not None else "rate limit lifted"

    def arm_all(self, specs: Sequence[Mapping[str, Any]]) -> list[str]:
        """Arm every fault of ``specs`` (see :meth:`arm`), or none if one is refused."""
        world = self._world
        with world.lock:
            queues: list[FailureQueue] = [
                getattr(world, service).failures for service in _JOB_FAILURES.values()
            ]
            saved = (
                list(self._requests),
                list(self._armed_requests),
                list(self._optional_runs),
                list(self._armed_jobs),
                world.training.armed_failures,
                [queue.armed for queue in queues],
                self._rate_limit,
                world.inference_pool.spent_day,
            )
            try:
                return [self.arm(spec) for spec in specs]
            except ValueError:
                requests, armed, optional, jobs, failures, queued, limit, spent = saved
                self._requests[:] = requests
                self._armed_requests[:] = armed
                self._optional_runs[:] = optional
                self._armed_jobs[:] = jobs
                world.training.restore_failures(failures)
                for queue, failed in zip(queues, queued, strict=True):
                    queue.restore(failed)
                world.inference_pool.spent_day = spent
                self._rate_limit = limit
                self._refresh()
                raise

    def clear(self) -> None:
        """Disarm every request fault, pending run, export, evaluation, deployment and
        public-import failure, the rate limit, and a spent inference pool."""
        with self._world.lock:
            self._requests.clear()
            self._armed_requests.clear()
            self._optional_runs.clear()
            self._armed_jobs.clear()
            self._world.training.clear_failures()
            for service in _JOB_FAILURES.values():
                getattr(self._world, service).failures.clear()
            self._world.inference_pool.refill()
            self._rate_limit = None
            self._refresh()

    # ── the API's side ──

    def intercept(self, method: str, path: str, api_key: str | None) -> Intercept:
        """Decide what happens to one request; the API calls this under the world lock."""
        relative = self._relative(path)
        fault = next((f for f in self._requests if f.matches(method, relative)), None)
        limit = self._rate_limit
        # A request that reaches the API counts against its rate limit, which answers
        # first, as the API's gateway does; a fault then stays armed for the next one.
        # Only a transport error before any answer never reaches it.
        reaches = fault is None or fault.error is None or fault.after
        if limit is not None and reaches and api_key and relative.startswith(API_PREFIX):
            key = self._world.api_keys.get(api_key.strip())
            now = self._world.now()
            # A key the API refuses gets its 401, never a 429 that asks for a retry.
            if key is not None and key.lets_in(now):
                wait = limit.admit(key.key, now)
                if wait is not None:
                    return Intercept(None, _rate_limited(limit, wait), "rate limited")
        if fault is None:
            return _PASS
        fault.remaining -= 1
        fault.fired += 1
        if fault.remaining <= 0:
            self._requests.remove(fault)
            self._refresh()
        before = fault.status is not None and not fault.after
        refusal = _status_refusal(fault, relative) if before else None
        return Intercept(fault, refusal, fault.describe())

    def refusal(self, fault: RequestFault, path: str) -> Refusal:
        """The answer a status ``fault`` sends in place of the handler's, to a request for
        ``path`` (decoded, as sent)."""
        return _status_refusal(fault, self._relative(path))

    # ── internals ──

    def _relative(self, path: str) -> str:
        """``path`` below the API's mount."""
        return below_mount(path, self._mount)

    def _target(
        self, method: str | None, path: str | re.Pattern[str] | None, times: int
    ) -> tuple[str | None, str | re.Pattern[str] | None, int]:
        _count(times, "times")
        _check(method, (str, type(None)), "method", "a string")
        if isinstance(path, str):
            path = api_path(journal_path(path, self._base_url, self._gateway_url), method)
        elif path is not None and not isinstance(path, (str, re.Pattern)):
            raise ValueError(f"path must be a string or a compiled pattern, got {path!r}")
        return (method.upper() if method is not None else None), path, times

    def _arm(self, fault: RequestFault) -> RequestFault:
        with self._world.lock:
            self._requests.append(fault)
            self._armed_requests.append(fault)
            self._refresh()
        return fault

    def _arm_run(self, failure: RunFailure, optional: bool) -> RunFailure:
        _check(optional, bool, "optional", "true or false")
        world = self._world
        with world.lock:
            world.catch_up()
            world.training.arm_failure(failure)
            if optional:
                self._optional_runs.append(failure)
        return failure

    def _waiting_runs(self) -> tuple[RunFailure, ...]:
        # Run failures are armed on the training service: none if it was never built.
        training: TrainingService | None = self._world.built("training")
        return training.armed_failures if training is not None else ()

    def _refresh(self) -> None:
        self.armed = bool(self._requests) or self._rate_limit is not None


class FaultSpec(dict[str, Any]):
    """A fault as data, for ``@pytest.mark.pictograph(faults=[...])`` and ``FakePictograph(
    faults=[...])``: made with the names and arguments of ``fake.faults``' methods.

    ::

        @pytest.mark.pictograph(faults=[
            FaultSpec.fail_next("POST", "training/", status=503),
            FaultSpec.fail_run(epoch=3, reason="oom"),
        ])

    It is a ``dict`` (``{"kind": "status", "method": "POST", ...}``, the JSON that
    ``POST /_fake/faults`` takes), so a plain dict of that shape works as well; it is
    checked when armed (see :meth:`Faults.arm`).
    """

    @classmethod
    def fail_next(
        cls,
        method: str | None = None,
        path: str | None = None,
        *,
        status: int | None = None,
        error: TransportError | None = None,
        times: int = 1,
        after: bool = False,
        retry_after: float | str | None = None,
        message: str | None = None,
        optional: bool = False,
        code: str | None = None,
    ) -> FaultSpec:
        """As :meth:`Faults.fail_next`."""
        return cls._made(
            "error" if error is not None else "status",
            method=method,
            path=path,
            status=status,
            error=error,
            times=times,
            after=after,
            retry_after=retry_after,
            message=message,
            optional=optional,
            **({"code": code} if code is not None else {}),
        )

    @classmethod
    def delay_next(
        cls,
        seconds: float,
        method: str | None = None,
        path: str | None = None,
        *,
        times: int = 1,
        optional: bool = False,
    ) -> FaultSpec:
        """As :meth:`Faults.delay_next`."""
        return cls._made(
            "delay", seconds=seconds, method=method, path=path, times=times, optional=optional
        )

    @classmethod
    def fail_run(
        cls,
        run: str | None = None,
        *,
        epoch: int = 1,
        reason: FailureReason = "oom",
        message: str | None = None,
        optional: bool = False,
    ) -> FaultSpec:
        """As :meth:`Faults.fail_run`."""
        return cls._made(
            "run_failure", run=run, epoch=epoch, reason=reason, message=message, optional=optional
        )

    @classmethod
    def preempt_run(
        cls, run: str | None = None, *, epoch: int = 1, optional: bool = False
    ) -> FaultSpec:
        """As :meth:`Faults.preempt_run`."""
        return cls._made("preemption", run=run, epoch=epoch, optional=optional)

    @classmethod
    def cancel_run(
        cls, run: str | None = None, *, epoch: int = 1, optional: bool = False
    ) -> FaultSpec:
        """As :meth:`Faults.cancel_run`."""
        return cls._made("cancellation", run=run, epoch=epoch, optional=optional)

    @classmethod
    def fail_export(
        cls, message: str | None = None, *, times: int = 1, optional: bool = False
    ) -> FaultSpec:
        """As :meth:`Faults.fail_export`."""
        return cls._made("export_failure", message=message, times=times, optional=optional)

    @classmethod
    def fail_evaluation(
        cls, message: str | None = None, *, times: int = 1, optional: bool = False
    ) -> FaultSpec:
        """As :meth:`Faults.fail_evaluation`."""
        return cls._made("evaluation_failure", message=message, times=times, optional=optional)

    @classmethod
    def fail_deployment(
        cls, message: str | None = None, *, times: int = 1, optional: bool = False
    ) -> FaultSpec:
        """As :meth:`Faults.fail_deployment`."""
        return cls._made("deployment_failure", message=message, times=times, optional=optional)

    @classmethod
    def fail_public_import(
        cls, message: str | None = None, *, times: int = 1, optional: bool = False
    ) -> FaultSpec:
        """As :meth:`Faults.fail_public_import`."""
        return cls._made("public_import_failure", message=message, times=times, optional=optional)

    @classmethod
    def fail_video_extraction(
        cls, message: str | None = None, *, times: int = 1, optional: bool = False
    ) -> FaultSpec:
        """As :meth:`Faults.fail_video_extraction`."""
        return cls._made(
            "video_extraction_failure", message=message, times=times, optional=optional
        )

    @classmethod
    def rate_limit(cls, requests: int, *, per_seconds: float = 60.0) -> FaultSpec:
        """As :meth:`Faults.rate_limit`."""
        return cls._made("rate_limit", requests=requests, per_seconds=per_seconds)

    @classmethod
    def exhaust_inference_pool(cls) -> FaultSpec:
        """As :meth:`Faults.exhaust_inference_pool`."""
        return cls._made("inference_pool")

    @classmethod
    def _made(cls, kind: str, **options: Any) -> FaultSpec:
        # Leave out what is unset, so the spec reads as it was written (and as JSON).
        return cls(kind=kind, **{k: v for k, v in options.items() if v is not None})

    def __repr__(self) -> str:
        return f"FaultSpec({dict.__repr__(self)})"


def _status_refusal(fault: RequestFault, path: str) -> Refusal:
    """The error answer of a status fault (before the handler, or in place of its answer)
    to a request for ``path`` (below the API's mount): a deployment's endpoint answers in
    its own words."""
    status = fault.status or 503
    code, text = _STATUS_CODES.get(status, ("injected_fault", f"Injected HTTP {status}."))
    # A deployment's endpoint, as the journal shows its path (its own host or not).
    gateway = path.startswith(GATEWAY_PREFIX + "/")
    if gateway:
        codes = _STREAM_CODES if "/sessions" in path else _GATEWAY_CODES
        code = codes.get(status, code)
    details: dict[str, Any] = {"injected": True}
    headers: tuple[tuple[str, str], ...] = ()
    if fault.retry_after is not None:
        details["retry_after"] = fault.retry_after
        headers = (("retry-after", _header_seconds(fault.retry_after)),)
    return Refusal(status, fault.code or code, fault.message or text, details, headers, gateway)


def _epoch(epoch: int) -> int:
    return _count(epoch, "epoch")


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    return value


def _seconds(value: object, name: str, *, allow_zero: bool = False) -> float:
    number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if (
        number is None
        or not math.isfinite(number)
        or number < 0
        or (number == 0 and not allow_zero)
    ):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number of seconds {bound}, got {value!r}")
    return float(number)


def _check(value: object, kinds: type | tuple[type, ...], name: str, wanted: str) -> None:
    # Specs arrive as JSON (the marker, the control route): say which value is wrong.
    if not isinstance(value, kinds):
        raise ValueError(f"{name} must be {wanted}, got {value!r}")


# A header's value as HTTP has it: visible ASCII, spaces and tabs only between words.
_HEADER_TEXT = re.compile(r"([\x21-\x7e]+([ \t]+[\x21-\x7e]+)*)?")


def _header_text(value: str, name: str) -> str:
    # Sent verbatim as a header: a character no header may hold would break the answer
    # (in process, httpx cannot encode it; a server's HTTP layer drops the connection).
    text = value.strip(" \t")
    if not _HEADER_TEXT.fullmatch(text):
        raise ValueError(
            f"{name} must be a number of seconds or a header's text (printable ASCII, such "
            f"as an HTTP-date: 'Wed, 21 Oct 2026 07:28:00 GMT'), got {value!r:.80}"
        )
    return text


def _header_seconds(value: float | str) -> str:
    if isinstance(value, str):
        return value  # an HTTP-date, or whatever the test wants the SDK to parse
    # The shortest text that reads back as the same float: `:g` kept six digits, so a
    # wait just over the SDK's 120 s threshold read as 120 and was waited out.
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _rate_limited(limit: RateLimit, wait: int) -> Refusal:
    return Refusal(
        429,
        "rate_limited",
        f"Rate limit exceeded: at most {limit.requests} requests per "
        f"{limit.per_seconds:g} seconds for this API key; retry in {wait} s.",
        {"retry_after": wait, "limit": limit.requests, "window_seconds": limit.per_seconds},
        (
            ("retry-after", str(wait)),
            ("x-ratelimit-limit", str(limit.requests)),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", str(wait)),
        ),
    )
