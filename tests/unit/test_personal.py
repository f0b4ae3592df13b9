"""Sealing a resident's personal data, without a database: what is sealed opens only under
its own key, for its own resident and place, and reads as erased once the key is gone."""

from __future__ import annotations

import dataclasses
import os

import msgspec
import pytest

from contracts.personal import ERASED, Sealed, erased
from services.platform.personal import (
    MasterKey,
    PersonalDataError,
    ResidentKey,
    open_with,
    seal_with,
    sealed_of,
)

FIELDS = ("description", "address", "lat", "long")
VALUES = {"description": "Avain ruukun alla", "address": "Kuusikatu 7 B 12", "lat": 60.98}


def a_key(resident: str = "resident-1", key_id: str = "k1") -> ResidentKey:
    return ResidentKey(key_id, resident, os.urandom(32))


def test_what_is_sealed_opens_under_its_key_and_holds_no_clear_text():
    key = a_key()
    sealed = seal_with(key, "ServiceRequestedV1/r-1", VALUES)
    wire = msgspec.json.encode(sealed)
    assert b"Kuusikatu" not in wire and b"ruukun" not in wire and b"60.98" not in wire
    assert open_with(key, sealed_of(wire.decode()), FIELDS) == VALUES
    assert len(sealed.nonce) == 12
    # each sealing has its own nonce: the same values never look the same twice
    assert seal_with(key, "ServiceRequestedV1/r-1", VALUES).data != sealed.data


@pytest.mark.parametrize(
    "change",
    [
        {"context": "ServiceRequestedV1/r-2"},  # moved to another request
        {"context": "RequestRatedV1/r-1"},  # or another event
        {"resident_id": "resident-2"},  # passed off as another resident's
        {"key_id": "k2"},
    ],
)
def test_a_sealed_value_moved_elsewhere_does_not_open(change):
    key = a_key()
    sealed = seal_with(key, "ServiceRequestedV1/r-1", VALUES)
    moved = msgspec.structs.replace(sealed, **change)
    with pytest.raises(PersonalDataError):
        open_with(dataclasses.replace(key, resident_id=moved.resident_id), moved, FIELDS)


def test_an_altered_ciphertext_does_not_open():
    key = a_key()
    sealed = seal_with(key, "c", VALUES)
    altered = msgspec.structs.replace(sealed, data=bytes([sealed.data[0] ^ 1]) + sealed.data[1:])
    with pytest.raises(PersonalDataError):
        open_with(key, altered, FIELDS)


def test_without_its_key_every_field_reads_erased():
    key = a_key()
    sealed = seal_with(key, "c", VALUES)
    gone = dataclasses.replace(key, key=b"")
    assert open_with(gone, sealed, FIELDS) == {
        "description": ERASED,
        "address": ERASED,
        "lat": None,
        "long": None,
    }
    assert open_with(None, sealed, FIELDS) == erased(FIELDS)
    # what an event published after an erasure carries: a Sealed of no key
    nothing = Sealed(resident_id="resident-1", key_id="", context="c", nonce=b"", data=b"")
    assert open_with(None, nothing, FIELDS) == erased(FIELDS)


def test_a_residents_key_is_wrapped_for_them_by_the_master_key():
    master = MasterKey("m" * 40)
    key = os.urandom(32)
    wrapped = master.wrap("k1", "resident-1", key)
    assert key not in wrapped
    assert master.unwrap("k1", "resident-1", wrapped) == key
    with pytest.raises(PersonalDataError):
        master.unwrap("k1", "resident-2", wrapped)  # another resident's row
    with pytest.raises(PersonalDataError):
        MasterKey("n" * 40).unwrap("k1", "resident-1", wrapped)  # another master key


def test_the_master_key_must_be_given_and_long_enough():
    with pytest.raises(SystemExit, match="TALKOOT_PERSONAL_DATA_KEY is not set"):
        MasterKey.required(None)
    with pytest.raises(SystemExit, match="at least 32 characters"):
        MasterKey.required("short")
