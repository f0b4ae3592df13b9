"""Reading your own write: a query given a command's position waits for its read model, and
says so (503, Retry-After) when the wait runs out."""

from __future__ import annotations

import time

from tests.client import Talkoot
from tests.integration import scopes


def test_a_position_the_board_never_reaches_answers_503_after_the_wait(talkoot: Talkoot):
    submitted = talkoot.submit(*scopes.quiet())
    started = time.monotonic()
    response = talkoot.get(
        "requests", f"/requests/{submitted['id']}", position=submitted["position"] + 10**6
    )
    waited = time.monotonic() - started
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["extra"]["rule"] == "not_yet_visible"
    assert 3 <= waited < 10


def test_a_commands_position_is_readable_at_once(talkoot: Talkoot):
    for _ in range(10):
        submitted = talkoot.submit(*scopes.quiet())
        entry = talkoot.board_entry(submitted["id"], submitted["position"])
        assert entry["request_id"] == submitted["id"]


def test_the_ledger_waits_for_its_position_too(talkoot: Talkoot, scope):
    provider_id = talkoot.register_provider(*scope)
    proposed = talkoot.contract(provider_id, *scope, sign=False)
    assert talkoot.ledger(proposed["id"], proposed["position"])["status"] == "proposed"
    response = talkoot.get(
        "partnerships", f"/contracts/{proposed['id']}", position=proposed["position"] + 10**6
    )
    assert response.status_code == 503
