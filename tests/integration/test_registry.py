"""The stack runs what services.registry lists: every service answers /health as itself and
follows the streams its entry names, every stream is in NATS, and the projector runs, a durable
consumer for each of its read models on the streams it names."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from contracts.connection import connect
from contracts.streams import stream_name
from deploy.stack import Stack
from services.registry import PROCESSES, PROJECTOR, SERVICES, STREAMS, Process
from tests.client import eventually


def named(process: Process) -> str:
    return process.name


def streams_in_nats(stack: Stack) -> dict[str, list[str]]:
    """Each of the session's streams that NATS has, with its durable consumers."""

    async def read() -> dict[str, list[str]]:
        nc = await connect(stack.nats_url, "tests-registry", **stack.nats_options())
        try:
            js = nc.jetstream()
            found = {}
            for info in await js.streams_info():
                if info.config.name.startswith(f"{stack.namespace}_".upper()):
                    consumers = await js.consumers_info(info.config.name)
                    found[info.config.name] = sorted(
                        c.config.durable_name for c in consumers if c.config.durable_name
                    )
            return found
        finally:
            await nc.close()

    return asyncio.run(asyncio.wait_for(read(), 30))


def test_the_stack_starts_every_registered_process_and_no_other(stack: Stack):
    assert list(stack.processes) == [process.name for process in PROCESSES]
    for process in PROCESSES:
        assert stack.processes[process.name].running(), f"{process.name} is not running"
        assert stack.processes[process.name].module == process.module


@pytest.mark.parametrize("service", SERVICES, ids=named)
def test_a_registered_service_answers_health_as_itself_consuming_what_it_names(
    stack: Stack, service: Process
):
    response = httpx.get(f"{stack.url(service.name)}/health", timeout=5)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["service"] == service.name
    consumers = report["consumers"]
    assert sorted(c["upstream"] for c in consumers) == sorted(service.consumes)
    assert all(c["running"] for c in consumers), consumers


def test_every_registered_stream_is_in_nats(stack: Stack):
    found = streams_in_nats(stack)
    for stream in STREAMS:
        assert stream_name(stream, stack.namespace) in found, f"no stream {stream}"


@pytest.mark.parametrize("process", PROCESSES, ids=named)
def test_every_stream_a_process_consumes_is_in_nats_with_its_durable_consumer(
    stack: Stack, process: Process
):
    def durables_of(found: dict[str, list[str]]) -> dict[str, list[str]]:
        return {s: found.get(stream_name(s, stack.namespace), []) for s in process.consumes}

    if process is PROJECTOR:
        # a durable consumer per read model, all on the streams it names, and one on each
        def good(durables: dict[str, list[str]]) -> bool:
            mine = {d for names in durables.values() for d in names if d.startswith("projection-")}
            kept = {f"projection-{model}" for model in process.read_models}
            return mine == kept and all(
                any(d.startswith("projection-") for d in names) for names in durables.values()
            )
    else:

        def good(durables: dict[str, list[str]]) -> bool:
            return all(process.name in names for names in durables.values())

    eventually(
        lambda: durables_of(streams_in_nats(stack)),
        good,
        30,
        f"{process.name}'s consumers on {', '.join(process.consumes)}",
    )


def test_the_projector_runs_without_an_http_api(stack: Stack):
    projector = stack.processes[PROJECTOR.name]
    assert projector.running()
    assert projector.url is None
    assert PROJECTOR.name in stack.pids()
