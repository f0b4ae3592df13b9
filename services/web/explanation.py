"""Why matching offered a job to a provider, in the page's language: the decision's facts (an
offer's ``explanation``, as matching and the request's history give them) worded here once,
for the provider's inbox, the officer's decision and the resident's request."""

from __future__ import annotations

from typing import Any

from services.web import i18n
from services.web.forms import N_

# What each rule that excluded a provider means, in the order matching checks them.
RULES: dict[str, str] = {
    "declined": N_("declined this request before, or let an offer for it lapse"),
    "category": N_("not doing this kind of work"),
    "region": N_("not working in this area"),
    "suspended": N_("suspended by a municipal partner"),
    "paused": N_("paused on the day of the job"),
    "capacity": N_("no free capacity"),
    "contract": N_("no contract covering this work on that day"),
    "budget": N_("too little budget left under their contracts"),
}

# Why the resident's choice of provider could not stand, beyond the rules above.
CHOICE_RULES: dict[str, str] = {
    "voucher": N_("no service voucher contract covers this work"),
    "unknown": N_("not a registered provider"),
}


def choice_words(facts: dict[str, Any]) -> str:
    """What became of the resident's choice of provider under a service voucher, in a
    sentence; "" when the resident chose nobody (or the offer predates the choice)."""
    choice = facts.get("choice") or ""
    name = facts.get("chosen_name") or ""
    if choice == "offered":
        return i18n.gettext(
            "The resident chose this provider under their service voucher, so it was offered "
            "the job first."
        )
    if choice == "declined":
        return i18n.gettext(
            "%(name)s, whom the resident chose, declined, so matching's own fair ranking decided."
        ) % {"name": name}
    if choice == "lapsed":
        return i18n.gettext(
            "%(name)s, whom the resident chose, let the offer lapse, so matching's own fair "
            "ranking decided."
        ) % {"name": name}
    if choice == "not_allowed":
        rule = facts.get("choice_rule") or ""
        known = CHOICE_RULES.get(rule) or RULES.get(rule)
        why = i18n.gettext(known) if known else rule
        return i18n.gettext(
            "The resident's choice of %(name)s was ignored (%(why)s), so matching's own fair "
            "ranking decided."
        ) % {"name": name, "why": why}
    return ""


def window_words(hours: float) -> str:
    """The fairness window, as "the last 30 days" (or hours, or minutes) go in a sentence."""
    if hours >= 24 and hours % 24 == 0:
        days = int(hours // 24)
        return i18n.ngettext("the last day", "the last %(num)s days", days) % {"num": days}
    if hours >= 1 and hours == int(hours):
        whole = int(hours)
        return i18n.ngettext("the last hour", "the last %(num)s hours", whole) % {"num": whole}
    minutes = max(1, round(hours * 60))
    return i18n.ngettext("the last minute", "the last %(num)s minutes", minutes) % {"num": minutes}


def _stars(value: float) -> tuple[str, int]:
    """A rating as the language writes it, and the count that picks its plural."""
    return i18n.number(value, 1), 1 if value == 1 else 2


def sentences(facts: dict[str, Any]) -> list[str]:
    """The decision's facts, a sentence each: who it was offered to and where it ranked, who
    was left out and why, then the figures it was ranked by."""
    name = facts.get("provider_name") or ""
    eligible = int(facts.get("eligible") or 1)
    rank = int(facts.get("rank") or 1)
    said = []
    if eligible == 1:
        said.append(
            i18n.gettext("Offered to %(name)s, the only eligible provider.") % {"name": name}
        )
    elif rank == 1:
        said.append(
            i18n.ngettext(
                "Offered to %(name)s, the first of %(num)s eligible provider.",
                "Offered to %(name)s, the first of %(num)s eligible providers.",
                eligible,
            )
            % {"name": name, "num": eligible}
        )
    else:
        said.append(
            i18n.ngettext(
                "Offered to %(name)s, number %(rank)s of %(num)s eligible provider.",
                "Offered to %(name)s, number %(rank)s of %(num)s eligible providers.",
                eligible,
            )
            % {"name": name, "rank": rank, "num": eligible}
        )
    excluded = {rule: int(n) for rule, n in (facts.get("excluded") or {}).items() if n}
    if excluded:
        total = sum(excluded.values())
        rules = "; ".join(
            f"{i18n.gettext(RULES[rule]) if rule in RULES else rule} ({n})"
            for rule, n in excluded.items()
        )
        said.append(
            i18n.ngettext(
                "%(num)s other provider was not eligible: %(rules)s.",
                "%(num)s other providers were not eligible: %(rules)s.",
                total,
            )
            % {"num": total, "rules": rules}
        )
    unrelated = int(facts.get("unrelated") or 0)
    if unrelated:
        said.append(
            i18n.ngettext(
                "%(num)s more was not considered: it neither does this kind of work nor "
                "works in this area.",
                "%(num)s more were not considered: they neither do this kind of work nor "
                "work in this area.",
                unrelated,
            )
            % {"num": unrelated}
        )
    chose = choice_words(facts)
    if chose:
        said.append(chose)
    if facts.get("preferred"):
        said.append(i18n.gettext("The resident's recurring request prefers this provider."))
    offers = int(facts.get("recent_offers") or 0)
    window = window_words(float(facts.get("window_hours") or 0))
    if offers:
        said.append(
            i18n.ngettext(
                "It had %(num)s offer in %(window)s (the fewer, the sooner the next).",
                "It had %(num)s offers in %(window)s (the fewer, the sooner the next).",
                offers,
            )
            % {"num": offers, "window": window}
        )
    else:
        said.append(i18n.gettext("It had no offers in %(window)s.") % {"window": window})
    rating = facts.get("rating")
    if rating is None:
        stars, n = _stars(float(facts.get("neutral_rating") or 3))
        said.append(
            i18n.ngettext(
                "It is not rated yet, so it counts as %(stars)s star.",
                "It is not rated yet, so it counts as %(stars)s stars.",
                n,
            )
            % {"stars": stars}
        )
    else:
        stars, n = _stars(float(rating))
        said.append(
            i18n.ngettext(
                "Residents rate its work %(stars)s star on average.",
                "Residents rate its work %(stars)s stars on average.",
                n,
            )
            % {"stars": stars}
        )
    distance = facts.get("distance_km")
    if distance is None:
        said.append(i18n.gettext("Its distance from the job is not known."))
    else:
        said.append(
            i18n.gettext("It is %(km)s km from the job.") % {"km": i18n.number(distance, 1)}
        )
    return said


def explain(facts: dict[str, Any] | None) -> str:
    """The decision in the page's language, or "" when its facts are not there (an offer
    recorded before they travelled: its English sentence is all there is)."""
    if not facts:
        return ""
    return " ".join(sentences(facts))


def candidate(view: dict[str, Any]) -> str:
    """One provider a decision considered (a candidate of ``GET /jobs/{id}``), in a line: the
    rule that left it out, or its place and the figures it was ranked by."""
    if not view.get("eligible"):
        rule = view.get("rule") or ""
        return i18n.gettext("not eligible: %(why)s") % {
            "why": i18n.gettext(RULES[rule]) if rule in RULES else rule
        }
    said = [i18n.gettext("number %(rank)s of the eligible") % {"rank": view.get("rank") or 1}]
    if view.get("chosen"):
        said.append(i18n.gettext("chosen by the resident under a service voucher"))
    if view.get("preferred"):
        said.append(i18n.gettext("preferred by the resident's recurring request"))
    offers = int(view.get("recent_offers") or 0)
    said.append(
        i18n.ngettext("%(num)s recent offer", "%(num)s recent offers", offers) % {"num": offers}
    )
    if view.get("rating") is None:
        said.append(i18n.gettext("not rated yet"))
    else:
        stars, n = _stars(float(view["rating"]))
        said.append(
            i18n.ngettext("rated %(stars)s star", "rated %(stars)s stars", n) % {"stars": stars}
        )
    if view.get("distance_km") is None:
        said.append(i18n.gettext("distance not known"))
    else:
        said.append(i18n.gettext("%(km)s km away") % {"km": i18n.number(view["distance_km"], 1)})
    return "; ".join(said)
