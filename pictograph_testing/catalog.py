"""Every fact about pipelines, GPU tiers, prices and profiles, in one place.

The numbers for the ``classic`` profile follow the training guide (its GPU table gives
~$0.30/h, ~$2/h and ~$4/h); the ``current`` profile uses the rates the API serves to
SDK 1.61 and newer. Durations and memory peaks are a model, not a measurement: they are
chosen so the guide's advice holds (YOLOX fits an A10G, large RF-DETR and Detectron2
R101 want an A100, the H100 only when the A100 runs out of memory).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

__all__ = [
    "ANNOTATION_NAMES_ARE_CLASSES",
    "AUTO_GPU",
    "CREDITS_LOW_MICRO_USD",
    "DEFAULT_GPU_TIER",
    "DEFAULT_PLAN",
    "EPOCH_OVERHEAD_SECONDS",
    "EVALUATION_TIER",
    "GPU_CHOICES",
    "GPU_TIERS",
    "HOSTED_INFERENCE",
    "IDEMPOTENCY_TTL_SECONDS",
    "INVITE_TTL_SECONDS",
    "LEGACY_CREDIT_MICRO_USD",
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_PIXELS",
    "MAX_VIDEO_BYTES",
    "MICRO_USD",
    "MODEL_TYPES",
    "NAME_LIMIT",
    "OOM_AFTER_SECONDS",
    "OPERATIONS",
    "PIPELINES",
    "PLANS",
    "PROFILES",
    "SAM3_IMAGE_MICRO_USD",
    "SERVICE_CAP_SECONDS",
    "TRAINED_KIND_WORDS",
    "UPGRADE_URL",
    "GpuTier",
    "HostedInference",
    "InferenceTier",
    "Operation",
    "Pipeline",
    "Plan",
    "Profile",
    "ProfileName",
    "TrainedKind",
    "Variant",
    "profile_named",
]

ProfileName = Literal["classic", "current"]
TrainedKind = Literal["bbox", "polygon", "keypoint", "tag"]
TRAINED_KIND_WORDS: dict[TrainedKind, str] = {
    "bbox": "bounding boxes",
    "polygon": "polygons",
    "keypoint": "keypoints",
    "tag": "image tags",
}
"""What a pipeline can learn from (annotation types, and ``tag``: an image's tags), in
words, as a quote's ``class_support.trains_on`` says it."""

MICRO_USD = 1_000_000
LEGACY_CREDIT_MICRO_USD = 10_000
"""One credit of SDK 1.0.x, which counted money in whole credits: a cent. (The sources
of that era disagree on prices; any consistent rate is faithful to the wire.)"""
SERVICE_CAP_SECONDS = 7200
"""The training service's own hard limit on a run's running time (two hours)."""
EPOCH_OVERHEAD_SECONDS = 4.0
"""Validation and checkpointing that every epoch pays whatever the data size."""
OOM_AFTER_SECONDS = 20.0
"""How long a run that cannot fit its first batch lives before CUDA gives up."""
IDEMPOTENCY_TTL_SECONDS = 24 * 3600
"""How long an answer stays stored under its Idempotency-Key for a retry to replay."""
CREDITS_LOW_MICRO_USD = 2 * MICRO_USD
"""The spendable balance below which the ``credits.low`` webhook event fires: $2.00, the
least the API needs to start a training run (the ``current`` profile's start gate)."""
MAX_IMAGE_BYTES = 25 * 1024 * 1024
"""The most one image may hold, uploaded to a signed URL or sent for prediction (25 MB)."""
MAX_IMAGE_PIXELS = 50_000_000
"""The most pixels one image sent for prediction may have, as the API's tool cards state it
(SDK 1.69.146's ``tests/fixtures/tool_cards.json``: "up to 25 MB and 50 megapixels"). Stated
on the fake's cards; the fake refuses an image by its bytes only."""
MAX_VIDEO_BYTES = 1024 * 1024 * 1024
"""The most one video may hold, uploaded to its signed URL (the API's own tool cards: "A
video up to 1 GB")."""
NAME_LIMIT = 100
"""The most characters the API takes in a name it keys things by: a run's, a model's, an
export's, a dataset's, a deployment's, an API key's or an organization's."""


@dataclass(frozen=True)
class GpuTier:
    """One GPU tier: its memory, speed, how many workers exist, and its prices."""

    name: str
    total_mib: int
    speed: float
    """Throughput relative to the A10G."""
    workers: int
    """Runs this tier trains at once in one world; the rest wait ``queued``."""
    cold_start_seconds: float
    """Provisioning time between a worker being assigned and training starting."""
    classic_micro_usd_per_hour: int
    current_micro_usd_per_hour: int
    """Exact hourly prices: per-minute figures are rounded from these, never summed."""


GPU_TIERS: MappingProxyType[str, GpuTier] = MappingProxyType(
    {
        "a10g": GpuTier("a10g", 23028, 1.0, 4, 45.0, 300_000, 2_200_000),
        "a100": GpuTier("a100", 40960, 2.0, 2, 60.0, 2_000_000, 4_200_000),
        "h100": GpuTier("h100", 81559, 3.2, 1, 75.0, 4_000_000, 7_900_000),
    }
)
"""Tiers, cheapest first (``auto`` picks the first whose memory holds the run).

Prices, by source. ``classic``: the training guide's hourly rates (a10g ~$0.30/h, a100
~$2/h, h100 ~$4/h). ``current``: SDK 1.69.146's ``tests/unit/resources/test_training.py``
training quote (36,667 / 70,000 / 131,667 µUSD a minute), the one canned reply the SDK says
its backend's contract replay holds to the real route. The same suite's hand-written
``credits.estimate`` replies price ``training_a10g`` at 22,917 and ``training_h100`` at
82,292 µUSD a minute; SDK 1.60.0's copy of them says why ("A10G $1.10/hr x 1.25", "H100
$3.95/hr x 1.25"): an older list price, which no profile models (the replay compares shapes,
not amounts)."""
AUTO_GPU = "auto"
GPU_CHOICES = (*GPU_TIERS, AUTO_GPU)
"""What ``gpu_type`` may say, in some profile (``auto`` is the ``current`` profile's)."""
MODEL_TYPES = (
    "object_detection",
    "semantic_segmentation",
    "instance_segmentation",
    "classification",
    "keypoint_detection",
)
"""What a trained model is for; each pipeline trains one of these."""
DEFAULT_GPU_TIER = "a10g"
"""The tier a run or quote trains on when its request names no ``gpu_type``."""


@dataclass(frozen=True)
class Variant:
    """A model size of a pipeline: its speed and memory footprint at the default input."""

    name: str
    architecture: str
    seconds_per_image: float
    """Seconds per training image per epoch on an A10G at the pipeline's default input."""
    base_mib: int
    """Weights, optimizer state and workspace."""
    mib_per_sample: int
    """Activations per image of the batch at the default input size."""
    input_size: int
    metric_ceiling: float
    """The best headline metric this variant reaches on plenty of data."""


@dataclass(frozen=True)
class Pipeline:
    """A training pipeline: what it trains on, what it makes, and its variants."""

    name: str
    model_type: str
    trained_kinds: tuple[TrainedKind, ...]
    """What it learns from: annotation types, or ``tag`` (an image's tags)."""
    headline_metric: str
    default_variant: str
    default_batch_size: int
    variants: MappingProxyType[str, Variant]
    learning_rate: float
    publishes_memory_estimate: bool = True
    """Whether the service predicts this pipeline's peak memory: without it, a quote's
    ``fits`` is unknown (``None``) rather than a guess."""

    @property
    def trains_on(self) -> str:
        """What it learns from, in words (``"bounding boxes or polygons"``)."""
        return " or ".join(TRAINED_KIND_WORDS[kind] for kind in self.trained_kinds)

    @property
    def support_unit(self) -> str:
        """What a class's support counts: images for classification, else annotations."""
        return "images" if "tag" in self.trained_kinds else "annotations"

    def variant(self, name: str | None) -> Variant:
        """Return the named variant, or the default one for ``None``."""
        return self.variants[name or self.default_variant]


def _variants(*items: Variant) -> MappingProxyType[str, Variant]:
    return MappingProxyType({v.name: v for v in items})


# Variant columns: name, architecture, seconds per image per epoch on an A10G, base MiB,
# MiB per sample of the batch, default input size (px), headline-metric ceiling.
PIPELINES: MappingProxyType[str, Pipeline] = MappingProxyType(
    {
        "yolox": Pipeline(
            name="yolox",
            model_type="object_detection",
            trained_kinds=("bbox",),
            headline_metric="mAP",
            default_variant="m",
            default_batch_size=16,
            variants=_variants(
                Variant("nano", "yolox-nano", 0.03, 600, 180, 640, 0.52),
                Variant("tiny", "yolox-tiny", 0.04, 800, 250, 640, 0.58),
                Variant("s", "yolox-s", 0.06, 1200, 400, 640, 0.66),
                Variant("m", "yolox-m", 0.10, 1800, 700, 640, 0.72),
                Variant("l", "yolox-l", 0.16, 2500, 1000, 640, 0.76),
                Variant("x", "yolox-x", 0.25, 3000, 1300, 640, 0.79),
            ),
            learning_rate=0.01,
            # The real service has no memory model for YOLOX.
            publishes_memory_estimate=False,
        ),
        "rfdetr_detection": Pipeline(
            name="rfdetr_detection",
            model_type="object_detection",
            trained_kinds=("bbox", "polygon"),
            headline_metric="mAP",
            default_variant="medium",
            default_batch_size=8,
            variants=_variants(
                Variant("nano", "rfdetr-nano", 0.08, 1500, 900, 384, 0.68),
                Variant("small", "rfdetr-small", 0.12, 2000, 1300, 512, 0.73),
                Variant("medium", "rfdetr-medium", 0.18, 2500, 1800, 576, 0.77),
                Variant("base", "rfdetr-base", 0.22, 3000, 2200, 560, 0.78),
                Variant("large", "rfdetr-large", 0.35, 4000, 3200, 704, 0.81),
            ),
            learning_rate=0.0001,
        ),
        "rfdetr_segmentation": Pipeline(
            name="rfdetr_segmentation",
            model_type="instance_segmentation",
            trained_kinds=("polygon",),
            headline_metric="mask_mAP",
            default_variant="medium",
            default_batch_size=8,
            variants=_variants(
                Variant("nano", "rfdetr-seg-nano", 0.11, 1800, 1200, 312, 0.60),
                Variant("small", "rfdetr-seg-small", 0.17, 2400, 1700, 384, 0.65),
                Variant("medium", "rfdetr-seg-medium", 0.25, 3000, 2400, 432, 0.69),
                Variant("large", "rfdetr-seg-large", 0.40, 4500, 3800, 504, 0.73),
            ),
            learning_rate=0.0001,
        ),
        "detectron2": Pipeline(
            name="detectron2",
            model_type="instance_segmentation",
            trained_kinds=("polygon",),
            headline_metric="mask_mAP",
            default_variant="R50",
            default_batch_size=4,
            variants=_variants(
                Variant("R50", "mask-rcnn-R50-FPN", 0.30, 3000, 4500, 800, 0.66),
                Variant("R101", "mask-rcnn-R101-FPN", 0.45, 4000, 5800, 800, 0.69),
                Variant("X101", "mask-rcnn-X101-FPN", 0.80, 6000, 10000, 800, 0.72),
            ),
            learning_rate=0.02,
        ),
        "sm_pytorch": Pipeline(
            name="sm_pytorch",
            model_type="semantic_segmentation",
            trained_kinds=("polygon",),
            headline_metric="mIoU",
            default_variant="resnet34",
            default_batch_size=8,
            variants=_variants(
                Variant("resnet18", "unet-resnet18", 0.05, 800, 600, 512, 0.70),
                Variant("resnet34", "unet-resnet34", 0.08, 1200, 900, 512, 0.74),
                Variant("resnet50", "unet-resnet50", 0.12, 1800, 1400, 512, 0.77),
            ),
            learning_rate=0.0001,
        ),
        "classification": Pipeline(
            name="classification",
            model_type="classification",
            trained_kinds=("tag",),
            headline_metric="accuracy",
            default_variant="resnet50",
            default_batch_size=32,
            variants=_variants(
                Variant("resnet18", "resnet18", 0.01, 400, 60, 224, 0.86),
                Variant("resnet50", "resnet50", 0.02, 700, 120, 224, 0.90),
                Variant("efficientnet_b0", "efficientnet-b0", 0.015, 500, 90, 224, 0.89),
                Variant("efficientnet_b1", "efficientnet-b1", 0.02, 600, 110, 240, 0.90),
                Variant("efficientnet_b2", "efficientnet-b2", 0.025, 700, 130, 260, 0.91),
                Variant("efficientnet_b3", "efficientnet-b3", 0.035, 900, 170, 300, 0.92),
                Variant("efficientnet_b4", "efficientnet-b4", 0.05, 1200, 260, 380, 0.93),
            ),
            learning_rate=0.001,
        ),
        "rfdetr_keypoint": Pipeline(
            "rfdetr_keypoint",
            "keypoint_detection",
            ("keypoint",),
            "kpt_mAP",
            "preview",
            8,
            _variants(Variant("preview", "rfdetr-keypoint-preview", 0.20, 3000, 2000, 640, 0.70)),
            0.0001,
        ),
    }
)


@dataclass(frozen=True)
class Profile:
    """How the fake behaves: billing, the pipelines and GPUs it takes, dataset rules."""

    name: ProfileName
    billing: Literal["prepaid", "charge_on_success"]
    pipelines: frozenset[str]
    gpu_types: frozenset[str]
    min_images: int
    """Images matching the export's status_filter a run needs (0: no minimum)."""
    start_gate_micro_usd: int
    """Spendable balance needed to start a run (charge-on-success only)."""
    checks_class_support: bool = False
    """Whether a run trains only the classes its export's train split labels in a kind
    its pipeline learns from (leaving the rest out with a warning, refusing a run with
    none), or every class it names."""
    precharge_margin: float = 1.2
    min_precharge_minutes: int = 5
    default_epochs: int = 50
    rate_field: str = field(default="classic_micro_usd_per_hour")

    def rate(self, gpu: str) -> int:
        """Return the µUSD per GPU-minute this profile shows for ``gpu`` (rounded)."""
        return self.cost(gpu, 1)

    def cost(self, gpu: str, minutes: int) -> int:
        """Price ``minutes`` GPU-minutes on ``gpu``: the exact rate times minutes, rounded.

        Rounded once, half up, so a total is not the rounded per-minute price times the
        minutes (10 a10g minutes under ``current`` cost 366,667 µUSD, not 366,670).
        """
        per_hour = int(getattr(GPU_TIERS[gpu], self.rate_field))
        return (per_hour * minutes * 2 + 60) // 120

    def allows_pipeline(self, pipeline: str) -> bool:
        return pipeline in self.pipelines

    def precharge_minutes(self, planned_seconds: float) -> int:
        """Minutes pre-charged at create under prepaid billing (never above the cap)."""
        minutes = math.ceil(planned_seconds * self.precharge_margin / 60.0)
        cap = SERVICE_CAP_SECONDS // 60
        return min(cap, max(self.min_precharge_minutes, minutes))


_COMMON_PIPELINES = frozenset(
    {"yolox", "sm_pytorch", "classification", "rfdetr_detection", "rfdetr_segmentation"}
)

PROFILES: MappingProxyType[str, Profile] = MappingProxyType(
    {
        "classic": Profile(
            name="classic",
            billing="prepaid",
            pipelines=_COMMON_PIPELINES | {"detectron2"},
            gpu_types=frozenset({"a10g", "a100", "h100"}),
            min_images=5,
            start_gate_micro_usd=0,
        ),
        "current": Profile(
            name="current",
            billing="charge_on_success",
            pipelines=_COMMON_PIPELINES | {"rfdetr_keypoint"},
            gpu_types=frozenset({"a10g", "a100", "h100", "auto"}),
            min_images=0,
            start_gate_micro_usd=2 * MICRO_USD,
            checks_class_support=True,
            rate_field="current_micro_usd_per_hour",
        ),
    }
)


def profile_named(name: str) -> Profile:
    """Return the profile called ``name``; a clear ``ValueError`` for any other."""
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise ValueError(f"unknown profile {name!r}; choose one of: {known}") from None


@dataclass(frozen=True)
class Operation:
    """A priced operation that ``credits.estimate`` knows."""

    slug: str
    unit: Literal["minute", "call"]
    """What ``quantity`` counts, as the API words it: ``minute`` or ``call``, never
    ``per_minute``. Source: the SDK's ``tests/live/test_credits_live.py``, which expected
    ``per_minute`` / ``per_call`` up to at least 1.69.30 and, from 1.69.105 to 1.69.146,
    expects ``minute`` / ``call`` because "utils/pricing.py emits exactly those strings"
    and the old rows "had been red" against the API; ``models/credit.py``
    (``CreditEstimate.unit``: "'minute', 'image', 'run', etc.") and
    ``tests/unit/resources/test_credits.py``'s replies, 1.69.146. The 1.69.146
    ``tests/e2e/test_smoke.py`` still expects ``per_minute``: it fails against the API too
    (``sdk_suites.STALE``)."""
    micro_usd_per_unit: int | None
    """``None``: a training tier, priced by the world's profile."""
    gpu: str | None = None


def _operations() -> dict[str, Operation]:
    ops: dict[str, Operation] = {}
    for gpu in GPU_TIERS:
        ops[f"training_{gpu}"] = Operation(f"training_{gpu}", "minute", None, gpu)
        # The guide's spelling, still accepted as an alias of the tier's slug.
        ops[f"training_{gpu}_per_minute"] = Operation(
            f"training_{gpu}_per_minute", "minute", None, gpu
        )
    for slug, unit, price in (
        ("sam3_auto_annotation", "minute", 2_500),
        ("inference_t4", "minute", 10_000),
        ("image_edit_gemini_flash", "call", 39_000),
        ("image_generate_gemini_3_1_flash", "call", 25_000),
        ("image_edit_gemini_3_1_flash", "call", 39_000),
        # Imagen 4 Fast, for the releases that still name it (see dialects.ESTIMATE_
        # OPERATIONS): 3 credits an image in SDK 1.0.0's tests, a credit being a cent.
        ("image_generate_imagen_fast", "call", 30_000),
        # SDK 1.0.x's own slugs (its estimate docstring, CLI help and tests; 1.1.0 renamed
        # them), priced as its tests and skill docs do: SAM3 3 credits a minute, hosted
        # inference 1 credit an image.
        ("sam3_per_minute", "minute", 30_000),
        ("image_inference", "call", 10_000),
    ):
        ops[slug] = Operation(slug, unit, price)  # type: ignore[arg-type]
    return ops


OPERATIONS: MappingProxyType[str, Operation] = MappingProxyType(_operations())

ANNOTATION_NAMES_ARE_CLASSES = True
"""A saved annotation's ``name`` must be a class of its dataset: otherwise the save is a
422 (``annotations.bulk_save`` reports that image in ``failed``). Source: the SDK's
``resources/annotations.py``, ``Annotations.save`` ("ValidationError: Backend rejected
the payload (e.g., a class name not in the dataset's class set)"), 1.0.0 to 1.69.146, and
its async twin ("e.g. an unknown class"); ``skills/pictograph-cv/references/annotations.md``
("Mistakes that get rejected: ... A ``name`` that is not a class on the dataset") since the
skill was "rewritten against the shipped SDK" in 1.69.5 (present 1.69.30 to 1.69.146); and
the annotation imports, which add a file's missing classes to the dataset before saving
(1.69.122 changelog; ``_ensure_classes``: "annotations whose class already exists still
save"). Against it, only ``tests/live/test_augment_live.py`` and ``test_tile_live.py``
(1.60.0 to 1.69.146) save class ``obj`` into a ``thing`` / ``shape`` dataset and expect
success; they fail against the API too (``sdk_suites.STALE``), as the unit rows of
``test_credits_live.py`` did until 1.69.105."""


@dataclass(frozen=True)
class InferenceTier:
    """The GPU tier batch inference runs on (model evaluations): workers, speed, price."""

    name: str
    operation: str
    """The priced operation (:data:`OPERATIONS`) its minutes are billed as."""
    workers: int
    """Evaluations running at once in one world; the rest wait ``pending``."""
    cold_start_seconds: float
    speed: float
    """Throughput relative to the A10G (the unit of ``Variant.seconds_per_image``)."""
    inference_share: float
    """An inference pass's cost as a share of a training pass over the same image."""
    overhead_seconds: float
    """Loading the export and scoring, whatever its size."""


EVALUATION_TIER = InferenceTier(
    name="t4",
    operation="inference_t4",
    workers=2,
    cold_start_seconds=30.0,
    speed=0.6,
    inference_share=0.35,
    overhead_seconds=10.0,
)
"""Model evaluations are trained-model batch inference jobs, billed per started minute."""


@dataclass(frozen=True)
class HostedInference:
    """Hosted test inference (``models.predict``): free, on a shared daily CPU pool."""

    max_image_bytes: int
    min_confidence: float
    max_confidence: float
    max_top_k: int
    daily_images: int
    """Images the shared CPU pool runs per UTC day, for every user of one world."""


HOSTED_INFERENCE = HostedInference(
    max_image_bytes=MAX_IMAGE_BYTES,
    min_confidence=0.05,
    max_confidence=0.95,
    max_top_k=100,
    daily_images=1000,
)

SAM3_IMAGE_MICRO_USD = 10_000
"""SAM3's session fee on one image ($0.01, once per image's bytes, when a prompt on it
completes; more prompts on it are free). Source: the SDK's 1.69.107 changelog and its
``tests/fixtures/tool_cards.json`` (the API's SAM3 card: ``micro_usd`` 10000 per image)."""


# ── deployments ──


@dataclass(frozen=True)
class DeploymentGpu:
    """A GPU tier a deployment runs on: its container, its price, its engine's speed."""

    name: str
    label: str
    description: str
    vram_gb: int
    cpu_cores: float
    memory_gib: float
    micro_usd_per_minute: int
    """One container's price per minute; an hour is sixty of them (never rounded)."""
    engine_build_seconds: float
    """How long the first TensorRT build of a model for this GPU takes (any precision)."""
    infer_ms_fp32: float
    """The engine's forward pass on one image at fp32; fp16 takes half."""


DEPLOYMENT_GPUS: MappingProxyType[str, DeploymentGpu] = MappingProxyType(
    {
        "t4": DeploymentGpu(
            "t4",
            "T4 GPU",
            "Entry GPU. Great for detection and classification at low cost.",
            16,
            4.0,
            16.0,
            79_320,
            180.0,
            14.0,
        ),
        "l4": DeploymentGpu(
            "l4",
            "L4 GPU",
            "Newer entry GPU: faster than a T4 for a little more.",
            24,
            4.0,
            16.0,
            97_695,
            150.0,
            9.0,
        ),
        "a100": DeploymentGpu(
            "a100",
            "A100 GPU",
            "Top-end. For large segmentation models and heavy traffic.",
            40,
            8.0,
            32.0,
            239_140,
            120.0,
            5.0,
        ),
    }
)
"""The deployment tiers, cheapest first (the SDK's own examples give these prices)."""
DEPLOYMENT_PRECISIONS: tuple[tuple[str, str, str], ...] = (
    ("fp32", "FP32", "32-bit, the model as trained"),
    ("fp16", "FP16", "16-bit, faster, accuracy-equivalent"),
)
"""Precision, label, description: the default first."""
DEPLOYMENT_REGIONS: tuple[tuple[str, str, str], ...] = (
    ("us-east", "US East", "Virginia"),
    ("us-west", "US West", "Oregon"),
)
"""Region id, label, location. ``auto`` is the first: the fake is always nearest it."""
DEPLOYMENT_TRANSFER_MICRO_USD_PER_GIB = 240_000
"""A GiB of a deployment's requests' data (each image and its answer), on every GPU."""
DEPLOYMENT_SERVER_START_SECONDS = 60.0
"""From an engine on hand to a deployment's server up: "about a minute"."""
DEPLOYMENT_METER_SECONDS = 300.0
"""How often a live deployment's uptime and transfer are metered onto the ledger."""
DEPLOYMENT_MAX_MIN_CONTAINERS = 5
DEPLOYMENT_MAX_CONTAINERS = 10
DEPLOYMENT_SCALEDOWN_SECONDS = (2, 3600)
DEPLOYMENT_STREAMS_PER_CONTAINER = 4
STREAM_IDLE_SECONDS = 30
"""A stream ends this long after its reader was last active."""
STREAM_MAX_SECONDS = 4 * 3600
"""A stream ends this long after it opened, whatever else."""
STREAM_ICE_SERVERS = ({"urls": "stun:stun.l.google.com:19302"},)
"""The ICE servers an opened stream names for a WebRTC client."""

__all__ += [
    "DEPLOYMENT_GPUS",
    "DEPLOYMENT_MAX_CONTAINERS",
    "DEPLOYMENT_MAX_MIN_CONTAINERS",
    "DEPLOYMENT_METER_SECONDS",
    "DEPLOYMENT_PRECISIONS",
    "DEPLOYMENT_REGIONS",
    "DEPLOYMENT_SCALEDOWN_SECONDS",
    "DEPLOYMENT_SERVER_START_SECONDS",
    "DEPLOYMENT_STREAMS_PER_CONTAINER",
    "DEPLOYMENT_TRANSFER_MICRO_USD_PER_GIB",
    "STREAM_ICE_SERVERS",
    "STREAM_IDLE_SECONDS",
    "STREAM_MAX_SECONDS",
    "DeploymentGpu",
]


# ── subscription plans: an organization's caps ──


@dataclass(frozen=True)
class Plan:
    """A subscription tier's caps, as ``organizations.me`` reports them.

    The API does not publish these numbers; they are the fake's, chosen so that each
    tier allows more than the one below it and ``pro`` matches the SDK's own examples.
    """

    name: str
    max_users: int
    """Members plus pending invites: inviting past it is a 402 ``limit_exceeded``."""
    max_images: int
    max_storage_bytes: int
    rate_limit_per_hour: int
    """What an API key of the plan may send per hour unless a lower per-key cap is set."""
    max_datasets: int
    """Datasets the organization may hold (archived ones too): creating one past it is a
    402 ``limit_exceeded``. Not reported by ``organizations.me``."""
    logs_frames: bool = True
    """Whether a workflow's run log keeps every frame (the SDK's ``log_frames``): paid
    plans do; Free logs events and stats only, and its frames stream is empty."""


_GIB = 1024**3
PLANS: MappingProxyType[str, Plan] = MappingProxyType(
    {
        plan.name: plan
        for plan in (
            Plan("free", 2, 1_000, 1 * _GIB, 1_000, 10, logs_frames=False),
            Plan("core", 5, 10_000, 10 * _GIB, 2_000, 50),
            Plan("pro", 25, 50_000, 50 * _GIB, 5_000, 500),
            Plan("team", 100, 250_000, 250 * _GIB, 20_000, 2_500),
            Plan("enterprise", 1_000, 10_000_000, 10_240 * _GIB, 100_000, 100_000),
        )
    }
)
DEFAULT_PLAN = "pro"
UPGRADE_URL = "/settings?tab=billing"
"""Where a plan's refusal (402 ``limit_exceeded``) sends the user to upgrade."""
INVITE_TTL_SECONDS = 7 * 86_400
"""An invite not accepted within a week expires (the SDK's examples: created + 7 days)."""


# ── cold storage: what a dataset's restore costs ──


@dataclass(frozen=True)
class ColdStorageTariff:
    """The price of bringing a frozen dataset's image files back to standard storage.

    Source: the SDK's ``DatasetRestoreEstimate`` (1.4.0 to 1.69.146): retrieval, an
    early-deletion charge for the rest of cold storage's 90-day minimum, and operations,
    each marked up and summing to the total; ``monthly_savings`` is what being cold saves
    a month. Its unit test's quote (1,507,079 bytes, 20 images, 0 days: savings 29,
    retrieval 36, early delete 22) is what these rates give; its operations line (125) is
    not derivable from one per-object rate, so the fake's is its own. A freeze is free.
    """

    retrieval_micro_usd_per_gb: int
    standard_micro_usd_per_gb_month: int
    cold_micro_usd_per_gb_month: int
    operation_micro_usd_per_image: int
    markup: float
    min_storage_days: float


COLD_STORAGE = ColdStorageTariff(
    retrieval_micro_usd_per_gb=20_000,
    standard_micro_usd_per_gb_month=20_000,
    cold_micro_usd_per_gb_month=4_000,
    operation_micro_usd_per_image=5,
    markup=1.2,
    min_storage_days=90.0,
)

__all__ += ["COLD_STORAGE", "ColdStorageTariff"]


# ── auto-annotation ──


@dataclass(frozen=True)
class AutoAnnotateTariff:
    """What auto-annotation charges, how big a job may be, and how long it takes.

    Source: the SDK's ``resources/auto_annotate.py`` (1.69.146): the batch price depends
    on the images, the class count (one SAM3 grounding pass per class), SAHI tiles (one
    more pass per tile) and container fan-out, and "the estimate IS the charge"; a job
    takes 1 to 5,000 images; a single prompt has "a 3-credit minimum", and
    ``resources/sam3.py`` charges that session fee once per image, by its bytes. The
    rates are the fake's own (the SDK tells callers to ask ``quote`` rather than
    reproduce them).
    """

    sam3_micro_usd_per_pass: int
    """One SAM3 grounding pass over one image (or one SAHI tile of it)."""
    model_micro_usd_per_image: int
    """A trained model's pass over one image (SAHI does not apply)."""
    session_micro_usd: int
    """An interactive SAM3 prompt's fee, once per image (by its bytes) per organization."""
    max_images: int
    images_per_container: int
    max_containers: int
    queue_seconds: float
    """How long a job stays ``pending`` before its containers start."""
    seconds_per_pass: float
    """One pass on one container; a job's containers share its images."""
    sahi_overlap: float
    """The share of a SAHI tile that overlaps its neighbour."""
    assumed_size: tuple[int, int]
    """The pixel size a projected image of unknown size, or a stored one of no recorded
    size, is priced at."""


AUTO_ANNOTATE = AutoAnnotateTariff(
    sam3_micro_usd_per_pass=2_500,
    model_micro_usd_per_image=1_000,
    session_micro_usd=30_000,
    max_images=5_000,
    images_per_container=250,
    max_containers=8,
    queue_seconds=5.0,
    seconds_per_pass=0.4,
    sahi_overlap=0.2,
    assumed_size=(1280, 720),
)

__all__ += ["AUTO_ANNOTATE", "AutoAnnotateTariff"]


# ── workflows: the GPUs a workflow's runs run on ──


@dataclass(frozen=True)
class WorkflowGpu:
    """A GPU a workflow run may take (``workflows.compute_options``), at its price.

    Source: the SDK's ``WorkflowCompute`` (a T4, the default, or an L4: "the inference GPUs
    with a video encoder"; a run "is billed per measured second at its GPU's rate") and
    the rates of its unit test's ``compute-options`` reply (1.69.146). A run is charged
    once, when it completes, for the seconds it ran (charge-on-success: a failed or
    cancelled run is free).
    """

    gpu: str
    label: str
    vram_gb: int
    micro_usd_per_minute: int
    speed: float
    """How long a block takes on it, as a share of the T4's time."""


WORKFLOW_GPUS: MappingProxyType[str, WorkflowGpu] = MappingProxyType(
    {
        "t4": WorkflowGpu("t4", "T4 GPU", 16, 19_667, 1.0),
        "l4": WorkflowGpu("l4", "L4 GPU", 24, 26_667, 0.6),
    }
)
DEFAULT_WORKFLOW_GPU = "t4"
WORKFLOW_PRECISIONS: tuple[tuple[str, str, str], ...] = (
    ("fp32", "Full precision (fp32)", "Runs the model as trained."),
    ("fp16", "Fast (fp16)", "Half precision: faster, accuracy-equivalent, not output-identical."),
)
"""(precision, label, description): what a Model block's ``precision`` may be."""

WORKFLOW_LIVE_COLORS: tuple[str, ...] = (
    "#38bdf8",
    "#f97316",
    "#a3e635",
    "#f472b6",
    "#facc15",
    "#818cf8",
    "#34d399",
    "#fb7185",
)
"""The colours a workflow's live view draws its classes, lines and zones in, in turn
(each list starts at the first). The SDK names one, ``#38bdf8``; the rest are the fake's."""
__all__ += [
    "DEFAULT_WORKFLOW_GPU",
    "WORKFLOW_GPUS",
    "WORKFLOW_LIVE_COLORS",
    "WORKFLOW_PRECISIONS",
    "WorkflowGpu",
]


@dataclass(frozen=True)
class WorkflowSourceLimits:
    """What the API takes for one workflow run, as a workflow's tool card states it.

    Source: the workflow card of the SDK's ``tests/fixtures/tool_cards.json`` (1.69.146),
    the API's own card. The fake states these on the card; it enforces none of them (its
    runs decode no video and download no link).
    """

    max_video_bytes: int
    max_image_bytes: int
    download_seconds: int
    images_per_run: int
    gpu_hours_per_run: int


WORKFLOW_SOURCE_LIMITS = WorkflowSourceLimits(
    max_video_bytes=1024**3,
    max_image_bytes=25 * 1024**2,
    download_seconds=600,
    images_per_run=2000,
    gpu_hours_per_run=2,
)

__all__ += ["WORKFLOW_SOURCE_LIMITS", "WorkflowSourceLimits"]
