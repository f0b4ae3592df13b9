"""The provider member's pages of the web front, on the running stack: the inbox of open
offers with why each came, taking and declining an offer, reporting the hours of a job, the
members and pauses; and what each page refuses."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.calendar import local_today
from services.platform.catalogue import load_catalogue
from tests.client import Talkoot, eventually
from tests.web import text_of

pytestmark = pytest.mark.slow


@pytest.fixture
def offered(talkoot: Talkoot, scope) -> dict:
    """A provider with a contract, and a request of the scope offered to it."""
    provider_id, _ = talkoot.ready_provider(*scope)
    request_id = talkoot.submit(*scope)["id"]
    entry = talkoot.wait_for_status(request_id, "offered")
    assert entry["provider_id"] == provider_id
    # the inbox is a read model of its own: wait until it has the offer too
    eventually(
        lambda: talkoot.get(
            "matching", "/offers/", who=talkoot.member(provider_id), status="open"
        ).json(),
        lambda inbox: any(o["offer_id"] == entry["offer_id"] for o in inbox),
        20,
        "the provider's inbox to show the offer",
    )
    return {
        "provider_id": provider_id,
        "request_id": request_id,
        "offer_id": entry["offer_id"],
        "category": load_catalogue().categories[scope[0]].name,
        "category_fi": load_catalogue().categories[scope[0]].name_fi,
    }


def member_of(web, provider_id: str):
    return web.signed_in("provider", f"web-member-of-{provider_id}", acts_for=provider_id)


def test_the_inbox_shows_the_offer_with_why_and_taking_it_assigns_the_job(
    web, talkoot: Talkoot, offered
):
    member = member_of(web, offered["provider_id"])

    page = member.get("/provider/offers")
    assert page.status_code == 200, page.text
    assert f'data-offer-id="{offered["offer_id"]}"' in page.text
    words = text_of(page.text)
    assert offered["category"] in words
    assert "Offered to Testiosuuskunta, the only eligible provider." in words
    assert "It is not rated yet, so it counts as 3 stars." in words
    assert "left to answer" in words
    assert 'hx-get="/provider/offers/list"' in page.text
    fragment = member.get("/provider/offers/list")
    assert fragment.status_code == 200
    assert f'data-offer-id="{offered["offer_id"]}"' in fragment.text
    assert "<h1>" not in fragment.text

    in_finnish = web.signed_in(
        "provider", f"web-member-of-{offered['provider_id']}", offered["provider_id"], lang="fi"
    )
    page = in_finnish.get("/provider/offers")
    words = text_of(page.text)
    # why it came, worded in Finnish from matching's facts, not matching's English sentence
    assert "Tarjottu palveluntuottajalle Testiosuuskunta, joka oli ainoa sopiva." in words
    assert "Sitä ei ole vielä arvioitu, joten se lasketaan 3 tähden arvoiseksi." in words
    assert "the only eligible provider" not in words and 'class="why" lang="en"' not in page.text
    assert offered["category_fi"] and offered["category_fi"] in words  # the catalogue's name
    assert "Vastausaikaa on jäljellä" in words

    taken = member.post(f"/provider/offers/{offered['offer_id']}/accept", {})

    assert taken.status_code == 200, taken.text
    assert taken.url.path == "/provider/jobs"
    assert "You took the job" in text_of(taken.text)
    entry = talkoot.wait_for_status(offered["request_id"], "assigned")
    assert entry["provider_id"] == offered["provider_id"]
    # matching's inbox is a read model of its own: the page polls it, and the offer leaves it
    eventually(
        lambda: member.get("/provider/offers/list").text,
        lambda text: offered["offer_id"] not in text,
        10,
        "the taken offer to leave the inbox",
    )


def test_reporting_the_hours_of_a_job_through_the_page(web, talkoot: Talkoot, offered):
    member = member_of(web, offered["provider_id"])
    talkoot.ok(talkoot.accept(offered["offer_id"], offered["provider_id"]))
    talkoot.wait_for_status(offered["request_id"], "assigned")
    path = f"/provider/jobs/{offered['request_id']}/hours"

    jobs = member.get("/provider/jobs")
    assert jobs.status_code == 200
    assert "Report the hours" in text_of(jobs.text)
    assert f'action="{path}"' in jobs.text

    # not in quarter hours: the service refuses, the message stands beside the field
    wrong = member.post(path, {"hours": "2.3"})
    assert wrong.status_code == 400, wrong.text
    assert f'id="f-{offered["request_id"]}-hours-error"' in wrong.text
    assert 'value="2.3"' in wrong.text
    for typed in ("two", "nan", ""):  # no number: the service names the field all the same
        wrong = member.post(path, {"hours": typed})
        assert wrong.status_code == 400, (typed, wrong.text)
        assert f'id="f-{offered["request_id"]}-hours-error"' in wrong.text
    assert talkoot.board_entry(offered["request_id"])["status"] == "assigned"

    done = member.post(path, {"hours": "2,5"})

    assert done.status_code == 200, done.text
    assert "The hours are reported" in text_of(done.text)
    entry = talkoot.wait_for_status(offered["request_id"], "completed")
    assert entry["minutes"] == 150


def test_a_decline_without_a_reason_is_refused_beside_the_field(web, talkoot: Talkoot, offered):
    member = member_of(web, offered["provider_id"])
    path = f"/provider/offers/{offered['offer_id']}/decline"
    error_id = f"f-{offered['offer_id']}-reason-error"

    # matching refuses it (the page has no rule of its own); its words stand by the field
    page = member.post(path, {"reason": "  "})

    assert page.status_code == 400, page.text
    assert f'id="{error_id}"' in page.text
    assert f'aria-describedby="f-{offered["offer_id"]}-reason-hint {error_id}"' in page.text
    assert "reason must say something" in text_of(page.text)

    # too long: refused by the field too, and what was typed is still in it
    typed = "Sahamme on rikki. " * 60
    page = member.post(path, {"reason": typed})

    assert page.status_code == 400, page.text
    assert f'id="{error_id}"' in page.text and "length" in text_of(page.text)
    assert f'value="{typed}"' in page.text

    in_finnish = web.signed_in(
        "provider", f"web-member-of-{offered['provider_id']}", offered["provider_id"], lang="fi"
    )
    page = in_finnish.post(path, {"reason": ""})

    assert page.status_code == 400, page.text
    assert f'id="{error_id}"' in page.text
    assert "syy yhdellä lauseella" in text_of(page.text)  # the field's sentence in Finnish
    offer = talkoot.ok(talkoot.get("matching", f"/offers/{offered['offer_id']}"), 200)
    assert (offer["status"], offer["answer"]) == ("open", "")
    assert talkoot.board_entry(offered["request_id"])["status"] == "offered"

    declined = member.post(path, {"reason": "Our saw is broken"})

    assert declined.status_code == 200, declined.text
    assert "You declined the offer." in text_of(declined.text)
    # the page it lands on waited for the inbox to take the answer in
    assert declined.url.path == "/provider/offers" and "position=" in str(declined.url)
    assert f'data-offer-id="{offered["offer_id"]}"' not in declined.text
    offer = talkoot.ok(talkoot.get("matching", f"/offers/{offered['offer_id']}"), 200)
    assert (offer["status"], offer["answer"]) == ("declined", "Our saw is broken")


def test_a_resident_may_not_open_the_provider_pages(web):
    web.person("resident", "web-resident-of-provider-test")
    resident = web.browser()
    resident.post("/signin/demo", {"subject": "web-resident-of-provider-test", "next": "/"})
    for path in ("/provider/offers", "/provider/offers/list", "/provider/jobs", "/provider/team"):
        page = resident.get(path)
        assert page.status_code == 403, path
        assert "members of a community provider" in text_of(page.text)


def test_members_and_pauses_through_the_page(web, talkoot: Talkoot, scope):
    provider_id = talkoot.register_provider(*scope)
    member = member_of(web, provider_id)

    added = member.post("/provider/team/members", {"name": "Aino Virtanen", "role": "chair"})

    assert added.status_code == 200, added.text
    assert "The member was added." in text_of(added.text)
    record = talkoot.ok(talkoot.get("providers", f"/providers/{provider_id}"), 200)
    (aino,) = [m for m in record["members"] if m["name"] == "Aino Virtanen"]
    assert "Aino Virtanen" in text_of(added.text)

    # a pause that ends before it starts: refused beside its field, nothing stored
    starts = local_today() + timedelta(days=3)
    bad = {"starts": starts.isoformat(), "ends": (starts - timedelta(days=1)).isoformat()}
    refused = member.post("/provider/team/pauses", {**bad, "reason": "Holiday"})
    assert refused.status_code in (400, 422), refused.text
    assert 'id="f-ends-error"' in refused.text
    assert 'value="Holiday"' in refused.text
    record = talkoot.ok(talkoot.get("providers", f"/providers/{provider_id}"), 200)
    assert record["pauses"] == []

    body = {"starts": starts.isoformat(), "ends": "", "reason": "Holiday"}
    paused = member.post("/provider/team/pauses", body)
    assert paused.status_code == 200, paused.text
    record = talkoot.ok(talkoot.get("providers", f"/providers/{provider_id}"), 200)
    (pause,) = record["pauses"]
    assert (pause["state"], pause["ends"]) == ("upcoming", None)

    ended = member.post(f"/provider/team/pauses/{pause['pause_id']}/end", {})
    assert ended.status_code == 200, ended.text
    record = talkoot.ok(talkoot.get("providers", f"/providers/{provider_id}"), 200)
    assert record["pauses"][0]["state"] == "ended"

    removed = member.post(f"/provider/team/members/{aino['member_id']}/removal", {})
    assert removed.status_code == 200, removed.text
    record = talkoot.ok(talkoot.get("providers", f"/providers/{provider_id}"), 200)
    assert all(m["member_id"] != aino["member_id"] for m in record["members"])
