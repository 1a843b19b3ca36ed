"""Every Python example in the README and the docs runs as written."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

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
def test_example_runs(where: str, source: str, pytester: pytest.Pytester) -> None:
    namespace: dict[str, object] = {"__name__": f"example {where}"}
    exec(compile(source, where, "exec"), namespace)
    tests = {n: v for n, v in namespace.items() if n.startswith("test_") and callable(v)}
    if any(inspect.signature(fn).parameters for fn in tests.values()):
        # Examples that use the plugin's fixtures run under pytest, as a user's would.
        pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
        pytester.makepyfile(test_example=source)
        pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=len(tests))
        return
    for fn in tests.values():
        fn()


def test_there_are_examples_to_run() -> None:
    assert len(_examples()) >= 2
