"""The offer: a job offered to one provider under one contract, answered once, or lapsed."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

from domain.errors import NotAllowed, WrongState


class OfferStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class Offer(Aggregate):
    """A job offered to one provider under one contract, answered once, or lapsed.

    ``candidates`` is the decision that made it: every provider considered, with the rule that
    excluded it or its score and rank; ``score`` is the chosen provider's; ``why`` says it in
    plain words, as it was told when the offer was made ("" in offers made before it was);
    ``explanation`` holds the facts ``why`` words, as plain values (None in offers made before
    they were recorded).
    """

    @event("Made")
    def __init__(
        self,
        request_id: str,
        provider_id: str,
        contract_id: str,
        category: str,
        region: str,
        declined_by: list[str],
        partner_id: str = "",
        expires_at: datetime | None = None,
        candidates: list[dict] | None = None,
        score: dict | None = None,
        unrelated: int = 0,
        why: str = "",
        explanation: dict | None = None,
    ) -> None:
        self.request_id = request_id
        self.provider_id = provider_id
        self.contract_id = contract_id
        self.partner_id = partner_id
        self.category = category
        self.region = region
        self.declined_by = declined_by
        self.expires_at = expires_at
        self.candidates = candidates or []
        self.score = score or {}
        self.unrelated = unrelated
        self.why = why
        self.explanation = explanation
        self.status = OfferStatus.OPEN
        self.answer = ""  # the decline's reason, or why the offer was withdrawn

    def check_answerable_by(self, provider_id: str, now: datetime | None = None) -> None:
        """The provider it was made to answers it, while it is open and, given ``now``,
        before its time to answer has passed."""
        if provider_id != self.provider_id:
            raise NotAllowed(
                "only the provider this job was offered to can answer the offer",
                rule="provider_id",
            )
        self.check_open()
        if now is not None and self.due(now):
            raise WrongState(f"the time to answer this offer ended at {self.expires_at}")

    def check_open(self) -> None:
        if self.status != OfferStatus.OPEN:
            raise WrongState(f"this offer has already been {self.status}")

    def due(self, now: datetime) -> bool:
        if self.status != OfferStatus.OPEN or self.expires_at is None:
            return False
        return now >= self.expires_at

    # The answers repeat who and what, so that each event reads as a whole fact in the audit.

    def accept(self, provider_id: str, now: datetime | None = None) -> None:
        self.check_answerable_by(provider_id, now)
        self._accepted(
            request_id=self.request_id,
            provider_id=provider_id,
            contract_id=self.contract_id,
            partner_id=self.partner_id,
        )

    @event("Accepted")
    def _accepted(
        self, request_id: str, provider_id: str, contract_id: str, partner_id: str = ""
    ) -> None:
        self.status = OfferStatus.ACCEPTED

    def decline(self, provider_id: str, reason: str, now: datetime | None = None) -> None:
        self.check_answerable_by(provider_id, now)
        self._declined(request_id=self.request_id, provider_id=provider_id, reason=reason)

    @event("Declined")
    def _declined(self, request_id: str, provider_id: str, reason: str) -> None:
        self.status = OfferStatus.DECLINED
        self.answer = reason

    def expire(self, now: datetime) -> None:
        self.check_open()
        if not self.due(now):
            raise WrongState(f"this offer is open until {self.expires_at}")
        self._expired(request_id=self.request_id, provider_id=self.provider_id)

    @event("Expired")
    def _expired(self, request_id: str, provider_id: str) -> None:
        self.status = OfferStatus.EXPIRED

    def withdraw(self, reason: str) -> None:
        self.check_open()
        self._withdrawn(request_id=self.request_id, provider_id=self.provider_id, reason=reason)

    @event("Withdrawn")
    def _withdrawn(self, request_id: str, provider_id: str, reason: str) -> None:
        self.status = OfferStatus.WITHDRAWN
        self.answer = reason


# Events stored before matching became a package name the offer by its old module path
# (``domain.matching:Offer.Made``). eventsourcing resolves a nested event's topic through
# the topic registered for its class, so this covers every event of the offer.
register_topic("domain.matching:Offer", Offer)
