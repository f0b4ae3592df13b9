"""A matching decision in plain words: why each provider was or was not eligible, and why an
offer went to the provider it did; and the facts of that why, for readers in other languages.

Written once, for the offer as matching shows it (``GET /offers/{id}``) and for the offer as it
is made: the sentence and its facts are recorded on the offer and travel with ``OfferMadeV1``
to the request.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec

from contracts.events import OfferExplanation
from domain.matching.policy import NEUTRAL_RATING, Rule


def describe_window(window: timedelta) -> str:
    if window % timedelta(days=1) == timedelta(0):
        days = window // timedelta(days=1)
        return f"{days} day" if days == 1 else f"{days} days"
    hours = window / timedelta(hours=1)
    return f"{hours:g} hours"


def plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def is_eligible(entry: dict[str, Any]) -> bool:
    """A candidate of a decision was eligible unless a rule excluded it."""
    return "rule" not in entry


def explain_candidate(entry: dict[str, Any], eligible_count: int, window: timedelta) -> str:
    """One candidate of a decision (as ``Candidate.as_dict`` stores it), in a sentence: the
    rule that excluded it, or its rank and the figures it was ranked by."""
    if not is_eligible(entry):
        return f"not eligible: {entry['reason']}"
    parts = [f"ranked {entry['rank']} of {eligible_count} eligible"]
    if entry.get("chosen"):  # decisions recorded before the choice existed lack it
        parts.append("the provider the resident chose under a service voucher")
    if entry["preferred"]:
        parts.append("the provider the resident's series prefers")
    offers = entry["recent_offers"]
    parts.append(
        f"{offers} offer{'' if offers == 1 else 's'} in the last {describe_window(window)}"
    )
    if entry["rating"] is None:
        parts.append(f"not rated yet (counted as {NEUTRAL_RATING:g} stars)")
    else:
        parts.append(f"rated {entry['rating']:g} stars on average")
    if entry["distance_km"] is None:
        parts.append("distance unknown")
    else:
        parts.append(f"{entry['distance_km']:g} km away")
    return "; ".join(parts)


# Why a choice was not allowed, by the rule that kept the chosen provider out.
CHOICE_RULES = {
    "voucher": "no service voucher contract covers it for this request",
    "unknown": "it is not a registered provider",
    Rule.CATEGORY.value: "it does not do this category",
    Rule.REGION.value: "it does not work in this region",
    Rule.SUSPENDED.value: "it is suspended",
    Rule.PAUSED.value: "it has paused taking work",
    Rule.CAPACITY.value: "it has no free capacity",
    Rule.BUDGET.value: "its voucher contract has no budget left",
}


def explain_choice(choice: tuple[str, str, str], names: dict[str, str]) -> str:
    """What became of the resident's choice ``(provider id, outcome, rule)``, in a clause
    ("" when the resident chose nobody)."""
    chosen_id, outcome, rule = choice
    name = names.get(chosen_id) or chosen_id
    if outcome == "offered":
        return "the resident chose this provider under their service voucher"
    if outcome == "declined":
        return f"{name}, whom the resident chose, declined, so the fair ranking decided"
    if outcome == "lapsed":
        return f"{name}, whom the resident chose, let the offer lapse, so the fair ranking decided"
    if outcome == "not_allowed":
        because = CHOICE_RULES.get(rule, rule)
        return f"the resident's choice of {name} was ignored: {because}"
    return ""


NO_CHOICE = ("", "", "")


def explain_offer(
    provider_id: str,
    candidates: list[dict[str, Any]],
    unrelated: int,
    window: timedelta,
    names: dict[str, str],
    choice: tuple[str, str, str] = NO_CHOICE,
) -> str:
    """Why the job went to ``provider_id``: "Offered to Laune Talkoot ry, the first of 2
    eligible providers (ranked 1 of 2 eligible; ...); 1 other provider was not eligible."
    ``names`` are the providers' registered names (the id stands in for one not known)."""
    why = f"Offered to {names.get(provider_id) or provider_id}"
    chosen = next((c for c in candidates if c["provider_id"] == provider_id), None)
    if chosen is not None:
        eligible = sum(1 for c in candidates if is_eligible(c))
        excluded = len(candidates) - eligible
        first = (
            "the only eligible provider"
            if eligible == 1
            else f"the first of {eligible} eligible providers"
        )
        why += f", {first} ({explain_candidate(chosen, eligible, window)})"
        if excluded:
            why += "; " + plural(excluded, "other provider was", "other providers were")
            why += " not eligible"
        if unrelated:
            why += "; " + plural(unrelated, "more was", "more were")
            why += " not considered (neither this category nor this region)"
    chose = explain_choice(choice, names)
    if chose:
        why += "; " + chose
    return why + "."


RULE_ORDER = {rule.value: n for n, rule in enumerate(Rule)}


def explanation_of(
    provider_id: str,
    candidates: list[dict[str, Any]],
    unrelated: int,
    window: timedelta,
    names: dict[str, str],
    choice: tuple[str, str, str] = NO_CHOICE,
) -> OfferExplanation | None:
    """The facts ``explain_offer`` words, as values: None when the decision does not list
    ``provider_id`` as eligible (an offer recorded without its decision)."""
    chosen = next((c for c in candidates if c["provider_id"] == provider_id), None)
    if chosen is None or not is_eligible(chosen):
        return None
    excluded: dict[str, int] = {}
    for entry in candidates:
        if not is_eligible(entry):
            excluded[entry["rule"]] = excluded.get(entry["rule"], 0) + 1
    return OfferExplanation(
        provider_name=names.get(provider_id) or provider_id,
        rank=chosen["rank"],
        eligible=sum(1 for c in candidates if is_eligible(c)),
        excluded=dict(sorted(excluded.items(), key=lambda i: RULE_ORDER.get(i[0], len(Rule)))),
        unrelated=unrelated,
        preferred=bool(chosen["preferred"]),
        recent_offers=chosen["recent_offers"],
        window_hours=window / timedelta(hours=1),
        rating=chosen["rating"],
        neutral_rating=NEUTRAL_RATING,
        distance_km=chosen["distance_km"],
        chosen=bool(chosen.get("chosen")),
        choice=choice[1],
        chosen_name=(names.get(choice[0]) or choice[0]) if choice[1] else "",
        choice_rule=choice[2],
    )


def explanation_values(explanation: OfferExplanation | None) -> dict[str, Any] | None:
    """The facts as the offer's ``Made`` event stores them: plain values."""
    return None if explanation is None else msgspec.to_builtins(explanation)
