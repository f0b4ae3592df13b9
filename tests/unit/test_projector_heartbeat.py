"""The projector's heartbeat: touched while its read models make progress, not while one is
stalled, and `python -m projections --alive` tells a container's probe which it is."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from contracts.jetstream import ConsumerState, Policy
from projections.__main__ import HEARTBEAT_VARIABLE, alive, watch

POLICY = Policy(stall_after=0.2)


@dataclass
class Runner:
    """What `watch` reads of a consumer runner: its name and its state."""

    state: ConsumerState

    @property
    def name(self) -> str:
        return self.state.name


def watched(tmp_path: Path, state: ConsumerState) -> Path:
    heartbeat = tmp_path / "heartbeat"

    async def run() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(watch([Runner(state)], POLICY, stop, heartbeat))
        await asyncio.sleep(0.5)
        stop.set()
        await task

    asyncio.run(run())
    return heartbeat


def test_a_projector_whose_read_models_progress_is_alive(tmp_path):
    state = ConsumerState("requests", "projection-board", running=True)
    heartbeat = watched(tmp_path, state)
    assert heartbeat.exists() and alive(heartbeat, POLICY)


def test_a_projector_with_a_stalled_read_model_is_not(tmp_path):
    state = ConsumerState("requests", "projection-board", running=False)  # its runner ended
    heartbeat = watched(tmp_path, state)
    assert not heartbeat.exists() and not alive(heartbeat, POLICY)


def test_an_old_heartbeat_is_no_sign_of_life(tmp_path):
    heartbeat = tmp_path / "heartbeat"
    heartbeat.touch()
    assert alive(heartbeat, POLICY)
    old = time.time() - 2 * POLICY.stall_after - 10
    os.utime(heartbeat, (old, old))
    assert not alive(heartbeat, POLICY)


def test_the_probe_answers_by_its_exit_status(tmp_path):
    heartbeat = tmp_path / "heartbeat"
    env = {**os.environ, HEARTBEAT_VARIABLE: str(heartbeat), "TALKOOT_STALL_SECONDS": "30"}
    probe = [sys.executable, "-m", "projections", "--alive"]
    assert subprocess.run(probe, env=env, capture_output=True).returncode == 1
    heartbeat.touch()
    assert subprocess.run(probe, env=env, capture_output=True).returncode == 0
