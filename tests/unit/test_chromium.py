"""Finding the browser tests' Chromium, and installing Debian's where that needs no password:
against a stand-in apt-get on PATH, so that nothing is installed here."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from deploy import chromium


def executable(path: Path, script: str = "exit 0") -> Path:
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def bare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A machine with no Chromium: nothing at the default path, a PATH of one empty folder."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.delenv(chromium.ENV, raising=False)
    monkeypatch.setattr(chromium, "DEFAULT", tmp_path / "no-chromium")
    monkeypatch.setenv("PATH", str(folder))
    return folder


def test_none_found_says_how_to_get_one(bare: Path):
    assert chromium.find() is None
    assert chromium.missing() == (
        "no Chromium: install Debian's chromium (`apt-get install chromium`) "
        "or set TALKOOT_CHROMIUM=/path/to/chrome"
    )


def test_a_chromium_on_path_is_found(bare: Path):
    found = executable(bare / "chromium-browser")
    assert chromium.find() == str(found)


def test_the_named_one_and_only_it(bare: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    executable(bare / "chromium")
    named = executable(tmp_path / "chrome")
    monkeypatch.setenv(chromium.ENV, str(named))
    assert chromium.find() == str(named)
    monkeypatch.setenv(chromium.ENV, str(tmp_path / "gone"))
    assert chromium.find() is None
    assert chromium.missing().startswith(f"no Chromium: TALKOOT_CHROMIUM={tmp_path / 'gone'} is ")


def apt_get(folder: Path, log: Path, install: str) -> None:
    """A stand-in apt-get that writes down each call and its DEBIAN_FRONTEND."""
    executable(
        folder / "apt-get",
        f'echo "$DEBIAN_FRONTEND $*" >> {log}\ncase "$*" in *install*) {install};; esac',
    )


def test_as_another_user_nothing_is_tried(bare: Path, tmp_path, monkeypatch):
    log = tmp_path / "apt.log"
    apt_get(bare, log, "exit 0")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    said: list[str] = []
    chromium.install_if_missing(said.append)
    assert said == []
    assert not log.exists()


def test_as_root_it_is_installed(bare: Path, tmp_path, monkeypatch):
    log = tmp_path / "apt.log"
    apt_get(bare, log, f"printf '#!/bin/sh\\n' > {bare}/chromium; /bin/chmod +x {bare}/chromium")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    said: list[str] = []
    chromium.install_if_missing(said.append)
    assert said == [
        "No Chromium for the browser tests: installing it (apt-get install -y chromium)"
    ]
    assert log.read_text().splitlines() == [
        "noninteractive -o DPkg::Lock::Timeout=120 install -y -q chromium"
    ]
    assert chromium.find() == str(bare / "chromium")


def test_a_failed_install_is_said_in_a_line_and_passed_over(bare: Path, tmp_path, monkeypatch):
    log = tmp_path / "apt.log"
    apt_get(bare, log, "echo 'E: Unable to locate package chromium' >&2; exit 100")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    said: list[str] = []
    chromium.install_if_missing(said.append)
    # the package lists are read once more before giving up
    assert [line.split()[3] for line in log.read_text().splitlines()] == [
        "install",
        "update",
        "install",
    ]
    assert said[1:] == [
        "Could not install chromium (`apt-get install` exited 100: E: Unable to locate package "
        "chromium); the browser tests will be skipped"
    ]
