"""Signed notes and checkpoints against the Go note package's published vectors
(go_note_vectors.json says where they come from), so that what Talkoot signs opens with the Go
tools and the other way round."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from domain.audit.checkpoint import (
    Checkpoint,
    MalformedCheckpoint,
    open_checkpoint,
    sign_checkpoint,
    split_notes,
)
from domain.audit.merkle import EMPTY_ROOT
from domain.audit.note import (
    InvalidSignature,
    MalformedKey,
    MalformedNote,
    NoteError,
    Signer,
    UnverifiedNote,
    Verifier,
    key_id,
    open_note,
    sign,
)

GO = json.loads((Path(__file__).parent / "go_note_vectors.json").read_text())
PETER = Signer.parse(GO["peter"]["signer_key"])
PETER_KEY = Verifier.parse(GO["peter"]["verifier_key"])
ENOCH_KEY = Verifier.parse(GO["enoch"]["verifier_key"])
TEXT = GO["text"]


def test_the_signer_key_gives_the_published_verifier_key_and_key_id():
    assert PETER.verifier == PETER_KEY
    assert PETER.verifier.key() == GO["peter"]["verifier_key"]
    assert f"{PETER.key_id:08x}" == GO["peter"]["key_id"]
    assert key_id("PeterNeumann", PETER_KEY.public_key) == int(GO["peter"]["key_id"], 16)
    assert PETER.key() == GO["peter"]["signer_key"]
    assert f"{ENOCH_KEY.key_id:08x}" == GO["enoch"]["key_id"]


def test_signing_gives_the_published_note_byte_for_byte():
    assert sign(TEXT, PETER) == GO["signed"]


def test_the_published_note_opens_with_the_published_key():
    note = open_note(GO["signed"], [PETER_KEY])
    assert note.text == TEXT
    assert [(s.name, f"{s.key_id:08x}") for s in note.signatures] == [("PeterNeumann", "c74f20a3")]


def test_a_note_signed_by_two_opens_with_either_key_and_says_which_it_could_not_check():
    note = open_note(GO["signed_by_both"], [PETER_KEY])
    assert [s.name for s in note.signatures] == ["PeterNeumann"]
    assert [s.name for s in note.unverified] == ["EnochRoot"]
    both = open_note(GO["signed_by_both"], [PETER_KEY, ENOCH_KEY])
    assert [s.name for s in both.signatures] == ["PeterNeumann", "EnochRoot"]
    # adding a signature keeps the one there (the Go example's output)
    assert sign(TEXT, PETER, note=open_note(GO["signed"], [PETER_KEY])) == GO["signed"]


def test_a_note_without_a_signature_by_a_known_key_is_unverified():
    with pytest.raises(UnverifiedNote) as raised:
        open_note(GO["signed_by_both"], [])
    assert len(raised.value.note.unverified) == 2


def test_a_changed_signature_or_text_is_refused():
    with pytest.raises(InvalidSignature):
        open_note(GO["invalid_signature"], [PETER_KEY])
    with pytest.raises(InvalidSignature):
        open_note(GO["signed"].replace("cryptography", "cryptographY"), [PETER_KEY])


@pytest.mark.parametrize("message", GO["malformed_notes"], ids=range(len(GO["malformed_notes"])))
def test_every_malformed_note_of_the_go_tests_is_refused(message: str):
    with pytest.raises(MalformedNote):
        open_note(message, [PETER_KEY])


def test_a_note_that_is_not_utf8_is_refused():
    with pytest.raises(MalformedNote):
        open_note(b"\xff" + GO["signed"].encode(), [PETER_KEY])


def test_two_verifiers_of_one_name_and_key_id_are_ambiguous():
    with pytest.raises(NoteError, match="ambiguous key"):
        open_note(GO["enoch"]["signature_line"].join([TEXT + "\n", ""]), [ENOCH_KEY, ENOCH_KEY])


@pytest.mark.parametrize("key", GO["bad_verifier_keys"])
def test_the_published_bad_verifier_keys_are_refused(key: str):
    with pytest.raises(MalformedKey):
        Verifier.parse(key)


def test_every_mangling_of_the_verifier_key_is_refused():
    key = GO["peter"]["verifier_key"]
    for i in range(len(key)):
        mangled = key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :]
        with pytest.raises(MalformedKey):
            Verifier.parse(mangled)
    for cut in range(1, len(key)):
        with pytest.raises(MalformedKey):
            Verifier.parse(key[:cut])


def test_names_with_spaces_or_plus_are_no_key_names():
    seed = bytes(32)
    for name in ("", "a b", "a+b", "tab\there"):
        with pytest.raises(MalformedKey):
            Signer(name, seed)


# --- checkpoints ----------------------------------------------------------------------------

ORIGIN = "talkoot.lahti.fi/requests"
SIGNER = Signer(ORIGIN, bytes(range(32)))


def test_a_checkpoint_is_origin_size_and_base64_root_each_on_a_line():
    checkpoint = Checkpoint(ORIGIN, 0, EMPTY_ROOT)
    assert checkpoint.text() == (
        "talkoot.lahti.fi/requests\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
    )
    assert Checkpoint.parse(checkpoint.text()) == checkpoint


def test_a_signed_checkpoint_opens_with_the_logs_verifier_key_only():
    checkpoint = Checkpoint(ORIGIN, 1234, bytes(range(32)))
    note = sign_checkpoint(checkpoint, SIGNER)
    assert note.startswith(checkpoint.text() + "\n\u2014 talkoot.lahti.fi/requests ")
    opened, _ = open_checkpoint(note, [Verifier.parse(SIGNER.verifier.key())])
    assert opened == checkpoint
    other = Signer(ORIGIN, bytes(32)).verifier
    with pytest.raises(UnverifiedNote):
        open_checkpoint(note, [other])  # same name, another key: another key id
    forged = note.replace("\n1234\n", "\n1235\n")
    with pytest.raises(InvalidSignature):
        open_checkpoint(forged, [SIGNER.verifier])


@pytest.mark.parametrize(
    "text",
    [
        "origin\n12\n",
        "origin\n012\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "origin\n-1\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "origin\n12\n" + base64.b64encode(bytes(31)).decode() + "\n",
        "origin\n12\nnot base64!\n",
        "origin\n12\n" + base64.b64encode(bytes(32)).decode(),
        "origin\n12\n" + base64.b64encode(bytes(32)).decode() + "\n\n",
        "\n12\n" + base64.b64encode(bytes(32)).decode() + "\n",
    ],
)
def test_malformed_checkpoints_are_refused(text: str):
    with pytest.raises(MalformedCheckpoint):
        Checkpoint.parse(text)


def test_notes_written_one_after_another_are_split_again():
    one = sign_checkpoint(Checkpoint(ORIGIN, 1, bytes(32)), SIGNER)
    two = sign(TEXT, PETER, note=open_note(GO["signed_by_both"], [PETER_KEY]))
    assert split_notes(one + two) == [one, two]
    assert split_notes("\n" + one + "\n\n" + two + "\n") == [one, two]
