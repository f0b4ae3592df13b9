"""The one list of Talkoot's processes: each service's name, port, title, module, stream, the
streams it consumes, its sweeps and the read models it reads; and the projector.

What names the services derives from here: the default ports (``Settings.port``), the streams
every process ensures, the local stack's processes and their NATS users and permissions, the
listing of ``talkoot up``, ``talkoot status``, and the tests' stack. It imports nothing, so that
anything (the CLI, the stack, the tests) can read it cheaply.

Adding a service, ``tables`` say, takes:

1. contracts/events.py: its integration events, and their union in ``EVENTS_BY_SERVICE`` under
   its stream's name (``"tables"``);
2. services/tables/: its application.py (``service = "tables"``, the stream it publishes to),
   api.py, outbound.py, inbound.py if it consumes, and a __main__.py whose
   ``SPEC = ServiceSpec(service=registry.TABLES, ...)``;
3. here: ``TABLES = Process(...)`` with a port of its own, added to ``SERVICES``;
4. a read model of its stream, if it has one: projections/<model>.py, listed in the
   projector's ``READ_MODELS`` (projections/__main__.py) and by name in ``PROJECTOR`` below.

tests/unit/test_registry.py says when an entry and its package disagree, and
tests/integration/test_registry.py that the stack runs what is listed here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Process:
    """One process of a running Talkoot, started as ``python -m <module>``.

    ``name`` is also its NATS user, its durable consumers' name, its event store's schema
    (``<namespace>_<name>``) and its port's variable (``TALKOOT_<NAME>_PORT``).
    """

    name: str
    title: str
    module: str
    port: int | None = None  # the default of its HTTP API; None: it serves no HTTP
    stream: str | None = None  # the stream it publishes to (the only one it may)
    consumes: tuple[str, ...] = ()  # the streams it follows
    sweeps: tuple[str, ...] = ()  # its timed work, by function name (``ServiceSpec.sweeps``)
    read_models: tuple[str, ...] = ()  # the projections it reads (the projector: it keeps)
    # Other fronts it serves, for `talkoot up`'s listing: (what, path).
    fronts: tuple[tuple[str, str], ...] = ()


REQUESTS = Process(
    name="requests",
    title="Talkoot requests",
    module="services.requests",
    port=8101,
    stream="requests",
    consumes=("matching",),
    sweeps=("expire_requests", "confirm_unanswered", "schedule_series"),
    read_models=("board", "series", "ledger"),  # the ledger: a contract's price terms
    fronts=(("Open311", "/open311/v2/discovery.xml"),),
)

PROVIDERS = Process(
    name="providers",
    title="Talkoot providers",
    module="services.providers",
    port=8102,
    stream="providers",
    consumes=("partnerships",),
    read_models=("directory",),
)

MATCHING = Process(
    name="matching",
    title="Talkoot matching",
    module="services.matching",
    port=8103,
    stream="matching",
    consumes=("requests", "providers", "partnerships"),
    sweeps=("expire_offers",),
    read_models=("offers",),
)

PARTNERSHIPS = Process(
    name="partnerships",
    title="Talkoot partnerships",
    module="services.partnerships",
    port=8104,
    stream="partnerships",
    consumes=("requests", "tables"),  # tables: the service programmes tables fund
    # the directory: whether a provider is registered; the arrangements: the partners' audit
    read_models=("ledger", "directory", "arrangements"),
)

TABLES = Process(
    name="tables",
    title="Talkoot tables",
    module="services.tables",
    port=8105,
    stream="tables",
    # the impact report: the tables', the requests', the offers', the charges', the providers'
    # and the arrangements' read models
    read_models=("tables", "board", "offers", "ledger", "directory", "arrangements"),
)

# The projector may not import services, so it keeps its own list of read models
# (projections/__main__.py: the modules, their durable consumers and upstreams); this entry
# names them, and the streams they follow, for the stack, the CLI and the checks, and
# tests/unit/test_registry.py holds the two lists to each other.
PROJECTOR = Process(
    name="projections",
    title="Talkoot projector",
    module="projections",
    consumes=("requests", "providers", "matching", "partnerships", "tables"),
    read_models=("board", "ledger", "directory", "series", "offers", "arrangements", "tables"),
)

# The web front: pages for residents, providers, officers and admins, calling the services'
# APIs with the signed-in person's token. It keeps no events and reads no read model.
WEB = Process(
    name="web",
    title="Talkoot",
    module="services.web",
    port=8100,
)

# The services, in the order they are listed and started.
SERVICES: tuple[Process, ...] = (REQUESTS, PROVIDERS, MATCHING, PARTNERSHIPS, TABLES)

# Every process of a running Talkoot, in start order: the front last, once what it calls is up.
PROCESSES: tuple[Process, ...] = (*SERVICES, PROJECTOR, WEB)

# Every stream a service publishes to: what each process ensures before it binds to one.
STREAMS: tuple[str, ...] = tuple(p.stream for p in PROCESSES if p.stream)

# Each HTTP API's default port, by process name.
PORTS: dict[str, int] = {p.name: p.port for p in PROCESSES if p.port is not None}


def named(name: str) -> Process:
    """The process called ``name``."""
    for process in PROCESSES:
        if process.name == name:
            return process
    raise KeyError(f"no process {name!r} in services.registry")
