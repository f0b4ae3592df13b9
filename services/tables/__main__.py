"""``python -m services.tables``: the partnership tables (HTTP and relay)."""

from services import registry
from services.platform.runtime import ServiceSpec, serve
from services.tables.api import (
    CommonExpensesController,
    InitiativesController,
    RoundsController,
    TablesController,
)
from services.tables.application import TablesApplication, check_pseudonym_secret
from services.tables.impact_api import ImpactController
from services.tables.outbound import to_integration_event

SPEC = ServiceSpec(
    service=registry.TABLES,
    description=(
        "The regional partnership tables: their members, meetings and fees, events, "
        "initiatives and the city's answers, participatory budgeting rounds, and the impact "
        "report."
    ),
    make_application=TablesApplication,
    outbound=to_integration_event,
    route_handlers=[
        TablesController,
        InitiativesController,
        RoundsController,
        CommonExpensesController,
        ImpactController,
    ],
    check_settings=check_pseudonym_secret,
)

if __name__ == "__main__":
    serve(SPEC)
