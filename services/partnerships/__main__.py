"""``python -m services.partnerships``: partnerships (HTTP, relay, consumer of requests)."""

from services import registry
from services.partnerships.api import (
    ContractChangesController,
    ContractsController,
    LedgerController,
    PartnersController,
    SettlementsController,
)
from services.partnerships.application import PartnershipsApplication
from services.partnerships.arrangements_api import ArrangementsController
from services.partnerships.inbound import subscriptions
from services.partnerships.outbound import to_integration_event
from services.platform.runtime import ServiceSpec, serve

SPEC = ServiceSpec(
    service=registry.PARTNERSHIPS,
    description=(
        "The municipal partners, their partnership contracts, the contracts' budgets and "
        "charges, the contract ledger, the settlement statements and the partners' audit of "
        "every arrangement."
    ),
    make_application=PartnershipsApplication,
    outbound=to_integration_event,
    route_handlers=[
        ContractsController,
        ContractChangesController,
        LedgerController,
        PartnersController,
        SettlementsController,
        ArrangementsController,
    ],
    subscriptions=subscriptions,
)

if __name__ == "__main__":
    serve(SPEC)
