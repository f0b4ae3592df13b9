"""TALKOOT_LOG_LEVEL governs what a service process writes: its own ``talkoot.*`` lines and
uvicorn's, in one format (contracts/logs.py). A real service process, started and stopped on
the session's PostgreSQL and NATS, in a namespace of its own."""

from __future__ import annotations

import re
import uuid

import pytest

from deploy.stack import ServiceProcess, Stack, free_port
from tests.conftest import forget

pytestmark = pytest.mark.slow

LINE = re.compile(r"^\S+ \S+ (?P<name>[\w.]+) (?P<level>[A-Z]+) (?P<message>.*)$")


def run_providers(stack: Stack, tmp_path, level: str) -> list[tuple[str, str, str]]:
    """Start the providers service at ``level``, wait until it is healthy, stop it, and read
    what it wrote as (logger, level, message); every line must be in the one format."""
    namespace = f"test_{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = {
        **stack.environment("providers"),
        "TALKOOT_NAMESPACE": namespace,
        "TALKOOT_PROVIDERS_PORT": str(port),
        "TALKOOT_LOG_LEVEL": level,
    }
    process = ServiceProcess(
        "providers", "services.providers", port, env, tmp_path / f"{level}.log", None, ()
    )
    process.start()
    try:
        process.wait_healthy()
    finally:
        process.stop()
        forget(
            Stack(
                data_dir=tmp_path,
                namespace=namespace,
                database_url=stack.database_url,
                nats_url=stack.nats_url,
                nats_passwords=stack.nats_passwords,
            )
        )
    text = (tmp_path / f"{level}.log").read_text()
    lines = []
    for line in text.splitlines():
        found = LINE.match(line)
        assert found, f"a line not in the one format: {line!r}"
        lines.append((found["name"], found["level"], found["message"]))
    return lines


def test_at_debug_the_services_own_lines_and_uvicorns_are_written(stack, tmp_path):
    lines = run_providers(stack, tmp_path, "debug")
    assert ("talkoot.runtime", "DEBUG", "closing NATS") in lines
    assert any(
        (name, level) == ("talkoot.runtime", "INFO") and message.startswith("providers leads")
        for name, level, message in lines
    )
    assert any(
        name == "uvicorn.error" and message.startswith("Uvicorn running on")
        for name, _, message in lines
    )


def test_at_warning_neither_the_services_info_nor_uvicorns_is_written(stack, tmp_path):
    lines = run_providers(stack, tmp_path, "WARNING")
    below = [line for line in lines if line[1] in ("DEBUG", "INFO")]
    assert below == []
