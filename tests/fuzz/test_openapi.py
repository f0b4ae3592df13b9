"""Schemathesis fuzzes every operation of every service's own OpenAPI document, served by the
real service processes: random valid and invalid input never gets a 5xx, and every answer's
status, media type and body are the ones the document lists.

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
    ids for the path parameters, so that random bodies reach the rules of the domain."""
    category, region = "yard-work", "lahti-laune"
    provider_id, contract_id = talkoot.ready_provider(category, region)
    request_id = talkoot.submit(category, region)["id"]
    offered = talkoot.wait_for_status(request_id, "offered")
    series_id = talkoot.ok(
        talkoot.post(
            "requests",
            "/series",
            {
                "resident_id": "resident-1",
                "category": category,
                "region": region,
                "rule": "weekly",
                "weekday": "monday",
                "start_time": "09:00",
            },
        )
    )["id"]
    member = talkoot.ok(
        talkoot.post("providers", f"/providers/{provider_id}/members", {"name": "Maija"})
    )
    pause = talkoot.ok(
        talkoot.post(
            "providers",
            f"/providers/{provider_id}/pauses",
            {"starts": "2031-01-01", "ends": "2031-01-07", "reason": "holiday"},
        )
    )
    return {
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


def realistic(case, ids: dict[str, str]):
    """The case with the catalogue's codes and the parties that exist in its body, so that
    the rest of its random values reach the rules of the domain instead of a 404 or 422."""
    if isinstance(case.body, dict):
        real = {
            "category": "yard-work",
            "region": "lahti-laune",
            "categories": ["yard-work"],
            "regions": ["lahti-laune"],
            "resident_id": "resident-1",
            "partner_id": "lahti-city",
            "provider_id": ids["provider_id"],
            "request_id": ids["request_id"],
        }
        case.body = {key: real.get(key, value) for key, value in case.body.items()}
    return case


def fuzz(operation, base_url, session, findings: Findings, examples, ids: dict[str, str]):
    """Random cases of each mode, then valid cases on things that exist."""
    runs = [(mode, count, {}) for mode, count in examples.items()]
    names = re.findall(r"{(\w+)}", operation.path)
    if names and all(name in ids for name in names):
        known = {name: ids[name] for name in names}
        runs.append((GenerationMode.POSITIVE, examples[GenerationMode.POSITIVE], known))
    for mode, count, path_parameters in runs:
        strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)
        if path_parameters:
            strategy = strategy.map(lambda case: realistic(case, ids))

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
    findings = Findings()
    operations = [result.ok() for result in schema.get_all_operations()]
    deadline = time.monotonic() + SECONDS_PER_SERVICE
    with requests.Session() as session:
        for operation in operations:
            examples = EXAMPLES
            if time.monotonic() > deadline:
                examples = {mode: min(FEW, n) for mode, n in EXAMPLES.items()}
            fuzz(operation, base_url, session, findings, examples, fuzzed.ids)

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
    assert not findings.failures, "\n".join(
        f"{label}: {title}: {detail}" for (label, title), detail in findings.failures.items()
    )
