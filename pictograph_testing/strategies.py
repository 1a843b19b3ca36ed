"""Hypothesis strategies for Pictograph training requests, valid and invalid, and run payloads.

Needs the ``hypothesis`` extra (``pip install pictograph-testing[hypothesis]``). Every
choice comes from :mod:`pictograph_testing.catalog`, per profile, and from the route
table's vocabularies, per SDK release: by default a strategy draws only what the
installed SDK sends and parses (``sdk_version=`` picks another release, ``None`` every
value the API takes), so it never offers what the fake, the API it models or the SDK
would refuse, unless it is one of the ``invalid_*`` strategies, whose every example is
refused for a reason it names::

    from hypothesis import given, settings
    from pictograph_testing import FakePictograph, strategies as pst

    @settings(max_examples=20, deadline=None)
    @given(request=pst.create_requests(dataset="signs", export="v1"))
    def test_any_valid_request_is_accepted(request):
        with FakePictograph() as fake:
            fake.add_dataset("signs", images=10, completed_images=10)
            fake.add_export("signs", "v1")
            run = fake.client().training.create(**request, wait=False)
            assert run.status in ("pending", "queued")

A fake per example, as above, keeps the examples independent. The function-scoped
``pictograph_fake`` fixture would be shared by every example of a test, and hypothesis
refuses it with ``FailedHealthCheck``. See ``docs/strategies.md``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, NamedTuple, get_args

try:
    from hypothesis import strategies as st
except ImportError as missing:  # pragma: no cover - depends on the installation
    raise ImportError(
        "pictograph_testing.strategies needs hypothesis: "
        "pip install 'pictograph-testing[hypothesis]'"
    ) from missing

from pictograph_testing.api.dialects import (
    GPU_TYPES_BY_RELEASE,
    NEWEST,
    PIPELINES_BY_RELEASE,
    Version,
    answered_release,
    check_installed_sdk,
    format_version,
    parse_version,
)
from pictograph_testing.api.spec import DOT_SEGMENTS, NAME_LIMIT
from pictograph_testing.api.training import CREATE
from pictograph_testing.catalog import GPU_TIERS, PIPELINES, PROFILES, Pipeline, profile_named
from pictograph_testing.clock import DEFAULT_START, format_timestamp
from pictograph_testing.world.class_support import (
    ClassCount,
    ClassSupport,
    Reason,
    left_out_warning,
)
from pictograph_testing.world.entities import RUN_STATUSES, TERMINAL
from pictograph_testing.world.training import CONFIG_LIMITS

if TYPE_CHECKING:
    from collections.abc import Iterable

    from hypothesis.strategies import DrawFn, SearchStrategy

    from pictograph_testing.api.dialects import Vocabulary

__all__ = [
    "CONFIG_LIMITS",
    "INSTALLED",
    "Invalid",
    "create_requests",
    "gpu_types",
    "invalid_create_requests",
    "invalid_training_configs",
    "model_sizes",
    "pipelines",
    "profiles",
    "run_names",
    "run_payloads",
    "training_configs",
]

INSTALLED = "installed"
"""``sdk_version=INSTALLED`` (the default): draw for the installed ``pictograph``
release (the newest the fake knows when none is installed)."""
_CREATE_FIELDS = frozenset(CREATE.fields)
"""Every field ``POST training/`` takes: an "extra" fault is none of them."""
_CREATE_REQUIRED = sorted(name for name, spec in CREATE.fields.items() if spec.required)
"""The fields it needs: a "missing" fault leaves one out."""


class Invalid(NamedTuple):
    """A request the API refuses, and the field it names in the refusal."""

    value: dict[str, Any]
    field: str
    """The field at fault: a top-level body field, or ``config.<name>`` for the config."""


# ── catalog choices ──


def profiles() -> SearchStrategy[str]:
    """A profile name (``classic`` or ``current``)."""
    return st.sampled_from(sorted(PROFILES))


def pipelines(
    profile: str = "classic", *, sdk_version: str | None = INSTALLED
) -> SearchStrategy[str]:
    """A pipeline the profile trains and the SDK release sends and parses.

    ``sdk_version``: the release (``"1.8.0"``), the installed one by default, or
    ``None`` for every pipeline the profile's API takes, parsed or not (for bodies
    posted without the SDK): the classic profile's ``detectron2`` comes up only for
    releases before 1.8.1, whose ``TrainingRun`` still parses it.
    """
    return st.sampled_from(
        _readable(PIPELINES_BY_RELEASE, profile_named(profile).pipelines, _release(sdk_version))
    )


def gpu_types(
    profile: str = "classic", *, auto: bool = True, sdk_version: str | None = INSTALLED
) -> SearchStrategy[str]:
    """A GPU type the profile takes (``auto`` too where the profile and the SDK release
    have it, unless ``auto=False``); ``sdk_version`` as for :func:`pipelines`."""
    choices = (g for g in profile_named(profile).gpu_types if auto or g in GPU_TIERS)
    return st.sampled_from(_readable(GPU_TYPES_BY_RELEASE, choices, _release(sdk_version)))


def model_sizes(pipeline: str) -> SearchStrategy[str]:
    """A model size (variant) of ``pipeline``."""
    return st.sampled_from(list(_pipeline(pipeline).variants))


def run_names() -> SearchStrategy[str]:
    """A run name the API takes: 1 to 100 characters, not blank, any script, not ``.`` or
    ``..``."""
    return st.text(
        st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=NAME_LIMIT
    ).filter(lambda name: bool(name.strip()) and name not in DOT_SEGMENTS)


# ── configs ──


def training_configs(
    pipeline: str, *, max_epochs: int = 100, max_image_side: int = 1024, max_batch_size: int = 64
) -> SearchStrategy[dict[str, Any]]:
    """A config the API accepts for ``pipeline``: any subset of the fields it knows.

    ``max_epochs``, ``max_image_side`` and ``max_batch_size`` bound the draws below the
    API's own limits (``CONFIG_LIMITS``: 1000 epochs, 4096 px, a batch of 512), which are
    valid too but simulate long runs, or runs that need more GPU memory than a tier has
    (they fail out of memory); pass the limits to cover them.
    """
    known = _pipeline(pipeline)
    low_batch, high_batch = CONFIG_LIMITS["batch_size"]
    high = CONFIG_LIMITS["epochs"][1]
    low_side, high_side = CONFIG_LIMITS["image_size"]
    side = st.integers(low_side, min(max_image_side, high_side))
    fields: dict[str, SearchStrategy[Any]] = {
        "epochs": st.integers(1, max(1, min(max_epochs, high))),
        "batch_size": st.integers(low_batch, max(low_batch, min(max_batch_size, high_batch))),
        "learning_rate": st.floats(1e-6, 1.0, allow_nan=False, allow_infinity=False),
        "model_size": st.sampled_from(list(known.variants)),
        "image_size": side,
        "image_width": side,
        "image_height": side,
    }
    return st.fixed_dictionaries({}, optional=fields)


@st.composite
def invalid_training_configs(draw: DrawFn, pipeline: str) -> Invalid:
    """A config refused for ``pipeline``: one field out of range or of the wrong type.

    ``field`` is ``config.<name>``; the refusal (400) names it.
    """
    known = _pipeline(pipeline)
    base = draw(training_configs(pipeline))
    name = draw(st.sampled_from([*CONFIG_LIMITS, "learning_rate", "model_size"]))
    if name in CONFIG_LIMITS:
        low, high = CONFIG_LIMITS[name]
        bad = draw(
            st.one_of(
                st.integers(max_value=low - 1),
                st.integers(min_value=high + 1),
                st.booleans(),
                # A float is refused even when whole: the API takes integers only.
                st.floats(allow_nan=False, allow_infinity=False),
                st.text(max_size=5),
            )
        )
    elif name == "learning_rate":
        bad = draw(
            st.one_of(
                st.floats(max_value=0.0, allow_nan=False, allow_infinity=False),
                st.floats(min_value=1.0, exclude_min=True, allow_nan=False, allow_infinity=False),
                st.booleans(),
                st.text(max_size=5),
            )
        )
    else:
        bad = draw(st.text(min_size=1, max_size=12).filter(lambda s: s not in known.variants))
    return Invalid({**base, name: bad}, f"config.{name}")


# ── create requests ──


def create_requests(
    profile: str = "classic",
    *,
    dataset: str | SearchStrategy[str] = "dataset",
    export: str | SearchStrategy[str] = "export",
    pipeline: str | None = None,
    max_epochs: int = 100,
    sdk_version: str | None = INSTALLED,
) -> SearchStrategy[dict[str, Any]]:
    """Keyword arguments for ``client.training.create`` that the profile accepts.

    ``dataset`` and ``export`` name ones the test made (or are strategies for names);
    each request has ``pipeline_type``, ``name``, ``gpu_type`` and a ``config``. Pass
    ``wait=...`` yourself. ``sdk_version`` as for :func:`pipelines`: by default the
    installed SDK can send each request and parse the run it gets back.
    """
    release = _checked_release(profile, sdk_version)
    if pipeline is not None:
        _pipeline(pipeline)
        version = _release(release)
        takes = _readable(PIPELINES_BY_RELEASE, profile_named(profile).pipelines, version)
        if pipeline not in takes:
            for_release = "" if version is None else f" that SDK {format_version(version)} parses"
            raise ValueError(
                f"pipeline={pipeline!r} is not one the {profile!r} profile trains{for_release}: "
                f"choose one of {', '.join(takes)}"
            )
    return _requests(profile, dataset, export, pipeline, max_epochs, release)


@st.composite
def _requests(
    draw: DrawFn,
    profile: str,
    dataset: str | SearchStrategy[str],
    export: str | SearchStrategy[str],
    pipeline: str | None,
    max_epochs: int,
    sdk_version: str | None,
) -> dict[str, Any]:
    chosen = pipeline if pipeline is not None else draw(pipelines(profile, sdk_version=sdk_version))
    return {
        "dataset_name": dataset if isinstance(dataset, str) else draw(dataset),
        "export_name": export if isinstance(export, str) else draw(export),
        "pipeline_type": chosen,
        "name": draw(run_names()),
        "gpu_type": draw(gpu_types(profile, sdk_version=sdk_version)),
        "config": draw(training_configs(chosen, max_epochs=max_epochs)),
    }


@st.composite
def invalid_create_requests(
    draw: DrawFn,
    profile: str = "classic",
    *,
    dataset: str = "dataset",
    export: str = "export",
) -> Invalid:
    """A JSON body for ``POST /training/`` that the API refuses, and the field at fault.

    Bodies, not SDK calls: some faults (a missing field, a wrong type, an extra field)
    the SDK's signature would never send. Post them with ``httpx`` to the fake (its
    transport or the intercepted host); a 4xx names ``field``. The valid part draws
    from every value the profile's API takes (``sdk_version=None``).
    """
    valid = draw(create_requests(profile, dataset=dataset, export=export, sdk_version=None))
    known_pipelines = profile_named(profile).pipelines
    known_gpus = profile_named(profile).gpu_types
    fault = draw(
        st.sampled_from(
            [
                "missing",
                "wrong_type",
                "extra",
                "pipeline",
                "gpu",
                "name",
                "config_type",
                "config_value",
            ]
        )
    )
    body = dict(valid)
    if fault == "missing":
        field = draw(st.sampled_from(_CREATE_REQUIRED))
        del body[field]
    elif fault == "wrong_type":
        field = draw(st.sampled_from(["dataset_name", "export_name", "pipeline_type", "name"]))
        body[field] = draw(st.one_of(st.integers(), st.booleans(), st.lists(st.integers())))
    elif fault == "extra":
        field = draw(
            st.text("abcdefghijklmnopqrstuvwxyz_", min_size=3, max_size=12).filter(
                lambda s: s not in _CREATE_FIELDS
            )
        )
        body[field] = "unexpected"
    elif fault == "pipeline":
        field = "pipeline_type"
        body[field] = draw(
            st.text(min_size=1, max_size=20).filter(lambda s: s not in known_pipelines)
        )
    elif fault == "gpu":
        field = "gpu_type"
        # An empty string means "the default" to the API, so it is not a fault.
        body[field] = draw(st.text(min_size=1, max_size=10).filter(lambda s: s not in known_gpus))
    elif fault == "name":
        field = "name"
        body[field] = draw(
            st.one_of(
                st.text(min_size=NAME_LIMIT + 1, max_size=NAME_LIMIT + 20),
                st.text(" \t", min_size=1, max_size=5),
            )
        )
    elif fault == "config_type":
        field = "config"
        body[field] = draw(st.one_of(st.lists(st.integers(), min_size=1), st.text(min_size=1)))
    else:
        bad = draw(invalid_training_configs(body["pipeline_type"]))
        body["config"], field = bad.value, bad.field
    return Invalid(body, field)


# ── run payloads ──


def run_payloads(
    profile: str = "current", *, status: str | None = None, sdk_version: str | None = INSTALLED
) -> SearchStrategy[dict[str, Any]]:
    """A ``TrainingRun`` object as today's API sends it (the ``data`` of a run response).

    Self-consistent: a completed run has its model and 100 % progress, a failed one its
    error message, a queued one no start; for code that handles runs without running
    any. ``status`` fixes the status. ``sdk_version`` as for :func:`pipelines`: by
    default the installed SDK's ``TrainingRun`` parses every payload; with ``None`` a
    classic ``detectron2`` run may come up, which the API sends all the same.
    """
    if status is not None and status not in RUN_STATUSES:
        raise ValueError(f"unknown run status {status!r}; choose one of {', '.join(RUN_STATUSES)}")
    return _run_payloads(profile, status, _checked_release(profile, sdk_version))


@st.composite
def _run_payloads(
    draw: DrawFn, profile: str, status: str | None, sdk_version: str | None
) -> dict[str, Any]:
    pipeline_name = draw(pipelines(profile, sdk_version=sdk_version))
    pipeline = PIPELINES[pipeline_name]
    state = status if status is not None else draw(st.sampled_from(RUN_STATUSES))
    epochs = draw(st.integers(1, 300))
    created = draw(
        st.datetimes(
            min_value=DEFAULT_START.replace(tzinfo=None),
            max_value=(DEFAULT_START + timedelta(days=365)).replace(tzinfo=None),
            timezones=st.just(timezone.utc),
        )
    )
    started: datetime | None = None
    completed: datetime | None = None
    # `current_epoch` is the epoch in progress (the one reached, once ended), from 1 once
    # training started; the metrics are the last finished epoch's, so one behind it.
    epoch, done, progress = 0, 0, 0
    if state == "running" or state in TERMINAL:
        started = created + timedelta(seconds=draw(st.integers(30, 3600)))
    if state == "completed":
        epoch, done, progress = epochs, epochs, 100
    elif state == "running" or state in ("failed", "cancelled"):
        epoch = draw(st.integers(1, epochs))
        done = epoch - 1
        progress = min(99, done * 100 // epochs)
        if state == "cancelled" and draw(st.booleans()):
            started, epoch, done, progress = None, 0, 0, 0  # cancelled before it started
    if state in TERMINAL:
        base = started if started is not None else created
        completed = base + timedelta(seconds=draw(st.integers(1, 7200)))
    # Every ended run says how long it trained: 0 when it never started.
    training_seconds = (
        (int((completed - started).total_seconds()) if started is not None else 0)
        if completed is not None
        else None
    )
    # One choice of the same range whatever the pipeline (a pipeline of one variant
    # would make none): the shrinker then moves between pipelines without the choices
    # after this one shifting, and ends at the first pipeline and variant.
    variants = list(pipeline.variants.values())
    variant = variants[draw(st.integers(0, _MOST_VARIANTS - 1)) % len(variants)]
    gpu = draw(gpu_types(profile, auto=False, sdk_version=sdk_version))
    config = {
        "epochs": epochs,
        "batch_size": pipeline.default_batch_size,
        "learning_rate": pipeline.learning_rate,
        "model_size": variant.name,
        "image_width": variant.input_size,
        "image_height": variant.input_size,
    }
    return {
        "id": _uuid(draw),
        "organization_id": _uuid(draw),
        "name": draw(run_names()),
        "dataset_id": _uuid(draw),
        "export_id": _uuid(draw),
        "export_name": draw(
            st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=30)
        ),
        "pipeline_type": pipeline_name,
        "gpu_type": gpu,
        "total_epochs": epochs,
        "config": config,
        "created_at": format_timestamp(created),
        "created_by": _uuid(draw),
        "status": state,
        "progress": progress,
        "current_epoch": epoch,
        "metrics": _metrics(pipeline_name, done, draw) if done else {},
        "eta_seconds": draw(st.integers(0, 7200)) if state in ("queued", "running") else None,
        "training_time_seconds": training_seconds,
        "model_id": _uuid(draw) if state == "completed" else None,
        "error_message": draw(_failure_messages()) if state == "failed" else None,
        "warnings": draw(_run_warnings(profile, pipeline)),
        "started_at": format_timestamp(started) if started is not None else None,
        "completed_at": format_timestamp(completed) if completed is not None else None,
    }


@st.composite
def _run_warnings(draw: DrawFn, profile: str, pipeline: Pipeline) -> list[dict[str, Any]] | None:
    """A run's warnings: ``None``, or under a profile that checks class support (and a
    pipeline that may leave a class out) the classes its export could not teach."""
    spec = profile_named(profile)
    # Drawn first, whatever the pipeline: every pipeline then makes this choice, so the
    # shrinker can move between them without a draw appearing or vanishing.
    warned = draw(st.booleans())
    if not warned or not spec.checks_class_support or pipeline.model_type == "keypoint_detection":
        return None
    names = draw(st.lists(run_names(), min_size=1, max_size=3, unique=True))
    left_out = []
    for name in names:
        reason: Reason = draw(st.sampled_from(get_args(Reason)))
        val, test = (
            (0, 0)
            if reason == "no_training_data"
            else draw(st.tuples(st.integers(0, 50), st.integers(0, 50)).filter(lambda vt: any(vt)))
        )
        left_out.append(ClassCount(name, val + test, 0, val, test, reason))
    support = ClassSupport("assigned", tuple(left_out), 0, 0)
    warning = left_out_warning(support, pipeline.support_unit)
    return None if warning is None else [warning]


def _metrics(pipeline: str, epoch: int, draw: DrawFn) -> dict[str, Any]:
    """Per-epoch metrics with the keys the fake reports for the pipeline's task."""
    spec = PIPELINES[pipeline]
    score = st.floats(0.0, 0.999, allow_nan=False).map(lambda x: round(x, 4))
    metrics: dict[str, Any] = {
        "epoch": epoch,
        "loss": draw(st.floats(0.0, 5.0, allow_nan=False).map(lambda x: round(x, 4))),
        spec.headline_metric: draw(score),
    }
    extra = {
        "object_detection": ("mAP50", "precision", "recall"),
        "instance_segmentation": ("box_mAP",),
        "semantic_segmentation": ("pixel_accuracy",),
        "classification": ("top5_accuracy",),
    }.get(spec.model_type, ())
    for key in extra:
        metrics[key] = draw(score)
    return metrics


def _failure_messages() -> SearchStrategy[str]:
    return st.sampled_from(
        [
            "CUDA out of memory. Tried to allocate 2.00 GiB; use a larger gpu_type.",
            "Training exceeded the 2-hour service limit.",
            "Training failed: the export has no usable annotations.",
        ]
    )


def _uuid(draw: DrawFn) -> str:
    return str(draw(st.uuids(version=4)))


_MOST_VARIANTS = max(len(p.variants) for p in PIPELINES.values())


def _pipeline(name: str) -> Pipeline:
    try:
        return PIPELINES[name]
    except KeyError:
        known = ", ".join(sorted(PIPELINES))
        raise ValueError(f"unknown pipeline {name!r}; choose one of: {known}") from None


def _release(sdk_version: str | None) -> Version | None:
    """The release ``sdk_version`` names; ``None`` for none (every value the API takes)."""
    if sdk_version is None:
        return None
    if sdk_version == INSTALLED:
        return check_installed_sdk() or NEWEST
    try:
        parse_version(sdk_version)
    except ValueError:
        raise ValueError(
            f"sdk_version={sdk_version!r} is not an SDK release: pass one like '1.69.146', "
            f"{INSTALLED!r} (the default) or None"
        ) from None
    return answered_release(sdk_version)  # refuses one older than the first


def _checked_release(profile: str, sdk_version: str | None) -> str | None:
    """Check ``profile`` and ``sdk_version`` now, not at the first draw."""
    profile_named(profile)
    _release(sdk_version)
    return sdk_version


def _readable(vocabulary: Vocabulary, values: Iterable[str], release: Version | None) -> list[str]:
    """``values`` that ``release`` sends and parses, sorted (all of them for no release)."""
    return sorted(v for v in values if release is None or vocabulary.readable(v, release))
