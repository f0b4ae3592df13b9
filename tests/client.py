"""A small client of Talkoot's HTTP APIs for the tests: the calls a user makes, and waiting."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from deploy.stack import Stack
from domain.calendar import local_today
from services.platform import identity

# What `talkoot check` would otherwise take from the test process's own environment.
CHECK_ENVIRONMENT = (
    "TALKOOT_DATABASE_URL",
    "TALKOOT_NAMESPACE",
    "TALKOOT_PERSONAL_DATA_KEY",
    "TALKOOT_PSEUDONYM_SECRET",
)


class Talkoot:
    """Calls as a given person: ``who`` is a token from ``resident``, ``member``, ``officer``
    or ``admin`` (or any other), ``None`` for nobody signed in. Reads default to an admin's
    token, commands to nobody: each command says who sends it."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.http = httpx.Client(timeout=20)
        self._tokens: dict[tuple, str] = {}

    # --- people ---------------------------------------------------------------------------

    def token(self, subject: str, *roles: str, **claims: Any) -> str:
        """A token of the stack's for ``subject`` holding ``roles`` (kept for the session)."""
        key = (subject, roles, tuple(sorted(claims.items())))
        if key not in self._tokens:
            self._tokens[key] = self.stack.token(identity.claims(subject, roles, **claims))
        return self._tokens[key]

    def resident(self, resident_id: str = "resident-1") -> str:
        return self.token(resident_id, "resident")

    def member(self, provider_id: str, subject: str | None = None) -> str:
        """A member of provider ``provider_id``."""
        return self.token(subject or f"member-of-{provider_id}", "provider", provider=provider_id)

    def officer(self, partner_id: str = "lahti-city", may_sign: bool = True) -> str:
        subject = f"officer-of-{partner_id}" + ("" if may_sign else "-no-signing")
        return self.token(subject, "officer", partner=partner_id, may_sign=may_sign)

    def second_officer(self, partner_id: str = "lahti-city") -> str:
        """Another officer of the partner who may sign: a contract's proposer never signs it
        for the partner alone."""
        return self.token(
            f"second-officer-of-{partner_id}", "officer", partner=partner_id, may_sign=True
        )

    def admin(self) -> str:
        return self.token("admin-1", "admin")

    @staticmethod
    def headers(who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {who}"} if who else {}

    def __enter__(self) -> Talkoot:
        return self

    def __exit__(self, *_: object) -> None:
        self.http.close()

    def url(self, service: str, path: str) -> str:
        return f"{self.stack.url(service)}{path}"

    def post(
        self, service: str, path: str, body: Any, key: str | None = None, *, who: str | None
    ) -> httpx.Response:
        """A command sent by ``who``, with a fresh Idempotency-Key unless ``key`` is given (to
        retry one)."""
        headers = {"Idempotency-Key": key or uuid.uuid4().hex, **self.headers(who)}
        return self.http.post(self.url(service, path), json=body, headers=headers)

    def get(self, service: str, path: str, who: str | None = "", **params: Any) -> httpx.Response:
        """A read by ``who`` (an admin when not given; ``None``: nobody signed in)."""
        who = self.admin() if who == "" else who
        return self.http.get(self.url(service, path), params=params, headers=self.headers(who))

    def ok(self, response: httpx.Response, status: int = 201) -> dict:
        assert response.status_code == status, response.text
        return response.json()

    # --- the steps of the main flow ------------------------------------------------------

    def register_provider(self, category: str, region: str, capacity: int = 5, **extra) -> str:
        """A provider registered by a person who founds it; act for it with ``member``."""
        body = {
            "name": "Testiosuuskunta",
            "kind": "cooperative",
            "business_id": "0737546-2",
            "categories": [category],
            "regions": [region],
            "capacity": capacity,
            **extra,
        }
        founder = self.token("founder-1", "resident")
        return self.ok(self.post("providers", "/providers", body, who=founder))["id"]

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
        **terms: Any,
    ) -> dict:
        """A contract the partner's officer proposes and, with ``sign``, both parties sign:
        another officer of the partner for it, a member for the provider."""
        today = local_today()
        officer = self.officer(partner_id)
        proposed = self.ok(
            self.post(
                "partnerships",
                "/contracts",
                {
                    "provider_id": provider_id,
                    "categories": [category],
                    "regions": [region],
                    "unit_price_cents": unit_price_cents,
                    "budget_cents": budget_cents,
                    "valid_from": (today - timedelta(days=30)).isoformat(),
                    "valid_until": (today + timedelta(days=365)).isoformat(),
                    **terms,  # pricing, voucher_cents
                },
                who=officer,
            )
        )
        if not sign:
            return proposed
        signatures = f"/contracts/{proposed['id']}/signatures"
        signer = self.second_officer(partner_id)
        self.ok(self.post("partnerships", signatures, {"party": "partner"}, who=signer))
        member = self.member(provider_id)
        return self.ok(self.post("partnerships", signatures, {"party": "provider"}, who=member))

    def request_body(self, category: str, region: str) -> dict:
        start = datetime.now(UTC) + timedelta(days=1)
        return {
            "category": category,
            "region": region,
            "description": "Front yard",
            "window_start": start.isoformat(),
            "window_end": (start + timedelta(hours=3)).isoformat(),
        }

    def submit(self, category: str, region: str, resident_id: str = "resident-1") -> dict:
        body = self.request_body(category, region)
        return self.ok(self.post("requests", "/requests", body, who=self.resident(resident_id)))

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
        """A member of ``provider_id`` accepts the offer."""
        path = f"/offers/{offer_id}/acceptance"
        return self.post("matching", path, {}, who=self.member(provider_id))

    def ready_provider(
        self, category: str, region: str, capacity: int = 5, **contract: Any
    ) -> tuple[str, str]:
        """A registered provider with a signed contract that matching already knows."""
        provider_id = self.register_provider(category, region, capacity)
        contract_id = self.contract(provider_id, category, region, **contract)["id"]
        self.wait_until_quiet()
        return provider_id, contract_id

    def assigned_request(
        self, category: str, region: str, provider_id: str, resident_id: str = "resident-1"
    ) -> str:
        request_id = self.submit(category, region, resident_id)["id"]
        offered = self.wait_for_status(request_id, "offered")
        assert offered["provider_id"] == provider_id
        self.ok(self.accept(offered["offer_id"], provider_id))
        self.wait_for_status(request_id, "assigned")
        return request_id

    def on_request(self, request_id: str, what: str, body: dict, who: str) -> httpx.Response:
        """A command on one request by ``who``: ``what`` is completion, confirmation,
        reschedule, cancellation, dispute, resolution or rating."""
        return self.post("requests", f"/requests/{request_id}/{what}", body, who=who)

    def completed_request(
        self, category: str, region: str, provider_id: str, hours: float = 2.0
    ) -> str:
        """A request (of resident-1) assigned to ``provider_id`` who has reported ``hours``
        of work."""
        request_id = self.assigned_request(category, region, provider_id)
        report = {"hours": hours}
        done = self.ok(
            self.on_request(request_id, "completion", report, who=self.member(provider_id))
        )
        assert self.board_entry(request_id, done["position"])["status"] == "completed"
        return request_id

    def charged_and_offered(self, resident_id: str) -> dict[str, str]:
        """A request carried through to its charge under a contract, and another one (of
        ``resident_id``) offered, in a scope of their own; the system at rest after."""
        from tests.conftest import unused_scope

        category, region = unused_scope()
        provider_id, contract_id = self.ready_provider(category, region)
        charged = self.completed_request(category, region, provider_id)
        self.ok(self.on_request(charged, "confirmation", {}, who=self.resident()))
        offered = self.submit(category, region, resident_id)["id"]
        self.wait_for_status(offered, "offered")
        self.wait_until_quiet()
        return {
            "charged": charged,
            "offered": offered,
            "contract": contract_id,
            "provider": provider_id,
            "category": category,
            "region": region,
        }

    def check(self, *args: str) -> tuple[int, str, str]:
        """`talkoot check ...` as an operator runs it: exit status, standard output and error.
        The secrets come from the stack's data folder, as on a machine running `talkoot up`."""
        return self.command("check", *args)

    def rebuild(self, *args: str) -> tuple[int, str, str]:
        """`talkoot rebuild MODEL ...`, as ``check`` runs check."""
        return self.command("rebuild", *args)

    def command(self, command: str, *args: str) -> tuple[int, str, str]:
        """`talkoot COMMAND ...` against the stack: exit status, standard output and error."""
        import io
        from contextlib import redirect_stderr, redirect_stdout

        import pytest

        from services import cli

        out, errors = io.StringIO(), io.StringIO()
        stack = self.stack
        with pytest.MonkeyPatch.context() as patch:
            for name in CHECK_ENVIRONMENT:
                patch.delenv(name, raising=False)
            with redirect_stdout(out), redirect_stderr(errors):
                code = cli.main(
                    [
                        "--data-dir",
                        str(stack.data_dir),
                        command,
                        "--database-url",
                        stack.database_url,
                        "--namespace",
                        stack.namespace,
                        *args,
                    ]
                )
        return code, out.getvalue(), errors.getvalue()

    def assert_read_models_right(self) -> None:
        """`talkoot check` finds every read model as the event stores make it."""
        code, out, errors = self.check()
        assert code == 0, f"talkoot check exited {code}:\n{out}\n{errors[-2000:]}"

    def wait_until_quiet(self, timeout: float = 20) -> None:
        import asyncio

        from deploy.stack import wait_for_quiet

        waiting = wait_for_quiet(
            self.stack.nats_url,
            self.stack.namespace,
            {name: self.stack.url(name) for name in self.stack.ports},
            timeout,
            **self.stack.nats_options(),
        )
        # in a thread of its own: a test driving a browser has an event loop running here
        with ThreadPoolExecutor(1) as thread:
            assert thread.submit(asyncio.run, waiting).result(), "consumers did not catch up"


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

    from nats.js.api import AckPolicy, ConsumerConfig

    from contracts.connection import connect
    from contracts.events import decode
    from contracts.streams import POSITION_HEADER, stream_name, subject_prefix

    async def read() -> list[tuple[int, Any]]:
        nc = await connect(stack.nats_url, "tests", **stack.nats_options())
        try:
            js = nc.jetstream()
            info = await js.stream_info(stream_name(service, stack.namespace))
            # Read without acknowledging: an acknowledging consumer stops at 1000 unanswered.
            sub = await js.pull_subscribe(
                f"{subject_prefix(service, stack.namespace)}.>",
                stream=info.config.name,
                config=ConsumerConfig(ack_policy=AckPolicy.NONE),
            )
            messages = []
            while len(messages) < info.state.messages:
                messages += await sub.fetch(500, timeout=5)
            await sub.unsubscribe()
            return [(int(m.headers[POSITION_HEADER]), decode(service, m.data)) for m in messages]
        finally:
            await nc.close()

    return asyncio.run(read())


def submit_many(talkoot: Talkoot, category: str, region: str, count: int) -> list[str]:
    """Submit ``count`` requests as fast as possible; return the ids that were acknowledged.
    Submissions that hit a dead service fail and are not counted."""
    acknowledged = []
    resident = talkoot.headers(talkoot.resident())
    with httpx.Client(timeout=5, headers=resident) as http:
        for _ in range(count):
            try:
                response = http.post(
                    talkoot.url("requests", "/requests"),
                    json=talkoot.request_body(category, region),
                )
            except httpx.HTTPError:
                continue
            if response.status_code == 201:
                acknowledged.append(response.json()["id"])
    return acknowledged
