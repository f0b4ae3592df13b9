"""The impact report through the web front, on the running stack: for anybody, signed in or
not, this year by default, for a table or a region; its figures as tables in the four
sections, its charts as images served through the front as SVG, its CSV; bad days refused
beside their field, in each language."""

from __future__ import annotations

import csv
import io
import re

import pytest

from domain.calendar import local_today
from services.web.pages.impact import CHARTS
from tests.client import Talkoot, eventually
from tests.integration.tables import days_ago, found, hold, join, meeting, read
from tests.integration.test_web_officer import error_beside
from tests.web import text_of

pytestmark = pytest.mark.slow


def test_anybody_reads_the_report_with_its_charts_and_csv(web, talkoot: Talkoot):
    table_id = found(talkoot)
    join(talkoot, table_id, "jasen-a", on=days_ago(60))
    held = meeting(talkoot, table_id, days_ago(10))
    talkoot.ok(hold(talkoot, table_id, held, attendees=["jasen-a"]))
    expected = eventually(
        lambda: read(talkoot, "/impact", table=table_id),
        lambda report: report["tables"]["all"]["meetings_held"] == 1,
        20,
        "the report to count the meeting",
    )

    anonymous = web.browser("en")
    page = anonymous.get("/impact", table=table_id)
    assert page.status_code == 200, page.text
    words = text_of(page.text)
    for section in ("The city", "The providers", "The community", "The partnership tables"):
        assert section in words
    year = local_today().year
    assert f'value="{year}-01-01"' in page.text and f'value="{year}-12-31"' in page.text
    row = re.search(rf'<tr data-table-id="{table_id}">(.*?)</tr>', page.text, re.S).group(1)
    assert text_of(row).startswith(f"Alueraati {table_id} 1 1 ")
    planned = expected["tables"]["all"]["budget"]["planned"]["total_cents"]
    line = re.search(r'<tr data-line="total_cents">(.*?)</tr>', page.text, re.S).group(1)
    assert f"{planned / 100:,.2f}" in text_of(line)

    images = re.findall(r'<img src="(/impact/charts/[^"]+)" alt="([^"]+)"', page.text)
    assert len(images) == len(CHARTS) and all(alt for _, alt in images)
    for src, _ in images:
        assert f"table={table_id}" in src
        chart = anonymous.http.get(src.replace("&amp;", "&"))
        assert chart.status_code == 200, (src, chart.text)
        assert chart.headers["content-type"].startswith("image/svg+xml")
        assert "<svg" in chart.text and "<script" not in chart.text
    assert anonymous.http.get("/impact/charts/nothing.svg").status_code == 404

    link = re.search(r'<a href="(/impact\.csv[^"]*)" download>', page.text).group(1)
    got = anonymous.http.get(link.replace("&amp;", "&"))
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(got.text)))
    held_row = [
        r for r in rows if r["figure"] == "meetings_held" and r["scope"] == f"table:{table_id}"
    ]
    assert held_row and held_row[0]["value"] == "1", rows[:5]

    # signed in, every role finds it in the navigation; the home page links it
    resident = web.signed_in("resident", "impact-reader")
    assert 'href="/impact"' in resident.get("/").text
    assert 'href="/impact"' in anonymous.get("/").text
    assert "Vaikuttavuusraportti" in web.browser("fi").get("/impact").text


def test_bad_days_and_scopes_are_refused_beside_their_field(web):
    page = web.browser("en")
    bad = page.get("/impact", **{"from": "2026-02-30"})
    assert bad.status_code == 400 and error_beside(bad.text, "f-from")
    assert 'value="2026-02-30"' in bad.text  # kept as typed
    assert "<img" not in bad.text
    backwards = page.get("/impact", **{"from": "2026-06-01", "until": "2026-05-01"})
    assert backwards.status_code == 400 and error_beside(backwards.text, "f-until")
    nowhere = page.get("/impact", region="atlantis")
    assert nowhere.status_code == 400 and error_beside(nowhere.text, "f-region")
    finnish = web.browser("fi").get("/impact", until="tomorrow")
    assert finnish.status_code == 400
    assert error_beside(finnish.text, "f-until").startswith("Anna viimeinen päivä")
    assert page.http.get("/impact.csv", params={"from": "x"}).status_code == 400
