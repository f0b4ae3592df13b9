"""``python -m services.matching``: matching (HTTP, relay, consumers of the other three)."""

from services.matching.api import OffersController
from services.matching.application import MatchingApplication
from services.matching.inbound import subscriptions
from services.matching.outbound import to_integration_event
from services.platform.runtime import ServiceSpec, serve

SPEC = ServiceSpec(
    name="matching",
    title="Talkoot matching",
    description="Offers each service request to an eligible provider; providers answer here.",
    make_application=MatchingApplication,
    outbound=to_integration_event,
    route_handlers=[OffersController],
    subscriptions=subscriptions,
)

if __name__ == "__main__":
    serve(SPEC)
