"""The commands' rate limit, counted per caller: past it a command answers 429 with the
``RateLimit-*`` headers and stores nothing, while other callers and reads go on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.stack import Stack
from tests.client import Talkoot
from tests.conftest import another_talkoot
from tests.integration.store import stored_events

LIMIT = 5
SERVICES = ("requests", "providers", "matching", "partnerships")


@pytest.fixture(scope="module")
def limited(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Talkoot]:
    """A Talkoot of its own whose callers may send five commands a minute."""
    data_dir: Path = tmp_path_factory.mktemp("rate-limited")
    with another_talkoot(stack, data_dir, TALKOOT_RATE_LIMIT=f"{LIMIT}/minute") as talkoot:
        yield talkoot


def submit(talkoot: Talkoot, who: str):
    body = talkoot.request_body("yard-work", "lahti-laune")
    return talkoot.post("requests", "/requests", body, who=who)


def every_store(talkoot: Talkoot) -> dict[str, int]:
    return {service: stored_events(talkoot.stack, service) for service in SERVICES}


def spend_the_limit(talkoot: Talkoot, who: str) -> None:
    for n in range(LIMIT):
        response = submit(talkoot, who)
        assert response.status_code == 201, f"command {n + 1}: {response.text}"
        assert response.headers["RateLimit-Remaining"] == str(LIMIT - n - 1)


def test_the_command_past_the_limit_answers_429_with_its_headers_and_stores_nothing(
    limited: Talkoot,
):
    resident = limited.resident("resident-busy")
    spend_the_limit(limited, resident)
    limited.wait_until_quiet()
    before = every_store(limited)

    response = submit(limited, resident)

    assert response.status_code == 429, response.text
    assert response.json()["status_code"] == 429
    assert response.headers["RateLimit-Limit"] == str(LIMIT)
    assert response.headers["RateLimit-Remaining"] == "0"
    assert response.headers["RateLimit-Policy"] == f"{LIMIT}; w=60"
    assert 0 <= int(response.headers["RateLimit-Reset"]) <= 60
    limited.wait_until_quiet()
    assert every_store(limited) == before, "a command past the limit stored events"


def test_another_caller_is_not_limited_by_one_who_is(limited: Talkoot):
    first = limited.resident("resident-hasty")
    spend_the_limit(limited, first)
    assert submit(limited, first).status_code == 429
    # the same address, another caller: counted apart
    response = submit(limited, limited.resident("resident-patient"))
    assert response.status_code == 201, response.text


def test_reads_are_not_limited(limited: Talkoot):
    resident = limited.resident("resident-reader")
    spend_the_limit(limited, resident)
    assert submit(limited, resident).status_code == 429
    for _ in range(3 * LIMIT):
        response = limited.get("requests", "/requests", who=resident)
        assert response.status_code == 200, response.text
        assert limited.http.get(limited.url("requests", "/health")).status_code == 200
