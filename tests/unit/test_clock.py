"""The suite's settable clock: every process that takes it reads the same moment."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.clock import Clock, real_time

pytestmark = pytest.mark.dates


def test_a_clock_taken_later_shows_the_destination_plus_the_time_since():
    destination = datetime(2027, 3, 28, 0, 55, tzinfo=UTC)
    clock = Clock(destination, anchor=real_time() - 5)  # set five seconds ago
    traveller = clock.start()
    try:
        shown = datetime.now(UTC)
    finally:
        traveller.stop()
    assert timedelta(seconds=5) <= shown - destination < timedelta(seconds=6)


def test_a_clock_travels_through_its_spec():
    clock = Clock.at("2026-12-01T23:30:00+00:00")
    assert Clock.parse(clock.spec()) == clock
    assert Clock.at("2026-12-02T01:30:00+02:00").destination == clock.destination


def test_a_clock_needs_a_time_zone():
    with pytest.raises(ValueError, match="time zone"):
        Clock.at("2026-12-01T23:30:00")


def test_the_launcher_runs_a_module_with_its_arguments_at_the_clock():
    # `python -m calendar YEAR MONTH` prints that month; with no arguments, this year
    clock = Clock.at("2031-06-01T12:00:00Z")
    this_year = subprocess.run(
        [sys.executable, "-m", *clock.launcher(), "calendar"], capture_output=True, text=True
    )
    assert this_year.returncode == 0, this_year.stderr
    assert "2031" in this_year.stdout and str(datetime.now(UTC).year) not in this_year.stdout
    month = subprocess.run(
        [sys.executable, "-m", *clock.launcher(), "calendar", "2027", "3"],
        capture_output=True,
        text=True,
    )
    assert month.stdout.split()[:2] == ["March", "2027"]
