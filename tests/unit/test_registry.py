"""The registry of services agrees with itself and with each service's package: one name, port
and stream each, and the SPEC, sweeps, consumers and read models each entry declares."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from types import ModuleType

import pytest

from services import registry
from services.platform.settings import Settings
from services.registry import PROCESSES, PROJECTOR, SERVICES, STREAMS, Process


def named(process: Process) -> str:
    return process.name


def spec_of(service: Process):
    return importlib.import_module(f"{service.module}.__main__").SPEC


class AnyApplication:
    """Stands in for a service's Application: its subscriptions are built here, never run."""

    def __getattr__(self, name: str):
        return lambda *args, **kwargs: None


def projections_used(package: str) -> set[ModuleType]:
    """The projections modules that the modules of ``package`` import, or import from."""
    found = set()
    for info in pkgutil.walk_packages(importlib.import_module(package).__path__, f"{package}."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, ModuleType):
                name = value.__name__
            else:
                name = getattr(value, "__module__", None) or ""
            if name == "projections" or name.startswith("projections."):
                found.add(sys.modules[name])
    return found


def test_no_two_processes_share_a_name_port_stream_or_module():
    names = [p.name for p in PROCESSES]
    ports = [p.port for p in PROCESSES if p.port is not None]
    streams = [p.stream for p in PROCESSES if p.stream is not None]
    modules = [p.module for p in PROCESSES]
    for listed in (names, ports, streams, modules):
        assert len(listed) == len(set(listed)), listed
    assert list(STREAMS) == streams


def test_every_service_serves_http_and_publishes_and_the_projector_does_neither():
    assert PROJECTOR in PROCESSES and PROJECTOR not in SERVICES
    assert all(s.port is not None and s.stream is not None for s in SERVICES)
    assert PROJECTOR.port is None and PROJECTOR.stream is None
    assert {p.name for p in PROCESSES if p.port is not None} == set(registry.PORTS)


@pytest.mark.parametrize("process", PROCESSES, ids=named)
def test_a_process_consumes_only_registered_streams_and_never_its_own(process):
    assert set(process.consumes) <= set(STREAMS), process.consumes
    assert process.stream not in process.consumes
    assert len(process.consumes) == len(set(process.consumes))


@pytest.mark.parametrize("process", PROCESSES, ids=named)
def test_a_process_is_found_by_its_name(process):
    assert registry.named(process.name) is process


def test_a_name_not_registered_is_refused():
    with pytest.raises(KeyError, match="no-such-process"):
        registry.named("no-such-process")


@pytest.mark.parametrize("service", SERVICES, ids=named)
def test_a_service_s_module_runs_a_spec_of_its_registry_entry(service):
    spec = spec_of(service)
    assert spec.service is service, f"{service.module} runs {spec.name}"
    assert spec.name == service.name


@pytest.mark.parametrize("service", SERVICES, ids=named)
def test_a_service_s_application_publishes_to_its_registered_stream(service):
    # the relay publishes under the Application's ``service``
    assert spec_of(service).make_application.service == service.stream


@pytest.mark.parametrize("service", SERVICES, ids=named)
def test_a_service_listens_on_its_registered_port_unless_told_otherwise(service, monkeypatch):
    monkeypatch.delenv(f"TALKOOT_{service.name.upper()}_PORT", raising=False)
    assert Settings(database_url="", nats_url="").port(service.name) == service.port
    monkeypatch.setenv(f"TALKOOT_{service.name.upper()}_PORT", "9999")
    assert Settings(database_url="", nats_url="").port(service.name) == 9999


@pytest.mark.parametrize("service", SERVICES, ids=named)
def test_a_service_runs_the_sweeps_the_registry_names(service):
    assert [sweep.__name__ for sweep in spec_of(service).sweeps] == list(service.sweeps)


@pytest.mark.parametrize("service", SERVICES, ids=named)
def test_a_service_consumes_the_streams_the_registry_names_as_itself(service):
    subscriptions = spec_of(service).subscriptions(AnyApplication())
    assert sorted(s.upstream for s in subscriptions) == sorted(service.consumes)
    assert {s.durable for s in subscriptions} <= {service.name}


@pytest.mark.parametrize("service", SERVICES, ids=named)
def test_a_service_reads_the_read_models_the_registry_names(service):
    used = projections_used(service.module)
    read = {module.PROJECTION for module in used if hasattr(module, "PROJECTION")}
    assert read == set(service.read_models)
    assert set(service.read_models) <= set(PROJECTOR.read_models)


def test_the_projector_keeps_the_read_models_the_registry_names_from_the_streams_it_names():
    projector = importlib.import_module(f"{PROJECTOR.module}.__main__")
    assert [model.PROJECTION for model in projector.READ_MODELS] == list(PROJECTOR.read_models)
    assert sorted(projector.upstreams()) == sorted(PROJECTOR.consumes)
