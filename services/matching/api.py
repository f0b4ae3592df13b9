"""HTTP API of matching: a provider answers an offer; anybody concerned can read it."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import State
from msgspec import Meta

from services.matching.application import MatchingApplication
from services.platform.http import Id
from services.platform.store import Receipt


class Answer(msgspec.Struct, forbid_unknown_fields=True):
    provider_id: Id


class Decline(msgspec.Struct, forbid_unknown_fields=True):
    provider_id: Id
    reason: Annotated[str, Meta(max_length=1000)] = ""


class OfferView(msgspec.Struct):
    id: str
    request_id: str
    provider_id: str
    contract_id: str
    category: str
    region: str
    status: str
    declined_by: list[str]
    offered_at: str
    version: int


class OffersController(Controller):
    path = "/offers"
    tags = ["offers"]

    @post("/{offer_id:str}/acceptance", sync_to_thread=True, summary="Accept an offer")
    def accept(self, offer_id: str, data: Answer, state: State) -> Receipt:
        """The offered provider takes the job; the request becomes assigned to it under the
        offer's contract. Only one answer counts: a second one gets 409."""
        app: MatchingApplication = state.application
        return app.accept(offer_id, data.provider_id)

    @post("/{offer_id:str}/decline", sync_to_thread=True, summary="Decline an offer")
    def decline(self, offer_id: str, data: Decline, state: State) -> Receipt:
        """The offered provider declines; the job is offered to the next eligible provider,
        or the request becomes unmatched with the reason."""
        app: MatchingApplication = state.application
        return app.decline(offer_id, data.provider_id, data.reason)

    @get("/{offer_id:str}", sync_to_thread=True, summary="An offer and its state")
    def get_offer(self, offer_id: str, state: State) -> OfferView:
        app: MatchingApplication = state.application
        offer = app.get_offer(offer_id)
        return OfferView(
            id=str(offer.id),
            request_id=offer.request_id,
            provider_id=offer.provider_id,
            contract_id=offer.contract_id,
            category=offer.category,
            region=offer.region,
            status=offer.status.value,
            declined_by=offer.declined_by,
            offered_at=offer.created_on.isoformat(),
            version=offer.version,
        )
