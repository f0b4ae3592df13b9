"""Matching: who may be offered a job and in which order (``policy``), the offers themselves
(``offer``), the jobs (``job``), and the roster (``roster``).

The roster is matching's own record of what it has learnt from the other services: the
providers (what they do, where, their capacity, pauses, suspension, location and ratings), the
active contracts and their budgets, the jobs each provider holds now, the offers still open, the
offers made lately, and the budget committed to jobs offered or taken but not yet charged.
Eligibility and ranking read it and nothing else.

The names below are this package's public ones, gathered for ``from domain.matching import
...``. Events and snapshots stored before matching was a package name their classes by this
package's path (``domain.matching:Offer.Made``): each aggregate's module registers that old
topic itself, so they resolve whatever is gathered here.
"""

from domain.matching.job import Job, JobStatus
from domain.matching.offer import Offer, OfferStatus
from domain.matching.policy import (
    EARTH_RADIUS_KM,
    NEUTRAL_RATING,
    Candidate,
    Choice,
    ContractBudget,
    Decision,
    JobToMatch,
    Match,
    ProviderSlot,
    Rule,
    VoucherChoice,
    choose_provider,
    distance_km,
    ranking_key,
    voucher_choices,
)
from domain.matching.roster import ROSTER_ID, HeldBudget, Roster, stamp

__all__ = [
    "EARTH_RADIUS_KM",
    "NEUTRAL_RATING",
    "ROSTER_ID",
    "Candidate",
    "Choice",
    "ContractBudget",
    "Decision",
    "HeldBudget",
    "Job",
    "JobStatus",
    "JobToMatch",
    "Match",
    "Offer",
    "OfferStatus",
    "ProviderSlot",
    "Roster",
    "Rule",
    "VoucherChoice",
    "choose_provider",
    "distance_km",
    "ranking_key",
    "stamp",
    "voucher_choices",
]
