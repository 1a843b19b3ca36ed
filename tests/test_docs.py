"""Every Python example in the README and the docs runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _examples() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        for number, block in enumerate(_BLOCK.findall(page.read_text(encoding="utf-8")), 1):
            found.append((f"{page.relative_to(ROOT)}#{number}", block))
    return found


@pytest.mark.parametrize(("where", "source"), _examples(), ids=[w for w, _ in _examples()])
def test_example_runs(where: str, source: str) -> None:
    namespace: dict[str, object] = {"__name__": f"example {where}"}
    exec(compile(source, where, "exec"), namespace)
    # Examples written as tests are called, as pytest would call them.
    for name, value in list(namespace.items()):
        if name.startswith("test_") and callable(value):
            value()


def test_there_are_examples_to_run() -> None:
    assert len(_examples()) >= 2
