"""A community provider: who it is, what it does, where, how many jobs it takes at once, who
its members are, when it pauses, and whether a municipal partner has suspended it."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import uuid4

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidValue, NotAllowed, WrongState
from domain.place import check_location


class ProviderKind(StrEnum):
    COOPERATIVE = "cooperative"
    ASSOCIATION = "association"  # a registered association (ry)
    SOCIAL_ENTERPRISE = "social_enterprise"
    VILLAGE_GROUP = "village_group"
    UNREGISTERED_ASSOCIATION = "unregistered_association"


# Kinds that are in the trade or associations register and so have a business id (Y-tunnus);
# the others answer through a contact person.
REGISTERED_KINDS = frozenset(
    {ProviderKind.COOPERATIVE, ProviderKind.ASSOCIATION, ProviderKind.SOCIAL_ENTERPRISE}
)

MAX_CAPACITY = 1000

_BUSINESS_ID = re.compile(r"^([0-9]{7})-([0-9])$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()-]+$")


def business_id_check_digit(digits: str) -> int | None:
    """The check digit of a Y-tunnus's seven digits, or None when no digit can be right
    (remainder 1: such numbers are never handed out)."""
    remainder = sum(int(d) * w for d, w in zip(digits, _WEIGHTS, strict=True)) % 11
    if remainder == 0:
        return 0
    if remainder == 1:
        return None
    return 11 - remainder


def check_business_id(value: str) -> str:
    """A Finnish business id (Y-tunnus) ``1234567-8`` with a right check digit, trimmed."""
    text = value.strip()
    match = _BUSINESS_ID.match(text)
    if match is None:
        raise InvalidValue(
            f"business_id must look like 1234567-8 (seven digits, a hyphen, a check digit), "
            f"got {value!r}",
            rule="business_id",
        )
    digits, check = match.groups()
    expected = business_id_check_digit(digits)
    if expected is None:
        raise InvalidValue(
            f"{text} is no business id: its digits allow no check digit", rule="business_id"
        )
    if int(check) != expected:
        raise InvalidValue(f"{text} has a wrong check digit", rule="business_id")
    return text


def check_contact_person(person: dict[str, str] | None) -> dict[str, str]:
    """A contact person: a name and a phone or an email (or both)."""
    if person is None:
        raise InvalidValue(
            "an unregistered group names a contact person (name and a phone or an email)",
            rule="contact_person",
        )
    name = (person.get("name") or "").strip()
    phone = (person.get("phone") or "").strip()
    email = (person.get("email") or "").strip()
    if not name:
        raise InvalidValue("the contact person needs a name", rule="contact_person")
    if not phone and not email:
        raise InvalidValue("the contact person needs a phone or an email", rule="contact_person")
    if phone and (not _PHONE.match(phone) or sum(c.isdigit() for c in phone) < 5):
        raise InvalidValue(f"{phone!r} is not a phone number", rule="contact_person")
    if email and not _EMAIL.match(email):
        raise InvalidValue(f"{email!r} is not an email address", rule="contact_person")
    return {"name": name, "phone": phone, "email": email}


def check_capabilities(categories: list[str], regions: list[str], capacity: int) -> None:
    if not categories:
        raise InvalidValue("a provider declares at least one category", rule="categories")
    if not regions:
        raise InvalidValue("a provider declares at least one region", rule="regions")
    if not isinstance(capacity, int) or not 1 <= capacity <= MAX_CAPACITY:
        raise InvalidValue(
            f"capacity is the number of jobs at once, 1 to {MAX_CAPACITY}", rule="capacity"
        )


class ProviderStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    SUSPENDED = "suspended"


def _overlaps(starts: date, ends: date | None, other_starts: date, other_ends: date | None) -> bool:
    return (ends is None or other_starts <= ends) and (other_ends is None or starts <= other_ends)


class Provider(Aggregate):
    @event("Registered")
    def __init__(
        self,
        name: str,
        kind: str,
        categories: list[str],
        regions: list[str],
        capacity: int,
        contact: str,
        business_id: str | None = None,
        contact_person: dict[str, str] | None = None,
        lat: float | None = None,
        long: float | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.categories = categories
        self.regions = regions
        self.capacity = capacity
        self.contact = contact
        self.business_id = business_id
        self.contact_person = contact_person
        self.lat = lat
        self.long = long
        # member id -> {"name", "role"}
        self.members: dict[str, dict[str, str]] = {}
        # pause id -> {"starts", "ends", "reason", "ended_on"}
        self.pauses: dict[str, dict[str, Any]] = {}
        # {"partner_id", "reason"} while suspended
        self.suspension: dict[str, str] | None = None
        # contract id -> {"partner_id", "valid_from", "valid_until"}: its active contracts
        self.contracts: dict[str, dict[str, Any]] = {}

    @classmethod
    def register(
        cls,
        *,
        name: str,
        kind: str,
        categories: list[str],
        regions: list[str],
        capacity: int,
        contact: str = "",
        business_id: str | None = None,
        contact_person: dict[str, str] | None = None,
        lat: float | None = None,
        long: float | None = None,
    ) -> Provider:
        if not name.strip():
            raise InvalidValue("a provider needs a name", rule="name")
        if kind not in set(ProviderKind):
            raise InvalidValue(
                f"kind must be one of {', '.join(ProviderKind)}, got {kind!r}", rule="kind"
            )
        if kind in REGISTERED_KINDS:
            if not business_id:
                raise InvalidValue(
                    f"a {kind} is registered and gives its business id (Y-tunnus, 1234567-8)",
                    rule="business_id",
                )
            business_id = check_business_id(business_id)
            if contact_person is not None:
                contact_person = check_contact_person(contact_person)
        else:
            if business_id:
                raise InvalidValue(
                    f"a {kind} is not registered and has no business id; a registered "
                    "association registers as kind association",
                    rule="business_id",
                )
            business_id = None
            contact_person = check_contact_person(contact_person)
        check_capabilities(categories, regions, capacity)
        check_location(lat, long)
        return cls(
            name=name.strip(),
            kind=kind,
            categories=sorted(set(categories)),
            regions=sorted(set(regions)),
            capacity=capacity,
            contact=contact.strip(),
            business_id=business_id,
            contact_person=contact_person,
            lat=lat,
            long=long,
        )

    # --- capabilities ------------------------------------------------------------------

    def change_capabilities(self, categories: list[str], regions: list[str], capacity: int) -> None:
        check_capabilities(categories, regions, capacity)
        self._capabilities_changed(sorted(set(categories)), sorted(set(regions)), capacity)

    @event("CapabilitiesChanged")
    def _capabilities_changed(
        self, categories: list[str], regions: list[str], capacity: int
    ) -> None:
        self.categories = categories
        self.regions = regions
        self.capacity = capacity

    # --- members -----------------------------------------------------------------------

    def add_member(self, name: str, role: str = "") -> str:
        if not name.strip():
            raise InvalidValue("a member needs a name", rule="name")
        member_id = str(uuid4())
        self._member_joined(member_id, name.strip(), role.strip())
        return member_id

    @event("MemberJoined")
    def _member_joined(self, member_id: str, name: str, role: str) -> None:
        self.members[member_id] = {"name": name, "role": role}

    def remove_member(self, member_id: str) -> None:
        if member_id not in self.members:
            raise WrongState(f"{member_id} is not a member of {self.name}", rule="member_id")
        self._member_left(member_id)

    @event("MemberLeft")
    def _member_left(self, member_id: str) -> None:
        del self.members[member_id]

    # --- pauses ------------------------------------------------------------------------

    def pause(self, starts: date, ends: date | None, reason: str, *, today: date) -> str:
        """No offers from ``starts`` to ``ends`` inclusive (open-ended without ``ends``).

        A pause starts today at the earliest, and may not overlap a pause still in force:
        end or shorten that one first.
        """
        if not reason.strip():
            raise InvalidValue("say why the provider pauses", rule="reason")
        if starts < today:
            raise InvalidValue(
                f"a pause starts today ({today}) or later, not {starts}", rule="starts"
            )
        if ends is not None and ends < starts:
            raise InvalidValue(f"the pause ends ({ends}) before it starts ({starts})", rule="ends")
        for pause_id, other in self.pauses.items():
            if self.pause_state(pause_id, today) in ("ended", "over"):
                continue
            if _overlaps(starts, ends, other["starts"], other["ends"]):
                raise WrongState(
                    f"overlaps pause {pause_id} ({other['starts']} to "
                    f"{other['ends'] or 'further notice'}); end that one first",
                    rule="overlapping_pause",
                )
        pause_id = str(uuid4())
        self._paused(pause_id, starts, ends, reason.strip())
        return pause_id

    @event("Paused")
    def _paused(self, pause_id: str, starts: date, ends: date | None, reason: str) -> None:
        self.pauses[pause_id] = {"starts": starts, "ends": ends, "reason": reason, "ended_on": None}

    def end_pause(self, pause_id: str, *, today: date) -> None:
        """End a pause now (or call off one that has not started yet)."""
        if pause_id not in self.pauses:
            raise WrongState(f"{self.name} has no pause {pause_id}", rule="pause_id")
        state = self.pause_state(pause_id, today)
        if state == "ended":
            raise WrongState("this pause was ended already", rule="wrong_state")
        if state == "over":
            raise WrongState("this pause is over already", rule="wrong_state")
        self._pause_ended(pause_id, today)

    @event("PauseEnded")
    def _pause_ended(self, pause_id: str, ended_on: date) -> None:
        self.pauses[pause_id]["ended_on"] = ended_on

    def pause_state(self, pause_id: str, today: date) -> str:
        """upcoming, current, over (its last day passed) or ended (ended early)."""
        pause = self.pauses[pause_id]
        if pause["ended_on"] is not None:
            return "ended"
        if pause["ends"] is not None and pause["ends"] < today:
            return "over"
        if pause["starts"] > today:
            return "upcoming"
        return "current"

    def current_pause(self, today: date) -> str | None:
        for pause_id in self.pauses:
            if self.pause_state(pause_id, today) == "current":
                return pause_id
        return None

    # --- municipal partners ------------------------------------------------------------

    def record_contract(
        self, contract_id: str, partner_id: str, valid_from: date, valid_until: date
    ) -> None:
        """A partnership contract with this provider became active."""
        if contract_id in self.contracts:
            return
        self._contract_recorded(contract_id, partner_id, valid_from, valid_until)

    @event("ContractRecorded")
    def _contract_recorded(
        self, contract_id: str, partner_id: str, valid_from: date, valid_until: date
    ) -> None:
        self.contracts[contract_id] = {
            "partner_id": partner_id,
            "valid_from": valid_from,
            "valid_until": valid_until,
        }

    def partners(self, today: date) -> list[str]:
        """The municipal partners with a contract with this provider in force today."""
        return sorted(
            {
                c["partner_id"]
                for c in self.contracts.values()
                if c["valid_from"] <= today <= c["valid_until"]
            }
        )

    def _check_partner(self, partner_id: str, today: date) -> None:
        if partner_id not in self.partners(today):
            raise NotAllowed(
                f"{partner_id} has no active partnership contract with {self.name}",
                rule="partner_id",
            )

    def suspend(self, partner_id: str, reason: str, *, today: date) -> None:
        self._check_partner(partner_id, today)
        if not reason.strip():
            raise InvalidValue("say why the provider is suspended", rule="reason")
        if self.suspension is not None:
            raise WrongState(
                f"{self.name} is suspended already (by {self.suspension['partner_id']})",
                rule="wrong_state",
            )
        self._suspended(partner_id, reason.strip())

    @event("Suspended")
    def _suspended(self, partner_id: str, reason: str) -> None:
        self.suspension = {"partner_id": partner_id, "reason": reason}

    def reinstate(self, partner_id: str, reason: str, *, today: date) -> None:
        self._check_partner(partner_id, today)
        if not reason.strip():
            raise InvalidValue("say why the provider is reinstated", rule="reason")
        if self.suspension is None:
            raise WrongState(f"{self.name} is not suspended", rule="wrong_state")
        self._reinstated(partner_id, reason.strip())

    @event("Reinstated")
    def _reinstated(self, partner_id: str, reason: str) -> None:
        self.suspension = None

    # --- status ------------------------------------------------------------------------

    def status(self, today: date) -> tuple[ProviderStatus, str]:
        """What matching makes of the provider today, and why."""
        if self.suspension is not None:
            return ProviderStatus.SUSPENDED, self.suspension["reason"]
        if (pause_id := self.current_pause(today)) is not None:
            return ProviderStatus.PAUSED, self.pauses[pause_id]["reason"]
        return ProviderStatus.ACTIVE, ""
