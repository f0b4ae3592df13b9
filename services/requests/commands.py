"""The commands of the requests service, as their HTTP bodies: msgspec checks each field where
it enters, and the application reads them as they are. Who sends a command is never in its body:
it is the caller the token names."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from msgspec import Meta

from services.platform.http import (
    AwareDatetime,
    Body,
    Code,
    Hours,
    Id,
    Integer,
    Lat,
    Long,
    line,
    text,
)

Description = text(4000)
Address = line(300)
MediaUrl = line(2000)
Reason = text(1000)
Note = text(2000)
SeriesAddress = line(500)
LocalTime = Annotated[line(20), Meta(description="local time in Helsinki, HH:MM")]
# Required unless lat and long are given: services.platform.catalogue.region_of.
RegionOfPoint = Annotated[
    Code | None,
    Meta(
        description="a region's code (GET /catalogue); may be left out when lat and long are "
        "given: the region is then the one the point lies in"
    ),
]


# --- one request -------------------------------------------------------------------------


class NewRequest(Body):
    category: Code
    window_start: AwareDatetime
    window_end: AwareDatetime
    region: RegionOfPoint = None
    description: Description = ""
    address: Address = ""
    lat: Lat | None = None
    long: Long | None = None
    media_url: MediaUrl = ""
    # the provider the resident chose under a service voucher (GET /choices in matching)
    chosen_provider_id: Id | None = None


class CompletionReport(Body):
    hours: Hours


class Confirmation(Body):
    """Nothing to say but yes: the resident is the caller."""


class Reschedule(Body):
    window_start: AwareDatetime
    window_end: AwareDatetime


class Cancellation(Body):
    reason: Reason = ""


class Dispute(Body):
    reason: Reason


class Resolution(Body):
    outcome: Literal["upheld", "adjusted", "voided"]
    note: Note
    hours: Hours | None = None


class Rating(Body):
    stars: Annotated[int, Meta(ge=1, le=5)]
    comment: Reason = ""


# --- recurring requests and snowfall days --------------------------------------------------


class NewSeries(Body):
    category: Code
    rule: Annotated[Code, Meta(description="weekly, monthly or snowfall")]
    start_time: LocalTime
    region: RegionOfPoint = None
    duration_minutes: Annotated[
        Integer | None, Meta(description="default: the category's estimated duration")
    ] = None
    weekday: Annotated[Code | None, Meta(description="weekly: monday … sunday")] = None
    day_of_month: Annotated[
        Integer | Code | None, Meta(description='monthly: 1 to 28 or "last"')
    ] = None
    description: Description = ""
    address: SeriesAddress = ""
    lat: Lat | None = None
    long: Long | None = None
    starts_on: date | None = None
    ends_on: date | None = None


class Pause(Body):
    until: date | None = None


class Resume(Body):
    """Nothing to say: the series goes on as it was set up."""


class End(Body):
    reason: Reason = ""


class NewSnowfallDay(Body):
    day: date
    regions: Annotated[list[Code], Meta(max_length=50)] = []


# --- residents' personal data --------------------------------------------------------------


class Erasure(Body):
    """Why the resident's personal data is erased (a case number, say): kept in the audit,
    so it names no more of the resident than their id does."""

    reason: text(1000, blank=False)
