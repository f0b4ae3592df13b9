"""``GET /catalogue``: the service catalogue and the regions as the city keeps them (public),
for the web front's forms and any other client."""

from __future__ import annotations

from dataclasses import asdict

from litestar import Controller, get

from services.platform.identity import PUBLIC
from services.requests.application import RequestsApplication


class CatalogueController(Controller):
    path = "/catalogue"

    @get("/", guards=[PUBLIC], sync_to_thread=False, summary="The service catalogue and regions")
    def catalogue(self, application: RequestsApplication) -> dict:
        found = application.catalogue
        return {
            "categories": [asdict(c) for c in found.categories.values()],
            "regions": [asdict(r) for r in found.regions.values()],
        }
