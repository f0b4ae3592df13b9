"""Why matching offered a job, as the front words it from the decision's facts: in Finnish and
in English, and matching's own English sentence (marked as English) where an old offer has no
facts."""

from __future__ import annotations

import pytest

from domain.matching.policy import Rule
from services.web import i18n
from services.web.app import environment
from services.web.explanation import RULES, candidate, explain

ALONE = {
    "provider_name": "Laune Talkoot ry",
    "rank": 1,
    "eligible": 1,
    "excluded": {},
    "unrelated": 0,
    "preferred": False,
    "recent_offers": 0,
    "window_hours": 720.0,
    "rating": None,
    "neutral_rating": 3.0,
    "distance_km": None,
}
AMONG_OTHERS = {
    **ALONE,
    "eligible": 2,
    "excluded": {"declined": 1, "contract": 2},
    "unrelated": 3,
    "recent_offers": 3,
    "rating": 4.5,
    "distance_km": 1.8,
}


def words(lang: str, facts: dict | None) -> str:
    with i18n.speaking(lang):
        return explain(facts)


def test_the_only_eligible_provider_not_rated_yet_in_english():
    assert words("en", ALONE) == (
        "Offered to Laune Talkoot ry, the only eligible provider. "
        "It had no offers in the last 30 days. "
        "It is not rated yet, so it counts as 3 stars. "
        "Its distance from the job is not known."
    )


def test_the_only_eligible_provider_not_rated_yet_in_finnish():
    assert words("fi", ALONE) == (
        "Tarjottu palveluntuottajalle Laune Talkoot ry, joka oli ainoa sopiva. "
        "Sille ei ollut tehty yhtään tarjousta viimeisen 30 päivän aikana. "
        "Sitä ei ole vielä arvioitu, joten se lasketaan 3 tähden arvoiseksi. "
        "Sen etäisyyttä työstä ei tiedetä."
    )


def test_the_first_of_several_with_others_excluded_by_rule_in_english():
    assert words("en", AMONG_OTHERS) == (
        "Offered to Laune Talkoot ry, the first of 2 eligible providers. "
        "3 other providers were not eligible: declined this request before, or let an offer "
        "for it lapse (1); no contract covering this work on that day (2). "
        "3 more were not considered: they neither do this kind of work nor work in this area. "
        "It had 3 offers in the last 30 days (the fewer, the sooner the next). "
        "Residents rate its work 4.5 stars on average. "
        "It is 1.8 km from the job."
    )


def test_the_first_of_several_with_others_excluded_by_rule_in_finnish():
    assert words("fi", AMONG_OTHERS) == (
        "Tarjottu palveluntuottajalle Laune Talkoot ry, joka oli ensimmäinen 2 sopivasta. "
        "3 muuta palveluntuottajaa jäi pois ehtojen vuoksi: kieltäytynyt jo tästä työstä tai "
        "antanut tarjouksen raueta (1); ei sopimusta, joka kattaisi tämän työn sinä päivänä "
        "(2). Lisäksi 3 palveluntuottajaa jätettiin huomiotta: ne eivät tee tällaista työtä "
        "eivätkä toimi tällä alueella. "
        "Sille oli tehty 3 tarjousta viimeisen 30 päivän aikana (mitä vähemmän, sitä pikemmin "
        "seuraava). "
        "Asukkaat arvioivat sen työn keskimäärin 4,5 tähden arvoiseksi. "
        "Se on 1,8 km:n päässä työstä."
    )


def test_one_of_each_is_said_in_the_singular():
    one = {
        **AMONG_OTHERS,
        "excluded": {"capacity": 1},
        "unrelated": 1,
        "recent_offers": 1,
        "window_hours": 24.0,
        "rating": 1.0,
    }
    english, finnish = words("en", one), words("fi", one)

    assert "1 other provider was not eligible: no free capacity (1)." in english
    assert "1 more was not considered: it neither does this kind of work" in english
    assert "It had 1 offer in the last day" in english
    assert "Residents rate its work 1 star on average." in english
    assert "1 muu palveluntuottaja jäi pois ehtojen vuoksi: ei vapaata kapasiteettia (1)." in (
        finnish
    )
    assert "Lisäksi 1 palveluntuottaja jätettiin huomiotta: se ei tee" in finnish
    assert "Sille oli tehty 1 tarjous viimeisen päivän aikana" in finnish


def test_the_preferred_provider_of_a_recurring_request():
    preferred = {**ALONE, "preferred": True}

    assert "The resident's recurring request prefers this provider." in words("en", preferred)
    assert "Asukkaan toistuva pyyntö suosii tätä palveluntuottajaa." in words("fi", preferred)
    assert "prefers" not in words("en", ALONE)


@pytest.mark.parametrize(
    ("hours", "english", "finnish"),
    [
        (720.0, "in the last 30 days", "viimeisen 30 päivän aikana"),
        (48.0, "in the last 2 days", "viimeisen 2 päivän aikana"),
        (12.0, "in the last 12 hours", "viimeisen 12 tunnin aikana"),
        (1.0, "in the last hour", "viimeisen tunnin aikana"),
        (0.5, "in the last 30 minutes", "viimeisen 30 minuutin aikana"),
    ],
)
def test_the_fairness_window_in_days_hours_or_minutes(hours, english, finnish):
    facts = {**ALONE, "window_hours": hours}
    assert english in words("en", facts) and finnish in words("fi", facts)


def test_a_provider_ranked_below_the_first():
    second = {**AMONG_OTHERS, "rank": 2}
    assert words("en", second).startswith(
        "Offered to Laune Talkoot ry, number 2 of 2 eligible providers."
    )
    assert words("fi", second).startswith(
        "Tarjottu palveluntuottajalle Laune Talkoot ry, joka oli järjestyksessä 2. (sopivia oli 2)."
    )


def test_every_rule_matching_has_its_words_and_an_unknown_one_shows_its_code():
    assert set(RULES) == {rule.value for rule in Rule}
    later = {**ALONE, "excluded": {"some-later-rule": 2}}
    assert "not eligible: some-later-rule (2)." in words("en", later)


def test_without_facts_there_are_no_words():
    assert words("fi", None) == "" and words("en", {}) == ""


def render_why(lang: str, facts: dict | None, sentence: str) -> str:
    template = environment().from_string(
        '{% from "parts/why.html" import why %}{{ why(facts, sentence) }}'
    )
    with i18n.speaking(lang):
        return template.render(facts=facts, sentence=sentence).strip()


def test_the_facts_are_shown_in_the_pages_language_and_an_old_sentence_as_english():
    sentence = "Offered to Laune Talkoot ry, the only eligible provider (ranked 1 of 1 eligible)."

    assert render_why("fi", ALONE, sentence) == f'<p class="why">{words("fi", ALONE)}</p>'
    assert render_why("fi", None, sentence) == f'<p class="why" lang="en">{sentence}</p>'
    assert render_why("en", None, "") == ""


@pytest.mark.parametrize(
    ("view", "english", "finnish"),
    [
        (
            {"eligible": False, "rule": "region"},
            "not eligible: not working in this area",
            "ei sopinut: ",
        ),
        (
            {"eligible": True, "rank": 2, "recent_offers": 1, "rating": 4.5, "distance_km": 2.25},
            "number 2 of the eligible; 1 recent offer; rated 4.5 stars; 2.2 km away",
            "sijalla 2 sopivista; 1 tarjous viime aikoina; arvio keskimäärin 4,5 tähteä; 2,2 km",
        ),
        (
            {"eligible": True, "rank": 1, "preferred": True, "recent_offers": 0},
            "number 1 of the eligible; preferred by the resident's recurring request; "
            "0 recent offers; not rated yet; distance not known",
            "sijalla 1 sopivista; asukkaan toistuva pyyntö suosii sitä; 0 tarjousta",
        ),
    ],
)
def test_each_provider_considered_is_said_in_a_line_in_either_language(view, english, finnish):
    with i18n.speaking("en"):
        assert candidate(view) == english
    with i18n.speaking("fi"):
        assert candidate(view).startswith(finnish)


# --- freedom of choice: what became of the provider the resident chose ----------------------

NOT_ALLOWED = {"choice": "not_allowed", "chosen_name": "Kärkölän Kyläpalvelu"}


@pytest.mark.parametrize(
    ("facts", "english", "finnish"),
    [
        (
            {"chosen": True, "choice": "offered", "chosen_name": "Laune Talkoot ry"},
            "The resident chose this provider under their service voucher, so it was offered "
            "the job first.",
            "Asukas valitsi tämän palveluntuottajan palvelusetelillään, joten työ tarjottiin "
            "sille ensimmäisenä.",
        ),
        (
            {"choice": "declined", "chosen_name": "Kärkölän Kyläpalvelu"},
            "Kärkölän Kyläpalvelu, whom the resident chose, declined, so matching's own fair "
            "ranking decided.",
            "Asukkaan valitsema Kärkölän Kyläpalvelu kieltäytyi, joten työ tarjottiin "
            "tavallisen tasapuolisen järjestyksen mukaan.",
        ),
        (
            {"choice": "lapsed", "chosen_name": "Kärkölän Kyläpalvelu"},
            "Kärkölän Kyläpalvelu, whom the resident chose, let the offer lapse, so matching's "
            "own fair ranking decided.",
            "Asukkaan valitsema Kärkölän Kyläpalvelu ei vastannut tarjoukseen ajoissa, joten "
            "työ tarjottiin tavallisen tasapuolisen järjestyksen mukaan.",
        ),
        (
            {**NOT_ALLOWED, "choice_rule": "voucher"},
            "The resident's choice of Kärkölän Kyläpalvelu was ignored (no service voucher "
            "contract covers this work), so matching's own fair ranking decided.",
            "Asukkaan valintaa (Kärkölän Kyläpalvelu) ei voitu noudattaa (mikään "
            "palvelusetelisopimus ei kata tätä työtä), joten työ tarjottiin tavallisen "
            "tasapuolisen järjestyksen mukaan.",
        ),
        (
            {**NOT_ALLOWED, "choice_rule": "capacity"},
            "The resident's choice of Kärkölän Kyläpalvelu was ignored (no free capacity), so "
            "matching's own fair ranking decided.",
            "Asukkaan valintaa (Kärkölän Kyläpalvelu) ei voitu noudattaa (ei vapaata "
            "kapasiteettia), joten työ tarjottiin tavallisen tasapuolisen järjestyksen mukaan.",
        ),
    ],
    ids=["offered", "declined", "lapsed", "no voucher", "not eligible"],
)
def test_the_residents_choice_is_worded_after_who_was_left_out(facts, english, finnish):
    for lang, sentence in (("en", english), ("fi", finnish)):
        said = words(lang, {**ALONE, **facts})
        assert sentence in said
        # after the offer's first sentence, before the figures it was ranked by
        first = words(lang, ALONE).split(". ")[0]
        assert said.startswith(first + ". " + sentence)


def test_an_offer_without_a_choice_says_nothing_of_one():
    assert "chose" not in words("en", ALONE)
    assert "valit" not in words("fi", ALONE)


def test_the_chosen_candidate_is_marked_in_both_languages():
    view = {"eligible": True, "rank": 1, "chosen": True, "recent_offers": 0}
    with i18n.speaking("en"):
        assert "chosen by the resident under a service voucher" in candidate(view)
    with i18n.speaking("fi"):
        assert "asukkaan palvelusetelillä valitsema" in candidate(view)
