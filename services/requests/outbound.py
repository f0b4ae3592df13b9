"""The requests service's domain events, as the integration events other services read."""

from __future__ import annotations

from contracts.events import (
    CompletionReportedV1,
    DisputeResolvedV1,
    RequestAssignedV1,
    RequestCancelledV1,
    RequestConfirmedV1,
    RequestDisputedV1,
    RequestExpiredV1,
    RequestOfferedV1,
    RequestRatedV1,
    RequestRescheduledV1,
    RequestUnmatchedV1,
    ResidentErasedV1,
    SeriesEndedV1,
    SeriesOccurrenceScheduledV1,
    SeriesPausedV1,
    SeriesResumedV1,
    SeriesStartedV1,
    ServiceRequestedV1,
    SnowfallDeclaredV1,
)
from domain.requests import ServiceRequest
from domain.residents import ResidentRecord
from domain.series import RequestSeries, SnowfallDay
from services.platform.outbound import translation

to_integration_event = translation(
    {
        ServiceRequest.Submitted: (ServiceRequestedV1, "request_id"),
        ServiceRequest.Offered: (RequestOfferedV1, "request_id"),
        ServiceRequest.Assigned: (RequestAssignedV1, "request_id"),
        ServiceRequest.Unmatched: (RequestUnmatchedV1, "request_id"),
        ServiceRequest.CompletionReported: (CompletionReportedV1, "request_id"),
        ServiceRequest.Confirmed: (RequestConfirmedV1, "request_id"),
        ServiceRequest.Rescheduled: (RequestRescheduledV1, "request_id"),
        ServiceRequest.Cancelled: (RequestCancelledV1, "request_id"),
        ServiceRequest.Expired: (RequestExpiredV1, "request_id"),
        ServiceRequest.Disputed: (RequestDisputedV1, "request_id"),
        ServiceRequest.DisputeResolved: (DisputeResolvedV1, "request_id"),
        ServiceRequest.Rated: (RequestRatedV1, "request_id"),
        RequestSeries.Started: (SeriesStartedV1, "series_id"),
        RequestSeries.Paused: (SeriesPausedV1, "series_id"),
        RequestSeries.Resumed: (SeriesResumedV1, "series_id"),
        RequestSeries.Ended: (SeriesEndedV1, "series_id"),
        RequestSeries.OccurrenceScheduled: (SeriesOccurrenceScheduledV1, "series_id"),
        SnowfallDay.Declared: (SnowfallDeclaredV1, "day_id"),
        SnowfallDay.Extended: (SnowfallDeclaredV1, "day_id"),
        ResidentRecord.Erased: (ResidentErasedV1, "record_id"),
        ResidentRecord.ErasedAgain: (ResidentErasedV1, "record_id"),
    }
)
