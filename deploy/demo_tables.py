"""The demo's partnership tables: Lahti's four tables, a year of their history each (members of
every kind, six meetings held with attendance and decisions, fees accrued and paid once, an
event and a "Speak out" session with topics, initiatives from residents, members and the city
in every state), a finished budgeting round with online and paper ballots, and a service
programme a table funded whose contract its provider has signed.

Loaded over the tables and partnerships APIs by the demo (deploy/demo.py), as the coordinator,
the residents and the city's officer whose step each is; the days are counted back from Lahti's
today, so that the history always ends today.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

# Lahti's four tables and the catalogue's regions: every region belongs to one of them.
TABLES = [
    {
        "table_id": "lahti-keskusta",
        "name": "Keskustan alueraati",
        "regions": ["lahti-keskusta"],
    },
    {
        "table_id": "lahti-pohjoinen",
        "name": "Pohjoisen Lahden alueraati",
        "regions": ["lahti-mukkula", "lahti-ahtiala", "heinola", "asikkala"],
    },
    {
        "table_id": "lahti-etela",
        "name": "Etelän alueraati",
        "regions": ["lahti-laune", "lahti-kivimaa", "lahti-liipola", "hollola", "orimattila"],
    },
    {
        "table_id": "nastola",
        "name": "Nastolan alueraati",
        "regions": ["nastola"],
    },
]

# Each table's members, joined when it was founded: (member id suffix, name, kind).
MEMBERS = [
    ("asukas-1", "Asukasjäsen Liisa Koskinen", "resident"),
    ("asukas-2", "Asukasjäsen Pekka Nieminen", "resident"),
    ("yhdistys", "Omakotiyhdistys ry", "association"),
    ("yritys", "Lähikauppa Oy", "business"),
    ("kaupunki", "Aluevastaava, Lahden kaupunki", "official"),
]

# The six meetings of the year, days before today, and what each decided.
MEETINGS = [
    (340, ["Toimintasuunnitelma hyväksyttiin", "Kokoukset joka toinen kuukausi"]),
    (280, ["Kevätsiivous järjestetään toukokuussa"]),
    (220, ["Sano sanasi -tilaisuuden aiheet käsitellään syksyllä"]),
    (160, ["Kokouspalkkiot maksetaan tähän kokoukseen asti"]),
    (100, ["Talousarvion seuranta: käyttö suunnitelman mukaan"]),
    (40, ["Ensi vuoden toimintasuunnitelman valmistelu alkaa"]),
]
PAYOUT_UNTIL = 160  # the payout: every fee accrued up to the fourth meeting
NEXT_MEETING = -21  # planned three weeks ahead

# The table's gatherings: (days ago, kind, title, attendance, topics, cost in cents).
GATHERINGS = [
    (300, "event", "Kevätsiivoustalkoot", 64, ["Roska-astioita lisää", "Nuorten kesätyöt"], 18_000),
    (
        250,
        "speak_out",
        "Sano sanasi: lähiympäristö",
        37,
        ["Katuvalaistus kevyen liikenteen väylälle", "Penkkejä ikäihmisille", "Talviajo"],
        6_000,
    ),
]

CITY = "lahti-city-environment"  # the partner whose officer answers the tables' initiatives


@dataclass(frozen=True)
class Story:
    """An initiative and what became of it. ``raised`` is days before today; ``by`` its
    origin (resident, member, city); ``to`` how far it got: discussed, overdue (forwarded and
    not answered in time), answered (accepted, not yet carried out), rejected (with its
    reasons), implemented, or programme (funded as a service programme)."""

    title: str
    by: str
    raised: int
    to: str
    from_topic: int | None = None  # a topic of the Speak out session it came from


STORIES = [
    Story("Kierrätyspiste koulun pihalle", "member", 350, "implemented"),
    Story("Koirapuisto radanvarteen", "city", 290, "rejected"),
    Story("Katuvalaistus kevyen liikenteen väylälle", "resident", 230, "answered", 0),
    Story("Penkkejä ikäihmisten kävelyreiteille", "resident", 230, "discussed", 1),
    Story("Talvikunnossapito jalkakäytävillä", "member", 120, "overdue"),
]
# The programme's story: at the table of the programme only.
PROGRAMME_STORY = Story("Lumityöapu ikäihmisille", "member", 60, "programme")

# The service programme: which table funds it, the provider (by name) who delivers it.
PROGRAMME = {
    "table_id": "lahti-pohjoinen",
    "provider": "Mukkulan Talkoot osuuskunta",
    "categories": ["snow-clearing"],
    "regions": ["lahti-mukkula"],
    "unit_price_cents": 3_000,
    "budget_cents": 400_000,
}

# The budgeting round: its table, the residents who propose and vote online, the proposals.
ROUND_TABLE = "lahti-etela"
ROUND_PROPOSALS = [  # (title, cost in cents, feasible, why not)
    ("Kuntoiluvälineet Launeen puistoon", 350_000, True, ""),
    ("Lasten liikennepuisto Liipolaan", 300_000, True, ""),
    ("Kivimaan kirjastoauton pysäkille katos", 150_000, True, ""),
    (
        "Ulkokuntosali Orimattilan uimahallin viereen",
        700_000,
        False,
        "Paikka on kaupungin investointiohjelmassa: ei alueraadin päätettävissä",
    ),
]
PAPER_VOTERS = 6  # ballots entered by the coordinator from the voting booth

# post(service, path, body, who, method="POST") -> the answer's body
Post = Callable[..., dict]


@dataclass(frozen=True)
class Cast:
    """Who acts in the tables' history: the admin, each table's coordinator, the city's
    officer, each region's residents and the programme's provider's member."""

    admin: Any
    coordinators: dict[str, Any]  # table id -> person
    officer: Any
    residents: dict[str, list[Any]]  # region -> the residents who live there
    provider_member: Any
    provider_id: str


def coordinator_subject(table_id: str) -> str:
    return f"coordinator-{table_id}"


def load(post: Post, cast: Cast, today: date, say: Callable[[str], None]) -> str:
    """Found the tables and play their year; returns the programme's id (its contract's, in
    partnerships, for the provider to sign once partnerships has made it)."""

    def ago(days: int) -> str:
        return (today - timedelta(days=days)).isoformat()

    programme_id = ""
    for table in TABLES:
        code = table["table_id"]
        coord = cast.coordinators[code]

        def tables(path: str, body: dict, who: Any = coord) -> dict:
            return post("tables", path, body, who)

        founding = {**table, "coordinator": coordinator_subject(code), "founded_on": ago(365)}
        tables("/tables", founding, cast.admin)
        members = [f"{code}-{suffix}" for suffix, _, _ in MEMBERS]
        for member_id, (_, name, kind) in zip(members, MEMBERS, strict=True):
            body = {"member_id": member_id, "name": name, "kind": kind, "on": ago(365)}
            tables(f"/tables/{code}/members", body)

        gatherings = []
        for days, kind, title, attendance, topics, cost in GATHERINGS:
            body = {"kind": kind, "title": title, "on": ago(days)}
            gathering = tables(f"/tables/{code}/events", body)["id"]
            record = {"attendance": attendance, "topics": topics, "cost_cents": cost}
            tables(f"/tables/{code}/events/{gathering}/record", record)
            gatherings.append(gathering)
        speak_out = gatherings[1]

        stories = [*STORIES, *([PROGRAMME_STORY] if code == PROGRAMME["table_id"] else [])]
        raised = {}
        for story in stories:
            body: dict[str, Any] = {
                "title": story.title,
                "origin": story.by,
                "on": ago(story.raised),
            }
            if story.by == "member":
                body["raised_by"] = members[2]  # the association
            if story.from_topic is not None:
                body |= {"from_event": speak_out, "topic": story.from_topic}
            raised[story] = tables(f"/tables/{code}/initiatives", body)["id"]

        for n, (days, decisions) in enumerate(MEETINGS):
            body = {"on": ago(days), "agenda": "Kuulumiset"}
            meeting = tables(f"/tables/{code}/meetings", body)["id"]
            discussed = [raised[s] for s in stories if discussed_at(s) == days]
            record = {
                "attendees": members[: 3 + n % 3],
                "decisions": decisions,
                "discussed": discussed,
                "cost_cents": 4_000,
            }
            tables(f"/tables/{code}/meetings/{meeting}/record", record)
        tables(f"/tables/{code}/payouts", {"until": ago(PAYOUT_UNTIL)})
        upcoming = (today - timedelta(days=NEXT_MEETING)).isoformat()
        tables(f"/tables/{code}/meetings", {"on": upcoming, "agenda": "Toimintasuunnitelma"})

        for story in stories:
            programme_id = follow(post, cast, code, story, raised[story], ago) or programme_id

        regions = [r for r in table["regions"] if cast.residents.get(r)]
        if regions:  # an initiative a resident raised today, which neighbours support
            neighbours = [p for r in regions for p in cast.residents[r]]
            made = tables(
                f"/tables/{code}/initiatives",
                {"title": "Pyöräteline kirjaston eteen"},
                neighbours[0],
            )["id"]
            for neighbour in neighbours[1:]:
                post("tables", f"/initiatives/{made}/support", {}, neighbour)
        if code == "lahti-keskusta":  # one the city raised today
            body = {"title": "Torin kesätapahtumien liikennejärjestelyt"}
            post("tables", f"/tables/{code}/initiatives", body, cast.officer)
        if code == ROUND_TABLE:
            budgeting_round(post, cast, code, today.year)
        say(f"partnership table {table['name']}: a year of meetings, events and initiatives")
    return programme_id


def discussed_at(story: Story) -> int:
    """The meeting (days before today) that discussed the initiative: the first after it
    was raised."""
    return max(days for days, _ in MEETINGS if days <= story.raised)


def follow(post: Post, cast: Cast, code: str, story: Story, made: str, ago) -> str:
    """Take a discussed initiative as far as its story goes; the programme's id, if it
    became one."""
    coord = cast.coordinators[code]
    at = f"/initiatives/{made}"
    if story.to in ("overdue", "answered", "rejected", "implemented"):
        body = {"statement": "Alueraati puoltaa aloitetta.", "on": ago(discussed_at(story) - 5)}
        post("tables", f"{at}/forward", body, coord)
    if story.to == "answered":
        answer = {"answer": "accepted", "reasons": "Toteutetaan ensi kesänä", "on": ago(180)}
        post("tables", f"{at}/answer", answer, cast.officer)
    if story.to == "rejected":
        answer = {
            "answer": "rejected",
            "reasons": "Alueelle ei löydy sopivaa paikkaa, eikä hankkeelle ole rahoitusta",
            "on": ago(240),
        }
        post("tables", f"{at}/answer", answer, cast.officer)
    if story.to == "implemented":
        answer = {"answer": "accepted", "reasons": "Toteutetaan kesällä", "on": ago(300)}
        post("tables", f"{at}/answer", answer, cast.officer)
        outcome = {"outcome": "Kierrätyspiste otettiin käyttöön", "on": ago(200)}
        post("tables", f"{at}/implemented", outcome, cast.officer)
    if story.to == "programme":
        terms = {
            "provider_id": cast.provider_id,
            "categories": PROGRAMME["categories"],
            "regions": PROGRAMME["regions"],
            "unit_price_cents": PROGRAMME["unit_price_cents"],
            "pricing": "hour",
            "budget_cents": PROGRAMME["budget_cents"],
            "valid_from": ago(30),
            "valid_until": ago(-335),
        }
        return post("tables", f"{at}/programme", terms, coord)["id"]
    return ""


def budgeting_round(post: Post, cast: Cast, code: str, year: int) -> None:
    """A round of the table from its proposals to its tally: residents propose, select and
    vote online; the coordinator reviews the proposals and enters the booth's paper ballots."""
    coord = cast.coordinators[code]
    voters = [
        p
        for r in next(t for t in TABLES if t["table_id"] == code)["regions"]
        for p in cast.residents.get(r, [])
    ]
    body = {
        "title": f"Osallistuva budjetointi {year}",
        "year": year,
        "budget_cents": 800_000,
        "rule": "between",
        "minimum": 1,
        "maximum": 2,
    }
    made = post("tables", f"/tables/{code}/rounds", body, coord)["id"]
    at = f"/rounds/{made}"
    proposals = []
    for n, (title, cost, _, _) in enumerate(ROUND_PROPOSALS):
        who = voters[n % len(voters)] if voters and n < len(voters) else coord
        proposals.append(
            post("tables", f"{at}/proposals", {"title": title, "cost_cents": cost}, who)["id"]
        )
    post("tables", f"{at}/phase", {"phase": "reviewing"}, coord)
    for proposal, (_, _, feasible, reason) in zip(proposals, ROUND_PROPOSALS, strict=True):
        review = {"feasible": feasible, "reason": reason}
        post("tables", f"{at}/proposals/{proposal}/review", review, coord)
    post("tables", f"{at}/phase", {"phase": "selecting"}, coord)
    feasible = [p for p, (_, _, ok, _) in zip(proposals, ROUND_PROPOSALS, strict=True) if ok]
    for voter in voters:
        post("tables", f"{at}/proposals/{feasible[0]}/selection", {}, voter)
    post("tables", f"{at}/phase", {"phase": "publishing_costs"}, coord)
    post("tables", f"{at}/phase", {"phase": "balloting"}, coord)
    for n, voter in enumerate(voters):
        choice = {"proposals": [feasible[n % 2], feasible[2]]}
        post("tables", f"{at}/ballot", choice, voter, method="PUT")
    for n in range(PAPER_VOTERS):
        paper = {"voter": f"paper-voter-{n + 1}", "proposals": [feasible[n % 3]]}
        post("tables", f"{at}/paper-ballots", paper, coord)
    post("tables", f"{at}/tally", {}, coord)
