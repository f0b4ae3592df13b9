"""The providers service's commands: the bodies its routes take, checked at the edge. Who
sends one is the caller's token, never a field here."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from msgspec import Meta

from domain.providers import MAX_CAPACITY, ProviderKind
from services.platform.http import Body, Codes, Lat, Long, line, text

Name = line(200, min_length=1)
Reason = text(1000, min_length=1)
Line = line(200)
Phone = line(50)
BusinessId = line(20)
Capacity = Annotated[int, Meta(ge=1, le=MAX_CAPACITY)]


class ContactPerson(Body):
    name: Line = ""
    phone: Phone = ""
    email: Line = ""


class NewProvider(Body):
    name: Name
    kind: ProviderKind
    categories: Codes
    regions: Codes
    capacity: Capacity
    contact: Line = ""
    business_id: BusinessId | None = None
    contact_person: ContactPerson | None = None
    lat: Lat | None = None
    long: Long | None = None


class NewMember(Body):
    name: Name
    role: Line = ""


class NewPause(Body):
    starts: date
    reason: Reason
    ends: date | None = None


class Capabilities(Body):
    categories: Codes
    regions: Codes
    capacity: Capacity


class PartnerDecision(Body):
    """A suspension or reinstatement: the partner is the officer's own."""

    reason: Reason
