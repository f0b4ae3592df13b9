"""A participatory budgeting round through the web front's pages, on the running stack: the
coordinator opens it, reviews its proposals and moves it on; residents of the table's regions
propose, support and vote with the running total of their ballot, change it, and have an
invalid one refused beside its field with nothing stored; the coordinator enters a paper
ballot and tallies; an officer sees the recount match. A resident of another region, and the
wrong roles, are refused."""

from __future__ import annotations

import html
import re

import pytest

from deploy.demo import Person, write_tokens
from deploy.stack import DEMO_PEOPLE
from domain.calendar import local_today
from services.web import i18n
from tests.client import Talkoot
from tests.integration.tables import OTHER_REGION, REGION, found, read, resident
from tests.integration.test_web_officer import error_beside
from tests.web import text_of

pytestmark = pytest.mark.slow


def money(cents: int, lang: str) -> str:
    with i18n.speaking(lang):
        return i18n.money(cents)


def signed_in(web, role: str, subject: str, lang: str = "en", **more):
    """A browser signed in through the demo sign-in as ``subject`` (a resident with their
    ``region``, a coordinator with ``acts_for`` their table)."""
    if subject not in web.people:
        web.people[subject] = Person(role, subject, about=f"test {role}", **more)
        write_tokens(web.stack.data_dir / DEMO_PEOPLE, list(web.people.values()), web.stack.token)
    client = web.browser(lang)
    page = client.post("/signin/demo", {"subject": subject})
    assert page.history and "talkoot_session" in client.http.cookies, page.text
    return client


def round_of(talkoot: Talkoot, round_id: str, who: str | None = None) -> dict:
    return read(talkoot, f"/rounds/{round_id}", who)


def ballot_of(talkoot: Talkoot, round_id: str, who: str) -> list[str]:
    return read(talkoot, f"/rounds/{round_id}/ballot", who)["proposals"]


def opened(web, talkoot: Talkoot) -> tuple[str, str, object]:
    """A table of REGION, its coordinator's browser, and a round opened on their page:
    5 000 € to spend, a ballot picks one or two proposals."""
    table_id = found(talkoot, yearly_budget_cents=2_000_000)
    coordinator = signed_in(web, "coordinator", f"coordinator-of-{table_id}", acts_for=table_id)
    page = coordinator.post(
        "/coordinator/rounds",
        {
            "title": "Lähiraha",
            "year": str(local_today().year),
            "budget": "5000",
            "rule": "between",
            "minimum": "1",
            "maximum": "2",
        },
    )
    assert page.status_code == 200, page.text
    round_id = re.search(r"/rounds/([0-9a-f-]{36})$", str(page.url)).group(1)
    return table_id, round_id, coordinator


def test_a_whole_round_through_the_pages_from_proposals_to_the_recount(web, talkoot: Talkoot):
    table_id, round_id, coordinator = opened(web, talkoot)
    assert "Pick between 1 and 2 proposals." in text_of(coordinator.get(f"/rounds/{round_id}").text)
    # a share without its per cent is refused beside that field, and opens nothing
    refused = coordinator.post(
        "/coordinator/rounds",
        {"title": "Toinen", "year": str(local_today().year), "budget": "100", "rule": "share"},
    )
    assert refused.status_code == 422, refused.text
    assert error_beside(refused.text, "f-threshold_percent")
    assert len(read(talkoot, f"/tables/{table_id}/rounds")) == 1

    aino = signed_in(web, "resident", f"aino-{table_id}", region=REGION)
    eero = signed_in(web, "resident", f"eero-{table_id}", region=REGION)
    for who, title, cost in [(aino, "Leikkipuisto", "3000"), (eero, "Penkit", "1500")]:
        page = who.post(f"/rounds/{round_id}/proposals", {"title": title, "cost": cost})
        assert page.status_code == 200 and "Your proposal is in the round." in page.text
    page = coordinator.post(f"/rounds/{round_id}/proposals", {"title": "Katos", "cost": "2500"})
    assert page.status_code == 200, page.text
    made = {p["title"]: p["proposal_id"] for p in round_of(talkoot, round_id)["proposals"]}
    assert set(made) == {"Leikkipuisto", "Penkit", "Katos"}
    # a cost past the budget is refused beside the cost
    costly = aino.post(f"/rounds/{round_id}/proposals", {"title": "Halli", "cost": "5000,01"})
    assert costly.status_code == 422 and error_beside(costly.text, "f-cost")
    assert len(round_of(talkoot, round_id)["proposals"]) == 3

    assert coordinator.post(f"/rounds/{round_id}/phase", {"phase": "reviewing"}).status_code == 200
    # not feasible needs its reason, beside the reason of that proposal's form
    katos = made["Katos"]
    unreasoned = coordinator.post(f"/rounds/{round_id}/review/{katos}", {"feasible": "no"})
    assert unreasoned.status_code == 422, unreasoned.text
    assert error_beside(unreasoned.text, f"f-r-{katos}-reason")
    assert round_of(talkoot, round_id)["proposals"][2]["feasible"] is None
    for title, proposal_id in made.items():
        page = coordinator.post(
            f"/rounds/{round_id}/review/{proposal_id}", {"feasible": "yes", "reason": ""}
        )
        assert page.status_code == 200, (title, page.text)
    for to in ("selecting", "publishing_costs", "balloting"):
        page = coordinator.post(f"/rounds/{round_id}/phase", {"phase": to})
        assert page.status_code == 200 and "The round moved on." in page.text, page.text
        if to == "selecting":  # a resident supports a proposal for the ballot, once
            penkit = f"/rounds/{round_id}/selection/{made['Penkit']}"
            assert "You support the proposal." in aino.post(penkit, {}).text
            again = aino.post(penkit, {})
            assert again.status_code == 409, again.text
            supports = {p["title"]: p["supports"] for p in round_of(talkoot, round_id)["proposals"]}
            assert supports == {"Leikkipuisto": 0, "Penkit": 1, "Katos": 0}

    aino_token = resident(talkoot, f"aino-{table_id}")
    everything = {"proposals": list(made.values())}
    # counting: the total of the three, 7 000 € of 5 000 €, and what the ballot needs
    counted = aino.post(f"/rounds/{round_id}/ballot", {**everything, "action": "check"})
    words = text_of(counted.text)
    assert f"Your ballot: {money(700_000, 'en')} of {money(500_000, 'en')}" in words
    assert f"That costs {money(200_000, 'en')} more than the budget" in words
    assert ballot_of(talkoot, round_id, aino_token) == []
    # casting it: refused beside the proposals, nothing stored
    cast = aino.post(f"/rounds/{round_id}/ballot", {**everything, "action": "cast"})
    assert cast.status_code == 422, cast.text
    assert "more than the budget" in error_beside(cast.text, "f-proposals")
    assert ballot_of(talkoot, round_id, aino_token) == []
    # the live total (what htmx asks as the resident ticks)
    live = aino.post(f"/rounds/{round_id}/ballot/total", {"proposals": [made["Penkit"]]})
    assert 'data-valid="yes"' in live.text and money(150_000, "en") in live.text
    assert "<html" not in live.text

    page = aino.post(
        f"/rounds/{round_id}/ballot", {"proposals": [made["Leikkipuisto"]], "action": "cast"}
    )
    assert page.status_code == 200 and "Your ballot is cast." in page.text
    assert ballot_of(talkoot, round_id, aino_token) == [made["Leikkipuisto"]]
    changed = [made["Leikkipuisto"], made["Penkit"]]
    page = aino.post(f"/rounds/{round_id}/ballot", {"proposals": changed, "action": "cast"})
    assert page.status_code == 200, page.text
    assert ballot_of(talkoot, round_id, aino_token) == changed
    shown = text_of(page.text)
    assert "Your ballot as cast: Leikkipuisto Penkit" in shown
    assert f"It spends {money(450_000, 'en')}." in shown
    eero.post(f"/rounds/{round_id}/ballot", {"proposals": [made["Katos"]], "action": "cast"})

    paper = coordinator.post(
        f"/rounds/{round_id}/paper-ballots",
        {"voter": f"paper-voter-{table_id}", "proposals": [made["Leikkipuisto"]]},
    )
    assert paper.status_code == 200 and "The paper ballot is entered." in paper.text
    assert round_of(talkoot, round_id)["ballots"] == 3

    tallied = coordinator.post(f"/rounds/{round_id}/tally", {})
    assert tallied.status_code == 200 and "The round is tallied." in tallied.text
    result = round_of(talkoot, round_id)["result"]
    assert result["funded"][0] == made["Leikkipuisto"]
    public = web.browser("en").get(f"/rounds/{round_id}")
    words = text_of(public.text)
    assert "The result" in words and "3 ballots." in words
    assert re.search(r"Leikkipuisto 2 .*? funded", words)
    assert f"{money(result['left_cents'], 'en')} of the budget goes back" in words

    officer = signed_in(web, "officer", f"officer-of-{table_id}", acts_for="lahti-city")
    recount = officer.get(f"/rounds/{round_id}/recount")
    assert recount.status_code == 200 and 'data-matches="yes"' in recount.text
    assert "The recount matches the published result." in recount.text
    assert aino.get(f"/rounds/{round_id}/recount").status_code == 403

    finnish = web.browser("fi").get(f"/rounds/{round_id}")
    assert "Tulos" in finnish.text and money(result["funded_cents"], "fi") in finnish.text


def test_another_regions_resident_and_the_wrong_roles_are_refused(web, talkoot: Talkoot):
    table_id, round_id, _ = opened(web, talkoot)
    far = signed_in(web, "resident", f"far-{table_id}", region=OTHER_REGION)
    page = far.get(f"/rounds/{round_id}")
    assert "you live in another area" in text_of(page.text)
    assert "Make a proposal" not in page.text
    refused = far.post(f"/rounds/{round_id}/proposals", {"title": "Silta", "cost": "10"})
    assert refused.status_code == 403, refused.text
    assert "at the table of their own region" in html.unescape(refused.text)
    assert round_of(talkoot, round_id)["proposals"] == []
    # a coordinator of another table: not their round (the service says 404)
    other = found(talkoot)
    stranger = signed_in(web, "coordinator", f"coordinator-of-{other}", acts_for=other)
    moved = stranger.post(f"/rounds/{round_id}/phase", {"phase": "reviewing"})
    assert moved.status_code == 404
    assert round_of(talkoot, round_id)["phase"] == "accepting"
    # a resident is no coordinator; nobody signed in is sent to sign in
    assert far.post(f"/rounds/{round_id}/tally", {}).status_code == 403
    anonymous = web.browser("en")
    assert "/signin" in str(anonymous.post(f"/rounds/{round_id}/phase", {}).url)
    # the public page and the table's list show the round to anybody
    assert "Lähiraha" in anonymous.get("/rounds", table=table_id).text
    assert "Sign in as a resident of the area" in anonymous.get(f"/rounds/{round_id}").text
