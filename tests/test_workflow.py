"""The documented path end to end: from image files on disk to ONNX weights that run."""

from __future__ import annotations

from pathlib import Path

import httpx
import pictograph
import pytest
from pictograph import BBoxAnnotation, BoundingBox
from PIL import Image as PILImage

from pictograph_testing import FakePictograph


def _image_files(directory: Path, count: int) -> list[Path]:
    paths = []
    for n in range(count):
        path = directory / f"img{n}.png"
        PILImage.new("RGB", (64, 48), (40 * n, 90, 160)).save(path)
        paths.append(path)
    return paths


def _full_path(fake: FakePictograph, workdir: Path, *, completed: int = 5) -> pictograph.Client:
    """Create, upload, annotate, complete, export: what a user's pipeline does first."""
    workdir.mkdir(exist_ok=True)
    client = fake.client(max_retries=0)
    dataset = client.datasets.create(
        "ds1", annotation_types=["bbox"], classes=[{"name": "thing", "type": "bbox"}]
    )
    image_ids = []
    for path in _image_files(workdir, 5):
        image = client.images.upload(dataset.id, path)
        assert image.status == "new"
        client.annotations.save(
            "ds1",
            image.filename,
            [BBoxAnnotation(name="thing", bounding_box=BoundingBox(x=4, y=4, w=20, h=16))],
        )
        image_ids.append(image.id)
    client.batch.update("ds1", image_ids[:completed], status="complete")
    assert client.datasets.get("ds1").completed_image_count == completed
    export = client.exports.create(
        "ds1", "exp1", include_images=True, status_filter="complete", wait=True
    )
    assert export.status == "completed"
    assert export.image_count == completed
    return client


def test_from_image_files_to_running_onnx_weights(tmp_path: Path) -> None:
    with FakePictograph(seed=1) as fake:
        requests: list[httpx.Request] = []
        client = _full_path(fake, tmp_path)
        client._transport._client.event_hooks["request"].append(requests.append)
        run = client.training.create(
            "ds1", "exp1", pipeline_type="yolox", name="run1", config={"epochs": 1}
        )
        assert run.status == "completed"
        assert run.model_id is not None
        weights = tmp_path / "yolox.onnx"
        client.models.download(model_id=run.model_id, output_path=weights)
    assert weights.stat().st_size > 0
    assert not weights.with_suffix(".onnx.part").exists()
    onnxruntime = pytest.importorskip("onnxruntime")
    numpy = pytest.importorskip("numpy")
    session = onnxruntime.InferenceSession(str(weights), providers=["CPUExecutionProvider"])
    declared = session.get_inputs()[0]
    shape = [d if isinstance(d, int) else 1 for d in declared.shape]
    outputs = session.run(None, {declared.name: numpy.zeros(shape, dtype=numpy.float32)})
    assert outputs
    assert all(out.shape[0] == 1 for out in outputs)


def test_four_completed_images_are_refused_by_classic_and_accepted_by_current(
    tmp_path: Path,
) -> None:
    with FakePictograph(seed=1) as classic:
        client = _full_path(classic, tmp_path / "classic", completed=4)
        with pytest.raises(pictograph.exceptions.ValidationError) as refused:
            client.training.create("ds1", "exp1", pipeline_type="yolox", name="r")
        assert refused.value.status_code == 422
        assert "at least 5 images" in refused.value.message
        assert "has 4" in refused.value.message
    with FakePictograph(seed=1, profile="current") as current:
        client = _full_path(current, tmp_path / "current", completed=4)
        run = client.training.create("ds1", "exp1", pipeline_type="yolox", name="r")
        assert run.status == "completed"
