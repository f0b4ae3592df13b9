"""Browser tests: Playwright for Python driving Debian's Chromium, with axe-core's checks.

Fixtures:

- ``browser`` (session): headless Chromium, found at TALKOOT_CHROMIUM, /usr/bin/chromium, or
  ``chromium``/``chromium-browser`` on PATH. With none, or without axe-core (fetched once with
  npm), every browser test is skipped with one line saying what is missing and how to get it;
  TALKOOT_BROWSER_REQUIRED=1 (CI sets it) turns that skip into a failure.
- ``locale``: the page's language, ``fi-FI`` unless a test asks for another, e.g.
  ``@pytest.mark.parametrize("locale", ["fi-FI", "en-GB"])``.
- ``page``: a new browser context for each test (the locale, Lahti's time zone, a 1280x900
  viewport), closed after it.

Every test under tests/browser/ is marked ``browser``: ``-m "not browser"`` leaves them out.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from deploy import chromium
from tests.browser.support import Unavailable, axe_script, launch

REQUIRED_ENV = "TALKOOT_BROWSER_REQUIRED"
HERE = Path(__file__).parent
VIEWPORT = {"width": 1280, "height": 900}
TIME_ZONE = "Europe/Helsinki"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


_MISSING = pytest.StashKey[str]()


def _missing(config: pytest.Config) -> str:
    """What the browser tests lack, once a session: "" when they have everything."""
    if _MISSING not in config.stash:
        try:
            if chromium.find() is None:
                raise Unavailable(chromium.missing())
            axe_script()
        except Unavailable as missing:
            config.stash[_MISSING] = str(missing)
        else:
            config.stash[_MISSING] = ""
    return config.stash[_MISSING]


def _required() -> bool:
    return os.environ.get(REQUIRED_ENV, "") not in ("", "0")


def pytest_runtest_setup(item: pytest.Item) -> None:
    # Skipped here, before any fixture, so that -ra gives every skipped test one line.
    if "browser" in getattr(item, "fixturenames", ()) and (missing := _missing(item.config)):
        if _required():
            pytest.fail(f"{missing} ({REQUIRED_ENV} is set)", pytrace=False)
        pytest.skip(missing)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    # Package-wide, not session-wide: Playwright's sync API runs an event loop in this thread
    # while it lives, and the tests after these call asyncio.run().
    with sync_playwright() as playwright:
        try:
            chromium_browser = launch(playwright)
        except Unavailable as failed:
            if _required():
                pytest.fail(f"{failed} ({REQUIRED_ENV} is set)", pytrace=False)
            pytest.skip(str(failed))
        yield chromium_browser
        chromium_browser.close()


@pytest.fixture
def locale() -> str:
    return "fi-FI"


@pytest.fixture
def page(browser: Browser, locale: str) -> Iterator[Page]:
    context = browser.new_context(locale=locale, timezone_id=TIME_ZONE, viewport=VIEWPORT)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()
