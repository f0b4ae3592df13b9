"""Settlement statements on the running stack: the charges of confirmed requests, their totals
per contract and per partner, the period they fall in, who sees them, as JSON and CSV; and
`talkoot audit reconcile`, which recomputes them from the event store and names a contract
whose charge the ledger read model was made to misstate (undone afterwards)."""

from __future__ import annotations

import csv
import io
import uuid
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from domain.calendar import local_today
from services import cli
from tests.client import Talkoot
from tests.conftest import unused_scope


@dataclass
class Charged:
    partner: str
    contracts: list[str]
    requests: dict[str, list[str]]  # contract -> its confirmed requests


@pytest.fixture(scope="module")
def charged(talkoot: Talkoot) -> Charged:
    """A partner of its own with two contracts (two providers): two confirmed requests of
    2 h and 1.25 h under the first at 30 €/h, one of 1 h under the second at 42.50 €/h."""
    partner = f"settle-{uuid.uuid4().hex[:8]}"
    contracts, requests = [], {}
    for price, hours in ((3000, (2.0, 1.25)), (4250, (1.0,))):
        category, region = unused_scope()
        provider, contract = talkoot.ready_provider(
            category, region, partner_id=partner, unit_price_cents=price
        )
        contracts.append(contract)
        requests[contract] = []
        for h in hours:
            request = talkoot.completed_request(category, region, provider, hours=h)
            talkoot.ok(talkoot.on_request(request, "confirmation", {}, who=talkoot.resident()))
            requests[contract].append(request)
    talkoot.wait_until_quiet()
    return Charged(partner, contracts, requests)


def statement(talkoot: Talkoot, who: str | None = "", **params) -> dict:
    return talkoot.ok(talkoot.get("partnerships", "/settlements", who=who, **params), 200)


def test_the_statement_totals_are_the_charges_of_confirmed_work(talkoot: Talkoot, charged: Charged):
    today = local_today().isoformat()
    made = statement(talkoot, talkoot.officer(charged.partner), **{"from": today, "until": today})
    first, second = charged.contracts
    assert {(c["contract_id"], c["request_id"], c["amount_cents"]) for c in made["charges"]} == {
        (first, charged.requests[first][0], 6000),
        (first, charged.requests[first][1], 3750),
        (second, charged.requests[second][0], 4250),
    }
    assert all(c["version"] == 1 and c["day"] == today for c in made["charges"])
    totals = {
        c["contract_id"]: (c["charges"], c["minutes"], c["amount_cents"]) for c in made["contracts"]
    }
    assert totals == {first: (2, 195, 9750), second: (1, 60, 4250)}
    assert made["partners"] == [
        {
            "partner_id": charged.partner,
            "contracts": 2,
            "charges": 3,
            "minutes": 255,
            "amount_cents": 14000,
            "amount_eur": "140.00",
        }
    ]
    assert made["total"]["amount_cents"] == 14000
    # what the ledger says it charged each contract
    for contract in charged.contracts:
        assert talkoot.ledger(contract)["charged_cents"] == totals[contract][2]
    assert "charged" in made["time_rule"]


def test_a_period_holds_the_charges_of_its_days_only(talkoot: Talkoot, charged: Charged):
    today = local_today()
    officer = talkoot.officer(charged.partner)
    yesterday, tomorrow = (
        (today - timedelta(days=1)).isoformat(),
        (today + timedelta(days=1)).isoformat(),
    )
    assert statement(talkoot, officer, until=yesterday)["charges"] == []
    assert statement(talkoot, officer, **{"from": tomorrow})["charges"] == []
    assert statement(talkoot, officer, **{"from": yesterday})["total"]["charges"] == 3
    one = statement(talkoot, officer, contract_id=charged.contracts[1])
    assert [c["contract_id"] for c in one["contracts"]] == [charged.contracts[1]]


def test_as_csv_each_charge_is_a_row_and_the_totals_add_up(talkoot: Talkoot, charged: Charged):
    officer = talkoot.officer(charged.partner)
    by_header = talkoot.http.get(
        talkoot.url("partnerships", "/settlements"),
        headers={**talkoot.headers(officer), "Accept": "text/csv"},
    )
    by_query = talkoot.get("partnerships", "/settlements", who=officer, format="csv")
    for answer in (by_header, by_query):
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("text/csv")
    assert by_header.text == by_query.text
    rows = list(csv.DictReader(io.StringIO(by_query.text)))
    charges = [r for r in rows if r["row"] == "charge"]
    assert len(charges) == 3
    for r in rows:
        if r["row"] == "contract":
            mine = [c for c in charges if c["contract_id"] == r["contract_id"]]
            assert int(r["amount_cents"]) == sum(int(c["amount_cents"]) for c in mine)
    assert rows[-1]["row"] == "total" and rows[-1]["amount_eur"] == "140.00"


def test_officers_see_their_partners_an_admin_every_ones_and_others_none(
    talkoot: Talkoot, charged: Charged
):
    other = talkoot.officer("other-city")
    assert all(c["partner_id"] == "other-city" for c in statement(talkoot, other)["charges"])
    refused = talkoot.get("partnerships", "/settlements", who=other, partner_id=charged.partner)
    assert refused.status_code == 403 and refused.json()["extra"]["rule"] == "partner_id"
    hidden = talkoot.get(
        "partnerships", "/settlements", who=other, contract_id=charged.contracts[0]
    )
    assert hidden.status_code == 404
    for who in (talkoot.resident(), talkoot.member("any-provider")):
        assert talkoot.get("partnerships", "/settlements", who=who).status_code == 403
    assert talkoot.get("partnerships", "/settlements", who=None).status_code == 401
    admins = statement(talkoot, partner_id=charged.partner)
    assert admins["total"]["amount_cents"] == 14000


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-02-30"}, "from"),
        ({"until": "tomorrow"}, "until"),
        ({"from": "2026-03-02", "until": "2026-03-01"}, "from"),
        ({"from": "1900-01-01"}, "from"),
    ],
)
def test_a_bad_period_is_a_400_naming_the_field(talkoot: Talkoot, params: dict, field: str):
    answer = talkoot.get("partnerships", "/settlements", who=talkoot.officer(), **params)
    assert answer.status_code == 400, answer.text
    assert [e["key"] for e in answer.json()["extra"]] == [field]


# --- talkoot audit reconcile --------------------------------------------------------------


def reconcile(talkoot: Talkoot, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    """`talkoot audit reconcile ...` against the session's stack, as its environment names it."""
    out, errors = io.StringIO(), io.StringIO()
    stack = talkoot.stack
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TALKOOT_DATABASE_URL", stack.database_url)
        patch.setenv("TALKOOT_NAMESPACE", stack.namespace)
        patch.setenv("TALKOOT_JWT_SECRET", stack.secrets["jwt"])
        patch.setenv("TALKOOT_PARTNERSHIPS_PORT", str(stack.ports["partnerships"]))
        with redirect_stdout(out), redirect_stderr(errors):
            code = cli.main(["--data-dir", str(tmp_path), "audit", "reconcile", *args])
    return code, out.getvalue(), errors.getvalue()


@pytest.mark.parametrize("against", ["service", "ledger"])
def test_reconcile_finds_every_contract_ok_then_names_one_whose_charge_was_altered(
    talkoot: Talkoot, charged: Charged, tmp_path: Path, against: str
):
    args = ("--partner", charged.partner, "--against", against)
    code, out, errors = reconcile(talkoot, tmp_path, *args)
    assert code == 0, out + errors
    for contract in charged.contracts:
        line = next(li for li in out.splitlines() if contract in li)
        assert line.rstrip().endswith("OK")
    assert "3 charges, 140.00 € in all" in out

    contract, request = charged.contracts[0], charged.requests[charged.contracts[0]][1]
    table = f'"{talkoot.stack.namespace}_read".ledger_entries'
    where = "WHERE contract_id = %s AND request_id = %s AND outcome = 'charged'"
    with psycopg.connect(talkoot.stack.database_url, autocommit=True) as conn:
        conn.execute(
            f"UPDATE {table} SET amount_cents = amount_cents + 1 {where}", (contract, request)
        )
        try:
            code, out, errors = reconcile(talkoot, tmp_path, *args)
        finally:
            conn.execute(
                f"UPDATE {table} SET amount_cents = amount_cents - 1 {where}", (contract, request)
            )
    assert code == 1, out + errors
    line = next(li for li in out.splitlines() if li.strip().startswith(contract))
    assert "DIFFERS by +0.01 €" in line and "97.50 €" in line
    assert f"request {request}: stored 37.50 €, statement 37.51 €" in out
    assert f"NOT RECONCILED: 1 of 2 contracts differ ({contract})" in out
    assert reconcile(talkoot, tmp_path, *args)[0] == 0


def test_reconcile_says_plainly_when_it_cannot_run(talkoot: Talkoot, tmp_path: Path):
    code, _, errors = reconcile(talkoot, tmp_path, "--from", "2026-03-02", "--until", "2026-03-01")
    assert code == 2 and "--from (2026-03-02) is after --until (2026-03-01)" in errors
    with pytest.raises(SystemExit) as bad:
        reconcile(talkoot, tmp_path, "--from", "yesterday")
    assert bad.value.code == 2
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(talkoot.stack, "namespace", "nobody_here")
        code, _, errors = reconcile(talkoot, tmp_path)
    assert code == 2 and "no partnerships event store" in errors
