"""A command retried with its Idempotency-Key is applied once, and the retry gets the first
answer; the key cannot be reused for another request. Real PostgreSQL and NATS."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest

from domain.calendar import local_today
from tests.client import Talkoot, eventually
from tests.conftest import unused_scope
from tests.integration.messages import contract_body
from tests.integration.store import requests_created_for, stored_events
from tests.support.places import point_in


@pytest.fixture(scope="module")
def quiet_scope() -> tuple[str, str]:
    """One (category, region) pair for every test here that needs no provider to be offered
    the work: no provider here signs a contract in it, so nothing is matched in it."""
    from tests.conftest import CATEGORIES, REGIONS, _scopes

    n = next(_scopes)
    return CATEGORIES[n % len(CATEGORIES)], REGIONS[n // len(CATEGORIES)]


def key() -> str:
    return f"test-{uuid.uuid4()}"


def requests_of(talkoot: Talkoot, resident_id: str, position: int | None = None) -> list[dict]:
    """The resident's requests, as they list them (once the board has ``position``)."""
    params = {"position": position} if position else {}
    response = talkoot.get(
        "requests", "/requests/", who=talkoot.resident(resident_id), limit=1000, **params
    )
    return talkoot.ok(response, 200)


def new_resident(talkoot: Talkoot) -> tuple[str, str]:
    """A resident of the test's own: their id and token."""
    resident = f"resident-{uuid.uuid4().hex[:8]}"
    return resident, talkoot.resident(resident)


def pending(stack, the_key: str, resident: str, claimed: str) -> int:
    """Make the resident's key look claimed at ``claimed`` by an attempt that never answered;
    how many keys that touched."""
    from services.platform.idempotency import key_hash

    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        return conn.execute(
            f'UPDATE "{stack.namespace}_requests".idempotency_keys SET state = %s, '
            f"claimed_at = {claimed}, status = NULL, body = NULL WHERE key_hash = %s",
            ("pending", key_hash(the_key, f"caller:{resident}")),
        ).rowcount


def retry(send, attempts: int = 100) -> httpx.Response:
    """What a client does with 409 idempotency_key_in_use: wait its Retry-After, try again."""
    for _ in range(attempts):
        response = send()
        if response.status_code != 409 or response.json()["extra"]["rule"] != (
            "idempotency_key_in_use"
        ):
            return response
        assert response.headers["Retry-After"]
        time.sleep(0.1)
    raise AssertionError("the key stayed in use")


def test_a_client_that_times_out_and_retries_with_its_key_creates_one_request(
    talkoot: Talkoot, quiet_scope: tuple[str, str]
) -> None:
    resident, who = new_resident(talkoot)
    body = talkoot.request_body(*quiet_scope)
    the_key = key()
    url = talkoot.url("requests", "/requests")
    with pytest.raises(httpx.TimeoutException):
        httpx.post(
            url,
            json=body,
            headers={"Idempotency-Key": the_key, **talkoot.headers(who)},
            timeout=httpx.Timeout(5, read=0.001),
        )
    retried = retry(lambda: talkoot.post("requests", "/requests", body, the_key, who=who))
    assert retried.headers["Idempotency-Replayed"] == "true"  # the first attempt got through
    answer = talkoot.ok(retried)
    entry = talkoot.board_entry(answer["id"], answer["position"])
    assert [r["request_id"] for r in requests_of(talkoot, resident)] == [entry["request_id"]]
    assert requests_created_for(talkoot.stack, resident) == 1


def test_the_replayed_answer_is_the_first_answer_and_stores_nothing(
    talkoot: Talkoot, quiet_scope: tuple[str, str]
) -> None:
    resident, who = new_resident(talkoot)
    body = talkoot.request_body(*quiet_scope)
    the_key = key()
    first = talkoot.post("requests", "/requests", body, the_key, who=who)
    assert first.status_code == 201, first.text
    assert "Idempotency-Replayed" not in first.headers
    talkoot.wait_until_quiet()  # what matching does about it is stored here too
    before = stored_events(talkoot.stack, "requests")
    again = talkoot.post("requests", "/requests", body, the_key, who=who)
    assert again.status_code == first.status_code
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["Idempotency-Replayed"] == "true"
    assert stored_events(talkoot.stack, "requests") == before
    assert requests_created_for(talkoot.stack, resident) == 1


def test_a_refusal_is_replayed_too_and_the_key_is_not_for_another_path(talkoot: Talkoot) -> None:
    the_key = key()
    member = talkoot.member(f"provider-{uuid.uuid4().hex[:8]}")
    body = {"hours": 0.1}
    path = f"/requests/{uuid.uuid4()}/completion"
    first = talkoot.post("requests", path, body, the_key, who=member)
    assert first.status_code == 400, first.text  # not in quarter hours
    again = talkoot.post("requests", path, body, the_key, who=member)
    assert (again.status_code, again.content) == (400, first.content)
    assert again.headers["Idempotency-Replayed"] == "true"
    elsewhere = talkoot.post(
        "requests", f"/requests/{uuid.uuid4()}/completion", body, the_key, who=member
    )
    assert elsewhere.status_code == 422
    assert elsewhere.json()["extra"]["rule"] == "idempotency_key_reused"


def test_the_same_key_with_another_body_is_refused_and_stores_nothing(
    talkoot: Talkoot, quiet_scope: tuple[str, str]
) -> None:
    resident, who = new_resident(talkoot)
    the_key = key()
    talkoot.ok(
        talkoot.post("requests", "/requests", talkoot.request_body(*quiet_scope), the_key, who=who)
    )
    talkoot.wait_until_quiet()
    before = stored_events(talkoot.stack, "requests")
    other = {**talkoot.request_body(*quiet_scope), "description": "Back yard instead"}
    refused = talkoot.post("requests", "/requests", other, the_key, who=who)
    assert refused.status_code == 422, refused.text
    assert refused.json()["extra"]["rule"] == "idempotency_key_reused"
    assert "Idempotency-Key" in refused.json()["detail"]
    assert stored_events(talkoot.stack, "requests") == before
    assert len(requests_of(talkoot, resident)) == 1


@pytest.mark.parametrize("bad", ["", "x" * 201, "spaces are not allowed", "ä-key", "a;b"])
def test_a_malformed_key_is_refused_naming_the_header_and_stores_nothing(
    talkoot: Talkoot, quiet_scope: tuple[str, str], bad: str
) -> None:
    resident, who = new_resident(talkoot)
    response = talkoot.http.post(
        talkoot.url("requests", "/requests"),
        json=talkoot.request_body(*quiet_scope),
        headers={"Idempotency-Key": bad.encode(), **talkoot.headers(who)},
    )
    assert response.status_code == 400, response.text
    assert response.json()["extra"]["rule"] == "Idempotency-Key"
    assert requests_created_for(talkoot.stack, resident) == 0


def test_concurrent_duplicates_are_applied_once(
    talkoot: Talkoot, quiet_scope: tuple[str, str]
) -> None:
    resident, who = new_resident(talkoot)
    body = talkoot.request_body(*quiet_scope)
    the_key = key()
    answers: list[httpx.Response] = []
    gate = threading.Barrier(8)

    def send() -> None:
        with httpx.Client(timeout=20) as http:
            gate.wait()
            answers.append(
                http.post(
                    talkoot.url("requests", "/requests"),
                    json=body,
                    headers={"Idempotency-Key": the_key, **talkoot.headers(who)},
                )
            )

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    created = [a for a in answers if a.status_code == 201]
    busy = [a for a in answers if a.status_code == 409]
    assert len(created) + len(busy) == 8, [a.text for a in answers]
    assert all(a.json()["extra"]["rule"] == "idempotency_key_in_use" for a in busy)
    assert len({a.content for a in created}) == 1
    assert len([a for a in created if "Idempotency-Replayed" not in a.headers]) == 1
    eventually(
        lambda: requests_of(talkoot, resident), lambda found: len(found) == 1, 10, "the request"
    )
    assert requests_created_for(talkoot.stack, resident) == 1


def test_a_command_whose_answer_was_lost_in_a_crash_is_not_applied_again(
    talkoot: Talkoot, quiet_scope: tuple[str, str]
) -> None:
    """The events were committed with the key's tracking row, then the process died before
    it recorded the answer: the row is left pending. A retry after the pending row is
    abandoned runs the command again, and its commit meets the tracking row."""
    resident, who = new_resident(talkoot)
    body = talkoot.request_body(*quiet_scope)
    the_key = key()
    talkoot.ok(talkoot.post("requests", "/requests", body, the_key, who=who))
    stack = talkoot.stack
    assert pending(stack, the_key, resident, claimed="now() - interval '2 minutes'") == 1
    talkoot.wait_until_quiet()
    before = stored_events(stack, "requests")
    again = talkoot.post("requests", "/requests", body, the_key, who=who)
    assert again.status_code == 409, again.text
    assert again.json()["extra"]["rule"] == "idempotency_key_applied"
    assert stored_events(stack, "requests") == before
    assert requests_created_for(talkoot.stack, resident) == 1
    # and that answer is kept for the next retry
    assert talkoot.post("requests", "/requests", body, the_key, who=who).content == again.content


def test_a_command_still_running_elsewhere_is_not_taken_over(
    talkoot: Talkoot, quiet_scope: tuple[str, str]
) -> None:
    resident, who = new_resident(talkoot)
    body = talkoot.request_body(*quiet_scope)
    the_key = key()
    talkoot.ok(talkoot.post("requests", "/requests", body, the_key, who=who))
    assert pending(talkoot.stack, the_key, resident, claimed="now()") == 1
    busy = talkoot.post("requests", "/requests", body, the_key, who=who)
    assert busy.status_code == 409
    assert busy.json()["extra"]["rule"] == "idempotency_key_in_use"
    assert busy.headers["Retry-After"]


# --- a key is its caller's own ------------------------------------------------------------


def test_the_same_key_sent_by_two_residents_is_two_keys(
    talkoot: Talkoot, quiet_scope: tuple[str, str]
) -> None:
    """The second resident gets an answer of their own, never the first one's replayed."""
    body = talkoot.request_body(*quiet_scope)
    the_key = key()
    (aino, as_aino), (eero, as_eero) = new_resident(talkoot), new_resident(talkoot)
    first = talkoot.post("requests", "/requests", body, the_key, who=as_aino)
    second = talkoot.post("requests", "/requests", body, the_key, who=as_eero)
    assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)
    assert "Idempotency-Replayed" not in second.headers
    assert second.json()["id"] != first.json()["id"]
    # each one's retry gets each one's own answer
    for who, answer in ((as_aino, first), (as_eero, second)):
        again = talkoot.post("requests", "/requests", body, the_key, who=who)
        assert again.headers["Idempotency-Replayed"] == "true"
        assert again.content == answer.content
    assert requests_created_for(talkoot.stack, aino) == 1
    assert requests_created_for(talkoot.stack, eero) == 1
    listed = requests_of(talkoot, eero, second.json()["position"])
    assert [r["request_id"] for r in listed] == [second.json()["id"]]


def test_another_callers_key_neither_blocks_nor_refuses_a_command(
    talkoot: Talkoot, quiet_scope: tuple[str, str]
) -> None:
    """A key another resident has in flight, or used for another body, is not in use here."""
    the_key = key()
    (aino, as_aino), (eero, as_eero) = new_resident(talkoot), new_resident(talkoot)
    body = talkoot.request_body(*quiet_scope)
    talkoot.ok(talkoot.post("requests", "/requests", body, the_key, who=as_aino))
    assert pending(talkoot.stack, the_key, aino, claimed="now()") == 1
    busy = talkoot.post("requests", "/requests", body, the_key, who=as_aino)
    assert busy.status_code == 409 and busy.json()["extra"]["rule"] == "idempotency_key_in_use"
    other = {**talkoot.request_body(*quiet_scope), "description": "Another yard"}
    created = talkoot.post("requests", "/requests", other, the_key, who=as_eero)
    assert created.status_code == 201, created.text
    assert "Idempotency-Replayed" not in created.headers
    assert requests_created_for(talkoot.stack, eero) == 1
    # and a command of another kind under the same key, by a third caller, runs too
    member = talkoot.member(f"provider-{uuid.uuid4().hex[:8]}")
    elsewhere = talkoot.post(
        "requests", f"/requests/{uuid.uuid4()}/completion", {"hours": 1}, the_key, who=member
    )
    assert elsewhere.status_code == 404, elsewhere.text


def test_an_open311_post_and_a_residents_command_with_one_key_are_two_keys(
    talkoot: Talkoot, quiet_scope: tuple[str, str]
) -> None:
    """A public post without a token is its api_key's: a signed-in resident's key is not."""
    category, region = quiet_scope
    the_key = key()
    url = talkoot.url("requests", "/open311/v2/requests.json")
    posted = talkoot.http.post(
        url, data=open311_form(category, region), headers={"Idempotency-Key": the_key}
    )
    assert posted.status_code == 201, posted.text
    resident, who = new_resident(talkoot)
    created = talkoot.post(
        "requests", "/requests", talkoot.request_body(*quiet_scope), the_key, who=who
    )
    assert created.status_code == 201, created.text
    assert "Idempotency-Replayed" not in created.headers
    assert requests_created_for(talkoot.stack, resident) == 1


# --- every service's commands -------------------------------------------------------------


def twice(talkoot: Talkoot, service: str, path: str, body: dict, who: str) -> tuple[dict, int]:
    """``who`` sends one command twice with one key; the answers match and the second stored
    nothing."""
    the_key = key()
    first = talkoot.post(service, path, body, the_key, who=who)
    assert first.status_code < 300, first.text
    talkoot.wait_until_quiet()  # the other services' answers to it are stored too
    before = stored_events(talkoot.stack, service)
    second = talkoot.post(service, path, body, the_key, who=who)
    assert second.headers["Idempotency-Replayed"] == "true"
    assert (second.status_code, second.content) == (first.status_code, first.content)
    assert stored_events(talkoot.stack, service) == before
    return first.json(), before


def test_providers_commands_honour_the_key(talkoot: Talkoot, quiet_scope: tuple[str, str]) -> None:
    category, region = quiet_scope
    provider_id = talkoot.register_provider(category, region)
    twice(
        talkoot,
        "providers",
        f"/providers/{provider_id}/members",
        {"name": "Maija", "role": "worker"},
        who=talkoot.member(provider_id),
    )


def test_a_delete_honours_the_key(talkoot: Talkoot, quiet_scope: tuple[str, str]) -> None:
    category, region = quiet_scope
    provider_id = talkoot.register_provider(category, region)
    who = talkoot.member(provider_id)
    member = talkoot.ok(
        talkoot.post(
            "providers",
            f"/providers/{provider_id}/members",
            {"name": "Maija", "role": "worker"},
            who=who,
        )
    )
    url = talkoot.url("providers", f"/providers/{provider_id}/members/{member['id']}")
    headers = {"Idempotency-Key": key(), **talkoot.headers(who)}
    first = talkoot.http.delete(url, headers=headers)
    assert first.status_code == 200, first.text
    talkoot.wait_until_quiet()
    before = stored_events(talkoot.stack, "providers")
    second = talkoot.http.delete(url, headers=headers)
    assert (second.status_code, second.content) == (200, first.content)
    assert stored_events(talkoot.stack, "providers") == before


def test_partnerships_commands_honour_the_key(
    talkoot: Talkoot, quiet_scope: tuple[str, str]
) -> None:
    category, region = quiet_scope
    # registered in a pair of its own: no provider works in the quiet one
    provider_id = talkoot.register_provider(*unused_scope())
    body = contract_body(
        provider_id=provider_id,
        categories=[category],
        regions=[region],
        budget_cents=100_000,
        valid_from=(local_today() - timedelta(days=1)).isoformat(),
    )
    body.pop("partner_id", None)  # the officer's own partner
    twice(talkoot, "partnerships", "/contracts", body, who=talkoot.officer())


def test_matching_commands_honour_the_key(talkoot: Talkoot, scope: tuple[str, str]) -> None:
    category, region = scope
    provider_id, _ = talkoot.ready_provider(category, region)
    request_id = talkoot.submit(category, region)["id"]
    offered = talkoot.wait_for_status(request_id, "offered")
    twice(
        talkoot,
        "matching",
        f"/offers/{offered['offer_id']}/acceptance",
        {},
        who=talkoot.member(provider_id),
    )
    talkoot.wait_for_status(request_id, "assigned")


def test_requests_commands_honour_the_key(talkoot: Talkoot, quiet_scope: tuple[str, str]) -> None:
    request_id = talkoot.submit(*quiet_scope)["id"]
    twice(
        talkoot,
        "requests",
        f"/requests/{request_id}/cancellation",
        {"reason": "not needed"},
        who=talkoot.resident("resident-1"),
    )


def open311_form(category: str, region: str) -> dict[str, str]:
    """A city system's post, with the key it was issued (no token)."""
    start = datetime.now(UTC) + timedelta(days=1)
    return {
        "api_key": "talkoot-local",
        "jurisdiction_id": "lahti.fi",
        "service_code": category,
        "attribute[region]": region,
        "attribute[window_start]": start.isoformat(),
        "attribute[window_end]": (start + timedelta(hours=2)).isoformat(),
        "lat": str(point_in(region)[0]),
        "long": str(point_in(region)[1]),
        "device_id": f"device-{uuid.uuid4().hex[:8]}",
        "description": "Lumet pois portailta",
    }


def test_an_open311_post_honours_the_key(talkoot: Talkoot, quiet_scope: tuple[str, str]) -> None:
    form = open311_form(*quiet_scope)
    url = talkoot.url("requests", "/open311/v2/requests.json")
    the_key = key()
    first = talkoot.http.post(url, data=form, headers={"Idempotency-Key": the_key})
    assert first.status_code < 300, first.text
    talkoot.wait_until_quiet()
    before = stored_events(talkoot.stack, "requests")
    second = talkoot.http.post(url, data=form, headers={"Idempotency-Key": the_key})
    assert second.headers["Idempotency-Replayed"] == "true"
    assert (second.status_code, second.content) == (first.status_code, first.content)
    assert stored_events(talkoot.stack, "requests") == before


def test_keys_past_their_time_are_forgotten_with_their_tracking_rows(
    talkoot: Talkoot, quiet_scope: tuple[str, str]
) -> None:
    import asyncio

    import asyncpg

    from services.platform.idempotency import Keys, key_hash

    resident, who = new_resident(talkoot)
    body = talkoot.request_body(*quiet_scope)
    the_key = key()
    first = talkoot.ok(talkoot.post("requests", "/requests", body, the_key, who=who))
    stack = talkoot.stack
    schema = f"{stack.namespace}_requests"
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        conn.execute(
            f"UPDATE \"{schema}\".idempotency_keys SET created_at = now() - interval '2 days' "
            "WHERE key_hash = %s",
            (key_hash(the_key, f"caller:{resident}"),),
        )

    async def prune() -> int:
        pool = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=1)
        try:
            return await Keys(pool, schema, "requests_tracking").prune(timedelta(days=1))
        finally:
            await pool.close()

    assert asyncio.run(prune()) >= 1
    response = talkoot.post("requests", "/requests", body, the_key, who=who)
    assert "Idempotency-Replayed" not in response.headers
    again = talkoot.ok(response)
    assert again["id"] != first["id"]  # the key was forgotten, and so was its tracking row
    assert requests_created_for(talkoot.stack, resident) == 2


def test_a_body_over_the_limit_is_refused_with_a_key_too_and_stores_nothing(talkoot: Talkoot):
    resident, who = new_resident(talkoot)
    response = talkoot.http.post(
        talkoot.url("requests", "/requests"),
        content=b'{"description": "%s"}' % (b"x" * 300_000),
        headers={
            "Content-Type": "application/json",
            "Idempotency-Key": key(),
            **talkoot.headers(who),
        },
    )
    assert response.status_code == 413, response.text
    assert requests_created_for(talkoot.stack, resident) == 0
