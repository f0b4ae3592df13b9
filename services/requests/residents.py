"""The requests service's use cases for a resident's personal data as a whole: erasing it (the
right to erasure) and handing over everything held about them (the right of access).

A mixin of ``RequestsApplication``. Erasing records the erasure (``ResidentRecord``, no
personal data in it), ends the resident's series that still run (without an address nobody
can do their work) in the same commit, and then destroys the resident's keys: everything
sealed under them reads as erased (``contracts.personal.ERASED``) from then on, everywhere.
Erasing a resident whose data is erased already, with nothing stored since, is refused (409
``already_erased``): an erasure is recorded once for what it destroys.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import msgspec

from contracts.personal import ERASED
from domain.requests import ServiceRequest
from domain.residents import ResidentRecord, record_id
from domain.series import RequestSeries, SeriesStatus
from services.platform.errors import NotFound
from services.platform.identity import Caller, Role
from services.platform.personal import Keyring
from services.platform.store import Receipt
from services.requests.commands import Erasure
from services.requests.history import HistoryEntry, history, kebab

ENDED_BY_ERASURE = "ended when the resident's personal data was erased"


# --- what a resident gets of their data ----------------------------------------------------


class ExportedRequest(msgspec.Struct, kw_only=True):
    request_id: str
    submitted_at: datetime
    category: str
    region: str
    description: str
    address: str
    lat: float | None
    long: float | None
    media_url: str
    window_start: datetime
    window_end: datetime
    channel: str
    series_id: str | None
    status: str
    provider_id: str | None
    minutes: int | None
    reason: str | None
    rating: int | None
    rating_comment: str | None
    events: list[HistoryEntry]  # every event of the request, oldest first, with its time


class SeriesEvent(msgspec.Struct, kw_only=True, omit_defaults=True):
    at: datetime
    what: str  # started, paused, resumed, ended, occurrence-scheduled
    version: int
    until: date | None = None
    reason: str | None = None
    day: date | None = None
    request_id: str | None = None


class ExportedSeries(msgspec.Struct, kw_only=True):
    series_id: str
    started_at: datetime
    category: str
    region: str
    rule: str
    weekday: str | None
    day_of_month: int | str | None
    start_time: str
    duration_minutes: int
    description: str
    address: str
    lat: float | None
    long: float | None
    starts_on: date
    ends_on: date | None
    status: str
    paused_until: date | None
    ended_reason: str | None
    events: list[SeriesEvent]


class ExportedRating(msgspec.Struct, kw_only=True):
    request_id: str
    at: datetime
    stars: int
    comment: str


class ExportedDispute(msgspec.Struct, kw_only=True):
    request_id: str
    at: datetime
    reason: str


class ExportedErasure(msgspec.Struct, kw_only=True):
    at: datetime
    erased_by: str
    reason: str
    keys: int


class ResidentData(msgspec.Struct, kw_only=True):
    """Everything the requests service holds about one resident, personal fields in clear
    (those erased read ``"[erased]"``, a point's lat and long null)."""

    resident_id: str
    generated_at: datetime
    erased: str  # what an erased field reads as
    requests: list[ExportedRequest]
    series: list[ExportedSeries]
    ratings: list[ExportedRating]
    disputes: list[ExportedDispute]
    erasures: list[ExportedErasure]


def exported_request(request: ServiceRequest, events: list[Any]) -> ExportedRequest:
    own = Caller(request.resident_id, frozenset({Role.RESIDENT}))
    return ExportedRequest(
        request_id=str(request.id),
        submitted_at=request.created_on,
        category=request.category,
        region=request.region,
        description=request.description,
        address=request.address,
        lat=request.lat,
        long=request.long,
        media_url=request.media_url,
        window_start=request.window_start,
        window_end=request.window_end,
        channel=request.channel,
        series_id=request.series_id,
        status=str(request.status),
        provider_id=request.provider_id,
        minutes=request.minutes,
        reason=request.reason,
        rating=request.rating,
        rating_comment=request.rating_comment,
        events=history(request, events, own),
    )


SERIES_FACTS = ("until", "reason", "day", "request_id")


def exported_series(series: RequestSeries, events: list[Any]) -> ExportedSeries:
    return ExportedSeries(
        series_id=str(series.id),
        started_at=series.created_on,
        category=series.category,
        region=series.region,
        rule=series.rule,
        weekday=series.weekday,
        day_of_month=series.day_of_month,
        start_time=series.start_time,
        duration_minutes=series.duration_minutes,
        description=series.description,
        address=series.address,
        lat=series.lat,
        long=series.long,
        starts_on=series.starts_on,
        ends_on=series.ends_on,
        status=str(series.status),
        paused_until=series.paused_until,
        ended_reason=series.ended_reason,
        events=[
            SeriesEvent(
                at=event.timestamp,
                what=kebab(type(event).__name__),
                version=event.originator_version,
                **{k: getattr(event, k) for k in SERIES_FACTS if getattr(event, k, None)},
            )
            for event in events
        ],
    )


class ResidentsUseCases:
    """Erasure and access; the resident's requests and series are found by the caller (the
    API reads them off the read models) and read here from the event store."""

    keyring: Keyring | None

    def erase_resident(
        self,
        caller: Caller,
        resident_id: str,
        command: Erasure,
        request_ids: list[str],
        series_ids: list[str],
    ) -> Receipt:
        """Erase the resident's personal data: record it, end their running series, destroy
        their keys. ``request_ids`` and ``series_ids`` are theirs; 404 when nothing of theirs
        was ever stored here."""
        keyring = self._keyring()
        live, erased_before = keyring.held(resident_id)
        if not (live or erased_before or request_ids or series_ids):
            raise NotFound(f"no personal data of resident {resident_id} is held here")
        try:
            record = self.get(record_id(resident_id), "resident record")
        except NotFound:
            # data stored before it was sealed has no key, and is held all the same
            record = ResidentRecord.erase(
                resident_id=resident_id,
                erased_by=caller.subject,
                reason=command.reason,
                keys=live,
                held=bool(live or not erased_before),
            )
        else:
            record.erase_again(caller.subject, command.reason, live)
        running = []
        for series_id in series_ids:
            series = self.get_series(series_id)
            if series.resident_id == resident_id and series.status != SeriesStatus.ENDED:
                series.end(resident_id, ENDED_BY_ERASURE)
                running.append(series)
        # The record first: should destroying the keys fail, erasing again finishes it (the
        # keys are still live, so it is not refused as done).
        position = self.commit(record, *running)
        keyring.erase(resident_id)
        return Receipt(str(record.id), position)

    def resident_data(
        self, resident_id: str, request_ids: list[str], series_ids: list[str]
    ) -> ResidentData:
        """Everything held about the resident: their requests and series (from the event
        store, with every event's time), ratings, disputes and erasures."""
        requests, series, ratings, disputes = [], [], [], []
        with self.personal_batch():
            for request_id in request_ids:
                request = self.get_request(request_id)
                if request.resident_id != resident_id:
                    continue
                events = list(self.repository.event_store.get(request.id))
                requests.append(exported_request(request, events))
                for event in events:
                    if isinstance(event, ServiceRequest.Rated):
                        ratings.append(
                            ExportedRating(
                                request_id=str(request.id),
                                at=event.timestamp,
                                stars=event.stars,
                                comment=event.comment,
                            )
                        )
                    elif isinstance(event, ServiceRequest.Disputed):
                        disputes.append(
                            ExportedDispute(
                                request_id=str(request.id), at=event.timestamp, reason=event.reason
                            )
                        )
            for series_id in series_ids:
                found = self.get_series(series_id)
                if found.resident_id == resident_id:
                    events = list(self.repository.event_store.get(found.id))
                    series.append(exported_series(found, events))
        return ResidentData(
            resident_id=resident_id,
            generated_at=datetime.now(UTC),
            erased=ERASED,
            requests=requests,
            series=series,
            ratings=ratings,
            disputes=disputes,
            erasures=self._erasures(resident_id),
        )

    def _erasures(self, resident_id: str) -> list[ExportedErasure]:
        try:
            record = self.get(record_id(resident_id), "resident record")
        except NotFound:
            return []
        return [
            ExportedErasure(
                at=event.timestamp, erased_by=event.erased_by, reason=event.reason, keys=event.keys
            )
            for event in self.repository.event_store.get(record.id)
        ]

    def _keyring(self) -> Keyring:
        if self.keyring is None:  # the requests service always has one
            raise RuntimeError("this service keeps no personal data")
        return self.keyring
