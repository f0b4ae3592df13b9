"""Integration events: the facts each service publishes, as versioned msgspec Structs.

A breaking change to an event is a new Struct with the next version number; the old one keeps
being published until no consumer reads it. The Struct's tag (its class name) travels in the
payload and in the ``Talkoot-Event`` header.
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec


class IntegrationEvent(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """Base of every integration event. ``occurred_at`` is timezone-aware UTC."""

    occurred_at: datetime


# --- requests ------------------------------------------------------------------------------


class ServiceRequestedV1(IntegrationEvent, frozen=True, kw_only=True):
    request_id: str
    resident_id: str
    category: str
    region: str
    description: str
    window_start: datetime
    window_end: datetime


class RequestOfferedV1(IntegrationEvent, frozen=True, kw_only=True):
    request_id: str
    offer_id: str
    provider_id: str


class RequestAssignedV1(IntegrationEvent, frozen=True, kw_only=True):
    request_id: str
    offer_id: str
    provider_id: str
    contract_id: str


class RequestUnmatchedV1(IntegrationEvent, frozen=True, kw_only=True):
    request_id: str
    reason: str


class CompletionReportedV1(IntegrationEvent, frozen=True, kw_only=True):
    request_id: str
    provider_id: str
    contract_id: str
    minutes: int


class RequestConfirmedV1(IntegrationEvent, frozen=True, kw_only=True):
    request_id: str
    resident_id: str
    provider_id: str
    contract_id: str
    minutes: int


RequestsEvent = (
    ServiceRequestedV1
    | RequestOfferedV1
    | RequestAssignedV1
    | RequestUnmatchedV1
    | CompletionReportedV1
    | RequestConfirmedV1
)


# --- providers -----------------------------------------------------------------------------


class ProviderRegisteredV1(IntegrationEvent, frozen=True, kw_only=True):
    provider_id: str
    name: str
    kind: str
    categories: list[str]
    regions: list[str]
    capacity: int


ProvidersEvent = ProviderRegisteredV1


# --- matching ------------------------------------------------------------------------------


class OfferMadeV1(IntegrationEvent, frozen=True, kw_only=True):
    offer_id: str
    request_id: str
    provider_id: str
    contract_id: str


class OfferAcceptedV1(IntegrationEvent, frozen=True, kw_only=True):
    offer_id: str
    request_id: str
    provider_id: str
    contract_id: str


class OfferDeclinedV1(IntegrationEvent, frozen=True, kw_only=True):
    offer_id: str
    request_id: str
    provider_id: str
    reason: str


class NoProviderFoundV1(IntegrationEvent, frozen=True, kw_only=True):
    request_id: str
    reason: str


MatchingEvent = OfferMadeV1 | OfferAcceptedV1 | OfferDeclinedV1 | NoProviderFoundV1


# --- partnerships --------------------------------------------------------------------------


class ContractProposedV1(IntegrationEvent, frozen=True, kw_only=True):
    contract_id: str
    partner_id: str
    provider_id: str
    categories: list[str]
    regions: list[str]
    unit_price_cents: int
    budget_cents: int
    valid_from: date
    valid_until: date


class ContractSignedV1(IntegrationEvent, frozen=True, kw_only=True):
    contract_id: str
    party: str
    signed_by: str


class ContractActivatedV1(IntegrationEvent, frozen=True, kw_only=True):
    contract_id: str
    partner_id: str
    provider_id: str
    categories: list[str]
    regions: list[str]
    unit_price_cents: int
    budget_cents: int
    valid_from: date
    valid_until: date


class ContractChargedV1(IntegrationEvent, frozen=True, kw_only=True):
    contract_id: str
    request_id: str
    minutes: int
    amount_cents: int
    charged_cents: int
    remaining_cents: int


class ChargeRefusedV1(IntegrationEvent, frozen=True, kw_only=True):
    contract_id: str
    request_id: str
    minutes: int
    amount_cents: int
    remaining_cents: int
    reason: str


PartnershipsEvent = (
    ContractProposedV1
    | ContractSignedV1
    | ContractActivatedV1
    | ContractChargedV1
    | ChargeRefusedV1
)

EVENTS_BY_SERVICE: dict[str, object] = {
    "requests": RequestsEvent,
    "providers": ProvidersEvent,
    "matching": MatchingEvent,
    "partnerships": PartnershipsEvent,
}

_encoder = msgspec.json.Encoder()
_decoders = {service: msgspec.json.Decoder(union) for service, union in EVENTS_BY_SERVICE.items()}


def encode(event: IntegrationEvent) -> bytes:
    return _encoder.encode(event)


def decode(service: str, payload: bytes) -> IntegrationEvent:
    """Decode a payload from ``service``'s stream as one of the events that service publishes."""
    return _decoders[service].decode(payload)


def event_type(event: IntegrationEvent) -> str:
    return type(event).__name__
