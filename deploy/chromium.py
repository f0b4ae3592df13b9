"""The Chromium that the browser tests drive: Debian's package, never a browser download.

``TALKOOT_CHROMIUM`` names it; otherwise /usr/bin/chromium, or ``chromium`` or
``chromium-browser`` on PATH. ``python3 deploy/talkoot test`` installs Debian's package where it
may (as root, with apt-get); elsewhere the browser tests are skipped with :data:`HOW`.

Only the standard library: the launcher uses this before the virtual environment exists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

ENV = "TALKOOT_CHROMIUM"
HOW = (
    "install Debian's chromium (`apt-get install chromium`) or set TALKOOT_CHROMIUM=/path/to/chrome"
)
MISSING = f"no Chromium: {HOW}"
DEFAULT = Path("/usr/bin/chromium")
NAMES = ("chromium", "chromium-browser")


def _runnable(path: str | Path) -> bool:
    return Path(path).is_file() and os.access(path, os.X_OK)


def find() -> str | None:
    """The Chromium to drive, or None: TALKOOT_CHROMIUM when set (and only it), else Debian's."""
    if named := os.environ.get(ENV):
        found = named if _runnable(named) else shutil.which(named)
        return found if found and _runnable(found) else None
    if _runnable(DEFAULT):
        return str(DEFAULT)
    for name in NAMES:
        if found := shutil.which(name):
            return found
    return None


def missing() -> str:
    """Why :func:`find` found none, and how to get one: one line."""
    if named := os.environ.get(ENV):
        return f"no Chromium: {ENV}={named} is not an executable file; {HOW}"
    return MISSING


def install_if_missing(say: Callable[[str], None] = print) -> None:
    """Install Debian's chromium when there is none, where that needs no password: as root on a
    system with apt-get. Never sudo; a failure is said in one line, and the tests then skip."""
    if os.environ.get(ENV) or find():
        return
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    say("No Chromium for the browser tests: installing it (apt-get install -y chromium)")
    failure = _apt("install", "-y", "-q", "chromium")
    if failure:
        # a machine whose package lists were never read knows no chromium yet
        failure = _apt("update", "-q") or _apt("install", "-y", "-q", "chromium")
    if failure:
        say(f"Could not install chromium ({failure}); the browser tests will be skipped")
    elif not find():
        say("apt-get installed chromium, yet none is on PATH; the browser tests will be skipped")


def _apt(*args: str) -> str | None:
    """Run apt-get quietly: None when it succeeded, else the last thing it said."""
    command = ["apt-get", "-o", "DPkg::Lock::Timeout=120", *args]
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        return f"`apt-get {args[0]}` took more than 15 minutes"
    except OSError as error:
        return f"`apt-get {args[0]}`: {error}"
    if done.returncode == 0:
        return None
    said = [line.strip() for line in (done.stderr + done.stdout).splitlines() if line.strip()]
    last = said[-1] if said else "no output"
    return f"`apt-get {args[0]}` exited {done.returncode}: {last}"
