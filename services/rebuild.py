"""``talkoot rebuild MODEL ...``: read models made again from the event stores while the
projector keeps running, and put in place of the live ones in one transaction.

The events are replayed as ``talkoot check`` replays them (its stores and ``replay_store``:
the services' outbound map, the projector's own handlers) into a scratch schema, first
without holding anything up, up to each store's newest event, and again while the stores
grow, until little is left. Then, in one transaction:

1. each rebuilt read model's tracking rows are locked (``FOR UPDATE``; a missing one is
   inserted first, and that insert locks it just as well). The projector's handlers take
   these same rows first in each of their transactions, so from here on none of them applies
   an event to these read models; one already applying is waited for.
2. the read model's tables are locked ``IN EXCLUSIVE MODE``: nothing else writes them (a dead
   letter being replayed is waited for), while queries go on reading the old rows until the
   commit (so ``DELETE`` and ``INSERT``, not ``TRUNCATE``, which would hold the readers up).
3. each store's newest notification id is read: that is the position the read model is
   rebuilt to. The remaining events are replayed into the scratch tables, the live tables'
   rows replaced with the scratch ones, and the tracking rows set to those positions.

Why the store's newest position and not the tracking rows as they were: a tracking row may be
missing (the read model dropped entirely), and a row the projector wrote anew meanwhile holds
only what it applied since. Every event the projector has applied (or acknowledged) was stored
before the locks were taken, so it is at or below the store's newest position; every event it
is given later that is at or below that position is in the rebuilt tables already, and its
handler skips it (the tracking row says so); every event after it applies as ever. So the
rebuild is sound with or without tracking rows, and whatever the projector was doing, and it
leaves no read model behind its tracked position. A read model whose tracking row is past the
end of its store (a store restored from an older backup) is not rebuilt: the stream holds
events the store has lost, and that is for an operator to sort out (``talkoot check`` says
so).

The rebuilt read model holds every event up to its positions, those set aside as dead letters
too: replaying one of its dead letters afterwards applies that event a second time.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from services import check
from services.check import Failed, say_count

# Exit statuses: rebuilt; could not.
REBUILT, CANNOT = 0, 1
# Catching up before the locks: rounds at most, and a tail small enough to replay locked.
CATCH_UP_ROUNDS = 5
SMALL_TAIL = 200
# Tries at locking and replacing, should one run into another transaction's locks.
SWITCH_ATTEMPTS = 3


@dataclass
class Rebuilt:
    schema: str
    rows: list[tuple[str, str, int]] = field(default_factory=list)  # model, table, rows
    positions: dict[tuple[str, str], int] = field(default_factory=dict)
    read: int = 0  # events read from the stores, every round
    replaying: float = 0.0  # seconds spent replaying
    locked_read: int = 0  # of those, read while the read models were locked
    locked: float = 0.0  # seconds the read models were locked
    seconds: float = 0.0  # the whole rebuild


def live_tables(models: Sequence[ModuleType]) -> list[tuple[ModuleType, str]]:
    return [(model, table) for model in models for table in check.tables_of(model)]


async def replay(
    stores: dict[str, check.Store],
    feeds: dict[str, list[Any]],
    reached: dict[str, int],
    targets: dict[str, int],
    progress: Callable[[str], None],
    outcome: Rebuilt,
) -> int:
    """Replay each store's events after ``reached`` up to ``targets`` into the scratch
    handlers of ``feeds``; the events read."""
    read = 0
    for upstream, handlers in feeds.items():
        if targets[upstream] <= reached[upstream]:
            continue
        n, _, seconds = await check.replay_store(
            stores[upstream],
            [(handler, targets[upstream]) for handler in handlers],
            progress,
            after=reached[upstream],
        )
        read += n
        outcome.read += n
        outcome.replaying += seconds
        reached[upstream] = targets[upstream]
    return read


async def newest(stores: dict[str, check.Store], upstreams: Sequence[str]) -> dict[str, int]:
    """Each store's newest notification id (0 for a service that never stored one)."""
    return {
        upstream: (
            await asyncio.to_thread(stores[upstream].max_notification_id)
            if upstream in stores
            else 0
        )
        for upstream in upstreams
    }


async def switch(
    conn: Any,
    live_schema: str,
    scratch_schema: str,
    models: Sequence[ModuleType],
    catch_up: Callable[[dict[str, int]], Any],
    stores: dict[str, check.Store],
    outcome: Rebuilt,
) -> None:
    """In the transaction open on ``conn``: lock the read models' tracking rows and tables,
    replay the rest of the events (``catch_up``, up to the stores' newest positions), and put
    the scratch tables' rows and those positions in place of the live ones."""
    tracked = sorted((m.PROJECTION, u) for m in models for u in check.upstreams_of(m))
    for projection, upstream in tracked:
        await conn.execute(
            f"""INSERT INTO {live_schema}.tracking (projection, upstream, position)
                VALUES ($1, $2, 0) ON CONFLICT DO NOTHING""",
            projection,
            upstream,
        )
    rows = await conn.fetch(
        f"""SELECT projection, upstream, position FROM {live_schema}.tracking
            WHERE (projection, upstream) IN (SELECT * FROM unnest($1::text[], $2::text[]))
            ORDER BY projection, upstream FOR UPDATE""",
        [p for p, _ in tracked],
        [u for _, u in tracked],
    )
    live = {(r["projection"], r["upstream"]): r["position"] for r in rows}
    tables = ", ".join(f'{live_schema}."{table}"' for _, table in live_tables(models))
    await conn.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")

    targets = await newest(stores, sorted({u for _, u in tracked}))
    ahead = [
        f"{projection} <- {upstream} has applied position {live[(projection, upstream)]}, "
        f"the {upstream} store ends at {targets[upstream]}"
        for projection, upstream in tracked
        if live[(projection, upstream)] > targets[upstream]
    ]
    if ahead:
        raise Failed(
            "a read model is past the end of its store (restored from an older backup?); "
            "nothing was rebuilt: " + "; ".join(ahead)
        )
    outcome.locked_read = await catch_up(targets)
    for model, table in live_tables(models):
        _, types = await check.shape(conn, scratch_schema, table)
        columns = ", ".join(f'"{column}"' for column in types)
        await conn.execute(f'DELETE FROM {live_schema}."{table}"')
        status = await conn.execute(
            f'INSERT INTO {live_schema}."{table}" ({columns}) '
            f'SELECT {columns} FROM {scratch_schema}."{table}"'
        )
        outcome.rows.append((model.PROJECTION, table, int(status.split()[-1])))
    for projection, upstream in tracked:
        await conn.execute(
            f"""UPDATE {live_schema}.tracking SET position = $3
                WHERE projection = $1 AND upstream = $2""",
            projection,
            upstream,
            targets[upstream],
        )
        outcome.positions[(projection, upstream)] = targets[upstream]


async def rebuild(
    settings: check.Settings, names: Sequence[str], progress: Callable[[str], None]
) -> Rebuilt:
    import asyncpg

    from projections.schema import ensure_read_models, read_schema
    from services.platform.settings import Settings as ServiceSettings

    started = time.monotonic()
    available = check.models_by_name()
    models = [available[name] for name in dict.fromkeys(names)]
    live_schema = read_schema(settings.namespace)
    pool = await check.replay_pool(settings, models, "", 8)
    upstreams = sorted({u for m in models for u in check.upstreams_of(m)})
    stores: dict[str, check.Store] = {}
    scratch_schema = ""
    outcome = Rebuilt(live_schema)
    try:
        await ensure_read_models(pool, settings.namespace)  # a dropped one made again
        service_settings = ServiceSettings(
            database_url=settings.database_url,
            nats_url="",
            namespace=settings.namespace,
            personal_data_key=settings.personal_data_key,
        )
        stores = await asyncio.to_thread(check.open_stores, service_settings, upstreams)
        scratch_namespace = f"{settings.namespace}_rebuild_{secrets.token_hex(4)}"
        scratch_schema = read_schema(scratch_namespace)
        await ensure_read_models(pool, scratch_namespace)
        feeds: dict[str, list[Any]] = {upstream: [] for upstream in upstreams if upstream in stores}
        for model in models:
            for handler in check.handlers(model, pool, scratch_schema, settings):
                if handler.upstream in feeds:
                    feeds[handler.upstream].append(handler)
        reached = dict.fromkeys(upstreams, 0)

        async def catch_up(targets: dict[str, int]) -> int:
            return await replay(stores, feeds, reached, targets, progress, outcome)

        for round in range(CATCH_UP_ROUNDS):
            targets = await newest(stores, upstreams)
            if round and sum(targets[u] - reached[u] for u in upstreams) <= SMALL_TAIL:
                break
            await catch_up(targets)
        for attempt in range(1, SWITCH_ATTEMPTS + 1):
            progress("replacing the live rows, the read models locked")
            outcome.rows.clear()
            outcome.positions.clear()
            locked = time.monotonic()
            try:
                async with pool.acquire() as conn, conn.transaction():
                    await switch(
                        conn, live_schema, scratch_schema, models, catch_up, stores, outcome
                    )
                break
            except asyncpg.TransactionRollbackError as error:
                # a deadlock with another process's locks (one making the read models' tables
                # as it starts): rolled back, nothing changed; the scratch tables stay good
                if attempt == SWITCH_ATTEMPTS:
                    raise Failed(f"the read models could not be locked: {error}") from None
                progress(f"the locks ran into another transaction's ({error}): once more")
            finally:
                outcome.locked = time.monotonic() - locked
        outcome.seconds = time.monotonic() - started
        return outcome
    finally:
        if scratch_schema:
            await pool.execute(f"DROP SCHEMA IF EXISTS {scratch_schema} CASCADE")
        for store in stores.values():
            await asyncio.to_thread(store.close)
        await pool.close()


# --- the command -------------------------------------------------------------------------


def report(outcome: Rebuilt, say: Callable[[str], None]) -> None:
    say(f"Rebuilt in {outcome.schema} from the event stores:")
    width = max((len(table) for _, table, _ in outcome.rows), default=5)
    wide = max((len(model) for model, _, _ in outcome.rows), default=5)
    say(f"  {'model':<{wide}}  {'table':<{width}}  {'rows':>8}")
    for model, table, n in outcome.rows:
        say(f"  {model:<{wide}}  {table:<{width}}  {say_count(n):>8}")
    for (projection, upstream), position in sorted(outcome.positions.items()):
        say(f"  {projection} <- {upstream} now at position {position}")
    rate = say_count(round(outcome.read / outcome.replaying)) if outcome.replaying else "?"
    say(
        f"{say_count(outcome.read)} events read and replayed in {outcome.replaying:.1f} s "
        f"({rate} events/s), {outcome.seconds:.1f} s in all; the read models were locked for "
        f"{outcome.locked:.2f} s ({say_count(outcome.locked_read)} events replayed meanwhile)."
    )


def run(args: argparse.Namespace) -> int:
    import asyncpg

    try:
        settings = check.settings_of(args)
        check.err(
            f"rebuilding {', '.join(args.models)} (namespace {settings.namespace}) from the "
            "event stores"
        )
        outcome = asyncio.run(rebuild(settings, args.models, lambda line: check.err(f"  {line}")))
    except Failed as error:
        check.err(f"talkoot rebuild: {error}")
        return CANNOT
    except SystemExit as error:  # a missing secret, said by the services' own settings
        check.err(f"talkoot rebuild: {error}")
        return CANNOT
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        check.err(f"talkoot rebuild: PostgreSQL failed it, nothing was replaced: {error!r}")
        return CANNOT
    report(outcome, print)
    return REBUILT


def add_parser(commands: argparse._SubParsersAction) -> None:
    names = check.model_names()
    p = commands.add_parser(
        "rebuild",
        help="rebuild read models from the event stores while the projector keeps running",
        description="Replay each service's stored events (as `talkoot check` does: through "
        "the service's own mapper and outbound map, with the projector's own handlers) into a "
        "scratch schema, catching up while the stores grow; then, in one transaction, lock the "
        "read models' tracking rows and tables (the projector waits, queries go on reading the "
        "old rows), replay the last events, replace the live rows with the replayed ones and "
        "set the tracking rows to the stores' newest positions. The projector then goes on "
        "from there: no event is lost or applied twice. A read model dropped (rows, tables or "
        "tracking rows gone) is made again. Progress (events read per store) goes to standard "
        "error; prints the rows of each table, the events replayed, the time and the rate. "
        "Reads PostgreSQL where `talkoot status` finds it (the state file of `talkoot up`, or "
        "TALKOOT_DATABASE_URL and TALKOOT_NAMESPACE), with TALKOOT_PERSONAL_DATA_KEY and "
        "TALKOOT_PSEUDONYM_SECRET or the data folder's secrets.json. A dead letter of a "
        "rebuilt read model is in it afterwards: do not replay it. Exits 0 when rebuilt, 1 "
        "when it cannot run (nothing changed then).",
    )
    p.add_argument(
        "models",
        nargs="+",
        metavar="MODEL",
        choices=names,
        help="the read models to rebuild: " + ", ".join(names),
    )
    p.add_argument("--database-url", help="the PostgreSQL to write (default: as status finds it)")
    p.add_argument("--namespace", help="the installation's namespace (default: talkoot)")
    p.set_defaults(run=run)
