"""A table's coordinator records a meeting in a real browser: who attended (the members on the
meeting's day), its decisions one a line, and the initiative residents put on its agenda,
ticked and marked required; each page is checked with axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.test_journey import accessible, signed_in
from tests.integration.tables import (
    command,
    coordinator,
    days_ago,
    found,
    initiative,
    join,
    meeting,
    read,
    resident,
)

pytestmark = pytest.mark.slow


def test_a_coordinator_records_a_meeting_with_its_attendance_and_due_initiative(
    browser: Browser, web, talkoot
):
    table_id = found(talkoot, support_threshold=1)
    join(talkoot, table_id, "aino", on=days_ago(30))
    join(talkoot, table_id, "eero", on=days_ago(30))
    meeting_id = meeting(talkoot, table_id, days_ago(1))
    coord = coordinator(talkoot, table_id)
    due = initiative(talkoot, table_id, coord, origin="resident", on=days_ago(5))
    talkoot.ok(command(talkoot, f"/initiatives/{due}/support", {}, resident(talkoot, "tukija")))

    page = signed_in(browser, web, "coordinator", f"coordinator-of-{table_id}", table_id)
    page.goto(f"{web.url}/tables/{table_id}/meetings")
    accessible(page)
    page.get_by_role("link", name=re.compile("^Kirjaa kokous")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kokous")
    agenda = page.get_by_role("checkbox", name=re.compile("Valaistus kevyen liikenteen"))
    expect(agenda).to_be_checked()
    expect(page.get_by_text("pakollinen: asukkaat veivät sen asialistalle")).to_be_visible()
    accessible(page)

    page.get_by_role("checkbox", name=re.compile("Jäsen aino")).check()
    page.get_by_role("checkbox", name=re.compile("Jäsen eero")).check()
    page.get_by_label("Päätökset").fill("Valaistus ensin\nUimaranta syksyllä")
    page.get_by_role("button", name="Kirjaa kokous").click()

    expect(page.get_by_role("status")).to_contain_text("Kokous on kirjattu.")
    accessible(page)
    table = read(talkoot, f"/tables/{table_id}", coord)
    held = next(m for m in table["meetings"] if m["meeting_id"] == meeting_id)
    assert held["held"] and sorted(held["attendees"]) == ["aino", "eero"]
    assert held["decisions"] == ["Valaistus ensin", "Uimaranta syksyllä"]
    assert held["discussed"] == [due]
    page.context.close()
