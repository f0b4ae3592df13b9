"""The demo, loaded through the APIs into a Talkoot of its own: Lahti's four tables with their
year, the round finished with online and paper ballots, the programme's contract signed and
active, and each coordinator and resident of the sign-in list able to act at their table."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy import demo, demo_tables
from deploy.stack import Stack
from tests.client import Talkoot
from tests.conftest import another_talkoot

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def loaded(stack: Stack, tmp_path_factory: pytest.TempPathFactory):
    with another_talkoot(stack, tmp_path_factory.mktemp("demo")) as talkoot:
        other = talkoot.stack
        urls = {name: other.url(name) for name in other.ports}
        people = demo.load(
            urls, other.nats_url, other.namespace, lambda _: None, other.token, other.nats_options()
        )
        yield talkoot, people


def tokens_of(talkoot: Talkoot, people: list[demo.Person], path: Path) -> dict[str, str]:
    """The sign-in list's tokens, by subject, as `talkoot up --demo` writes them."""
    import json

    demo.write_tokens(path, people, talkoot.stack.token)
    return {p["subject"]: p["token"] for p in json.loads(path.read_text())["people"]}


def tables_read(talkoot: Talkoot, path: str, who: str | None = None, **params) -> list | dict:
    return talkoot.ok(talkoot.get("tables", path, who=who, **params), 200)


def test_the_four_tables_have_a_year_of_meetings_events_and_initiatives_in_every_state(loaded):
    talkoot, _ = loaded
    listed = tables_read(talkoot, "/tables")
    assert [t["table_id"] for t in listed] == [t["table_id"] for t in demo_tables.TABLES]
    states, origins = set(), set()
    for table in listed:
        view = tables_read(talkoot, f"/tables/{table['table_id']}")
        assert {m["kind"] for m in view["current_members"]} == {
            "resident",
            "association",
            "business",
            "official",
        }
        held = [m for m in view["meetings"] if m["held"]]
        assert len(held) == 6 and all(m["attendees"] and m["decisions"] for m in held)
        assert {e["kind"] for e in view["events"] if e["held"] and e["topics"]} == {
            "event",
            "speak_out",
        }
        assert view["next_meeting"] is not None
        for initiative in tables_read(talkoot, f"/tables/{table['table_id']}/initiatives"):
            states.add("overdue" if initiative["overdue"] else initiative["status"])
            origins.add(initiative["origin"])
            if initiative["answers"] and initiative["answers"][-1]["answer"] == "rejected":
                assert initiative["answers"][-1]["reasons"]
                states.add("rejected")
    assert states >= {"proposed", "discussed", "overdue", "answered", "rejected", "implemented"}
    assert origins == {"resident", "member", "city"}


def test_fees_were_paid_once_and_the_rest_are_accrued(loaded, tmp_path: Path):
    talkoot, people = loaded
    tokens = tokens_of(talkoot, people, tmp_path / "tokens.json")
    for table in demo_tables.TABLES:
        coord = tokens[demo_tables.coordinator_subject(table["table_id"])]
        payouts = tables_read(talkoot, f"/tables/{table['table_id']}/payouts", coord)
        assert len(payouts) == 1 and payouts[0]["total_cents"] > 0
        fees = tables_read(talkoot, f"/tables/{table['table_id']}/fees", coord)
        assert fees["lines"], fees


def test_the_round_finished_with_online_and_paper_ballots(loaded):
    talkoot, _ = loaded
    [summary] = tables_read(talkoot, f"/tables/{demo_tables.ROUND_TABLE}/rounds")
    budgeting = tables_read(talkoot, f"/rounds/{summary['round_id']}")
    assert budgeting["phase"] == "finished"
    [regions] = [t["regions"] for t in demo_tables.TABLES if t["table_id"] == summary["table_id"]]
    online = [p for p in demo.residents() if p.region in regions]
    assert online
    assert budgeting["result"]["ballots"] == len(online) + demo_tables.PAPER_VOTERS
    assert budgeting["result"]["funded"]


def test_the_programmes_contract_is_signed_by_the_table_and_its_provider(loaded, tmp_path: Path):
    talkoot, people = loaded
    tokens = tokens_of(talkoot, people, tmp_path / "tokens.json")
    table_id = demo_tables.PROGRAMME["table_id"]
    coord = tokens[demo_tables.coordinator_subject(table_id)]
    [contract] = talkoot.ok(talkoot.get("partnerships", "/ledger", who=coord), 200)
    assert contract["partner_id"] == f"table-{table_id}"
    assert (contract["status"], contract["signed_by_partner"]) == ("active", f"table:{table_id}")
    assert contract["signed_by_provider"]
    other = tokens[demo_tables.coordinator_subject("nastola")]
    assert talkoot.ok(talkoot.get("partnerships", "/ledger", who=other), 200) == []


def test_a_demo_resident_acts_at_the_table_of_their_region_only(loaded, tmp_path: Path):
    talkoot, people = loaded
    tokens = tokens_of(talkoot, people, tmp_path / "tokens.json")
    body = {"title": "Uimarannan laiturin korjaus"}
    laune = tokens["resident-0003"]  # lives in lahti-laune, of the southern table
    made = talkoot.post("tables", "/tables/lahti-etela/initiatives", body, who=laune)
    assert made.status_code == 201, made.text
    centre = tokens["resident-0005"]
    refused = talkoot.post("tables", "/tables/lahti-etela/initiatives", body, who=centre)
    assert (refused.status_code, refused.json()["extra"]["rule"]) == (403, "region")
