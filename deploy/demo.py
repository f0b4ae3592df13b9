"""Demo data from the Lahti region: providers, signed contracts, a few requests in flight, a
rated job, recurring requests and a planned holiday; and Lahti's four partnership tables with a
year of their history (deploy/demo_tables.py).

Loaded over the public HTTP APIs, exactly as partners, providers and residents would: each step
by the person whose step it is, with a token of theirs signed by the stack's secret. The same
people, with long-lived tokens, are what a walk-through of the demo signs in as
(``write_tokens``).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from deploy import demo_tables
from deploy.stack import wait_for_quiet, write_private
from domain.calendar import local_today
from services.platform.tokens import claims

# Signs claims (``services.platform.tokens.claims``) with the stack's secret, valid for a
# while: ``Stack.token``.
Signer = Callable[[dict[str, Any], timedelta], str]

# How long the tokens handed out for a walk-through of the demo stay valid.
WALK_THROUGH = timedelta(days=30)
# How long the tokens the loading itself uses stay valid.
LOADING = timedelta(hours=1)

# The municipal partners of the demo: Lahti's units that fund the services, each with the
# budget above which a contract needs the signatures of two of its officers.
PARTNERS = {
    "lahti-city-environment": {
        "name": "Lahden kaupunki, tekninen ja ympäristötoimiala",
        "second_signature_above_cents": 2_000_000,
    },
    "lahti-city-wellbeing": {
        "name": "Lahden kaupunki, hyvinvoinnin ja sivistyksen toimiala",
        "second_signature_above_cents": 2_000_000,
    },
    "lahti-city-culture": {
        "name": "Lahden kaupunki, kulttuuripalvelut",
        "second_signature_above_cents": 1_000_000,
    },
}

PROVIDERS = [
    {
        "name": "Mukkulan Talkoot osuuskunta",
        "kind": "cooperative",
        "business_id": "0737546-2",
        "categories": ["snow-clearing", "yard-work"],
        "regions": ["lahti-mukkula", "lahti-keskusta", "lahti-ahtiala"],
        "capacity": 3,
        "lat": 61.0065,
        "long": 25.6760,
        "contact": "mukkula.talkoot@example.fi",
        "partner": "lahti-city-environment",
    },
    {
        "name": "Nastolan kyläyhdistys",
        "kind": "village_group",
        "contact_person": {"name": "Aino Virtanen", "phone": "040 123 4567"},
        "categories": ["snow-clearing", "yard-work", "event-help"],
        "regions": ["nastola"],
        "capacity": 2,
        "lat": 60.9470,
        "long": 25.9310,
        "contact": "Aino Virtanen, 040 123 4567",
        "partner": "lahti-city-environment",
    },
    {
        "name": "Kivimaan Kotiapu",
        "kind": "social_enterprise",
        "business_id": "2617416-4",
        "categories": ["shopping-help", "elderly-visit", "small-repairs"],
        "regions": ["lahti-kivimaa", "lahti-laune", "lahti-keskusta", "lahti-liipola"],
        "capacity": 4,
        "lat": 60.9680,
        "long": 25.6400,
        "contact": "kotiapu@example.fi",
        "partner": "lahti-city-wellbeing",
    },
    {
        "name": "Hollolan Nuorisoseura",
        "kind": "association",
        "business_id": "1572860-0",
        "categories": ["event-help", "yard-work"],
        "regions": ["hollola"],
        "capacity": 2,
        "lat": 60.9890,
        "long": 25.5150,
        "contact": "Eero Laine, 044 765 4321",
        "partner": "lahti-city-culture",
    },
]

REQUESTS = [
    ("resident-0001", "snow-clearing", "lahti-mukkula", "Driveway and front steps, about 20 m."),
    ("resident-0002", "shopping-help", "lahti-kivimaa", "Weekly groceries from the K-market."),
    ("resident-0003", "elderly-visit", "lahti-laune", "A walk and coffee with my father, 84."),
    ("resident-0004", "event-help", "nastola", "Setting up the village hall for a flea market."),
    ("resident-0005", "small-repairs", "lahti-keskusta", "A loose door handle and two bulbs."),
    ("resident-0006", "snow-clearing", "orimattila", "Yard of a summer cottage."),
]

SERIES = [
    {
        "resident_id": "resident-0002",  # who sets it up, not a field of the body
        "category": "shopping-help",
        "region": "lahti-kivimaa",
        "rule": "weekly",
        "weekday": "thursday",
        "start_time": "10:00",
        "description": "Weekly groceries from the K-market.",
    },
    {
        "resident_id": "resident-0001",
        "category": "snow-clearing",
        "region": "lahti-mukkula",
        "rule": "snowfall",
        "start_time": "07:00",
        "description": "Driveway and front steps, on every snowfall day.",
    },
]


ADMIN = "demo-admin"


@dataclass(frozen=True)
class Person:
    """Someone the demo acts as: ``acts_for`` is the provider a member acts for, the
    municipal partner an officer works for (who signs its contracts unless ``may_sign`` is
    off), or the table a coordinator runs; ``about`` names it in words. A resident lives in
    ``region`` (whose table's initiatives and rounds are theirs)."""

    role: str  # resident, provider, officer, coordinator or admin
    subject: str
    acts_for: str | None = None
    about: str = ""
    # a resident's requests ({category, region}) and series ({category, rule}), for the
    # sign-in page to name in its own language
    asked: tuple[dict[str, str], ...] = field(default=(), compare=False)
    may_sign: bool = True
    region: str | None = None

    @property
    def claims(self) -> dict[str, Any]:
        if self.role == "provider":
            return claims(self.subject, ["provider"], provider=self.acts_for)
        if self.role == "officer":
            return claims(self.subject, ["officer"], partner=self.acts_for, may_sign=self.may_sign)
        if self.role == "coordinator":
            return claims(self.subject, ["coordinator"], table=self.acts_for)
        if self.role == "resident" and self.region:
            return claims(self.subject, ["resident"], region=self.region)
        return claims(self.subject, [self.role])


def slug(name: str) -> str:
    """``Nastolan kyläyhdistys`` -> ``nastolan-kylayhdistys``."""
    plain = unicodedata.normalize("NFKD", name.lower()).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def founder(name: str) -> Person:
    """Who registers the provider ``name`` and then acts for it as its member."""
    return Person("provider", f"member-{slug(name)}", about=name)


def residents() -> list[Person]:
    """Each resident of the demo, said by what they asked for."""
    asked: dict[str, list[dict[str, str]]] = {}
    for subject, category, region, _ in REQUESTS:
        asked.setdefault(subject, []).append({"category": category, "region": region})
    for series in SERIES:
        asked.setdefault(series["resident_id"], []).append(
            {"category": series["category"], "rule": series["rule"]}
        )

    def said(what: dict[str, str]) -> str:
        if "rule" in what:
            return f"recurring {what['category']} ({what['rule']})"
        return f"{what['category']} in {what['region']}"

    lives = {}  # each resident lives where they first asked for a service
    for subject, _, region, _ in REQUESTS:
        lives.setdefault(subject, region)
    return [
        Person(
            "resident",
            subject,
            about="; ".join(map(said, what)),
            asked=tuple(what),
            region=lives.get(subject),
        )
        for subject, what in asked.items()
    ]


def officers() -> list[Person]:
    """Two officers of each partner who may sign for it: one proposes a contract, the other
    signs it too (the proposer never signs alone)."""
    return [
        Person("officer", f"{who}-{partner}", partner, "may sign the partner's contracts")
        for partner in PARTNERS
        for who in ("officer", "head")
    ]


def coordinators() -> list[Person]:
    """The coordinator of each partnership table."""
    return [
        Person(
            "coordinator", demo_tables.coordinator_subject(t["table_id"]), t["table_id"], t["name"]
        )
        for t in demo_tables.TABLES
    ]


def people(provider_ids: dict[str, str]) -> list[Person]:
    """Everyone of the demo: its residents, a member of each provider (by name, whose ids
    are ``provider_ids``), two officers of each partner, each table's coordinator and an
    admin."""
    members = [
        Person("provider", founder(name).subject, provider_id, name)
        for name, provider_id in provider_ids.items()
    ]
    return [
        *residents(),
        *members,
        *officers(),
        *coordinators(),
        Person("admin", ADMIN, about="operations"),
    ]


def people_loaded(urls: dict[str, str]) -> list[Person]:
    """The demo's people once its data is in: the providers' ids from the public directory."""
    response = httpx.get(f"{urls['providers']}/providers/", params={"limit": 1000}, timeout=10)
    response.raise_for_status()
    ids: dict[str, str] = {}
    for entry in response.json():
        ids.setdefault(entry["name"], entry["provider_id"])
    return people({e["name"]: ids[e["name"]] for e in PROVIDERS if e["name"] in ids})


def write_tokens(path: Path, everyone: list[Person], sign: Signer) -> int:
    """Each person's token, valid for WALK_THROUGH, in ``path`` (readable by its owner only);
    how many there are."""
    issued = datetime.now(UTC).replace(microsecond=0)
    entries = [
        {
            "role": person.role,
            "subject": person.subject,
            "acts_for": person.acts_for,
            "about": person.about,
            "asked": list(person.asked),
            "token": sign(person.claims, WALK_THROUGH),
        }
        for person in everyone
    ]
    document = {
        "how": "send a token as `Authorization: Bearer <token>`",
        "issued_at": issued.isoformat(),
        "expires_at": (issued + WALK_THROUGH).isoformat(),
        "people": entries,
    }
    write_private(path, json.dumps(document, indent=2))
    return len(entries)


def load(
    urls: dict[str, str],
    nats_url: str,
    namespace: str,
    say: Callable[[str], None],
    sign: Signer,
    nats_options: dict[str, str] | None = None,
) -> list[Person]:
    """Load the demo through the APIs, as its people, with tokens ``sign`` makes; returns
    the people. ``nats_options`` (an identity) are for watching the consumers catch up."""
    tokens: dict[Person, str] = {}

    def as_(person: Person) -> dict[str, str]:
        if person not in tokens:
            tokens[person] = sign(person.claims, LOADING)
        return {"Authorization": f"Bearer {tokens[person]}"}

    def resident(subject: str) -> Person:
        return Person("resident", subject)

    with httpx.Client(timeout=10) as http:

        def post(service: str, path: str, body: dict, who: Person, method: str = "POST") -> dict:
            # a retry would send the same key
            headers = {"Idempotency-Key": uuid.uuid4().hex, **as_(who)}
            url = f"{urls[service]}{path}"
            response = http.request(method, url, json=body, headers=headers)
            if response.is_error:
                raise RuntimeError(
                    f"{method} {service}{path} as {who.subject}: "
                    f"{response.status_code} {response.text}"
                )
            return response.json()

        def read(path: str, who: Person) -> dict:
            response = http.get(f"{urls['requests']}{path}", headers=as_(who))
            response.raise_for_status()
            return response.json()

        today = local_today()  # Lahti's day: contracts and the holiday count its days
        provider_ids: dict[str, str] = {}
        members: dict[str, Person] = {}
        admin = Person("admin", ADMIN)
        for code, partner in PARTNERS.items():
            post("partnerships", "/partners", {"partner_id": code, **partner}, admin)
            for officer in officers():
                if officer.acts_for == code:
                    appointment = {"subject": officer.subject, "may_sign": True}
                    post("partnerships", f"/partners/{code}/officers", appointment, admin)
            say(f"municipal partner {partner['name']} registered with its officers")
        for entry in PROVIDERS:
            provider = dict(entry)
            partner = provider.pop("partner")
            name = entry["name"]
            provider_id = post("providers", "/providers", provider, founder(name))["id"]
            provider_ids[name] = provider_id
            member = members[provider_id] = Person(
                "provider", founder(name).subject, provider_id, name
            )
            officer = Person("officer", f"officer-{partner}", partner)
            contract_id = post(
                "partnerships",
                "/contracts",
                {
                    "provider_id": provider_id,
                    "categories": entry["categories"],
                    "regions": entry["regions"],
                    "unit_price_cents": 3200,
                    "budget_cents": 500_000,
                    "valid_from": today.replace(month=1, day=1).isoformat(),
                    "valid_until": today.replace(year=today.year + 1, month=12, day=31).isoformat(),
                },
                officer,
            )["id"]
            signatures = f"/contracts/{contract_id}/signatures"
            head = Person("officer", f"head-{partner}", partner)
            post("partnerships", signatures, {"party": "partner"}, head)
            post("partnerships", signatures, {"party": "provider"}, member)
            say(f"provider {name} registered, contract with {partner} signed")

        # Matching must know the providers and contracts before the first request arrives.
        asyncio.run(wait_for_quiet(nats_url, namespace, urls, **(nats_options or {})))

        start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
        request_ids = []
        for subject, category, region, description in REQUESTS:
            request_ids.append(
                post(
                    "requests",
                    "/requests",
                    {
                        "category": category,
                        "region": region,
                        "description": description,
                        "window_start": start.isoformat(),
                        "window_end": (start + timedelta(hours=4)).isoformat(),
                    },
                    resident(subject),
                )["id"]
            )
        asyncio.run(wait_for_quiet(nats_url, namespace, urls, **(nats_options or {})))
        say(f"{len(request_ids)} service requests submitted")

        # Carry the first request all the way through, and accept the second: each resident
        # sees their own request, and who it is offered to accepts it.
        (first, first_by), (second, second_by) = [
            (request_ids[n], resident(REQUESTS[n][0])) for n in (0, 1)
        ]
        for request_id, by in ((first, first_by), (second, second_by)):
            entry = read(f"/requests/{request_id}", by)
            if entry.get("offer_id") and entry.get("provider_id") in members:
                post(
                    "matching",
                    f"/offers/{entry['offer_id']}/acceptance",
                    {},
                    members[entry["provider_id"]],
                )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            entry = read(f"/requests/{first}", first_by)
            if entry["status"] == "assigned" and entry.get("provider_id") in members:
                done = f"/requests/{first}"
                post(
                    "requests", f"{done}/completion", {"hours": 1.5}, members[entry["provider_id"]]
                )
                post("requests", f"{done}/confirmation", {}, first_by)
                post(
                    "requests",
                    f"{done}/rating",
                    {"stars": 5, "comment": "Quick and tidy."},
                    first_by,
                )
                break
            time.sleep(0.1)
        say("one request done, charged and rated, one assigned, the rest offered or unmatched")

        for series in SERIES:
            body = {key: value for key, value in series.items() if key != "resident_id"}
            post("requests", "/series", body, resident(series["resident_id"]))
        holiday = today.replace(year=today.year + 1, month=7, day=1)
        hollola = provider_ids["Hollolan Nuorisoseura"]
        post(
            "providers",
            f"/providers/{hollola}/pauses",
            {
                "starts": holiday.isoformat(),
                "ends": holiday.replace(day=31).isoformat(),
                "reason": "summer holidays",
            },
            members[hollola],
        )
        asyncio.run(wait_for_quiet(nats_url, namespace, urls, **(nats_options or {})))
        say("two recurring requests set up; one provider's summer holiday planned")

        by_region: dict[str, list[Person]] = {}
        for person in residents():
            if person.region:
                by_region.setdefault(person.region, []).append(person)
        programme_by = demo_tables.PROGRAMME["provider"]
        cast = demo_tables.Cast(
            admin=admin,
            coordinators={p.acts_for: p for p in coordinators()},
            officer=Person("officer", f"officer-{demo_tables.CITY}", demo_tables.CITY),
            residents=by_region,
            provider_member=members[provider_ids[programme_by]],
            provider_id=provider_ids[programme_by],
        )
        programme = demo_tables.load(post, cast, today, say)
        # Partnerships makes the programme a contract with the table; its provider signs it.
        asyncio.run(wait_for_quiet(nats_url, namespace, urls, **(nats_options or {})))
        signature = f"/contracts/{programme}/signatures"
        post("partnerships", signature, {"party": "provider"}, cast.provider_member)
        asyncio.run(wait_for_quiet(nats_url, namespace, urls, **(nats_options or {})))
        say(f"a service programme of {programme_by} funded by a table, its contract signed")
    return people(provider_ids)
