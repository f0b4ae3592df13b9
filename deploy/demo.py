"""Demo data from the Lahti region: providers, signed contracts, a few requests in flight, a
rated job, recurring requests and a planned holiday.

Loaded over the public HTTP APIs, exactly as partners, providers and residents would.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx

from deploy.stack import wait_for_quiet
from domain.calendar import local_today

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
        "resident_id": "resident-0002",
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


def load(
    urls: dict[str, str],
    nats_url: str,
    namespace: str,
    say: Callable[[str], None],
    nats_options: dict[str, str] | None = None,
) -> None:
    """Load the demo through the APIs; ``nats_options`` (an identity) are for watching the
    consumers catch up."""
    with httpx.Client(timeout=10) as http:

        def post(service: str, path: str, body: dict) -> dict:
            key = {"Idempotency-Key": uuid.uuid4().hex}  # a retry would send the same one
            response = http.post(f"{urls[service]}{path}", json=body, headers=key)
            response.raise_for_status()
            return response.json()

        today = local_today()  # Lahti's day: contracts and the holiday count its days
        provider_ids: dict[str, str] = {}
        for entry in PROVIDERS:
            provider = dict(entry)
            partner = provider.pop("partner")
            provider_id = post("providers", "/providers", provider)["id"]
            provider_ids[entry["name"]] = provider_id
            contract_id = post(
                "partnerships",
                "/contracts",
                {
                    "partner_id": partner,
                    "provider_id": provider_id,
                    "categories": entry["categories"],
                    "regions": entry["regions"],
                    "unit_price_cents": 3200,
                    "budget_cents": 500_000,
                    "valid_from": today.replace(month=1, day=1).isoformat(),
                    "valid_until": today.replace(year=today.year + 1, month=12, day=31).isoformat(),
                },
            )["id"]
            post(
                "partnerships",
                f"/contracts/{contract_id}/signatures",
                {"party": "partner", "signed_by": partner},
            )
            post(
                "partnerships",
                f"/contracts/{contract_id}/signatures",
                {"party": "provider", "signed_by": provider_id},
            )
            say(f"provider {entry['name']} registered, contract with {partner} signed")

        # Matching must know the providers and contracts before the first request arrives.
        asyncio.run(wait_for_quiet(nats_url, namespace, urls, **(nats_options or {})))

        start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
        request_ids = []
        for resident, category, region, description in REQUESTS:
            request_ids.append(
                post(
                    "requests",
                    "/requests",
                    {
                        "resident_id": resident,
                        "category": category,
                        "region": region,
                        "description": description,
                        "window_start": start.isoformat(),
                        "window_end": (start + timedelta(hours=4)).isoformat(),
                    },
                )["id"]
            )
        asyncio.run(wait_for_quiet(nats_url, namespace, urls, **(nats_options or {})))
        say(f"{len(request_ids)} service requests submitted")

        # Carry the first request all the way through, and accept the second.
        first, second = request_ids[0], request_ids[1]
        for request_id in (first, second):
            entry = http.get(f"{urls['requests']}/requests/{request_id}").json()
            if entry.get("offer_id"):
                post(
                    "matching",
                    f"/offers/{entry['offer_id']}/acceptance",
                    {"provider_id": entry["provider_id"]},
                )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            entry = http.get(f"{urls['requests']}/requests/{first}").json()
            if entry["status"] == "assigned":
                post(
                    "requests",
                    f"/requests/{first}/completion",
                    {"provider_id": entry["provider_id"], "hours": 1.5},
                )
                post(
                    "requests", f"/requests/{first}/confirmation", {"resident_id": "resident-0001"}
                )
                post(
                    "requests",
                    f"/requests/{first}/rating",
                    {"resident_id": "resident-0001", "stars": 5, "comment": "Quick and tidy."},
                )
                break
            time.sleep(0.1)
        say("one request done, charged and rated, one assigned, the rest offered or unmatched")

        for series in SERIES:
            post("requests", "/series", series)
        holiday = today.replace(year=today.year + 1, month=7, day=1)
        post(
            "providers",
            f"/providers/{provider_ids['Hollolan Nuorisoseura']}/pauses",
            {
                "starts": holiday.isoformat(),
                "ends": holiday.replace(day=31).isoformat(),
                "reason": "summer holidays",
            },
        )
        asyncio.run(wait_for_quiet(nats_url, namespace, urls, **(nats_options or {})))
        say("two recurring requests set up; one provider's summer holiday planned")
