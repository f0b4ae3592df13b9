"""What the browser tests use besides their fixtures: Chromium's launch, axe-core's accessibility
check and the README's screenshots.

axe-core comes from the npm registry at a pinned version, fetched once into ``.cache/axe-core/``
(git-ignored) with ``npm pack`` and checked against the registry's integrity hash; it is never
committed.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, Playwright

from deploy import chromium

ROOT = Path(__file__).resolve().parents[2]

# Chromium as root needs --no-sandbox; the rest keep it from calling out (the network here
# refuses, and a test should not depend on it anyway) and from using a GPU it has not got.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

AXE_VERSION = "4.14.1"
# the registry's dist.integrity of that version: sha512 of the package, base64
AXE_INTEGRITY = (
    "sha512-"
    "FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
)
AXE_CACHE = ROOT / ".cache" / "axe-core" / AXE_VERSION
# WCAG 2.1 A and AA, and axe's best practices.
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice")
FAILING_IMPACTS = ("critical", "serious")
TARGETS_SHOWN = 3

SCREENSHOTS_ENV = "TALKOOT_SCREENSHOTS"
SCREENSHOTS = ROOT / "docs" / "screenshots"
SCREENSHOT_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]*")


class Unavailable(Exception):
    """What the browser tests need is not here: the message says what, and how to get it."""


def launch(playwright: Playwright) -> Browser:
    """Debian's Chromium (or TALKOOT_CHROMIUM's), headless; Playwright downloads no browser."""
    executable = chromium.find()
    if executable is None:
        raise Unavailable(chromium.missing())
    try:
        return playwright.chromium.launch(
            executable_path=executable, args=list(CHROMIUM_ARGS), chromium_sandbox=False
        )
    except Exception as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise Unavailable(f"Chromium at {executable} did not start: {first}") from error


def axe_script() -> Path:
    """axe.min.js of axe-core AXE_VERSION, fetched from the npm registry on first use."""
    script = AXE_CACHE / "axe.min.js"
    if script.is_file() and script.stat().st_size > 0:
        return script
    npm = shutil.which("npm")
    if npm is None:
        raise Unavailable(
            f"no axe-core: npm is not on PATH (it fetches axe-core {AXE_VERSION}); "
            "install Node.js's npm, e.g. `apt-get install npm`"
        )
    AXE_CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=AXE_CACHE) as scratch:
        package = _npm_pack(npm, Path(scratch))
        _check_integrity(package)
        with tarfile.open(package) as tar:
            member = tar.extractfile("package/axe.min.js")
            if member is None:
                raise Unavailable(f"no axe-core: {package.name} has no package/axe.min.js")
            fetched = Path(scratch) / "axe.min.js"
            fetched.write_bytes(member.read())
        if f"axe v{AXE_VERSION}" not in fetched.read_text(encoding="utf-8")[:200]:
            raise Unavailable(f"no axe-core: {package.name}'s axe.min.js is not v{AXE_VERSION}")
        os.replace(fetched, script)  # whole or not at all, should two runs fetch at once
    return script


def _npm_pack(npm: str, into: Path) -> Path:
    spec = f"axe-core@{AXE_VERSION}"
    command = [
        npm,
        "pack",
        spec,
        "--pack-destination",
        str(into),
        "--loglevel=error",
        "--no-fund",
        "--no-audit",
        "--no-update-notifier",
        "--prefer-offline",
        "--fetch-retries=1",
        "--fetch-timeout=30000",
    ]
    try:
        done = subprocess.run(command, cwd=into, capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired:
        raise Unavailable(
            f"no axe-core: `npm pack {spec}` took more than 3 minutes (is the npm registry "
            "reachable?)"
        ) from None
    package = into / f"axe-core-{AXE_VERSION}.tgz"
    if done.returncode != 0 or not package.is_file():
        reason = _npm_reason(done.stderr) or f"exit status {done.returncode}"
        raise Unavailable(
            f"no axe-core: `npm pack {spec}` failed ({reason}); the npm registry must be "
            "reachable once, after which .cache/axe-core/ keeps it"
        )
    return package


def _npm_reason(stderr: str) -> str | None:
    """The line of npm's error that says what went wrong, without its stack."""
    said = [line.removeprefix("npm error").strip() for line in stderr.splitlines()]
    said = [line for line in said if line and not line.startswith(("at ", "A complete log"))]
    for telling in ("FetchError", "404", "code "):
        if found := next((line for line in said if telling in line), None):
            return found
    return said[0] if said else None


def _check_integrity(package: Path) -> None:
    algorithm, _, expected = AXE_INTEGRITY.partition("-")
    digest = hashlib.new(algorithm, package.read_bytes()).digest()
    if base64.b64encode(digest).decode() != expected:
        raise Unavailable(
            f"no axe-core: {package.name} is not the one pinned ({AXE_INTEGRITY[:20]}...)"
        )


_RUN_AXE = """async ({tags, disabled}) => {
    const rules = Object.fromEntries(disabled.map((rule) => [rule, {enabled: false}]));
    const results = await axe.run(document, {
        runOnly: {type: "tag", values: tags},
        rules,
        resultTypes: ["violations"],
    });
    return results.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        helpUrl: v.helpUrl,
        targets: v.nodes.map((node) =>
            node.target.map((t) => (Array.isArray(t) ? t.join(" >>> ") : t)).join(" ")),
    }));
}"""


def check_accessibility(page: Page, *, disable: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now (WCAG 2.1 A and AA, and best practices).

    Any violation of impact serious or critical fails the test, with each rule's id, impact,
    help and first few elements; minor and moderate ones are only printed (pytest shows them
    with a failure). ``disable`` turns off rules by id, for a page where one is known not to
    apply. Returns every violation found.
    """
    __tracebackhide__ = True  # a failure points at the test's call
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated rather than added as a <script>: a page's Content Security Policy forbids
        # inline scripts, but not what the browser's own driver runs.
        page.evaluate(f"{axe_script().read_text(encoding='utf-8')}\n//# sourceURL=axe.min.js")
    violations: list[dict[str, Any]] = page.evaluate(
        _RUN_AXE, {"tags": list(AXE_TAGS), "disabled": list(disable)}
    )
    failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
    for violation in violations:
        if violation not in failing:
            print(f"axe (not failing): {_describe(violation)}")
    if failing:
        lines = [
            f"axe-core {AXE_VERSION}: {len(failing)} serious or critical accessibility "
            f"violation(s) on {page.url}:",
            *(f"  {_describe(violation)}" for violation in failing),
        ]
        raise AssertionError("\n".join(lines))
    return violations


def _describe(violation: dict[str, Any]) -> str:
    targets = violation["targets"]
    shown = ", ".join(targets[:TARGETS_SHOWN])
    more = f" and {len(targets) - TARGETS_SHOWN} more" if len(targets) > TARGETS_SHOWN else ""
    return (
        f"{violation['id']} ({violation['impact']}): {violation['help']} — {shown}{more} "
        f"<{violation['helpUrl'].partition('?')[0]}>"
    )


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as docs/screenshots/<name>.png (TALKOOT_SCREENSHOTS, if set, names
    another folder), for the README; returns the file's path."""
    if not SCREENSHOT_NAME.fullmatch(name):
        raise ValueError(
            f"screenshot name {name!r}: lower-case letters, digits, '.', '_' and '-' only"
        )
    directory = Path(os.environ.get(SCREENSHOTS_ENV) or SCREENSHOTS)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    page.screenshot(path=path, full_page=True, animations="disabled", caret="hide")
    return path
