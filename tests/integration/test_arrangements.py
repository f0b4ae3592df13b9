"""The partners' audit trail on the running stack: a request through to its charge is one
arrangement (the contract's version, the amount, the resident as a pseudonym), its timeline
tells every step from every stream; filters, CSV and who sees what; and requests and providers
as they stood at a moment."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime

import pytest

from tests.client import Talkoot, eventually

RESIDENT = "resident-arrangements"


# The steps of a request through to its charge, each with the stream it came from.
STEPS = (
    ("submitted", "requests"),
    ("offered", "matching"),
    ("offered", "requests"),
    ("accepted", "matching"),
    ("assigned", "requests"),
    ("completed", "requests"),
    ("confirmed", "requests"),
    ("charged", "partnerships"),
)


def steps_of(trail: dict) -> list[tuple[str, str]]:
    return [(e["step"], e["source"]["stream"]) for e in trail["timeline"]]


def arrangement(
    talkoot: Talkoot, request_id: str, status: str, who: str = "", steps: tuple = ()
) -> dict:
    """The trail once the arrangement has ``status`` and its timeline ``steps``: each stream
    reaches the audit trail through a consumer of its own, so one may be a moment behind."""

    def read() -> dict | None:
        response = talkoot.get("partnerships", f"/audit/arrangements/{request_id}", who=who)
        return response.json() if response.status_code == 200 else None

    return eventually(
        read,
        lambda trail: (
            trail is not None
            and trail["arrangement"]["status"] == status
            and set(steps) <= set(steps_of(trail))
        ),
        20,
        f"the arrangement of {request_id} to be {status}",
    )


@pytest.fixture(scope="module")
def charged(talkoot: Talkoot) -> dict:
    """A request of RESIDENT, assigned, completed (2.5 hours), confirmed and charged."""
    from tests.conftest import unused_scope

    category, region = unused_scope()
    provider_id, contract_id = talkoot.ready_provider(category, region, unit_price_cents=3200)
    request_id = talkoot.submit(category, region, RESIDENT)["id"]
    offered = talkoot.wait_for_status(request_id, "offered")
    talkoot.ok(talkoot.accept(offered["offer_id"], provider_id))
    talkoot.wait_for_status(request_id, "assigned")
    member = talkoot.member(provider_id)
    talkoot.ok(talkoot.on_request(request_id, "completion", {"hours": 2.5}, who=member))
    talkoot.wait_for_status(request_id, "completed")
    resident = talkoot.resident(RESIDENT)
    talkoot.ok(talkoot.on_request(request_id, "confirmation", {}, who=resident))
    trail = arrangement(talkoot, request_id, "charged", who=talkoot.officer(), steps=STEPS)
    return {
        "category": category,
        "region": region,
        "provider_id": provider_id,
        "contract_id": contract_id,
        "request_id": request_id,
        "trail": trail,
    }


def test_a_charged_request_is_one_arrangement_with_its_contract_version_amount_and_pseudonym(
    charged: dict,
):
    found = charged["trail"]["arrangement"]
    assert found["request_id"] == charged["request_id"]
    assert found["contract_id"] == charged["contract_id"]
    assert found["contract_version"] == 1
    assert found["partner_id"] == "lahti-city"
    assert found["provider_id"] == charged["provider_id"]
    assert (found["category"], found["region"]) == (charged["category"], charged["region"])
    assert found["hours"] == 2.5
    assert found["amount_cents"] == 8000  # 2.5 h at 32.00 €
    assert found["city_share_cents"] is None and found["resident_share_cents"] is None
    assert found["resident"].startswith("anon-") and RESIDENT not in found["resident"]
    for day in ("submitted_at", "assigned_at", "completed_at", "confirmed_at", "charged_at"):
        assert found[day] is not None, day
    assert found["submitted_at"] <= found["assigned_at"] <= found["completed_at"]
    assert found["confirmed_at"] <= found["charged_at"]
    assert not found["disputed"] and not found["voided"] and found["ruling"] is None


def test_the_timeline_lists_each_step_in_order_with_its_stream_and_position(charged: dict):
    timeline = charged["trail"]["timeline"]
    steps = steps_of(charged["trail"])
    for wanted in STEPS:
        assert wanted in steps, f"{wanted} not in {steps}"
    order = [s for s, _ in steps]
    assert order.index("submitted") < order.index("offered") < order.index("accepted")
    assert order.index("accepted") < order.index("completed") < order.index("confirmed")
    assert order.index("confirmed") < order.index("charged")
    assert [e["at"] for e in timeline] == sorted(e["at"] for e in timeline)
    assert all(e["source"]["position"] > 0 for e in timeline)
    offered = next(e for e in timeline if e["step"] == "offered")
    assert offered["why"] and charged["provider_id"] in offered["details"]["provider_id"]
    by_step = {e["step"]: e for e in timeline}
    resident = charged["trail"]["arrangement"]["resident"]
    assert by_step["submitted"]["actor"] == f"resident:{resident}"
    assert by_step["accepted"]["actor"] == f"provider:{charged['provider_id']}"
    assert by_step["charged"]["details"]["amount_cents"] == 8000
    # never the resident's id, nor what they wrote
    assert RESIDENT not in str(timeline) and "Front yard" not in str(timeline)


def test_the_list_is_filtered_by_partner_provider_category_region_and_period(
    talkoot: Talkoot, charged: dict
):
    officer = talkoot.officer()

    def listed(**params) -> list[str]:
        response = talkoot.get("partnerships", "/audit/arrangements", who=officer, **params)
        assert response.status_code == 200, response.text
        return [a["request_id"] for a in response.json()]

    request_id, today = charged["request_id"], datetime.now(UTC).date().isoformat()
    assert listed(provider_id=charged["provider_id"]) == [request_id]
    assert request_id in listed(category=charged["category"], region=charged["region"])
    assert listed(provider_id=charged["provider_id"], partner_id="other-city") == []
    assert listed(provider_id=charged["provider_id"], until="2020-01-01") == []
    assert listed(provider_id=charged["provider_id"], **{"from": "2020-01-01"}) == [request_id]
    assert listed(provider_id=charged["provider_id"], limit=1, offset=1) == []
    backwards = talkoot.get(
        "partnerships", "/audit/arrangements", who=officer, **{"from": today, "until": "2020-01-01"}
    )
    assert backwards.status_code == 422 and backwards.json()["extra"]["rule"] == "until"


def test_the_list_is_csv_when_asked_for_either_way(talkoot: Talkoot, charged: dict):
    params = {"provider_id": charged["provider_id"]}
    by_query = talkoot.get("partnerships", "/audit/arrangements", format="csv", **params)
    by_accept = talkoot.http.get(
        talkoot.url("partnerships", "/audit/arrangements"),
        params=params,
        headers={**talkoot.headers(talkoot.admin()), "Accept": "text/csv"},
    )
    for response in (by_query, by_accept):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [r["request_id"] for r in rows] == [charged["request_id"]]
        assert rows[0]["amount_cents"] == "8000" and rows[0]["contract_version"] == "1"
        assert rows[0]["resident"].startswith("anon-")
        assert RESIDENT not in response.text


def test_another_partners_officer_sees_nothing_of_it_and_others_are_refused(
    talkoot: Talkoot, charged: dict
):
    request_id = charged["request_id"]
    other = talkoot.officer("other-city")
    path = f"/audit/arrangements/{request_id}"
    assert talkoot.get("partnerships", path, who=other).status_code == 404
    listed = talkoot.get(
        "partnerships", "/audit/arrangements", who=other, provider_id=charged["provider_id"]
    )
    assert listed.status_code == 200 and listed.json() == []
    for who in (talkoot.resident(RESIDENT), talkoot.member(charged["provider_id"])):
        assert talkoot.get("partnerships", path, who=who).status_code == 403
        assert talkoot.get("partnerships", "/audit/arrangements", who=who).status_code == 403
    assert talkoot.get("partnerships", path, who=None).status_code == 401
    assert talkoot.get("partnerships", path).status_code == 200  # an admin


def test_a_request_as_of_a_moment_before_and_after_its_assignment(talkoot: Talkoot, charged: dict):
    request_id, trail = charged["request_id"], charged["trail"]["arrangement"]
    resident = talkoot.resident(RESIDENT)
    path = f"/requests/{request_id}"
    before = datetime.fromisoformat(trail["assigned_at"]).timestamp() - 0.0005
    then = talkoot.get(
        "requests", path, who=resident, as_of=datetime.fromtimestamp(before, UTC).isoformat()
    )
    assert then.status_code == 200, then.text
    assert then.json()["status"] in ("submitted", "offered") and then.json()["contract_id"] is None
    after = talkoot.get("requests", path, who=resident, as_of=trail["assigned_at"])
    assert after.json()["status"] == "assigned"
    assert after.json()["contract_id"] == charged["contract_id"]
    assert after.json()["as_of"] is not None and after.json()["version"] >= 3
    now = talkoot.get("requests", path, who=resident, as_of=datetime.now(UTC).isoformat())
    assert now.json()["status"] == "confirmed"
    long_ago = talkoot.get("requests", path, who=resident, as_of="2020-01-01T00:00:00Z")
    assert long_ago.status_code == 404
    naive = talkoot.get("requests", path, who=resident, as_of="2030-01-01T00:00:00")
    assert naive.status_code == 422 and naive.json()["extra"]["rule"] == "as_of"
    nosy = talkoot.resident("resident-nosy")
    assert (
        talkoot.get("requests", path, who=nosy, as_of=datetime.now(UTC).isoformat()).status_code
        == 404
    )


def test_a_provider_as_of_a_moment_before_a_member_joined_does_not_have_them(
    talkoot: Talkoot,
):
    from tests.conftest import unused_scope

    category, region = unused_scope()
    provider_id = talkoot.register_provider(category, region)
    member = talkoot.member(provider_id)
    time.sleep(0.05)
    between = datetime.now(UTC)
    time.sleep(0.05)
    talkoot.ok(
        talkoot.post(
            "providers",
            f"/providers/{provider_id}/members",
            {"name": "Myöhempi Jäsen", "role": "chair"},
            who=member,
        )
    )
    path = f"/providers/{provider_id}"
    then = talkoot.get("providers", path, who=member, as_of=between.isoformat()).json()
    now = talkoot.get("providers", path, who=member, as_of=datetime.now(UTC).isoformat()).json()
    assert [m["name"] for m in then["members"]] == []
    assert [(m["name"], m["role"]) for m in now["members"]] == [("Myöhempi Jäsen", "chair")]
    assert then["as_of"] is not None and then["version"] < now["version"]
    assert talkoot.get("providers", path, as_of="2020-01-01T00:00:00Z").status_code == 404
    naive = talkoot.get("providers", path, as_of="2030-01-01T12:00:00")
    assert naive.status_code == 422 and naive.json()["extra"]["rule"] == "as_of"
