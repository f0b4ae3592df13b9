"""The service processes the tests start read the clock the tests read, whatever clock the
session runs at (``--clock``): what a service stamps lies between the test's readings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.calendar import local_day, local_today
from tests.client import Talkoot

pytestmark = pytest.mark.dates

# Each process takes the session's clock from the real time it started at: they agree to
# within the time it takes to read a clock, far less than this.
SLACK = timedelta(milliseconds=250)


def test_the_services_stamp_what_they_store_with_the_tests_clock(talkoot: Talkoot, scope):
    before = datetime.now(UTC)
    provider_id = talkoot.register_provider(*scope)
    after = datetime.now(UTC)
    record = talkoot.ok(talkoot.get("providers", f"/providers/{provider_id}"), 200)
    registered = datetime.fromisoformat(record["registered_at"])
    assert before - SLACK <= registered <= after + SLACK
    assert local_day(registered) in (local_today(before), local_today(after))
