"""A decision's explanation: the English sentence the audit keeps, and its facts as values,
which travel with the offer for readers in other languages."""

from datetime import timedelta

import msgspec

from contracts.events import OfferExplanation
from services.matching.explanation import explain_offer, explanation_of, explanation_values

WINDOW = timedelta(days=30)
CHOSEN = {
    "provider_id": "p1",
    "rank": 1,
    "preferred": False,
    "recent_offers": 3,
    "rating": 4.5,
    "distance_km": 1.8,
}
SECOND = {**CHOSEN, "provider_id": "p2", "rank": 2, "rating": None, "distance_km": None}
DECISION = [
    {"provider_id": "p9", "rule": "contract", "reason": "has no active contract"},
    SECOND,
    {"provider_id": "p7", "rule": "declined", "reason": "declined this request"},
    CHOSEN,
    {"provider_id": "p8", "rule": "contract", "reason": "has no active contract"},
]


def test_the_facts_name_the_chosen_provider_and_count_the_others_by_rule_in_rule_order():
    facts = explanation_of("p1", DECISION, 3, WINDOW, {"p1": "Laune Talkoot ry"})

    assert facts == OfferExplanation(
        provider_name="Laune Talkoot ry",
        rank=1,
        eligible=2,
        excluded={"declined": 1, "contract": 2},
        unrelated=3,
        preferred=False,
        recent_offers=3,
        window_hours=720.0,
        rating=4.5,
        neutral_rating=3.0,
        distance_km=1.8,
    )
    assert list(facts.excluded) == ["declined", "contract"]  # declined is checked first


def test_the_facts_of_an_unrated_preferred_provider_whose_distance_is_unknown():
    alone = {**CHOSEN, "preferred": True, "rating": None, "distance_km": None}
    facts = explanation_of("p1", [alone], 0, timedelta(hours=12), {})

    assert (facts.provider_name, facts.eligible, facts.excluded, facts.unrelated) == (
        "p1",  # a provider whose name matching has not heard goes by its id
        1,
        {},
        0,
    )
    assert (facts.preferred, facts.rating, facts.distance_km) == (True, None, None)
    assert facts.window_hours == 12.0


def test_an_offer_whose_decision_does_not_list_its_provider_has_no_facts():
    assert explanation_of("p1", [], 0, WINDOW, {}) is None
    assert explanation_of("p7", DECISION, 0, WINDOW, {}) is None  # excluded, not chosen


def test_the_facts_are_stored_as_plain_values_and_read_back_as_they_were():
    facts = explanation_of("p1", DECISION, 3, WINDOW, {"p1": "Laune Talkoot ry"})
    stored = explanation_values(facts)

    assert isinstance(stored, dict) and stored["excluded"] == {"declined": 1, "contract": 2}
    assert msgspec.convert(stored, OfferExplanation) == facts
    assert explanation_values(None) is None


def test_the_english_sentence_stays_as_the_audit_keeps_it():
    assert explain_offer("p1", DECISION, 3, WINDOW, {"p1": "Laune Talkoot ry"}) == (
        "Offered to Laune Talkoot ry, the first of 2 eligible providers (ranked 1 of 2 "
        "eligible; 3 offers in the last 30 days; rated 4.5 stars on average; 1.8 km away); "
        "3 other providers were not eligible; 3 more were not considered (neither this "
        "category nor this region)."
    )


# --- freedom of choice ----------------------------------------------------------------------


def test_the_chosen_provider_offered_first_is_said_and_in_the_facts():
    chosen = {**CHOSEN, "chosen": True}
    names = {"p1": "Laune Talkoot ry"}
    choice = ("p1", "offered", "")

    why = explain_offer("p1", [chosen, SECOND], 0, WINDOW, names, choice)
    facts = explanation_of("p1", [chosen, SECOND], 0, WINDOW, names, choice)

    assert "the provider the resident chose under a service voucher" in why
    assert why.endswith("; the resident chose this provider under their service voucher.")
    assert (facts.chosen, facts.choice, facts.chosen_name) == (True, "offered", "Laune Talkoot ry")


def test_a_fallback_after_the_chosen_provider_declined_names_it():
    names = {"p1": "Laune Talkoot ry", "p2": "Kärkölän Kyläpalvelu"}
    declined = {"provider_id": "p2", "rule": "declined", "reason": "declined this request"}
    choice = ("p2", "declined", "")

    why = explain_offer("p1", [CHOSEN, declined], 0, WINDOW, names, choice)
    facts = explanation_of("p1", [CHOSEN, declined], 0, WINDOW, names, choice)

    assert why.endswith(
        "; Kärkölän Kyläpalvelu, whom the resident chose, declined, so the fair ranking decided."
    )
    assert (facts.chosen, facts.choice, facts.chosen_name) == (
        False,
        "declined",
        "Kärkölän Kyläpalvelu",
    )


def test_a_choice_not_allowed_is_recorded_with_its_rule():
    choice = ("p2", "not_allowed", "voucher")
    why = explain_offer("p1", [CHOSEN, SECOND], 0, WINDOW, {}, choice)
    facts = explanation_of("p1", [CHOSEN, SECOND], 0, WINDOW, {}, choice)

    assert why.endswith(
        "; the resident's choice of p2 was ignored: no service voucher contract covers it for "
        "this request."
    )
    assert (facts.choice, facts.choice_rule, facts.chosen_name) == ("not_allowed", "voucher", "p2")


def test_without_a_choice_the_facts_have_none():
    facts = explanation_of("p1", DECISION, 0, WINDOW, {})
    assert (facts.chosen, facts.choice, facts.chosen_name, facts.choice_rule) == (
        False,
        "",
        "",
        "",
    )
