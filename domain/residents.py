"""A resident's record of erasures: each time an admin erased the resident's personal data.

The erasure itself is done by destroying the resident's keys (the services' keyring); this
records that it happened, who did it, when and why, and holds no personal data. One record
per resident: the same resident always has the same id.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidValue, WrongState

RESIDENTS_NAMESPACE = uuid5(NAMESPACE_URL, "https://talkoot.lahti.fi/residents")
MAX_REASON_LENGTH = 1000


def record_id(resident_id: str) -> UUID:
    return uuid5(RESIDENTS_NAMESPACE, resident_id)


def check_erasure(erased_by: str, reason: str, held: bool) -> str:
    """The reason, stripped; refuses an erasure with no admin, no reason, or nothing to erase
    (``held``: whether anything of the resident's is held that is not erased yet)."""
    if not erased_by.strip():
        raise InvalidValue("an erasure needs the admin who makes it", rule="erased_by")
    reason = reason.strip()
    if not reason:
        raise InvalidValue("say why the resident's data is erased", rule="reason")
    if len(reason) > MAX_REASON_LENGTH:
        raise InvalidValue(
            f"a reason is at most {MAX_REASON_LENGTH} characters, got {len(reason)}",
            rule="reason",
        )
    if not held:
        raise WrongState(
            "the resident's personal data is erased already, and nothing of theirs has been "
            "stored since",
            rule="already_erased",
        )
    return reason


class ResidentRecord(Aggregate):
    """The erasures of one resident's personal data."""

    @staticmethod
    def create_id(resident_id: str, **_: object) -> UUID:
        return record_id(resident_id)

    @event("Erased")
    def __init__(self, resident_id: str, erased_by: str, reason: str, keys: int) -> None:
        self.resident_id = resident_id
        self.erasures = 1
        self.erased_by = erased_by

    @classmethod
    def erase(
        cls, *, resident_id: str, erased_by: str, reason: str, keys: int, held: bool = True
    ) -> ResidentRecord:
        """The first erasure of the resident's data; ``keys``: how many of their keys it
        destroys (none for data stored before it was sealed), ``held``: whether anything of
        theirs is held."""
        if not resident_id.strip():
            raise InvalidValue("name the resident whose data is erased", rule="resident_id")
        reason = check_erasure(erased_by, reason, held)
        return cls(resident_id=resident_id, erased_by=erased_by, reason=reason, keys=keys)

    def erase_again(self, erased_by: str, reason: str, keys: int) -> None:
        """What the resident stored after an earlier erasure, erased too: refused when they
        have stored nothing since (no live key)."""
        reason = check_erasure(erased_by, reason, keys > 0)
        self._erased_again(
            resident_id=self.resident_id, erased_by=erased_by, reason=reason, keys=keys
        )

    @event("ErasedAgain")
    def _erased_again(self, resident_id: str, erased_by: str, reason: str, keys: int) -> None:
        self.erasures += 1
        self.erased_by = erased_by
