"""``python -m services.providers``: the providers service (HTTP and relay)."""

from services import registry
from services.platform.runtime import ServiceSpec, serve
from services.providers.api import ProvidersController
from services.providers.application import ProvidersApplication
from services.providers.inbound import subscriptions
from services.providers.outbound import to_integration_event

SPEC = ServiceSpec(
    service=registry.PROVIDERS,
    description="Community providers: registration, members, capabilities, pauses and "
    "suspension by municipal partners.",
    make_application=ProvidersApplication,
    outbound=to_integration_event,
    route_handlers=[ProvidersController],
    subscriptions=subscriptions,
)

if __name__ == "__main__":
    serve(SPEC)
