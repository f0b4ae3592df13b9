"""The life of a request beyond the main flow, over HTTP on the running services: reschedule,
cancel before and after assignment, dispute and its rulings down to the contract ledger,
rating, expiry and automatic confirmation, and the bad input each new command refuses."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from contracts.events import (
    DisputeResolvedV1,
    RequestCancelledV1,
    RequestConfirmedV1,
    RequestDisputedV1,
    RequestExpiredV1,
    RequestRatedV1,
    RequestRescheduledV1,
)
from deploy.stack import Stack
from services.platform.catalogue import load_catalogue
from tests.client import Talkoot, eventually, published
from tests.conftest import another_talkoot
from tests.integration import scopes
from tests.integration.personal import opened
from tests.integration.store import stored_events

pytestmark = pytest.mark.slow

RESIDENT = "resident-1"  # who tests.client submits as
PARTNER = "lahti-city"  # whom tests.client contracts with


def about(stack: Stack, request_id: str, kind: type) -> list:
    """The events of ``kind`` the requests service published about one request."""
    return [
        e
        for _, e in published(stack, "requests")
        if isinstance(e, kind) and e.request_id == request_id
    ]


def sender(talkoot: Talkoot, what: str) -> str:
    """Who sends ``what`` here: the partner's officer rules, the resident does the rest."""
    return talkoot.officer(PARTNER) if what == "resolution" else talkoot.resident(RESIDENT)


def refused(
    talkoot: Talkoot, request_id: str, what: str, body: dict, status: int, who: str | None = None
) -> dict:
    before = stored_events(talkoot.stack, "requests")
    response = talkoot.on_request(request_id, what, body, who=who or sender(talkoot, what))
    assert response.status_code == status, response.text
    assert stored_events(talkoot.stack, "requests") == before, "a refused command stored events"
    return response.json()


def names(error: dict) -> set[str]:
    """The rule (4xx from the domain) or the fields (400 from validation) an error names."""
    extra = error.get("extra")
    if isinstance(extra, dict):
        return {extra["rule"]}
    return {item.get("key") for item in extra or []}


def mentions(error: dict, named: str) -> bool:
    """The error names ``named`` as its rule or field, or in a validation message."""
    messages = [
        item.get("message", "") for item in error.get("extra") or [] if isinstance(item, dict)
    ]
    return named in names(error) or any(f"`{named}`" in m for m in messages)


def window(days: float, hours: float = 3) -> dict:
    start = datetime.now(UTC) + timedelta(days=days)
    return {
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(hours=hours)).isoformat(),
    }


def unmatched_request(talkoot: Talkoot, scope: tuple[str, str]) -> str:
    """A request no provider works for, once matching has said so (and stores no more)."""
    request_id = talkoot.submit(*scope)["id"]
    talkoot.wait_for_status(request_id, "unmatched")
    talkoot.wait_until_quiet()
    return request_id


def charges(talkoot: Talkoot, contract_id: str) -> list[tuple[str, str, int, int]]:
    talkoot.wait_until_quiet()
    entries = talkoot.ledger(contract_id)["entries"]
    return [(e["request_id"], e["outcome"], e["minutes"], e["amount_cents"]) for e in entries]


# --- reschedule ----------------------------------------------------------------------------


@pytest.mark.dates
def test_the_resident_reschedules_an_offered_request(talkoot: Talkoot, scope):
    talkoot.ready_provider(*scope)
    request_id = talkoot.submit(*scope)["id"]
    talkoot.wait_for_status(request_id, "offered")
    later = window(days=3, hours=2)

    moved = talkoot.ok(
        talkoot.on_request(request_id, "reschedule", later, who=talkoot.resident(RESIDENT))
    )

    entry = talkoot.board_entry(request_id, moved["position"])
    assert entry["status"] in ("submitted", "offered")  # matching may offer it again at once
    assert datetime.fromisoformat(entry["window_start"]) == datetime.fromisoformat(
        later["window_start"]
    )
    assert datetime.fromisoformat(entry["window_end"]) == datetime.fromisoformat(
        later["window_end"]
    )
    (event,) = about(talkoot.stack, request_id, RequestRescheduledV1)
    assert event.window_start == datetime.fromisoformat(later["window_start"])


# --- cancel --------------------------------------------------------------------------------


def test_cancelling_an_offered_request_tells_the_provider_it_was_offered_to(
    talkoot: Talkoot, scope
):
    provider_id, _ = talkoot.ready_provider(*scope)
    request_id = talkoot.submit(*scope)["id"]
    offered = talkoot.wait_for_status(request_id, "offered")

    done = talkoot.ok(
        talkoot.on_request(request_id, "cancellation", {}, who=talkoot.resident(RESIDENT))
    )

    entry = talkoot.board_entry(request_id, done["position"])
    assert (entry["status"], entry["provider_id"], entry["reason"]) == (
        "cancelled",
        provider_id,
        "",
    )
    (event,) = about(talkoot.stack, request_id, RequestCancelledV1)
    assert (event.was_status, event.provider_id, event.offer_id) == (
        "offered",
        provider_id,
        offered["offer_id"],
    )


def test_an_assigned_request_is_cancelled_only_with_a_reason_for_the_provider(
    talkoot: Talkoot, scope
):
    provider_id, _ = talkoot.ready_provider(*scope)
    request_id = talkoot.assigned_request(*scope, provider_id)
    # Taken: no more rescheduling, and nothing to dispute yet.
    body = window(days=3)
    assert names(refused(talkoot, request_id, "reschedule", body, 409)) == {"wrong_state"}
    body = {"reason": "not yet"}
    assert names(refused(talkoot, request_id, "dispute", body, 409)) == {"wrong_state"}

    error = refused(talkoot, request_id, "cancellation", {}, 422)
    assert names(error) == {"reason"}
    body = {"reason": "   "}
    assert names(refused(talkoot, request_id, "cancellation", body, 422)) == {"reason"}

    body = {"reason": "The tree fell on its own"}
    done = talkoot.ok(
        talkoot.on_request(request_id, "cancellation", body, who=talkoot.resident(RESIDENT))
    )

    entry = talkoot.board_entry(request_id, done["position"])
    assert (entry["status"], entry["provider_id"], entry["reason"]) == (
        "cancelled",
        provider_id,
        "The tree fell on its own",
    )
    (event,) = about(talkoot.stack, request_id, RequestCancelledV1)
    assert (event.was_status, event.provider_id, event.resident_id) == (
        "assigned",
        provider_id,
        RESIDENT,
    )
    # Once cancelled, nothing more happens to it.
    body = {"reason": "again"}
    assert names(refused(talkoot, request_id, "cancellation", body, 409)) == {"wrong_state"}


# --- dispute and ruling --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ruling", "minutes"),
    [({"outcome": "upheld"}, 120), ({"outcome": "adjusted", "hours": 1.25}, 75)],
    ids=["upheld", "adjusted"],
)
def test_a_ruling_that_stands_charges_the_contract_the_final_hours(
    talkoot: Talkoot, scope, ruling, minutes
):
    provider_id, contract_id = talkoot.ready_provider(*scope, unit_price_cents=4000)
    request_id = talkoot.completed_request(*scope, provider_id, hours=2)

    disputed = talkoot.ok(
        talkoot.on_request(
            request_id,
            "dispute",
            {"reason": "Only half was done"},
            who=talkoot.resident(RESIDENT),
        )
    )
    entry = talkoot.board_entry(request_id, disputed["position"])
    assert (entry["status"], entry["partner_id"]) == ("disputed", PARTNER)
    assert charges(talkoot, contract_id) == []  # nothing is charged while it is disputed

    resolved = talkoot.ok(
        talkoot.on_request(
            request_id,
            "resolution",
            {"note": "Checked on site", **ruling},
            who=talkoot.officer(PARTNER),
        )
    )

    entry = talkoot.board_entry(request_id, resolved["position"])
    assert (entry["status"], entry["minutes"]) == ("confirmed", minutes)
    assert charges(talkoot, contract_id) == [(request_id, "charged", minutes, minutes * 4000 // 60)]
    (dispute,) = about(talkoot.stack, request_id, RequestDisputedV1)
    assert (dispute.partner_id, dispute.minutes, dispute.reason) == (PARTNER, 120, "")
    assert opened(talkoot.stack, dispute) == {"reason": "Only half was done"}  # sealed
    (ruled,) = about(talkoot.stack, request_id, DisputeResolvedV1)
    assert (ruled.outcome, ruled.minutes, ruled.note) == (
        ruling["outcome"],
        minutes,
        "Checked on site",
    )
    (confirmed,) = about(talkoot.stack, request_id, RequestConfirmedV1)
    assert (confirmed.how, confirmed.minutes) == (ruling["outcome"], minutes)


def test_a_voided_dispute_charges_nothing(talkoot: Talkoot, scope):
    provider_id, contract_id = talkoot.ready_provider(*scope)
    request_id = talkoot.completed_request(*scope, provider_id)
    talkoot.ok(
        talkoot.on_request(
            request_id, "dispute", {"reason": "Nobody came"}, who=talkoot.resident(RESIDENT)
        )
    )

    resolved = talkoot.ok(
        talkoot.on_request(
            request_id,
            "resolution",
            {"outcome": "voided", "note": "No work was done"},
            who=talkoot.officer(PARTNER),
        )
    )

    entry = talkoot.board_entry(request_id, resolved["position"])
    assert (entry["status"], entry["reason"]) == ("voided", "No work was done")
    assert charges(talkoot, contract_id) == []
    assert talkoot.ledger(contract_id)["charged_cents"] == 0
    assert about(talkoot.stack, request_id, RequestConfirmedV1) == []
    # A voided request is final: it is neither confirmed nor rated.
    error = refused(talkoot, request_id, "confirmation", {}, 409)
    assert names(error) == {"wrong_state"}


# Bad input, case by case on one request each (the test session has only so many
# category and region pairs to give out): (body, status, the field or rule named).
# Who acts is the caller: a body naming a resident or partner is refused as having a field
# too many (400), whoever it names.
BAD_RULINGS = [
    ({"outcome": "adjusted", "note": "x"}, 422, "hours"),
    ({"outcome": "upheld", "hours": 1, "note": "x"}, 422, "hours"),
    ({"outcome": "upheld", "note": "  "}, 422, "note"),
    ({"outcome": "dismissed", "note": "x"}, 400, "outcome"),
    ({"outcome": "adjusted", "hours": 0.1, "note": "x"}, 400, "hours"),
    ({"outcome": "adjusted", "hours": 30, "note": "x"}, 400, "hours"),
    ({"outcome": "upheld"}, 400, "note"),
    ({"partner_id": PARTNER, "outcome": "upheld", "note": "x"}, 400, "partner_id"),
    ({"outcome": "upheld", "note": "x", "amount": 1}, 400, "amount"),
]
BAD_DISPUTES = [
    ({"resident_id": RESIDENT, "reason": "bad"}, 400, "resident_id"),
    ({"reason": " "}, 422, "reason"),
    ({}, 400, "reason"),
    ({"reason": "x" * 1001}, 400, "reason"),
]
BAD_RATINGS = [
    ({"resident_id": RESIDENT, "stars": 4}, 400, "resident_id"),
    ({"stars": 0}, 400, "stars"),
    ({"stars": 6}, 400, "stars"),
    ({"stars": 4.5}, 400, "stars"),
    ({"stars": "five"}, 400, "stars"),
    ({}, 400, "stars"),
    ({"stars": 4, "comment": "x" * 1001}, 400, "comment"),
    ({"stars": 4, "colour": "red"}, 400, "colour"),
]
BAD_RESCHEDULES = [
    ({"resident_id": RESIDENT}, 400, "resident_id"),
    ({"window_end": "2020-01-01T00:00:00Z"}, 422, "window"),
    ({"window_start": "2027-01-01T08:00:00"}, 400, "window_start"),  # no time zone
    ({"window_start": "next week"}, 400, "window_start"),
    ({"colour": "red"}, 400, "colour"),
]
BAD_CANCELLATIONS = [
    ({"resident_id": RESIDENT}, 400, "resident_id"),
    ({"reason": "x" * 1001}, 400, "reason"),
    ({"why": "moving"}, 400, "why"),
]


def each_refused(talkoot: Talkoot, request_id: str, what: str, cases: list) -> None:
    for body, status, named in cases:
        error = refused(talkoot, request_id, what, body, status)
        assert mentions(error, named), (body, error)


def test_a_bad_dispute_or_ruling_is_refused_naming_the_field_or_rule(talkoot: Talkoot, scope):
    provider_id, _ = talkoot.ready_provider(*scope)
    request_id = talkoot.completed_request(*scope, provider_id)
    each_refused(talkoot, request_id, "dispute", BAD_DISPUTES)
    assert talkoot.board_entry(request_id)["status"] == "completed"
    body = {"reason": "too late"}
    assert names(refused(talkoot, request_id, "cancellation", body, 409)) == {"wrong_state"}
    body = {"outcome": "upheld", "note": "x"}
    assert names(refused(talkoot, request_id, "resolution", body, 409)) == {"wrong_state"}

    done = talkoot.ok(
        talkoot.on_request(
            request_id, "dispute", {"reason": "Sloppy"}, who=talkoot.resident(RESIDENT)
        )
    )
    assert talkoot.board_entry(request_id, done["position"])["status"] == "disputed"

    each_refused(talkoot, request_id, "resolution", BAD_RULINGS)
    assert talkoot.board_entry(request_id)["status"] == "disputed"


# --- rating --------------------------------------------------------------------------------


def test_the_resident_rates_confirmed_work_once(talkoot: Talkoot, scope):
    provider_id, _ = talkoot.ready_provider(*scope)
    request_id = talkoot.completed_request(*scope, provider_id)
    me = talkoot.resident(RESIDENT)
    body = {"stars": 5, "comment": "Thank you!"}
    assert names(refused(talkoot, request_id, "rating", body, 409)) == {"wrong_state"}
    talkoot.ok(talkoot.on_request(request_id, "confirmation", {}, who=me))
    each_refused(talkoot, request_id, "rating", BAD_RATINGS)

    rated = talkoot.ok(talkoot.on_request(request_id, "rating", body, who=me))

    entry = talkoot.board_entry(request_id, rated["position"])
    assert (entry["status"], entry["rating"], entry["rating_comment"]) == (
        "confirmed",
        5,
        "Thank you!",
    )
    (event,) = about(talkoot.stack, request_id, RequestRatedV1)
    assert (event.provider_id, event.stars, event.comment) == (provider_id, 5, "")
    assert opened(talkoot.stack, event) == {"comment": "Thank you!"}  # sealed for the resident
    again = {"stars": 1}
    assert names(refused(talkoot, request_id, "rating", again, 409)) == {"wrong_state"}


# --- bad input for reschedule and cancel, and unknown requests ------------------------------


@pytest.mark.dates
def test_a_bad_reschedule_or_cancellation_is_refused(talkoot: Talkoot):
    request_id = unmatched_request(talkoot, scopes.quiet())
    reschedules = [
        ({**window(days=2), **change}, status, named) for change, status, named in BAD_RESCHEDULES
    ]
    each_refused(talkoot, request_id, "reschedule", reschedules)
    each_refused(talkoot, request_id, "cancellation", BAD_CANCELLATIONS)
    assert talkoot.board_entry(request_id)["status"] == "unmatched"


@pytest.mark.parametrize(
    ("what", "body"),
    [
        ("reschedule", window(days=2)),
        ("cancellation", {}),
        ("confirmation", {}),
        ("dispute", {"reason": "x"}),
        ("resolution", {"outcome": "upheld", "note": "x"}),
        ("rating", {"stars": 3}),
        ("completion", {"hours": 1}),
    ],
)
def test_a_command_on_an_unknown_request_is_not_found(talkoot: Talkoot, what, body):
    who = talkoot.member("some-provider") if what == "completion" else sender(talkoot, what)
    for request_id in (str(uuid.uuid4()), "not-an-id"):
        response = talkoot.on_request(request_id, what, body, who=who)
        assert response.status_code == 404, response.text
        assert response.json()["detail"] == f"no service request with id {request_id}"


# --- the board -----------------------------------------------------------------------------


def test_the_board_shows_every_column_and_filters_by_series(talkoot: Talkoot, scope):
    category, region = scope
    submitted = talkoot.submit(category, region)
    entry = talkoot.board_entry(submitted["id"], submitted["position"])
    for column in (
        "address",
        "lat",
        "long",
        "channel",
        "series_id",
        "partner_id",
        "completed_at",
        "rating",
        "rating_comment",
    ):
        assert column in entry
    assert (entry["channel"], entry["series_id"], entry["rating"]) == ("api", None, None)

    board = talkoot.ok(talkoot.get("requests", "/requests", category=category, region=region), 200)
    assert [row["request_id"] for row in board] == [submitted["id"]]
    in_a_series = talkoot.ok(
        talkoot.get("requests", "/requests", category=category, series_id="no-such-series"), 200
    )
    assert in_a_series == []


def test_the_new_commands_are_in_the_openapi_description(talkoot: Talkoot):
    document = talkoot.ok(talkoot.get("requests", "/schema/openapi.json"), 200)
    for what in ("reschedule", "cancellation", "dispute", "resolution", "rating"):
        assert f"/requests/{{request_id}}/{what}" in document["paths"]


# --- timed work: expiry and automatic confirmation, on a stack with short timings ------------


@pytest.fixture(scope="module")
def quick(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Talkoot]:
    """A second Talkoot on the same servers, its own namespace, with timings of seconds."""
    with another_talkoot(
        stack,
        tmp_path_factory.mktemp("quick"),
        TALKOOT_AUTO_CONFIRM_AFTER="2s",
        TALKOOT_SWEEP_SECONDS="0.3",
    ) as client:
        yield client


_quick_scopes = iter(itertools.product(load_catalogue().categories, load_catalogue().regions))


@pytest.fixture
def quick_scope() -> tuple[str, str]:
    """A (category, region) pair of its own within the short-timing stack's namespace."""
    return next(_quick_scopes)


def submit_ending_soon(talkoot: Talkoot, category: str, region: str, seconds: float) -> str:
    body = talkoot.request_body(category, region)
    start = datetime.now(UTC)
    body["window_start"] = start.isoformat()
    body["window_end"] = (start + timedelta(seconds=seconds)).isoformat()
    return talkoot.ok(talkoot.post("requests", "/requests", body, who=talkoot.resident()))["id"]


@pytest.mark.dates
def test_a_request_nobody_takes_expires_when_its_window_ends(quick: Talkoot, quick_scope):
    request_id = submit_ending_soon(quick, *quick_scope, seconds=5)
    # No provider works here: matching finds none, and the request waits for its window.
    assert quick.wait_for_status(request_id, "unmatched", "expired")["status"] == "unmatched"

    entry = quick.wait_for_status(request_id, "expired", timeout=15)

    assert entry["reason"] == "no provider took it before its window ended"
    assert datetime.now(UTC) > datetime.fromisoformat(entry["window_end"])
    (event,) = about(quick.stack, request_id, RequestExpiredV1)
    assert event.was_status == "unmatched"


@pytest.mark.dates
def test_an_offer_nobody_answers_expires_with_its_request(quick: Talkoot, quick_scope):
    provider_id, _ = quick.ready_provider(*quick_scope)
    request_id = submit_ending_soon(quick, *quick_scope, seconds=5)
    offered = quick.wait_for_status(request_id, "offered", "expired")
    assert offered["status"] == "offered"

    entry = quick.wait_for_status(request_id, "expired", timeout=15)

    (event,) = about(quick.stack, request_id, RequestExpiredV1)
    assert event.was_status == "offered"
    # Too late to take it now.
    assert quick.accept(offered["offer_id"], provider_id).status_code in (201, 409)
    quick.wait_until_quiet()
    assert quick.board_entry(request_id)["status"] == "expired"
    assert entry["reason"] == event.reason


@pytest.mark.dates
def test_a_request_still_in_its_window_does_not_expire(quick: Talkoot, quick_scope):
    request_id = quick.submit(*quick_scope)["id"]  # its window is tomorrow
    quick.wait_for_status(request_id, "unmatched")
    quick.wait_until_quiet()
    time.sleep(1)  # a few sweeps
    assert quick.board_entry(request_id)["status"] == "unmatched"


@pytest.mark.dates
def test_a_completion_the_resident_leaves_unanswered_is_confirmed_and_charged(
    quick: Talkoot, quick_scope
):
    provider_id, contract_id = quick.ready_provider(*quick_scope, unit_price_cents=3000)
    request_id = quick.completed_request(*quick_scope, provider_id, hours=1.5)

    entry = quick.wait_for_status(request_id, "confirmed", timeout=15)

    assert entry["minutes"] == 90
    completed_at = datetime.fromisoformat(entry["completed_at"])
    assert datetime.fromisoformat(entry["updated_at"]) - completed_at >= timedelta(seconds=2)
    (event,) = about(quick.stack, request_id, RequestConfirmedV1)
    assert event.how == "automatic"
    ledger = eventually(
        lambda: quick.ledger(contract_id), lambda row: row["charges"] == 1, 20, "the charge"
    )
    assert ledger["charged_cents"] == 4500


def test_a_disputed_completion_is_not_confirmed_automatically(quick: Talkoot, quick_scope):
    provider_id, _ = quick.ready_provider(*quick_scope)
    request_id = quick.completed_request(*quick_scope, provider_id)
    done = quick.ok(
        quick.on_request(request_id, "dispute", {"reason": "No"}, who=quick.resident(RESIDENT))
    )
    assert quick.board_entry(request_id, done["position"])["status"] == "disputed"
    time.sleep(3)  # past the automatic confirmation time, several sweeps
    assert quick.board_entry(request_id)["status"] == "disputed"
