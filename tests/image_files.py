"""What the dataset, image, annotation and batch tests share: files, raw HTTP, snapshots."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import httpx
from PIL import Image as PILImage

if TYPE_CHECKING:
    from pathlib import Path

    from pictograph_testing import FakePictograph

DEV = "/api/v1/developer"


def write_image(path: Path, size: tuple[int, int] = (32, 24), shade: int = 0) -> Path:
    """Write a small real image (the format follows the suffix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    PILImage.new("RGB", size, (shade % 256, 90, 160)).save(path)
    return path


def write_images(directory: Path, names: list[str], size: tuple[int, int] = (32, 24)) -> list[Path]:
    return [write_image(directory / name, size, shade=17 * n) for n, name in enumerate(names)]


def raw(fake: FakePictograph, api_key: str | None = None) -> httpx.Client:
    """Plain httpx on the fake, for requests the SDK would never send."""
    return httpx.Client(
        transport=fake.transport(),
        base_url=fake.base_url,
        headers={"X-API-Key": api_key or fake.api_key},
    )


def world_state(fake: FakePictograph) -> Any:
    """Everything a refused request must leave as it was, including the id generator."""
    world = fake.world
    with world.lock:
        return (
            {k: dataclasses.asdict(v) for k, v in world.datasets.items()},
            {k: dataclasses.asdict(v) for k, v in world.images.items()},
            sorted(world.exports),
            world.ids.state(),
        )
