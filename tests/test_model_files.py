"""A trained model's files through the real SDK: valid ONNX graphs shaped like their pipeline.

The expected layouts are written out here, from the SDK's own decoders, rather than read
back from :mod:`pictograph_testing.world.onnx_graphs`, so a drift in either shows.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import onnx
import onnx.helper
import onnx.numpy_helper
import pictograph
import pytest
from pictograph.models.training import PipelineType

from pictograph_testing import FakePictograph, ProfileName
from pictograph_testing.world import onnx_graphs

if TYPE_CHECKING:
    from collections.abc import Iterator

CLASSES = ["circle", "square", "triangle"]
DATASET = "shapes"
EVERY_KIND = ("bbox", "polygon", "keypoint")
"""Labels every pipeline learns from: boxes, polygons, keypoints (and a tag per image)."""
EXPORT = "shapes-v1"
# Non-square and not the default, so a swapped H and W cannot pass.
SIZE = {"image_height": 224, "image_width": 320}
KEYPOINTS = 5


@pytest.fixture
def shapes(fake: FakePictograph) -> FakePictograph:
    """The classic fake with a 3-class dataset: RF-DETR's logits are 4 wide, like its boxes."""
    fake.add_dataset(DATASET, images=10, completed_images=10, classes=CLASSES)
    fake.add_export(DATASET, EXPORT)
    return fake


@pytest.fixture
def current() -> Iterator[FakePictograph]:
    """The ``current`` profile, the only one that trains ``rfdetr_keypoint``."""
    with FakePictograph(seed=1, profile="current") as world:
        world.add_dataset(
            DATASET, images=10, completed_images=10, classes=CLASSES, annotation_types=EVERY_KIND
        )
        world.add_export(DATASET, EXPORT)
        yield world


def _train(
    client: pictograph.Client,
    pipeline: PipelineType,
    name: str,
    config: dict[str, Any] | None = None,
) -> str:
    run = client.training.create(
        DATASET, EXPORT, pipeline_type=pipeline, name=name, config=config or dict(SIZE)
    )
    assert run.status == "completed"
    assert run.model_id is not None
    return run.model_id


def _expected(
    pipeline: str, classes: int, height: int, width: int
) -> list[tuple[str, tuple[Any, ...]]]:
    """The outputs the SDK's local inference reads for ``pipeline``, in order."""
    if pipeline == "yolox":
        anchors = sum((height // s) * (width // s) for s in (8, 16, 32))
        return [("output", (1, anchors, 5 + classes))]
    if pipeline == "rfdetr_detection":
        return [("boxes", (1, 300, 4)), ("logits", (1, 300, classes + 1))]
    if pipeline in ("rfdetr_segmentation", "detectron2"):
        return [
            ("boxes", (1, 100, 4)),
            ("logits", (1, 100, classes + 1)),
            ("masks", (1, 100, height // 4, width // 4)),
        ]
    if pipeline == "rfdetr_keypoint":
        return [
            ("boxes", (1, 300, 4)),
            ("logits", (1, 300, classes + 1)),
            ("keypoints", (1, 300, classes * KEYPOINTS, 3)),
        ]
    if pipeline == "sm_pytorch":
        if classes == 1:
            return [("mask", (1, 1, height, width))]
        return [("logits", (1, classes + 1, height, width))]
    assert pipeline == "classification"
    return [("logits", (1, classes))]


def _dims(value_info: onnx.ValueInfoProto) -> tuple[int, ...]:
    return tuple(d.dim_value for d in value_info.type.tensor_type.shape.dim)


def _config(client: pictograph.Client, model_id: str, tmp_path: Path) -> dict[str, Any]:
    path = client.models.download_file(
        model_id=model_id, file_name="config.json", output_path=tmp_path / "config.json"
    )
    envelope: dict[str, Any] = json.loads(path.read_text())["_pictograph"]
    return envelope


def _check_graph(
    path: Path, pipeline: str, config: dict[str, Any]
) -> tuple[onnx.ModelProto, list[tuple[str, tuple[Any, ...]]]]:
    """Check the file as ONNX does, against the shapes its config.json implies."""
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    height, width = config["input_shape"]
    classes = len(config["class_mapping"]["classes"])
    (graph_input,) = model.graph.input
    assert (graph_input.name, _dims(graph_input)) == ("images", (1, 3, height, width))
    assert graph_input.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    expected = _expected(pipeline, classes, height, width)
    assert [(o.name, _dims(o)) for o in model.graph.output] == expected
    return model, expected


def _run(path: Path, expected: list[tuple[str, tuple[Any, ...]]]) -> list[Any]:
    """Run the graph on a dummy input and check every output's name and shape."""
    ort = pytest.importorskip("onnxruntime")
    np = pytest.importorskip("numpy")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (graph_input,) = session.get_inputs()
    pixels = np.linspace(-2.0, 2.0, num=int(np.prod(graph_input.shape)), dtype=np.float32)
    outputs = session.run(None, {graph_input.name: pixels.reshape(graph_input.shape)})
    assert [o.name for o in session.get_outputs()] == [name for name, _ in expected]
    assert [tuple(o.shape) for o in outputs] == [shape for _, shape in expected]
    assert all(np.isfinite(o).all() for o in outputs)
    return list(outputs)


# ── one valid graph per pipeline ──


@pytest.mark.parametrize(
    "pipeline", ["yolox", "rfdetr_detection", "rfdetr_segmentation", "sm_pytorch", "classification"]
)
def test_the_onnx_download_is_a_valid_graph_of_its_pipeline(
    shapes: FakePictograph, client: pictograph.Client, tmp_path: Path, pipeline: PipelineType
) -> None:
    model_id = _train(client, pipeline, f"{pipeline}-model")

    path = client.models.download(model_id=model_id, output_path=tmp_path / "m.onnx")
    config = _config(client, model_id, tmp_path)
    model, expected = _check_graph(path, pipeline, config)
    outputs = _run(path, expected)

    assert config["input_shape"] == [SIZE["image_height"], SIZE["image_width"]]
    assert config["class_mapping"]["classes"] == CLASSES
    assert (model.ir_version, [o.version for o in model.opset_import]) == (8, [17])
    assert (model.producer_name, model.producer_version) == ("pictograph-testing", "onnx_graphs/1")
    metadata = {p.key: p.value for p in model.metadata_props}
    assert json.loads(metadata["pictograph.classes"]) == CLASSES
    assert metadata["pictograph.model_type"] == config["model_type"]
    assert path.stat().st_size < 16_000
    if pipeline.startswith("rfdetr"):
        assert ((outputs[0] >= 0) & (outputs[0] <= 1)).all()  # normalised cxcywh


def test_the_default_input_size_is_the_variants(
    shapes: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    model_id = _train(client, "rfdetr_detection", "nano", config={"model_size": "nano"})

    path = client.models.download(model_id=model_id, output_path=tmp_path / "m.onnx")
    config = _config(client, model_id, tmp_path)
    _check_graph(path, "rfdetr_detection", config)

    assert config["input_shape"] == [384, 384]


def test_keypoint_graph_matches_the_configs_keypoint_schema(
    current: FakePictograph, tmp_path: Path
) -> None:
    with current.client(max_retries=0) as client:
        model_id = _train(client, "rfdetr_keypoint", "poses")
        path = client.models.download(model_id=model_id, output_path=tmp_path / "kp.onnx")
        config = _config(client, model_id, tmp_path)

    _, expected = _check_graph(path, "rfdetr_keypoint", config)
    boxes, _, keypoints = _run(path, expected)

    schema = config["keypoint_schema"]
    assert schema["class_names"] == CLASSES
    assert schema["num_keypoints_per_class"] == [KEYPOINTS] * len(CLASSES)
    assert all(len(schema["keypoint_names"][c]) == KEYPOINTS for c in CLASSES)
    assert keypoints.shape[2] == sum(schema["num_keypoints_per_class"])
    assert ((boxes >= 0) & (boxes <= 1)).all()


def test_detectron2_graph_is_the_sdks_instance_segmentation_layout(
    shapes: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    # SDK 1.69.146 cannot parse a detectron2 run, but the model it leaves behind is
    # an ordinary instance-segmentation model, which the SDK decodes as RF-DETR-Seg.
    with pytest.raises(pictograph.exceptions.ServerError):
        client.training.create(
            DATASET,
            EXPORT,
            # A pipeline the fake serves and the SDK's Literal does not list.
            pipeline_type="detectron2",  # type: ignore[arg-type]
            name="d2",
            config=dict(SIZE),
            wait=False,
        )
    shapes.clock.advance(hours=3)
    run = shapes.run("d2")
    assert run.status == "completed"
    assert run.model_id is not None

    path = client.models.download(model_id=run.model_id, output_path=tmp_path / "d2.onnx")
    config = _config(client, run.model_id, tmp_path)
    _, expected = _check_graph(path, "detectron2", config)
    _run(path, expected)

    assert config["model_type"] == "instance_segmentation"


def test_a_single_class_semantic_model_has_one_sigmoid_channel(
    fake: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    fake.add_dataset("fields", images=10, completed_images=10, classes=["crop"])
    fake.add_export("fields", "fields-v1")
    run = client.training.create(
        "fields", "fields-v1", pipeline_type="sm_pytorch", name="crop", config=dict(SIZE)
    )
    assert run.model_id is not None

    path = client.models.download(model_id=run.model_id, output_path=tmp_path / "crop.onnx")
    _, expected = _check_graph(path, "sm_pytorch", _config(client, run.model_id, tmp_path))
    (mask,) = _run(path, expected)

    assert expected == [("mask", (1, 1, 224, 320))]
    assert ((mask >= 0) & (mask <= 1)).all()


# ── the SDK's own local inference runs them ──


@pytest.mark.parametrize(
    ("pipeline", "profile"),
    [
        ("yolox", "classic"),
        ("rfdetr_detection", "classic"),
        ("rfdetr_segmentation", "classic"),
        ("sm_pytorch", "classic"),
        ("classification", "classic"),
        ("rfdetr_keypoint", "current"),
    ],
)
def test_the_sdk_loads_and_predicts_with_the_model(
    tmp_path: Path, pipeline: PipelineType, profile: ProfileName
) -> None:
    pytest.importorskip("onnxruntime")
    cv2 = pytest.importorskip("cv2", reason="the SDK's local inference needs OpenCV")
    np = pytest.importorskip("numpy")
    image = np.zeros((240, 320, 3), dtype=np.uint8)
    cv2.rectangle(image, (40, 40), (160, 160), (0, 0, 255), -1)
    cv2.circle(image, (240, 120), 50, (0, 255, 0), -1)

    with (
        FakePictograph(seed=5, profile=profile) as fake,
        fake.client(max_retries=0) as client,
    ):
        fake.add_dataset(
            DATASET, images=10, completed_images=10, classes=CLASSES, annotation_types=EVERY_KIND
        )
        fake.add_export(DATASET, EXPORT)
        _train(client, pipeline, "local")
        model = client.models.load("local", cache_dir=tmp_path, device="cpu")
        result = model.predict(image)

    assert result.backend == "onnxruntime"
    if pipeline == "classification":
        assert isinstance(result, pictograph.ClassificationResult)
        assert result.classes[0].name in CLASSES
        return
    assert not isinstance(result, pictograph.ClassificationResult)
    names = {p.name for p in result.predictions}
    if pipeline == "sm_pytorch":
        assert names <= set(CLASSES)
        return
    if pipeline == "rfdetr_keypoint":
        # A joint is named by the schema's keypoint_names; a pose is one instance_id.
        assert names <= {f"{c}_point_{i}" for c in CLASSES for i in range(KEYPOINTS)}
        assert isinstance(result, pictograph.KeypointResult)
        found = len({p.instance_id for p in result.predictions})
    else:
        assert names <= set(CLASSES)
        found = len(result.predictions)
    # About three confident queries per image; NMS may merge one away.
    assert 1 <= found <= 5
    assert all(p.confidence is not None and p.confidence >= 0.5 for p in result.predictions)


@pytest.mark.parametrize("size", [(640, 360), (360, 640), (320, 240)], ids=str)
def test_a_local_yolox_model_boxes_what_lies_inside_the_image(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    # The SDK pads an image to the square input at its bottom or right and maps boxes
    # back by scale alone: a box found in the padding lay outside the image.
    pytest.importorskip("onnxruntime")
    pytest.importorskip("cv2", reason="the SDK's local inference needs OpenCV")
    np = pytest.importorskip("numpy")
    width, height = size
    image = np.full((height, width, 3), 90, dtype=np.uint8)
    with FakePictograph(seed=5) as fake, fake.client(max_retries=0) as client:
        fake.add_dataset(DATASET, images=10, completed_images=10, classes=CLASSES)
        fake.add_export(DATASET, EXPORT)
        _train(client, "yolox", "local")
        model = client.models.load("local", cache_dir=tmp_path, device="cpu")
        result = model.predict(image)
        assert isinstance(result, pictograph.DetectionResult)
        predictions = result.predictions
    assert predictions
    for found in predictions:
        box = found.bounding_box
        assert box is not None
        assert min(box.x, box.y) >= 0, (size, box)
        assert box.x + box.w <= width, (size, box)
        assert box.y + box.h <= height, (size, box)


# ── determinism and versions ──


def _weights(client: pictograph.Client, model_id: str, tmp_path: Path) -> tuple[bytes, bytes]:
    onnx_file = client.models.download(model_id=model_id, output_path=tmp_path / "w.onnx")
    tensors = client.models.download(
        model_id=model_id, output_path=tmp_path / "w.safetensors", format="safetensors"
    )
    return onnx_file.read_bytes(), tensors.read_bytes()


def test_same_seed_and_calls_give_byte_identical_files(tmp_path: Path) -> None:
    made = []
    for attempt in range(2):
        with FakePictograph(seed=11) as fake, fake.client(max_retries=0) as client:
            fake.add_dataset(DATASET, images=10, completed_images=10, classes=CLASSES)
            fake.add_export(DATASET, EXPORT)
            model_id = _train(client, "rfdetr_segmentation", "same")
            made.append(_weights(client, model_id, tmp_path / str(attempt)))

    assert made[0] == made[1]
    assert made[0][0].startswith(b"\x08")  # a protobuf ModelProto, not a placeholder


def test_each_version_has_its_own_weights(
    shapes: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    first = _train(client, "yolox", "det")
    v1_onnx, v1_tensors = _weights(client, first, tmp_path / "v1")
    client.training.create(
        DATASET,
        EXPORT,
        pipeline_type="yolox",
        name="det-2",
        config=dict(SIZE),
        version_of_model_id=first,
    )
    v2_onnx, v2_tensors = _weights(client, first, tmp_path / "v2")
    other_onnx, _ = _weights(client, _train(client, "yolox", "other"), tmp_path / "other")

    graphs = [onnx.load_from_string(b) for b in (v1_onnx, v2_onnx, other_onnx)]
    layouts = {tuple((o.name, _dims(o)) for o in g.graph.output) for g in graphs}
    assert len(layouts) == 1  # same pipeline, same classes, same size: same shapes
    assert len({v1_onnx, v2_onnx, other_onnx}) == 3
    assert v1_tensors != v2_tensors
    versions = client.models.versions(model_id=first).versions
    assert [v.version_number for v in versions] == [2, 1]


def test_safetensors_hold_the_graphs_learned_tensors(
    shapes: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    model_id = _train(client, "rfdetr_detection", "mirror")
    onnx_blob, blob = _weights(client, model_id, tmp_path)

    (header_len,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + header_len])
    metadata = header.pop("__metadata__")
    data = blob[8 + header_len :]
    initializers = {i.name: i for i in onnx.load_from_string(onnx_blob).graph.initializer}

    assert metadata["model_id"] == model_id
    assert header_len % 8 == 0
    assert len(data) == max(t["data_offsets"][1] for t in header.values())
    assert {"boxes.weight", "logits.weight", "trunk.weight"} <= set(header)
    for name, entry in header.items():
        assert entry["dtype"] == "F32"
        start, end = entry["data_offsets"]
        tensor = onnx.numpy_helper.to_array(initializers[name])
        assert list(tensor.shape) == entry["shape"]
        assert tensor.astype("<f4").tobytes() == data[start:end]


def test_manifest_sizes_are_the_downloaded_sizes(
    shapes: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    model_id = _train(client, "classification", "sizes")
    client.training.create(
        DATASET,
        EXPORT,
        pipeline_type="classification",
        name="sizes-2",
        config=dict(SIZE),
        version_of_model_id=model_id,
    )

    manifest = client.models.files(model_id=model_id)

    assert len(manifest.files) == 8
    for row in manifest.files:
        path = client.models.download_file(
            model_id=model_id,
            file_name=row.name,
            version=row.version_id,
            output_path=tmp_path / row.version_id / row.name,
        )
        assert path.stat().st_size == row.size_bytes, row.name


async def test_async_download_is_the_same_valid_graph(
    shapes: FakePictograph, client: pictograph.Client, tmp_path: Path
) -> None:
    model_id = _train(client, "rfdetr_segmentation", "async")
    sync_path = client.models.download(model_id=model_id, output_path=tmp_path / "sync.onnx")

    async with shapes.async_client(max_retries=0) as aclient:
        path = await aclient.models.download("async", output_path=tmp_path / "async.onnx")
        config_path = await aclient.models.download_file(
            "async", file_name="config.json", output_path=tmp_path / "config.json"
        )

    config = json.loads(config_path.read_text())["_pictograph"]
    _, expected = _check_graph(path, "rfdetr_segmentation", config)
    _run(path, expected)
    assert path.read_bytes() == sync_path.read_bytes()


# ── a plain install: no onnx package at run time ──

# Run in a process of its own where ``onnx`` (and the protobuf runtime it brings)
# cannot be imported, as after a plain ``pip install pictograph-testing``: train one
# model per pipeline through the real SDK and download its graph and config.
_WITHOUT_ONNX = """
import importlib.abc, json, sys
from pathlib import Path

class PlainInstall(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "onnx" or name.startswith("google.protobuf"):
            raise ImportError(f"{name} is not installed (a plain install)")
        return None

sys.meta_path.insert(0, PlainInstall())
import pictograph
from pictograph_testing import FakePictograph

(cases, size), out = json.loads(sys.argv[1]), Path(sys.argv[2])
for name, profile, pipeline, classes in cases:
    with FakePictograph(seed=3, profile=profile) as fake, fake.client(max_retries=0) as client:
        fake.add_dataset(
            "shapes",
            images=10,
            completed_images=10,
            classes=classes,
            annotation_types=["bbox", "polygon", "keypoint"],
        )
        fake.add_export("shapes", "shapes-v1")
        try:
            client.training.create(
                "shapes", "shapes-v1", pipeline_type=pipeline, name=name, config=size, wait=False
            )
        except pictograph.exceptions.ServerError:
            assert pipeline == "detectron2"  # SDK 1.69.146 cannot parse its run; the model is fine
        fake.clock.advance(hours=3)
        model_id = fake.run(name).model_id
        client.models.download(model_id=model_id, output_path=out / f"{name}.onnx")
        client.models.download_file(
            model_id=model_id, file_name="config.json", output_path=out / f"{name}.json"
        )
assert not any(m.split(".")[0] == "onnx" for m in sys.modules), "onnx was imported"
"""

PLAIN_INSTALL_CASES = [
    ("yolox", "classic", "yolox", CLASSES),
    ("rfdetr_detection", "classic", "rfdetr_detection", CLASSES),
    ("rfdetr_segmentation", "classic", "rfdetr_segmentation", CLASSES),
    ("detectron2", "classic", "detectron2", CLASSES),
    ("sm_pytorch", "classic", "sm_pytorch", CLASSES),
    ("sm_pytorch-1-class", "classic", "sm_pytorch", ["crop"]),
    ("classification", "classic", "classification", CLASSES),
    ("rfdetr_keypoint", "current", "rfdetr_keypoint", CLASSES),
]


def test_a_plain_install_serves_real_graphs_for_every_pipeline(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")])),
        # Not this process's hash seed: the bytes must not depend on it.
        "PYTHONHASHSEED": "4242",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _WITHOUT_ONNX,
            json.dumps([PLAIN_INSTALL_CASES, SIZE]),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr

    for name, _, pipeline, _ in PLAIN_INSTALL_CASES:
        path = tmp_path / f"{name}.onnx"
        config = json.loads((tmp_path / f"{name}.json").read_text())["_pictograph"]
        _, expected = _check_graph(path, pipeline, config)
        _run(path, expected)

    # The same seed and calls here, where onnx is importable, give the same bytes.
    with FakePictograph(seed=3) as fake, fake.client(max_retries=0) as client:
        fake.add_dataset("shapes", images=10, completed_images=10, classes=CLASSES)
        fake.add_export("shapes", "shapes-v1")
        client.training.create(
            "shapes",
            "shapes-v1",
            pipeline_type="rfdetr_segmentation",
            name="rfdetr_segmentation",
            config=dict(SIZE),
            wait=False,
        )
        fake.clock.advance(hours=3)
        model_id = fake.run("rfdetr_segmentation").model_id
        assert model_id is not None
        here = client.models.download(model_id=model_id, output_path=tmp_path / "here.onnx")
    assert here.read_bytes() == (tmp_path / "rfdetr_segmentation.onnx").read_bytes()


# ── the encoder beyond today's graphs ──


def test_negative_and_float_attributes_encode_as_onnx_reads_them(tmp_path: Path) -> None:
    # Today's graphs use only small positive ints; a negative axis (a ten-byte varint)
    # and a float attribute must still come out as onnx and ONNX Runtime read them.
    spec = onnx_graphs.GraphSpec("classification", "probe", ("a", "b", "c"), 32, 32, "probe")
    graph = onnx_graphs.Graph(
        spec=spec,
        input=onnx_graphs.Port("images", (1, 3, 32, 32)),
        outputs=(onnx_graphs.Port("logits", (1, 3)),),
        nodes=(
            onnx_graphs.Node("GlobalAveragePool", ("images",), ("pooled",)),
            onnx_graphs.Node("Flatten", ("pooled",), ("flat",), (("axis", -3),)),
            onnx_graphs.Node("LeakyRelu", ("flat",), ("leaky",), (("alpha", 0.25),)),
            onnx_graphs.Node("Softmax", ("leaky",), ("logits",), (("axis", -1),)),
        ),
        initializers=(),
        weight_names=(),
    )
    path = tmp_path / "probe.onnx"
    path.write_bytes(onnx_graphs.onnx_bytes(graph, [("k", "välue")]))

    model, _ = _check_graph(
        path,
        "classification",
        {"input_shape": [32, 32], "class_mapping": {"classes": list(spec.classes)}},
    )
    attributes = {
        (n.op_type, a.name): onnx.helper.get_attribute_value(a)
        for n in model.graph.node
        for a in n.attribute
    }
    assert attributes == {
        ("Flatten", "axis"): -3,
        ("LeakyRelu", "alpha"): 0.25,
        ("Softmax", "axis"): -1,
    }
    assert [(p.key, p.value) for p in model.metadata_props] == [("k", "välue")]
    assert onnx.load_from_string(path.read_bytes()).SerializeToString() == path.read_bytes()
    (probabilities,) = _run(path, [("logits", (1, 3))])
    assert abs(float(probabilities.sum()) - 1.0) < 1e-5
