"""The partnership tables' pages of the web front, on the running stack: a coordinator records a
meeting with its attendance and the initiative residents put on its agenda, pays the meeting
fees and downloads the payout's CSV; a resident supports and raises initiatives at their own
table; an officer answers a forwarded one; and what each page refuses, and to whom, with the
services' state checked afterwards as well as the page."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta

import pytest

from deploy.demo import Person, write_tokens
from deploy.stack import DEMO_PEOPLE
from domain.calendar import local_today
from tests.client import Talkoot
from tests.integration.tables import (
    OTHER_REGION,
    REGION,
    command,
    coordinator,
    days_ago,
    found,
    hold,
    initiative,
    join,
    meeting,
    read,
    resident,
)
from tests.web import text_of

pytestmark = pytest.mark.slow


def coordinator_page(web, table_id: str, lang: str = "en"):
    return web.signed_in("coordinator", f"coordinator-of-{table_id}", acts_for=table_id, lang=lang)


def resident_page(web, subject: str, region: str = REGION, lang: str = "en"):
    """A client signed in as a resident living in ``region``."""
    if subject not in web.people:
        web.people[subject] = Person("resident", subject, about="test resident", region=region)
        write_tokens(web.stack.data_dir / DEMO_PEOPLE, list(web.people.values()), web.stack.token)
    client = web.browser(lang)
    page = client.post("/signin/demo", {"subject": subject})
    assert page.history and "talkoot_session" in client.http.cookies, page.text
    return client


def error_beside(page: str, field_id: str) -> str:
    found_ = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>', page, re.S)
    assert found_, f"no error beside {field_id}"
    return html.unescape(text_of(found_.group(1)))


def due_initiative(talkoot: Talkoot, table_id: str) -> str:
    """A resident's initiative, raised a week ago, that one support (the table's threshold)
    put on the agenda."""
    raised = initiative(
        talkoot, table_id, coordinator(talkoot, table_id), origin="resident", on=days_ago(7)
    )
    talkoot.ok(
        command(talkoot, f"/initiatives/{raised}/support", {}, resident(talkoot, f"s-{table_id}"))
    )
    return raised


def test_a_coordinator_records_a_meeting_pays_the_fees_and_downloads_the_csv(web, talkoot: Talkoot):
    table_id = found(talkoot, support_threshold=1)
    join(talkoot, table_id, "aino", on=days_ago(60))
    join(talkoot, table_id, "eero", on=days_ago(60))
    join(talkoot, table_id, "kaisa", on=days_ago(1))  # after the meeting: not on its list
    meeting_id = meeting(talkoot, table_id, days_ago(2))
    due = due_initiative(talkoot, table_id)
    browser = coordinator_page(web, table_id)

    form = browser.get(f"/tables/{table_id}/meetings/{meeting_id}")
    assert form.status_code == 200, form.text
    assert 'value="aino"' in form.text and 'value="eero"' in form.text
    assert 'value="kaisa"' not in form.text
    assert re.search(rf'value="{due}" checked', form.text)
    assert "required: residents put it on the agenda" in text_of(form.text)

    # without the initiative on the agenda: refused beside it, nothing stored
    refused = browser.post(
        f"/tables/{table_id}/meetings/{meeting_id}",
        {"attendees": ["aino"], "decisions": "Valaistus ensin"},
    )
    assert refused.status_code == 409, refused.text
    assert error_beside(refused.text, "f-discussed")
    assert 'value="aino" checked' in refused.text  # what was ticked is kept
    table = read(talkoot, f"/tables/{table_id}", coordinator(talkoot, table_id))
    assert not next(m for m in table["meetings"] if m["meeting_id"] == meeting_id)["held"]

    done = browser.post(
        f"/tables/{table_id}/meetings/{meeting_id}",
        {
            "attendees": ["aino", "eero"],
            "decisions": "Valaistus ensin\n\nUimaranta syksyllä\n",
            "discussed": [due],
        },
    )
    assert done.status_code == 200, done.text
    assert done.url.path == f"/tables/{table_id}/meetings"
    assert "The meeting is recorded." in text_of(done.text)
    table = read(talkoot, f"/tables/{table_id}", coordinator(talkoot, table_id))
    held = next(m for m in table["meetings"] if m["meeting_id"] == meeting_id)
    assert held["held"] and sorted(held["attendees"]) == ["aino", "eero"]
    assert held["decisions"] == ["Valaistus ensin", "Uimaranta syksyllä"]
    assert held["discussed"] == [due]
    assert read(talkoot, f"/initiatives/{due}")["status"] == "discussed"

    fees = browser.get(f"/tables/{table_id}/fees")
    assert fees.status_code == 200, fees.text
    words = text_of(fees.text)
    assert "Jäsen aino 1 €120.00" in words and "Total €240.00" in words

    paid = browser.post(f"/tables/{table_id}/payouts", {"until": local_today().isoformat()})
    assert paid.status_code == 200, paid.text
    assert "The meeting fees are paid." in text_of(paid.text)
    (payout,) = read(talkoot, f"/tables/{table_id}/payouts", coordinator(talkoot, table_id))
    assert payout["total_cents"] == 24_000
    assert "Nothing unpaid up to that day." in text_of(paid.text)

    sheet = browser.http.get(f"/tables/{table_id}/payouts/1.csv")
    assert sheet.status_code == 200
    assert sheet.headers["content-type"].startswith("text/csv")
    assert "attachment" in sheet.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(sheet.text)))
    assert [(r["member_id"], r["meetings"], r["amount_eur"]) for r in rows] == [
        ("aino", "1", "120.00"),
        ("eero", "1", "120.00"),
    ]
    assert browser.http.get(f"/tables/{table_id}/payouts/2.csv").status_code == 404

    # the same period again: refused, and still one payout
    again = browser.post(f"/tables/{table_id}/payouts", {"until": local_today().isoformat()})
    assert again.status_code == 409, again.text
    assert len(read(talkoot, f"/tables/{table_id}/payouts", coordinator(talkoot, table_id))) == 1


def test_a_resident_supports_and_raises_initiatives_at_their_own_table(web, talkoot: Talkoot):
    table_id = found(talkoot)
    theirs = initiative(talkoot, table_id, resident(talkoot, f"neighbour-{table_id}"))
    browser = resident_page(web, f"resident-at-{table_id}")

    page = browser.get(f"/tables/{table_id}")
    assert page.status_code == 200, page.text
    assert "This is your table:" in text_of(page.text)
    assert f'action="/initiatives/{theirs}/support"' in page.text

    supported = browser.post(f"/initiatives/{theirs}/support", {})
    assert supported.status_code == 200, supported.text
    assert "You support the initiative." in text_of(supported.text)
    assert read(talkoot, f"/initiatives/{theirs}")["supports"] == 1
    twice = browser.post(f"/initiatives/{theirs}/support", {})
    assert twice.status_code == 409  # supported once: the page says so instead
    assert "You support this initiative." in text_of(twice.text)
    assert read(talkoot, f"/initiatives/{theirs}")["supports"] == 1

    raised = browser.post(
        f"/tables/{table_id}/initiatives",
        {"title": "Penkkejä rantaan", "description": "Kolme penkkiä uimarannalle."},
    )
    assert raised.status_code == 200, raised.text
    assert raised.url.path.startswith("/initiatives/")
    mine = raised.url.path.rsplit("/", 1)[1]
    shown = read(talkoot, f"/initiatives/{mine}")
    assert (shown["title"], shown["origin"], shown["table_id"]) == (
        "Penkkejä rantaan",
        "resident",
        table_id,
    )

    # an empty title is said beside the field, and nothing is raised
    before = len(read(talkoot, f"/tables/{table_id}/initiatives"))
    empty = browser.post(f"/tables/{table_id}/initiatives", {"title": "  "})
    assert empty.status_code == 400, empty.text
    assert error_beside(empty.text, "f-title")
    assert len(read(talkoot, f"/tables/{table_id}/initiatives")) == before

    # a resident of another region may read the table, but not raise there
    stranger = resident_page(web, f"stranger-at-{table_id}", OTHER_REGION)
    page = stranger.get(f"/tables/{table_id}")
    assert "This is your table:" not in text_of(page.text)
    assert "Raise an initiative" not in page.text
    refused = stranger.post(f"/tables/{table_id}/initiatives", {"title": "Toisen alueen asia"})
    assert refused.status_code == 403, refused.text
    assert len(read(talkoot, f"/tables/{table_id}/initiatives")) == before

    # "Your table" goes to a table of the resident's region
    home = browser.get("/your-table")
    assert home.status_code == 200 and home.url.path.startswith("/tables/")
    assert REGION in read(talkoot, home.url.path)["regions"]


def forwarded(talkoot: Talkoot, table_id: str) -> str:
    raised = initiative(talkoot, table_id, resident(talkoot, f"r-{table_id}"))
    talkoot.ok(hold(talkoot, table_id, meeting(talkoot, table_id, days_ago(1)), discussed=[raised]))
    talkoot.ok(
        command(
            talkoot,
            f"/initiatives/{raised}/forward",
            {"statement": "Alueraati kannattaa yksimielisesti."},
            coordinator(talkoot, table_id),
        )
    )
    return raised


def test_an_officer_answers_a_forwarded_initiative(web, talkoot: Talkoot):
    table_id = found(talkoot)
    waiting = forwarded(talkoot, table_id)
    browser = web.signed_in("officer", "web-officer-of-tables", acts_for="lahti-city")

    page = browser.get("/officer/initiatives")
    assert page.status_code == 200, page.text
    assert f'data-initiative-id="{waiting}"' in page.text
    assert "Alueraati kannattaa yksimielisesti." in text_of(page.text)

    # a rejection without its reasons: refused beside the reasons, nothing stored
    refused = browser.post(
        f"/initiatives/{waiting}/answer", {"answer": "rejected", "back": "officer"}
    )
    assert refused.status_code == 422, refused.text
    assert error_beside(refused.text, f"f-{waiting}-reasons")
    assert read(talkoot, f"/initiatives/{waiting}")["answers"] == []

    answered = browser.post(
        f"/initiatives/{waiting}/answer",
        {"answer": "rejected", "reasons": "Ei määrärahaa tänä vuonna.", "back": "officer"},
    )
    assert answered.status_code == 200, answered.text
    assert answered.url.path == "/officer/initiatives"
    assert f'data-initiative-id="{waiting}"' not in answered.text
    (answer,) = read(talkoot, f"/initiatives/{waiting}")["answers"]
    assert (answer["answer"], answer["reasons"]) == ("rejected", "Ei määrärahaa tänä vuonna.")

    # the initiative's page tells its life, in Finnish too
    life = web.browser("fi").get(f"/initiatives/{waiting}")
    assert "Ei määrärahaa tänä vuonna." in text_of(life.text)
    assert "hylätty" in text_of(life.text)


def test_another_tables_pages_are_not_there_for_a_coordinator(web, talkoot: Talkoot):
    ours, theirs = found(talkoot), found(talkoot)
    browser = coordinator_page(web, ours)
    for path in ("members", "meetings", "events", "fees"):
        assert browser.get(f"/tables/{theirs}/{path}").status_code == 404, path
    planned = browser.post(f"/tables/{theirs}/meetings", {"on": days_ago(1)})
    assert planned.status_code == 404
    assert read(talkoot, f"/tables/{theirs}")["meetings"] == []
    assert browser.http.get(f"/tables/{theirs}/payouts/1.csv").status_code == 404
    # a resident is no coordinator
    assert resident_page(web, f"nosy-{ours}").get(f"/tables/{ours}/members").status_code == 403


@pytest.mark.parametrize("day", ["2026-02-30", "tomorrow"])
def test_a_bad_date_is_shown_beside_its_field_and_nothing_is_stored(web, talkoot: Talkoot, day):
    table_id = found(talkoot)
    browser = coordinator_page(web, table_id)
    on = (local_today() + timedelta(days=1)).isoformat() if day == "tomorrow" else day

    joined = browser.post(
        f"/tables/{table_id}/members", {"member_id": "aino", "name": "Aino", "on": on}
    )
    assert joined.status_code in (400, 422), joined.text
    assert error_beside(joined.text, "f-on")
    assert 'value="Aino"' in joined.text  # what was typed is kept
    assert read(talkoot, f"/tables/{table_id}/members", coordinator(talkoot, table_id)) == []

    in_finnish = coordinator_page(web, table_id, "fi").post(
        f"/tables/{table_id}/members", {"member_id": "aino", "name": "Aino", "on": on}
    )
    assert error_beside(in_finnish.text, "f-on").startswith("Tarkista päivä")
    assert read(talkoot, f"/tables/{table_id}/members", coordinator(talkoot, table_id)) == []
