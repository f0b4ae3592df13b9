"""Reading your own write: a query given a command's position waits for its read model, and
says so (503, Retry-After) when the wait runs out; a position the service never stored an event
at is refused at once (400)."""

from __future__ import annotations

import os
import signal
import time

from tests.client import Talkoot
from tests.integration import scopes


def test_a_position_the_board_has_not_reached_answers_503_after_the_wait(talkoot: Talkoot):
    projector = talkoot.stack.pids()["projections"]
    os.kill(projector, signal.SIGSTOP)  # the projector held up: the board falls behind
    try:
        submitted = talkoot.submit(*scopes.quiet())
        started = time.monotonic()
        response = talkoot.get(
            "requests", f"/requests/{submitted['id']}", position=submitted["position"]
        )
        waited = time.monotonic() - started
    finally:
        os.kill(projector, signal.SIGCONT)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["extra"]["rule"] == "not_yet_visible"
    assert 3 <= waited < 10
    assert talkoot.board_entry(submitted["id"], submitted["position"])["status"]


def test_a_position_no_event_is_stored_at_is_refused_at_once(talkoot: Talkoot):
    submitted = talkoot.submit(*scopes.quiet())
    for position in (submitted["position"] + 10**6, 2**63 - 1):
        started = time.monotonic()
        response = talkoot.get("requests", f"/requests/{submitted['id']}", position=position)
        assert time.monotonic() - started < 2
        assert response.status_code == 400, response.text
        (problem,) = response.json()["extra"]
        assert (problem["key"], problem["source"]) == ("position", "query")
        assert f"no event is stored at position {position}" in problem["message"]


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
    assert response.status_code == 400
