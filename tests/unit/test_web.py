"""The web front's own pieces, without a browser: its words in Finnish, its formats, how a
refusal lands beside its field, and the map drawn from the regions' boundaries."""

from __future__ import annotations

import math
from pathlib import Path

import httpx
import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from services.platform.identity import claims, issue
from services.web import i18n
from services.web.client import Refusal
from services.web.forms import FORM, Form, refused
from services.web.geo import region_maps
from services.web.pages.officer import budget_bar, cents
from services.web.people import Person
from services.web.settings import WebSettings

WEB = Path(__file__).resolve().parents[2] / "services" / "web"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def messages() -> set[str]:
    """Every message the front's templates and modules show."""
    found = set()
    for path in sorted(WEB.rglob("*.html")):
        options = {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}
        for _, message, _, _ in extract_from_file(
            "jinja2.ext:babel_extract", str(path), keywords=KEYWORDS, options=options
        ):
            found.add(message if isinstance(message, str) else message[0])
    for path in sorted(WEB.rglob("*.py")):
        for _, message, _, _ in extract_from_file("python", str(path), keywords=KEYWORDS):
            found.add(message if isinstance(message, str) else message[0])
    return {m for m in found if m}


def finnish() -> dict[str, object]:
    known: dict[str, object] = {}
    for po in (WEB / "locale" / "fi" / "LC_MESSAGES").glob("*.po"):
        with po.open("rb") as f:
            for message in read_po(f):
                if message.id:
                    key = message.id if isinstance(message.id, str) else message.id[0]
                    known[key] = message.string
    return known


def test_every_word_of_the_pages_has_its_finnish():
    known, shown = finnish(), messages()
    assert len(shown) > 200 and "Ask for a service" in shown  # the extraction found them
    missing = sorted(m for m in shown if not known.get(m))
    assert not missing, f"not translated into Finnish: {missing}"


def test_money_and_moments_in_each_language():
    with i18n.speaking("fi"):
        assert i18n.money(123450) == "1\xa0234,50\xa0€"
        assert i18n.when("2026-12-02T10:00:00+00:00") == "ke 2.12.2026 klo 12.00"
    with i18n.speaking("en"):
        assert i18n.money(123450) == "€1,234.50"
        assert i18n.when("2026-07-01T21:30:00+00:00") == "Thu 2 Jul 2026, 00:30"


def test_an_unknown_language_is_finnish():
    with i18n.speaking("xx"):
        assert i18n.language() == "fi"


def response(status: int, body: object) -> httpx.Response:
    return httpx.Response(status, json=body, request=httpx.Request("POST", "http://x/"))


def test_a_validation_refusal_lands_beside_each_field_it_names():
    refusal = Refusal.of(
        response(400, {"detail": "Validation failed", "extra": [{"key": "hours", "message": "x"}]})
    )
    with i18n.speaking("en"):
        form = refused(Form(values={"hours": "2.3"}), refusal, ["hours"])
    assert form.errors == {"hours": "x"} and form.values == {"hours": "2.3"}


def test_a_rule_a_form_shows_under_another_name_lands_on_that_field_in_finnish():
    refusal = Refusal.of(
        response(422, {"detail": "the window ends before it starts", "extra": {"rule": "window"}})
    )
    with i18n.speaking("fi"):
        form = refused(Form(), refusal, ["window_start"], {"window": "window_start"})
    assert form.errors["window_start"].startswith("Tarkista aika")


def test_what_names_no_field_of_the_form_goes_at_its_top():
    refusal = Refusal.of(response(409, {"detail": "it moved on", "extra": {"rule": "other"}}))
    with i18n.speaking("en"):
        form = refused(Form(), refusal, ["reason"])
    assert form.errors == {FORM: "it moved on"}


def test_a_refusal_that_is_not_json_still_says_something():
    refusal = Refusal.of(
        httpx.Response(400, text="<html>", request=httpx.Request("POST", "http://x/"))
    )
    assert refusal.status == 400 and refusal.detail == "Bad Request" and refusal.fields == {}


def test_the_person_of_a_token_and_their_roles():
    token = issue("s" * 40, claims("member-1", ["provider"], provider="p-1"))
    person = Person.of_token(token)
    assert person.subject == "member-1" and person.holds("provider")
    assert not person.holds("resident") and person.provider == "p-1" and not person.expired


SQUARE = {"type": "Polygon", "coordinates": [[[25, 61], [26, 61], [26, 62], [25, 62], [25, 61]]]}


def square(west: float, south: float, side: float) -> dict:
    ring = [[west, south], [west + side, south], [west + side, south + side], [west, south + side]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def test_the_map_draws_each_region_with_a_boundary_and_the_point():
    (drawn,) = region_maps(
        [{"code": "a", "name": "A", "boundary": SQUARE}, {"code": "b", "name": "B"}],
        chosen="a",
        lat="61.5",
        long="25.5",
    )
    assert [r["code"] for r in drawn["regions"]] == ["a"] and drawn["regions"][0]["chosen"]
    x, y = drawn["pin"]
    assert 0 < x < drawn["width"] and 0 < y < drawn["height"]
    assert drawn["regions"][0]["label"]  # room for its name


def test_the_map_turns_a_click_back_into_the_point_map_js_reads():
    """map.js inverts the projection with the bounds the map carries: the same sums here."""
    (drawn,) = region_maps(
        [{"code": "a", "name": "A", "boundary": SQUARE}], lat="61.3", long="25.8"
    )
    b, (x, y) = drawn["bounds"], drawn["pin"]
    mx, my = b["west"] + (x - b["pad"]) / b["scale"], b["north"] + (y - b["pad"]) / b["scale"]
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * my))))
    assert (round(mx * 360 - 180, 6), round(lat, 6)) == (25.8, 61.3)


def test_regions_too_small_for_their_names_get_a_closer_map_of_their_own():
    big = {"code": "big", "name": "Big", "boundary": square(25.0, 60.5, 1.0)}
    small = [
        {
            "code": f"s{n}",
            "name": f"Small district {n}",
            "boundary": square(25.4 + n * 0.02, 61, 0.02),
        }
        for n in range(3)
    ]
    far = {"code": "far", "name": "A small region far away", "boundary": square(25.9, 60.6, 0.02)}
    whole, closer = region_maps([big, *small, far], closer="Closer")
    assert {r["code"]: r["label"] is None for r in whole["regions"]} == {
        "big": False,
        "s0": True,
        "s1": True,
        "s2": True,
        "far": True,
    }
    assert closer["name"] == "Closer"
    assert "far" not in {r["code"] for r in closer["regions"]}  # the districts' map only
    assert all(r["label"] for r in closer["regions"] if r["code"] != "big")
    assert whole["height"] <= whole["width"] * 1.2 + 16  # widened rather than tall


def test_tiles_lie_under_the_map_at_one_zoom_and_are_few():
    (drawn,) = region_maps(
        [{"code": "a", "name": "A", "boundary": SQUARE}],
        tiles="https://tiles.example/{z}/{x}/{y}.png",
    )
    tiles = drawn["tiles"]
    assert 0 < len(tiles) <= 64
    zooms = {t["href"].split("/")[3] for t in tiles}
    assert len(zooms) == 1
    # together they cover the whole map
    assert min(t["x"] for t in tiles) <= 0 and min(t["y"] for t in tiles) <= 0
    assert max(t["x"] + t["size"] for t in tiles) >= drawn["width"]
    assert max(t["y"] + t["size"] for t in tiles) >= drawn["height"]


def test_no_boundaries_no_map():
    assert region_maps([{"code": "a", "name": "A", "boundary": None}]) == []


@pytest.mark.parametrize(
    "tiles",
    ["tiles.example/{z}/{x}/{y}.png", "https://tiles.example/{z}/{x}.png", "ftp://a/{z}/{x}/{y}"],
)
def test_a_tile_server_without_its_placeholders_stops_the_front(monkeypatch, tiles):
    monkeypatch.setenv("TALKOOT_WEB_SECRET", "s" * 40)
    monkeypatch.setenv("TALKOOT_MAP_TILES", tiles)
    with pytest.raises(SystemExit, match="TALKOOT_MAP_TILES"):
        WebSettings.from_env()


@pytest.mark.parametrize(
    ("url", "secure"),
    [
        ("http://127.0.0.1:8100", False),
        ("http://localhost:8100", False),
        ("https://talkoot.lahti.fi", True),
    ],
)
def test_cookies_are_secure_outside_this_machine(url, secure):
    settings = WebSettings(services={}, secret="s" * 40, public_url=url)
    assert settings.secure_cookies is secure


def test_the_front_does_not_start_without_its_secret(monkeypatch):
    monkeypatch.setenv("TALKOOT_WEB_SECRET", "short")
    with pytest.raises(SystemExit, match="TALKOOT_WEB_SECRET"):
        WebSettings.from_env()


def test_the_budget_bar_is_charged_then_held_then_what_remains():
    bar = budget_bar({"budget_cents": 100_000, "charged_cents": 6_000}, 4_500)
    assert (bar["charged"], bar["held"], bar["remaining"]) == (6_000, 4_500, 89_500)
    assert bar["widths"] == (6.0, 4.5, 89.5)
    assert budget_bar({"budget_cents": 10_000, "charged_cents": 0}, 0)["widths"] == (0, 0, 100)


def test_more_held_than_is_left_fills_the_bar_and_leaves_nothing_remaining():
    # a charge bigger than its estimate may leave less than the other jobs hold
    bar = budget_bar({"budget_cents": 10_000, "charged_cents": 8_000}, 4_500)
    assert (bar["held"], bar["remaining"]) == (4_500, 0)
    assert bar["widths"] == (80.0, 20.0, 0.0)
    spent = budget_bar({"budget_cents": 10_000, "charged_cents": 10_000}, 3_000)
    assert (spent["remaining"], spent["widths"]) == (0, (100.0, 0.0, 0.0))


@pytest.mark.parametrize(
    ("typed", "sent"),
    [("32,50", 3250), ("1500", 150_000), ("0.1", 10), ("", None), ("kolme", "kolme")]
    + [(weird, weird) for weird in ("nan", "inf", "-inf")],
)
def test_euros_as_typed_go_in_cents_and_what_is_no_sum_goes_as_typed(typed, sent):
    assert cents(typed) == sent
