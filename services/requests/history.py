"""A request's history as a person reads it: its stored events, oldest first, each with what
happened and the facts that say why.

Every event of a ``ServiceRequest`` has one entry kind, named once in ``ENTRIES``:

| ``what`` | facts |
| --- | --- |
| ``submitted``, ``rescheduled`` | ``window_start``, ``window_end`` |
| ``offered`` | ``offer_id``, ``provider_id``, ``why`` (matching's words), ``explanation`` (facts) |
| ``assigned`` | ``provider_id``, ``contract_id`` |
| ``unmatched``, ``cancelled``, ``expired``, ``disputed`` | ``reason`` |
| ``completion-reported`` | ``hours`` |
| ``confirmed`` | ``hours`` (those charged), ``how`` (resident, automatic, upheld, adjusted) |
| ``dispute-resolved`` | ``outcome``, ``hours`` (those to charge), ``note`` |
| ``rated`` | ``stars``, ``comment`` |

No entry names the resident: the events hold the resident's id, and a provider's member or a
partner's officer reads this too. An offer made to another provider than the caller's is told
without who it was made to, or why (matching shows a provider's decision only to that provider
and the partner whose contract it is under).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import msgspec

from contracts.events import OfferExplanation
from domain.requests import ServiceRequest
from services.platform.identity import Caller


class HistoryEntry(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One thing that happened to a request; only the facts of its kind are present."""

    at: datetime  # when it was stored
    what: str  # submitted, offered, assigned, ... (see the module's table)
    version: int  # the request's version it made: 1 for submitted, then one more each
    window_start: datetime | None = None
    window_end: datetime | None = None
    offer_id: str | None = None
    provider_id: str | None = None
    why: str | None = None
    # the facts ``why`` words, for a reader in another language (offers recorded before they
    # travelled have none)
    explanation: OfferExplanation | None = None
    contract_id: str | None = None
    reason: str | None = None
    hours: float | None = None
    how: str | None = None
    outcome: str | None = None
    note: str | None = None
    stars: int | None = None
    comment: str | None = None


Facts = Callable[[Any], dict[str, Any]]


def _window(e: Any) -> dict[str, Any]:
    return {"window_start": e.window_start, "window_end": e.window_end}


def _reason(e: Any) -> dict[str, Any]:
    return {"reason": e.reason}


def _hours(e: Any) -> dict[str, Any]:
    return {"hours": e.minutes / 60}


def _offered(e: Any) -> dict[str, Any]:
    # Offers recorded before matching's explanation (or its facts) travelled have none.
    facts = getattr(e, "explanation", None)
    return {
        "offer_id": e.offer_id,
        "provider_id": e.provider_id,
        "why": getattr(e, "why", ""),
        "explanation": msgspec.convert(facts, OfferExplanation) if facts else None,
    }


# What each event is called in a history, and its facts; the domain event's own names for
# them, except minutes, which a person reads as hours.
ENTRIES: dict[type, tuple[str, Facts]] = {
    ServiceRequest.Submitted: ("submitted", _window),
    ServiceRequest.Rescheduled: ("rescheduled", _window),
    ServiceRequest.Offered: ("offered", _offered),
    ServiceRequest.Assigned: (
        "assigned",
        lambda e: {"provider_id": e.provider_id, "contract_id": e.contract_id},
    ),
    ServiceRequest.Unmatched: ("unmatched", _reason),
    ServiceRequest.CompletionReported: ("completion-reported", _hours),
    ServiceRequest.Confirmed: (
        "confirmed",
        lambda e: {**_hours(e), "how": getattr(e, "how", "resident")},
    ),
    ServiceRequest.Disputed: ("disputed", _reason),
    ServiceRequest.DisputeResolved: (
        "dispute-resolved",
        lambda e: {"outcome": e.outcome, **_hours(e), "note": e.note},
    ),
    ServiceRequest.Cancelled: ("cancelled", _reason),
    ServiceRequest.Expired: ("expired", _reason),
    ServiceRequest.Rated: ("rated", lambda e: {"stars": e.stars, "comment": e.comment}),
}

# The facts of an offer that belong to the provider it was made to.
OFFERS_OWN = ("offer_id", "provider_id", "why", "explanation")


def kebab(name: str) -> str:
    """``CompletionReported`` -> ``completion-reported``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def sees_offer(caller: Caller, request: ServiceRequest, provider_id: str) -> bool:
    """Whether the caller, who may read the request, may read who an offer of it was made to
    and why: its resident (or an admin), a member of that provider, or an officer of the
    partner whose contract the request was assigned under, of the offers to that provider."""
    return (
        caller.is_resident(request.resident_id)
        or caller.is_member_of(provider_id)
        or (provider_id == request.provider_id and caller.is_officer_of(request.partner_id))
    )


def entry(event: Any, request: ServiceRequest, caller: Caller) -> HistoryEntry:
    what, facts = ENTRIES.get(type(event), (kebab(type(event).__name__), lambda _: {}))
    shown = facts(event)
    if what == "offered" and not sees_offer(caller, request, event.provider_id):
        shown = {k: v for k, v in shown.items() if k not in OFFERS_OWN}
    return HistoryEntry(
        at=event.timestamp,
        what=what,
        version=event.originator_version,
        **{k: v for k, v in shown.items() if v is not None and v != ""},
    )


def history(request: ServiceRequest, events: Iterable[Any], caller: Caller) -> list[HistoryEntry]:
    """The request's ``events`` (as stored, oldest first) as the caller, who may read the
    request, reads them."""
    return [entry(event, request, caller) for event in events]
