"""``python -m services.matching``: matching (HTTP, relay, consumers of the other three, and
the sweep that lets unanswered offers lapse)."""

from anyio import to_thread

from services import registry
from services.matching.api import (
    BudgetsController,
    ChoicesController,
    JobsController,
    OffersController,
)
from services.matching.application import MatchingApplication
from services.matching.inbound import subscriptions
from services.matching.outbound import to_integration_event
from services.platform.personal import MasterKey
from services.platform.runtime import Runtime, ServiceSpec, serve
from services.platform.settings import Settings


async def expire_offers(runtime: Runtime) -> None:
    """Open offers past their time lapse and go to the next candidate."""
    app: MatchingApplication = runtime.application
    await to_thread.run_sync(app.expire_offers)


def check_settings(settings: Settings) -> None:
    """A job's point is the resident's: matching keeps it sealed, and needs the master key."""
    MasterKey.required(settings.personal_data_key)


SPEC = ServiceSpec(
    service=registry.MATCHING,
    description="Offers each service request to the best eligible provider, explains why, and "
    "lets unanswered offers lapse; providers answer here.",
    make_application=MatchingApplication,
    outbound=to_integration_event,
    route_handlers=[OffersController, JobsController, BudgetsController, ChoicesController],
    subscriptions=subscriptions,
    sweeps=[expire_offers],
    check_settings=check_settings,
)

if __name__ == "__main__":
    serve(SPEC)
