"""A system chromium driven by playwright, and where screenshots go.

The browser is Debian's ``chromium`` (``PICTOGRAPH_CHROMIUM`` names another binary);
playwright never downloads one. A missing browser fails these tests rather than skips
them: ``scripts/browser.sh`` installs it first, and CI must not pass without it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
"""Where every screenshot goes (CI keeps the folder as an artifact)."""
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    named = os.environ.get("PICTOGRAPH_CHROMIUM") or shutil.which("chromium") or ""
    if not named or not Path(named).exists():
        pytest.fail(
            "no chromium: install Debian's (apt-get install chromium; scripts/browser.sh "
            "does) or name one in PICTOGRAPH_CHROMIUM",
            pytrace=False,
        )
    return named


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    yield launched
    launched.close()


class ConsoleErrors(list[str]):
    """The errors a page logged to its console or threw, in order."""

    def watch(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.append(f"uncaught: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.append(message.text)


@pytest.fixture
def console() -> ConsoleErrors:
    return ConsoleErrors()


@pytest.fixture
def page(browser: Browser, console: ConsoleErrors) -> Iterator[Page]:
    """A fresh page (its own context: no session storage from another test)."""
    context = browser.new_context(viewport={"width": 1040, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    console.watch(opened)
    yield opened
    context.close()


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as ``artifacts/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
