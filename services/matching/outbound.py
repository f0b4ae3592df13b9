"""Matching's domain events, as the integration events other services read.

Roster and job bookkeeping stays inside matching; offers and no-match verdicts go out.
"""

from __future__ import annotations

from contracts.events import (
    NoProviderFoundV1,
    OfferAcceptedV1,
    OfferDeclinedV1,
    OfferExpiredV1,
    OfferMadeV1,
    OfferWithdrawnV1,
)
from domain.matching.job import Job
from domain.matching.offer import Offer
from services.platform.outbound import translation

to_integration_event = translation(
    {
        Offer.Made: (OfferMadeV1, "offer_id"),
        Offer.Accepted: (OfferAcceptedV1, "offer_id"),
        Offer.Declined: (OfferDeclinedV1, "offer_id"),
        Offer.Expired: (OfferExpiredV1, "offer_id"),
        Offer.Withdrawn: (OfferWithdrawnV1, "offer_id"),
        Job.NoProviderFound: (NoProviderFoundV1, "request_id"),
    }
)
