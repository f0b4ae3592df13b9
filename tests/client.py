"""A small client of Talkoot's HTTP APIs for the tests: the calls a user makes, and waiting."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from deploy.stack import Stack
from domain.calendar import local_today


class Talkoot:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.http = httpx.Client(timeout=20)

    def __enter__(self) -> Talkoot:
        return self

    def __exit__(self, *_: object) -> None:
        self.http.close()

    def url(self, service: str, path: str) -> str:
        return f"{self.stack.url(service)}{path}"

    def post(self, service: str, path: str, body: Any, key: str | None = None) -> httpx.Response:
        """A command, with a fresh Idempotency-Key unless ``key`` is given (to retry one)."""
        headers = {"Idempotency-Key": key or uuid.uuid4().hex}
        return self.http.post(self.url(service, path), json=body, headers=headers)

    def get(self, service: str, path: str, **params: Any) -> httpx.Response:
        return self.http.get(self.url(service, path), params=params)

    def ok(self, response: httpx.Response, status: int = 201) -> dict:
        assert response.status_code == status, response.text
        return response.json()

    # --- the steps of the main flow ------------------------------------------------------

    def register_provider(self, category: str, region: str, capacity: int = 5, **extra) -> str:
        body = {
            "name": "Testiosuuskunta",
            "kind": "cooperative",
            "business_id": "0737546-2",
            "categories": [category],
            "regions": [region],
            "capacity": capacity,
            **extra,
        }
        return self.ok(self.post("providers", "/providers", body))["id"]

    def contract(
        self,
        provider_id: str,
        category: str,
        region: str,
        *,
        unit_price_cents: int = 3000,
        budget_cents: int = 100_000,
        partner_id: str = "lahti-city",
        sign: bool = True,
    ) -> dict:
        today = local_today()
        proposed = self.ok(
            self.post(
                "partnerships",
                "/contracts",
                {
                    "partner_id": partner_id,
                    "provider_id": provider_id,
                    "categories": [category],
                    "regions": [region],
                    "unit_price_cents": unit_price_cents,
                    "budget_cents": budget_cents,
                    "valid_from": (today - timedelta(days=30)).isoformat(),
                    "valid_until": (today + timedelta(days=365)).isoformat(),
                },
            )
        )
        if not sign:
            return proposed
        self.ok(
            self.post(
                "partnerships",
                f"/contracts/{proposed['id']}/signatures",
                {"party": "partner", "signed_by": partner_id},
            )
        )
        return self.ok(
            self.post(
                "partnerships",
                f"/contracts/{proposed['id']}/signatures",
                {"party": "provider", "signed_by": provider_id},
            )
        )

    def request_body(self, category: str, region: str, resident_id: str = "resident-1") -> dict:
        start = datetime.now(UTC) + timedelta(days=1)
        return {
            "resident_id": resident_id,
            "category": category,
            "region": region,
            "description": "Front yard",
            "window_start": start.isoformat(),
            "window_end": (start + timedelta(hours=3)).isoformat(),
        }

    def submit(self, category: str, region: str, resident_id: str = "resident-1") -> dict:
        return self.ok(
            self.post("requests", "/requests", self.request_body(category, region, resident_id))
        )

    def board_entry(self, request_id: str, position: int | None = None) -> dict:
        params = {"position": position} if position else {}
        return self.ok(self.get("requests", f"/requests/{request_id}", **params), 200)

    def ledger(self, contract_id: str, position: int | None = None) -> dict:
        params = {"position": position} if position else {}
        return self.ok(self.get("partnerships", f"/contracts/{contract_id}", **params), 200)

    def wait_for_status(self, request_id: str, *statuses: str, timeout: float = 20) -> dict:
        def read() -> dict | None:
            response = self.get("requests", f"/requests/{request_id}")
            return response.json() if response.status_code == 200 else None

        return eventually(
            read,
            lambda entry: entry is not None and entry["status"] in statuses,
            timeout,
            f"request {request_id} to become {' or '.join(statuses)}",
        )

    def accept(self, offer_id: str, provider_id: str) -> httpx.Response:
        return self.post("matching", f"/offers/{offer_id}/acceptance", {"provider_id": provider_id})

    def ready_provider(
        self, category: str, region: str, capacity: int = 5, **contract: Any
    ) -> tuple[str, str]:
        """A registered provider with a signed contract that matching already knows."""
        provider_id = self.register_provider(category, region, capacity)
        contract_id = self.contract(provider_id, category, region, **contract)["id"]
        self.wait_until_quiet()
        return provider_id, contract_id

    def assigned_request(self, category: str, region: str, provider_id: str) -> str:
        request_id = self.submit(category, region)["id"]
        offered = self.wait_for_status(request_id, "offered")
        assert offered["provider_id"] == provider_id
        self.ok(self.accept(offered["offer_id"], provider_id))
        self.wait_for_status(request_id, "assigned")
        return request_id

    def on_request(self, request_id: str, what: str, body: dict) -> httpx.Response:
        """A command on one request: ``what`` is completion, confirmation, reschedule,
        cancellation, dispute, resolution or rating."""
        return self.post("requests", f"/requests/{request_id}/{what}", body)

    def completed_request(
        self, category: str, region: str, provider_id: str, hours: float = 2.0
    ) -> str:
        """A request assigned to ``provider_id`` who has reported ``hours`` of work."""
        request_id = self.assigned_request(category, region, provider_id)
        done = self.ok(
            self.on_request(request_id, "completion", {"provider_id": provider_id, "hours": hours})
        )
        assert self.board_entry(request_id, done["position"])["status"] == "completed"
        return request_id

    def wait_until_quiet(self, timeout: float = 20) -> None:
        import asyncio

        from deploy.stack import wait_for_quiet

        assert asyncio.run(
            wait_for_quiet(
                self.stack.nats_url,
                self.stack.namespace,
                {name: self.stack.url(name) for name in self.stack.ports},
                timeout,
                **self.stack.nats_options(),
            )
        ), "consumers did not catch up"


def eventually(
    read: Callable[[], Any], good: Callable[[Any], bool], timeout: float, what: str
) -> Any:
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = read()
        if good(value):
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; last seen: {value}")


def published(stack: Stack, service: str) -> list[tuple[int, Any]]:
    """Every message in ``service``'s stream, decoded as its contract type, with its position."""
    import asyncio

    from contracts.connection import connect
    from contracts.events import decode
    from contracts.streams import POSITION_HEADER, stream_name, subject_prefix

    async def read() -> list[tuple[int, Any]]:
        nc = await connect(stack.nats_url, "tests", **stack.nats_options())
        try:
            js = nc.jetstream()
            info = await js.stream_info(stream_name(service, stack.namespace))
            sub = await js.pull_subscribe(
                f"{subject_prefix(service, stack.namespace)}.>", stream=info.config.name
            )
            messages = []
            while len(messages) < info.state.messages:
                messages += await sub.fetch(500, timeout=5)
            await sub.unsubscribe()
            return [(int(m.headers[POSITION_HEADER]), decode(service, m.data)) for m in messages]
        finally:
            await nc.close()

    return asyncio.run(read())
