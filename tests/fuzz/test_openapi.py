"""Schemathesis fuzzes every operation of every service's own OpenAPI document, served by the
real service processes: random valid and invalid input never gets a 5xx, and every answer's
status, media type and body are the ones the document lists. Every call carries the token of a
person the operation's rule lets through (the resident, provider member or officer whose things
the ids name), so that the cases reach the handlers and the rules of the domain.

It runs against a Talkoot of its own (its own namespace), so that the random providers and
contracts it creates disturb no other test; bounded in examples per operation so that the whole
module takes a few minutes on two cores (TALKOOT_FUZZ_EXAMPLES scales it).
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from domain.calendar import local_today
from services import registry
from tests.client import Talkoot
from tests.conftest import another_talkoot

pytestmark = pytest.mark.slow

SERVICES = tuple(service.name for service in registry.SERVICES)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Examples per operation and mode; and a bound on each service's time, after which the
# remaining operations get a few examples only (every operation is still called).
_EXAMPLES = int(os.environ.get("TALKOOT_FUZZ_EXAMPLES", "60"))
EXAMPLES = {GenerationMode.POSITIVE: _EXAMPLES, GenerationMode.NEGATIVE: _EXAMPLES // 2 or 1}
SECONDS_PER_SERVICE = float(os.environ.get("TALKOOT_FUZZ_SECONDS", "75"))
FEW = 2


# --- the fuzzing ---------------------------------------------------------------------------


@dataclass
class Findings:
    cases: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    failures: dict[tuple[str, str], str] = field(default_factory=dict)
    # the operations whose every answer was one a guard or an ownership check gives
    reached: Counter = field(default_factory=Counter)
    unruled: Counter = field(default_factory=Counter)  # answers of a route without a rule

    def record(self, label: str, error: BaseException, case) -> None:
        for failure in getattr(error, "exceptions", None) or [error]:
            title = getattr(failure, "title", None) or type(failure).__name__
            key = (label, title)
            if key not in self.failures:
                message = getattr(failure, "message", None) or str(failure)
                self.failures[key] = f"{message}\n    reproduce: {case.as_curl_command()}"


def not_yet_visible(response) -> bool:
    """A 503 because a read model had not reached ?position= in time: a documented answer
    to a position nothing has reached yet, not a fault."""
    if response.status_code != 503:
        return False
    try:
        return response.json()["extra"]["rule"] == "not_yet_visible"
    except (ValueError, KeyError, TypeError):
        return False


@dataclass
class Fuzzed:
    talkoot: Talkoot
    ids: dict[str, str]  # path parameter -> the id of something that exists


@pytest.fixture(scope="module")
def fuzzed(stack, tmp_path_factory: pytest.TempPathFactory) -> Fuzzed:
    # A short read wait: random ?position= values would otherwise each wait it out.
    with another_talkoot(
        stack, tmp_path_factory.mktemp("fuzz"), TALKOOT_READ_WAIT_SECONDS="0.1"
    ) as other:
        yield Fuzzed(other, things_that_exist(other))


def things_that_exist(talkoot: Talkoot) -> dict[str, str]:
    """A provider with a contract, an offered request, a series, a member and a pause: real
    ids for the path parameters, so that random bodies reach the rules of the domain. The
    request and the series are resident-1's, the contract lahti-city's."""
    category, region = "yard-work", "lahti-laune"
    provider_id, contract_id = talkoot.ready_provider(category, region)
    request_id = talkoot.submit(category, region)["id"]
    offered = talkoot.wait_for_status(request_id, "offered")
    series_id = talkoot.ok(
        talkoot.post(
            "requests",
            "/series",
            {
                "category": category,
                "region": region,
                "rule": "weekly",
                "weekday": "monday",
                "start_time": "09:00",
            },
            who=talkoot.resident("resident-1"),
        )
    )["id"]
    member_of = talkoot.member(provider_id)
    member = talkoot.ok(
        talkoot.post(
            "providers", f"/providers/{provider_id}/members", {"name": "Maija"}, who=member_of
        )
    )
    pause = talkoot.ok(
        talkoot.post(
            "providers",
            f"/providers/{provider_id}/pauses",
            {"starts": "2031-01-01", "ends": "2031-01-07", "reason": "holiday"},
            who=member_of,
        )
    )
    return {
        **a_partnership_table(talkoot, region),
        "request_id": request_id,
        "provider_id": provider_id,
        "contract_id": contract_id,
        "offer_id": offered["offer_id"],
        "series_id": series_id,
        "member_id": member["id"],
        "pause_id": pause["id"],
        "service_file": f"{category}.json",
        "request_file": f"{request_id}.json",
        "token_file": f"{request_id}.json",
    }


def a_partnership_table(talkoot: Talkoot, region: str) -> dict[str, str]:
    """A table of ``region`` founded a month ago, with a member, a meeting held and paid, an
    event, an initiative and a round with a proposal, all made by an admin."""
    admin = talkoot.admin()
    month_ago = (local_today() - timedelta(days=30)).isoformat()

    def made(path: str, body: dict) -> str:
        return talkoot.ok(talkoot.post("tables", path, body, who=admin))["id"]

    founding = {
        "table_id": "fuzz-table",
        "name": "Alueraati",
        "regions": [region],
        "coordinator": "coord-fuzz",
        "founded_on": month_ago,
    }
    table_id = made("/tables", founding)
    tables = f"/tables/{table_id}"
    member_id = made(
        f"{tables}/members", {"member_id": "fuzz-member", "name": "Jäsen", "on": month_ago}
    )
    meeting_id = made(f"{tables}/meetings", {"on": month_ago})
    made(f"{tables}/meetings/{meeting_id}/record", {"attendees": [member_id]})
    payout = made(f"{tables}/payouts", {"until": month_ago})
    event_id = made(f"{tables}/events", {"title": "Sano sanasi", "on": month_ago})
    initiative_id = made(f"{tables}/initiatives", {"title": "Aloite", "origin": "city"})
    opening = {
        "title": "Kierros",
        "year": local_today().year,
        "budget_cents": 10_000,
        "rule": "at_least",
        "minimum": 1,
    }
    round_id = made(f"{tables}/rounds", opening)
    proposal_id = made(f"/rounds/{round_id}/proposals", {"title": "Penkki", "cost_cents": 100})
    return {
        "table_id": table_id,
        "meeting_id": meeting_id,
        "event_id": event_id,
        "initiative_id": initiative_id,
        "round_id": round_id,
        "proposal_id": proposal_id,
        "payout_file": f"{payout}.csv",
        "year": str(local_today().year),
    }


def realistic(case, ids: dict[str, str]):
    """The case with the catalogue's codes and the parties that exist in its body, so that
    the rest of its random values reach the rules of the domain instead of a 404 or 422."""
    if isinstance(case.body, dict):
        real = {
            "category": "yard-work",
            "region": "lahti-laune",
            "categories": ["yard-work"],
            "regions": ["lahti-laune"],
            "provider_id": ids["provider_id"],
            "request_id": ids["request_id"],
        }
        case.body = {key: real.get(key, value) for key, value in case.body.items()}
    return case


def person(talkoot: Talkoot, ids: dict[str, str], method: str, path: str, body) -> str:
    """The token of whom an operation is for, owning what ``ids`` name: resident-1 for
    requests and series, a member of the provider for its own records and offers, lahti-city's
    officer (who may sign) for contracts, rulings, suspensions and matching's decisions, an
    admin for snowfall days. Public reads get a token too: a caller's is verified there."""
    resident = talkoot.resident("resident-1")
    member = talkoot.member(ids["provider_id"])
    officer = talkoot.officer("lahti-city")
    command = method.upper() != "GET"
    if path.startswith("/snowfall-days"):
        return talkoot.admin() if command else resident
    if path.startswith("/requests/"):
        if path.endswith("/completion"):
            return member
        if path.endswith("/resolution"):
            return officer
    if path.startswith(("/requests", "/series", "/board", "/open311")):
        return resident
    if path.startswith("/providers"):
        if path == "/providers" and command:
            return resident  # a person founding a provider
        if path.endswith(("/suspension", "/reinstatement")):
            return officer
        return member
    if path.startswith("/offers"):
        return member
    if path.startswith("/contracts/") and path.endswith("/signatures"):
        party = body.get("party") if isinstance(body, dict) else None
        return member if party == "provider" else officer
    if path.startswith(("/jobs", "/contracts", "/ledger")):
        return officer
    return talkoot.admin()


def fuzz(operation, base_url, session, findings: Findings, examples, fuzzed: Fuzzed):
    """Random cases of each mode, then valid cases on things that exist; each sent by the
    person it is for."""
    ids = fuzzed.ids
    runs = [(mode, count, {}) for mode, count in examples.items()]
    names = re.findall(r"{(\w+)}", operation.path)
    if names and all(name in ids for name in names):
        known = {name: ids[name] for name in names}
        runs.append((GenerationMode.POSITIVE, examples[GenerationMode.POSITIVE], known))

    def signed(case):
        who = person(fuzzed.talkoot, ids, operation.method, operation.path, case.body)
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {who}"}
        return case

    for mode, count, path_parameters in runs:
        strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)
        if path_parameters:
            strategy = strategy.map(lambda case: realistic(case, ids))
        strategy = strategy.map(signed)

        @settings(
            max_examples=count,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],  # no shrinking: every failure is kept
            suppress_health_check=list(HealthCheck),
            verbosity=Verbosity.quiet,
        )
        @given(case=strategy)
        def run(case) -> None:
            findings.cases[operation.label] += 1
            response = case.call(base_url=base_url, session=session, timeout=15)
            findings.statuses[response.status_code] += 1
            if response.status_code not in (401, 403, 404):
                findings.reached[operation.label] += 1
            if response.status_code == 403 and "declares no access rule" in response.text:
                findings.unruled[operation.label] += 1
            checks = CHECKS[1:] if not_yet_visible(response) else CHECKS
            try:
                case.validate_response(response, checks=checks)
            except (AssertionError, BaseExceptionGroup) as error:
                findings.record(operation.label, error, case)

        try:
            run()
        except Unsatisfiable:
            # An operation with nothing to get wrong (no parameters, no body) has no
            # negative cases.
            if mode is not GenerationMode.NEGATIVE:
                raise


@pytest.mark.parametrize("service", SERVICES)
def test_random_input_gets_no_server_error_and_answers_as_documented(
    fuzzed: Fuzzed, service: str, capsys: pytest.CaptureFixture
):
    base_url = fuzzed.talkoot.stack.url(service)
    schema = schemathesis.openapi.from_url(f"{base_url}/schema/openapi.json")
    document = schema.raw_schema
    # The documents say every call may carry a bearer token; the cases carry a real one of
    # the right person (see ``person``) instead of random ones.
    assert [s["scheme"].lower() for s in document["components"]["securitySchemes"].values()] == [
        "bearer"
    ]
    schema.config.generation.update(with_security_parameters=False)
    findings = Findings()
    operations = [result.ok() for result in schema.get_all_operations()]
    deadline = time.monotonic() + SECONDS_PER_SERVICE
    with requests.Session() as session:
        for operation in operations:
            examples = EXAMPLES
            if time.monotonic() > deadline:
                examples = {mode: min(FEW, n) for mode, n in EXAMPLES.items()}
            fuzz(operation, base_url, session, findings, examples, fuzzed)

    total = sum(findings.cases.values())
    summary = (
        f"fuzzed {service}: {total} cases over {len(operations)} operations; answers "
        + ", ".join(f"{n} x {status}" for status, n in sorted(findings.statuses.items()))
    )
    with capsys.disabled():  # shown in every run, also in CI
        print(f"\n{summary}")
    print("cases per operation:", dict(findings.cases))
    assert len(operations) > 3, f"{service}'s document lists too few operations"
    assert not [o.label for o in operations if findings.cases[o.label] == 0], "never called"
    assert total >= 5 * len(operations), "too few cases to say anything"
    # Signed in as the right person, the cases get past the guards to the handlers.
    assert findings.statuses[401] == 0, "a case went without a valid token"
    assert not findings.unruled, f"routes without an access rule: {dict(findings.unruled)}"
    stopped = [o.label for o in operations if findings.reached[o.label] == 0]
    assert not stopped, f"operations whose every case ended as 401, 403 or 404: {stopped}"
    assert not findings.failures, "\n".join(
        f"{label}: {title}: {detail}" for (label, title), detail in findings.failures.items()
    )
