"""Integration events: the facts each service publishes, as versioned msgspec Structs.

A breaking change to an event is a new Struct with the next version number; the old one keeps
being published until no consumer reads it. The Struct's tag (its class name) travels in the
payload and in the ``Talkoot-Event`` header.
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from contracts.personal import Sealed


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
    # Added in place (optional, so older payloads still decode): where the work is, how the
    # request came in, the series it belongs to and the provider the series prefers.
    address: str = ""
    lat: float | None = None
    long: float | None = None
    channel: str = "api"  # api | open311 | series
    series_id: str | None = None
    preferred_provider_id: str | None = None
    media_url: str = ""  # a photo or document of what is to be done (Open311's media_url)
    # Added in place: the provider the resident chose under a service voucher (freedom of
    # choice); matching offers it the job first if it may, and says so in the explanation.
    chosen_provider_id: str | None = None
    # Added in place: the resident's personal data (PERSONAL below) travels sealed here, and
    # those fields above are published empty; events published before it carry them in clear.
    sealed: Sealed | None = None


class RequestRescheduledV1(IntegrationEvent, frozen=True, kw_only=True):
    """The resident moved the wished window before the request was assigned."""

    request_id: str
    window_start: datetime
    window_end: datetime


class OfferExplanation(msgspec.Struct, frozen=True, kw_only=True):
    """The facts of the matching decision that made an offer, for a reader to word in its own
    language (``why`` says them in English). Part of ``OfferMadeV1`` and ``RequestOfferedV1``:
    a field added here needs a default, a changed one is a new version of those events."""

    provider_name: str  # the chosen provider's registered name (its id when not known)
    rank: int  # its place among the eligible providers, 1 the first
    eligible: int  # how many providers were eligible, itself included
    # how many others each rule excluded, by the rule's code (declined, category, region,
    # suspended, paused, capacity, contract, budget), in the order the rules are checked
    excluded: dict[str, int] = {}
    unrelated: int = 0  # not considered: they neither do the category nor work in the region
    preferred: bool = False  # the resident's recurring series prefers this provider
    recent_offers: int  # offers made to it within the fairness window
    window_hours: float  # the fairness window
    rating: float | None = None  # its residents' average stars; None: not rated yet
    neutral_rating: float = 3.0  # what a provider not rated yet counts as
    distance_km: float | None = None  # from the job, as the crow flies; None: not known
    # Added in place: the resident's choice of provider under a service voucher. ``choice``
    # is what became of it ("" when none: offered, declined, lapsed, not_allowed), with the
    # chosen provider's name and, when not allowed, the rule that kept it out (a rule code
    # above, "voucher": no voucher contract covers it, "unknown": no such provider).
    chosen: bool = False  # this provider is the one the resident chose
    choice: str = ""
    chosen_name: str = ""
    choice_rule: str = ""


class RequestOfferedV1(IntegrationEvent, frozen=True, kw_only=True):
    request_id: str
    offer_id: str
    provider_id: str
    # Added in place (optional): matching's explanation of the offer, in plain words, and
    # (later) its facts; offers recorded before either travelled have "" and None.
    why: str = ""
    explanation: OfferExplanation | None = None


class RequestAssignedV1(IntegrationEvent, frozen=True, kw_only=True):
    request_id: str
    offer_id: str
    provider_id: str
    contract_id: str
    # Added in place (optional): the contract's municipal partner, who resolves disputes.
    partner_id: str = ""


class RequestUnmatchedV1(IntegrationEvent, frozen=True, kw_only=True):
    request_id: str
    reason: str


class RequestCancelledV1(IntegrationEvent, frozen=True, kw_only=True):
    """The resident cancelled. ``provider_id`` names the provider it was offered or assigned
    to, who is told by this event; after assignment ``reason`` is never empty."""

    request_id: str
    resident_id: str
    reason: str
    was_status: str
    provider_id: str | None = None
    offer_id: str | None = None
    sealed: Sealed | None = None  # the resident's reason (``reason`` is published empty)


class RequestExpiredV1(IntegrationEvent, frozen=True, kw_only=True):
    """The wished window passed before any provider took the request."""

    request_id: str
    reason: str
    was_status: str


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
    # resident | automatic (nobody answered in time) | upheld | adjusted (a partner's ruling)
    how: str = "resident"
    # the day the work was booked for, in Lahti: the contract's version in force that day
    # prices it (None in confirmations published before it was recorded)
    worked_on: date | None = None


class RequestDisputedV1(IntegrationEvent, frozen=True, kw_only=True):
    """The resident disputes the reported completion instead of confirming it."""

    request_id: str
    resident_id: str
    provider_id: str
    contract_id: str
    partner_id: str
    minutes: int
    reason: str
    sealed: Sealed | None = None  # the resident's reason (``reason`` is published empty)


class DisputeResolvedV1(IntegrationEvent, frozen=True, kw_only=True):
    """A municipal partner ruled: ``upheld`` and ``adjusted`` are followed by
    RequestConfirmedV1 with the minutes to charge; ``voided`` means nothing is charged."""

    request_id: str
    partner_id: str
    provider_id: str
    contract_id: str
    outcome: str  # upheld | adjusted | voided
    minutes: int
    note: str


class RequestRatedV1(IntegrationEvent, frozen=True, kw_only=True):
    request_id: str
    resident_id: str
    provider_id: str
    stars: int
    comment: str
    sealed: Sealed | None = None  # the resident's comment (``comment`` is published empty)


class SeriesStartedV1(IntegrationEvent, frozen=True, kw_only=True):
    """A resident set up recurring requests: ``rule`` is weekly, monthly or snowfall."""

    series_id: str
    resident_id: str
    category: str
    region: str
    rule: str
    description: str
    sealed: Sealed | None = None  # the resident's description (published empty)


class SeriesPausedV1(IntegrationEvent, frozen=True, kw_only=True):
    series_id: str
    until: date | None


class SeriesResumedV1(IntegrationEvent, frozen=True, kw_only=True):
    series_id: str


class SeriesEndedV1(IntegrationEvent, frozen=True, kw_only=True):
    series_id: str
    reason: str
    sealed: Sealed | None = None  # why it ended, the resident's words (published empty)


class SeriesOccurrenceScheduledV1(IntegrationEvent, frozen=True, kw_only=True):
    """A series scheduled its occurrence on ``day`` as the service request ``request_id``
    (stored together with that request's ServiceRequestedV1)."""

    series_id: str
    day: date
    request_id: str


class SnowfallDeclaredV1(IntegrationEvent, frozen=True, kw_only=True):
    """A snowfall day, declared by the city for some regions (all when the list is empty)."""

    day_id: str
    day: date
    regions: list[str]
    declared_by: str


class ResidentErasedV1(IntegrationEvent, frozen=True, kw_only=True):
    """An admin erased a resident's personal data: the resident's keys are destroyed, and
    whatever was sealed under them reads as erased from now on. No personal data in it."""

    record_id: str  # the resident's record of erasures
    resident_id: str
    erased_by: str  # the admin
    reason: str  # why, as the admin gave it (a case number, say), not who the resident is
    keys: int  # how many of the resident's keys were destroyed


# The fields of each event that are a resident's personal data: published empty (null for
# the point) and carried in its ``sealed`` field instead. contracts/personal.py says how.
PERSONAL: dict[type, tuple[str, ...]] = {
    ServiceRequestedV1: ("description", "address", "lat", "long", "media_url"),
    RequestCancelledV1: ("reason",),
    RequestDisputedV1: ("reason",),
    RequestRatedV1: ("comment",),
    SeriesStartedV1: ("description",),
    SeriesEndedV1: ("reason",),
}


RequestsEvent = (
    ServiceRequestedV1
    | RequestRescheduledV1
    | RequestOfferedV1
    | RequestAssignedV1
    | RequestUnmatchedV1
    | RequestCancelledV1
    | RequestExpiredV1
    | CompletionReportedV1
    | RequestConfirmedV1
    | RequestDisputedV1
    | DisputeResolvedV1
    | RequestRatedV1
    | SeriesStartedV1
    | SeriesPausedV1
    | SeriesResumedV1
    | SeriesEndedV1
    | SeriesOccurrenceScheduledV1
    | SnowfallDeclaredV1
    | ResidentErasedV1
)


# --- providers -----------------------------------------------------------------------------


class ProviderRegisteredV1(IntegrationEvent, frozen=True, kw_only=True):
    provider_id: str
    name: str
    kind: str
    categories: list[str]
    regions: list[str]
    capacity: int
    # Added in place (optional): the Y-tunnus of a registered provider, and where it works from.
    business_id: str | None = None
    lat: float | None = None
    long: float | None = None


class ProviderCapabilitiesChangedV1(IntegrationEvent, frozen=True, kw_only=True):
    provider_id: str
    categories: list[str]
    regions: list[str]
    capacity: int


class ProviderPausedV1(IntegrationEvent, frozen=True, kw_only=True):
    """No offers from ``starts`` to ``ends`` (inclusive; open-ended when None)."""

    provider_id: str
    pause_id: str
    starts: date
    ends: date | None
    reason: str


class ProviderPauseEndedV1(IntegrationEvent, frozen=True, kw_only=True):
    provider_id: str
    pause_id: str


class ProviderSuspendedV1(IntegrationEvent, frozen=True, kw_only=True):
    provider_id: str
    partner_id: str
    reason: str


class ProviderReinstatedV1(IntegrationEvent, frozen=True, kw_only=True):
    provider_id: str
    partner_id: str
    reason: str


class ProviderMemberJoinedV1(IntegrationEvent, frozen=True, kw_only=True):
    provider_id: str
    member_id: str


class ProviderMemberLeftV1(IntegrationEvent, frozen=True, kw_only=True):
    provider_id: str
    member_id: str


ProvidersEvent = (
    ProviderRegisteredV1
    | ProviderCapabilitiesChangedV1
    | ProviderPausedV1
    | ProviderPauseEndedV1
    | ProviderSuspendedV1
    | ProviderReinstatedV1
    | ProviderMemberJoinedV1
    | ProviderMemberLeftV1
)


# --- matching ------------------------------------------------------------------------------


class OfferMadeV1(IntegrationEvent, frozen=True, kw_only=True):
    offer_id: str
    request_id: str
    provider_id: str
    contract_id: str
    # Added in place (optional): the contract's municipal partner, when the offer lapses and
    # why it was made to this provider, in plain words ("Offered to ..., the first of ...").
    partner_id: str = ""
    expires_at: datetime | None = None
    why: str = ""
    # Added in place later (optional): the facts ``why`` words, for other languages; None in
    # offers made before they were recorded.
    explanation: OfferExplanation | None = None


class OfferAcceptedV1(IntegrationEvent, frozen=True, kw_only=True):
    offer_id: str
    request_id: str
    provider_id: str
    contract_id: str
    partner_id: str = ""


class OfferDeclinedV1(IntegrationEvent, frozen=True, kw_only=True):
    offer_id: str
    request_id: str
    provider_id: str
    reason: str


class OfferExpiredV1(IntegrationEvent, frozen=True, kw_only=True):
    offer_id: str
    request_id: str
    provider_id: str


class OfferWithdrawnV1(IntegrationEvent, frozen=True, kw_only=True):
    """The request was cancelled, rescheduled or expired while this offer was open."""

    offer_id: str
    request_id: str
    provider_id: str
    reason: str


class NoProviderFoundV1(IntegrationEvent, frozen=True, kw_only=True):
    request_id: str
    reason: str


MatchingEvent = (
    OfferMadeV1
    | OfferAcceptedV1
    | OfferDeclinedV1
    | OfferExpiredV1
    | OfferWithdrawnV1
    | NoProviderFoundV1
)


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
    # who proposed it ("" before the proposer was recorded), and how many of the partner's
    # officers sign it (one before the partner registry)
    proposed_by: str = ""
    partner_signatures_needed: int = 1
    # Added in place (defaults for events published before): "hour" (the unit price an hour)
    # or "job" (the unit price once per job); the service voucher, the most the city pays per
    # job (None: it pays the whole charge)
    pricing: str = "hour"
    voucher_cents: int | None = None


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
    # Added in place (defaults for events published before): "hour" (the unit price an hour)
    # or "job" (the unit price once per job); the service voucher, the most the city pays per
    # job (None: it pays the whole charge)
    pricing: str = "hour"
    voucher_cents: int | None = None


class ContractChargedV1(IntegrationEvent, frozen=True, kw_only=True):
    contract_id: str
    request_id: str
    minutes: int
    amount_cents: int
    charged_cents: int
    remaining_cents: int
    version: int = 1  # the contract's version in force on the day of the work
    # Added in place: who pays the amount, the city (at most the service voucher: what counts
    # against the budget) and the resident (their own share). None and 0 in charges published
    # before vouchers: the city paid the whole amount (``city`` reads it so either way).
    city_cents: int | None = None
    resident_cents: int = 0

    @property
    def city(self) -> int:
        """The city's share, also of a charge published before shares were."""
        return self.amount_cents if self.city_cents is None else self.city_cents


class ChargeRefusedV1(IntegrationEvent, frozen=True, kw_only=True):
    contract_id: str
    request_id: str
    minutes: int
    amount_cents: int
    remaining_cents: int
    reason: str


class ContractAmendmentProposedV1(IntegrationEvent, frozen=True, kw_only=True):
    """The next version of a contract, waiting for both parties' signatures: all its terms."""

    contract_id: str
    version: int
    effective_from: date
    proposed_by: str
    partner_signatures_needed: int
    reason: str
    categories: list[str]
    regions: list[str]
    unit_price_cents: int
    budget_cents: int
    valid_from: date
    valid_until: date
    # Added in place (defaults for events published before): "hour" (the unit price an hour)
    # or "job" (the unit price once per job); the service voucher, the most the city pays per
    # job (None: it pays the whole charge)
    pricing: str = "hour"
    voucher_cents: int | None = None


class ContractAmendmentSignedV1(IntegrationEvent, frozen=True, kw_only=True):
    contract_id: str
    version: int
    party: str
    signed_by: str


class ContractAmendedV1(IntegrationEvent, frozen=True, kw_only=True):
    """Both parties signed the amendment: it is the contract's version ``version`` from
    ``effective_from``; the versions before it still price the work done before."""

    contract_id: str
    version: int
    effective_from: date
    categories: list[str]
    regions: list[str]
    unit_price_cents: int
    budget_cents: int
    valid_from: date
    valid_until: date
    remaining_cents: int  # the new budget less what is charged already
    # Added in place (defaults for events published before): "hour" (the unit price an hour)
    # or "job" (the unit price once per job); the service voucher, the most the city pays per
    # job (None: it pays the whole charge)
    pricing: str = "hour"
    voucher_cents: int | None = None


class ContractSuspendedV1(IntegrationEvent, frozen=True, kw_only=True):
    contract_id: str
    reason: str
    by: str


class ContractResumedV1(IntegrationEvent, frozen=True, kw_only=True):
    contract_id: str
    reason: str
    by: str


class ContractTerminatedV1(IntegrationEvent, frozen=True, kw_only=True):
    """No work under the contract from ``on``; work done before is still charged."""

    contract_id: str
    reason: str
    by: str
    on: date


class ContractBudgetAlertV1(IntegrationEvent, frozen=True, kw_only=True):
    """What is charged of the contract (the city's shares) reached ``threshold`` per cent (80
    or 100) of its budget: once per threshold for each budget signed (an amendment that
    changes the budget arms them again)."""

    contract_id: str
    threshold: int
    charged_cents: int
    budget_cents: int
    version: int  # the contract's version that set the budget


class ContractChargeReversedV1(IntegrationEvent, frozen=True, kw_only=True):
    """A dispute voided a request after it was charged: the charge stays on the record, and
    its city's share goes back to the budget (``remaining_cents`` grows by ``city_cents``)."""

    contract_id: str
    request_id: str
    minutes: int
    amount_cents: int
    city_cents: int
    resident_cents: int
    charged_cents: int
    remaining_cents: int
    reason: str


PartnershipsEvent = (
    ContractProposedV1
    | ContractSignedV1
    | ContractActivatedV1
    | ContractChargedV1
    | ChargeRefusedV1
    | ContractAmendmentProposedV1
    | ContractAmendmentSignedV1
    | ContractAmendedV1
    | ContractSuspendedV1
    | ContractResumedV1
    | ContractTerminatedV1
    | ContractBudgetAlertV1
    | ContractChargeReversedV1
)

# --- tables --------------------------------------------------------------------------------
# The regional partnership tables: their members, meetings and fees, events, initiatives and
# participatory budgeting. Dates (``on``) are the day a thing happened in Lahti; ``occurred_at``
# is when it was recorded.


class TableFoundedV1(IntegrationEvent, frozen=True, kw_only=True):
    table_id: str
    name: str
    regions: list[str]  # the catalogue's regions the table serves
    coordinator: str  # the coordinating city employee (their subject)
    coordinator_share_percent: int  # of their working time given to the table
    coordinator_yearly_cost_cents: int  # a full-time coordinator's yearly cost to the city
    yearly_budget_cents: int
    meeting_fee_cents: int
    meetings_per_year: int
    support_threshold: int  # residents' supports that put an initiative on the agenda
    answer_days: int  # days the city has to answer a forwarded initiative
    founded_on: date


class TableCoordinatorAppointedV1(IntegrationEvent, frozen=True, kw_only=True):
    table_id: str
    coordinator: str
    share_percent: int


class TableMemberJoinedV1(IntegrationEvent, frozen=True, kw_only=True):
    table_id: str
    member_id: str
    name: str
    kind: str  # resident | association | business | official
    on: date


class TableMemberLeftV1(IntegrationEvent, frozen=True, kw_only=True):
    table_id: str
    member_id: str
    on: date
    reason: str


class TableBudgetSetV1(IntegrationEvent, frozen=True, kw_only=True):
    table_id: str
    year: int
    budget_cents: int


class MeetingPlannedV1(IntegrationEvent, frozen=True, kw_only=True):
    table_id: str
    meeting_id: str
    on: date
    agenda: str


class MeetingHeldV1(IntegrationEvent, frozen=True, kw_only=True):
    """Each attendee earned ``fee_cents`` (accrued, paid with the period's payout)."""

    table_id: str
    meeting_id: str
    on: date
    attendees: list[str]  # member ids
    decisions: list[str]
    discussed: list[str]  # initiative ids
    cost_cents: int  # the meeting's own cost, from the table's budget (not the fees)
    fee_cents: int


class FeeLine(msgspec.Struct, frozen=True, kw_only=True):
    member_id: str
    name: str
    meetings: int
    cents: int


class MeetingFeesPaidV1(IntegrationEvent, frozen=True, kw_only=True):
    """The fees accrued after ``period_from`` (from the start when None) up to ``until``."""

    table_id: str
    period_from: date | None
    until: date
    lines: list[FeeLine]
    total_cents: int
    paid_by: str


class TableEventPlannedV1(IntegrationEvent, frozen=True, kw_only=True):
    table_id: str
    event_id: str
    kind: str  # event | speak_out
    title: str
    on: date


class TableEventHeldV1(IntegrationEvent, frozen=True, kw_only=True):
    table_id: str
    event_id: str
    kind: str
    on: date
    attendance: int
    topics: list[str]
    cost_cents: int


class TableFundsEarmarkedV1(IntegrationEvent, frozen=True, kw_only=True):
    """Set aside from the table's budget of ``on``'s year for a round or a programme."""

    table_id: str
    kind: str  # round | programme
    ref: str  # the round's or the programme's id
    cents: int
    on: date
    note: str


class TableFundsReleasedV1(IntegrationEvent, frozen=True, kw_only=True):
    """Given back to the year it was set aside from: what a round did not allocate."""

    table_id: str
    kind: str
    ref: str
    cents: int
    on: date
    note: str


class InitiativeRaisedV1(IntegrationEvent, frozen=True, kw_only=True):
    initiative_id: str
    table_id: str
    title: str
    description: str
    origin: str  # resident | member | city
    raised_by: str
    raised_on: date
    from_event: str | None = None
    topic: str = ""


class InitiativeSupportedV1(IntegrationEvent, frozen=True, kw_only=True):
    initiative_id: str
    table_id: str
    resident_id: str


class InitiativeDiscussedV1(IntegrationEvent, frozen=True, kw_only=True):
    initiative_id: str
    table_id: str
    meeting_id: str
    on: date


class InitiativeForwardedV1(IntegrationEvent, frozen=True, kw_only=True):
    initiative_id: str
    table_id: str
    statement: str
    by: str
    on: date


class InitiativeAnsweredV1(IntegrationEvent, frozen=True, kw_only=True):
    initiative_id: str
    table_id: str
    answer: str  # accepted | rejected | in_progress
    reasons: str
    by: str
    on: date


class InitiativeImplementedV1(IntegrationEvent, frozen=True, kw_only=True):
    initiative_id: str
    table_id: str
    outcome: str
    on: date


class InitiativeClosedV1(IntegrationEvent, frozen=True, kw_only=True):
    initiative_id: str
    table_id: str
    reason: str
    on: date


class ProgrammeFundedV1(IntegrationEvent, frozen=True, kw_only=True):
    """A table funds an initiative as a service programme: residents' services of the
    categories in the regions, delivered by the provider under a contract with the table
    (partner ``table-<table_id>``, the table's decision its signature), charged to the
    budget it set aside."""

    initiative_id: str
    table_id: str
    programme_id: str  # also the contract's id
    title: str
    provider_id: str
    categories: list[str]
    regions: list[str]
    unit_price_cents: int
    pricing: str  # hour | job
    budget_cents: int
    valid_from: date
    valid_until: date
    decided_by: str  # the coordinator who recorded the table's decision


class RoundOpenedV1(IntegrationEvent, frozen=True, kw_only=True):
    round_id: str
    table_id: str
    title: str
    year: int
    budget_cents: int
    rule: str  # share | at_least | between
    threshold_percent: int
    minimum: int
    maximum: int
    selection_threshold: int
    opened_by: str
    opened_on: date


class RoundAdvancedV1(IntegrationEvent, frozen=True, kw_only=True):
    round_id: str
    table_id: str
    phase: str
    ballot: list[str]  # the proposals on the ballot, once the costs are published


class ProposalMadeV1(IntegrationEvent, frozen=True, kw_only=True):
    round_id: str
    table_id: str
    proposal_id: str
    title: str
    description: str
    cost_cents: int
    by: str


class ProposalReviewedV1(IntegrationEvent, frozen=True, kw_only=True):
    round_id: str
    table_id: str
    proposal_id: str
    feasible: bool
    reason: str
    cost_cents: int


class ProposalSelectedV1(IntegrationEvent, frozen=True, kw_only=True):
    round_id: str
    table_id: str
    proposal_id: str
    resident_id: str


class BallotCastV1(IntegrationEvent, frozen=True, kw_only=True):
    """A ballot was cast: secret, so neither the voter nor the choice travels; ``replaces``
    says it replaced the same voter's earlier one (so voters are the ones that do not)."""

    round_id: str
    table_id: str
    channel: str  # online | paper
    replaces: bool


class RoundTalliedV1(IntegrationEvent, frozen=True, kw_only=True):
    round_id: str
    table_id: str
    ballots: int
    votes: dict[str, int]
    funded: list[str]
    not_fitting: list[str]
    funded_cents: int
    left_cents: int


class CommonExpenseRecordedV1(IntegrationEvent, frozen=True, kw_only=True):
    """An expense the city made for all its tables together, beside their own budgets."""

    year: int
    expense_id: str
    amount_cents: int
    on: date
    purpose: str  # marketing | joint_events | other
    note: str
    recorded_by: str  # the admin who recorded it


TablesEvent = (
    TableFoundedV1
    | TableCoordinatorAppointedV1
    | TableMemberJoinedV1
    | TableMemberLeftV1
    | TableBudgetSetV1
    | MeetingPlannedV1
    | MeetingHeldV1
    | MeetingFeesPaidV1
    | TableEventPlannedV1
    | TableEventHeldV1
    | TableFundsEarmarkedV1
    | TableFundsReleasedV1
    | InitiativeRaisedV1
    | InitiativeSupportedV1
    | InitiativeDiscussedV1
    | InitiativeForwardedV1
    | InitiativeAnsweredV1
    | InitiativeImplementedV1
    | InitiativeClosedV1
    | ProgrammeFundedV1
    | RoundOpenedV1
    | RoundAdvancedV1
    | ProposalMadeV1
    | ProposalReviewedV1
    | ProposalSelectedV1
    | BallotCastV1
    | RoundTalliedV1
    | CommonExpenseRecordedV1
)

EVENTS_BY_SERVICE: dict[str, object] = {
    "requests": RequestsEvent,
    "providers": ProvidersEvent,
    "matching": MatchingEvent,
    "partnerships": PartnershipsEvent,
    "tables": TablesEvent,
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
