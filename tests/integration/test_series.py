"""Recurring requests over HTTP, with the sweep running every 0.3 s and an 8-day horizon: a
series creates each occurrence once, pausing, resuming and ending it count, a snowfall day
creates one occurrence per active snowfall series of its regions, and an occurrence is an
ordinary request that matching offers (first to the provider who did the last one)."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from datetime import time as clock

import msgspec
import pytest

from contracts.events import ServiceRequestedV1
from deploy.stack import Stack
from domain.calendar import local_moment, local_today
from domain.series import WEEKDAYS
from services.platform.catalogue import load_catalogue
from services.platform.errors import Conflict, NotFound
from services.platform.identity import Caller, Role
from services.platform.settings import Settings
from services.requests.application import RequestsApplication
from services.requests.commands import NewSeries
from tests.client import Talkoot, eventually, published
from tests.conftest import REGIONS, another_talkoot

pytestmark = pytest.mark.dates


@pytest.fixture(scope="module")
def fast(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Talkoot]:
    with another_talkoot(
        stack,
        tmp_path_factory.mktemp("series"),
        TALKOOT_SWEEP_SECONDS="0.3",
        TALKOOT_SERIES_HORIZON="8d",
    ) as client:
        yield client


_fast_scopes = iter(itertools.product(load_catalogue().categories, load_catalogue().regions))


@pytest.fixture
def fast_scope() -> tuple[str, str]:
    """A (category, region) pair of its own within this module's namespaces (the session's
    pairs are for the session's own)."""
    return next(_fast_scopes)


def today() -> date:
    return local_today()


def series_body(category: str, region: str, **rule) -> dict:
    return {
        "category": category,
        "region": region,
        "description": "Driveway and steps",
        "start_time": "10:00",
        "duration_minutes": 120,
        **rule,
    }


def start(fast: Talkoot, body: dict, resident_id: str = "resident-7") -> str:
    """A series set up by ``resident_id``."""
    return fast.ok(fast.post("requests", "/series", body, who=fast.resident(resident_id)))["id"]


def on_series(fast: Talkoot, series_id: str, what: str, body: dict, resident_id: str):
    """``what`` (pause, resume or end) done to a series by ``resident_id``."""
    path = f"/series/{series_id}/{what}"
    return fast.post("requests", path, body, who=fast.resident(resident_id))


def declare(fast: Talkoot, day: date, regions: list[str], who: str | None = ""):
    """A snowfall day declared by ``who``: an admin when not given (None: nobody signed in)."""
    body = {"day": day.isoformat(), "regions": regions}
    return fast.post("requests", "/snowfall-days", body, who=fast.admin() if who == "" else who)


def occurrences(fast: Talkoot, series_id: str) -> list[dict]:
    return fast.ok(fast.get("requests", f"/series/{series_id}"), 200)["occurrences"]


def wait_for_occurrences(fast: Talkoot, series_id: str, count: int) -> list[dict]:
    return eventually(
        lambda: occurrences(fast, series_id),
        lambda found: len(found) >= count,
        20,
        f"{count} occurrence(s) of series {series_id}",
    )


def board(fast: Talkoot, category: str, region: str) -> list[dict]:
    return fast.ok(fast.get("requests", "/requests", category=category, region=region), 200)


def a_few_sweeps() -> None:
    time.sleep(1.5)  # five rounds of the sweep


def test_a_weekly_series_creates_its_occurrence_once_and_matching_offers_it(
    fast: Talkoot, fast_scope
):
    provider_id, _ = fast.ready_provider(*fast_scope)
    day = today() + timedelta(days=2)  # the next one, a week later, is beyond the 8-day horizon
    series_id = start(
        fast, series_body(*fast_scope, rule="weekly", weekday=WEEKDAYS[day.weekday()])
    )

    [occurrence] = wait_for_occurrences(fast, series_id, 1)
    a_few_sweeps()
    assert occurrences(fast, series_id) == [occurrence]
    assert occurrence["day"] == day.isoformat()
    entries = board(fast, *fast_scope)
    assert [e["request_id"] for e in entries] == [occurrence["request_id"]]

    offered = fast.wait_for_status(occurrence["request_id"], "offered")
    assert offered["provider_id"] == provider_id
    assert offered["resident_id"] == "resident-7"
    assert datetime.fromisoformat(offered["window_start"]) == local_moment(day, clock(10))

    view = fast.ok(fast.get("requests", f"/series/{series_id}"), 200)
    assert view["status"] == "active"
    assert view["duration_minutes"] == 120
    assert view["next_days"][:2] == [day.isoformat(), (day + timedelta(days=7)).isoformat()]
    listed = fast.ok(fast.get("requests", "/series", who=fast.resident("resident-7")), 200)
    [entry] = [e for e in listed if e["series_id"] == series_id]
    assert entry["rule"] == "weekly" and entry["status"] == "active"
    # the series and its occurrences are the resident's own
    assert (
        fast.get("requests", f"/series/{series_id}", who=fast.resident("resident-8")).status_code
        == 404
    )
    theirs = fast.ok(fast.get("requests", "/series", who=fast.resident("resident-8")), 200)
    assert series_id not in {e["series_id"] for e in theirs}
    mine = fast.get(
        "requests", f"/requests/{occurrence['request_id']}", who=fast.resident("resident-7")
    )
    assert fast.ok(mine, 200)["series_id"] == series_id


def test_a_snowfall_day_creates_one_occurrence_per_active_snowfall_series(
    fast: Talkoot, fast_scope
):
    category, region = fast_scope
    elsewhere = next(r for r in REGIONS if r != region)
    snow = {"rule": "snowfall", "start_time": "07:00"}
    body = series_body(category, region, **snow)
    del body["duration_minutes"]  # the category's estimated duration, then
    active = start(fast, body, "resident-a")
    estimated = load_catalogue().categories[category].estimated_minutes
    assert fast.ok(fast.get("requests", f"/series/{active}"), 200)["duration_minutes"] == estimated
    paused = start(fast, series_body(category, region, **snow), "resident-b")
    ended = start(fast, series_body(category, region, **snow), "resident-c")
    other_region = start(fast, series_body(category, elsewhere, **snow), "resident-d")
    fast.ok(on_series(fast, paused, "pause", {}, "resident-b"))
    fast.ok(on_series(fast, ended, "end", {"reason": "x"}, "resident-c"))
    a_few_sweeps()
    assert all(occurrences(fast, s) == [] for s in (active, paused, ended, other_region))

    day = today() + timedelta(days=1)
    declared = fast.ok(declare(fast, day, [region]))
    [occurrence] = wait_for_occurrences(fast, active, 1)
    assert occurrence["day"] == day.isoformat()
    a_few_sweeps()
    assert occurrences(fast, active) == [occurrence]
    assert all(occurrences(fast, s) == [] for s in (paused, ended, other_region))
    assert [e["request_id"] for e in board(fast, category, region)] == [occurrence["request_id"]]
    days = fast.ok(
        fast.get("requests", "/snowfall-days", who=None, position=declared["position"]), 200
    )
    assert {"day": day.isoformat(), "regions": [region]}.items() <= days[0].items()
    assert days[0]["declared_by"] == "admin-1"  # who declared it, from their token

    # Resuming the paused one lets it catch the day; the ended one stays ended.
    fast.ok(on_series(fast, paused, "resume", {}, "resident-b"))
    [resumed] = wait_for_occurrences(fast, paused, 1)
    assert resumed["day"] == day.isoformat()

    # The same day again: nothing new is a 409, another region is added.
    again = declare(fast, day, [region])
    assert again.status_code == 409
    assert again.json()["extra"]["rule"] == "already_declared"
    fast.ok(declare(fast, day, [elsewhere]))
    wait_for_occurrences(fast, other_region, 1)
    a_few_sweeps()
    assert occurrences(fast, ended) == []
    assert len(occurrences(fast, active)) == 1 and len(occurrences(fast, paused)) == 1
    listed = fast.ok(fast.get("requests", "/series", resident_id="resident-c", status="ended"), 200)
    assert [e["series_id"] for e in listed] == [ended]  # as an admin reads it


def test_an_occurrence_prefers_the_provider_who_did_the_last_one(fast: Talkoot, fast_scope):
    category, region = fast_scope
    provider_id, _ = fast.ready_provider(category, region)
    first_day, second_day = today() + timedelta(days=3), today() + timedelta(days=4)
    # starting on the first day, so that snowfall days other tests declared do not count
    body = series_body(category, region, rule="snowfall", start_time="08:00")
    series_id = start(fast, body | {"starts_on": first_day.isoformat()}, "resident-e")
    for day in (first_day, second_day):
        fast.ok(declare(fast, day, [region]))
        if day == first_day:
            [first] = wait_for_occurrences(fast, series_id, 1)
            offered = fast.wait_for_status(first["request_id"], "offered")
            fast.ok(fast.accept(offered["offer_id"], provider_id))
            fast.wait_for_status(first["request_id"], "assigned")
    second = wait_for_occurrences(fast, series_id, 2)[1]
    fast.wait_until_quiet()
    submitted = {
        e.request_id: e
        for _, e in published(fast.stack, "requests")
        if isinstance(e, ServiceRequestedV1) and e.series_id == series_id
    }
    assert submitted[first["request_id"]].preferred_provider_id is None
    assert submitted[second["request_id"]].preferred_provider_id == provider_id
    assert {e.channel for e in submitted.values()} == {"series"}


def test_only_the_resident_changes_a_series_and_bad_rules_name_the_field(fast: Talkoot, fast_scope):
    series_id = start(fast, series_body(*fast_scope, rule="monthly", day_of_month="last"))
    # on the last day of a month the sweep (every 0.3 s) schedules today's occurrence: let it
    time.sleep(1)
    fast.wait_until_quiet()
    before = fast.ok(fast.get("requests", f"/series/{series_id}"), 200)
    for action, body in [("pause", {}), ("resume", {}), ("end", {"reason": "no"})]:
        # another resident's series does not exist for them
        refused = on_series(fast, series_id, action, body, "someone-else")
        assert refused.status_code == 404, refused.text
        assert refused.json()["detail"] == f"no series with id {series_id}"
        # and who acts is never in the body
        refused = on_series(
            fast, series_id, action, {**body, "resident_id": "resident-7"}, "resident-7"
        )
        assert refused.status_code == 400, refused.text
    assert fast.ok(fast.get("requests", f"/series/{series_id}"), 200) == before
    resumed = on_series(fast, series_id, "resume", {}, "resident-7")
    assert resumed.status_code == 409
    for rule, field in [
        ({"rule": "weekly", "weekday": "someday"}, "weekday"),
        ({"rule": "monthly", "day_of_month": 31}, "day_of_month"),
        ({"rule": "fortnightly"}, "rule"),
        ({"rule": "snowfall", "start_time": "7am"}, "start_time"),
        ({"rule": "snowfall", "duration_minutes": 0}, "duration_minutes"),
        ({"rule": "snowfall", "region": "atlantis"}, "region"),
    ]:
        response = fast.post(
            "requests", "/series", series_body(*fast_scope) | rule, who=fast.resident("resident-7")
        )
        assert response.status_code == 422, response.text
        assert response.json()["extra"]["rule"] == field
    assert fast.get("requests", f"/series/{uuid.uuid4()}").status_code == 404
    assert declare(fast, date(2020, 1, 1), []).status_code == 422


def test_only_an_admin_declares_a_snowfall_day(fast: Talkoot, fast_scope):
    _, region = fast_scope
    day = today() + timedelta(days=30)  # beyond the horizon: no other test's series gets it
    for who, status in [
        (None, 401),
        (fast.resident(), 403),
        (fast.member("provider-1"), 403),
        (fast.officer(), 403),
    ]:
        refused = declare(fast, day, [region], who=who)
        assert refused.status_code == status, refused.text
    body = {"day": day.isoformat(), "regions": [region], "declared_by": "lahti-streets"}
    named = fast.post("requests", "/snowfall-days", body, who=fast.admin())
    assert named.status_code == 400, named.text  # who declares is the caller
    listed = fast.ok(fast.get("requests", "/snowfall-days", who=None, since=day.isoformat()), 200)
    assert day.isoformat() not in {d["day"] for d in listed}

    declared = fast.ok(declare(fast, day, [region]))
    listed = fast.get(
        "requests", "/snowfall-days", who=None, since=day.isoformat(), position=declared["position"]
    )
    [entry] = [d for d in fast.ok(listed, 200) if d["day"] == day.isoformat()]
    assert (entry["regions"], entry["declared_by"]) == ([region], "admin-1")


def test_two_sweeps_scheduling_the_same_day_have_one_winner(stack: Stack, fast_scope):
    settings = Settings(
        database_url=stack.database_url,
        nats_url=stack.nats_url,
        personal_data_key=stack.secrets["personal"],
        namespace=f"{stack.namespace}_race",
    )
    one, other = RequestsApplication(settings), RequestsApplication(settings)
    try:
        day = today() + timedelta(days=2)  # the only day of the rule within 8 days
        resident = Caller("resident-7", frozenset({Role.RESIDENT}))
        body = series_body(*fast_scope, rule="weekly", weekday=WEEKDAYS[day.weekday()])
        series_id = one.start_series(resident, msgspec.convert(body, NewSeries)).id
        mine, theirs = one.get_series(series_id), other.get_series(series_id)
        winner = one._occurrence(mine, day, None)
        loser = other._occurrence(theirs, day, None)
        one.commit(winner, mine)
        with pytest.raises(Conflict):
            other.commit(loser, theirs)
        with pytest.raises(NotFound):
            one.get_request(str(loser.id))
        assert one.get_request(str(winner.id)).series_id == series_id
        assert other.get_series(series_id).occurrences == {day: str(winner.id)}
        # the loser's next round finds the day taken and creates nothing
        assert other.schedule_recurring(series_id, timedelta(days=8)) == []
    finally:
        one.close()
        other.close()
