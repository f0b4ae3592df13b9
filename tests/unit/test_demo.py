"""The demo's people and the tokens `talkoot up --demo` hands out for a walk-through."""

from __future__ import annotations

import json
import stat
from datetime import timedelta
from pathlib import Path

import jwt
from litestar.security.jwt import Token

from deploy import demo, demo_tables
from domain.tables.table import ANSWER_DAYS
from services.platform.catalogue import load_catalogue
from services.platform.identity import AUDIENCE, ISSUER, Role, caller_of, issue, new_secret

PROVIDER_IDS = {entry["name"]: f"provider-{n}" for n, entry in enumerate(demo.PROVIDERS)}


def test_the_demo_is_its_residents_members_officers_a_coordinator_per_table_and_an_admin():
    people = demo.people(PROVIDER_IDS)
    by_role = {role: [p for p in people if p.role == role] for role in {p.role for p in people}}
    assert {p.subject for p in by_role["resident"]} == {r for r, *_ in demo.REQUESTS} | {
        s["resident_id"] for s in demo.SERIES
    }
    assert {p.acts_for for p in by_role["provider"]} == set(PROVIDER_IDS.values())
    assert {p.acts_for for p in by_role["officer"]} == {e["partner"] for e in demo.PROVIDERS}
    assert len(by_role["officer"]) == 2 * len(demo.PARTNERS)
    assert [p.subject for p in by_role["admin"]] == [demo.ADMIN]
    assert {p.acts_for for p in by_role["coordinator"]} == {
        t["table_id"] for t in demo_tables.TABLES
    }
    assert len({p.subject for p in people}) == len(people)


def test_a_provider_is_founded_by_the_person_who_then_acts_for_it():
    name = demo.PROVIDERS[1]["name"]  # Nastolan kyläyhdistys
    [member] = [p for p in demo.people(PROVIDER_IDS) if p.acts_for == PROVIDER_IDS[name]]
    assert member.subject == demo.founder(name).subject == "member-nastolan-kylayhdistys"


def test_the_tokens_file_is_the_owners_only_and_names_each_person_with_a_token_of_theirs(
    tmp_path: Path,
):
    secret = new_secret()
    path = tmp_path / "demo-tokens.json"
    path.write_text("{}")
    path.chmod(0o644)  # from an earlier run, made readable by others since

    def sign(body: dict, lifetime: timedelta) -> str:
        return issue(secret, body, lifetime=lifetime)

    people = demo.people(PROVIDER_IDS)
    assert demo.write_tokens(path, people, sign) == len(people)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    document = json.loads(path.read_text())
    assert "Authorization: Bearer" in document["how"]
    assert [(e["role"], e["subject"], e["acts_for"]) for e in document["people"]] == [
        (p.role, p.subject, p.acts_for) for p in people
    ]
    for entry in document["people"]:
        claims = jwt.decode(entry["token"], secret, ["HS256"], audience=AUDIENCE, issuer=ISSUER)
        assert claims["exp"] - claims["iat"] == demo.WALK_THROUGH.total_seconds()
        caller = caller_of(Token.decode(entry["token"], secret, "HS256", AUDIENCE, ISSUER))
        assert caller.subject == entry["subject"]
        assert caller.roles == {Role(entry["role"])}
        if entry["role"] == "provider":
            assert caller.provider_id == entry["acts_for"]
        if entry["role"] == "officer":
            assert caller.partner_id == entry["acts_for"] and caller.may_sign
        if entry["role"] == "coordinator":
            assert caller.table_id == entry["acts_for"]
            assert caller.is_coordinator_of(entry["acts_for"])
        if entry["role"] == "resident":
            first = next(r for r, *_ in demo.REQUESTS if r == entry["subject"])
            assert caller.region == next(g for r, _, g, _ in demo.REQUESTS if r == first)


def test_every_region_of_the_catalogue_belongs_to_one_table():
    lahti = load_catalogue(str(Path(demo.__file__).with_name("catalogue.toml")))
    regions = [r for t in demo_tables.TABLES for r in t["regions"]]
    assert sorted(regions) == sorted(lahti.regions)


def test_each_initiatives_story_keeps_the_order_of_its_days():
    """Raised before the meeting that discusses it, forwarded after that meeting, answered
    after it was forwarded; the overdue one forwarded longer ago than the city's answer
    days."""
    meetings = [days for days, _ in demo_tables.MEETINGS]
    assert len(meetings) == 6 and meetings == sorted(meetings, reverse=True)
    for story in [*demo_tables.STORIES, demo_tables.PROGRAMME_STORY]:
        met = demo_tables.discussed_at(story)
        assert met in meetings and met <= story.raised < 365
        if story.to == "overdue":
            assert met - 5 > ANSWER_DAYS
    states = {s.to for s in demo_tables.STORIES} | {demo_tables.PROGRAMME_STORY.to}
    assert states >= {"overdue", "answered", "rejected", "implemented", "programme"}
    assert {s.by for s in demo_tables.STORIES} == {"resident", "member", "city"}


def test_the_programme_is_delivered_by_a_provider_of_its_tables_regions():
    programme = demo_tables.PROGRAMME
    [provider] = [p for p in demo.PROVIDERS if p["name"] == programme["provider"]]
    [table] = [t for t in demo_tables.TABLES if t["table_id"] == programme["table_id"]]
    assert set(programme["regions"]) <= set(provider["regions"]) & set(table["regions"])
    assert set(programme["categories"]) <= set(provider["categories"])
