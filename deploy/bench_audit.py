"""``python -m deploy.bench_audit``: how long `talkoot audit verify` takes per 100,000 events.

It seeds a scratch schema with an events table as eventsourcing makes it (rows COPYed straight
in, not saved through an application: the bench is about reading them back), checkpoints it as
a service does, then verifies it as `talkoot audit verify` does (every signature, every leaf,
every head), and proves one event's inclusion. PostgreSQL is TALKOOT_DATABASE_URL, or an
embedded one of its own in a temporary folder. Nothing here is a test: it measures.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from deploy.stack import EmbeddedPostgres
from domain.audit.merkle import inclusion_ranges, range_roots, verify_inclusion
from domain.audit.note import Signer
from services.platform.audit import Log, make_checkpoint, snapshot, verify_log

PER = 100_000
VERSIONS = 6  # events per aggregate, as a request's life has a handful


def say(message: str) -> None:
    print(message, flush=True)


def create_events_table(conn: psycopg.Connection, log: Log) -> None:
    """The table eventsourcing's PostgreSQL application recorder creates."""
    conn.execute(
        sql.SQL(
            "CREATE TABLE {} (originator_id uuid NOT NULL, originator_version bigint NOT NULL, "
            "topic text, state bytea, notification_id bigserial, "
            "PRIMARY KEY (originator_id, originator_version))"
        ).format(log.events_table)
    )
    conn.execute(
        sql.SQL("CREATE UNIQUE INDEX ON {} (notification_id ASC)").format(log.events_table)
    )


def seed(conn: psycopg.Connection, log: Log, events: int, state_bytes: int) -> float:
    rng = random.Random(1)
    started = time.perf_counter()
    copy = sql.SQL("COPY {} (originator_id, originator_version, topic, state) FROM STDIN").format(
        log.events_table
    )
    with conn.cursor().copy(copy) as rows:
        originator = uuid.uuid4()
        for n in range(events):
            version = n % VERSIONS + 1
            if version == 1:
                originator = uuid.UUID(int=rng.getrandbits(128), version=4)
            state = rng.randbytes(state_bytes // 2).hex().encode()
            rows.write_row((originator, version, f"domain.bench:Thing.Event{version}", state))
            if (n + 1) % 250_000 == 0:
                say(f"  {n + 1:,} events seeded")
    conn.commit()
    return time.perf_counter() - started


def bench(database_url: str, events: int, state_bytes: int) -> None:
    schema = f"bench_audit_{os.getpid()}"
    log = Log("bench", schema)
    signer = Signer("talkoot.bench/bench", bytes(range(32)))
    with psycopg.connect(database_url) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            create_events_table(conn, log)
            log.create(conn)
            conn.commit()
            say(f"Seeding {events:,} events of {state_bytes} bytes of state each")
            seconds = seed(conn, log, events, state_bytes)
            say(f"  seeded in {seconds:.1f} s")

            started = time.perf_counter()
            kept, _ = make_checkpoint(conn, log, signer, signer.name)
            checkpointing = time.perf_counter() - started
            say(f"The first checkpoint, covering {kept.tree_size:,} events: {checkpointing:.1f} s")

            snapshot(conn)
            started = time.perf_counter()
            with conn.transaction():
                found = verify_log(
                    conn, log, [signer.verifier], progress=lambda n: say(f"  {n:,} verified")
                )
            verifying = time.perf_counter() - started
            assert found.ok, found
            say(f"Verify: {events:,} events in {verifying:.1f} s")

            index = events // 3
            started = time.perf_counter()
            with conn.transaction():
                leaves = (leaf.leaf_hash for leaf in log.recorded(conn))
                ranges = inclusion_ranges(index, kept.tree_size)
                roots = range_roots(leaves, ranges)
                proof = [roots[r] for r in ranges]
                (leaf,) = conn.execute(
                    sql.SQL("SELECT leaf_hash FROM {} WHERE leaf_index = %s").format(
                        log.leaves_table
                    ),
                    (index,),
                ).fetchone()
            verify_inclusion(index, kept.tree_size, leaf, proof, kept.root_hash)
            proving = time.perf_counter() - started
            say(f"An inclusion proof of one event ({len(proof)} hashes): {proving:.2f} s")

            say("")
            say(f"Per {PER:,} events:")
            say(f"  verify             {verifying * PER / events:6.2f} s")
            say(f"  first checkpoint   {checkpointing * PER / events:6.2f} s")
            say(f"  (seeding by COPY   {seconds * PER / events:6.2f} s)")
        finally:
            conn.rollback()
            conn.read_only = False
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
            conn.commit()


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.bench_audit",
        description="Seed a scratch events table, checkpoint it and time `talkoot audit "
        "verify` on it, per 100,000 events. Uses TALKOOT_DATABASE_URL, or an embedded "
        "PostgreSQL in a temporary folder.",
    )
    parser.add_argument("--events", type=int, default=300_000, help="default 300,000")
    parser.add_argument(
        "--state-bytes", type=int, default=400, help="state per event (default 400)"
    )
    args = parser.parse_args()
    url = os.environ.get("TALKOOT_DATABASE_URL")
    if url:
        bench(url, args.events, args.state_bytes)
        return
    with tempfile.TemporaryDirectory(prefix="talkoot-bench-audit-") as folder:
        postgres = EmbeddedPostgres(Path(folder) / "postgres")
        say(f"Starting an embedded PostgreSQL in {folder}")
        try:
            bench(postgres.start(), args.events, args.state_bytes)
        finally:
            postgres.stop()


if __name__ == "__main__":
    main()
