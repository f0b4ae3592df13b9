"""The demo's people and the tokens `talkoot up --demo` hands out for a walk-through."""

from __future__ import annotations

import json
import stat
from datetime import timedelta
from pathlib import Path

import jwt
from litestar.security.jwt import Token

from deploy import demo
from services.platform.identity import AUDIENCE, ISSUER, Role, caller_of, issue, new_secret

PROVIDER_IDS = {entry["name"]: f"provider-{n}" for n, entry in enumerate(demo.PROVIDERS)}


def test_the_demo_is_its_residents_a_member_per_provider_two_officers_per_partner_and_an_admin():
    people = demo.people(PROVIDER_IDS)
    by_role = {role: [p for p in people if p.role == role] for role in {p.role for p in people}}
    assert {p.subject for p in by_role["resident"]} == {r for r, *_ in demo.REQUESTS} | {
        s["resident_id"] for s in demo.SERIES
    }
    assert {p.acts_for for p in by_role["provider"]} == set(PROVIDER_IDS.values())
    assert {p.acts_for for p in by_role["officer"]} == {e["partner"] for e in demo.PROVIDERS}
    assert len(by_role["officer"]) == 2 * len(demo.PARTNERS)
    assert [p.subject for p in by_role["admin"]] == [demo.ADMIN]
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
