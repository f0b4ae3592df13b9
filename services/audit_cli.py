"""``talkoot audit``: checkpoint every service's log, verify the logs against their signed
checkpoints (and a partner's saved ones), prove a request's events, and check such a proof.

``checkpoint`` asks the running services (as an admin); ``verify`` and ``prove`` read
PostgreSQL directly, where ``talkoot status`` finds it (the state file of ``talkoot up`` in the
data folder, or TALKOOT_DATABASE_URL and TALKOOT_NAMESPACE); ``check-proof`` needs nothing but
its files: it uses the domain's code alone, as an auditor's own tool would.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import httpx
import msgspec

from domain.audit.checkpoint import Checkpoint, open_checkpoint, split_notes
from domain.audit.leaves import MalformedLeaf, StoredEvent
from domain.audit.merkle import InvalidProof, consistency_ranges, leaf_hash, verify_consistency
from domain.audit.merkle import verify_inclusion as check_inclusion
from domain.audit.note import NoteError, Signer, Verifier
from services import registry

SERVICES = tuple(service.name for service in registry.SERVICES)
PROOF_FORMAT = "talkoot-inclusion-proofs/1"


class Failed(Exception):
    """The command cannot go on: the message says why (exit status 2)."""


def err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _state(args: argparse.Namespace) -> dict:
    from services.cli import data_dir

    state_file = data_dir(args) / "stack.json"
    return json.loads(state_file.read_text()) if state_file.exists() else {}


def _database(args: argparse.Namespace) -> tuple[str, str]:
    """The PostgreSQL and namespace of the running Talkoot, as `talkoot status` finds them."""
    state = _state(args)
    url = os.environ.get("TALKOOT_DATABASE_URL") or state.get("database_url")
    namespace = os.environ.get("TALKOOT_NAMESPACE") or state.get("namespace", "talkoot")
    if not url:
        raise Failed(
            "no PostgreSQL to read: start Talkoot with `talkoot up` (its state file names it) or "
            "set TALKOOT_DATABASE_URL (and TALKOOT_NAMESPACE)"
        )
    from contracts import database

    try:
        database.parts(url)
    except database.UnusableDatabaseURL as error:
        raise Failed(str(error)) from None
    return url, namespace


def _urls(args: argparse.Namespace) -> dict[str, str]:
    urls = _state(args).get("urls") or {}
    return {
        name: urls.get(name)
        or f"http://127.0.0.1:{os.environ.get(f'TALKOOT_{name.upper()}_PORT', port)}"
        for name, port in registry.PORTS.items()
        if name in SERVICES
    }


def _installation_seed(args: argparse.Namespace) -> bytes | None:
    """The installation's audit seed, where this machine has it (TALKOOT_AUDIT_KEY or the
    local stack's secrets.json)."""
    from services.cli import data_dir
    from services.platform.settings import audit_seed

    path = data_dir(args) / "secrets.json"
    text = os.environ.get("TALKOOT_AUDIT_KEY") or (
        json.loads(path.read_text()).get("audit") if path.exists() else None
    )
    if not text:
        return None
    try:
        return audit_seed(text)
    except SystemExit as error:
        raise Failed(str(error)) from None


def _keys(args: argparse.Namespace) -> list[str]:
    """The verifier keys of ``--key``: each a key, or a file of keys one a line."""
    keys = []
    for given in args.key or []:
        path = Path(given)
        if "+" not in given and path.exists():
            keys += [line.strip() for line in path.read_text().splitlines() if line.strip()]
        else:
            keys.append(given)
    return keys


def _verifiers(args: argparse.Namespace, origins: list[str]) -> tuple[list[Verifier], str]:
    """What checkpoints are checked with, and a sentence saying so: the ``--key`` verifier
    keys, else the installation's own key under each of ``origins``."""
    if not origins and not args.key:
        return [], ""
    if args.key:
        try:
            verifiers = [Verifier.parse(key) for key in _keys(args)]
        except NoteError as error:
            raise Failed(f"--key: {error}") from None
        return verifiers, f"with the key{'s' * (len(verifiers) > 1)} given"
    seed = _installation_seed(args)
    if seed is None:
        raise Failed(
            "no key to check the checkpoints with: pass --key with each log's verifier key "
            "(GET /audit/key of each service), or run where TALKOOT_AUDIT_KEY or the data "
            "folder's secrets.json is"
        )
    return [Signer(origin, seed).verifier for origin in origins], "with the installation's key"


def _read_notes(paths: list[str]) -> list[tuple[str, Checkpoint, str]]:
    """(file, checkpoint, note) of every signed checkpoint in ``paths``, unchecked yet."""
    found = []
    for name in paths:
        try:
            text = Path(name).read_text()
        except OSError as error:
            raise Failed(f"--checkpoint {name}: {error.strerror}") from None
        notes = split_notes(text)
        if not notes:
            raise Failed(f"--checkpoint {name}: no signed checkpoint in it")
        for note in notes:
            try:
                checkpoint = Checkpoint.parse(note.split("\n\n", 1)[0] + "\n")
            except NoteError as error:
                raise Failed(f"--checkpoint {name}: {error}") from None
            found.append((name, checkpoint, note))
    return found


def _service_of(origin: str) -> str | None:
    service = origin.rsplit("/", 1)[-1]
    return service if service in SERVICES else None


def _count(n: int) -> str:
    return f"{n:,}".replace(",", " ")


# --- checkpoint --------------------------------------------------------------------------


def checkpoint(args: argparse.Namespace) -> int:
    from services.cli import _signer, data_dir
    from services.platform.tokens import Role, claims

    sign = _signer(data_dir(args))
    if sign is None:
        raise Failed(
            "no secret to sign an admin's token with: the data folder's secrets.json (made by "
            "`talkoot up`) or TALKOOT_JWT_SECRET"
        )
    token = sign(claims("talkoot-audit", [Role.ADMIN]), lifetime=timedelta(minutes=5))
    headers = {"Authorization": f"Bearer {token}"}
    out = Path(args.out) if args.out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    failed = 0
    with httpx.Client(timeout=120) as http:
        for service, url in _urls(args).items():
            try:
                made = http.post(f"{url}/audit/checkpoints", headers=headers)
                if made.status_code not in (200, 201):
                    raise Failed(f"{made.status_code} {made.text[:200]}")
                note = http.get(f"{url}/audit/checkpoint").text
            except (httpx.HTTPError, Failed) as error:
                failed += 1
                err(f"{service}: no checkpoint: {error} (is it running? see `talkoot status`)")
                continue
            entry = made.json()["checkpoint"]
            size = _count(entry["tree_size"])
            what = "new checkpoint" if made.json()["made"] else "no new events; latest checkpoint"
            err(f"{service}: {what} of {size} events")
            sys.stdout.write(note + "\n")
            if out:
                path = out / f"{service}-{entry['tree_size']}.checkpoint"
                path.write_text(note)
                err(f"  saved in {path}")
    sys.stdout.flush()
    return 1 if failed else 0


# --- verify ------------------------------------------------------------------------------


def verify(args: argparse.Namespace) -> int:
    import psycopg

    from contracts import database
    from services.platform.audit import Log, snapshot, verify_log

    url, namespace = _database(args)
    given = _read_notes(args.checkpoint or [])
    for name, cp, _ in given:
        if _service_of(cp.origin) is None:
            raise Failed(f"--checkpoint {name}: {cp.origin} is not the log of a service here")
    try:
        conn = psycopg.connect(database.conninfo(url), connect_timeout=5)
    except psycopg.OperationalError as error:
        raise Failed(f"PostgreSQL not reachable: {error}") from None
    print(f"Verifying every service's log in PostgreSQL (namespace {namespace}):")
    results, problems = {}, 0
    with conn:
        for service in SERVICES:
            log = Log(service, f"{namespace}_{service}")
            snapshot(conn)
            started = time.perf_counter()
            with conn.transaction():
                latest = log.latest(conn) if log.exists(conn)["audit_checkpoints"] else None
                origin = latest.checkpoint.origin if latest else None
                verifiers, how = _verifiers(args, [origin] if origin else [])
                size = latest.tree_size if latest else 0
                olds = [cp for _, cp, _ in given if _service_of(cp.origin) == service]
                ranges = [
                    r
                    for cp in olds
                    if 0 < cp.size < size
                    for r in consistency_ranges(cp.size, size)
                ]
                found = verify_log(
                    conn,
                    log,
                    verifiers,
                    ranges,
                    origin,
                    progress=lambda n, service=service: err(
                        f"  {service}: {_count(n)} events read"
                    ),
                )
            elapsed = time.perf_counter() - started
            results[service] = found
            problems += _say_log(found, how, elapsed)
    if given:
        print("Checkpoints given:")
        for name, cp, note in given:
            problems += _say_given(args, name, cp, note, results[_service_of(cp.origin)])
    if problems:
        print(f"NOT VERIFIED: {problems} problem{'s' * (problems > 1)} found (above).")
        return 1
    print("Everything verifies: history was not rewritten.")
    return 0


def _say_log(found, how: str, elapsed: float) -> int:
    """Print one log's result; the number of problems."""
    name = f"  {found.service:<13}"
    if found.missing:
        print(f"{name}NO LOG  the table {found.missing} is not there (has the service run?)")
        return 1
    report = found.report
    kept = found.checkpoints
    problems = 0
    if report.finding is not None:
        print(f"{name}{report.finding.kind.upper()}  {report.finding.sentence()}")
        problems += 1
    for size, why in sorted(found.bad_checkpoints.items()):
        print(f"{name}BAD CHECKPOINT  of {_count(size)} events: {why}")
        problems += 1
    for size, why in sorted(report.wrong_roots.items()):
        print(f"{name}ROOT DIFFERS  the signed checkpoint of {_count(size)} events: {why}")
        problems += 1 if report.finding is None else 0  # the finding says where already
    if problems:
        return problems
    if not kept:
        print(f"{name}OK  {_count(report.events)} events, no checkpoint yet ({elapsed:.2f} s)")
        return 0
    uncovered = report.events - report.covered
    print(
        f"{name}OK  {_count(report.events)} events; {_count(report.covered)} covered by "
        f"{len(kept)} checkpoint{'s' * (len(kept) > 1)} (latest of {_count(kept[-1].tree_size)}"
        f" events), every signature good {how}; {_count(uncovered)} stored since "
        f"({elapsed:.2f} s)"
    )
    return 0


def _say_given(args, name: str, cp: Checkpoint, note: str, found) -> int:
    where = f"  {cp.origin} at {_count(cp.size)} events ({name}):"
    try:
        verifiers, _ = _verifiers(args, [cp.origin])
        opened, _ = open_checkpoint(note, verifiers)
    except NoteError as error:
        print(f"{where} BAD SIGNATURE  {error}")
        return 1
    if opened.origin != cp.origin:
        print(f"{where} BAD SIGNATURE  signed for another log")
        return 1
    latest = found.latest
    if latest is None or found.report is None:
        print(f"{where} NOT PROVED  the log has no checkpoint to compare it with")
        return 1
    n = latest.tree_size
    if cp.size > n:
        print(
            f"{where} NOT EXTENDED  the log's latest checkpoint has only {_count(n)} events: "
            "history was removed"
        )
        return 1
    try:
        if cp.size == 0:
            detail = "every log extends the empty one"
        elif cp.size == n:
            verify_consistency(cp.size, n, [], cp.root_hash, latest.root_hash)
            detail = "it is the latest checkpoint"
        else:
            ranges = consistency_ranges(cp.size, n)
            roots = found.report.range_roots
            if any(r not in roots for r in ranges):
                raise InvalidProof("the stored events are fewer than the latest checkpoint's")
            proof = [roots[r] for r in ranges]
            verify_consistency(cp.size, n, proof, cp.root_hash, latest.root_hash)
            detail = f"consistency proof of {len(proof)} hashes from the stored events checks"
    except InvalidProof as error:
        print(f"{where} NOT EXTENDED  {error}: history was rewritten")
        return 1
    print(f"{where} OK  the log of {_count(n)} events extends it ({detail})")
    return 0


# --- prove -------------------------------------------------------------------------------


def prove(args: argparse.Namespace) -> int:
    import psycopg

    from contracts import database
    from services.platform.audit import Log, prove, snapshot

    try:
        request_id = UUID(args.request_id)
    except ValueError:
        raise Failed(f"{args.request_id!r} is not a request id (a UUID)") from None
    url, namespace = _database(args)
    sizes = {}
    for name, cp, _ in _read_notes(args.checkpoint or []):
        service = _service_of(cp.origin)
        if service is None:
            raise Failed(f"--checkpoint {name}: {cp.origin} is not the log of a service here")
        sizes[service] = cp.size
    seed = _installation_seed(args)
    logs, problems, proved = [], 0, 0
    try:
        conn = psycopg.connect(database.conninfo(url), connect_timeout=5)
    except psycopg.OperationalError as error:
        raise Failed(f"PostgreSQL not reachable: {error}") from None
    with conn:
        for service in SERVICES:
            err(f"{service}: proving the events of {request_id}")
            snapshot(conn)
            with conn.transaction():
                found = prove(
                    conn, Log(service, f"{namespace}_{service}"), request_id, sizes.get(service)
                )
            kept = found.checkpoint
            entry: dict = {"service": service}
            if kept is not None:
                origin = kept.checkpoint.origin
                entry |= {
                    "origin": origin,
                    "checkpoint": kept.note,
                    "tree_size": kept.tree_size,
                    "root_hash": base64.b64encode(kept.root_hash).decode(),
                }
                if seed is not None:
                    entry["verifier_key"] = Signer(origin, seed).verifier.key()
            entry["events"] = [e.as_json() for e in found.events]
            entry["not_yet_covered"] = found.not_yet_covered
            entry["problems"] = found.problems
            problems += len(found.problems)
            proved += len(found.events)
            logs.append(entry)
            uncovered = f"; {found.not_yet_covered} since" if found.not_yet_covered else ""
            err(f"  {len(found.events)} events proved{uncovered}")
            for problem in found.problems:
                err(f"  PROBLEM: {problem}")
    document = {
        "format": PROOF_FORMAT,
        "request_id": str(request_id),
        "leaf_hash": "SHA-256(0x00 || leaf_data); leaf_data as README's 'Proof that history "
        "was not rewritten' says (domain/audit/leaves.py)",
        "logs": logs,
    }
    text = json.dumps(document, indent=2) + "\n"
    if args.out:
        Path(args.out).write_text(text)
        err(f"proofs in {args.out}")
    else:
        sys.stdout.write(text)
    if problems:
        return 1
    if not proved:
        err(f"no checkpointed event of {request_id} in any log")
        return 1
    return 0


# --- reconcile ---------------------------------------------------------------------------


def _day(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day (YYYY-MM-DD)") from None


def reconcile(args: argparse.Namespace) -> int:
    import psycopg

    from contracts import database
    from domain.errors import InvalidValue
    from domain.settlement import Period
    from services import reconcile as rec

    try:
        period = Period(args.since, args.until)
    except InvalidValue:
        raise Failed(f"--from ({args.since}) is after --until ({args.until})") from None
    url, namespace = _database(args)
    schema = f"{namespace}_partnerships"
    try:
        with psycopg.connect(database.conninfo(url), connect_timeout=5) as conn:
            there = conn.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = %s "
                "AND table_name = 'partnerships_events'",
                (schema,),
            ).fetchone()
    except psycopg.OperationalError as error:
        raise Failed(f"PostgreSQL not reachable: {error}") from None
    if there is None:
        raise Failed(f"no partnerships event store in {schema} (has the service run?)")
    span = f"from {args.since or 'the start'} to {args.until or 'now'}"
    who = f", partner {args.partner}" if args.partner else ""
    err(f"reading the partnerships event store ({schema})")
    stored = rec.stored_charges(
        url, namespace, progress=lambda n: err(f"  partnerships: {_count(n)} events read")
    )
    err(f"  {_count(len(stored))} charges stored in all")
    if args.against == "ledger":
        source = "the ledger read model"
        try:
            stated = rec.ledger_charges(url, namespace, period, args.partner)
        except Exception as error:  # asyncpg's and the socket's errors have no common base
            raise Failed(f"the ledger read model cannot be read: {error}") from None
    else:
        url_of = _urls(args)["partnerships"]
        source = f"the settlement statements of {url_of}"
        stated = _served(args, url_of, period)
    print(f"Reconciling the charges {span}{who} (namespace {namespace}) with {source}:")
    lines = rec.compare(stored, stated, period, args.partner)
    wrong = rec.report(lines, print)
    charges = sum(len(li.stored.charges) for li in lines)
    total = sum(li.stored.total for li in lines)
    if wrong:
        names = ", ".join(li.contract_id for li in lines if not li.ok)
        print(f"NOT RECONCILED: {wrong} of {len(lines)} contracts differ ({names}).")
        return 1
    print(
        f"Everything reconciles: {len(lines)} contracts, {charges} charges, "
        f"{rec.amount(total)} in all."
    )
    return 0


def _served(args: argparse.Namespace, url: str, period) -> list:
    """The charges of the statement the service serves, asked for as an admin."""
    from domain.settlement import Entry
    from services.cli import _signer, data_dir
    from services.partnerships.settlements import SettlementStatement
    from services.platform.tokens import Role, claims

    sign = _signer(data_dir(args))
    if sign is None:
        raise Failed(
            "no secret to sign an admin's token with: the data folder's secrets.json (made by "
            "`talkoot up`) or TALKOOT_JWT_SECRET; or use --against ledger"
        )
    token = sign(claims("talkoot-audit", [Role.ADMIN]), lifetime=timedelta(minutes=5))
    params = {
        name: str(value)
        for name, value in (
            ("from", period.first),
            ("until", period.last),
            ("partner_id", args.partner),
        )
        if value is not None
    }
    try:
        answer = httpx.get(
            f"{url}/settlements",
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
    except httpx.HTTPError as error:
        raise Failed(f"partnerships at {url} did not answer: {error} (is it running?)") from None
    if answer.status_code != 200:
        raise Failed(f"partnerships answered {answer.status_code}: {answer.text[:300]}")
    served = msgspec.json.decode(answer.content, type=SettlementStatement)
    return [
        Entry(
            partner_id=c.partner_id,
            provider_id=c.provider_id,
            contract_id=c.contract_id,
            version=c.version,
            request_id=c.request_id,
            at=c.charged_at,
            minutes=c.minutes,
            amount_cents=c.amount_cents,
            kind=c.entry,
        )
        for c in served.charges
    ]


# --- check-proof -------------------------------------------------------------------------


def check_proof(args: argparse.Namespace) -> int:
    """Check a file of ``prove`` against checkpoints the auditor holds, with the domain's code
    alone."""
    try:
        document = json.loads(Path(args.file).read_text())
    except OSError as error:
        raise Failed(f"{args.file}: {error.strerror}") from None
    except ValueError as error:
        raise Failed(f"{args.file} is not JSON: {error}") from None
    if not isinstance(document, dict) or document.get("format") != PROOF_FORMAT:
        raise Failed(f"{args.file} is not a file of `talkoot audit prove` ({PROOF_FORMAT})")
    held = {}
    for name, cp, note in _read_notes(args.checkpoint):
        held.setdefault(cp.origin, []).append((name, cp, note))
    given_keys = []
    if args.key:
        try:
            given_keys = [Verifier.parse(key) for key in _keys(args)]
        except NoteError as error:
            raise Failed(f"--key: {error}") from None
    problems = checked = 0
    print(f"Request {document.get('request_id')}:")
    for log in document.get("logs", []):
        origin, events = log.get("origin"), log.get("events") or []
        if not events:
            continue
        where = f"  {log.get('service')}:"
        mine = [h for h in held.get(origin, []) if h[1].size == log.get("tree_size")]
        if not mine:
            sizes = ", ".join(str(h[1].size) for h in held.get(origin, [])) or "none"
            print(
                f"{where} NOT CHECKED  no checkpoint of {origin} at {log.get('tree_size')} "
                f"events was given (given: {sizes}); prove against yours with `talkoot audit "
                "prove ID --checkpoint FILE`"
            )
            problems += 1
            continue
        name, cp, note = mine[0]
        try:
            keys = given_keys or [Verifier.parse(log.get("verifier_key", ""))]
            open_checkpoint(note, keys)
        except NoteError as error:
            print(f"{where} BAD CHECKPOINT  {name}: {error}")
            problems += 1
            continue
        for event in events:
            try:
                _check_event(event, cp)
            except (InvalidProof, MalformedLeaf, ValueError, KeyError, binascii.Error) as error:
                print(
                    f"{where} FAILS  leaf {event.get('leaf_index')} (notification id "
                    f"{event.get('notification_id')}): {error}"
                )
                problems += 1
                continue
            checked += 1
            print(
                f"{where} included  leaf {event['leaf_index']}, notification id "
                f"{event['notification_id']}, {event['topic']} of {event['originator_id']} "
                f"version {event['originator_version']}"
            )
        signed = "the keys given" if given_keys else "the key the proof file names"
        print(
            f"{where} against {origin} at {cp.size} events ({name}); its signature "
            f"checked with {signed}"
        )
    if problems or not checked:
        print(f"NOT PROVED: {problems} problem{'s' * (problems != 1)}, {checked} events proved.")
        return 1
    print(f"Every one of the {checked} events is in its log's checkpoint.")
    return 0


def _check_event(event: dict, checkpoint: Checkpoint) -> None:
    data = base64.b64decode(event["leaf_data"], validate=True)
    stored = StoredEvent.from_leaf_data(data)
    said = (
        event["notification_id"],
        event["originator_id"],
        event["originator_version"],
        event["topic"],
    )
    held = (
        stored.notification_id,
        str(stored.originator_id),
        stored.originator_version,
        stored.topic,
    )
    if said != held:
        raise ValueError(f"the leaf data is of another event: {held}")
    hashed = leaf_hash(data)
    if base64.b64encode(hashed).decode() != event["leaf_hash"]:
        raise ValueError("the leaf hash is not that of the leaf data")
    proof = [base64.b64decode(h, validate=True) for h in event["inclusion_proof"]]
    check_inclusion(event["leaf_index"], checkpoint.size, hashed, proof, checkpoint.root_hash)


# --- recount -----------------------------------------------------------------------------


def _allocation(result: dict, print_line: Callable[[str], None]) -> None:
    """One result of a round: its ballots, each proposal's votes and whether it was funded."""
    from domain.settlement import euros

    funded, not_fitting = set(result["funded"]), set(result["not_fitting"])
    print_line(f"  ballots {result['ballots']}")
    for proposal, votes in sorted(result["votes"].items(), key=lambda kv: (-kv[1], kv[0])):
        what = "funded" if proposal in funded else "not fitting" if proposal in not_fitting else ""
        print_line(f"    {proposal}  {votes} votes  {what}".rstrip())
    print_line(
        f"  funded {', '.join(result['funded']) or 'nothing'}: "
        f"{euros(result['funded_cents'])} €, left {euros(result['left_cents'])} €"
    )


def recount(args: argparse.Namespace) -> int:
    """Ask the tables service (as an admin) to recount a round from its stored ballots, and
    print the allocation it published beside the recounted one."""
    from services.cli import _signer, data_dir
    from services.platform.tokens import Role, claims

    sign = _signer(data_dir(args))
    if sign is None:
        raise Failed(
            "no secret to sign an admin's token with: the data folder's secrets.json (made by "
            "`talkoot up`) or TALKOOT_JWT_SECRET"
        )
    token = sign(claims("talkoot-audit", [Role.ADMIN]), lifetime=timedelta(minutes=5))
    url = _urls(args)["tables"]
    try:
        answer = httpx.get(
            f"{url}/rounds/{args.round_id}/recount",
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
    except httpx.HTTPError as error:
        raise Failed(f"tables at {url} did not answer: {error} (is it running?)") from None
    if answer.status_code == 404:
        raise Failed(f"no budgeting round {args.round_id} at {url}")
    if answer.status_code != 200:
        raise Failed(f"tables answered {answer.status_code}: {answer.text[:300]}")
    found = answer.json()
    print(f"Round {args.round_id}: recounted from its {found['ballots']} stored ballots")
    if found["published"] is None:
        print("Published: nothing yet (the round is not tallied)")
        print("Recounted:")
        _allocation(found["recounted"], print)
        raise Failed("the round has published no result to compare with yet")
    print("Published:")
    _allocation(found["published"], print)
    print("Recounted:")
    _allocation(found["recounted"], print)
    if not found["matches"]:
        print("DIFFERS: the published allocation is not what the stored ballots give.")
        return 1
    print("The published allocation is what the stored ballots give.")
    return 0


# --- the parser --------------------------------------------------------------------------


def add_parser(commands: argparse._SubParsersAction, wrap: Callable) -> None:
    p = commands.add_parser(
        "audit",
        help="proof that history was not rewritten: checkpoints, verify, inclusion proofs; "
        "reconcile the charges; recount a budgeting round",
        description="Every service's stored events, in notification order, are the leaves of "
        "an append-only Merkle tree (RFC 9162); each service signs its tree head every "
        "TALKOOT_CHECKPOINT_SECONDS as a checkpoint (C2SP tlog-checkpoint in a signed note, "
        "Ed25519, with the installation's TALKOOT_AUDIT_KEY). These commands make one now, "
        "verify the logs against them, and prove a request's events to an auditor.",
    )
    actions = p.add_subparsers(dest="action", metavar="subcommand", required=True)

    q = actions.add_parser(
        "checkpoint",
        help="make a checkpoint now in every service, and print each latest",
        description="Ask each running service (as an admin, with a token signed with the "
        "stack's secret) to checkpoint its log now, then print each service's latest signed "
        "checkpoint to standard output (what it says to standard error): redirect it to a "
        "file, or give --out, and keep it; `talkoot audit verify --checkpoint FILE` proves "
        "later that each log still extends it. Exits non-zero if a service did not answer.",
    )
    q.add_argument("--out", metavar="DIR", help="also save each as DIR/<service>-<size>.checkpoint")
    q.set_defaults(run=wrap(checkpoint))

    q = actions.add_parser(
        "verify",
        help="recompute every log from PostgreSQL and check it against its signed checkpoints",
        description="Read every service's stored events from PostgreSQL (where `talkoot "
        "status` finds it, or TALKOOT_DATABASE_URL and TALKOOT_NAMESPACE), check the signature "
        "of every checkpoint kept, recompute each one's tree head from the events, and compare "
        "each event with the leaf its checkpoint covered. Prints, per log, OK with the counts "
        "and the time taken, or the first event that was changed, deleted, inserted or "
        "reordered (its notification id and originator). With --checkpoint, each older "
        "checkpoint given (as saved from `talkoot audit checkpoint`) has its signature "
        "checked and a consistency proof, made from the stored events, shows that the log's "
        "latest checkpoint extends it. Exits 1 when anything does not verify, 2 when it "
        "cannot run.",
    )
    q.add_argument(
        "--checkpoint",
        action="append",
        metavar="FILE",
        help="a file of older signed checkpoints to prove the logs extend; repeat for several",
    )
    q.add_argument(
        "--key",
        action="append",
        metavar="VKEY",
        help="a verifier key (GET /audit/key), or a file of them, to check the signatures "
        "with; by default the installation's own key (TALKOOT_AUDIT_KEY or secrets.json)",
    )
    q.set_defaults(run=wrap(verify))

    q = actions.add_parser(
        "prove",
        help="inclusion proofs of a request's events in every log, as JSON",
        description="For each service's log, the events the request id identifies (those the "
        "request originates, and those whose stored state names it: its job and offers in "
        "matching, its charges in partnerships) with an inclusion proof of each in the log's "
        "latest checkpoint (or in the checkpoints given with --checkpoint), as JSON: an "
        "auditor checks it with the checkpoint alone (`talkoot audit check-proof`). Events "
        "stored since the checkpoint are counted, not proved. Exits 1 if nothing was proved.",
    )
    q.add_argument("request_id", help="the request's id")
    q.add_argument(
        "--checkpoint",
        action="append",
        metavar="FILE",
        help="prove against these checkpoints (the auditor's) instead of the latest ones",
    )
    q.add_argument("--out", metavar="FILE", help="write the JSON there instead of to stdout")
    q.set_defaults(run=wrap(prove))

    q = actions.add_parser(
        "reconcile",
        help="recompute each contract's charges from the event store and compare them with "
        "the settlement statements",
        description="Read every stored charge (the partnerships service's Charged events, "
        "decoded with its own mapper, so an encrypted or compressed store reads too) from "
        "PostgreSQL, where `talkoot status` finds it (or TALKOOT_DATABASE_URL and "
        "TALKOOT_NAMESPACE); total them per contract for the period, a charge falling on "
        "Lahti's day of the moment it was charged; and compare them, charge by charge, with "
        "the settlement statement the running service serves (GET /settlements, as an admin "
        "with a token signed with the stack's secret) or, with --against ledger, with the "
        "ledger read model. Prints per contract its charges, its total, and OK or the "
        "difference to the cent with each charge that differs. Exits 0 when everything "
        "reconciles, 1 on any difference, 2 when it cannot run.",
    )
    q.add_argument(
        "--from",
        dest="since",
        type=_day,
        metavar="DAY",
        help="the first day of the period, YYYY-MM-DD, included (default: from the start)",
    )
    q.add_argument(
        "--until",
        type=_day,
        metavar="DAY",
        help="the last day of the period, YYYY-MM-DD, included (default: up to now)",
    )
    q.add_argument(
        "--partner", metavar="PARTNER", help="only this municipal partner's contracts (its code)"
    )
    q.add_argument(
        "--against",
        choices=("service", "ledger"),
        default="service",
        help="compare with the statements the partnerships service serves over HTTP "
        "(default), or with the ledger read model in PostgreSQL",
    )
    q.set_defaults(run=wrap(reconcile))

    q = actions.add_parser(
        "recount",
        help="recount a budgeting round from its stored ballots and compare with its result",
        description="Ask the running tables service (GET /rounds/ROUND_ID/recount, as an "
        "admin with a token signed with the stack's secret) to tally the round again from "
        "the ballots stored as events, and print the allocation the round published (each "
        "proposal's votes, what was funded, the money funded and left) beside the recounted "
        "one. Exits 0 when they are the same, 1 when they differ, 2 when it cannot run (no "
        "such round, not tallied yet, the service not answering).",
    )
    q.add_argument("round_id", help="the budgeting round's id")
    q.set_defaults(run=wrap(recount))

    q = actions.add_parser(
        "check-proof",
        help="check a file of `talkoot audit prove` against checkpoints you hold",
        description="Check each inclusion proof in FILE against the signed checkpoint of its "
        "log given with --checkpoint (of the same size): the checkpoint's signature, each "
        "event's leaf data against what the file says of it, its leaf hash, and its proof. "
        "Needs no database and no running service: only the files (and --key, the verifier "
        "keys you hold; without it, the keys the proof file names). Exits 1 unless every "
        "event checks.",
    )
    q.add_argument("file", help="the JSON of `talkoot audit prove`")
    q.add_argument(
        "--checkpoint",
        action="append",
        required=True,
        metavar="FILE",
        help="a file of signed checkpoints; repeat for several",
    )
    q.add_argument(
        "--key", action="append", metavar="VKEY", help="a verifier key, or a file of them"
    )
    q.set_defaults(run=wrap(check_proof))


def run(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """``command`` with a clear sentence and exit status 2 for what stops it."""

    def guarded(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except Failed as error:
            err(f"talkoot audit {args.action}: {error}")
            return 2

    return guarded
