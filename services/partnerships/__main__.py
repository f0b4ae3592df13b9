"""``python -m services.partnerships``: partnerships (HTTP, relay, consumer of requests)."""

from services import registry
from services.partnerships.api import ContractsController, LedgerController
from services.partnerships.application import PartnershipsApplication
from services.partnerships.inbound import subscriptions
from services.partnerships.outbound import to_integration_event
from services.platform.runtime import ServiceSpec, serve

SPEC = ServiceSpec(
    service=registry.PARTNERSHIPS,
    description="Partnership contracts, their budgets and charges, and the contract ledger.",
    make_application=PartnershipsApplication,
    outbound=to_integration_event,
    route_handlers=[ContractsController, LedgerController],
    subscriptions=subscriptions,
)

if __name__ == "__main__":
    serve(SPEC)
