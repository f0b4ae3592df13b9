"""The city officer's pages of the web front, on the running stack: why matching offered a job
under the partner's contracts, in the page's language."""

from __future__ import annotations

import pytest

from tests.client import Talkoot
from tests.web import text_of

pytestmark = pytest.mark.slow


def test_the_decision_page_says_in_each_language_why_the_job_went_where_it_did(
    web, talkoot: Talkoot, scope
):
    talkoot.ready_provider(*scope)  # under a contract of lahti-city
    request_id = talkoot.submit(*scope)["id"]
    talkoot.wait_for_status(request_id, "offered")
    path = f"/officer/decisions/{request_id}"

    finnish = web.signed_in("officer", "web-officer-of-lahti-city", "lahti-city", lang="fi")
    page = finnish.get(path)

    assert page.status_code == 200, page.text
    words = text_of(page.text)
    assert "Tarjottu palveluntuottajalle Testiosuuskunta, joka oli ainoa sopiva." in words
    assert "Sen etäisyyttä työstä ei tiedetä." in words
    assert 'class="why" lang="en"' not in page.text

    english = web.signed_in("officer", "web-officer-of-lahti-city", "lahti-city").get(path)
    assert "Offered to Testiosuuskunta, the only eligible provider." in text_of(english.text)
