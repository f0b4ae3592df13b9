"""The browser harness's own test, on small pages served here: the accessibility check fails on
a page that breaks the rules and passes one that keeps them, also under a strict Content
Security Policy; the page speaks the locale asked for; a screenshot is the whole page."""

from __future__ import annotations

import struct
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page

from tests.browser.support import check_accessibility, screenshot

PIXEL = "data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="

GOOD = f"""<!doctype html>
<html lang="fi"><head><meta charset="utf-8"><title>Lumityöt</title></head>
<body><main>
  <h1>Pyydä lumitöitä</h1>
  <img src="{PIXEL}" alt="Lumikola" width="40" height="40">
  <form><label for="street">Katuosoite</label> <input id="street" name="street">
  <button type="submit">Lähetä</button></form>
</main></body></html>"""

BAD = f"""<!doctype html>
<html lang="fi"><head><meta charset="utf-8"><title>Lumityöt</title></head>
<body><main>
  <h1>Pyydä lumitöitä</h1>
  <img src="{PIXEL}" width="40" height="40">
  <form><input name="street"> <button type="submit">Lähetä</button></form>
</main></body></html>"""

TALL = """<!doctype html>
<html lang="fi"><head><meta charset="utf-8"><title>Pitkä sivu</title></head>
<body style="margin:0"><main><h1>Pitkä sivu</h1><div style="height:2000px"></div></main></body>
</html>"""

PAGES = {"/good": GOOD, "/bad": BAD, "/tall": TALL}
# What a server-rendered front sends: no inline or foreign script may run.
STRICT = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src data:"


class _Pages(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        body = PAGES.get(path)
        if body is None:
            self.send_error(404)
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if query == "csp":
            self.send_header("Content-Security-Policy", STRICT)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("csp", ["", "?csp"], ids=["plain", "strict-csp"])
def test_a_page_without_labels_or_alt_texts_fails_the_check(page: Page, site: str, csp: str):
    page.goto(f"{site}/bad{csp}")
    with pytest.raises(AssertionError) as failure:
        check_accessibility(page)
    message = str(failure.value)
    assert "serious or critical" in message
    assert "image-alt (critical): Images must have alternative text" in message
    assert "— img" in message
    assert "label (critical)" in message
    assert "— input" in message


@pytest.mark.parametrize("csp", ["", "?csp"], ids=["plain", "strict-csp"])
def test_a_page_that_keeps_the_rules_passes(page: Page, site: str, csp: str):
    page.goto(f"{site}/good{csp}")
    assert check_accessibility(page) == []


@pytest.mark.parametrize("locale", ["fi-FI", "en-GB"])
def test_the_page_speaks_the_locale_asked_for(page: Page, site: str, locale: str):
    page.goto(f"{site}/good")
    assert page.evaluate("navigator.language") == locale
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "Europe/Helsinki"


def test_a_screenshot_is_the_whole_page(page: Page, site: str, tmp_path, monkeypatch):
    monkeypatch.setenv("TALKOOT_SCREENSHOTS", str(tmp_path))
    page.goto(f"{site}/tall")
    saved = screenshot(page, "tall-page")
    assert saved == tmp_path / "tall-page.png"
    png = saved.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width == 1280
    assert height > 2000  # the whole page, not the 900 pixels of the viewport
    with pytest.raises(ValueError, match="lower-case"):
        screenshot(page, "../elsewhere")
