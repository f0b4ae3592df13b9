"""``python -m services.requests``: the requests service (HTTP, relay, consumer of matching)."""

from services import registry
from services.platform.personal import MasterKey
from services.platform.runtime import ServiceSpec, serve
from services.platform.settings import Settings
from services.requests.api import BoardController, CatalogueController, RequestsController
from services.requests.application import RequestsApplication
from services.requests.inbound import subscriptions
from services.requests.open311 import Open311Controller, check_pseudonym_secret
from services.requests.outbound import to_integration_event
from services.requests.residents_api import ResidentsController
from services.requests.series_api import SeriesController, SnowfallController
from services.requests.sweeps import SWEEPS


def check_settings(settings: Settings) -> None:
    check_pseudonym_secret(settings)
    MasterKey.required(settings.personal_data_key)


SPEC = ServiceSpec(
    service=registry.REQUESTS,
    description="Residents' service requests and the request board.",
    make_application=RequestsApplication,
    outbound=to_integration_event,
    route_handlers=[
        RequestsController,
        BoardController,
        CatalogueController,
        SeriesController,
        SnowfallController,
        Open311Controller,
        ResidentsController,
    ],
    subscriptions=subscriptions,
    sweeps=SWEEPS,
    check_settings=check_settings,
)

if __name__ == "__main__":
    serve(SPEC)
