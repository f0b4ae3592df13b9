"""The field types and checks at the edge: ids, text, and dates the domain can use."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, available_timezones

import msgspec
import pytest

from services.platform.http import Body, Id, bad_character, check_when, line, text, usable_days

TODAY = date(2026, 6, 15)
FIRST, LAST = usable_days(TODAY)
LAHTI = ZoneInfo("Europe/Helsinki")

# every offset Python allows, in quarter hours, and the extremes
OFFSETS = [
    timezone(timedelta(minutes=m)) for m in [*range(-24 * 60 + 15, 24 * 60, 15), -1439, 1439]
]
ZONES = [ZoneInfo(name) for name in sorted(available_timezones())]


def refused(value: date) -> str:
    with pytest.raises(ValueError, match="window_start must fall between") as caught:
        check_when("window_start", value, TODAY)
    return str(caught.value)


def test_the_usable_days_are_ten_years_either_side_of_today():
    assert usable_days(TODAY) == (date(2016, 6, 15), date(2036, 6, 15))
    # from 29 February, ten years on has no 29 February
    assert usable_days(date(2028, 2, 29)) == (date(2018, 2, 28), date(2038, 2, 28))


@pytest.mark.parametrize("zone", OFFSETS + ZONES, ids=str)
def test_the_first_and_last_moments_python_holds_are_refused_in_every_zone(zone):
    # converting these to UTC or to Lahti's time overflows; the check must not
    refused(datetime.min.replace(tzinfo=zone))
    refused(datetime.max.replace(tzinfo=zone))
    refused(datetime(1, 1, 1, tzinfo=zone))
    refused(datetime(9999, 12, 31, 23, 59, 59, tzinfo=zone))


@pytest.mark.parametrize("zone", OFFSETS, ids=str)
def test_a_moment_counts_by_its_day_in_lahti_in_every_zone(zone):
    for day in (FIRST, LAST, TODAY):
        noon_in_lahti = datetime.combine(day, time(12), LAHTI).astimezone(zone)
        check_when("window_start", noon_in_lahti, TODAY)
    refused(datetime.combine(FIRST - timedelta(days=1), time(12), LAHTI).astimezone(zone))
    refused(datetime.combine(LAST + timedelta(days=1), time(12), LAHTI).astimezone(zone))


def test_a_moment_written_on_a_usable_day_but_past_it_in_lahti_is_refused():
    # 23:30 at -12:00 on the last day is already the day after in Lahti
    late = datetime.combine(LAST, time(23, 30), timezone(timedelta(hours=-12)))
    assert late.date() == LAST
    refused(late)
    early = datetime.combine(FIRST, time(0, 30), timezone(timedelta(hours=14)))
    assert early.date() == FIRST
    refused(early)


def test_dates_in_year_1_and_9999_and_just_outside_the_range_are_refused():
    for day in (date.min, date.max, FIRST - timedelta(days=1), LAST + timedelta(days=1)):
        assert day.isoformat() in refused(day)
    check_when("window_start", FIRST, TODAY)
    check_when("window_start", LAST, TODAY)


class Window(Body):
    window_start: datetime
    on: date | None = None


def test_a_body_names_its_date_field_in_the_validation_error():
    with pytest.raises(msgspec.ValidationError, match=r"on must fall .* - at `\$\.on`$"):
        msgspec.convert(
            {"window_start": datetime.now(LAHTI).isoformat(), "on": "9999-12-31"}, Window
        )
    with pytest.raises(msgspec.ValidationError, match=r"`\$\.window_start`$"):
        msgspec.json.decode(b'{"window_start": "9999-12-31T23:59:59-12:00"}', type=Window)
    assert msgspec.convert({"window_start": datetime.now(LAHTI)}, Window).on is None


IDS = ["lahti-city", "resident-7", str(uuid.uuid4()), "open311-" + "0a" * 12, "lahti.fi", "a"]
BAD_IDS = ["", "a\x00b", "a" * 129, "a/b", "a b", "äiti", "-a", "a\n", "a\u2028", "😀"]


@pytest.mark.parametrize("value", IDS)
def test_the_ids_in_use_are_ids(value):
    assert msgspec.convert(value, Id) == value


@pytest.mark.parametrize("value", BAD_IDS, ids=repr)
def test_an_id_is_of_a_bounded_set_of_characters_and_length(value):
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(value, Id)


CONTROLS = ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9b", "\ud800", "\udfff"]


@pytest.mark.parametrize("character", CONTROLS, ids=repr)
def test_no_text_holds_control_characters_or_lone_surrogates(character):
    for kind in (line(100), text(100), text(100, blank=False)):
        with pytest.raises(msgspec.ValidationError, match="matching regex"):
            msgspec.convert(f"a{character}b", kind)
    assert bad_character(f"a{character}b", free_text=True) == f"U+{ord(character):04X}"


def test_free_text_keeps_its_layout_and_a_line_has_none():
    layout = "Portaat\n\tja piha\r\nkiitos"
    assert msgspec.convert(layout, text(100)) == layout
    assert bad_character(layout, free_text=True) is None
    for value in ("a\nb", "a\tb", "a\rb", "ends with a newline\n"):
        with pytest.raises(msgspec.ValidationError):
            msgspec.convert(value, line(100))
        assert bad_character(value) is not None
    assert msgspec.convert("Mäkikatu 3 B 😀", line(100)) == "Mäkikatu 3 B 😀"


@pytest.mark.parametrize("value", ["", " ", "\n\t ", "\u00a0\u2003", "\r\n"], ids=repr)
def test_text_that_must_say_something_is_not_empty_nor_only_white_space(value):
    assert msgspec.convert(value, text(100)) == value
    with pytest.raises(msgspec.ValidationError, match="matching regex"):
        msgspec.convert(value, text(100, blank=False))


@pytest.mark.parametrize("value", ["a", " Sahamme on rikki.\n", "\t- ei ketään\r\n vapaana"])
def test_text_that_says_something_keeps_its_layout_and_white_space(value):
    assert msgspec.convert(value, text(100, blank=False)) == value


def test_text_that_must_say_something_keeps_its_other_bounds():
    with pytest.raises(msgspec.ValidationError, match="length <= 10"):
        msgspec.convert("x" * 11, text(10, blank=False))
    with pytest.raises(msgspec.ValidationError, match="matching regex"):
        msgspec.convert("\x0b a", text(10, blank=False))  # a control character as "space"
