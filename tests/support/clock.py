"""The suite's settable clock: ``--clock`` / ``TALKOOT_TEST_CLOCK`` sends the test process and
the service processes it starts to one moment, and lets time run on from there.

Every process reads the same fake clock: a ``Clock`` is a destination and the real time at
which the suite's clock showed it, so a process started seconds later travels to the
destination plus those seconds, not back to the destination itself. Only the wall clock moves
(``time.time``, ``datetime.now``); ``time.monotonic`` and everything outside Python
(PostgreSQL, nats-server) keep the real time.

As a launcher, ``python -m tests.support.clock <clock> <module> [args]`` runs ``module`` as
``__main__`` at that clock: the local stack puts it before each service's module.
"""

from __future__ import annotations

import runpy
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import time_machine

ENV = "TALKOOT_TEST_CLOCK"


@dataclass(frozen=True)
class Clock:
    destination: datetime  # what the clock showed ...
    anchor: float  # ... at this real time (seconds since the epoch)

    @classmethod
    def at(cls, destination: str) -> Clock:
        """A clock that shows ``destination`` (ISO 8601 with a zone, e.g. 2026-12-01T23:30Z)
        now."""
        moment = datetime.fromisoformat(destination)
        if moment.tzinfo is None:
            raise ValueError(f"{ENV} needs a time zone, e.g. {destination}Z; got {destination}")
        return cls(moment.astimezone(UTC), real_time())

    @classmethod
    def parse(cls, spec: str) -> Clock:
        destination, anchor = spec.rsplit("@", 1)
        return cls(datetime.fromisoformat(destination), float(anchor))

    def spec(self) -> str:
        return f"{self.destination.isoformat()}@{self.anchor!r}"

    def launcher(self) -> tuple[str, ...]:
        """What goes before a service's module on its command line."""
        return (__name__, self.spec())

    def start(self) -> time_machine.travel:
        """Travel there, in this process, until the returned traveller is stopped."""
        elapsed = real_time() - self.anchor
        traveller = time_machine.travel(self.destination + timedelta(seconds=elapsed), tick=True)
        traveller.start()
        time.time()  # a ticking clock starts at its first reading: read it now, not later
        return traveller


def real_time() -> float:
    """The machine's clock, whatever clock this process travels to."""
    hatch = time_machine.escape_hatch
    return hatch.time.time() if hatch.is_travelling() else time.time()


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(f"usage: python -m {__name__} DESTINATION@ANCHOR MODULE [ARGS...]")
    clock, module = Clock.parse(sys.argv[1]), sys.argv[2]
    clock.start()
    sys.argv = [module, *sys.argv[3:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
